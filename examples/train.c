/* train: CoOp few-shot training on a frozen OpenCLIP / CLIP model (the report's train.py).

   build/train DATA -m MODEL --shots K [options]

   DATA: a CoOp dataset folder (e.g. caltech-101/ with 101_ObjectCategories/ and
   split_zhou_Caltech101.json, or its parent), a split .json, a folder with train/ and test/
   class folders, or one folder of class folders (split 50/20/30 per class with --split-seed).

   Recipe defaults are CoOp's (Caltech-101): n_ctx 16, class token at the end, shared context,
   SGD lr 0.002 momentum 0.9 weight decay 5e-4, batch 32 (drop_last when the set is at least a
   batch), cosine schedule over the epochs after one constant warm-up epoch at 1e-5, epochs by
   shots (1: 50, 2-4: 100, else 200), random-resized-crop + flip, seeds 1 2 3.

   For each seed, OUTPUT/<tag>/seed<S>/ gets: fewshot.json (the sampled split, CoOp format),
   ctx.npy (learned context), head.npy (class text features for classify), loss.csv, result.txt,
   and checkpoint.bin (written atomically after every epoch; --resume continues from it).
   <tag> = open_clip_<model>_<pretrained>_<shots>, e.g. open_clip_vit_b_32_openai_16. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

typedef struct {
    const char *data, *model, *output, *ctx_init, *init_ctx, *save_ctx, *loss_log;
    int shots, n_ctx, ctp, csc, epochs, batch, warmup, cosine, augment, threads, resume, allow_missing, bf16;
    float lr, momentum, wd, warmup_lr;
    uint64_t seeds[64], split_seed;
    int nseeds;
} args;

static void usage(void) {
    fprintf(stderr,
        "usage: train DATA -m MODEL --shots K [options]\n"
        "  --seed S            run seed S (repeatable; default 1 2 3)\n"
        "  --n-ctx M           context vectors (16)         --ctp end|middle|front (end)\n"
        "  --csc               class-specific context       --ctx-init \"a photo of a\"\n"
        "  --epochs E          (by shots: 1 -> 50, 2/4 -> 100, else 200)\n"
        "  --batch-size B      (32; 0 = whole training set)\n"
        "  --lr X (0.002)  --momentum X (0.9)  --weight-decay X (5e-4)\n"
        "  --warmup-epochs W (1)  --warmup-lr X (1e-5)  --sched cosine|constant (cosine)\n"
        "  --no-augment        test-time preprocessing for training images (features computed once)\n"
        "  --init-ctx F.npy    start from this context      --save-ctx F.npy  also save it here\n"
        "  --loss-log F.csv    step,loss per step           --threads N (all cores)\n"
        "  --output DIR        (output)                     --resume  continue from checkpoints\n"
        "  --split-seed S      split of a plain class-folder set (1)\n"
        "  --allow-missing     drop listed images that do not exist (counted) instead of stopping\n"
        "  --bf16              image tower in bf16 compute (AVX-512 BF16): ~2x faster encoding, features\n"
        "                      within bf16 rounding of fp32; the text tower and its backward stay fp32\n");
    exit(2);
}

static int parse(int argc, char **argv, args *a) {
    memset(a, 0, sizeof *a);
    a->output = "output"; a->n_ctx = 16; a->batch = 32; a->warmup = 1; a->cosine = 1; a->augment = 1;
    a->lr = 0.002f; a->momentum = 0.9f; a->wd = 5e-4f; a->warmup_lr = 1e-5f; a->epochs = -1; a->shots = -1;
    a->split_seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL() do { if (!v) { fprintf(stderr, "train: %s needs a value\n", o); usage(); } i++; } while (0)
        if (!strcmp(o, "-m") || !strcmp(o, "--model")) { VAL(); a->model = v; }
        else if (!strcmp(o, "--shots")) { VAL(); a->shots = atoi(v); }
        else if (!strcmp(o, "--seed")) { VAL(); if (a->nseeds < 64) a->seeds[a->nseeds++] = strtoull(v, NULL, 10); }
        else if (!strcmp(o, "--n-ctx")) { VAL(); a->n_ctx = atoi(v); }
        else if (!strcmp(o, "--ctp")) {
            VAL();
            if (!strcmp(v, "end")) a->ctp = COOP_CTP_END;
            else if (!strcmp(v, "middle")) a->ctp = COOP_CTP_MIDDLE;
            else if (!strcmp(v, "front")) a->ctp = COOP_CTP_FRONT;
            else { fprintf(stderr, "train: --ctp must be end, middle or front\n"); return -1; }
        }
        else if (!strcmp(o, "--csc")) a->csc = 1;
        else if (!strcmp(o, "--ctx-init")) { VAL(); a->ctx_init = v; }
        else if (!strcmp(o, "--epochs")) { VAL(); a->epochs = atoi(v); }
        else if (!strcmp(o, "--batch-size")) { VAL(); a->batch = atoi(v); }
        else if (!strcmp(o, "--lr")) { VAL(); a->lr = strtof(v, NULL); }
        else if (!strcmp(o, "--momentum")) { VAL(); a->momentum = strtof(v, NULL); }
        else if (!strcmp(o, "--weight-decay")) { VAL(); a->wd = strtof(v, NULL); }
        else if (!strcmp(o, "--warmup-epochs")) { VAL(); a->warmup = atoi(v); }
        else if (!strcmp(o, "--warmup-lr")) { VAL(); a->warmup_lr = strtof(v, NULL); }
        else if (!strcmp(o, "--sched")) {
            VAL();
            if (!strcmp(v, "cosine")) a->cosine = 1;
            else if (!strcmp(v, "constant")) a->cosine = 0;
            else { fprintf(stderr, "train: --sched must be cosine or constant\n"); return -1; }
        }
        else if (!strcmp(o, "--no-augment")) a->augment = 0;
        else if (!strcmp(o, "--init-ctx")) { VAL(); a->init_ctx = v; }
        else if (!strcmp(o, "--save-ctx")) { VAL(); a->save_ctx = v; }
        else if (!strcmp(o, "--loss-log")) { VAL(); a->loss_log = v; }
        else if (!strcmp(o, "--threads")) { VAL(); a->threads = atoi(v); }
        else if (!strcmp(o, "--bf16")) a->bf16 = 1;
        else if (!strcmp(o, "--output") || !strcmp(o, "-o")) { VAL(); a->output = v; }
        else if (!strcmp(o, "--resume")) a->resume = 1;
        else if (!strcmp(o, "--split-seed")) { VAL(); a->split_seed = strtoull(v, NULL, 10); }
        else if (!strcmp(o, "--allow-missing")) a->allow_missing = 1;
        else if (!strcmp(o, "-h") || !strcmp(o, "--help")) usage();
        else if (o[0] == '-') { fprintf(stderr, "train: unknown option %s\n", o); usage(); }
        else if (!a->data) a->data = o;
        else { fprintf(stderr, "train: unexpected argument %s\n", o); usage(); }
#undef VAL
    }
    if (!a->data || !a->model || a->shots < 0) usage();
    if (a->batch < 0 || a->warmup < 0 || a->n_ctx < 1 || a->threads < 0) { fprintf(stderr, "train: bad numeric option\n"); return -1; }
    if (a->epochs < 0) a->epochs = a->shots == 1 ? 50 : (a->shots == 2 || a->shots == 4) ? 100 : 200;
    if (!a->nseeds) { a->nseeds = 3; a->seeds[0] = 1; a->seeds[1] = 2; a->seeds[2] = 3; }
    return 0;
}

static int mkdirs(const char *path) {
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *q = p + 1; ; q++) {
        if (*q == '/' || !*q) {
            char c = *q;
            *q = 0;
            if (mkdir(p, 0755) && errno != EEXIST) { fprintf(stderr, "train: cannot create %s: %s\n", p, strerror(errno)); return -1; }
            *q = c;
            if (!c) break;
        }
    }
    return 0;
}

/* lower-case, anything but [a-z0-9] -> '_' (the report's naming scheme) */
static void slug(const char *s, char *out, size_t cap) {
    size_t o = 0;
    for (; *s && o + 1 < cap; s++) {
        char c = *s;
        out[o++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    out[o] = 0;
}

/* FILE.ext -> FILE_seedS.ext when several seeds write to one user-given path */
static void per_seed(const char *path, uint64_t seed, int many, char *out, size_t cap) {
    if (!many) { snprintf(out, cap, "%s", path); return; }
    const char *dot = strrchr(path, '.'), *sl = strrchr(path, '/');
    if (!dot || (sl && dot < sl)) { snprintf(out, cap, "%s_seed%llu", path, (unsigned long long)seed); return; }
    snprintf(out, cap, "%.*s_seed%llu%s", (int)(dot - path), path, (unsigned long long)seed, dot);
}

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct { double acc, err, f1; } metrics;

static metrics evaluate(const float *head, int ncls, int E, float scale, const float *feat, const coop_item *it, int n) {
    metrics r = {0, 0, 0};
    if (n <= 0) return r;
    float *lg = (float *)malloc(sizeof(float) * (size_t)ncls);
    int *tp = (int *)calloc((size_t)ncls * 3, sizeof(int)), *fp = tp + ncls, *fn = fp + ncls, ok = 0;
    for (int i = 0; i < n; i++) {
        coop_classify(feat + (size_t)i * E, 1, head, ncls, E, scale, lg);
        int best = 0;
        for (int c = 1; c < ncls; c++) if (lg[c] > lg[best]) best = c;
        if (best == it[i].label) { ok++; tp[best]++; } else { fp[best]++; fn[it[i].label]++; }
    }
    double f1 = 0;
    for (int c = 0; c < ncls; c++) { int d = 2 * tp[c] + fp[c] + fn[c]; f1 += d ? 2.0 * tp[c] / d : 0; }
    r.acc = 100.0 * ok / n; r.err = 100.0 - r.acc; r.f1 = 100.0 * f1 / ncls;
    free(lg); free(tp);
    return r;
}

/* checkpoint: a text header line, then ctx, momentum, per-step losses, per-epoch train accuracy */
typedef struct { int epoch, steps, started; float *loss, *acc; } ckpt;

static int ckpt_save(const char *path, coop_trainer *t, int64_t nctx, const ckpt *c, const char *ident) {
    int *started;
    float *mom = coop_trainer_momentum(t, &started), *ctx = coop_trainer_ctx(t, NULL, NULL);
    char hdr[1024];
    int hl = snprintf(hdr, sizeof hdr, "COOPCKPT 1 %d %d %d %lld %s\n", c->epoch, c->steps, *started, (long long)nctx, ident);
    size_t len = (size_t)hl + sizeof(float) * ((size_t)nctx * 2 + (size_t)c->steps + (size_t)c->epoch);
    char *buf = (char *)malloc(len), *q = buf + hl;
    if (!buf) return -1;
    memcpy(buf, hdr, (size_t)hl);
    memcpy(q, ctx, sizeof(float) * (size_t)nctx); q += sizeof(float) * (size_t)nctx;
    memcpy(q, mom, sizeof(float) * (size_t)nctx); q += sizeof(float) * (size_t)nctx;
    memcpy(q, c->loss, sizeof(float) * (size_t)c->steps); q += sizeof(float) * (size_t)c->steps;
    memcpy(q, c->acc, sizeof(float) * (size_t)c->epoch);
    int rc = coop_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

static int ckpt_load(const char *path, coop_trainer *t, int64_t nctx, ckpt *c, const char *ident) {
    size_t len;
    char *buf = coop_read_file(path, &len);
    if (!buf) return 1;                               /* none yet: start fresh */
    char *nl = memchr(buf, '\n', len), id[900] = "";
    int ver, ep, st, sd;
    long long nc;
    if (!nl || sscanf(buf, "COOPCKPT %d %d %d %d %lld %899[^\n]", &ver, &ep, &st, &sd, &nc, id) != 6 || ver != 1) {
        fprintf(stderr, "train: %s is not a checkpoint\n", path); free(buf); return -1;
    }
    if (nc != nctx || strcmp(id, ident)) {
        fprintf(stderr, "train: %s was written by a different run (%s); remove it or change --output\n", path, id); free(buf); return -1;
    }
    size_t need = (size_t)(nl + 1 - buf) + sizeof(float) * ((size_t)nctx * 2 + (size_t)st + (size_t)ep);
    if (len != need) { fprintf(stderr, "train: %s is truncated\n", path); free(buf); return -1; }
    int *started;
    float *mom = coop_trainer_momentum(t, &started), *ctx = coop_trainer_ctx(t, NULL, NULL);
    const char *q = nl + 1;
    memcpy(ctx, q, sizeof(float) * (size_t)nctx); q += sizeof(float) * (size_t)nctx;
    memcpy(mom, q, sizeof(float) * (size_t)nctx); q += sizeof(float) * (size_t)nctx;
    memcpy(c->loss, q, sizeof(float) * (size_t)st); q += sizeof(float) * (size_t)st;
    memcpy(c->acc, q, sizeof(float) * (size_t)ep);
    *started = sd; c->epoch = ep; c->steps = st;
    free(buf);
    return 0;
}

static int write_losses(const char *path, const ckpt *c) {
    size_t cap = 32 + (size_t)c->steps * 32, o = 0;
    char *b = (char *)malloc(cap);
    if (!b) return -1;
    o += (size_t)snprintf(b, cap, "step,loss\n");
    for (int s = 0; s < c->steps; s++) o += (size_t)snprintf(b + o, cap - o, "%d,%.9g\n", s, c->loss[s]);
    int rc = coop_write_file_atomic(path, b, o);
    free(b);
    return rc;
}

static const char *fmt_time(double s, char *b, size_t n) {
    if (s < 0) s = 0;
    snprintf(b, n, "%d:%02d:%02d", (int)(s / 3600), (int)(s / 60) % 60, (int)s % 60);
    return b;
}

static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec * 1e-9; }

int main(int argc, char **argv) {
    args a;
    if (parse(argc, argv, &a)) return 2;
    /* everything main owns, freed once at `done` (also on the error paths) */
    coop_model *m = NULL;
    coop_pool *pool = NULL;
    coop_trainer *t = NULL;
    coop_item *tr = NULL, *va = NULL, *bitems = NULL;
    float *test_feat = NULL, *feat = NULL, *bfeat = NULL, *head = NULL, *vfeat = NULL;
    int *lab = NULL, *order = NULL, failed = 0;
    uint64_t *bseeds = NULL;
    ckpt c = {0, 0, 0, NULL, NULL};
    coop_dataset *d = coop_dataset_open(a.data, a.split_seed, a.allow_missing);
    if (!d) { fprintf(stderr, "train: %s\n", coop_last_error()); return 1; }
    if (d->n_missing) fprintf(stderr, "train: warning: %d listed images are missing and were dropped\n", d->n_missing);
    printf("data: %s: %d classes, train %d, val %d, test %d%s%s\n", a.data, d->ncls, d->n[0], d->n[1], d->n[2],
           d->split_file ? ", split " : "", d->split_file ? d->split_file : "");
    m = coop_model_load(a.model);
    if (!m || (a.bf16 && coop_model_set_bf16(m, 1))) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
    const coop_config *cf = coop_model_config(m);
    pool = coop_pool_create(a.threads);
    float scale;
    if (coop_logit_scale(m, &scale)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
    char tag[512], mslug[128], pslug[128], rootdir[4096];
    slug(cf->model_name, mslug, sizeof mslug); slug(cf->pretrained, pslug, sizeof pslug);
    snprintf(tag, sizeof tag, "open_clip_%s_%s_%d", mslug, pslug, a.shots);
    snprintf(rootdir, sizeof rootdir, "%s/%s", a.output, tag);
    if (mkdirs(rootdir)) goto fail;
    const int E = cf->embed_dim, many = a.nseeds > 1;
    double accs[64], traccs[64];
    for (int si = 0; si < a.nseeds && !failed; si++) {
        const uint64_t seed = a.seeds[si];
        char dir[4200], path[4400], ident[900];
        snprintf(dir, sizeof dir, "%s/seed%llu", rootdir, (unsigned long long)seed);
        if (mkdirs(dir)) goto fail;
        /* few-shot sample (Dassl): K per class from train, min(K, 4) from val */
        coop_rng r;
        coop_rng_seed(&r, seed);
        int ntr, nva, short_tr, short_va;
        coop_fewshot(d->items[0], d->n[0], a.shots, &r, &tr, &ntr, &short_tr);
        coop_fewshot(d->items[1], d->n[1], a.shots < 4 ? a.shots : 4, &r, &va, &nva, &short_va);
        if (short_tr) fprintf(stderr, "train: warning: %d class(es) have fewer than %d training images; all of theirs are used (as Dassl)\n", short_tr, a.shots);
        const coop_item *its[3] = {tr, va, d->items[2]};
        int ns[3] = {ntr, nva, d->n[2]};
        snprintf(path, sizeof path, "%s/fewshot.json", dir);
        if (coop_split_write(path, d, its, ns)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
        /* prompt learner */
        const char **names = (const char **)d->classnames;
        coop_trainer_opts o;
        coop_trainer_opts_default(&o);
        o.n_ctx = a.n_ctx; o.ctp = a.ctp; o.csc = a.csc; o.ctx_init = a.ctx_init; o.seed = seed;
        o.momentum = a.momentum; o.weight_decay = a.wd;
        t = coop_trainer_new(m, pool, names, d->ncls, &o);
        if (!t) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
        if (a.init_ctx && coop_trainer_load_ctx(t, a.init_ctx)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
        int nd;
        int64_t sh[3];
        coop_trainer_ctx(t, &nd, sh);
        int64_t nctx = nd == 3 ? sh[0] * sh[1] * sh[2] : sh[0] * sh[1];
        const int B = a.batch == 0 || a.batch > ntr ? ntr : a.batch;
        /* Dassl: drop_last = is_train and len >= batch_size */
        const int nb = a.batch > 0 && ntr >= a.batch ? ntr / a.batch : 1;
        snprintf(ident, sizeof ident, "%s shots=%d seed=%llu n_ctx=%d ctp=%d csc=%d init=%s epochs=%d batch=%d lr=%g mom=%g wd=%g warm=%d/%g cos=%d aug=%d ntrain=%d",
                 a.model, a.shots, (unsigned long long)seed, a.n_ctx, a.ctp, a.csc, a.ctx_init ? a.ctx_init : "-", a.epochs, a.batch,
                 a.lr, a.momentum, a.wd, a.warmup, a.warmup_lr, a.cosine, a.augment, ntr);
        c = (ckpt){0, 0, 0, (float *)malloc(sizeof(float) * ((size_t)a.epochs * nb + 1)), (float *)malloc(sizeof(float) * ((size_t)a.epochs + 1))};
        char ckpath[4400];
        snprintf(ckpath, sizeof ckpath, "%s/checkpoint.bin", dir);
        if (a.resume) {
            int rc = ckpt_load(ckpath, t, nctx, &c, ident);
            if (rc < 0) goto fail;
            if (rc == 0) printf("seed %llu: resumed after epoch %d\n", (unsigned long long)seed, c.epoch);
        }
        printf("seed %llu: %d-shot, %d training images (%d batches of %d per epoch), %d epochs, ctx %s[%lld x %lld], %s%s\n",
               (unsigned long long)seed, a.shots, ntr, nb, B, a.epochs, nd == 3 ? "per class " : "", (long long)sh[nd - 2], (long long)sh[nd - 1],
               a.augment ? "augmented" : "no augmentation", a.bf16 ? ", bf16 image tower" : "");
        feat = (float *)malloc(sizeof(float) * (size_t)ntr * E); bfeat = (float *)malloc(sizeof(float) * (size_t)B * E);
        lab = (int *)malloc(sizeof(int) * (size_t)ntr); order = (int *)malloc(sizeof(int) * (size_t)ntr);
        bitems = (coop_item *)malloc(sizeof(coop_item) * (size_t)B);
        bseeds = (uint64_t *)malloc(sizeof(uint64_t) * (size_t)B);
        if (!feat || !bfeat || !lab || !order || !bitems || !bseeds || !c.loss || !c.acc) { fprintf(stderr, "train: out of memory\n"); goto fail; }
        if (!a.augment && c.epoch < a.epochs && coop_image_features(m, pool, tr, ntr, NULL, feat)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
        coop_sched sch = {a.lr, a.warmup_lr, a.epochs, a.warmup, a.cosine};
        double t0 = now();
        int first_epoch = c.epoch;
        for (int ep = c.epoch; ep < a.epochs; ep++) {
            /* RandomSampler: a fresh permutation each epoch, from (seed, epoch) so resuming repeats it */
            coop_rng er;
            coop_rng_seed(&er, mix(seed, (uint64_t)ep));
            for (int i = 0; i < ntr; i++) order[i] = i;
            for (int i = ntr - 1; i > 0; i--) { int j = coop_rng_below(&er, i + 1), x = order[i]; order[i] = order[j]; order[j] = x; }
            float lr = coop_sched_lr(&sch, ep);
            double lsum = 0;
            int correct = 0, seen = 0;
            for (int b = 0; b < nb; b++) {
                const int nbatch = B;   /* drop_last: the remainder of the permutation is unused */
                for (int k = 0; k < nbatch; k++) {
                    int i = order[b * B + k];
                    lab[k] = tr[i].label;
                    if (a.augment) { bitems[k] = tr[i]; bseeds[k] = mix(mix(seed, (uint64_t)ep), (uint64_t)(b * B + k)); }
                    else memcpy(bfeat + (size_t)k * E, feat + (size_t)i * E, sizeof(float) * (size_t)E);
                }
                if (a.augment && coop_image_features(m, pool, bitems, nbatch, bseeds, bfeat)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
                float loss;
                int ok;
                if (coop_trainer_step(t, bfeat, lab, nbatch, lr, &loss, &ok)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
                if (!(loss == loss)) { fprintf(stderr, "train: loss is NaN at epoch %d batch %d (lr too high?)\n", ep + 1, b + 1); goto fail; }
                c.loss[c.steps++] = loss;
                lsum += loss; correct += ok; seen += nbatch;
            }
            c.acc[ep] = (float)(100.0 * correct / seen);
            c.epoch = ep + 1;
            if (ckpt_save(ckpath, t, nctx, &c, ident)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
            snprintf(path, sizeof path, "%s/loss.csv", dir);
            write_losses(path, &c);
            double el = now() - t0, eta = el / (ep + 1 - first_epoch) * (a.epochs - ep - 1);
            char b1[32], b2[32];
            printf("epoch %3d/%d  loss %.4f  acc %5.1f%%  lr %.3e  time %s  eta %s\n", ep + 1, a.epochs, lsum / nb, c.acc[ep], lr,
                   fmt_time(el, b1, sizeof b1), fmt_time(eta, b2, sizeof b2));
            fflush(stdout);
        }
        /* evaluation: test features once for all seeds (test-time preprocessing) */
        head = (float *)malloc(sizeof(float) * (size_t)d->ncls * E);
        if (!test_feat && d->n[2]) {
            test_feat = (float *)malloc(sizeof(float) * (size_t)d->n[2] * E);
            printf("encoding %d test images...\n", d->n[2]);
            if (!test_feat || coop_image_features(m, pool, d->items[2], d->n[2], NULL, test_feat)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
        }
        if (coop_trainer_head(t, head)) { fprintf(stderr, "train: %s\n", coop_last_error()); goto fail; }
        metrics te = evaluate(head, d->ncls, E, scale, test_feat, d->items[2], d->n[2]);
        vfeat = (float *)malloc(sizeof(float) * (size_t)(nva ? nva : 1) * E);
        metrics vm = {0, 0, 0};
        if (nva && !coop_image_features(m, pool, va, nva, NULL, vfeat)) vm = evaluate(head, d->ncls, E, scale, vfeat, va, nva);
        double tmean = 0, tsd = 0;
        for (int e = 0; e < c.epoch; e++) tmean += c.acc[e];
        tmean /= c.epoch ? c.epoch : 1;
        for (int e = 0; e < c.epoch; e++) tsd += (c.acc[e] - tmean) * (c.acc[e] - tmean);
        tsd = c.epoch ? sqrt(tsd / c.epoch) : 0;             /* np.std, as CoOp's parse script */
        printf("seed %llu: test accuracy %.2f%%  error %.2f%%  macro-F1 %.2f%%  (val %.2f%%, train %.1f%% +- %.1f%% over epochs)\n",
               (unsigned long long)seed, te.acc, te.err, te.f1, vm.acc, tmean, tsd);
        accs[si] = te.acc; traccs[si] = tmean;
        snprintf(path, sizeof path, "%s/ctx.npy", dir);
        int64_t hs[2] = {d->ncls, E};
        if (coop_trainer_save_ctx(t, path)) { fprintf(stderr, "train: %s\n", coop_last_error()); failed = 1; }
        snprintf(path, sizeof path, "%s/head.npy", dir);
        if (coop_npy_write(path, "<f4", head, 2, hs)) { fprintf(stderr, "train: %s\n", coop_last_error()); failed = 1; }
        if (a.save_ctx) {
            per_seed(a.save_ctx, seed, many, path, sizeof path);
            if (coop_trainer_save_ctx(t, path)) { fprintf(stderr, "train: %s\n", coop_last_error()); failed = 1; }
        }
        if (a.loss_log) { per_seed(a.loss_log, seed, many, path, sizeof path); if (write_losses(path, &c)) { fprintf(stderr, "train: %s\n", coop_last_error()); failed = 1; } }
        char res[2048];
        int rl = snprintf(res, sizeof res,
                          "model %s\npretrained %s\nshots %d\nseed %llu\nn_ctx %lld\nctp %s\ncsc %d\nepochs %d\nclasses %d\ntrain_images %d\ntest_images %d\n"
                          "test_acc %.4f\ntest_err %.4f\ntest_macro_f1 %.4f\nval_acc %.4f\ntrain_acc_mean %.4f\ntrain_acc_std %.4f\ntrain_acc_last %.4f\nfinal_loss %.6f\n"
                          "image_compute %s\n",
                          cf->model_name, cf->pretrained, a.shots, (unsigned long long)seed, (long long)sh[nd - 2],
                          a.ctp == COOP_CTP_END ? "end" : a.ctp == COOP_CTP_MIDDLE ? "middle" : "front", a.csc, a.epochs, d->ncls, ntr, d->n[2],
                          te.acc, te.err, te.f1, vm.acc, tmean, tsd, c.epoch ? c.acc[c.epoch - 1] : 0.0, c.steps ? c.loss[c.steps - 1] : 0.0,
                          a.bf16 ? "bf16" : "fp32");
        snprintf(path, sizeof path, "%s/result.txt", dir);
        if (coop_write_file_atomic(path, res, (size_t)rl)) { fprintf(stderr, "train: %s\n", coop_last_error()); failed = 1; }
        free(head); free(vfeat); free(feat); free(bfeat); free(lab); free(order); free(bitems); free(bseeds); free(c.loss); free(c.acc);
        coop_free(tr); coop_free(va);
        coop_trainer_free(t);
        head = vfeat = feat = bfeat = NULL; lab = order = NULL; bitems = tr = va = NULL; bseeds = NULL; c.loss = c.acc = NULL; t = NULL;
    }
    if (!failed) {
        /* OUTPUT/<tag>.txt: the report's per-(model, pretrained, shots) summary of this invocation */
        double mu = 0, sd = 0;
        for (int i = 0; i < a.nseeds; i++) mu += accs[i];
        mu /= a.nseeds;
        for (int i = 0; i < a.nseeds; i++) sd += (accs[i] - mu) * (accs[i] - mu);
        sd = sqrt(sd / a.nseeds);                        /* np.std (population), as CoOp */
        char sum[8192], sp[4200];
        int o = 0;
        for (int i = 0; i < a.nseeds && o < 7000; i++)
            o += snprintf(sum + o, sizeof sum - (size_t)o, "seed %llu test_acc %.2f train_acc_mean %.2f\n", (unsigned long long)a.seeds[i], accs[i], traccs[i]);
        o += snprintf(sum + o, sizeof sum - (size_t)o, "mean test_acc %.2f +- %.2f over %d seed(s)\n", mu, sd, a.nseeds);
        snprintf(sp, sizeof sp, "%s.txt", rootdir);
        if (coop_write_file_atomic(sp, sum, (size_t)o)) fprintf(stderr, "train: %s\n", coop_last_error());
        if (a.nseeds > 1) printf("%s: test accuracy %.2f%% +- %.2f%% over %d seeds\n", tag, mu, sd, a.nseeds);
    }
    printf("outputs in %s\n", rootdir);
    goto done;
fail:
    failed = 1;
done:
    free(head); free(vfeat); free(feat); free(bfeat); free(lab); free(order); free(bitems); free(bseeds); free(c.loss); free(c.acc);
    coop_free(tr); coop_free(va);
    coop_trainer_free(t);
    free(test_feat);
    coop_pool_free(pool);
    coop_model_free(m);
    coop_dataset_free(d);
    return failed;
}
