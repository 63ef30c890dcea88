/* ===================================================================================== */
/* ModifiedResNet image tower (CLIP RN50, RN101, RN50x4, RN50x16, RN50x64)                */
/* ===================================================================================== */
/* Architecture (OpenAI CLIP / open_clip modified_resnet.py), w = vision_width:
     stem    conv1 3x3 stride 2 pad 1 (3 -> w/2), conv2 3x3 pad 1 (w/2 -> w/2),
             conv3 3x3 pad 1 (w/2 -> w), each BN + ReLU, then AvgPool2d(2)       -> S/4
     layers  resnet_layers[l] Bottleneck blocks with planes w, 2w, 4w, 8w; the first block of
             layers 2..4 has stride 2 (anti-aliased: AvgPool2d after the 3x3 conv instead of a
             strided conv). Block: conv1 1x1 + BN + ReLU, conv2 3x3 pad 1 + BN + ReLU,
             AvgPool2d(stride), conv3 1x1 + BN (-> 4 planes); identity, or when stride > 1 or
             inplanes != 4 planes: AvgPool2d(stride) -> conv 1x1 -> BN; out = ReLU(out + identity)
     head    attention pooling over the S/32 x S/32 grid (C = 32 w channels): tokens [HW, C],
             the mean token prepended, + positional_embedding [HW+1, C], one multi-head attention
             (vision_heads heads, q/k/v_proj Linear C -> C) of which only the mean token's output
             is used, then c_proj (C -> embed_dim).
   BatchNorm is inference-only, so it is folded into the preceding convolution:
     W' = W * g / sqrt(var + eps), b' = beta - mean * g / sqrt(var + eps)      (eps = 1e-5)
   either by the converter (bn_folded 1: tensors `<conv>.bias`) or here at load time
   (bn_folded 0: tensors `<bn>.{weight,bias,running_mean,running_var}`).

   Layout: activations are NHWC ([n, H, W, C] row-major, i.e. a matrix [n*H*W, C]), so a 1x1
   convolution is one gemm with no copy: Y[M, Cout] = X[M, Cin] W + b, W [Cin, Cout]. A 3x3
   convolution gathers its patches into a column matrix COL[M, 9*Cin] (order ky, kx, c, which
   lets each tap be one contiguous copy of Cin floats) and multiplies by the weights reordered at
   load to [(ky, kx, Cin), Cout]; while the weights are small (stem, layer1, layer2) this is done
   tile by tile in per-task cache-sized buffers, so the 9x-larger column matrix never goes through
   memory. ReLU is applied while gathering or pooling, so the gemm output needs no extra pass
   except before a residual add or a stride-1 conv3 input. The residual add is the gemm's
   beta = 1 accumulation into the identity (or downsample) output.
   Images go through in chunks so the workspace (allocated once per model, reused) stays
   bounded: about COOP_RESNET_WORKSPACE_MB. */

#ifndef COOP_RESNET_WORKSPACE_MB
#define COOP_RESNET_WORKSPACE_MB 192
#endif

/* one convolution with BN folded in; w: [cout, k, k, cin] (k = 1 or 3), b: [cout] */
typedef struct { int cin, cout, k; const float *w, *b; } rn_conv;

typedef struct {
    int cin, planes, stride, has_down;
    rn_conv c1, c2, c3, down;
} rn_block;

typedef struct {
    int S, width, heads, C, E, grid;    /* C = 32 w: channels at the head; grid = S / 32 */
    rn_conv stem[3];
    rn_block *blk;
    int nblk;
    const float *pos, *qw, *qb, *kw, *kb, *vw, *vb, *cw, *cb;   /* attention pool */
    float **owned;                      /* working copies made at load (freed with the model) */
    int nowned, capowned;
    /* workspace for `chunk` images, float counts per image of each buffer role */
    size_t need[6];
    float *ws;
    int ws_chunk;
    int tiled;                          /* rn_conv_tiled when the plan was made */
    int kn;                             /* rn_weights_kn when loaded: weights stored [K, N] */
    size_t tile_floats;                 /* per-task tile buffer of the tiled 3x3 convs */
    float *tiles;
    int ntiles;
} rn_model;

enum { RN_X, RN_Y, RN_T1, RN_T2, RN_COL, RN_P };   /* workspace buffer roles */

/* tests may force a chunk size (images per pass) to exercise the chunk loop */
static int rn_force_chunk = 0;

