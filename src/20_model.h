/* ===================================================================================== */
/* Model file: one flat file, mapped with mmap and used in place                          */
/* ===================================================================================== */
/* Layout (little-endian, offsets from the start of the file):
     header, 64 bytes: char magic[8] "COOPMODL"; u32 version (1); u32 n_tensors;
                       u64 file_size; u64 config_off, config_size; u64 tok_off, tok_size;
                       u64 table_off
     config:   UTF-8 text, one "key value..." per line (see coop_config_parse)
     tokenizer: sections [u32 name_len][name][u64 len][bytes][zero pad to 8]
     tensors:  data, each 64-byte aligned so SIMD loads work in place
     table:    n_tensors entries of 128 bytes: char name[80]; u32 dtype (0 f32, 1 f16,
               2 bf16); u32 ndim (1..4); u32 shape[4] (unused = 1); u64 offset; u64 nbytes;
               8 bytes of zero
   Everything is checked against the file size before it is used. */

#define COOP__MAGIC "COOPMODL"
#define COOP__VERSION 1u
#define COOP__ENTRY 128

struct coop_model {
    char         path[512];
    unsigned char *map;
    size_t       size;
    coop_config  cfg;
    int          n;
    coop_tensor *tensors;
    float       *widened;          /* one allocation holding fp32 copies of f16/bf16 tensors */
    const unsigned char *tok;
    size_t       tok_size;
    void        *slot[COOP_NSLOTS];
    void       (*slot_free[COOP_NSLOTS])(void *);
};

static uint32_t coop__rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t coop__rd64(const unsigned char *p) { return (uint64_t)coop__rd32(p) | (uint64_t)coop__rd32(p + 4) << 32; }
static void coop__wr32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void coop__wr64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static size_t coop__dtype_size(int dt) { return dt == COOP_F32 ? 4 : 2; }

/* ---- config ----------------------------------------------------------------------------- */
void coop_config_defaults(coop_config *c) {
    static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    memset(c, 0, sizeof *c);
    memcpy(c->image_mean, mean, sizeof mean);
    memcpy(c->image_std, std, sizeof std);
    c->context_length = 77;
    c->sot_id = 49406; c->eot_id = 49407;
    c->ln_eps = 1e-5f;
    c->hf_type_vocab = 1;
}

/* the keys of the config text; each maps to one struct field */
enum { K_STR, K_INT, K_INTS, K_FLOATS, K_ENUM };
typedef struct { const char *key; int kind, count; size_t off; const char *names; } coop__cfgkey;
#define COOP__F(field) offsetof(coop_config, field)
static const coop__cfgkey coop__keys[] = {
    {"model_name", K_STR, 64, COOP__F(model_name), NULL},
    {"pretrained", K_STR, 64, COOP__F(pretrained), NULL},
    {"embed_dim", K_INT, 1, COOP__F(embed_dim), NULL},
    {"vision", K_ENUM, 1, COOP__F(vision), "none vit resnet"},
    {"image_size", K_INT, 1, COOP__F(image_size), NULL},
    {"vision_width", K_INT, 1, COOP__F(vision_width), NULL},
    {"vision_layers", K_INT, 1, COOP__F(vision_layers), NULL},
    {"vision_heads", K_INT, 1, COOP__F(vision_heads), NULL},
    {"vision_patch", K_INT, 1, COOP__F(vision_patch), NULL},
    {"vision_mlp", K_INT, 1, COOP__F(vision_mlp), NULL},
    {"resnet_layers", K_INTS, 4, COOP__F(resnet_layers), NULL},
    {"vision_act", K_ENUM, 1, COOP__F(vision_act), "gelu quick_gelu"},
    {"image_mean", K_FLOATS, 3, COOP__F(image_mean), NULL},
    {"image_std", K_FLOATS, 3, COOP__F(image_std), NULL},
    {"text", K_ENUM, 1, COOP__F(text), "none clip hf"},
    {"context_length", K_INT, 1, COOP__F(context_length), NULL},
    {"vocab_size", K_INT, 1, COOP__F(vocab_size), NULL},
    {"text_width", K_INT, 1, COOP__F(text_width), NULL},
    {"text_layers", K_INT, 1, COOP__F(text_layers), NULL},
    {"text_heads", K_INT, 1, COOP__F(text_heads), NULL},
    {"text_mlp", K_INT, 1, COOP__F(text_mlp), NULL},
    {"text_act", K_ENUM, 1, COOP__F(text_act), "gelu quick_gelu"},
    {"tokenizer", K_ENUM, 1, COOP__F(tokenizer), "none clip_bpe gpt2_bpe unigram"},
    {"pad_id", K_INT, 1, COOP__F(pad_id), NULL},
    {"sot_id", K_INT, 1, COOP__F(sot_id), NULL},
    {"eot_id", K_INT, 1, COOP__F(eot_id), NULL},
    {"hf_model_type", K_STR, 32, COOP__F(hf_model_type), NULL},
    {"hf_pooler", K_STR, 16, COOP__F(hf_pooler), NULL},
    {"hf_proj", K_STR, 16, COOP__F(hf_proj), NULL},
    {"hf_proj_hidden", K_INT, 1, COOP__F(hf_proj_hidden), NULL},
    {"hf_max_positions", K_INT, 1, COOP__F(hf_max_positions), NULL},
    {"hf_type_vocab", K_INT, 1, COOP__F(hf_type_vocab), NULL},
    {"ln_eps", K_FLOATS, 1, COOP__F(ln_eps), NULL},
    {"bn_folded", K_INT, 1, COOP__F(bn_folded), NULL},
};
#define COOP__NKEYS (int)(sizeof coop__keys / sizeof coop__keys[0])

