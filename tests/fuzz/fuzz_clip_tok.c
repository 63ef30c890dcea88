/* libFuzzer harness: CLIP tokenizer.
   1. coop_clip_tok_new on merges text made from the first half of the input: with the first
      byte 'M' (a mode the fuzzer finds by itself) the half's lines replace the first merge lines
      of the real vocabulary, so the result has the 48894 lines a build needs; otherwise the half
      is used alone (error paths). If it builds, the second half is tokenised with it (ctx 77).
   2. The whole input is tokenised with a tokenizer built once from the real vocabulary
      (bpe_simple_vocab_16e6.txt.gz; FUZZ_CLIP_VOCAB overrides the path). Any bytes: no crash;
      invalid UTF-8 must return -1. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"

#ifndef FUZZ_CLIP_VOCAB
#define FUZZ_CLIP_VOCAB "../shared/data/bpe_simple_vocab_16e6.txt.gz"   /* from the repository root */
#endif

static char *vocab;            /* the real merges text */
static size_t vocab_len, vocab_body;   /* body: offset of merge line 1 */
static coop_clip_tok *real;

static void init(void) {
    const char *p = getenv("FUZZ_CLIP_VOCAB");
    size_t gl;
    char *gz = coop_read_file(p ? p : FUZZ_CLIP_VOCAB, &gl);
    if (!gz) { fprintf(stderr, "fuzz_clip_tok: %s\n", coop_last_error()); abort(); }
    void *txt; size_t tl;
    if (coop_gunzip(gz, gl, &txt, &tl)) { fprintf(stderr, "fuzz_clip_tok: %s\n", coop_last_error()); abort(); }
    free(gz);
    vocab = (char *)txt; vocab_len = tl;
    real = coop_clip_tok_new(vocab, vocab_len);
    if (!real) { fprintf(stderr, "fuzz_clip_tok: %s\n", coop_last_error()); abort(); }
    vocab_body = (size_t)((char *)memchr(vocab, '\n', vocab_len) - vocab) + 1;
}

static void tokenize_checked(coop_clip_tok *t, const uint8_t *d, size_t n) {
    char *s = fuzz_strndup(d, n);
    int32_t ids[77];
    int r = coop_clip_tokenize(t, s, ids, 77);
    size_t sl = strlen(s);                /* the text ends at the first NUL */
    int valid = coop_utf8_valid(s, sl);
    if (!valid && r != -1) abort();
    if (valid && (r < 1 || r >= 77 || ids[0] != coop_clip_tok_lookup(t, "<start_of_text>") ||
                  ids[r] != coop_clip_tok_lookup(t, "<end_of_text>"))) abort();
    for (int i = r + 1; valid && i < 77; i++) if (ids[i] != 0) abort();
    int32_t few[3];
    int full = coop_clip_tok_encode(t, s, few, 3);
    if (valid != (full >= 0)) abort();
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (!real) init();
    size_t h = n / 2;
    coop_clip_tok *t = NULL;
    if (h > 0 && d[0] == 'M') {
        /* header line + the half's lines + the real merges after as many lines */
        int lines = 1;
        for (size_t i = 1; i < h; i++) lines += d[i] == '\n';
        size_t o = vocab_body;
        for (int k = 0; k < lines && o < vocab_len; k++) {
            const char *nl = (const char *)memchr(vocab + o, '\n', vocab_len - o);
            o = nl ? (size_t)(nl - vocab) + 1 : vocab_len;
        }
        size_t tl = vocab_body + (h - 1) + 1 + (vocab_len - o);
        char *text = (char *)malloc(tl);
        if (!text) abort();
        memcpy(text, vocab, vocab_body);
        memcpy(text + vocab_body, d + 1, h - 1);
        text[vocab_body + h - 1] = '\n';
        memcpy(text + vocab_body + h, vocab + o, vocab_len - o);
        t = coop_clip_tok_new(text, tl);
        free(text);
    } else {
        char *text = (char *)malloc(h ? h : 1);
        if (!text) abort();
        memcpy(text, d, h);
        t = coop_clip_tok_new(text, h);
        free(text);
    }
    if (t) {
        char *s = fuzz_strndup(d + h, n - h);
        int32_t ids[77];
        coop_clip_tokenize(t, s, ids, 77);
        coop_clip_tok_lookup(t, s);
        free(s);
        coop_clip_tok_free(t);
    }
    tokenize_checked(real, d, n);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
