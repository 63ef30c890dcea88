/* bench -- speed of coop.h's building blocks on this machine (a benchmark, not a test).

   usage: build/bench [SECTION...] [--threads N] [--quick] [--kernel avx512|avx2|portable]
                      [--no-torch] [--model VITB32.coop] [--bf16]
     peak    fp32 FMA peak: independent FMA chains held in registers, 1 thread and all threads
     pool    coop_pool_run round trip: back to back, and after the workers went to sleep
     gemm    coop_gemm GFLOPS at the model's shapes, 1 and N threads, as a fraction of the peak
     load    coop_model_load of a ViT-B-32 + text model file (mmap + validation)
     vit, text, coop, resnet, roberta
             whole towers at the real sizes, side by side with PyTorch (tools/bench_torch.py run
             by this program with /usr/bin/python3; --no-torch skips it): the median time of
             each and the ratio PyTorch / coop.h
   --bf16 runs the image towers (vit, resnet, coop step) with bf16 compute (coop_model_set_bf16)
   instead of fp32; PyTorch stays fp32.
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
#include <sys/stat.h>

typedef struct {
    int threads;         /* the "all threads" count (default: online cores) */
    int quick;           /* fewer repeats */
    int no_torch;        /* skip the PyTorch side */
    const char *model;   /* a real ViT-B-32 model file instead of the random one */
    int bf16;            /* image towers with bf16 compute */
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
/* towers: whole encoders at the real sizes, side by side with PyTorch                    */
/* ===================================================================================== */
/* The weights are random (no checkpoint can be downloaded here) but the sizes are the real
   ones, so the work is the same; a real converted model can be given with --model. The files
   are written once into build/bench-models/ and reused. PyTorch runs the same work through
   tools/bench_torch.py (tuned as DESIGN.md says) in the same run; the printed ratio is
   PyTorch time / coop.h time, so > 1 means coop.h is faster. */
typedef struct { coop_model_writer *w; uint64_t seed; int fail; } bench_mw;

/* N(mean, std) values (sum of 4 uniforms: bell-shaped, cheap) */
static void bench_mw_add(bench_mw *b, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                         float mean, float std) {
    int64_t sh[4] = {d0, d1, d2, d3};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)sh[i];
    float *x = (float *)coop_malloc(n * sizeof(float));
    if (!x) { b->fail = 1; return; }
    uint64_t s = b->seed++ * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        float u = 0;
        for (int k = 0; k < 4; k++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            u += (float)(s >> 40) * (1.0f / 16777216.0f);
        }
        x[i] = mean + std * (u - 2.0f) * 1.7320508f;   /* variance of the sum: 4/12 */
    }
    if (!b->fail && coop_model_writer_add(b->w, name, COOP_F32, ndim, sh, x)) b->fail = 1;
    coop_free(x);
}
#define BENCH_T1(b, n, a, m, s) bench_mw_add(b, n, 1, a, 1, 1, 1, m, s)
#define BENCH_T2(b, n, a, c, m, s) bench_mw_add(b, n, 2, a, c, 1, 1, m, s)

/* CLIP's pre-LN residual blocks under prefix */
static void bench_mw_blocks(bench_mw *b, const char *prefix, int L, int D, int F) {
    char nm[128];
    for (int i = 0; i < L; i++) {
#define NM(sfx) (snprintf(nm, sizeof nm, "%s.resblocks.%d.%s", prefix, i, sfx), nm)
        BENCH_T1(b, NM("ln_1.weight"), D, 1, 0.1f); BENCH_T1(b, NM("ln_1.bias"), D, 0, 0.02f);
        BENCH_T2(b, NM("attn.in_proj_weight"), 3 * D, D, 0, 1.0f / sqrtf((float)D));
        BENCH_T1(b, NM("attn.in_proj_bias"), 3 * D, 0, 0.02f);
        BENCH_T2(b, NM("attn.out_proj.weight"), D, D, 0, 1.0f / sqrtf((float)D));
        BENCH_T1(b, NM("attn.out_proj.bias"), D, 0, 0.02f);
        BENCH_T1(b, NM("ln_2.weight"), D, 1, 0.1f); BENCH_T1(b, NM("ln_2.bias"), D, 0, 0.02f);
        BENCH_T2(b, NM("mlp.c_fc.weight"), F, D, 0, 1.0f / sqrtf((float)D));
        BENCH_T1(b, NM("mlp.c_fc.bias"), F, 0, 0.02f);
        BENCH_T2(b, NM("mlp.c_proj.weight"), D, F, 0, 1.0f / sqrtf((float)F));
        BENCH_T1(b, NM("mlp.c_proj.bias"), D, 0, 0.02f);
#undef NM
    }
}

