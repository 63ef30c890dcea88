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
/* tokenises a few awkward texts (odd whitespace, contractions, UTF-8 in several scripts and
   full-width forms, invalid UTF-8, an over-long word) at ctx 77 and 2: never more than ctx ids */
static inline void fuzz_hf_texts(coop_hf_tok *t) {
    static const char *const texts[] = {
        "", "a photo of a cat.", "Hello  world!!  It's 3:00 'll 've", "  leading\ttabs\nnewlines\r\n",
        "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xef\xbc\xa1 full-width", "\xff\xfe invalid utf-8 \xc3",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    };
    int32_t ids[77], one[2];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (coop_hf_tokenize(t, texts[i], ids, 77) >= 77) abort();
    coop_hf_tokenize(t, "x", one, 2);
}
#endif