/* 3x3 convs: tiled im2col (see rn_conv3x3) for weights up to RN_TILE_MAXW floats */
#define RN_TILE 131072          /* floats per tile buffer (512 KiB, about an L2) */
#define RN_TILE_MAXW 163840     /* weights (floats) up to which the tiled path is used */
static int rn_conv_tiled = 1;   /* tests / measurements may switch the tiled path off */
/* Weights are kept as working copies transposed to [K, N] (K = k*k*cin, N = cout; Linear:
   [in, out]) and multiplied with transb = 0: the gemm packs B into k-major column panels, which
   from [K, N] is a contiguous copy per k, but from PyTorch's [N, K] a strided gather, which
   matters when M is small (tiles, 7x7 layers, the attention pool): RN50 serial, 5-30% less CPU.
   0 keeps PyTorch's layout (1x1 convs and Linears then used in place from the file). */
static int rn_weights_kn = 1;
static int rn_tile_rows(int K) { int r = RN_TILE / K; return r < 16 ? 16 : r; }
static int rn_is_tiled(const rn_model *r, const rn_conv *cv) { return r->tiled && (size_t)9 * cv->cin * cv->cout <= RN_TILE_MAXW; }

/* workspace of a 3x3 conv over `pix` output pixels per image: whole column matrix or a tile */
static void rn_plan_conv(rn_model *r, const rn_conv *cv, size_t pix) {
    size_t K = (size_t)9 * cv->cin;
    if (rn_is_tiled(r, cv)) {
        size_t t = (size_t)rn_tile_rows((int)K) * K;
        if (t > r->tile_floats) r->tile_floats = t;
    } else if (pix * K > r->need[RN_COL]) {
        r->need[RN_COL] = pix * K;
    }
}

/* The workspace is large (tens to hundreds of MB) and first-touch page faults are expensive
   (~12 us per 4 KiB page on the target machines), so it is 2 MiB aligned and, on Linux, marked
   for transparent huge pages: 512x fewer faults on the first call. glibc's and musl's
   posix_madvise pass any advice other than DONTNEED through to madvise(2), and 14 is Linux's
   MADV_HUGEPAGE (not visible under strict _POSIX_C_SOURCE); elsewhere this is a no-op hint. */
static float *rn_ws_alloc(size_t bytes) {
    void *p = NULL;
    size_t align = bytes >= ((size_t)2 << 20) ? (size_t)2 << 20 : 64;
    bytes = (bytes + align - 1) / align * align;
    if (posix_memalign(&p, align, bytes)) { coop_set_error("resnet: out of memory (%zu MB workspace)", bytes >> 20); return NULL; }
#if defined(__linux__)
    if (align > 64) (void)posix_madvise(p, bytes, 14);
#endif
    return (float *)p;
}

static void rn_free(void *ptr) {
    rn_model *r = (rn_model *)ptr;
    if (!r) return;
    for (int i = 0; i < r->nowned; i++) free(r->owned[i]);
    free(r->owned);
    free(r->blk);
    free(r->ws);
    coop_free(r->tiles);
    free(r);
}

static float *rn_own(rn_model *r, size_t nfloats) {
    if (r->nowned == r->capowned) {
        int cap = r->capowned ? 2 * r->capowned : 64;
        float **o = (float **)realloc(r->owned, (size_t)cap * sizeof *o);
        if (!o) { coop_set_error("resnet: out of memory"); return NULL; }
        r->owned = o;
        r->capowned = cap;
    }
    float *p = rn_ws_alloc(nfloats * sizeof(float));
    if (p) r->owned[r->nowned++] = p;
    return p;
}

/* loads conv `cname` (weight [cout, cin, k, k]) with its BN `bnname` folded in.
   bn_folded 1: `cname.bias` [cout]; 0: `bnname.{weight,bias,running_mean,running_var}`.
   1x1 convs of folded files are used in place (their layout already is [cout, cin]). */
