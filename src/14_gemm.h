/* ===================================================================================== */
/* Matrix multiply: C[M,N] = beta*C + A[M,K] op(B) (+ bias)                               */
/* ===================================================================================== */
/* Blocking (GotoBLAS style, sized for ~32-48 KB L1D and >= 512 KB L2 per core):
     - B is packed once per call into panels of GEMM_NR = 32 columns, k-major: panel p is
       [K][32] contiguous, zero-padded past column N. Packing is split over the pool by panel.
     - Each task owns a block of rows x a block of panels of C (never a range of K, so the
       summation order of every element is independent of the thread count and schedule).
     - Inside a task K is walked in blocks of GEMM_KC, rows in blocks of GEMM_MC: the A block
       is packed into micro-panels [KC][MR] (zero-padded past row M, per-thread buffer, stays
       in L2) and each B micro-panel [KC][32] of the task is run against all of them.
     - The micro-kernel keeps an MR x 32 tile of C in registers: it loads the tile, adds
       sum_k a[k] * b[k] over the K block with FMAs in k order, and stores it back.
   Summation order of C[i,n] for every kernel: start from (beta ? C : 0) + bias[n], then add
   A[i,k] * B[k,n] for k = 0, 1, ..., K-1 one at a time. Results are therefore bit-identical
   for any thread count and any schedule with a given kernel; kernels differ only by FMA
   versus separate multiply-add rounding.
   Kernels: AVX-512 8x32 (16 zmm accumulators), AVX2+FMA 6x16 (12 ymm accumulators, run on
   each half of a 32-wide panel), and portable C 4x32. The SIMD ones are compiled with
   __attribute__((target)) and picked at run time, so no -march flag is needed. */
#define GEMM_NR 32
#define GEMM_KC 768   /* measured on the 2-vCPU Zen 5: 768 beat 256/384/512 (C tile reloads cost more than L2 misses) */
#define GEMM_MRMAX 16
#define GEMM_MC 48    /* rows of A packed at a time: 48 x KC floats = 144 KB, stays in L2 */
#define GEMM_PCOLS 8   /* panels per task at most: 256 columns, a KC x 256 B block = 256 KB */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_X86 1
#include <immintrin.h>
#else
#define GEMM_X86 0
#endif

/* C[mr x 32] (+)= A_packed[kc][mr] * B_panel[kc][32]; c has row stride ldc, full tile only */
typedef void (*gemm__kern_fn)(int kc, const float *a, const float *b, float *c, int ldc);

/* ---- portable kernel: 4 x 32, plain C (auto-vectorized where the compiler can) -------- */
static void gemm__kern_portable(int kc, const float *a, const float *b, float *c, int ldc) {
    float acc[4][GEMM_NR];
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < GEMM_NR; q++) acc[r][q] = c[(size_t)r * ldc + q];
    for (int k = 0; k < kc; k++) {
        const float *bk = b + (size_t)k * GEMM_NR, *ak = a + (size_t)k * 4;
        for (int r = 0; r < 4; r++)
            for (int q = 0; q < GEMM_NR; q++) acc[r][q] += ak[r] * bk[q];
    }
    for (int r = 0; r < 4; r++)
        for (int q = 0; q < GEMM_NR; q++) c[(size_t)r * ldc + q] = acc[r][q];
}

