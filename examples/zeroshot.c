/* zeroshot: classify images against class names with CLIP's prompt ensembling.

     build/zeroshot -m MODEL --classes names.txt [--template "a photo of a {}."]... IMAGE...
     build/zeroshot -m MODEL --data DIR [--split test]    accuracy on a data set's split

   Each class's text feature is the mean of its L2-normalised template features, normalised
   again (as in CLIP's zero-shot notebook). Probabilities are softmax(exp(logit_scale) * cos).
   Build alone: cc -O2 -march=native -I. examples/zeroshot.c -o zeroshot -lm -lpthread */
#define COOP_IMPLEMENTATION
#include "coop.h"

#include <stdio.h>

#define MAX_TEMPLATES 128

static int die(const char *msg) { fprintf(stderr, "zeroshot: %s\n", msg); return 1; }

static void usage(void) {
    fprintf(stderr,
            "usage: zeroshot -m MODEL (--classes FILE IMAGE... | --data DIR [--split test|val|train])\n"
            "                [--template T]... [--templates FILE] [--top-k K] [--batch N] [--threads N] [--bf16]\n"
            "  T contains {} where the class name goes; default \"a photo of a {}.\"\n");
}

/* split text into lines (in place); returns count; NULL-terminated array from malloc */
static char **lines_of(char *text, int *count) {
    int n = 0, cap = 16;
    char **v = (char **)malloc(sizeof(char *) * (size_t)cap);
    for (char *p = text; v && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[--l] = 0;
        if (l) {
            if (n + 1 >= cap) { char **nv = (char **)realloc(v, sizeof(char *) * (size_t)(cap *= 2)); if (!nv) { free(v); return NULL; } v = nv; }
            v[n++] = p;
        }
        if (!nl) break;
        p = nl + 1;
    }
    if (v) v[n] = NULL;
    *count = n;
    return v;
}

