/* ===================================================================================== */
/* Images: decode (stb_image), PIL-exact bicubic resize, OpenCLIP / Dassl preprocessing   */
/* ===================================================================================== */
/* API: move to 00_api.h */
#ifndef COOP_IMAGE_API
#define COOP_IMAGE_API
/* 8-bit RGB, rows contiguous (w * 3 bytes each, no padding). Free with coop_image_free. */
typedef struct { int w, h; unsigned char *rgb; } coop_image;
/* Decodes PNG, JPEG (baseline + progressive), BMP, GIF (first frame), TGA, PSD, PNM, HDR with
   stb_image and converts to RGB as PIL's convert('RGB') does: grey is replicated, alpha is
   dropped (not composited), palettes are expanded. Images over COOP_IMAGE_MAX_PIXELS
   (64 Mpixel) are refused before decoding. On error img is zeroed and the message names the
   file. Thread-safe (stb's error string is thread-local). Limits:
   - JPEG: stb's IDCT and chroma upsampling are not libjpeg's (PIL): measured max 3 levels, mean
     0.08 on a 4:2:0 test image, max 6 / mean 0.17 on a 720x477 progressive photo; after
     coop_preprocess at 224 the difference is <= 2 levels. PNG / BMP / GIF decode exactly.
   - convert happens at load, as Dassl's read_image does. OpenCLIP's own transform converts
     after the resize, so for RGBA / LA / palette images fed to it unconverted PIL resizes
     premultiplied (RGBA) or nearest-neighbour (P) first: those differ from this path.
   - 16-bit PNGs keep the high byte (PIL does the same for RGB, but clips 16-bit grey). */
int  coop_image_load(const char *path, coop_image *img);
int  coop_image_load_mem(const void *data, size_t n, coop_image *img);
void coop_image_free(coop_image *img);
/* PIL's Image.resize((w, h), BICUBIC, box): antialiased bicubic (a = -0.5, support scaled by the
   downscale factor), horizontal pass then vertical pass, each in PIL's 22-bit fixed point with
   rounding and clamping to 8 bits. box = {x0, y0, x1, y1} (float, source pixels, as PIL's box=)
   or NULL for the whole image. dst is allocated (free with coop_image_free). */
int  coop_image_resize(const coop_image *src, int w, int h, const float box[4], coop_image *dst);
/* Test-time preprocessing, OpenCLIP's default (and Dassl's test transform): Resize(size)
   of the shorter side (torchvision's output size), CenterCrop(size) (torchvision's offsets,
   zero padding when too small), ToTensor, Normalize(mean, std). out: [3, size, size]. */
int  coop_preprocess(const coop_image *img, int size, const float mean[3], const float std[3], float *out);
/* torchvision RandomResizedCrop.get_params with scale (smin, smax), ratio (3/4, 4/3): up to 10
   attempts, then the central fallback. Draws from rng in torchvision's order (area, log-ratio,
   then top, left). box = {left, top, width, height} in pixels, always inside the image. */
void coop_random_resized_crop(int w, int h, float smin, float smax, coop_rng *rng, int box[4]);
/* F.resized_crop + optional hflip + ToTensor + Normalize: crop box {left, top, width, height}
   (inside the image), resize it to size x size (bicubic as above; the filter never reads
   outside the crop), mirror when flip. out: [3, size, size]. */
int  coop_preprocess_crop(const coop_image *img, const int box[4], int flip, int size,
                          const float mean[3], const float std[3], float *out);
/* Train-time (CoOp / Dassl): coop_random_resized_crop, then (when flip) one more draw
   u = coop_rng_uniform(rng) and a horizontal flip when u < 0.5, then coop_preprocess_crop. */
int  coop_preprocess_train(const coop_image *img, int size, float smin, float smax, int flip,
                           coop_rng *rng, const float mean[3], const float std[3], float *out);
#endif
/* end API */

#ifndef COOP_IMAGE_MAX_PIXELS
#define COOP_IMAGE_MAX_PIXELS (64ll << 20)
#endif

#include <limits.h>