#if GEMM_X86
/* ---- AVX2 + FMA: 6 x 16 on each half of the panel (12 accumulators + 2 temporaries) --- */
__attribute__((target("avx2,fma")))
static void gemm__kern_avx2(int kc, const float *a, const float *b, float *c, int ldc) {
    for (int h = 0; h < GEMM_NR; h += 16) {
        __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        float *cp = c + h;
        size_t l = (size_t)ldc;
        c00 = _mm256_loadu_ps(cp);         c01 = _mm256_loadu_ps(cp + 8);
        c10 = _mm256_loadu_ps(cp + l);     c11 = _mm256_loadu_ps(cp + l + 8);
        c20 = _mm256_loadu_ps(cp + 2 * l); c21 = _mm256_loadu_ps(cp + 2 * l + 8);
        c30 = _mm256_loadu_ps(cp + 3 * l); c31 = _mm256_loadu_ps(cp + 3 * l + 8);
        c40 = _mm256_loadu_ps(cp + 4 * l); c41 = _mm256_loadu_ps(cp + 4 * l + 8);
        c50 = _mm256_loadu_ps(cp + 5 * l); c51 = _mm256_loadu_ps(cp + 5 * l + 8);
        const float *bk = b + h, *ak = a;
        for (int k = 0; k < kc; k++, bk += GEMM_NR, ak += 6) {
            __m256 b0 = _mm256_loadu_ps(bk), b1 = _mm256_loadu_ps(bk + 8), av;
            av = _mm256_broadcast_ss(ak + 0); c00 = _mm256_fmadd_ps(av, b0, c00); c01 = _mm256_fmadd_ps(av, b1, c01);
            av = _mm256_broadcast_ss(ak + 1); c10 = _mm256_fmadd_ps(av, b0, c10); c11 = _mm256_fmadd_ps(av, b1, c11);
            av = _mm256_broadcast_ss(ak + 2); c20 = _mm256_fmadd_ps(av, b0, c20); c21 = _mm256_fmadd_ps(av, b1, c21);
            av = _mm256_broadcast_ss(ak + 3); c30 = _mm256_fmadd_ps(av, b0, c30); c31 = _mm256_fmadd_ps(av, b1, c31);
            av = _mm256_broadcast_ss(ak + 4); c40 = _mm256_fmadd_ps(av, b0, c40); c41 = _mm256_fmadd_ps(av, b1, c41);
            av = _mm256_broadcast_ss(ak + 5); c50 = _mm256_fmadd_ps(av, b0, c50); c51 = _mm256_fmadd_ps(av, b1, c51);
        }
        _mm256_storeu_ps(cp, c00);         _mm256_storeu_ps(cp + 8, c01);
        _mm256_storeu_ps(cp + l, c10);     _mm256_storeu_ps(cp + l + 8, c11);
        _mm256_storeu_ps(cp + 2 * l, c20); _mm256_storeu_ps(cp + 2 * l + 8, c21);
        _mm256_storeu_ps(cp + 3 * l, c30); _mm256_storeu_ps(cp + 3 * l + 8, c31);
        _mm256_storeu_ps(cp + 4 * l, c40); _mm256_storeu_ps(cp + 4 * l + 8, c41);
        _mm256_storeu_ps(cp + 5 * l, c50); _mm256_storeu_ps(cp + 5 * l + 8, c51);
    }
}

/* ---- AVX-512: 8 x 32 (16 zmm accumulators, 2 for the B row; A is broadcast from memory).
   14 x 32 measured no faster here and wastes more rows on short M (M = 5..20, 77). */