static int rn_load_conv(coop_model *m, rn_model *r, rn_conv *cv, const char *cname, const char *bnname,
                        int cin, int cout, int k) {
    char nm[128];
    int64_t ws[4] = {cout, cin, k, k}, bs[1] = {cout};
    cv->cin = cin; cv->cout = cout; cv->k = k;
    snprintf(nm, sizeof nm, "%s.weight", cname);
    const float *w = coop_model_f32(m, nm, 4, ws);
    if (!w) return -1;
    const float *bias = NULL, *g = NULL, *beta = NULL, *mean = NULL, *var = NULL;
    int folded = coop_model_config(m)->bn_folded;
    if (folded) {
        snprintf(nm, sizeof nm, "%s.bias", cname);
        if (!(bias = coop_model_f32(m, nm, 1, bs))) return -1;
    } else {
        snprintf(nm, sizeof nm, "%s.weight", bnname);
        if (!(g = coop_model_f32(m, nm, 1, bs))) return -1;
        snprintf(nm, sizeof nm, "%s.bias", bnname);
        if (!(beta = coop_model_f32(m, nm, 1, bs))) return -1;
        snprintf(nm, sizeof nm, "%s.running_mean", bnname);
        if (!(mean = coop_model_f32(m, nm, 1, bs))) return -1;
        snprintf(nm, sizeof nm, "%s.running_var", bnname);
        if (!(var = coop_model_f32(m, nm, 1, bs))) return -1;
        for (int o = 0; o < cout; o++)
            if (!(var[o] >= 0)) { coop_set_error("%s: tensor '%s' has a negative or NaN variance", coop_model_path(m), nm); return -1; }
    }
    if (folded && k == 1 && !r->kn) { cv->w = w; cv->b = bias; return 0; }
    float *wo = rn_own(r, (size_t)cout * cin * k * k), *bo = rn_own(r, (size_t)cout);
    if (!wo || !bo) return -1;
    size_t K = (size_t)k * k * cin;
    for (int o = 0; o < cout; o++) {
        double s = folded ? 1.0 : (double)g[o] / sqrt((double)var[o] + 1e-5);
        bo[o] = folded ? bias[o] : (float)((double)beta[o] - (double)mean[o] * s);
        /* [cout, cin, ky, kx] -> [cout, (ky, kx, cin)] or, kn, [(ky, kx, cin), cout] */
        for (int c = 0; c < cin; c++)
            for (int t = 0; t < k * k; t++) {
                size_t kk = (size_t)t * cin + c;
                wo[r->kn ? kk * cout + o : o * K + kk] = (float)(w[((size_t)o * cin + c) * k * k + t] * s);
            }
    }
    cv->w = wo; cv->b = bo;
    return 0;
}

static const float *rn_tensor(coop_model *m, const char *name, int ndim, int64_t d0, int64_t d1) {
    int64_t s[2] = {d0, d1};
    return coop_model_f32(m, name, ndim, s);
}

/* a Linear weight [out, in], transposed to [in, out] when r->kn */
static const float *rn_linear(coop_model *m, rn_model *r, const char *name, int out, int in) {
    const float *w = rn_tensor(m, name, 2, out, in);
    if (!w || !r->kn) return w;
    float *t = rn_own(r, (size_t)out * in);
    if (!t) return NULL;
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++) t[(size_t)i * out + o] = w[(size_t)o * in + i];
    return t;
}

/* C[M, N] (+)= A[M, K] W + b with W as stored (see rn_weights_kn) */
static void rn_mm(const rn_model *r, coop_pool *p, int M, int N, int K, const float *A, int lda,
                  const float *W, const float *b, float beta, float *C, int ldc) {
    coop_gemm(p, !r->kn, M, N, K, A, lda, W, r->kn ? N : K, b, beta, C, ldc);
}

