/* Shared bits of the fuzz harnesses (include after coop.h). */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* writes the input to /tmp/fuzz_<tag>_<pid>.bin (per process: parallel fuzzers do not clash);
   returns the path (static buffer) or NULL */
static const char *fuzz_temp_file(const char *tag, const uint8_t *d, size_t n) {
    static char path[256];
    snprintf(path, sizeof path, "/tmp/fuzz_%s_%ld.bin", tag, (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    int ok = fwrite(d, 1, n, f) == n;
    ok = fclose(f) == 0 && ok;
    return ok ? path : NULL;
}

/* NUL-terminated heap copy of d[0..n) */
static char *fuzz_strndup(const uint8_t *d, size_t n) {
    char *s = (char *)malloc(n + 1);
    if (!s) abort();
    if (n) memcpy(s, d, n);
    s[n] = 0;
    return s;
}
#endif
