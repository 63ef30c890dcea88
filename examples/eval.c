/* eval: summarises train runs (the report's eval.py).

   build/eval [DIR ...]      (default: output)

   Finds every result.txt written by build/train under the folders (any depth), groups the runs by
   (model, pretrained, shots, n_ctx, ctp, csc) and prints, per group, the number of seeds and the
   mean +- std (np.std, as CoOp's parse_test_res.py) of the test accuracy, the test macro-F1 and
   the training accuracy (each run's mean over its epochs, as the report's table). */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct { char key[512], model[128], pretrained[128], ctx[64]; int shots, n; double acc[256], f1[256], tr[256]; } group;
static group *groups;
static int ngroups, capgroups;

static void add_result(const char *path) {
    size_t len;
    char *t = coop_read_file(path, &len);
    if (!t) return;
    char model[128] = "?", pre[128] = "?", ctp[32] = "end";
    int shots = -1, n_ctx = 0, csc = 0, have = 0, bf16 = 0;
    double acc = 0, f1 = 0, tr = 0;
    for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n")) {
        char k[64], v[256];
        if (sscanf(l, "%63s %255[^\n]", k, v) != 2) continue;
        if (!strcmp(k, "model")) snprintf(model, sizeof model, "%.127s", v);
        else if (!strcmp(k, "pretrained")) snprintf(pre, sizeof pre, "%.127s", v);
        else if (!strcmp(k, "shots")) shots = atoi(v);
        else if (!strcmp(k, "n_ctx")) n_ctx = atoi(v);
        else if (!strcmp(k, "ctp")) snprintf(ctp, sizeof ctp, "%.31s", v);
        else if (!strcmp(k, "csc")) csc = atoi(v);
        else if (!strcmp(k, "image_compute")) bf16 = !strcmp(v, "bf16");
        else if (!strcmp(k, "test_acc")) { acc = atof(v); have = 1; }
        else if (!strcmp(k, "test_macro_f1")) f1 = atof(v);
        else if (!strcmp(k, "train_acc_mean")) tr = atof(v);
    }
    free(t);
    if (!have) { fprintf(stderr, "eval: %s: no test_acc, skipped\n", path); return; }
    char key[512];
    snprintf(key, sizeof key, "%s|%s|%d|%d|%s|%d|%d", model, pre, shots, n_ctx, ctp, csc, bf16);
    int g = 0;
    while (g < ngroups && strcmp(groups[g].key, key)) g++;
    if (g == ngroups) {
        if (ngroups == capgroups) {
            capgroups = capgroups ? 2 * capgroups : 16;
            group *ng = (group *)realloc(groups, sizeof(group) * (size_t)capgroups);
            if (!ng) { fprintf(stderr, "eval: out of memory\n"); exit(1); }
            groups = ng;
        }
        memset(&groups[g], 0, sizeof groups[g]);
        snprintf(groups[g].key, sizeof groups[g].key, "%s", key);
        snprintf(groups[g].model, sizeof groups[g].model, "%s", model);
        snprintf(groups[g].pretrained, sizeof groups[g].pretrained, "%s", pre);
        groups[g].shots = shots;
        snprintf(groups[g].ctx, sizeof groups[g].ctx, "%d %s%s%s", n_ctx, ctp, csc ? " csc" : "", bf16 ? " bf16" : "");
        ngroups++;
    }
    group *G = &groups[g];
    if (G->n < 256) { G->acc[G->n] = acc; G->f1[G->n] = f1; G->tr[G->n] = tr; G->n++; }
}

static void walk(const char *dir, int depth) {
    DIR *d = opendir(dir);
    if (!d) { if (depth == 0) fprintf(stderr, "eval: cannot open %s\n", dir); return; }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st)) continue;
        if (S_ISDIR(st.st_mode) && depth < 6) walk(p, depth + 1);
        else if (S_ISREG(st.st_mode) && !strcmp(e->d_name, "result.txt")) add_result(p);
    }
    closedir(d);
}

static void stats(const double *v, int n, double *mu, double *sd) {
    double m = 0, s = 0;
    for (int i = 0; i < n; i++) m += v[i];
    m /= n;
    for (int i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    *mu = m; *sd = sqrt(s / n);
}

static int cmp(const void *a, const void *b) { return strcmp(((const group *)a)->key, ((const group *)b)->key); }

int main(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fprintf(stderr, "usage: eval [DIR ...]   (default: output)\n");
        return 2;
    }
    if (argc < 2) walk("output", 0);
    for (int i = 1; i < argc; i++) walk(argv[i], 0);
    if (!ngroups) { fprintf(stderr, "eval: no result.txt found\n"); return 1; }
    qsort(groups, (size_t)ngroups, sizeof *groups, cmp);
    printf("%-28s %-20s %5s %-14s %5s  %-17s %-17s %-17s\n", "model", "pretrained", "shots", "ctx", "seeds", "test acc", "test macro-F1", "train acc");
    for (int g = 0; g < ngroups; g++) {
        group *G = &groups[g];
        double am, as, fm, fs, tm, ts;
        stats(G->acc, G->n, &am, &as); stats(G->f1, G->n, &fm, &fs); stats(G->tr, G->n, &tm, &ts);
        printf("%-28s %-20s %5d %-14s %5d  %6.2f%% +- %5.2f%% %6.2f%% +- %5.2f%% %6.2f%% +- %5.2f%%\n", G->model, G->pretrained, G->shots, G->ctx, G->n,
               am, as, fm, fs, tm, ts);
    }
    free(groups);
    return 0;
}
