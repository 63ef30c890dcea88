/* libFuzzer harness: the checkpoint readers of tools/convert.c (safetensors header JSON, zip
   central directory + deflate, pickle / TorchScript module trees, strided tensor reads).
   convert.c is a program whose errors end in cv_die() -> exit(1); it is compiled in unchanged:
   - exit is redirected (macro) to a longjmp back into the harness, main to convert_main;
   - malloc / calloc / realloc / free / strdup (and stb's inflate, whose buffer convert.c frees)
     are routed through a table of live blocks in convert.c's code only, so the blocks a cv_die
     abandons are released after the longjmp. Blocks still live after a run that did NOT end in
     cv_die are real leaks: the harness aborts. */
#define _POSIX_C_SOURCE 200809L
#define COOP_IMPLEMENTATION
#include "coop.h"                 /* the library itself, compiled with the real allocator */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- live-block table (open addressing on the pointer) ---- */
static void **fz_tab;
static size_t fz_cap, fz_live, fz_used;     /* used: live + tombstones */
#define FZ_TOMB ((void *)1)

static size_t fz_hash(const void *p) { uint64_t x = (uint64_t)(uintptr_t)p; x ^= x >> 29; x *= 0xbf58476d1ce4e5b9ull; x ^= x >> 32; return (size_t)x; }
static void fz_insert(void *p);
static void fz_grow(void) {
    void **old = fz_tab;
    size_t oc = fz_cap;
    fz_cap = fz_cap ? fz_cap * 2 : 1024;
    while (fz_live * 2 >= fz_cap) fz_cap *= 2;
    fz_tab = (void **)calloc(fz_cap, sizeof(void *));
    if (!fz_tab) abort();
    fz_live = fz_used = 0;
    for (size_t i = 0; i < oc; i++) if (old[i] && old[i] != FZ_TOMB) fz_insert(old[i]);
    free(old);
}
static void fz_insert(void *p) {
    if (!p) return;
    if ((fz_used + 1) * 2 > fz_cap) fz_grow();
    size_t i = fz_hash(p) & (fz_cap - 1);
    while (fz_tab[i] && fz_tab[i] != FZ_TOMB) i = (i + 1) & (fz_cap - 1);
    if (!fz_tab[i]) fz_used++;
    fz_tab[i] = p; fz_live++;
}
static int fz_remove(void *p) {             /* 1 if it was tracked */
    if (!p || !fz_cap) return 0;
    size_t i = fz_hash(p) & (fz_cap - 1);
    while (fz_tab[i]) {
        if (fz_tab[i] == p) { fz_tab[i] = FZ_TOMB; fz_live--; return 1; }
        i = (i + 1) & (fz_cap - 1);
    }
    return 0;
}
static void *fz_malloc(size_t n) { void *p = malloc(n); fz_insert(p); return p; }
static void *fz_calloc(size_t a, size_t b) { void *p = calloc(a, b); fz_insert(p); return p; }
static void *fz_realloc(void *p, size_t n) {
    int tracked = fz_remove(p);          /* before realloc: p is dead afterwards */
    void *q = realloc(p, n);
    if (q) fz_insert(q);
    else if (tracked) fz_insert(p);      /* failed: p is still live */
    return q;
}
static void fz_free(void *p) { fz_remove(p); free(p); }
static char *fz_strdup(const char *s) { char *p = strdup(s); fz_insert(p); return p; }
static char *fz_inflate(const char *b, int len, int *outlen) {
    char *p = stbi_zlib_decode_noheader_malloc(b, len, outlen);
    fz_insert(p);
    return p;
}
/* frees every live block; returns how many there were */
static size_t fz_release_all(void) {
    size_t n = fz_live;
    for (size_t i = 0; i < fz_cap; i++)
        if (fz_tab[i] && fz_tab[i] != FZ_TOMB) free(fz_tab[i]);
    if (fz_cap) memset(fz_tab, 0, fz_cap * sizeof(void *));
    fz_live = fz_used = 0;
    return n;
}

static jmp_buf fz_jb;
static int fz_armed;
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noreturn))
#endif
static void fz_exit(int code) {
    if (fz_armed) longjmp(fz_jb, 1);
    fprintf(stderr, "fuzz_convert: exit(%d) outside a parse\n", code);
    abort();
}

#define malloc fz_malloc
#define calloc fz_calloc
#define realloc fz_realloc
#define free fz_free
#define strdup fz_strdup
#define stbi_zlib_decode_noheader_malloc fz_inflate
#define exit fz_exit
#define main convert_main
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wunused-function"
#endif
#include "../../tools/convert.c"
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef strdup
#undef stbi_zlib_decode_noheader_malloc
#undef exit
#undef main

static volatile float fz_sink;   /* keeps the tensor reads */
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    cv_map m = {d, n};
    volatile int died = 0;
    cv_file = "fuzz";
    if (setjmp(fz_jb) == 0) {
        fz_armed = 1;
        if (n >= 4 && !memcmp(d, "PK\003\004", 4)) cv_read_torch_zip(m);
        else cv_read_safetensors(m);
        for (int i = 0; i < cv_nsrc; i++) {         /* every tensor, as convert reads them */
            cv_src *s = &cv_srcs[i];
            int64_t numel = cv_numel(s->ndim, s->shape);
            if (numel < 0 || numel > (1 << 22) || s->dtype == CV_UNSUPPORTED) continue;
            float *out = (float *)fz_malloc((size_t)numel * 4 + 4);
            if (!out) continue;
            cv_read(m, s, out);
            if (numel) fz_sink += out[numel - 1];
            fz_free(out);
        }
    } else died = 1;
    fz_armed = 0;
    /* convert's globals, as a fresh process would have them */
    cv_free_all();
    fz_free(cv_srcs); cv_srcs = NULL; cv_nsrc = cv_capsrc = 0;
    fz_free(cv_zents); cv_zents = NULL; cv_nzent = 0;
    cv_zprefix = NULL; cv_zprefix_len = 0; cv_is_torchscript = 0;
    size_t left = fz_release_all();
    if (left && !died) { fprintf(stderr, "fuzz_convert: %zu block(s) leaked by a successful parse\n", left); abort(); }
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
