/* libFuzzer harness: coop_json_parse (the split-file reader), walking the tree it returns. */
#define COOP_IMPLEMENTATION
#include "coop.h"
#include <stdlib.h>
#include <string.h>

static void walk(const coop_json *j, int depth) {
    if (depth > 100000) abort();
    switch (j->type) {
    case COOP_JSON_STR: if (!j->str || strlen(j->str) > j->offset + 1000000) abort(); break;
    case COOP_JSON_OBJ:
        for (int i = 0; i < j->n; i++) {
            if (!j->keys[i]) abort();
            if (coop_json_get(j, j->keys[i]) == NULL) abort();
        }
        /* fall through */
    case COOP_JSON_ARR:
        for (int i = 0; i < j->n; i++) walk(&j->kids[i], depth + 1);
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    coop_json *j = coop_json_parse((const char *)d, n, "fuzz");
    if (!j) return 0;
    walk(j, 0);
    coop_json_get(j, "train");
    coop_json_free(j);
    return 0;
}

#ifdef FUZZ_REPLAY
#include "replay_main.h"
#endif
