/* bench -- speed of coop.h's building blocks on this machine (a benchmark, not a test).

   usage: build/bench [SECTION...] [--threads N] [--quick] [--kernel avx512|avx2|portable]
     peak    fp32 FMA peak: independent FMA chains held in registers, 1 thread and all threads
     pool    coop_pool_run round trip: back to back, and after the workers went to sleep
     gemm    coop_gemm GFLOPS at the model's shapes, 1 and N threads, as a fraction of the peak
   With no section every section runs. Each number is the best of several timed repeats after
   a warm-up; the machine may be shared, so the median is printed next to it.

   A new section is one function `static int bench_NAME(const bench_opts *o)` plus one line
   in `sections[]` at the bottom. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    int threads;   /* the "all threads" count (default: online cores) */
    int quick;     /* fewer repeats */
} bench_opts;

static double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ===================================================================================== */
/* peak: 24 independent FMA chains per thread, all in registers                           */
/* ===================================================================================== */
/* One FMA has a latency of ~4 cycles and two issue per cycle, so >= 8 independent chains
   are needed to keep both pipes busy; 24 leaves margin and fits in the 32 zmm registers.
   The chains are scalar-named variables (not an array) so that they stay in registers. */
static volatile float bench_sink;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define BENCH_X86 1
#define BENCH_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) \
                        X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23)
__attribute__((target("avx512f")))
static void bench_fma512(long iters) {
    __m512 m = _mm512_set1_ps(0.999999f), d = _mm512_set1_ps(1e-7f);
#define DECL(i) __m512 c##i = _mm512_set1_ps((float)(i));
#define STEP(i) c##i = _mm512_fmadd_ps(c##i, m, d);
#define SUM(i) s = _mm512_add_ps(s, c##i);
    BENCH_CHAINS(DECL)
    for (long it = 0; it < iters; it++) { BENCH_CHAINS(STEP) }
    __m512 s = _mm512_setzero_ps();
    BENCH_CHAINS(SUM)
    bench_sink = _mm512_reduce_add_ps(s);
#undef DECL
#undef STEP
#undef SUM
}
/* 12 chains of 8 lanes (16 ymm registers) */
__attribute__((target("avx2,fma")))
static void bench_fma256(long iters) {
    __m256 m = _mm256_set1_ps(0.999999f), d = _mm256_set1_ps(1e-7f);
#define DECL(i) __m256 c##i = _mm256_set1_ps((float)(i));
#define STEP(i) c##i = _mm256_fmadd_ps(c##i, m, d);
#define SUM(i) s = _mm256_add_ps(s, c##i);
#define CH12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
    CH12(DECL)
    for (long it = 0; it < iters; it++) { CH12(STEP) }
    __m256 s = _mm256_setzero_ps();
    CH12(SUM)
    float t[8];
    _mm256_storeu_ps(t, s);
    bench_sink = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
#undef DECL
#undef STEP
#undef SUM
#undef CH12
}
#else
#define BENCH_X86 0
#endif

/* portable: 16 chains of 8 floats (the compiler vectorizes what it can) */
static void bench_fma_c(long iters) {
    float c[16][8];
    for (int i = 0; i < 16; i++)
        for (int l = 0; l < 8; l++) c[i][l] = (float)(i + l);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < 16; i++)
            for (int l = 0; l < 8; l++) c[i][l] = c[i][l] * 0.999999f + 1e-7f;
    float s = 0;
    for (int i = 0; i < 16; i++)
        for (int l = 0; l < 8; l++) s += c[i][l];
    bench_sink = s;
}

typedef struct { int kind; long iters; } bench_peak_job;   /* kind: 2 = 512, 1 = 256, 0 = C */
static double bench_flops_per_iter(int kind) { return kind == 2 ? 24.0 * 16 * 2 : kind == 1 ? 12.0 * 8 * 2 : 16.0 * 8 * 2; }

