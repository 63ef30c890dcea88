/* ===================================================================================== */
/* CoOp: prompt learner, loss and backward to the context, SGD + Dassl schedule,          */
/* data sets (folder-per-class, CoOp split JSON), few-shot sampling, image features       */
/* ===================================================================================== */
/* API: move to 00_api.h */
#ifndef COOP_COOP_API
#define COOP_COOP_API
/* ---- prompt learner + trainer ----
   The prompt of class c is CoOp's: the text "X X ... X {classname}." (M placeholders, '_' in
   class names read as spaces) is tokenised; its token embeddings give the frozen rows (SOT
   before the context; the class tokens, '.', EOT after it) and the M placeholder rows are
   replaced by the learned context vectors. ctp END: [SOT][V]1..M[CLASS].[EOT]; MIDDLE:
   [SOT][V]1..M/2[CLASS][V]M/2+1..M.[EOT]; FRONT: [SOT][CLASS][V]1..M.[EOT].
   Word init ("a photo of a"): the context starts as the words' token embeddings and M is their
   number of tokens (CoOp counts words; the two agree for the usual inits). With csc, every class
   starts from the words (CoOp ignores csc when ctx_init is given). */
enum { COOP_CTP_END = 0, COOP_CTP_MIDDLE = 1, COOP_CTP_FRONT = 2 };
typedef struct coop_trainer_opts {
    int         n_ctx;          /* M context vectors (16); replaced by the token count of ctx_init */
    int         ctp;            /* COOP_CTP_* (END) */
    int         csc;            /* 1: class-specific context [ncls, M, D]; 0: shared [M, D] */
    const char *ctx_init;       /* NULL / "" = random N(0, 0.02) from seed; else init words */
    uint64_t    seed;           /* random init */
    float       momentum;       /* SGD as torch.optim.SGD: momentum 0.9, dampening 0, no nesterov */
    float       weight_decay;   /* 5e-4, added to the gradient before momentum */
} coop_trainer_opts;
void coop_trainer_opts_default(coop_trainer_opts *o);
typedef struct coop_trainer coop_trainer;
/* classnames are copied; the model and pool must outlive the trainer */
coop_trainer *coop_trainer_new(coop_model *m, coop_pool *p, const char *const *classnames, int ncls,
                               const coop_trainer_opts *o);
void coop_trainer_free(coop_trainer *t);
/* the learned context (writable): ndim 2 [M, D] or 3 [ncls, M, D] */
float *coop_trainer_ctx(coop_trainer *t, int *ndim, int64_t shape[3]);
/* the class prompts: ids [ncls, context_length] and EOT index per class (either may be NULL) */
void coop_trainer_prompts(const coop_trainer *t, const int32_t **ids, const int **eot, int *T);
/* prompt embeddings for the current context: x [ncls, T, D] (T from coop_trainer_prompts) */
int coop_trainer_prompt_embeds(coop_trainer *t, float *x);
/* classifier head for the current context: L2-normalised class text features [ncls, E] */
int coop_trainer_head(coop_trainer *t, float *head);
/* full-batch loss (mean cross entropy) of image features img [B, E] (raw) with labels [B];
   grad (same shape as ctx, may be NULL) = d loss / d ctx; logits [B, ncls] may be NULL */
int coop_trainer_loss(coop_trainer *t, const float *img, const int *labels, int B, float *loss,
                      float *grad, float *logits);
/* one SGD step at learning rate lr; loss and number of correct argmax predictions (may be NULL) */
int coop_trainer_step(coop_trainer *t, const float *img, const int *labels, int B, float lr,
                      float *loss, int *correct);
/* SGD momentum buffer (same shape as ctx) and whether it has been started (first step: buf = d_p) */
float *coop_trainer_momentum(coop_trainer *t, int **started);
int coop_trainer_save_ctx(coop_trainer *t, const char *path);  /* .npy, CoOp's ctx shape */
int coop_trainer_load_ctx(coop_trainer *t, const char *path);  /* shape must match */
/* exp(logit_scale) of the model (CLIP's learned temperature) */
int coop_logit_scale(coop_model *m, float *scale);
/* logits [B, ncls] = scale * cos(img_b, head_c); head rows already L2-normalised */
void coop_classify(const float *img, int B, const float *head, int ncls, int E, float scale, float *logits);

/* ---- learning rate: Dassl's build_lr_scheduler ----
   epochs < warmup_epochs: warmup_lr (ConstantWarmupScheduler); afterwards CosineAnnealingLR with
   T_max = epochs, eta_min 0, started at the end of warm-up: lr(e) = lr/2 (1 + cos(pi (e - W) / E)),
   or lr when cosine == 0. Stepped once per epoch. */
typedef struct { float lr, warmup_lr; int epochs, warmup_epochs, cosine; } coop_sched;
float coop_sched_lr(const coop_sched *s, int epoch);

/* ---- data sets ---- */
typedef struct { char *path; int rel; int label; } coop_item;   /* path + rel = path inside the root */
enum { COOP_SPLIT_TRAIN = 0, COOP_SPLIT_VAL = 1, COOP_SPLIT_TEST = 2 };
typedef struct coop_dataset {
    char      *root;            /* folder the relative paths start from */
    char      *split_file;      /* the split JSON read, or NULL (folder-per-class) */
    int        ncls;
    char     **classnames;      /* as in the data ('_' kept); the prompt learner reads '_' as ' ' */
    coop_item *items[3];
    int        n[3];
    int        n_missing;       /* files listed but absent (dropped when allow_missing) */
} coop_dataset;
/* DATA resolution, in order:
   1. DATA is a .json file: a CoOp split; images relative to its folder (or the one subfolder
      of it that holds the first listed file, e.g. 101_ObjectCategories/).
   2. DATA holds split_*.json (the first by name), or DATA/caltech-101/ does: the same.
   3. DATA holds train/ and test/ (and optionally val/) folders of class folders.
   4. DATA is a folder of class folders: each class is split 50% train / 20% val / 30% test
      after a shuffle with split_seed (Dassl's read_and_split_data proportions).
   Missing files: an error naming the first one and the count, unless allow_missing, which
   drops them (d->n_missing counts them) -- a silently shrunken test set changes the accuracy. */
coop_dataset *coop_dataset_open(const char *data, uint64_t split_seed, int allow_missing);
void coop_dataset_free(coop_dataset *d);
/* Dassl generate_fewshot_dataset: per label (in order of first appearance) k items sampled
   without replacement (partial Fisher-Yates with rng), all items when fewer than k (as Dassl
   with repeat=False; *n_short counts such labels). k <= 0: all items. out: coop_malloc'd
   array of items whose paths alias `items`. */
int coop_fewshot(const coop_item *items, int n, int k, coop_rng *rng, coop_item **out, int *nout,
                 int *n_short);
/* CoOp split JSON {"train": [[rel, label, classname], ...], "val": ..., "test": ...} */
int coop_split_write(const char *path, const coop_dataset *d, const coop_item *const items[3],
                     const int n[3]);
