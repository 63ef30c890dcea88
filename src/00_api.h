/* coop.h -- CoOp prompt learning on OpenCLIP / CLIP models, in one C header.

   Runs OpenCLIP image and text towers on a CPU (ViT, ModifiedResNet, CLIP text transformer,
   RoBERTa / XLM-R) with their tokenizers and preprocessing, and learns CoOp context vectors
   ("[V]1 ... [V]M [CLASS].") by manual backprop through the frozen text tower.
   Dependencies: libc, libm, pthreads, and stb_image (Debian: libstb-dev).

   USAGE
     In exactly one C file:
         #define COOP_IMPLEMENTATION
         #include "coop.h"
     Elsewhere just #include "coop.h". Build: cc -O2 -march=native prog.c -lm -lpthread

     coop_model *m = coop_model_load("weights/ViT-B-32.coop");   // mmap, validated
     if (!m) { fprintf(stderr, "%s\n", coop_last_error()); return 1; }
     coop_pool *pool = coop_pool_create(0);                       // all cores
     const coop_config *c = coop_model_config(m);
     float *pix = malloc(sizeof(float) * 3 * c->image_size * c->image_size), feat[1024];
     coop_image img;
     coop_image_load("cat.jpg", &img);
     coop_preprocess(&img, c->image_size, c->image_mean, c->image_std, pix);
     coop_encode_image(m, pool, pix, 1, feat);                    // [1, embed_dim]

   KNOBS (#define before including the implementation)
     COOP_NO_STB_IMAGE   do not include stb_image; you provide stbi_load_from_memory etc.

   ERRORS
     Functions return 0 / a pointer on success and -1 / NULL on failure; coop_last_error()
     then gives a one-line message (thread-local). The library never exits or prints.

   LIMITS
     fp32 compute (f16 / bf16 model files are widened at load). ftfy's mojibake repair is not
     applied by the CLIP tokenizer. A coop_model is not safe for concurrent calls from
     several threads (it owns reusable work buffers): use one model per thread, or a lock.
*/
#ifndef COOP_H_API
#define COOP_H_API
/* the implementation uses POSIX (mmap, pthreads): ask for it before the first system header */
#if defined(COOP_IMPLEMENTATION) && !defined(_POSIX_C_SOURCE) && !defined(_GNU_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors, memory, RNG, numbers ------------------------------------------------- */
void        coop_set_error(const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
const char *coop_last_error(void);
void *coop_malloc(size_t n);   /* 64-byte aligned; NULL + error on failure */
void *coop_calloc(size_t n);   /* aligned and zeroed */
void  coop_free(void *p);

typedef struct { uint64_t s[4]; } coop_rng;    /* xoshiro256**, seeded with splitmix64 */
void     coop_rng_seed(coop_rng *r, uint64_t seed);
uint64_t coop_rng_u64(coop_rng *r);
double   coop_rng_uniform(coop_rng *r);        /* [0, 1) */
double   coop_rng_normal(coop_rng *r);         /* N(0, 1) */
int      coop_rng_below(coop_rng *r, int n);   /* uniform integer in [0, n) */

float    coop_f16_to_f32(uint16_t h);
uint16_t coop_f32_to_f16(float f);             /* round to nearest even */
float    coop_bf16_to_f32(uint16_t h);
uint16_t coop_f32_to_bf16(float f);            /* round to nearest even */

/* .npy version 1.0, little-endian, C order. dtype "<f4" or "<i4"; reading also accepts "<f8"
   and "<i8" (converted to "<f4" / "<i4"). Writing goes to PATH.tmp, then renames. */
int coop_npy_write(const char *path, const char *dtype, const void *data, int ndim, const int64_t *shape);
int coop_npy_read(const char *path, char dtype[8], int *ndim, int64_t shape[8], void **data);

/* bump allocator for activations: reserve once, reset per call */
typedef struct { unsigned char *base; size_t size, used, high; } coop_arena;
int   coop_arena_reserve(coop_arena *a, size_t bytes);  /* grows capacity; only when empty */
void *coop_arena_alloc(coop_arena *a, size_t bytes);    /* 64-byte aligned; NULL + error */
void  coop_arena_reset(coop_arena *a);
void  coop_arena_free(coop_arena *a);

char *coop_read_file(const char *path, size_t *len);    /* NUL-terminated copy; free with coop_free */
int   coop_write_file_atomic(const char *path, const void *data, size_t len);
int   coop_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp); /* bytes used, -1 invalid */
int   coop_utf8_encode(uint32_t cp, char out[4]);
int   coop_utf8_valid(const char *s, size_t n);

