/* libFuzzer harness: SentencePiece unigram (XLM-R) from the bytes of a sentencepiece.bpe.model
   (protobuf); if it builds, a few texts are tokenised. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"

static const char *const texts[] = {
    "", "a photo of a cat.", "Hello  world!!  It's 3:00", "  leading\ttabs\nnewlines\r\n",
    "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xef\xbc\xa1 full-width", "\xff\xfe invalid utf-8 \xc3",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    coop_hf_tok *t = coop_hf_tok_new_unigram(d, n);
    if (!t) return 0;
    int32_t ids[77];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int r = coop_hf_tokenize(t, texts[i], ids, 77);
        if (r >= 77) abort();
    }
    int32_t one[2];
    coop_hf_tokenize(t, "x", one, 2);
    coop_hf_tok_free(t);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
