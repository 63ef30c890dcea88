/* ===================================================================================== */
/* Hugging Face text tower: RoBERTa / XLM-R encoder as OpenCLIP's HFTextEncoder uses it   */
/* ===================================================================================== */
/* Facts matched (open_clip hf_model.py / hf_configs.py, transformers modeling_roberta.py):
   - embeddings: word[id] + position[pos] + token_type[0], LayerNorm (eps ln_eps = 1e-5);
     position ids (ids path) = pad + cumulative count of non-pad tokens, pad positions = pad;
     (inputs_embeds path) = pad + 1 + t. Both agree on the valid tokens, which are all we compute.
   - post-LN layers: a = Attn(x) (q/k/v/out Linear with bias, mask = ids != pad on the keys),
     y = LN1(x + a); z = LN2(y + W2 gelu(W1 y + b1) + b2), exact (erf) GELU.
   - pooler (roberta / xlm-roberta configs in OpenCLIP: mean_pooler): mean of the last hidden
     states over unmasked tokens; cls: hidden state of token 0 (through the transformer's
     pooler dense + tanh when the file has text.transformer.pooler.dense.*, as ClsPooler uses
     pooler_output).
   - proj mlp: Linear(D, (D+E)/2, no bias) -> GELU -> Linear(., E, no bias); linear: Linear(D, E, no
     bias); none: identity (D == E).
   Padding is dropped: the valid tokens of all sequences are packed into one [N, D] matrix for
   the Linear layers, attention runs per (sequence, head) on its own length. Masked keys get
   zero softmax weight in HF, masked rows never reach a valid row or the mean: so the packed
   computation equals the padded one (tests/test_hftext.c checks it).
   Backward (CoOp) only to the input word embeddings: weights are frozen, so a Linear's backward
   is dX = dY W, and LayerNorm keeps (x - mean) * rstd and rstd. */

/* uses coop_gemm / coop_pool_run and struct coop_text_cache { coop_arena arena; void *impl; }
   (the CLIP text tower's section) */
/* ---- weights (per model, COOP_SLOT_TEXT) ---------------------------------------------- */
typedef struct {
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b, *ln1_w, *ln1_b;
    const float *i_w, *i_b, *f_w, *f_b, *ln2_w, *ln2_b;
} hf_layer_w;
typedef struct {
    int D, L, H, F, E, V, P, Hp, pad, proj, pooler, has_pool_dense;
    float eps;
    const float *word, *pos, *type, *ln_w, *ln_b, *pool_w, *pool_b, *proj0, *proj2;
    hf_layer_w *layer;
    coop_arena work;   /* activations of coop_hftext_encode */
} hf_model;
enum { HF_PROJ_NONE = 0, HF_PROJ_LINEAR = 1, HF_PROJ_MLP = 2 };
enum { HF_POOL_MEAN = 0, HF_POOL_CLS = 1 };

static void hf_model_free(void *p) {
    hf_model *w = (hf_model *)p;
    if (!w) return;
    coop_arena_free(&w->work);
    coop_free(w->layer);
    coop_free(w);
}

static const float *hf_t(coop_model *m, const char *name, int64_t a, int64_t b) {
    int64_t shape[2] = {a, b};
    return coop_model_f32(m, name, b ? 2 : 1, shape);
}

