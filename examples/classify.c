/* classify: label images with a learned CoOp context, or with a saved classifier head.

   build/classify -m MODEL --run OUTPUT/<tag>/seed1 IMAGE...          (ctx.npy, class names, ctp of a run)
   build/classify -m MODEL --ctx CTX.npy --classes NAMES [--ctp end|middle|front] IMAGE...
   build/classify -m MODEL --head HEAD.npy --classes NAMES IMAGE...  (no text tower pass at all)
   options: --save-head HEAD.npy (write the class text features and stop if no images)
            --top K (5)  --threads N

   NAMES is a text file with one class name per line, a CoOp split .json, or a data folder
   (build/train's DATA). A head is the L2-normalised class text features [classes, embed_dim]:
   computing it once makes classifying an image one image-tower pass and a small matrix product. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what) { fprintf(stderr, "classify: %s\n", what); exit(1); }

/* class names from a .txt (one per line), a split .json or a data folder */
static char **load_names(const char *src, int *n) {
    size_t len = strlen(src);
    char **v = NULL;
    *n = 0;
    if (len > 4 && !strcmp(src + len - 4, ".txt")) {
        char *t = coop_read_file(src, NULL);
        if (!t) die(coop_last_error());
        for (char *l = strtok(t, "\r\n"); l; l = strtok(NULL, "\r\n")) {
            if (!*l) continue;
            v = (char **)realloc(v, sizeof(char *) * (size_t)(*n + 1));
            v[(*n)++] = strdup(l);
        }
        free(t);
        return v;
    }
    if (len > 5 && !strcmp(src + len - 5, ".json")) {
        /* labels -> names from the lists, without needing the images */
        char *t = coop_read_file(src, &len);
        coop_json *j = t ? coop_json_parse(t, len, src) : NULL;
        free(t);
        if (!j) die(coop_last_error());
        static const char *const keys[3] = {"train", "val", "test"};
        for (int s = 0; s < 3; s++) {
            const coop_json *a = coop_json_get(j, keys[s]);
            for (int i = 0; a && a->type == COOP_JSON_ARR && i < a->n; i++) {
                const coop_json *it = &a->kids[i];
                if (it->type != COOP_JSON_ARR || it->n != 3 || it->kids[1].type != COOP_JSON_NUM || it->kids[2].type != COOP_JSON_STR) continue;
                int lab = (int)it->kids[1].num;
                if (lab < 0 || lab > 100000) continue;
                if (lab >= *n) { v = (char **)realloc(v, sizeof(char *) * (size_t)(lab + 1)); memset(v + *n, 0, sizeof(char *) * (size_t)(lab + 1 - *n)); *n = lab + 1; }
                if (!v[lab]) v[lab] = strdup(it->kids[2].str);
            }
        }
        coop_json_free(j);
        for (int c = 0; c < *n; c++) if (!v[c]) { fprintf(stderr, "classify: %s: label %d has no name\n", src, c); exit(1); }
        return v;
    }
    coop_dataset *d = coop_dataset_open(src, 1, 1);
    if (!d) die(coop_last_error());
    v = (char **)malloc(sizeof(char *) * (size_t)d->ncls);
    for (int c = 0; c < d->ncls; c++) v[c] = strdup(d->classnames[c]);
    *n = d->ncls;
    coop_dataset_free(d);
    return v;
}

