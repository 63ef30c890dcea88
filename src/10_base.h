/* ===================================================================================== */
/* Base: errors, aligned memory, RNG, half floats, .npy files, arena, UTF-8               */
/* ===================================================================================== */
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

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define COOP_THREAD_LOCAL _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define COOP_THREAD_LOCAL __thread
#else
#define COOP_THREAD_LOCAL
#endif

static COOP_THREAD_LOCAL char coop__err[512];

void coop_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(coop__err, sizeof coop__err, fmt, ap);
    va_end(ap);
}

const char *coop_last_error(void) { return coop__err[0] ? coop__err : "no error"; }

void *coop_malloc(size_t n) {
    /* C11 aligned_alloc wants a size that is a multiple of the alignment */
    void *p = n > SIZE_MAX - 64 ? NULL : aligned_alloc(64, n ? (n + 63) & ~(size_t)63 : 64);
    if (!p) {
        coop_set_error("out of memory (%zu bytes)", n);
        return NULL;
    }
    return p;
}

void *coop_calloc(size_t n) {
    void *p = coop_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void coop_free(void *p) { free(p); }

/* ---- RNG: xoshiro256** (Blackman & Vigna), seeded through splitmix64 ------------------- */
static uint64_t coop__splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void coop_rng_seed(coop_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = coop__splitmix(&seed);
}

static uint64_t coop__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t coop_rng_u64(coop_rng *r) {
    uint64_t *s = r->s, res = coop__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = coop__rotl(s[3], 45);
    return res;
}

double coop_rng_uniform(coop_rng *r) { return (double)(coop_rng_u64(r) >> 11) * 0x1.0p-53; }

double coop_rng_normal(coop_rng *r) {
    /* Box-Muller; one of the pair is dropped so the stream stays stateless */
    double u1 = 1.0 - coop_rng_uniform(r), u2 = coop_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int coop_rng_below(coop_rng *r, int n) {
    if (n <= 1) return 0;
    /* rejection sampling: no modulo bias */
    uint64_t lim = UINT64_MAX - UINT64_MAX % (uint64_t)n, x;
    do x = coop_rng_u64(r); while (x >= lim);
    return (int)(x % (uint64_t)n);
}

/* ---- half floats -------------------------------------------------------------------- */
static uint32_t coop__fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float coop__bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float coop_f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) return coop__bitsf(s | 0x7f800000u | (m << 13));   /* inf / nan */
    if (e == 0) {                                                       /* zero / subnormal */
        float v = (float)m * 0x1.0p-24f;
        return s ? -v : v;
    }
    return coop__bitsf(s | ((e + 112) << 23) | (m << 13));
}

uint16_t coop_f32_to_f16(float f) {
    uint32_t u = coop__fbits(f), s = (u >> 16) & 0x8000, a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(s | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
    if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00);                /* rounds to inf */
    if (a < 0x38800000u) {                                              /* subnormal half */
        float v = coop__bitsf(a) * 0x1.0p24f;                           /* exact in float */
        return (uint16_t)(s | (uint32_t)lrintf(v));                      /* rint = nearest even */
    }
    uint32_t r = a + 0xfff + ((a >> 13) & 1);                           /* nearest even */
    return (uint16_t)(s | ((r - 0x38000000u) >> 13));
}

float coop_bf16_to_f32(uint16_t h) { return coop__bitsf((uint32_t)h << 16); }