/* image features [n, E] (raw) of files; seeds == NULL: test-time preprocessing (resize shorter
   side + center crop); else train-time random-resized-crop (scale 0.08-1) + flip from
   coop_rng seeded with seeds[i], so results do not depend on the thread count. Decoding and
   preprocessing run on the pool's threads; an unreadable image is an error naming it. */
int coop_image_features(coop_model *m, coop_pool *p, const coop_item *items, int n,
                        const uint64_t *seeds, float *out);

/* ---- small JSON reader (used for split files; public for embedders) ---- */
enum { COOP_JSON_NULL, COOP_JSON_BOOL, COOP_JSON_NUM, COOP_JSON_STR, COOP_JSON_ARR, COOP_JSON_OBJ };
typedef struct coop_json {
    int type, n;                /* n: elements of an array / members of an object */
    double num;                 /* NUM, BOOL */
    char *str;                  /* STR (UTF-8, NUL-terminated) */
    char **keys;                /* OBJ */
    struct coop_json *kids;     /* ARR / OBJ values */
    size_t offset;              /* byte offset in the text (for messages) */
} coop_json;
/* parses text; errors name `what` and the byte offset; free with coop_json_free */
coop_json *coop_json_parse(const char *text, size_t len, const char *what);
void coop_json_free(coop_json *j);
const coop_json *coop_json_get(const coop_json *obj, const char *key);   /* NULL if absent */
#endif
/* end API */

#include <dirent.h>
#include <strings.h>

/* ---- JSON ------------------------------------------------------------------------------------ */
typedef struct { const char *s; size_t n, i; const char *what; int depth; } coopj_p;

static int coopj_fail(coopj_p *p, const char *msg) {
    coop_set_error("%s: JSON error at byte %zu: %s", p->what, p->i, msg);
    return -1;
}
static void coopj_ws(coopj_p *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}
static void coopj_free_kids(coop_json *j) {
    if (j->type == COOP_JSON_STR) free(j->str);
    if (j->type == COOP_JSON_ARR || j->type == COOP_JSON_OBJ) {
        for (int i = 0; i < j->n; i++) { coopj_free_kids(&j->kids[i]); if (j->keys) free(j->keys[i]); }
        free(j->kids); free(j->keys);
    }
    memset(j, 0, sizeof *j);
}
static int coopj_hex4(coopj_p *p, uint32_t *v) {
    *v = 0;
    for (int k = 0; k < 4; k++, p->i++) {
        char c = p->i < p->n ? p->s[p->i] : 0;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return coopj_fail(p, "bad \\u escape");
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}
/* string at p->i (on the opening quote) -> malloc'd UTF-8 */
static char *coopj_string(coopj_p *p) {
    size_t cap = 32, o = 0;
    char *b = (char *)malloc(cap);
    p->i++;
    while (b) {
        if (p->i >= p->n) { coopj_fail(p, "unterminated string"); break; }
        unsigned char c = (unsigned char)p->s[p->i];
        if (o + 8 > cap) { char *nb = (char *)realloc(b, cap *= 2); if (!nb) break; b = nb; }
        if (c == '"') { p->i++; b[o] = 0; return b; }
        if (c < 0x20) { coopj_fail(p, "control character in string"); break; }
        if (c != '\\') {
            uint32_t cp;
            int k = coop_utf8_decode((const unsigned char *)p->s + p->i, p->n - p->i, &cp);
            if (k < 0) { coopj_fail(p, "invalid UTF-8 in string"); break; }
            memcpy(b + o, p->s + p->i, (size_t)k); o += (size_t)k; p->i += (size_t)k;
            continue;
        }
        p->i++;
        char e = p->i < p->n ? p->s[p->i] : 0;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *q = e ? strchr(from, e) : NULL;
        if (q) { b[o++] = to[q - from]; p->i++; continue; }
        if (e != 'u') { coopj_fail(p, "bad escape"); break; }
        p->i++;
        uint32_t cp, lo;
        if (coopj_hex4(p, &cp)) break;
        if (cp >= 0xdc00 && cp <= 0xdfff) { coopj_fail(p, "lone low surrogate"); break; }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (p->i + 1 >= p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') { coopj_fail(p, "lone high surrogate"); break; }
            p->i += 2;
            if (coopj_hex4(p, &lo)) break;
            if (lo < 0xdc00 || lo > 0xdfff) { coopj_fail(p, "bad surrogate pair"); break; }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) { coopj_fail(p, "NUL in string"); break; }
        o += (size_t)coop_utf8_encode(cp, b + o);
    }
    if (!b) coop_set_error("%s: out of memory", p->what);
    free(b);
    return NULL;
}
static int coopj_value(coopj_p *p, coop_json *j);
static int coopj_push(coopj_p *p, coop_json *j, int *cap) {
    if (j->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        coop_json *nk = (coop_json *)realloc(j->kids, (size_t)*cap * sizeof *nk);
        if (!nk) return coopj_fail(p, "out of memory");
        j->kids = nk;
        if (j->type == COOP_JSON_OBJ) {
            char **kk = (char **)realloc(j->keys, (size_t)*cap * sizeof *kk);
            if (!kk) return coopj_fail(p, "out of memory");
            j->keys = kk;
        }
    }
    memset(&j->kids[j->n], 0, sizeof j->kids[0]);
    return 0;
}
static int coopj_container(coopj_p *p, coop_json *j, char close) {
    int cap = 0;
    j->type = close == ']' ? COOP_JSON_ARR : COOP_JSON_OBJ;
    if (++p->depth > 64) return coopj_fail(p, "nesting deeper than 64");
    p->i++;
    coopj_ws(p);
    if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return 0; }
    for (;;) {
        if (coopj_push(p, j, &cap)) return -1;
        if (j->type == COOP_JSON_OBJ) {
            coopj_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"') return coopj_fail(p, "expected a string key");
            char *k = coopj_string(p);
            if (!k) return -1;
            j->keys[j->n] = k;
            coopj_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') { j->n++; return coopj_fail(p, "expected ':'"); }
            p->i++;
        }
        j->n++;
        if (coopj_value(p, &j->kids[j->n - 1])) return -1;
        coopj_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
        if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return 0; }
        if (p->i >= p->n) return coopj_fail(p, "unexpected end of input");
        return coopj_fail(p, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}
static int coopj_value(coopj_p *p, coop_json *j) {
    coopj_ws(p);
    j->offset = p->i;
    if (p->i >= p->n) return coopj_fail(p, "unexpected end of input");
    char c = p->s[p->i];
    if (c == '{') return coopj_container(p, j, '}');
    if (c == '[') return coopj_container(p, j, ']');
    if (c == '"') { j->type = COOP_JSON_STR; j->str = coopj_string(p); return j->str ? 0 : -1; }
    static const char *const lit[3] = {"null", "true", "false"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lit[k]);
        if (p->n - p->i >= l && !memcmp(p->s + p->i, lit[k], l)) {
            j->type = k ? COOP_JSON_BOOL : COOP_JSON_NULL; j->num = k == 1; p->i += l; return 0;
        }
    }
    /* number: JSON grammar checked here, value by strtod on a bounded copy */
    size_t s = p->i, i = p->i;
    if (i < p->n && p->s[i] == '-') i++;
    if (i < p->n && p->s[i] == '0') i++;
    else if (i < p->n && p->s[i] >= '1' && p->s[i] <= '9') while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    else return coopj_fail(p, "unexpected character");
    if (i < p->n && p->s[i] == '.') {
        if (++i >= p->n || p->s[i] < '0' || p->s[i] > '9') { p->i = i; return coopj_fail(p, "bad number"); }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') { p->i = i; return coopj_fail(p, "bad number"); }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    char buf[64];
    if (i - s >= sizeof buf) return coopj_fail(p, "number too long");
    memcpy(buf, p->s + s, i - s); buf[i - s] = 0;
    j->type = COOP_JSON_NUM; j->num = strtod(buf, NULL); p->i = i;
    return 0;
}

coop_json *coop_json_parse(const char *text, size_t len, const char *what) {
    coopj_p p = {text, len, 0, what ? what : "json", 0};
    coop_json *j = (coop_json *)calloc(1, sizeof *j);
    if (!j) { coop_set_error("%s: out of memory", p.what); return NULL; }
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) p.i = 3;     /* UTF-8 BOM */
    if (coopj_value(&p, j) == 0) {
        coopj_ws(&p);
        if (p.i == p.n) return j;
        coopj_fail(&p, "trailing characters after the value");
    }
    coopj_free_kids(j); free(j);
    return NULL;
}
void coop_json_free(coop_json *j) { if (j) { coopj_free_kids(j); free(j); } }
const coop_json *coop_json_get(const coop_json *o, const char *key) {
    if (!o || o->type != COOP_JSON_OBJ) return NULL;
    for (int i = 0; i < o->n; i++) if (!strcmp(o->keys[i], key)) return &o->kids[i];
    return NULL;
}

