/* convert -- OpenCLIP / OpenAI CLIP checkpoints to a coop.h model file.

   usage: convert CHECKPOINT -o OUT [--config open_clip_config.json] [--arch NAME]
                  [--pretrained TAG] [--vocab bpe_simple_vocab_16e6.txt.gz]
                  [--tokenizer DIR] [--dtype f32|f16|bf16]

   Reads the checkpoints as people download them:
     open_clip_model.safetensors      safetensors (u64 header length, JSON header, raw data)
     open_clip_pytorch_model.bin      torch.save zip archive: <prefix>/data.pkl (a pickled state
                                      dict, or a {"state_dict": ...} checkpoint with "module."
                                      prefixes) + <prefix>/data/<key> storages
     ViT-B-32.pt etc. (OpenAI)        TorchScript zip archive: data.pkl pickles the module tree;
                                      it is walked into the same dotted names as state_dict()
   The architecture comes from --config (open_clip_config.json), else --arch (a known OpenCLIP
   name), else it is inferred from tensor shapes the way OpenCLIP's
   build_model_from_openai_state_dict does (then the weights are taken to be OpenAI's). QuickGELU
   is used when the config / arch says quick_gelu, or the weights are OpenAI's (inferred, a
   TorchScript archive, or --pretrained openai), as OpenCLIP does for pretrained='openai'.
   Every tensor is checked against the shape the architecture implies. ResNet BatchNorm layers are
   folded into the preceding convolutions (eps 1e-5). --dtype applies to matrices and convolution
   kernels (ndim >= 2); vectors and scalars stay f32 (they are tiny and LayerNorm/bias precision
   matters more than their size).

   The input is mapped, not read: tensors are converted one at a time straight into the writer,
   so memory stays at about one fp32 tensor. Errors: one line "convert: FILE: problem", exit 1.

   Limits: pickles hold the subset torch.save / torch.jit.save emit for tensors and dicts;
   deflate-compressed zip entries (< 2 GB) are inflated with stb_image's zlib; legacy (pre-1.6, non-zip) torch.save files and
   timm / HF-vision towers are rejected with a message. */
#define COOP_IMPLEMENTATION
#include "coop.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ===================================================================================== */
/* Errors and small utilities                                                             */
/* ===================================================================================== */
static const char *cv_file;                     /* file the current problem is about (NULL: none) */
static coop_model_writer *cv_writer;            /* open output, removed on failure */

static void cv_die(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;
static void cv_die(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) if (*p == '\n' || *p == '\r') *p = ' ';   /* one line */
    if (cv_file) fprintf(stderr, "convert: %s: %s\n", cv_file, msg);
    else fprintf(stderr, "convert: %s\n", msg);
    if (cv_writer) coop_model_writer_abort(cv_writer);
    exit(1);
}

static void *cv_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) cv_die("out of memory (%zu bytes)", n);
    return q;
}

static uint32_t cv_u16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t cv_u32(const unsigned char *p) { return cv_u16(p) | cv_u16(p + 2) << 16; }
static uint64_t cv_u64(const unsigned char *p) { return (uint64_t)cv_u32(p) | (uint64_t)cv_u32(p + 4) << 32; }

/* an input file mapped read-only */
typedef struct { const unsigned char *p; size_t n; } cv_map;
static cv_map cv_mmap(const char *path) {
    cv_map m = {NULL, 0};
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) cv_die("cannot open: %s", strerror(errno));
    if (!S_ISREG(st.st_mode)) cv_die("not a regular file");
    m.n = (size_t)st.st_size;
    if (m.n == 0) cv_die("empty file");
    void *p = mmap(NULL, m.n, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) cv_die("mmap: %s", strerror(errno));
    m.p = (const unsigned char *)p;
    return m;
}

/* ===================================================================================== */
/* Values: what the JSON and pickle readers produce                                       */
/* ===================================================================================== */
enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_OBJ,
       V_STORAGE, V_TENSOR, V_OPAQUE };
/* element types of stored tensors */
enum { CV_F32, CV_F16, CV_BF16, CV_F64, CV_UNSUPPORTED };
static const char *cv_dtype_name[] = {"float32", "float16", "bfloat16", "float64", "unsupported"};
static const int cv_dtype_size[] = {4, 2, 2, 8, 1};

typedef struct cv_val cv_val;
struct cv_val {
    int kind;
    int64_t i;                 /* INT, BOOL */
    double f;                  /* FLOAT */
    char *s; size_t slen;      /* STR bytes (NUL-terminated copy); GLOBAL "module name" */
    cv_val **items; size_t n, cap;   /* TUPLE/LIST items; DICT key,value pairs (2n) */
    cv_val *cls, *state;       /* OBJ: class (GLOBAL) and state set by BUILD / args */
    /* STORAGE: dtype, key (s), numel (i). TENSOR: storage, offset, shape, stride */
    int dtype, ndim;
    cv_val *storage;
    int64_t offset, shape[8], stride[8];
};
/* every value is kept on one list, so nothing leaks when a hostile file is rejected */
static cv_val **cv_all;
static size_t cv_nall, cv_capall;

static cv_val *cv_new(int kind) {
    if (cv_nall >= 4000000) cv_die("too many values in the pickle / JSON (over 4M): not a checkpoint?");
    if (cv_nall == cv_capall) {
        cv_capall = cv_capall ? 2 * cv_capall : 1024;
        cv_all = (cv_val **)cv_xrealloc(cv_all, cv_capall * sizeof *cv_all);
    }
    cv_val *v = (cv_val *)calloc(1, sizeof *v);
    if (!v) cv_die("out of memory");
    v->kind = kind;
    cv_all[cv_nall++] = v;
    return v;
}
static void cv_free_all(void) {
    for (size_t i = 0; i < cv_nall; i++) { free(cv_all[i]->items); free(cv_all[i]->s); free(cv_all[i]); }
    free(cv_all);
    cv_all = NULL; cv_nall = cv_capall = 0;
}
static void cv_push_item(cv_val *c, cv_val *x) {
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->items = (cv_val **)cv_xrealloc(c->items, c->cap * sizeof *c->items);
    }
    c->items[c->n++] = x;
}
static cv_val *cv_str(const char *s, size_t n) {
    cv_val *v = cv_new(V_STR);
    v->s = (char *)cv_xrealloc(NULL, n + 1);
    memcpy(v->s, s, n); v->s[n] = 0; v->slen = n;
    return v;
}
static int cv_is_str(const cv_val *v, const char *s) { return v && v->kind == V_STR && !strcmp(v->s, s); }
/* value of key in a DICT (the last one wins, like Python), or NULL */
static cv_val *cv_get(const cv_val *d, const char *key) {
    cv_val *r = NULL;
    if (d && d->kind == V_DICT)
        for (size_t i = 0; i + 1 < d->n; i += 2) if (cv_is_str(d->items[i], key)) r = d->items[i + 1];
    return r;
}

/* ===================================================================================== */
/* JSON (safetensors headers, open_clip_config.json). Input is untrusted: bounded depth,   */
/* every read checked against the end.                                                    */
/* ===================================================================================== */
typedef struct { const char *p, *end; int depth; } cv_json;

static void cv_json_ws(cv_json *j) { while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++; }
static int cv_hex4(const char *p, const char *end, uint32_t *v) {
    if (end - p < 4) return -1;
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}
static cv_val *cv_json_value(cv_json *j);
static cv_val *cv_json_string(cv_json *j) {
    if (j->p >= j->end || *j->p != '"') return NULL;
    j->p++;
    size_t cap = 16, n = 0;
    char *b = (char *)cv_xrealloc(NULL, cap);
    for (;;) {
        if (j->p >= j->end) { free(b); return NULL; }
        unsigned char c = (unsigned char)*j->p++;
        char tmp[4]; int k = 1;
        if (c == '"') break;
        if (c < 0x20) { free(b); return NULL; }
        tmp[0] = (char)c;
        if (c == '\\') {
            if (j->p >= j->end) { free(b); return NULL; }
            char e = *j->p++;
            const char *map = "\"\\/bfnrt", *rep = "\"\\/\b\f\n\r\t", *q = strchr(map, e);
            if (e && q) tmp[0] = rep[q - map];
            else if (e == 'u') {
                uint32_t cp, lo;
                if (cv_hex4(j->p, j->end, &cp)) { free(b); return NULL; }
                j->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00) {            /* surrogate pair */
                    if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || cv_hex4(j->p + 2, j->end, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF) { free(b); return NULL; }
                    j->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp < 0xE000) { free(b); return NULL; }
                k = coop_utf8_encode(cp, tmp);
                if (k <= 0) { free(b); return NULL; }
            } else { free(b); return NULL; }
        }
        if (n + 4 >= cap) { cap *= 2; b = (char *)cv_xrealloc(b, cap); }
        memcpy(b + n, tmp, (size_t)k); n += (size_t)k;
    }
    cv_val *v = cv_new(V_STR);
    b[n] = 0; v->s = b; v->slen = n;
    return v;
}
static cv_val *cv_json_value(cv_json *j) {
    cv_json_ws(j);
    if (j->p >= j->end) return NULL;
    char c = *j->p;
    if (c == '"') return cv_json_string(j);
    if (c == '{' || c == '[') {
        if (++j->depth > 64) return NULL;
        cv_val *v = cv_new(c == '{' ? V_DICT : V_LIST);
        char close = c == '{' ? '}' : ']';
        j->p++;
        cv_json_ws(j);
        if (j->p < j->end && *j->p == close) { j->p++; j->depth--; return v; }
        for (;;) {
            if (c == '{') {
                cv_json_ws(j);
                cv_val *k = cv_json_string(j);
                if (!k) return NULL;
                cv_json_ws(j);
                if (j->p >= j->end || *j->p++ != ':') return NULL;
                cv_push_item(v, k);
            }
            cv_val *x = cv_json_value(j);
            if (!x) return NULL;
            cv_push_item(v, x);
            cv_json_ws(j);
            if (j->p >= j->end) return NULL;
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p++ != close) return NULL;
            j->depth--;
            return v;
        }
    }
    static const char *words[] = {"true", "false", "null"};
    for (int w = 0; w < 3; w++) {
        size_t l = strlen(words[w]);
        if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, words[w], l)) {
            j->p += l;
            cv_val *v = cv_new(w == 2 ? V_NONE : V_BOOL);
            v->i = w == 0;
            return v;
        }
    }
    /* number: copy the token to a bounded buffer (the input is not NUL-terminated) */
    char num[64];
    size_t l = 0;
    while (j->p + l < j->end && l < sizeof num - 1 && strchr("+-0123456789.eE", j->p[l]) && j->p[l]) l++;
    if (l == 0 || l == sizeof num - 1) return NULL;
    memcpy(num, j->p, l); num[l] = 0;
    j->p += l;
    int isint = !strpbrk(num, ".eE");
    char *e;
    cv_val *v = cv_new(isint ? V_INT : V_FLOAT);
    if (isint) { errno = 0; v->i = strtoll(num, &e, 10); if (errno) return NULL; v->f = (double)v->i; }
    else { v->f = strtod(num, &e); v->i = (int64_t)(fabs(v->f) < 9e18 ? v->f : 0); }
    if (*e) return NULL;
    return v;
}
static cv_val *cv_json_parse(const char *p, size_t n) {
    cv_json j = {p, p + n, 0};
    cv_val *v = cv_json_value(&j);
    if (!v) return NULL;
    cv_json_ws(&j);
    return j.p == j.end ? v : NULL;
}
static int cv_num(const cv_val *v, double *out) {
    if (!v || (v->kind != V_INT && v->kind != V_FLOAT && v->kind != V_BOOL)) return 0;
    *out = v->kind == V_FLOAT ? v->f : (double)v->i;
    return 1;
}

