/* test_image: image decode, PIL bicubic resize, OpenCLIP / Dassl preprocessing (coop.h)
   against the fixtures of tests/ref/ref_image.py (PIL 9.4 + torchvision's transform arithmetic).
   Run from the repository root. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "tests/testutil.h"
#include <time.h>

#define FX "tests/fixtures/"
static const float MEAN[3] = {0.48145466f, 0.4578275f, 0.40821073f};
static const float STD[3] = {0.26862954f, 0.26130258f, 0.27577711f};

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);   /* CPU time: the machine may be shared */
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int load(const char *rel, coop_image *img) {
    char path[512];
    snprintf(path, sizeof path, FX "%s", rel);
    if (coop_image_load(path, img)) { printf("  cannot load %s: %s\n", path, coop_last_error()); return -1; }
    return 0;
}

/* uint8 image vs int32 [h, w, 3] fixture: max level difference and how many values differ */
static void cmp_u8(const coop_image *img, const char *npy, int *maxd, long *ndiff, long *nval, double *mean) {
    int64_t n, sh[8] = {0}; int nd = 0;
    char path[512];
    snprintf(path, sizeof path, FX "%s", npy);
    int32_t *want = tu_load_i32(path, &n, sh, &nd);
    *maxd = 0; *ndiff = 0; *nval = n; *mean = 0;
    if (nd != 3 || sh[0] != img->h || sh[1] != img->w || sh[2] != 3) {
        printf("  %s: shape [%lld,%lld,%lld] vs image %d x %d\n", npy, (long long)sh[0], (long long)sh[1],
               (long long)sh[2], img->w, img->h);
        *maxd = 999;
        coop_free(want);
        return;
    }
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        int d = abs((int)img->rgb[i] - want[i]);
        if (d > *maxd) *maxd = d;
        if (d) (*ndiff)++;
        sum += d;
    }
    *mean = sum / (double)n;
    coop_free(want);
}

/* float [3, S, S] vs fixture: max abs diff and the count of differing values */
static double cmp_f32(const float *got, const char *npy, int s, long *ndiff) {
    int64_t n, sh[8] = {0}; int nd = 0;
    char path[512];
    snprintf(path, sizeof path, FX "%s", npy);
    float *want = tu_load_f32(path, &n, sh, &nd);
    double maxd = 0;
    *ndiff = 0;
    if (n != 3LL * s * s) { coop_free(want); return 1e9; }
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= maxd)) maxd = d;
        if (d > 0) (*ndiff)++;
    }
    coop_free(want);
    return maxd;
}