uint16_t coop_f32_to_bf16(float f) {
    uint32_t u = coop__fbits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

/* ---- files ---------------------------------------------------------------------------- */
char *coop_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { coop_set_error("%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = (char *)malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) break;
        char *nb = (char *)realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb; cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) { free(buf); coop_set_error("%s: read failed", path); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* write PATH.tmp then rename: a reader never sees a half-written file */
int coop_write_file_atomic(const char *path, const void *data, size_t len) {
    size_t pl = strlen(path);
    char *tmp = (char *)malloc(pl + 8);
    if (!tmp) { coop_set_error("out of memory"); return -1; }
    memcpy(tmp, path, pl); memcpy(tmp + pl, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) { coop_set_error("%s: %s", tmp, strerror(errno)); free(tmp); return -1; }
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        coop_set_error("%s: write failed: %s", path, strerror(errno));
        remove(tmp); free(tmp); return -1;
    }
    free(tmp);
    return 0;
}

/* ---- .npy ------------------------------------------------------------------------------ */
int coop_npy_write(const char *path, const char *dtype, const void *data, int ndim, const int64_t *shape) {
    if (strcmp(dtype, "<f4") && strcmp(dtype, "<i4")) { coop_set_error("%s: unsupported npy dtype %s", path, dtype); return -1; }
    if (ndim < 0 || ndim > 8) { coop_set_error("%s: bad ndim %d", path, ndim); return -1; }
    char hdr[256], sh[160] = "";
    size_t numel = 1, o = 0;
    for (int i = 0; i < ndim; i++) {
        o += (size_t)snprintf(sh + o, sizeof sh - o, "%lld,%s", (long long)shape[i], (ndim > 1 && i < ndim - 1) ? " " : "");
        numel *= (size_t)shape[i];
    }
    if (ndim > 1) sh[o - 1] = 0;           /* (2, 3) not (2, 3,) */
    int n = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, sh);
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    memset(hdr + 10 + n, ' ', (size_t)pad);
    hdr[10 + n + pad] = '\n';
    total += pad;
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    hdr[8] = (char)((total - 10) & 0xff); hdr[9] = (char)((total - 10) >> 8);
    size_t bytes = numel * 4;
    char *buf = (char *)malloc((size_t)total + bytes);
    if (!buf) { coop_set_error("out of memory"); return -1; }
    memcpy(buf, hdr, (size_t)total);
    if (bytes) memcpy(buf + total, data, bytes);
    int rc = coop_write_file_atomic(path, buf, (size_t)total + bytes);
    free(buf);
    return rc;
}

int coop_npy_read(const char *path, char dtype[8], int *ndim, int64_t shape[8], void **data) {
    size_t len;
    char *buf = coop_read_file(path, &len);
    *data = NULL;
    if (!buf) return -1;
    const char *why = NULL;
    size_t hl = 0, off = 0;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6)) why = "not a .npy file";
    else if (buf[6] == 1) { hl = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8); off = 10; }
    else if (buf[6] == 2 || buf[6] == 3) {
        if (len < 12) why = "truncated header";
        else { hl = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8) | ((size_t)(unsigned char)buf[10] << 16) | ((size_t)(unsigned char)buf[11] << 24); off = 12; }
    } else why = "unsupported .npy version";
    if (!why && off + hl > len) why = "truncated header";
    char d[8] = "";
    int nd = 0;
    int64_t sh[8];
    size_t numel = 1;
    if (!why) {
        char *h = buf + off, save = h[hl];
        h[hl] = 0;
        char *p = strstr(h, "'descr'"), *q = strstr(h, "'fortran_order'"), *s = strstr(h, "'shape'");
        if (!p || !q || !s) why = "malformed header";
        else {
            p = strchr(p + 7, '\'');
            if (!p || sscanf(p + 1, "%7[^']", d) != 1) why = "malformed descr";
            if (!why && !strstr(q, "False")) why = "fortran order not supported";
            s = strchr(s, '(');
            if (!why && !s) why = "malformed shape";
            for (s = s ? s + 1 : s; !why && *s && *s != ')';) {
                while (*s == ' ' || *s == ',') s++;
                if (*s == ')') break;
                char *e;
                long long v = strtoll(s, &e, 10);
                if (e == s || v < 0 || nd == 8) { why = "malformed shape"; break; }
                sh[nd++] = v; s = e;
                if (v && numel > ((size_t)1 << 40) / (size_t)v) { why = "shape too large"; break; }
                numel *= (size_t)v;
            }
        }
        h[hl] = save;
    }
    size_t es = 0;
    if (!why) {
        if (!strcmp(d, "<f4") || !strcmp(d, "<i4")) es = 4;
        else if (!strcmp(d, "<f8") || !strcmp(d, "<i8")) es = 8;
        else why = "unsupported dtype (want <f4, <i4, <f8 or <i8)";
    }
    if (!why && len - off - hl < numel * es) why = "truncated data";
    if (why) { coop_set_error("%s: %s", path, why); free(buf); return -1; }
    void *out = coop_malloc(numel * 4 + 4);
    if (!out) { free(buf); return -1; }
    const char *src = buf + off + hl;
    if (es == 4) memcpy(out, src, numel * 4);
    else if (d[1] == 'f') for (size_t i = 0; i < numel; i++) { double v; memcpy(&v, src + 8 * i, 8); ((float *)out)[i] = (float)v; }
    else for (size_t i = 0; i < numel; i++) { int64_t v; memcpy(&v, src + 8 * i, 8); ((int32_t *)out)[i] = (int32_t)v; }
    snprintf(dtype, 8, "<%c4", d[1]);
    *ndim = nd;
    for (int i = 0; i < nd; i++) shape[i] = sh[i];
    *data = out;
    free(buf);
    return 0;
}

