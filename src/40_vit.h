/* ===================================================================================== */
/* ViT image tower (OpenCLIP / OpenAI VisionTransformer)                                  */
/* ===================================================================================== */
/* pixels [n, 3, S, S] -> patches (conv1 without bias, as one gemm over unfolded patches)
   -> [class token; patches] + positional embedding -> ln_pre -> pre-LN blocks -> ln_post of
   the class token -> @ proj [W, E]. The class token is all that is read, so the last block
   runs its out-projection and MLP on that row only (exact: no other row feeds it after the
   last attention). Work buffers live with the model and are reused across calls. */

typedef struct {
    int W, L, H, F, P, G, S, E, act;
    float eps;
    const float *conv, *cls, *pos, *lnpre_w, *lnpre_b, *lnpost_w, *lnpost_b, *proj;
    tw_block *blocks;
    coop_arena work;
    int chunk;                      /* images per pass (bounds the work memory) */
} vit_state;

static void vit_state_free(void *ptr) {
    vit_state *v = (vit_state *)ptr;
    if (!v) return;
    coop_arena_free(&v->work);
    free(v->blocks);
    free(v);
}

static vit_state *vit_state_get(coop_model *m) {
    vit_state *v = (vit_state *)coop_model_slot(m, COOP_SLOT_VISION);
    if (v) return v;
    const coop_config *c = coop_model_config(m);
    v = (vit_state *)calloc(1, sizeof *v);
    if (!v) { coop_set_error("out of memory"); return NULL; }
    v->W = c->vision_width; v->L = c->vision_layers; v->H = c->vision_heads; v->F = c->vision_mlp;
    v->P = c->vision_patch; v->S = c->image_size; v->G = v->S / v->P; v->E = c->embed_dim;
    v->act = c->vision_act; v->eps = c->ln_eps;
    int64_t conv[4] = {v->W, 3, v->P, v->P}, w1[1] = {v->W}, pos[2] = {(int64_t)v->G * v->G + 1, v->W}, proj[2] = {v->W, v->E};
    v->blocks = (tw_block *)calloc((size_t)v->L, sizeof(tw_block));
    int ok = v->blocks && (v->conv = coop_model_f32(m, "visual.conv1.weight", 4, conv)) &&
             (v->cls = coop_model_f32(m, "visual.class_embedding", 1, w1)) &&
             (v->pos = coop_model_f32(m, "visual.positional_embedding", 2, pos)) &&
             (v->lnpre_w = coop_model_f32(m, "visual.ln_pre.weight", 1, w1)) &&
             (v->lnpre_b = coop_model_f32(m, "visual.ln_pre.bias", 1, w1)) &&
             (v->lnpost_w = coop_model_f32(m, "visual.ln_post.weight", 1, w1)) &&
             (v->lnpost_b = coop_model_f32(m, "visual.ln_post.bias", 1, w1)) &&
             (v->proj = coop_model_f32(m, "visual.proj", 2, proj));
    for (int i = 0; ok && i < v->L; i++) ok = !tw_block_load(m, "visual.transformer", i, v->W, v->F, &v->blocks[i]);
    if (!ok) { vit_state_free(v); return NULL; }
    /* chunk so that the MLP activations of a pass stay around 64 MB */
    int T = v->G * v->G + 1;
    v->chunk = (int)((16u << 20) / ((size_t)T * (v->F > v->W * 3 ? v->F : v->W * 3)));
    if (v->chunk < 1) v->chunk = 1;
    if (v->chunk > 64) v->chunk = 64;
    coop_model_set_slot(m, COOP_SLOT_VISION, v, vit_state_free);
    return v;
}

typedef struct { const vit_state *v; const float *px; float *patches; int n; } vit_unfold_job;

/* patches: [n*G*G, 3*P*P], in conv1's weight order (c, ky, kx) */
static void vit_unfold_task(void *ctx, int t, int nt) {
    const vit_unfold_job *j = (const vit_unfold_job *)ctx;
    const vit_state *v = j->v;
    int G = v->G, P = v->P, S = v->S, K = 3 * P * P;
    for (int r = t; r < j->n * G * G; r += nt) {
        int b = r / (G * G), gy = (r / G) % G, gx = r % G;
        float *dst = j->patches + (size_t)r * K;
        for (int c = 0; c < 3; c++)
            for (int ky = 0; ky < P; ky++)
                memcpy(dst + (c * P + ky) * P, j->px + (((size_t)b * 3 + c) * S + gy * P + ky) * S + gx * P, sizeof(float) * P);
    }
}

