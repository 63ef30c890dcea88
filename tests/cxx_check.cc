/* coop.h must compile as C++ too, implementation included (`make cxx`: g++/clang++ -std=c++11
   -Wall -Wextra -Werror). Built only, not run by `make test`; it still runs cleanly. */
#define COOP_IMPLEMENTATION
#include "coop.h"

int main() {
    coop_rng r;
    coop_rng_seed(&r, 1);
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4];
    coop_pool *p = coop_pool_create(1);
    coop_gemm(p, 0, 2, 2, 2, a, 2, b, 2, NULL, 0.0f, c, 2);
    coop_pool_free(p);
    coop_config cfg;
    coop_config_defaults(&cfg);
    const char *js = "{\"a\": [1, 2]}";
    coop_json_free(coop_json_parse(js, strlen(js), "cxx_check"));
    coop_hf_tok_free(coop_hf_tok_new_unigram(NULL, 0));   /* NULL + error: no data */
    (void)coop_f16_to_f32(coop_f32_to_f16((float)coop_rng_normal(&r)));
    (void)coop_gemm_kernel_name();
    return 0;
}
