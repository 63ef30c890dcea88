/* ===================================================================================== */
/* Matrix multiply: C[M,N] = beta*C + A[M,K] op(B) (+ bias)                               */
/* ===================================================================================== */
/* B is packed into panels of GEMM_NR columns, k-major ([K][NR], zero-padded at the right
   edge), so the micro-kernel streams one contiguous panel while it keeps a GEMM_MR x GEMM_NR
   block of C in registers. GCC/Clang vector extensions give AVX-512 code under
   -march=native on such machines and plain SSE/NEON elsewhere; the scalar path has the same
   summation order per element (k ascending), so all paths agree to rounding. */
#define GEMM_MR 6
#define GEMM_NR 32
#if defined(__GNUC__) || defined(__clang__)
typedef float gemm_v16 __attribute__((vector_size(64)));
#define GEMM_VEC 1
#endif

static COOP_THREAD_LOCAL float *gemm__pack;
static COOP_THREAD_LOCAL size_t gemm__pack_cap;
static int gemm__force_portable;

typedef struct {
    int transb, M, N, K, lda, ldb, ldc, npanels, rowblocks;
    const float *A, *B, *bias;
    float beta, *C, *Bp;
} gemm__job;

static void gemm__pack_task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    for (int pnl = t; pnl < j->npanels; pnl += nt) {
        float *dst = j->Bp + (size_t)pnl * j->K * GEMM_NR;
        int j0 = pnl * GEMM_NR, w = j->N - j0 < GEMM_NR ? j->N - j0 : GEMM_NR;
        for (int k = 0; k < j->K; k++) {
            float *d = dst + (size_t)k * GEMM_NR;
            int jj = 0;
            if (j->transb) for (; jj < w; jj++) d[jj] = j->B[(size_t)(j0 + jj) * j->ldb + k];
            else for (; jj < w; jj++) d[jj] = j->B[(size_t)k * j->ldb + j0 + jj];
            for (; jj < GEMM_NR; jj++) d[jj] = 0;
        }
    }
}

/* rows i0..i0+mr (mr <= MR) of C against one packed panel */
static void gemm__micro(const gemm__job *j, int i0, int mr, int pnl) {
    const float *bp = j->Bp + (size_t)pnl * j->K * GEMM_NR;
    int j0 = pnl * GEMM_NR, w = j->N - j0 < GEMM_NR ? j->N - j0 : GEMM_NR;
    float acc[GEMM_MR][GEMM_NR];
#if GEMM_VEC
    if (!gemm__force_portable && mr == GEMM_MR) {
        gemm_v16 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0},
                 c30 = {0}, c31 = {0}, c40 = {0}, c41 = {0}, c50 = {0}, c51 = {0};
        const float *a = j->A + (size_t)i0 * j->lda;
        size_t l = (size_t)j->lda;
        for (int k = 0; k < j->K; k++) {
            gemm_v16 b0, b1;
            memcpy(&b0, bp + (size_t)k * GEMM_NR, 64);
            memcpy(&b1, bp + (size_t)k * GEMM_NR + 16, 64);
            float a0 = a[k], a1 = a[l + k], a2 = a[2 * l + k], a3 = a[3 * l + k], a4 = a[4 * l + k], a5 = a[5 * l + k];
            c00 += a0 * b0; c01 += a0 * b1; c10 += a1 * b0; c11 += a1 * b1;
            c20 += a2 * b0; c21 += a2 * b1; c30 += a3 * b0; c31 += a3 * b1;
            c40 += a4 * b0; c41 += a4 * b1; c50 += a5 * b0; c51 += a5 * b1;
        }
        memcpy(acc[0], &c00, 64); memcpy(acc[0] + 16, &c01, 64);
        memcpy(acc[1], &c10, 64); memcpy(acc[1] + 16, &c11, 64);
        memcpy(acc[2], &c20, 64); memcpy(acc[2] + 16, &c21, 64);
        memcpy(acc[3], &c30, 64); memcpy(acc[3] + 16, &c31, 64);
        memcpy(acc[4], &c40, 64); memcpy(acc[4] + 16, &c41, 64);
        memcpy(acc[5], &c50, 64); memcpy(acc[5] + 16, &c51, 64);
    } else