/* a folded convolution: weight [cout, cin, k, k] and bias */
static void bench_mw_conv(bench_mw *b, const char *name, int cin, int cout, int k) {
    char nm[128];
    snprintf(nm, sizeof nm, "%s.weight", name);
    bench_mw_add(b, nm, 4, cout, cin, k, k, 0, sqrtf(2.0f / (float)(cin * k * k)));
    snprintf(nm, sizeof nm, "%s.bias", name);
    BENCH_T1(b, nm, cout, 0, 0.1f);
}

/* writes build/bench-models/NAME.coop unless it is there: vitb32 (ViT-B-32 + CLIP text, the
   OpenAI model), rn50, rn101 (image towers), roberta (roberta-ViT-B-32's text tower) */
static const char *bench_model_file(const char *name) {
    static char path[256];
    snprintf(path, sizeof path, "build/bench-models/%s.coop", name);
    coop_model *m = coop_model_load(path);
    if (m) { coop_model_free(m); return path; }
    mkdir("build", 0777); mkdir("build/bench-models", 0777);
    char cfg[1024];
    int clip_text = !strcmp(name, "vitb32"), rn = !strncmp(name, "rn", 2), hf = !strcmp(name, "roberta");
    int E = !strcmp(name, "rn50") ? 1024 : 512;
    snprintf(cfg, sizeof cfg,
             "model_name %s\npretrained random\nembed_dim %d\n%s%s",
             name, E,
             clip_text ? "vision vit\nimage_size 224\nvision_width 768\nvision_layers 12\nvision_heads 12\n"
                         "vision_patch 32\nvision_mlp 3072\nvision_act quick_gelu\n"
                         "text clip\ncontext_length 77\nvocab_size 49408\ntext_width 512\ntext_layers 12\n"
                         "text_heads 8\ntext_mlp 2048\ntext_act quick_gelu\ntokenizer clip_bpe\npad_id 0\n"
                       : rn ? "vision resnet\nimage_size 224\nvision_width 64\nvision_heads 32\nbn_folded 1\n"
                            : "text hf\ncontext_length 77\nvocab_size 50265\ntext_width 768\ntext_layers 12\n"
                              "text_heads 12\ntext_mlp 3072\ntokenizer gpt2_bpe\npad_id 1\nsot_id 0\neot_id 2\n"
                              "hf_model_type roberta\nhf_pooler mean\nhf_proj mlp\nhf_max_positions 514\n",
             !strcmp(name, "rn50") ? "resnet_layers 3 4 6 3\n" : !strcmp(name, "rn101") ? "resnet_layers 3 4 23 3\n" : "");
    void *blob = NULL, *txt = NULL;
    size_t bsz = 0, tl = 0, gzn = 0;
    if (clip_text) {   /* the real CLIP vocabulary, so prompts tokenise as they would */
        char *gz = coop_read_file("../shared/data/bpe_simple_vocab_16e6.txt.gz", &gzn);
        if (!gz || coop_gunzip(gz, gzn, &txt, &tl) || coop_tokblob_append(&blob, &bsz, "clip_bpe", txt, tl)) {
            fprintf(stderr, "bench: %s\n", coop_last_error());
            exit(1);
        }
        coop_free(gz); coop_free(txt);
    }
    printf("  (writing %s with random weights at the real sizes ...)\n", path);
    fflush(stdout);
    bench_mw b = {coop_model_writer_open(path, cfg, blob, bsz, 4096), 1, 0};
    free(blob);
    if (!b.w) { fprintf(stderr, "bench: %s\n", coop_last_error()); exit(1); }
    if (clip_text) {
        bench_mw_add(&b, "visual.conv1.weight", 4, 768, 3, 32, 32, 0, 0.02f);
        BENCH_T1(&b, "visual.class_embedding", 768, 0, 0.03f);
        BENCH_T2(&b, "visual.positional_embedding", 50, 768, 0, 0.03f);
        BENCH_T1(&b, "visual.ln_pre.weight", 768, 1, 0.1f); BENCH_T1(&b, "visual.ln_pre.bias", 768, 0, 0.02f);
        bench_mw_blocks(&b, "visual.transformer", 12, 768, 3072);
        BENCH_T1(&b, "visual.ln_post.weight", 768, 1, 0.1f); BENCH_T1(&b, "visual.ln_post.bias", 768, 0, 0.02f);
        BENCH_T2(&b, "visual.proj", 768, 512, 0, 0.036f);
        BENCH_T2(&b, "token_embedding.weight", 49408, 512, 0, 0.02f);
        BENCH_T2(&b, "positional_embedding", 77, 512, 0, 0.01f);
        bench_mw_blocks(&b, "transformer", 12, 512, 2048);
        BENCH_T1(&b, "ln_final.weight", 512, 1, 0.1f); BENCH_T1(&b, "ln_final.bias", 512, 0, 0.02f);
        BENCH_T2(&b, "text_projection", 512, 512, 0, 0.044f);
        BENCH_T1(&b, "logit_scale", 1, 4.6052f, 0);
    } else if (rn) {
        int w = 64, layers[4] = {3, 4, !strcmp(name, "rn50") ? 6 : 23, 3}, inpl = w, C = 32 * w;
        bench_mw_conv(&b, "visual.conv1", 3, w / 2, 3);
        bench_mw_conv(&b, "visual.conv2", w / 2, w / 2, 3);
        bench_mw_conv(&b, "visual.conv3", w / 2, w, 3);
        char nm[128];
        for (int l = 0; l < 4; l++)
            for (int j = 0; j < layers[l]; j++) {
                int planes = w << l;
                snprintf(nm, sizeof nm, "visual.layer%d.%d.conv1", l + 1, j); bench_mw_conv(&b, nm, inpl, planes, 1);
                snprintf(nm, sizeof nm, "visual.layer%d.%d.conv2", l + 1, j); bench_mw_conv(&b, nm, planes, planes, 3);
                snprintf(nm, sizeof nm, "visual.layer%d.%d.conv3", l + 1, j); bench_mw_conv(&b, nm, planes, 4 * planes, 1);
                if (j == 0) { snprintf(nm, sizeof nm, "visual.layer%d.%d.downsample.0", l + 1, j); bench_mw_conv(&b, nm, inpl, 4 * planes, 1); }
                inpl = 4 * planes;
            }
        BENCH_T2(&b, "visual.attnpool.positional_embedding", 50, C, 0, 1.0f / sqrtf((float)C));
        const char *pr[3] = {"q", "k", "v"};
        for (int i = 0; i < 3; i++) {
            snprintf(nm, sizeof nm, "visual.attnpool.%s_proj.weight", pr[i]); BENCH_T2(&b, nm, C, C, 0, 1.0f / sqrtf((float)C));
            snprintf(nm, sizeof nm, "visual.attnpool.%s_proj.bias", pr[i]); BENCH_T1(&b, nm, C, 0, 0.02f);
        }
        BENCH_T2(&b, "visual.attnpool.c_proj.weight", E, C, 0, 1.0f / sqrtf((float)C));
        BENCH_T1(&b, "visual.attnpool.c_proj.bias", E, 0, 0.02f);
    } else if (hf) {
        const char *e = "text.transformer.embeddings.";
        char nm[160];
        int D = 768, F = 3072;
        snprintf(nm, sizeof nm, "%sword_embeddings.weight", e); BENCH_T2(&b, nm, 50265, D, 0, 0.05f);
        snprintf(nm, sizeof nm, "%sposition_embeddings.weight", e); BENCH_T2(&b, nm, 514, D, 0, 0.02f);
        snprintf(nm, sizeof nm, "%stoken_type_embeddings.weight", e); BENCH_T2(&b, nm, 1, D, 0, 0.02f);
        snprintf(nm, sizeof nm, "%sLayerNorm.weight", e); BENCH_T1(&b, nm, D, 1, 0.1f);
        snprintf(nm, sizeof nm, "%sLayerNorm.bias", e); BENCH_T1(&b, nm, D, 0, 0.02f);
        static const struct { const char *s; int o, i; } lw[] = {
            {"attention.self.query", 768, 768}, {"attention.self.key", 768, 768}, {"attention.self.value", 768, 768},
            {"attention.output.dense", 768, 768}, {"intermediate.dense", 3072, 768}, {"output.dense", 768, 3072}};
        for (int l = 0; l < 12; l++) {
            for (int k = 0; k < 6; k++) {
                snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.%s.weight", l, lw[k].s);
                BENCH_T2(&b, nm, lw[k].o, lw[k].i, 0, 1.0f / sqrtf((float)lw[k].i));
                snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.%s.bias", l, lw[k].s);
                BENCH_T1(&b, nm, lw[k].o, 0, 0.02f);
            }
            snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.attention.output.LayerNorm.weight", l); BENCH_T1(&b, nm, D, 1, 0.1f);
            snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.attention.output.LayerNorm.bias", l); BENCH_T1(&b, nm, D, 0, 0.02f);
            snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.output.LayerNorm.weight", l); BENCH_T1(&b, nm, D, 1, 0.1f);
            snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.output.LayerNorm.bias", l); BENCH_T1(&b, nm, D, 0, 0.02f);
        }
        (void)F;
        BENCH_T2(&b, "text.proj.0.weight", 640, D, 0, 1.0f / sqrtf((float)D));
        BENCH_T2(&b, "text.proj.2.weight", 512, 640, 0, 1.0f / sqrtf(640.0f));
    }
    if (b.fail || coop_model_writer_close(b.w)) {
        fprintf(stderr, "bench: writing %s: %s\n", path, coop_last_error());
        if (b.fail) coop_model_writer_abort(b.w);
        exit(1);
    }
    return path;
}

