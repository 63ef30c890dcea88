/* Tests of the Hugging Face text tower (coop.h) against tests/ref/ref_hftext.py
   (our PyTorch RoBERTa, padded batch with attention mask, OpenCLIP pooler + projection):
   - tokenizer in the model file -> ids identical to the reference's;
   - ids -> features (padded reference vs our dropped-padding computation);
   - features through the CoOp path (word embeddings -> coop_hftext_forward_embeds) equal the ids path;
   - inputs_embeds path (random pad rows in the reference): out and dx = d(sum(dout*out))/dx;
   - finite differences of the same loss against dx;
   models: roberta (BPE, mean, mlp), xlm-r (unigram, mean, linear), cls pooler with dense + tanh.
   CoOp on hf_roberta against tests/ref/ref_coop_hf.py (fixtures in tests/fixtures/coop_hf/): prompt
   ids and embeddings, class features, d loss / d ctx at step 0, a 10-step SGD trajectory and finite
   differences of the trainer's loss, for shared / class-specific context and end / middle / front. */
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

/* ---- CoOp on the HF tower (tests/ref/ref_coop_hf.py) ----------------------------------------
   The context words are "a photo of a" (M = 4) in the reference's cases (init_end starts from
   their embeddings; the others load a random context); hf_coop_placeholder checks the default
   placeholder path against shared_end. */
#define FC "tests/fixtures/coop_hf/"
typedef struct { const char *name; int csc, ctp; const char *words; } hf_case;
static const float HF_LR = 0.002f;   /* the reference's constant lr (CoOp's base lr) */

static float *load_fc(const char *cs, const char *what, int64_t *numel) {
    char path[256];
    snprintf(path, sizeof path, FC "%s_%s.npy", cs, what);
    return tu_load_f32(path, numel, NULL, NULL);
}

/* the case's trainer (SGD momentum 0.9, wd 5e-4); load: start from the reference's <case>_init.npy */
static coop_trainer *hf_trainer(coop_model *m, coop_pool *p, const char *const *cls, int ncls, const hf_case *c, int load) {
    coop_trainer_opts o;
    coop_trainer_opts_default(&o);
    o.csc = c->csc; o.ctp = c->ctp; o.ctx_init = c->words;
    o.momentum = 0.9f; o.weight_decay = 5e-4f;
    coop_trainer *t = coop_trainer_new(m, p, cls, ncls, &o);
    char path[256];
    snprintf(path, sizeof path, FC "%s_init.npy", c->name);
    if (t && load && coop_trainer_load_ctx(t, path)) { printf("    %s\n", coop_last_error()); coop_trainer_free(t); t = NULL; }
    return t;
}

