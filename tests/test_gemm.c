/* coop_gemm: every kernel the CPU has (avx512 / avx2 / portable) against coop_gemm_ref on
   awkward shapes (1s, odd sizes, edges of the 8/6/4 x 32 tiles, K past one K block),
   padded strides, transb 0/1, bias, beta 0/1, on 1 and 2 threads; plus bit-identical repeats
   and 1-vs-2-thread agreement. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "tests/testutil.h"

static uint32_t rng = 12345;
static float frand(void) { rng = rng * 1664525u + 1013904223u; return (float)((rng >> 8) & 0xffff) / 32768.0f - 1.0f; }

/* one shape: returns worst rel diff vs the reference, and checks repeat determinism */
static double run_shape(coop_pool *p, int transb, int M, int N, int K, int pad, int use_bias, float beta,
                        int *nondet) {
    int lda = K + pad, ldb = (transb ? K : N) + pad, ldc = N + pad;
    size_t nb = transb ? (size_t)N * ldb : (size_t)(K > 0 ? K : 1) * ldb;
    float *A = malloc(sizeof(float) * ((size_t)M * lda + 1)), *B = malloc(sizeof(float) * (nb + 1));
    float *bias = malloc(sizeof(float) * N), *C0 = malloc(sizeof(float) * (size_t)M * ldc);
    float *C = malloc(sizeof(float) * (size_t)M * ldc), *R = malloc(sizeof(float) * (size_t)M * ldc);
    float *C2 = malloc(sizeof(float) * (size_t)M * ldc);
    for (size_t i = 0; i < (size_t)M * lda; i++) A[i] = frand();
    for (size_t i = 0; i < nb; i++) B[i] = frand();
    for (int i = 0; i < N; i++) bias[i] = frand();
    for (size_t i = 0; i < (size_t)M * ldc; i++) C0[i] = frand();
    memcpy(C, C0, sizeof(float) * (size_t)M * ldc);
    memcpy(R, C0, sizeof(float) * (size_t)M * ldc);
    memcpy(C2, C0, sizeof(float) * (size_t)M * ldc);
    const float *bb = use_bias ? bias : NULL;
    coop_gemm(p, transb, M, N, K, A, lda, B, ldb, bb, beta, C, ldc);
    coop_gemm(p, transb, M, N, K, A, lda, B, ldb, bb, beta, C2, ldc);
    coop_gemm_ref(transb, M, N, K, A, lda, B, ldb, bb, beta, R, ldc);
    double maxabs = 0, scale = 0;
    for (int i = 0; i < M; i++)
        for (int n = 0; n < ldc; n++) {
            size_t o = (size_t)i * ldc + n;
            if (n >= N) { if (C[o] != C0[o]) maxabs = INFINITY; continue; }   /* padding untouched */
            double d = fabs((double)C[o] - R[o]);
            if (!(d <= maxabs)) maxabs = d;
            if (fabs(R[o]) > scale) scale = fabs(R[o]);
        }
    if (memcmp(C, C2, sizeof(float) * (size_t)M * ldc)) (*nondet)++;
    free(A); free(B); free(bias); free(C0); free(C); free(R); free(C2);
    return maxabs / (scale > 0 ? scale : 1);
}

/* coop_gemm called from inside pool tasks (as the towers do per head/sample): the worker
   threads then own packed-B buffers, which must be freed at thread exit (ASan leak check) */
typedef struct { const float *A, *B; float *C; } nest_ctx;
static void nest_task(void *arg, int t, int nt) {
    nest_ctx *c = (nest_ctx *)arg;
    (void)nt;
    coop_gemm(NULL, 1, 10, 40, 50, c->A + (size_t)t * 500, 50, c->B, 50, NULL, 0, c->C + (size_t)t * 400, 40);
}