/* ---- schedule -------------------------------------------------------------------------------- */
float coop_sched_lr(const coop_sched *s, int epoch) {
    if (epoch < s->warmup_epochs) return s->warmup_lr;
    if (!s->cosine || s->epochs <= 0) return s->lr;
    /* torch CosineAnnealingLR closed form with T_max = epochs, started after the warm-up */
    return (float)(0.5 * s->lr * (1.0 + cos(3.14159265358979323846 * (epoch - s->warmup_epochs) / s->epochs)));
}

/* ---- prompt learner / trainer ---------------------------------------------------------------- */
struct coop_trainer {
    coop_model *m;
    coop_pool  *p;
    int     ncls, n_ctx, D, E, L, T, ctp, csc, n_shared;
    float   scale;              /* exp(logit_scale) */
    float   momentum, wd;
    int64_t nctx_vals;          /* numel of ctx */
    float  *ctx, *grad, *mom;   /* [ncls or 1, M, D] */
    int     mom_started;
    int32_t *ids;               /* [ncls, L] tokenised prompts */
    int    *eot;                /* [ncls] */
    int    *src;                /* [ncls, T]: row of `base` (>= 0) or context vector -1 - j */
    float  *base;               /* [ncls, T, D] token embeddings of the prompt ids */
    float  *x, *dx;             /* [ncls, T, D] */
    float  *txt, *dtxt;         /* [ncls, E] */
    char  **names;
    coop_text_cache *cache;
};

void coop_trainer_opts_default(coop_trainer_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_ctx = 16; o->ctp = COOP_CTP_END; o->seed = 1; o->momentum = 0.9f; o->weight_decay = 5e-4f;
}

int coop_logit_scale(coop_model *m, float *scale) {
    const float *ls = coop_model_f32(m, "logit_scale", 0, NULL);
    if (!ls) return -1;
    *scale = expf(ls[0]);
    return 0;
}

void coop_trainer_free(coop_trainer *t) {
    if (!t) return;
    if (t->names) for (int c = 0; c < t->ncls; c++) free(t->names[c]);
    free(t->names);
    coop_free(t->ctx); coop_free(t->grad); coop_free(t->mom); coop_free(t->ids); coop_free(t->eot);
    coop_free(t->src); coop_free(t->base); coop_free(t->x); coop_free(t->dx); coop_free(t->txt); coop_free(t->dtxt);
    if (t->cache) coop_text_cache_free(t->cache);
    free(t);
}

/* tokenises text into ids [L]; returns the EOT index, or -1 with an error naming the text */
static int coopt_tok(coop_model *m, const char *text, int32_t *ids) {
    int e = coop_tokenize(m, text, ids);
    if (e < 0) return -1;
    return e;
}