/* index of word w (length n) in a space-separated list, or -1 */
static int coop__enum_index(const char *names, const char *w, size_t n) {
    for (int i = 0; *names; i++) {
        size_t l = strcspn(names, " ");
        if (l == n && !memcmp(names, w, n)) return i;
        names += l + (names[l] == ' ');
    }
    return -1;
}

int coop_config_parse(const char *text, size_t len, coop_config *c, const char *file) {
    coop_config_defaults(c);
    size_t i = 0;
    int line = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        line++;
        char buf[512];
        size_t l = e - i;
        if (l >= sizeof buf) { coop_set_error("%s: config line %d too long", file, line); return -1; }
        memcpy(buf, text + i, l); buf[l] = 0;
        i = e + 1;
        char *key = buf + strspn(buf, " \t\r");
        if (!*key || *key == '#') continue;
        size_t kl = strcspn(key, " \t");
        char *val = key + kl;
        if (*val) *val++ = 0;
        val += strspn(val, " \t");
        char *end = val + strlen(val);
        while (end > val && (end[-1] == ' ' || end[-1] == '\r' || end[-1] == '\t')) *--end = 0;
        const coop__cfgkey *k = NULL;
        for (int j = 0; j < COOP__NKEYS; j++) if (!strcmp(coop__keys[j].key, key)) k = &coop__keys[j];
        if (!k) { coop_set_error("%s: config line %d: unknown key '%s'", file, line, key); return -1; }
        char *field = (char *)c + k->off;
        if (k->kind == K_STR) {
            if (strlen(val) >= (size_t)k->count) { coop_set_error("%s: config '%s' too long", file, key); return -1; }
            strcpy(field, strcmp(val, "-") ? val : "");   /* "-" stands for empty */
        } else if (k->kind == K_ENUM) {
            int v = coop__enum_index(k->names, val, strlen(val));
            if (v < 0) { coop_set_error("%s: config '%s': unknown value '%s' (want one of: %s)", file, key, val, k->names); return -1; }
            *(int *)field = v;
        } else {
            char *p = val;
            for (int j = 0; j < k->count; j++) {
                char *q;
                if (k->kind == K_FLOATS) {
                    double v = strtod(p, &q);
                    if (q == p || !isfinite(v)) { coop_set_error("%s: config '%s': want %d numbers", file, key, k->count); return -1; }
                    ((float *)(void *)field)[j] = (float)v;
                } else {
                    long v = strtol(p, &q, 10);
                    if (q == p || v < -1 || v > 1000000000L) { coop_set_error("%s: config '%s': want %d integers in range", file, key, k->count); return -1; }
                    ((int *)(void *)field)[j] = (int)v;
                }
                p = q;
            }
            if (*(p + strspn(p, " \t"))) { coop_set_error("%s: config '%s': trailing '%s'", file, key, p); return -1; }
        }
    }
    return 0;
}