/* median seconds of `runs` calls after one warm-up */
typedef int (*bench_fn)(void *ctx);
static double bench_median(bench_fn fn, void *ctx, int runs) {
    double t[32];
    if (runs > 32) runs = 32;
    if (fn(ctx)) { fprintf(stderr, "bench: %s\n", coop_last_error()); exit(1); }
    for (int r = 0; r < runs; r++) {
        double t0 = bench_now();
        if (fn(ctx)) { fprintf(stderr, "bench: %s\n", coop_last_error()); exit(1); }
        t[r] = bench_now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], bench_cmp_double);
    return t[runs / 2];
}

/* PyTorch's median seconds for the same work (tools/bench_torch.py), or 0 when unavailable */
static double bench_torch(const bench_opts *o, const char *what, int runs) {
    if (o->no_torch) return 0;
    char cmd[512];
    /* PyTorch at its best (DESIGN.md): OpenBLAS picks its own kernel, OpenMP threads sleep when
       idle, and glibc keeps freed memory instead of returning it to the kernel -- without that
       every fresh activation tensor pays first-touch page faults (ViT-B-32: 11.6 -> ~30 img/s) */
    snprintf(cmd, sizeof cmd, "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=PASSIVE "
             "MALLOC_MMAP_THRESHOLD_=17179869184 MALLOC_TRIM_THRESHOLD_=17179869184 MALLOC_TOP_PAD_=1073741824 "
             "/usr/bin/python3 tools/bench_torch.py %s --threads %d --runs %d 2>/dev/null", what, o->threads, runs);
    FILE *f = popen(cmd, "r");
    if (!f) return 0;
    char line[256];
    double s = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "seconds ", 8)) s = atof(line + 8);
    pclose(f);
    return s;
}