coop_trainer *coop_trainer_new(coop_model *m, coop_pool *p, const char *const *classnames, int ncls,
                               const coop_trainer_opts *o) {
    const coop_config *cf = coop_model_config(m);
    if (cf->text == COOP_TEXT_NONE) { coop_set_error("%s: model has no text tower; CoOp needs one", coop_model_path(m)); return NULL; }
    if (ncls < 1) { coop_set_error("coop_trainer_new: no classes"); return NULL; }
    if (o->ctp < COOP_CTP_END || o->ctp > COOP_CTP_FRONT) { coop_set_error("coop_trainer_new: bad class token position %d", o->ctp); return NULL; }
    int V, D;
    const float *emb = coop_token_embedding(m, &V, &D);
    if (!emb) return NULL;
    coop_trainer *t = (coop_trainer *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("out of memory"); return NULL; }
    t->m = m; t->p = p; t->ncls = ncls; t->D = D; t->E = cf->embed_dim; t->L = cf->context_length;
    t->ctp = o->ctp; t->csc = o->csc; t->momentum = o->momentum; t->wd = o->weight_decay;
    if (coop_logit_scale(m, &t->scale)) goto fail;
    const int L = t->L;
    int32_t *tmp = (int32_t *)coop_malloc(sizeof(int32_t) * (size_t)L);
    size_t plen = 0;
    char *prefix = NULL;
    if (!tmp) goto fail;
    /* context: the prefix text that stands for it in the tokenised prompts */
    if (o->ctx_init && o->ctx_init[0]) {
        prefix = strdup(o->ctx_init);
        if (!prefix) { coop_free(tmp); coop_set_error("out of memory"); goto fail; }
        for (char *q = prefix; *q; q++) if (*q == '_') *q = ' ';
        int e = coopt_tok(m, prefix, tmp);
        if (e < 0) { free(prefix); coop_free(tmp); goto fail; }
        t->n_ctx = e - 1;
    } else {
        if (o->n_ctx < 1 || o->n_ctx > L - 3) { coop_free(tmp); coop_set_error("n_ctx %d outside [1, %d]", o->n_ctx, L - 3); goto fail; }
        t->n_ctx = o->n_ctx;
        prefix = (char *)malloc((size_t)t->n_ctx * 2 + 1);
        if (!prefix) { coop_free(tmp); coop_set_error("out of memory"); goto fail; }
        for (int j = 0; j < t->n_ctx; j++) { prefix[2 * j] = 'X'; prefix[2 * j + 1] = ' '; }
        prefix[2 * t->n_ctx - 1] = 0;
    }
    if (t->n_ctx < 1) { coop_set_error("ctx_init \"%s\" has no tokens", o->ctx_init); free(prefix); coop_free(tmp); goto fail; }
    const int M = t->n_ctx;
    t->nctx_vals = (int64_t)(t->csc ? ncls : 1) * M * D;
    t->ctx = (float *)coop_malloc(sizeof(float) * (size_t)t->nctx_vals);
    t->grad = (float *)coop_calloc(sizeof(float) * (size_t)t->nctx_vals);
    t->mom = (float *)coop_calloc(sizeof(float) * (size_t)t->nctx_vals);
    t->ids = (int32_t *)coop_malloc(sizeof(int32_t) * (size_t)ncls * L);
    t->eot = (int *)coop_malloc(sizeof(int) * (size_t)ncls);
    t->names = (char **)calloc((size_t)ncls, sizeof(char *));
    if (!t->ctx || !t->grad || !t->mom || !t->ids || !t->eot || !t->names) { free(prefix); coop_free(tmp); goto fail; }
    if (o->ctx_init && o->ctx_init[0]) {
        /* the init words' token embeddings (rows 1..M of the tokenised words) */
        for (int c = 0; c < (t->csc ? ncls : 1); c++)
            for (int j = 0; j < M; j++) memcpy(t->ctx + ((size_t)c * M + j) * D, emb + (size_t)tmp[1 + j] * D, sizeof(float) * (size_t)D);
    } else {
        coop_rng r;
        coop_rng_seed(&r, o->seed);
        for (int64_t i = 0; i < t->nctx_vals; i++) t->ctx[i] = (float)(0.02 * coop_rng_normal(&r));
    }
    /* "<prefix>." gives the token count of everything but the class name */
    plen = strlen(prefix);
    {
        char *dot = (char *)malloc(plen + 2);
        if (!dot) { free(prefix); coop_free(tmp); coop_set_error("out of memory"); goto fail; }
        memcpy(dot, prefix, plen); dot[plen] = '.'; dot[plen + 1] = 0;
        int e0 = coopt_tok(m, dot, tmp);
        free(dot);
        if (e0 < 0) { free(prefix); coop_free(tmp); goto fail; }
        t->T = 0;
        int *nl = (int *)malloc(sizeof(int) * (size_t)ncls);
        char *text = NULL;
        for (int c = 0; c < ncls && nl; c++) {
            size_t nlen = strlen(classnames[c]);
            t->names[c] = strdup(classnames[c]);
            text = (char *)malloc(plen + nlen + 3);
            if (!t->names[c] || !text) { coop_set_error("out of memory"); break; }
            /* CoOp: prompt_prefix + " " + name + "." with '_' read as a space */
            memcpy(text, prefix, plen); text[plen] = ' ';
            for (size_t k = 0; k < nlen; k++) text[plen + 1 + k] = classnames[c][k] == '_' ? ' ' : classnames[c][k];
            text[plen + 1 + nlen] = '.'; text[plen + 2 + nlen] = 0;
            int32_t *ids = t->ids + (size_t)c * L;
            int e = coopt_tok(m, text, ids);
            if (e < 0) break;
            if (e >= L - 1) { coop_set_error("prompt for class '%s' fills the whole context (%d tokens): use fewer context tokens or a shorter name", classnames[c], L); e = -1; break; }
            nl[c] = e - e0;
            if (nl[c] < 1) { coop_set_error("class name '%s' gives no tokens", classnames[c]); e = -1; break; }
            /* the placeholder rows must be exactly the M tokens after SOT */
            for (int j = 0; j < M; j++)
                if (ids[1 + j] != tmp[1 + j]) { coop_set_error("prompt for class '%s': context tokens merge with the class name", classnames[c]); e = -1; break; }
            if (e < 0) break;
            t->eot[c] = e;
            if (e + 1 > t->T) t->T = e + 1;
            free(text); text = NULL;
        }
        free(text);
        free(prefix); coop_free(tmp);
        if (!nl) { coop_set_error("out of memory"); goto fail; }
        int ok = 1;
        for (int c = 0; c < ncls; c++) ok = ok && t->names[c] && t->eot[c] > 0 && t->eot[c] < L;
        if (!ok) { free(nl); goto fail; }
        /* rows of each prompt: where each position's vector comes from */
        const int T = t->T, h = M / 2;
        t->src = (int *)coop_malloc(sizeof(int) * (size_t)ncls * T);
        t->base = (float *)coop_malloc(sizeof(float) * (size_t)ncls * T * D);
        t->x = (float *)coop_malloc(sizeof(float) * (size_t)ncls * T * D);
        t->dx = (float *)coop_malloc(sizeof(float) * (size_t)ncls * T * D);
        t->txt = (float *)coop_malloc(sizeof(float) * (size_t)ncls * t->E);
        t->dtxt = (float *)coop_malloc(sizeof(float) * (size_t)ncls * t->E);
        t->cache = coop_text_cache_new();
        if (!t->src || !t->base || !t->x || !t->dx || !t->txt || !t->dtxt || !t->cache) { free(nl); goto fail; }
        for (int c = 0; c < ncls; c++) {
            int *s = t->src + (size_t)c * T, n = nl[c];
            for (int q = 0; q < T; q++) {
                int id = t->ids[(size_t)c * L + q];
                if (id < 0 || id >= V) { coop_set_error("token id %d outside the embedding table (%d)", id, V); free(nl); goto fail; }
                memcpy(t->base + ((size_t)c * T + q) * D, emb + (size_t)id * D, sizeof(float) * (size_t)D);
                s[q] = q;                                       /* SOT, '.', EOT, padding */
            }
            for (int j = 0; j < M; j++) {
                if (t->ctp == COOP_CTP_END) s[1 + j] = -1 - j;
                else if (t->ctp == COOP_CTP_FRONT) s[1 + n + j] = -1 - j;
                else s[j < h ? 1 + j : 1 + n + j] = -1 - j;
            }
            /* class tokens sit at 1 + M .. M + n of the tokenised prompt */
            int at = t->ctp == COOP_CTP_END ? 1 + M : t->ctp == COOP_CTP_FRONT ? 1 : 1 + h;
            for (int k = 0; k < n; k++) s[at + k] = 1 + M + k;
        }
        free(nl);
        /* identical leading rows across classes (the towers may compute them once) */
        t->n_shared = t->csc ? 1 : t->ctp == COOP_CTP_END ? 1 + M : t->ctp == COOP_CTP_MIDDLE ? 1 + h : 1;
        if (ncls == 1) t->n_shared = 0;
    }
    return t;
fail:
    coop_trainer_free(t);
    return NULL;
}

float *coop_trainer_ctx(coop_trainer *t, int *ndim, int64_t shape[3]) {
    if (ndim) *ndim = t->csc ? 3 : 2;
    if (shape) {
        int k = 0;
        if (t->csc) shape[k++] = t->ncls;
        shape[k++] = t->n_ctx; shape[k++] = t->D;
    }
    return t->ctx;
}

