/* ViT image tower and CLIP text tower against the PyTorch reference (tests/ref/ref_clip.py):
   embeddings, the CoOp path from input embeddings with its shortcuts, its backward, a
   finite-difference check, bf16 weights, threads. Run from the repository root. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "tests/testutil.h"

#define FIX "tests/fixtures/clip/"

static double loss_of(coop_model *m, coop_pool *p, const float *x, const int *eot, int n, int T, int ns,
                      const float *dout, float *out, int E) {
    if (coop_text_forward_embeds(m, p, x, eot, n, T, ns, out, NULL)) return NAN;
    double s = 0;
    for (int i = 0; i < n * E; i++) s += (double)out[i] * dout[i];
    return s;
}

int main(void) {
    printf("test_vit_text\n");
    coop_model *m = coop_model_load(FIX "tiny.coop");
    if (!tu_check(m != NULL, "tiny.coop loads")) { printf("%s\n", coop_last_error()); return 1; }
    const coop_config *c = coop_model_config(m);
    int E = c->embed_dim, D = c->text_width;
    coop_pool *p2 = coop_pool_create(2), *p1 = coop_pool_create(1);

    /* ---- image tower ---- */
    int64_t sh[8], n;
    float *px = tu_load_f32(FIX "pixels.npy", &n, sh, NULL), *want_img = tu_load_f32(FIX "image.npy", NULL, NULL, NULL);
    int ni = (int)sh[0];
    float *img = (float *)malloc(sizeof(float) * ni * E), *img1 = (float *)malloc(sizeof(float) * ni * E);
    tu_check(coop_encode_image(m, p2, px, ni, img) == 0, "encode_image runs");
    tu_compare("ViT image features (fp32)", img, want_img, (int64_t)ni * E, E, 1e-4, 0.99999);
    coop_encode_image(m, p1, px, ni, img1);
    tu_compare("ViT 1 thread vs 2 threads", img1, img, (int64_t)ni * E, E, 1e-5, 0.9999999);
    coop_encode_image(m, p2, px, ni, img1);
    tu_check(!memcmp(img, img1, sizeof(float) * ni * E), "ViT same threads twice: bit-identical");
    /* one image at a time gives the same as a batch */
    for (int i = 0; i < ni; i++) coop_encode_image(m, p2, px + (size_t)i * 3 * 32 * 32, 1, img1 + (size_t)i * E);
    tu_compare("ViT one by one vs batch", img1, img, (int64_t)ni * E, E, 1e-5, 0.9999999);
    tu_bf16_image(m, p1, p2, px, ni, E, want_img, "ViT");

    /* ---- text tower from ids ---- */
    int32_t *ids = tu_load_i32(FIX "ids.npy", NULL, sh, NULL);
    float *want_txt = tu_load_f32(FIX "text.npy", NULL, NULL, NULL);
    int nt = (int)sh[0];
    float *txt = (float *)malloc(sizeof(float) * nt * E);
    tu_check(coop_encode_text(m, p2, ids, nt, txt) == 0, "encode_text runs");
    tu_compare("text features from ids (fp32, EOT-truncated)", txt, want_txt, (int64_t)nt * E, E, 1e-4, 0.99999);
    int32_t keep = ids[5];
    ids[5] = 49408;
    tu_check(coop_encode_text(m, p2, ids, 1, txt) != 0 && strstr(coop_last_error(), "outside the vocabulary"),
             "token id outside the vocabulary is an error");
    ids[5] = keep;

    /* ---- CoOp path: embeds in, shared prefix, backward ---- */
    float *x = tu_load_f32(FIX "emb_x.npy", NULL, sh, NULL), *want_out = tu_load_f32(FIX "emb_out.npy", NULL, NULL, NULL);
    float *dout = tu_load_f32(FIX "emb_dout.npy", NULL, NULL, NULL), *want_dx = tu_load_f32(FIX "emb_dx.npy", NULL, NULL, NULL);
    int32_t *eot32 = tu_load_i32(FIX "emb_eot.npy", NULL, NULL, NULL);
    int ne = (int)sh[0], T = (int)sh[1], P = 5, eot[16];
    for (int i = 0; i < ne; i++) eot[i] = eot32[i];
    float *out0 = (float *)malloc(sizeof(float) * ne * E), *out5 = (float *)malloc(sizeof(float) * ne * E);
    float *dx0 = (float *)malloc(sizeof(float) * ne * T * D), *dx5 = (float *)malloc(sizeof(float) * ne * T * D);
    coop_text_cache *cache = coop_text_cache_new();
    tu_check(coop_text_forward_embeds(m, p2, x, eot, ne, T, 0, out0, cache) == 0, "forward_embeds (no sharing) runs");
    tu_compare("embeds -> features vs full 77-position reference", out0, want_out, (int64_t)ne * E, E, 1e-4, 0.99999);
    tu_check(coop_text_backward_embeds(m, p2, cache, dout, dx0) == 0, "backward_embeds runs");
    tu_compare("d features / d embeds vs autograd", dx0, want_dx, (int64_t)ne * T * D, 0, 1e-4, 0.99999);
    tu_check(coop_text_forward_embeds(m, p2, x, eot, ne, T, P, out5, cache) == 0, "forward_embeds (shared prefix 5) runs");
    tu_compare("shared prefix == no sharing (features)", out5, out0, (int64_t)ne * E, E, 1e-5, 0.9999999);
    coop_text_backward_embeds(m, p2, cache, dout, dx5);
    /* shared rows: the summed gradient sits in prompt 0's rows */
    float *want5 = (float *)malloc(sizeof(float) * ne * T * D);
    memcpy(want5, want_dx, sizeof(float) * ne * T * D);
    for (int i = 1; i < ne; i++)
        for (int k = 0; k < P * D; k++) { want5[k] += want_dx[(size_t)i * T * D + k]; want5[(size_t)i * T * D + k] = 0; }
    tu_compare("shared prefix backward vs autograd (prefix summed)", dx5, want5, (int64_t)ne * T * D, 0, 1e-4, 0.99999);

    /* ---- every matmul kernel this CPU has, and the portable C one, gives the reference ---- */
    {
        static const char *kern[] = {"avx512", "avx2", "portable"};
        float *imgk = (float *)malloc(sizeof(float) * ni * E), *outk = (float *)malloc(sizeof(float) * ne * E);
        float *dxk = (float *)malloc(sizeof(float) * ne * T * D);
        char what[96];
        for (int k = 0; k < 3; k++) {
            coop_gemm_force_kernel(kern[k]);
            if (strcmp(coop_gemm_kernel_name(), kern[k])) { printf("  (%s kernel: not on this CPU)\n", kern[k]); continue; }
            coop_encode_image(m, p2, px, ni, imgk);
            snprintf(what, sizeof what, "%s kernel: ViT image features", kern[k]);
            tu_compare(what, imgk, want_img, (int64_t)ni * E, E, 1e-4, 0.99999);
            tu_check(coop_text_forward_embeds(m, p2, x, eot, ne, T, P, outk, cache) == 0 &&
                     coop_text_backward_embeds(m, p2, cache, dout, dxk) == 0, "text forward + backward run");
            snprintf(what, sizeof what, "%s kernel: text features (shared prefix)", kern[k]);
            tu_compare(what, outk, want_out, (int64_t)ne * E, E, 1e-4, 0.99999);
            snprintf(what, sizeof what, "%s kernel: d features / d embeds", kern[k]);
            tu_compare(what, dxk, want5, (int64_t)ne * T * D, 0, 1e-4, 0.99999);
        }
        coop_gemm_force_kernel(NULL);
        free(imgk); free(outk); free(dxk);
    }

    /* ---- finite differences of L = sum(out * dout) on a few coordinates ---- */
    {
        double maxg = 0, maxerr = 0;
        for (int i = 0; i < ne * T * D; i++) if (fabs(dx0[i]) > maxg) maxg = fabs(dx0[i]);
        coop_rng r;
        coop_rng_seed(&r, 5);
        float *xp = (float *)malloc(sizeof(float) * ne * T * D), *tmp = (float *)malloc(sizeof(float) * ne * E);
        int checked = 0;
        for (int k = 0; k < 24; k++) {
            int b = coop_rng_below(&r, ne), q = coop_rng_below(&r, eot[b] + 1), d = coop_rng_below(&r, D);
            size_t at = ((size_t)b * T + q) * D + d;
            const float h = 1e-3f;
            memcpy(xp, x, sizeof(float) * ne * T * D);
            xp[at] = x[at] + h;
            double lp = loss_of(m, p2, xp, eot, ne, T, 0, dout, tmp, E);
            xp[at] = x[at] - h;
            double lm = loss_of(m, p2, xp, eot, ne, T, 0, dout, tmp, E);
            double fd = (lp - lm) / (2.0 * (double)h), err = fabs(fd - dx0[at]);
            if (err > maxerr) maxerr = err;
            checked++;
        }
        char line[160];
        snprintf(line, sizeof line, "finite differences (%d coords, h=1e-3): max err %.3g of max |g| %.3g", checked, maxerr, maxg);
        tu_check(maxerr <= 1e-3 * maxg, line);
        free(xp); free(tmp);
    }

    /* ---- bf16 weights: within the rounding of the weights ---- */
    coop_model *mb = coop_model_load(FIX "tiny_bf16.coop");
    if (tu_check(mb != NULL, "tiny_bf16.coop loads")) {
        coop_encode_image(mb, p2, px, ni, img1);
        tu_compare("ViT with bf16 weights vs fp32 reference", img1, want_img, (int64_t)ni * E, E, 3e-2, 0.999);
        coop_encode_text(mb, p2, ids, nt, txt);
        tu_compare("text with bf16 weights vs fp32 reference", txt, want_txt, (int64_t)nt * E, E, 3e-2, 0.999);
        coop_model_free(mb);
    }

    free(img); free(img1); free(txt); free(out0); free(out5); free(dx0); free(dx5); free(want5);
    coop_free(px); coop_free(want_img); coop_free(ids); coop_free(want_txt); coop_free(x); coop_free(want_out);
    coop_free(dout); coop_free(want_dx); coop_free(eot32);
    coop_text_cache_free(cache);
    coop_pool_free(p1); coop_pool_free(p2);
    coop_model_free(m);
    return tu_done("test_vit_text");
}