static void bench_peak_task(void *arg, int t, int nt) {
    bench_peak_job *j = (bench_peak_job *)arg;
    (void)t; (void)nt;
#if BENCH_X86
    if (j->kind == 2) { bench_fma512(j->iters); return; }
    if (j->kind == 1) { bench_fma256(j->iters); return; }
#endif
    bench_fma_c(j->iters);
}

static int bench_peak_kind(void) {
#if BENCH_X86
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
#endif
    return 0;
}

/* GFLOPS of nth threads each running the FMA loop; best of `reps` runs of ~0.1 s */
static double bench_peak_gflops(coop_pool *p, int nth, int reps) {
    bench_peak_job j = {bench_peak_kind(), 1000};
    /* calibrate to ~0.1 s per run */
    for (;;) {
        double t0 = bench_now();
        coop_pool_run(p, nth, bench_peak_task, &j);
        double dt = bench_now() - t0;
        if (dt > 0.05) { j.iters = (long)(j.iters * 0.1 / dt); break; }
        j.iters *= 4;
    }
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        coop_pool_run(p, nth, bench_peak_task, &j);
        double g = nth * (double)j.iters * bench_flops_per_iter(j.kind) / (bench_now() - t0) * 1e-9;
        if (g > best) best = g;
    }
    return best;
}

static double bench_peak1 = 0, bench_peakN = 0;   /* measured once, used by later sections */

static void bench_measure_peak(const bench_opts *o) {
    if (bench_peakN > 0) return;
    coop_pool *p = coop_pool_create(o->threads);
    bench_peak1 = bench_peak_gflops(p, 1, o->quick ? 3 : 7);
    bench_peakN = bench_peak_gflops(p, coop_pool_threads(p), o->quick ? 3 : 7);
    coop_pool_free(p);
}

static int bench_peak(const bench_opts *o) {
    static const char *kinds[] = {"C", "AVX2 FMA ymm, 12 chains", "AVX-512 FMA zmm, 24 chains"};
    bench_measure_peak(o);
    printf("peak (%s): 1 thread %.1f GFLOPS, %d threads %.1f GFLOPS\n", kinds[bench_peak_kind()],
           bench_peak1, o->threads, bench_peakN);
    return 0;
}

/* ===================================================================================== */
/* pool: what one coop_pool_run costs                                                     */
/* ===================================================================================== */
static volatile int bench_pool_sink;
static void bench_pool_nop(void *ctx, int t, int nt) { (void)ctx; (void)nt; bench_pool_sink = t; }
static void bench_pool_spin(void *ctx, int t, int nt) {   /* ~`*ctx` microseconds of work */
    (void)nt;
    double t0 = bench_now();
    while (bench_now() - t0 < *(double *)ctx * 1e-6) bench_pool_sink = t;
}

static int bench_pool(const bench_opts *o) {
    coop_pool *p = coop_pool_create(o->threads);
    int nt = coop_pool_threads(p), n = o->quick ? 20000 : 100000;
    double t0 = bench_now();
    for (int i = 0; i < n; i++) coop_pool_run(p, nt, bench_pool_nop, NULL);
    double hot = (bench_now() - t0) / n;
    /* nt tasks of 20 us each: ideal wall time is 20 us when every thread takes one */
    double us = 20, sum_hot = 0, sum_cold = 0;
    int reps = o->quick ? 200 : 1000;
    for (int i = 0; i < reps; i++) {
        t0 = bench_now();
        coop_pool_run(p, nt, bench_pool_spin, &us);
        sum_hot += bench_now() - t0;
    }
    for (int i = 0; i < reps / 4; i++) {
        t0 = bench_now();
        while (bench_now() - t0 < 300e-6) {}   /* serial work: the workers go to sleep */
        t0 = bench_now();
        coop_pool_run(p, nt, bench_pool_spin, &us);
        sum_cold += bench_now() - t0;
    }
    printf("pool (%d threads): empty job %.2f us; %d tasks of 20 us: %.1f us back to back, %.1f us after 300 us idle\n",
           nt, hot * 1e6, nt, sum_hot / reps * 1e6, sum_cold / (reps / 4) * 1e6);
    coop_pool_free(p);
    return 0;
}

