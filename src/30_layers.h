/* ===================================================================================== */
/* Layers: forward and backward side by side (backward w.r.t. inputs only: frozen model)  */
/* ===================================================================================== */
/* Shapes: R rows (tokens of all sequences, packed), C / D channels. Row-major.
   Every backward *adds* into its input gradient unless it says otherwise. */

/* ---- layernorm: y = (x - mean) * rstd * w + b ----------------------------------------- */
/* x, y: [R, C]; mean, rstd: [R] (saved for backward when non-NULL) */
static void layernorm_forward(float *y, float *mean, float *rstd, const float *x,
                              const float *w, const float *b, int R, int C, float eps) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * C;
        float *yr = y + (size_t)r * C;
        double m = 0, v = 0;
        for (int i = 0; i < C; i++) m += xr[i];
        m /= C;
        for (int i = 0; i < C; i++) { double d = xr[i] - m; v += d * d; }
        float s = (float)(1.0 / sqrt(v / C + eps)), mf = (float)m;
        for (int i = 0; i < C; i++) yr[i] = (xr[i] - mf) * s * w[i] + b[i];
        if (mean) mean[r] = mf;
        if (rstd) rstd[r] = s;
    }
}

/* dx += d layernorm / dx applied to dy; x, mean, rstd from the forward */
static void layernorm_backward(float *dx, const float *dy, const float *x, const float *w,
                               const float *mean, const float *rstd, int R, int C) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * C, *dyr = dy + (size_t)r * C;
        float *dxr = dx + (size_t)r * C;
        double a = 0, b = 0;
        for (int i = 0; i < C; i++) {
            double xh = (xr[i] - mean[r]) * rstd[r], g = (double)dyr[i] * w[i];
            a += g; b += g * xh;
        }
        a /= C; b /= C;
        for (int i = 0; i < C; i++) {
            double xh = (xr[i] - mean[r]) * rstd[r], g = (double)dyr[i] * w[i];
            dxr[i] += (float)(rstd[r] * (g - a - xh * b));
        }
    }
}

/* ---- linear: y = x W^T + b, W: [O, I] as PyTorch stores it ---------------------------- */
/* x: [R, I], y: [R, O] */
static void linear_forward(coop_pool *p, float *y, const float *x, const float *W, const float *b,
                           int R, int I, int O) {
    coop_gemm(p, 1, R, O, I, x, I, W, I, b, 0.0f, y, O);
}

/* dx[R, I] (+)= dy[R, O] W[O, I]; accumulate 0 overwrites dx */
static void linear_backward(coop_pool *p, float *dx, const float *dy, const float *W,
                            int R, int I, int O, int accumulate) {
    coop_gemm(p, 0, R, I, O, dy, O, W, I, NULL, accumulate ? 1.0f : 0.0f, dx, I);
}

/* ---- activations ---------------------------------------------------------------------- */
/* GELU (exact, erf) as nn.GELU(); QuickGELU x * sigmoid(1.702 x) as OpenAI's CLIP. In place:
   h holds the pre-activation on entry (kept in `pre` when non-NULL, for backward). */
static void act_forward(float *h, float *pre, size_t n, int act) {
    if (pre) memcpy(pre, h, n * sizeof(float));
    if (act == COOP_ACT_QUICK_GELU)
        for (size_t i = 0; i < n; i++) h[i] = h[i] / (1.0f + expf(-1.702f * h[i]));
    else
        for (size_t i = 0; i < n; i++) h[i] = 0.5f * h[i] * (1.0f + erff(h[i] * 0.70710678118654752f));
}

/* dh *= act'(pre), in place */
static void act_backward(float *dh, const float *pre, size_t n, int act) {
    if (act == COOP_ACT_QUICK_GELU)
        for (size_t i = 0; i < n; i++) {
            float s = 1.0f / (1.0f + expf(-1.702f * pre[i]));
            dh[i] *= s * (1.0f + 1.702f * pre[i] * (1.0f - s));
        }
    else
        for (size_t i = 0; i < n; i++) {
            float x = pre[i];
            dh[i] *= 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.3989422804014327f * expf(-0.5f * x * x);
        }
}

