/* coop_gemm and the thread pool.
   gemm: every kernel the CPU has (avx512 / avx2 / portable, each forced in turn) against
   coop_gemm_ref (double sums) on awkward shapes: 1s, odd sizes, edges of the 14/6/4-row and
   32/16-column tiles, K past one K block, short (M <= 168: column tasks) and tall (row tasks)
   matrices, padded strides, transb 0/1, bias, beta 0/1, on 1 and 2 threads. Determinism:
   two runs give identical bits, 1 and 2 threads give identical bits, and a row of C does not
   depend on the other rows computed with it (M = 1 or a slice gives the same bits).
   Prepacked B (gemm__prepack + gemm__mm_packed, the ResNet path): the same bits as coop_gemm,
   and with the ReLU epilogue the same bits as max(0, coop_gemm) (K past one block: the clamp
   only after the last block). bf16 (AVX-512 BF16, when the CPU has it): against double sums of
   the bf16-rounded operands, and 1 vs 2 threads bit-identical.
   pool: every task runs once, big jobs, nested runs, two threads sharing one pool. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "tests/testutil.h"

static uint32_t rng = 12345;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f; }
static float *frand_n(size_t n) {
    float *x = (float *)malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) x[i] = frand();
    return x;
}

static const char *kernels[] = {"avx512", "avx2", "portable"};
enum { NK = 3 };
typedef struct { double worst; int cases, nondet, thread_diff, packed_diff; } stats;
static stats st[NK][2];   /* [kernel][threads - 1] */
static stats stbf[2];     /* bf16 products, [threads - 1] */

/* max |C - R| over the M x N results (R clamped at 0 when relu); INFINITY when a padding
   column past N differs from C0 (the product must not touch it) */
static double max_diff(const float *C, const float *R, const float *C0, int M, int N, int ldc, int relu) {
    double maxabs = 0;
    for (int i = 0; i < M; i++)
        for (int n = 0; n < ldc; n++) {
            size_t o = (size_t)i * ldc + n;
            if (n >= N) { if (memcmp(&C[o], &C0[o], sizeof(float))) maxabs = INFINITY; continue; }
            float want = relu && !(R[o] > 0) ? 0.0f : R[o];
            double d = fabs((double)C[o] - want);
            if (!(d <= maxabs)) maxabs = d;
        }
    return maxabs;
}