/* ---- threads and matrix multiply --------------------------------------------------- */
typedef struct coop_pool coop_pool;
coop_pool *coop_pool_create(int nthreads);      /* 0 = all online cores */
void       coop_pool_free(coop_pool *p);
int        coop_pool_threads(const coop_pool *p);
typedef void (*coop_task_fn)(void *ctx, int task, int ntasks);
void       coop_pool_run(coop_pool *p, int ntasks, coop_task_fn fn, void *ctx); /* p NULL: serial */

/* C[M,N] = beta*C + A[M,K] op(B) (+ bias[N]); transb 1: B is [N,K] (C = A B^T), 0: B is [K,N] */
void coop_gemm(coop_pool *p, int transb, int M, int N, int K, const float *A, int lda,
               const float *B, int ldb, const float *bias, float beta, float *C, int ldc);
void coop_gemm_ref(int transb, int M, int N, int K, const float *A, int lda, const float *B,
                   int ldb, const float *bias, float beta, float *C, int ldc);
const char *coop_gemm_kernel_name(void);        /* "avx512", "avx2" or "portable" */
void        coop_gemm_force_kernel(const char *name);

/* ---- model files --------------------------------------------------------------------- */
enum { COOP_F32 = 0, COOP_F16 = 1, COOP_BF16 = 2 };
enum { COOP_VISION_NONE = 0, COOP_VISION_VIT = 1, COOP_VISION_RESNET = 2 };
enum { COOP_TEXT_NONE = 0, COOP_TEXT_CLIP = 1, COOP_TEXT_HF = 2 };
enum { COOP_ACT_GELU = 0, COOP_ACT_QUICK_GELU = 1 };
enum { COOP_TOK_NONE = 0, COOP_TOK_CLIP_BPE = 1, COOP_TOK_GPT2_BPE = 2, COOP_TOK_UNIGRAM = 3 };

typedef struct coop_config {
    char  model_name[64], pretrained[64];
    int   embed_dim;
    /* image tower */
    int   vision;                   /* COOP_VISION_* */
    int   image_size, vision_width, vision_layers, vision_heads, vision_patch, vision_mlp;
    int   resnet_layers[4];
    int   vision_act;               /* COOP_ACT_* (ViT) */
    float image_mean[3], image_std[3];
    /* text tower */
    int   text;                     /* COOP_TEXT_* */
    int   context_length, vocab_size, text_width, text_layers, text_heads, text_mlp, text_act;
    int   tokenizer;                /* COOP_TOK_* */
    int   pad_id, sot_id, eot_id;
    char  hf_model_type[32], hf_pooler[16], hf_proj[16];
    int   hf_proj_hidden, hf_max_positions, hf_type_vocab;
    float ln_eps;
    int   bn_folded;
} coop_config;

typedef struct coop_tensor {
    char        name[80];
    int         dtype, ndim;        /* dtype in the file */
    int64_t     shape[4];
    int64_t     numel;
    const void *data;               /* in the mapped file */
    float      *f32;                /* fp32 view: the mapped data (f32) or a widened copy */
} coop_tensor;

typedef struct coop_model coop_model;
coop_model        *coop_model_load(const char *path);
void               coop_model_free(coop_model *m);
const coop_config *coop_model_config(const coop_model *m);
const char        *coop_model_path(const coop_model *m);
int                coop_model_tensor_count(const coop_model *m);
const coop_tensor *coop_model_tensor_at(const coop_model *m, int i);
const coop_tensor *coop_model_find(const coop_model *m, const char *name);   /* NULL, no error */
/* fp32 data of a tensor; error naming the file and tensor when it is missing or (ndim > 0)
   its shape differs from shape[0..ndim) */
const float *coop_model_f32(coop_model *m, const char *name, int ndim, const int64_t *shape);
int  coop_model_tokenizer_section(const coop_model *m, const char *name, const void **data, size_t *len);
/* per-tower state kept with the model and freed with it */
enum { COOP_SLOT_VISION = 0, COOP_SLOT_TEXT = 1, COOP_SLOT_TOK = 2, COOP_SLOT_USER = 3, COOP_NSLOTS = 4 };
void *coop_model_slot(const coop_model *m, int slot);
void  coop_model_set_slot(coop_model *m, int slot, void *ptr, void (*destroy)(void *));
/* config text <-> struct (the model file stores the text) */
int  coop_config_parse(const char *text, size_t len, coop_config *c, const char *filename);
int  coop_config_format(const coop_config *c, char *buf, size_t cap);   /* bytes written or -1 */
void coop_config_defaults(coop_config *c);