void coop_trainer_prompts(const coop_trainer *t, const int32_t **ids, const int **eot, int *T) {
    if (ids) *ids = t->ids;
    if (eot) *eot = t->eot;
    if (T) *T = t->T;
}

float *coop_trainer_momentum(coop_trainer *t, int **started) {
    if (started) *started = &t->mom_started;
    return t->mom;
}

/* x[c, q] = base row or context vector, as the source map says.  x: [ncls, T, D] */
static void coopt_build(const coop_trainer *t, float *x) {
    const int T = t->T, D = t->D, M = t->n_ctx;
    for (int c = 0; c < t->ncls; c++)
        for (int q = 0; q < T; q++) {
            int s = t->src[(size_t)c * T + q];
            const float *from = s >= 0 ? t->base + ((size_t)c * T + s) * D
                                       : t->ctx + ((size_t)(t->csc ? c : 0) * M + (-1 - s)) * D;
            memcpy(x + ((size_t)c * T + q) * D, from, sizeof(float) * (size_t)D);
        }
}

int coop_trainer_prompt_embeds(coop_trainer *t, float *x) { coopt_build(t, x); return 0; }

/* txt [ncls, E] raw -> rows divided by their norms (norms kept in inv[c] = 1/||txt_c||) */
static void coopt_normalize(const float *v, int n, int E, float *out, double *inv) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)v[(size_t)i * E + k] * v[(size_t)i * E + k];
        double r = s > 0 ? 1.0 / sqrt(s) : 0;
        if (inv) inv[i] = r;
        for (int k = 0; k < E; k++) out[(size_t)i * E + k] = (float)(v[(size_t)i * E + k] * r);
    }
}

int coop_trainer_head(coop_trainer *t, float *head) {
    coopt_build(t, t->x);
    if (coop_text_forward_embeds(t->m, t->p, t->x, t->eot, t->ncls, t->T, t->n_shared, t->txt, NULL)) return -1;
    coopt_normalize(t->txt, t->ncls, t->E, head, NULL);
    return 0;
}

void coop_classify(const float *img, int B, const float *head, int ncls, int E, float scale, float *logits) {
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)img[(size_t)b * E + k] * img[(size_t)b * E + k];
        double r = s > 0 ? 1.0 / sqrt(s) : 0;
        for (int c = 0; c < ncls; c++) {
            double d = 0;
            for (int k = 0; k < E; k++) d += (double)img[(size_t)b * E + k] * head[(size_t)c * E + k];
            logits[(size_t)b * ncls + c] = (float)(scale * d * r);
        }
    }
}

/* Forward: prompts -> text tower -> normalise -> logits = s cos -> mean cross entropy.
   Backward: dlogits = (softmax - onehot) / B; d tn_c = s sum_b dlogits[b,c] in_b;
   through the normalisation d txt_c = (d tn_c - tn_c (tn_c . d tn_c)) / ||txt_c||;
   the tower gives d x [ncls, T, D]; context rows of x are summed into d ctx
   (over classes too when the context is shared). */
int coop_trainer_loss(coop_trainer *t, const float *img, const int *labels, int B, float *loss,
                      float *grad, float *logits) {
    const int C = t->ncls, E = t->E, M = t->n_ctx, D = t->D, T = t->T;
    if (B < 1) { coop_set_error("coop_trainer_loss: empty batch"); return -1; }
    for (int b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] >= C) { coop_set_error("coop_trainer_loss: label %d outside [0, %d)", labels[b], C); return -1; }
    coopt_build(t, t->x);
    if (coop_text_forward_embeds(t->m, t->p, t->x, t->eot, C, T, t->n_shared, t->txt, grad ? t->cache : NULL)) return -1;
    size_t need = sizeof(double) * ((size_t)C + (size_t)C * E * 2 + (size_t)B * E + (size_t)B * C + (size_t)B);
    double *w = (double *)malloc(need);
    if (!w) { coop_set_error("out of memory"); return -1; }
    double *inv = w, *tn = inv + C, *dtn = tn + (size_t)C * E, *in = dtn + (size_t)C * E, *dl = in + (size_t)B * E, *ir = dl + (size_t)B * C;
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)t->txt[(size_t)c * E + k] * t->txt[(size_t)c * E + k];
        inv[c] = 1.0 / sqrt(s);
        for (int k = 0; k < E; k++) tn[(size_t)c * E + k] = t->txt[(size_t)c * E + k] * inv[c];
    }
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)img[(size_t)b * E + k] * img[(size_t)b * E + k];
        ir[b] = s > 0 ? 1.0 / sqrt(s) : 0;
        for (int k = 0; k < E; k++) in[(size_t)b * E + k] = img[(size_t)b * E + k] * ir[b];
    }
    double total = 0;
    for (int b = 0; b < B; b++) {
        double *lg = dl + (size_t)b * C, mx = -INFINITY, se = 0;
        for (int c = 0; c < C; c++) {
            double d = 0;
            for (int k = 0; k < E; k++) d += in[(size_t)b * E + k] * tn[(size_t)c * E + k];
            lg[c] = t->scale * d;
            if (logits) logits[(size_t)b * C + c] = (float)lg[c];
            if (lg[c] > mx) mx = lg[c];
        }
        for (int c = 0; c < C; c++) se += exp(lg[c] - mx);
        total += mx + log(se) - lg[labels[b]];
        for (int c = 0; c < C; c++) lg[c] = (exp(lg[c] - mx) / se - (c == labels[b])) / B;   /* dlogits */
    }
    *loss = (float)(total / B);
    if (!grad) { free(w); return 0; }
    for (int c = 0; c < C; c++) {
        double dot = 0;
        for (int k = 0; k < E; k++) {
            double g = 0;
            for (int b = 0; b < B; b++) g += dl[(size_t)b * C + c] * in[(size_t)b * E + k];
            dtn[(size_t)c * E + k] = t->scale * g;
            dot += g * t->scale * tn[(size_t)c * E + k];
        }
        for (int k = 0; k < E; k++)
            t->dtxt[(size_t)c * E + k] = (float)((dtn[(size_t)c * E + k] - tn[(size_t)c * E + k] * dot) * inv[c]);
    }
    free(w);
    if (coop_text_backward_embeds(t->m, t->p, t->cache, t->dtxt, t->dx)) return -1;
    memset(grad, 0, sizeof(float) * (size_t)t->nctx_vals);
    for (int c = 0; c < C; c++)
        for (int q = 0; q < T; q++) {
            int s = t->src[(size_t)c * T + q];
            if (s >= 0) continue;
            float *g = grad + ((size_t)(t->csc ? c : 0) * M + (-1 - s)) * D;
            const float *d = t->dx + ((size_t)c * T + q) * D;
            for (int k = 0; k < D; k++) g[k] += d[k];
        }
    return 0;
}

/* torch.optim.SGD (dampening 0, nesterov off): d_p = g + wd p; buf = d_p on the first step,
   else buf = momentum buf + d_p; p -= lr buf */