static hf_model *hf_get(coop_model *m) {
    hf_model *w = (hf_model *)coop_model_slot(m, COOP_SLOT_TEXT);
    if (w) return w;
    const coop_config *c = coop_model_config(m);
    if (c->text != COOP_TEXT_HF) { coop_set_error("%s: not a Hugging Face text model", m->path); return NULL; }
    if (c->text_width <= 0 || c->text_layers <= 0 || c->text_heads <= 0 || c->text_width % c->text_heads ||
        c->text_mlp <= 0 || c->embed_dim <= 0 || c->vocab_size <= 0 || c->hf_type_vocab <= 0) {
        coop_set_error("%s: bad HF text config (width %d, layers %d, heads %d, mlp %d)", m->path, c->text_width,
                       c->text_layers, c->text_heads, c->text_mlp);
        return NULL;
    }
    w = (hf_model *)coop_calloc(sizeof *w);
    if (!w) return NULL;
    w->D = c->text_width; w->L = c->text_layers; w->H = c->text_heads; w->F = c->text_mlp;
    w->E = c->embed_dim; w->V = c->vocab_size; w->P = c->hf_max_positions; w->pad = c->pad_id;
    w->eps = c->ln_eps > 0 ? c->ln_eps : 1e-5f;
    if (!strcmp(c->hf_proj, "mlp")) w->proj = HF_PROJ_MLP;
    else if (!strcmp(c->hf_proj, "linear")) w->proj = HF_PROJ_LINEAR;
    else if (!strcmp(c->hf_proj, "none") || !c->hf_proj[0]) w->proj = HF_PROJ_NONE;
    else { coop_set_error("%s: hf_proj '%s' not supported (mlp, linear, none)", m->path, c->hf_proj); goto fail; }
    if (!strcmp(c->hf_pooler, "mean") || !strcmp(c->hf_pooler, "mean_pooler") || !c->hf_pooler[0]) w->pooler = HF_POOL_MEAN;
    else if (!strcmp(c->hf_pooler, "cls") || !strcmp(c->hf_pooler, "cls_pooler")) w->pooler = HF_POOL_CLS;
    else { coop_set_error("%s: hf_pooler '%s' not supported (mean, cls)", m->path, c->hf_pooler); goto fail; }
    if (w->proj == HF_PROJ_NONE && w->D != w->E) { coop_set_error("%s: hf_proj none needs text_width == embed_dim", m->path); goto fail; }
    w->Hp = c->hf_proj_hidden > 0 ? c->hf_proj_hidden : (w->D + w->E) / 2;
    if (w->P < w->pad + 2) { coop_set_error("%s: hf_max_positions %d too small for pad id %d", m->path, w->P, w->pad); goto fail; }
    int D = w->D, F = w->F;
#define HF_T(dst, name, a, b) if (!((dst) = hf_t(m, name, a, b))) goto fail
    HF_T(w->word, "text.transformer.embeddings.word_embeddings.weight", w->V, D);
    HF_T(w->pos, "text.transformer.embeddings.position_embeddings.weight", w->P, D);
    HF_T(w->type, "text.transformer.embeddings.token_type_embeddings.weight", c->hf_type_vocab, D);
    HF_T(w->ln_w, "text.transformer.embeddings.LayerNorm.weight", D, 0);
    HF_T(w->ln_b, "text.transformer.embeddings.LayerNorm.bias", D, 0);
    if (!(w->layer = (hf_layer_w *)coop_calloc(sizeof(hf_layer_w) * (size_t)w->L))) goto fail;
    for (int l = 0; l < w->L; l++) {
        hf_layer_w *y = &w->layer[l];
        char nm[128];
#define HF_LT(dst, suffix, a, b) snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.%s", l, suffix); HF_T(dst, nm, a, b)
        HF_LT(y->q_w, "attention.self.query.weight", D, D);   HF_LT(y->q_b, "attention.self.query.bias", D, 0);
        HF_LT(y->k_w, "attention.self.key.weight", D, D);     HF_LT(y->k_b, "attention.self.key.bias", D, 0);
        HF_LT(y->v_w, "attention.self.value.weight", D, D);   HF_LT(y->v_b, "attention.self.value.bias", D, 0);
        HF_LT(y->o_w, "attention.output.dense.weight", D, D); HF_LT(y->o_b, "attention.output.dense.bias", D, 0);
        HF_LT(y->ln1_w, "attention.output.LayerNorm.weight", D, 0); HF_LT(y->ln1_b, "attention.output.LayerNorm.bias", D, 0);
        HF_LT(y->i_w, "intermediate.dense.weight", F, D);     HF_LT(y->i_b, "intermediate.dense.bias", F, 0);
        HF_LT(y->f_w, "output.dense.weight", D, F);           HF_LT(y->f_b, "output.dense.bias", D, 0);
        HF_LT(y->ln2_w, "output.LayerNorm.weight", D, 0);     HF_LT(y->ln2_b, "output.LayerNorm.bias", D, 0);
#undef HF_LT
    }
    if (w->pooler == HF_POOL_CLS && coop_model_find(m, "text.transformer.pooler.dense.weight")) {
        w->has_pool_dense = 1;
        HF_T(w->pool_w, "text.transformer.pooler.dense.weight", D, D);
        HF_T(w->pool_b, "text.transformer.pooler.dense.bias", D, 0);
    }
    if (w->proj == HF_PROJ_MLP) {
        HF_T(w->proj0, "text.proj.0.weight", w->Hp, D);
        HF_T(w->proj2, "text.proj.2.weight", w->E, w->Hp);
    } else if (w->proj == HF_PROJ_LINEAR) {
        HF_T(w->proj0, "text.proj.weight", w->E, D);
    }
#undef HF_T
    coop_model_set_slot(m, COOP_SLOT_TEXT, w, hf_model_free);
    return w;
fail:
    hf_model_free(w);
    return NULL;
}

/* ---- layers: forward and backward side by side (rows are tokens) --------------------- */

