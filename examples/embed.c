/* embed: image or text embeddings of an OpenCLIP model, written as a float32 .npy (N, D).

     build/embed -m MODEL --images a.jpg b.png ... -o OUT.npy
     build/embed -m MODEL --pixels X.npy -o OUT.npy          X: float32 (N, 3, S, S), preprocessed
     build/embed -m MODEL --texts lines.txt -o OUT.npy [--tokens-out T.npy]

   Embeddings are raw (not L2-normalised), exactly what OpenCLIP's encode_image / encode_text
   return. Build alone: cc -O2 -march=native -I. examples/embed.c -o embed -lm -lpthread */
#define COOP_IMPLEMENTATION
#include "coop.h"

#include <stdio.h>

static void usage(void) {
    fprintf(stderr,
            "usage: embed -m MODEL (--pixels X.npy | --images FILE... | --texts FILE) -o OUT.npy\n"
            "             [--tokens-out T.npy] [--batch N] [--threads N] [--bf16]\n"
            "  --bf16: image tower in bf16 compute (AVX-512 BF16; ~2x faster, cosine ~0.9999 to fp32)\n");
}

static int die(const char *msg) {
    fprintf(stderr, "embed: %s\n", msg);
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *e;
    long v = strtol(s, &e, 10);
    if (e == s || *e || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *pixels = NULL, *texts = NULL, *tokens_out = NULL;
    char **images = NULL;
    int nimages = 0, batch = 32, threads = 0, bf16 = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has) model = argv[++i];
        else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && has) out = argv[++i];
        else if (!strcmp(a, "--pixels") && has) pixels = argv[++i];
        else if (!strcmp(a, "--texts") && has) texts = argv[++i];
        else if (!strcmp(a, "--tokens-out") && has) tokens_out = argv[++i];
        else if (!strcmp(a, "--batch") && has) {
            if (parse_int(argv[++i], 1, 4096, &batch)) return die("--batch wants an integer in 1..4096");
        } else if (!strcmp(a, "--threads") && has) {
            if (parse_int(argv[++i], 0, 1024, &threads)) return die("--threads wants an integer in 0..1024");
        } else if (!strcmp(a, "--bf16")) {
            bf16 = 1;
        } else if (!strcmp(a, "--images")) {
            images = argv + i + 1;
            while (i + 1 < argc && argv[i + 1][0] != '-') { i++; nimages++; }
            if (!nimages) return die("--images wants at least one file");
        } else {
            fprintf(stderr, "embed: unknown or incomplete option '%s'\n", a);
            usage();
            return 2;
        }
    }
    if (!model || !out) { usage(); return 2; }
    if ((pixels != NULL) + (texts != NULL) + (images != NULL) != 1) return die("give exactly one of --pixels, --images, --texts");
    if (tokens_out && !texts) return die("--tokens-out goes with --texts");

    coop_model *m = coop_model_load(model);
    if (!m) return die(coop_last_error());
    if (bf16 && coop_model_set_bf16(m, 1)) { coop_model_free(m); return die(coop_last_error()); }
    const coop_config *c = coop_model_config(m);
    coop_pool *pool = coop_pool_create(threads);
    if (!pool) return die(coop_last_error());
    int E = c->embed_dim, S = c->image_size, L = c->context_length, rc = 1;
    int64_t n = 0;
    float *feat = NULL, *pix = NULL;
    int32_t *ids = NULL;
    char *text = NULL;

    if (pixels) {
        char dt[8]; int nd; int64_t sh[8];
        if (coop_npy_read(pixels, dt, &nd, sh, (void **)&pix)) { die(coop_last_error()); goto done; }
        if (strcmp(dt, "<f4") || nd != 4 || sh[1] != 3 || sh[2] != S || sh[3] != S) {
            fprintf(stderr, "embed: %s: want float32 (N, 3, %d, %d) pixels for this model\n", pixels, S, S);
            goto done;
        }
        n = sh[0];
        if (!(feat = (float *)coop_malloc((size_t)(n ? n : 1) * E * 4))) { die(coop_last_error()); goto done; }
        for (int64_t i = 0; i < n; i += batch) {
            int b = (int)(n - i < batch ? n - i : batch);
            if (coop_encode_image(m, pool, pix + i * 3 * S * S, b, feat + i * E)) { die(coop_last_error()); goto done; }
        }
    } else if (images) {
        n = nimages;
        pix = (float *)coop_malloc((size_t)batch * 3 * S * S * 4);
        feat = (float *)coop_malloc((size_t)n * E * 4);
        if (!pix || !feat) { die(coop_last_error()); goto done; }
        if (c->vision == COOP_VISION_NONE) { die("model has no image tower"); goto done; }
        for (int64_t i = 0; i < n; i += batch) {
            int b = (int)(n - i < batch ? n - i : batch);
            for (int j = 0; j < b; j++) {
                coop_image img;
                if (coop_image_load(images[i + j], &img)) { die(coop_last_error()); goto done; }
                int e = coop_preprocess(&img, S, c->image_mean, c->image_std, pix + (size_t)j * 3 * S * S);
                coop_image_free(&img);
                if (e) { die(coop_last_error()); goto done; }
            }
            if (coop_encode_image(m, pool, pix, b, feat + i * E)) { die(coop_last_error()); goto done; }
        }
    } else {
        size_t len;
        if (!(text = coop_read_file(texts, &len))) { die(coop_last_error()); goto done; }
        for (size_t i = 0; i < len; i++) n += text[i] == '\n' || (i + 1 == len);
        ids = (int32_t *)coop_malloc((size_t)(n ? n : 1) * L * 4);
        feat = (float *)coop_malloc((size_t)(n ? n : 1) * E * 4);
        if (!ids || !feat) { die(coop_last_error()); goto done; }
        char *p = text;
        for (int64_t i = 0; i < n; i++) {
            char *nl = strchr(p, '\n');
            if (nl) *nl = 0;
            size_t l = strlen(p);
            if (l && p[l - 1] == '\r') p[l - 1] = 0;
            if (coop_tokenize(m, p, ids + i * L) < 0) {
                fprintf(stderr, "embed: %s: line %lld: %s\n", texts, (long long)i + 1, coop_last_error());
                goto done;
            }
            p = nl ? nl + 1 : p + l;
        }
        for (int64_t i = 0; i < n; i += batch) {
            int b = (int)(n - i < batch ? n - i : batch);
            if (coop_encode_text(m, pool, ids + i * L, b, feat + i * E)) { die(coop_last_error()); goto done; }
        }
        if (tokens_out) {
            int64_t sh[2] = {n, L};
            if (coop_npy_write(tokens_out, "<i4", ids, 2, sh)) { die(coop_last_error()); goto done; }
        }
    }
    {
        int64_t sh[2] = {n, E};
        if (coop_npy_write(out, "<f4", feat, 2, sh)) { die(coop_last_error()); goto done; }
    }
    fprintf(stderr, "embed: wrote %s (%lld x %d)\n", out, (long long)n, E);
    rc = 0;
done:
    coop_free(feat); coop_free(pix); coop_free(ids); coop_free(text);
    coop_pool_free(pool);
    coop_model_free(m);
    return rc;
}