int coop_config_format(const coop_config *c, char *buf, size_t cap) {
    size_t o = 0;
    for (int j = 0; j < COOP__NKEYS; j++) {
        const coop__cfgkey *k = &coop__keys[j];
        const char *field = (const char *)c + k->off;
        int n = snprintf(buf + o, cap - o, "%s", k->key);
        if (n < 0 || (size_t)n >= cap - o) return -1;
        o += (size_t)n;
        for (int i = 0; i < k->count && (k->kind != K_STR || i == 0); i++) {
            if (k->kind == K_STR) n = snprintf(buf + o, cap - o, " %s", *field ? field : "-");
            else if (k->kind == K_FLOATS) n = snprintf(buf + o, cap - o, " %.9g", (double)((const float *)(const void *)field)[i]);
            else if (k->kind == K_ENUM) {
                const char *names = k->names;
                for (int v = *(const int *)(const void *)field; v > 0 && *names; v--) names += strcspn(names, " ") + 1;
                n = snprintf(buf + o, cap - o, " %.*s", (int)strcspn(names, " "), names);
            } else n = snprintf(buf + o, cap - o, " %d", ((const int *)(const void *)field)[i]);
            if (n < 0 || (size_t)n >= cap - o) return -1;
            o += (size_t)n;
        }
        if (o + 1 >= cap) return -1;
        buf[o++] = '\n'; buf[o] = 0;
    }
    return (int)o;
}

/* basic consistency of the architecture numbers, so towers can trust them */
static int coop__config_check(const coop_config *c, const char *file) {
#define COOP__NEED(cond, ...) do { if (!(cond)) { coop_set_error(__VA_ARGS__); return -1; } } while (0)
    COOP__NEED(c->embed_dim > 0 && c->embed_dim <= 65536, "%s: config: embed_dim %d out of range", file, c->embed_dim);
    if (c->vision != COOP_VISION_NONE) {
        COOP__NEED(c->image_size > 0 && c->image_size <= 4096, "%s: config: image_size %d out of range", file, c->image_size);
        COOP__NEED(c->vision_width > 0 && c->vision_width <= 65536 && c->vision_heads > 0 &&
                   (c->vision_width % c->vision_heads == 0 || c->vision == COOP_VISION_RESNET),
                   "%s: config: vision_width %d not divisible by vision_heads %d", file, c->vision_width, c->vision_heads);
        for (int i = 0; i < 3; i++) COOP__NEED(c->image_std[i] > 0, "%s: config: image_std must be positive", file);
    }
    if (c->vision == COOP_VISION_VIT) {
        COOP__NEED(c->vision_patch > 0 && c->image_size % c->vision_patch == 0, "%s: config: image_size %d not a multiple of vision_patch %d", file, c->image_size, c->vision_patch);
        COOP__NEED(c->vision_layers > 0 && c->vision_layers <= 1000 && c->vision_mlp > 0, "%s: config: vision_layers/vision_mlp out of range", file);
    }
    if (c->vision == COOP_VISION_RESNET) {
        for (int i = 0; i < 4; i++) COOP__NEED(c->resnet_layers[i] > 0 && c->resnet_layers[i] <= 1000, "%s: config: resnet_layers out of range", file);
        COOP__NEED(c->image_size % 32 == 0, "%s: config: ResNet image_size %d not a multiple of 32", file, c->image_size);
        COOP__NEED(c->vision_heads > 0 && (c->vision_width * 32) % c->vision_heads == 0, "%s: config: attention pool heads %d do not divide %d", file, c->vision_heads, c->vision_width * 32);
    }
    if (c->text != COOP_TEXT_NONE) {
        COOP__NEED(c->context_length > 1 && c->context_length <= 65536, "%s: config: context_length %d out of range", file, c->context_length);
        COOP__NEED(c->vocab_size > 0 && c->text_width > 0 && c->text_width <= 65536 && c->text_heads > 0 &&
                   c->text_width % c->text_heads == 0, "%s: config: text_width %d / text_heads %d invalid", file, c->text_width, c->text_heads);
        COOP__NEED(c->text_layers > 0 && c->text_layers <= 1000 && c->text_mlp > 0, "%s: config: text_layers/text_mlp out of range", file);
        COOP__NEED(c->pad_id >= 0 && c->pad_id < c->vocab_size && c->sot_id >= 0 && c->sot_id < c->vocab_size &&
                   c->eot_id >= 0 && c->eot_id < c->vocab_size, "%s: config: pad/sot/eot ids outside the vocabulary (%d)", file, c->vocab_size);
        COOP__NEED(c->tokenizer != COOP_TOK_NONE, "%s: config: text tower without a tokenizer", file);
    }
    COOP__NEED(c->vision != COOP_VISION_NONE || c->text != COOP_TEXT_NONE, "%s: config: neither an image nor a text tower", file);
    return 0;
#undef COOP__NEED
}