/* one case: all kernels and thread counts against one reference */
static void run_case(coop_pool *pools[2], int transb, int M, int N, int K, int pad, int use_bias, float beta) {
    int lda = K + pad, ldb = (transb ? K : N) + pad, ldc = N + pad;
    size_t na = (size_t)M * lda, nb = transb ? (size_t)N * ldb : (size_t)K * ldb, nc = (size_t)M * ldc;
    float *A = frand_n(na), *B = frand_n(nb), *bias = frand_n((size_t)N), *C0 = frand_n(nc);
    float *R = (float *)malloc(sizeof(float) * nc), *C = (float *)malloc(sizeof(float) * nc);
    float *C2 = (float *)malloc(sizeof(float) * nc), *C1 = (float *)malloc(sizeof(float) * nc);
    const float *bb = use_bias ? bias : NULL;
    memcpy(R, C0, sizeof(float) * nc);
    coop_gemm_ref(transb, M, N, K, A, lda, B, ldb, bb, beta, R, ldc);
    double scale = 0;
    for (int i = 0; i < M; i++)
        for (int n = 0; n < N; n++) scale = fmax(scale, fabs(R[(size_t)i * ldc + n]));
    for (int kk = 0; kk < NK; kk++) {
        coop_gemm_force_kernel(kernels[kk]);
        if (strcmp(coop_gemm_kernel_name(), kernels[kk])) continue;
        for (int th = 0; th < 2; th++) {
            stats *s = &st[kk][th];
            memcpy(C, C0, sizeof(float) * nc);
            memcpy(C2, C0, sizeof(float) * nc);
            coop_gemm(pools[th], transb, M, N, K, A, lda, B, ldb, bb, beta, C, ldc);
            coop_gemm(pools[th], transb, M, N, K, A, lda, B, ldb, bb, beta, C2, ldc);
            double rel = max_diff(C, R, C0, M, N, ldc, 0) / (scale > 0 ? scale : 1);
            if (!(rel <= s->worst)) s->worst = rel;
            s->cases++;
            if (memcmp(C, C2, sizeof(float) * nc)) s->nondet++;
            if (th == 0) memcpy(C1, C, sizeof(float) * nc);
            else if (memcmp(C, C1, sizeof(float) * nc)) s->thread_diff++;
            /* prepacked B, without and with the ReLU epilogue */
            float *Bp = (float *)coop_malloc(sizeof(float) * (gemm__packed_size(N, K, 0) + 16));
            gemm__packed pk;
            gemm__prepack(&pk, transb, N, K, B, ldb, Bp, 0);
            for (int relu = 0; relu < 2; relu++) {
                memcpy(C2, C0, sizeof(float) * nc);
                gemm__mm_packed(pools[th], M, A, lda, &pk, bb, beta, C2, ldc, relu);
                for (int i = 0; i < M; i++)
                    for (int n = 0; n < ldc; n++) {
                        size_t o = (size_t)i * ldc + n;
                        float want = n >= N ? C0[o] : relu && !(C[o] > 0) ? 0.0f : C[o];
                        if (memcmp(&C2[o], &want, sizeof(float))) { s->packed_diff++; i = M; break; }
                    }
            }
            coop_free(Bp);
        }
    }
    coop_gemm_force_kernel(NULL);
    if (gemm__bf16_ok()) {
        /* reference: double sums of the operands rounded to bf16 */
        float *Ab = (float *)malloc(sizeof(float) * (na ? na : 1)), *Bb = (float *)malloc(sizeof(float) * (nb ? nb : 1));
        for (size_t i = 0; i < na; i++) Ab[i] = coop_bf16_to_f32(coop_f32_to_bf16(A[i]));
        for (size_t i = 0; i < nb; i++) Bb[i] = coop_bf16_to_f32(coop_f32_to_bf16(B[i]));
        memcpy(R, C0, sizeof(float) * nc);
        coop_gemm_ref(transb, M, N, K, Ab, lda, Bb, ldb, bb, beta, R, ldc);
        float *Bp = (float *)coop_malloc(sizeof(float) * (gemm__packed_size(N, K, 1) + 16));
        gemm__packed pk;
        gemm__prepack(&pk, transb, N, K, B, ldb, Bp, 1);
        for (int th = 0; th < 2; th++) {
            stats *s = &stbf[th];
            memcpy(C, C0, sizeof(float) * nc);
            gemm__mm_packed(pools[th], M, A, lda, &pk, bb, beta, C, ldc, (M + N) & 1);
            double rel = max_diff(C, R, C0, M, N, ldc, (M + N) & 1) / (scale > 0 ? scale : 1);
            if (!(rel <= s->worst)) s->worst = rel;
            s->cases += pk.bf16;
            if (th == 0) memcpy(C1, C, sizeof(float) * nc);
            else if (memcmp(C, C1, sizeof(float) * nc)) s->thread_diff++;
        }
        coop_free(Bp); free(Ab); free(Bb);
    }
    free(A); free(B); free(bias); free(C0); free(R); free(C); free(C2); free(C1);
}

/* rows of C computed alone (M = 1) or as a slice must equal the same rows of a tall product */
static void row_independence(coop_pool *p) {
    const int M = 300, N = 70, K = 900;
    float *A = frand_n((size_t)M * K), *B = frand_n((size_t)N * K), *bias = frand_n(N);
    float *C = (float *)malloc(sizeof(float) * M * N), *S = (float *)malloc(sizeof(float) * M * N);
    int ok = 1;
    coop_gemm(p, 1, M, N, K, A, K, B, K, bias, 0.0f, C, N);
    int rows[][2] = {{0, 1}, {17, 1}, {299, 1}, {100, 50}, {5, 200}, {1, 299}};
    for (int r = 0; r < 6; r++) {
        int i0 = rows[r][0], m = rows[r][1];
        coop_gemm(p, 1, m, N, K, A + (size_t)i0 * K, K, B, K, bias, 0.0f, S, N);
        ok &= !memcmp(S, C + (size_t)i0 * N, sizeof(float) * m * N);
    }
    tu_check(ok, "rows alone / in slices / in M=300: identical bits");
    free(A); free(B); free(bias); free(C); free(S);
}

