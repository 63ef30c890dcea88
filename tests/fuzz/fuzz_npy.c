/* libFuzzer harness: coop_npy_read (path based: the input goes to a per-process temp file). */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *path = fuzz_temp_file("npy", d, n);
    if (!path) return 0;
    char dtype[8];
    int ndim = -1;
    int64_t shape[8];
    void *data = NULL;
    if (coop_npy_read(path, dtype, &ndim, shape, &data) == 0) {
        if (!data || ndim < 0 || ndim > 8) abort();
        if (strcmp(dtype, "<f4") && strcmp(dtype, "<i4")) abort();
        int64_t numel = 1;
        for (int i = 0; i < ndim; i++) { if (shape[i] < 0) abort(); numel *= shape[i]; }
        volatile unsigned char s = 0;
        for (int64_t i = 0; i < numel * 4; i++) s ^= ((unsigned char *)data)[i];
        (void)s;
        /* write it back and read it again: same header fields and bytes */
        char path2[300];
        snprintf(path2, sizeof path2, "%s.npy", path);
        if (coop_npy_write(path2, dtype, data, ndim, shape) == 0) {
            char dt2[8]; int nd2; int64_t sh2[8]; void *d2 = NULL;
            if (coop_npy_read(path2, dt2, &nd2, sh2, &d2) != 0) abort();
            if (strcmp(dt2, dtype) || nd2 != ndim || memcmp(sh2, shape, sizeof(int64_t) * (size_t)ndim) ||
                (numel && memcmp(d2, data, (size_t)numel * 4))) abort();
            coop_free(d2);
            unlink(path2);
        }
    } else if (data) abort();
    coop_free(data);
    unlink(path);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
