/* Tests of the Hugging Face text tower (coop.h) against tests/ref/ref_hftext.py
   (our PyTorch RoBERTa, padded batch with attention mask, OpenCLIP pooler + projection):
   - tokenizer in the model file -> ids identical to the reference's;
   - ids -> features (padded reference vs our dropped-padding computation);
   - features through the CoOp path (word embeddings -> coop_hftext_forward_embeds) equal the ids path;
   - inputs_embeds path (random pad rows in the reference): out and dx = d(sum(dout*out))/dx;
   - finite differences of the same loss against dx;
   models: roberta (BPE, mean, mlp), xlm-r (unigram, mean, linear), cls pooler with dense + tanh. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "tests/testutil.h"

#define FX "tests/fixtures/hf/"
/* through the public dispatchers */
#define ENCODE coop_encode_text
#define FORWARD coop_text_forward_embeds
#define BACKWARD coop_text_backward_embeds
static const char *TEXTS[] = {"a photo of a dog.", "Ein Foto eines Hundes in München", "一只狗的照片", "x", "emoji 😀🐶 ok",
                              "the quick brown fox jumps over the lazy dog the quick brown fox jumps over the lazy dog the quick brown fox jumps over the lazy dog ",
                              "fotografía de un gato ①", "  spaced   out  "};

static float *load(const char *name, const char *what, int64_t *numel, int64_t sh[8]) {
    char path[256];
    snprintf(path, sizeof path, FX "%s_%s.npy", name, what);
    return tu_load_f32(path, numel, sh, NULL);
}

static void run_model(const char *name, int tokenizer, coop_pool *pool) {
    char path[256], what[160];
    printf("%s\n", name);
    snprintf(path, sizeof path, FX "%s.coop", name);
    coop_model *m = coop_model_load(path);
    if (!tu_check(m != NULL, "model loads")) { printf("    %s\n", coop_last_error()); return; }
    const coop_config *c = coop_model_config(m);
    int ctx = c->context_length, E = c->embed_dim, D = c->text_width, n = 8;
    /* tokenizer from the file's sections */
    const void *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    coop_hf_tok *tok = NULL;
    if (tokenizer == COOP_TOK_GPT2_BPE) {
        if (!coop_model_tokenizer_section(m, "vocab.json", &a, &al) && !coop_model_tokenizer_section(m, "merges.txt", &b, &bl))
            tok = coop_hf_tok_new_bpe((const char *)a, al, (const char *)b, bl);
    } else if (!coop_model_tokenizer_section(m, "sentencepiece.bpe.model", &a, &al))
        tok = coop_hf_tok_new_unigram(a, al);
    snprintf(path, sizeof path, FX "%s_ids.npy", name);
    int32_t *want_ids = tu_load_i32(path, NULL, NULL, NULL), *ids = (int32_t *)calloc((size_t)n * ctx, sizeof(int32_t));
    int same = 0, ntok = 0;
    for (int i = 0; i < n && tok; i++) {
        int last = coop_hf_tokenize(tok, TEXTS[i], ids + (size_t)i * ctx, ctx);
        ntok += last + 1;
        same += last > 0 && !memcmp(ids + (size_t)i * ctx, want_ids + (size_t)i * ctx, sizeof(int32_t) * (size_t)ctx);
    }
    snprintf(what, sizeof what, "tokenizer from the model file: %d/%d texts identical (%d tokens)", same, n, ntok);
    tu_check(same == n, what);
    coop_hf_tok_free(tok);

    /* ids -> features: padded reference vs packed computation */
    float *feat = (float *)malloc(sizeof(float) * (size_t)n * E), *want = load(name, "feat", NULL, NULL);
    int rc = ENCODE(m, pool, want_ids, n, feat);
    if (rc) printf("    %s\n", coop_last_error());
    tu_compare("ids -> features (padding dropped vs padded ref)", feat, want, (int64_t)n * E, E, 1e-4, 0.99999);

    /* the CoOp path on the same texts (word embeddings, eot = last valid) equals the ids path */
    {
        int T = ctx, V;
        const float *wte = NULL;
        int64_t sh[2] = {c->vocab_size, D};
        wte = coop_model_f32(m, "text.transformer.embeddings.word_embeddings.weight", 2, sh);
        V = c->vocab_size;
        float *x = (float *)calloc((size_t)n * T * D, sizeof(float)), *o = (float *)malloc(sizeof(float) * (size_t)n * E);
        int eot[8];
        for (int i = 0; i < n; i++) {
            eot[i] = -1;
            for (int t = 0; t < T; t++) {
                int id = want_ids[(size_t)i * T + t];
                if (id != c->pad_id && id < V) { eot[i] = t; memcpy(x + ((size_t)i * T + t) * D, wte + (size_t)id * D, sizeof(float) * (size_t)D); }
            }
        }
        coop_text_cache *cache = coop_text_cache_new();
        rc = FORWARD(m, pool, x, eot, n, T, 0, o, cache);
        if (rc) printf("    %s\n", coop_last_error());
        tu_compare("embeds path == ids path (same texts)", o, feat, (int64_t)n * E, E, 1e-5, 0.999999);
        coop_text_cache_free(cache);
        free(x); free(o);
    }
    free(feat); coop_free(want); free(ids); coop_free(want_ids);

    /* inputs_embeds path with autograd reference */
    int64_t sh[8], numel;
    float *x = load(name, "x", &numel, sh), *wout = load(name, "out", NULL, NULL), *dout = load(name, "dout", NULL, NULL);
    float *wdx = load(name, "dx", NULL, NULL);
    snprintf(path, sizeof path, FX "%s_eot.npy", name);
    int32_t *eot = tu_load_i32(path, NULL, NULL, NULL);
    int ne = (int)sh[0], T = (int)sh[1];
    float *out = (float *)malloc(sizeof(float) * (size_t)ne * E), *dx = (float *)malloc(sizeof(float) * (size_t)numel);
    coop_text_cache *cache = coop_text_cache_new();
    rc = FORWARD(m, pool, x, (const int *)eot, ne, T, 0, out, cache);
    if (rc) printf("    %s\n", coop_last_error());
    tu_compare("embeds -> out (pad rows random in the ref)", out, wout, (int64_t)ne * E, E, 1e-4, 0.99999);
    rc = BACKWARD(m, pool, cache, dout, dx);
    if (rc) printf("    %s\n", coop_last_error());
    tu_compare("backward: dx vs autograd", dx, wdx, numel, 0, 1e-4, 0.99999);
    rc = BACKWARD(m, pool, cache, dout, dx);
    tu_compare("backward again from the same cache", dx, wdx, numel, 0, 1e-4, 0.99999);

    /* finite differences of loss = sum(dout * out) at a few valid entries */
    {
        float *o2 = (float *)malloc(sizeof(float) * (size_t)ne * E);
        double worst = 0, scale = 0;
        for (int k = 0; k < 12; k++) {
            int s = k % ne, t = (k * 7) % (eot[s] + 1), j = (k * 13) % D;
            size_t idx = ((size_t)s * T + t) * D + j;
            float keep = x[idx], h = 1e-2f;
            double lp = 0, lm = 0;
            x[idx] = keep + h;
            FORWARD(m, pool, x, (const int *)eot, ne, T, 0, o2, NULL);
            for (int i = 0; i < ne * E; i++) lp += (double)dout[i] * o2[i];
            x[idx] = keep - h;
            FORWARD(m, pool, x, (const int *)eot, ne, T, 0, o2, NULL);
            for (int i = 0; i < ne * E; i++) lm += (double)dout[i] * o2[i];
            x[idx] = keep;
            double fd = (lp - lm) / (2 * h), d = fabs(fd - dx[idx]);
            if (d > worst) worst = d;
            if (fabs(dx[idx]) > scale) scale = fabs(dx[idx]);
        }
        snprintf(what, sizeof what, "finite differences (12 entries): max_abs %.3g rel %.3g", worst, worst / scale);
        tu_check(worst <= 2e-2 * scale, what);
        free(o2);
    }
    /* gradient rows past eot are exactly zero (padding is not part of the computation) */
    {
        int zero = 1;
        for (int s = 0; s < ne; s++)
            for (size_t i = ((size_t)s * T + eot[s] + 1) * D; i < (size_t)(s + 1) * T * D; i++) zero &= dx[i] == 0;
        tu_check(zero, "dx rows after eot are zero");
    }
    coop_text_cache_free(cache);
    free(out); free(dx);
    coop_free(x); coop_free(wout); coop_free(dout); coop_free(wdx); coop_free(eot);
    coop_model_free(m);
}

