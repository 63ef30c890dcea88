/* libFuzzer harness: coop_gunzip (gzip header + stb_image's inflate + CRC32 / ISIZE checks). */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    void *out = NULL;
    size_t outlen = 0;
    if (coop_gunzip(d, n, &out, &outlen) == 0) {
        if (!out) abort();
        volatile unsigned char s = 0;
        for (size_t i = 0; i < outlen; i++) s ^= ((unsigned char *)out)[i];
        (void)s;
    }
    coop_free(out);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