/* coop_gemm called from inside pool tasks (as the towers do per head / sample): workers then
   own packing buffers, which must be freed at thread exit (ASan leak check) */
typedef struct { const float *A, *B; float *C; } nest_ctx;
static void nest_task(void *arg, int t, int nt) {
    nest_ctx *c = (nest_ctx *)arg;
    (void)nt;
    coop_gemm(NULL, 1, 10, 40, 50, c->A + (size_t)t * 500, 50, c->B, 50, NULL, 0, c->C + (size_t)t * 400, 40);
}

/* pool: counts how often each task ran */
typedef struct { int *hits; coop_pool *p; int inner; } pool_ctx;
static void count_task(void *arg, int t, int nt) {
    pool_ctx *c = (pool_ctx *)arg;
    (void)nt;
    __atomic_add_fetch(&c->hits[t], 1, __ATOMIC_RELAXED);
}
static void nested_run_task(void *arg, int t, int nt) {   /* runs a job on the same pool: serial */
    pool_ctx *c = (pool_ctx *)arg;
    (void)nt;
    pool_ctx in = {c->hits + (size_t)t * c->inner, NULL, 0};
    coop_pool_run(c->p, c->inner, count_task, &in);
}
static int all_once(const int *hits, int n) {
    for (int i = 0; i < n; i++)
        if (hits[i] != 1) return 0;
    return 1;
}
static void *sharer(void *arg) {   /* another user thread running jobs on the same pool */
    pool_ctx *c = (pool_ctx *)arg;
    for (int r = 0; r < 2000; r++) coop_pool_run(c->p, 7, count_task, c);
    return NULL;
}

static void pool_tests(void) {
    coop_pool *p = coop_pool_create(2);
    int n = (1 << 20) + 5;   /* more tasks than one job word holds: runs in rounds */
    int *hits = (int *)calloc((size_t)n, sizeof(int));
    pool_ctx c = {hits, p, 0};
    for (int nt = 1; nt <= 33; nt += 4) {
        memset(hits, 0, sizeof(int) * (size_t)nt);
        for (int r = 0; r < 200; r++) coop_pool_run(p, nt, count_task, &c);
        int ok = 1;
        for (int i = 0; i < nt; i++) ok &= hits[i] == 200;
        char line[100];
        snprintf(line, sizeof line, "pool: 200 jobs of %d tasks, each task ran 200 times", nt);
        tu_check(ok, line);
    }
    memset(hits, 0, sizeof(int) * (size_t)n);
    coop_pool_run(p, n, count_task, &c);
    tu_check(all_once(hits, n), "pool: one job of 2^20 + 5 tasks, each ran once");
    memset(hits, 0, sizeof(int) * 64);
    pool_ctx nc = {hits, p, 8};
    coop_pool_run(p, 8, nested_run_task, &nc);
    tu_check(all_once(hits, 64), "pool: coop_pool_run inside a task runs serially");
    memset(hits, 0, sizeof(int) * 7);
    pool_ctx a = {hits, p, 0};
    pthread_t th;
    int started = pthread_create(&th, NULL, sharer, &a) == 0;
    for (int r = 0; r < 2000; r++) coop_pool_run(p, 7, count_task, &a);
    if (started) pthread_join(th, NULL);
    int ok = started;
    for (int i = 0; i < 7; i++) ok &= hits[i] == 4000;
    tu_check(ok, "pool: two threads share one pool, 2 x 2000 jobs of 7 tasks");
    memset(hits, 0, sizeof(int) * 5);
    coop_pool_run(NULL, 5, count_task, &c);
    coop_pool *p1 = coop_pool_create(1);
    coop_pool_run(p1, 5, count_task, &c);
    coop_pool_free(p1);
    ok = 1;
    for (int i = 0; i < 5; i++) ok &= hits[i] == 2;
    tu_check(ok && coop_pool_threads(NULL) == 1, "pool: NULL pool and 1-thread pool run serially");
    free(hits);
    coop_pool_free(p);
}

