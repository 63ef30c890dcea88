/* libFuzzer harness: image decoding (stb_image: PNG 8/16 bit, JPEG, BMP, GIF) + preprocessing.
   The pixel limit is lowered (4 Mpixel) so the fuzzer does not spend its time decoding
   legitimately huge images; define COOP_IMAGE_MAX_PIXELS yourself to test the real limit. */
#ifndef COOP_IMAGE_MAX_PIXELS
#define COOP_IMAGE_MAX_PIXELS (4ll << 20)
#endif
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <math.h>
#include <stdlib.h>

/* ASan: fill whole malloc'd blocks with 0xFF (default: 0xBE, first 4 KB only), so reads of
   uninitialised decoder state (stb 2.27 JPEG with an undefined Huffman table) fail the same
   way on every run */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "max_malloc_fill_size=1048576:malloc_fill_byte=255"; }

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    coop_image img;
    if (coop_image_load_mem(d, n, &img) != 0) {
        if (img.rgb || img.w || img.h) abort();              /* zeroed on error */
        return 0;
    }
    if (!img.rgb || img.w <= 0 || img.h <= 0) abort();
    static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float stdv[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    float *out = (float *)malloc(sizeof(float) * 3 * 32 * 32);
    if (out && coop_preprocess(&img, 32, mean, stdv, out) == 0) {
        for (int i = 0; i < 3 * 32 * 32; i++)
            if (!isfinite(out[i]) || out[i] < -2.0f || out[i] > 2.2f) abort();
    }
    free(out);
    coop_image_free(&img);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
