/* test_programs -- the programs end to end, as a user runs them (build/convert, train, eval,
   zeroshot, embed): an interrupted training run resumes to the same result bit for bit, no
   temporary file is left behind, and bad input gives a one-line message naming the problem and
   a non-zero exit, never a crash.

   The programs are taken from the directory of this binary (build/ or build-san/); run from the
   repository root. Needs ../shared/data/bpe_simple_vocab_16e6.txt.gz for the demo model (skipped
   without it). */
#define _XOPEN_SOURCE 700   /* mkdtemp, kill, popen under -std=c11 */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "testutil.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char bin[512], work[64];
static char out[1 << 16];   /* output of the last run (stdout + stderr) */

/* runs a shell command line, keeps its output in `out`, returns its exit status (-1: signal) */
static int run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* the first line of the last output that mentions `what`, for the check's message */
static const char *line_with(const char *what) {
    static char line[300];
    const char *p = strstr(out, what);
    if (!p) return NULL;
    while (p > out && p[-1] != '\n') p--;
    size_t n = strcspn(p, "\n");
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, p, n);
    line[n] = 0;
    return line;
}

static void expect_error(const char *what, int rc, const char *needle) {
    const char *l = line_with(needle);
    char msg[600];
    snprintf(msg, sizeof msg, "%s -> exit %d: %s", what, rc, l ? l : "(message missing)");
    tu_check(rc > 0 && l != NULL, msg);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = (unsigned char *)malloc((size_t)len + 1);
    *n = b && fread(b, 1, (size_t)len, f) == (size_t)len ? (size_t)len : 0;
    fclose(f);
    return b;
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && na > 0 && !memcmp(x, y, na);
    free(x); free(y);
    return same;
}

/* number of files whose name ends in ".tmp" below dir */
static int count_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) n += count_tmp(p);
        size_t l = strlen(e->d_name);
        if (l > 4 && !strcmp(e->d_name + l - 4, ".tmp")) n++;
    }
    closedir(d);
    return n;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(p, 1, n, f); fclose(f); }
}