static void hf_coop_case(coop_model *m, coop_pool *p, const char *const *cls, int ncls, const hf_case *c,
                         const float *img, const int *labels, int B) {
    char path[256], what[200];
    const int E = coop_model_config(m)->embed_dim, L = coop_model_config(m)->context_length;
    coop_trainer *t = hf_trainer(m, p, cls, ncls, c, 0);
    snprintf(what, sizeof what, "%s: trainer built", c->name);
    if (!tu_check(t != NULL, what)) { printf("    %s\n", coop_last_error()); return; }
    int nd, T;
    int64_t sh[3], n;
    float *ctx = coop_trainer_ctx(t, &nd, sh);
    int64_t nctx = nd == 3 ? sh[0] * sh[1] * sh[2] : sh[0] * sh[1], D = sh[nd - 1];
    float *init = load_fc(c->name, "init", &n);
    snprintf(what, sizeof what, "%s: ctx shape [%s%lld, %lld]", c->name, c->csc ? "ncls, " : "", (long long)sh[nd - 2], (long long)D);
    tu_check(n == nctx, what);
    if (!strcmp(c->name, "init_end")) {
        snprintf(what, sizeof what, "%s: word-init ctx = embeddings of \"%s\"", c->name, c->words);
        tu_compare(what, ctx, init, n, D, 0, 1);
    }
    snprintf(path, sizeof path, FC "%s_init.npy", c->name);
    snprintf(what, sizeof what, "%s: reference's initial context loaded", c->name);
    if (!tu_check(coop_trainer_load_ctx(t, path) == 0, what)) { printf("    %s\n", coop_last_error()); coop_free(init); coop_trainer_free(t); return; }
    /* prompts: ids from the model's tokenizer vs the Python BPE reference; embeddings */
    const int32_t *ids;
    coop_trainer_prompts(t, &ids, NULL, &T);
    snprintf(path, sizeof path, FC "%s_ids.npy", c->name);
    int32_t *wid = tu_load_i32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "%s: prompt token ids equal (%d x %d)", c->name, ncls, L);
    tu_check(n == (int64_t)ncls * L && !memcmp(ids, wid, sizeof(int32_t) * (size_t)n), what);
    coop_free(wid);
    float *wx = load_fc(c->name, "x", &n), *x = (float *)malloc(sizeof(float) * (size_t)ncls * T * D);
    snprintf(what, sizeof what, "%s: prompt length T = %d (max </s> index + 1) as the reference's", c->name, T);
    if (tu_check(n == (int64_t)ncls * T * D, what)) {
        coop_trainer_prompt_embeds(t, x);
        snprintf(what, sizeof what, "%s: prompt embeddings [%d, %d, %lld]", c->name, ncls, T, (long long)D);
        tu_compare(what, x, wx, n, D, 0, 1);
    }
    free(x); coop_free(wx);
    /* class text features at step 0 (normalised) */
    float *wt = load_fc(c->name, "txt", NULL), *head = (float *)malloc(sizeof(float) * (size_t)ncls * E);
    for (int k = 0; k < ncls; k++) {
        double s = 0;
        for (int e = 0; e < E; e++) s += (double)wt[k * E + e] * wt[k * E + e];
        for (int e = 0; e < E; e++) wt[k * E + e] = (float)(wt[k * E + e] / sqrt(s));
    }
    if (coop_trainer_head(t, head)) printf("    %s\n", coop_last_error());
    snprintf(what, sizeof what, "%s: class text features (normalised)", c->name);
    tu_compare(what, head, wt, (int64_t)ncls * E, E, 1e-4, 0.99999);
    free(head); coop_free(wt);
    /* step-0 loss and gradient */
    float loss = 0, *grad = (float *)calloc((size_t)nctx, sizeof(float)), *wl = load_fc(c->name, "loss", NULL);
    if (coop_trainer_loss(t, img, labels, B, &loss, grad, NULL)) printf("    %s\n", coop_last_error());
    snprintf(what, sizeof what, "%s: step-0 loss %.6f (ref %.6f)", c->name, loss, wl[0]);
    tu_compare(what, &loss, wl, 1, 1, 1e-5, 0);
    float *wg = load_fc(c->name, "grad", NULL);
    snprintf(what, sizeof what, "%s: d loss / d ctx", c->name);
    tu_compare(what, grad, wg, nctx, D, 1e-4, 0.99999);
    coop_free(wg);
    /* 10 full-batch SGD steps (lr 0.002, momentum 0.9, wd 5e-4) */
    float got[11];
    for (int s = 0; s < 10; s++)
        if (coop_trainer_step(t, img, labels, B, HF_LR, &got[s], NULL)) printf("    %s\n", coop_last_error());
    coop_trainer_loss(t, img, labels, B, &got[10], NULL, NULL);
    snprintf(what, sizeof what, "%s: 10-step loss trajectory (%.4f -> %.4f)", c->name, got[0], got[10]);
    tu_compare(what, got, wl, 11, 0, 1e-4, 0);
    float *wc = load_fc(c->name, "ctx10", NULL);
    snprintf(what, sizeof what, "%s: ctx after 10 steps", c->name);
    tu_compare(what, ctx, wc, nctx, D, 1e-4, 0.99999);
    /* at lr 0.002 the context moves little: compare the move itself too */
    float *mv = (float *)malloc(sizeof(float) * (size_t)nctx), *wmv = (float *)malloc(sizeof(float) * (size_t)nctx);
    for (int64_t i = 0; i < nctx; i++) { mv[i] = ctx[i] - init[i]; wmv[i] = wc[i] - init[i]; }
    snprintf(what, sizeof what, "%s: ctx10 - init (the 10 updates)", c->name);
    tu_compare(what, mv, wmv, nctx, D, 1e-3, 0.99999);
    free(mv); free(wmv); coop_free(wc); coop_free(wl); free(grad); coop_free(init);
    coop_trainer_free(t);
}

/* central differences of the trainer's loss on a few context coordinates */
static void hf_coop_fd(coop_model *m, coop_pool *p, const char *const *cls, int ncls, const hf_case *c,
                       const float *img, const int *labels, int B) {
    coop_trainer *t = hf_trainer(m, p, cls, ncls, c, 1);
    if (!t) { tu_check(0, "fd: trainer"); return; }
    tu_trainer_fd(t, img, labels, B, 1.0f, c->name);
    coop_trainer_free(t);
}

/* The default context (no words): CoOp's placeholder text "X X X X" is not M tokens in the tiny
   vocabulary, so the trainer picks another single-token placeholder. The placeholder rows are
   replaced by the context, so loss and gradient equal those of the shared_end case. */