/* ===================================================================================== */
/* Tensor sources: every tensor found in the checkpoint, with where its data lives         */
/* ===================================================================================== */
typedef struct {
    char name[256];
    int dtype, ndim;
    int64_t shape[8], stride[8], offset;   /* in elements */
    const unsigned char *base;             /* storage start (mapped), or NULL = inflate zentry */
    int64_t avail;                         /* elements available in the storage */
    int zentry;                            /* zip entry of a compressed storage, else -1 */
    int used;
} cv_src;
static cv_src *cv_srcs;
static int cv_nsrc, cv_capsrc;
static const char *cv_ckpt;                /* checkpoint path, for messages */

static cv_src *cv_src_add(const char *name) {
    if (cv_nsrc >= 1000000) cv_die("more than a million tensors: not a checkpoint?");
    if (cv_nsrc == cv_capsrc) {
        cv_capsrc = cv_capsrc ? 2 * cv_capsrc : 256;
        cv_srcs = (cv_src *)cv_xrealloc(cv_srcs, (size_t)cv_capsrc * sizeof *cv_srcs);
    }
    cv_src *s = &cv_srcs[cv_nsrc++];
    memset(s, 0, sizeof *s);
    /* OpenCLIP's load_checkpoint strips DistributedDataParallel's "module." prefix */
    if (!strncmp(name, "module.", 7)) name += 7;
    if (strlen(name) >= sizeof s->name) cv_die("tensor name too long: %.60s...", name);
    strcpy(s->name, name);
    s->zentry = -1;
    return s;
}
static cv_src *cv_find(const char *name) {
    for (int i = cv_nsrc - 1; i >= 0; i--) if (!strcmp(cv_srcs[i].name, name)) return &cv_srcs[i];
    return NULL;
}
/* numel with overflow checks; -1 when absurd */
static int64_t cv_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] && n > ((int64_t)1 << 40) / shape[d])) return -1;
        n *= shape[d];
    }
    return n;
}
static void cv_shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && o < cap; d++) o += (size_t)snprintf(buf + o, cap - o, d ? ",%lld" : "%lld", (long long)shape[d]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
}

/* ===================================================================================== */
/* safetensors: u64 header length, JSON {name: {dtype, shape, data_offsets}}, data         */
/* ===================================================================================== */
static void cv_read_safetensors(cv_map m) {
    if (m.n < 10) cv_die("truncated safetensors file (%zu bytes)", m.n);
    uint64_t hl = cv_u64(m.p);
    if (hl > 100000000u || hl > m.n - 8) cv_die("safetensors header length %llu exceeds the file (%zu bytes): truncated or not safetensors", (unsigned long long)hl, m.n);
    cv_val *h = cv_json_parse((const char *)m.p + 8, (size_t)hl);
    if (!h || h->kind != V_DICT) cv_die("safetensors header is not a valid JSON object");
    const unsigned char *data = m.p + 8 + hl;
    uint64_t dsize = m.n - 8 - hl;
    for (size_t i = 0; i + 1 < h->n; i += 2) {
        const char *name = h->items[i]->s;
        cv_val *e = h->items[i + 1];
        if (!strcmp(name, "__metadata__")) continue;
        cv_val *dt = cv_get(e, "dtype"), *sh = cv_get(e, "shape"), *off = cv_get(e, "data_offsets");
        if (!dt || dt->kind != V_STR || !sh || sh->kind != V_LIST || !off || off->kind != V_LIST || off->n != 2 ||
            off->items[0]->kind != V_INT || off->items[1]->kind != V_INT)
            cv_die("safetensors entry '%.100s' lacks dtype/shape/data_offsets", name);
        cv_src *s = cv_src_add(name);
        s->dtype = !strcmp(dt->s, "F32") ? CV_F32 : !strcmp(dt->s, "F16") ? CV_F16 : !strcmp(dt->s, "BF16") ? CV_BF16 :
                   !strcmp(dt->s, "F64") ? CV_F64 : CV_UNSUPPORTED;
        if (sh->n > 8) cv_die("tensor '%s': %zu dimensions", s->name, sh->n);
        s->ndim = (int)sh->n;
        for (int d = 0; d < s->ndim; d++) {
            if (sh->items[d]->kind != V_INT || sh->items[d]->i < 0) cv_die("tensor '%s': bad shape", s->name);
            s->shape[d] = sh->items[d]->i;
        }
        for (int d = s->ndim - 1; d >= 0; d--) s->stride[d] = d == s->ndim - 1 ? 1 : s->stride[d + 1] * s->shape[d + 1];
        int64_t numel = cv_numel(s->ndim, s->shape), b = off->items[0]->i, en = off->items[1]->i;
        if (numel < 0) cv_die("tensor '%s': absurd shape", s->name);
        if (b < 0 || en < b || (uint64_t)en > dsize)
            cv_die("tensor '%s': data_offsets [%lld, %lld] outside the data (%llu bytes): truncated or corrupt", s->name,
                   (long long)b, (long long)en, (unsigned long long)dsize);
        if (s->dtype != CV_UNSUPPORTED && en - b != numel * cv_dtype_size[s->dtype])
            cv_die("tensor '%s': %lld bytes for %lld %s elements", s->name, (long long)(en - b), (long long)numel, dt->s);
        s->base = data + b;
        s->avail = s->dtype == CV_UNSUPPORTED ? 0 : numel;
    }
}

/* ===================================================================================== */
/* zip archives (torch.save, torch.jit.save): central directory, stored or deflated        */
/* ===================================================================================== */
typedef struct { const char *name; size_t nlen; int method; uint64_t csize, usize, data; } cv_zent;
static cv_zent *cv_zents;
static int cv_nzent;

static void cv_zip_open(cv_map m) {
    if (m.n < 22) cv_die("truncated zip archive");
    size_t eo = 0;
    int found = 0;
    for (size_t i = m.n - 22 + 1, lim = m.n > 22 + 65535 ? m.n - 22 - 65535 : 0; i-- > lim;)
        if (cv_u32(m.p + i) == 0x06054b50) { eo = i; found = 1; break; }
    if (!found) cv_die("zip end-of-directory record not found: truncated or not a PyTorch archive");
    uint64_t count = cv_u16(m.p + eo + 10), cdsize = cv_u32(m.p + eo + 12), cdoff = cv_u32(m.p + eo + 16);
    if (count == 0xFFFF || cdsize == 0xFFFFFFFFu || cdoff == 0xFFFFFFFFu) {        /* zip64 */
        if (eo < 20 || cv_u32(m.p + eo - 20) != 0x07064b50) cv_die("zip64 locator missing");
        uint64_t z = cv_u64(m.p + eo - 12);
        /* m.n < 56 first: m.n - 56 would wrap */
        if (m.n < 56 || z > m.n - 56 || cv_u32(m.p + z) != 0x06064b50) cv_die("zip64 directory record outside the file");
        count = cv_u64(m.p + z + 32); cdsize = cv_u64(m.p + z + 40); cdoff = cv_u64(m.p + z + 48);
    }
    if (cdoff > m.n || cdsize > m.n - cdoff || count > cdsize / 46) cv_die("zip central directory outside the file: truncated?");
    cv_zents = (cv_zent *)cv_xrealloc(NULL, (size_t)(count + 1) * sizeof *cv_zents);
    const unsigned char *p = m.p + cdoff, *end = p + cdsize;
    for (uint64_t k = 0; k < count; k++) {
        if (end - p < 46 || cv_u32(p) != 0x02014b50) cv_die("corrupt zip central directory");
        cv_zent *z = &cv_zents[cv_nzent++];
        size_t nl = cv_u16(p + 28), xl = cv_u16(p + 30), cl = cv_u16(p + 32);
        if ((size_t)(end - p) < 46 + nl + xl + cl) cv_die("corrupt zip central directory");
        z->method = (int)cv_u16(p + 10);
        z->csize = cv_u32(p + 20); z->usize = cv_u32(p + 24);
        uint64_t lho = cv_u32(p + 42);
        z->name = (const char *)p + 46; z->nlen = nl;
        /* zip64 extra field: the 0xFFFFFFFF fields, in order usize, csize, offset */
        for (const unsigned char *x = p + 46 + nl, *xe = x + xl; xe - x >= 4;) {
            size_t id = cv_u16(x), sz = cv_u16(x + 2);
            if ((size_t)(xe - x - 4) < sz) break;
            if (id == 1) {
                const unsigned char *f = x + 4, *fe = f + sz;
                if (z->usize == 0xFFFFFFFFu && fe - f >= 8) { z->usize = cv_u64(f); f += 8; }
                if (z->csize == 0xFFFFFFFFu && fe - f >= 8) { z->csize = cv_u64(f); f += 8; }
                if (lho == 0xFFFFFFFFu && fe - f >= 8) { lho = cv_u64(f); }
            }
            x += 4 + sz;
        }
        if (lho > m.n - 30 || m.n < 30 || cv_u32(m.p + lho) != 0x04034b50) cv_die("zip entry '%.*s': local header outside the file: truncated?", (int)(nl > 100 ? 100 : nl), z->name);
        z->data = lho + 30 + cv_u16(m.p + lho + 26) + cv_u16(m.p + lho + 28);
        if (z->data > m.n || z->csize > m.n - z->data)
            cv_die("zip entry '%.*s' extends past the end of the file: truncated", (int)(nl > 100 ? 100 : nl), z->name);
        if (z->method != 0 && z->method != 8) cv_die("zip entry '%.*s': unsupported compression method %d", (int)(nl > 100 ? 100 : nl), z->name, z->method);
        if (z->method == 0 && z->csize != z->usize) cv_die("zip entry '%.*s': stored sizes differ", (int)(nl > 100 ? 100 : nl), z->name);
        p += 46 + nl + xl + cl;
    }
}
static int cv_zip_find(const char *name) {
    size_t l = strlen(name);
    for (int i = 0; i < cv_nzent; i++) if (cv_zents[i].nlen == l && !memcmp(cv_zents[i].name, name, l)) return i;
    return -1;
}
/* entry bytes: mapped (stored) or inflated into *tofree */
static const unsigned char *cv_zip_data(cv_map m, int i, size_t *len, unsigned char **tofree) {
    cv_zent *z = &cv_zents[i];
    *tofree = NULL;
    if (z->method == 0) { *len = (size_t)z->usize; return m.p + z->data; }
    /* raw deflate, inflated by stb_image's zlib decoder (coop.h includes it for the tokenizer) */
    if (z->csize > 0x7FFFFFFF || z->usize > 0x7FFFFFFF) cv_die("zip entry '%.*s': compressed entries over 2 GB not supported", (int)z->nlen, z->name);
    /* stb v2.27 fails when fewer than 16 bits remain at the end of its input, even after the
       final block: let it see the bytes that follow (a zip always has its directory after) */
    size_t avail = m.n - (size_t)z->data, give = (size_t)z->csize + 16 < avail ? (size_t)z->csize + 16 : avail;
    int got = 0;
    char *o = stbi_zlib_decode_noheader_malloc((const char *)m.p + z->data, (int)give, &got);
    if (!o || (uint64_t)got != z->usize) { free(o); cv_die("zip entry '%.*s': corrupt deflate data", (int)z->nlen, z->name); }
    *tofree = (unsigned char *)o; *len = (size_t)got;
    return (const unsigned char *)o;
}