static void coopt_sgd(coop_trainer *t, float lr) {
    for (int64_t i = 0; i < t->nctx_vals; i++) {
        float d = t->grad[i] + t->wd * t->ctx[i];
        if (t->momentum != 0) {
            t->mom[i] = t->mom_started ? t->momentum * t->mom[i] + d : d;
            d = t->mom[i];
        }
        t->ctx[i] -= lr * d;
    }
    t->mom_started = 1;
}

int coop_trainer_step(coop_trainer *t, const float *img, const int *labels, int B, float lr,
                      float *loss, int *correct) {
    float *lg = correct ? (float *)malloc(sizeof(float) * (size_t)B * t->ncls) : NULL, l;
    if (correct && !lg) { coop_set_error("out of memory"); return -1; }
    int rc = coop_trainer_loss(t, img, labels, B, &l, t->grad, lg);
    if (rc == 0) {
        coopt_sgd(t, lr);
        if (loss) *loss = l;
        if (correct) {
            *correct = 0;
            for (int b = 0; b < B; b++) {
                int best = 0;
                for (int c = 1; c < t->ncls; c++) if (lg[(size_t)b * t->ncls + c] > lg[(size_t)b * t->ncls + best]) best = c;
                *correct += best == labels[b];
            }
        }
    }
    free(lg);
    return rc;
}

int coop_trainer_save_ctx(coop_trainer *t, const char *path) {
    int nd; int64_t sh[3];
    coop_trainer_ctx(t, &nd, sh);
    return coop_npy_write(path, "<f4", t->ctx, nd, sh);
}

int coop_trainer_load_ctx(coop_trainer *t, const char *path) {
    char dt[8]; int nd, want; int64_t sh[8], ws[3]; void *d;
    if (coop_npy_read(path, dt, &nd, sh, &d)) return -1;
    coop_trainer_ctx(t, &want, ws);
    int ok = !strcmp(dt, "<f4") && nd == want;
    for (int i = 0; ok && i < nd; i++) ok = sh[i] == ws[i];
    if (!ok) {
        if (want == 3) coop_set_error("%s: context shape does not match this trainer (want [%lld, %lld, %lld]; check --n-ctx, --csc, --ctx-init and the class list)", path, (long long)ws[0], (long long)ws[1], (long long)ws[2]);
        else coop_set_error("%s: context shape does not match this trainer (want [%lld, %lld]; check --n-ctx, --csc, --ctx-init)", path, (long long)ws[0], (long long)ws[1]);
        coop_free(d);
        return -1;
    }
    memcpy(t->ctx, d, sizeof(float) * (size_t)t->nctx_vals);
    coop_free(d);
    return 0;
}

/* ---- data sets --------------------------------------------------------------------------------- */
static char *coopd_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = (char *)malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    size_t o = la;
    if (la && a[la - 1] != '/') s[o++] = '/';
    memcpy(s + o, b, lb + 1);
    return s;
}
static int coopd_isdir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }
static int coopd_isfile(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }
static int coopd_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted names in dir (dirs: 1 = folders only, 0 = image files only); NULL + error on failure */
static char **coopd_list(const char *dir, int dirs, int *n) {
    DIR *d = opendir(dir);
    *n = 0;
    if (!d) { coop_set_error("%s: %s", dir, strerror(errno)); return NULL; }
    int cap = 16;
    char **v = (char **)malloc(sizeof(char *) * (size_t)cap);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *full = coopd_join(dir, e->d_name);
        int keep = 0;
        if (full && dirs) keep = coopd_isdir(full);
        else if (full) {
            const char *x = strrchr(e->d_name, '.');
            static const char *const ext[] = {"jpg", "jpeg", "png", "bmp", "gif", "tga", "ppm", "pgm", "pnm", "psd", "hdr", "jpe"};
            for (size_t k = 0; x && k < sizeof ext / sizeof ext[0]; k++) if (!strcasecmp(x + 1, ext[k])) keep = 1;
            keep = keep && coopd_isfile(full);
        }
        free(full);
        if (!keep) continue;
        if (*n == cap) { char **nv = (char **)realloc(v, sizeof(char *) * (size_t)(cap *= 2)); if (!nv) { break; } v = nv; }
        if (!(v[*n] = strdup(e->d_name))) break;
        (*n)++;
    }
    closedir(d);
    if (!v) { coop_set_error("out of memory"); return NULL; }
    qsort(v, (size_t)*n, sizeof *v, coopd_cmp);
    return v;
}
static void coopd_free_list(char **v, int n) { if (v) for (int i = 0; i < n; i++) free(v[i]); free(v); }

static int coopd_add(coop_dataset *d, int split, int *cap, const char *root, const char *rel, int label) {
    if (d->n[split] == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        coop_item *ni = (coop_item *)realloc(d->items[split], sizeof(coop_item) * (size_t)*cap);
        if (!ni) { coop_set_error("out of memory"); return -1; }
        d->items[split] = ni;
    }
    char *full = coopd_join(root, rel);
    if (!full) { coop_set_error("out of memory"); return -1; }
    coop_item *it = &d->items[split][d->n[split]++];
    it->path = full; it->label = label; it->rel = (int)(strlen(full) - strlen(rel));
    return 0;
}

void coop_dataset_free(coop_dataset *d) {
    if (!d) return;
    for (int s = 0; s < 3; s++) { for (int i = 0; i < d->n[s]; i++) free(d->items[s][i].path); free(d->items[s]); }
    coopd_free_list(d->classnames, d->ncls);
    free(d->root); free(d->split_file);
    free(d);
}

