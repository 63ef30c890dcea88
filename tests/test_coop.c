/* CoOp tests: prompt construction, loss, d loss / d ctx and a 10-step SGD trajectory against the
   PyTorch reference (tests/ref/ref_coop.py, fixtures in tests/fixtures/coop/), a finite-difference
   check of the gradient, determinism across runs and thread counts, Dassl's lr schedule, the JSON
   reader, data sets, few-shot sampling and bad inputs. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/testutil.h"

#define FIX "tests/fixtures/coop/"

static char **read_lines(const char *path, int *n) {
    size_t len;
    char *t = coop_read_file(path, &len), **v = (char **)calloc(64, sizeof(char *));
    *n = 0;
    if (!t || !v) { printf("FAIL cannot read %s\n", path); exit(1); }
    for (char *s = strtok(t, "\n"); s && *n < 64; s = strtok(NULL, "\n")) v[(*n)++] = strdup(s);
    free(t);
    return v;
}

/* ---- JSON reader --------------------------------------------------------------------------- */
static void test_json(void) {
    const char *ok = "\xef\xbb\xbf {\"train\": [[\"a/b c.jpg\", 0, \"caf\\u00e9 \\ud83d\\ude00\"]], \"x\": [1.5e2, -0, true, null, {}]}";
    coop_json *j = coop_json_parse(ok, strlen(ok), "ok.json");
    const coop_json *tr = coop_json_get(j, "train"), *x = coop_json_get(j, "x");
    tu_check(j && tr && tr->n == 1 && !strcmp(tr->kids[0].kids[2].str, "caf\xc3\xa9 \xf0\x9f\x98\x80") && x && x->n == 5 &&
             x->kids[0].num == 150 && x->kids[2].type == COOP_JSON_BOOL && x->kids[3].type == COOP_JSON_NULL,
             "json: valid document (BOM, escapes, surrogate pair, numbers, literals)");
    coop_json_free(j);
    static const struct { const char *text; const char *want; } bad[] = {
        {"{\"train\": [[\"a\", 0, \"b\"],]}", "byte 25"},
        {"{\"train\": [1, 2", "byte 15: unexpected end"},
        {"{\"a\" 1}", "expected ':'"},
        {"[01]", "expected ','"},
        {"\"abc", "unterminated string"},
        {"{\"a\": \"\\ud800\"}", "surrogate"},
        {"[1] x", "trailing"},
        {"[1.]", "bad number"},
        {"{\"a\": \"\x01\"}", "control character"},
        {"[\"\xff\"]", "invalid UTF-8"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        coop_json *b = coop_json_parse(bad[i].text, strlen(bad[i].text), "bad.json");
        char line[256];
        snprintf(line, sizeof line, "json: malformed #%zu rejected: %.70s", i, coop_last_error());
        tu_check(!b && strstr(coop_last_error(), bad[i].want) && strstr(coop_last_error(), "bad.json"), line);
        coop_json_free(b);
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[300];
    memset(deep, '[', sizeof deep - 1); deep[sizeof deep - 1] = 0;
    coop_json *b = coop_json_parse(deep, strlen(deep), "deep.json");
    tu_check(!b && strstr(coop_last_error(), "deeper"), "json: nesting limit");
}

/* ---- schedule ------------------------------------------------------------------------------ */
static void test_sched(void) {
    int64_t n;
    float *want = tu_load_f32(FIX "sched.npy", &n, NULL, NULL), got[64];
    coop_sched s = {0.002f, 1e-5f, (int)n, 1, 1};
    for (int e = 0; e < n; e++) got[e] = coop_sched_lr(&s, e);
    tu_compare("sched: Dassl constant warm-up + cosine (10 epochs) vs torch", got, want, n, 0, 1e-6, 0.99999);
    coop_free(want);
}

/* ---- data sets ------------------------------------------------------------------------------ */
static void touch(const char *dir, const char *rel) {
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    for (char *q = p + strlen(dir) + 1; *q; q++) if (*q == '/') { *q = 0; mkdir(p, 0755); *q = '/'; }
    FILE *f = fopen(p, "wb");
    if (f) { fputs("not really an image", f); fclose(f); }
}
static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) { fputs(text, f); fclose(f); }
}