/* ---- loading -------------------------------------------------------------------------------- */
static void coop__model_release(coop_model *m) {
    for (int i = 0; i < COOP_NSLOTS; i++)
        if (m->slot[i] && m->slot_free[i]) m->slot_free[i](m->slot[i]);
    if (m->map) munmap(m->map, m->size);
    coop_free(m->widened);
    free(m->tensors);
    free(m);
}

void coop_model_free(coop_model *m) { if (m) coop__model_release(m); }

coop_model *coop_model_load(const char *path) {
    coop_model *m = (coop_model *)calloc(1, sizeof *m);
    if (!m) { coop_set_error("out of memory"); return NULL; }
    snprintf(m->path, sizeof m->path, "%s", path);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        coop_set_error("%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        free(m); return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 64) {
        coop_set_error("%s: not a coop model file (%s)", path, S_ISREG(st.st_mode) ? "too short" : "not a regular file");
        close(fd); free(m); return NULL;
    }
    m->size = (size_t)st.st_size;
    void *map = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { coop_set_error("%s: mmap: %s", path, strerror(errno)); free(m); return NULL; }
    m->map = (unsigned char *)map;
    const unsigned char *h = m->map;
#define COOP__FAIL(...) do { coop_set_error(__VA_ARGS__); coop__model_release(m); return NULL; } while (0)
    if (memcmp(h, COOP__MAGIC, 8)) COOP__FAIL("%s: not a coop model file (bad magic; convert checkpoints with build/convert)", path);
    uint32_t version = coop__rd32(h + 8), nt = coop__rd32(h + 12);
    if (version != COOP__VERSION) COOP__FAIL("%s: model file version %u, this coop.h reads version %u (re-convert the checkpoint)", path, version, COOP__VERSION);
    uint64_t fsize = coop__rd64(h + 16), coff = coop__rd64(h + 24), csz = coop__rd64(h + 32),
             toff = coop__rd64(h + 40), tsz = coop__rd64(h + 48), tab = coop__rd64(h + 56);
    uint64_t size = m->size;
    if (fsize != size) COOP__FAIL("%s: truncated or padded: header says %llu bytes, file has %llu", path, (unsigned long long)fsize, (unsigned long long)size);
    if (coff > size || csz > size - coff) COOP__FAIL("%s: config block past the end of the file", path);
    if (toff > size || tsz > size - toff) COOP__FAIL("%s: tokenizer block past the end of the file", path);
    if (nt > 1000000 || tab > size || (uint64_t)nt * COOP__ENTRY > size - tab) COOP__FAIL("%s: tensor table past the end of the file", path);
    if (coop_config_parse((const char *)m->map + coff, (size_t)csz, &m->cfg, path)) { coop__model_release(m); return NULL; }
    if (coop__config_check(&m->cfg, path)) { coop__model_release(m); return NULL; }
    m->tok = m->map + toff;
    m->tok_size = (size_t)tsz;
    m->n = (int)nt;
    m->tensors = (coop_tensor *)calloc(nt ? nt : 1, sizeof(coop_tensor));
    if (!m->tensors) COOP__FAIL("out of memory");
    size_t widen = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const unsigned char *e = m->map + tab + (uint64_t)i * COOP__ENTRY;
        coop_tensor *t = &m->tensors[i];
        if (!memchr(e, 0, 80) || !e[0]) COOP__FAIL("%s: tensor %u: bad name", path, i);
        memcpy(t->name, e, 80);
        t->dtype = (int)coop__rd32(e + 80);
        uint32_t nd = coop__rd32(e + 84);
        uint64_t off = coop__rd64(e + 104), nb = coop__rd64(e + 112);
        if (t->dtype < 0 || t->dtype > COOP_BF16) COOP__FAIL("%s: tensor '%s': unknown dtype %d", path, t->name, t->dtype);
        if (nd < 1 || nd > 4) COOP__FAIL("%s: tensor '%s': ndim %u not in 1..4", path, t->name, nd);
        t->ndim = (int)nd;
        uint64_t numel = 1;
        for (int d = 0; d < 4; d++) {
            uint64_t s = coop__rd32(e + 88 + 4 * d);
            if (d >= t->ndim && s != 1) COOP__FAIL("%s: tensor '%s': unused dimension %d is %llu, not 1", path, t->name, d, (unsigned long long)s);
            if (s == 0 || s > (1u << 30) || numel > ((uint64_t)1 << 40) / s) COOP__FAIL("%s: tensor '%s': bad shape", path, t->name);
            numel *= s;
            if (d < t->ndim) t->shape[d] = (int64_t)s;
        }
        t->numel = (int64_t)numel;
        if (nb != numel * coop__dtype_size(t->dtype)) COOP__FAIL("%s: tensor '%s': %llu bytes do not match its shape and dtype", path, t->name, (unsigned long long)nb);
        if (off % 64 || off > size || nb > size - off) COOP__FAIL("%s: tensor '%s': data at %llu+%llu outside the file or misaligned", path, t->name, (unsigned long long)off, (unsigned long long)nb);
        t->data = m->map + off;
        if (t->dtype == COOP_F32) t->f32 = (float *)(void *)(m->map + off);
        else widen += ((size_t)numel * 4 + 63) & ~(size_t)63;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(m->tensors[j].name, t->name)) COOP__FAIL("%s: tensor '%s' appears twice", path, t->name);
    }
    /* f16 / bf16 tensors: one fp32 working copy, made once (the towers are fp32) */
    if (widen) {
        m->widened = (float *)coop_malloc(widen);
        if (!m->widened) { coop__model_release(m); return NULL; }
        size_t o = 0;
        for (int i = 0; i < m->n; i++) {
            coop_tensor *t = &m->tensors[i];
            if (t->dtype == COOP_F32) continue;
            t->f32 = m->widened + o;
            const unsigned char *src = (const unsigned char *)t->data;
            for (int64_t k = 0; k < t->numel; k++) {
                uint16_t v = (uint16_t)(src[2 * k] | src[2 * k + 1] << 8);
                t->f32[k] = t->dtype == COOP_F16 ? coop_f16_to_f32(v) : coop_bf16_to_f32(v);
            }
            o += ((size_t)t->numel + 15) & ~(size_t)15;
        }
    }