static void bench_report(const char *what, const char *unit, double per, double ours, double theirs) {
    if (theirs > 0)
        printf("  %-44s coop.h %8.3f s (%7.1f %s)   PyTorch %8.3f s (%7.1f %s)   ratio %.2fx\n", what, ours,
               per / ours, unit, theirs, per / theirs, unit, theirs / ours);
    else
        printf("  %-44s coop.h %8.3f s (%7.1f %s)   PyTorch: not run (python3-torch missing or --no-torch)\n",
               what, ours, per / ours, unit);
    fflush(stdout);
}

typedef struct { coop_model *m; coop_pool *p; float *px, *out; int n; } bench_img_job;
static int bench_img_run(void *ctx) {
    bench_img_job *j = (bench_img_job *)ctx;
    return coop_encode_image(j->m, j->p, j->px, j->n, j->out);
}

static coop_model *bench_load(const bench_opts *o, const char *name) {
    const char *path = o->model && !strcmp(name, "vitb32") ? o->model : bench_model_file(name);
    coop_model *m = coop_model_load(path);
    if (!m || (o->bf16 && strcmp(name, "roberta") && coop_model_set_bf16(m, 1))) { fprintf(stderr, "bench: %s\n", coop_last_error()); exit(1); }
    return m;
}

/* image tower throughput at batch 32 */
static void bench_image_tower(const bench_opts *o, const char *name, const char *torch_name, const char *label) {
    coop_model *m = bench_load(o, name);
    coop_pool *p = coop_pool_create(o->threads);
    int S = coop_model_config(m)->image_size, n = 32;
    bench_img_job j = {m, p, bench_rand((size_t)n * 3 * S * S, 7), bench_rand((size_t)n * 1024, 8), n};
    int runs = o->quick ? 3 : 5;
    double ours = bench_median(bench_img_run, &j, runs);
    double theirs = bench_torch(o, torch_name, runs);
    bench_report(label, "img/s", n, ours, theirs);
    coop_free(j.px); coop_free(j.out);
    coop_pool_free(p);
    coop_model_free(m);
}