/* ---- decode ------------------------------------------------------------------------------ */
static int img__decode(const unsigned char *data, size_t n, const char *name, coop_image *img) {
    int w, h, comp;
    memset(img, 0, sizeof *img);
    if (n == 0) { coop_set_error("%s: empty file, not an image", name); return -1; }
    if (n > INT_MAX) { coop_set_error("%s: file too large to decode (%zu bytes)", name, n); return -1; }
    /* header first: refuse huge images before stb allocates w*h*3 bytes */
    if (!stbi_info_from_memory(data, (int)n, &w, &h, &comp)) {
        coop_set_error("%s: cannot decode image (%s)", name, stbi_failure_reason());
        return -1;
    }
    if (w <= 0 || h <= 0 || (long long)w * h > COOP_IMAGE_MAX_PIXELS) {
        coop_set_error("%s: image too large (%d x %d, limit %lld pixels)", name, w, h,
                       (long long)COOP_IMAGE_MAX_PIXELS);
        return -1;
    }
    /* 3 channels requested: stb replicates grey and drops alpha, like convert('RGB') */
    unsigned char *p = stbi_load_from_memory(data, (int)n, &w, &h, &comp, 3);
    if (!p) {
        coop_set_error("%s: cannot decode image (%s)", name, stbi_failure_reason());
        return -1;
    }
    img->w = w; img->h = h; img->rgb = p;
    return 0;
}

int coop_image_load_mem(const void *data, size_t n, coop_image *img) {
    return img__decode((const unsigned char *)data, n, "image in memory", img);
}

int coop_image_load(const char *path, coop_image *img) {
    size_t n;
    memset(img, 0, sizeof *img);
    char *data = coop_read_file(path, &n);       /* error names the path */
    if (!data) return -1;
    int rc = img__decode((const unsigned char *)data, n, path, img);
    coop_free(data);
    return rc;
}

void coop_image_free(coop_image *img) {
    if (!img) return;
    free(img->rgb);     /* stb's STBI_FREE and coop_free are both free() */
    memset(img, 0, sizeof *img);
}

static int img__check(const coop_image *img, const char *what) {
    if (!img || !img->rgb || img->w <= 0 || img->h <= 0 ||
        (long long)img->w * img->h > COOP_IMAGE_MAX_PIXELS) {
        coop_set_error("%s: invalid image (%d x %d)", what, img ? img->w : 0, img ? img->h : 0);
        return -1;
    }
    return 0;
}

/* ---- PIL bicubic resampling ----------------------------------------------------------------
   Follows libImaging/Resample.c (Pillow >= 4.3) step by step, because matching PIL to the
   8-bit level needs its exact coefficients and roundings:
   - filter: Keys cubic with a = -0.5, support 2; when shrinking by `scale` the kernel is
     stretched by scale (antialiasing), so a tap covers 2*scale source pixels on each side.
   - output pixel i has centre c = in0 + (i + 0.5) * scale in source coordinates; taps are the
     source pixels [xmin, xmax) with xmin = (int)(c - support + 0.5) clamped to 0, xmax likewise
     clamped to the size; weight of pixel x is filter((x - c + 0.5) / filterscale), normalised
     to sum 1 (in double), then converted to 22-bit fixed point rounding away from zero.
   - each pass: acc = 2^21 + sum(pixel * k), result = clamp(acc >> 22, 0, 255).
   - horizontal pass first (only over the source rows the vertical pass reads), then vertical.
   A pass whose size and box are the identity is skipped, as in PIL. */
#define IMG__PREC 22

typedef struct {
    int ksize;          /* taps per output (max) */
    int *lo, *n;        /* [count] first tap and number of taps */
    int32_t *k;         /* [count, ksize] fixed-point weights */
} img__coeffs;

static double img__bicubic(double x) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    /* PIL's bicubic_filter, a = -0.5; kept free of FMA contraction so weights match bit for bit */
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static void img__coeffs_free(img__coeffs *c) {
    free(c->lo); free(c->n); free(c->k);
    memset(c, 0, sizeof *c);
}