/* LayerNorm over rows: x [N, D] -> y [N, D]; keeps xhat = (x - mean) * rstd [N, D], rstd [N] */
static void hf_layernorm_forward(const float *x, float *y, float *xhat, float *rstd, const float *g, const float *b,
                                 int N, int D, float eps) {
    for (int i = 0; i < N; i++) {
        const float *xi = x + (size_t)i * D;
        double mean = 0, var = 0;
        for (int j = 0; j < D; j++) mean += xi[j];
        mean /= D;
        for (int j = 0; j < D; j++) var += (xi[j] - mean) * (xi[j] - mean);
        float r = (float)(1.0 / sqrt(var / D + eps));
        for (int j = 0; j < D; j++) {
            float h = (float)(xi[j] - mean) * r;
            xhat[(size_t)i * D + j] = h;
            y[(size_t)i * D + j] = h * g[j] + b[j];
        }
        rstd[i] = r;
    }
}
/* dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)),  dxhat = dy * g; dx may alias dy */
static void hf_layernorm_backward(const float *dy, float *dx, const float *xhat, const float *rstd, const float *g,
                                  int N, int D) {
    for (int i = 0; i < N; i++) {
        const float *d = dy + (size_t)i * D, *h = xhat + (size_t)i * D;
        double s1 = 0, s2 = 0;
        for (int j = 0; j < D; j++) { double t = (double)d[j] * g[j]; s1 += t; s2 += t * h[j]; }
        float m1 = (float)(s1 / D), m2 = (float)(s2 / D);
        for (int j = 0; j < D; j++) dx[(size_t)i * D + j] = rstd[i] * (d[j] * g[j] - m1 - h[j] * m2);
    }
}

/* exact GELU: x * Phi(x) */
static float hf_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }
static float hf_gelu_grad(float x) {
    return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.39894228040143268f * expf(-0.5f * x * x);
}

/* row-parallel elementwise work: LayerNorm forward/backward and GELU over [N, W] */
enum { HF_EW_LN_FWD, HF_EW_LN_BWD, HF_EW_GELU, HF_EW_GELU_BWD };
typedef struct {
    int op, N, W;
    float eps;
    const float *x, *g, *b, *aux;
    float *y, *xhat, *rstd;
} hf_ew;
static void hf_ew_task(void *vctx, int task, int ntasks) {
    hf_ew *e = (hf_ew *)vctx;
    int r0 = (int)((int64_t)e->N * task / ntasks), r1 = (int)((int64_t)e->N * (task + 1) / ntasks);
    size_t o = (size_t)r0 * e->W, k = (size_t)(r1 - r0) * e->W;
    switch (e->op) {
    case HF_EW_LN_FWD: hf_layernorm_forward(e->x + o, e->y + o, e->xhat + o, e->rstd + r0, e->g, e->b, r1 - r0, e->W, e->eps); break;
    case HF_EW_LN_BWD: hf_layernorm_backward(e->x + o, e->y + o, e->xhat + o, e->rstd + r0, e->g, r1 - r0, e->W); break;
    case HF_EW_GELU: for (size_t i = 0; i < k; i++) e->y[o + i] = hf_gelu(e->x[o + i]); break;
    case HF_EW_GELU_BWD: for (size_t i = 0; i < k; i++) e->y[o + i] *= hf_gelu_grad(e->aux[o + i]); break;
    }
}
static void hf_ew_run(coop_pool *p, hf_ew *e) {
    int nt = p ? coop_pool_threads(p) : 1;
    if (nt > e->N) nt = e->N;
    coop_pool_run(p, nt > 0 ? nt : 1, hf_ew_task, e);
}
static void hf_ln_fwd(coop_pool *p, const float *x, float *y, float *xhat, float *rstd, const float *g, const float *b, int N, int D, float eps) {
    hf_ew e = {HF_EW_LN_FWD, N, D, eps, x, g, b, NULL, y, xhat, rstd};
    hf_ew_run(p, &e);
}
static void hf_ln_bwd(coop_pool *p, const float *dy, float *dx, const float *xhat, const float *rstd, const float *g, int N, int D) {
    hf_ew e = {HF_EW_LN_BWD, N, D, 0, dy, g, NULL, NULL, dx, (float *)xhat, (float *)rstd};
    hf_ew_run(p, &e);
}
static void hf_gelu_fwd(coop_pool *p, const float *x, float *y, int N, int W) {
    hf_ew e = {HF_EW_GELU, N, W, 0, x, NULL, NULL, NULL, y, NULL, NULL};
    hf_ew_run(p, &e);
}
/* dy *= gelu'(u) */
static void hf_gelu_bwd(coop_pool *p, float *dy, const float *u, int N, int W) {
    hf_ew e = {HF_EW_GELU_BWD, N, W, 0, NULL, NULL, NULL, u, dy, NULL, NULL};
    hf_ew_run(p, &e);
}