static void run_cases(void) {
    FILE *f = fopen(FX "image/cases.txt", "r");
    if (!f) { tu_check(0, "open " FX "image/cases.txt"); return; }
    /* a preprocessed value may move by one 8-bit level: (1/255)/std */
    const double tol_pre = (1.0 / 255.0) / 0.26130258 + 1e-6;
    int resize_worst = 0, n_resize = 0;
    double pre_worst = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char kind[16], a[256], b[256], c[64], d[64], e[64], g[64], h[64], k[256];
        char what[512];
        if (line[0] == '#' || sscanf(line, "%15s", kind) != 1) continue;
        coop_image img = {0};
        if (!strcmp(kind, "decode") && sscanf(line, "%*s %255s %255s %63s", a, b, c) == 3) {
            if (load(a, &img)) { snprintf(what, sizeof what, "decode %s", a); tu_check(0, what); continue; }
            int maxd; long nd, nv; double mean;
            cmp_u8(&img, b, &maxd, &nd, &nv, &mean);
            int exact = !strcmp(c, "exact");
            snprintf(what, sizeof what, "decode %-28s %3dx%-3d max %d, %ld/%ld differ, mean %.3f%s", a + 7,
                     img.w, img.h, maxd, nd, nv, mean, exact ? "" : " (stb vs libjpeg)");
            /* stb's JPEG IDCT / chroma upsampling is not libjpeg's: only bounded, measured */
            tu_check(exact ? maxd == 0 : (maxd <= 6 && mean < 0.25), what);
        } else if (!strcmp(kind, "resize")) {
            int w, hh, nread;
            float box[4];
            if (sscanf(line, "%*s %255s %d %d %n", a, &w, &hh, &nread) != 3) continue;
            const char *rest = line + nread;
            int has_box = rest[0] != '-';
            if (has_box) {
                if (sscanf(rest, "%f %f %f %f %255s", &box[0], &box[1], &box[2], &box[3], k) != 5) continue;
            } else if (sscanf(rest, "- %255s", k) != 1) continue;
            if (load(a, &img)) { tu_check(0, a); continue; }
            coop_image out;
            int rc = coop_image_resize(&img, w, hh, has_box ? box : NULL, &out);
            int maxd = 999; long nd = 0, nv = 0; double mean = 0;
            if (!rc) cmp_u8(&out, k, &maxd, &nd, &nv, &mean);
            else printf("  %s\n", coop_last_error());
            if (has_box)
                snprintf(what, sizeof what, "resize %s %dx%d -> %dx%d box(%g,%g,%g,%g): max %d, %ld/%ld differ",
                         a + 7, img.w, img.h, w, hh, box[0], box[1], box[2], box[3], maxd, nd, nv);
            else
                snprintf(what, sizeof what, "resize %s %dx%d -> %dx%d: max %d, %ld/%ld differ", a + 7, img.w, img.h,
                         w, hh, maxd, nd, nv);
            tu_check(!rc && maxd <= 1, what);
            if (maxd > resize_worst) resize_worst = maxd;
            n_resize++;
            coop_image_free(&out);
        } else if ((!strcmp(kind, "pre") || !strcmp(kind, "prejpeg")) &&
                   sscanf(line, "%*s %255s %63s %255s", a, c, k) == 3) {
            int jpeg = !strcmp(kind, "prejpeg");
            int s = atoi(c);
            if (load(a, &img)) { tu_check(0, a); continue; }
            float *out = (float *)malloc(sizeof(float) * 3 * s * s);
            int rc = coop_preprocess(&img, s, MEAN, STD, out);
            long nd = 0;
            double md = rc ? 1e9 : cmp_f32(out, k, s, &nd);
            snprintf(what, sizeof what, "preprocess %s %dx%d S=%d: max_abs %.3g (%.1f levels), %ld/%d differ%s", a + 7,
                     img.w, img.h, s, md, md * 255 * 0.26130258, nd, 3 * s * s, jpeg ? " (stb vs libjpeg)" : "");
            /* JPEG: the decoders differ by a few levels (see decode), the resize passes that on */
            tu_check(md <= (jpeg ? 4 : 1) * tol_pre, what);
            if (!jpeg && md > pre_worst) pre_worst = md;
            free(out);
        } else if (!strcmp(kind, "crop") && sscanf(line, "%*s %255s %63s %63s %63s %63s %63s %63s %255s", a, c, d,
                                                   e, g, h, b, k) == 8) {
            int box[4] = {atoi(c), atoi(d), atoi(e), atoi(g)}, s = atoi(h), flip = atoi(b);
            if (load(a, &img)) { tu_check(0, a); continue; }
            float *out = (float *)malloc(sizeof(float) * 3 * s * s);
            int rc = coop_preprocess_crop(&img, box, flip, s, MEAN, STD, out);
            long nd = 0;
            double md = rc ? 1e9 : cmp_f32(out, k, s, &nd);
            snprintf(what, sizeof what, "resized_crop %s (%d,%d %dx%d) S=%d flip=%d: max_abs %.3g, %ld/%d differ",
                     a + 7, box[0], box[1], box[2], box[3], s, flip, md, nd, 3 * s * s);
            tu_check(md <= tol_pre, what);
            if (md > pre_worst) pre_worst = md;
            free(out);
        } else if (!strcmp(kind, "bad") && sscanf(line, "%*s %255s", a) == 1) {
            char path[512];
            snprintf(path, sizeof path, FX "%s", a);
            img.w = 7;
            int rc = coop_image_load(path, &img);
            const char *msg = coop_last_error();
            printf("    error: %s\n", msg);
            snprintf(what, sizeof what, "corrupt %s refused with a message naming it", a);
            tu_check(rc == -1 && img.rgb == NULL && img.w == 0 && strstr(msg, path) != NULL, what);
        }
        coop_image_free(&img);
    }
    fclose(f);
    printf("  summary: %d resizes, worst %d level(s); preprocess worst %.3g (tolerance %.3g)\n", n_resize,
           resize_worst, pre_worst, tol_pre);
}

