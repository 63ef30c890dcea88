/* Model file, config, .npy and base helpers: round trips, and every kind of broken file
   must give a clear error (never a crash). Run from the repository root. */
#define COOP_IMPLEMENTATION
#include "coop.h"

#include <stdio.h>

static int failures = 0;

static void check(int ok, const char *what) {
    printf("%-70s %s\n", what, ok ? "OK" : "FAIL");
    if (!ok) failures++;
}

/* a load that must fail, with a message containing `want` */
static void expect_load_error(const char *path, const char *want, const char *what) {
    coop_model *m = coop_model_load(path);
    int ok = m == NULL && strstr(coop_last_error(), want) != NULL;
    printf("%-40s -> %s\n", what, m ? "(loaded!)" : coop_last_error());
    check(ok, what);
    coop_model_free(m);
}

static unsigned char *slurp(const char *path, size_t *n) { return (unsigned char *)coop_read_file(path, n); }

static void spit(const char *path, const void *d, size_t n) {
    if (coop_write_file_atomic(path, d, n)) { printf("cannot write %s: %s\n", path, coop_last_error()); exit(1); }
}

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }

int main(void) {
    /* ---- half floats: exhaustive round trip of every f16 / bf16 bit pattern ---- */
    int bad16 = 0, badbf = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = coop_f16_to_f32((uint16_t)h);
        if (f == f && coop_f32_to_f16(f) != h) bad16++;
        float g = coop_bf16_to_f32((uint16_t)h);
        if (g == g && coop_f32_to_bf16(g) != h) badbf++;
    }
    printf("f16 round trip mismatches %d, bf16 %d\n", bad16, badbf);
    check(bad16 == 0 && badbf == 0, "half-float round trips exact");
    check(coop_f32_to_f16(1.0f + 0x1.0p-11f) == 0x3c00 && coop_f32_to_f16(1.0f + 3 * 0x1.0p-11f) == 0x3c02,
          "f16 rounds to nearest even");
    check(coop_f32_to_f16(65520.0f) == 0x7c00 && coop_f32_to_f16(65519.0f) == 0x7bff, "f16 overflow to inf");
    check(coop_f32_to_bf16(1.0f + 0x1.0p-8f) == 0x3f80 && coop_f32_to_bf16(1.0f + 3 * 0x1.0p-8f) == 0x3f82,
          "bf16 rounds to nearest even");

    /* ---- RNG: deterministic, roughly normal ---- */
    coop_rng r1, r2;
    coop_rng_seed(&r1, 42); coop_rng_seed(&r2, 42);
    double s = 0, s2 = 0;
    int same = 1;
    for (int i = 0; i < 100000; i++) {
        double a = coop_rng_normal(&r1), b = coop_rng_normal(&r2);
        same &= a == b; s += a; s2 += a * a;
    }
    printf("normal: mean %.4f var %.4f\n", s / 1e5, s2 / 1e5);
    check(same && fabs(s / 1e5) < 0.02 && fabs(s2 / 1e5 - 1) < 0.02, "rng deterministic and N(0,1)");

    /* ---- .npy round trip and errors ---- */
    system("mkdir -p build/tmp");
    float v[6] = {1, -2, 3.5f, 4, 5, 6};
    int64_t sh[2] = {2, 3};
    check(coop_npy_write("build/tmp/a.npy", "<f4", v, 2, sh) == 0, "npy write");
    char dt[8]; int nd; int64_t shr[8]; void *d;
    int rc = coop_npy_read("build/tmp/a.npy", dt, &nd, shr, &d);
    check(rc == 0 && !strcmp(dt, "<f4") && nd == 2 && shr[0] == 2 && shr[1] == 3 && !memcmp(d, v, sizeof v), "npy read back");
    coop_free(d);
    float *fa;
    rc = coop_npy_read("tests/fixtures/model/tiny_a.npy", dt, &nd, shr, (void **)&fa);
    check(rc == 0 && nd == 2 && shr[0] == 10 && shr[1] == 8 && fa[0] == -40.0f / 7, "npy written by numpy reads");
    spit("build/tmp/bad.npy", "\x93NUMPY\x01\x00\x40\x00{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", 70);
    rc = coop_npy_read("build/tmp/bad.npy", dt, &nd, shr, &d);
    printf("  %s\n", coop_last_error());
    check(rc != 0 && strstr(coop_last_error(), "bad.npy"), "truncated npy is an error naming the file");

    /* ---- model files written by the Python reference writer ---- */
    const char *names[3] = {"tests/fixtures/model/tiny_f32.coop", "tests/fixtures/model/tiny_f16.coop", "tests/fixtures/model/tiny_bf16.coop"};
    for (int k = 0; k < 3; k++) {
        coop_model *m = coop_model_load(names[k]);
        if (!m) { printf("%s\n", coop_last_error()); check(0, names[k]); continue; }
        const coop_config *c = coop_model_config(m);
        int64_t esh[2] = {10, 8};
        const float *w = coop_model_f32(m, "token_embedding.weight", 2, esh);
        double md = 0;
        for (int i = 0; w && i < 80; i++) md = fmax(md, fabs(w[i] - fa[i]) / (fabs(fa[i]) + 1e-30));
        printf("%s: max rel diff vs f32 %.3g\n", names[k], md);
        check(w && md <= (k == 0 ? 0 : k == 1 ? 0x1.0p-11 : 0x1.0p-8), "tensor values within the dtype's rounding");
        check(c->text == COOP_TEXT_CLIP && c->vocab_size == 10 && c->context_length == 6 && c->text_act == COOP_ACT_QUICK_GELU &&
              !strcmp(c->model_name, "tiny"), "config parsed");
        const void *tb; size_t tl;
        check(coop_model_tokenizer_section(m, "other", &tb, &tl) == 0 && tl == 3 && !memcmp(tb, "123", 3), "tokenizer section found");
        check(coop_model_tokenizer_section(m, "nope", &tb, &tl) != 0 && strstr(coop_last_error(), "'nope' missing"), "missing tokenizer section is an error");
        int64_t wrong[2] = {10, 9};
        check(coop_model_f32(m, "token_embedding.weight", 2, wrong) == NULL && strstr(coop_last_error(), "expected [10,9]"), "shape mismatch is an error");
        check(coop_model_f32(m, "nope", 0, NULL) == NULL && strstr(coop_last_error(), "'nope' missing"), "missing tensor is an error");
        coop_model_free(m);
    }

    /* ---- the C writer: same tensors back, config round trip through text ---- */
    coop_config cfg;
    size_t cl;
    char *ctext = coop_read_file("tests/fixtures/model/tiny_f32.coop", &cl);
    coop_model *m0 = coop_model_load("tests/fixtures/model/tiny_f32.coop");
    cfg = *coop_model_config(m0);
    char buf[4096];
    check(coop_config_format(&cfg, buf, sizeof buf) > 0, "config formats");
    coop_config back;
    check(coop_config_parse(buf, strlen(buf), &back, "x") == 0 && !memcmp(&back, &cfg, sizeof cfg), "config text round trip");
    void *blob = NULL; size_t bsz = 0;
    coop_tokblob_append(&blob, &bsz, "clip_bpe", "#v\n", 3);
    coop_model_writer *w = coop_model_writer_open("build/tmp/w.coop", buf, blob, bsz, 2);
    int64_t esh[2] = {10, 8}, bsh[1] = {5};
    rc = w ? coop_model_writer_add(w, "token_embedding.weight", COOP_BF16, 2, esh, fa) : -1;
    rc |= coop_model_writer_add(w, "x.b", COOP_F32, 1, bsh, coop_model_f32(m0, "x.b", 0, NULL));
    rc |= coop_model_writer_close(w);
    check(rc == 0, "C writer writes");
    coop_model *m1 = coop_model_load("build/tmp/w.coop");
    coop_model *m2 = coop_model_load("tests/fixtures/model/tiny_bf16.coop");
    check(m1 && m2 && !memcmp(coop_model_find(m1, "token_embedding.weight")->data, coop_model_find(m2, "token_embedding.weight")->data, 160),
          "C and Python writers give identical bf16 bytes");
    coop_model_free(m1); coop_model_free(m2); coop_model_free(m0);
    free(blob); free(ctext);

    /* ---- broken files ---- */
    size_t n;
    unsigned char *good = slurp("tests/fixtures/model/tiny_f32.coop", &n), *b = (unsigned char *)malloc(n + 64);
    expect_load_error("build/tmp/does-not-exist.coop", "No such file", "missing file");
    spit("build/tmp/t.coop", good, n - 100);
    expect_load_error("build/tmp/t.coop", "truncated", "truncated file");
    spit("build/tmp/t.coop", good, 10);
    expect_load_error("build/tmp/t.coop", "too short", "tiny file");
    memcpy(b, good, n); b[0] = 'X'; spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "bad magic", "wrong magic");
    memcpy(b, good, n); put32(b + 8, 7); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "version 7", "bad version");
    uint64_t tab = 0; for (int i = 0; i < 8; i++) tab |= (uint64_t)good[56 + i] << (8 * i);
    memcpy(b, good, n); put64(b + tab + 104, n + 64); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "outside the file", "tensor offset past the end");
    memcpy(b, good, n); put64(b + tab + 112, 1ull << 62); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "do not match", "tensor size not matching shape");
    memcpy(b, good, n); put32(b + tab + 80, 9); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "unknown dtype", "unknown dtype");
    memcpy(b, good, n); put32(b + tab + 84, 0); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "ndim", "zero ndim");
    memcpy(b, good, n); put32(b + 12, 1u << 30); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "table past the end", "tensor count past the end");
    memcpy(b, good, n); put64(b + 32, n); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "config block", "config size past the end");
    memcpy(b, good, n); memcpy(b + 64, "model_nome", 10); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "unknown key 'model_nome'", "unknown config key");
    memcpy(b, good, n);
    { char *p = strstr((char *)b + 64, "text_heads 2"); if (p) p[11] = '3'; }
    spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "text_heads 3 invalid", "inconsistent config (heads)");
    memcpy(b, good, n); memcpy(b + tab + 128, good + tab, 80); spit("build/tmp/t.coop", b, n);
    expect_load_error("build/tmp/t.coop", "appears twice", "duplicate tensor name");
    /* random corruption must never crash */
    coop_rng rng; coop_rng_seed(&rng, 7);
    int loaded = 0;
    for (int it = 0; it < 2000; it++) {
        memcpy(b, good, n);
        for (int k = 0; k < 4; k++) b[coop_rng_below(&rng, (int)n)] = (unsigned char)coop_rng_u64(&rng);
        spit("build/tmp/t.coop", b, n);
        coop_model *m = coop_model_load("build/tmp/t.coop");
        if (m) {
            loaded++;
            for (int i = 0; i < coop_model_tensor_count(m); i++) {
                const coop_tensor *t = coop_model_tensor_at(m, i);
                volatile float sink = 0;
                for (int64_t j = 0; j < t->numel; j++) sink += t->f32[j];
                (void)sink;
            }
        }
        coop_model_free(m);
    }
    printf("random corruption: %d of 2000 files still loaded (data bytes changed), no crash\n", loaded);
    check(1, "random corruption survived");
    free(good); free(b); coop_free(fa);
    printf("%s\n", failures ? "FAILED" : "all model checks passed");
    return failures != 0;
}