/* ---- attention over packed sequences -------------------------------------------------- */
/* q, k, v, ctx: [N, D] (heads are column blocks of dh = D / H); seq s owns rows off[s] .. off[s]+len[s];
   probs: per (s, h) a [len, len] block at poff[s] + h * len*len */
typedef struct {
    int n, H, D, dh;
    const int *len, *off;
    const size_t *poff;
    const float *q, *k, *v, *dctx;
    float *probs, *ctx, *dq, *dk, *dv, *scratch;   /* scratch: per task [len, len] */
    size_t scratch_stride;
} hf_attn;

static void hf_attn_forward_task(void *vctx, int task, int ntasks) {
    hf_attn *a = (hf_attn *)vctx;
    float scale = 1.0f / sqrtf((float)a->dh);
    for (int sh = task; sh < a->n * a->H; sh += ntasks) {
        int s = sh / a->H, h = sh % a->H, T = a->len[s];
        size_t r0 = (size_t)a->off[s] * a->D + (size_t)h * a->dh;
        float *P = a->probs + a->poff[s] + (size_t)h * T * T;
        /* P = softmax(q k^T * scale) row-wise: [T, T] */
        coop_gemm(NULL, 1, T, T, a->dh, a->q + r0, a->D, a->k + r0, a->D, NULL, 0.0f, P, T);
        for (int i = 0; i < T; i++) {
            float *p = P + (size_t)i * T, mx = -INFINITY;
            double sum = 0;
            for (int j = 0; j < T; j++) { p[j] *= scale; if (p[j] > mx) mx = p[j]; }
            for (int j = 0; j < T; j++) { p[j] = expf(p[j] - mx); sum += p[j]; }
            float inv = (float)(1.0 / sum);
            for (int j = 0; j < T; j++) p[j] *= inv;
        }
        /* ctx = P v: [T, dh] */
        coop_gemm(NULL, 0, T, a->dh, T, P, T, a->v + r0, a->D, NULL, 0.0f, a->ctx + r0, a->D);
    }
}

static void hf_attn_backward_task(void *vctx, int task, int ntasks) {
    hf_attn *a = (hf_attn *)vctx;
    float scale = 1.0f / sqrtf((float)a->dh);
    float *dP = a->scratch + (size_t)task * a->scratch_stride, *Pt = dP + a->scratch_stride / 2;
    for (int sh = task; sh < a->n * a->H; sh += ntasks) {
        int s = sh / a->H, h = sh % a->H, T = a->len[s];
        size_t r0 = (size_t)a->off[s] * a->D + (size_t)h * a->dh;
        const float *P = a->probs + a->poff[s] + (size_t)h * T * T;
        /* dv = P^T dctx; dP = dctx v^T  (Pt: P transposed, [T, T]) */
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) Pt[(size_t)j * T + i] = P[(size_t)i * T + j];
        coop_gemm(NULL, 0, T, a->dh, T, Pt, T, a->dctx + r0, a->D, NULL, 0.0f, a->dv + r0, a->D);
        coop_gemm(NULL, 1, T, T, a->dh, a->dctx + r0, a->D, a->v + r0, a->D, NULL, 0.0f, dP, T);
        /* softmax backward: dS = P * (dP - sum_j dP*P), times the scale */
        for (int i = 0; i < T; i++) {
            float *d = dP + (size_t)i * T;
            const float *p = P + (size_t)i * T;
            double dot = 0;
            for (int j = 0; j < T; j++) dot += (double)d[j] * p[j];
            for (int j = 0; j < T; j++) d[j] = p[j] * (d[j] - (float)dot) * scale;
        }
        /* dq = dS k; dk = dS^T q */
        coop_gemm(NULL, 0, T, a->dh, T, dP, T, a->k + r0, a->D, NULL, 0.0f, a->dq + r0, a->D);
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) Pt[(size_t)j * T + i] = dP[(size_t)i * T + j];
        coop_gemm(NULL, 0, T, a->dh, T, Pt, T, a->q + r0, a->D, NULL, 0.0f, a->dk + r0, a->D);
    }
}