/* builds the per-model state on first use: folded / reordered weights and the workspace plan */
static rn_model *rn_get(coop_model *m) {
    rn_model *r = (rn_model *)coop_model_slot(m, COOP_SLOT_VISION);
    if (r) return r;
    const coop_config *c = coop_model_config(m);
    if (c->vision != COOP_VISION_RESNET) { coop_set_error("%s: not a ResNet image tower", coop_model_path(m)); return NULL; }
    if (c->vision_width < 2 || c->vision_width % 2 || c->image_size % 32 || c->vision_heads <= 0 ||
        (c->vision_width * 32) % c->vision_heads) {
        coop_set_error("%s: ResNet config: vision_width %d, image_size %d, vision_heads %d unsupported",
                       coop_model_path(m), c->vision_width, c->image_size, c->vision_heads);
        return NULL;
    }
    r = (rn_model *)calloc(1, sizeof *r);
    if (!r) { coop_set_error("resnet: out of memory"); return NULL; }
    int w = c->vision_width;
    r->S = c->image_size; r->width = w; r->heads = c->vision_heads;
    r->C = 32 * w; r->E = c->embed_dim; r->grid = c->image_size / 32;
    for (int l = 0; l < 4; l++) r->nblk += c->resnet_layers[l];
    r->blk = (rn_block *)calloc((size_t)r->nblk, sizeof *r->blk);
    if (!r->blk) { coop_set_error("resnet: out of memory"); rn_free(r); return NULL; }

    /* workspace plan (floats per image), walking the shapes as the forward does */
    size_t *need = r->need;
    int H = r->S / 2;                                               /* after stem conv1 */
    size_t hw = (size_t)H * H;
    r->tiled = rn_conv_tiled;
    r->kn = rn_weights_kn;
    need[RN_T1] = hw * (w / 2); need[RN_T2] = hw * (w / 2); need[RN_Y] = hw * w;
    int ok = rn_load_conv(m, r, &r->stem[0], "visual.conv1", "visual.bn1", 3, w / 2, 3) == 0 &&
             rn_load_conv(m, r, &r->stem[1], "visual.conv2", "visual.bn2", w / 2, w / 2, 3) == 0 &&
             rn_load_conv(m, r, &r->stem[2], "visual.conv3", "visual.bn3", w / 2, w, 3) == 0;
    for (int i = 0; ok && i < 3; i++) rn_plan_conv(r, &r->stem[i], hw);
    H /= 2; hw = (size_t)H * H;
    need[RN_X] = hw * w;
#define RN_NEED(role, v) do { size_t v_ = (v); if (v_ > need[role]) need[role] = v_; } while (0)

    int inpl = w, b = 0;
    for (int l = 0; ok && l < 4; l++)
        for (int j = 0; ok && j < c->resnet_layers[l]; j++, b++) {
            rn_block *k = &r->blk[b];
            char cn[64], bn[64];
            k->cin = inpl; k->planes = w << l; k->stride = (l > 0 && j == 0) ? 2 : 1;
            k->has_down = k->stride > 1 || inpl != 4 * k->planes;
            const char *cs[3] = {"conv1", "conv2", "conv3"}, *bs[3] = {"bn1", "bn2", "bn3"};
            rn_conv *cv[3] = {&k->c1, &k->c2, &k->c3};
            int ci[3] = {inpl, k->planes, k->planes}, co[3] = {k->planes, k->planes, 4 * k->planes};
            for (int i = 0; ok && i < 3; i++) {
                snprintf(cn, sizeof cn, "visual.layer%d.%d.%s", l + 1, j, cs[i]);
                snprintf(bn, sizeof bn, "visual.layer%d.%d.%s", l + 1, j, bs[i]);
                ok = rn_load_conv(m, r, cv[i], cn, bn, ci[i], co[i], i == 1 ? 3 : 1) == 0;
            }
            if (ok && k->has_down) {
                snprintf(cn, sizeof cn, "visual.layer%d.%d.downsample.0", l + 1, j);
                snprintf(bn, sizeof bn, "visual.layer%d.%d.downsample.1", l + 1, j);
                ok = rn_load_conv(m, r, &k->down, cn, bn, inpl, 4 * k->planes, 1) == 0;
            }
            /* buffers of this block: in X [hw, cin]; T1, T2 [hw, planes]; COL [hw, 9 planes];
               pooled input P [hw/s^2, cin]; out Y [hw/s^2, 4 planes] */
            size_t hwo = hw / ((size_t)k->stride * k->stride);
            RN_NEED(RN_X, hw * inpl); RN_NEED(RN_T1, hw * k->planes); RN_NEED(RN_T2, hw * k->planes);
            if (ok) rn_plan_conv(r, &k->c2, hw);
            RN_NEED(RN_P, hwo * inpl);
            RN_NEED(RN_Y, hwo * 4 * k->planes); RN_NEED(RN_X, hwo * 4 * k->planes);
            hw = hwo;
            inpl = 4 * k->planes;
        }
    if (ok && inpl != r->C) { coop_set_error("%s: ResNet head width %d != 32 * vision_width", coop_model_path(m), inpl); ok = 0; }
    if (ok) {
        int C = r->C, T = r->grid * r->grid + 1;
        ok = (r->pos = rn_tensor(m, "visual.attnpool.positional_embedding", 2, T, C)) &&
             (r->qw = rn_linear(m, r, "visual.attnpool.q_proj.weight", C, C)) &&
             (r->qb = rn_tensor(m, "visual.attnpool.q_proj.bias", 1, C, 0)) &&
             (r->kw = rn_linear(m, r, "visual.attnpool.k_proj.weight", C, C)) &&
             (r->kb = rn_tensor(m, "visual.attnpool.k_proj.bias", 1, C, 0)) &&
             (r->vw = rn_linear(m, r, "visual.attnpool.v_proj.weight", C, C)) &&
             (r->vb = rn_tensor(m, "visual.attnpool.v_proj.bias", 1, C, 0)) &&
             (r->cw = rn_linear(m, r, "visual.attnpool.c_proj.weight", r->E, C)) &&
             (r->cb = rn_tensor(m, "visual.attnpool.c_proj.bias", 1, r->E, 0));
        /* head: tokens in COL [T, C], K in Y, V in T1 [T, C], Q in T2 [C], attended in P [C] */
        RN_NEED(RN_COL, (size_t)T * C); RN_NEED(RN_Y, (size_t)T * C); RN_NEED(RN_T1, (size_t)T * C);
        RN_NEED(RN_T2, (size_t)C); RN_NEED(RN_P, (size_t)C);
    }
#undef RN_NEED
    /* X and Y swap roles after a block with a downsample: both must fit either role */
    if (need[RN_Y] > need[RN_X]) need[RN_X] = need[RN_Y];
    need[RN_Y] = need[RN_X];
    if (!ok) { rn_free(r); return NULL; }
    coop_model_set_slot(m, COOP_SLOT_VISION, r, rn_free);
    return r;
}

