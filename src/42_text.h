/* ===================================================================================== */
/* CLIP text tower: forward from ids or from input embeddings, and backward to them       */
/* ===================================================================================== */
/* x = token_embedding[ids] + positional_embedding; causal pre-LN blocks; ln_final; the row of
   the EOT token (argmax of ids) @ text_projection [D, E].

   Exact shortcuts (DESIGN.md "Where the speed comes from"), each proved by the tests against
   the full 77-token reference:
   - causal attention: a position never sees later ones, so each prompt stops at its EOT;
   - the first n_shared positions are the same in every prompt (SOT and a shared context):
     their rows are computed once, and every prompt's attention reads their keys and values;
   - only the EOT row is read, so the last block runs its out-projection and MLP on it alone.
   Rows are packed: [shared prefix rows][prompt 0's own rows][prompt 1's own rows]...

   Backward: with n_shared > 0 the gradient of the shared rows is the sum over all prompts; it
   is returned in prompt 0's rows of dx (other prompts' shared rows get 0), so that summing dx
   over prompts gives the right gradient for every position. Rows after a prompt's EOT get 0. */

struct coop_text_cache {
    coop_arena arena;   /* activations kept by the last forward (grown, then reused) */
    void *impl;         /* the tower's description of what is where in the arena */
};

coop_text_cache *coop_text_cache_new(void) {
    coop_text_cache *c = (coop_text_cache *)calloc(1, sizeof *c);
    if (!c) coop_set_error("out of memory");
    return c;
}

void coop_text_cache_free(coop_text_cache *c) {
    if (!c) return;
    coop_arena_free(&c->arena);
    free(c);
}

typedef struct {
    int D, L, H, F, E, V, ctx, act;
    float eps;
    const float *tok, *pos, *lnf_w, *lnf_b, *proj;
    tw_block *blocks;
    coop_arena work;
} ctext_state;

static void ctext_state_free(void *ptr) {
    ctext_state *t = (ctext_state *)ptr;
    if (!t) return;
    coop_arena_free(&t->work);
    free(t->blocks);
    free(t);
}

static ctext_state *ctext_state_get(coop_model *m) {
    ctext_state *t = (ctext_state *)coop_model_slot(m, COOP_SLOT_TEXT);
    if (t) return t;
    const coop_config *c = coop_model_config(m);
    if (c->text != COOP_TEXT_CLIP) { coop_set_error("%s: not a CLIP text tower", coop_model_path(m)); return NULL; }
    t = (ctext_state *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("out of memory"); return NULL; }
    t->D = c->text_width; t->L = c->text_layers; t->H = c->text_heads; t->F = c->text_mlp;
    t->E = c->embed_dim; t->V = c->vocab_size; t->ctx = c->context_length; t->act = c->text_act; t->eps = c->ln_eps;
    int64_t tok[2] = {t->V, t->D}, pos[2] = {t->ctx, t->D}, d1[1] = {t->D}, proj[2] = {t->D, t->E};
    t->blocks = (tw_block *)calloc((size_t)t->L, sizeof(tw_block));
    int ok = t->blocks && (t->tok = coop_model_f32(m, "token_embedding.weight", 2, tok)) &&
             (t->pos = coop_model_f32(m, "positional_embedding", 2, pos)) &&
             (t->lnf_w = coop_model_f32(m, "ln_final.weight", 1, d1)) &&
             (t->lnf_b = coop_model_f32(m, "ln_final.bias", 1, d1)) &&
             (t->proj = coop_model_f32(m, "text_projection", 2, proj));
    for (int i = 0; ok && i < t->L; i++) ok = !tw_block_load(m, "transformer", i, t->D, t->F, &t->blocks[i]);
    if (!ok) { ctext_state_free(t); return NULL; }
    if (t->ctx > 1024) { coop_set_error("%s: context_length %d over 1024", coop_model_path(m), t->ctx); ctext_state_free(t); return NULL; }
    coop_model_set_slot(m, COOP_SLOT_TEXT, t, ctext_state_free);
    return t;
}

/* the packed layout of one forward, kept in the cache for the backward */
typedef struct {
    int n, T, P, R;                /* prompts, positions given, shared prefix rows, packed rows */
    int *eot, *row0;               /* per prompt: EOT position, first own row */
    tw_seq *full, *last;           /* sequence lists for inner layers and for the last one */
    int nseq;
    tw_dims dfull, dlast;
    tw_saved *sv;                  /* per layer */
    float *xf, *meanf, *rstdf;     /* ln_final input [n, D] and its statistics */
} ctext_layout;

