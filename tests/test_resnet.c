/* ModifiedResNet image tower against the PyTorch reference (tests/ref/ref_resnet.py):
   tiny RN (width 6, layers 1 2 1 1, 64x64, 2 heads, embed 32) whose BatchNorms have running
   statistics far from 0/1. Checks: BN folded by the converter (f32), BN folded at load (f32),
   f16 and bf16 files (expectations computed with the rounded weights), chunked batches, thread
   counts, and the errors for missing or mis-shaped tensors.
   Then CoOp on an RN CLIP (tests/ref/ref_coop_rn.py): pixels -> RN tower -> image features ->
   CoOp loss, d loss / d ctx and a 10-step SGD trajectory, end to end from the C features. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/testutil.h"

#define DIR "tests/fixtures/resnet/"
#define CDIR "tests/fixtures/coop_rn/"

/* encodes the fixture pixels with model `file` and compares with `want` */
static void check_file(const char *file, const char *want_file, coop_pool *pool, int chunk, const char *what) {
    int64_t np, nw, sh[8];
    float *pix = tu_load_f32(DIR "pixels.npy", &np, sh, NULL);
    int n = (int)sh[0];
    float *want = tu_load_f32(want_file, &nw, sh, NULL);
    int E = (int)sh[1];
    coop_model *m = coop_model_load(file);
    if (!tu_check(m != NULL, file)) { printf("    %s\n", coop_last_error()); coop_free(pix); coop_free(want); return; }
    float *out = (float *)calloc((size_t)n * E, sizeof(float));
    rn_force_chunk = chunk;
    int rc = coop_encode_image(m, pool, pix, n, out);
    rn_force_chunk = 0;
    char line[160];
    snprintf(line, sizeof line, "%s: encode", what);
    if (tu_check(rc == 0, line)) {
        snprintf(line, sizeof line, "%s", what);
        tu_compare(line, out, want, (int64_t)n * E, E, 1e-4, 0.99999);
        /* a second call reuses the workspace and must give the same bits */
        float *again = (float *)calloc((size_t)n * E, sizeof(float));
        coop_encode_image(m, pool, pix, n, again);
        snprintf(line, sizeof line, "%s: second call identical", what);
        tu_check(memcmp(again, out, (size_t)n * E * sizeof(float)) == 0, line);
        free(again);
    } else {
        printf("    %s\n", coop_last_error());
    }
    coop_model_free(m);
    free(out); coop_free(pix); coop_free(want);
}

/* copies the f32 fixture model, dropping tensor `drop` or changing its first dim; the loader
   must fail with a message naming the tensor */
static void check_bad_tensor(const char *file, const char *drop, int misshape) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "/tmp/coop_test_resnet_%d.coop", (int)getpid());
    coop_model *src = coop_model_load(file);
    if (!tu_check(src != NULL, "load fixture for error checks")) return;
    const coop_config *c = coop_model_config(src);
    char cfg[4096];
    coop_config_format(c, cfg, sizeof cfg);
    coop_model_writer *w = coop_model_writer_open(tmp, cfg, NULL, 0, coop_model_tensor_count(src));
    for (int i = 0; w && i < coop_model_tensor_count(src); i++) {
        const coop_tensor *t = coop_model_tensor_at(src, i);
        int64_t shape[4];
        memcpy(shape, t->shape, sizeof shape);
        if (!strcmp(t->name, drop)) {
            if (!misshape) continue;
            shape[0] -= 1;              /* the data of the smaller shape is a prefix */
        }
        coop_model_writer_add(w, t->name, COOP_F32, t->ndim, shape, t->f32);
    }
    coop_model_writer_close(w);
    coop_model_free(src);
    coop_model *m = coop_model_load(tmp);
    char line[800];
    if (!m) { snprintf(line, sizeof line, "bad file loads (%s)", coop_last_error()); tu_check(0, line); return; }
    float pix[3 * 64 * 64] = {0}, out[64];
    coop_set_error("none");
    int rc = coop_encode_image(m, NULL, pix, 1, out);
    const char *err = coop_last_error();
    snprintf(line, sizeof line, "%s '%s' -> error naming it", misshape ? "mis-shaped" : "missing", drop);
    tu_check(rc == -1 && strstr(err, drop) != NULL, line);
    printf("    error: %s\n", err);
    coop_model_free(m);
    remove(tmp);
}

/* ---- CoOp through the RN tower ------------------------------------------------------------ */
/* rn_clip.coop: RN layers 1 2 1 1, width 4, 64x64, BN folded; CLIP text tower width 8, 2 layers,
   QuickGELU; embed 16. Image features come from coop_encode_image (not from feat.npy), so the
   loss, gradient and trajectory checks cover pixels -> RN -> CoOp -> d ctx. */