/* ---- element-wise passes, threaded over rows ------------------------------------------- */
typedef struct {
    const float *in; float *out;
    int H, W, C, k, relu;           /* input grid and channels; k: pool size or conv stride */
    int Ho, Wo, rows;               /* output grid; rows = n * Ho */
} rn_pass;

static void rn_range(int total, int task, int ntasks, int *a, int *b) {
    *a = (int)((int64_t)total * task / ntasks);
    *b = (int)((int64_t)total * (task + 1) / ntasks);
}

/* im2col of a 3x3 pad-1 conv with stride k for output pixels [p0, p1) (pixel = (i, oy, ox)),
   optional ReLU on the input:
     col[(i, oy, ox), (ky, kx, c)] = relu?(in[i, oy*k + ky - 1, ox*k + kx - 1, c]), 0 outside
   nchw: the input is the [n, 3, H, W] pixel tensor (the stem's first conv) */
static void rn_gather(const rn_pass *a, int64_t p0, int64_t p1, int nchw, float *dst) {
    int C = a->C;
    size_t plane = (size_t)a->H * a->W;
    for (int64_t px = p0; px < p1; px++) {
        int ox = (int)(px % a->Wo), oy = (int)(px / a->Wo % a->Ho), i = (int)(px / ((int64_t)a->Wo * a->Ho));
        for (int ky = 0; ky < 3; ky++) {
            int iy = oy * a->k + ky - 1;
            for (int kx = 0; kx < 3; kx++, dst += C) {
                int ix = ox * a->k + kx - 1;
                if (iy < 0 || iy >= a->H || ix < 0 || ix >= a->W) { memset(dst, 0, (size_t)C * sizeof *dst); continue; }
                if (nchw) {
                    const float *src = a->in + (size_t)i * C * plane + (size_t)iy * a->W + ix;
                    for (int c = 0; c < C; c++) dst[c] = src[c * plane];
                    continue;
                }
                const float *src = a->in + (((size_t)i * a->H + iy) * a->W + ix) * C;
                if (a->relu) for (int c = 0; c < C; c++) dst[c] = src[c] > 0 ? src[c] : 0;
                else memcpy(dst, src, (size_t)C * sizeof *dst);
            }
        }
    }
}

/* a 3x3 convolution: either (whole) im2col of all pixels into col, then one threaded gemm, or
   (tiled) each task gathers RN_TILE-sized row blocks of col into its own cache-resident buffer
   and multiplies them serially. Tiled avoids writing and re-reading the full column matrix
   (9x the input) through memory, which dominates the early, wide-spatial layers; it is used
   when the weights are small enough (9 cin cout <= RN_TILE_MAXW floats) that each task
   re-packing them per tile is cheap. */

typedef struct {
    rn_pass a;
    const rn_model *r;
    const rn_conv *cv;
    int nchw, rows;              /* rows per tile */
    int64_t npix;
    float *col, *y;              /* col: whole: [npix, K]; tiled: one tile_floats buffer per task */
    size_t tile_floats;
} rn_conv_job;


static void rn_im2col_task(void *ctx, int task, int ntasks) {
    const rn_conv_job *j = (const rn_conv_job *)ctx;
    int64_t p0 = j->npix * task / ntasks, p1 = j->npix * (task + 1) / ntasks;
    rn_gather(&j->a, p0, p1, j->nchw, j->col + (size_t)p0 * 9 * j->a.C);
}