static void test_data(void) {
    char dir[] = "/tmp/coop_test_XXXXXX", p[1200];
    if (!mkdtemp(dir)) { tu_check(0, "data: mkdtemp"); return; }
    /* folder of classes: 3 classes, 10 / 10 / 4 images */
    snprintf(p, sizeof p, "%s/folders", dir);
    mkdir(p, 0755);
    for (int i = 0; i < 10; i++) {
        char r[64];
        snprintf(r, sizeof r, "folders/b_cls/%02d.jpg", i); touch(dir, r);
        snprintf(r, sizeof r, "folders/a_cls/%02d.PNG", i); touch(dir, r);
        if (i < 4) { snprintf(r, sizeof r, "folders/c/%02d.png", i); touch(dir, r); }
    }
    touch(dir, "folders/c/readme.txt");
    coop_dataset *d = coop_dataset_open(p, 1, 0);
    tu_check(d && d->ncls == 3 && !strcmp(d->classnames[0], "a_cls") && !strcmp(d->classnames[2], "c") &&
             d->n[0] == 5 + 5 + 2 && d->n[1] == 2 + 2 + 1 && d->n[2] == 3 + 3 + 1,
             "data: folder per class, sorted classes, 50/20/30 split per class");
    if (d) {
        coop_rng r;
        coop_item *fs, *fs2;
        int nf, nf2, ns;
        coop_rng_seed(&r, 3);
        coop_fewshot(d->items[0], d->n[0], 4, &r, &fs, &nf, &ns);
        int per[3] = {0, 0, 0};
        for (int i = 0; i < nf; i++) per[fs[i].label]++;
        tu_check(nf == 4 + 4 + 2 && ns == 1 && per[0] == 4 && per[2] == 2,
                 "data: 4-shot: 4 per class, the 2-image class keeps its 2 (counted short)");
        coop_rng_seed(&r, 3);
        coop_fewshot(d->items[0], d->n[0], 4, &r, &fs2, &nf2, NULL);
        int same = nf == nf2;
        for (int i = 0; same && i < nf; i++) same = fs[i].path == fs2[i].path;
        tu_check(same, "data: few-shot sample reproducible from the seed");
        /* the split written out reads back the same */
        const coop_item *its[3] = {fs, d->items[1], d->items[2]};
        int ns3[3] = {nf, d->n[1], d->n[2]};
        snprintf(p, sizeof p, "%s/folders/split_fewshot.json", dir);
        int rc = coop_split_write(p, d, its, ns3);
        coop_dataset *d2 = rc ? NULL : coop_dataset_open(p, 0, 0);
        same = d2 && d2->ncls == 3 && d2->n[0] == nf && d2->n[2] == d->n[2];
        for (int i = 0; same && i < nf; i++) same = !strcmp(d2->items[0][i].path, fs[i].path) && d2->items[0][i].label == fs[i].label;
        tu_check(same, "data: split JSON written and read back identically");
        coop_dataset_free(d2);
        coop_free(fs); coop_free(fs2);
    }
    coop_dataset_free(d);
    /* CoOp layout: DATA/caltech-101/{101_ObjectCategories, split_zhou_Caltech101.json} */
    snprintf(p, sizeof p, "%s/cal/caltech-101", dir);
    touch(dir, "cal/caltech-101/101_ObjectCategories/accordion/image_0001.jpg");
    touch(dir, "cal/caltech-101/101_ObjectCategories/accordion/image_0002.jpg");
    touch(dir, "cal/caltech-101/101_ObjectCategories/sea_horse/image_0001.jpg");
    snprintf(p, sizeof p, "%s/cal/caltech-101/split_zhou_Caltech101.json", dir);
    write_text(p, "{\"train\": [[\"accordion/image_0001.jpg\", 0, \"accordion\"], [\"sea_horse/image_0001.jpg\", 1, \"sea_horse\"]],\n"
                  " \"val\": [], \"test\": [[\"accordion/image_0002.jpg\", 0, \"accordion\"]]}");
    snprintf(p, sizeof p, "%s/cal", dir);
    d = coop_dataset_open(p, 0, 0);
    tu_check(d && d->ncls == 2 && !strcmp(d->classnames[1], "sea_horse") && d->n[0] == 2 && d->n[2] == 1 &&
             strstr(d->root, "101_ObjectCategories"), "data: DATA/caltech-101/split_zhou_*.json found, image root resolved");
    coop_dataset_free(d);
    /* missing image: an error naming it; allowed: dropped and counted */
    snprintf(p, sizeof p, "%s/cal/caltech-101/split_zhou_Caltech101.json", dir);
    write_text(p, "{\"train\": [[\"accordion/image_0001.jpg\", 0, \"accordion\"], [\"sea_horse/image_0009.jpg\", 1, \"sea_horse\"]],\n"
                  " \"val\": [], \"test\": [[\"accordion/image_0002.jpg\", 0, \"accordion\"]]}");
    snprintf(p, sizeof p, "%s/cal", dir);
    d = coop_dataset_open(p, 0, 0);
    char line[300];
    snprintf(line, sizeof line, "data: missing image refused: %.60s", d ? "(opened!)" : coop_last_error());
    tu_check(!d && strstr(coop_last_error(), "image_0009.jpg") && strstr(coop_last_error(), "1 listed"), line);
    d = coop_dataset_open(p, 0, 1);
    tu_check(d && d->n_missing == 1 && d->n[0] == 1, "data: missing image dropped and counted when allowed");
    coop_dataset_free(d);
    /* malformed split JSON: file and byte offset in the message */
    snprintf(p, sizeof p, "%s/cal/caltech-101/split_zhou_Caltech101.json", dir);
    write_text(p, "{\"train\": [[\"accordion/image_0001.jpg\", 0 \"accordion\"]]}");
    snprintf(p, sizeof p, "%s/cal", dir);
    d = coop_dataset_open(p, 0, 0);
    snprintf(line, sizeof line, "data: malformed split JSON: %.60s", d ? "(opened!)" : strstr(coop_last_error(), "JSON") ? strstr(coop_last_error(), "JSON") : coop_last_error());
    tu_check(!d && strstr(coop_last_error(), "split_zhou_Caltech101.json: JSON error at byte 42"), line);
    snprintf(p, sizeof p, "%s/cal/caltech-101/split_zhou_Caltech101.json", dir);
    write_text(p, "{\"train\": [[\"accordion/image_0001.jpg\", \"zero\", \"accordion\"]]}");
    snprintf(p, sizeof p, "%s/cal", dir);
    d = coop_dataset_open(p, 0, 0);
    tu_check(!d && strstr(coop_last_error(), "not [relpath, label, classname]"), "data: wrong item shape in split JSON refused");
    snprintf(p, sizeof p, "%s/nowhere", dir);
    d = coop_dataset_open(p, 0, 0);
    tu_check(!d && strstr(coop_last_error(), "nowhere"), "data: missing DATA folder refused");
    snprintf(p, sizeof p, "rm -rf '%s'", dir);
    if (system(p)) printf("  (could not remove %s)\n", dir);
}