typedef struct coop_model_writer coop_model_writer;
coop_model_writer *coop_model_writer_open(const char *path, const char *config_text,
                                          const void *tok_blob, size_t tok_size, int max_tensors);
int  coop_model_writer_add(coop_model_writer *w, const char *name, int dtype, int ndim,
                           const int64_t *shape, const float *data_f32);
int  coop_model_writer_close(coop_model_writer *w);   /* table + header, then rename */
void coop_model_writer_abort(coop_model_writer *w);   /* removes the temporary file */
/* tokenizer blob builder: sections [u32 name_len][name][u64 len][bytes][pad to 8] */
int coop_tokblob_append(void **blob, size_t *size, const char *name, const void *data, size_t len);

/* ---- encoders ------------------------------------------------------------------------ */
/* pixels: [n, 3, S, S] normalised; out: [n, embed_dim] raw (not L2-normalised) features */
int coop_encode_image(coop_model *m, coop_pool *p, const float *pixels, int n, float *out);
/* ids: [n, context_length]; out: [n, embed_dim] */
int coop_encode_text(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out);
/* text -> ids [context_length] with the model's tokenizer; returns the index of the last real
   token (CLIP: EOT; HF: </s>), -1 on error */
int coop_tokenize(coop_model *m, const char *text, int32_t *ids);
/* id of a single token string in the model's vocabulary, or -1 */
const float *coop_token_embedding(coop_model *m, int *vocab, int *dim);   /* [V, D] */

/* CoOp path: the text tower from input token embeddings (see the text tower sections).
   x [n, T, D], eot [n], out [n, E]; cache (optional) keeps what backward needs. */
typedef struct coop_text_cache coop_text_cache;
coop_text_cache *coop_text_cache_new(void);
void             coop_text_cache_free(coop_text_cache *c);
int coop_text_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                             int n, int T, int n_shared, float *out, coop_text_cache *cache);
int coop_text_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                              const float *dout, float *dx);

/* tower entry points (dispatched by coop_encode_* / coop_text_*_embeds) */
int coop_vit_encode(coop_model *m, coop_pool *p, const float *pixels, int n, float *out);
int coop_resnet_encode(coop_model *m, coop_pool *p, const float *pixels, int n, float *out);
int coop_cliptext_encode(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out);
int coop_hftext_encode(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out);
int coop_cliptext_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                                 int n, int T, int n_shared, float *out, coop_text_cache *cache);
int coop_cliptext_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                                  const float *dout, float *dx);
int coop_hftext_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                               int n, int T, int n_shared, float *out, coop_text_cache *cache);
int coop_hftext_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                                const float *dout, float *dx);

/* ---- images -------------------------------------------------------------------------- */
#ifndef COOP_IMAGE_API
#define COOP_IMAGE_API
/* 8-bit RGB, rows contiguous (w * 3 bytes each, no padding). Free with coop_image_free. */
typedef struct { int w, h; unsigned char *rgb; } coop_image;
/* Decodes PNG, JPEG (baseline + progressive), BMP, GIF (first frame), TGA, PSD, PNM, HDR with
   stb_image and converts to RGB as PIL's convert('RGB') does: grey is replicated, alpha is
   dropped (not composited), palettes are expanded. Images over COOP_IMAGE_MAX_PIXELS
   (64 Mpixel) are refused before decoding. On error img is zeroed and the message names the
   file. Thread-safe (stb's error string is thread-local). Limits:
   - JPEG: stb's IDCT and chroma upsampling are not libjpeg's (PIL): measured max 3 levels, mean
     0.08 on a 4:2:0 test image, max 6 / mean 0.17 on a 720x477 progressive photo; after
     coop_preprocess at 224 the difference is <= 2 levels. PNG / BMP / GIF decode exactly.
   - convert happens at load, as Dassl's read_image does. OpenCLIP's own transform converts
     after the resize, so for RGBA / LA / palette images fed to it unconverted PIL resizes
     premultiplied (RGBA) or nearest-neighbour (P) first: those differ from this path.
   - 16-bit PNGs keep the high byte (PIL does the same for RGB, but clips 16-bit grey). */