#undef COOP__FAIL
    return m;
}

const coop_config *coop_model_config(const coop_model *m) { return &m->cfg; }
const char *coop_model_path(const coop_model *m) { return m->path; }
int coop_model_tensor_count(const coop_model *m) { return m->n; }
const coop_tensor *coop_model_tensor_at(const coop_model *m, int i) { return i >= 0 && i < m->n ? &m->tensors[i] : NULL; }

const coop_tensor *coop_model_find(const coop_model *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

const float *coop_model_f32(coop_model *m, const char *name, int ndim, const int64_t *shape) {
    const coop_tensor *t = coop_model_find(m, name);
    if (!t) { coop_set_error("%s: tensor '%s' missing", m->path, name); return NULL; }
    if (ndim > 0) {
        int ok = t->ndim == ndim;
        for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
        if (!ok) {
            char want[96] = "", got[96] = "";
            for (int d = 0; d < ndim; d++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "," : "", (long long)shape[d]);
            for (int d = 0; d < t->ndim; d++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "", (long long)t->shape[d]);
            coop_set_error("%s: tensor '%s' has shape [%s], expected [%s]", m->path, name, got, want);
            return NULL;
        }
    }
    return t->f32;
}

int coop_model_tokenizer_section(const coop_model *m, const char *name, const void **data, size_t *len) {
    size_t o = 0, n = m->tok_size, nl = strlen(name);
    const unsigned char *p = m->tok;
    while (o < n) {
        if (n - o < 4) break;
        uint32_t l = coop__rd32(p + o);
        if (l > n - o - 4 || n - o - 4 - l < 8) break;
        const unsigned char *nm = p + o + 4;
        uint64_t dl = coop__rd64(p + o + 4 + l);
        size_t d0 = o + 12 + l;
        if (dl > n - d0) break;
        if (l == nl && !memcmp(nm, name, nl)) { *data = p + d0; *len = (size_t)dl; return 0; }
        o = d0 + (size_t)dl;
        o += (8 - o % 8) % 8;
    }
    if (o < n && o + 8 <= n) { coop_set_error("%s: tokenizer block is malformed", m->path); return -1; }
    coop_set_error("%s: tokenizer section '%s' missing (re-convert with the tokenizer files)", m->path, name);
    return -1;
}

void *coop_model_slot(const coop_model *m, int slot) { return slot >= 0 && slot < COOP_NSLOTS ? m->slot[slot] : NULL; }

void coop_model_set_slot(coop_model *m, int slot, void *ptr, void (*destroy)(void *)) {
    if (slot < 0 || slot >= COOP_NSLOTS) return;
    if (m->slot[slot] && m->slot_free[slot]) m->slot_free[slot](m->slot[slot]);
    m->slot[slot] = ptr;
    m->slot_free[slot] = destroy;
}

int coop_tokblob_append(void **blob, size_t *size, const char *name, const void *data, size_t len) {
    size_t nl = strlen(name), add = 12 + nl + len, pad = (8 - (*size + add) % 8) % 8;
    unsigned char *b = (unsigned char *)realloc(*blob, *size + add + pad);
    if (!b) { coop_set_error("out of memory"); return -1; }
    unsigned char *p = b + *size;
    coop__wr32(p, (uint32_t)nl); memcpy(p + 4, name, nl);
    coop__wr64(p + 4 + nl, len); memcpy(p + 12 + nl, data, len);
    memset(p + add, 0, pad);
    *blob = b; *size += add + pad;
    return 0;
}

/* ---- writing (tools/convert) ---------------------------------------------------------------- */
struct coop_model_writer {
    FILE *f;
    char path[512], tmp[520];
    unsigned char *table;
    int n, cap;
    uint64_t off, coff, csz, toff, tsz;
};

static int coop__pad_to(FILE *f, uint64_t *off, uint64_t align) {
    static const unsigned char zero[64];
    size_t pad = (size_t)((align - *off % align) % align);
    if (pad && fwrite(zero, 1, pad, f) != pad) return -1;
    *off += pad;
    return 0;
}

coop_model_writer *coop_model_writer_open(const char *path, const char *config_text,
                                          const void *tok_blob, size_t tok_size, int max_tensors) {
    coop_model_writer *w = (coop_model_writer *)calloc(1, sizeof *w);
    if (!w || max_tensors < 0) { free(w); coop_set_error("out of memory"); return NULL; }
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path);
    w->cap = max_tensors;
    w->table = (unsigned char *)calloc((size_t)(max_tensors ? max_tensors : 1), COOP__ENTRY);
    w->f = fopen(w->tmp, "wb");
    if (!w->table || !w->f) {
        coop_set_error("%s: %s", w->tmp, strerror(errno));
        if (w->f) fclose(w->f);
        free(w->table); free(w); return NULL;
    }
    unsigned char hdr[64] = {0};
    size_t cl = strlen(config_text);
    int ok = fwrite(hdr, 1, 64, w->f) == 64;
    w->off = 64; w->coff = 64; w->csz = cl;
    ok = ok && fwrite(config_text, 1, cl, w->f) == cl;
    w->off += cl;
    ok = ok && !coop__pad_to(w->f, &w->off, 64);
    w->toff = tok_size ? w->off : 0; w->tsz = tok_size;
    ok = ok && (!tok_size || fwrite(tok_blob, 1, tok_size, w->f) == tok_size);
    w->off += tok_size;
    ok = ok && !coop__pad_to(w->f, &w->off, 64);
    if (!ok) { coop_set_error("%s: write failed", w->tmp); coop_model_writer_abort(w); return NULL; }
    return w;
}