static void rn_conv_tile_task(void *ctx, int task, int ntasks) {
    const rn_conv_job *j = (const rn_conv_job *)ctx;
    int K = 9 * j->cv->cin, N = j->cv->cout;
    float *buf = j->col + (size_t)task * j->tile_floats;
    int64_t p0 = j->npix * task / ntasks, p1 = j->npix * (task + 1) / ntasks;
    for (int64_t t = p0; t < p1; t += j->rows) {
        int m = (int)(p1 - t < j->rows ? p1 - t : j->rows);
        rn_gather(&j->a, t, t + m, j->nchw, buf);
        rn_mm(j->r, NULL, m, N, K, buf, K, j->cv->w, j->cv->b, 0.0f, j->y + (size_t)t * N, N);
    }
}

/* AvgPool2d(k) (kernel = stride = k, no padding; H, W multiples of k) over NHWC, optional ReLU
   on the input: out[i, oy, ox, c] = mean over the k x k window of relu?(in) */
static void rn_avgpool_task(void *ctx, int task, int ntasks) {
    const rn_pass *a = (const rn_pass *)ctx;
    int r0, r1, C = a->C, k = a->k;
    float inv = 1.0f / (float)(k * k);
    rn_range(a->rows, task, ntasks, &r0, &r1);
    for (int row = r0; row < r1; row++) {
        int i = row / a->Ho, oy = row % a->Ho;
        for (int ox = 0; ox < a->Wo; ox++) {
            float *dst = a->out + ((size_t)row * a->Wo + ox) * C;
            for (int c = 0; c < C; c++) dst[c] = 0;
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++) {
                    const float *src = a->in + (((size_t)i * a->H + oy * k + dy) * a->W + ox * k + dx) * C;
                    if (a->relu) for (int c = 0; c < C; c++) dst[c] += src[c] > 0 ? src[c] : 0;
                    else for (int c = 0; c < C; c++) dst[c] += src[c];
                }
            for (int c = 0; c < C; c++) dst[c] *= inv;
        }
    }
}

/* in-place ReLU over rows * C floats (rows = n*H*W here, one "row" = one pixel) */
static void rn_relu_task(void *ctx, int task, int ntasks) {
    const rn_pass *a = (const rn_pass *)ctx;
    int r0, r1;
    rn_range(a->rows, task, ntasks, &r0, &r1);
    float *x = a->out + (size_t)r0 * a->C;
    for (size_t j = 0, e = (size_t)(r1 - r0) * a->C; j < e; j++) x[j] = x[j] > 0 ? x[j] : 0;
}

static int rn_ntasks(coop_pool *p, int rows) {
    int t = p ? 4 * coop_pool_threads(p) : 1;
    return rows < t ? (rows > 0 ? rows : 1) : t;
}

static void rn_run(coop_pool *p, coop_task_fn fn, rn_pass *a) { coop_pool_run(p, rn_ntasks(p, a->rows), fn, a); }


/* Y[n*Ho*Wo, cout] = conv3x3(relu?(X[n, H, W, cin]), stride); nchw: X is the [n, 3, H, W]
   pixel tensor (the stem's first conv). col: the whole-path column matrix */
static void rn_conv3x3(const rn_model *r, coop_pool *p, const rn_conv *cv, const float *x, int n, int H, int W,
                       int stride, int relu_in, int nchw, float *col, float *y) {
    rn_conv_job j;
    rn_pass a = {x, NULL, H, W, cv->cin, stride, relu_in, H / stride, W / stride, n * (H / stride)};
    int K = 9 * cv->cin;
    j.a = a; j.r = r; j.cv = cv; j.nchw = nchw; j.rows = rn_tile_rows(K);
    j.npix = (int64_t)n * a.Ho * a.Wo; j.y = y; j.tile_floats = r->tile_floats;
    if (rn_is_tiled(r, cv)) {
        int64_t nt = (j.npix + j.rows - 1) / j.rows;
        j.col = r->tiles;
        coop_pool_run(p, nt < r->ntiles ? (int)nt : r->ntiles, rn_conv_tile_task, &j);
        return;
    }
    j.col = col;
    coop_pool_run(p, rn_ntasks(p, (int)(j.npix < 1 << 30 ? j.npix : 1 << 30)), rn_im2col_task, &j);
    rn_mm(r, p, (int)j.npix, cv->cout, K, col, K, cv->w, cv->b, 0.0f, y, cv->cout);
}

static void rn_pool(coop_pool *p, const float *x, int n, int H, int W, int C, int k, int relu, float *y) {
    rn_pass a = {x, y, H, W, C, k, relu, H / k, W / k, n * (H / k)};
    rn_run(p, rn_avgpool_task, &a);
}