static int bench_vit(const bench_opts *o) {
    printf("vit: ViT-B-32 image tower, batch 32, %d threads\n", o->threads);
    bench_image_tower(o, "vitb32", "vit", "ViT-B-32 image tower, batch 32");
    return 0;
}

static int bench_resnet(const bench_opts *o) {
    printf("resnet: ModifiedResNet image towers, batch 32, %d threads\n", o->threads);
    bench_image_tower(o, "rn50", "resnet50", "RN50 image tower, batch 32");
    bench_image_tower(o, "rn101", "resnet101", "RN101 image tower, batch 32");
    return 0;
}

/* model load: mmap + validation (first open), then the first encode that touches the weights */
static int bench_load_section(const bench_opts *o) {
    const char *path = o->model ? o->model : bench_model_file("vitb32");
    coop_model_free(bench_load(o, "vitb32"));   /* file in the page cache, as after any earlier use */
    double t0 = bench_now();
    coop_model *m = coop_model_load(path);
    double tl = bench_now() - t0;
    if (!m) { fprintf(stderr, "bench: %s\n", coop_last_error()); return 1; }
    struct stat st;
    double mb = stat(path, &st) == 0 ? (double)st.st_size / 1048576.0 : 0;
    printf("load: %s (%.0f MB, %d tensors): coop_model_load %.2f ms (mmap + validation; pages come in on first use)\n",
           path, mb, coop_model_tensor_count(m), tl * 1e3);
    coop_model_free(m);
    return 0;
}