/* ---- the trainer against the reference -------------------------------------------------------- */
typedef struct { const char *name; int n_ctx, csc, ctp; const char *init; } tcase;

static coop_trainer *make(coop_model *m, coop_pool *p, char **cls, int ncls, const tcase *c) {
    coop_trainer_opts o;
    coop_trainer_opts_default(&o);
    o.n_ctx = c->n_ctx; o.csc = c->csc; o.ctp = c->ctp; o.ctx_init = c->init;
    o.momentum = 0.9f; o.weight_decay = 5e-4f;
    return coop_trainer_new(m, p, (const char *const *)cls, ncls, &o);
}

static void test_case(coop_model *m, coop_pool *p, char **cls, int ncls, const tcase *c,
                      const float *img, const int *labels, int B) {
    char path[256], what[160];
    coop_trainer *t = make(m, p, cls, ncls, c);
    snprintf(what, sizeof what, "%s: trainer built", c->name);
    if (!tu_check(t != NULL, what)) { printf("    %s\n", coop_last_error()); return; }
    const int E = coop_model_config(m)->embed_dim, L = coop_model_config(m)->context_length;
    int nd, T;
    int64_t sh[3], n;
    float *ctx = coop_trainer_ctx(t, &nd, sh);
    int64_t nctx = nd == 3 ? sh[0] * sh[1] * sh[2] : sh[0] * sh[1], D = sh[nd - 1];
    /* word init: the context starts as the words' embeddings; otherwise load the reference init */
    snprintf(path, sizeof path, FIX "%s_init.npy", c->name);
    float *init = tu_load_f32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "%s: ctx shape %lld values", c->name, (long long)nctx);
    tu_check(n == nctx, what);
    if (c->init) {
        snprintf(what, sizeof what, "%s: word-init ctx", c->name);
        tu_compare(what, ctx, init, n, D, 1e-6, 0.99999);
    }
    if (coop_trainer_load_ctx(t, path)) printf("    %s\n", coop_last_error());
    /* prompt ids and embeddings */
    const int32_t *ids;
    coop_trainer_prompts(t, &ids, NULL, &T);
    snprintf(path, sizeof path, FIX "%s_ids.npy", c->name);
    int32_t *wid = tu_load_i32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "%s: prompt token ids equal (%d x %d)", c->name, ncls, L);
    tu_check(n == (int64_t)ncls * L && !memcmp(ids, wid, sizeof(int32_t) * (size_t)n), what);
    coop_free(wid);
    snprintf(path, sizeof path, FIX "%s_x.npy", c->name);
    float *wx = tu_load_f32(path, &n, NULL, NULL), *x = (float *)malloc(sizeof(float) * (size_t)ncls * T * D),
          *wxt = (float *)malloc(sizeof(float) * (size_t)ncls * T * D);
    for (int k = 0; k < ncls; k++) memcpy(wxt + (size_t)k * T * D, wx + (size_t)k * L * D, sizeof(float) * (size_t)T * D);
    coop_trainer_prompt_embeds(t, x);
    snprintf(what, sizeof what, "%s: prompt embeddings [%d, %d, %lld]", c->name, ncls, T, (long long)D);
    tu_compare(what, x, wxt, (int64_t)ncls * T * D, D, 0, 1);
    free(x); free(wxt); coop_free(wx);
    /* text features (normalised) at step 0 */
    snprintf(path, sizeof path, FIX "%s_txt.npy", c->name);
    float *wt = tu_load_f32(path, &n, NULL, NULL), *head = (float *)malloc(sizeof(float) * (size_t)ncls * E);
    for (int k = 0; k < ncls; k++) {
        double s = 0;
        for (int e = 0; e < E; e++) s += (double)wt[k * E + e] * wt[k * E + e];
        for (int e = 0; e < E; e++) wt[k * E + e] = (float)(wt[k * E + e] / sqrt(s));
    }
    int hr = coop_trainer_head(t, head);
    snprintf(what, sizeof what, "%s: class text features (normalised)", c->name);
    if (hr) printf("    %s\n", coop_last_error());
    tu_compare(what, head, wt, (int64_t)ncls * E, E, 1e-4, 0.99999);
    free(head); coop_free(wt);
    /* step-0 loss and gradient */
    float loss = 0, *grad = (float *)calloc((size_t)nctx, sizeof(float));
    snprintf(path, sizeof path, FIX "%s_loss.npy", c->name);
    float *wl = tu_load_f32(path, &n, NULL, NULL);
    int lr = coop_trainer_loss(t, img, labels, B, &loss, grad, NULL);
    if (lr) printf("    %s\n", coop_last_error());
    snprintf(what, sizeof what, "%s: step-0 loss %.6f (ref %.6f)", c->name, loss, wl[0]);
    tu_compare(what, &loss, wl, 1, 1, 1e-5, 0);
    snprintf(path, sizeof path, FIX "%s_grad.npy", c->name);
    float *wg = tu_load_f32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "%s: d loss / d ctx", c->name);
    tu_compare(what, grad, wg, nctx, D, 1e-4, 0.99999);
    coop_free(wg);
    /* 10 full-batch SGD steps (lr 0.05, momentum 0.9, wd 5e-4) */
    float got[11];
    for (int s = 0; s < 10; s++) coop_trainer_step(t, img, labels, B, 0.05f, &got[s], NULL);
    coop_trainer_loss(t, img, labels, B, &got[10], NULL, NULL);
    snprintf(what, sizeof what, "%s: 10-step loss trajectory (%.4f -> %.4f)", c->name, got[0], got[10]);
    tu_compare(what, got, wl, 11, 0, 1e-4, 0);
    snprintf(path, sizeof path, FIX "%s_ctx10.npy", c->name);
    float *wc = tu_load_f32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "%s: ctx after 10 steps", c->name);
    tu_compare(what, ctx, wc, nctx, D, 1e-4, 0.99999);
    coop_free(wc); coop_free(wl); free(grad); coop_free(init);
    coop_trainer_free(t);
}