static void check_coop_case(coop_model *m, coop_pool *pool, char **cls, int ncls, const char *name,
                            int n_ctx, int csc, const float *img, const int *labels, int B) {
    char path[256], what[160];
    coop_trainer_opts o;
    coop_trainer_opts_default(&o);
    o.n_ctx = n_ctx; o.csc = csc; o.ctp = COOP_CTP_END;
    o.momentum = 0.9f; o.weight_decay = 5e-4f;
    coop_trainer *t = coop_trainer_new(m, pool, (const char *const *)cls, ncls, &o);
    snprintf(what, sizeof what, "coop rn %s: trainer built", name);
    if (!tu_check(t != NULL, what)) { printf("    %s\n", coop_last_error()); return; }
    const int L = coop_model_config(m)->context_length;
    int nd;
    int64_t sh[3], n;
    float *ctx = coop_trainer_ctx(t, &nd, sh);
    int64_t nctx = nd == 3 ? sh[0] * sh[1] * sh[2] : sh[0] * sh[1], D = sh[nd - 1];
    snprintf(path, sizeof path, CDIR "%s_init.npy", name);
    int rc = coop_trainer_load_ctx(t, path);
    snprintf(what, sizeof what, "coop rn %s: reference initial ctx loaded (%lld values)", name, (long long)nctx);
    if (!tu_check(rc == 0, what)) { printf("    %s\n", coop_last_error()); coop_trainer_free(t); return; }
    const int32_t *ids;
    coop_trainer_prompts(t, &ids, NULL, NULL);
    snprintf(path, sizeof path, CDIR "%s_ids.npy", name);
    int32_t *wid = tu_load_i32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "coop rn %s: prompt token ids equal (%d x %d)", name, ncls, L);
    tu_check(n == (int64_t)ncls * L && !memcmp(ids, wid, sizeof(int32_t) * (size_t)n), what);
    coop_free(wid);
    /* step 0: loss and d loss / d ctx */
    float loss = 0, *grad = (float *)calloc((size_t)nctx, sizeof(float));
    snprintf(path, sizeof path, CDIR "%s_loss.npy", name);
    float *wl = tu_load_f32(path, &n, NULL, NULL);
    if (coop_trainer_loss(t, img, labels, B, &loss, grad, NULL)) printf("    %s\n", coop_last_error());
    snprintf(what, sizeof what, "coop rn %s: step-0 loss %.6f (ref %.6f)", name, loss, wl[0]);
    tu_compare(what, &loss, wl, 1, 1, 1e-5, 0);
    snprintf(path, sizeof path, CDIR "%s_grad.npy", name);
    float *wg = tu_load_f32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "coop rn %s: d loss / d ctx [%lld values]", name, (long long)nctx);
    tu_compare(what, grad, wg, nctx, D, 1e-4, 0.99999);
    coop_free(wg);
    /* 10 full-batch SGD steps: lr 0.002 constant, momentum 0.9, weight decay 5e-4 */
    float got[11];
    for (int s = 0; s < 10; s++)
        if (coop_trainer_step(t, img, labels, B, 0.002f, &got[s], NULL)) printf("    %s\n", coop_last_error());
    coop_trainer_loss(t, img, labels, B, &got[10], NULL, NULL);
    snprintf(what, sizeof what, "coop rn %s: 10-step loss trajectory (%.4f -> %.4f)", name, got[0], got[10]);
    tu_compare(what, got, wl, 11, 0, 1e-4, 0);
    snprintf(path, sizeof path, CDIR "%s_ctx10.npy", name);
    float *wc = tu_load_f32(path, &n, NULL, NULL);
    snprintf(what, sizeof what, "coop rn %s: ctx after 10 steps", name);
    tu_compare(what, ctx, wc, nctx, D, 1e-4, 0.99999);
    coop_free(wc); coop_free(wl); free(grad);
    coop_trainer_free(t);
}

static void check_coop_rn(coop_pool *pool) {
    coop_model *m = coop_model_load(CDIR "rn_clip.coop");
    if (!tu_check(m != NULL, "coop rn: rn_clip.coop (RN + CLIP text) loads")) { printf("    %s\n", coop_last_error()); return; }
    int64_t n, sh[8];
    float *pix = tu_load_f32(CDIR "pixels.npy", &n, sh, NULL), *want = tu_load_f32(CDIR "feat.npy", &n, NULL, NULL);
    const int B = (int)sh[0], E = coop_model_config(m)->embed_dim;
    int32_t *lab32 = tu_load_i32(CDIR "labels.npy", &n, NULL, NULL);
    float *img = (float *)calloc((size_t)B * E, sizeof(float));
    int *labels = (int *)malloc(sizeof(int) * (size_t)B);
    for (int b = 0; b < B && b < n; b++) labels[b] = lab32[b];
    /* class names, one per line */
    size_t len;
    char *text = coop_read_file(CDIR "classnames.txt", &len), *cls[16];
    int ncls = 0;
    for (char *s = text ? strtok(text, "\n") : NULL; s && ncls < 16; s = strtok(NULL, "\n")) cls[ncls++] = s;
    char line[160];
    snprintf(line, sizeof line, "coop rn: %d images, %d classes", B, ncls);
    tu_check(n == B && ncls >= 2, line);
    int rc = coop_encode_image(m, pool, pix, B, img);
    if (tu_check(rc == 0, "coop rn: encode pixels through the RN tower")) {
        snprintf(line, sizeof line, "coop rn: image features [%d, %d] vs PyTorch", B, E);
        tu_compare(line, img, want, (int64_t)B * E, E, 1e-4, 0.99999);
        check_coop_case(m, pool, cls, ncls, "shared_end", 16, 0, img, labels, B);
        check_coop_case(m, pool, cls, ncls, "csc_end", 4, 1, img, labels, B);
    } else {
        printf("    %s\n", coop_last_error());
    }
    coop_free(text); free(img); free(labels);
    coop_free(pix); coop_free(want); coop_free(lab32);
    coop_model_free(m);
}

