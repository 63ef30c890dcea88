/* Replay driver for the fuzz harnesses: compiled in with -DFUZZ_REPLAY (no libFuzzer), it runs
   LLVMFuzzerTestOneInput over every file named on the command line; a directory argument means
   every regular file in it (not recursive). Use it to replay tests/fuzz/crashes/ under ASan:
     cc -DFUZZ_REPLAY -fsanitize=address,undefined -g -I. tests/fuzz/fuzz_image.c -o fuzz_image -lm -lpthread
     ./fuzz_image tests/fuzz/crashes/image-*
   Exit status 0 when every input ran (a sanitizer or abort() ends the process first). */
#ifndef FUZZ_REPLAY_MAIN_H
#define FUZZ_REPLAY_MAIN_H
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static int fuzz_replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
    size_t cap = 4096, n = 0, got;
    uint8_t *buf = (uint8_t *)malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = (uint8_t *)realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb; cap *= 2;
        }
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "replay: out of memory reading %s\n", path); return 1; }
    /* an exact-size copy, so ASan sees reads past the end of the input as libFuzzer does */
    uint8_t *in = (uint8_t *)malloc(n ? n : 1);
    if (!in) { free(buf); return 1; }
    memcpy(in, buf, n);
    free(buf);
    printf("replay: %s (%zu bytes)\n", path, n);
    fflush(stdout);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    return 0;
}

int main(int argc, char **argv) {
    int bad = 0, ran = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) { fprintf(stderr, "replay: %s: not found\n", argv[i]); bad = 1; continue; }
        if (!S_ISDIR(st.st_mode)) { bad |= fuzz_replay_file(argv[i]); ran++; continue; }
        DIR *dir = opendir(argv[i]);
        if (!dir) { fprintf(stderr, "replay: cannot open directory %s\n", argv[i]); bad = 1; continue; }
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.') continue;
            size_t l = strlen(argv[i]) + strlen(e->d_name) + 2;
            char *p = (char *)malloc(l);
            if (!p) { bad = 1; break; }
            snprintf(p, l, "%s/%s", argv[i], e->d_name);
            if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) { bad |= fuzz_replay_file(p); ran++; }
            free(p);
        }
        closedir(dir);
    }
    printf("replay: %d input(s) ran\n", ran);
    return bad;
}
#endif