/* central differences on a few coordinates; the loss is accumulated in double on the C side */
static void test_fd(coop_model *m, coop_pool *p, char **cls, int ncls, const tcase *c,
                    const float *img, const int *labels, int B) {
    coop_trainer *t = make(m, p, cls, ncls, c);
    if (!t) { tu_check(0, "fd: trainer"); return; }
    tu_trainer_fd(t, img, labels, B, 20.0f, c->name);   /* context scaled up: the loss is not flat there */
    coop_trainer_free(t);
}

static float *run_steps(coop_model *m, coop_pool *p, char **cls, int ncls, const tcase *c,
                        const float *img, const int *labels, int B, int64_t *nctx) {
    coop_trainer *t = make(m, p, cls, ncls, c);
    if (!t) return NULL;
    int nd;
    int64_t sh[3];
    float *ctx = coop_trainer_ctx(t, &nd, sh), loss;
    *nctx = nd == 3 ? sh[0] * sh[1] * sh[2] : sh[0] * sh[1];
    for (int s = 0; s < 3; s++) coop_trainer_step(t, img, labels, B, 0.05f, &loss, NULL);
    float *out = (float *)malloc(sizeof(float) * (size_t)*nctx);
    memcpy(out, ctx, sizeof(float) * (size_t)*nctx);
    coop_trainer_free(t);
    return out;
}