static void hf_coop_placeholder(coop_model *m, coop_pool *p, const char *const *cls, int ncls,
                                const float *img, const int *labels, int B) {
    coop_trainer_opts o;
    coop_trainer_opts_default(&o);
    o.n_ctx = 4; o.momentum = 0.9f; o.weight_decay = 5e-4f;
    coop_trainer *t = coop_trainer_new(m, p, cls, ncls, &o);
    if (!tu_check(t != NULL, "n_ctx 4, no words: trainer built (single-token placeholder found)")) { printf("    %s\n", coop_last_error()); return; }
    const int L = coop_model_config(m)->context_length;
    const int *eot;
    int64_t n, nctx = 0;
    coop_trainer_prompts(t, NULL, &eot, NULL);
    int32_t *wid = tu_load_i32(FC "shared_end_ids.npy", &n, NULL, NULL);
    int same = n == (int64_t)ncls * L;
    for (int c = 0; same && c < ncls; c++) same = wid[(size_t)c * L + eot[c]] == 2 && (eot[c] + 1 == L || wid[(size_t)c * L + eot[c] + 1] == 1);
    tu_check(same, "n_ctx 4, no words: every prompt ends where the reference's does (no placeholder pieces left)");
    coop_free(wid);
    if (coop_trainer_load_ctx(t, FC "shared_end_init.npy")) printf("    %s\n", coop_last_error());
    int nd;
    int64_t sh[3];
    coop_trainer_ctx(t, &nd, sh);
    nctx = sh[0] * sh[1];
    float loss = 0, *grad = (float *)calloc((size_t)nctx, sizeof(float)), *wl = load_fc("shared_end", "loss", NULL), *wg = load_fc("shared_end", "grad", NULL);
    if (coop_trainer_loss(t, img, labels, B, &loss, grad, NULL)) printf("    %s\n", coop_last_error());
    char what[160];
    snprintf(what, sizeof what, "n_ctx 4, no words: step-0 loss %.6f (ref %.6f)", loss, wl[0]);
    tu_compare(what, &loss, wl, 1, 1, 1e-5, 0);
    tu_compare("n_ctx 4, no words: d loss / d ctx", grad, wg, nctx, sh[1], 1e-4, 0.99999);
    free(grad); coop_free(wl); coop_free(wg);
    coop_trainer_free(t);
}

static void hf_coop(coop_pool *pool) {
    printf("coop on hf_roberta\n");
    coop_model *m = coop_model_load(FX "hf_roberta.coop");
    if (!tu_check(m != NULL, "model loads")) { printf("    %s\n", coop_last_error()); return; }
    /* class names, one per line (UTF-8, '_' kept as the reference passed them) */
    size_t len;
    char *text = coop_read_file(FC "classnames.txt", &len), *cls[16];
    int ncls = 0;
    for (char *s = text; s && *s && ncls < 16;) {
        char *e = strchr(s, '\n');
        if (e) *e = 0;
        if (*s) cls[ncls++] = s;
        s = e ? e + 1 : s + strlen(s);
    }
    int64_t n;
    float *img = tu_load_f32(FC "img.npy", NULL, NULL, NULL);
    int32_t *lab32 = tu_load_i32(FC "labels.npy", &n, NULL, NULL);
    int B = (int)n, labels[64];
    for (int i = 0; i < B && i < 64; i++) labels[i] = lab32[i];
    if (tu_check(text && ncls == 5 && B <= 64, "coop_hf fixtures: 5 class names, labels")) {
        static const hf_case cases[] = {
            {"init_end", 0, COOP_CTP_END, "a photo of a"}, {"shared_end", 0, COOP_CTP_END, "a_photo of a"},
            {"csc_end", 1, COOP_CTP_END, "a photo of a"}, {"shared_middle", 0, COOP_CTP_MIDDLE, "a photo of a"},
            {"csc_front", 1, COOP_CTP_FRONT, "a photo of a"},
        };
        const char *const *cn = (const char *const *)cls;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) hf_coop_case(m, pool, cn, ncls, &cases[i], img, labels, B);
        hf_coop_fd(m, pool, cn, ncls, &cases[1], img, labels, B);
        hf_coop_fd(m, pool, cn, ncls, &cases[2], img, labels, B);
        hf_coop_placeholder(m, pool, cn, ncls, img, labels, B);
    }
    coop_free(text); coop_free(img); coop_free(lab32);
    coop_model_free(m);
}

int main(void) {
    coop_pool *pool = coop_pool_create(2);
    run_model("hf_roberta", COOP_TOK_GPT2_BPE, pool);
    run_model("hf_xlmr", COOP_TOK_UNIGRAM, pool);
    run_model("hf_cls", COOP_TOK_GPT2_BPE, pool);
    hf_coop(pool);
    bad_proj();
    coop_pool_free(pool);
    return tu_done("test_hftext");
}