/* ---- activations kept for backward (laid out in one arena block) ---------------------- */
typedef struct {
    float *q, *k, *v, *probs, *xhat1, *rstd1, *xhat2, *rstd2, *u;
} hf_layer_act;
typedef struct {
    int n, N, T, maxlen;
    int *len, *off;
    size_t *poff, nprobs;
    float *x, *xhat0, *rstd0;      /* x: the running hidden state [N, D] */
    hf_layer_act *layer;
    float *pooled, *pool_pre, *z1; /* [n, D], [n, D] (cls dense pre-tanh), [n, Hp] (mlp pre-GELU) */
    /* scratch */
    float *t1, *t2, *g, *scratch;  /* [N, D], [N, D], [N, max(F, Hp, D)], [tasks, 2 maxlen^2] */
    float *ctx;                    /* [N, D] attention output before its dense (not needed by backward) */
    float *dq, *dk, *dv;           /* [N, D] each (backward only) */
    int tasks;
} hf_act;

typedef struct { unsigned char *base; size_t used; } hf_bump;
static void *hf_take(hf_bump *b, size_t bytes) {
    size_t off = (b->used + 63) & ~(size_t)63;
    b->used = off + bytes;
    return b->base ? b->base + off : NULL;
}

/* lays out the activations for sequences of lengths len[0..n) in b (base NULL: only sizes) */
static void hf_layout(hf_bump *b, hf_act *a, const hf_model *w, const int *len, int n, int T, int tasks) {
    memset(a, 0, sizeof *a);
    a->n = n; a->T = T; a->tasks = tasks;
    a->len = (int *)hf_take(b, sizeof(int) * (size_t)n);
    a->off = (int *)hf_take(b, sizeof(int) * (size_t)n);
    a->poff = (size_t *)hf_take(b, sizeof(size_t) * (size_t)n);
    int N = 0, maxlen = 0;
    size_t np = 0;
    for (int s = 0; s < n; s++) {
        if (a->len) { a->len[s] = len[s]; a->off[s] = N; a->poff[s] = np; }
        N += len[s];
        np += (size_t)w->H * len[s] * len[s];
        if (len[s] > maxlen) maxlen = len[s];
    }
    a->N = N; a->nprobs = np; a->maxlen = maxlen;
    size_t ND = sizeof(float) * (size_t)N * w->D;
    a->x = (float *)hf_take(b, ND);
    a->xhat0 = (float *)hf_take(b, ND);
    a->rstd0 = (float *)hf_take(b, sizeof(float) * (size_t)N);
    a->layer = (hf_layer_act *)hf_take(b, sizeof(hf_layer_act) * (size_t)w->L);
    for (int l = 0; l < w->L; l++) {
        hf_layer_act t;
        t.q = (float *)hf_take(b, ND); t.k = (float *)hf_take(b, ND); t.v = (float *)hf_take(b, ND);
        t.probs = (float *)hf_take(b, sizeof(float) * np);
        t.xhat1 = (float *)hf_take(b, ND); t.rstd1 = (float *)hf_take(b, sizeof(float) * (size_t)N);
        t.xhat2 = (float *)hf_take(b, ND); t.rstd2 = (float *)hf_take(b, sizeof(float) * (size_t)N);
        t.u = (float *)hf_take(b, sizeof(float) * (size_t)N * w->F);
        if (a->layer) a->layer[l] = t;
    }
    a->pooled = (float *)hf_take(b, sizeof(float) * (size_t)n * w->D);
    a->pool_pre = (float *)hf_take(b, sizeof(float) * (size_t)n * w->D);
    a->z1 = (float *)hf_take(b, sizeof(float) * (size_t)n * (w->Hp > w->E ? w->Hp : w->E));
    a->t1 = (float *)hf_take(b, ND);
    a->t2 = (float *)hf_take(b, ND);
    {
        size_t gw = (size_t)(w->F > w->D ? w->F : w->D), gn = (size_t)(N > n ? N : n);
        if ((size_t)w->Hp > gw) gw = (size_t)w->Hp;
        a->g = (float *)hf_take(b, sizeof(float) * gn * gw);
    }
    a->ctx = (float *)hf_take(b, ND);
    a->dq = (float *)hf_take(b, ND);
    a->dk = (float *)hf_take(b, ND);
    a->dv = (float *)hf_take(b, ND);
    a->scratch = (float *)hf_take(b, sizeof(float) * 2 * (size_t)tasks * maxlen * maxlen + 64);
}

/* reserves `a` big enough and lays out the activations in it */
static hf_act *hf_alloc(coop_arena *ar, const hf_model *w, const int *len, int n, int T, int tasks) {
    hf_act count;
    hf_bump b = {NULL, sizeof(hf_act)};
    hf_layout(&b, &count, w, len, n, T, tasks);
    size_t need = b.used + 64;
    coop_arena_reset(ar);
    if (ar->size < need) {
        coop_arena_free(ar);
        if (coop_arena_reserve(ar, need + need / 4)) return NULL;
    }
    unsigned char *base = (unsigned char *)coop_arena_alloc(ar, need);
    if (!base) return NULL;
    b.base = base; b.used = sizeof(hf_act);
    hf_layout(&b, (hf_act *)base, w, len, n, T, tasks);
    return (hf_act *)base;
}