static size_t ct_sz(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* lays out sequences: an optional prefix sequence, then one per prompt */
static void ct_plan(ctext_layout *lay, const int *eot, int n, int T, int n_shared, int H, int D, int F) {
    int P = n_shared;
    for (int i = 0; i < n; i++) if (eot[i] < P) P = eot[i];   /* every prompt keeps its EOT row */
    if (n == 1) P = 0;
    lay->n = n; lay->T = T; lay->P = P;
    int r = P, k = 0;
    if (P > 0) {
        tw_seq q = {0, P, 0, 0, P, 0};
        lay->full[k] = q;
        tw_seq z = {0, P, 0, 0, 0, 0};   /* last layer: the prefix only provides keys/values */
        lay->last[k++] = z;
    }
    for (int i = 0; i < n; i++) {
        int len = eot[i] + 1 - P;
        lay->eot[i] = eot[i];
        lay->row0[i] = r;
        tw_seq q = {r, len, P, 0, len, r};
        lay->full[k] = q;
        tw_seq z = {r, len, P, len - 1, 1, i};
        lay->last[k++] = z;
        r += len;
    }
    lay->R = r;
    lay->nseq = k;
    lay->dfull = tw_plan(lay->full, k, r, D, H, F);
    lay->dlast = tw_plan(lay->last, k, r, D, H, F);
}

int coop_cliptext_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                                 int n, int T, int n_shared, float *out, coop_text_cache *cache) {
    ctext_state *t = ctext_state_get(m);
    if (!t) return -1;
    int D = t->D, F = t->F, H = t->H, L = t->L;
    if (T > t->ctx) { coop_set_error("%s: %d positions, context is %d", coop_model_path(m), T, t->ctx); return -1; }
    /* rows: at most n*T; plan into the cache arena (training) or the work arena */
    /* exact sizes of the packed layout (ct_plan below lays it out the same way) */
    int P0 = n == 1 ? 0 : n_shared;
    for (int i = 0; i < n; i++) if (eot[i] < P0) P0 = eot[i];
    size_t Rmax = (size_t)P0, nseq = (size_t)n + 1, probs = (size_t)P0 * P0;
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)(eot[i] + 1 - P0);
        Rmax += len;
        probs += len * (P0 + len);
    }
    probs *= (size_t)H;
    coop_arena *keep = cache ? &cache->arena : &t->work;
    size_t per_layer = ct_sz(Rmax * D * 4) + 2 * ct_sz(Rmax * 4) + ct_sz(Rmax * 3 * D * 4) + ct_sz(probs * 4) +
                       ct_sz(Rmax * D * 4) + 2 * ct_sz(Rmax * 4) + ct_sz(Rmax * F * 4);
    size_t need_keep = ct_sz(sizeof(ctext_layout)) + 2 * ct_sz(n * sizeof(int)) + 2 * ct_sz(nseq * sizeof(tw_seq)) +
                       ct_sz(L * sizeof(tw_saved)) + (cache ? per_layer * L : 0) + ct_sz((size_t)n * D * 4) + 2 * ct_sz((size_t)n * 4);
    size_t need_work = ct_sz(Rmax * D * 4) * 5 + ct_sz(Rmax * 3 * D * 4) + ct_sz(Rmax * F * 4) + 2 * ct_sz(Rmax * 4) +
                       ct_sz(probs * 4) + ct_sz(nseq * sizeof(size_t));
    coop_arena_reset(&t->work);
    if (cache) {
        coop_arena_reset(keep);
        if (coop_arena_reserve(keep, need_keep)) return -1;
        if (coop_arena_reserve(&t->work, need_work)) return -1;
    } else if (coop_arena_reserve(&t->work, need_keep + need_work)) return -1;
    ctext_layout *lay = (ctext_layout *)coop_arena_alloc(keep, sizeof *lay);
    lay->eot = (int *)coop_arena_alloc(keep, n * sizeof(int));
    lay->row0 = (int *)coop_arena_alloc(keep, n * sizeof(int));
    lay->full = (tw_seq *)coop_arena_alloc(keep, nseq * sizeof(tw_seq));
    lay->last = (tw_seq *)coop_arena_alloc(keep, nseq * sizeof(tw_seq));
    lay->sv = (tw_saved *)coop_arena_alloc(keep, L * sizeof(tw_saved));
    lay->xf = (float *)coop_arena_alloc(keep, (size_t)n * D * 4);
    lay->meanf = (float *)coop_arena_alloc(keep, (size_t)n * 4);
    lay->rstdf = (float *)coop_arena_alloc(keep, (size_t)n * 4);
    ct_plan(lay, eot, n, T, n_shared, H, D, F);
    size_t R = (size_t)lay->R;
    if (cache) {
        for (int l = 0; l < L; l++) {
            tw_saved *s = &lay->sv[l];
            s->x = (float *)coop_arena_alloc(keep, R * D * 4);
            s->mean1 = (float *)coop_arena_alloc(keep, R * 4);
            s->rstd1 = (float *)coop_arena_alloc(keep, R * 4);
            s->qkv = (float *)coop_arena_alloc(keep, R * 3 * D * 4);
            s->P = (float *)coop_arena_alloc(keep, probs * 4);
            s->xmid = (float *)coop_arena_alloc(keep, R * D * 4);
            s->mean2 = (float *)coop_arena_alloc(keep, R * 4);
            s->rstd2 = (float *)coop_arena_alloc(keep, R * 4);
            s->u = (float *)coop_arena_alloc(keep, R * F * 4);
        }
        cache->impl = lay;
    }
    coop_arena *w = &t->work;
    float *X = (float *)coop_arena_alloc(w, R * D * 4), *Y = (float *)coop_arena_alloc(w, R * D * 4);
    tw_scratch s;
    s.h = (float *)coop_arena_alloc(w, R * D * 4);
    s.qkv = (float *)coop_arena_alloc(w, R * 3 * D * 4);
    s.a = (float *)coop_arena_alloc(w, R * D * 4);
    s.xmid = (float *)coop_arena_alloc(w, R * D * 4);
    s.u = (float *)coop_arena_alloc(w, R * F * 4);
    s.mean = (float *)coop_arena_alloc(w, R * 4);
    s.rstd = (float *)coop_arena_alloc(w, R * 4);
    s.P = (float *)coop_arena_alloc(w, probs * 4);
    s.poff = (size_t *)coop_arena_alloc(w, nseq * sizeof(size_t));
    if (!s.poff || !lay->rstdf) return -1;
    /* input rows: shared prefix from prompt 0, then each prompt's own positions */
    for (int q = 0; q < lay->P; q++)
        for (int c = 0; c < D; c++) X[(size_t)q * D + c] = x[(size_t)q * D + c] + t->pos[(size_t)q * D + c];
    for (int i = 0; i < n; i++)
        for (int q = lay->P; q <= eot[i]; q++) {
            float *xr = X + (size_t)(lay->row0[i] + q - lay->P) * D;
            const float *src = x + ((size_t)i * T + q) * D, *pe = t->pos + (size_t)q * D;
            for (int c = 0; c < D; c++) xr[c] = src[c] + pe[c];
        }
    for (int l = 0; l < L; l++) {
        int last = l == L - 1;
        tw_block_forward(p, &t->blocks[l], last ? &lay->dlast : &lay->dfull, t->act, t->eps, 1,
                         last ? lay->last : lay->full, lay->nseq, X, Y, &s, cache ? &lay->sv[l] : NULL);
        float *tmp = X; X = Y; Y = tmp;
    }
    /* X: [n, D] EOT rows */
    memcpy(lay->xf, X, sizeof(float) * (size_t)n * D);
    layernorm_forward(s.h, lay->meanf, lay->rstdf, X, t->lnf_w, t->lnf_b, n, D, t->eps);
    coop_gemm(p, 0, n, t->E, D, s.h, D, t->proj, t->E, NULL, 0.0f, out, t->E);
    return 0;
}