/* ---- attention, one head of one sequence ------------------------------------------------ */
/* Keys/values come in two segments so that a prefix shared by many prompts is stored once:
   segment 1 (n1 rows, positions 0..n1-1) and segment 2 (n2 rows, positions n1..n1+n2-1).
   Queries: nq rows at positions q0..q0+nq-1. causal: query at position t sees keys <= t.
   q, k*, v*: rows with stride ld (the packed qkv rows), hd columns used from each.
   P: [nq, n1+n2] softmax probabilities (saved for backward), out: rows with stride ldo. */
typedef struct {
    const float *q, *k1, *v1, *k2, *v2;
    int ld, nq, q0, n1, n2, causal, hd;
    float *P, *out;
    int ldo;
} attn_head;

static void attn_head_forward(const attn_head *a) {
    int nk = a->n1 + a->n2;
    float scale = 1.0f / sqrtf((float)a->hd);
    for (int i = 0; i < a->nq; i++) {
        const float *q = a->q + (size_t)i * a->ld;
        float *pr = a->P + (size_t)i * nk, mx = -INFINITY;
        int last = a->causal ? a->q0 + i : nk - 1;       /* last visible key position */
        for (int j = 0; j <= last; j++) {
            const float *k = j < a->n1 ? a->k1 + (size_t)j * a->ld : a->k2 + (size_t)(j - a->n1) * a->ld;
            float s = 0;
            for (int d = 0; d < a->hd; d++) s += q[d] * k[d];
            pr[j] = s * scale;
            if (pr[j] > mx) mx = pr[j];
        }
        float sum = 0;
        for (int j = 0; j <= last; j++) { pr[j] = expf(pr[j] - mx); sum += pr[j]; }
        float inv = 1.0f / sum;
        for (int j = 0; j <= last; j++) pr[j] *= inv;
        for (int j = last + 1; j < nk; j++) pr[j] = 0;
        float *o = a->out + (size_t)i * a->ldo;
        for (int d = 0; d < a->hd; d++) o[d] = 0;
        for (int j = 0; j <= last; j++) {
            const float *v = j < a->n1 ? a->v1 + (size_t)j * a->ld : a->v2 + (size_t)(j - a->n1) * a->ld;
            float pj = pr[j];
            for (int d = 0; d < a->hd; d++) o[d] += pj * v[d];
        }
    }
}

/* backward of one head: dout rows (stride ldo) -> dq (rows like q), dk1/dv1 (rows like k1) and
   dk2/dv2 (rows like k2), all with stride ldd, accumulated. */
static void attn_head_backward(const attn_head *a, const float *dout, float *dq, float *dk1, float *dv1,
                               float *dk2, float *dv2, int ldd) {
    int nk = a->n1 + a->n2;
    float scale = 1.0f / sqrtf((float)a->hd);
    float dp[1024];   /* nk <= 1024 is checked by the towers */
    for (int i = 0; i < a->nq; i++) {
        const float *q = a->q + (size_t)i * a->ld, *go = dout + (size_t)i * a->ldo;
        const float *pr = a->P + (size_t)i * nk;
        int last = a->causal ? a->q0 + i : nk - 1;
        float dot = 0;
        for (int j = 0; j <= last; j++) {
            const float *v = j < a->n1 ? a->v1 + (size_t)j * a->ld : a->v2 + (size_t)(j - a->n1) * a->ld;
            float *dv = j < a->n1 ? dv1 + (size_t)j * ldd : dv2 + (size_t)(j - a->n1) * ldd;
            float s = 0;
            for (int d = 0; d < a->hd; d++) { s += go[d] * v[d]; dv[d] += pr[j] * go[d]; }
            dp[j] = s;
            dot += s * pr[j];
        }
        float *dqi = dq + (size_t)i * ldd;
        for (int j = 0; j <= last; j++) {
            float ds = pr[j] * (dp[j] - dot) * scale;   /* softmax backward, then the 1/sqrt(hd) */
            const float *k = j < a->n1 ? a->k1 + (size_t)j * a->ld : a->k2 + (size_t)(j - a->n1) * a->ld;
            float *dk = j < a->n1 ? dk1 + (size_t)j * ldd : dk2 + (size_t)(j - a->n1) * ldd;
            for (int d = 0; d < a->hd; d++) { dqi[d] += ds * k[d]; dk[d] += ds * q[d]; }
        }
    }
}