int coop_vit_encode(coop_model *m, coop_pool *p, const float *pixels, int n, float *out) {
    if (n <= 0) return 0;
    vit_state *v = vit_state_get(m);
    if (!v) return -1;
    int W = v->W, G = v->G, T = G * G + 1, K = 3 * v->P * v->P, E = v->E, B = v->chunk;
    size_t R = (size_t)B * T;
    /* work: patches, two residual buffers, scratch of one block */
    size_t need = 0;
#define VIT_SZ(count) (need += (((size_t)(count) * sizeof(float)) + 63) & ~(size_t)63)
    VIT_SZ((size_t)B * G * G * K); VIT_SZ(R * W); VIT_SZ(R * W); VIT_SZ(R * W); VIT_SZ(R * 3 * W);
    VIT_SZ(R * W); VIT_SZ(R * W); VIT_SZ(R * (size_t)v->F); VIT_SZ(R); VIT_SZ(R);
    VIT_SZ((size_t)B * v->H * T * T); VIT_SZ(4 * (size_t)B); VIT_SZ(B * sizeof(tw_seq) / sizeof(float) + 1);
#undef VIT_SZ
    coop_arena_reset(&v->work);
    if (coop_arena_reserve(&v->work, need)) return -1;
    coop_arena *a = &v->work;
    float *patches = (float *)coop_arena_alloc(a, (size_t)B * G * G * K * 4);
    float *X = (float *)coop_arena_alloc(a, R * W * 4), *Y = (float *)coop_arena_alloc(a, R * W * 4);
    tw_scratch s;
    s.h = (float *)coop_arena_alloc(a, R * W * 4);
    s.qkv = (float *)coop_arena_alloc(a, R * 3 * W * 4);
    s.a = (float *)coop_arena_alloc(a, R * W * 4);
    s.xmid = (float *)coop_arena_alloc(a, R * W * 4);
    s.u = (float *)coop_arena_alloc(a, R * (size_t)v->F * 4);
    s.mean = (float *)coop_arena_alloc(a, R * 4);
    s.rstd = (float *)coop_arena_alloc(a, R * 4);
    s.P = (float *)coop_arena_alloc(a, (size_t)B * v->H * T * T * 4);
    s.poff = (size_t *)coop_arena_alloc(a, 2 * (size_t)B * sizeof(size_t));
    tw_seq *seqs = (tw_seq *)coop_arena_alloc(a, B * sizeof(tw_seq) + 4);
    if (!seqs) return -1;
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        vit_unfold_job uj = {v, pixels + (size_t)i0 * 3 * v->S * v->S, patches, nb};
        coop_pool_run(p, coop_pool_threads(p) * 4, vit_unfold_task, &uj);
        /* patch embeddings go straight into rows 1..G*G of each image: a strided gemm per image */
        for (int b = 0; b < nb; b++) {
            float *xb = X + (size_t)b * T * W;
            coop_gemm(p, 1, G * G, W, K, patches + (size_t)b * G * G * K, K, v->conv, K, NULL, 0.0f, xb + W, W);
            memcpy(xb, v->cls, sizeof(float) * W);
            for (size_t i = 0; i < (size_t)T * W; i++) xb[i] += v->pos[i];
        }
        int Rb = nb * T;
        layernorm_forward(X, NULL, NULL, X, v->lnpre_w, v->lnpre_b, Rb, W, v->eps);
        for (int l = 0; l < v->L; l++) {
            int last = l == v->L - 1;
            for (int b = 0; b < nb; b++) {
                tw_seq q = {b * T, T, 0, 0, last ? 1 : T, last ? b : b * T};
                seqs[b] = q;
            }
            tw_dims d = tw_plan(seqs, nb, Rb, W, v->H, v->F);
            tw_block_forward(p, &v->blocks[l], &d, v->act, v->eps, 0, seqs, nb, X, Y, &s, NULL);
            float *t = X; X = Y; Y = t;
        }
        /* X: [nb, W] class rows */
        layernorm_forward(s.h, NULL, NULL, X, v->lnpost_w, v->lnpost_b, nb, W, v->eps);
        coop_gemm(p, 0, nb, E, W, s.h, W, v->proj, E, NULL, 0.0f, out + (size_t)i0 * E, E);
    }
    return 0;
}
