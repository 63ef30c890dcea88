/* libFuzzer harness: .coop model files (coop_model_load mmaps a path, so the input goes to a
   per-process temporary file), then the config, the tensor table, a tensor's fp32 data, the
   tokenizer block and (when the model has a text tower) its tokenizer. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include "fuzz_common.h"
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    const char *path = fuzz_temp_file("model", d, n);
    if (!path) return 0;
    coop_model *m = coop_model_load(path);
    if (!m) { unlink(path); return 0; }
    const coop_config *c = coop_model_config(m);
    char buf[4096];
    coop_config tmp;
    if (coop_config_format(c, buf, sizeof buf) < 0 || coop_config_parse(buf, strlen(buf), &tmp, "fmt")) abort();
    int nt = coop_model_tensor_count(m);
    volatile float sink = 0;
    for (int i = 0; i < nt; i++) {
        const coop_tensor *t = coop_model_tensor_at(m, i);
        if (!t || !t->f32 || t->numel < 1) abort();
        sink += t->f32[0] + t->f32[t->numel - 1];
    }
    if (coop_model_tensor_at(m, nt) || coop_model_tensor_at(m, -1)) abort();
    if (nt > 0) {
        const coop_tensor *t = coop_model_tensor_at(m, 0);
        const float *f = coop_model_f32(m, t->name, t->ndim, t->shape);
        if (f != t->f32) abort();
        int64_t wrong[4] = {t->shape[0] + 1, 1, 1, 1};
        if (coop_model_f32(m, t->name, t->ndim, wrong)) abort();
    }
    if (coop_model_f32(m, "no such tensor", 0, NULL)) abort();
    static const char *const sections[] = {"bpe_simple_vocab_16e6.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model"};
    for (int i = 0; i < 4; i++) {
        const void *sd; size_t sl;
        if (coop_model_tokenizer_section(m, sections[i], &sd, &sl) == 0 && sl)
            sink += ((const unsigned char *)sd)[sl - 1];
    }
    if (c->text != COOP_TEXT_NONE) {          /* builds the tokenizer from the model's blob */
        int32_t *ids = (int32_t *)malloc(sizeof(int32_t) * (size_t)c->context_length);
        if (!ids) abort();
        int r = coop_tokenize(m, "a photo of a cat.", ids);
        if (r >= c->context_length) abort();
        free(ids);
    }
    (void)sink;
    coop_model_free(m);
    unlink(path);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