#endif
    {
        for (int r = 0; r < mr; r++) {
            const float *a = j->A + (size_t)(i0 + r) * j->lda;
            for (int c = 0; c < GEMM_NR; c++) acc[r][c] = 0;
            for (int k = 0; k < j->K; k++) {
                float av = a[k];
                const float *b = bp + (size_t)k * GEMM_NR;
                for (int c = 0; c < GEMM_NR; c++) acc[r][c] += av * b[c];
            }
        }
    }
    for (int r = 0; r < mr; r++) {
        float *c = j->C + (size_t)(i0 + r) * j->ldc + j0;
        for (int q = 0; q < w; q++) {
            float v = acc[r][q] + (j->bias ? j->bias[j0 + q] : 0.0f);
            c[q] = j->beta != 0.0f ? c[q] + v : v;
        }
    }
}

/* one task: a block of rows against a range of panels */
static void gemm__task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    (void)nt;
    int rb = t % j->rowblocks, cb = t / j->rowblocks;
    int rows_per = (j->M + j->rowblocks - 1) / j->rowblocks;
    rows_per = (rows_per + GEMM_MR - 1) / GEMM_MR * GEMM_MR;
    int i_begin = rb * rows_per, i_end = i_begin + rows_per < j->M ? i_begin + rows_per : j->M;
    int pcols = 8;   /* panels per task */
    int p_begin = cb * pcols, p_end = p_begin + pcols < j->npanels ? p_begin + pcols : j->npanels;
    for (int pnl = p_begin; pnl < p_end; pnl++)
        for (int i = i_begin; i < i_end; i += GEMM_MR)
            gemm__micro(j, i, i_end - i < GEMM_MR ? i_end - i : GEMM_MR, pnl);
}

void coop_gemm(coop_pool *p, int transb, int M, int N, int K, const float *A, int lda,
               const float *B, int ldb, const float *bias, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    gemm__job j = {transb, M, N, K, lda, ldb, ldc, (N + GEMM_NR - 1) / GEMM_NR, 1, A, B, bias, beta, C, NULL};
    size_t need = (size_t)j.npanels * GEMM_NR * (size_t)(K > 0 ? K : 1);
    if (need > gemm__pack_cap) {
        coop_free(gemm__pack);
        gemm__pack = (float *)coop_malloc(need * sizeof(float));
        gemm__pack_cap = gemm__pack ? need : 0;
        if (!gemm__pack) { coop_gemm_ref(transb, M, N, K, A, lda, B, ldb, bias, beta, C, ldc); return; }
    }
    j.Bp = gemm__pack;
    int nth = coop_pool_threads(p);
    coop_pool_run(p, j.npanels < nth ? j.npanels : nth, gemm__pack_task, &j);
    /* enough tasks for the threads, each a block of rows against a range of 8 panels */
    int colblocks = (j.npanels + 7) / 8;
    int want = 4 * nth;
    j.rowblocks = colblocks >= want ? 1 : (want + colblocks - 1) / colblocks;
    int maxrb = (M + GEMM_MR - 1) / GEMM_MR;
    if (j.rowblocks > maxrb) j.rowblocks = maxrb;
    coop_pool_run(p, j.rowblocks * colblocks, gemm__task, &j);
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

const char *coop_gemm_kernel_name(void) {
#if GEMM_VEC && defined(__AVX512F__)
    if (!gemm__force_portable) return "avx512";
#elif GEMM_VEC && defined(__AVX2__)
    if (!gemm__force_portable) return "avx2";
#endif
    return "portable";
}

void coop_gemm_force_kernel(const char *name) { gemm__force_portable = name && !strcmp(name, "portable"); }