/* the activations (forward and derivative) against double precision, with each kernel's
   implementation (AVX-512: own exp / erfc; others: libm), over [-30, 30] and a few extremes */
static void act_tests(void) {
    static const char *kern[] = {"avx512", "avx2", "portable"};
    enum { N = 60001 };
    float *x = (float *)malloc(sizeof(float) * (N + 8)), *y = (float *)malloc(sizeof(float) * (N + 8));
    float *pre = (float *)malloc(sizeof(float) * (N + 8)), *d = (float *)malloc(sizeof(float) * (N + 8));
    const float extra[8] = {0.0f, -0.0f, 1e-30f, -1e-30f, 100.0f, -100.0f, 1e30f, -1e30f};
    for (int i = 0; i < N; i++) x[i] = -30.0f + 60.0f * (float)i / (N - 1);
    memcpy(x + N, extra, sizeof extra);
    const int n = N + 8;
    for (int k = 0; k < 3; k++) {
        coop_gemm_force_kernel(kern[k]);
        if (strcmp(coop_gemm_kernel_name(), kern[k])) continue;
        for (int act = 0; act < 2; act++) {
            double ef = 0, eb = 0, af = 0, ab = 0;   /* relative where |value| >= 1e-3; absolute */
            int finite = 1;
            memcpy(y, x, sizeof(float) * n);
            act_forward(y, pre, (size_t)n, act);
            for (int i = 0; i < n; i++) d[i] = 1.0f;
            act_backward(d, pre, (size_t)n, act);
            for (int i = 0; i < n; i++) {
                double v = x[i], f, g;
                if (act == COOP_ACT_QUICK_GELU) {
                    double sg = 1.0 / (1.0 + exp(-1.702 * v));
                    f = v * sg; g = sg * (1.0 + 1.702 * v * (1.0 - sg));
                } else {
                    f = 0.5 * v * erfc(-v / sqrt(2.0));
                    g = 0.5 * erfc(-v / sqrt(2.0)) + v * exp(-0.5 * v * v) / sqrt(2.0 * 3.14159265358979323846);
                }
                finite = finite && isfinite(y[i]) && isfinite(d[i]) && pre[i] == x[i];
                if (fabs(v) > 1e20) continue;   /* +-1e30: finite is all that is asked */
                /* near its zeros a value is a difference of O(1) terms: there the absolute error
                   is what float can promise (libm's 1 + erff(x) cancels for x << 0 too) */
                double a1 = fabs(y[i] - f), a2 = fabs(d[i] - g);
                if (a1 > af) af = a1;
                if (a2 > ab) ab = a2;
                if (fabs(f) >= 1e-3 && a1 / fabs(f) > ef) ef = a1 / fabs(f);
                if (fabs(g) >= 1e-3 && a2 / fabs(g) > eb) eb = a2 / fabs(g);
            }
            char line[200];
            snprintf(line, sizeof line, "%s kernel, %s: forward rel %.2g abs %.2g, derivative rel %.2g abs %.2g, all finite",
                     kern[k], act == COOP_ACT_QUICK_GELU ? "QuickGELU" : "GELU", ef, af, eb, ab);
            tu_check(finite && ef < 1e-4 && eb < 1e-4 && af < 2e-6 && ab < 2e-6, line);
        }
        /* the split into rows must not change any value (the tail goes through a mask) */
        memcpy(y, x, sizeof(float) * n);
        act_forward(y, NULL, (size_t)n, COOP_ACT_GELU);
        memcpy(d, x, sizeof(float) * n);
        for (int i = 0; i < n; i += 7) act_forward(d + i, NULL, (size_t)(n - i < 7 ? n - i : 7), COOP_ACT_GELU);
        char line[120];
        snprintf(line, sizeof line, "%s kernel: activations in pieces of 7 == in one piece (bit-identical)", kern[k]);
        tu_check(!memcmp(y, d, sizeof(float) * n), line);
    }
    coop_gemm_force_kernel(NULL);
    free(x); free(y); free(pre); free(d);
}