/* the CoOp step of the issue: 100 Caltech-101 classes, n_ctx 16, batch 32 */
typedef struct {
    coop_model *m; coop_pool *p; coop_trainer *t;
    float *px, *img, *grad; int *labels; int B;
} bench_coop_job;

static int bench_coop_text(void *ctx) {   /* text forward + backward to the context, fixed image features */
    bench_coop_job *j = (bench_coop_job *)ctx;
    float loss;
    return coop_trainer_loss(j->t, j->img, j->labels, j->B, &loss, j->grad, NULL);
}
static int bench_coop_step(void *ctx) {   /* encode the batch, then one SGD step */
    bench_coop_job *j = (bench_coop_job *)ctx;
    float loss;
    int correct;
    if (coop_encode_image(j->m, j->p, j->px, j->B, j->img)) return -1;
    return coop_trainer_step(j->t, j->img, j->labels, j->B, 0.002f, &loss, &correct);
}

static char **bench_classnames(int *n) {
    size_t len;
    char *txt = coop_read_file("../shared/data/caltech101_classnames.txt", &len);
    if (!txt) { fprintf(stderr, "bench: %s\n", coop_last_error()); exit(1); }
    char **names = (char **)calloc(256, sizeof *names);
    *n = 0;
    for (char *s = strtok(txt, "\r\n"); s && *n < 256; s = strtok(NULL, "\r\n"))
        if (*s) names[(*n)++] = strdup(s);
    coop_free(txt);
    return names;
}

static int bench_coop_sections(const bench_opts *o, int full) {
    coop_model *m = bench_load(o, "vitb32");
    coop_pool *p = coop_pool_create(o->threads);
    int ncls;
    char **names = bench_classnames(&ncls);
    coop_trainer_opts to;
    coop_trainer_opts_default(&to);
    coop_trainer *t = coop_trainer_new(m, p, (const char *const *)names, ncls, &to);
    if (!t) { fprintf(stderr, "bench: %s\n", coop_last_error()); return 1; }
    int B = 32, S = coop_model_config(m)->image_size, E = coop_model_config(m)->embed_dim;
    bench_coop_job j = {m, p, t, bench_rand((size_t)B * 3 * S * S, 11), bench_rand((size_t)B * E, 12),
                        bench_rand((size_t)16 * 512, 13), (int *)calloc((size_t)B, sizeof(int)), B};
    for (int b = 0; b < B; b++) j.labels[b] = (b * 37) % ncls;
    int runs = o->quick ? 3 : 5;
    char label[96];
    if (!full) {
        printf("text: CoOp text forward + backward to the context (%d classes, n_ctx 16), %d threads\n", ncls, o->threads);
        snprintf(label, sizeof label, "text fwd+bwd, %d prompts", ncls);
        bench_report(label, "steps/s", 1, bench_median(bench_coop_text, &j, runs),
                     bench_torch(o, "text", runs));
    } else {
        printf("coop: one CoOp step (ViT-B-32, %d classes, n_ctx 16, batch 32), %d threads\n", ncls, o->threads);
        snprintf(label, sizeof label, "CoOp step, batch 32, %d classes", ncls);
        bench_report(label, "steps/s", 1, bench_median(bench_coop_step, &j, runs), bench_torch(o, "coop", runs));
    }
    coop_free(j.px); coop_free(j.img); coop_free(j.grad); free(j.labels);
    for (int i = 0; i < ncls; i++) free(names[i]);
    free(names);
    coop_trainer_free(t);
    coop_pool_free(p);
    coop_model_free(m);
    return 0;
}
static int bench_text(const bench_opts *o) { return bench_coop_sections(o, 0); }
static int bench_coop(const bench_opts *o) { return bench_coop_sections(o, 1); }