/* ---- the residual attention block of CLIP's transformers (pre-LN) ------------------------ */
/*   x = x + out_proj(attention(ln_1(x)));  x = x + c_proj(act(c_fc(ln_2(x))))
   over packed rows of several sequences. A sequence owns `len` rows starting at row kv0 and
   may also see n1 prefix rows (rows 0..n1-1, shared by many sequences); its own row k is at
   position n1 + k. Only nq query rows (own rows qi0..qi0+nq-1) go on past the attention, and
   their results land at rows out0.. of the output: in a last layer only the row that is read
   (EOT, class token) needs the out-projection and MLP. */
typedef struct { int kv0, len, n1, qi0, nq, out0; } tw_seq;

typedef struct {
    const float *ln1_w, *ln1_b, *in_w, *in_b, *out_w, *out_b, *ln2_w, *ln2_b, *fc_w, *fc_b, *pr_w, *pr_b;
} tw_block;

/* looks up block i's tensors under `prefix` ("visual.transformer" / "transformer") with shapes */
static int tw_block_load(coop_model *m, const char *prefix, int i, int D, int F, tw_block *b) {
    char nm[128];
    int64_t d1[1] = {D}, d3[1] = {3 * D}, dd3[2] = {3 * D, D}, dd[2] = {D, D}, f1[1] = {F}, fd[2] = {F, D}, df[2] = {D, F};
#define TW_GET(field, suffix, nd, shape) \
    do { snprintf(nm, sizeof nm, "%s.resblocks.%d.%s", prefix, i, suffix); \
         if (!(b->field = coop_model_f32(m, nm, nd, shape))) return -1; } while (0)
    TW_GET(ln1_w, "ln_1.weight", 1, d1); TW_GET(ln1_b, "ln_1.bias", 1, d1);
    TW_GET(in_w, "attn.in_proj_weight", 2, dd3); TW_GET(in_b, "attn.in_proj_bias", 1, d3);
    TW_GET(out_w, "attn.out_proj.weight", 2, dd); TW_GET(out_b, "attn.out_proj.bias", 1, d1);
    TW_GET(ln2_w, "ln_2.weight", 1, d1); TW_GET(ln2_b, "ln_2.bias", 1, d1);
    TW_GET(fc_w, "mlp.c_fc.weight", 2, fd); TW_GET(fc_b, "mlp.c_fc.bias", 1, f1);
    TW_GET(pr_w, "mlp.c_proj.weight", 2, df); TW_GET(pr_b, "mlp.c_proj.bias", 1, d1);
#undef TW_GET
    return 0;
}

/* what one layer keeps for its backward (NULL pointers when not training) */
typedef struct { float *x, *mean1, *rstd1, *qkv, *P, *xmid, *mean2, *rstd2, *u; } tw_saved;

/* sizes of one block's buffers for a set of sequences */
typedef struct { int R, Rq, D, H, F; size_t probs; } tw_dims;

static tw_dims tw_plan(const tw_seq *s, int nseq, int R, int D, int H, int F) {
    tw_dims d = {R, 0, D, H, F, 0};
    for (int i = 0; i < nseq; i++) {
        d.Rq += s[i].nq;
        d.probs += (size_t)H * s[i].nq * (s[i].n1 + s[i].len);
    }
    return d;
}

typedef struct {
    const tw_seq *seqs;
    int nseq, D, H, causal;
    const float *qkv;
    float *P, *A;
    size_t *poff;
    /* backward */
    const float *dA;
    float *dqkv, *dpref;
} tw_attn_job;