/* CoOp split JSON -> items; images under `base` or its one subfolder holding the first file */
static int coopd_read_split(coop_dataset *d, const char *file) {
    size_t len;
    char *txt = coop_read_file(file, &len);
    if (!txt) return -1;
    coop_json *j = coop_json_parse(txt, len, file);
    free(txt);
    if (!j) return -1;
    int rc = -1;
    static const char *const names[3] = {"train", "val", "test"};
    char *dir = strdup(file), *slash = dir ? strrchr(dir, '/') : NULL;
    if (!dir) { coop_set_error("out of memory"); goto done; }
    if (slash) *slash = 0; else strcpy(dir, ".");
    if (j->type != COOP_JSON_OBJ) { coop_set_error("%s: top level is not a JSON object", file); goto done; }
    const coop_json *tr = coop_json_get(j, "train");
    if (!tr || tr->type != COOP_JSON_ARR || tr->n == 0) { coop_set_error("%s: no \"train\" list", file); goto done; }
    /* find the image root with the first train item */
    const coop_json *first = &tr->kids[0];
    if (first->type != COOP_JSON_ARR || first->n < 2 || first->kids[0].type != COOP_JSON_STR) {
        coop_set_error("%s: byte %zu: items must be [relpath, label, classname]", file, first->offset); goto done;
    }
    {
        char *cand = coopd_join(dir, first->kids[0].str);
        if (cand && coopd_isfile(cand)) d->root = strdup(dir);
        free(cand);
        int ns = 0;
        char **subs = d->root ? NULL : coopd_list(dir, 1, &ns);
        for (int i = 0; i < ns && !d->root; i++) {
            char *sub = coopd_join(dir, subs[i]), *c2 = sub ? coopd_join(sub, first->kids[0].str) : NULL;
            if (c2 && coopd_isfile(c2)) { d->root = sub; sub = NULL; }
            free(sub); free(c2);
        }
        coopd_free_list(subs, ns);
        if (!d->root) { coop_set_error("%s: cannot find the images: '%s' is neither under %s nor under one of its subfolders", file, first->kids[0].str, dir); goto done; }
    }
    int maxlab = -1;
    for (int s = 0; s < 3; s++) {
        const coop_json *a = coop_json_get(j, names[s]);
        if (!a) continue;
        if (a->type != COOP_JSON_ARR) { coop_set_error("%s: byte %zu: \"%s\" is not a list", file, a->offset, names[s]); goto done; }
        for (int i = 0; i < a->n; i++) {
            const coop_json *it = &a->kids[i];
            if (it->type != COOP_JSON_ARR || it->n != 3 || it->kids[0].type != COOP_JSON_STR || it->kids[1].type != COOP_JSON_NUM ||
                it->kids[2].type != COOP_JSON_STR) {
                coop_set_error("%s: byte %zu: %s item %d is not [relpath, label, classname]", file, it->offset, names[s], i); goto done;
            }
            double lv = it->kids[1].num;
            if (lv < 0 || lv > 1e6 || lv != floor(lv)) { coop_set_error("%s: byte %zu: bad label %g", file, it->kids[1].offset, lv); goto done; }
            if ((int)lv > maxlab) maxlab = (int)lv;
        }
    }
    d->ncls = maxlab + 1;
    d->classnames = (char **)calloc((size_t)d->ncls, sizeof(char *));
    if (!d->classnames) { coop_set_error("out of memory"); goto done; }
    for (int s = 0; s < 3; s++) {
        const coop_json *a = coop_json_get(j, names[s]);
        int cap = 0;
        for (int i = 0; a && i < a->n; i++) {
            const coop_json *it = &a->kids[i];
            int lab = (int)it->kids[1].num;
            const char *cn = it->kids[2].str;
            if (!d->classnames[lab]) { if (!(d->classnames[lab] = strdup(cn))) { coop_set_error("out of memory"); goto done; } }
            else if (strcmp(d->classnames[lab], cn)) {
                coop_set_error("%s: byte %zu: label %d is called both '%s' and '%s'", file, it->offset, lab, d->classnames[lab], cn); goto done;
            }
            if (coopd_add(d, s, &cap, d->root, it->kids[0].str, lab)) goto done;
        }
    }
    for (int c = 0; c < d->ncls; c++)
        if (!d->classnames[c]) { coop_set_error("%s: label %d never appears (labels must be 0..%d)", file, c, d->ncls - 1); goto done; }
    d->split_file = strdup(file);
    rc = d->split_file ? 0 : -1;
done:
    free(dir);
    coop_json_free(j);
    return rc;
}

/* class folders under dir -> items of one split (classes must agree with d->classnames when set) */
static int coopd_read_folders(coop_dataset *d, const char *dir, const char *relprefix, int split, int *caps) {
    int nc;
    char **cls = coopd_list(dir, 1, &nc);
    if (!cls) return -1;
    if (nc == 0) { coop_set_error("%s: no class folders", dir); coopd_free_list(cls, nc); return -1; }
    if (!d->classnames) { d->classnames = cls; d->ncls = nc; }
    else {
        int same = nc == d->ncls;
        for (int c = 0; same && c < nc; c++) same = !strcmp(cls[c], d->classnames[c]);
        coopd_free_list(cls, nc);
        if (!same) { coop_set_error("%s: class folders differ from those of the training folder", dir); return -1; }
    }
    for (int c = 0; c < d->ncls; c++) {
        char *cdir = coopd_join(dir, d->classnames[c]);
        int nf;
        char **files = cdir ? coopd_list(cdir, 0, &nf) : NULL;
        free(cdir);
        if (!files) return -1;
        for (int i = 0; i < nf; i++) {
            char rel[4096];
            snprintf(rel, sizeof rel, "%s%s/%s", relprefix, d->classnames[c], files[i]);
            if (coopd_add(d, split, &caps[split], d->root, rel, c)) { coopd_free_list(files, nf); return -1; }
        }
        coopd_free_list(files, nf);
    }
    return 0;
}

static void coopd_shuffle(coop_item *v, int n, coop_rng *r) {
    for (int i = n - 1; i > 0; i--) { int j = coop_rng_below(r, i + 1); coop_item t = v[i]; v[i] = v[j]; v[j] = t; }
}

coop_dataset *coop_dataset_open(const char *data, uint64_t split_seed, int allow_missing) {
    coop_dataset *d = (coop_dataset *)calloc(1, sizeof *d);
    if (!d) { coop_set_error("out of memory"); return NULL; }
    size_t dl = strlen(data);
    int rc = -1;
    char *json = NULL;
    if (dl > 5 && !strcmp(data + dl - 5, ".json") && coopd_isfile(data)) json = strdup(data);
    else if (!coopd_isdir(data)) { coop_set_error("%s: not a folder or a .json split file", data); coop_dataset_free(d); return NULL; }
    for (int pass = 0; !json && pass < 2; pass++) {
        char *dir = pass ? coopd_join(data, "caltech-101") : strdup(data);
        DIR *dd = dir && coopd_isdir(dir) ? opendir(dir) : NULL;
        char *best = NULL;
        struct dirent *e;
        while (dd && (e = readdir(dd))) {
            size_t l = strlen(e->d_name);
            if (!strncmp(e->d_name, "split_", 6) && l > 5 && !strcmp(e->d_name + l - 5, ".json") && (!best || strcmp(e->d_name, best) < 0)) {
                free(best); best = strdup(e->d_name);
            }
        }
        if (dd) closedir(dd);
        if (best) json = coopd_join(dir, best);
        free(best); free(dir);
    }
    if (json) rc = coopd_read_split(d, json);
    else {
        char *tr = coopd_join(data, "train"), *te = coopd_join(data, "test"), *va = coopd_join(data, "val");
        int caps[3] = {0, 0, 0};
        d->root = strdup(data);
        if (!tr || !te || !va || !d->root) coop_set_error("out of memory");
        else if (coopd_isdir(tr) && coopd_isdir(te)) {
            rc = coopd_read_folders(d, tr, "train/", COOP_SPLIT_TRAIN, caps);
            if (!rc && coopd_isdir(va)) rc = coopd_read_folders(d, va, "val/", COOP_SPLIT_VAL, caps);
            if (!rc) rc = coopd_read_folders(d, te, "test/", COOP_SPLIT_TEST, caps);
        } else {
            /* one folder of classes: Dassl read_and_split_data (p_trn 0.5, p_val 0.2) per class */
            coop_dataset all;
            memset(&all, 0, sizeof all);
            all.root = d->root;
            rc = coopd_read_folders(&all, data, "", COOP_SPLIT_TRAIN, caps);
            d->classnames = all.classnames; d->ncls = all.ncls;
            coop_rng r;
            coop_rng_seed(&r, split_seed);
            int caps2[3] = {0, 0, 0};
            for (int c = 0; !rc && c < d->ncls; c++) {
                int n = 0, first = -1;
                for (int i = 0; i < all.n[0]; i++) if (all.items[0][i].label == c) { if (first < 0) first = i; n++; }
                coop_item *v = all.items[0] + (first < 0 ? 0 : first);     /* a class's files are contiguous */
                coopd_shuffle(v, n, &r);
                int ntr = (int)nearbyint(n * 0.5), nva = (int)nearbyint(n * 0.2);
                if (ntr < 1 || nva < 1 || n - ntr - nva < 1) {
                    coop_set_error("%s: class '%s' has %d images; splitting it 50/20/30 needs at least 3 (or give train/ and test/ folders, or a split JSON)", data, d->classnames[c], n);
                    rc = -1; break;
                }
                for (int i = 0; !rc && i < n; i++)
                    rc = coopd_add(d, i < ntr ? 0 : i < ntr + nva ? 1 : 2, &caps2[i < ntr ? 0 : i < ntr + nva ? 1 : 2], d->root, v[i].path + v[i].rel, c);
            }
            for (int i = 0; i < all.n[0]; i++) free(all.items[0][i].path);
            free(all.items[0]);
        }
        free(tr); free(te); free(va);
    }
    free(json);
    /* every listed file must exist (a stat each; cheap next to decoding) */
    for (int s = 0; !rc && s < 3; s++) {
        int o = 0;
        for (int i = 0; i < d->n[s]; i++) {
            if (coopd_isfile(d->items[s][i].path)) { d->items[s][o++] = d->items[s][i]; continue; }
            if (!allow_missing && !d->n_missing) coop_set_error("%s: missing", d->items[s][i].path);
            d->n_missing++;
            free(d->items[s][i].path);
        }
        d->n[s] = o;
    }
    if (!rc && d->n_missing && !allow_missing) {
        char first[600];
        snprintf(first, sizeof first, "%s", coop_last_error());
        coop_set_error("%d listed image(s) missing, first: %s (allow missing files to drop them)", d->n_missing, first);
        rc = -1;
    }
    if (!rc && d->n[0] == 0) { coop_set_error("%s: no training images", data); rc = -1; }
    if (rc) { coop_dataset_free(d); return NULL; }
    return d;
}