/* roberta-ViT-B-32's text tower: CoOp forward + backward over 100 prompts of 8-23 tokens */
typedef struct { coop_model *m; coop_pool *p; coop_text_cache *c; float *x, *out, *dout, *dx; int *eot; int n, T; } bench_hf_job;
static int bench_hf_run(void *ctx) {
    bench_hf_job *j = (bench_hf_job *)ctx;
    if (coop_text_forward_embeds(j->m, j->p, j->x, j->eot, j->n, j->T, 0, j->out, j->c)) return -1;
    return coop_text_backward_embeds(j->m, j->p, j->c, j->dout, j->dx);
}
static int bench_roberta(const bench_opts *o) {
    printf("roberta: roberta-ViT-B-32 text tower, CoOp forward + backward (100 prompts of 8-23 tokens), %d threads\n", o->threads);
    coop_model *m = bench_load(o, "roberta");
    coop_pool *p = coop_pool_create(o->threads);
    int n = 100, T = 77, D = 768;
    bench_hf_job j = {m, p, coop_text_cache_new(), bench_rand((size_t)n * T * D, 21), bench_rand((size_t)n * 512, 22),
                      bench_rand((size_t)n * 512, 23), bench_rand((size_t)n * T * D, 24), (int *)calloc((size_t)n, sizeof(int)), n, T};
    for (size_t i = 0; i < (size_t)n * T * D; i++) j.x[i] *= 0.05f;
    for (int i = 0; i < n; i++) j.eot[i] = 7 + (i * 7) % 16;   /* lengths 8..23, as the PyTorch side */
    int runs = o->quick ? 3 : 5;
    bench_report("roberta text fwd+bwd, 100 prompts", "steps/s", 1, bench_median(bench_hf_run, &j, runs),
                 bench_torch(o, "roberta", runs));
    coop_text_cache_free(j.c);
    coop_free(j.x); coop_free(j.out); coop_free(j.dout); coop_free(j.dx); free(j.eot);
    coop_pool_free(p);
    coop_model_free(m);
    return 0;
}

/* ===================================================================================== */
typedef struct { const char *name; int (*fn)(const bench_opts *); const char *help; } bench_section;
static const bench_section sections[] = {
    {"peak", bench_peak, "fp32 FMA peak of this machine (1 thread, all threads)"},
    {"pool", bench_pool, "coop_pool_run round trip, hot and after the workers slept"},
    {"gemm", bench_gemm, "coop_gemm GFLOPS at ViT / text tower / attention shapes"},
    {"load", bench_load_section, "model load (mmap + validation) of ViT-B-32 + text"},
    {"vit", bench_vit, "ViT-B-32 image tower at batch 32 vs PyTorch"},
    {"text", bench_text, "CoOp text forward + backward (100 Caltech-101 classes) vs PyTorch"},
    {"coop", bench_coop, "one CoOp step (ViT-B-32, 100 classes, batch 32) vs PyTorch"},
    {"resnet", bench_resnet, "RN50 and RN101 image towers at batch 32 vs PyTorch"},
    {"roberta", bench_roberta, "roberta-ViT-B-32 CoOp text forward + backward vs PyTorch"},
};
enum { BENCH_NSECTIONS = (int)(sizeof sections / sizeof sections[0]) };

int main(int argc, char **argv) {
    bench_opts o = {0, 0, 0, NULL, 0};
    const char *want[16];
    int nwant = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) o.quick = 1;
        else if (!strcmp(argv[i], "--no-torch")) o.no_torch = 1;
        else if (!strcmp(argv[i], "--bf16")) o.bf16 = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) o.model = argv[++i];
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
            coop_gemm_force_kernel(argv[++i]);
            if (strcmp(coop_gemm_kernel_name(), argv[i])) { fprintf(stderr, "bench: kernel %s not available here\n", argv[i]); return 2; }
        }
        else if (argv[i][0] == '-' || nwant == 16) {
            printf("usage: %s [SECTION...] [--threads N] [--quick] [--kernel avx512|avx2|portable] [--no-torch] [--model F] [--bf16]\nsections:\n", argv[0]);
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