static attn_head tw_head(const tw_attn_job *j, int s, int h) {
    const tw_seq *q = &j->seqs[s];
    int D3 = 3 * j->D, hd = j->D / j->H;
    attn_head a;
    a.q = j->qkv + (size_t)(q->kv0 + q->qi0) * D3 + h * hd;
    a.k1 = j->qkv + j->D + h * hd;
    a.v1 = j->qkv + 2 * j->D + h * hd;
    a.k2 = j->qkv + (size_t)q->kv0 * D3 + j->D + h * hd;
    a.v2 = a.k2 + j->D;
    a.ld = D3; a.nq = q->nq; a.q0 = q->n1 + q->qi0; a.n1 = q->n1; a.n2 = q->len;
    a.causal = j->causal; a.hd = hd;
    a.P = j->P + j->poff[s] + (size_t)h * q->nq * (q->n1 + q->len);
    a.out = j->A + (size_t)q->out0 * j->D + h * hd;
    a.ldo = j->D;
    return a;
}

static void tw_attn_fwd_task(void *ctx, int t, int nt) {
    (void)nt;
    const tw_attn_job *j = (const tw_attn_job *)ctx;
    attn_head a = tw_head(j, t / j->H, t % j->H);
    attn_head_forward(&a);
}

static void tw_attn_bwd_task(void *ctx, int t, int nt) {
    (void)nt;
    const tw_attn_job *j = (const tw_attn_job *)ctx;
    int s = t / j->H, h = t % j->H, D3 = 3 * j->D, hd = j->D / j->H;
    const tw_seq *q = &j->seqs[s];
    attn_head a = tw_head(j, s, h);
    float *dq = j->dqkv + (size_t)(q->kv0 + q->qi0) * D3 + h * hd;
    float *dk2 = j->dqkv + (size_t)q->kv0 * D3 + j->D + h * hd;
    /* the shared prefix gets a private buffer per sequence, summed afterwards in a fixed order */
    float *dk1 = q->n1 ? j->dpref + (size_t)s * q->n1 * D3 + j->D + h * hd : NULL;
    attn_head_backward(&a, j->dA + (size_t)q->out0 * j->D + h * hd, dq, dk1, dk1 ? dk1 + j->D : NULL,
                       dk2, dk2 + j->D, D3);
}

/* scratch for one block: H [max(R,Rq), D], qkv [R, 3D] (unless saved), A [Rq, D],
   xmid [Rq, D], u [Rq, F]; all from the arena */
typedef struct { float *h, *qkv, *a, *xmid, *u, *mean, *rstd; size_t *poff; float *P; } tw_scratch;

/* X: [R, D] input rows; Y: [Rq, D] output rows (may not alias X). */
static void tw_block_forward(coop_pool *p, const tw_block *w, const tw_dims *d, int act, float eps, int causal,
                             const tw_seq *seqs, int nseq, const float *X, float *Y, tw_scratch *s, tw_saved *sv) {
    int R = d->R, Rq = d->Rq, D = d->D, F = d->F;
    float *qkv = sv ? sv->qkv : s->qkv, *P = sv ? sv->P : s->P, *xmid = sv ? sv->xmid : s->xmid, *u = sv ? sv->u : s->u;
    if (sv) memcpy(sv->x, X, sizeof(float) * (size_t)R * D);
    layernorm_forward(s->h, sv ? sv->mean1 : s->mean, sv ? sv->rstd1 : s->rstd, X, w->ln1_w, w->ln1_b, R, D, eps);
    linear_forward(p, qkv, s->h, w->in_w, w->in_b, R, D, 3 * D);
    size_t off = 0;
    for (int i = 0; i < nseq; i++) { s->poff[i] = off; off += (size_t)d->H * seqs[i].nq * (seqs[i].n1 + seqs[i].len); }
    tw_attn_job j = {seqs, nseq, D, d->H, causal, qkv, P, s->a, s->poff, NULL, NULL, NULL};
    coop_pool_run(p, nseq * d->H, tw_attn_fwd_task, &j);
    /* xmid = x (query rows) + out_proj(A) */
    linear_forward(p, xmid, s->a, w->out_w, w->out_b, Rq, D, D);
    for (int i = 0; i < nseq; i++)
        for (int k = 0; k < seqs[i].nq; k++) {
            float *xm = xmid + (size_t)(seqs[i].out0 + k) * D;
            const float *xr = X + (size_t)(seqs[i].kv0 + seqs[i].qi0 + k) * D;
            for (int c = 0; c < D; c++) xm[c] += xr[c];
        }
    layernorm_forward(s->h, sv ? sv->mean2 : s->mean, sv ? sv->rstd2 : s->rstd, xmid, w->ln2_w, w->ln2_b, Rq, D, eps);
    linear_forward(p, u, s->h, w->fc_w, w->fc_b, Rq, D, F);
    /* keep the pre-activation for backward: act on a copy in s->u when saving */
    float *g = u;
    if (sv) { memcpy(s->u, u, sizeof(float) * (size_t)Rq * F); g = s->u; }
    act_forward(g, NULL, (size_t)Rq * F, act);
    linear_forward(p, Y, g, w->pr_w, w->pr_b, Rq, F, D);
    for (size_t i = 0; i < (size_t)Rq * D; i++) Y[i] += xmid[i];
}

