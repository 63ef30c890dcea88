/* libFuzzer harness: SentencePiece unigram (XLM-R) from the bytes of a sentencepiece.bpe.model
   (protobuf); if it builds, a few texts are tokenised. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    coop_hf_tok *t = coop_hf_tok_new_unigram(d, n);
    if (!t) return 0;
    fuzz_hf_texts(t);
    coop_hf_tok_free(t);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