/* Weights of output positions [first, first + count) of an axis resized from in_size source
   pixels (the span [in0, in1) of them) to out_size (precompute_coeffs + normalize_coeffs_8bpc).
   Computing a window of outputs gives the same weights as computing them all. */
static int img__coeffs_make(int in_size, float in0, float in1, int out_size, int first, int count,
                            img__coeffs *c) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    memset(c, 0, sizeof *c);
    double scale = (double)(in1 - in0) / out_size;    /* in1 - in0 in float, as PIL's float box */
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    double ss = 1.0 / filterscale;
    /* PIL's table width is ceil(support) * 2 + 1; taps never exceed the source size, so
       storing at most in_size of them keeps huge downscales small */
    double kmax = ceil(support) * 2 + 1;
    int ksize = kmax < in_size ? (int)kmax : in_size;
    if (ksize < 1) ksize = 1;
    c->ksize = ksize;
    c->lo = (int *)malloc(sizeof(int) * (size_t)count);
    c->n = (int *)malloc(sizeof(int) * (size_t)count);
    c->k = (int32_t *)malloc(sizeof(int32_t) * (size_t)count * (size_t)ksize);
    double *w = (double *)malloc(sizeof(double) * (size_t)ksize);
    if (!c->lo || !c->n || !c->k || !w) {
        free(w); img__coeffs_free(c);
        coop_set_error("resize: out of memory for coefficient tables");
        return -1;
    }
    for (int i = 0; i < count; i++) {
        int xx = first + i;
        double center = in0 + (xx + 0.5) * scale, ww = 0.0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        if (xmax < 0) xmax = 0;
        if (xmax > ksize) xmax = ksize;
        for (int x = 0; x < xmax; x++) {
            w[x] = img__bicubic((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = c->k + (size_t)i * ksize;
        for (int x = 0; x < ksize; x++) {
            double v = x < xmax ? (ww != 0.0 ? w[x] / ww : w[x]) : 0.0;
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << IMG__PREC)) : (int32_t)(0.5 + v * (1 << IMG__PREC));
        }
        c->lo[i] = xmin;
        c->n[i] = xmax;
    }
    free(w);
    return 0;
}

static inline unsigned char img__clip8(int32_t acc) {
    /* PIL's clip8: acc >> 22 clamped to [0, 255] (negative sums give 0) */
    if (acc < 0) return 0;
    acc >>= IMG__PREC;
    return (unsigned char)(acc > 255 ? 255 : acc);
}

/* a read-only RGB view: rows of w * 3 bytes, `stride` bytes apart (crops need no copy) */
typedef struct { const unsigned char *p; int w, h; ptrdiff_t stride; } img__view;

/* The two passes, one output row at a time. The plain C loops are PIL's loops; with AVX2 the
   same 32-bit integer arithmetic runs in SIMD lanes (identical results: the sums are exact and
   the clamping is the same): 4 channels of a pixel per instruction (horizontal), 16 bytes of a
   row per step (vertical). Without AVX2 (or with COOP_NO_SIMD) the plain loops run, ~3x slower. */
#if defined(__AVX2__) && !defined(COOP_NO_SIMD)
#include <immintrin.h>
#define IMG__AVX2 1
#else
#define IMG__AVX2 0
#endif

/* horizontal: in = one source row (RGB), out = ww pixels; columns [c0, c1) are the ones the
   taps touch; rgbx = scratch of (c1 - c0) * 4 + 4 bytes */
