/* libFuzzer harness: GPT-2 byte-level BPE (RoBERTa) from vocab.json + merges.txt; the input is
   split at its first 0 byte (vocab before, merges after). If it builds, a few texts are
   tokenised. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const uint8_t *z = (const uint8_t *)memchr(d, 0, n);
    size_t vl = z ? (size_t)(z - d) : n;
    const char *merges = z ? (const char *)z + 1 : "";
    size_t ml = z ? n - vl - 1 : 0;
    /* exact-size heap copies, so reads past either part are caught */
    char *v = (char *)malloc(vl ? vl : 1), *mg = (char *)malloc(ml ? ml : 1);
    if (!v || !mg) abort();
    memcpy(v, d, vl);
    memcpy(mg, merges, ml);
    coop_hf_tok *t = coop_hf_tok_new_bpe(v, vl, mg, ml);
    if (t) {
        fuzz_hf_texts(t);
        coop_hf_tok_free(t);
    }
    free(v); free(mg);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