int main(int argc, char **argv) {
    const char *model = NULL, *ctx = NULL, *head_path = NULL, *classes = NULL, *save_head = NULL, *run = NULL;
    int ctp = COOP_CTP_END, top = 5, threads = 0, nimg = 0, bf16 = 0;
    const char **imgs = (const char **)calloc((size_t)argc, sizeof(char *));
    char runctx[4096], runnames[4096];
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(o, "-m") || !strcmp(o, "--ctx") || !strcmp(o, "--head") || !strcmp(o, "--classes") || !strcmp(o, "--ctp") ||
                    !strcmp(o, "--save-head") || !strcmp(o, "--top") || !strcmp(o, "--threads") || !strcmp(o, "--run");
        if (takes && !v) { fprintf(stderr, "classify: %s needs a value\n", o); return 2; }
        if (!strcmp(o, "-m")) model = v;
        else if (!strcmp(o, "--ctx")) ctx = v;
        else if (!strcmp(o, "--head")) head_path = v;
        else if (!strcmp(o, "--classes")) classes = v;
        else if (!strcmp(o, "--save-head")) save_head = v;
        else if (!strcmp(o, "--run")) run = v;
        else if (!strcmp(o, "--top")) top = atoi(v);
        else if (!strcmp(o, "--threads")) threads = atoi(v);
        else if (!strcmp(o, "--bf16")) bf16 = 1;
        else if (!strcmp(o, "--ctp")) ctp = !strcmp(v, "middle") ? COOP_CTP_MIDDLE : !strcmp(v, "front") ? COOP_CTP_FRONT : COOP_CTP_END;
        else if (o[0] == '-') { fprintf(stderr, "classify: unknown option %s (see the comment at the top of examples/classify.c)\n", o); return 2; }
        else { imgs[nimg++] = o; continue; }
        if (takes) i++;
    }
    if (run) {
        /* a train run folder: ctx.npy, the class names of fewshot.json, the ctp of result.txt */
        snprintf(runctx, sizeof runctx, "%s/ctx.npy", run);
        snprintf(runnames, sizeof runnames, "%s/fewshot.json", run);
        ctx = runctx; classes = runnames;
        char rp[4200], *t;
        snprintf(rp, sizeof rp, "%s/result.txt", run);
        if ((t = coop_read_file(rp, NULL))) {
            if (strstr(t, "\nctp middle")) ctp = COOP_CTP_MIDDLE;
            else if (strstr(t, "\nctp front")) ctp = COOP_CTP_FRONT;
            free(t);
        }
    }
    if (!model || !classes || (!ctx == !head_path)) {
        fprintf(stderr, "usage: classify -m MODEL (--run DIR | --ctx CTX.npy --classes NAMES | --head HEAD.npy --classes NAMES)\n"
                        "                [--ctp end|middle|front] [--save-head H.npy] [--top K] [--threads N] [--bf16] IMAGE...\n");
        return 2;
    }
    int ncls;
    char **names = load_names(classes, &ncls);
    coop_model *m = coop_model_load(model);
    if (!m || (bf16 && coop_model_set_bf16(m, 1))) die(coop_last_error());
    const coop_config *cf = coop_model_config(m);
    const int E = cf->embed_dim;
    coop_pool *pool = coop_pool_create(threads);
    float scale, *head = (float *)malloc(sizeof(float) * (size_t)ncls * E);
    if (coop_logit_scale(m, &scale)) die(coop_last_error());
    if (ctx) {
        char dt[8]; int nd; int64_t sh[8]; void *data;
        if (coop_npy_read(ctx, dt, &nd, sh, &data)) die(coop_last_error());
        if ((nd != 2 && nd != 3) || (nd == 3 && sh[0] != ncls)) {
            fprintf(stderr, "classify: %s: want a context [M, D] or [%d, M, D]\n", ctx, ncls);
            return 1;
        }
        coop_trainer_opts o;
        coop_trainer_opts_default(&o);
        /* the placeholder text "X ... X" has as many tokens as any init words: same prompt rows */
        o.n_ctx = (int)sh[nd - 2]; o.csc = nd == 3; o.ctp = ctp;
        coop_trainer *t = coop_trainer_new(m, pool, (const char *const *)names, ncls, &o);
        if (!t || coop_trainer_load_ctx(t, ctx) || coop_trainer_head(t, head)) die(coop_last_error());
        coop_trainer_free(t);
        coop_free(data);
    } else {
        char dt[8]; int nd; int64_t sh[8]; void *data;
        if (coop_npy_read(head_path, dt, &nd, sh, &data)) die(coop_last_error());
        if (nd != 2 || sh[0] != ncls || sh[1] != E) { fprintf(stderr, "classify: %s: want a head [%d, %d]\n", head_path, ncls, E); return 1; }
        memcpy(head, data, sizeof(float) * (size_t)ncls * E);
        coop_free(data);
    }
    if (save_head) {
        int64_t hs[2] = {ncls, E};
        if (coop_npy_write(save_head, "<f4", head, 2, hs)) die(coop_last_error());
        printf("saved head [%d, %d] to %s\n", ncls, E, save_head);
    }
    if (top < 1) top = 1;
    if (top > ncls) top = ncls;
    float *feat = (float *)malloc(sizeof(float) * (size_t)E), *lg = (float *)malloc(sizeof(float) * (size_t)ncls);
    int failed = 0;
    for (int i = 0; i < nimg; i++) {
        coop_item it = {(char *)imgs[i], 0, 0};
        if (coop_image_features(m, pool, &it, 1, NULL, feat)) { fprintf(stderr, "classify: %s\n", coop_last_error()); failed = 1; continue; }
        coop_classify(feat, 1, head, ncls, E, scale, lg);
        double mx = lg[0], se = 0;
        for (int c = 1; c < ncls; c++) if (lg[c] > mx) mx = lg[c];
        for (int c = 0; c < ncls; c++) se += exp(lg[c] - mx);
        printf("%s:", imgs[i]);
        for (int k = 0; k < top; k++) {
            int best = -1;
            for (int c = 0; c < ncls; c++) if (lg[c] > -INFINITY && (best < 0 || lg[c] > lg[best])) best = c;
            printf("  %s %.1f%%", names[best], 100.0 * exp(lg[best] - mx) / se);
            lg[best] = -INFINITY;
        }
        printf("\n");
    }
    for (int c = 0; c < ncls; c++) free(names[c]);
    free(names); free(head); free(feat); free(lg); free(imgs);
    coop_pool_free(pool);
    coop_model_free(m);
    return failed;
}
