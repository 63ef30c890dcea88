/* ===================================================================================== */
/* Thread pool: workers sleep on a condition variable; the caller takes part              */
/* ===================================================================================== */
#include <pthread.h>

struct coop_pool {
    int n;                           /* threads including the caller */
    pthread_t *th;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    coop_task_fn fn;
    void *ctx;
    int ntasks, next, running, gen, quit;
};

/* takes tasks until none are left (tasks are claimed under the lock: cheap next to a task) */
static void pool__drain(coop_pool *p) {
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int t = p->next < p->ntasks ? p->next++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (t < 0) return;
        p->fn(p->ctx, t, p->ntasks);
    }
}

static void *pool__worker(void *arg) {
    coop_pool *p = (coop_pool *)arg;
    int seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        pool__drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0) pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

coop_pool *coop_pool_create(int nthreads) {
    if (nthreads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = c > 0 ? (int)c : 1;
    }
    if (nthreads > 256) nthreads = 256;
    coop_pool *p = (coop_pool *)calloc(1, sizeof *p);
    if (!p) { coop_set_error("out of memory"); return NULL; }
    p->n = nthreads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    p->th = (pthread_t *)calloc((size_t)nthreads, sizeof(pthread_t));
    for (int i = 1; p->th && i < nthreads; i++)
        if (pthread_create(&p->th[i], NULL, pool__worker, p) != 0) { p->n = i; break; }
    return p;
}

void coop_pool_free(coop_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->th);
    free(p);
}

int coop_pool_threads(const coop_pool *p) { return p ? p->n : 1; }

void coop_pool_run(coop_pool *p, int ntasks, coop_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    if (!p || p->n == 1 || ntasks == 1) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn; p->ctx = ctx; p->ntasks = ntasks; p->next = 0;
    p->running = p->n - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    pool__drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->running) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