/* ===================================================================================== */
/* gemm: coop_gemm at the shapes the towers use                                           */
/* ===================================================================================== */
typedef struct { const char *what; int transb, M, N, K; } bench_gemm_shape;
static const bench_gemm_shape bench_gemm_shapes[] = {
    {"ViT-B-32 MLP fc, batch 32", 1, 1600, 3072, 768},
    {"ViT-B-32 MLP proj, batch 32", 1, 1600, 768, 3072},
    {"ViT-B-32 qkv, batch 32", 1, 1600, 2304, 768},
    {"ViT-B-32 qkv, batch 1", 1, 50, 2304, 768},
    {"ViT-B-32 MLP fc, batch 1", 1, 50, 3072, 768},
    {"ViT-B-32 MLP proj, batch 1", 1, 50, 768, 3072},
    {"text MLP fc, 101 prompts x 77", 1, 7777, 2048, 512},
    {"text MLP proj, 101 x 77", 1, 7777, 512, 2048},
    {"text qkv, 13 prompts x 77", 1, 1001, 1536, 512},
    {"text out proj, 13 x 77", 1, 1001, 512, 512},
    {"text backward dX = dY W, 13 x 77", 0, 1001, 512, 2048},
    {"attention Q K^T (77 x 77 x 64)", 1, 77, 77, 64},
    {"attention P V (77 x 64 x 77)", 0, 77, 64, 77},
};