int coop_cliptext_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                                  const float *dout, float *dx) {
    ctext_state *t = ctext_state_get(m);
    if (!t) return -1;
    if (!cache || !cache->impl) { coop_set_error("text backward: no forward with a cache before it"); return -1; }
    ctext_layout *lay = (ctext_layout *)cache->impl;
    int n = lay->n, T = lay->T, D = t->D, F = t->F, L = t->L;
    size_t R = (size_t)lay->R, nseq = (size_t)lay->nseq;
    coop_arena *w = &t->work;
    coop_arena_reset(w);
    size_t need = ct_sz(R * D * 4) * 4 + ct_sz(R * 3 * D * 4) + ct_sz(R * F * 4) + ct_sz(nseq * sizeof(size_t)) +
                  ct_sz(nseq * (size_t)lay->P * 3 * D * 4 + 4);
    if (coop_arena_reserve(w, need)) return -1;
    float *dY = (float *)coop_arena_alloc(w, R * D * 4), *dX = (float *)coop_arena_alloc(w, R * D * 4);
    tw_scratch s;
    memset(&s, 0, sizeof s);
    s.h = (float *)coop_arena_alloc(w, R * D * 4);
    s.a = (float *)coop_arena_alloc(w, R * D * 4);
    s.qkv = (float *)coop_arena_alloc(w, R * 3 * D * 4);
    s.u = (float *)coop_arena_alloc(w, R * F * 4);
    s.poff = (size_t *)coop_arena_alloc(w, nseq * sizeof(size_t));
    float *dpref = (float *)coop_arena_alloc(w, nseq * (size_t)lay->P * 3 * D * 4 + 4);
    if (!dpref) return -1;
    /* projection and ln_final: d(EOT rows) */
    coop_gemm(p, 1, n, D, t->E, dout, t->E, t->proj, t->E, NULL, 0.0f, s.h, D);
    memset(dY, 0, sizeof(float) * (size_t)n * D);
    layernorm_backward(dY, s.h, lay->xf, t->lnf_w, lay->meanf, lay->rstdf, n, D);
    for (int l = L - 1; l >= 0; l--) {
        int last = l == L - 1;
        tw_block_backward(p, &t->blocks[l], last ? &lay->dlast : &lay->dfull, t->act, 1,
                          last ? lay->last : lay->full, lay->nseq, &lay->sv[l], dY, dX, &s, dpref);
        float *tmp = dY; dY = dX; dX = tmp;
    }
    /* dY: [R, D] gradient of the packed input rows -> dx [n, T, D] */
    memset(dx, 0, sizeof(float) * (size_t)n * T * D);
    memcpy(dx, dY, sizeof(float) * (size_t)lay->P * D);
    for (int i = 0; i < n; i++)
        memcpy(dx + ((size_t)i * T + lay->P) * D, dY + (size_t)lay->row0[i] * D,
               sizeof(float) * (size_t)(lay->eot[i] + 1 - lay->P) * D);
    return 0;
}

