/* Shared helpers of the C tests: load fixtures, compare arrays, print one line per check.
   Include after coop.h (with COOP_IMPLEMENTATION). */
#include <math.h>
#include <stdio.h>

static int tu_failures = 0, tu_checks = 0;

/* one line: what, then OK / FAIL */
static int tu_check(int ok, const char *what) {
    tu_checks++;
    printf("  %-66s %s\n", what, ok ? "OK" : "FAIL");
    if (!ok) tu_failures++;
    return ok;
}

/* a float32 .npy fixture; exits the test with a message when missing (fixtures are committed) */
static float *tu_load_f32(const char *path, int64_t *numel, int64_t shape[8], int *ndim) {
    char dt[8]; int nd; int64_t sh[8]; void *d;
    if (coop_npy_read(path, dt, &nd, sh, &d)) { printf("FAIL cannot read fixture: %s\n", coop_last_error()); exit(1); }
    if (strcmp(dt, "<f4")) { printf("FAIL %s: want float32\n", path); exit(1); }
    int64_t n = 1;
    for (int i = 0; i < nd; i++) { n *= sh[i]; if (shape) shape[i] = sh[i]; }
    if (numel) *numel = n;
    if (ndim) *ndim = nd;
    return (float *)d;
}

static int32_t *tu_load_i32(const char *path, int64_t *numel, int64_t shape[8], int *ndim) {
    char dt[8]; int nd; int64_t sh[8]; void *d;
    if (coop_npy_read(path, dt, &nd, sh, &d)) { printf("FAIL cannot read fixture: %s\n", coop_last_error()); exit(1); }
    if (strcmp(dt, "<i4")) { printf("FAIL %s: want int32\n", path); exit(1); }
    int64_t n = 1;
    for (int i = 0; i < nd; i++) { n *= sh[i]; if (shape) shape[i] = sh[i]; }
    if (numel) *numel = n;
    if (ndim) *ndim = nd;
    return (int32_t *)d;
}

/* compares got with want (n values, rows of length `row` for cosine); prints max abs diff, max
   error relative to max|want|, and the worst row cosine; passes when rel <= tol_rel and
   cos >= min_cos */
static int tu_compare(const char *what, const float *got, const float *want, int64_t n, int64_t row,
                      double tol_rel, double min_cos) {
    double maxabs = 0, scale = 0, worst_cos = 1;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= maxabs)) maxabs = d;          /* NaN propagates */
        if (fabs(want[i]) > scale) scale = fabs(want[i]);
    }
    if (row <= 0) row = n;
    for (int64_t r = 0; r + row <= n; r += row) {
        double dot = 0, a = 0, b = 0;
        for (int64_t i = r; i < r + row; i++) { dot += (double)got[i] * want[i]; a += (double)got[i] * got[i]; b += (double)want[i] * want[i]; }
        double c = (a == 0 && b == 0) ? 1 : dot / sqrt(a * b + 1e-300);
        if (!(c >= worst_cos)) worst_cos = c;
    }
    double rel = maxabs / (scale > 0 ? scale : 1);
    char line[256];
    snprintf(line, sizeof line, "%s: max_abs %.3g rel %.3g cos %.8f", what, maxabs, rel, worst_cos);
    return tu_check(rel <= tol_rel && worst_cos >= min_cos, line);
}

#ifdef COOP_H_API
/* bf16 compute of an image tower (coop_model_set_bf16): features against the fp32 reference
   `want` within bf16 rounding (rel 3e-2, cosine 0.999, as for bf16 weight files), 1 and 2
   threads bit-identical, and switching back gives fp32 results again. Skipped (printed) on
   CPUs without AVX-512 BF16. */
static void tu_bf16_image(coop_model *m, coop_pool *p1, coop_pool *p2, const float *px, int n, int E,
                          const float *want, const char *what) {
    char line[160];
    if (coop_model_set_bf16(m, 1)) { printf("  %s: %s, skipped\n", what, coop_last_error()); return; }
    float *a = (float *)calloc((size_t)n * E, sizeof(float)), *b = (float *)calloc((size_t)n * E, sizeof(float));
    int ok = coop_encode_image(m, p2, px, n, a) == 0 && coop_encode_image(m, p1, px, n, b) == 0;
    snprintf(line, sizeof line, "%s, bf16 compute: encodes", what);
    if (tu_check(ok, line)) {
        snprintf(line, sizeof line, "%s, bf16 compute vs fp32 reference", what);
        tu_compare(line, a, want, (int64_t)n * E, E, 3e-2, 0.999);
        snprintf(line, sizeof line, "%s, bf16 compute: 1 and 2 threads bit-identical", what);
        tu_check(!memcmp(a, b, sizeof(float) * (size_t)n * E), line);
    }
    coop_model_set_bf16(m, 0);
    ok = coop_encode_image(m, p2, px, n, a) == 0;
    snprintf(line, sizeof line, "%s, bf16 off again: fp32 features", what);
    if (tu_check(ok, line)) tu_compare(line, a, want, (int64_t)n * E, E, 1e-4, 0.99999);
    free(a); free(b);
}
#endif

/* closing line, counted by CI; returns the exit code */
static int tu_done(const char *name) {
    printf("%s: %d passed, %d failed\n", name, tu_checks - tu_failures, tu_failures);
    return tu_failures != 0;
}

#ifdef COOP_COOP_API
/* central differences of the trainer's loss on 8 context coordinates against its analytic
   gradient (scale: the context is multiplied by it first, so the loss is not flat there);
   one printed line, tolerance 2e-3 relative */
static void tu_trainer_fd(coop_trainer *t, const float *img, const int *labels, int B, float scale, const char *name) {
    int nd;
    int64_t sh[3];
    float *ctx = coop_trainer_ctx(t, &nd, sh);
    int64_t nctx = nd == 3 ? sh[0] * sh[1] * sh[2] : sh[0] * sh[1];
    for (int64_t i = 0; i < nctx; i++) ctx[i] *= scale;
    float loss, *grad = (float *)calloc((size_t)nctx, sizeof(float)), num[8], ana[8];
    if (coop_trainer_loss(t, img, labels, B, &loss, grad, NULL)) printf("    %s\n", coop_last_error());
    const float h = 1e-2f;
    for (int k = 0; k < 8; k++) {
        int64_t i = (k * 7919 + 13) % nctx;
        float save = ctx[i], lp, lm;
        ctx[i] = save + h; coop_trainer_loss(t, img, labels, B, &lp, NULL, NULL);
        ctx[i] = save - h; coop_trainer_loss(t, img, labels, B, &lm, NULL, NULL);
        ctx[i] = save;
        num[k] = (float)(((double)lp - lm) / ((double)(save + h) - (double)(save - h)));
        ana[k] = grad[i];
    }
    char what[160];
    snprintf(what, sizeof what, "%s: finite differences vs analytic gradient (8 coords, h=%g)", name, h);
    tu_compare(what, ana, num, 8, 0, 2e-3, 0.9999);
    free(grad);
}
#endif