/* ---- the tower -------------------------------------------------------------------------- */
/* a->x holds word embeddings of the packed tokens, pos[N] their position ids; out [n, E] */
static void hf_forward(const hf_model *w, coop_pool *p, hf_act *a, const int *pos, float *out) {
    int N = a->N, D = w->D, F = w->F;
    /* embeddings: word + position + token type 0, LayerNorm */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            a->t1[(size_t)i * D + j] = a->x[(size_t)i * D + j] + w->pos[(size_t)pos[i] * D + j] + w->type[j];
    hf_ln_fwd(p, a->t1, a->x, a->xhat0, a->rstd0, w->ln_w, w->ln_b, N, D, w->eps);
    for (int l = 0; l < w->L; l++) {
        const hf_layer_w *y = &w->layer[l];
        hf_layer_act *c = &a->layer[l];
        /* self-attention: q, k, v [N, D] */
        coop_gemm(p, 1, N, D, D, a->x, D, y->q_w, D, y->q_b, 0.0f, c->q, D);
        coop_gemm(p, 1, N, D, D, a->x, D, y->k_w, D, y->k_b, 0.0f, c->k, D);
        coop_gemm(p, 1, N, D, D, a->x, D, y->v_w, D, y->v_b, 0.0f, c->v, D);
        hf_attn at = {a->n, w->H, D, D / w->H, a->len, a->off, a->poff, c->q, c->k, c->v, NULL,
                      c->probs, a->ctx, NULL, NULL, NULL, NULL, 0};
        coop_pool_run(p, a->n * w->H, hf_attn_forward_task, &at);
        /* y1 = LN1(x + ctx Wo^T + bo) */
        memcpy(a->t1, a->x, sizeof(float) * (size_t)N * D);
        coop_gemm(p, 1, N, D, D, a->ctx, D, y->o_w, D, y->o_b, 1.0f, a->t1, D);
        hf_ln_fwd(p, a->t1, a->t2, c->xhat1, c->rstd1, y->ln1_w, y->ln1_b, N, D, w->eps);
        /* x' = LN2(y1 + W2 gelu(W1 y1 + b1) + b2) */
        coop_gemm(p, 1, N, F, D, a->t2, D, y->i_w, D, y->i_b, 0.0f, c->u, F);
        hf_gelu_fwd(p, c->u, a->g, N, F);
        coop_gemm(p, 1, N, D, F, a->g, F, y->f_w, F, y->f_b, 1.0f, a->t2, D);
        hf_ln_fwd(p, a->t2, a->x, c->xhat2, c->rstd2, y->ln2_w, y->ln2_b, N, D, w->eps);
    }
    /* pooling: [n, D] */
    for (int s = 0; s < a->n; s++) {
        float *o = a->pooled + (size_t)s * D;
        const float *x = a->x + (size_t)a->off[s] * D;
        if (w->pooler == HF_POOL_MEAN) {
            for (int j = 0; j < D; j++) {
                double acc = 0;
                for (int t = 0; t < a->len[s]; t++) acc += x[(size_t)t * D + j];
                o[j] = (float)(acc / a->len[s]);
            }
        } else memcpy(o, x, sizeof(float) * (size_t)D);
    }
    if (w->has_pool_dense) {
        coop_gemm(p, 1, a->n, D, D, a->pooled, D, w->pool_w, D, w->pool_b, 0.0f, a->pool_pre, D);
        for (size_t i = 0; i < (size_t)a->n * D; i++) a->pooled[i] = tanhf(a->pool_pre[i]);
    }
    /* projection */
    if (w->proj == HF_PROJ_MLP) {
        coop_gemm(p, 1, a->n, w->Hp, D, a->pooled, D, w->proj0, D, NULL, 0.0f, a->z1, w->Hp);
        for (size_t i = 0; i < (size_t)a->n * w->Hp; i++) a->g[i] = hf_gelu(a->z1[i]);
        coop_gemm(p, 1, a->n, w->E, w->Hp, a->g, w->Hp, w->proj2, w->Hp, NULL, 0.0f, out, w->E);
    } else if (w->proj == HF_PROJ_LINEAR) {
        coop_gemm(p, 1, a->n, w->E, D, a->pooled, D, w->proj0, D, NULL, 0.0f, out, w->E);
    } else memcpy(out, a->pooled, sizeof(float) * (size_t)a->n * D);
}