__attribute__((target("avx512f")))
static void gemm__kern_avx512(int kc, const float *a, const float *b, float *c, int ldc) {
    enum { MR = 8 };
    __m512 acc[MR][2];   /* fully unrolled below, so it lives in registers */
    for (int r = 0; r < MR; r++) {
        acc[r][0] = _mm512_loadu_ps(c + (size_t)r * ldc);
        acc[r][1] = _mm512_loadu_ps(c + (size_t)r * ldc + 16);
    }
    for (int k = 0; k < kc; k++, b += GEMM_NR, a += MR) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#if defined(__clang__)
#pragma unroll
#else
#pragma GCC unroll 8
#endif
        for (int r = 0; r < MR; r++) {
            __m512 av = _mm512_set1_ps(a[r]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < MR; r++) {
        _mm512_storeu_ps(c + (size_t)r * ldc, acc[r][0]);
        _mm512_storeu_ps(c + (size_t)r * ldc + 16, acc[r][1]);
    }
}
#endif

/* ---- kernel selection ------------------------------------------------------------------ */
typedef struct { const char *name; gemm__kern_fn fn; int mr; } gemm__kernel;
static const gemm__kernel gemm__kernels[] = {
#if GEMM_X86
    {"avx512", gemm__kern_avx512, 8},
    {"avx2", gemm__kern_avx2, 6},
#endif
    {"portable", gemm__kern_portable, 4},
};
enum { GEMM_NKERNELS = (int)(sizeof gemm__kernels / sizeof gemm__kernels[0]) };
static int gemm__forced = -1;   /* index into gemm__kernels, -1 = best available */

static int gemm__supported(int i) {
    (void)i;
#if GEMM_X86
    if (!strcmp(gemm__kernels[i].name, "avx512")) return __builtin_cpu_supports("avx512f");
    if (!strcmp(gemm__kernels[i].name, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 1;
}

static const gemm__kernel *gemm__pick(void) {
    if (gemm__forced >= 0) return &gemm__kernels[gemm__forced];
    for (int i = 0; i < GEMM_NKERNELS; i++)
        if (gemm__supported(i)) return &gemm__kernels[i];
    return &gemm__kernels[GEMM_NKERNELS - 1];
}

const char *coop_gemm_kernel_name(void) { return gemm__pick()->name; }

/* "avx512" / "avx2" / "portable" forces that kernel when the CPU has it (else it is ignored);
   NULL or "" goes back to automatic choice */
void coop_gemm_force_kernel(const char *name) {
    gemm__forced = -1;
    for (int i = 0; name && i < GEMM_NKERNELS; i++)
        if (!strcmp(name, gemm__kernels[i].name) && gemm__supported(i)) gemm__forced = i;
}

/* ---- per-thread packed-B buffer: grow-only, freed at thread exit by a pthread key ------ */
/* The thread that calls coop_gemm owns the buffer (pool workers may call coop_gemm from
   inside tasks, so they can own one too); the key destructor frees it when such a thread
   exits, and the thread-local cache keeps it reachable (no leak report) while it runs. */
static pthread_key_t gemm__key;
static pthread_once_t gemm__key_once = PTHREAD_ONCE_INIT;
static int gemm__key_ok;
typedef struct { float *p[2]; size_t cap[2]; } gemm__buf;   /* [0] packed B, [1] packed A */
static COOP_THREAD_LOCAL gemm__buf *gemm__tls;

static void gemm__buf_free(void *v) {
    gemm__buf *b = (gemm__buf *)v;
    if (b) { coop_free(b->p[0]); coop_free(b->p[1]); coop_free(b); }
}
static void gemm__key_init(void) { gemm__key_ok = pthread_key_create(&gemm__key, gemm__buf_free) == 0; }

static float *gemm__buf_get(int which, size_t n) {
    if (!gemm__tls) {
        pthread_once(&gemm__key_once, gemm__key_init);
        if (!gemm__key_ok) return NULL;
        gemm__tls = (gemm__buf *)calloc(1, sizeof(gemm__buf));
        if (!gemm__tls) return NULL;
        if (pthread_setspecific(gemm__key, gemm__tls)) { free(gemm__tls); gemm__tls = NULL; return NULL; }
    }
    if (n > gemm__tls->cap[which]) {
        coop_free(gemm__tls->p[which]);
        gemm__tls->p[which] = (float *)coop_malloc(n * sizeof(float));
        gemm__tls->cap[which] = gemm__tls->p[which] ? n : 0;
    }
    return gemm__tls->p[which];
}

/* ---- the job: pack B, then row-block x panel-block tasks ------------------------------- */
typedef struct {
    int transb, M, N, K, lda, ldb, ldc, npanels, rowblocks, colblocks, rows_per, pcols;
    const float *A, *B, *bias;
    float beta, *C, *Bp;
    const gemm__kernel *kern;
} gemm__job;

/* panel pnl: Bp[pnl][k][0..31] = op(B)[k][32*pnl + 0..31], zero past N */
static void gemm__pack_task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    for (int pnl = t; pnl < j->npanels; pnl += nt) {
        float *dst = j->Bp + (size_t)pnl * j->K * GEMM_NR;
        int j0 = pnl * GEMM_NR, w = j->N - j0 < GEMM_NR ? j->N - j0 : GEMM_NR;
        if (j->transb) {
            /* B is [N][K]: read each row of B contiguously, scatter into column jj */
            for (int jj = 0; jj < GEMM_NR; jj++) {
                const float *src = j->B + (size_t)(j0 + jj) * j->ldb;
                if (jj < w) for (int k = 0; k < j->K; k++) dst[(size_t)k * GEMM_NR + jj] = src[k];
                else for (int k = 0; k < j->K; k++) dst[(size_t)k * GEMM_NR + jj] = 0;
            }
        } else {
            for (int k = 0; k < j->K; k++) {
                float *d = dst + (size_t)k * GEMM_NR;
                const float *src = j->B + (size_t)k * j->ldb + j0;
                int jj = 0;
                for (; jj < w; jj++) d[jj] = src[jj];
                for (; jj < GEMM_NR; jj++) d[jj] = 0;
            }
        }
    }
}

/* fallback when the A buffer cannot be allocated: same start value, plain k-ascending sums */
static void gemm__task_ref(const gemm__job *j, int i0, int i1, int c0, int c1) {
    for (int i = i0; i < i1; i++)
        for (int n = c0; n < c1; n++) {
            float s = j->C[(size_t)i * j->ldc + n];
            const float *b = j->Bp + (size_t)(n / GEMM_NR) * j->K * GEMM_NR + n % GEMM_NR;
            for (int k = 0; k < j->K; k++) s += j->A[(size_t)i * j->lda + k] * b[(size_t)k * GEMM_NR];
            j->C[(size_t)i * j->ldc + n] = s;
        }
}

/* one task: rows [i0, i1) x panels [p0, p1) of C, all of K */
static void gemm__task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    (void)nt;
    const int mr = j->kern->mr;
    int rb = t % j->rowblocks, cb = t / j->rowblocks;
    int i0 = rb * j->rows_per, i1 = i0 + j->rows_per < j->M ? i0 + j->rows_per : j->M;
    int p0 = cb * j->pcols, p1 = p0 + j->pcols < j->npanels ? p0 + j->pcols : j->npanels;
    int c0 = p0 * GEMM_NR, c1 = p1 * GEMM_NR < j->N ? p1 * GEMM_NR : j->N;
    if (i0 >= i1) return;

    /* start value of every element: (beta ? C : 0) + bias */
    for (int i = i0; i < i1; i++) {
        float *c = j->C + (size_t)i * j->ldc;
        for (int n = c0; n < c1; n++) {
            float v = j->bias ? j->bias[n] : 0.0f;
            c[n] = j->beta != 0.0f ? c[n] + v : v;
        }
    }

    /* A block: up to GEMM_MC rows x KC, packed as micro-panels [rows/mr][kc][mr] (~140 KB,
       lives in L2 while the B micro-panels of the task pass through L1 one by one) */
    float *ap = gemm__buf_get(1, (size_t)GEMM_MC * GEMM_KC);
    float edge[GEMM_MRMAX * GEMM_NR];        /* C tile for partial tiles, row stride 32 */
    if (!ap) { gemm__task_ref(j, i0, i1, c0, c1); return; }
    const int mc = GEMM_MC / mr * mr;
    for (int k0 = 0; k0 < j->K; k0 += GEMM_KC) {
        int kc = j->K - k0 < GEMM_KC ? j->K - k0 : GEMM_KC;
        for (int ib = i0; ib < i1; ib += mc) {
            int ie = ib + mc < i1 ? ib + mc : i1;
            /* pack A[ib..ie, k0..k0+kc) to micro-panels [kc][mr]; rows past ie are zero */
            for (int i = ib; i < ie; i += mr) {
                float *dst = ap + (size_t)(i - ib) * kc;
                for (int r = 0; r < mr; r++) {
                    const float *src = j->A + (size_t)(i + r) * j->lda + k0;
                    if (i + r < ie) for (int k = 0; k < kc; k++) dst[k * mr + r] = src[k];
                    else for (int k = 0; k < kc; k++) dst[k * mr + r] = 0;
                }
            }
            /* each B micro-panel (kc x 32, 32 KB at kc=256) stays in L1 across the micro-rows */
            for (int pnl = p0; pnl < p1; pnl++) {
                const float *bp = j->Bp + ((size_t)pnl * j->K + k0) * GEMM_NR;
                int n0 = pnl * GEMM_NR, w = j->N - n0 < GEMM_NR ? j->N - n0 : GEMM_NR;
                for (int i = ib; i < ie; i += mr) {
                    int rows = ie - i < mr ? ie - i : mr;
                    const float *a = ap + (size_t)(i - ib) * kc;
                    float *c = j->C + (size_t)i * j->ldc + n0;
                    if (rows == mr && w == GEMM_NR) {
                        j->kern->fn(kc, a, bp, c, j->ldc);
                    } else {
                        /* partial tile: run the full kernel on a zero-padded copy */
                        memset(edge, 0, sizeof edge);
                        for (int r = 0; r < rows; r++) memcpy(edge + r * GEMM_NR, c + (size_t)r * j->ldc, (size_t)w * sizeof(float));
                        j->kern->fn(kc, a, bp, edge, GEMM_NR);
                        for (int r = 0; r < rows; r++) memcpy(c + (size_t)r * j->ldc, edge + r * GEMM_NR, (size_t)w * sizeof(float));
                    }
                }
            }
        }
    }
}

void coop_gemm(coop_pool *p, int transb, int M, int N, int K, const float *A, int lda,
               const float *B, int ldb, const float *bias, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    if (K < 0) K = 0;
    gemm__job j;
    memset(&j, 0, sizeof j);
    j.transb = transb; j.M = M; j.N = N; j.K = K; j.lda = lda; j.ldb = ldb; j.ldc = ldc;
    j.A = A; j.B = B; j.bias = bias; j.beta = beta; j.C = C;
    j.npanels = (N + GEMM_NR - 1) / GEMM_NR;
    j.kern = gemm__pick();
    const int mr = j.kern->mr;

    j.Bp = gemm__buf_get(0, (size_t)j.npanels * GEMM_NR * (size_t)(K > 0 ? K : 1));
    if (!j.Bp) { coop_gemm_ref(transb, M, N, K, A, lda, B, ldb, bias, beta, C, ldc); return; }
    int nth = coop_pool_threads(p);
    if (K > 0) coop_pool_run(p, j.npanels < nth ? j.npanels : nth, gemm__pack_task, &j);

    /* Tasks: want ~8 per thread so a thread slowed by other load does not hold up the call.
       Shrink the panel block first for short M (M = 5..77: one row block is all there is),
       then split rows. Examples on 2 threads: M=1600,N=3072 -> 12 col x 2 row blocks;
       M=77,N=512 -> 4 col x 4 row blocks (of 14 rows... capped by M/mr). */
    int want = nth > 1 ? 8 * nth : 1;
    int maxrb = (M + mr - 1) / mr;
    j.pcols = GEMM_PCOLS;
    while (j.pcols > 1 && ((j.npanels + j.pcols - 1) / j.pcols) * maxrb < want) j.pcols /= 2;
    j.colblocks = (j.npanels + j.pcols - 1) / j.pcols;
    j.rowblocks = (want + j.colblocks - 1) / j.colblocks;
    if (j.rowblocks > maxrb) j.rowblocks = maxrb;
    if (j.rowblocks < 1) j.rowblocks = 1;
    j.rows_per = (M + j.rowblocks - 1) / j.rowblocks;
    j.rows_per = (j.rows_per + mr - 1) / mr * mr;   /* whole micro-panels per task */
    j.rowblocks = (M + j.rows_per - 1) / j.rows_per;
    coop_pool_run(p, j.rowblocks * j.colblocks, gemm__task, &j);
}

void coop_gemm_ref(int transb, int M, int N, int K, const float *A, int lda, const float *B,
                   int ldb, const float *bias, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int n = 0; n < N; n++) {
            double s = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++)
                s += (double)A[(size_t)i * lda + k] * (transb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
            float *c = C + (size_t)i * ldc + n;
            *c = beta != 0.0f ? *c + (float)s : (float)s;
        }
}