/* ids [n, ctx] -> features [n, E]; the EOT position is the argmax of the ids, as in OpenCLIP */
int coop_cliptext_encode(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out) {
    ctext_state *t = ctext_state_get(m);
    if (!t) return -1;
    int D = t->D, C = t->ctx, chunk = 256;
    float *x = (float *)coop_malloc(sizeof(float) * (size_t)chunk * C * D);
    int *eot = (int *)malloc(sizeof(int) * (size_t)chunk);
    int rc = x && eot ? 0 : -1;
    for (int i0 = 0; i0 < n && !rc; i0 += chunk) {
        int nb = n - i0 < chunk ? n - i0 : chunk, T = 1;
        for (int b = 0; b < nb; b++) {
            const int32_t *r = ids + (size_t)(i0 + b) * C;
            int e = 0;
            for (int q = 1; q < C; q++) if (r[q] > r[e]) e = q;
            eot[b] = e;
            if (e + 1 > T) T = e + 1;
        }
        for (int b = 0; b < nb; b++)
            for (int q = 0; q < T; q++) {
                int32_t id = ids[(size_t)(i0 + b) * C + q];
                if (id < 0 || id >= t->V) { coop_set_error("%s: token id %d outside the vocabulary", coop_model_path(m), (int)id); rc = -1; break; }
                memcpy(x + ((size_t)b * T + q) * D, t->tok + (size_t)id * D, sizeof(float) * D);
            }
        if (!rc) rc = coop_cliptext_forward_embeds(m, p, x, eot, nb, T, 0, out + (size_t)i0 * t->E, NULL);
    }
    coop_free(x);
    free(eot);
    return rc;
}