static void img__hrow(const unsigned char *in, const img__coeffs *c, int ww, int c0, int c1,
                      unsigned char *rgbx, unsigned char *out) {
    const int K = c->ksize;
#if IMG__AVX2
    /* one pixel = 4 lanes (R, G, B, 0), as PIL keeps RGB images in 4 bytes a pixel */
    for (int x = c0; x < c1; x++) {
        unsigned char *q = rgbx + (size_t)(x - c0) * 4;
        q[0] = in[3 * x]; q[1] = in[3 * x + 1]; q[2] = in[3 * x + 2]; q[3] = 0;
    }
    const __m128i bias = _mm_set1_epi32(1 << (IMG__PREC - 1));
    for (int x = 0; x < ww; x++) {
        const int32_t *k = c->k + (size_t)x * K;
        const unsigned char *s = rgbx + (size_t)(c->lo[x] - c0) * 4;
        __m128i acc = bias;
        for (int t = 0, nt = c->n[x]; t < nt; t++) {
            int32_t u;
            memcpy(&u, s + 4 * t, 4);
            __m128i px = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(u));
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(px, _mm_set1_epi32(k[t])));
        }
        /* >> 22 (arithmetic), then saturating packs clamp to [0, 255] exactly like clip8 */
        acc = _mm_srai_epi32(acc, IMG__PREC);
        __m128i p8 = _mm_packus_epi16(_mm_packs_epi32(acc, acc), _mm_setzero_si128());
        int32_t v = _mm_cvtsi128_si32(p8);
        memcpy(out + 3 * x, &v, 3);
    }
#else
    (void)c0; (void)c1; (void)rgbx;
    for (int x = 0; x < ww; x++) {
        const int32_t *k = c->k + (size_t)x * K;
        const unsigned char *s = in + (size_t)c->lo[x] * 3;
        int32_t s0 = 1 << (IMG__PREC - 1), s1 = s0, s2 = s0;
        for (int t = 0, nt = c->n[x]; t < nt; t++) {
            s0 += s[3 * t + 0] * k[t];
            s1 += s[3 * t + 1] * k[t];
            s2 += s[3 * t + 2] * k[t];
        }
        out[3 * x + 0] = img__clip8(s0);
        out[3 * x + 1] = img__clip8(s1);
        out[3 * x + 2] = img__clip8(s2);
    }
#endif
}

/* vertical: out[i] = clip8(2^21 + sum_t rows[t][i] * k[t]) for the n bytes of a row */
static void img__vrow(const unsigned char *const *rows, const int32_t *k, int nt, int n, unsigned char *out) {
    int i = 0;
#if IMG__AVX2
    const __m256i bias = _mm256_set1_epi32(1 << (IMG__PREC - 1));
    for (; i + 16 <= n; i += 16) {
        __m256i a0 = bias, a1 = bias;
        for (int t = 0; t < nt; t++) {
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(rows[t] + i));
            __m256i kt = _mm256_set1_epi32(k[t]);
            a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(b), kt));
            a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), kt));
        }
        a0 = _mm256_srai_epi32(a0, IMG__PREC);
        a1 = _mm256_srai_epi32(a1, IMG__PREC);
        /* packs work within 128-bit halves: put the 64-bit blocks back in byte order */
        __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(a0, a1), 0xD8);
        __m128i b8 = _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
        _mm_storeu_si128((__m128i *)(void *)(out + i), b8);
    }
#endif
    for (; i < n; i++) {
        int32_t acc = 1 << (IMG__PREC - 1);
        for (int t = 0; t < nt; t++) acc += rows[t][i] * k[t];
        out[i] = img__clip8(acc);
    }
}

/* receives output row y (0-based inside the window) of ww RGB pixels */
typedef void (*img__sink)(void *ctx, int y, const unsigned char *row);

/* Resizes src (the span box = {x0, y0, x1, y1} of it) to ow x oh, computing only the output
   window [wx, wx + ww) x [wy, wy + wh), one row at a time into sink. Every pixel is the one the
   full resize gives. The horizontal pass keeps just the source rows the current output row
   needs (a ring of at most ksize rows), so the working memory is a few rows, never an image:
   this runs on worker threads for every training image, and fresh pages are expensive. */