/* ---- arena ------------------------------------------------------------------------------ */
int coop_arena_reserve(coop_arena *a, size_t bytes) {
    if (bytes <= a->size) return 0;
    if (a->used) { coop_set_error("arena: reserve while in use"); return -1; }
    coop_free(a->base);
    a->base = (unsigned char *)coop_malloc(bytes);
    a->size = a->base ? bytes : 0;
    return a->base ? 0 : -1;
}

void *coop_arena_alloc(coop_arena *a, size_t bytes) {
    size_t n = (bytes + 63) & ~(size_t)63;
    if (a->used + n > a->size) {
        coop_set_error("arena: out of space (%zu of %zu bytes used, %zu wanted)", a->used, a->size, n);
        a->high = a->used + n > a->high ? a->used + n : a->high;
        return NULL;
    }
    void *p = a->base + a->used;
    a->used += n;
    if (a->used > a->high) a->high = a->used;
    return p;
}

void coop_arena_reset(coop_arena *a) { a->used = 0; }
void coop_arena_free(coop_arena *a) { coop_free(a->base); memset(a, 0, sizeof *a); }

/* ---- UTF-8 -------------------------------------------------------------------------------- */
int coop_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return -1;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (!len || c > 0xf4 || (size_t)len > n) return -1;
    uint32_t v = c & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return -1;
    *cp = v;
    return len;
}

int coop_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xc0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f)); return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int coop_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        int k = coop_utf8_decode(u + i, n - i, &cp);
        if (k < 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

/* ---- stb_image ---------------------------------------------------------------------------- */
/* Decodes images (section "Images") and inflates the gzip'd CLIP vocabulary (coop_gunzip).
   Included here as a static implementation, so it never clashes with the embedder's own copy,
   unless stb_image.h was included before coop.h or COOP_NO_STB_IMAGE is defined (then the
   embedder links stb_image, which must keep its default STBI_MALLOC / STBI_FREE: our image
   buffers are released with free()). */
#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#if defined(COOP_NO_STB_IMAGE)
unsigned char *stbi_load_from_memory(const unsigned char *buffer, int len, int *x, int *y, int *comp, int req_comp);
int stbi_info_from_memory(const unsigned char *buffer, int len, int *x, int *y, int *comp);
const char *stbi_failure_reason(void);
char *stbi_zlib_decode_noheader_malloc(const char *buffer, int len, int *outlen);
#else
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
/* the static stb has many functions we never call, and Debian's 2.27 header declares
   stbi_set_unpremultiply_on_load_thread without defining it; GCC reports that at the end of the
   translation unit, past any push/pop, so the switch has to stay off from here on */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>
#endif
#endif