/* dout [n, E] -> dxw [N, D]: gradient w.r.t. the packed word embeddings */
static void hf_backward(const hf_model *w, coop_pool *p, hf_act *a, const float *dout, float *dxw) {
    int N = a->N, D = w->D, F = w->F, n = a->n;
    float *dpool = a->t1;   /* [n, D] (n <= N) */
    /* projection backward */
    if (w->proj == HF_PROJ_MLP) {
        coop_gemm(p, 0, n, w->Hp, w->E, dout, w->E, w->proj2, w->Hp, NULL, 0.0f, a->g, w->Hp);
        for (size_t i = 0; i < (size_t)n * w->Hp; i++) a->g[i] *= hf_gelu_grad(a->z1[i]);
        coop_gemm(p, 0, n, D, w->Hp, a->g, w->Hp, w->proj0, D, NULL, 0.0f, dpool, D);
    } else if (w->proj == HF_PROJ_LINEAR) {
        coop_gemm(p, 0, n, D, w->E, dout, w->E, w->proj0, D, NULL, 0.0f, dpool, D);
    } else memcpy(dpool, dout, sizeof(float) * (size_t)n * D);
    if (w->has_pool_dense) {
        for (size_t i = 0; i < (size_t)n * D; i++) { float t = a->pooled[i]; a->g[i] = dpool[i] * (1 - t * t); }
        coop_gemm(p, 0, n, D, D, a->g, D, w->pool_w, D, NULL, 0.0f, dpool, D);
    }
    /* pooling backward into dx [N, D] (kept in dxw) */
    for (int s = 0; s < n; s++)
        for (int t = 0; t < a->len[s]; t++) {
            float *d = dxw + (size_t)(a->off[s] + t) * D;
            const float *g = dpool + (size_t)s * D;
            if (w->pooler == HF_POOL_MEAN) for (int j = 0; j < D; j++) d[j] = g[j] / (float)a->len[s];
            else if (t == 0) memcpy(d, g, sizeof(float) * (size_t)D);
            else memset(d, 0, sizeof(float) * (size_t)D);
        }
    float *dy1 = a->t1, *dctx = a->t2;
    for (int l = w->L - 1; l >= 0; l--) {
        const hf_layer_w *y = &w->layer[l];
        hf_layer_act *c = &a->layer[l];
        /* x' = LN2(h2), h2 = y1 + W2 gelu(u) + b2, u = W1 y1 + b1 */
        hf_ln_bwd(p, dxw, dxw, c->xhat2, c->rstd2, y->ln2_w, N, D);                    /* dh2 */
        coop_gemm(p, 0, N, F, D, dxw, D, y->f_w, F, NULL, 0.0f, a->g, F);              /* dg = dh2 W2 */
        hf_gelu_bwd(p, a->g, c->u, N, F);
        memcpy(dy1, dxw, sizeof(float) * (size_t)N * D);
        coop_gemm(p, 0, N, D, F, a->g, F, y->i_w, D, NULL, 1.0f, dy1, D);              /* += du W1 */
        /* y1 = LN1(h1), h1 = x + Wo ctx + bo */
        hf_ln_bwd(p, dy1, dy1, c->xhat1, c->rstd1, y->ln1_w, N, D);                     /* dh1 */
        coop_gemm(p, 0, N, D, D, dy1, D, y->o_w, D, NULL, 0.0f, dctx, D);
        float *dq = a->dq, *dk = a->dk, *dv = a->dv;
        hf_attn at = {n, w->H, D, D / w->H, a->len, a->off, a->poff, c->q, c->k, c->v, dctx,
                      c->probs, NULL, dq, dk, dv, a->scratch, 2 * (size_t)a->maxlen * a->maxlen};
        coop_pool_run(p, a->tasks < n * w->H ? a->tasks : n * w->H, hf_attn_backward_task, &at);
        /* dx = dh1 + dq Wq + dk Wk + dv Wv */
        memcpy(dxw, dy1, sizeof(float) * (size_t)N * D);
        coop_gemm(p, 0, N, D, D, dq, D, y->q_w, D, NULL, 1.0f, dxw, D);
        coop_gemm(p, 0, N, D, D, dk, D, y->k_w, D, NULL, 1.0f, dxw, D);
        coop_gemm(p, 0, N, D, D, dv, D, y->v_w, D, NULL, 1.0f, dxw, D);
    }
    /* embedding LayerNorm; position / type embeddings are constants */
    hf_ln_bwd(p, dxw, dxw, a->xhat0, a->rstd0, w->ln_w, N, D);
}

/* ---- public entry points ------------------------------------------------------------------- */
static int hf_threads(coop_pool *p) { return p ? coop_pool_threads(p) : 1; }