static void misc_decode(void) {
    coop_image img = {0}, mem = {0};
    int rc = coop_image_load(FX "images/does_not_exist.png", &img);
    tu_check(rc == -1 && strstr(coop_last_error(), "does_not_exist.png"), "missing file: error naming it");
    /* from memory == from file */
    size_t n;
    char *data = coop_read_file(FX "images/rgb_160x120.png", &n);
    rc = coop_image_load_mem(data, n, &mem) || coop_image_load(FX "images/rgb_160x120.png", &img);
    tu_check(!rc && mem.w == img.w && mem.h == img.h && !memcmp(mem.rgb, img.rgb, (size_t)img.w * img.h * 3),
             "coop_image_load_mem equals coop_image_load");
    coop_image_free(&mem);
    rc = coop_image_load_mem(data, 100, &mem);
    printf("    error: %s\n", coop_last_error());
    tu_check(rc == -1 && strstr(coop_last_error(), "image in memory"), "truncated memory buffer refused");
    coop_free(data);
    /* bad arguments */
    coop_image out;
    float box_out[4] = {-1, 0, 10, 10}, box_rev[4] = {20, 0, 10, 10};
    tu_check(coop_image_resize(&img, 0, 5, NULL, &out) == -1, "resize to 0 x 5 refused");
    tu_check(coop_image_resize(&img, 5, 5, box_out, &out) == -1, "resize box outside the image refused");
    tu_check(coop_image_resize(&img, 5, 5, box_rev, &out) == -1, "resize box with x1 < x0 refused");
    tu_check(coop_image_resize(&img, 100000, 100000, NULL, &out) == -1, "resize to 10 Gpixel refused");
    int bbox[4] = {150, 0, 20, 10};
    float tmp[3 * 8 * 8];
    tu_check(coop_preprocess_crop(&img, bbox, 0, 8, MEAN, STD, tmp) == -1, "crop box outside the image refused");
    coop_image_free(&img);
    coop_image_free(&mem);
}

/* E[area fraction] of an accepted RandomResizedCrop draw on a square image, ignoring rounding:
   s ~ U[a, b], log r ~ U[-L, L], accepted when s <= exp(-|log r|) (both sides fit). */
static double rrc_expected_area(double a, double b) {
    const double L = log(4.0 / 3.0);
    double num = 0, den = 0;
    const int N = 20000;
    for (int i = 0; i < N; i++) {
        double u = -L + 2 * L * (i + 0.5) / N, m = exp(-fabs(u));
        double hi = m < b ? m : b;
        if (hi <= a) continue;
        num += (hi * hi - a * a) / 2;
        den += hi - a;
    }
    return num / den;
}

