/* test_convert: build/convert against the fixtures of tests/ref/make_checkpoints.py.

   - the same tiny ViT and ModifiedResNet CLIP models saved as safetensors, torch.save .bin and
     TorchScript .pt all convert to the tensors of *_expected.coop (written by the PyTorch
     reference; BatchNorm folded there in float64) and to the same config and tokenizer blob;
   - --config open_clip_config.json gives the same model; --dtype f16/bf16 within rounding;
   - broken inputs (truncated, wrong magic, missing / mis-shaped tensor, garbage pickle, hostile
     safetensors headers) exit 1 with one line "convert: FILE: problem" and leave no output.
   The converter is run as a program (build/convert next to this test's binary, so the
   sanitizer build tests the sanitizer converter). */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "tests/testutil.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIX "tests/fixtures/ckpt/"
static char conv[1024], tmpdir[256];

/* runs convert with args; returns its exit status; stderr into err (first line) and its line count */
static int run(const char *args, char *err, size_t errcap, int *lines) {
    char cmd[4096], errf[512];
    snprintf(errf, sizeof errf, "%s/stderr.txt", tmpdir);
    snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>%s", conv, args, errf);
    int st = system(cmd);
    size_t len = 0;
    char *e = coop_read_file(errf, &len);
    *lines = 0;
    if (err) err[0] = 0;
    if (e) {
        for (size_t i = 0; i < len; i++) *lines += e[i] == '\n';
        if (err) snprintf(err, errcap, "%s", e);
        if (err) err[strcspn(err, "\n")] = 0;
        coop_free(e);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void config_text(const coop_model *m, int clear_pretrained, char *buf, size_t cap) {
    coop_config c = *coop_model_config(m);
    if (clear_pretrained) c.pretrained[0] = 0;
    coop_config_format(&c, buf, cap);
}

/* every tensor of want is in got with the same shape and values within tol (relative to the
   tensor's max |value|, per element: also |d| <= elem_rel * |want|); got has no extra tensors */
static void compare_models(const char *what, coop_model *got, coop_model *want, double tol, double elem_rel,
                           int got_dtype2d, int clear_pretrained) {
    char line[256], a[4096], b[4096];
    int skip_tok = clear_pretrained == 2;          /* 2: model of another config (xlm): tensors only */
    config_text(got, clear_pretrained, a, sizeof a);
    config_text(want, clear_pretrained, b, sizeof b);
    snprintf(line, sizeof line, "%s: config text identical", what);
    if (!skip_tok && !tu_check(!strcmp(a, b), line)) printf("--- got\n%s--- want\n%s", a, b);
    const char *sections[] = {"clip_bpe", "vocab.json", "merges.txt", "sentencepiece.bpe.model"};
    for (int k = 0; k < 4 && !skip_tok; k++) {
        const void *ta, *tb;
        size_t la, lb;
        int ha = !coop_model_tokenizer_section(got, sections[k], &ta, &la), hb = !coop_model_tokenizer_section(want, sections[k], &tb, &lb);
        if (!ha && !hb) continue;
        snprintf(line, sizeof line, "%s: tokenizer %s section identical (%zu bytes)", what, sections[k], lb);
        tu_check(ha && hb && la == lb && !memcmp(ta, tb, la), line);
    }
    int n = coop_model_tensor_count(want), bad = 0, worst = -1, badtype = 0;
    double maxabs = 0, maxrel = 0;
    for (int i = 0; i < n; i++) {
        const coop_tensor *w = coop_model_tensor_at(want, i);
        const coop_tensor *g = coop_model_find(got, w->name);
        if (!g || g->ndim != w->ndim || memcmp(g->shape, w->shape, sizeof w->shape)) {
            printf("    tensor %s missing or mis-shaped\n", w->name); bad++; continue;
        }
        if (g->dtype != (g->ndim >= 2 ? got_dtype2d : COOP_F32)) badtype++;
        const float *x = coop_model_f32(got, w->name, 0, NULL), *y = coop_model_f32(want, w->name, 0, NULL);
        double scale = 0, mabs = 0;
        for (int64_t j = 0; j < w->numel; j++) if (fabs(y[j]) > scale) scale = fabs(y[j]);
        for (int64_t j = 0; j < w->numel; j++) {
            double d = fabs((double)x[j] - y[j]);
            if (!(d <= mabs)) mabs = d;
            if (!(d <= elem_rel * fabs(y[j]) + 1e-30 + tol * scale)) bad++;
        }
        double rel = mabs / (scale > 0 ? scale : 1);
        if (mabs > maxabs) maxabs = mabs;
        if (rel > maxrel) { maxrel = rel; worst = i; }
    }
    snprintf(line, sizeof line, "%s: %d tensors (%d in file): max_abs %.3g rel %.3g%s%s", what, n,
             coop_model_tensor_count(got), maxabs, maxrel, worst >= 0 ? " at " : "",
             worst >= 0 ? coop_model_tensor_at(want, worst)->name : "");
    tu_check(bad == 0 && coop_model_tensor_count(got) == n, line);
    snprintf(line, sizeof line, "%s: matrices stored as dtype %d, vectors as f32", what, got_dtype2d);
    tu_check(badtype == 0, line);
}

static coop_model *load(const char *path) {
    coop_model *m = coop_model_load(path);
    if (!m) printf("    load failed: %s\n", coop_last_error());
    return m;
}

/* convert and compare with the expected model */
static void good(const char *what, const char *args, const char *expected, int dtype, double tol, double elem_rel, int clear_pretrained) {
    char cmd[2048], out[512], err[512], line[256];
    int lines;
    snprintf(out, sizeof out, "%s/out.coop", tmpdir);
    remove(out);
    snprintf(cmd, sizeof cmd, "%s -o %s", args, out);
    int rc = run(cmd, err, sizeof err, &lines);
    snprintf(line, sizeof line, "%s: convert exit 0", what);
    if (!tu_check(rc == 0, line)) { printf("    %s\n", err); return; }
    coop_model *g = load(out), *w = load(expected);
    snprintf(line, sizeof line, "%s: output and expected load", what);
    if (tu_check(g && w, line)) compare_models(what, g, w, tol, elem_rel, dtype, clear_pretrained);
    coop_model_free(g);
    coop_model_free(w);
}

/* must fail: exit 1, one stderr line "convert: ...", containing `expect`, no output file */
static void bad(const char *what, const char *args, const char *expect) {
    char cmd[2048], out[512], err[512], line[600];
    int lines;
    snprintf(out, sizeof out, "%s/bad.coop", tmpdir);
    remove(out);
    snprintf(cmd, sizeof cmd, "%s -o %s", args, out);
    int rc = run(cmd, err, sizeof err, &lines);
    int ok = rc == 1 && lines == 1 && !strncmp(err, "convert: ", 9) && strstr(err, expect) && access(out, F_OK) != 0;
    snprintf(out + strlen(out), 8, ".tmp");
    ok = ok && access(out, F_OK) != 0;
    snprintf(line, sizeof line, "%s: exit %d, %d line(s): %.150s", what, rc, lines, err);
    tu_check(ok, line);
}

int main(int argc, char **argv) {
    (void)argc;
    (void)tu_compare; (void)tu_load_f32; (void)tu_load_i32;   /* testutil helpers this test does not need */
    /* build/convert next to this binary */
    snprintf(conv, sizeof conv, "%s", argv[0]);
    char *slash = strrchr(conv, '/');
    snprintf(slash ? slash + 1 : conv, sizeof conv - (size_t)(slash ? slash + 1 - conv : 0), "convert");
    if (access(conv, X_OK) != 0) { printf("FAIL %s not built\n", conv); return 1; }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/coop_test_convert_XXXXXX");
    if (!mkdtemp(tmpdir)) { printf("FAIL mkdtemp\n"); return 1; }
    const char *V = "--vocab " FIX "vocab_tiny.txt";
    char a[1024];

    printf("three formats -> identical tensors (exact: the fp16 TorchScript copy holds the same values)\n");
    const char *fmts[] = {"safetensors", "bin", "pt"};
    for (int f = 0; f < 3; f++) {
        char what[64];
        snprintf(a, sizeof a, FIX "vit.%s %s", fmts[f], V);
        snprintf(what, sizeof what, "vit.%s", fmts[f]);
        good(what, a, FIX "vit_expected.coop", COOP_F32, 0, 0, 0);
        snprintf(a, sizeof a, FIX "rn.%s %s", fmts[f], V);
        snprintf(what, sizeof what, "rn.%s (BN folded)", fmts[f]);
        /* folding: fp32 vs the reference's float64 then rounded, so within an ulp or two */
        good(what, a, FIX "rn_expected.coop", COOP_F32, 0, 3e-7, 0);
    }
    snprintf(a, sizeof a, FIX "vit_deflated.bin %s", V);
    good("vit_deflated.bin (deflated zip entries)", a, FIX "vit_expected.coop", COOP_F32, 0, 0, 0);
    snprintf(a, sizeof a, FIX "vit.safetensors --config " FIX "vit_open_clip_config.json %s", V);
    good("vit.safetensors --config", a, FIX "vit_expected.coop", COOP_F32, 0, 0, 1);

    printf("HF text towers (RoBERTa / XLM-R names, mlp projection, tokenizer files)\n");
    snprintf(a, sizeof a, FIX "hf.safetensors --config " FIX "hf_roberta_open_clip_config.json --tokenizer " FIX "hf_tok");
    good("hf roberta", a, FIX "hf_roberta_expected.coop", COOP_F32, 0, 0, 0);
    snprintf(a, sizeof a, FIX "hf.safetensors --config " FIX "hf_xlm_open_clip_config.json --tokenizer " FIX "hf_tok");
    good("hf xlm-roberta", a, FIX "hf_roberta_expected.coop", COOP_F32, 0, 0, 2);
    {
        char out[512];
        snprintf(out, sizeof out, "%s/out.coop", tmpdir);
        coop_model *m = load(out);
        const void *t = NULL;
        size_t len = 0, flen = 0;
        char *f = coop_read_file(FIX "hf_tok/sentencepiece.bpe.model", &flen);
        const coop_config *c = m ? coop_model_config(m) : NULL;
        int ok = c && !strcmp(c->hf_model_type, "xlm-roberta") && c->tokenizer == COOP_TOK_UNIGRAM && c->vision_act == COOP_ACT_GELU &&
                 c->pad_id == 1 && !coop_model_tokenizer_section(m, "sentencepiece.bpe.model", &t, &len) && f && len == flen &&
                 !memcmp(t, f, len) && coop_model_tokenizer_section(m, "vocab.json", &t, &len) != 0;
        tu_check(ok, "hf xlm-roberta: hf_model_type xlm-roberta, unigram, gelu, sentencepiece.bpe.model section only");
        coop_free(f);
        coop_model_free(m);
    }

    printf("f16 / bf16 output within rounding\n");
    snprintf(a, sizeof a, FIX "vit.bin --dtype f16 %s", V);
    good("vit f16", a, FIX "vit_expected.coop", COOP_F16, 0, 0x1p-11, 0);   /* values are fp16-exact: 0 expected */
    snprintf(a, sizeof a, FIX "rn.bin --dtype f16 %s", V);
    good("rn f16", a, FIX "rn_expected.coop", COOP_F16, 1e-7, 0x1p-11, 0);
    snprintf(a, sizeof a, FIX "rn.pt --dtype bf16 %s", V);
    good("rn bf16", a, FIX "rn_expected.coop", COOP_BF16, 1e-7, 0x1p-8, 0);

    printf("gzip'd vocabularies (coop_gunzip: inflate + CRC check)\n");
    snprintf(a, sizeof a, FIX "vit.safetensors --vocab " FIX "vocab_tiny.txt.gz");
    good("tiny vocab_tiny.txt.gz", a, FIX "vit_expected.coop", COOP_F32, 0, 0, 0);
    if (access("../shared/data/bpe_simple_vocab_16e6.txt.gz", R_OK) == 0) {
        char out[512], err[512], line[256];
        int lines;
        snprintf(out, sizeof out, "%s/real.coop", tmpdir);
        snprintf(a, sizeof a, FIX "vit.pt -o %s", out);                /* default vocabulary path */
        int rc = run(a, err, sizeof err, &lines);
        coop_model *m = rc == 0 ? load(out) : NULL;
        const void *t = NULL;
        size_t len = 0;
        if (m) coop_model_tokenizer_section(m, "clip_bpe", &t, &len);
        snprintf(line, sizeof line, "default --vocab: clip_bpe section %zu bytes (gunzip: 3194984)", len);
        tu_check(m && len == 3194984, line);
        coop_model_free(m);
    } else printf("  (../shared/data/bpe_simple_vocab_16e6.txt.gz absent: skipped)\n");

    printf("errors: one line, exit 1, no output\n");
    bad("truncated .bin", FIX "bad_truncated.bin --vocab " FIX "vocab_tiny.txt", "bad_truncated.bin");
    bad("truncated .safetensors", FIX "bad_truncated.safetensors --vocab " FIX "vocab_tiny.txt", "outside the data");
    bad("wrong magic", FIX "bad_magic.bin --vocab " FIX "vocab_tiny.txt", "unrecognised magic");
    bad("missing tensor", FIX "bad_missing.safetensors --vocab " FIX "vocab_tiny.txt", "'visual.ln_post.weight' missing");
    bad("mis-shaped tensor", FIX "bad_shape.safetensors --vocab " FIX "vocab_tiny.txt",
        "'visual.transformer.resblocks.1.mlp.c_fc.weight' has shape [63,64], expected [64,64]");
    bad("wrong --arch", FIX "vit.safetensors --arch ViT-B-32 --vocab " FIX "vocab_tiny.txt",
        "'visual.conv1.weight' has shape [64,3,8,8], expected [768,3,32,32]");
    bad("garbage pickle", FIX "bad_pickle.bin --vocab " FIX "vocab_tiny.txt", "pickle");
    bad("pickle with bad memo", FIX "bad_pickle2.bin --vocab " FIX "vocab_tiny.txt", "pickle");
    bad("safetensors offsets past end", FIX "bad_offsets.safetensors", "outside the data");
    bad("safetensors huge shape", FIX "bad_numel.safetensors", "absurd shape");
    bad("safetensors huge header length", FIX "bad_hlen.safetensors", "header length");
    bad("safetensors deep JSON", FIX "bad_json.safetensors", "not a valid JSON");
    bad("safetensors truncated JSON", FIX "bad_json2.safetensors", "not a valid JSON");
    bad("missing vocabulary", FIX "vit.bin --vocab /nonexistent/vocab.txt.gz", "/nonexistent/vocab.txt.gz");
    {   /* a gzip vocabulary with a flipped byte in the deflate data: CRC or decode error */
        size_t len;
        unsigned char *gz = (unsigned char *)coop_read_file(FIX "vocab_tiny.txt.gz", &len);
        char p[512];
        snprintf(p, sizeof p, "%s/corrupt.gz", tmpdir);
        if (gz && len > 100) { gz[len / 2] ^= 0x55; coop_write_file_atomic(p, gz, len); }
        coop_free(gz);
        snprintf(a, sizeof a, FIX "vit.bin --vocab %s", p);
        bad("corrupt gzip vocabulary", a, "corrupt gzip");
    }
    bad("HF tower without --tokenizer", FIX "hf.safetensors --config " FIX "hf_roberta_open_clip_config.json", "--tokenizer DIR");
    bad("HF tokenizer files missing", FIX "hf.safetensors --config " FIX "hf_xlm_open_clip_config.json --tokenizer " FIX,
        "sentencepiece.bpe.model");
    bad("HF tower without config", FIX "hf.safetensors --tokenizer " FIX "hf_tok", "HF text tower");
    bad("missing checkpoint", FIX "nope.bin", "nope.bin");
    bad("bad --dtype", FIX "vit.bin --dtype f8", "--dtype");

    /* clean up the temporary folder */
    const char *files[] = {"out.coop", "real.coop", "stderr.txt", "corrupt.gz"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", tmpdir, files[i]);
        remove(p);
    }
    rmdir(tmpdir);
    return tu_done("test_convert");
}