int coop_model_writer_add(coop_model_writer *w, const char *name, int dtype, int ndim,
                          const int64_t *shape, const float *x) {
    if (w->n >= w->cap) { coop_set_error("%s: more tensors than announced", w->path); return -1; }
    if (strlen(name) >= 80) { coop_set_error("%s: tensor name too long: %s", w->path, name); return -1; }
    if (ndim < 1 || ndim > 4 || dtype < 0 || dtype > COOP_BF16) { coop_set_error("%s: tensor '%s': bad ndim/dtype", w->path, name); return -1; }
    unsigned char *e = w->table + (size_t)w->n * COOP__ENTRY;
    memcpy(e, name, strlen(name));
    coop__wr32(e + 80, (uint32_t)dtype);
    coop__wr32(e + 84, (uint32_t)ndim);
    size_t numel = 1;
    for (int d = 0; d < 4; d++) {
        int64_t s = d < ndim ? shape[d] : 1;
        if (s <= 0 || s > (1 << 30)) { coop_set_error("%s: tensor '%s': bad shape", w->path, name); return -1; }
        coop__wr32(e + 88 + 4 * d, (uint32_t)s);
        numel *= (size_t)s;
    }
    size_t es = coop__dtype_size(dtype);
    coop__wr64(e + 104, w->off);
    coop__wr64(e + 112, numel * es);
    /* convert in chunks so a large tensor needs no second full-size buffer */
    unsigned char buf[1 << 14];
    for (size_t i = 0; i < numel;) {
        size_t k = numel - i < sizeof buf / 4 ? numel - i : sizeof buf / 4;
        if (dtype == COOP_F32) memcpy(buf, x + i, k * 4);
        else for (size_t j = 0; j < k; j++) {
            uint16_t v = dtype == COOP_F16 ? coop_f32_to_f16(x[i + j]) : coop_f32_to_bf16(x[i + j]);
            buf[2 * j] = (unsigned char)v; buf[2 * j + 1] = (unsigned char)(v >> 8);
        }
        if (fwrite(buf, es, k, w->f) != k) { coop_set_error("%s: write failed", w->tmp); return -1; }
        i += k;
    }
    w->off += numel * es;
    if (coop__pad_to(w->f, &w->off, 64)) { coop_set_error("%s: write failed", w->tmp); return -1; }
    w->n++;
    return 0;
}