static int img__resample(img__view src, int ow, int oh, const float box[4], int wx, int wy, int ww, int wh,
                         img__sink sink, void *ctx) {
    int need_h = ow != src.w || box[0] != 0 || box[2] != ow;
    int need_v = oh != src.h || box[1] != 0 || box[3] != oh;
    img__coeffs ch = {0}, cv = {0};
    unsigned char *ring = NULL, *rgbx = NULL, *orow = NULL;
    const unsigned char **rows = NULL;
    int rc = -1;
    if (ww <= 0 || wh <= 0) return 0;
    if (need_v && img__coeffs_make(src.h, box[1], box[3], oh, wy, wh, &cv)) goto done;
    if (need_h && img__coeffs_make(src.w, box[0], box[2], ow, wx, ww, &ch)) goto done;

    const size_t rowb = (size_t)ww * 3;
    const int R = need_v ? cv.ksize : 1;             /* rows alive at once */
    int c0 = 0, c1 = 1;
    rows = (const unsigned char **)malloc(sizeof(*rows) * (size_t)R);
    orow = (unsigned char *)malloc(rowb);
    if (need_h) {
        /* source columns the window's taps touch */
        c0 = ch.lo[0];
        c1 = ch.lo[ww - 1] + ch.n[ww - 1];
        if (c1 < c0 + 1) c1 = c0 + 1;
        ring = (unsigned char *)malloc(rowb * (size_t)R);
        rgbx = (unsigned char *)malloc((size_t)(c1 - c0) * 4 + 4);
    }
    if (!rows || !orow || (need_h && (!ring || !rgbx))) { coop_set_error("resize: out of memory"); goto done; }

    int have = 0;   /* source rows below this one went through the horizontal pass */
    for (int y = 0; y < wh; y++) {
        int lo = need_v ? cv.lo[y] : wy + y, nt = need_v ? cv.n[y] : 1;
        if (have < lo) have = lo;
        for (int t = 0; t < nt; t++) {
            int r = lo + t;
            if (!need_h) { rows[t] = src.p + (ptrdiff_t)r * src.stride + (ptrdiff_t)wx * 3; continue; }
            unsigned char *slot = ring + (size_t)(r % R) * rowb;
            if (r >= have) {   /* rows only move forward, so a slot is reused after its last use */
                img__hrow(src.p + (ptrdiff_t)r * src.stride, &ch, ww, c0, c1, rgbx, slot);
                have = r + 1;
            }
            rows[t] = slot;
        }
        if (need_v) {
            img__vrow(rows, cv.k + (size_t)y * cv.ksize, nt, (int)rowb, orow);
            sink(ctx, y, orow);
        } else {
            sink(ctx, y, rows[0]);
        }
    }
    rc = 0;
done:
    img__coeffs_free(&ch);
    img__coeffs_free(&cv);
    free(ring); free(rgbx); free(orow); free((void *)rows);
    return rc;
}

static int img__check_size(int w, int h, const char *what) {
    if (w <= 0 || h <= 0 || (long long)w * h > COOP_IMAGE_MAX_PIXELS) {
        coop_set_error("%s: bad output size %d x %d", what, w, h);
        return -1;
    }
    return 0;
}

/* sink for coop_image_resize: copy the row into the image */
typedef struct { unsigned char *p; size_t rowb; } img__to_image;
static void img__sink_image(void *ctx, int y, const unsigned char *row) {
    img__to_image *o = (img__to_image *)ctx;
    memcpy(o->p + (size_t)y * o->rowb, row, o->rowb);
}

int coop_image_resize(const coop_image *src, int w, int h, const float box[4], coop_image *dst) {
    memset(dst, 0, sizeof *dst);
    if (img__check(src, "coop_image_resize") || img__check_size(w, h, "coop_image_resize")) return -1;
    float b[4] = {0, 0, (float)src->w, (float)src->h};
    if (box) {
        /* PIL: the box may not leave the image nor have negative size */
        if (!(box[0] >= 0 && box[1] >= 0 && box[2] <= src->w && box[3] <= src->h &&
              box[2] >= box[0] && box[3] >= box[1])) {
            coop_set_error("coop_image_resize: box (%g, %g, %g, %g) outside the %d x %d image",
                           box[0], box[1], box[2], box[3], src->w, src->h);
            return -1;
        }
        memcpy(b, box, sizeof b);
    }
    unsigned char *p = (unsigned char *)coop_malloc((size_t)w * h * 3);
    if (!p) return -1;
    img__view v = {src->rgb, src->w, src->h, (ptrdiff_t)src->w * 3};
    img__to_image o = {p, (size_t)w * 3};
    if (img__resample(v, w, h, b, 0, 0, w, h, img__sink_image, &o)) {
        coop_free(p);
        return -1;
    }
    dst->w = w; dst->h = h; dst->rgb = p;
    return 0;
}