static void rn_relu(coop_pool *p, float *x, int64_t pixels, int C) {
    rn_pass a = {NULL, x, 0, 0, C, 0, 0, 0, 0, (int)pixels};
    rn_run(p, rn_relu_task, &a);
}

/* ---- attention pooling head ---------------------------------------------------------- */
typedef struct {
    const rn_model *r;
    const float *x;                 /* [n, HW, C] (ReLU applied) */
    float *tok;                     /* [n, HW+1, C] */
    const float *q, *k, *v;         /* q [n, C] (scaled), k, v [n, HW+1, C] */
    float *o;                       /* [n, C] */
    int n;
} rn_head;

/* tok[i] = [mean_j x[i, j], x[i, 0..HW)] + pos */
static void rn_tokens_task(void *ctx, int task, int ntasks) {
    const rn_head *h = (const rn_head *)ctx;
    int C = h->r->C, HW = h->r->grid * h->r->grid, i0, i1;
    rn_range(h->n, task, ntasks, &i0, &i1);
    for (int i = i0; i < i1; i++) {
        const float *x = h->x + (size_t)i * HW * C;
        float *t = h->tok + (size_t)i * (HW + 1) * C;
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int j = 0; j < HW; j++) s += x[(size_t)j * C + c];
            t[c] = (float)(s / HW) + h->r->pos[c];
        }
        for (size_t j = 0; j < (size_t)HW * C; j++) t[C + j] = x[j] + h->r->pos[C + j];
    }
}

/* per (image, head): softmax(q k^T / sqrt(d)) v for the one query (the mean token) */
static void rn_attend_task(void *ctx, int task, int ntasks) {
    const rn_head *h = (const rn_head *)ctx;
    int C = h->r->C, T = h->r->grid * h->r->grid + 1, nh = h->r->heads, d = C / nh, u0, u1;
    float sc[1024];                 /* T <= 1024 is checked before (S <= 1024) */
    float scale = 1.0f / sqrtf((float)d);
    rn_range(h->n * nh, task, ntasks, &u0, &u1);
    for (int u = u0; u < u1; u++) {
        int i = u / nh, hd = u % nh;
        const float *q = h->q + (size_t)i * C + hd * d;
        const float *k = h->k + (size_t)i * T * C + hd * d, *v = h->v + (size_t)i * T * C + hd * d;
        float mx = -INFINITY, sum = 0;
        for (int j = 0; j < T; j++) {
            float s = 0;
            for (int e = 0; e < d; e++) s += q[e] * k[(size_t)j * C + e];
            sc[j] = s * scale;
            if (sc[j] > mx) mx = sc[j];
        }
        for (int j = 0; j < T; j++) { sc[j] = expf(sc[j] - mx); sum += sc[j]; }
        float *o = h->o + (size_t)i * C + hd * d;
        for (int e = 0; e < d; e++) o[e] = 0;
        for (int j = 0; j < T; j++) {
            float pj = sc[j] / sum;
            for (int e = 0; e < d; e++) o[e] += pj * v[(size_t)j * C + e];
        }
    }
}