int coop_hftext_encode(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out) {
    hf_model *w = hf_get(m);
    if (!w) return -1;
    const int ctx = m->cfg.context_length, chunk = 64;
    int *len = (int *)coop_malloc(sizeof(int) * (size_t)chunk), *pos = (int *)coop_malloc(sizeof(int) * (size_t)chunk * ctx);
    int rc = -1;
    if (!len || !pos) goto out;
    for (int s0 = 0; s0 < n; s0 += chunk) {
        int nc = n - s0 < chunk ? n - s0 : chunk;
        /* valid tokens = ids != pad; RoBERTa position ids = pad + running count of valid tokens */
        for (int s = 0; s < nc; s++) {
            const int32_t *r = ids + (size_t)(s0 + s) * ctx;
            len[s] = 0;
            for (int t = 0; t < ctx; t++) {
                if (r[t] < 0 || r[t] >= w->V) { coop_set_error("%s: token id %d outside the vocabulary", m->path, (int)r[t]); goto out; }
                if (r[t] != w->pad) len[s]++;
            }
            if (!len[s]) { coop_set_error("%s: text %d has only padding", m->path, s0 + s); goto out; }
            if (w->pad + len[s] >= w->P) { coop_set_error("%s: %d tokens exceed hf_max_positions %d", m->path, len[s], w->P); goto out; }
        }
        hf_act *a = hf_alloc(&w->work, w, len, nc, ctx, hf_threads(p));
        if (!a) goto out;
        for (int s = 0, k = 0; s < nc; s++) {
            const int32_t *r = ids + (size_t)(s0 + s) * ctx;
            for (int t = 0; t < ctx; t++)
                if (r[t] != w->pad) {
                    memcpy(a->x + (size_t)k * w->D, w->word + (size_t)r[t] * w->D, sizeof(float) * (size_t)w->D);
                    pos[k] = w->pad + 1 + (k - a->off[s]);
                    k++;
                }
        }
        hf_forward(w, p, a, pos, out + (size_t)s0 * w->E);
    }
    rc = 0;
out:
    coop_free(len);
    coop_free(pos);
    return rc;
}

/* x [n, T, D] word embeddings; the valid tokens of prompt i are 0..eot[i] (HF inputs_embeds:
   positions pad+1+t, token type 0). cache->impl points at the hf_act laid out in cache->arena. */
int coop_hftext_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                               int n, int T, int n_shared, float *out, coop_text_cache *cache) {
    hf_model *w = hf_get(m);
    (void)n_shared;   /* bidirectional attention: nothing is shared between prompts */
    if (!w) return -1;
    int *len = (int *)coop_malloc(sizeof(int) * (size_t)n), *pos = NULL, rc = -1;
    if (!len) return -1;
    for (int s = 0; s < n; s++) {
        if (eot[s] < 0 || eot[s] >= T) { coop_set_error("%s: eot %d outside [0,%d)", m->path, eot[s], T); goto out; }
        len[s] = eot[s] + 1;
        if (w->pad + len[s] >= w->P) { coop_set_error("%s: %d tokens exceed hf_max_positions %d", m->path, len[s], w->P); goto out; }
    }
    coop_arena *ar = cache ? &cache->arena : &w->work;
    hf_act *a = hf_alloc(ar, w, len, n, T, hf_threads(p));
    if (cache) cache->impl = a;
    if (!a || !(pos = (int *)coop_malloc(sizeof(int) * (size_t)(a->N + 1)))) goto out;
    for (int s = 0; s < n; s++)
        for (int t = 0; t < len[s]; t++) {
            memcpy(a->x + (size_t)(a->off[s] + t) * w->D, x + ((size_t)s * T + t) * w->D, sizeof(float) * (size_t)w->D);
            pos[a->off[s] + t] = w->pad + 1 + t;
        }
    hf_forward(w, p, a, pos, out);
    rc = 0;
out:
    coop_free(len);
    coop_free(pos);
    return rc;
}

/* dout [n, E] -> dx [n, T, D] (rows after eot are zero: padding never existed) */
int coop_hftext_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                                const float *dout, float *dx) {
    hf_model *w = hf_get(m);
    if (!w) return -1;
    hf_act *a = cache ? (hf_act *)cache->impl : NULL;
    if (!a) { coop_set_error("%s: text backward without a cached forward", m->path); return -1; }
    /* the final hidden state a->x is not needed by backward: it holds the packed gradient */
    hf_backward(w, p, a, dout, a->x);
    memset(dx, 0, sizeof(float) * (size_t)a->n * a->T * w->D);
    for (int s = 0; s < a->n; s++)
        memcpy(dx + (size_t)s * a->T * w->D, a->x + (size_t)a->off[s] * w->D, sizeof(float) * (size_t)a->len[s] * w->D);
    return 0;
}