/* a copy of a model file with "hf_proj mlp" changed to another 3-letter type -> clear error */
static void bad_proj(void) {
    size_t len;
    char *d = coop_read_file(FX "hf_roberta.coop", &len), *at = NULL;
    for (size_t i = 0; d && i + 11 < len && !at; i++) if (!memcmp(d + i, "hf_proj mlp", 11)) at = d + i;
    if (!tu_check(at != NULL, "hf_proj line found in hf_roberta.coop")) { coop_free(d); return; }
    memcpy(at + 8, "xyz", 3);
    const char *tmp = "build/test_hftext_badproj.coop";
    FILE *f = fopen(tmp, "wb");
    if (f) { fwrite(d, 1, len, f); fclose(f); }
    coop_model *m = coop_model_load(tmp);
    int32_t ids[77] = {0, 5, 2};
    for (int i = 3; i < 77; i++) ids[i] = 1;
    float out[64];
    int rc = m ? coop_hftext_encode(m, NULL, ids, 1, out) : -1;
    char what[200];
    snprintf(what, sizeof what, "unknown hf_proj -> error \"%.120s\"", coop_last_error());
    tu_check(m && rc < 0 && strstr(coop_last_error(), "hf_proj 'xyz' not supported"), what);
    coop_model_free(m);
    remove(tmp);
    coop_free(d);
}

int main(void) {
    coop_pool *pool = coop_pool_create(2);
    run_model("hf_roberta", COOP_TOK_GPT2_BPE, pool);
    run_model("hf_xlmr", COOP_TOK_UNIGRAM, pool);
    run_model("hf_cls", COOP_TOK_GPT2_BPE, pool);
    bad_proj();
    coop_pool_free(pool);
    return tu_done("test_hftext");
}