/* one model, encoded, then the matmul kernel changes and it is encoded again */
static void check_kernel_switch(coop_pool *pool) {
    int64_t np, nw, sh[8];
    float *pix = tu_load_f32(DIR "pixels.npy", &np, sh, NULL);
    int n = (int)sh[0];
    float *want = tu_load_f32(DIR "want_f32.npy", &nw, sh, NULL);
    int E = (int)sh[1];
    coop_model *m = coop_model_load(DIR "rn_f32.coop");
    float *out = (float *)calloc((size_t)n * E, sizeof(float));
    int ok = m && coop_encode_image(m, pool, pix, n, out) == 0;
    const char *other = strcmp(coop_gemm_kernel_name(), "portable") ? "portable" : "avx2";
    coop_gemm_force_kernel(other);
    ok = ok && coop_encode_image(m, pool, pix, n, out) == 0;
    char line[96];
    snprintf(line, sizeof line, "same model, kernel switched to %s between calls", coop_gemm_kernel_name());
    coop_gemm_force_kernel(NULL);
    if (tu_check(ok, line)) tu_compare(line, out, want, (int64_t)n * E, E, 1e-4, 0.99999);
    free(out); coop_free(pix); coop_free(want); coop_model_free(m);
}

int main(void) {
    coop_pool *pool = coop_pool_create(2);
    printf("test_resnet (gemm kernel %s)\n", coop_gemm_kernel_name());
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", pool, 0, "f32 folded, 2 threads");
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", NULL, 2, "f32 folded, serial, chunks of 2");
    rn_conv_tiled = 0;   /* 3x3 convs through one full im2col + threaded gemm (big layers' path) */
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", pool, 0, "f32 folded, untiled im2col");
    check_file(DIR "rn_unfolded.coop", DIR "want_unfolded.npy", pool, 0, "f32 BN folded at load, untiled");
    rn_conv_tiled = 1;
    /* every matmul kernel (weights packed for it), and a kernel switch between two calls on
       one model (the weights are repacked) */
    static const char *kern[] = {"avx2", "portable"};
    for (int i = 0; i < 2; i++) {
        coop_gemm_force_kernel(kern[i]);
        if (strcmp(coop_gemm_kernel_name(), kern[i])) { printf("  kernel %s: not on this CPU, skipped\n", kern[i]); continue; }
        char what[64];
        snprintf(what, sizeof what, "f32 folded, %s kernel", kern[i]);
        check_file(DIR "rn_f32.coop", DIR "want_f32.npy", pool, 0, what);
    }
    coop_gemm_force_kernel(NULL);
    check_kernel_switch(pool);
    {
        int64_t np, nw, sh[8];
        float *pix = tu_load_f32(DIR "pixels.npy", &np, sh, NULL);
        int n = (int)sh[0];
        float *want = tu_load_f32(DIR "want_f32.npy", &nw, sh, NULL);
        coop_model *m = coop_model_load(DIR "rn_f32.coop");
        coop_pool *p1 = coop_pool_create(1);
        if (tu_check(m != NULL, "rn_f32.coop loads")) tu_bf16_image(m, p1, pool, pix, n, (int)sh[1], want, "RN");
        coop_pool_free(p1); coop_model_free(m); coop_free(pix); coop_free(want);
    }
    check_file(DIR "rn_unfolded.coop", DIR "want_unfolded.npy", pool, 0, "f32 BN folded at load");
    check_file(DIR "rn_unfolded.coop", DIR "want_unfolded.npy", pool, 1, "f32 BN folded at load, chunks of 1");
    check_file(DIR "rn_f16.coop", DIR "want_f16.npy", pool, 0, "f16 folded");
    check_file(DIR "rn_bf16.coop", DIR "want_bf16.npy", pool, 0, "bf16 folded");
    check_bad_tensor(DIR "rn_f32.coop", "visual.layer2.0.conv2.weight", 0);
    check_bad_tensor(DIR "rn_f32.coop", "visual.layer3.0.downsample.0.bias", 0);
    check_bad_tensor(DIR "rn_f32.coop", "visual.attnpool.positional_embedding", 1);
    check_bad_tensor(DIR "rn_f32.coop", "visual.layer4.0.conv3.weight", 1);
    check_bad_tensor(DIR "rn_unfolded.coop", "visual.layer1.0.bn2.running_var", 0);
    check_bad_tensor(DIR "rn_unfolded.coop", "visual.bn1.weight", 1);
    check_coop_rn(pool);
    coop_pool_free(pool);
    return tu_done("test_resnet");
}