int main(void) {
    printf("test_coop\n");
    test_json();
    test_sched();
    test_data();

    coop_model *m = coop_model_load(FIX "tiny.coop");
    if (!tu_check(m != NULL, "tiny.coop loads")) { printf("    %s\n", coop_last_error()); return tu_done("test_coop"); }
    int ncls, B;
    char **cls = read_lines(FIX "classnames.txt", &ncls);
    int64_t n, sh[8];
    float *img = tu_load_f32(FIX "img.npy", &n, sh, NULL);
    int32_t *lab32 = tu_load_i32(FIX "labels.npy", &n, NULL, NULL);
    B = (int)n;
    int labels[64];
    for (int i = 0; i < B; i++) labels[i] = lab32[i];
    coop_pool *p1 = coop_pool_create(1), *p2 = coop_pool_create(2);

    static const tcase cases[] = {
        {"shared_end", 4, 0, COOP_CTP_END, NULL}, {"shared_middle", 5, 0, COOP_CTP_MIDDLE, NULL},
        {"shared_front", 4, 0, COOP_CTP_FRONT, NULL}, {"csc_end", 3, 1, COOP_CTP_END, NULL},
        {"csc_middle", 4, 1, COOP_CTP_MIDDLE, NULL}, {"csc_front", 2, 1, COOP_CTP_FRONT, NULL},
        {"init_end", 0, 0, COOP_CTP_END, "a photo of a"}, {"init_middle", 0, 0, COOP_CTP_MIDDLE, "a_photo of a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_case(m, p2, cls, ncls, &cases[i], img, labels, B);
    test_fd(m, p1, cls, ncls, &cases[0], img, labels, B);
    test_fd(m, p1, cls, ncls, &cases[4], img, labels, B);

    /* determinism: same seed and threads -> identical bits; 1 vs 2 threads -> within tolerance */
    for (int k = 0; k < 2; k++) {
        const tcase *c = &cases[k ? 3 : 0];
        int64_t na, nb, nc;
        float *a = run_steps(m, p2, cls, ncls, c, img, labels, B, &na), *b = run_steps(m, p2, cls, ncls, c, img, labels, B, &nb),
              *s1 = run_steps(m, p1, cls, ncls, c, img, labels, B, &nc);
        char what[128];
        snprintf(what, sizeof what, "%s: 3 steps twice (2 threads) bit-identical", c->name);
        tu_check(a && b && na == nb && !memcmp(a, b, sizeof(float) * (size_t)na), what);
        snprintf(what, sizeof what, "%s: 3 steps, 1 vs 2 threads", c->name);
        if (a && s1) tu_compare(what, s1, a, na, 0, 1e-5, 0.99999);
        free(a); free(b); free(s1);
    }

    /* bad inputs */
    coop_trainer_opts o;
    coop_trainer_opts_default(&o);
    coop_model *nt = coop_model_load(FIX "notext.coop");
    coop_trainer *t = nt ? coop_trainer_new(nt, p1, (const char *const *)cls, ncls, &o) : NULL;
    char line[256];
    snprintf(line, sizeof line, "bad: model without a text tower: %.60s", coop_last_error());
    tu_check(nt && !t && strstr(coop_last_error(), "no text tower"), line);
    coop_model_free(nt);
    o.n_ctx = 80;
    t = coop_trainer_new(m, p1, (const char *const *)cls, ncls, &o);
    tu_check(!t && strstr(coop_last_error(), "n_ctx"), "bad: n_ctx larger than the context refused");
    o.n_ctx = 70;
    const char *longname[1] = {"a very long class name with many many words in it so the prompt overflows"};
    t = coop_trainer_new(m, p1, longname, 1, &o);
    tu_check(!t && strstr(coop_last_error(), "fills the whole context"), "bad: prompt longer than the context refused");
    o.n_ctx = 4;
    t = coop_trainer_new(m, p1, (const char *const *)cls, ncls, &o);
    if (t) {
        float loss;
        int badlab[2] = {0, 99};
        tu_check(coop_trainer_loss(t, img, badlab, 2, &loss, NULL, NULL) && strstr(coop_last_error(), "label 99"), "bad: label outside the classes refused");
        tu_check(coop_trainer_load_ctx(t, FIX "csc_end_init.npy") && strstr(coop_last_error(), "does not match"), "bad: context of another shape refused");
        coop_trainer_free(t);
    }
    for (int i = 0; i < ncls; i++) free(cls[i]);
    free(cls);
    coop_free(img); coop_free(lab32);
    coop_pool_free(p1); coop_pool_free(p2);
    coop_model_free(m);
    return tu_done("test_coop");
}