int  coop_image_load(const char *path, coop_image *img);
int  coop_image_load_mem(const void *data, size_t n, coop_image *img);
void coop_image_free(coop_image *img);
/* PIL's Image.resize((w, h), BICUBIC, box): antialiased bicubic (a = -0.5, support scaled by the
   downscale factor), horizontal pass then vertical pass, each in PIL's 22-bit fixed point with
   rounding and clamping to 8 bits. box = {x0, y0, x1, y1} (float, source pixels, as PIL's box=)
   or NULL for the whole image. dst is allocated (free with coop_image_free). */
int  coop_image_resize(const coop_image *src, int w, int h, const float box[4], coop_image *dst);
/* Test-time preprocessing, OpenCLIP's default (and Dassl's test transform): Resize(size)
   of the shorter side (torchvision's output size), CenterCrop(size) (torchvision's offsets,
   zero padding when too small), ToTensor, Normalize(mean, std). out: [3, size, size]. */
int  coop_preprocess(const coop_image *img, int size, const float mean[3], const float std[3], float *out);
/* torchvision RandomResizedCrop.get_params with scale (smin, smax), ratio (3/4, 4/3): up to 10
   attempts, then the central fallback. Draws from rng in torchvision's order (area, log-ratio,
   then top, left). box = {left, top, width, height} in pixels, always inside the image. */
void coop_random_resized_crop(int w, int h, float smin, float smax, coop_rng *rng, int box[4]);
/* F.resized_crop + optional hflip + ToTensor + Normalize: crop box {left, top, width, height}
   (inside the image), resize it to size x size (bicubic as above; the filter never reads
   outside the crop), mirror when flip. out: [3, size, size]. */
int  coop_preprocess_crop(const coop_image *img, const int box[4], int flip, int size,
                          const float mean[3], const float std[3], float *out);
/* Train-time (CoOp / Dassl): coop_random_resized_crop, then (when flip) one more draw
   u = coop_rng_uniform(rng) and a horizontal flip when u < 0.5, then coop_preprocess_crop. */
int  coop_preprocess_train(const coop_image *img, int size, float smin, float smax, int flip,
                           coop_rng *rng, const float mean[3], const float std[3], float *out);
#endif

/* ---- CLIP tokenizer ---------------------------------------------------------------------- */
#ifndef COOP_CLIP_TOK_API
#define COOP_CLIP_TOK_API
typedef struct coop_clip_tok coop_clip_tok;
/* merges_text: the uncompressed bpe_simple_vocab_16e6.txt (line 0 is a header; lines 1..48894
   are the merges OpenCLIP uses, merges[1:49152-256-2+1]). NULL + coop_set_error when malformed. */
coop_clip_tok *coop_clip_tok_new(const char *merges_text, size_t len);
void coop_clip_tok_free(coop_clip_tok *t);
/* text (UTF-8) -> BPE ids without SOT/EOT; returns the full count (may exceed cap; at most cap
   ids are written), -1 on error (invalid UTF-8) */
int coop_clip_tok_encode(coop_clip_tok *t, const char *text, int32_t *ids, int cap);
/* OpenCLIP tokenize(): ids[ctx] = [SOT] ids [EOT] 0...; truncated keeping EOT last.
   Returns the index of EOT, -1 on error. */
int coop_clip_tokenize(coop_clip_tok *t, const char *text, int32_t *ids, int ctx);
/* id of one vocabulary string (byte-encoded form, e.g. "x</w>", "<end_of_text>"), or -1 */
int coop_clip_tok_lookup(const coop_clip_tok *t, const char *token);
/* gzip (RFC 1952, one member) -> *out (free with coop_free), *outlen; checks CRC32 and ISIZE.
   Returns 0, or -1 + coop_set_error. */
int coop_gunzip(const void *gz, size_t n, void **out, size_t *outlen);
#endif

/* ---- Hugging Face tokenizers (RoBERTa, XLM-R) ---------------------------------------- */
typedef struct coop_hf_tok coop_hf_tok;
/* GPT-2 byte-level BPE from the texts of vocab.json and merges.txt (need not be NUL-terminated) */
coop_hf_tok *coop_hf_tok_new_bpe(const char *vocab_json, size_t vocab_len, const char *merges, size_t merges_len);
/* SentencePiece unigram from the bytes of sentencepiece.bpe.model; ids in fairseq order (XLM-R) */
coop_hf_tok *coop_hf_tok_new_unigram(const void *model, size_t len);
void coop_hf_tok_free(coop_hf_tok *t);
/* ids [ctx] = <s> ... </s> <pad>...; returns the index of </s>, or -1 (+ error) */
int coop_hf_tokenize(coop_hf_tok *t, const char *text, int32_t *ids, int ctx);

#ifdef __cplusplus
}
#endif
#endif /* COOP_H_API */