int main(int argc, char **argv) {
    (void)argc;
    printf("test_programs\n");
    snprintf(bin, sizeof bin, "%s", argv[0]);
    char *slash = strrchr(bin, '/');
    if (slash) *slash = 0; else snprintf(bin, sizeof bin, ".");
    const char *vocab = "../shared/data/bpe_simple_vocab_16e6.txt.gz";
    if (access(vocab, R_OK) != 0) { printf("  (%s absent: skipped)\n", vocab); return tu_done("test_programs"); }
    snprintf(work, sizeof work, "/tmp/coop_prog_XXXXXX");
    if (!mkdtemp(work)) { perror("mkdtemp"); return 1; }

    /* ---- convert the demo checkpoint ---- */
    int rc = run("%s/convert tests/fixtures/clip/demo.safetensors --config tests/fixtures/clip/demo_open_clip_config.json "
                 "--vocab %s --pretrained demo -o %s/demo.coop", bin, vocab, work);
    tu_check(rc == 0, "convert: demo checkpoint -> demo.coop");

    /* ---- train, uninterrupted ---- */
    const char *train_args = "examples/data/shapes --shots 2 --seed 1 --epochs 200 --n-ctx 4 --batch-size 4 --threads 2";
    rc = run("%s/train %s -m %s/demo.coop --output %s/a", bin, train_args, work, work);
    tu_check(rc == 0 && strstr(out, "test accuracy"), "train: 200 epochs, uninterrupted");
    char ctx_a[256], ctx_b[256], loss_a[256], loss_b[256], ck_b[256];
    snprintf(ctx_a, sizeof ctx_a, "%s/a/open_clip_custom_demo_2/seed1/ctx.npy", work);
    snprintf(loss_a, sizeof loss_a, "%s/a/open_clip_custom_demo_2/seed1/loss.csv", work);
    snprintf(ctx_b, sizeof ctx_b, "%s/b/open_clip_custom_demo_2/seed1/ctx.npy", work);
    snprintf(loss_b, sizeof loss_b, "%s/b/open_clip_custom_demo_2/seed1/loss.csv", work);
    snprintf(ck_b, sizeof ck_b, "%s/b/open_clip_custom_demo_2/seed1/checkpoint.bin", work);

    /* ---- the same run killed (SIGKILL) after its first checkpoint, then --resume ---- */
    char model[128], outb[128];
    snprintf(model, sizeof model, "%s/demo.coop", work);
    snprintf(outb, sizeof outb, "%s/b", work);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
        char tb[600];
        snprintf(tb, sizeof tb, "%s/train", bin);
        execl(tb, tb, "examples/data/shapes", "--shots", "2", "--seed", "1", "--epochs", "200", "--n-ctx", "4",
              "--batch-size", "4", "--threads", "2", "-m", model, "--output", outb, (char *)NULL);
        _exit(127);
    }
    int killed = 0, status = 0;
    for (int i = 0; i < 200000; i++) {
        if (access(ck_b, R_OK) == 0) { kill(pid, SIGKILL); killed = 1; break; }
        if (waitpid(pid, &status, WNOHANG) == pid) { pid = 0; break; }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    if (pid) waitpid(pid, &status, 0);
    killed = killed && WIFSIGNALED(status);
    tu_check(killed, "train: second run killed after its first checkpoint");
    tu_check(access(ctx_b, F_OK) != 0, "killed run left no ctx.npy (outputs appear only when complete)");
    rc = run("%s/train %s -m %s/demo.coop --output %s/b --resume", bin, train_args, work, work);
    const char *res = line_with("resumed after epoch");
    char msg[400];
    snprintf(msg, sizeof msg, "train --resume: %s", res ? res : "(no 'resumed' line)");
    tu_check(rc == 0 && res, msg);
    tu_check(same_file(ctx_a, ctx_b), "resumed run: ctx.npy bit-identical to the uninterrupted run");
    tu_check(same_file(loss_a, loss_b), "resumed run: loss.csv identical (every step's loss)");
    snprintf(msg, sizeof msg, "%s/b", work);
    tu_check(count_tmp(msg) == 0, "no *.tmp file left behind");
    rc = run("%s/train %s -m %s/demo.coop --output %s/b --resume --epochs 150", bin, train_args, work, work);
    expect_error("train --resume with other settings", rc, "different run");

    /* ---- eval over the run folders ---- */
    rc = run("%s/eval %s/a", bin, work);
    tu_check(rc == 0 && strstr(out, "custom") && strstr(out, "+-"), "eval: mean +- std table of the runs");
    /* a --bf16 run is recorded as such and eval keeps it apart from the fp32 runs */
    if (gemm__bf16_ok()) {
        rc = run("%s/train examples/data/shapes --shots 2 --seed 1 --epochs 2 --n-ctx 4 --batch-size 4 --bf16 -m %s/demo.coop --output %s/a/bf16",
                 bin, work, work);
        tu_check(rc == 0 && strstr(out, "bf16 image tower"), "train --bf16 runs (bf16 image tower)");
        rc = run("cat %s/a/bf16/*/seed1/result.txt", work);
        tu_check(strstr(out, "image_compute bf16") != NULL, "train --bf16: result.txt says image_compute bf16");
        rc = run("%s/eval %s/a", bin, work);
        tu_check(rc == 0 && strstr(out, "4 end bf16") && strstr(out, "4 end  "), "eval: the bf16 run is a group of its own");
    }

    /* ---- bad input: one clear line, non-zero exit, no crash ---- */
    rc = run("%s/train examples/data/shapes -m %s/demo.coop --shots 2 --bogus", bin, work);
    expect_error("train --bogus", rc, "unknown option --bogus");
    rc = run("%s/train %s/no-such-data -m %s/demo.coop --shots 2", bin, work, work);
    expect_error("train on a missing folder", rc, "no-such-data");
    rc = run("%s/train examples/data/shapes -m %s/no-such.coop --shots 2", bin, work);
    expect_error("train with a missing model", rc, "no-such.coop");
    /* a truncated model file */
    size_t n;
    unsigned char *m = slurp(model, &n);
    char trunc[256];
    snprintf(trunc, sizeof trunc, "%s/trunc.coop", work);
    write_bytes(trunc, m, n / 3);
    free(m);
    rc = run("%s/embed -m %s --texts tests/fixtures/coop/classnames.txt -o %s/t.npy", bin, trunc, work);
    expect_error("embed with a truncated model", rc, "trunc.coop");
    snprintf(msg, sizeof msg, "%s/t.npy", work);
    tu_check(access(msg, F_OK) != 0, "failed embed wrote no output file");
    /* a corrupt image */
    char bad[256];
    snprintf(bad, sizeof bad, "%s/corrupt.png", work);
    write_bytes(bad, "\x89PNG\r\n\x1a\nthis is not a png at all", 32);
    snprintf(msg, sizeof msg, "%s/classes.txt", work);
    write_bytes(msg, "red circle\nblue square\n", 23);
    rc = run("%s/zeroshot -m %s/demo.coop --classes %s/classes.txt %s", bin, work, work, bad);
    expect_error("zeroshot on a corrupt image", rc, "corrupt.png");
    /* a malformed split JSON */
    snprintf(msg, sizeof msg, "%s/split.json", work);
    write_bytes(msg, "{\"train\": [[\"a.jpg\", 0, \"x\"]", 27);
    rc = run("%s/train %s/split.json -m %s/demo.coop --shots 1", bin, work, work);
    expect_error("train on a malformed split JSON", rc, "split.json");
    /* --bf16: image features within bf16 rounding of fp32, or a clear error without AVX-512 BF16 */
    const char *imgs = "examples/data/shapes/red_circle/00.png examples/data/shapes/blue_square/01.png "
                       "examples/data/shapes/yellow_star/02.png";
    rc = run("%s/embed -m %s/demo.coop --images %s -o %s/f32.npy", bin, work, imgs, work);
    tu_check(rc == 0, "embed --images (fp32)");
    rc = run("%s/embed -m %s/demo.coop --bf16 --images %s -o %s/bf16.npy", bin, work, imgs, work);
    if (!gemm__bf16_ok()) {
        expect_error("embed --bf16 on a CPU without AVX-512 BF16", rc, "BF16");
    } else if (tu_check(rc == 0, "embed --images --bf16")) {
        char pa[128], pb[128];
        int64_t na, nb2, sh[8];
        snprintf(pa, sizeof pa, "%s/f32.npy", work);
        snprintf(pb, sizeof pb, "%s/bf16.npy", work);
        float *fa = tu_load_f32(pa, &na, sh, NULL), *fb = tu_load_f32(pb, &nb2, sh, NULL);
        if (tu_check(fa && fb && na == nb2, "both feature files read"))
            tu_compare("embed --bf16 vs fp32 features", fb, fa, na, sh[1], 3e-2, 0.999);
        coop_free(fa); coop_free(fb);
    }

    run("rm -rf %s", work);
    return tu_done("test_programs");
}