static float *bench_rand(size_t n, uint32_t seed) {
    float *x = (float *)coop_malloc(n * sizeof(float));
    if (!x) { fprintf(stderr, "bench: out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 9) & 0x3fff) / 8192.0f - 1.0f;
    }
    return x;
}

/* best and median GFLOPS over repeats of about `budget` seconds in total */
static void bench_gemm_one(coop_pool *p, const bench_gemm_shape *s, double budget, double *best, double *med) {
    int M = s->M, N = s->N, K = s->K;
    float *A = bench_rand((size_t)M * K, 1), *B = bench_rand((size_t)N * K, 2);
    float *bias = bench_rand((size_t)N, 3), *C = bench_rand((size_t)M * N, 4);
    int ldb = s->transb ? K : N;
    double flop = 2.0 * M * N * K, g[64];
    coop_gemm(p, s->transb, M, N, K, A, K, B, ldb, bias, 0.0f, C, N);   /* warm-up: buffers, pages */
    double t0 = bench_now();
    coop_gemm(p, s->transb, M, N, K, A, K, B, ldb, bias, 0.0f, C, N);
    double once = bench_now() - t0;
    /* calls per timed repeat so that one repeat lasts >= ~20 ms (small shapes) */
    int inner = once > 0.02 ? 1 : (int)(0.02 / (once > 1e-7 ? once : 1e-7)) + 1;
    int reps = (int)(budget / (once * inner + 1e-9));
    if (reps < 3) reps = 3;
    if (reps > 64) reps = 64;
    for (int r = 0; r < reps; r++) {
        t0 = bench_now();
        for (int i = 0; i < inner; i++) coop_gemm(p, s->transb, M, N, K, A, K, B, ldb, bias, 0.0f, C, N);
        g[r] = flop * inner / (bench_now() - t0) * 1e-9;
    }
    qsort(g, (size_t)reps, sizeof g[0], bench_cmp_double);
    *best = g[reps - 1];
    *med = g[reps / 2];
    coop_free(A); coop_free(B); coop_free(bias); coop_free(C);
}

static int bench_gemm(const bench_opts *o) {
    bench_measure_peak(o);
    coop_pool *p1 = coop_pool_create(1), *pn = coop_pool_create(o->threads);
    int nt = coop_pool_threads(pn);
    double budget = o->quick ? 0.3 : 1.0;
    printf("gemm: kernel %s; GFLOPS best (median) and best / peak (peak: 1 thread %.0f, %d threads %.0f)\n",
           coop_gemm_kernel_name(), bench_peak1, nt, bench_peakN);
    printf("  %-36s %-16s %-24s %-24s\n", "shape", "M x N x K", "1 thread", "threads");
    for (size_t i = 0; i < sizeof bench_gemm_shapes / sizeof bench_gemm_shapes[0]; i++) {
        const bench_gemm_shape *s = &bench_gemm_shapes[i];
        double b1, m1, bn, mn;
        bench_gemm_one(p1, s, budget, &b1, &m1);
        bench_gemm_one(pn, s, budget, &bn, &mn);
        char dims[48], c1[48], cn[48];
        snprintf(dims, sizeof dims, "%dx%dx%d%s", s->M, s->N, s->K, s->transb ? " T" : "");
        snprintf(c1, sizeof c1, "%6.1f (%6.1f) %3.0f%%", b1, m1, 100 * b1 / bench_peak1);
        snprintf(cn, sizeof cn, "%6.1f (%6.1f) %3.0f%%", bn, mn, 100 * bn / bench_peakN);
        printf("  %-36s %-16s %-24s %-24s%s\n", s->what, dims, c1, cn,
               2.0 * s->M * s->N * s->K < 1.5e6 ? " (serial by design: < 1.5 MFLOP)" : "");
        fflush(stdout);
    }
    coop_pool_free(p1);
    coop_pool_free(pn);
    return 0;
}

/* ===================================================================================== */
typedef struct { const char *name; int (*fn)(const bench_opts *); const char *help; } bench_section;
static const bench_section sections[] = {
    {"peak", bench_peak, "fp32 FMA peak of this machine (1 thread, all threads)"},
    {"pool", bench_pool, "coop_pool_run round trip, hot and after the workers slept"},
    {"gemm", bench_gemm, "coop_gemm GFLOPS at ViT / text tower / attention shapes"},
};
enum { BENCH_NSECTIONS = (int)(sizeof sections / sizeof sections[0]) };

int main(int argc, char **argv) {
    bench_opts o = {0, 0};
    const char *want[16];
    int nwant = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) o.quick = 1;
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
            coop_gemm_force_kernel(argv[++i]);
            if (strcmp(coop_gemm_kernel_name(), argv[i])) { fprintf(stderr, "bench: kernel %s not available here\n", argv[i]); return 2; }
        }
        else if (argv[i][0] == '-' || nwant == 16) {
            printf("usage: %s [SECTION...] [--threads N] [--quick] [--kernel avx512|avx2|portable]\nsections:\n", argv[0]);
            for (int s = 0; s < BENCH_NSECTIONS; s++) printf("  %-8s %s\n", sections[s].name, sections[s].help);
            return strcmp(argv[i], "-h") && strcmp(argv[i], "--help") ? 2 : 0;
        } else want[nwant++] = argv[i];
    }
    if (o.threads <= 0) {
        coop_pool *p = coop_pool_create(0);
        o.threads = coop_pool_threads(p);
        coop_pool_free(p);
    }
    for (int w = 0; w < nwant; w++) {
        int found = 0;
        for (int s = 0; s < BENCH_NSECTIONS; s++) found |= !strcmp(want[w], sections[s].name);
        if (!found) { fprintf(stderr, "bench: unknown section '%s' (try --help)\n", want[w]); return 2; }
    }
    int rc = 0;
    for (int s = 0; s < BENCH_NSECTIONS; s++) {
        int run = nwant == 0;
        for (int w = 0; w < nwant; w++) run |= !strcmp(want[w], sections[s].name);
        if (run) rc |= sections[s].fn(&o);
    }
    return rc;
}