int main(void) {
    static const int shapes[][3] = {   /* M, N, K */
        /* short (column tasks) */
        {1, 1, 1}, {1, 1, 0}, {0, 5, 5}, {1, 7, 3}, {3, 1, 5}, {5, 33, 17}, {7, 31, 64}, {8, 32, 32},
        {9, 65, 100}, {13, 64, 1}, {14, 96, 129}, {15, 95, 257}, {16, 33, 300}, {20, 512, 77},
        {50, 100, 513}, {77, 70, 769}, {33, 40, 1600}, {100, 130, 64}, {129, 257, 31}, {168, 47, 40},
        /* tall (B packed once, row tasks) */
        {169, 33, 20}, {183, 65, 100}, {200, 17, 777}, {260, 100, 64}, {190, 31, 1537},
    };
    coop_pool *pools[2] = {coop_pool_create(1), coop_pool_create(2)};
    char line[200];
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int v = 0; v < 8; v++)   /* transb x bias x beta; the padding of strides varies */
            run_case(pools, v & 1, shapes[s][0], shapes[s][1], shapes[s][2], (int)((s + v) % 3) * 5,
                     (v >> 1) & 1, (v >> 2) & 1 ? 1.0f : 0.0f);
    /* one big tall and one big short product (several row / column tasks per thread) */
    run_case(pools, 1, 1001, 100, 100, 0, 1, 0.0f);
    run_case(pools, 0, 60, 700, 300, 3, 0, 1.0f);
    for (int kk = 0; kk < NK; kk++) {
        coop_gemm_force_kernel(kernels[kk]);
        if (strcmp(coop_gemm_kernel_name(), kernels[kk])) {
            printf("  kernel %s: not available on this CPU, skipped\n", kernels[kk]);
            continue;
        }
        for (int th = 0; th < 2; th++) {
            stats *s = &st[kk][th];
            snprintf(line, sizeof line, "%s %d thread(s), %d cases: max rel %.3g, repeats differ %d%s", kernels[kk],
                     th + 1, s->cases, s->worst, s->nondet, th ? ", differ from 1 thread" : "");
            if (th) snprintf(line + strlen(line), sizeof line - strlen(line), " %d", s->thread_diff);
            snprintf(line + strlen(line), sizeof line - strlen(line), ", prepacked (+relu) differ %d", s->packed_diff);
            tu_check(s->cases > 0 && s->worst <= 1e-5 && s->nondet == 0 && s->thread_diff == 0 && s->packed_diff == 0, line);
        }
        row_independence(pools[1]);
    }
    coop_gemm_force_kernel(NULL);
    if (!gemm__bf16_ok()) printf("  bf16 products: no AVX-512 BF16 on this CPU, skipped\n");
    else
        for (int th = 0; th < 2; th++) {
            stats *s = &stbf[th];
            snprintf(line, sizeof line, "bf16 %d thread(s), %d cases: max rel %.3g vs bf16-rounded operands%s %d", th + 1,
                     s->cases, s->worst, th ? ", differ from 1 thread" : "", s->thread_diff);
            tu_check(s->cases > 0 && s->worst <= 1e-5 && s->thread_diff == 0, line);
        }
    {
        coop_pool *pn = coop_pool_create(2);
        float *A = frand_n(8 * 500), *B = frand_n(40 * 50);
        float *C = (float *)malloc(sizeof(float) * 8 * 400), *R = (float *)malloc(sizeof(float) * 8 * 400);
        nest_ctx nc = {A, B, C};
        coop_pool_run(pn, 8, nest_task, &nc);
        coop_gemm_ref(1, 80, 40, 50, A, 50, B, 50, NULL, 0, R, 40);
        tu_compare("gemm inside pool tasks (8 tasks of 10x40x50)", C, R, 80 * 40, 40, 1e-5, 0.99999);
        coop_pool_free(pn);
        free(A); free(B); free(C); free(R);
    }
    pool_tests();
    act_tests();
    printf("  default kernel: %s\n", coop_gemm_kernel_name());
    coop_pool_free(pools[0]);
    coop_pool_free(pools[1]);
    return tu_done("test_gemm");
}
