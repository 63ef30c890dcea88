/* libFuzzer harness: config text parse -> format -> parse again; the round trip must succeed
   and give the same struct. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    coop_config c, c2;
    if (coop_config_parse((const char *)d, n, &c, "fuzz") != 0) return 0;
    char buf[8192];
    int len = coop_config_format(&c, buf, sizeof buf);
    if (len < 0 || (size_t)len != strlen(buf)) abort();
    if (coop_config_parse(buf, (size_t)len, &c2, "formatted") != 0) abort();
    char buf2[8192];
    int len2 = coop_config_format(&c2, buf2, sizeof buf2);
    if (len2 != len || memcmp(buf, buf2, (size_t)len)) abort();   /* format(parse(format(c))) is stable */
    /* a too-small buffer must fail cleanly, never overrun */
    for (size_t cap = 1; cap < (size_t)len + 1; cap += 97) {
        char *small = (char *)malloc(cap);
        if (!small) abort();
        if (coop_config_format(&c, small, cap) >= 0) abort();
        free(small);
    }
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