int coop_model_writer_close(coop_model_writer *w) {
    uint64_t tab = w->off, size = tab + (uint64_t)w->n * COOP__ENTRY;
    unsigned char hdr[64] = {0};
    memcpy(hdr, COOP__MAGIC, 8);
    coop__wr32(hdr + 8, COOP__VERSION); coop__wr32(hdr + 12, (uint32_t)w->n);
    coop__wr64(hdr + 16, size); coop__wr64(hdr + 24, w->coff); coop__wr64(hdr + 32, w->csz);
    coop__wr64(hdr + 40, w->toff); coop__wr64(hdr + 48, w->tsz); coop__wr64(hdr + 56, tab);
    size_t tl = (size_t)w->n * COOP__ENTRY;
    int ok = fwrite(w->table, 1, tl, w->f) == tl;
    ok = ok && fseek(w->f, 0, SEEK_SET) == 0 && fwrite(hdr, 1, 64, w->f) == 64;
    ok = (fclose(w->f) == 0) && ok;
    w->f = NULL;
    if (!ok || rename(w->tmp, w->path) != 0) {
        coop_set_error("%s: write failed: %s", w->path, strerror(errno));
        coop_model_writer_abort(w);
        return -1;
    }
    free(w->table); free(w);
    return 0;
}

void coop_model_writer_abort(coop_model_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    remove(w->tmp);
    free(w->table); free(w);
}