/* ---- ToTensor + Normalize ----------------------------------------------------------------------
   torchvision: x = uint8 / 255 in float32, then (x - mean) / std in float32; a 256-entry table per
   channel computed with the same float operations gives the same values. The sink writes each
   resized RGB row straight into the [3, S, S] output (no uint8 crop image in between). */
typedef struct {
    float lut[3][256];
    float *out;          /* [3, S, S] */
    int S, ox, oy, ww;   /* window row y, column x < ww land at out[.., oy + y, ox + x] */
    int flip;            /* mirror x (after the crop, as RandomHorizontalFlip after RandomResizedCrop) */
} img__to_tensor;

static void img__to_tensor_init(img__to_tensor *t, const float mean[3], const float std[3], float *out, int S,
                                int ox, int oy, int ww, int flip) {
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float x = (float)v / 255.0f;
            x = x - mean[c];
            t->lut[c][v] = x / std[c];
        }
    t->out = out; t->S = S; t->ox = ox; t->oy = oy; t->ww = ww; t->flip = flip;
}

static void img__sink_tensor(void *ctx, int y, const unsigned char *row) {
    img__to_tensor *t = (img__to_tensor *)ctx;
    const size_t plane = (size_t)t->S * t->S;
    float *o0 = t->out + (size_t)(t->oy + y) * t->S, *o1 = o0 + plane, *o2 = o1 + plane;
    /* pixels outside the window were filled with the padding value */
    for (int x = 0; x < t->ww; x++) {
        int xo = t->flip ? t->S - 1 - (t->ox + x) : t->ox + x;
        const unsigned char *p = row + 3 * (size_t)x;
        o0[xo] = t->lut[0][p[0]];
        o1[xo] = t->lut[1][p[1]];
        o2[xo] = t->lut[2][p[2]];
    }
}

/* ---- test-time: Resize(shorter side) + CenterCrop --------------------------------------------- */
/* torchvision CenterCrop offset along one axis of length `dim`: where output pixel 0 falls in
   the resized image (negative = zero padding first). Python's round() is half-to-even. */
static int img__center_offset(int dim, int size) {
    if (size > dim) return -((size - dim) / 2);
    return (int)nearbyint((dim - size) / 2.0);
}

int coop_preprocess(const coop_image *img, int size, const float mean[3], const float std[3], float *out) {
    if (img__check(img, "coop_preprocess") || img__check_size(size, size, "coop_preprocess")) return -1;
    /* torchvision _compute_resized_output_size: short side -> size, long = int(size * long / short) */
    int w = img->w, h = img->h;
    int shrt = w <= h ? w : h, lng = w <= h ? h : w;
    double nl = (double)((long long)size * lng) / (double)shrt;
    if (nl > (double)(INT_MAX / 4)) { coop_set_error("coop_preprocess: %d x %d image too elongated", w, h); return -1; }
    int rw = w <= h ? size : (int)nl, rh = w <= h ? (int)nl : size;

    /* crop window in resized coordinates, clipped to the resized image */
    int ox = img__center_offset(rw, size), oy = img__center_offset(rh, size);
    int x0 = ox > 0 ? ox : 0, y0 = oy > 0 ? oy : 0;
    int x1 = ox + size < rw ? ox + size : rw, y1 = oy + size < rh ? oy + size : rh;

    img__to_tensor *t = (img__to_tensor *)malloc(sizeof *t);
    if (!t) { coop_set_error("coop_preprocess: out of memory"); return -1; }
    img__to_tensor_init(t, mean, std, out, size, x0 - ox, y0 - oy, x1 - x0, 0);
    if (x1 - x0 < size || y1 - y0 < size)   /* padding (fill 0) where the crop leaves the image */
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < (size_t)size * size; i++) out[c * (size_t)size * size + i] = t->lut[c][0];
    float box[4] = {0, 0, (float)w, (float)h};
    img__view v = {img->rgb, w, h, (ptrdiff_t)w * 3};
    /* only the cropped part of the resize is computed (the same pixels as resizing it all) */
    int rc = img__resample(v, rw, rh, box, x0, y0, x1 - x0, y1 - y0, img__sink_tensor, t);
    free(t);
    return rc;
}