/* ---- forward ------------------------------------------------------------------------- */
/* one chunk of n images: pixels [n, 3, S, S] -> out [n, E]; b: workspace buffers by role */
static void rn_forward_chunk(const rn_model *r, coop_pool *p, const float *pixels, int n, float **b, float *out) {
    int w = r->width, H = r->S / 2;
    float *x = b[RN_X], *y = b[RN_Y];
    /* stem: [n,3,S,S] -> T1 [n,S/2,S/2,w/2] -> T2 [.., w/2] -> Y [.., w] -> X [n,S/4,S/4,w] */
    rn_conv3x3(r, p, &r->stem[0], pixels, n, r->S, r->S, 2, 0, 1, b[RN_COL], b[RN_T1]);
    rn_conv3x3(r, p, &r->stem[1], b[RN_T1], n, H, H, 1, 1, 0, b[RN_COL], b[RN_T2]);
    rn_conv3x3(r, p, &r->stem[2], b[RN_T2], n, H, H, 1, 1, 0, b[RN_COL], y);
    rn_pool(p, y, n, H, H, w, 2, 1, x);
    H /= 2;
    for (int bi = 0; bi < r->nblk; bi++) {
        const rn_block *k = &r->blk[bi];
        int s = k->stride, Ho = H / s, P = k->planes;
        int M = n * H * H, Mo = n * Ho * Ho;
        /* T1 [M, P] = conv1(x); T2 [M, P] = conv2(relu(T1)) */
        rn_mm(r, p, M, P, k->cin, x, k->cin, k->c1.w, k->c1.b, 0.0f, b[RN_T1], P);
        rn_conv3x3(r, p, &k->c2, b[RN_T1], n, H, H, 1, 1, 0, b[RN_COL], b[RN_T2]);
        /* A3 [Mo, P] = avgpool(relu(T2)) (into T1, free now) or relu(T2) in place */
        const float *a3 = b[RN_T2];
        if (s > 1) { rn_pool(p, b[RN_T2], n, H, H, P, s, 1, b[RN_T1]); a3 = b[RN_T1]; }
        else rn_relu(p, b[RN_T2], M, P);
        /* out [Mo, 4P] = identity (+=) conv3(A3), then ReLU */
        float *o = x;
        if (k->has_down) {
            const float *xi = x;
            if (s > 1) { rn_pool(p, x, n, H, H, k->cin, s, 0, b[RN_P]); xi = b[RN_P]; }
            rn_mm(r, p, Mo, 4 * P, k->cin, xi, k->cin, k->down.w, k->down.b, 0.0f, y, 4 * P);
            o = y;
        }
        rn_mm(r, p, Mo, 4 * P, P, a3, P, k->c3.w, k->c3.b, 1.0f, o, 4 * P);
        rn_relu(p, o, Mo, 4 * P);
        if (o == y) { y = x; x = o; }
        H = Ho;
    }
    /* head: x [n, HW, C] */
    int C = r->C, T = r->grid * r->grid + 1;
    rn_head h = {r, x, b[RN_COL], b[RN_T2], y, b[RN_T1], b[RN_P], n};
    coop_pool_run(p, rn_ntasks(p, n), rn_tokens_task, &h);
    /* q from the mean token only: rows of tok with stride T*C */
    rn_mm(r, p, n, C, C, h.tok, T * C, r->qw, r->qb, 0.0f, b[RN_T2], C);
    rn_mm(r, p, n * T, C, C, h.tok, C, r->kw, r->kb, 0.0f, y, C);
    rn_mm(r, p, n * T, C, C, h.tok, C, r->vw, r->vb, 0.0f, b[RN_T1], C);
    coop_pool_run(p, rn_ntasks(p, n * r->heads), rn_attend_task, &h);
    rn_mm(r, p, n, r->E, C, b[RN_P], C, r->cw, r->cb, 0.0f, out, r->E);
}

int coop_resnet_encode(coop_model *m, coop_pool *p, const float *pixels, int n, float *out) {
    if (n < 0 || (n > 0 && (!pixels || !out))) { coop_set_error("resnet: bad arguments (n = %d)", n); return -1; }
    rn_model *r = rn_get(m);
    if (!r) return -1;
    if (n == 0) return 0;
    if (r->grid * r->grid + 1 > 1024) { coop_set_error("%s: ResNet image_size %d too large (at most 1024)", coop_model_path(m), r->S); return -1; }
    size_t per = 0;
    for (int i = 0; i < 6; i++) per += r->need[i] + 16;      /* + 64-byte alignment of each buffer */
    int chunk = (int)((size_t)COOP_RESNET_WORKSPACE_MB * 1024 * 1024 / sizeof(float) / per);
    if (rn_force_chunk > 0) chunk = rn_force_chunk;
    if (chunk < 1) chunk = 1;
    if (chunk > n) chunk = n;
    if (chunk > r->ws_chunk) {      /* grows to the largest chunk seen, then reused */
        free(r->ws);
        r->ws = rn_ws_alloc(per * chunk * sizeof(float));
        r->ws_chunk = r->ws ? chunk : 0;
        if (!r->ws) return -1;
    }
    int ntiles = 8 * (p ? coop_pool_threads(p) : 1);   /* several tiles per thread: load balance */
    if (r->tile_floats && ntiles > r->ntiles) {
        coop_free(r->tiles);
        r->tiles = (float *)coop_malloc(r->tile_floats * ntiles * sizeof(float));
        r->ntiles = r->tiles ? ntiles : 0;
        if (!r->tiles) return -1;
    }
    float *bufs[6], *q = r->ws;
    for (int i = 0; i < 6; i++) { bufs[i] = q; q += (r->need[i] + 16) / 16 * 16 * (size_t)chunk; }
    size_t img = (size_t)3 * r->S * r->S;
    for (int i0 = 0; i0 < n; i0 += chunk) {
        int nc = n - i0 < chunk ? n - i0 : chunk;
        rn_forward_chunk(r, p, pixels + (size_t)i0 * img, nc, bufs, out + (size_t)i0 * r->E);
    }
    return 0;
}
