/* ModifiedResNet image tower against the PyTorch reference (tests/ref/ref_resnet.py):
   tiny RN (width 6, layers 1 2 1 1, 64x64, 2 heads, embed 32) whose BatchNorms have running
   statistics far from 0/1. Checks: BN folded by the converter (f32), BN folded at load (f32),
   f16 and bf16 files (expectations computed with the rounded weights), chunked batches, thread
   counts, and the errors for missing or mis-shaped tensors. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/testutil.h"

#define DIR "tests/fixtures/resnet/"

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

int main(void) {
    coop_pool *pool = coop_pool_create(2);
    (void)tu_load_i32;
    printf("test_resnet (gemm kernel %s)\n", coop_gemm_kernel_name());
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", pool, 0, "f32 folded, 2 threads");
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", NULL, 2, "f32 folded, serial, chunks of 2");
    rn_conv_tiled = 0;   /* 3x3 convs through one full im2col + threaded gemm (big layers' path) */
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", pool, 0, "f32 folded, untiled im2col");
    rn_weights_kn = 0;   /* weights in PyTorch's [N, K] layout, 1x1 convs used in place */
    check_file(DIR "rn_f32.coop", DIR "want_f32.npy", pool, 0, "f32 folded, untiled, [N,K] weights");
    check_file(DIR "rn_unfolded.coop", DIR "want_unfolded.npy", pool, 0, "f32 BN folded at load, untiled, [N,K]");
    rn_conv_tiled = 1; rn_weights_kn = 1;
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
    coop_pool_free(pool);
    return tu_done("test_resnet");
}