int coop_fewshot(const coop_item *items, int n, int k, coop_rng *rng, coop_item **out, int *nout, int *n_short) {
    *out = (coop_item *)coop_malloc(sizeof(coop_item) * (size_t)(n ? n : 1));
    int *idx = (int *)malloc(sizeof(int) * (size_t)(n ? n : 1)), *seen = (int *)calloc((size_t)(n ? n : 1), sizeof(int));
    *nout = 0;
    if (n_short) *n_short = 0;
    if (!*out || !idx || !seen) { coop_free(*out); *out = NULL; free(idx); free(seen); coop_set_error("out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        if (seen[i]) continue;
        /* items of this label in data order (labels in order of first appearance, as Dassl) */
        int m = 0;
        for (int q = i; q < n; q++) if (items[q].label == items[i].label) { idx[m++] = q; seen[q] = 1; }
        int take = m;
        if (k > 0 && m >= k) {
            take = k;
            for (int a = 0; a < k; a++) { int b = a + coop_rng_below(rng, m - a); int tmp = idx[a]; idx[a] = idx[b]; idx[b] = tmp; }
        } else if (k > 0 && n_short) (*n_short)++;
        for (int a = 0; a < take; a++) (*out)[(*nout)++] = items[idx[a]];
    }
    free(idx); free(seen);
    return 0;
}

static void coopd_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int coop_split_write(const char *path, const coop_dataset *d, const coop_item *const items[3], const int n[3]) {
    char *tmp = (char *)malloc(strlen(path) + 5);
    if (!tmp) { coop_set_error("out of memory"); return -1; }
    sprintf(tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) { coop_set_error("%s: %s", tmp, strerror(errno)); free(tmp); return -1; }
    static const char *const names[3] = {"train", "val", "test"};
    fprintf(f, "{");
    for (int s = 0; s < 3; s++) {
        fprintf(f, "%s\n\"%s\": [", s ? "," : "", names[s]);
        for (int i = 0; i < n[s]; i++) {
            fprintf(f, "%s\n  [", i ? "," : "");
            coopd_json_str(f, items[s][i].path + items[s][i].rel);
            fprintf(f, ", %d, ", items[s][i].label);
            coopd_json_str(f, d->classnames[items[s][i].label]);
            fprintf(f, "]");
        }
        fprintf(f, "]");
    }
    fprintf(f, "\n}\n");
    int ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path)) { coop_set_error("%s: write failed", path); remove(tmp); free(tmp); return -1; }
    free(tmp);
    return 0;
}

/* ---- image features ---------------------------------------------------------------------------- */
typedef struct {
    const coop_item *items; const uint64_t *seeds; const coop_config *cf;
    float *pix; int n, failed; char err[600];
} coopd_imgjob;

static void coopd_img_task(void *ctx, int task, int ntasks) {
    coopd_imgjob *j = (coopd_imgjob *)ctx;
    const int S = j->cf->image_size;
    for (int i = task; i < j->n; i += ntasks) {
        coop_image img;
        int rc = coop_image_load(j->items[i].path, &img);
        float *out = j->pix + (size_t)i * 3 * S * S;
        if (!rc) {
            if (j->seeds) {
                coop_rng r;
                coop_rng_seed(&r, j->seeds[i]);
                rc = coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &r, j->cf->image_mean, j->cf->image_std, out);
            } else rc = coop_preprocess(&img, S, j->cf->image_mean, j->cf->image_std, out);
            coop_image_free(&img);
        }
        if (rc && !j->failed) { j->failed = 1; snprintf(j->err, sizeof j->err, "%s", coop_last_error()); }
    }
}

int coop_image_features(coop_model *m, coop_pool *p, const coop_item *items, int n, const uint64_t *seeds, float *out) {
    const coop_config *cf = coop_model_config(m);
    if (cf->vision == COOP_VISION_NONE) { coop_set_error("%s: model has no image tower", coop_model_path(m)); return -1; }
    const int S = cf->image_size, chunk = 32;
    float *pix = (float *)coop_malloc(sizeof(float) * (size_t)chunk * 3 * S * S);
    if (!pix) return -1;
    for (int i = 0; i < n; i += chunk) {
        int k = n - i < chunk ? n - i : chunk;
        coopd_imgjob j = {items + i, seeds ? seeds + i : NULL, cf, pix, k, 0, ""};
        int th = p ? coop_pool_threads(p) : 1;
        coop_pool_run(p, th < k ? th : k, coopd_img_task, &j);
        if (j.failed) { coop_set_error("%s", j.err); coop_free(pix); return -1; }
        if (coop_encode_image(m, p, pix, k, out + (size_t)i * cf->embed_dim)) { coop_free(pix); return -1; }
    }
    coop_free(pix);
    return 0;
}