static void l2norm(float *x, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
    float inv = (float)(1.0 / sqrt(s > 1e-30 ? s : 1e-30));
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* class features [C, E]: prompt ensemble over templates */
static int class_features(coop_model *m, coop_pool *pool, char **classes, int C, const char **tpl, int T, float *W) {
    const coop_config *c = coop_model_config(m);
    int E = c->embed_dim, L = c->context_length;
    int32_t *ids = (int32_t *)coop_malloc((size_t)T * L * 4);
    float *f = (float *)coop_malloc((size_t)T * E * 4);
    char buf[4096];
    if (!ids || !f) { coop_free(ids); coop_free(f); return -1; }
    int rc = 0;
    for (int k = 0; k < C && !rc; k++) {
        for (int t = 0; t < T && !rc; t++) {
            const char *br = strstr(tpl[t], "{}");
            if (br) snprintf(buf, sizeof buf, "%.*s%s%s", (int)(br - tpl[t]), tpl[t], classes[k], br + 2);
            else snprintf(buf, sizeof buf, "%s %s", tpl[t], classes[k]);
            if (coop_tokenize(m, buf, ids + (size_t)t * L) < 0) rc = -1;
        }
        if (!rc) rc = coop_encode_text(m, pool, ids, T, f);
        float *w = W + (size_t)k * E;
        memset(w, 0, sizeof(float) * (size_t)E);
        for (int t = 0; t < T && !rc; t++) {
            l2norm(f + (size_t)t * E, E);
            for (int i = 0; i < E; i++) w[i] += f[(size_t)t * E + i] / (float)T;
        }
        l2norm(w, E);
    }
    coop_free(ids); coop_free(f);
    return rc;
}

/* top-1 accuracy on one split of a data set; prints per-split summary */
static int accuracy(coop_model *m, coop_pool *pool, const coop_dataset *ds, int split, const float *W, float scale, int batch) {
    int E = coop_model_config(m)->embed_dim, n = ds->n[split], C = ds->ncls, correct = 0;
    float *f = (float *)coop_malloc((size_t)batch * E * 4);
    if (!f) return -1;
    (void)scale;   /* the argmax does not depend on the scale */
    for (int i0 = 0; i0 < n; i0 += batch) {
        int b = n - i0 < batch ? n - i0 : batch;
        if (coop_image_features(m, pool, ds->items[split] + i0, b, NULL, f)) { coop_free(f); return -1; }
        for (int j = 0; j < b; j++) {
            int best = 0;
            double bv = -1e300;
            for (int k = 0; k < C; k++) {
                double d = 0;
                for (int e = 0; e < E; e++) d += (double)f[(size_t)j * E + e] * W[(size_t)k * E + e];
                if (d > bv) { bv = d; best = k; }
            }
            correct += best == ds->items[split][i0 + j].label;
        }
    }
    coop_free(f);
    printf("zero-shot top-1 on %d %s images, %d classes: %.2f%%\n", n,
           split == COOP_SPLIT_TEST ? "test" : split == COOP_SPLIT_VAL ? "val" : "train", C, n ? 100.0 * correct / n : 0.0);
    return 0;
}

int main(int argc, char **argv) {
    const char *model = NULL, *classes_file = NULL, *templates_file = NULL, *data = NULL, *split = "test";
    const char *tpl[MAX_TEMPLATES];
    int ntpl = 0, topk = 5, batch = 32, threads = 0, bf16 = 0;
    char **images = NULL;
    int nimages = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        else if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && has) model = argv[++i];
        else if (!strcmp(a, "--classes") && has) classes_file = argv[++i];
        else if (!strcmp(a, "--data") && has) data = argv[++i];
        else if (!strcmp(a, "--split") && has) split = argv[++i];
        else if (!strcmp(a, "--templates") && has) templates_file = argv[++i];
        else if (!strcmp(a, "--template") && has) {
            if (ntpl == MAX_TEMPLATES) return die("too many --template");
            tpl[ntpl++] = argv[++i];
        } else if (!strcmp(a, "--top-k") && has) topk = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && has) batch = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") && has) threads = atoi(argv[++i]);
        else if (!strcmp(a, "--bf16")) bf16 = 1;
        else if (a[0] != '-') {
            if (!images) images = argv + i;
            else if (images + nimages != argv + i) return die("images must come together at the end");
            nimages++;
        } else { fprintf(stderr, "zeroshot: unknown or incomplete option '%s'\n", a); usage(); return 2; }
    }
    if (!model || (data ? (classes_file || nimages) : (!classes_file || !nimages))) { usage(); return 2; }
    int split_id = !strcmp(split, "train") ? COOP_SPLIT_TRAIN : !strcmp(split, "val") ? COOP_SPLIT_VAL :
                   !strcmp(split, "test") ? COOP_SPLIT_TEST : -1;
    if (split_id < 0) return die("--split wants train, val or test");
    if (topk < 1 || batch < 1 || batch > 4096 || threads < 0) return die("--top-k, --batch and --threads want positive integers");

    coop_model *m = coop_model_load(model);
    if (!m) return die(coop_last_error());
    if (bf16 && coop_model_set_bf16(m, 1)) { coop_model_free(m); return die(coop_last_error()); }
    const coop_config *c = coop_model_config(m);
    if (c->vision == COOP_VISION_NONE || c->text == COOP_TEXT_NONE) { coop_model_free(m); return die("model needs both towers"); }
    coop_pool *pool = coop_pool_create(threads);
    int E = c->embed_dim, S = c->image_size, C = 0, rc = 1;
    coop_dataset *ds = NULL;
    char *ctext = NULL, *ttext = NULL, **classes = NULL, **tlines = NULL;
    float *W = NULL, *pix = NULL, *feat = NULL;
    if (data) {
        if (!(ds = coop_dataset_open(data, 1, 0))) { die(coop_last_error()); goto done; }
        C = ds->ncls;
        classes = (char **)calloc((size_t)C + 1, sizeof(char *));
        for (int k = 0; classes && k < C; k++) classes[k] = ds->classnames[k];
    } else {
        ctext = coop_read_file(classes_file, NULL);
        classes = ctext ? lines_of(ctext, &C) : NULL;
    }
    if (!classes || !C) { die(ctext || ds ? "no class names" : coop_last_error()); goto done; }
    for (int k = 0; k < C; k++) for (char *p = classes[k]; *p; p++) if (*p == '_') *p = ' ';
    if (templates_file) {
        int nt;
        if (!(ttext = coop_read_file(templates_file, NULL)) || !(tlines = lines_of(ttext, &nt))) { die(coop_last_error()); goto done; }
        for (int t = 0; t < nt && ntpl < MAX_TEMPLATES; t++) tpl[ntpl++] = tlines[t];
    }
    if (!ntpl) tpl[ntpl++] = "a photo of a {}.";
    W = (float *)coop_malloc((size_t)C * E * 4);
    pix = (float *)coop_malloc((size_t)batch * 3 * S * S * 4);
    feat = (float *)coop_malloc((size_t)batch * E * 4);
    if (!W || !pix || !feat || class_features(m, pool, classes, C, tpl, ntpl, W)) { die(coop_last_error()); goto done; }
    const coop_tensor *ls = coop_model_find(m, "logit_scale");
    float scale = ls ? expf(ls->f32[0]) : 100.0f;
    if (topk > C) topk = C;
    if (ds) { rc = accuracy(m, pool, ds, split_id, W, scale, batch) ? 1 : 0; goto done; }
    for (int i0 = 0; i0 < nimages; i0 += batch) {
        int b = nimages - i0 < batch ? nimages - i0 : batch;
        for (int j = 0; j < b; j++) {
            coop_image img;
            if (coop_image_load(images[i0 + j], &img)) { die(coop_last_error()); goto done; }
            int e = coop_preprocess(&img, S, c->image_mean, c->image_std, pix + (size_t)j * 3 * S * S);
            coop_image_free(&img);
            if (e) { die(coop_last_error()); goto done; }
        }
        if (coop_encode_image(m, pool, pix, b, feat)) { die(coop_last_error()); goto done; }
        for (int j = 0; j < b; j++) {
            float *f = feat + (size_t)j * E, p[4096], mx = -1e30f, sum = 0;
            float *prob = C <= 4096 ? p : (float *)malloc(sizeof(float) * (size_t)C);
            l2norm(f, E);
            for (int k = 0; k < C; k++) {
                double d = 0;
                for (int e = 0; e < E; e++) d += (double)f[e] * W[(size_t)k * E + e];
                prob[k] = scale * (float)d;
                if (prob[k] > mx) mx = prob[k];
            }
            for (int k = 0; k < C; k++) sum += prob[k] = expf(prob[k] - mx);
            printf("%s\n", images[i0 + j]);
            for (int r = 0; r < topk; r++) {
                int best = 0;
                for (int k = 1; k < C; k++) if (prob[k] > prob[best]) best = k;
                printf("  %6.2f%%  %s\n", 100.0 * prob[best] / sum, classes[best]);
                prob[best] = -1;
            }
            if (prob != p) free(prob);
        }
    }
    rc = 0;
done:
    if (ds) { for (int k = 0; k < C; k++) for (char *q = classes[k]; *q; q++) if (*q == ' ') *q = '_'; }
    free(classes); free(tlines); coop_dataset_free(ds); coop_free(ctext); coop_free(ttext);
    coop_free(W); coop_free(pix); coop_free(feat);
    coop_pool_free(pool); coop_model_free(m);
    return rc;
}