/* ---- train-time: RandomResizedCrop + RandomHorizontalFlip ------------------------------------- */
void coop_random_resized_crop(int w, int h, float smin, float smax, coop_rng *rng, int box[4]) {
    const double area = (double)w * h;
    const double r0 = 3.0 / 4.0, r1 = 4.0 / 3.0, lr0 = log(r0), lr1 = log(r1);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * (smin + (smax - (double)smin) * coop_rng_uniform(rng));
        double ar = exp(lr0 + (lr1 - lr0) * coop_rng_uniform(rng));
        int cw = (int)nearbyint(sqrt(target * ar)), ch = (int)nearbyint(sqrt(target / ar));
        if (0 < cw && cw <= w && 0 < ch && ch <= h) {
            int top = coop_rng_below(rng, h - ch + 1);
            int left = coop_rng_below(rng, w - cw + 1);
            box[0] = left; box[1] = top; box[2] = cw; box[3] = ch;
            return;
        }
    }
    /* fallback: central crop with the ratio clamped to [3/4, 4/3] */
    double in_ratio = (double)w / h;
    int cw = w, ch = h;
    if (in_ratio < r0) ch = (int)nearbyint(w / r0);
    else if (in_ratio > r1) cw = (int)nearbyint(h * r1);
    if (ch > h) ch = h;
    if (cw > w) cw = w;
    if (ch < 1) ch = 1;
    if (cw < 1) cw = 1;
    box[0] = (w - cw) / 2; box[1] = (h - ch) / 2; box[2] = cw; box[3] = ch;
}

int coop_preprocess_crop(const coop_image *img, const int box[4], int flip, int size,
                         const float mean[3], const float std[3], float *out) {
    if (img__check(img, "coop_preprocess_crop") || img__check_size(size, size, "coop_preprocess_crop")) return -1;
    if (box[0] < 0 || box[1] < 0 || box[2] <= 0 || box[3] <= 0 ||
        box[2] > img->w - box[0] || box[3] > img->h - box[1]) {
        coop_set_error("coop_preprocess_crop: crop (%d, %d, %d x %d) outside the %d x %d image",
                       box[0], box[1], box[2], box[3], img->w, img->h);
        return -1;
    }
    /* F.resized_crop crops first, then resizes the crop alone: a view of the crop */
    img__view v = {img->rgb + ((size_t)box[1] * img->w + box[0]) * 3, box[2], box[3], (ptrdiff_t)img->w * 3};
    float b[4] = {0, 0, (float)box[2], (float)box[3]};
    img__to_tensor *t = (img__to_tensor *)malloc(sizeof *t);
    if (!t) { coop_set_error("coop_preprocess_crop: out of memory"); return -1; }
    img__to_tensor_init(t, mean, std, out, size, 0, 0, size, flip);
    int rc = img__resample(v, size, size, b, 0, 0, size, size, img__sink_tensor, t);
    free(t);
    return rc;
}

int coop_preprocess_train(const coop_image *img, int size, float smin, float smax, int flip,
                          coop_rng *rng, const float mean[3], const float std[3], float *out) {
    if (img__check(img, "coop_preprocess_train")) return -1;
    if (!(smin >= 0 && smin <= smax && smax > 0)) {
        coop_set_error("coop_preprocess_train: bad scale range (%g, %g)", smin, smax);
        return -1;
    }
    int box[4];
    coop_random_resized_crop(img->w, img->h, smin, smax, rng, box);
    int mirror = flip ? coop_rng_uniform(rng) < 0.5 : 0;
    return coop_preprocess_crop(img, box, mirror, size, mean, std, out);
}