static void random_crops(void) {
    /* bounds and statistics over many draws */
    const int W = 200, H = 200, N = 50000;
    coop_rng rng;
    coop_rng_seed(&rng, 1234);
    int inside = 1, ratio_ok = 1, nfall = 0;
    double sum_area = 0, sum_logr = 0, sum_pos = 0;
    int npos = 0, nacc = 0;
    for (int i = 0; i < N; i++) {
        int b[4];
        coop_random_resized_crop(W, H, 0.08f, 1.0f, &rng, b);
        if (b[0] < 0 || b[1] < 0 || b[2] < 1 || b[3] < 1 || b[0] + b[2] > W || b[1] + b[3] > H) inside = 0;
        if (b[2] == W && b[3] == H && b[0] == 0 && b[1] == 0) { nfall++; continue; }   /* fallback (or s ~ 1) */
        double fr = (double)b[2] * b[3] / ((double)W * H), lr = log((double)b[2] / b[3]);
        /* rounding each side to an integer moves the ratio by at most ~1/side */
        if (fabs(lr) > log(4.0 / 3.0) + 1.0 / (b[2] < b[3] ? b[2] : b[3]) + 1e-9) ratio_ok = 0;
        if (fr < 0.08 * 0.9 || fr > 1.0) ratio_ok = 0;
        sum_area += fr; sum_logr += lr; nacc++;
        if (b[2] < W) { sum_pos += (double)b[0] / (W - b[2]); npos++; }
    }
    double exp_area = rrc_expected_area(0.08, 1.0);
    char what[256];
    tu_check(inside, "RandomResizedCrop: 50000 crops inside the 200x200 image");
    tu_check(ratio_ok, "RandomResizedCrop: aspect within [3/4, 4/3], area within [0.08, 1] (+rounding)");
    snprintf(what, sizeof what, "RandomResizedCrop: mean area %.4f vs expected %.4f", sum_area / nacc, exp_area);
    tu_check(fabs(sum_area / nacc - exp_area) < 0.01, what);
    snprintf(what, sizeof what, "RandomResizedCrop: mean log-ratio %.4f (0), mean rel. left %.4f (0.5), %d full",
             sum_logr / nacc, sum_pos / npos, nfall);
    tu_check(fabs(sum_logr / nacc) < 0.01 && fabs(sum_pos / npos - 0.5) < 0.01, what);

    /* narrow scale range and elongated image: fallback clamps the ratio */
    coop_rng_seed(&rng, 5);
    int fb_ok = 1;
    for (int i = 0; i < 2000; i++) {
        int b[4];
        coop_random_resized_crop(400, 20, 0.9f, 1.0f, &rng, b);   /* never fits: always the fallback */
        if (!(b[3] == 20 && b[2] == 27 && b[0] == (400 - 27) / 2 && b[1] == 0)) fb_ok = 0;
    }
    tu_check(fb_ok, "RandomResizedCrop fallback on 400x20: central 27x20 crop (ratio 4/3)");

    /* preprocess_train: deterministic for a seed, equal to crop + flip drawn the documented way */
    coop_image img;
    if (load("images/rgb_160x120.png", &img)) { tu_check(0, "load rgb_160x120.png"); return; }
    const int S = 24;
    float *o1 = malloc(sizeof(float) * 3 * S * S), *o2 = malloc(sizeof(float) * 3 * S * S);
    coop_rng r1, r2;
    coop_rng_seed(&r1, 42); coop_rng_seed(&r2, 42);
    int same = 1, match = 1, flips = 0;
    const int T = 400;
    for (int i = 0; i < T; i++) {
        coop_rng before = r1;
        coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &r1, MEAN, STD, o1);
        coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &r2, MEAN, STD, o2);
        if (memcmp(o1, o2, sizeof(float) * 3 * S * S)) same = 0;
        int b[4];
        coop_random_resized_crop(img.w, img.h, 0.08f, 1.0f, &before, b);
        int fl = coop_rng_uniform(&before) < 0.5;
        flips += fl;
        coop_preprocess_crop(&img, b, fl, S, MEAN, STD, o2);
        if (memcmp(o1, o2, sizeof(float) * 3 * S * S)) match = 0;
        if (memcmp(&before, &r1, sizeof before)) match = 0;
    }
    tu_check(same, "preprocess_train: same seed, same outputs (400 draws)");
    coop_rng_seed(&r1, 42); coop_rng_seed(&r2, 43);
    coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &r1, MEAN, STD, o1);
    coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &r2, MEAN, STD, o2);
    tu_check(memcmp(o1, o2, sizeof(float) * 3 * S * S) != 0, "preprocess_train: seeds 42 and 43 differ");
    snprintf(what, sizeof what, "preprocess_train == crop(draws) + flip(next draw); flipped %d/%d", flips, T);
    tu_check(match && flips > T * 0.4 && flips < T * 0.6, what);
    free(o1); free(o2);
    coop_image_free(&img);
}

static void speed(void) {
    /* a Caltech-101-like 300x200 and a 640x480 photo-size image (synthetic) */
    int sizes[2][2] = {{300, 200}, {640, 480}};
    const int S = 224;
    float *out = malloc(sizeof(float) * 3 * S * S);
    for (int z = 0; z < 2; z++) {
        coop_image img = {sizes[z][0], sizes[z][1], malloc((size_t)sizes[z][0] * sizes[z][1] * 3)};
        for (int i = 0; i < img.w * img.h * 3; i++) img.rgb[i] = (unsigned char)(i * 7 + (i / 3) % 91);
        coop_rng rng;
        coop_rng_seed(&rng, 1);
        const int R = 30;
        double t0 = now_ms();
        for (int r = 0; r < R; r++) coop_preprocess(&img, S, MEAN, STD, out);
        double t1 = now_ms();
        for (int r = 0; r < R; r++) coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &rng, MEAN, STD, out);
        double t2 = now_ms();
        printf("  speed %dx%d -> %d: preprocess %.2f ms, preprocess_train %.2f ms (CPU time, 1 thread)\n", img.w, img.h, S,
               (t1 - t0) / R, (t2 - t1) / R);
        free(img.rgb);
    }
    free(out);
}

int main(void) {
    (void)tu_compare;   /* the comparisons here print level counts of their own */
    printf("image cases (fixtures from tests/ref/ref_image.py, PIL BICUBIC):\n");
    run_cases();
    printf("decode corner cases:\n");
    misc_decode();
    printf("random resized crop:\n");
    random_crops();
    speed();
    return tu_done("test_image");
}
