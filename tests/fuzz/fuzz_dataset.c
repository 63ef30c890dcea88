/* libFuzzer harness: CoOp split JSON through coop_dataset_open. The input becomes split.json in
   a per-process folder that also holds a.jpg, b.jpg and imgs/c.jpg (empty files: only their
   existence is checked), so both the "images next to the JSON" and the "one subfolder" root
   searches are reachable. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"
#include <sys/stat.h>

static char dir[128];

static void touch(const char *name) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz_ds_%ld", (long)getpid());
        mkdir(dir, 0700);
        char sub[160];
        snprintf(sub, sizeof sub, "%s/imgs", dir);
        mkdir(sub, 0700);
        touch("a.jpg"); touch("b.jpg"); touch("imgs/c.jpg"); touch("imgs/d e.jpg");
    }
    char path[160];
    snprintf(path, sizeof path, "%s/split.json", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(d, 1, n, f);
    fclose(f);
    for (int allow = 0; allow < 2; allow++) {
        coop_dataset *ds = coop_dataset_open(path, 1, allow);
        if (!ds) continue;
        if (ds->ncls < 1 || !ds->classnames || ds->n[0] < 1) abort();
        for (int c = 0; c < ds->ncls; c++) if (!ds->classnames[c]) abort();
        for (int s = 0; s < 3; s++)
            for (int i = 0; i < ds->n[s]; i++) {
                const coop_item *it = &ds->items[s][i];
                if (it->label < 0 || it->label >= ds->ncls || it->rel < 0 || (size_t)it->rel > strlen(it->path)) abort();
            }
        coop_rng r;
        coop_rng_seed(&r, 7);
        coop_item *few = NULL;
        int nf = 0, nshort = 0;
        if (coop_fewshot(ds->items[0], ds->n[0], 2, &r, &few, &nf, &nshort) == 0) coop_free(few);
        /* write the split back and read it again (exercises coop_split_write's escaping) */
        char path2[160];
        snprintf(path2, sizeof path2, "%s/split2.json", dir);
        const coop_item *const items[3] = {ds->items[0], ds->items[1], ds->items[2]};
        if (coop_split_write(path2, ds, items, ds->n) == 0) {
            coop_dataset *ds2 = coop_dataset_open(path2, 1, 1);
            coop_dataset_free(ds2);
            unlink(path2);
        }
        coop_dataset_free(ds);
    }
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