/* dY: [Rq, D] gradient of the output (destroyed); dX: [R, D] gradient of the input (overwritten).
   scratch: s->h [max(R,Rq), D], s->a [Rq, D], s->u [Rq, F], s->qkv [R, 3D] (dqkv),
   dpref [nseq, n1, 3D] when sequences share a prefix. */
static void tw_block_backward(coop_pool *p, const tw_block *w, const tw_dims *d, int act, int causal,
                              const tw_seq *seqs, int nseq, const tw_saved *sv, float *dY, float *dX,
                              tw_scratch *s, float *dpref) {
    int R = d->R, Rq = d->Rq, D = d->D, F = d->F, D3 = 3 * D;
    /* MLP: dY -> du -> dh2 -> dxmid (dY doubles as dxmid: the residual passes it through) */
    linear_backward(p, s->u, dY, w->pr_w, Rq, F, D, 0);
    act_backward(s->u, sv->u, (size_t)Rq * F, act);
    linear_backward(p, s->h, s->u, w->fc_w, Rq, D, F, 0);
    layernorm_backward(dY, s->h, sv->xmid, w->ln2_w, sv->mean2, sv->rstd2, Rq, D);
    /* attention */
    linear_backward(p, s->a, dY, w->out_w, Rq, D, D, 0);
    memset(s->qkv, 0, sizeof(float) * (size_t)R * D3);
    int n1 = 0;
    for (int i = 0; i < nseq; i++) if (seqs[i].n1 > n1) n1 = seqs[i].n1;
    if (n1) memset(dpref, 0, sizeof(float) * (size_t)nseq * n1 * D3);
    size_t off = 0;
    for (int i = 0; i < nseq; i++) { s->poff[i] = off; off += (size_t)d->H * seqs[i].nq * (seqs[i].n1 + seqs[i].len); }
    tw_attn_job j = {seqs, nseq, D, d->H, causal, sv->qkv, sv->P, NULL, s->poff, s->a, s->qkv, dpref};
    coop_pool_run(p, nseq * d->H, tw_attn_bwd_task, &j);
    for (int i = 0; i < nseq; i++)
        for (int r = 0; r < seqs[i].n1; r++) {
            const float *src = dpref + ((size_t)i * seqs[i].n1 + r) * D3;
            float *dst = s->qkv + (size_t)r * D3;
            for (int c = D; c < D3; c++) dst[c] += src[c];
        }
    /* ln_1 and the residual */
    linear_backward(p, s->h, s->qkv, w->in_w, R, D, D3, 0);
    memset(dX, 0, sizeof(float) * (size_t)R * D);
    for (int i = 0; i < nseq; i++)
        for (int k = 0; k < seqs[i].nq; k++)
            memcpy(dX + (size_t)(seqs[i].kv0 + seqs[i].qi0 + k) * D, dY + (size_t)(seqs[i].out0 + k) * D, sizeof(float) * D);
    layernorm_backward(dX, s->h, sv->x, w->ln1_w, sv->mean1, sv->rstd1, R, D);
}