/* ===================================================================================== */
/* Pickle: the subset torch.save / torch.jit.save write                                  */
/* ===================================================================================== */
typedef struct {
    const unsigned char *p; size_t n, pos;
    cv_val **stack; size_t sn, scap;
    size_t *marks; size_t mn, mcap;
    cv_val **memo; size_t memocap;
} cv_pk;

static void cv_pk_push(cv_pk *k, cv_val *v) {
    if (k->sn == k->scap) {
        if (k->scap > 10000000) cv_die("pickle stack too deep");
        k->scap = k->scap ? 2 * k->scap : 256;
        k->stack = (cv_val **)cv_xrealloc(k->stack, k->scap * sizeof *k->stack);
    }
    k->stack[k->sn++] = v;
}
static cv_val *cv_pk_pop(cv_pk *k) {
    if (k->sn == 0 || (k->mn && k->sn <= k->marks[k->mn - 1])) cv_die("corrupt pickle: stack underflow at byte %zu", k->pos);
    return k->stack[--k->sn];
}
static cv_val *cv_pk_top(cv_pk *k) {
    if (k->sn == 0) cv_die("corrupt pickle: empty stack at byte %zu", k->pos);
    return k->stack[k->sn - 1];
}
/* pops everything above the last MARK into a new TUPLE/LIST value */
static cv_val *cv_pk_popmark(cv_pk *k, int kind) {
    if (k->mn == 0) cv_die("corrupt pickle: no MARK at byte %zu", k->pos);
    size_t m = k->marks[--k->mn];
    if (m > k->sn) cv_die("corrupt pickle: MARK above stack at byte %zu", k->pos);
    cv_val *t = cv_new(kind);
    for (size_t i = m; i < k->sn; i++) cv_push_item(t, k->stack[i]);
    k->sn = m;
    return t;
}
static const unsigned char *cv_pk_take(cv_pk *k, size_t n) {
    if (n > k->n - k->pos) cv_die("truncated pickle (needs %zu bytes at byte %zu of %zu)", n, k->pos, k->n);
    const unsigned char *r = k->p + k->pos;
    k->pos += n;
    return r;
}
static void cv_pk_memo_put(cv_pk *k, uint64_t idx, cv_val *v) {
    if (idx > 50000000u) cv_die("corrupt pickle: memo index %llu", (unsigned long long)idx);
    if (idx >= k->memocap) {
        size_t nc = k->memocap ? k->memocap : 256;
        while (nc <= idx) nc *= 2;
        k->memo = (cv_val **)cv_xrealloc(k->memo, nc * sizeof *k->memo);
        memset(k->memo + k->memocap, 0, (nc - k->memocap) * sizeof *k->memo);
        k->memocap = nc;
    }
    k->memo[idx] = v;
}
static cv_val *cv_pk_memo_get(cv_pk *k, uint64_t idx) {
    if (idx >= k->memocap || !k->memo[idx]) cv_die("corrupt pickle: memo %llu not set", (unsigned long long)idx);
    return k->memo[idx];
}
static int cv_storage_dtype(const char *g) {
    static const struct { const char *name; int dt; } t[] = {
        {"torch FloatStorage", CV_F32}, {"torch HalfStorage", CV_F16}, {"torch BFloat16Storage", CV_BF16},
        {"torch DoubleStorage", CV_F64}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) if (!strcmp(g, t[i].name)) return t[i].dt;
    return CV_UNSUPPORTED;
}
static int64_t cv_as_int(const cv_val *v, const char *what, cv_pk *k) {
    if (!v || (v->kind != V_INT && v->kind != V_BOOL)) cv_die("corrupt pickle: %s is not an integer (byte %zu)", what, k->pos);
    return v->i;
}
/* _rebuild_tensor_v2(storage, storage_offset, size, stride, ...) */
static cv_val *cv_rebuild_tensor(cv_pk *k, cv_val *args) {
    if (!args || args->kind != V_TUPLE || args->n < 4) cv_die("corrupt pickle: _rebuild_tensor args (byte %zu)", k->pos);
    cv_val *st = args->items[0], *sz = args->items[2], *sd = args->items[3];
    if (st->kind != V_STORAGE || sz->kind != V_TUPLE || sd->kind != V_TUPLE || sz->n != sd->n || sz->n > 8)
        cv_die("corrupt pickle: tensor without storage/size/stride (byte %zu)", k->pos);
    cv_val *t = cv_new(V_TENSOR);
    t->storage = st;
    t->offset = cv_as_int(args->items[1], "storage offset", k);
    t->ndim = (int)sz->n;
    for (int d = 0; d < t->ndim; d++) {
        t->shape[d] = cv_as_int(sz->items[d], "size", k);
        t->stride[d] = cv_as_int(sd->items[d], "stride", k);
    }
    return t;
}
static cv_val *cv_reduce(cv_pk *k, cv_val *fn, cv_val *args) {
    if (fn->kind == V_GLOBAL) {
        if (!strcmp(fn->s, "collections OrderedDict") || !strcmp(fn->s, "builtins dict")) return cv_new(V_DICT);
        if (!strcmp(fn->s, "torch._utils _rebuild_tensor_v2") || !strcmp(fn->s, "torch._utils _rebuild_tensor"))
            return cv_rebuild_tensor(k, args);
        if (!strcmp(fn->s, "torch._utils _rebuild_parameter") || !strcmp(fn->s, "torch._utils _rebuild_parameter_with_state")) {
            if (args && args->kind == V_TUPLE && args->n >= 1) return args->items[0];
        }
    }
    cv_val *o = cv_new(V_OPAQUE);         /* anything else (optimizer state, numpy scalars...): kept opaque */
    o->cls = fn; o->state = args;
    return o;
}