int main(void) {
    static const int shapes[][3] = {   /* M, N, K */
        {1, 1, 1}, {1, 1, 0}, {1, 7, 3}, {3, 1, 5}, {5, 33, 17}, {7, 31, 64}, {8, 32, 32}, {9, 65, 100},
        {13, 64, 1}, {14, 96, 129}, {15, 95, 257}, {16, 33, 300}, {20, 512, 77}, {50, 100, 513},
        {77, 70, 769}, {33, 40, 1600}, {100, 130, 64}, {129, 257, 31},
    };
    const char *kernels[] = {"avx512", "avx2", "portable"};
    coop_pool *p1 = coop_pool_create(1), *p2 = coop_pool_create(2);
    char line[200];
    for (int kk = 0; kk < 3; kk++) {
        coop_gemm_force_kernel(kernels[kk]);
        if (strcmp(coop_gemm_kernel_name(), kernels[kk])) { printf("  kernel %s: not available on this CPU, skipped\n", kernels[kk]); continue; }
        for (int th = 1; th <= 2; th++) {
            double worst = 0; int nondet = 0, n = 0;
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int v = 0; v < 8; v++) {   /* transb x bias x beta, pad alternates */
                    int transb = v & 1, use_bias = (v >> 1) & 1;
                    float beta = (v >> 2) & 1 ? 1.0f : 0.0f;
                    double r = run_shape(th == 1 ? p1 : p2, transb, shapes[s][0], shapes[s][1], shapes[s][2],
                                         (int)((s + v) % 3) * 5, use_bias, beta, &nondet);
                    if (!(r <= worst)) worst = r;
                    n++;
                }
            snprintf(line, sizeof line, "%s %d thread(s), %d cases: max rel %.3g, repeats differ %d", kernels[kk], th, n, worst, nondet);
            tu_check(worst <= 1e-5 && nondet == 0, line);
        }
        /* 1 vs 2 threads on a tall and a short shape: same kernel, same sum order -> identical */
        int shp[2][3] = {{300, 200, 900}, {13, 520, 96}};
        for (int s = 0; s < 2; s++) {
            int M = shp[s][0], N = shp[s][1], K = shp[s][2];
            float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K);
            float *Ca = malloc(sizeof(float) * M * N), *Cb = malloc(sizeof(float) * M * N);
            for (int i = 0; i < M * K; i++) A[i] = frand();
            for (int i = 0; i < N * K; i++) B[i] = frand();
            coop_gemm(p1, 1, M, N, K, A, K, B, K, NULL, 0, Ca, N);
            coop_gemm(p2, 1, M, N, K, A, K, B, K, NULL, 0, Cb, N);
            snprintf(line, sizeof line, "%s M=%d N=%d K=%d: 1 vs 2 threads", kernels[kk], M, N, K);
            tu_compare(line, Cb, Ca, (int64_t)M * N, N, 1e-6, 0.99999);
            free(A); free(B); free(Ca); free(Cb);
        }
    }
    coop_gemm_force_kernel(NULL);
    {
        coop_pool *pn = coop_pool_create(2);
        float *A = malloc(sizeof(float) * 8 * 500), *B = malloc(sizeof(float) * 40 * 50);
        float *C = malloc(sizeof(float) * 8 * 400), *R = malloc(sizeof(float) * 8 * 400);
        for (int i = 0; i < 8 * 500; i++) A[i] = frand();
        for (int i = 0; i < 40 * 50; i++) B[i] = frand();
        nest_ctx nc = {A, B, C};
        coop_pool_run(pn, 8, nest_task, &nc);
        coop_gemm_ref(1, 80, 40, 50, A, 50, B, 50, NULL, 0, R, 40);
        tu_compare("gemm inside pool tasks (8 tasks of 10x40x50)", C, R, 80 * 40, 40, 1e-5, 0.99999);
        coop_pool_free(pn);
        free(A); free(B); free(C); free(R);
    }
    printf("  default kernel: %s\n", coop_gemm_kernel_name());
    coop_pool_free(p1);
    coop_pool_free(p2);
    return tu_done("test_gemm");
}