static cv_val *cv_unpickle(const unsigned char *p, size_t n) {
    cv_pk k;
    memset(&k, 0, sizeof k);
    k.p = p; k.n = n;
    cv_val *result = NULL;
    while (!result) {
        size_t at = k.pos;
        int op = *cv_pk_take(&k, 1);
        const unsigned char *b;
        cv_val *v, *x, *y;
        switch (op) {
        case 0x80: cv_pk_take(&k, 1); break;                                  /* PROTO */
        case 0x95: cv_pk_take(&k, 8); break;                                  /* FRAME */
        case '}': cv_pk_push(&k, cv_new(V_DICT)); break;                      /* EMPTY_DICT */
        case ']': cv_pk_push(&k, cv_new(V_LIST)); break;                      /* EMPTY_LIST */
        case ')': cv_pk_push(&k, cv_new(V_TUPLE)); break;                     /* EMPTY_TUPLE */
        case '(':                                                             /* MARK */
            if (k.mn == k.mcap) { k.mcap = k.mcap ? 2 * k.mcap : 64; if (k.mcap > 10000000) cv_die("pickle too deep"); k.marks = (size_t *)cv_xrealloc(k.marks, k.mcap * sizeof *k.marks); }
            k.marks[k.mn++] = k.sn;
            break;
        case 'X': case 0x8c: case 0x8d: case 'B': case 'C': case 'T': case 'U': {  /* strings, bytes */
            uint64_t len = op == 'X' || op == 'B' || op == 'T' ? cv_u32(cv_pk_take(&k, 4)) :
                           op == 0x8d ? cv_u64(cv_pk_take(&k, 8)) : *cv_pk_take(&k, 1);
            if (len > k.n - k.pos) cv_die("truncated pickle: string of %llu bytes at byte %zu", (unsigned long long)len, at);
            b = cv_pk_take(&k, (size_t)len);
            cv_pk_push(&k, cv_str((const char *)b, (size_t)len));
            break;
        }
        case 'J': v = cv_new(V_INT); v->i = (int32_t)cv_u32(cv_pk_take(&k, 4)); cv_pk_push(&k, v); break;
        case 'K': v = cv_new(V_INT); v->i = *cv_pk_take(&k, 1); cv_pk_push(&k, v); break;
        case 'M': v = cv_new(V_INT); v->i = cv_u16(cv_pk_take(&k, 2)); cv_pk_push(&k, v); break;
        case 0x8a: case 0x8b: {                                               /* LONG1, LONG4 */
            uint64_t len = op == 0x8a ? *cv_pk_take(&k, 1) : cv_u32(cv_pk_take(&k, 4));
            if (len > 8) cv_die("pickle integer of %llu bytes unsupported (byte %zu)", (unsigned long long)len, at);
            b = cv_pk_take(&k, (size_t)len);
            uint64_t u = 0;
            for (size_t i = 0; i < len; i++) u |= (uint64_t)b[i] << (8 * i);
            if (len && len < 8 && (b[len - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * len);   /* sign-extend */
            v = cv_new(V_INT); memcpy(&v->i, &u, 8);
            cv_pk_push(&k, v);
            break;
        }
        case 'G': {                                                           /* BINFLOAT, big-endian */
            b = cv_pk_take(&k, 8);
            uint64_t u = 0;
            for (int i = 0; i < 8; i++) u = u << 8 | b[i];
            v = cv_new(V_FLOAT); memcpy(&v->f, &u, 8);
            cv_pk_push(&k, v);
            break;
        }
        case 'N': cv_pk_push(&k, cv_new(V_NONE)); break;
        case 0x88: case 0x89: v = cv_new(V_BOOL); v->i = op == 0x88; cv_pk_push(&k, v); break;
        case 't': cv_pk_push(&k, cv_pk_popmark(&k, V_TUPLE)); break;
        case 'l': cv_pk_push(&k, cv_pk_popmark(&k, V_LIST)); break;
        case 0x85: case 0x86: case 0x87: {                                    /* TUPLE1..3 */
            int m = op - 0x84;
            v = cv_new(V_TUPLE);
            if (k.sn < (size_t)m) cv_die("corrupt pickle: stack underflow at byte %zu", at);
            for (int i = m; i > 0; i--) cv_push_item(v, k.stack[k.sn - (size_t)i]);
            k.sn -= (size_t)m;
            cv_pk_push(&k, v);
            break;
        }
        case 'c': {                                                           /* GLOBAL "module\nname\n" */
            size_t s0 = k.pos, nl = 0, e = s0;
            while (e < k.n && nl < 2) { if (k.p[e] == '\n') nl++; e++; }
            if (nl < 2 || e - s0 > 4096) cv_die("corrupt pickle: GLOBAL at byte %zu", at);
            v = cv_str((const char *)k.p + s0, e - s0 - 1);
            v->kind = V_GLOBAL;
            /* a NUL in the module name hides the '\n' from strchr (NULL store) */
            if (memchr(v->s, 0, v->slen)) cv_die("corrupt pickle: GLOBAL at byte %zu", at);
            *strchr(v->s, '\n') = ' ';
            k.pos = e;
            cv_pk_push(&k, v);
            break;
        }
        case 0x93: {                                                          /* STACK_GLOBAL */
            y = cv_pk_pop(&k); x = cv_pk_pop(&k);
            if (x->kind != V_STR || y->kind != V_STR) cv_die("corrupt pickle: STACK_GLOBAL at byte %zu", at);
            char buf[1024];
            snprintf(buf, sizeof buf, "%s %s", x->s, y->s);
            v = cv_str(buf, strlen(buf)); v->kind = V_GLOBAL;
            cv_pk_push(&k, v);
            break;
        }
        case 'Q': {                                                           /* BINPERSID */
            x = cv_pk_pop(&k);
            /* ('storage', <storage class>, key, location, numel) */
            if (x->kind == V_TUPLE && x->n >= 5 && cv_is_str(x->items[0], "storage") && x->items[1]->kind == V_GLOBAL &&
                x->items[2]->kind == V_STR) {
                v = cv_new(V_STORAGE);
                v->dtype = cv_storage_dtype(x->items[1]->s);
                v->s = (char *)cv_xrealloc(NULL, x->items[2]->slen + 1);
                memcpy(v->s, x->items[2]->s, x->items[2]->slen + 1);
                v->slen = x->items[2]->slen;
                v->i = cv_as_int(x->items[4], "storage size", &k);
                v->cls = x->items[1];
            } else { v = cv_new(V_OPAQUE); v->state = x; }
            cv_pk_push(&k, v);
            break;
        }
        case 'R': y = cv_pk_pop(&k); x = cv_pk_pop(&k); cv_pk_push(&k, cv_reduce(&k, x, y)); break;
        case 0x81: {                                                          /* NEWOBJ cls args */
            y = cv_pk_pop(&k); x = cv_pk_pop(&k);
            v = cv_new(V_OBJ); v->cls = x; v->state = NULL;
            cv_pk_push(&k, v);
            break;
        }
        case 'b': {                                                           /* BUILD */
            y = cv_pk_pop(&k); x = cv_pk_top(&k);
            if (x->kind == V_OBJ || x->kind == V_OPAQUE) x->state = y;
            else if (x->kind == V_DICT && y->kind == V_DICT) for (size_t i = 0; i < y->n; i++) cv_push_item(x, y->items[i]);
            break;                                                            /* tensors: BUILD sets hooks; ignored */
        }
        case 's': case 'u': {                                                 /* SETITEM(S) */
            cv_val *items;
            if (op == 's') { y = cv_pk_pop(&k); x = cv_pk_pop(&k); items = cv_new(V_TUPLE); cv_push_item(items, x); cv_push_item(items, y); }
            else items = cv_pk_popmark(&k, V_TUPLE);
            v = cv_pk_top(&k);
            if (v->kind != V_DICT || items->n % 2) cv_die("corrupt pickle: SETITEMS on a non-dict at byte %zu", at);
            for (size_t i = 0; i < items->n; i++) cv_push_item(v, items->items[i]);
            break;
        }
        case 'a': case 'e': {                                                 /* APPEND(S) */
            cv_val *items;
            if (op == 'a') { items = cv_new(V_TUPLE); cv_push_item(items, cv_pk_pop(&k)); }
            else items = cv_pk_popmark(&k, V_TUPLE);
            v = cv_pk_top(&k);
            if (v->kind != V_LIST) cv_die("corrupt pickle: APPEND on a non-list at byte %zu", at);
            for (size_t i = 0; i < items->n; i++) cv_push_item(v, items->items[i]);
            break;
        }
        case 'q': cv_pk_memo_put(&k, *cv_pk_take(&k, 1), cv_pk_top(&k)); break;
        case 'r': cv_pk_memo_put(&k, cv_u32(cv_pk_take(&k, 4)), cv_pk_top(&k)); break;
        case 0x94: {                                                          /* MEMOIZE */
            size_t idx = 0;
            while (idx < k.memocap && k.memo[idx]) idx++;
            cv_pk_memo_put(&k, idx, cv_pk_top(&k));
            break;
        }
        case 'h': cv_pk_push(&k, cv_pk_memo_get(&k, *cv_pk_take(&k, 1))); break;
        case 'j': cv_pk_push(&k, cv_pk_memo_get(&k, cv_u32(cv_pk_take(&k, 4)))); break;
        case '.': result = cv_pk_pop(&k); break;                              /* STOP */
        default: cv_die("pickle opcode 0x%02x at byte %zu not supported (not a tensor checkpoint?)", op, at);
        }
    }
    free(k.stack); free(k.marks); free(k.memo);
    return result;
}

/* ---- from pickled values to tensor sources ------------------------------------------------ */
static const char *cv_zprefix;      /* "<prefix>/" of the archive's entries */
static size_t cv_zprefix_len;

static void cv_add_tensor(cv_map m, const char *name, const cv_val *t) {
    cv_src *s = cv_src_add(name);
    const cv_val *st = t->storage;
    s->dtype = st->dtype;
    s->ndim = t->ndim;
    s->offset = t->offset;
    memcpy(s->shape, t->shape, sizeof s->shape);
    memcpy(s->stride, t->stride, sizeof s->stride);
    if (cv_numel(s->ndim, s->shape) < 0) cv_die("tensor '%s': absurd shape", s->name);
    if (s->dtype == CV_UNSUPPORTED) return;                  /* only an error if the tensor is needed */
    char ename[600];
    snprintf(ename, sizeof ename, "%.*sdata/%.200s", (int)cv_zprefix_len, cv_zprefix, st->s);
    int e = cv_zip_find(ename);
    if (e < 0) cv_die("tensor '%s': storage entry '%s' missing from the archive", s->name, ename);
    uint64_t bytes = cv_zents[e].usize, es = (uint64_t)cv_dtype_size[s->dtype];
    if (st->i < 0 || (uint64_t)st->i > bytes / es) cv_die("tensor '%s': storage '%s' holds %llu bytes, fewer than %lld %s elements",
                                                          s->name, ename, (unsigned long long)bytes, (long long)st->i, cv_dtype_name[s->dtype]);
    s->avail = st->i;
    if (cv_zents[e].method == 0) s->base = m.p + cv_zents[e].data;
    else s->zentry = e;
    /* every element the view can reach must lie in the storage */
    int64_t hi = s->offset, numel = cv_numel(s->ndim, s->shape);
    if (s->offset < 0 || s->offset > ((int64_t)1 << 60)) cv_die("tensor '%s': bad storage offset %lld", s->name, (long long)s->offset);
    for (int d = 0; d < s->ndim && numel > 0; d++) {
        if (s->stride[d] < 0 || s->stride[d] > ((int64_t)1 << 40)) cv_die("tensor '%s': unsupported stride %lld", s->name, (long long)s->stride[d]);
        if (s->shape[d] > 1 && s->stride[d] > (((int64_t)1 << 61) - hi) / (s->shape[d] - 1))
            cv_die("tensor '%s': view far outside its storage", s->name);
        hi += (s->shape[d] - 1) * s->stride[d];
    }
    if (numel > 0 && hi >= s->avail) cv_die("tensor '%s': view reaches element %lld of a storage of %lld", s->name, (long long)hi, (long long)s->avail);
}

/* TorchScript module tree: each object's state is a dict of attributes; tensors become
   "prefix.attr", submodules are walked with "prefix.attr." (same names as state_dict()) */
static long cv_walk_budget;
static void cv_walk(cv_map m, const cv_val *obj, const char *prefix, int depth) {
    if (depth > 64 || --cv_walk_budget < 0) cv_die("module tree too deep or too large (cyclic?)");
    const cv_val *d = obj->state;
    if (!d || d->kind != V_DICT) return;
    for (size_t i = 0; i + 1 < d->n; i += 2) {
        const cv_val *key = d->items[i], *v = d->items[i + 1];
        if (key->kind != V_STR) continue;
        char name[512];
        snprintf(name, sizeof name, "%s%s", prefix, key->s);
        if (strlen(name) > 250) cv_die("tensor name too long: %.60s...", name);
        if (v->kind == V_TENSOR) cv_add_tensor(m, name, v);
        else if (v->kind == V_OBJ) { strcat(name, "."); cv_walk(m, v, name, depth + 1); }
    }
}

static int cv_is_torchscript;
static void cv_read_torch_zip(cv_map m) {
    cv_zip_open(m);
    int pk = -1;
    for (int i = 0; i < cv_nzent; i++) {
        const cv_zent *z = &cv_zents[i];
        const char *slash = memchr(z->name, '/', z->nlen);
        if (slash && z->nlen - (size_t)(slash - z->name) == strlen("/data.pkl") && !memcmp(slash, "/data.pkl", 9)) { pk = i; break; }
    }
    if (pk < 0) cv_die("zip archive without <name>/data.pkl: not a PyTorch checkpoint");
    cv_zprefix = cv_zents[pk].name;
    cv_zprefix_len = cv_zents[pk].nlen - strlen("data.pkl");
    size_t len;
    unsigned char *tofree;
    const unsigned char *pkl = cv_zip_data(m, pk, &len, &tofree);
    cv_val *root = cv_unpickle(pkl, len);
    free(tofree);
    if (root->kind == V_OBJ) {                                   /* TorchScript module */
        cv_is_torchscript = 1;
        cv_walk_budget = 10000000;
        cv_walk(m, root, "", 0);
        return;
    }
    if (root->kind != V_DICT) cv_die("data.pkl holds neither a state dict nor a TorchScript module");
    cv_val *sd = cv_get(root, "state_dict");                     /* OpenCLIP training checkpoint */
    if (sd && sd->kind == V_DICT) root = sd;
    for (size_t i = 0; i + 1 < root->n; i += 2)
        if (root->items[i]->kind == V_STR && root->items[i + 1]->kind == V_TENSOR)
            cv_add_tensor(m, root->items[i]->s, root->items[i + 1]);
}

/* ===================================================================================== */
/* Reading one tensor as fp32, contiguous                                                 */
/* ===================================================================================== */
static float cv_elem(const unsigned char *p, int dt) {
    switch (dt) {
    case CV_F32: { float f; memcpy(&f, p, 4); return f; }
    case CV_F16: return coop_f16_to_f32((uint16_t)cv_u16(p));
    case CV_BF16: return coop_bf16_to_f32((uint16_t)cv_u16(p));
    default: { double x; memcpy(&x, p, 8); return (float)x; }
    }
}
/* out: numel floats in C order, following the view's offset and strides */
static void cv_read(cv_map m, cv_src *s, float *out) {
    if (s->dtype == CV_UNSUPPORTED) cv_die("tensor '%s': unsupported element type (want float32/16, bfloat16)", s->name);
    unsigned char *tofree = NULL;
    const unsigned char *base = s->base;
    if (s->zentry >= 0) { size_t len; base = cv_zip_data(m, s->zentry, &len, &tofree); }
    int64_t numel = cv_numel(s->ndim, s->shape), idx[8] = {0}, want = 1;
    size_t es = (size_t)cv_dtype_size[s->dtype];
    int contiguous = 1;
    for (int d = s->ndim - 1; d >= 0; d--) {
        if (s->shape[d] != 1 && s->stride[d] != want) contiguous = 0;
        want *= s->shape[d];
    }
    if (contiguous) {                                           /* the common case: one linear pass */
        const unsigned char *p = base + (size_t)s->offset * es;
        if (s->dtype == CV_F32) memcpy(out, p, (size_t)numel * 4);
        else for (int64_t i = 0; i < numel; i++) out[i] = cv_elem(p + (size_t)i * es, s->dtype);
        free(tofree);
        return;
    }
    for (int64_t i = 0; i < numel; i++) {
        int64_t e = s->offset;
        for (int d = 0; d < s->ndim; d++) e += idx[d] * s->stride[d];
        out[i] = cv_elem(base + (size_t)e * es, s->dtype);
        for (int d = s->ndim - 1; d >= 0; d--) { if (++idx[d] < s->shape[d]) break; idx[d] = 0; }
    }
    free(tofree);
}

/* ===================================================================================== */
/* Architecture: known OpenCLIP names, open_clip_config.json, or inference from shapes    */
/* ===================================================================================== */
typedef struct {
    const char *name; int vision, image, width, layers, patch, rl[4], embed;
    int text, tw, tl, th, quick; const char *hf;
} cv_arch;
static const cv_arch cv_archs[] = {
    {"RN50", COOP_VISION_RESNET, 224, 64, 0, 0, {3, 4, 6, 3}, 1024, COOP_TEXT_CLIP, 512, 12, 8, 0, NULL},
    {"RN101", COOP_VISION_RESNET, 224, 64, 0, 0, {3, 4, 23, 3}, 512, COOP_TEXT_CLIP, 512, 12, 8, 0, NULL},
    {"RN50x4", COOP_VISION_RESNET, 288, 80, 0, 0, {4, 6, 10, 6}, 640, COOP_TEXT_CLIP, 640, 12, 10, 0, NULL},
    {"RN50x16", COOP_VISION_RESNET, 384, 96, 0, 0, {6, 8, 18, 8}, 768, COOP_TEXT_CLIP, 768, 12, 12, 0, NULL},
    {"RN50x64", COOP_VISION_RESNET, 448, 128, 0, 0, {3, 15, 36, 10}, 1024, COOP_TEXT_CLIP, 1024, 12, 16, 0, NULL},
    {"ViT-B-32", COOP_VISION_VIT, 224, 768, 12, 32, {0}, 512, COOP_TEXT_CLIP, 512, 12, 8, 0, NULL},
    {"ViT-B-32-quickgelu", COOP_VISION_VIT, 224, 768, 12, 32, {0}, 512, COOP_TEXT_CLIP, 512, 12, 8, 1, NULL},
    {"ViT-B-16", COOP_VISION_VIT, 224, 768, 12, 16, {0}, 512, COOP_TEXT_CLIP, 512, 12, 8, 0, NULL},
    {"ViT-L-14", COOP_VISION_VIT, 224, 1024, 24, 14, {0}, 768, COOP_TEXT_CLIP, 768, 12, 12, 0, NULL},
    {"ViT-L-14-336", COOP_VISION_VIT, 336, 1024, 24, 14, {0}, 768, COOP_TEXT_CLIP, 768, 12, 12, 0, NULL},
    {"roberta-ViT-B-32", COOP_VISION_VIT, 224, 768, 12, 32, {0}, 512, COOP_TEXT_HF, 0, 0, 0, 1, "roberta-base"},
    {"xlm-roberta-base-ViT-B-32", COOP_VISION_VIT, 224, 768, 12, 32, {0}, 512, COOP_TEXT_HF, 0, 0, 0, 0, "xlm-roberta-base"},
};
#define CV_NARCH (int)(sizeof cv_archs / sizeof cv_archs[0])

static cv_src *cv_need(const char *name) {
    cv_src *s = cv_find(name);
    if (!s) cv_die("required tensor '%s' missing", name);
    return s;
}
static int cv_count(const char *fmt, const char *suffix) {       /* number of consecutive blocks i = 0, 1, ... */
    char name[300];
    int i = 0;
    for (;; i++) {
        snprintf(name, sizeof name, fmt, i);
        strcat(name, suffix);
        if (!cv_find(name)) return i;
    }
}
/* grid side of a positional embedding with n = G*G (+1 class token) rows */
static int cv_grid(const cv_src *pe, int extra) {
    if (pe->ndim != 2 || pe->shape[0] < 1 + extra || pe->shape[0] > 1000000) cv_die("tensor '%s': unexpected shape", pe->name);
    return (int)llround(sqrt((double)(pe->shape[0] - extra)));
}

/* what the JSON / --arch say beyond the numbers: HF text model, pooler, projection, QuickGELU */
typedef struct { char hf_name[128]; char pooler[32], proj[32]; int quick; } cv_extra;

/* reads open_clip_config.json (or a bare model config) into c; numbers not given keep OpenCLIP's defaults */
static void cv_apply_json(const char *path, coop_config *c, cv_extra *x) {
    const char *keep = cv_file;
    cv_file = path;
    size_t len;
    char *txt = coop_read_file(path, &len);
    if (!txt) cv_die("cannot read: %s", coop_last_error());
    cv_val *root = cv_json_parse(txt, len);
    coop_free(txt);
    if (!root || root->kind != V_DICT) cv_die("not a valid JSON object");
    cv_val *mc = cv_get(root, "model_cfg");
    if (!mc) mc = root;
    if (mc->kind != V_DICT) cv_die("model_cfg is not an object");
    double v;
#define CV_INT(obj, key, field, def) do { if (cv_num(cv_get(obj, key), &v)) { if (v < 0 || v > 1e9 || v != floor(v)) cv_die("'%s' must be a non-negative integer", key); field = (int)v; } else field = def; } while (0)
    CV_INT(mc, "embed_dim", c->embed_dim, 0);
    if (!c->embed_dim) cv_die("model config lacks embed_dim");
    cv_val *q = cv_get(mc, "quick_gelu");
    x->quick = q && q->kind == V_BOOL && q->i;
    cv_val *vc = cv_get(mc, "vision_cfg"), *tc = cv_get(mc, "text_cfg");
    if (!vc || vc->kind != V_DICT || !tc || tc->kind != V_DICT) cv_die("model config lacks vision_cfg / text_cfg");
    if (cv_get(vc, "timm_model_name") && cv_get(vc, "timm_model_name")->kind == V_STR)
        cv_die("timm image towers are not supported");
    CV_INT(vc, "image_size", c->image_size, 224);
    CV_INT(vc, "width", c->vision_width, 768);
    CV_INT(vc, "patch_size", c->vision_patch, 16);
    int head_width;
    CV_INT(vc, "head_width", head_width, 64);
    if (head_width <= 0) cv_die("vision_cfg.head_width must be positive");
    double ratio = 4.0;
    cv_num(cv_get(vc, "mlp_ratio"), &ratio);
    cv_val *layers = cv_get(vc, "layers");
    if (layers && (layers->kind == V_LIST || layers->kind == V_TUPLE)) {
        if (layers->n != 4) cv_die("vision_cfg.layers: want 4 numbers for a ResNet");
        c->vision = COOP_VISION_RESNET;
        for (int i = 0; i < 4; i++) {
            if (!cv_num(layers->items[i], &v) || v < 1 || v > 1000) cv_die("vision_cfg.layers: bad count");
            c->resnet_layers[i] = (int)v;
        }
        CV_INT(vc, "width", c->vision_width, 64);
        c->vision_heads = c->vision_width * 32 / head_width;
        c->vision_patch = 0;
    } else {
        c->vision = COOP_VISION_VIT;
        CV_INT(vc, "layers", c->vision_layers, 12);
        c->vision_heads = c->vision_width / head_width;
        c->vision_mlp = (int)(c->vision_width * ratio);
    }
    const char *hf = NULL;
    cv_val *s = cv_get(tc, "hf_model_name");
    if (s && s->kind == V_STR && s->slen) hf = s->s;
    if (hf) {
        c->text = COOP_TEXT_HF;
        snprintf(x->hf_name, sizeof x->hf_name, "%s", hf);
        s = cv_get(tc, "hf_pooler_type"); if (!s) s = cv_get(tc, "pooler_type");
        snprintf(x->pooler, sizeof x->pooler, "%s", s && s->kind == V_STR ? s->s : "mean_pooler");
        s = cv_get(tc, "hf_proj_type"); if (!s) s = cv_get(tc, "proj");
        snprintf(x->proj, sizeof x->proj, "%s", s && s->kind == V_STR ? s->s : "mlp");
        CV_INT(tc, "context_length", c->context_length, 77);
    } else {
        c->text = COOP_TEXT_CLIP;
        CV_INT(tc, "context_length", c->context_length, 77);
        CV_INT(tc, "vocab_size", c->vocab_size, 49408);
        CV_INT(tc, "width", c->text_width, 512);
        CV_INT(tc, "heads", c->text_heads, 8);
        CV_INT(tc, "layers", c->text_layers, 12);
        double tr = 4.0;
        cv_num(cv_get(tc, "mlp_ratio"), &tr);
        c->text_mlp = (int)(c->text_width * tr);
    }
    cv_val *pc = cv_get(root, "preprocess_cfg");
    for (int w = 0; w < 2 && pc; w++) {
        cv_val *a = cv_get(pc, w ? "std" : "mean");
        if (!a) continue;
        if (a->kind != V_LIST || a->n != 3) cv_die("preprocess_cfg.%s: want 3 numbers", w ? "std" : "mean");
        for (int i = 0; i < 3; i++) {
            if (!cv_num(a->items[i], &v)) cv_die("preprocess_cfg: not a number");
            (w ? c->image_std : c->image_mean)[i] = (float)v;
        }
    }
#undef CV_INT
    cv_file = keep;
}

/* the architecture numbers from tensor shapes, as OpenCLIP's build_model_from_openai_state_dict */
static void cv_infer(coop_config *c) {
    if (cv_find("visual.trunk.patch_embed.proj.weight") || cv_find("visual.trunk.stem.0.weight"))
        cv_die("timm image towers are not supported");
    if (cv_find("visual.proj") || cv_find("visual.class_embedding")) {
        cv_src *w = cv_need("visual.conv1.weight"), *pe = cv_need("visual.positional_embedding");
        if (w->ndim != 4 || pe->ndim != 2) cv_die("visual.conv1.weight / visual.positional_embedding: unexpected rank");
        c->vision = COOP_VISION_VIT;
        c->vision_width = (int)w->shape[0];
        c->vision_patch = (int)w->shape[3];
        c->vision_layers = cv_count("visual.transformer.resblocks.%d", ".attn.in_proj_weight");
        c->image_size = c->vision_patch * cv_grid(pe, 1);
        c->vision_heads = c->vision_width / 64 > 0 ? c->vision_width / 64 : 1;
        cv_src *fc = cv_need("visual.transformer.resblocks.0.mlp.c_fc.weight");
        c->vision_mlp = (int)fc->shape[0];
    } else if (cv_find("visual.layer1.0.conv1.weight")) {
        c->vision = COOP_VISION_RESNET;
        for (int l = 0; l < 4; l++) {
            char fmt[64];
            snprintf(fmt, sizeof fmt, "visual.layer%d.%%d", l + 1);
            c->resnet_layers[l] = cv_count(fmt, ".conv1.weight");
        }
        c->vision_width = (int)cv_need("visual.layer1.0.conv1.weight")->shape[0];
        c->vision_heads = c->vision_width * 32 / 64;
        cv_src *pe = cv_need("visual.attnpool.positional_embedding");
        c->image_size = 32 * cv_grid(pe, 1);
    } else c->vision = COOP_VISION_NONE;
    if (cv_find("token_embedding.weight")) {
        cv_src *te = cv_need("token_embedding.weight"), *pe = cv_need("positional_embedding");
        if (te->ndim != 2 || pe->ndim != 2) cv_die("token_embedding / positional_embedding: unexpected rank");
        c->text = COOP_TEXT_CLIP;
        c->vocab_size = (int)te->shape[0];
        c->text_width = (int)te->shape[1];
        c->context_length = (int)pe->shape[0];
        c->text_heads = c->text_width / 64 > 0 ? c->text_width / 64 : 1;
        c->text_layers = cv_count("transformer.resblocks.%d", ".attn.in_proj_weight");
        c->text_mlp = (int)cv_need("transformer.resblocks.0.mlp.c_fc.weight")->shape[0];
    } else if (cv_find("text.transformer.embeddings.word_embeddings.weight")) c->text = COOP_TEXT_HF;
    else c->text = COOP_TEXT_NONE;
    cv_src *tp = cv_find("text_projection");
    if (tp && tp->ndim == 2) c->embed_dim = (int)tp->shape[1];
    else if (c->vision == COOP_VISION_VIT) c->embed_dim = (int)cv_need("visual.proj")->shape[1];
    else if (c->vision == COOP_VISION_RESNET) c->embed_dim = (int)cv_need("visual.attnpool.c_proj.weight")->shape[0];
    if (c->vision == COOP_VISION_NONE && c->text == COOP_TEXT_NONE)
        cv_die("no CLIP image or text tower found (no visual.* / token_embedding.weight tensors)");
}

/* HF text tower numbers come from its tensors (the JSON only names the HF model) */
static void cv_infer_hf(coop_config *c, const cv_extra *x) {
    cv_src *we = cv_need("text.transformer.embeddings.word_embeddings.weight");
    cv_src *pe = cv_need("text.transformer.embeddings.position_embeddings.weight");
    cv_src *ty = cv_need("text.transformer.embeddings.token_type_embeddings.weight");
    c->vocab_size = (int)we->shape[0];
    c->text_width = (int)we->shape[1];
    c->hf_max_positions = (int)pe->shape[0];
    c->hf_type_vocab = (int)ty->shape[0];
    c->text_layers = cv_count("text.transformer.encoder.layer.%d", ".attention.self.query.weight");
    c->text_heads = c->text_width / 64 > 0 ? c->text_width / 64 : 1;
    c->text_mlp = (int)cv_need("text.transformer.encoder.layer.0.intermediate.dense.weight")->shape[0];
    c->text_act = COOP_ACT_GELU;
    int xlm = strstr(x->hf_name, "xlm-roberta") != NULL;
    if (!xlm && !strstr(x->hf_name, "roberta")) cv_die("HF text model '%s' not supported (roberta / xlm-roberta only)", x->hf_name);
    snprintf(c->hf_model_type, sizeof c->hf_model_type, "%s", xlm ? "xlm-roberta" : "roberta");
    snprintf(c->hf_pooler, sizeof c->hf_pooler, "%s", !strcmp(x->pooler, "cls_pooler") ? "cls" : "mean");
    if (strcmp(x->pooler, "cls_pooler") && strcmp(x->pooler, "mean_pooler"))
        cv_die("HF pooler '%s' not supported (mean_pooler / cls_pooler)", x->pooler);
    if (!strcmp(x->proj, "mlp")) {
        snprintf(c->hf_proj, sizeof c->hf_proj, "mlp");
        c->hf_proj_hidden = (int)cv_need("text.proj.0.weight")->shape[0];
    } else if (!strcmp(x->proj, "linear")) snprintf(c->hf_proj, sizeof c->hf_proj, "linear");
    else cv_die("HF projection '%s' not supported (mlp / linear)", x->proj);
    c->tokenizer = xlm ? COOP_TOK_UNIGRAM : COOP_TOK_GPT2_BPE;
    c->pad_id = 1; c->sot_id = 0; c->eot_id = 2;       /* <pad>, <s>, </s> in both vocabularies */
    c->ln_eps = 1e-5f;
}

/* ===================================================================================== */
/* The output tensors: names and shapes the architecture implies                          */
/* ===================================================================================== */
typedef struct { char name[128], bn[128]; int ndim; int64_t shape[4]; int optional; } cv_out;
static cv_out *cv_outs;
static int cv_nout, cv_capout;

static void cv_emit(const char *bn, int optional, int ndim, int64_t a, int64_t b, int64_t c_, int64_t d, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;
static void cv_emit(const char *bn, int optional, int ndim, int64_t a, int64_t b, int64_t c_, int64_t d, const char *fmt, ...) {
    if (cv_nout == cv_capout) {
        cv_capout = cv_capout ? 2 * cv_capout : 256;
        cv_outs = (cv_out *)cv_xrealloc(cv_outs, (size_t)cv_capout * sizeof *cv_outs);
    }
    cv_out *o = &cv_outs[cv_nout++];
    memset(o, 0, sizeof *o);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->name, sizeof o->name, fmt, ap);
    va_end(ap);
    if (bn) snprintf(o->bn, sizeof o->bn, "%s", bn);
    o->optional = optional;
    o->ndim = ndim;
    int64_t s[4] = {a, b, c_, d};
    memcpy(o->shape, s, sizeof s);
}
#define CV_T(nd, a, b, c, d, ...) cv_emit(NULL, 0, nd, a, b, c, d, __VA_ARGS__)

/* pre-LN transformer blocks of CLIP: prefix "visual.transformer" or "transformer" */
static void cv_plan_blocks(const char *pre, int layers, int64_t W, int64_t M) {
    for (int i = 0; i < layers; i++) {
        CV_T(1, W, 0, 0, 0, "%s.resblocks.%d.ln_1.weight", pre, i);
        CV_T(1, W, 0, 0, 0, "%s.resblocks.%d.ln_1.bias", pre, i);
        CV_T(2, 3 * W, W, 0, 0, "%s.resblocks.%d.attn.in_proj_weight", pre, i);
        CV_T(1, 3 * W, 0, 0, 0, "%s.resblocks.%d.attn.in_proj_bias", pre, i);
        CV_T(2, W, W, 0, 0, "%s.resblocks.%d.attn.out_proj.weight", pre, i);
        CV_T(1, W, 0, 0, 0, "%s.resblocks.%d.attn.out_proj.bias", pre, i);
        CV_T(1, W, 0, 0, 0, "%s.resblocks.%d.ln_2.weight", pre, i);
        CV_T(1, W, 0, 0, 0, "%s.resblocks.%d.ln_2.bias", pre, i);
        CV_T(2, M, W, 0, 0, "%s.resblocks.%d.mlp.c_fc.weight", pre, i);
        CV_T(1, M, 0, 0, 0, "%s.resblocks.%d.mlp.c_fc.bias", pre, i);
        CV_T(2, W, M, 0, 0, "%s.resblocks.%d.mlp.c_proj.weight", pre, i);
        CV_T(1, W, 0, 0, 0, "%s.resblocks.%d.mlp.c_proj.bias", pre, i);
    }
}
/* a convolution followed by BatchNorm: emitted as folded weight + bias */
static void cv_plan_convbn(const char *conv, const char *bn, int64_t o, int64_t i, int64_t k) {
    cv_emit(bn, 0, 4, o, i, k, k, "%s.weight", conv);
    cv_emit(bn, 0, 1, o, 0, 0, 0, "%s.bias", conv);
}

static void cv_plan(const coop_config *c) {
    int64_t E = c->embed_dim;
    if (c->vision == COOP_VISION_VIT) {
        int64_t W = c->vision_width, P = c->vision_patch, G = c->image_size / P;
        CV_T(4, W, 3, P, P, "visual.conv1.weight");
        CV_T(1, W, 0, 0, 0, "visual.class_embedding");
        CV_T(2, G * G + 1, W, 0, 0, "visual.positional_embedding");
        CV_T(1, W, 0, 0, 0, "visual.ln_pre.weight");
        CV_T(1, W, 0, 0, 0, "visual.ln_pre.bias");
        cv_plan_blocks("visual.transformer", c->vision_layers, W, c->vision_mlp);
        CV_T(1, W, 0, 0, 0, "visual.ln_post.weight");
        CV_T(1, W, 0, 0, 0, "visual.ln_post.bias");
        CV_T(2, W, E, 0, 0, "visual.proj");
    } else if (c->vision == COOP_VISION_RESNET) {
        int64_t w = c->vision_width, inpl = w;
        cv_plan_convbn("visual.conv1", "visual.bn1", w / 2, 3, 3);
        cv_plan_convbn("visual.conv2", "visual.bn2", w / 2, w / 2, 3);
        cv_plan_convbn("visual.conv3", "visual.bn3", w, w / 2, 3);
        for (int l = 0; l < 4; l++) {
            int64_t planes = w << l;
            for (int j = 0; j < c->resnet_layers[l]; j++) {
                char conv[96], bn[96];
                for (int k = 1; k <= 3; k++) {
                    snprintf(conv, sizeof conv, "visual.layer%d.%d.conv%d", l + 1, j, k);
                    snprintf(bn, sizeof bn, "visual.layer%d.%d.bn%d", l + 1, j, k);
                    cv_plan_convbn(conv, bn, k == 3 ? 4 * planes : planes, k == 1 ? inpl : planes, k == 2 ? 3 : 1);
                }
                /* OpenCLIP's Bottleneck has a downsample branch when stride > 1 or channels change */
                if (j == 0 && (l > 0 || inpl != 4 * planes)) {
                    snprintf(conv, sizeof conv, "visual.layer%d.0.downsample.0", l + 1);
                    snprintf(bn, sizeof bn, "visual.layer%d.0.downsample.1", l + 1);
                    cv_plan_convbn(conv, bn, 4 * planes, inpl, 1);
                }
                inpl = 4 * planes;
            }
        }
        int64_t D = 32 * w, G = c->image_size / 32;
        CV_T(2, G * G + 1, D, 0, 0, "visual.attnpool.positional_embedding");
        const char *qkv[3] = {"q", "k", "v"};
        for (int i = 0; i < 3; i++) {
            CV_T(2, D, D, 0, 0, "visual.attnpool.%s_proj.weight", qkv[i]);
            CV_T(1, D, 0, 0, 0, "visual.attnpool.%s_proj.bias", qkv[i]);
        }
        CV_T(2, E, D, 0, 0, "visual.attnpool.c_proj.weight");
        CV_T(1, E, 0, 0, 0, "visual.attnpool.c_proj.bias");
    }
    if (c->text == COOP_TEXT_CLIP) {
        int64_t D = c->text_width;
        CV_T(2, c->vocab_size, D, 0, 0, "token_embedding.weight");
        CV_T(2, c->context_length, D, 0, 0, "positional_embedding");
        cv_plan_blocks("transformer", c->text_layers, D, c->text_mlp);
        CV_T(1, D, 0, 0, 0, "ln_final.weight");
        CV_T(1, D, 0, 0, 0, "ln_final.bias");
        CV_T(2, D, E, 0, 0, "text_projection");
    } else if (c->text == COOP_TEXT_HF) {
        int64_t D = c->text_width, M = c->text_mlp;
        const char *t = "text.transformer";
        CV_T(2, c->vocab_size, D, 0, 0, "%s.embeddings.word_embeddings.weight", t);
        CV_T(2, c->hf_max_positions, D, 0, 0, "%s.embeddings.position_embeddings.weight", t);
        CV_T(2, c->hf_type_vocab, D, 0, 0, "%s.embeddings.token_type_embeddings.weight", t);
        CV_T(1, D, 0, 0, 0, "%s.embeddings.LayerNorm.weight", t);
        CV_T(1, D, 0, 0, 0, "%s.embeddings.LayerNorm.bias", t);
        for (int i = 0; i < c->text_layers; i++) {
            const char *qkv[3] = {"query", "key", "value"};
            for (int k = 0; k < 3; k++) {
                CV_T(2, D, D, 0, 0, "%s.encoder.layer.%d.attention.self.%s.weight", t, i, qkv[k]);
                CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.attention.self.%s.bias", t, i, qkv[k]);
            }
            CV_T(2, D, D, 0, 0, "%s.encoder.layer.%d.attention.output.dense.weight", t, i);
            CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.attention.output.dense.bias", t, i);
            CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.attention.output.LayerNorm.weight", t, i);
            CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.attention.output.LayerNorm.bias", t, i);
            CV_T(2, M, D, 0, 0, "%s.encoder.layer.%d.intermediate.dense.weight", t, i);
            CV_T(1, M, 0, 0, 0, "%s.encoder.layer.%d.intermediate.dense.bias", t, i);
            CV_T(2, D, M, 0, 0, "%s.encoder.layer.%d.output.dense.weight", t, i);
            CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.output.dense.bias", t, i);
            CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.output.LayerNorm.weight", t, i);
            CV_T(1, D, 0, 0, 0, "%s.encoder.layer.%d.output.LayerNorm.bias", t, i);
        }
        if (!strcmp(c->hf_pooler, "cls")) {     /* OpenCLIP's cls_pooler uses the HF pooler when present */
            cv_emit(NULL, 1, 2, D, D, 0, 0, "%s.pooler.dense.weight", t);
            cv_emit(NULL, 1, 1, D, 0, 0, 0, "%s.pooler.dense.bias", t);
        }
        if (!strcmp(c->hf_proj, "mlp")) {
            CV_T(2, c->hf_proj_hidden, D, 0, 0, "text.proj.0.weight");
            CV_T(2, E, c->hf_proj_hidden, 0, 0, "text.proj.2.weight");
        } else if (!strcmp(c->hf_proj, "linear")) CV_T(2, E, D, 0, 0, "text.proj.weight");
    }
    if (c->text != COOP_TEXT_NONE) CV_T(1, 1, 0, 0, 0, "logit_scale");
}

/* shape check: a tensor of shape [] is accepted for the expected [1] (logit_scale) */
static void cv_check_shape(const cv_src *s, int ndim, const int64_t *shape) {
    int ok = s->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = s->shape[d] == shape[d];
    if (!ok && ndim == 1 && shape[0] == 1 && cv_numel(s->ndim, s->shape) == 1) ok = 1;
    if (!ok) {
        char a[96], b[96];
        cv_shape_str(a, sizeof a, s->ndim, s->shape);
        cv_shape_str(b, sizeof b, ndim, shape);
        cv_die("tensor '%s' has shape %s, expected %s", s->name, a, b);
    }
}
static float *cv_load(cv_map m, const char *name, int ndim, const int64_t *shape) {
    cv_src *s = cv_need(name);
    cv_check_shape(s, ndim, shape);
    s->used = 1;
    int64_t n = cv_numel(ndim, shape);
    float *x = (float *)cv_xrealloc(NULL, (size_t)n * sizeof(float));
    cv_read(m, s, x);
    return x;
}

/* W' = W * g/sqrt(var+eps), b' = beta - mean * g/sqrt(var+eps)  (BatchNorm2d eval, eps 1e-5), in double */
static float *cv_fold(cv_map m, const cv_out *o, int want_bias) {
    char wname[160], n[160];
    int64_t O = o->shape[0], wshape[4];
    snprintf(wname, sizeof wname, "%.*s.weight", (int)(strlen(o->name) - (want_bias ? 5 : 7)), o->name);
    float *w = NULL;                                 /* the bias pass needs only the BN vectors */
    memcpy(wshape, o->shape, sizeof wshape);
    if (!want_bias) w = cv_load(m, wname, 4, wshape);
    float *v[4];
    const char *part[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int i = 0; i < 4; i++) { snprintf(n, sizeof n, "%s.%s", o->bn, part[i]); v[i] = cv_load(m, n, 1, &O); }
    snprintf(n, sizeof n, "%s.num_batches_tracked", o->bn);
    if (cv_find(n)) cv_find(n)->used = 1;
    int64_t per = want_bias ? 0 : wshape[1] * wshape[2] * wshape[3];
    float *out = want_bias ? (float *)cv_xrealloc(NULL, (size_t)O * sizeof(float)) : w;
    for (int64_t i = 0; i < O; i++) {
        if (!(v[3][i] >= 0)) cv_die("'%s.running_var' has a negative or NaN entry", o->bn);
        double s = (double)v[0][i] / sqrt((double)v[3][i] + 1e-5);
        if (want_bias) out[i] = (float)((double)v[1][i] - (double)v[2][i] * s);
        else for (int64_t j = 0; j < per; j++) w[i * per + j] = (float)((double)w[i * per + j] * s);
    }
    for (int i = 0; i < 4; i++) free(v[i]);
    return out;
}

/* ===================================================================================== */
/* Tokenizer blob                                                                          */
/* ===================================================================================== */
static void cv_tok_file(void **blob, size_t *size, const char *section, const char *dir, const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len;
    char *d = coop_read_file(path, &len);
    if (!d) { cv_file = path; cv_die("tokenizer file missing (--tokenizer %s needs %s)", dir, file); }
    if (coop_tokblob_append(blob, size, section, d, len)) cv_die("%s", coop_last_error());
    coop_free(d);
}

static void cv_tokenizer(const coop_config *c, const char *vocab, const char *tokdir, void **blob, size_t *size) {
    if (c->text == COOP_TEXT_CLIP) {
        const char *def = "../shared/data/bpe_simple_vocab_16e6.txt.gz";
        if (!vocab) {
            if (access(def, R_OK) != 0) cv_die("CLIP text tower needs its BPE vocabulary: pass --vocab bpe_simple_vocab_16e6.txt.gz");
            vocab = def;
        }
        cv_file = vocab;
        cv_map m = cv_mmap(vocab);
        size_t len;
        void *txt = NULL;
        if (m.n >= 2 && m.p[0] == 0x1f && m.p[1] == 0x8b && coop_gunzip(m.p, m.n, &txt, &len))
            cv_die("corrupt gzip data (%s)", coop_last_error());
        const unsigned char *t = txt ? (const unsigned char *)txt : m.p;
        if (!txt) len = m.n;
        /* line 1 is a header CLIP's tokenizer skips; then "a b" merge lines */
        const unsigned char *nl = memchr(t, '\n', len);
        if (!nl || !memchr(nl, ' ', len - (size_t)(nl - t))) cv_die("not a CLIP BPE merges file");
        if (coop_tokblob_append(blob, size, "clip_bpe", t, len)) cv_die("%s", coop_last_error());
        coop_free(txt);
        munmap((void *)m.p, m.n);
    } else if (c->text == COOP_TEXT_HF) {
        if (!tokdir) cv_die("HF text tower needs --tokenizer DIR (with %s)", c->tokenizer == COOP_TOK_UNIGRAM ? "sentencepiece.bpe.model" : "vocab.json and merges.txt");
        if (c->tokenizer == COOP_TOK_UNIGRAM) cv_tok_file(blob, size, "sentencepiece.bpe.model", tokdir, "sentencepiece.bpe.model");
        else {
            cv_tok_file(blob, size, "vocab.json", tokdir, "vocab.json");
            cv_tok_file(blob, size, "merges.txt", tokdir, "merges.txt");
        }
    }
}

/* ===================================================================================== */
/* main                                                                                   */
/* ===================================================================================== */
static void cv_usage(void) {
    fprintf(stderr, "usage: convert CHECKPOINT -o OUT [--config open_clip_config.json] [--arch NAME] [--pretrained TAG]\n"
                    "               [--vocab bpe_simple_vocab_16e6.txt.gz] [--tokenizer DIR] [--dtype f32|f16|bf16]\n"
                    "CHECKPOINT: open_clip_model.safetensors, open_clip_pytorch_model.bin (torch.save) or an OpenAI .pt\n"
                    "  without --config/--arch the architecture is inferred from the tensor shapes and the weights\n"
                    "  are taken to be OpenAI's (QuickGELU); --pretrained openai also selects QuickGELU\n"
                    "  --vocab defaults to ../shared/data/bpe_simple_vocab_16e6.txt.gz when that exists (CLIP text)\n"
                    "  --tokenizer DIR: vocab.json + merges.txt (roberta) or sentencepiece.bpe.model (xlm-roberta)\n"
                    "  --dtype applies to matrices and kernels; vectors stay f32\n"
                    "known --arch names:");
    for (int i = 0; i < CV_NARCH; i++) fprintf(stderr, " %s", cv_archs[i].name);
    fprintf(stderr, "\n");
    exit(1);
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *cfgpath = NULL, *arch = NULL, *pretrained = NULL, *vocab = NULL, *tokdir = NULL;
    int dtype = COOP_F32;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) cv_usage();
        else if (!strcmp(a, "-o") && more) out = argv[++i];
        else if (!strcmp(a, "--config") && more) cfgpath = argv[++i];
        else if (!strcmp(a, "--arch") && more) arch = argv[++i];
        else if (!strcmp(a, "--pretrained") && more) pretrained = argv[++i];
        else if (!strcmp(a, "--vocab") && more) vocab = argv[++i];
        else if (!strcmp(a, "--tokenizer") && more) tokdir = argv[++i];
        else if (!strcmp(a, "--dtype") && more) {
            const char *d = argv[++i];
            dtype = !strcmp(d, "f32") ? COOP_F32 : !strcmp(d, "f16") ? COOP_F16 : !strcmp(d, "bf16") ? COOP_BF16 : -1;
            if (dtype < 0) cv_die("--dtype: want f32, f16 or bf16, not '%s'", d);
        } else if (a[0] == '-' && a[1]) cv_die("unknown or incomplete option '%s' (see --help)", a);
        else if (!in) in = a;
        else cv_die("more than one checkpoint given ('%s')", a);
    }
    if (!in || !out) cv_usage();
    const cv_arch *ar = NULL;
    if (arch) {
        for (int i = 0; i < CV_NARCH; i++) if (!strcmp(cv_archs[i].name, arch)) ar = &cv_archs[i];
        if (!ar) cv_die("--arch: unknown architecture '%s' (see --help for the list)", arch);
    }

    /* 1. the checkpoint's tensors */
    cv_ckpt = in;
    cv_file = in;
    cv_map m = cv_mmap(in);
    if (m.n >= 4 && !memcmp(m.p, "PK\003\004", 4)) cv_read_torch_zip(m);
    else if (m.n >= 9 && m.p[8] == '{') cv_read_safetensors(m);
    else if (m.n >= 2 && m.p[0] == 0x80 && m.p[1] <= 5) cv_die("legacy (pre-1.6) torch.save format: re-save with torch.save(sd, f) from a recent PyTorch");
    else cv_die("not a safetensors file nor a PyTorch zip archive (unrecognised magic)");

    /* 2. the architecture */
    coop_config c;
    coop_config_defaults(&c);
    cv_extra x;
    memset(&x, 0, sizeof x);
    if (cfgpath) cv_apply_json(cfgpath, &c, &x);
    else if (ar) {
        c.vision = ar->vision; c.image_size = ar->image; c.vision_width = ar->width; c.embed_dim = ar->embed;
        if (ar->vision == COOP_VISION_VIT) {
            c.vision_layers = ar->layers; c.vision_patch = ar->patch;
            c.vision_heads = ar->width / 64; c.vision_mlp = 4 * ar->width;
        } else {
            memcpy(c.resnet_layers, ar->rl, sizeof c.resnet_layers);
            c.vision_heads = ar->width * 32 / 64;
        }
        c.text = ar->text;
        if (ar->text == COOP_TEXT_CLIP) {
            c.context_length = 77; c.vocab_size = 49408;
            c.text_width = ar->tw; c.text_layers = ar->tl; c.text_heads = ar->th; c.text_mlp = 4 * ar->tw;
        } else {
            snprintf(x.hf_name, sizeof x.hf_name, "%s", ar->hf);
            snprintf(x.pooler, sizeof x.pooler, "mean_pooler");
            snprintf(x.proj, sizeof x.proj, "mlp");
        }
        x.quick = ar->quick;
    } else cv_infer(&c);
    /* OpenAI's weights (TorchScript archives, or anything without a config) use QuickGELU */
    if (!pretrained && ((!cfgpath && !ar) || cv_is_torchscript)) pretrained = "openai";
    int quick = x.quick || (pretrained && !strcmp(pretrained, "openai"));
    c.vision_act = quick ? COOP_ACT_QUICK_GELU : COOP_ACT_GELU;
    c.text_act = c.vision_act;
    if (c.vision != COOP_VISION_VIT) c.vision_act = COOP_ACT_GELU;
    if (c.vision == COOP_VISION_RESNET) { c.bn_folded = 1; c.vision_layers = 0; c.vision_mlp = 0; c.vision_patch = 0; }
    if (c.text == COOP_TEXT_HF) {
        if (!x.hf_name[0]) cv_die("HF text tower found: pass --config open_clip_config.json or --arch to name its model");
        cv_infer_hf(&c, &x);
    } else if (c.text == COOP_TEXT_CLIP) {
        c.tokenizer = COOP_TOK_CLIP_BPE;
        c.pad_id = 0;
        c.sot_id = c.vocab_size - 2; c.eot_id = c.vocab_size - 1;   /* <|startoftext|>, <|endoftext|> */
    }
    snprintf(c.pretrained, sizeof c.pretrained, "%s", pretrained ? pretrained : "");
    /* model name: --arch, else the known architecture these numbers are */
    const char *name = arch;
    for (int i = 0; i < CV_NARCH && !name; i++) {
        const cv_arch *k = &cv_archs[i];
        if (k->vision == c.vision && k->image == c.image_size && k->width == c.vision_width && k->embed == c.embed_dim &&
            k->text == c.text && (c.vision != COOP_VISION_VIT || (k->layers == c.vision_layers && k->patch == c.vision_patch)) &&
            (c.vision != COOP_VISION_RESNET || !memcmp(k->rl, c.resnet_layers, sizeof k->rl)) &&
            (c.text != COOP_TEXT_CLIP || (k->tw == c.text_width && k->tl == c.text_layers)) &&
            (!strstr(k->name, "quickgelu") || quick))
            name = k->name;
    }
    snprintf(c.model_name, sizeof c.model_name, "%s", name ? name : "custom");
    if (c.vision == COOP_VISION_VIT && (c.vision_patch <= 0 || c.image_size % c.vision_patch))
        cv_die("image size %d is not a multiple of the patch size %d", c.image_size, c.vision_patch);
    /* more blocks in the checkpoint than the architecture has means the wrong architecture */
    {
        char n[160];
        snprintf(n, sizeof n, "visual.transformer.resblocks.%d.attn.in_proj_weight", c.vision_layers);
        if (c.vision == COOP_VISION_VIT && cv_find(n)) cv_die("checkpoint has more than %d image layers: wrong --config/--arch?", c.vision_layers);
        snprintf(n, sizeof n, "transformer.resblocks.%d.attn.in_proj_weight", c.text_layers);
        if (c.text == COOP_TEXT_CLIP && cv_find(n)) cv_die("checkpoint has more than %d text layers: wrong --config/--arch?", c.text_layers);
        for (int l = 0; l < 4 && c.vision == COOP_VISION_RESNET; l++) {
            snprintf(n, sizeof n, "visual.layer%d.%d.conv1.weight", l + 1, c.resnet_layers[l]);
            if (cv_find(n)) cv_die("checkpoint has more than %d blocks in visual.layer%d: wrong --config/--arch?", c.resnet_layers[l], l + 1);
        }
    }
    char cfgtext[8192];
    if (coop_config_format(&c, cfgtext, sizeof cfgtext) < 0) cv_die("config too long");
    {   /* the loader must accept what we write */
        coop_config back;
        if (coop_config_parse(cfgtext, strlen(cfgtext), &back, out)) cv_die("%s", coop_last_error());
    }

    /* 3. the tokenizer, the tensor plan, then stream tensor by tensor into the writer */
    void *blob = NULL;
    size_t bsize = 0;
    cv_tokenizer(&c, vocab, tokdir, &blob, &bsize);
    cv_file = in;
    cv_plan(&c);
    int nwrite = 0;
    for (int i = 0; i < cv_nout; i++) nwrite += !cv_outs[i].optional || cv_find(cv_outs[i].name) != NULL;
    cv_writer = coop_model_writer_open(out, cfgtext, blob, bsize, nwrite);
    free(blob);
    if (!cv_writer) { cv_file = out; cv_die("%s", coop_last_error()); }
    uint64_t bytes = 0;
    for (int i = 0; i < cv_nout; i++) {
        const cv_out *o = &cv_outs[i];
        if (o->optional && !cv_find(o->name)) continue;
        float *data;
        if (o->bn[0]) data = cv_fold(m, o, o->ndim == 1);
        else data = cv_load(m, o->name, o->ndim, o->shape);
        int dt = o->ndim >= 2 ? dtype : COOP_F32;
        if (coop_model_writer_add(cv_writer, o->name, dt, o->ndim, o->shape, data)) { cv_file = out; cv_die("%s", coop_last_error()); }
        bytes += (uint64_t)cv_numel(o->ndim, o->shape) * (dt == COOP_F32 ? 4 : 2);
        free(data);
    }
    if (coop_model_writer_close(cv_writer)) { cv_writer = NULL; cv_file = out; cv_die("%s", coop_last_error()); }
    cv_writer = NULL;
    int dropped = 0;
    for (int i = 0; i < cv_nsrc; i++) dropped += !cv_srcs[i].used;
    printf("convert: %s -> %s: %s (%s), %d tensors, %.1f MB %s, %d unused tensors dropped\n", in, out, c.model_name,
           c.pretrained[0] ? c.pretrained : "-", nwrite, (double)bytes / 1e6, dtype == COOP_F32 ? "f32" : dtype == COOP_F16 ? "f16" : "bf16", dropped);
    munmap((void *)m.p, m.n);
    cv_free_all();
    free(cv_srcs); free(cv_outs); free(cv_zents);
    return 0;
}
