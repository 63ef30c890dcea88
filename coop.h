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
     fp32 compute (f16 / bf16 model files are widened at load); the image tower can run in bf16
     compute instead (coop_model_set_bf16, AVX-512 BF16 CPUs, ~2x faster). ftfy's mojibake
     repair is not applied by the CLIP tokenizer. A coop_model is not safe for concurrent calls
     from several threads (it owns reusable work buffers): use one model per thread, or a lock.
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
/* bf16 compute for the image tower (ViT and ResNet forward; the text tower and CoOp's backward
   stay fp32): every matmul rounds its two operands to bf16 and sums the products in fp32 with
   AVX-512 BF16 dot products, about twice the speed of fp32. Off by default; image features then
   agree with fp32 to about 1e-2 relative (cosine ~0.9999). -1 + error when the CPU lacks
   AVX-512 BF16. Takes effect at the next encode (the weights are repacked then). */
int  coop_model_set_bf16(coop_model *m, int on);
int  coop_model_bf16(const coop_model *m);
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
/* Decodes PNG (8 and 16 bit), JPEG (baseline + progressive), BMP and GIF (first frame) with
   stb_image (its other formats are compiled out: the less hostile input reaches a decoder,
   the better) and converts to RGB as PIL's convert('RGB') does: grey is replicated, alpha is
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

#ifndef COOP_COOP_API
#define COOP_COOP_API
/* ---- prompt learner + trainer ----
   The prompt of class c is CoOp's: the text "X X ... X {classname}." (M placeholders, '_' in
   class names read as spaces) is tokenised; its token embeddings give the frozen rows (SOT
   before the context; the class tokens, '.', EOT after it) and the M placeholder rows are
   replaced by the learned context vectors. ctp END: [SOT][V]1..M[CLASS].[EOT]; MIDDLE:
   [SOT][V]1..M/2[CLASS][V]M/2+1..M.[EOT]; FRONT: [SOT][CLASS][V]1..M.[EOT].
   Word init ("a photo of a"): the context starts as the words' token embeddings and M is their
   number of tokens (CoOp counts words; the two agree for the usual inits). With csc, every class
   starts from the words (CoOp ignores csc when ctx_init is given). */
enum { COOP_CTP_END = 0, COOP_CTP_MIDDLE = 1, COOP_CTP_FRONT = 2 };
typedef struct coop_trainer_opts {
    int         n_ctx;          /* M context vectors (16); replaced by the token count of ctx_init */
    int         ctp;            /* COOP_CTP_* (END) */
    int         csc;            /* 1: class-specific context [ncls, M, D]; 0: shared [M, D] */
    const char *ctx_init;       /* NULL / "" = random N(0, 0.02) from seed; else init words */
    uint64_t    seed;           /* random init */
    float       momentum;       /* SGD as torch.optim.SGD: momentum 0.9, dampening 0, no nesterov */
    float       weight_decay;   /* 5e-4, added to the gradient before momentum */
} coop_trainer_opts;
void coop_trainer_opts_default(coop_trainer_opts *o);
typedef struct coop_trainer coop_trainer;
/* classnames are copied; the model and pool must outlive the trainer */
coop_trainer *coop_trainer_new(coop_model *m, coop_pool *p, const char *const *classnames, int ncls,
                               const coop_trainer_opts *o);
void coop_trainer_free(coop_trainer *t);
/* the learned context (writable): ndim 2 [M, D] or 3 [ncls, M, D] */
float *coop_trainer_ctx(coop_trainer *t, int *ndim, int64_t shape[3]);
/* the class prompts: ids [ncls, context_length] and EOT index per class (either may be NULL) */
void coop_trainer_prompts(const coop_trainer *t, const int32_t **ids, const int **eot, int *T);
/* prompt embeddings for the current context: x [ncls, T, D] (T from coop_trainer_prompts) */
int coop_trainer_prompt_embeds(coop_trainer *t, float *x);
/* classifier head for the current context: L2-normalised class text features [ncls, E] */
int coop_trainer_head(coop_trainer *t, float *head);
/* full-batch loss (mean cross entropy) of image features img [B, E] (raw) with labels [B];
   grad (same shape as ctx, may be NULL) = d loss / d ctx; logits [B, ncls] may be NULL */
int coop_trainer_loss(coop_trainer *t, const float *img, const int *labels, int B, float *loss,
                      float *grad, float *logits);
/* one SGD step at learning rate lr; loss and number of correct argmax predictions (may be NULL) */
int coop_trainer_step(coop_trainer *t, const float *img, const int *labels, int B, float lr,
                      float *loss, int *correct);
/* SGD momentum buffer (same shape as ctx) and whether it has been started (first step: buf = d_p) */
float *coop_trainer_momentum(coop_trainer *t, int **started);
int coop_trainer_save_ctx(coop_trainer *t, const char *path);  /* .npy, CoOp's ctx shape */
int coop_trainer_load_ctx(coop_trainer *t, const char *path);  /* shape must match */
/* exp(logit_scale) of the model (CLIP's learned temperature) */
int coop_logit_scale(coop_model *m, float *scale);
/* logits [B, ncls] = scale * cos(img_b, head_c); head rows already L2-normalised */
void coop_classify(const float *img, int B, const float *head, int ncls, int E, float scale, float *logits);

/* ---- learning rate: Dassl's build_lr_scheduler ----
   epochs < warmup_epochs: warmup_lr (ConstantWarmupScheduler); afterwards CosineAnnealingLR with
   T_max = epochs, eta_min 0, started at the end of warm-up: lr(e) = lr/2 (1 + cos(pi (e - W) / E)),
   or lr when cosine == 0. Stepped once per epoch. */
typedef struct { float lr, warmup_lr; int epochs, warmup_epochs, cosine; } coop_sched;
float coop_sched_lr(const coop_sched *s, int epoch);

/* ---- data sets ---- */
typedef struct { char *path; int rel; int label; } coop_item;   /* path + rel = path inside the root */
enum { COOP_SPLIT_TRAIN = 0, COOP_SPLIT_VAL = 1, COOP_SPLIT_TEST = 2 };
typedef struct coop_dataset {
    char      *root;            /* folder the relative paths start from */
    char      *split_file;      /* the split JSON read, or NULL (folder-per-class) */
    int        ncls;
    char     **classnames;      /* as in the data ('_' kept); the prompt learner reads '_' as ' ' */
    coop_item *items[3];
    int        n[3];
    int        n_missing;       /* files listed but absent (dropped when allow_missing) */
} coop_dataset;
/* DATA resolution, in order:
   1. DATA is a .json file: a CoOp split; images relative to its folder (or the one subfolder
      of it that holds the first listed file, e.g. 101_ObjectCategories/).
   2. DATA holds split_*.json (the first by name), or DATA/caltech-101/ does: the same.
   3. DATA holds train/ and test/ (and optionally val/) folders of class folders.
   4. DATA is a folder of class folders: each class is split 50% train / 20% val / 30% test
      after a shuffle with split_seed (Dassl's read_and_split_data proportions).
   Missing files: an error naming the first one and the count, unless allow_missing, which
   drops them (d->n_missing counts them) -- a silently shrunken test set changes the accuracy. */
coop_dataset *coop_dataset_open(const char *data, uint64_t split_seed, int allow_missing);
void coop_dataset_free(coop_dataset *d);
/* Dassl generate_fewshot_dataset: per label (in order of first appearance) k items sampled
   without replacement (partial Fisher-Yates with rng), all items when fewer than k (as Dassl
   with repeat=False; *n_short counts such labels). k <= 0: all items. out: coop_malloc'd
   array of items whose paths alias `items`. */
int coop_fewshot(const coop_item *items, int n, int k, coop_rng *rng, coop_item **out, int *nout,
                 int *n_short);
/* CoOp split JSON {"train": [[rel, label, classname], ...], "val": ..., "test": ...} */
int coop_split_write(const char *path, const coop_dataset *d, const coop_item *const items[3],
                     const int n[3]);
/* image features [n, E] (raw) of files; seeds == NULL: test-time preprocessing (resize shorter
   side + center crop); else train-time random-resized-crop (scale 0.08-1) + flip from
   coop_rng seeded with seeds[i], so results do not depend on the thread count. Decoding and
   preprocessing run on the pool's threads; an unreadable image is an error naming it. */
int coop_image_features(coop_model *m, coop_pool *p, const coop_item *items, int n,
                        const uint64_t *seeds, float *out);

/* ---- small JSON reader (used for split files; public for embedders) ---- */
enum { COOP_JSON_NULL, COOP_JSON_BOOL, COOP_JSON_NUM, COOP_JSON_STR, COOP_JSON_ARR, COOP_JSON_OBJ };
typedef struct coop_json {
    int type, n;                /* n: elements of an array / members of an object */
    double num;                 /* NUM, BOOL */
    char *str;                  /* STR (UTF-8, NUL-terminated) */
    char **keys;                /* OBJ */
    struct coop_json *kids;     /* ARR / OBJ values */
    size_t offset;              /* byte offset in the text (for messages) */
} coop_json;
/* parses text; errors name `what` and the byte offset; free with coop_json_free */
coop_json *coop_json_parse(const char *text, size_t len, const char *what);
void coop_json_free(coop_json *j);
const coop_json *coop_json_get(const coop_json *obj, const char *key);   /* NULL if absent */
#endif

#ifdef __cplusplus
}
#endif
#endif /* COOP_H_API */

#ifdef COOP_IMPLEMENTATION
#ifndef COOP_IMPLEMENTED
#define COOP_IMPLEMENTED

/* ===================================================================================== */
/* Base: errors, aligned memory, RNG, half floats, .npy files, arena, UTF-8               */
/* ===================================================================================== */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_THREADS__)
#define COOP_THREAD_LOCAL _Thread_local
#elif defined(__GNUC__) || defined(__clang__)
#define COOP_THREAD_LOCAL __thread
#else
#define COOP_THREAD_LOCAL
#endif

static COOP_THREAD_LOCAL char coop__err[512];

void coop_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(coop__err, sizeof coop__err, fmt, ap);
    va_end(ap);
}

const char *coop_last_error(void) { return coop__err[0] ? coop__err : "no error"; }

void *coop_malloc(size_t n) {
    /* C11 aligned_alloc wants a size that is a multiple of the alignment */
    void *p = n > SIZE_MAX - 64 ? NULL : aligned_alloc(64, n ? (n + 63) & ~(size_t)63 : 64);
    if (!p) {
        coop_set_error("out of memory (%zu bytes)", n);
        return NULL;
    }
    return p;
}

void *coop_calloc(size_t n) {
    void *p = coop_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void coop_free(void *p) { free(p); }

/* ---- RNG: xoshiro256** (Blackman & Vigna), seeded through splitmix64 ------------------- */
static uint64_t coop__splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void coop_rng_seed(coop_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = coop__splitmix(&seed);
}

static uint64_t coop__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t coop_rng_u64(coop_rng *r) {
    uint64_t *s = r->s, res = coop__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = coop__rotl(s[3], 45);
    return res;
}

double coop_rng_uniform(coop_rng *r) { return (double)(coop_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); }   /* 2^-53 */

double coop_rng_normal(coop_rng *r) {
    /* Box-Muller; one of the pair is dropped so the stream stays stateless */
    double u1 = 1.0 - coop_rng_uniform(r), u2 = coop_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int coop_rng_below(coop_rng *r, int n) {
    if (n <= 1) return 0;
    /* rejection sampling: no modulo bias */
    uint64_t lim = UINT64_MAX - UINT64_MAX % (uint64_t)n, x;
    do x = coop_rng_u64(r); while (x >= lim);
    return (int)(x % (uint64_t)n);
}

/* ---- half floats -------------------------------------------------------------------- */
static uint32_t coop__fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float coop__bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float coop_f16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) return coop__bitsf(s | 0x7f800000u | (m << 13));   /* inf / nan */
    if (e == 0) {                                                       /* zero / subnormal */
        float v = (float)m * (1.0f / 16777216.0f);                     /* 2^-24 */
        return s ? -v : v;
    }
    return coop__bitsf(s | ((e + 112) << 23) | (m << 13));
}

uint16_t coop_f32_to_f16(float f) {
    uint32_t u = coop__fbits(f), s = (u >> 16) & 0x8000, a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) return (uint16_t)(s | 0x7c00 | (a > 0x7f800000u ? 0x200 : 0));
    if (a >= 0x477ff000u) return (uint16_t)(s | 0x7c00);                /* rounds to inf */
    if (a < 0x38800000u) {                                              /* subnormal half */
        float v = coop__bitsf(a) * 16777216.0f;                         /* 2^24, exact in float */
        return (uint16_t)(s | (uint32_t)lrintf(v));                      /* rint = nearest even */
    }
    uint32_t r = a + 0xfff + ((a >> 13) & 1);                           /* nearest even */
    return (uint16_t)(s | ((r - 0x38000000u) >> 13));
}

float coop_bf16_to_f32(uint16_t h) { return coop__bitsf((uint32_t)h << 16); }

uint16_t coop_f32_to_bf16(float f) {
    uint32_t u = coop__fbits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

/* ---- files ---------------------------------------------------------------------------- */
char *coop_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { coop_set_error("%s: %s", path, strerror(errno)); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *buf = (char *)malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap) break;
        char *nb = (char *)realloc(buf, cap * 2);
        if (!nb) { free(buf); buf = NULL; break; }
        buf = nb; cap *= 2;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) { free(buf); coop_set_error("%s: read failed", path); return NULL; }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* write PATH.tmp then rename: a reader never sees a half-written file */
int coop_write_file_atomic(const char *path, const void *data, size_t len) {
    size_t pl = strlen(path);
    char *tmp = (char *)malloc(pl + 8);
    if (!tmp) { coop_set_error("out of memory"); return -1; }
    memcpy(tmp, path, pl); memcpy(tmp + pl, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) { coop_set_error("%s: %s", tmp, strerror(errno)); free(tmp); return -1; }
    int ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        coop_set_error("%s: write failed: %s", path, strerror(errno));
        remove(tmp); free(tmp); return -1;
    }
    free(tmp);
    return 0;
}

/* ---- .npy ------------------------------------------------------------------------------ */
int coop_npy_write(const char *path, const char *dtype, const void *data, int ndim, const int64_t *shape) {
    if (strcmp(dtype, "<f4") && strcmp(dtype, "<i4")) { coop_set_error("%s: unsupported npy dtype %s", path, dtype); return -1; }
    if (ndim < 0 || ndim > 8) { coop_set_error("%s: bad ndim %d", path, ndim); return -1; }
    char hdr[256], sh[160] = "";
    size_t numel = 1, o = 0;
    for (int i = 0; i < ndim; i++) {
        o += (size_t)snprintf(sh + o, sizeof sh - o, "%lld,%s", (long long)shape[i], (ndim > 1 && i < ndim - 1) ? " " : "");
        numel *= (size_t)shape[i];
    }
    if (ndim > 1) sh[o - 1] = 0;           /* (2, 3) not (2, 3,) */
    int n = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", dtype, sh);
    int total = 10 + n + 1;
    int pad = (64 - total % 64) % 64;
    memset(hdr + 10 + n, ' ', (size_t)pad);
    hdr[10 + n + pad] = '\n';
    total += pad;
    memcpy(hdr, "\x93NUMPY\x01\x00", 8);
    hdr[8] = (char)((total - 10) & 0xff); hdr[9] = (char)((total - 10) >> 8);
    size_t bytes = numel * 4;
    char *buf = (char *)malloc((size_t)total + bytes);
    if (!buf) { coop_set_error("out of memory"); return -1; }
    memcpy(buf, hdr, (size_t)total);
    if (bytes) memcpy(buf + total, data, bytes);
    int rc = coop_write_file_atomic(path, buf, (size_t)total + bytes);
    free(buf);
    return rc;
}

int coop_npy_read(const char *path, char dtype[8], int *ndim, int64_t shape[8], void **data) {
    size_t len;
    char *buf = coop_read_file(path, &len);
    *data = NULL;
    if (!buf) return -1;
    const char *why = NULL;
    size_t hl = 0, off = 0;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6)) why = "not a .npy file";
    else if (buf[6] == 1) { hl = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8); off = 10; }
    else if (buf[6] == 2 || buf[6] == 3) {
        if (len < 12) why = "truncated header";
        else { hl = (unsigned char)buf[8] | ((size_t)(unsigned char)buf[9] << 8) | ((size_t)(unsigned char)buf[10] << 16) | ((size_t)(unsigned char)buf[11] << 24); off = 12; }
    } else why = "unsupported .npy version";
    if (!why && off + hl > len) why = "truncated header";
    char d[8] = "";
    int nd = 0;
    int64_t sh[8];
    size_t numel = 1;
    if (!why) {
        char *h = buf + off, save = h[hl];
        h[hl] = 0;
        char *p = strstr(h, "'descr'"), *q = strstr(h, "'fortran_order'"), *s = strstr(h, "'shape'");
        if (!p || !q || !s) why = "malformed header";
        else {
            p = strchr(p + 7, '\'');
            if (!p || sscanf(p + 1, "%7[^']", d) != 1) why = "malformed descr";
            if (!why && !strstr(q, "False")) why = "fortran order not supported";
            s = strchr(s, '(');
            if (!why && !s) why = "malformed shape";
            for (s = s ? s + 1 : s; !why && *s && *s != ')';) {
                while (*s == ' ' || *s == ',') s++;
                if (*s == ')') break;
                char *e;
                long long v = strtoll(s, &e, 10);
                if (e == s || v < 0 || nd == 8) { why = "malformed shape"; break; }
                sh[nd++] = v; s = e;
                if (v && numel > ((size_t)1 << 40) / (size_t)v) { why = "shape too large"; break; }
                numel *= (size_t)v;
            }
        }
        h[hl] = save;
    }
    size_t es = 0;
    if (!why) {
        if (!strcmp(d, "<f4") || !strcmp(d, "<i4")) es = 4;
        else if (!strcmp(d, "<f8") || !strcmp(d, "<i8")) es = 8;
        else why = "unsupported dtype (want <f4, <i4, <f8 or <i8)";
    }
    if (!why && len - off - hl < numel * es) why = "truncated data";
    if (why) { coop_set_error("%s: %s", path, why); free(buf); return -1; }
    void *out = coop_malloc(numel * 4 + 4);
    if (!out) { free(buf); return -1; }
    const char *src = buf + off + hl;
    if (es == 4) memcpy(out, src, numel * 4);
    else if (d[1] == 'f') for (size_t i = 0; i < numel; i++) { double v; memcpy(&v, src + 8 * i, 8); ((float *)out)[i] = (float)v; }
    else for (size_t i = 0; i < numel; i++) { int64_t v; memcpy(&v, src + 8 * i, 8); ((int32_t *)out)[i] = (int32_t)v; }
    snprintf(dtype, 8, "<%c4", d[1]);
    *ndim = nd;
    for (int i = 0; i < nd; i++) shape[i] = sh[i];
    *data = out;
    free(buf);
    return 0;
}

/* ---- arena ------------------------------------------------------------------------------ */
int coop_arena_reserve(coop_arena *a, size_t bytes) {
    if (bytes <= a->size) return 0;
    if (a->used) { coop_set_error("arena: reserve while in use"); return -1; }
    coop_free(a->base);
    a->base = (unsigned char *)coop_malloc(bytes);
    a->size = a->base ? bytes : 0;
    return a->base ? 0 : -1;
}

void *coop_arena_alloc(coop_arena *a, size_t bytes) {
    size_t n = (bytes + 63) & ~(size_t)63;
    if (a->used + n > a->size) {
        coop_set_error("arena: out of space (%zu of %zu bytes used, %zu wanted)", a->used, a->size, n);
        a->high = a->used + n > a->high ? a->used + n : a->high;
        return NULL;
    }
    void *p = a->base + a->used;
    a->used += n;
    if (a->used > a->high) a->high = a->used;
    return p;
}

void coop_arena_reset(coop_arena *a) { a->used = 0; }
void coop_arena_free(coop_arena *a) { coop_free(a->base); memset(a, 0, sizeof *a); }

/* ---- UTF-8 -------------------------------------------------------------------------------- */
int coop_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return -1;
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (!len || c > 0xf4 || (size_t)len > n) return -1;
    uint32_t v = c & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return -1;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return -1;
    *cp = v;
    return len;
}

int coop_utf8_encode(uint32_t cp, char out[4]) {
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xc0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f)); return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int coop_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        int k = coop_utf8_decode(u + i, n - i, &cp);
        if (k < 0) return 0;
        i += (size_t)k;
    }
    return 1;
}

/* ---- stb_image ---------------------------------------------------------------------------- */
/* Decodes images (section "Images") and inflates the gzip'd CLIP vocabulary (coop_gunzip).
   Included here as a static implementation, so it never clashes with the embedder's own copy,
   unless stb_image.h was included before coop.h or COOP_NO_STB_IMAGE is defined (then the
   embedder links stb_image, which must keep its default STBI_MALLOC / STBI_FREE: our image
   buffers are released with free()). */
#if !defined(STBI_INCLUDE_STB_IMAGE_H)
#if defined(COOP_NO_STB_IMAGE)
#ifdef __cplusplus
extern "C" {   /* stb_image.h declares its API extern "C" */
#endif
unsigned char *stbi_load_from_memory(const unsigned char *buffer, int len, int *x, int *y, int *comp, int req_comp);
int stbi_info_from_memory(const unsigned char *buffer, int len, int *x, int *y, int *comp);
const char *stbi_failure_reason(void);
char *stbi_zlib_decode_noheader_malloc(const char *buffer, int len, int *outlen);
#ifdef __cplusplus
}
#endif
#else
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
/* zeroed blocks: stb 2.27 leaves progressive-JPEG coefficient buffers uninitialised, so a file
   whose scans skip coefficients or components decodes to pixels made of stale heap contents
   (differs run to run). calloc'd memory is still released with free(). */
#define STBI_MALLOC(sz) calloc(1, sz)
#define STBI_REALLOC(p, newsz) realloc(p, newsz)
#define STBI_FREE(p) free(p)
/* only the formats datasets use; stb 2.27's PNM / PSD / TGA / HDR readers have known memory
   errors on hostile files (e.g. 16-bit PNM overflows in stbi__convert_16_to_8) */
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_NO_STDIO
/* the static stb has many functions we never call, and Debian's 2.27 header declares
   stbi_set_unpremultiply_on_load_thread without defining it; GCC reports that at the end of the
   translation unit, past any push/pop, so the switch has to stay off from here on */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif
#include <stb/stb_image.h>
#endif
#endif

/* ===================================================================================== */
/* Thread pool: the caller takes part; idle workers spin briefly, then sleep              */
/* ===================================================================================== */
/* One job at a time: coop_pool_run publishes (fn, ctx, ntasks) and the threads claim task
   indices from one 64-bit word  [generation:24 | next task:20 | ntasks:20]  by compare-and-
   swap. A claim succeeds only while the word still names the job the thread read fn/ctx
   for, so a worker that wakes late can never run a task of a finished job with the
   function of the next one. The caller returns once every task has finished (it counts
   finished tasks, not workers, so a worker descheduled by another process does not hold
   the caller up when the others did its share).
   Idle workers spin for ~45 us (back-to-back jobs such as one layer's matmuls are then
   picked up in well under 1 us), then sleep on a condition variable: nothing spins while
   the program does serial work or waits for I/O, so the pool does not compete with other
   threads for the cores. Waking a sleeping worker is expensive on some VMs (the caller
   spends ~30 us in the wake-up call on the 2-vCPU test machine), so it happens only when
   a worker really sleeps. The caller, whose core is idle anyway while it waits for the
   last tasks, spins ~4x longer before it sleeps.
   Several threads may share a pool (jobs are serialised); a task that calls
   coop_pool_run runs that job serially in its own thread. */
#include <pthread.h>

#define POOL_TBITS 20                       /* task index / count bits of the job word */
#define POOL_TMAX ((1 << POOL_TBITS) - 1)   /* larger jobs run in rounds (pool__big_task) */
#define POOL_SPIN 2000                      /* pause-loop iterations before sleeping: ~45 us on Zen 5 */

struct coop_pool {
    int n;                  /* threads including the caller */
    pthread_t *th;
    pthread_mutex_t run;    /* one job at a time when several threads share the pool */
    pthread_mutex_t mu;
    pthread_cond_t go;      /* workers sleep here between jobs */
    pthread_cond_t fin;     /* the caller sleeps here until the last task ends */
    uint64_t word;          /* atomic: gen | next | ntasks (see above) */
    coop_task_fn fn;        /* atomic (relaxed): the current job */
    void *ctx;
    int done;               /* atomic: finished tasks of the current job */
    int sleeping;           /* atomic: workers waiting on go */
    int waiting;            /* atomic: the caller waits on fin */
    int quit;               /* atomic */
};

/* set while a thread runs a task: coop_pool_run from inside a task runs serially */
static COOP_THREAD_LOCAL int pool__in_task;

static void pool__relax(void) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_ia32_pause();
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
    __asm__ __volatile__("yield");
#endif
}

#define POOL_GEN(w) ((w) >> (2 * POOL_TBITS))
#define POOL_NEXT(w) ((int)(((w) >> POOL_TBITS) & POOL_TMAX))
#define POOL_NT(w) ((int)((w) & POOL_TMAX))

/* claims and runs tasks of job generation `gen` until none are left */
static void pool__drain(coop_pool *p, uint64_t gen) {
    uint64_t w = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE);
    for (;;) {
        if (POOL_GEN(w) != gen || POOL_NEXT(w) >= POOL_NT(w)) return;
        /* fn and ctx were stored before the word that names this generation */
        coop_task_fn fn = __atomic_load_n(&p->fn, __ATOMIC_RELAXED);
        void *ctx = __atomic_load_n(&p->ctx, __ATOMIC_RELAXED);
        int t = POOL_NEXT(w), nt = POOL_NT(w);
        if (!__atomic_compare_exchange_n(&p->word, &w, w + ((uint64_t)1 << POOL_TBITS), 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;   /* w now holds the current word */
        pool__in_task = 1;
        fn(ctx, t, nt);
        pool__in_task = 0;
        if (__atomic_add_fetch(&p->done, 1, __ATOMIC_SEQ_CST) == nt && __atomic_load_n(&p->waiting, __ATOMIC_SEQ_CST)) {
            /* the last task of the job and the caller went to sleep: wake it. (Not taking
               the lock otherwise matters: a worker descheduled while it holds the lock
               would hold up a caller that has nothing to wait for.) */
            pthread_mutex_lock(&p->mu);
            pthread_cond_broadcast(&p->fin);
            pthread_mutex_unlock(&p->mu);
        }
        w = __atomic_load_n(&p->word, __ATOMIC_ACQUIRE);
    }
}

static void *pool__worker(void *arg) {
    coop_pool *p = (coop_pool *)arg;
    uint64_t seen = POOL_GEN(__atomic_load_n(&p->word, __ATOMIC_ACQUIRE));
    for (;;) {
        uint64_t gen = seen;
        for (int s = 0; s < POOL_SPIN; s++) {
            gen = POOL_GEN(__atomic_load_n(&p->word, __ATOMIC_ACQUIRE));
            if (gen != seen || __atomic_load_n(&p->quit, __ATOMIC_RELAXED)) break;
            pool__relax();
        }
        if (gen == seen) {
            pthread_mutex_lock(&p->mu);
            __atomic_add_fetch(&p->sleeping, 1, __ATOMIC_SEQ_CST);
            while (!__atomic_load_n(&p->quit, __ATOMIC_SEQ_CST) &&
                   (gen = POOL_GEN(__atomic_load_n(&p->word, __ATOMIC_SEQ_CST))) == seen)
                pthread_cond_wait(&p->go, &p->mu);
            __atomic_sub_fetch(&p->sleeping, 1, __ATOMIC_SEQ_CST);
            pthread_mutex_unlock(&p->mu);
        }
        if (__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE)) break;
        seen = gen;
        pool__drain(p, gen);
    }
    return NULL;
}

coop_pool *coop_pool_create(int nthreads) {
    if (nthreads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        nthreads = c > 0 ? (int)c : 1;
    }
    if (nthreads > 256) nthreads = 256;
    coop_pool *p = (coop_pool *)calloc(1, sizeof *p);
    if (!p) { coop_set_error("out of memory"); return NULL; }
    p->n = 1;
    pthread_mutex_init(&p->run, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->fin, NULL);
    p->th = (pthread_t *)calloc((size_t)nthreads, sizeof(pthread_t));
    /* fewer threads than asked when the system refuses more: the pool still works */
    for (int i = 1; p->th && i < nthreads; i++, p->n++)
        if (pthread_create(&p->th[i], NULL, pool__worker, p) != 0) break;
    return p;
}

void coop_pool_free(coop_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->quit, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->th[i], NULL);
    pthread_mutex_destroy(&p->run);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->fin);
    free(p->th);
    free(p);
}

int coop_pool_threads(const coop_pool *p) { return p ? p->n : 1; }

/* jobs of more than POOL_TMAX tasks run as rounds of a trampoline (rare: ~1M tasks) */
typedef struct { coop_task_fn fn; void *ctx; int base, ntasks; } pool__big;
static void pool__big_task(void *arg, int t, int nt) {
    pool__big *b = (pool__big *)arg;
    (void)nt;
    b->fn(b->ctx, b->base + t, b->ntasks);
}

void coop_pool_run(coop_pool *p, int ntasks, coop_task_fn fn, void *ctx) {
    if (ntasks <= 0) return;
    if (!p || p->n == 1 || ntasks == 1 || pool__in_task) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t, ntasks);
        return;
    }
    if (ntasks > POOL_TMAX) {
        pool__big b = {fn, ctx, 0, ntasks};
        for (; b.base < ntasks; b.base += POOL_TMAX) {
            int n = ntasks - b.base < POOL_TMAX ? ntasks - b.base : POOL_TMAX;
            coop_pool_run(p, n, pool__big_task, &b);
        }
        return;
    }
    /* publish: fn, ctx and the done count first, then the word with a new generation */
    pthread_mutex_lock(&p->run);
    __atomic_store_n(&p->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&p->ctx, ctx, __ATOMIC_RELAXED);
    __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED);
    uint64_t gen = (POOL_GEN(__atomic_load_n(&p->word, __ATOMIC_RELAXED)) + 1) & 0xffffff;
    __atomic_store_n(&p->word, gen << (2 * POOL_TBITS) | (uint64_t)ntasks, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleeping, __ATOMIC_SEQ_CST) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    pool__drain(p, gen);
    /* the others finish their last tasks: spin a little, then sleep */
    for (int s = 0; s < 4 * POOL_SPIN && __atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < ntasks; s++) pool__relax();
    if (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < ntasks) {
        pthread_mutex_lock(&p->mu);
        __atomic_store_n(&p->waiting, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&p->done, __ATOMIC_SEQ_CST) < ntasks) pthread_cond_wait(&p->fin, &p->mu);
        __atomic_store_n(&p->waiting, 0, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_unlock(&p->run);
}

/* ===================================================================================== */
/* Matrix multiply: C[M,N] = beta*C + A[M,K] op(B) (+ bias)                               */
/* ===================================================================================== */
/* Order of the sums (the same for every shape, thread count and schedule):
     C[i,n] starts at (beta ? C[i,n] + bias[n] : bias[n])   (bias 0 when NULL), then
     A[i,k] * B[k,n] is added for k = 0, 1, ..., K-1, one fused multiply-add at a time.
   So a row of C depends only on its row of A and on B: results are bit-identical for any
   thread count, any M (a prompt computed alone or among 100 others), any blocking. The
   kernels differ only in FMA (avx512, avx2) versus separate multiply and add (portable).

   Blocking (GotoBLAS / BLIS style), sized for 48 KB L1D and 1 MB L2 per core:
     - op(B) is packed into panels of NR columns, k-major ([k][NR], zero past column N), and
       A into micro-panels of MR rows, k-major ([k][MR]). Packing A matters even though it
       is small: rows of A 8 or 12 KB apart (K = 2048, 3072) all map to the same L1 set, and
       broadcasting from 14 such rows ran at half speed.
     - The micro-kernel holds an MR x NR tile of C in registers (AVX-512: 14 x 32 in 28 zmm)
       and runs k over a block of KC, loading / storing the tile once per block. KC = 768
       measured best here (fewer tile reloads beat keeping the B panel in L1; it streams
       from L2).
   Threads: tall products (M > GEMM_SMALLM) pack all of B once, in parallel by panel, then
   split the rows of C into blocks; each task packs its A block (MC x KC, L2) per K block.
   Short ones (batch-1 ViT: M = 50, attention: 77) pack all of A once, then split the
   columns; each task packs only its own B panels, one KC block at a time (L1/L2), so B is
   still packed exactly once. K is never split across threads.
   Measured on the 2-core Zen 5 (fp32 FMA peak 220 GFLOPS per core, 435 for both), see
   build/bench gemm: ~88% of peak on 1 thread and 80-87% on 2 for the large ViT and text
   shapes, ~70% for batch-1 ViT (M = 50, where packing B is a larger share). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_X86 1
#if defined(__cplusplus) && defined(__GNUC__) && !defined(__clang__)
/* g++ 12 (a GCC bug, C++ only) flags the self-init '__m512 __Y = __Y;' of _mm512_undefined_ps
   as (maybe-)uninitialized in every inlined intrinsic; silenced for the header's lines only */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#else
#define GEMM_X86 0
#endif

#define GEMM_KC 768         /* k per block: the C tile is loaded / stored once per block */
#define GEMM_MC 252         /* rows of A per packed block (tall): 252 x 768 x 4 = 774 KB, L2 */
#define GEMM_SMALLM 168     /* M up to this: short product (A packed once, column tasks) */
#define GEMM_MINFLOP 1.5e6  /* fewer flops than this: serial (a pool round costs ~1-15 us) */

/* the micro-kernel: C[R x w] (+)= Apanel[kc][MR] * Bpanel[kc][NR], R <= MR rows, w <= NR
   columns; init = 1 on the first K block: the tile starts at (beta ? C + bias : bias) */
typedef struct {
    const float *a;            /* packed A micro-panel [kc][MR] (rows past R unused) */
    const float *b;            /* packed B micro-panel [kc][NR] (zero past w) */
    float *c; size_t ldc;
    const float *bias;         /* bias + first column of the tile, or NULL */
    const float *pf;           /* C tile of the next call: prefetched during this one */
    int kc, rows, w, init, beta;
    int relu;                  /* last K block of a product with a ReLU epilogue: store max(0, c) */
} gemm__tile;
typedef void (*gemm__kern_fn)(const gemm__tile *t);

/* ---- portable kernel: 4 x 16, plain C ---------------------------------------------------- */
#define GEMM_P_MR 4
#define GEMM_P_NR 16
static void gemm__kern_portable(const gemm__tile *t) {
    float acc[GEMM_P_MR][GEMM_P_NR];
    const int R = t->rows, w = t->w;
    for (int r = 0; r < R; r++)
        for (int q = 0; q < GEMM_P_NR; q++) {
            float v = 0.0f;
            if (q < w) {
                float bv = t->bias ? t->bias[q] : 0.0f;
                if (!t->init) v = t->c[r * t->ldc + q];
                else v = t->beta ? t->c[r * t->ldc + q] + bv : bv;
            }
            acc[r][q] = v;
        }
    for (int k = 0; k < t->kc; k++) {
        const float *bk = t->b + (size_t)k * GEMM_P_NR;
        for (int r = 0; r < R; r++) {
            float av = t->a[(size_t)k * GEMM_P_MR + r];
            for (int q = 0; q < GEMM_P_NR; q++) acc[r][q] += av * bk[q];
        }
    }
    for (int r = 0; r < R; r++)
        for (int q = 0; q < w; q++) t->c[r * t->ldc + q] = t->relu && !(acc[r][q] > 0.0f) ? 0.0f : acc[r][q];
}

#if GEMM_X86
/* The SIMD kernels name their accumulators (c0a, c0b, c1a, ...) instead of using an array:
   clang keeps an array of __m512 on the stack even when every index is a constant, which
   halves the speed. Each kernel is instantiated for every row count R = 1 .. MR; the
   `r < R` tests are compile-time constants, so edge tiles cost no wasted FMAs. */

/* ---- AVX2 + FMA: 6 x 16 (12 ymm accumulators) ------------------------------------------ */
#define GEMM_A2_MR 6
#define GEMM_A2_NR 16
#define GEMM_A2_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
__attribute__((target("avx2,fma"), always_inline))
static inline void gemm__avx2_body(const int R, const gemm__tile *t) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t->w), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(t->w - 8), lane);
    const size_t ldc = t->ldc;
    float *c = t->c;
    __m256 z0 = _mm256_setzero_ps(), z1 = z0;
    if (t->init && t->bias) { z0 = _mm256_maskload_ps(t->bias, m0); z1 = _mm256_maskload_ps(t->bias + 8, m1); }
    const int load = !t->init || t->beta;   /* tile starts from C (+ bias on the first block) */
#define GEMM_DECL(r) __m256 c##r##a = z0, c##r##b = z1;                                        \
    if (r < R && load) {                                                                       \
        c##r##a = _mm256_maskload_ps(c + r * ldc, m0);                                         \
        c##r##b = _mm256_maskload_ps(c + r * ldc + 8, m1);                                     \
        if (t->init) { c##r##a = _mm256_add_ps(c##r##a, z0); c##r##b = _mm256_add_ps(c##r##b, z1); } \
    }
    GEMM_A2_ROWS(GEMM_DECL)
#undef GEMM_DECL
    const float *a = t->a, *b = t->b;
    for (int k = 0; k < t->kc; k++, b += GEMM_A2_NR, a += GEMM_A2_MR) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), av;
#define GEMM_STEP(r) if (r < R) {                                                              \
        av = _mm256_broadcast_ss(a + r);                                                       \
        c##r##a = _mm256_fmadd_ps(av, b0, c##r##a);                                            \
        c##r##b = _mm256_fmadd_ps(av, b1, c##r##b);                                            \
    }
        GEMM_A2_ROWS(GEMM_STEP)
#undef GEMM_STEP
    }
    if (t->relu) {
#define GEMM_RELU(r) if (r < R) { c##r##a = _mm256_max_ps(c##r##a, z); c##r##b = _mm256_max_ps(c##r##b, z); }
        const __m256 z = _mm256_setzero_ps();
        GEMM_A2_ROWS(GEMM_RELU)
#undef GEMM_RELU
    }
#define GEMM_STORE(r) if (r < R) {                                                             \
        _mm256_maskstore_ps(c + r * ldc, m0, c##r##a);                                         \
        _mm256_maskstore_ps(c + r * ldc + 8, m1, c##r##b);                                     \
    }
    GEMM_A2_ROWS(GEMM_STORE)
#undef GEMM_STORE
}
#define GEMM_A2_K(R) \
    __attribute__((target("avx2,fma"))) static void gemm__avx2_##R(const gemm__tile *t) { gemm__avx2_body(R, t); }
GEMM_A2_K(1) GEMM_A2_K(2) GEMM_A2_K(3) GEMM_A2_K(4) GEMM_A2_K(5) GEMM_A2_K(6)
static void gemm__kern_avx2(const gemm__tile *t) {
    static const gemm__kern_fn f[GEMM_A2_MR] = {gemm__avx2_1, gemm__avx2_2, gemm__avx2_3,
                                                gemm__avx2_4, gemm__avx2_5, gemm__avx2_6};
    f[t->rows - 1](t);
}

/* ---- AVX-512: 14 x 32 (28 zmm accumulators, 2 for the B row, 1 for the broadcast) ------- */
#define GEMM_Z_MR 14
#define GEMM_Z_NR 32
#define GEMM_Z_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
/* the C tile in 28 accumulators: masks for the w valid columns, start from bias / C (prologue);
   ReLU epilogue, store (epilogue). Shared by the fp32 and the bf16 kernels. */
#define GEMM_Z_DECL(r) __m512 c##r##a = z0, c##r##b = z1;                                      \
    if (r < R && load) {                                                                       \
        c##r##a = _mm512_maskz_loadu_ps(m0, c + r * ldc);                                      \
        c##r##b = _mm512_maskz_loadu_ps(m1, c + r * ldc + 16);                                 \
        if (t->init) { c##r##a = _mm512_add_ps(c##r##a, z0); c##r##b = _mm512_add_ps(c##r##b, z1); } \
    }
#define GEMM_Z_PROLOGUE                                                                        \
    const int w = t->w;                                                                        \
    const __mmask16 m0 = (__mmask16)(w >= 16 ? 0xffff : (1u << w) - 1);                        \
    const __mmask16 m1 = (__mmask16)(w >= 32 ? 0xffff : w > 16 ? (1u << (w - 16)) - 1 : 0);    \
    const size_t ldc = t->ldc;                                                                 \
    float *c = t->c;                                                                           \
    __m512 z0 = _mm512_setzero_ps(), z1 = z0;                                                  \
    if (t->init && t->bias) { z0 = _mm512_maskz_loadu_ps(m0, t->bias); z1 = _mm512_maskz_loadu_ps(m1, t->bias + 16); } \
    const int load = !t->init || t->beta;   /* tile starts from C (+ bias on the first block) */ \
    GEMM_Z_ROWS(GEMM_Z_DECL)
#define GEMM_Z_RELU(r) if (r < R) { c##r##a = _mm512_max_ps(c##r##a, z); c##r##b = _mm512_max_ps(c##r##b, z); }
#define GEMM_Z_STORE(r) if (r < R) {                                                           \
        _mm512_mask_storeu_ps(c + r * ldc, m0, c##r##a);                                       \
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1, c##r##b);                                  \
    }
#define GEMM_Z_EPILOGUE                                                                        \
    if (t->relu) { const __m512 z = _mm512_setzero_ps(); GEMM_Z_ROWS(GEMM_Z_RELU) }            \
    GEMM_Z_ROWS(GEMM_Z_STORE)
__attribute__((target("avx512f"), always_inline))
static inline void gemm__avx512_body(const int R, const gemm__tile *t) {
    GEMM_Z_PROLOGUE
    const float *a = t->a, *b = t->b;
    const char *pf = (const char *)t->pf;
    for (int k = 0; k < t->kc; k++, b += GEMM_Z_NR, a += GEMM_Z_MR) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16), av;
        /* the next tile of C, two cache lines per row, during the first 2 MR steps */
        if (k < 2 * GEMM_Z_MR) _mm_prefetch(pf + (k >> 1) * ldc * 4 + (k & 1) * 64, _MM_HINT_T0);
#define GEMM_STEP(r) if (r < R) {                                                              \
        av = _mm512_set1_ps(a[r]);                                                             \
        c##r##a = _mm512_fmadd_ps(av, b0, c##r##a);                                            \
        c##r##b = _mm512_fmadd_ps(av, b1, c##r##b);                                            \
    }
        GEMM_Z_ROWS(GEMM_STEP)
#undef GEMM_STEP
    }
    GEMM_Z_EPILOGUE
}
/* a 14 x 32 body instantiated for R = 1 .. 14 rows (gemm__NAME_R), and gemm__kern_NAME that
   picks one by the tile's row count */
#define GEMM_Z_ONE(name, tgt, R) \
    __attribute__((target(tgt))) static void gemm__##name##_##R(const gemm__tile *t) { gemm__##name##_body(R, t); }
#define GEMM_Z_FAMILY(name, tgt)                                                               \
    GEMM_Z_ONE(name, tgt, 1) GEMM_Z_ONE(name, tgt, 2) GEMM_Z_ONE(name, tgt, 3)                 \
    GEMM_Z_ONE(name, tgt, 4) GEMM_Z_ONE(name, tgt, 5) GEMM_Z_ONE(name, tgt, 6)                 \
    GEMM_Z_ONE(name, tgt, 7) GEMM_Z_ONE(name, tgt, 8) GEMM_Z_ONE(name, tgt, 9)                 \
    GEMM_Z_ONE(name, tgt, 10) GEMM_Z_ONE(name, tgt, 11) GEMM_Z_ONE(name, tgt, 12)              \
    GEMM_Z_ONE(name, tgt, 13) GEMM_Z_ONE(name, tgt, 14)                                        \
    static void gemm__kern_##name(const gemm__tile *t) {                                       \
        static const gemm__kern_fn f[GEMM_Z_MR] = {                                            \
            gemm__##name##_1, gemm__##name##_2, gemm__##name##_3, gemm__##name##_4,            \
            gemm__##name##_5, gemm__##name##_6, gemm__##name##_7, gemm__##name##_8,            \
            gemm__##name##_9, gemm__##name##_10, gemm__##name##_11, gemm__##name##_12,         \
            gemm__##name##_13, gemm__##name##_14};                                             \
        f[t->rows - 1](t);                                                                     \
    }
GEMM_Z_FAMILY(avx512, "avx512f")

/* 16 x 16 transpose in registers: r[i][j] -> r[j][i] (unpack, shuffle, 128-bit lane permutes) */
__attribute__((target("avx512f"), always_inline))
static inline void gemm__tr16(__m512 r[16]) {
    __m512 s[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {
        s[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        s[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(s[i], s[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(s[i], s[i + 2], 0xee);
        r[i + 2] = _mm512_shuffle_ps(s[i + 1], s[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(s[i + 1], s[i + 3], 0xee);
    }
    /* r[4q + j], 128-bit lane L: column 4L + j of rows 4q .. 4q+3 */
#pragma GCC unroll 16
    for (int i = 0; i < 4; i++) {
        s[i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0x88);
        s[4 + i] = _mm512_shuffle_f32x4(r[i], r[4 + i], 0xdd);
        s[8 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0x88);
        s[12 + i] = _mm512_shuffle_f32x4(r[8 + i], r[12 + i], 0xdd);
    }
#pragma GCC unroll 16
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(s[i], s[8 + i], 0x88);
        r[8 + i] = _mm512_shuffle_f32x4(s[i], s[8 + i], 0xdd);
        r[4 + i] = _mm512_shuffle_f32x4(s[4 + i], s[12 + i], 0x88);
        r[12 + i] = _mm512_shuffle_f32x4(s[4 + i], s[12 + i], 0xdd);
    }
}

/* rows [0, nrows) of X (row stride ldx) x columns [k0, k0+kc) -> dst[k][0 .. width), row
   stride dstride: the packing of A (width MR, rows = rows of A) and of B^T (width NR,
   rows = rows of B^T, i.e. columns of C), 16 x 16 blocks at a time; rows past nrows
   become zeros in dst */
__attribute__((target("avx512f")))
static void gemm__pack_tr_avx512(const float *X, size_t ldx, int nrows, int k0, int kc, float *dst,
                                 int width, int dstride) {
    for (int h = 0; h < width; h += 16) {
        int wh = nrows - h, ww = width - h < 16 ? width - h : 16;
        __mmask16 sm = (__mmask16)((1u << ww) - 1);
        for (int kb = 0; kb < kc; kb += 16) {
            int kn = kc - kb < 16 ? kc - kb : 16;
            __mmask16 km = (__mmask16)(kn == 16 ? 0xffff : (1u << kn) - 1);
            __m512 r[16];
            const float *x = X + (size_t)h * ldx + k0 + kb;
            /* plain loads in the common case (masked moves are slower) */
#pragma GCC unroll 16
            for (int i = 0; i < 16; i++)
                r[i] = i >= wh || i >= ww ? _mm512_setzero_ps()
                     : kn == 16 ? _mm512_loadu_ps(x + (size_t)i * ldx) : _mm512_maskz_loadu_ps(km, x + (size_t)i * ldx);
            gemm__tr16(r);
            float *d = dst + (size_t)kb * dstride + h;
            if (ww == 16)
#pragma GCC unroll 16
                for (int i = 0; i < kn; i++) _mm512_storeu_ps(d + (size_t)i * dstride, r[i]);
            else
#pragma GCC unroll 16
                for (int i = 0; i < kn; i++) _mm512_mask_storeu_ps(d + (size_t)i * dstride, sm, r[i]);
        }
    }
}

/* op(B) = B ([K][N]): rows [k0, k0+kc) of columns [0, w) of X -> dst[kc][nr], zero past w */
__attribute__((target("avx512f")))
static void gemm__pack_n_avx512(const float *X, size_t ldx, int w, int k0, int kc, float *dst, int nr) {
    for (int h = 0; h < nr; h += 16) {
        int wh = w - h < 16 ? (w - h > 0 ? w - h : 0) : 16;
        __mmask16 m = (__mmask16)((1u << wh) - 1);
        const float *x = X + (size_t)k0 * ldx + h;
        float *d = dst + h;
        if (wh == 16)
            for (int k = 0; k < kc; k++) _mm512_storeu_ps(d + (size_t)k * nr, _mm512_loadu_ps(x + (size_t)k * ldx));
        else
            for (int k = 0; k < kc; k++) _mm512_storeu_ps(d + (size_t)k * nr, _mm512_maskz_loadu_ps(m, x + (size_t)k * ldx));
    }
}

/* ---- AVX-512 BF16: 14 x 32, two k per step --------------------------------------------------
   Both operands rounded to bf16 (round to nearest even), packed as k pairs: A [kc/2][MR] and B
   [kc/2][NR], each 32-bit element holding (k even, k odd). VDPBF16PS multiplies the pairs and
   adds both products to the fp32 accumulator: twice the multiplies of an FMA per instruction,
   at bf16 precision of the inputs (8 bits of mantissa); sums stay fp32. */
__attribute__((target("avx512f,avx512bf16"), always_inline))
static inline void gemm__bf16_body(const int R, const gemm__tile *t) {
    GEMM_Z_PROLOGUE
    const uint32_t *a = (const uint32_t *)t->a, *b = (const uint32_t *)t->b;
    const char *pf = (const char *)t->pf;
    for (int k = 0; k < t->kc; k++, b += GEMM_Z_NR, a += GEMM_Z_MR) {
        __m512bh b0 = (__m512bh)_mm512_load_si512((const void *)b), b1 = (__m512bh)_mm512_load_si512((const void *)(b + 16)), av;
        if (k < 2 * GEMM_Z_MR) _mm_prefetch(pf + (k >> 1) * ldc * 4 + (k & 1) * 64, _MM_HINT_T0);
#define GEMM_STEP(r) if (r < R) {                                                              \
        av = (__m512bh)_mm512_set1_epi32((int)a[r]);                                           \
        c##r##a = _mm512_dpbf16_ps(c##r##a, av, b0);                                           \
        c##r##b = _mm512_dpbf16_ps(c##r##b, av, b1);                                           \
    }
        GEMM_Z_ROWS(GEMM_STEP)
#undef GEMM_STEP
    }
    GEMM_Z_EPILOGUE
}
GEMM_Z_FAMILY(bf16, "avx512f,avx512bf16")

/* rows of X [nrows <= 16][k0 .. k0+kc) -> dst [(kc+1)/2][dstride] bf16 pairs (zero past kc and
   past nrows, lanes < dstride stored): 32 k of 16 rows rounded into 16 x 16 pairs, transposed */
__attribute__((target("avx512f,avx512bf16")))
static void gemm__pack_bf16_tr(const float *X, size_t ldx, int nrows, int k0, int kc, uint32_t *dst, int dstride) {
    const __mmask16 sm = (__mmask16)(dstride >= 16 ? 0xffff : (1u << dstride) - 1);
    for (int kb = 0; kb < kc; kb += 32) {
        int kn = kc - kb < 32 ? kc - kb : 32;
        __mmask16 m0 = (__mmask16)(kn >= 16 ? 0xffff : (1u << kn) - 1);
        __mmask16 m1 = (__mmask16)(kn >= 32 ? 0xffff : kn > 16 ? (1u << (kn - 16)) - 1 : 0);
        __m512 r[16];
        const float *x = X + k0 + kb;
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
            r[i] = i >= nrows ? _mm512_setzero_ps()
                 : _mm512_castsi512_ps((__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, x + (size_t)i * ldx + 16),
                                                                   _mm512_maskz_loadu_ps(m0, x + (size_t)i * ldx)));
        gemm__tr16(r);
        uint32_t *d = dst + (size_t)(kb / 2) * dstride;
        for (int p = 0; p < (kn + 1) / 2; p++) _mm512_mask_storeu_ps((float *)(d + (size_t)p * dstride), sm, r[p]);
    }
}
#endif

/* ---- kernel selection ------------------------------------------------------------------ */
typedef struct { const char *name; gemm__kern_fn fn; int mr, nr; } gemm__kernel;
static const gemm__kernel gemm__kernels[] = {
#if GEMM_X86
    {"avx512", gemm__kern_avx512, GEMM_Z_MR, GEMM_Z_NR},
    {"avx2", gemm__kern_avx2, GEMM_A2_MR, GEMM_A2_NR},
#endif
    {"portable", gemm__kern_portable, GEMM_P_MR, GEMM_P_NR},
};
enum { GEMM_NKERNELS = (int)(sizeof gemm__kernels / sizeof gemm__kernels[0]) };
#if GEMM_X86
/* not in the table: used only for B prepacked as bf16 (gemm__prepack with bf16 = 1) */
static const gemm__kernel gemm__kernel_bf16 = {"avx512bf16", gemm__kern_bf16, GEMM_Z_MR, GEMM_Z_NR};
#endif
/* whether this CPU multiplies bf16 pairs (AVX-512 BF16) */
static int gemm__bf16_ok(void) {
#if GEMM_X86
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#else
    return 0;
#endif
}
static int gemm__forced = -1;   /* index into gemm__kernels, -1 = best available */

static int gemm__supported(int i) {
    (void)i;
#if GEMM_X86
    if (!strcmp(gemm__kernels[i].name, "avx512")) return __builtin_cpu_supports("avx512f");
    if (!strcmp(gemm__kernels[i].name, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return 1;
}

/* the best kernel this CPU has, found once (the row helpers ask for every row) */
static int gemm__auto = GEMM_NKERNELS - 1;
static pthread_once_t gemm__auto_once = PTHREAD_ONCE_INIT;
static void gemm__auto_init(void) {
    for (int i = 0; i < GEMM_NKERNELS; i++)
        if (gemm__supported(i)) { gemm__auto = i; return; }
}
static const gemm__kernel *gemm__pick(void) {
    if (gemm__forced >= 0) return &gemm__kernels[gemm__forced];
    pthread_once(&gemm__auto_once, gemm__auto_init);
    return &gemm__kernels[gemm__auto];
}

const char *coop_gemm_kernel_name(void) { return gemm__pick()->name; }

/* "avx512" / "avx2" / "portable" forces that kernel when the CPU has it (else it is ignored);
   NULL or "" goes back to automatic choice */
void coop_gemm_force_kernel(const char *name) {
    gemm__forced = -1;
    for (int i = 0; name && i < GEMM_NKERNELS; i++)
        if (!strcmp(name, gemm__kernels[i].name) && gemm__supported(i)) gemm__forced = i;
}

/* ---- per-thread packing buffers: grow-only, freed at thread exit by a pthread key ------ */
/* Slots: GEMM_BUF_B all of packed B and GEMM_BUF_A all of packed A (owned by the thread that
   calls coop_gemm); GEMM_BUF_TB / GEMM_BUF_TA one task's B panel / A block (owned by the
   thread running the task); GEMM_BUF_ATT the attention scratch of the layers section. Pool
   workers may call coop_gemm from inside tasks, so they can own all of them; the key destructor frees them when the thread exits, and the thread-local
   pointer keeps them reachable (no leak report) while it runs. Buffers only grow, so page
   faults (~12 us per 4 KiB page on some VMs) are paid once. */
enum { GEMM_BUF_B, GEMM_BUF_A, GEMM_BUF_TB, GEMM_BUF_TA, GEMM_BUF_ATT, GEMM_NBUF };
static pthread_key_t gemm__key;
static pthread_once_t gemm__key_once = PTHREAD_ONCE_INIT;
static int gemm__key_ok;
typedef struct { float *p[GEMM_NBUF]; size_t cap[GEMM_NBUF]; } gemm__buf;
static COOP_THREAD_LOCAL gemm__buf *gemm__tls;

static void gemm__buf_free(void *v) {
    gemm__buf *b = (gemm__buf *)v;
    if (!b) return;
    for (int i = 0; i < GEMM_NBUF; i++) coop_free(b->p[i]);
    free(b);
}
static void gemm__key_init(void) { gemm__key_ok = pthread_key_create(&gemm__key, gemm__buf_free) == 0; }

static float *gemm__buf_get(int which, size_t n) {
    if (!gemm__tls) {
        pthread_once(&gemm__key_once, gemm__key_init);
        if (!gemm__key_ok) return NULL;
        gemm__tls = (gemm__buf *)calloc(1, sizeof(gemm__buf));
        if (!gemm__tls) return NULL;
        if (pthread_setspecific(gemm__key, gemm__tls)) { free(gemm__tls); gemm__tls = NULL; return NULL; }
    }
    if (n > gemm__tls->cap[which]) {
        n += n / 4;   /* headroom: a slightly larger shape later does not fault again */
        coop_free(gemm__tls->p[which]);
        gemm__tls->p[which] = (float *)coop_malloc(n * sizeof(float));
        gemm__tls->cap[which] = gemm__tls->p[which] ? n : 0;
    }
    return gemm__tls->p[which];
}

/* ---- the job ------------------------------------------------------------------------------- */
typedef struct {
    int transb, M, N, K, npanels, ntiles, mr, nr, avx512;
    size_t lda, ldb, ldc;
    const float *A, *B, *bias;
    int beta, relu;
    int bf16;            /* A and B as bf16 k pairs (B prepacked so): K "units" are pairs */
    int ku;              /* K in units: K, or (K + 1) / 2 pairs */
    float *C;
    const float *Bpre;   /* B packed by the caller (gemm__prepack), [panel][K][nr]; B unused */
    const float *Bp;     /* tall: all of B packed, [panel][K][nr] (Bpre, or packed per call) */
    float *Ap;   /* short: all of A packed, [tile][K][mr] */
    const gemm__kernel *kern;
    int rows_per, rowblocks, pan_per, colblocks;
} gemm__job;

/* panel pnl of op(B), rows [k0, k0+kc) -> dst[kc][nr], zero past column N */
static void gemm__pack_b(const gemm__job *j, int pnl, int k0, int kc, float *dst) {
    const int nr = j->nr, n0 = pnl * nr, w = j->N - n0 < nr ? j->N - n0 : nr;
    if (j->transb) {   /* B is [N][K]: a transpose */
#if GEMM_X86
        if (j->avx512) { gemm__pack_tr_avx512(j->B + (size_t)n0 * j->ldb, j->ldb, w, k0, kc, dst, nr, nr); return; }
#endif
        for (int k = 0; k < kc; k++) {
            float *d = dst + (size_t)k * nr;
            const float *s = j->B + (size_t)n0 * j->ldb + k0 + k;
            int q = 0;
            for (; q < w; q++) d[q] = s[(size_t)q * j->ldb];
            for (; q < nr; q++) d[q] = 0.0f;
        }
    } else {
#if GEMM_X86
        if (j->avx512) { gemm__pack_n_avx512(j->B + n0, j->ldb, w, k0, kc, dst, nr); return; }
#endif
        for (int k = 0; k < kc; k++) {
            float *d = dst + (size_t)k * nr;
            const float *s = j->B + (size_t)(k0 + k) * j->ldb + n0;
            int q = 0;
            for (; q < w; q++) d[q] = s[q];
            for (; q < nr; q++) d[q] = 0.0f;
        }
    }
}

/* rows [i0, i0+rows) of A (rows <= mr), columns [k0, k0+kc) -> dst[kc][mr] */
static void gemm__pack_a(const gemm__job *j, int i0, int rows, int k0, int kc, float *dst) {
    const int mr = j->mr;
#if GEMM_X86
    if (j->bf16) { gemm__pack_bf16_tr(j->A + (size_t)i0 * j->lda, j->lda, rows, k0, kc, (uint32_t *)dst, mr); return; }
    if (j->avx512) { gemm__pack_tr_avx512(j->A + (size_t)i0 * j->lda, j->lda, rows, k0, kc, dst, mr, mr); return; }
#endif
    for (int r = 0; r < rows; r++) {
        const float *s = j->A + (size_t)(i0 + r) * j->lda + k0;
        for (int k = 0; k < kc; k++) dst[(size_t)k * mr + r] = s[k];
    }
}

/* pre-passes, split over the pool: all of B by panels (tall), all of A by tiles (short) */
static void gemm__pack_b_task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    int per = (j->npanels + nt - 1) / nt;
    for (int pnl = t * per; pnl < j->npanels && pnl < (t + 1) * per; pnl++)
        gemm__pack_b(j, pnl, 0, j->K, (float *)j->Bp + (size_t)pnl * j->K * j->nr);
}
static void gemm__pack_a_task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    int per = (j->ntiles + nt - 1) / nt;
    for (int tile = t * per; tile < j->ntiles && tile < (t + 1) * per; tile++) {
        int i0 = tile * j->mr, rows = j->M - i0 < j->mr ? j->M - i0 : j->mr;
        gemm__pack_a(j, i0, rows, 0, j->K, j->Ap + (size_t)tile * j->ku * j->mr);
    }
}

/* op(B)[k, n], from B as given or as prepacked */
static float gemm__bval(const gemm__job *j, int k, int n) {
    if (j->bf16) {
        uint32_t u;
        memcpy(&u, j->Bpre + ((size_t)(n / j->nr) * j->ku + k / 2) * j->nr + n % j->nr, 4);
        return coop_bf16_to_f32((uint16_t)(k & 1 ? u >> 16 : u & 0xffff));
    }
    if (j->Bpre) return j->Bpre[((size_t)(n / j->nr) * j->K + k) * j->nr + n % j->nr];
    return j->transb ? j->B[(size_t)n * j->ldb + k] : j->B[(size_t)k * j->ldb + n];
}

/* plain sums in the same order: K = 0 (C = beta ? C + bias : bias), or a product whose
   packing buffer could not be allocated (out of memory, possibly in a worker) */
static void gemm__task_slow(const gemm__job *j, int i0, int i1, int c0, int c1) {
    for (int i = i0; i < i1; i++)
        for (int n = c0; n < c1; n++) {
            float *c = j->C + (size_t)i * j->ldc + n, s = j->bias ? j->bias[n] : 0.0f;
            s = j->beta ? *c + s : s;
            for (int k = 0; k < j->K; k++) {
                float a = j->A[(size_t)i * j->lda + k];
                if (j->bf16) a = coop_bf16_to_f32(coop_f32_to_bf16(a));
                s += a * gemm__bval(j, k, n);
            }
            *c = j->relu && !(s > 0.0f) ? 0.0f : s;
        }
}

/* one task: rows [i0, i1) x panels [p0, p1) of C, all of K */
static void gemm__task(void *arg, int t, int nt) {
    gemm__job *j = (gemm__job *)arg;
    (void)nt;
    const int mr = j->mr, nr = j->nr, K = j->K, KU = j->ku, kstep = j->bf16 ? 2 : 1;
    int rb = t % j->rowblocks, cb = t / j->rowblocks;
    int i0 = rb * j->rows_per, i1 = i0 + j->rows_per < j->M ? i0 + j->rows_per : j->M;
    int p0 = cb * j->pan_per, p1 = p0 + j->pan_per < j->npanels ? p0 + j->pan_per : j->npanels;
    if (i0 >= i1 || p0 >= p1) return;
    const int mc = GEMM_MC / mr * mr;
    /* own buffer: the A block (tall) or one B panel (short, unless B came prepacked) */
    const int need_own = j->Bp || !j->Bpre;
    float *own = !need_own ? NULL : j->Bp ? gemm__buf_get(GEMM_BUF_TA, (size_t)mc * GEMM_KC)
                                          : gemm__buf_get(GEMM_BUF_TB, (size_t)GEMM_KC * nr);
    if (need_own && !own) { gemm__task_slow(j, i0, i1, p0 * nr, p1 * nr < j->N ? p1 * nr : j->N); return; }
    gemm__tile tl;
    tl.ldc = j->ldc; tl.beta = j->beta;
    if (!j->Bp) {
        /* short: A is packed; for each panel, each K block: pack it (L1/L2), run all rows */
        for (int pnl = p0; pnl < p1; pnl++) {
            int n0 = pnl * nr;
            tl.w = j->N - n0 < nr ? j->N - n0 : nr;
            tl.bias = j->bias ? j->bias + n0 : NULL;
            for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
                int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
                tl.kc = (kc + kstep - 1) / kstep;
                tl.init = k0 == 0;
                tl.relu = j->relu && k0 + kc == K;
                if (j->Bpre) tl.b = j->Bpre + ((size_t)pnl * KU + k0 / kstep) * nr;
                else { gemm__pack_b(j, pnl, k0, kc, own); tl.b = own; }
                for (int i = i0; i < i1; i += mr) {
                    tl.rows = i1 - i < mr ? i1 - i : mr;
                    tl.a = j->Ap + ((size_t)(i / mr) * KU + k0 / kstep) * mr;
                    tl.c = j->C + i * j->ldc + n0;
                    tl.pf = i + mr < i1 ? tl.c + mr * j->ldc : tl.c;
                    j->kern->fn(&tl);
                }
            }
        }
        return;
    }
    /* tall: B is packed; for each K block, each block of MC rows: pack it (L2), all panels */
    for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
        int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
        tl.kc = (kc + kstep - 1) / kstep;
        tl.init = k0 == 0;
        tl.relu = j->relu && k0 + kc == K;
        for (int ib = i0; ib < i1; ib += mc) {
            int ie = ib + mc < i1 ? ib + mc : i1;
            for (int i = ib; i < ie; i += mr)
                gemm__pack_a(j, i, ie - i < mr ? ie - i : mr, k0, kc, own + (size_t)(i - ib) * tl.kc);
            for (int pnl = p0; pnl < p1; pnl++) {
                int n0 = pnl * nr;
                tl.w = j->N - n0 < nr ? j->N - n0 : nr;
                tl.b = j->Bp + ((size_t)pnl * KU + k0 / kstep) * nr;
                tl.bias = j->bias ? j->bias + n0 : NULL;
                for (int i = ib; i < ie; i += mr) {
                    tl.rows = ie - i < mr ? ie - i : mr;
                    tl.a = own + (size_t)(i - ib) * tl.kc;
                    tl.c = j->C + i * j->ldc + n0;
                    tl.pf = i + mr < ie ? tl.c + mr * j->ldc : j->C + ib * j->ldc + n0 + nr;
                    j->kern->fn(&tl);
                }
            }
        }
    }
}

/* runs a job whose operands, flags and kernel are set: packs, splits into tasks, multiplies */
static void gemm__drive(coop_pool *p, gemm__job *j) {
    const int M = j->M, K = j->K;
    if (M <= 0 || j->N <= 0) return;
    j->mr = j->kern->mr; j->nr = j->kern->nr;
    j->ku = j->bf16 ? (K + 1) / 2 : K;
    if (K == 0) { gemm__task_slow(j, 0, M, 0, j->N); return; }
    j->avx512 = !strcmp(j->kern->name, "avx512");
    j->npanels = (j->N + j->nr - 1) / j->nr;
    j->ntiles = (M + j->mr - 1) / j->mr;
    int nth = coop_pool_threads(p);
    if (2.0 * M * j->N * K < GEMM_MINFLOP) nth = 1, p = NULL;
    int want = nth > 1 ? 4 * nth : 1;   /* ~4 tasks per thread: one slowed by another process costs little */
    if (M <= GEMM_SMALLM) {
        /* short: pack A once; one row block, columns split (>= 2 panels per task) */
        float *ap = gemm__buf_get(GEMM_BUF_A, (size_t)j->ntiles * j->mr * j->ku);
        if (!ap) { gemm__task_slow(j, 0, M, 0, j->N); return; }
        j->Ap = ap;
        coop_pool_run(p, j->ntiles < nth ? j->ntiles : nth, gemm__pack_a_task, j);
        j->rowblocks = 1; j->rows_per = M;
        j->pan_per = (j->npanels + want - 1) / want;
        if (nth > 1 && j->pan_per < 2) j->pan_per = 2;
        j->colblocks = (j->npanels + j->pan_per - 1) / j->pan_per;
    } else {
        /* tall: pack B once (unless it came packed); rows split in whole tiles */
        if (j->Bpre) j->Bp = j->Bpre;
        else {
            float *bp = gemm__buf_get(GEMM_BUF_B, (size_t)j->npanels * j->nr * K);
            if (!bp) { gemm__task_slow(j, 0, M, 0, j->N); return; }
            j->Bp = bp;
            coop_pool_run(p, j->npanels < nth ? j->npanels : nth, gemm__pack_b_task, j);
        }
        j->rows_per = (j->ntiles + want - 1) / want * j->mr;
        j->rowblocks = (M + j->rows_per - 1) / j->rows_per;
        j->pan_per = j->npanels; j->colblocks = 1;
    }
    coop_pool_run(p, j->rowblocks * j->colblocks, gemm__task, j);
}

void coop_gemm(coop_pool *p, int transb, int M, int N, int K, const float *A, int lda,
               const float *B, int ldb, const float *bias, float beta, float *C, int ldc) {
    gemm__job j;
    memset(&j, 0, sizeof j);
    j.transb = transb; j.M = M; j.N = N; j.K = K > 0 ? K : 0;
    j.lda = (size_t)lda; j.ldb = (size_t)ldb; j.ldc = (size_t)ldc;
    j.A = A; j.B = B; j.bias = bias; j.beta = beta != 0.0f; j.C = C;
    j.kern = gemm__pick();
    gemm__drive(p, &j);
}

/* ---- prepacked B and the ReLU epilogue (used by the ResNet tower) ------------------------
   Frozen weights packed once, in the layout the tall path builds on every call. A packing
   belongs to the kernel that was current when it was made (its NR) and is always multiplied
   by that kernel; the sums are coop_gemm's, in the same order, so results are bit-identical.
   relu: C = max(0, C) applied to each tile after its last K block, no extra pass. */
typedef struct { const gemm__kernel *kern; int N, K, bf16; const float *p; } gemm__packed;

/* the kernel a packing is made for: bf16 (when asked and the CPU has it) or the current one */
static const gemm__kernel *gemm__pack_kernel(int bf16, int *is_bf16) {
    *is_bf16 = 0;
#if GEMM_X86
    if (bf16 && gemm__bf16_ok()) { *is_bf16 = 1; return &gemm__kernel_bf16; }
#endif
    (void)bf16;
    return gemm__pick();
}

/* floats to allocate (64-byte aligned) for a K x N op(B) packed by gemm__prepack(.., bf16) */
static size_t gemm__packed_size(int N, int K, int bf16) {
    int isbf;
    const gemm__kernel *k = gemm__pack_kernel(bf16, &isbf);
    size_t ku = (size_t)(K > 0 ? K : 0);
    if (isbf) ku = (ku + 1) / 2;
    return (size_t)((N + k->nr - 1) / k->nr) * k->nr * ku;
}

/* op(B) [K, N] (B [N, K] when transb) -> dst, described by *pk. bf16: as bf16 k pairs for the
   AVX-512 BF16 kernel when the CPU has it (pk->bf16 says whether it did), else as fp32. */
static void gemm__prepack(gemm__packed *pk, int transb, int N, int K, const float *B, int ldb, float *dst, int bf16) {
    gemm__job j;
    memset(&j, 0, sizeof j);
    j.kern = gemm__pack_kernel(bf16, &j.bf16); j.transb = transb; j.N = N; j.K = K; j.B = B; j.ldb = (size_t)ldb;
    j.nr = j.kern->nr; j.avx512 = !strcmp(j.kern->name, "avx512");
    j.npanels = (N + j.nr - 1) / j.nr;
    j.Bp = dst;
    if (j.bf16) {   /* once per model: plain loops */
        int ku = (K + 1) / 2;
        uint32_t *d = (uint32_t *)dst;
        for (int pnl = 0; pnl < j.npanels; pnl++)
            for (int kp = 0; kp < ku; kp++)
                for (int q = 0; q < j.nr; q++) {
                    int n = pnl * j.nr + q, k = 2 * kp;
                    uint32_t lo = 0, hi = 0;
                    if (n < N) {
                        lo = coop_f32_to_bf16(transb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
                        if (k + 1 < K) hi = coop_f32_to_bf16(transb ? B[(size_t)n * ldb + k + 1] : B[(size_t)(k + 1) * ldb + n]);
                    }
                    d[((size_t)pnl * ku + kp) * j.nr + q] = lo | hi << 16;
                }
    } else if (K > 0) gemm__pack_b_task(&j, 0, 1);
    pk->kern = j.kern; pk->N = N; pk->K = K; pk->bf16 = j.bf16; pk->p = dst;
}

/* C[M, N] = relu?(beta*C + A[M, K] B + bias), B prepacked */
static void gemm__mm_packed(coop_pool *p, int M, const float *A, int lda, const gemm__packed *B,
                            const float *bias, float beta, float *C, int ldc, int relu) {
    gemm__job j;
    memset(&j, 0, sizeof j);
    j.M = M; j.N = B->N; j.K = B->K; j.lda = (size_t)lda; j.ldc = (size_t)ldc;
    j.A = A; j.Bpre = B->p; j.bias = bias; j.beta = beta != 0.0f; j.C = C; j.relu = relu;
    j.kern = B->kern; j.bf16 = B->bf16;
    gemm__drive(p, &j);
}

void coop_gemm_ref(int transb, int M, int N, int K, const float *A, int lda, const float *B,
                   int ldb, const float *bias, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int n = 0; n < N; n++) {
            double s = bias ? bias[n] : 0.0;
            for (int k = 0; k < K; k++)
                s += (double)A[(size_t)i * lda + k] * (transb ? B[(size_t)n * ldb + k] : B[(size_t)k * ldb + n]);
            float *c = C + (size_t)i * ldc + n;
            *c = beta != 0.0f ? *c + (float)s : (float)s;
        }
}

/* ===================================================================================== */
/* Model file: one flat file, mapped with mmap and used in place                          */
/* ===================================================================================== */
/* Layout (little-endian, offsets from the start of the file):
     header, 64 bytes: char magic[8] "COOPMODL"; u32 version (1); u32 n_tensors;
                       u64 file_size; u64 config_off, config_size; u64 tok_off, tok_size;
                       u64 table_off
     config:   UTF-8 text, one "key value..." per line (see coop_config_parse)
     tokenizer: sections [u32 name_len][name][u64 len][bytes][zero pad to 8]
     tensors:  data, each 64-byte aligned so SIMD loads work in place
     table:    n_tensors entries of 128 bytes: char name[80]; u32 dtype (0 f32, 1 f16,
               2 bf16); u32 ndim (1..4); u32 shape[4] (unused = 1); u64 offset; u64 nbytes;
               8 bytes of zero
   Everything is checked against the file size before it is used. */

#define COOP__MAGIC "COOPMODL"
#define COOP__VERSION 1u
#define COOP__ENTRY 128

struct coop_model {
    char         path[512];
    unsigned char *map;
    size_t       size;
    coop_config  cfg;
    int          n;
    coop_tensor *tensors;
    float       *widened;          /* one allocation holding fp32 copies of f16/bf16 tensors */
    const unsigned char *tok;
    size_t       tok_size;
    void        *slot[COOP_NSLOTS];
    void       (*slot_free[COOP_NSLOTS])(void *);
    int          bf16;             /* coop_model_set_bf16 */
};

static uint32_t coop__rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t coop__rd64(const unsigned char *p) { return (uint64_t)coop__rd32(p) | (uint64_t)coop__rd32(p + 4) << 32; }
static void coop__wr32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void coop__wr64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static size_t coop__dtype_size(int dt) { return dt == COOP_F32 ? 4 : 2; }

/* ---- config ----------------------------------------------------------------------------- */
void coop_config_defaults(coop_config *c) {
    static const float mean[3] = {0.48145466f, 0.4578275f, 0.40821073f};
    static const float std[3] = {0.26862954f, 0.26130258f, 0.27577711f};
    memset(c, 0, sizeof *c);
    memcpy(c->image_mean, mean, sizeof mean);
    memcpy(c->image_std, std, sizeof std);
    c->context_length = 77;
    c->sot_id = 49406; c->eot_id = 49407;
    c->ln_eps = 1e-5f;
    c->hf_type_vocab = 1;
}

/* the keys of the config text; each maps to one struct field */
enum { K_STR, K_INT, K_INTS, K_FLOATS, K_ENUM };
typedef struct { const char *key; int kind, count; size_t off; const char *names; } coop__cfgkey;
#define COOP__F(field) offsetof(coop_config, field)
static const coop__cfgkey coop__keys[] = {
    {"model_name", K_STR, 64, COOP__F(model_name), NULL},
    {"pretrained", K_STR, 64, COOP__F(pretrained), NULL},
    {"embed_dim", K_INT, 1, COOP__F(embed_dim), NULL},
    {"vision", K_ENUM, 1, COOP__F(vision), "none vit resnet"},
    {"image_size", K_INT, 1, COOP__F(image_size), NULL},
    {"vision_width", K_INT, 1, COOP__F(vision_width), NULL},
    {"vision_layers", K_INT, 1, COOP__F(vision_layers), NULL},
    {"vision_heads", K_INT, 1, COOP__F(vision_heads), NULL},
    {"vision_patch", K_INT, 1, COOP__F(vision_patch), NULL},
    {"vision_mlp", K_INT, 1, COOP__F(vision_mlp), NULL},
    {"resnet_layers", K_INTS, 4, COOP__F(resnet_layers), NULL},
    {"vision_act", K_ENUM, 1, COOP__F(vision_act), "gelu quick_gelu"},
    {"image_mean", K_FLOATS, 3, COOP__F(image_mean), NULL},
    {"image_std", K_FLOATS, 3, COOP__F(image_std), NULL},
    {"text", K_ENUM, 1, COOP__F(text), "none clip hf"},
    {"context_length", K_INT, 1, COOP__F(context_length), NULL},
    {"vocab_size", K_INT, 1, COOP__F(vocab_size), NULL},
    {"text_width", K_INT, 1, COOP__F(text_width), NULL},
    {"text_layers", K_INT, 1, COOP__F(text_layers), NULL},
    {"text_heads", K_INT, 1, COOP__F(text_heads), NULL},
    {"text_mlp", K_INT, 1, COOP__F(text_mlp), NULL},
    {"text_act", K_ENUM, 1, COOP__F(text_act), "gelu quick_gelu"},
    {"tokenizer", K_ENUM, 1, COOP__F(tokenizer), "none clip_bpe gpt2_bpe unigram"},
    {"pad_id", K_INT, 1, COOP__F(pad_id), NULL},
    {"sot_id", K_INT, 1, COOP__F(sot_id), NULL},
    {"eot_id", K_INT, 1, COOP__F(eot_id), NULL},
    {"hf_model_type", K_STR, 32, COOP__F(hf_model_type), NULL},
    {"hf_pooler", K_STR, 16, COOP__F(hf_pooler), NULL},
    {"hf_proj", K_STR, 16, COOP__F(hf_proj), NULL},
    {"hf_proj_hidden", K_INT, 1, COOP__F(hf_proj_hidden), NULL},
    {"hf_max_positions", K_INT, 1, COOP__F(hf_max_positions), NULL},
    {"hf_type_vocab", K_INT, 1, COOP__F(hf_type_vocab), NULL},
    {"ln_eps", K_FLOATS, 1, COOP__F(ln_eps), NULL},
    {"bn_folded", K_INT, 1, COOP__F(bn_folded), NULL},
};
#define COOP__NKEYS (int)(sizeof coop__keys / sizeof coop__keys[0])

/* index of word w (length n) in a space-separated list, or -1 */
static int coop__enum_index(const char *names, const char *w, size_t n) {
    for (int i = 0; *names; i++) {
        size_t l = strcspn(names, " ");
        if (l == n && !memcmp(names, w, n)) return i;
        names += l + (names[l] == ' ');
    }
    return -1;
}

int coop_config_parse(const char *text, size_t len, coop_config *c, const char *file) {
    coop_config_defaults(c);
    size_t i = 0;
    int line = 0;
    while (i < len) {
        size_t e = i;
        while (e < len && text[e] != '\n') e++;
        line++;
        char buf[512];
        size_t l = e - i;
        if (l >= sizeof buf) { coop_set_error("%s: config line %d too long", file, line); return -1; }
        memcpy(buf, text + i, l); buf[l] = 0;
        i = e + 1;
        char *key = buf + strspn(buf, " \t\r");
        if (!*key || *key == '#') continue;
        size_t kl = strcspn(key, " \t");
        char *val = key + kl;
        if (*val) *val++ = 0;
        val += strspn(val, " \t");
        char *end = val + strlen(val);
        while (end > val && (end[-1] == ' ' || end[-1] == '\r' || end[-1] == '\t')) *--end = 0;
        const coop__cfgkey *k = NULL;
        for (int j = 0; j < COOP__NKEYS; j++) if (!strcmp(coop__keys[j].key, key)) k = &coop__keys[j];
        if (!k) { coop_set_error("%s: config line %d: unknown key '%s'", file, line, key); return -1; }
        char *field = (char *)c + k->off;
        if (k->kind == K_STR) {
            if (strlen(val) >= (size_t)k->count) { coop_set_error("%s: config '%s' too long", file, key); return -1; }
            strcpy(field, strcmp(val, "-") ? val : "");   /* "-" stands for empty */
        } else if (k->kind == K_ENUM) {
            int v = coop__enum_index(k->names, val, strlen(val));
            if (v < 0) { coop_set_error("%s: config '%s': unknown value '%s' (want one of: %s)", file, key, val, k->names); return -1; }
            *(int *)field = v;
        } else {
            char *p = val;
            for (int j = 0; j < k->count; j++) {
                char *q;
                if (k->kind == K_FLOATS) {
                    double v = strtod(p, &q);
                    /* finite as a float too: 1e66 would become inf, which coop_config_format writes and this refuses */
                    if (q == p || !isfinite(v) || fabs(v) > FLT_MAX) { coop_set_error("%s: config '%s': want %d finite float numbers", file, key, k->count); return -1; }
                    ((float *)(void *)field)[j] = (float)v;
                } else {
                    long v = strtol(p, &q, 10);
                    if (q == p || v < -1 || v > 1000000000L) { coop_set_error("%s: config '%s': want %d integers in range", file, key, k->count); return -1; }
                    ((int *)(void *)field)[j] = (int)v;
                }
                p = q;
            }
            if (*(p + strspn(p, " \t"))) { coop_set_error("%s: config '%s': trailing '%s'", file, key, p); return -1; }
        }
    }
    return 0;
}

int coop_config_format(const coop_config *c, char *buf, size_t cap) {
    size_t o = 0;
    for (int j = 0; j < COOP__NKEYS; j++) {
        const coop__cfgkey *k = &coop__keys[j];
        const char *field = (const char *)c + k->off;
        int n = snprintf(buf + o, cap - o, "%s", k->key);
        if (n < 0 || (size_t)n >= cap - o) return -1;
        o += (size_t)n;
        for (int i = 0; i < k->count && (k->kind != K_STR || i == 0); i++) {
            if (k->kind == K_STR) n = snprintf(buf + o, cap - o, " %s", *field ? field : "-");
            else if (k->kind == K_FLOATS) n = snprintf(buf + o, cap - o, " %.9g", (double)((const float *)(const void *)field)[i]);
            else if (k->kind == K_ENUM) {
                const char *names = k->names;
                for (int v = *(const int *)(const void *)field; v > 0 && *names; v--) names += strcspn(names, " ") + 1;
                n = snprintf(buf + o, cap - o, " %.*s", (int)strcspn(names, " "), names);
            } else n = snprintf(buf + o, cap - o, " %d", ((const int *)(const void *)field)[i]);
            if (n < 0 || (size_t)n >= cap - o) return -1;
            o += (size_t)n;
        }
        if (o + 1 >= cap) return -1;
        buf[o++] = '\n'; buf[o] = 0;
    }
    return (int)o;
}

/* basic consistency of the architecture numbers, so towers can trust them */
static int coop__config_check(const coop_config *c, const char *file) {
#define COOP__NEED(cond, ...) do { if (!(cond)) { coop_set_error(__VA_ARGS__); return -1; } } while (0)
    COOP__NEED(c->embed_dim > 0 && c->embed_dim <= 65536, "%s: config: embed_dim %d out of range", file, c->embed_dim);
    if (c->vision != COOP_VISION_NONE) {
        COOP__NEED(c->image_size > 0 && c->image_size <= 4096, "%s: config: image_size %d out of range", file, c->image_size);
        COOP__NEED(c->vision_width > 0 && c->vision_width <= 65536 && c->vision_heads > 0 &&
                   (c->vision_width % c->vision_heads == 0 || c->vision == COOP_VISION_RESNET),
                   "%s: config: vision_width %d not divisible by vision_heads %d", file, c->vision_width, c->vision_heads);
        for (int i = 0; i < 3; i++) COOP__NEED(c->image_std[i] > 0, "%s: config: image_std must be positive", file);
    }
    if (c->vision == COOP_VISION_VIT) {
        COOP__NEED(c->vision_patch > 0 && c->image_size % c->vision_patch == 0, "%s: config: image_size %d not a multiple of vision_patch %d", file, c->image_size, c->vision_patch);
        COOP__NEED(c->vision_layers > 0 && c->vision_layers <= 1000 && c->vision_mlp > 0, "%s: config: vision_layers/vision_mlp out of range", file);
    }
    if (c->vision == COOP_VISION_RESNET) {
        for (int i = 0; i < 4; i++) COOP__NEED(c->resnet_layers[i] > 0 && c->resnet_layers[i] <= 1000, "%s: config: resnet_layers out of range", file);
        COOP__NEED(c->image_size % 32 == 0, "%s: config: ResNet image_size %d not a multiple of 32", file, c->image_size);
        COOP__NEED(c->vision_heads > 0 && (c->vision_width * 32) % c->vision_heads == 0, "%s: config: attention pool heads %d do not divide %d", file, c->vision_heads, c->vision_width * 32);
    }
    if (c->text != COOP_TEXT_NONE) {
        COOP__NEED(c->context_length > 1 && c->context_length <= 65536, "%s: config: context_length %d out of range", file, c->context_length);
        COOP__NEED(c->vocab_size > 0 && c->text_width > 0 && c->text_width <= 65536 && c->text_heads > 0 &&
                   c->text_width % c->text_heads == 0, "%s: config: text_width %d / text_heads %d invalid", file, c->text_width, c->text_heads);
        COOP__NEED(c->text_layers > 0 && c->text_layers <= 1000 && c->text_mlp > 0, "%s: config: text_layers/text_mlp out of range", file);
        COOP__NEED(c->pad_id >= 0 && c->pad_id < c->vocab_size && c->sot_id >= 0 && c->sot_id < c->vocab_size &&
                   c->eot_id >= 0 && c->eot_id < c->vocab_size, "%s: config: pad/sot/eot ids outside the vocabulary (%d)", file, c->vocab_size);
        COOP__NEED(c->tokenizer != COOP_TOK_NONE, "%s: config: text tower without a tokenizer", file);
    }
    COOP__NEED(c->vision != COOP_VISION_NONE || c->text != COOP_TEXT_NONE, "%s: config: neither an image nor a text tower", file);
    return 0;
#undef COOP__NEED
}

/* ---- loading -------------------------------------------------------------------------------- */
static void coop__model_release(coop_model *m) {
    for (int i = 0; i < COOP_NSLOTS; i++)
        if (m->slot[i] && m->slot_free[i]) m->slot_free[i](m->slot[i]);
    if (m->map) munmap(m->map, m->size);
    coop_free(m->widened);
    free(m->tensors);
    free(m);
}

void coop_model_free(coop_model *m) { if (m) coop__model_release(m); }

coop_model *coop_model_load(const char *path) {
    coop_model *m = (coop_model *)calloc(1, sizeof *m);
    if (!m) { coop_set_error("out of memory"); return NULL; }
    snprintf(m->path, sizeof m->path, "%s", path);
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        coop_set_error("%s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        free(m); return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 64) {
        coop_set_error("%s: not a coop model file (%s)", path, S_ISREG(st.st_mode) ? "too short" : "not a regular file");
        close(fd); free(m); return NULL;
    }
    m->size = (size_t)st.st_size;
    void *map = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) { coop_set_error("%s: mmap: %s", path, strerror(errno)); free(m); return NULL; }
    m->map = (unsigned char *)map;
    const unsigned char *h = m->map;
#define COOP__FAIL(...) do { coop_set_error(__VA_ARGS__); coop__model_release(m); return NULL; } while (0)
    if (memcmp(h, COOP__MAGIC, 8)) COOP__FAIL("%s: not a coop model file (bad magic; convert checkpoints with build/convert)", path);
    uint32_t version = coop__rd32(h + 8), nt = coop__rd32(h + 12);
    if (version != COOP__VERSION) COOP__FAIL("%s: model file version %u, this coop.h reads version %u (re-convert the checkpoint)", path, version, COOP__VERSION);
    uint64_t fsize = coop__rd64(h + 16), coff = coop__rd64(h + 24), csz = coop__rd64(h + 32),
             toff = coop__rd64(h + 40), tsz = coop__rd64(h + 48), tab = coop__rd64(h + 56);
    uint64_t size = m->size;
    if (fsize != size) COOP__FAIL("%s: truncated or padded: header says %llu bytes, file has %llu", path, (unsigned long long)fsize, (unsigned long long)size);
    if (coff > size || csz > size - coff) COOP__FAIL("%s: config block past the end of the file", path);
    if (toff > size || tsz > size - toff) COOP__FAIL("%s: tokenizer block past the end of the file", path);
    if (nt > 1000000 || tab > size || (uint64_t)nt * COOP__ENTRY > size - tab) COOP__FAIL("%s: tensor table past the end of the file", path);
    if (coop_config_parse((const char *)m->map + coff, (size_t)csz, &m->cfg, path)) { coop__model_release(m); return NULL; }
    if (coop__config_check(&m->cfg, path)) { coop__model_release(m); return NULL; }
    m->tok = m->map + toff;
    m->tok_size = (size_t)tsz;
    m->n = (int)nt;
    m->tensors = (coop_tensor *)calloc(nt ? nt : 1, sizeof(coop_tensor));
    if (!m->tensors) COOP__FAIL("out of memory");
    size_t widen = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const unsigned char *e = m->map + tab + (uint64_t)i * COOP__ENTRY;
        coop_tensor *t = &m->tensors[i];
        if (!memchr(e, 0, 80) || !e[0]) COOP__FAIL("%s: tensor %u: bad name", path, i);
        memcpy(t->name, e, 80);
        t->dtype = (int)coop__rd32(e + 80);
        uint32_t nd = coop__rd32(e + 84);
        uint64_t off = coop__rd64(e + 104), nb = coop__rd64(e + 112);
        if (t->dtype < 0 || t->dtype > COOP_BF16) COOP__FAIL("%s: tensor '%s': unknown dtype %d", path, t->name, t->dtype);
        if (nd < 1 || nd > 4) COOP__FAIL("%s: tensor '%s': ndim %u not in 1..4", path, t->name, nd);
        t->ndim = (int)nd;
        uint64_t numel = 1;
        for (int d = 0; d < 4; d++) {
            uint64_t s = coop__rd32(e + 88 + 4 * d);
            if (d >= t->ndim && s != 1) COOP__FAIL("%s: tensor '%s': unused dimension %d is %llu, not 1", path, t->name, d, (unsigned long long)s);
            if (s == 0 || s > (1u << 30) || numel > ((uint64_t)1 << 40) / s) COOP__FAIL("%s: tensor '%s': bad shape", path, t->name);
            numel *= s;
            if (d < t->ndim) t->shape[d] = (int64_t)s;
        }
        t->numel = (int64_t)numel;
        if (nb != numel * coop__dtype_size(t->dtype)) COOP__FAIL("%s: tensor '%s': %llu bytes do not match its shape and dtype", path, t->name, (unsigned long long)nb);
        if (off % 64 || off > size || nb > size - off) COOP__FAIL("%s: tensor '%s': data at %llu+%llu outside the file or misaligned", path, t->name, (unsigned long long)off, (unsigned long long)nb);
        t->data = m->map + off;
        if (t->dtype == COOP_F32) t->f32 = (float *)(void *)(m->map + off);
        else widen += ((size_t)numel * 4 + 63) & ~(size_t)63;
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(m->tensors[j].name, t->name)) COOP__FAIL("%s: tensor '%s' appears twice", path, t->name);
    }
    /* f16 / bf16 tensors: one fp32 working copy, made once (the towers are fp32) */
    if (widen) {
        m->widened = (float *)coop_malloc(widen);
        if (!m->widened) { coop__model_release(m); return NULL; }
        size_t o = 0;
        for (int i = 0; i < m->n; i++) {
            coop_tensor *t = &m->tensors[i];
            if (t->dtype == COOP_F32) continue;
            t->f32 = m->widened + o;
            const unsigned char *src = (const unsigned char *)t->data;
            for (int64_t k = 0; k < t->numel; k++) {
                uint16_t v = (uint16_t)(src[2 * k] | src[2 * k + 1] << 8);
                t->f32[k] = t->dtype == COOP_F16 ? coop_f16_to_f32(v) : coop_bf16_to_f32(v);
            }
            o += ((size_t)t->numel + 15) & ~(size_t)15;
        }
    }
#undef COOP__FAIL
    return m;
}

const coop_config *coop_model_config(const coop_model *m) { return &m->cfg; }
const char *coop_model_path(const coop_model *m) { return m->path; }
int coop_model_tensor_count(const coop_model *m) { return m->n; }
const coop_tensor *coop_model_tensor_at(const coop_model *m, int i) { return i >= 0 && i < m->n ? &m->tensors[i] : NULL; }

const coop_tensor *coop_model_find(const coop_model *m, const char *name) {
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
    return NULL;
}

const float *coop_model_f32(coop_model *m, const char *name, int ndim, const int64_t *shape) {
    const coop_tensor *t = coop_model_find(m, name);
    if (!t) { coop_set_error("%s: tensor '%s' missing", m->path, name); return NULL; }
    if (ndim > 0) {
        int ok = t->ndim == ndim;
        for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
        if (!ok) {
            char want[96] = "", got[96] = "";
            for (int d = 0; d < ndim; d++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "," : "", (long long)shape[d]);
            for (int d = 0; d < t->ndim; d++) snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "", (long long)t->shape[d]);
            coop_set_error("%s: tensor '%s' has shape [%s], expected [%s]", m->path, name, got, want);
            return NULL;
        }
    }
    return t->f32;
}

int coop_model_tokenizer_section(const coop_model *m, const char *name, const void **data, size_t *len) {
    size_t o = 0, n = m->tok_size, nl = strlen(name);
    const unsigned char *p = m->tok;
    while (o < n) {
        if (n - o < 4) break;
        uint32_t l = coop__rd32(p + o);
        if (l > n - o - 4 || n - o - 4 - l < 8) break;
        const unsigned char *nm = p + o + 4;
        uint64_t dl = coop__rd64(p + o + 4 + l);
        size_t d0 = o + 12 + l;
        if (dl > n - d0) break;
        if (l == nl && !memcmp(nm, name, nl)) { *data = p + d0; *len = (size_t)dl; return 0; }
        o = d0 + (size_t)dl;
        o += (8 - o % 8) % 8;
    }
    if (o < n && o + 8 <= n) { coop_set_error("%s: tokenizer block is malformed", m->path); return -1; }
    coop_set_error("%s: tokenizer section '%s' missing (re-convert with the tokenizer files)", m->path, name);
    return -1;
}

void *coop_model_slot(const coop_model *m, int slot) { return slot >= 0 && slot < COOP_NSLOTS ? m->slot[slot] : NULL; }

int coop_model_set_bf16(coop_model *m, int on) {
    if (on && !gemm__bf16_ok()) { coop_set_error("%s: bf16 compute needs AVX-512 BF16, which this CPU lacks", m->path); return -1; }
    m->bf16 = on != 0;
    return 0;
}
int coop_model_bf16(const coop_model *m) { return m->bf16; }

void coop_model_set_slot(coop_model *m, int slot, void *ptr, void (*destroy)(void *)) {
    if (slot < 0 || slot >= COOP_NSLOTS) return;
    if (m->slot[slot] && m->slot_free[slot]) m->slot_free[slot](m->slot[slot]);
    m->slot[slot] = ptr;
    m->slot_free[slot] = destroy;
}

int coop_tokblob_append(void **blob, size_t *size, const char *name, const void *data, size_t len) {
    size_t nl = strlen(name), add = 12 + nl + len, pad = (8 - (*size + add) % 8) % 8;
    unsigned char *b = (unsigned char *)realloc(*blob, *size + add + pad);
    if (!b) { coop_set_error("out of memory"); return -1; }
    unsigned char *p = b + *size;
    coop__wr32(p, (uint32_t)nl); memcpy(p + 4, name, nl);
    coop__wr64(p + 4 + nl, len); memcpy(p + 12 + nl, data, len);
    memset(p + add, 0, pad);
    *blob = b; *size += add + pad;
    return 0;
}

/* ---- writing (tools/convert) ---------------------------------------------------------------- */
struct coop_model_writer {
    FILE *f;
    char path[512], tmp[520];
    unsigned char *table;
    int n, cap;
    uint64_t off, coff, csz, toff, tsz;
};

static int coop__pad_to(FILE *f, uint64_t *off, uint64_t align) {
    static const unsigned char zero[64] = {0};
    size_t pad = (size_t)((align - *off % align) % align);
    if (pad && fwrite(zero, 1, pad, f) != pad) return -1;
    *off += pad;
    return 0;
}

coop_model_writer *coop_model_writer_open(const char *path, const char *config_text,
                                          const void *tok_blob, size_t tok_size, int max_tensors) {
    coop_model_writer *w = (coop_model_writer *)calloc(1, sizeof *w);
    if (!w || max_tensors < 0) { free(w); coop_set_error("out of memory"); return NULL; }
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path);
    w->cap = max_tensors;
    w->table = (unsigned char *)calloc((size_t)(max_tensors ? max_tensors : 1), COOP__ENTRY);
    w->f = fopen(w->tmp, "wb");
    if (!w->table || !w->f) {
        coop_set_error("%s: %s", w->tmp, strerror(errno));
        if (w->f) fclose(w->f);
        free(w->table); free(w); return NULL;
    }
    unsigned char hdr[64] = {0};
    size_t cl = strlen(config_text);
    int ok = fwrite(hdr, 1, 64, w->f) == 64;
    w->off = 64; w->coff = 64; w->csz = cl;
    ok = ok && fwrite(config_text, 1, cl, w->f) == cl;
    w->off += cl;
    ok = ok && !coop__pad_to(w->f, &w->off, 64);
    w->toff = tok_size ? w->off : 0; w->tsz = tok_size;
    ok = ok && (!tok_size || fwrite(tok_blob, 1, tok_size, w->f) == tok_size);
    w->off += tok_size;
    ok = ok && !coop__pad_to(w->f, &w->off, 64);
    if (!ok) { coop_set_error("%s: write failed", w->tmp); coop_model_writer_abort(w); return NULL; }
    return w;
}

int coop_model_writer_add(coop_model_writer *w, const char *name, int dtype, int ndim,
                          const int64_t *shape, const float *x) {
    if (w->n >= w->cap) { coop_set_error("%s: more tensors than announced", w->path); return -1; }
    if (strlen(name) >= 80) { coop_set_error("%s: tensor name too long: %s", w->path, name); return -1; }
    if (ndim < 1 || ndim > 4 || dtype < 0 || dtype > COOP_BF16) { coop_set_error("%s: tensor '%s': bad ndim/dtype", w->path, name); return -1; }
    unsigned char *e = w->table + (size_t)w->n * COOP__ENTRY;
    memcpy(e, name, strlen(name));
    coop__wr32(e + 80, (uint32_t)dtype);
    coop__wr32(e + 84, (uint32_t)ndim);
    size_t numel = 1;
    for (int d = 0; d < 4; d++) {
        int64_t s = d < ndim ? shape[d] : 1;
        if (s <= 0 || s > (1 << 30)) { coop_set_error("%s: tensor '%s': bad shape", w->path, name); return -1; }
        coop__wr32(e + 88 + 4 * d, (uint32_t)s);
        numel *= (size_t)s;
    }
    size_t es = coop__dtype_size(dtype);
    coop__wr64(e + 104, w->off);
    coop__wr64(e + 112, numel * es);
    /* convert in chunks so a large tensor needs no second full-size buffer */
    unsigned char buf[1 << 14];
    for (size_t i = 0; i < numel;) {
        size_t k = numel - i < sizeof buf / 4 ? numel - i : sizeof buf / 4;
        if (dtype == COOP_F32) memcpy(buf, x + i, k * 4);
        else for (size_t j = 0; j < k; j++) {
            uint16_t v = dtype == COOP_F16 ? coop_f32_to_f16(x[i + j]) : coop_f32_to_bf16(x[i + j]);
            buf[2 * j] = (unsigned char)v; buf[2 * j + 1] = (unsigned char)(v >> 8);
        }
        if (fwrite(buf, es, k, w->f) != k) { coop_set_error("%s: write failed", w->tmp); return -1; }
        i += k;
    }
    w->off += numel * es;
    if (coop__pad_to(w->f, &w->off, 64)) { coop_set_error("%s: write failed", w->tmp); return -1; }
    w->n++;
    return 0;
}

int coop_model_writer_close(coop_model_writer *w) {
    uint64_t tab = w->off, size = tab + (uint64_t)w->n * COOP__ENTRY;
    unsigned char hdr[64] = {0};
    memcpy(hdr, COOP__MAGIC, 8);
    coop__wr32(hdr + 8, COOP__VERSION); coop__wr32(hdr + 12, (uint32_t)w->n);
    coop__wr64(hdr + 16, size); coop__wr64(hdr + 24, w->coff); coop__wr64(hdr + 32, w->csz);
    coop__wr64(hdr + 40, w->toff); coop__wr64(hdr + 48, w->tsz); coop__wr64(hdr + 56, tab);
    size_t tl = (size_t)w->n * COOP__ENTRY;
    int ok = fwrite(w->table, 1, tl, w->f) == tl;
    ok = ok && fseek(w->f, 0, SEEK_SET) == 0 && fwrite(hdr, 1, 64, w->f) == 64;
    ok = (fclose(w->f) == 0) && ok;
    w->f = NULL;
    if (!ok || rename(w->tmp, w->path) != 0) {
        coop_set_error("%s: write failed: %s", w->path, strerror(errno));
        coop_model_writer_abort(w);
        return -1;
    }
    free(w->table); free(w);
    return 0;
}

void coop_model_writer_abort(coop_model_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    remove(w->tmp);
    free(w->table); free(w);
}

/* ===================================================================================== */
/* Layers: forward and backward side by side (backward w.r.t. inputs only: frozen model)  */
/* ===================================================================================== */
/* Shapes: R rows (tokens of all sequences, packed), C / D channels. Row-major.
   Every backward *adds* into its input gradient unless it says otherwise. */

/* ---- layernorm: y = (x - mean) * rstd * w + b ----------------------------------------- */
/* x, y: [R, C]; mean, rstd: [R] (saved for backward when non-NULL) */
static void layernorm_forward(float *y, float *mean, float *rstd, const float *x,
                              const float *w, const float *b, int R, int C, float eps) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * C;
        float *yr = y + (size_t)r * C;
        double m = 0, v = 0;
        for (int i = 0; i < C; i++) m += xr[i];
        m /= C;
        for (int i = 0; i < C; i++) { double d = xr[i] - m; v += d * d; }
        float s = (float)(1.0 / sqrt(v / C + eps)), mf = (float)m;
        for (int i = 0; i < C; i++) yr[i] = (xr[i] - mf) * s * w[i] + b[i];
        if (mean) mean[r] = mf;
        if (rstd) rstd[r] = s;
    }
}

/* dx += d layernorm / dx applied to dy; x, mean, rstd from the forward */
static void layernorm_backward(float *dx, const float *dy, const float *x, const float *w,
                               const float *mean, const float *rstd, int R, int C) {
    for (int r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * C, *dyr = dy + (size_t)r * C;
        float *dxr = dx + (size_t)r * C;
        double a = 0, b = 0;
        for (int i = 0; i < C; i++) {
            double xh = (xr[i] - mean[r]) * rstd[r], g = (double)dyr[i] * w[i];
            a += g; b += g * xh;
        }
        a /= C; b /= C;
        for (int i = 0; i < C; i++) {
            double xh = (xr[i] - mean[r]) * rstd[r], g = (double)dyr[i] * w[i];
            dxr[i] += (float)(rstd[r] * (g - a - xh * b));
        }
    }
}

/* ---- linear: y = x W^T + b, W: [O, I] as PyTorch stores it ---------------------------- */
/* x: [R, I], y: [R, O]; pk: W prepacked (e.g. as bf16), or NULL */
static void linear_forward(coop_pool *p, float *y, const float *x, const float *W, const float *b,
                           int R, int I, int O, const gemm__packed *pk) {
    if (pk) gemm__mm_packed(p, R, x, I, pk, b, 0.0f, y, O, 0);
    else coop_gemm(p, 1, R, O, I, x, I, W, I, b, 0.0f, y, O);
}

/* dx[R, I] (+)= dy[R, O] W[O, I]; accumulate 0 overwrites dx */
static void linear_backward(coop_pool *p, float *dx, const float *dy, const float *W,
                            int R, int I, int O, int accumulate) {
    coop_gemm(p, 0, R, I, O, dy, O, W, I, NULL, accumulate ? 1.0f : 0.0f, dx, I);
}

/* ---- activations ---------------------------------------------------------------------- */
/* GELU (exact, erf) as nn.GELU(); QuickGELU x * sigmoid(1.702 x) as OpenAI's CLIP. In place:
   h holds the pre-activation on entry (kept in `pre` when non-NULL, for backward).
   With the AVX-512 matmul kernel the activations run 16 lanes at a time on our own exp and erfc
   (below: relative error ~1e-7, like libm's expf/erff); the portable path uses libm. The ViT-B-32
   and text towers spend ~10% of their time here with libm. */
#if GEMM_X86
/* e^x: x = n ln2 + r, |r| <= ln2/2; e^r by a degree-6 polynomial (Cephes expf's coefficients),
   times 2^n by vscalefps. Inputs are clamped to [-88, 88]: the result stays finite. */
__attribute__((target("avx512f"))) static __m512 act__exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.0f)), _mm512_set1_ps(88.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}
/* erfc(z) for z >= 0: t = 1 / (1 + z/2), erfc = t exp(-z^2 + P(t)), a Chebyshev fit with
   fractional error < 1.2e-7 everywhere (Numerical Recipes' erfcc); negative z: 2 - erfc(-z) */
__attribute__((target("avx512f"))) static __m512 act__erfc16(__m512 z) {
    __m512 a = _mm512_abs_ps(z), one = _mm512_set1_ps(1.0f);
    __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(a, _mm512_set1_ps(0.5f), one));
    static const float c[10] = {-1.26551223f, 1.00002368f, 0.37409196f, 0.09678418f, -0.18628806f,
                                0.27886807f, -1.13520398f, 1.48851587f, -0.82215223f, 0.17087277f};
    __m512 p = _mm512_set1_ps(c[9]);
    for (int i = 8; i >= 0; i--) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
    __m512 e = _mm512_mul_ps(t, act__exp16(_mm512_fnmadd_ps(a, a, p)));
    __mmask16 neg = _mm512_cmp_ps_mask(z, _mm512_setzero_ps(), _CMP_LT_OQ);
    return _mm512_mask_sub_ps(e, neg, _mm512_set1_ps(2.0f), e);
}
/* every element the same way (the tail through a mask): results do not depend on the split */
__attribute__((target("avx512f"))) static void act_forward16(float *h, float *pre, size_t n, int act) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, h + i), y;
        if (pre) _mm512_mask_storeu_ps(pre + i, m, x);
        if (act == COOP_ACT_QUICK_GELU)   /* x / (1 + e^(-1.702 x)) */
            y = _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), act__exp16(_mm512_mul_ps(x, _mm512_set1_ps(-1.702f)))));
        else                              /* x/2 erfc(-x / sqrt 2) = x Phi(x) */
            y = _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), act__erfc16(_mm512_mul_ps(x, _mm512_set1_ps(-0.70710678118654752f))));
        _mm512_mask_storeu_ps(h + i, m, y);
    }
}
__attribute__((target("avx512f"))) static void act_backward16(float *dh, const float *pre, size_t n, int act) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, pre + i), g;
        if (act == COOP_ACT_QUICK_GELU) {  /* s (1 + 1.702 x (1 - s)), s = sigmoid(1.702 x) */
            __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, act__exp16(_mm512_mul_ps(x, _mm512_set1_ps(-1.702f)))));
            g = _mm512_mul_ps(s, _mm512_fmadd_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.702f)), _mm512_sub_ps(one, s), one));
        } else {                           /* Phi(x) + x phi(x) */
            __m512 cdf = _mm512_mul_ps(_mm512_set1_ps(0.5f), act__erfc16(_mm512_mul_ps(x, _mm512_set1_ps(-0.70710678118654752f))));
            __m512 pdf = _mm512_mul_ps(_mm512_set1_ps(0.3989422804014327f), act__exp16(_mm512_mul_ps(_mm512_mul_ps(x, x), _mm512_set1_ps(-0.5f))));
            g = _mm512_fmadd_ps(x, pdf, cdf);
        }
        _mm512_mask_storeu_ps(dh + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dh + i), g));
    }
}
#endif
static int act__simd(void) {   /* the AVX-512 matmul kernel is in use (first in gemm__kernels) */
#if GEMM_X86
    return gemm__pick() == &gemm__kernels[0];
#else
    return 0;
#endif
}

static void act_forward(float *h, float *pre, size_t n, int act) {
#if GEMM_X86
    if (act__simd()) { act_forward16(h, pre, n, act); return; }
#endif
    if (pre) memcpy(pre, h, n * sizeof(float));
    if (act == COOP_ACT_QUICK_GELU)
        for (size_t i = 0; i < n; i++) h[i] = h[i] / (1.0f + expf(-1.702f * h[i]));
    else
        for (size_t i = 0; i < n; i++) h[i] = 0.5f * h[i] * (1.0f + erff(h[i] * 0.70710678118654752f));
}

/* dh *= act'(pre), in place */
static void act_backward(float *dh, const float *pre, size_t n, int act) {
#if GEMM_X86
    if (act__simd()) { act_backward16(dh, pre, n, act); return; }
#endif
    if (act == COOP_ACT_QUICK_GELU)
        for (size_t i = 0; i < n; i++) {
            float s = 1.0f / (1.0f + expf(-1.702f * pre[i]));
            dh[i] *= s * (1.0f + 1.702f * pre[i] * (1.0f - s));
        }
    else
        for (size_t i = 0; i < n; i++) {
            float x = pre[i];
            dh[i] *= 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.3989422804014327f * expf(-0.5f * x * x);
        }
}

/* ---- the same, split by rows over the pool ---------------------------------------------- */
/* Row-wise work is cheap per element but, left serial, idles every other core; results do not
   depend on the split (each row is computed whole by one task). */
enum { EW_LN_FWD, EW_LN_BWD, EW_ACT_FWD, EW_ACT_BWD, EW_ADD };
typedef struct {
    int op, R, C, act;
    float eps;
    float *y, *mean, *rstd;         /* EW_ACT_FWD: mean is the optional copy of the input */
    const float *x, *w, *b, *aux;
} ew_job;

static void ew_task(void *ctx, int t, int nt) {
    const ew_job *e = (const ew_job *)ctx;
    int r0 = (int)((int64_t)e->R * t / nt), r1 = (int)((int64_t)e->R * (t + 1) / nt), rows = r1 - r0;
    size_t o = (size_t)r0 * e->C, n = (size_t)rows * e->C;
    switch (e->op) {
    case EW_LN_FWD:
        layernorm_forward(e->y + o, e->mean ? e->mean + r0 : NULL, e->rstd ? e->rstd + r0 : NULL, e->x + o, e->w, e->b, rows, e->C, e->eps);
        break;
    case EW_LN_BWD: layernorm_backward(e->y + o, e->x + o, e->aux + o, e->w, e->mean + r0, e->rstd + r0, rows, e->C); break;
    case EW_ACT_FWD: act_forward(e->y + o, e->mean ? e->mean + o : NULL, n, e->act); break;
    case EW_ACT_BWD: act_backward(e->y + o, e->aux + o, n, e->act); break;
    case EW_ADD: for (size_t i = 0; i < n; i++) e->y[o + i] += e->x[o + i]; break;
    }
}

static void ew_run(coop_pool *p, ew_job *e) {
    int nt = coop_pool_threads(p);
    if ((size_t)e->R * e->C < 16384) nt = 1;   /* a pool round costs more than it saves */
    if (nt > e->R) nt = e->R;
    if (nt >= 1) coop_pool_run(nt > 1 ? p : NULL, nt, ew_task, e);
}
/* layernorm_forward / _backward, act_forward / _backward over the pool; y += x */
static void ln_fwd(coop_pool *p, float *y, float *mean, float *rstd, const float *x, const float *w,
                   const float *b, int R, int C, float eps) {
    ew_job e = {EW_LN_FWD, R, C, 0, eps, y, mean, rstd, x, w, b, NULL};
    ew_run(p, &e);
}
static void ln_bwd(coop_pool *p, float *dx, const float *dy, const float *x, const float *w,
                   const float *mean, const float *rstd, int R, int C) {
    ew_job e = {EW_LN_BWD, R, C, 0, 0.0f, dx, (float *)mean, (float *)rstd, dy, w, NULL, x};
    ew_run(p, &e);
}
static void act_fwd(coop_pool *p, float *h, float *pre, int R, int C, int act) {   /* pre: saved input or NULL */
    ew_job e = {EW_ACT_FWD, R, C, act, 0.0f, h, pre, NULL, NULL, NULL, NULL, NULL};
    ew_run(p, &e);
}
static void act_bwd(coop_pool *p, float *dh, const float *pre, int R, int C, int act) {
    ew_job e = {EW_ACT_BWD, R, C, act, 0.0f, dh, NULL, NULL, NULL, NULL, NULL, pre};
    ew_run(p, &e);
}
static void add_rows(coop_pool *p, float *y, const float *x, int R, int C) {
    ew_job e = {EW_ADD, R, C, 0, 0.0f, y, NULL, NULL, x, NULL, NULL, NULL};
    ew_run(p, &e);
}

/* ---- attention, one head of one sequence ------------------------------------------------ */
/* Keys/values come in two segments so that a prefix shared by many prompts is stored once:
   segment 1 (n1 rows, positions 0..n1-1) and segment 2 (n2 rows, positions n1..n1+n2-1).
   Queries: nq rows at positions q0..q0+nq-1. causal: query at position t sees keys <= t.
   q, k*, v*: rows with stride ld (the packed qkv rows), hd columns used from each.
   P: [nq, n1+n2] softmax probabilities (saved for backward), out: rows with stride ldo. */
typedef struct {
    const float *q, *k1, *v1, *k2, *v2;
    int ld, nq, q0, n1, n2, causal, hd;
    float *P, *out;
    int ldo;
} attn_head;

/* The products run through coop_gemm (serial: one task is one head) on keys and values
   copied into one contiguous block [nk, hd], so a prefix stored once or a sequence stored whole
   give bit-identical results. Causal heads compute all scores and mask after: the saving would
   be at most half of a small product. Scratch is the calling thread's (grow-only). */
static float *attn_scratch(size_t n) { return gemm__buf_get(GEMM_BUF_ATT, n); }

/* kc, vc [nk, hd] <- the two segments of keys and values */
static void attn_gather(const attn_head *a, float *kc, float *vc) {
    for (int j = 0; j < a->n1 + a->n2; j++) {
        size_t off = (size_t)(j < a->n1 ? j : j - a->n1) * a->ld;
        memcpy(kc + (size_t)j * a->hd, (j < a->n1 ? a->k1 : a->k2) + off, sizeof(float) * a->hd);
        memcpy(vc + (size_t)j * a->hd, (j < a->n1 ? a->v1 : a->v2) + off, sizeof(float) * a->hd);
    }
}

/* forward: P = softmax(q k^T / sqrt(hd)) (masked), out = P v */
static int attn_head_forward(const attn_head *a) {
    int nk = a->n1 + a->n2, hd = a->hd;
    if (a->nq <= 0) return 0;
    float *kc = attn_scratch((size_t)2 * nk * hd), *vc = kc + (size_t)nk * hd;
    if (!kc) return -1;
    attn_gather(a, kc, vc);
    float scale = 1.0f / sqrtf((float)hd);
    coop_gemm(NULL, 1, a->nq, nk, hd, a->q, a->ld, kc, hd, NULL, 0.0f, a->P, nk);   /* P [nq, nk] = q kc^T */
    for (int i = 0; i < a->nq; i++) {
        float *pr = a->P + (size_t)i * nk, mx = -INFINITY, sum = 0;
        int last = a->causal ? a->q0 + i : nk - 1;       /* last visible key position */
        for (int j = 0; j <= last; j++) { pr[j] *= scale; if (pr[j] > mx) mx = pr[j]; }
        for (int j = 0; j <= last; j++) { pr[j] = expf(pr[j] - mx); sum += pr[j]; }
        float inv = 1.0f / sum;
        for (int j = 0; j <= last; j++) pr[j] *= inv;
        for (int j = last + 1; j < nk; j++) pr[j] = 0;
    }
    coop_gemm(NULL, 0, a->nq, hd, nk, a->P, nk, vc, hd, NULL, 0.0f, a->out, a->ldo);  /* out = P vc */
    return 0;
}

/* backward of one head: dout rows (stride ldo) -> dq (rows like q), dk1/dv1 (rows like k1) and
   dk2/dv2 (rows like k2), all with stride ldd, accumulated.
     dP = dout v^T;  dS = P * (dP - rowsum(dP * P)) / sqrt(hd);  dq += dS k;  dk += dS^T q;  dv += P^T dout */
static int attn_head_backward(const attn_head *a, const float *dout, float *dq, float *dk1, float *dv1,
                              float *dk2, float *dv2, int ldd) {
    int nk = a->n1 + a->n2, nq = a->nq, hd = a->hd;
    if (nq <= 0) return 0;
    float *kc = attn_scratch((size_t)2 * nk * hd + (size_t)3 * nq * nk);
    if (!kc) return -1;
    float *vc = kc + (size_t)nk * hd, *dS = vc + (size_t)nk * hd, *dST = dS + (size_t)nq * nk, *PT = dST + (size_t)nq * nk;
    attn_gather(a, kc, vc);
    float scale = 1.0f / sqrtf((float)hd);
    coop_gemm(NULL, 1, nq, nk, hd, dout, a->ldo, vc, hd, NULL, 0.0f, dS, nk);      /* dP [nq, nk] */
    for (int i = 0; i < nq; i++) {
        const float *pr = a->P + (size_t)i * nk;
        float *ds = dS + (size_t)i * nk, dot = 0;
        for (int j = 0; j < nk; j++) dot += ds[j] * pr[j];
        for (int j = 0; j < nk; j++) {
            ds[j] = pr[j] * (ds[j] - dot) * scale;   /* softmax backward, then the 1/sqrt(hd); masked: 0 */
            dST[(size_t)j * nq + i] = ds[j];
            PT[(size_t)j * nq + i] = pr[j];
        }
    }
    coop_gemm(NULL, 0, nq, hd, nk, dS, nk, kc, hd, NULL, 1.0f, dq, ldd);            /* dq += dS kc */
    /* dk, dv: rows of the prefix segment, then of the sequence's own segment */
    if (a->n1) {
        coop_gemm(NULL, 0, a->n1, hd, nq, dST, nq, a->q, a->ld, NULL, 1.0f, dk1, ldd);
        coop_gemm(NULL, 0, a->n1, hd, nq, PT, nq, dout, a->ldo, NULL, 1.0f, dv1, ldd);
    }
    if (a->n2) {
        coop_gemm(NULL, 0, a->n2, hd, nq, dST + (size_t)a->n1 * nq, nq, a->q, a->ld, NULL, 1.0f, dk2, ldd);
        coop_gemm(NULL, 0, a->n2, hd, nq, PT + (size_t)a->n1 * nq, nq, dout, a->ldo, NULL, 1.0f, dv2, ldd);
    }
    return 0;
}

/* ---- the residual attention block of CLIP's transformers (pre-LN) ------------------------ */
/*   x = x + out_proj(attention(ln_1(x)));  x = x + c_proj(act(c_fc(ln_2(x))))
   over packed rows of several sequences. A sequence owns `len` rows starting at row kv0 and
   may also see n1 prefix rows (rows 0..n1-1, shared by many sequences); its own row k is at
   position n1 + k. Only nq query rows (own rows qi0..qi0+nq-1) go on past the attention, and
   their results land at rows out0.. of the output: in a last layer only the row that is read
   (EOT, class token) needs the out-projection and MLP. */
typedef struct { int kv0, len, n1, qi0, nq, out0; } tw_seq;

typedef struct {
    const float *ln1_w, *ln1_b, *in_w, *in_b, *out_w, *out_b, *ln2_w, *ln2_b, *fc_w, *fc_b, *pr_w, *pr_b;
    const gemm__packed *pk;     /* NULL, or in_w, out_w, fc_w, pr_w prepacked (forward only) */
} tw_block;

/* looks up block i's tensors under `prefix` ("visual.transformer" / "transformer") with shapes */
static int tw_block_load(coop_model *m, const char *prefix, int i, int D, int F, tw_block *b) {
    char nm[128];
    int64_t d1[1] = {D}, d3[1] = {3 * D}, dd3[2] = {3 * D, D}, dd[2] = {D, D}, f1[1] = {F}, fd[2] = {F, D}, df[2] = {D, F};
#define TW_GET(field, suffix, nd, shape) \
    do { snprintf(nm, sizeof nm, "%s.resblocks.%d.%s", prefix, i, suffix); \
         if (!(b->field = coop_model_f32(m, nm, nd, shape))) return -1; } while (0)
    TW_GET(ln1_w, "ln_1.weight", 1, d1); TW_GET(ln1_b, "ln_1.bias", 1, d1);
    TW_GET(in_w, "attn.in_proj_weight", 2, dd3); TW_GET(in_b, "attn.in_proj_bias", 1, d3);
    TW_GET(out_w, "attn.out_proj.weight", 2, dd); TW_GET(out_b, "attn.out_proj.bias", 1, d1);
    TW_GET(ln2_w, "ln_2.weight", 1, d1); TW_GET(ln2_b, "ln_2.bias", 1, d1);
    TW_GET(fc_w, "mlp.c_fc.weight", 2, fd); TW_GET(fc_b, "mlp.c_fc.bias", 1, f1);
    TW_GET(pr_w, "mlp.c_proj.weight", 2, df); TW_GET(pr_b, "mlp.c_proj.bias", 1, d1);
#undef TW_GET
    return 0;
}

/* what one layer keeps for its backward (NULL pointers when not training) */
typedef struct { float *x, *mean1, *rstd1, *qkv, *P, *xmid, *mean2, *rstd2, *u; } tw_saved;

/* sizes of one block's buffers for a set of sequences */
typedef struct { int R, Rq, D, H, F; size_t probs; } tw_dims;

static tw_dims tw_plan(const tw_seq *s, int nseq, int R, int D, int H, int F) {
    tw_dims d = {R, 0, D, H, F, 0};
    for (int i = 0; i < nseq; i++) {
        d.Rq += s[i].nq;
        d.probs += (size_t)H * s[i].nq * (s[i].n1 + s[i].len);
    }
    return d;
}

typedef struct {
    const tw_seq *seqs;
    int nseq, D, H, causal;
    const float *qkv;
    float *P, *A;
    size_t *poff;
    /* backward */
    const float *dA;
    float *dqkv, *dpref;
    int fail;   /* set by a task whose scratch could not be allocated */
} tw_attn_job;

static attn_head tw_head(const tw_attn_job *j, int s, int h) {
    const tw_seq *q = &j->seqs[s];
    int D3 = 3 * j->D, hd = j->D / j->H;
    attn_head a;
    a.q = j->qkv + (size_t)(q->kv0 + q->qi0) * D3 + h * hd;
    a.k1 = j->qkv + j->D + h * hd;
    a.v1 = j->qkv + 2 * j->D + h * hd;
    a.k2 = j->qkv + (size_t)q->kv0 * D3 + j->D + h * hd;
    a.v2 = a.k2 + j->D;
    a.ld = D3; a.nq = q->nq; a.q0 = q->n1 + q->qi0; a.n1 = q->n1; a.n2 = q->len;
    a.causal = j->causal; a.hd = hd;
    a.P = j->P + j->poff[s] + (size_t)h * q->nq * (q->n1 + q->len);
    a.out = j->A + (size_t)q->out0 * j->D + h * hd;
    a.ldo = j->D;
    return a;
}

static void tw_attn_fwd_task(void *ctx, int t, int nt) {
    (void)nt;
    tw_attn_job *j = (tw_attn_job *)ctx;
    attn_head a = tw_head(j, t / j->H, t % j->H);
    if (attn_head_forward(&a)) j->fail = 1;
}

static void tw_attn_bwd_task(void *ctx, int t, int nt) {
    (void)nt;
    tw_attn_job *j = (tw_attn_job *)ctx;
    int s = t / j->H, h = t % j->H, D3 = 3 * j->D, hd = j->D / j->H;
    const tw_seq *q = &j->seqs[s];
    attn_head a = tw_head(j, s, h);
    float *dq = j->dqkv + (size_t)(q->kv0 + q->qi0) * D3 + h * hd;
    float *dk2 = j->dqkv + (size_t)q->kv0 * D3 + j->D + h * hd;
    /* the shared prefix gets a private buffer per sequence, summed afterwards in a fixed order */
    float *dk1 = q->n1 ? j->dpref + (size_t)s * q->n1 * D3 + j->D + h * hd : NULL;
    if (attn_head_backward(&a, j->dA + (size_t)q->out0 * j->D + h * hd, dq, dk1, dk1 ? dk1 + j->D : NULL,
                           dk2, dk2 + j->D, D3))
        j->fail = 1;
}

/* scratch for one block: H [max(R,Rq), D], qkv [R, 3D] (unless saved), A [Rq, D],
   xmid [Rq, D], u [Rq, F]; all from the arena */
typedef struct { float *h, *qkv, *a, *xmid, *u, *mean, *rstd; size_t *poff; float *P; } tw_scratch;

/* X: [R, D] input rows; Y: [Rq, D] output rows (may not alias X). -1: out of memory */
static int tw_block_forward(coop_pool *p, const tw_block *w, const tw_dims *d, int act, float eps, int causal,
                             const tw_seq *seqs, int nseq, const float *X, float *Y, tw_scratch *s, tw_saved *sv) {
    int R = d->R, Rq = d->Rq, D = d->D, F = d->F;
    float *qkv = sv ? sv->qkv : s->qkv, *P = sv ? sv->P : s->P, *xmid = sv ? sv->xmid : s->xmid, *u = sv ? sv->u : s->u;
    if (sv) memcpy(sv->x, X, sizeof(float) * (size_t)R * D);
    ln_fwd(p, s->h, sv ? sv->mean1 : s->mean, sv ? sv->rstd1 : s->rstd, X, w->ln1_w, w->ln1_b, R, D, eps);
    linear_forward(p, qkv, s->h, w->in_w, w->in_b, R, D, 3 * D, w->pk ? &w->pk[0] : NULL);
    size_t off = 0;
    for (int i = 0; i < nseq; i++) { s->poff[i] = off; off += (size_t)d->H * seqs[i].nq * (seqs[i].n1 + seqs[i].len); }
    tw_attn_job j = {seqs, nseq, D, d->H, causal, qkv, P, s->a, s->poff, NULL, NULL, NULL, 0};
    coop_pool_run(p, nseq * d->H, tw_attn_fwd_task, &j);
    if (j.fail) return -1;
    /* xmid = x (query rows) + out_proj(A) */
    linear_forward(p, xmid, s->a, w->out_w, w->out_b, Rq, D, D, w->pk ? &w->pk[1] : NULL);
    for (int i = 0; i < nseq; i++)
        for (int k = 0; k < seqs[i].nq; k++) {
            float *xm = xmid + (size_t)(seqs[i].out0 + k) * D;
            const float *xr = X + (size_t)(seqs[i].kv0 + seqs[i].qi0 + k) * D;
            for (int c = 0; c < D; c++) xm[c] += xr[c];
        }
    ln_fwd(p, s->h, sv ? sv->mean2 : s->mean, sv ? sv->rstd2 : s->rstd, xmid, w->ln2_w, w->ln2_b, Rq, D, eps);
    /* keep the pre-activation in sv->u for backward: act on s->u, saving its input */
    float *g = sv ? s->u : u;
    linear_forward(p, g, s->h, w->fc_w, w->fc_b, Rq, D, F, w->pk ? &w->pk[2] : NULL);
    act_fwd(p, g, sv ? u : NULL, Rq, F, act);
    linear_forward(p, Y, g, w->pr_w, w->pr_b, Rq, F, D, w->pk ? &w->pk[3] : NULL);
    add_rows(p, Y, xmid, Rq, D);
    return 0;
}

/* dY: [Rq, D] gradient of the output (destroyed); dX: [R, D] gradient of the input (overwritten).
   scratch: s->h [max(R,Rq), D], s->a [Rq, D], s->u [Rq, F], s->qkv [R, 3D] (dqkv),
   dpref [nseq, n1, 3D] when sequences share a prefix. -1: out of memory */
static int tw_block_backward(coop_pool *p, const tw_block *w, const tw_dims *d, int act, int causal,
                              const tw_seq *seqs, int nseq, const tw_saved *sv, float *dY, float *dX,
                              tw_scratch *s, float *dpref) {
    int R = d->R, Rq = d->Rq, D = d->D, F = d->F, D3 = 3 * D;
    /* MLP: dY -> du -> dh2 -> dxmid (dY doubles as dxmid: the residual passes it through) */
    linear_backward(p, s->u, dY, w->pr_w, Rq, F, D, 0);
    act_bwd(p, s->u, sv->u, Rq, F, act);
    linear_backward(p, s->h, s->u, w->fc_w, Rq, D, F, 0);
    ln_bwd(p, dY, s->h, sv->xmid, w->ln2_w, sv->mean2, sv->rstd2, Rq, D);
    /* attention */
    linear_backward(p, s->a, dY, w->out_w, Rq, D, D, 0);
    memset(s->qkv, 0, sizeof(float) * (size_t)R * D3);
    int n1 = 0;
    for (int i = 0; i < nseq; i++) if (seqs[i].n1 > n1) n1 = seqs[i].n1;
    if (n1) memset(dpref, 0, sizeof(float) * (size_t)nseq * n1 * D3);
    size_t off = 0;
    for (int i = 0; i < nseq; i++) { s->poff[i] = off; off += (size_t)d->H * seqs[i].nq * (seqs[i].n1 + seqs[i].len); }
    tw_attn_job j = {seqs, nseq, D, d->H, causal, sv->qkv, sv->P, NULL, s->poff, s->a, s->qkv, dpref, 0};
    coop_pool_run(p, nseq * d->H, tw_attn_bwd_task, &j);
    if (j.fail) return -1;
    for (int i = 0; i < nseq; i++)
        for (int r = 0; r < seqs[i].n1; r++) {
            const float *src = dpref + ((size_t)i * seqs[i].n1 + r) * D3;
            float *dst = s->qkv + (size_t)r * D3;
            for (int c = D; c < D3; c++) dst[c] += src[c];
        }
    /* ln_1 and the residual */
    linear_backward(p, s->h, s->qkv, w->in_w, R, D, D3, 0);
    memset(dX, 0, sizeof(float) * (size_t)R * D);
    for (int i = 0; i < nseq; i++)
        for (int k = 0; k < seqs[i].nq; k++)
            memcpy(dX + (size_t)(seqs[i].kv0 + seqs[i].qi0 + k) * D, dY + (size_t)(seqs[i].out0 + k) * D, sizeof(float) * D);
    ln_bwd(p, dX, s->h, sv->x, w->ln1_w, sv->mean1, sv->rstd1, R, D);
    return 0;
}

/* ===================================================================================== */
/* ViT image tower (OpenCLIP / OpenAI VisionTransformer)                                  */
/* ===================================================================================== */
/* pixels [n, 3, S, S] -> patches (conv1 without bias, as one gemm over unfolded patches)
   -> [class token; patches] + positional embedding -> ln_pre -> pre-LN blocks -> ln_post of
   the class token -> @ proj [W, E]. The class token is all that is read, so the last block
   runs its out-projection and MLP on that row only (exact: no other row feeds it after the
   last attention). Work buffers live with the model and are reused across calls. */

typedef struct {
    int W, L, H, F, P, G, S, E, act;
    float eps;
    const float *conv, *cls, *pos, *lnpre_w, *lnpre_b, *lnpost_w, *lnpost_b, *proj;
    tw_block *blocks;
    coop_arena work;
    int chunk;                      /* images per pass (bounds the work memory) */
    int bf16;                       /* coop_model_bf16 when made: weights packed as bf16 */
    gemm__packed *pk;               /* then: [L][4] block matmuls, [L*4] the patch conv */
    float *packed;                  /* their data, one allocation */
} vit_state;

static void vit_state_free(void *ptr) {
    vit_state *v = (vit_state *)ptr;
    if (!v) return;
    coop_free(v->packed);
    free(v->pk);
    coop_arena_free(&v->work);
    free(v->blocks);
    free(v);
}

/* the Linear weights of every block (pk[4 i + 0..3]: in, out, fc, proj) and the patch conv
   (pk[4 L]) packed as bf16 into dst, 64-byte aligned each; dst NULL: only the floats needed */
static size_t vit_pack(vit_state *v, float *dst) {
    size_t used = 0;
    for (int i = 0; i <= v->L; i++) {
        tw_block *b = &v->blocks[i < v->L ? i : 0];
        const float *w[4] = {b->in_w, b->out_w, b->fc_w, b->pr_w};
        int N[4] = {3 * v->W, v->W, v->F, v->W}, K[4] = {v->W, v->W, v->W, v->F};
        if (i == v->L) { w[0] = v->conv; N[0] = v->W; K[0] = 3 * v->P * v->P; }
        for (int k = 0; k < (i < v->L ? 4 : 1); k++) {
            if (dst) gemm__prepack(&v->pk[(size_t)i * 4 + k], 1, N[k], K[k], w[k], K[k], dst + used, 1);
            used += (gemm__packed_size(N[k], K[k], 1) + 15) / 16 * 16;
        }
        if (dst && i < v->L) b->pk = v->pk + (size_t)i * 4;
    }
    return used;
}

static vit_state *vit_state_get(coop_model *m) {
    vit_state *v = (vit_state *)coop_model_slot(m, COOP_SLOT_VISION);
    if (v) return v;
    const coop_config *c = coop_model_config(m);
    v = (vit_state *)calloc(1, sizeof *v);
    if (!v) { coop_set_error("out of memory"); return NULL; }
    v->W = c->vision_width; v->L = c->vision_layers; v->H = c->vision_heads; v->F = c->vision_mlp;
    v->P = c->vision_patch; v->S = c->image_size; v->G = v->S / v->P; v->E = c->embed_dim;
    v->act = c->vision_act; v->eps = c->ln_eps;
    int64_t conv[4] = {v->W, 3, v->P, v->P}, w1[1] = {v->W}, pos[2] = {(int64_t)v->G * v->G + 1, v->W}, proj[2] = {v->W, v->E};
    v->blocks = (tw_block *)calloc((size_t)v->L, sizeof(tw_block));
    int ok = v->blocks && (v->conv = coop_model_f32(m, "visual.conv1.weight", 4, conv)) &&
             (v->cls = coop_model_f32(m, "visual.class_embedding", 1, w1)) &&
             (v->pos = coop_model_f32(m, "visual.positional_embedding", 2, pos)) &&
             (v->lnpre_w = coop_model_f32(m, "visual.ln_pre.weight", 1, w1)) &&
             (v->lnpre_b = coop_model_f32(m, "visual.ln_pre.bias", 1, w1)) &&
             (v->lnpost_w = coop_model_f32(m, "visual.ln_post.weight", 1, w1)) &&
             (v->lnpost_b = coop_model_f32(m, "visual.ln_post.bias", 1, w1)) &&
             (v->proj = coop_model_f32(m, "visual.proj", 2, proj));
    for (int i = 0; ok && i < v->L; i++) ok = !tw_block_load(m, "visual.transformer", i, v->W, v->F, &v->blocks[i]);
    v->bf16 = coop_model_bf16(m);
    if (ok && v->bf16) {
        /* the block matmuls and the patch conv, packed as bf16 once: sized, then packed */
        v->pk = (gemm__packed *)calloc((size_t)v->L * 4 + 1, sizeof *v->pk);
        v->packed = v->pk ? (float *)coop_malloc(vit_pack(v, NULL) * sizeof(float)) : NULL;
        ok = v->packed != NULL;
        if (ok) vit_pack(v, v->packed);
        else coop_set_error("out of memory (bf16 weights)");
    }
    if (!ok) { vit_state_free(v); return NULL; }
    /* chunk so that the MLP activations of a pass stay around 64 MB */
    int T = v->G * v->G + 1;
    v->chunk = (int)((16u << 20) / ((size_t)T * (v->F > v->W * 3 ? v->F : v->W * 3)));
    if (v->chunk < 1) v->chunk = 1;
    if (v->chunk > 64) v->chunk = 64;
    coop_model_set_slot(m, COOP_SLOT_VISION, v, vit_state_free);
    return v;
}

typedef struct { const vit_state *v; const float *px; float *patches; int n; } vit_unfold_job;

/* patches: [n*G*G, 3*P*P], in conv1's weight order (c, ky, kx) */
static void vit_unfold_task(void *ctx, int t, int nt) {
    const vit_unfold_job *j = (const vit_unfold_job *)ctx;
    const vit_state *v = j->v;
    int G = v->G, P = v->P, S = v->S, K = 3 * P * P;
    for (int r = t; r < j->n * G * G; r += nt) {
        int b = r / (G * G), gy = (r / G) % G, gx = r % G;
        float *dst = j->patches + (size_t)r * K;
        for (int c = 0; c < 3; c++)
            for (int ky = 0; ky < P; ky++)
                memcpy(dst + (c * P + ky) * P, j->px + (((size_t)b * 3 + c) * S + gy * P + ky) * S + gx * P, sizeof(float) * P);
    }
}

int coop_vit_encode(coop_model *m, coop_pool *p, const float *pixels, int n, float *out) {
    if (n <= 0) return 0;
    vit_state *v = (vit_state *)coop_model_slot(m, COOP_SLOT_VISION);
    if (v && v->bf16 != coop_model_bf16(m)) coop_model_set_slot(m, COOP_SLOT_VISION, NULL, NULL);  /* repack */
    v = vit_state_get(m);
    if (!v) return -1;
    int W = v->W, G = v->G, T = G * G + 1, K = 3 * v->P * v->P, E = v->E, B = v->chunk;
    size_t R = (size_t)B * T;
    /* work: patches, two residual buffers, scratch of one block */
    size_t need = 0;
#define VIT_SZ(count) (need += (((size_t)(count) * sizeof(float)) + 63) & ~(size_t)63)
    VIT_SZ((size_t)B * G * G * K); VIT_SZ(R * W); VIT_SZ(R * W); VIT_SZ(R * W); VIT_SZ(R * 3 * W);
    VIT_SZ(R * W); VIT_SZ(R * W); VIT_SZ(R * (size_t)v->F); VIT_SZ(R); VIT_SZ(R);
    VIT_SZ((size_t)B * v->H * T * T); VIT_SZ(4 * (size_t)B); VIT_SZ(B * sizeof(tw_seq) / sizeof(float) + 1);
#undef VIT_SZ
    coop_arena_reset(&v->work);
    if (coop_arena_reserve(&v->work, need)) return -1;
    coop_arena *a = &v->work;
    float *patches = (float *)coop_arena_alloc(a, (size_t)B * G * G * K * 4);
    float *X = (float *)coop_arena_alloc(a, R * W * 4), *Y = (float *)coop_arena_alloc(a, R * W * 4);
    tw_scratch s;
    s.h = (float *)coop_arena_alloc(a, R * W * 4);
    s.qkv = (float *)coop_arena_alloc(a, R * 3 * W * 4);
    s.a = (float *)coop_arena_alloc(a, R * W * 4);
    s.xmid = (float *)coop_arena_alloc(a, R * W * 4);
    s.u = (float *)coop_arena_alloc(a, R * (size_t)v->F * 4);
    s.mean = (float *)coop_arena_alloc(a, R * 4);
    s.rstd = (float *)coop_arena_alloc(a, R * 4);
    s.P = (float *)coop_arena_alloc(a, (size_t)B * v->H * T * T * 4);
    s.poff = (size_t *)coop_arena_alloc(a, 2 * (size_t)B * sizeof(size_t));
    tw_seq *seqs = (tw_seq *)coop_arena_alloc(a, B * sizeof(tw_seq) + 4);
    if (!seqs) return -1;
    for (int i0 = 0; i0 < n; i0 += B) {
        int nb = n - i0 < B ? n - i0 : B;
        vit_unfold_job uj = {v, pixels + (size_t)i0 * 3 * v->S * v->S, patches, nb};
        coop_pool_run(p, coop_pool_threads(p) * 4, vit_unfold_task, &uj);
        /* patch embeddings go straight into rows 1..G*G of each image: a strided gemm per image */
        for (int b = 0; b < nb; b++) {
            float *xb = X + (size_t)b * T * W;
            if (v->bf16) gemm__mm_packed(p, G * G, patches + (size_t)b * G * G * K, K, &v->pk[(size_t)v->L * 4], NULL, 0.0f, xb + W, W, 0);
            else coop_gemm(p, 1, G * G, W, K, patches + (size_t)b * G * G * K, K, v->conv, K, NULL, 0.0f, xb + W, W);
            memcpy(xb, v->cls, sizeof(float) * W);
            for (size_t i = 0; i < (size_t)T * W; i++) xb[i] += v->pos[i];
        }
        int Rb = nb * T;
        ln_fwd(p, X, NULL, NULL, X, v->lnpre_w, v->lnpre_b, Rb, W, v->eps);
        for (int l = 0; l < v->L; l++) {
            int last = l == v->L - 1;
            for (int b = 0; b < nb; b++) {
                tw_seq q = {b * T, T, 0, 0, last ? 1 : T, last ? b : b * T};
                seqs[b] = q;
            }
            tw_dims d = tw_plan(seqs, nb, Rb, W, v->H, v->F);
            if (tw_block_forward(p, &v->blocks[l], &d, v->act, v->eps, 0, seqs, nb, X, Y, &s, NULL)) return -1;
            float *t = X; X = Y; Y = t;
        }
        /* X: [nb, W] class rows */
        layernorm_forward(s.h, NULL, NULL, X, v->lnpost_w, v->lnpost_b, nb, W, v->eps);
        coop_gemm(p, 0, nb, E, W, s.h, W, v->proj, E, NULL, 0.0f, out + (size_t)i0 * E, E);
    }
    return 0;
}

/* ===================================================================================== */
/* CLIP text tower: forward from ids or from input embeddings, and backward to them       */
/* ===================================================================================== */
/* x = token_embedding[ids] + positional_embedding; causal pre-LN blocks; ln_final; the row of
   the EOT token (argmax of ids) @ text_projection [D, E].

   Exact shortcuts (DESIGN.md "Where the speed comes from"), each proved by the tests against
   the full 77-token reference:
   - causal attention: a position never sees later ones, so each prompt stops at its EOT;
   - the first n_shared positions are the same in every prompt (SOT and a shared context):
     their rows are computed once, and every prompt's attention reads their keys and values;
   - only the EOT row is read, so the last block runs its out-projection and MLP on it alone.
   Rows are packed: [shared prefix rows][prompt 0's own rows][prompt 1's own rows]...

   Backward: with n_shared > 0 the gradient of the shared rows is the sum over all prompts; it
   is returned in prompt 0's rows of dx (other prompts' shared rows get 0), so that summing dx
   over prompts gives the right gradient for every position. Rows after a prompt's EOT get 0. */

struct coop_text_cache {
    coop_arena arena;   /* activations kept by the last forward (grown, then reused) */
    void *impl;         /* the tower's description of what is where in the arena */
};

coop_text_cache *coop_text_cache_new(void) {
    coop_text_cache *c = (coop_text_cache *)calloc(1, sizeof *c);
    if (!c) coop_set_error("out of memory");
    return c;
}

void coop_text_cache_free(coop_text_cache *c) {
    if (!c) return;
    coop_arena_free(&c->arena);
    free(c);
}

typedef struct {
    int D, L, H, F, E, V, ctx, act;
    float eps;
    const float *tok, *pos, *lnf_w, *lnf_b, *proj;
    tw_block *blocks;
    coop_arena work;
} ctext_state;

static void ctext_state_free(void *ptr) {
    ctext_state *t = (ctext_state *)ptr;
    if (!t) return;
    coop_arena_free(&t->work);
    free(t->blocks);
    free(t);
}

static ctext_state *ctext_state_get(coop_model *m) {
    ctext_state *t = (ctext_state *)coop_model_slot(m, COOP_SLOT_TEXT);
    if (t) return t;
    const coop_config *c = coop_model_config(m);
    if (c->text != COOP_TEXT_CLIP) { coop_set_error("%s: not a CLIP text tower", coop_model_path(m)); return NULL; }
    t = (ctext_state *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("out of memory"); return NULL; }
    t->D = c->text_width; t->L = c->text_layers; t->H = c->text_heads; t->F = c->text_mlp;
    t->E = c->embed_dim; t->V = c->vocab_size; t->ctx = c->context_length; t->act = c->text_act; t->eps = c->ln_eps;
    int64_t tok[2] = {t->V, t->D}, pos[2] = {t->ctx, t->D}, d1[1] = {t->D}, proj[2] = {t->D, t->E};
    t->blocks = (tw_block *)calloc((size_t)t->L, sizeof(tw_block));
    int ok = t->blocks && (t->tok = coop_model_f32(m, "token_embedding.weight", 2, tok)) &&
             (t->pos = coop_model_f32(m, "positional_embedding", 2, pos)) &&
             (t->lnf_w = coop_model_f32(m, "ln_final.weight", 1, d1)) &&
             (t->lnf_b = coop_model_f32(m, "ln_final.bias", 1, d1)) &&
             (t->proj = coop_model_f32(m, "text_projection", 2, proj));
    for (int i = 0; ok && i < t->L; i++) ok = !tw_block_load(m, "transformer", i, t->D, t->F, &t->blocks[i]);
    if (!ok) { ctext_state_free(t); return NULL; }
    if (t->ctx > 1024) { coop_set_error("%s: context_length %d over 1024", coop_model_path(m), t->ctx); ctext_state_free(t); return NULL; }
    coop_model_set_slot(m, COOP_SLOT_TEXT, t, ctext_state_free);
    return t;
}

/* the packed layout of one forward, kept in the cache for the backward */
typedef struct {
    int n, T, P, R;                /* prompts, positions given, shared prefix rows, packed rows */
    int *eot, *row0;               /* per prompt: EOT position, first own row */
    tw_seq *full, *last;           /* sequence lists for inner layers and for the last one */
    int nseq;
    tw_dims dfull, dlast;
    tw_saved *sv;                  /* per layer */
    float *xf, *meanf, *rstdf;     /* ln_final input [n, D] and its statistics */
} ctext_layout;

static size_t ct_sz(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* lays out sequences: an optional prefix sequence, then one per prompt */
static void ct_plan(ctext_layout *lay, const int *eot, int n, int T, int n_shared, int H, int D, int F) {
    int P = n_shared;
    for (int i = 0; i < n; i++) if (eot[i] < P) P = eot[i];   /* every prompt keeps its EOT row */
    if (n == 1) P = 0;
    lay->n = n; lay->T = T; lay->P = P;
    int r = P, k = 0;
    if (P > 0) {
        tw_seq q = {0, P, 0, 0, P, 0};
        lay->full[k] = q;
        tw_seq z = {0, P, 0, 0, 0, 0};   /* last layer: the prefix only provides keys/values */
        lay->last[k++] = z;
    }
    for (int i = 0; i < n; i++) {
        int len = eot[i] + 1 - P;
        lay->eot[i] = eot[i];
        lay->row0[i] = r;
        tw_seq q = {r, len, P, 0, len, r};
        lay->full[k] = q;
        tw_seq z = {r, len, P, len - 1, 1, i};
        lay->last[k++] = z;
        r += len;
    }
    lay->R = r;
    lay->nseq = k;
    lay->dfull = tw_plan(lay->full, k, r, D, H, F);
    lay->dlast = tw_plan(lay->last, k, r, D, H, F);
}

int coop_cliptext_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                                 int n, int T, int n_shared, float *out, coop_text_cache *cache) {
    ctext_state *t = ctext_state_get(m);
    if (!t) return -1;
    int D = t->D, F = t->F, H = t->H, L = t->L;
    if (T > t->ctx) { coop_set_error("%s: %d positions, context is %d", coop_model_path(m), T, t->ctx); return -1; }
    /* rows: at most n*T; plan into the cache arena (training) or the work arena */
    /* exact sizes of the packed layout (ct_plan below lays it out the same way) */
    int P0 = n == 1 ? 0 : n_shared;
    for (int i = 0; i < n; i++) if (eot[i] < P0) P0 = eot[i];
    size_t Rmax = (size_t)P0, nseq = (size_t)n + 1, probs = (size_t)P0 * P0;
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)(eot[i] + 1 - P0);
        Rmax += len;
        probs += len * (P0 + len);
    }
    probs *= (size_t)H;
    coop_arena *keep = cache ? &cache->arena : &t->work;
    size_t per_layer = ct_sz(Rmax * D * 4) + 2 * ct_sz(Rmax * 4) + ct_sz(Rmax * 3 * D * 4) + ct_sz(probs * 4) +
                       ct_sz(Rmax * D * 4) + 2 * ct_sz(Rmax * 4) + ct_sz(Rmax * F * 4);
    size_t need_keep = ct_sz(sizeof(ctext_layout)) + 2 * ct_sz(n * sizeof(int)) + 2 * ct_sz(nseq * sizeof(tw_seq)) +
                       ct_sz(L * sizeof(tw_saved)) + (cache ? per_layer * L : 0) + ct_sz((size_t)n * D * 4) + 2 * ct_sz((size_t)n * 4);
    size_t need_work = ct_sz(Rmax * D * 4) * 5 + ct_sz(Rmax * 3 * D * 4) + ct_sz(Rmax * F * 4) + 2 * ct_sz(Rmax * 4) +
                       ct_sz(probs * 4) + ct_sz(nseq * sizeof(size_t));
    coop_arena_reset(&t->work);
    if (cache) {
        coop_arena_reset(keep);
        if (coop_arena_reserve(keep, need_keep)) return -1;
        if (coop_arena_reserve(&t->work, need_work)) return -1;
    } else if (coop_arena_reserve(&t->work, need_keep + need_work)) return -1;
    ctext_layout *lay = (ctext_layout *)coop_arena_alloc(keep, sizeof *lay);
    lay->eot = (int *)coop_arena_alloc(keep, n * sizeof(int));
    lay->row0 = (int *)coop_arena_alloc(keep, n * sizeof(int));
    lay->full = (tw_seq *)coop_arena_alloc(keep, nseq * sizeof(tw_seq));
    lay->last = (tw_seq *)coop_arena_alloc(keep, nseq * sizeof(tw_seq));
    lay->sv = (tw_saved *)coop_arena_alloc(keep, L * sizeof(tw_saved));
    lay->xf = (float *)coop_arena_alloc(keep, (size_t)n * D * 4);
    lay->meanf = (float *)coop_arena_alloc(keep, (size_t)n * 4);
    lay->rstdf = (float *)coop_arena_alloc(keep, (size_t)n * 4);
    ct_plan(lay, eot, n, T, n_shared, H, D, F);
    size_t R = (size_t)lay->R;
    if (cache) {
        for (int l = 0; l < L; l++) {
            tw_saved *s = &lay->sv[l];
            s->x = (float *)coop_arena_alloc(keep, R * D * 4);
            s->mean1 = (float *)coop_arena_alloc(keep, R * 4);
            s->rstd1 = (float *)coop_arena_alloc(keep, R * 4);
            s->qkv = (float *)coop_arena_alloc(keep, R * 3 * D * 4);
            s->P = (float *)coop_arena_alloc(keep, probs * 4);
            s->xmid = (float *)coop_arena_alloc(keep, R * D * 4);
            s->mean2 = (float *)coop_arena_alloc(keep, R * 4);
            s->rstd2 = (float *)coop_arena_alloc(keep, R * 4);
            s->u = (float *)coop_arena_alloc(keep, R * F * 4);
        }
        cache->impl = lay;
    }
    coop_arena *w = &t->work;
    float *X = (float *)coop_arena_alloc(w, R * D * 4), *Y = (float *)coop_arena_alloc(w, R * D * 4);
    tw_scratch s;
    s.h = (float *)coop_arena_alloc(w, R * D * 4);
    s.qkv = (float *)coop_arena_alloc(w, R * 3 * D * 4);
    s.a = (float *)coop_arena_alloc(w, R * D * 4);
    s.xmid = (float *)coop_arena_alloc(w, R * D * 4);
    s.u = (float *)coop_arena_alloc(w, R * F * 4);
    s.mean = (float *)coop_arena_alloc(w, R * 4);
    s.rstd = (float *)coop_arena_alloc(w, R * 4);
    s.P = (float *)coop_arena_alloc(w, probs * 4);
    s.poff = (size_t *)coop_arena_alloc(w, nseq * sizeof(size_t));
    if (!s.poff || !lay->rstdf) return -1;
    /* input rows: shared prefix from prompt 0, then each prompt's own positions */
    for (int q = 0; q < lay->P; q++)
        for (int c = 0; c < D; c++) X[(size_t)q * D + c] = x[(size_t)q * D + c] + t->pos[(size_t)q * D + c];
    for (int i = 0; i < n; i++)
        for (int q = lay->P; q <= eot[i]; q++) {
            float *xr = X + (size_t)(lay->row0[i] + q - lay->P) * D;
            const float *src = x + ((size_t)i * T + q) * D, *pe = t->pos + (size_t)q * D;
            for (int c = 0; c < D; c++) xr[c] = src[c] + pe[c];
        }
    for (int l = 0; l < L; l++) {
        int last = l == L - 1;
        if (tw_block_forward(p, &t->blocks[l], last ? &lay->dlast : &lay->dfull, t->act, t->eps, 1,
                             last ? lay->last : lay->full, lay->nseq, X, Y, &s, cache ? &lay->sv[l] : NULL))
            return -1;
        float *tmp = X; X = Y; Y = tmp;
    }
    /* X: [n, D] EOT rows */
    memcpy(lay->xf, X, sizeof(float) * (size_t)n * D);
    layernorm_forward(s.h, lay->meanf, lay->rstdf, X, t->lnf_w, t->lnf_b, n, D, t->eps);
    coop_gemm(p, 0, n, t->E, D, s.h, D, t->proj, t->E, NULL, 0.0f, out, t->E);
    return 0;
}

int coop_cliptext_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                                  const float *dout, float *dx) {
    ctext_state *t = ctext_state_get(m);
    if (!t) return -1;
    if (!cache || !cache->impl) { coop_set_error("text backward: no forward with a cache before it"); return -1; }
    ctext_layout *lay = (ctext_layout *)cache->impl;
    int n = lay->n, T = lay->T, D = t->D, F = t->F, L = t->L;
    size_t R = (size_t)lay->R, nseq = (size_t)lay->nseq;
    coop_arena *w = &t->work;
    coop_arena_reset(w);
    size_t need = ct_sz(R * D * 4) * 4 + ct_sz(R * 3 * D * 4) + ct_sz(R * F * 4) + ct_sz(nseq * sizeof(size_t)) +
                  ct_sz(nseq * (size_t)lay->P * 3 * D * 4 + 4);
    if (coop_arena_reserve(w, need)) return -1;
    float *dY = (float *)coop_arena_alloc(w, R * D * 4), *dX = (float *)coop_arena_alloc(w, R * D * 4);
    tw_scratch s;
    memset(&s, 0, sizeof s);
    s.h = (float *)coop_arena_alloc(w, R * D * 4);
    s.a = (float *)coop_arena_alloc(w, R * D * 4);
    s.qkv = (float *)coop_arena_alloc(w, R * 3 * D * 4);
    s.u = (float *)coop_arena_alloc(w, R * F * 4);
    s.poff = (size_t *)coop_arena_alloc(w, nseq * sizeof(size_t));
    float *dpref = (float *)coop_arena_alloc(w, nseq * (size_t)lay->P * 3 * D * 4 + 4);
    if (!dpref) return -1;
    /* projection and ln_final: d(EOT rows) */
    coop_gemm(p, 1, n, D, t->E, dout, t->E, t->proj, t->E, NULL, 0.0f, s.h, D);
    memset(dY, 0, sizeof(float) * (size_t)n * D);
    layernorm_backward(dY, s.h, lay->xf, t->lnf_w, lay->meanf, lay->rstdf, n, D);
    for (int l = L - 1; l >= 0; l--) {
        int last = l == L - 1;
        if (tw_block_backward(p, &t->blocks[l], last ? &lay->dlast : &lay->dfull, t->act, 1,
                              last ? lay->last : lay->full, lay->nseq, &lay->sv[l], dY, dX, &s, dpref))
            return -1;
        float *tmp = dY; dY = dX; dX = tmp;
    }
    /* dY: [R, D] gradient of the packed input rows -> dx [n, T, D] */
    memset(dx, 0, sizeof(float) * (size_t)n * T * D);
    memcpy(dx, dY, sizeof(float) * (size_t)lay->P * D);
    for (int i = 0; i < n; i++)
        memcpy(dx + ((size_t)i * T + lay->P) * D, dY + (size_t)lay->row0[i] * D,
               sizeof(float) * (size_t)(lay->eot[i] + 1 - lay->P) * D);
    return 0;
}

/* ids [n, ctx] -> features [n, E]; the EOT position is the argmax of the ids, as in OpenCLIP */
int coop_cliptext_encode(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out) {
    ctext_state *t = ctext_state_get(m);
    if (!t) return -1;
    int D = t->D, C = t->ctx, chunk = 256;
    float *x = (float *)coop_malloc(sizeof(float) * (size_t)chunk * C * D);
    int *eot = (int *)malloc(sizeof(int) * (size_t)chunk);
    int rc = x && eot ? 0 : -1;
    for (int i0 = 0; i0 < n && !rc; i0 += chunk) {
        int nb = n - i0 < chunk ? n - i0 : chunk, T = 1;
        for (int b = 0; b < nb; b++) {
            const int32_t *r = ids + (size_t)(i0 + b) * C;
            int e = 0;
            for (int q = 1; q < C; q++) if (r[q] > r[e]) e = q;
            eot[b] = e;
            if (e + 1 > T) T = e + 1;
        }
        for (int b = 0; b < nb; b++)
            for (int q = 0; q < T; q++) {
                int32_t id = ids[(size_t)(i0 + b) * C + q];
                if (id < 0 || id >= t->V) { coop_set_error("%s: token id %d outside the vocabulary", coop_model_path(m), (int)id); rc = -1; break; }
                memcpy(x + ((size_t)b * T + q) * D, t->tok + (size_t)id * D, sizeof(float) * D);
            }
        if (!rc) rc = coop_cliptext_forward_embeds(m, p, x, eot, nb, T, 0, out + (size_t)i0 * t->E, NULL);
    }
    coop_free(x);
    free(eot);
    return rc;
}

/* ===================================================================================== */
/* ModifiedResNet image tower (CLIP RN50, RN101, RN50x4, RN50x16, RN50x64)                */
/* ===================================================================================== */
/* Architecture (OpenAI CLIP / open_clip modified_resnet.py), w = vision_width:
     stem    conv1 3x3 stride 2 pad 1 (3 -> w/2), conv2 3x3 pad 1 (w/2 -> w/2),
             conv3 3x3 pad 1 (w/2 -> w), each BN + ReLU, then AvgPool2d(2)       -> S/4
     layers  resnet_layers[l] Bottleneck blocks with planes w, 2w, 4w, 8w; the first block of
             layers 2..4 has stride 2 (anti-aliased: AvgPool2d after the 3x3 conv instead of a
             strided conv). Block: conv1 1x1 + BN + ReLU, conv2 3x3 pad 1 + BN + ReLU,
             AvgPool2d(stride), conv3 1x1 + BN (-> 4 planes); identity, or when stride > 1 or
             inplanes != 4 planes: AvgPool2d(stride) -> conv 1x1 -> BN; out = ReLU(out + identity)
     head    attention pooling over the S/32 x S/32 grid (C = 32 w channels): tokens [HW, C],
             the mean token prepended, + positional_embedding [HW+1, C], one multi-head attention
             (vision_heads heads, q/k/v_proj Linear C -> C) of which only the mean token's output
             is used, then c_proj (C -> embed_dim).
   BatchNorm is inference-only, so it is folded into the preceding convolution:
     W' = W * g / sqrt(var + eps), b' = beta - mean * g / sqrt(var + eps)      (eps = 1e-5)
   either by the converter (bn_folded 1: tensors `<conv>.bias`) or here at load time
   (bn_folded 0: tensors `<bn>.{weight,bias,running_mean,running_var}`).

   Layout: activations are NHWC ([n, H, W, C] row-major, i.e. a matrix [n*H*W, C]), so a 1x1
   convolution is one gemm with no copy: Y[M, Cout] = X[M, Cin] W + b, W [Cin, Cout]. A 3x3
   convolution gathers its patches into a column matrix COL[M, 9*Cin] (order ky, kx, c, which
   lets each tap be one contiguous copy of Cin floats) and multiplies by the weights reordered at
   load to [(ky, kx, Cin), Cout]; while the weights are small (stem, layer1, layer2) this is done
   tile by tile in per-task cache-sized buffers, so the 9x-larger column matrix never goes through
   memory. Every weight matrix is packed once at load into the matmul's panel layout
   (gemm__prepack), and every ReLU is the matmul's epilogue (applied to each output tile while it
   is in registers), so no convolution repacks its weights and no pass goes over an activation
   just to clamp it. The residual add is the gemm's beta = 1 accumulation into the identity (or
   downsample) output, with the block's final ReLU after it.
   Images go through in chunks so the workspace (allocated once per model, reused) stays
   bounded: about COOP_RESNET_WORKSPACE_MB. */

#ifndef COOP_RESNET_WORKSPACE_MB
#define COOP_RESNET_WORKSPACE_MB 192
#endif

/* one convolution with BN folded in; w: [(ky, kx, cin), cout] prepacked (k = 1 or 3), b: [cout] */
typedef struct { int cin, cout, k; gemm__packed w; const float *b; } rn_conv;

typedef struct {
    int cin, planes, stride, has_down;
    rn_conv c1, c2, c3, down;
} rn_block;

typedef struct {
    int S, width, heads, C, E, grid;    /* C = 32 w: channels at the head; grid = S / 32 */
    rn_conv stem[3];
    rn_block *blk;
    int nblk;
    const float *pos, *qb, *kb, *vb, *cb;  /* attention pool: positions, biases, prepacked */
    gemm__packed qw, kw, vw, cw;          /* Linear weights ([out, in] in the file) */
    float **owned;                      /* working copies made at load (freed with the model) */
    int nowned, capowned;
    /* workspace for `chunk` images, float counts per image of each buffer role */
    size_t need[6];
    float *ws;
    int ws_chunk;
    int tiled;                          /* rn_conv_tiled when the plan was made */
    const gemm__kernel *kern;           /* the matmul kernel current when the weights were packed */
    int bf16;                           /* weights packed as bf16 (coop_model_set_bf16) */
    size_t tile_floats;                 /* per-task tile buffer of the tiled 3x3 convs */
    float *tiles;
    int ntiles;
} rn_model;

enum { RN_X, RN_Y, RN_T1, RN_T2, RN_COL, RN_P };   /* workspace buffer roles */

/* tests may force a chunk size (images per pass) to exercise the chunk loop */
static int rn_force_chunk = 0;

/* 3x3 convs: tiled im2col (see rn_conv3x3) for weights up to RN_TILE_MAXW floats */
#define RN_TILE 131072          /* floats per tile buffer (512 KiB, about an L2) */
#define RN_TILE_MAXW 163840     /* weights (floats) up to which the tiled path is used */
static int rn_conv_tiled = 1;   /* tests / measurements may switch the tiled path off */
static int rn_tile_rows(int K) { int r = RN_TILE / K; return r < 16 ? 16 : r; }
static int rn_is_tiled(const rn_model *r, const rn_conv *cv) { return r->tiled && (size_t)9 * cv->cin * cv->cout <= RN_TILE_MAXW; }

/* workspace of a 3x3 conv over `pix` output pixels per image: whole column matrix or a tile */
static void rn_plan_conv(rn_model *r, const rn_conv *cv, size_t pix) {
    size_t K = (size_t)9 * cv->cin;
    if (rn_is_tiled(r, cv)) {
        size_t t = (size_t)rn_tile_rows((int)K) * K;
        if (t > r->tile_floats) r->tile_floats = t;
    } else if (pix * K > r->need[RN_COL]) {
        r->need[RN_COL] = pix * K;
    }
}

/* The workspace is large (tens to hundreds of MB) and first-touch page faults are expensive
   (~12 us per 4 KiB page on the target machines), so it is 2 MiB aligned and, on Linux, marked
   for transparent huge pages: 512x fewer faults on the first call. glibc's and musl's
   posix_madvise pass any advice other than DONTNEED through to madvise(2), and 14 is Linux's
   MADV_HUGEPAGE (not visible under strict _POSIX_C_SOURCE); elsewhere this is a no-op hint. */
static float *rn_ws_alloc(size_t bytes) {
    void *p = NULL;
    size_t align = bytes >= ((size_t)2 << 20) ? (size_t)2 << 20 : 64;
    bytes = (bytes + align - 1) / align * align;
    if (posix_memalign(&p, align, bytes)) { coop_set_error("resnet: out of memory (%zu MB workspace)", bytes >> 20); return NULL; }
#if defined(__linux__)
    if (align > 64) (void)posix_madvise(p, bytes, 14);
#endif
    return (float *)p;
}

static void rn_free(void *ptr) {
    rn_model *r = (rn_model *)ptr;
    if (!r) return;
    for (int i = 0; i < r->nowned; i++) free(r->owned[i]);
    free(r->owned);
    free(r->blk);
    free(r->ws);
    coop_free(r->tiles);
    free(r);
}

static float *rn_own(rn_model *r, size_t nfloats) {
    if (r->nowned == r->capowned) {
        int cap = r->capowned ? 2 * r->capowned : 64;
        float **o = (float **)realloc(r->owned, (size_t)cap * sizeof *o);
        if (!o) { coop_set_error("resnet: out of memory"); return NULL; }
        r->owned = o;
        r->capowned = cap;
    }
    float *p = rn_ws_alloc(nfloats * sizeof(float));
    if (p) r->owned[r->nowned++] = p;
    return p;
}

/* loads conv `cname` (weight [cout, cin, k, k]) with its BN `bnname` folded in, and packs it.
   bn_folded 1: `cname.bias` [cout] (used in place); 0: `bnname.{weight,bias,running_mean,
   running_var}`. The folded weights are reordered to [(ky, kx, cin), cout] in a temporary
   buffer, then packed into a working copy owned by the model. */
static int rn_load_conv(coop_model *m, rn_model *r, rn_conv *cv, const char *cname, const char *bnname,
                        int cin, int cout, int k) {
    char nm[128];
    int64_t ws[4] = {cout, cin, k, k}, bs[1] = {cout};
    cv->cin = cin; cv->cout = cout; cv->k = k;
    snprintf(nm, sizeof nm, "%s.weight", cname);
    const float *w = coop_model_f32(m, nm, 4, ws);
    if (!w) return -1;
    const float *bias = NULL, *g = NULL, *beta = NULL, *mean = NULL, *var = NULL;
    int folded = coop_model_config(m)->bn_folded;
    if (folded) {
        snprintf(nm, sizeof nm, "%s.bias", cname);
        if (!(bias = coop_model_f32(m, nm, 1, bs))) return -1;
    } else {
        snprintf(nm, sizeof nm, "%s.weight", bnname);
        if (!(g = coop_model_f32(m, nm, 1, bs))) return -1;
        snprintf(nm, sizeof nm, "%s.bias", bnname);
        if (!(beta = coop_model_f32(m, nm, 1, bs))) return -1;
        snprintf(nm, sizeof nm, "%s.running_mean", bnname);
        if (!(mean = coop_model_f32(m, nm, 1, bs))) return -1;
        snprintf(nm, sizeof nm, "%s.running_var", bnname);
        if (!(var = coop_model_f32(m, nm, 1, bs))) return -1;
        for (int o = 0; o < cout; o++)
            if (!(var[o] >= 0)) { coop_set_error("%s: tensor '%s' has a negative or NaN variance", coop_model_path(m), nm); return -1; }
    }
    size_t K = (size_t)k * k * cin;
    float *wt = (float *)malloc(K * cout * sizeof(float));
    float *wp = rn_own(r, gemm__packed_size(cout, (int)K, r->bf16));
    float *bo = folded ? NULL : rn_own(r, (size_t)cout);
    if (!wt || !wp || (!folded && !bo)) { free(wt); coop_set_error("resnet: out of memory"); return -1; }
    for (int o = 0; o < cout; o++) {
        double s = folded ? 1.0 : (double)g[o] / sqrt((double)var[o] + 1e-5);
        if (!folded) bo[o] = (float)((double)beta[o] - (double)mean[o] * s);
        /* [cout, cin, ky, kx] -> [(ky, kx, cin), cout] */
        for (int c = 0; c < cin; c++)
            for (int t = 0; t < k * k; t++)
                wt[((size_t)t * cin + c) * cout + o] = (float)(w[((size_t)o * cin + c) * k * k + t] * s);
    }
    gemm__prepack(&cv->w, 0, cout, (int)K, wt, cout, wp, r->bf16);
    free(wt);
    cv->b = folded ? bias : bo;
    return 0;
}

static const float *rn_tensor(coop_model *m, const char *name, int ndim, int64_t d0, int64_t d1) {
    int64_t s[2] = {d0, d1};
    return coop_model_f32(m, name, ndim, s);
}

/* a Linear weight [out, in] (y = x W^T), packed */
static int rn_linear(coop_model *m, rn_model *r, gemm__packed *pk, const char *name, int out, int in) {
    const float *w = rn_tensor(m, name, 2, out, in);
    float *wp = w ? rn_own(r, gemm__packed_size(out, in, r->bf16)) : NULL;
    if (!wp) return -1;
    gemm__prepack(pk, 1, out, in, w, in, wp, r->bf16);
    return 0;
}

/* builds the per-model state on first use: folded / reordered weights and the workspace plan */
static rn_model *rn_get(coop_model *m) {
    rn_model *r = (rn_model *)coop_model_slot(m, COOP_SLOT_VISION);
    if (r) return r;
    const coop_config *c = coop_model_config(m);
    if (c->vision != COOP_VISION_RESNET) { coop_set_error("%s: not a ResNet image tower", coop_model_path(m)); return NULL; }
    if (c->vision_width < 2 || c->vision_width % 2 || c->image_size % 32 || c->vision_heads <= 0 ||
        (c->vision_width * 32) % c->vision_heads) {
        coop_set_error("%s: ResNet config: vision_width %d, image_size %d, vision_heads %d unsupported",
                       coop_model_path(m), c->vision_width, c->image_size, c->vision_heads);
        return NULL;
    }
    r = (rn_model *)calloc(1, sizeof *r);
    if (!r) { coop_set_error("resnet: out of memory"); return NULL; }
    int w = c->vision_width;
    r->S = c->image_size; r->width = w; r->heads = c->vision_heads;
    r->C = 32 * w; r->E = c->embed_dim; r->grid = c->image_size / 32;
    for (int l = 0; l < 4; l++) r->nblk += c->resnet_layers[l];
    r->blk = (rn_block *)calloc((size_t)r->nblk, sizeof *r->blk);
    if (!r->blk) { coop_set_error("resnet: out of memory"); rn_free(r); return NULL; }

    /* workspace plan (floats per image), walking the shapes as the forward does */
    size_t *need = r->need;
    int H = r->S / 2;                                               /* after stem conv1 */
    size_t hw = (size_t)H * H;
    r->tiled = rn_conv_tiled;
    r->kern = gemm__pick();
    r->bf16 = coop_model_bf16(m);
    need[RN_T1] = hw * (w / 2); need[RN_T2] = hw * (w / 2); need[RN_Y] = hw * w;
    int ok = rn_load_conv(m, r, &r->stem[0], "visual.conv1", "visual.bn1", 3, w / 2, 3) == 0 &&
             rn_load_conv(m, r, &r->stem[1], "visual.conv2", "visual.bn2", w / 2, w / 2, 3) == 0 &&
             rn_load_conv(m, r, &r->stem[2], "visual.conv3", "visual.bn3", w / 2, w, 3) == 0;
    for (int i = 0; ok && i < 3; i++) rn_plan_conv(r, &r->stem[i], hw);
    H /= 2; hw = (size_t)H * H;
    need[RN_X] = hw * w;
#define RN_NEED(role, v) do { size_t v_ = (v); if (v_ > need[role]) need[role] = v_; } while (0)

    int inpl = w, b = 0;
    for (int l = 0; ok && l < 4; l++)
        for (int j = 0; ok && j < c->resnet_layers[l]; j++, b++) {
            rn_block *k = &r->blk[b];
            char cn[64], bn[64];
            k->cin = inpl; k->planes = w << l; k->stride = (l > 0 && j == 0) ? 2 : 1;
            k->has_down = k->stride > 1 || inpl != 4 * k->planes;
            const char *cs[3] = {"conv1", "conv2", "conv3"}, *bs[3] = {"bn1", "bn2", "bn3"};
            rn_conv *cv[3] = {&k->c1, &k->c2, &k->c3};
            int ci[3] = {inpl, k->planes, k->planes}, co[3] = {k->planes, k->planes, 4 * k->planes};
            for (int i = 0; ok && i < 3; i++) {
                snprintf(cn, sizeof cn, "visual.layer%d.%d.%s", l + 1, j, cs[i]);
                snprintf(bn, sizeof bn, "visual.layer%d.%d.%s", l + 1, j, bs[i]);
                ok = rn_load_conv(m, r, cv[i], cn, bn, ci[i], co[i], i == 1 ? 3 : 1) == 0;
            }
            if (ok && k->has_down) {
                snprintf(cn, sizeof cn, "visual.layer%d.%d.downsample.0", l + 1, j);
                snprintf(bn, sizeof bn, "visual.layer%d.%d.downsample.1", l + 1, j);
                ok = rn_load_conv(m, r, &k->down, cn, bn, inpl, 4 * k->planes, 1) == 0;
            }
            /* buffers of this block: in X [hw, cin]; T1, T2 [hw, planes]; COL [hw, 9 planes];
               pooled input P [hw/s^2, cin]; out Y [hw/s^2, 4 planes] */
            size_t hwo = hw / ((size_t)k->stride * k->stride);
            RN_NEED(RN_X, hw * inpl); RN_NEED(RN_T1, hw * k->planes); RN_NEED(RN_T2, hw * k->planes);
            if (ok) rn_plan_conv(r, &k->c2, hw);
            RN_NEED(RN_P, hwo * inpl);
            RN_NEED(RN_Y, hwo * 4 * k->planes); RN_NEED(RN_X, hwo * 4 * k->planes);
            hw = hwo;
            inpl = 4 * k->planes;
        }
    if (ok && inpl != r->C) { coop_set_error("%s: ResNet head width %d != 32 * vision_width", coop_model_path(m), inpl); ok = 0; }
    if (ok) {
        int C = r->C, T = r->grid * r->grid + 1;
        ok = (r->pos = rn_tensor(m, "visual.attnpool.positional_embedding", 2, T, C)) &&
             rn_linear(m, r, &r->qw, "visual.attnpool.q_proj.weight", C, C) == 0 &&
             (r->qb = rn_tensor(m, "visual.attnpool.q_proj.bias", 1, C, 0)) &&
             rn_linear(m, r, &r->kw, "visual.attnpool.k_proj.weight", C, C) == 0 &&
             (r->kb = rn_tensor(m, "visual.attnpool.k_proj.bias", 1, C, 0)) &&
             rn_linear(m, r, &r->vw, "visual.attnpool.v_proj.weight", C, C) == 0 &&
             (r->vb = rn_tensor(m, "visual.attnpool.v_proj.bias", 1, C, 0)) &&
             rn_linear(m, r, &r->cw, "visual.attnpool.c_proj.weight", r->E, C) == 0 &&
             (r->cb = rn_tensor(m, "visual.attnpool.c_proj.bias", 1, r->E, 0));
        /* head: tokens in COL [T, C], K in Y, V in T1 [T, C], Q in T2 [C], attended in P [C] */
        RN_NEED(RN_COL, (size_t)T * C); RN_NEED(RN_Y, (size_t)T * C); RN_NEED(RN_T1, (size_t)T * C);
        RN_NEED(RN_T2, (size_t)C); RN_NEED(RN_P, (size_t)C);
    }
#undef RN_NEED
    /* X and Y swap roles after a block with a downsample: both must fit either role */
    if (need[RN_Y] > need[RN_X]) need[RN_X] = need[RN_Y];
    need[RN_Y] = need[RN_X];
    if (!ok) { rn_free(r); return NULL; }
    coop_model_set_slot(m, COOP_SLOT_VISION, r, rn_free);
    return r;
}

/* ---- element-wise passes, threaded over rows ------------------------------------------- */
typedef struct {
    const float *in; float *out;
    int H, W, C, k;                 /* input grid and channels; k: pool size or conv stride */
    int Ho, Wo, rows;               /* output grid; rows = n * Ho */
} rn_pass;

static void rn_range(int total, int task, int ntasks, int *a, int *b) {
    *a = (int)((int64_t)total * task / ntasks);
    *b = (int)((int64_t)total * (task + 1) / ntasks);
}

/* row helpers: dst += src; dst *= s. GCC -O2 leaves such loops scalar (its cheap vectorizer
   skips loops with a runtime count), so with AVX-512 they run 16 lanes at a time, the tail
   through a mask; elementwise, so results are the same either way. */
#if GEMM_X86
__attribute__((target("avx512f"))) static void rn__rows16(float *dst, const float *src, size_t n, int op, float s) {
    const __m512 sv = _mm512_set1_ps(s);
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(m, dst + i);
        v = op == 0 ? _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, src + i)) : _mm512_mul_ps(v, sv);
        _mm512_mask_storeu_ps(dst + i, m, v);
    }
}
#endif
static void rn_rows(float *dst, const float *src, size_t n, int op, float s) {
#if GEMM_X86
    if (act__simd()) { rn__rows16(dst, src, n, op, s); return; }
#endif
    for (size_t c = 0; c < n; c++) dst[c] = op == 0 ? dst[c] + src[c] : dst[c] * s;
}

/* im2col of a 3x3 pad-1 conv with stride k for output pixels [p0, p1) (pixel = (i, oy, ox)):
     col[(i, oy, ox), (ky, kx, c)] = in[i, oy*k + ky - 1, ox*k + kx - 1, c], 0 outside
   nchw: the input is the [n, 3, H, W] pixel tensor (the stem's first conv) */
static void rn_gather(const rn_pass *a, int64_t p0, int64_t p1, int nchw, float *dst) {
    int C = a->C;
    size_t plane = (size_t)a->H * a->W;
    for (int64_t px = p0; px < p1; px++) {
        int ox = (int)(px % a->Wo), oy = (int)(px / a->Wo % a->Ho), i = (int)(px / ((int64_t)a->Wo * a->Ho));
        for (int ky = 0; ky < 3; ky++) {
            int iy = oy * a->k + ky - 1;
            for (int kx = 0; kx < 3; kx++, dst += C) {
                int ix = ox * a->k + kx - 1;
                if (iy < 0 || iy >= a->H || ix < 0 || ix >= a->W) { memset(dst, 0, (size_t)C * sizeof *dst); continue; }
                if (nchw) {
                    const float *src = a->in + (size_t)i * C * plane + (size_t)iy * a->W + ix;
                    for (int c = 0; c < C; c++) dst[c] = src[c * plane];
                    continue;
                }
                memcpy(dst, a->in + (((size_t)i * a->H + iy) * a->W + ix) * C, (size_t)C * sizeof *dst);
            }
        }
    }
}

/* a 3x3 convolution: either (whole) im2col of all pixels into col, then one threaded gemm, or
   (tiled) each task gathers RN_TILE-sized row blocks of col into its own cache-resident buffer
   and multiplies them serially. Tiled avoids writing and re-reading the full column matrix
   (9x the input) through memory, which dominates the early, wide-spatial layers; it is used
   when the weights are small enough (9 cin cout <= RN_TILE_MAXW floats) that each task
   re-packing them per tile is cheap. */

typedef struct {
    rn_pass a;
    const rn_model *r;
    const rn_conv *cv;
    int nchw, rows;              /* rows per tile */
    int64_t npix;
    float *col, *y;              /* col: whole: [npix, K]; tiled: one tile_floats buffer per task */
    size_t tile_floats;
} rn_conv_job;


static void rn_im2col_task(void *ctx, int task, int ntasks) {
    const rn_conv_job *j = (const rn_conv_job *)ctx;
    int64_t p0 = j->npix * task / ntasks, p1 = j->npix * (task + 1) / ntasks;
    rn_gather(&j->a, p0, p1, j->nchw, j->col + (size_t)p0 * 9 * j->a.C);
}

static void rn_conv_tile_task(void *ctx, int task, int ntasks) {
    const rn_conv_job *j = (const rn_conv_job *)ctx;
    int K = 9 * j->cv->cin, N = j->cv->cout;
    float *buf = j->col + (size_t)task * j->tile_floats;
    int64_t p0 = j->npix * task / ntasks, p1 = j->npix * (task + 1) / ntasks;
    for (int64_t t = p0; t < p1; t += j->rows) {
        int m = (int)(p1 - t < j->rows ? p1 - t : j->rows);
        rn_gather(&j->a, t, t + m, j->nchw, buf);
        gemm__mm_packed(NULL, m, buf, K, &j->cv->w, j->cv->b, 0.0f, j->y + (size_t)t * N, N, 1);
    }
}

/* AvgPool2d(k) (kernel = stride = k, no padding; H, W multiples of k) over NHWC:
   out[i, oy, ox, c] = mean over the k x k window of in */
static void rn_avgpool_task(void *ctx, int task, int ntasks) {
    const rn_pass *a = (const rn_pass *)ctx;
    int r0, r1, C = a->C, k = a->k;
    float inv = 1.0f / (float)(k * k);
    rn_range(a->rows, task, ntasks, &r0, &r1);
    for (int row = r0; row < r1; row++) {
        int i = row / a->Ho, oy = row % a->Ho;
        for (int ox = 0; ox < a->Wo; ox++) {
            float *dst = a->out + ((size_t)row * a->Wo + ox) * C;
            memset(dst, 0, (size_t)C * sizeof *dst);
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++) {
                    const float *src = a->in + (((size_t)i * a->H + oy * k + dy) * a->W + ox * k + dx) * C;
                    rn_rows(dst, src, (size_t)C, 0, 0.0f);
                }
            rn_rows(dst, NULL, (size_t)C, 1, inv);
        }
    }
}

static int rn_ntasks(coop_pool *p, int rows) {
    int t = p ? 4 * coop_pool_threads(p) : 1;
    return rows < t ? (rows > 0 ? rows : 1) : t;
}

static void rn_run(coop_pool *p, coop_task_fn fn, rn_pass *a) { coop_pool_run(p, rn_ntasks(p, a->rows), fn, a); }


/* Y[n*Ho*Wo, cout] = relu(conv3x3(X[n, H, W, cin], stride)); nchw: X is the [n, 3, H, W]
   pixel tensor (the stem's first conv). col: the whole-path column matrix */
static void rn_conv3x3(const rn_model *r, coop_pool *p, const rn_conv *cv, const float *x, int n, int H, int W,
                       int stride, int nchw, float *col, float *y) {
    rn_conv_job j;
    rn_pass a = {x, NULL, H, W, cv->cin, stride, H / stride, W / stride, n * (H / stride)};
    int K = 9 * cv->cin;
    j.a = a; j.r = r; j.cv = cv; j.nchw = nchw; j.rows = rn_tile_rows(K);
    j.npix = (int64_t)n * a.Ho * a.Wo; j.y = y; j.tile_floats = r->tile_floats;
    if (rn_is_tiled(r, cv)) {
        int64_t nt = (j.npix + j.rows - 1) / j.rows;
        j.col = r->tiles;
        coop_pool_run(p, nt < r->ntiles ? (int)nt : r->ntiles, rn_conv_tile_task, &j);
        return;
    }
    j.col = col;
    coop_pool_run(p, rn_ntasks(p, (int)(j.npix < 1 << 30 ? j.npix : 1 << 30)), rn_im2col_task, &j);
    gemm__mm_packed(p, (int)j.npix, col, K, &cv->w, cv->b, 0.0f, y, cv->cout, 1);
}

static void rn_pool(coop_pool *p, const float *x, int n, int H, int W, int C, int k, float *y) {
    rn_pass a = {x, y, H, W, C, k, H / k, W / k, n * (H / k)};
    rn_run(p, rn_avgpool_task, &a);
}

/* ---- attention pooling head ---------------------------------------------------------- */
typedef struct {
    const rn_model *r;
    const float *x;                 /* [n, HW, C] (ReLU applied) */
    float *tok;                     /* [n, HW+1, C] */
    const float *q, *k, *v;         /* q [n, C] (scaled), k, v [n, HW+1, C] */
    float *o;                       /* [n, C] */
    int n;
} rn_head;

/* tok[i] = [mean_j x[i, j], x[i, 0..HW)] + pos */
static void rn_tokens_task(void *ctx, int task, int ntasks) {
    const rn_head *h = (const rn_head *)ctx;
    int C = h->r->C, HW = h->r->grid * h->r->grid, i0, i1;
    rn_range(h->n, task, ntasks, &i0, &i1);
    for (int i = i0; i < i1; i++) {
        const float *x = h->x + (size_t)i * HW * C;
        float *t = h->tok + (size_t)i * (HW + 1) * C;
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int j = 0; j < HW; j++) s += x[(size_t)j * C + c];
            t[c] = (float)(s / HW) + h->r->pos[c];
        }
        for (size_t j = 0; j < (size_t)HW * C; j++) t[C + j] = x[j] + h->r->pos[C + j];
    }
}

/* per (image, head): softmax(q k^T / sqrt(d)) v for the one query (the mean token) */
static void rn_attend_task(void *ctx, int task, int ntasks) {
    const rn_head *h = (const rn_head *)ctx;
    int C = h->r->C, T = h->r->grid * h->r->grid + 1, nh = h->r->heads, d = C / nh, u0, u1;
    float sc[1024];                 /* T <= 1024 is checked before (S <= 1024) */
    float scale = 1.0f / sqrtf((float)d);
    rn_range(h->n * nh, task, ntasks, &u0, &u1);
    for (int u = u0; u < u1; u++) {
        int i = u / nh, hd = u % nh;
        const float *q = h->q + (size_t)i * C + hd * d;
        const float *k = h->k + (size_t)i * T * C + hd * d, *v = h->v + (size_t)i * T * C + hd * d;
        float mx = -INFINITY, sum = 0;
        for (int j = 0; j < T; j++) {
            float s = 0;
            for (int e = 0; e < d; e++) s += q[e] * k[(size_t)j * C + e];
            sc[j] = s * scale;
            if (sc[j] > mx) mx = sc[j];
        }
        for (int j = 0; j < T; j++) { sc[j] = expf(sc[j] - mx); sum += sc[j]; }
        float *o = h->o + (size_t)i * C + hd * d;
        for (int e = 0; e < d; e++) o[e] = 0;
        for (int j = 0; j < T; j++) {
            float pj = sc[j] / sum;
            for (int e = 0; e < d; e++) o[e] += pj * v[(size_t)j * C + e];
        }
    }
}

/* ---- forward ------------------------------------------------------------------------- */
/* one chunk of n images: pixels [n, 3, S, S] -> out [n, E]; b: workspace buffers by role */
static void rn_forward_chunk(const rn_model *r, coop_pool *p, const float *pixels, int n, float **b, float *out) {
    int w = r->width, H = r->S / 2;
    float *x = b[RN_X], *y = b[RN_Y];
    /* stem: [n,3,S,S] -> T1 [n,S/2,S/2,w/2] -> T2 [.., w/2] -> Y [.., w] -> X [n,S/4,S/4,w],
       each conv with its ReLU */
    rn_conv3x3(r, p, &r->stem[0], pixels, n, r->S, r->S, 2, 1, b[RN_COL], b[RN_T1]);
    rn_conv3x3(r, p, &r->stem[1], b[RN_T1], n, H, H, 1, 0, b[RN_COL], b[RN_T2]);
    rn_conv3x3(r, p, &r->stem[2], b[RN_T2], n, H, H, 1, 0, b[RN_COL], y);
    rn_pool(p, y, n, H, H, w, 2, x);
    H /= 2;
    for (int bi = 0; bi < r->nblk; bi++) {
        const rn_block *k = &r->blk[bi];
        int s = k->stride, Ho = H / s, P = k->planes;
        int M = n * H * H, Mo = n * Ho * Ho;
        /* T1 [M, P] = relu(conv1(x)); T2 [M, P] = relu(conv2(T1)) */
        gemm__mm_packed(p, M, x, k->cin, &k->c1.w, k->c1.b, 0.0f, b[RN_T1], P, 1);
        rn_conv3x3(r, p, &k->c2, b[RN_T1], n, H, H, 1, 0, b[RN_COL], b[RN_T2]);
        /* A3 [Mo, P] = avgpool(T2) (into T1, free now), or T2 itself */
        const float *a3 = b[RN_T2];
        if (s > 1) { rn_pool(p, b[RN_T2], n, H, H, P, s, b[RN_T1]); a3 = b[RN_T1]; }
        /* out [Mo, 4P] = relu(identity + conv3(A3)) */
        float *o = x;
        if (k->has_down) {
            const float *xi = x;
            if (s > 1) { rn_pool(p, x, n, H, H, k->cin, s, b[RN_P]); xi = b[RN_P]; }
            gemm__mm_packed(p, Mo, xi, k->cin, &k->down.w, k->down.b, 0.0f, y, 4 * P, 0);
            o = y;
        }
        gemm__mm_packed(p, Mo, a3, P, &k->c3.w, k->c3.b, 1.0f, o, 4 * P, 1);
        if (o == y) { y = x; x = o; }
        H = Ho;
    }
    /* head: x [n, HW, C] */
    int C = r->C, T = r->grid * r->grid + 1;
    rn_head h = {r, x, b[RN_COL], b[RN_T2], y, b[RN_T1], b[RN_P], n};
    coop_pool_run(p, rn_ntasks(p, n), rn_tokens_task, &h);
    /* q from the mean token only: rows of tok with stride T*C */
    gemm__mm_packed(p, n, h.tok, T * C, &r->qw, r->qb, 0.0f, b[RN_T2], C, 0);
    gemm__mm_packed(p, n * T, h.tok, C, &r->kw, r->kb, 0.0f, y, C, 0);
    gemm__mm_packed(p, n * T, h.tok, C, &r->vw, r->vb, 0.0f, b[RN_T1], C, 0);
    coop_pool_run(p, rn_ntasks(p, n * r->heads), rn_attend_task, &h);
    gemm__mm_packed(p, n, b[RN_P], C, &r->cw, r->cb, 0.0f, out, r->E, 0);
}

int coop_resnet_encode(coop_model *m, coop_pool *p, const float *pixels, int n, float *out) {
    if (n < 0 || (n > 0 && (!pixels || !out))) { coop_set_error("resnet: bad arguments (n = %d)", n); return -1; }
    rn_model *r = rn_get(m);
    if (r && (r->kern != gemm__pick() || r->tiled != rn_conv_tiled || r->bf16 != coop_model_bf16(m))) {
        /* the weights were packed for another matmul kernel (coop_gemm_force_kernel or
           coop_model_set_bf16 since) */
        coop_model_set_slot(m, COOP_SLOT_VISION, NULL, NULL);
        r = rn_get(m);
    }
    if (!r) return -1;
    if (n == 0) return 0;
    if (r->grid * r->grid + 1 > 1024) { coop_set_error("%s: ResNet image_size %d too large (at most 1024)", coop_model_path(m), r->S); return -1; }
    size_t per = 0;
    for (int i = 0; i < 6; i++) per += r->need[i] + 16;      /* + 64-byte alignment of each buffer */
    int chunk = (int)((size_t)COOP_RESNET_WORKSPACE_MB * 1024 * 1024 / sizeof(float) / per);
    if (rn_force_chunk > 0) chunk = rn_force_chunk;
    if (chunk < 1) chunk = 1;
    if (chunk > n) chunk = n;
    if (chunk > r->ws_chunk) {      /* grows to the largest chunk seen, then reused */
        free(r->ws);
        r->ws = rn_ws_alloc(per * chunk * sizeof(float));
        r->ws_chunk = r->ws ? chunk : 0;
        if (!r->ws) return -1;
    }
    int ntiles = 8 * (p ? coop_pool_threads(p) : 1);   /* several tiles per thread: load balance */
    if (r->tile_floats && ntiles > r->ntiles) {
        coop_free(r->tiles);
        r->tiles = (float *)coop_malloc(r->tile_floats * ntiles * sizeof(float));
        r->ntiles = r->tiles ? ntiles : 0;
        if (!r->tiles) return -1;
    }
    float *bufs[6], *q = r->ws;
    for (int i = 0; i < 6; i++) { bufs[i] = q; q += (r->need[i] + 16) / 16 * 16 * (size_t)chunk; }
    size_t img = (size_t)3 * r->S * r->S;
    for (int i0 = 0; i0 < n; i0 += chunk) {
        int nc = n - i0 < chunk ? n - i0 : chunk;
        rn_forward_chunk(r, p, pixels + (size_t)i0 * img, nc, bufs, out + (size_t)i0 * r->E);
    }
    return 0;
}

/* ===================================================================================== */
/* Hugging Face text tower: RoBERTa / XLM-R encoder as OpenCLIP's HFTextEncoder uses it   */
/* ===================================================================================== */
/* Facts matched (open_clip hf_model.py / hf_configs.py, transformers modeling_roberta.py):
   - embeddings: word[id] + position[pos] + token_type[0], LayerNorm (eps ln_eps = 1e-5);
     position ids (ids path) = pad + cumulative count of non-pad tokens, pad positions = pad;
     (inputs_embeds path) = pad + 1 + t. Both agree on the valid tokens, which are all we compute.
   - post-LN layers: a = Attn(x) (q/k/v/out Linear with bias, mask = ids != pad on the keys),
     y = LN1(x + a); z = LN2(y + W2 gelu(W1 y + b1) + b2), exact (erf) GELU.
   - pooler (roberta / xlm-roberta configs in OpenCLIP: mean_pooler): mean of the last hidden
     states over unmasked tokens; cls: hidden state of token 0 (through the transformer's
     pooler dense + tanh when the file has text.transformer.pooler.dense.*, as ClsPooler uses
     pooler_output).
   - proj mlp: Linear(D, (D+E)/2, no bias) -> GELU -> Linear(., E, no bias); linear: Linear(D, E, no
     bias); none: identity (D == E).
   Padding is dropped: the valid tokens of all sequences are packed into one [N, D] matrix for
   the Linear layers, attention runs per (sequence, head) on its own length. Masked keys get
   zero softmax weight in HF, masked rows never reach a valid row or the mean: so the packed
   computation equals the padded one (tests/test_hftext.c checks it).
   Backward (CoOp) only to the input word embeddings: weights are frozen, so a Linear's backward
   is dX = dY W, and LayerNorm keeps (x - mean) * rstd and rstd. */

/* uses coop_gemm / coop_pool_run and struct coop_text_cache { coop_arena arena; void *impl; }
   (the CLIP text tower's section) */
/* ---- weights (per model, COOP_SLOT_TEXT) ---------------------------------------------- */
typedef struct {
    const float *q_w, *q_b, *k_w, *k_b, *v_w, *v_b, *o_w, *o_b, *ln1_w, *ln1_b;
    const float *i_w, *i_b, *f_w, *f_b, *ln2_w, *ln2_b;
} hf_layer_w;
typedef struct {
    int D, L, H, F, E, V, P, Hp, pad, proj, pooler, has_pool_dense;
    float eps;
    const float *word, *pos, *type, *ln_w, *ln_b, *pool_w, *pool_b, *proj0, *proj2;
    hf_layer_w *layer;
    coop_arena work;   /* activations of coop_hftext_encode */
} hf_model;
enum { HF_PROJ_NONE = 0, HF_PROJ_LINEAR = 1, HF_PROJ_MLP = 2 };
enum { HF_POOL_MEAN = 0, HF_POOL_CLS = 1 };

static void hf_model_free(void *p) {
    hf_model *w = (hf_model *)p;
    if (!w) return;
    coop_arena_free(&w->work);
    coop_free(w->layer);
    coop_free(w);
}

static const float *hf_t(coop_model *m, const char *name, int64_t a, int64_t b) {
    int64_t shape[2] = {a, b};
    return coop_model_f32(m, name, b ? 2 : 1, shape);
}

static hf_model *hf_get(coop_model *m) {
    hf_model *w = (hf_model *)coop_model_slot(m, COOP_SLOT_TEXT);
    if (w) return w;
    const coop_config *c = coop_model_config(m);
    if (c->text != COOP_TEXT_HF) { coop_set_error("%s: not a Hugging Face text model", m->path); return NULL; }
    if (c->text_width <= 0 || c->text_layers <= 0 || c->text_heads <= 0 || c->text_width % c->text_heads ||
        c->text_mlp <= 0 || c->embed_dim <= 0 || c->vocab_size <= 0 || c->hf_type_vocab <= 0) {
        coop_set_error("%s: bad HF text config (width %d, layers %d, heads %d, mlp %d)", m->path, c->text_width,
                       c->text_layers, c->text_heads, c->text_mlp);
        return NULL;
    }
    int D = 0, F = 0;   /* before the first goto fail (C++) */
    w = (hf_model *)coop_calloc(sizeof *w);
    if (!w) return NULL;
    w->D = c->text_width; w->L = c->text_layers; w->H = c->text_heads; w->F = c->text_mlp;
    w->E = c->embed_dim; w->V = c->vocab_size; w->P = c->hf_max_positions; w->pad = c->pad_id;
    w->eps = c->ln_eps > 0 ? c->ln_eps : 1e-5f;
    if (!strcmp(c->hf_proj, "mlp")) w->proj = HF_PROJ_MLP;
    else if (!strcmp(c->hf_proj, "linear")) w->proj = HF_PROJ_LINEAR;
    else if (!strcmp(c->hf_proj, "none") || !c->hf_proj[0]) w->proj = HF_PROJ_NONE;
    else { coop_set_error("%s: hf_proj '%s' not supported (mlp, linear, none)", m->path, c->hf_proj); goto fail; }
    if (!strcmp(c->hf_pooler, "mean") || !strcmp(c->hf_pooler, "mean_pooler") || !c->hf_pooler[0]) w->pooler = HF_POOL_MEAN;
    else if (!strcmp(c->hf_pooler, "cls") || !strcmp(c->hf_pooler, "cls_pooler")) w->pooler = HF_POOL_CLS;
    else { coop_set_error("%s: hf_pooler '%s' not supported (mean, cls)", m->path, c->hf_pooler); goto fail; }
    if (w->proj == HF_PROJ_NONE && w->D != w->E) { coop_set_error("%s: hf_proj none needs text_width == embed_dim", m->path); goto fail; }
    w->Hp = c->hf_proj_hidden > 0 ? c->hf_proj_hidden : (w->D + w->E) / 2;
    if (w->P < w->pad + 2) { coop_set_error("%s: hf_max_positions %d too small for pad id %d", m->path, w->P, w->pad); goto fail; }
    D = w->D; F = w->F;
#define HF_T(dst, name, a, b) if (!((dst) = hf_t(m, name, a, b))) goto fail
    HF_T(w->word, "text.transformer.embeddings.word_embeddings.weight", w->V, D);
    HF_T(w->pos, "text.transformer.embeddings.position_embeddings.weight", w->P, D);
    HF_T(w->type, "text.transformer.embeddings.token_type_embeddings.weight", c->hf_type_vocab, D);
    HF_T(w->ln_w, "text.transformer.embeddings.LayerNorm.weight", D, 0);
    HF_T(w->ln_b, "text.transformer.embeddings.LayerNorm.bias", D, 0);
    if (!(w->layer = (hf_layer_w *)coop_calloc(sizeof(hf_layer_w) * (size_t)w->L))) goto fail;
    for (int l = 0; l < w->L; l++) {
        hf_layer_w *y = &w->layer[l];
        char nm[128];
#define HF_LT(dst, suffix, a, b) snprintf(nm, sizeof nm, "text.transformer.encoder.layer.%d.%s", l, suffix); HF_T(dst, nm, a, b)
        HF_LT(y->q_w, "attention.self.query.weight", D, D);   HF_LT(y->q_b, "attention.self.query.bias", D, 0);
        HF_LT(y->k_w, "attention.self.key.weight", D, D);     HF_LT(y->k_b, "attention.self.key.bias", D, 0);
        HF_LT(y->v_w, "attention.self.value.weight", D, D);   HF_LT(y->v_b, "attention.self.value.bias", D, 0);
        HF_LT(y->o_w, "attention.output.dense.weight", D, D); HF_LT(y->o_b, "attention.output.dense.bias", D, 0);
        HF_LT(y->ln1_w, "attention.output.LayerNorm.weight", D, 0); HF_LT(y->ln1_b, "attention.output.LayerNorm.bias", D, 0);
        HF_LT(y->i_w, "intermediate.dense.weight", F, D);     HF_LT(y->i_b, "intermediate.dense.bias", F, 0);
        HF_LT(y->f_w, "output.dense.weight", D, F);           HF_LT(y->f_b, "output.dense.bias", D, 0);
        HF_LT(y->ln2_w, "output.LayerNorm.weight", D, 0);     HF_LT(y->ln2_b, "output.LayerNorm.bias", D, 0);
#undef HF_LT
    }
    if (w->pooler == HF_POOL_CLS && coop_model_find(m, "text.transformer.pooler.dense.weight")) {
        w->has_pool_dense = 1;
        HF_T(w->pool_w, "text.transformer.pooler.dense.weight", D, D);
        HF_T(w->pool_b, "text.transformer.pooler.dense.bias", D, 0);
    }
    if (w->proj == HF_PROJ_MLP) {
        HF_T(w->proj0, "text.proj.0.weight", w->Hp, D);
        HF_T(w->proj2, "text.proj.2.weight", w->E, w->Hp);
    } else if (w->proj == HF_PROJ_LINEAR) {
        HF_T(w->proj0, "text.proj.weight", w->E, D);
    }
#undef HF_T
    coop_model_set_slot(m, COOP_SLOT_TEXT, w, hf_model_free);
    return w;
fail:
    hf_model_free(w);
    return NULL;
}

/* ---- layers: forward and backward side by side (rows are tokens) --------------------- */

/* LayerNorm, GELU and attention heads are the layers section's (ln_fwd / ln_bwd, act_fwd /
   act_bwd, attn_head_forward / _backward): post-LN changes only the order they are called in. */

/* ---- attention over packed sequences -------------------------------------------------- */
/* q, k, v, ctx: [N, D] (heads are column blocks of dh = D / H); seq s owns rows off[s] .. off[s]+len[s];
   probs: per (s, h) a [len, len] block at poff[s] + h * len*len. Bidirectional: no mask, and
   padding was dropped before (each sequence is its real tokens only). */
typedef struct {
    int n, H, D;
    const int *len, *off;
    const size_t *poff;
    const float *q, *k, *v, *dctx;
    float *probs, *ctx, *dq, *dk, *dv;
    int fail;
} hf_attn;

static attn_head hf_head(const hf_attn *j, int s, int h) {
    int T = j->len[s], dh = j->D / j->H;
    size_t r0 = (size_t)j->off[s] * j->D + (size_t)h * dh;
    attn_head a;
    memset(&a, 0, sizeof a);
    a.q = j->q + r0; a.k2 = j->k + r0; a.v2 = j->v + r0;
    a.ld = j->D; a.nq = T; a.q0 = 0; a.n1 = 0; a.n2 = T; a.causal = 0; a.hd = dh;
    a.P = j->probs + j->poff[s] + (size_t)h * T * T;
    a.out = j->ctx ? j->ctx + r0 : NULL;
    a.ldo = j->D;
    return a;
}
static void hf_attn_forward_task(void *vctx, int t, int nt) {
    hf_attn *j = (hf_attn *)vctx;
    (void)nt;
    attn_head a = hf_head(j, t / j->H, t % j->H);
    if (attn_head_forward(&a)) j->fail = 1;
}
/* dq, dk, dv accumulate: zeroed by the caller */
static void hf_attn_backward_task(void *vctx, int t, int nt) {
    hf_attn *j = (hf_attn *)vctx;
    (void)nt;
    int s = t / j->H, h = t % j->H;
    size_t r0 = (size_t)j->off[s] * j->D + (size_t)h * (j->D / j->H);
    attn_head a = hf_head(j, s, h);
    if (attn_head_backward(&a, j->dctx + r0, j->dq + r0, NULL, NULL, j->dk + r0, j->dv + r0, j->D)) j->fail = 1;
}
/* ---- activations kept for backward (laid out in one arena block) ---------------------- */
typedef struct {
    float *q, *k, *v, *probs, *u;
    float *h1, *mean1, *rstd1, *h2, *mean2, *rstd2;   /* the inputs of LN1 / LN2 and their statistics */
} hf_layer_act;
typedef struct {
    int n, N, T, maxlen;
    int *len, *off;
    size_t *poff, nprobs;
    float *x, *h0, *mean0, *rstd0; /* x: the running hidden state [N, D]; h0: input of the embedding LN */
    hf_layer_act *layer;
    float *pooled, *pool_pre, *z1; /* [n, D], [n, D] (cls dense pre-tanh), [n, Hp] (mlp pre-GELU) */
    /* scratch */
    float *t1, *t2, *g;            /* [N, D], [N, D], [N, max(F, Hp, D)] */
    float *ctx;                    /* [N, D] attention output before its dense (not needed by backward) */
    float *dq, *dk, *dv;           /* [N, D] each (backward only) */
} hf_act;

typedef struct { unsigned char *base; size_t used; } hf_bump;
static void *hf_take(hf_bump *b, size_t bytes) {
    size_t off = (b->used + 63) & ~(size_t)63;
    b->used = off + bytes;
    return b->base ? b->base + off : NULL;
}

/* lays out the activations for sequences of lengths len[0..n) in b (base NULL: only sizes) */
static void hf_layout(hf_bump *b, hf_act *a, const hf_model *w, const int *len, int n, int T) {
    memset(a, 0, sizeof *a);
    a->n = n; a->T = T;
    a->len = (int *)hf_take(b, sizeof(int) * (size_t)n);
    a->off = (int *)hf_take(b, sizeof(int) * (size_t)n);
    a->poff = (size_t *)hf_take(b, sizeof(size_t) * (size_t)n);
    int N = 0, maxlen = 0;
    size_t np = 0;
    for (int s = 0; s < n; s++) {
        if (a->len) { a->len[s] = len[s]; a->off[s] = N; a->poff[s] = np; }
        N += len[s];
        np += (size_t)w->H * len[s] * len[s];
        if (len[s] > maxlen) maxlen = len[s];
    }
    a->N = N; a->nprobs = np; a->maxlen = maxlen;
    size_t ND = sizeof(float) * (size_t)N * w->D;
    a->x = (float *)hf_take(b, ND);
    a->h0 = (float *)hf_take(b, ND);
    a->mean0 = (float *)hf_take(b, sizeof(float) * (size_t)N);
    a->rstd0 = (float *)hf_take(b, sizeof(float) * (size_t)N);
    a->layer = (hf_layer_act *)hf_take(b, sizeof(hf_layer_act) * (size_t)w->L);
    for (int l = 0; l < w->L; l++) {
        hf_layer_act t;
        t.q = (float *)hf_take(b, ND); t.k = (float *)hf_take(b, ND); t.v = (float *)hf_take(b, ND);
        t.probs = (float *)hf_take(b, sizeof(float) * np);
        t.h1 = (float *)hf_take(b, ND); t.h2 = (float *)hf_take(b, ND);
        t.mean1 = (float *)hf_take(b, sizeof(float) * (size_t)N); t.rstd1 = (float *)hf_take(b, sizeof(float) * (size_t)N);
        t.mean2 = (float *)hf_take(b, sizeof(float) * (size_t)N); t.rstd2 = (float *)hf_take(b, sizeof(float) * (size_t)N);
        t.u = (float *)hf_take(b, sizeof(float) * (size_t)N * w->F);
        if (a->layer) a->layer[l] = t;
    }
    a->pooled = (float *)hf_take(b, sizeof(float) * (size_t)n * w->D);
    a->pool_pre = (float *)hf_take(b, sizeof(float) * (size_t)n * w->D);
    a->z1 = (float *)hf_take(b, sizeof(float) * (size_t)n * (w->Hp > w->E ? w->Hp : w->E));
    a->t1 = (float *)hf_take(b, ND);
    a->t2 = (float *)hf_take(b, ND);
    {
        size_t gw = (size_t)(w->F > w->D ? w->F : w->D), gn = (size_t)(N > n ? N : n);
        if ((size_t)w->Hp > gw) gw = (size_t)w->Hp;
        a->g = (float *)hf_take(b, sizeof(float) * gn * gw);
    }
    a->ctx = (float *)hf_take(b, ND);
    a->dq = (float *)hf_take(b, ND);
    a->dk = (float *)hf_take(b, ND);
    a->dv = (float *)hf_take(b, ND);
}

/* reserves `a` big enough and lays out the activations in it */
static hf_act *hf_alloc(coop_arena *ar, const hf_model *w, const int *len, int n, int T) {
    hf_act count;
    hf_bump b = {NULL, sizeof(hf_act)};
    hf_layout(&b, &count, w, len, n, T);
    size_t need = b.used + 64;
    coop_arena_reset(ar);
    if (ar->size < need) {
        coop_arena_free(ar);
        if (coop_arena_reserve(ar, need + need / 4)) return NULL;
    }
    unsigned char *base = (unsigned char *)coop_arena_alloc(ar, need);
    if (!base) return NULL;
    b.base = base; b.used = sizeof(hf_act);
    hf_layout(&b, (hf_act *)base, w, len, n, T);
    return (hf_act *)base;
}

/* ---- the tower -------------------------------------------------------------------------- */
/* a->x holds word embeddings of the packed tokens, pos[N] their position ids; out [n, E] */
static int hf_forward(const hf_model *w, coop_pool *p, hf_act *a, const int *pos, float *out) {
    int N = a->N, D = w->D, F = w->F;
    /* embeddings: word + position + token type 0, LayerNorm */
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            a->h0[(size_t)i * D + j] = a->x[(size_t)i * D + j] + w->pos[(size_t)pos[i] * D + j] + w->type[j];
    ln_fwd(p, a->x, a->mean0, a->rstd0, a->h0, w->ln_w, w->ln_b, N, D, w->eps);
    for (int l = 0; l < w->L; l++) {
        const hf_layer_w *y = &w->layer[l];
        hf_layer_act *c = &a->layer[l];
        /* self-attention: q, k, v [N, D] */
        coop_gemm(p, 1, N, D, D, a->x, D, y->q_w, D, y->q_b, 0.0f, c->q, D);
        coop_gemm(p, 1, N, D, D, a->x, D, y->k_w, D, y->k_b, 0.0f, c->k, D);
        coop_gemm(p, 1, N, D, D, a->x, D, y->v_w, D, y->v_b, 0.0f, c->v, D);
        hf_attn at = {a->n, w->H, D, a->len, a->off, a->poff, c->q, c->k, c->v, NULL,
                      c->probs, a->ctx, NULL, NULL, NULL, 0};
        coop_pool_run(p, a->n * w->H, hf_attn_forward_task, &at);
        if (at.fail) return -1;
        /* y1 = LN1(h1), h1 = x + ctx Wo^T + bo */
        memcpy(c->h1, a->x, sizeof(float) * (size_t)N * D);
        coop_gemm(p, 1, N, D, D, a->ctx, D, y->o_w, D, y->o_b, 1.0f, c->h1, D);
        ln_fwd(p, a->t2, c->mean1, c->rstd1, c->h1, y->ln1_w, y->ln1_b, N, D, w->eps);
        /* x' = LN2(h2), h2 = y1 + W2 gelu(u) + b2, u = W1 y1 + b1 */
        coop_gemm(p, 1, N, F, D, a->t2, D, y->i_w, D, y->i_b, 0.0f, a->g, F);
        act_fwd(p, a->g, c->u, N, F, COOP_ACT_GELU);
        memcpy(c->h2, a->t2, sizeof(float) * (size_t)N * D);
        coop_gemm(p, 1, N, D, F, a->g, F, y->f_w, F, y->f_b, 1.0f, c->h2, D);
        ln_fwd(p, a->x, c->mean2, c->rstd2, c->h2, y->ln2_w, y->ln2_b, N, D, w->eps);
    }
    /* pooling: [n, D] */
    for (int s = 0; s < a->n; s++) {
        float *o = a->pooled + (size_t)s * D;
        const float *x = a->x + (size_t)a->off[s] * D;
        if (w->pooler == HF_POOL_MEAN) {
            for (int j = 0; j < D; j++) {
                double acc = 0;
                for (int t = 0; t < a->len[s]; t++) acc += x[(size_t)t * D + j];
                o[j] = (float)(acc / a->len[s]);
            }
        } else memcpy(o, x, sizeof(float) * (size_t)D);
    }
    if (w->has_pool_dense) {
        coop_gemm(p, 1, a->n, D, D, a->pooled, D, w->pool_w, D, w->pool_b, 0.0f, a->pool_pre, D);
        for (size_t i = 0; i < (size_t)a->n * D; i++) a->pooled[i] = tanhf(a->pool_pre[i]);
    }
    /* projection */
    if (w->proj == HF_PROJ_MLP) {
        coop_gemm(p, 1, a->n, w->Hp, D, a->pooled, D, w->proj0, D, NULL, 0.0f, a->z1, w->Hp);
        memcpy(a->g, a->z1, sizeof(float) * (size_t)a->n * w->Hp);
        act_fwd(p, a->g, NULL, a->n, w->Hp, COOP_ACT_GELU);
        coop_gemm(p, 1, a->n, w->E, w->Hp, a->g, w->Hp, w->proj2, w->Hp, NULL, 0.0f, out, w->E);
    } else if (w->proj == HF_PROJ_LINEAR) {
        coop_gemm(p, 1, a->n, w->E, D, a->pooled, D, w->proj0, D, NULL, 0.0f, out, w->E);
    } else memcpy(out, a->pooled, sizeof(float) * (size_t)a->n * D);
    return 0;
}

/* dout [n, E] -> dxw [N, D]: gradient w.r.t. the packed word embeddings */
static int hf_backward(const hf_model *w, coop_pool *p, hf_act *a, const float *dout, float *dxw) {
    int N = a->N, D = w->D, F = w->F, n = a->n;
    float *dpool = a->t1;   /* [n, D] (n <= N) */
    /* projection backward */
    if (w->proj == HF_PROJ_MLP) {
        coop_gemm(p, 0, n, w->Hp, w->E, dout, w->E, w->proj2, w->Hp, NULL, 0.0f, a->g, w->Hp);
        act_bwd(p, a->g, a->z1, n, w->Hp, COOP_ACT_GELU);
        coop_gemm(p, 0, n, D, w->Hp, a->g, w->Hp, w->proj0, D, NULL, 0.0f, dpool, D);
    } else if (w->proj == HF_PROJ_LINEAR) {
        coop_gemm(p, 0, n, D, w->E, dout, w->E, w->proj0, D, NULL, 0.0f, dpool, D);
    } else memcpy(dpool, dout, sizeof(float) * (size_t)n * D);
    if (w->has_pool_dense) {
        for (size_t i = 0; i < (size_t)n * D; i++) { float t = a->pooled[i]; a->g[i] = dpool[i] * (1 - t * t); }
        coop_gemm(p, 0, n, D, D, a->g, D, w->pool_w, D, NULL, 0.0f, dpool, D);
    }
    /* pooling backward into dx [N, D] (kept in dxw) */
    for (int s = 0; s < n; s++)
        for (int t = 0; t < a->len[s]; t++) {
            float *d = dxw + (size_t)(a->off[s] + t) * D;
            const float *g = dpool + (size_t)s * D;
            if (w->pooler == HF_POOL_MEAN) for (int j = 0; j < D; j++) d[j] = g[j] / (float)a->len[s];
            else if (t == 0) memcpy(d, g, sizeof(float) * (size_t)D);
            else memset(d, 0, sizeof(float) * (size_t)D);
        }
    size_t ND = sizeof(float) * (size_t)N * D;
    float *dy1 = a->t1, *dctx = a->t2;
    for (int l = w->L - 1; l >= 0; l--) {
        const hf_layer_w *y = &w->layer[l];
        hf_layer_act *c = &a->layer[l];
        /* x' = LN2(h2), h2 = y1 + W2 gelu(u) + b2, u = W1 y1 + b1; dxw holds dx' */
        memset(dy1, 0, ND);
        ln_bwd(p, dy1, dxw, c->h2, y->ln2_w, c->mean2, c->rstd2, N, D);             /* dh2 */
        coop_gemm(p, 0, N, F, D, dy1, D, y->f_w, F, NULL, 0.0f, a->g, F);              /* dg = dh2 W2 */
        act_bwd(p, a->g, c->u, N, F, COOP_ACT_GELU);                                   /* du */
        coop_gemm(p, 0, N, D, F, a->g, F, y->i_w, D, NULL, 1.0f, dy1, D);              /* dy1 = dh2 + du W1 */
        /* y1 = LN1(h1), h1 = x + Wo ctx + bo */
        memset(dxw, 0, ND);
        ln_bwd(p, dxw, dy1, c->h1, y->ln1_w, c->mean1, c->rstd1, N, D);              /* dh1 */
        coop_gemm(p, 0, N, D, D, dxw, D, y->o_w, D, NULL, 0.0f, dctx, D);
        float *dq = a->dq, *dk = a->dk, *dv = a->dv;
        memset(dq, 0, ND); memset(dk, 0, ND); memset(dv, 0, ND);
        hf_attn at = {n, w->H, D, a->len, a->off, a->poff, c->q, c->k, c->v, dctx,
                      c->probs, NULL, dq, dk, dv, 0};
        coop_pool_run(p, n * w->H, hf_attn_backward_task, &at);
        if (at.fail) return -1;
        /* dx = dh1 + dq Wq + dk Wk + dv Wv */
        coop_gemm(p, 0, N, D, D, dq, D, y->q_w, D, NULL, 1.0f, dxw, D);
        coop_gemm(p, 0, N, D, D, dk, D, y->k_w, D, NULL, 1.0f, dxw, D);
        coop_gemm(p, 0, N, D, D, dv, D, y->v_w, D, NULL, 1.0f, dxw, D);
    }
    /* embedding LayerNorm; position / type embeddings are constants */
    memset(a->t1, 0, ND);
    ln_bwd(p, a->t1, dxw, a->h0, w->ln_w, a->mean0, a->rstd0, N, D);
    memcpy(dxw, a->t1, ND);
    return 0;
}

/* ---- public entry points ------------------------------------------------------------------- */
int coop_hftext_encode(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out) {
    hf_model *w = hf_get(m);
    if (!w) return -1;
    const int ctx = m->cfg.context_length, chunk = 64;
    int *len = (int *)coop_malloc(sizeof(int) * (size_t)chunk), *pos = (int *)coop_malloc(sizeof(int) * (size_t)chunk * ctx);
    int rc = -1;
    if (!len || !pos) goto out;
    for (int s0 = 0; s0 < n; s0 += chunk) {
        int nc = n - s0 < chunk ? n - s0 : chunk;
        /* valid tokens = ids != pad; RoBERTa position ids = pad + running count of valid tokens */
        for (int s = 0; s < nc; s++) {
            const int32_t *r = ids + (size_t)(s0 + s) * ctx;
            len[s] = 0;
            for (int t = 0; t < ctx; t++) {
                if (r[t] < 0 || r[t] >= w->V) { coop_set_error("%s: token id %d outside the vocabulary", m->path, (int)r[t]); goto out; }
                if (r[t] != w->pad) len[s]++;
            }
            if (!len[s]) { coop_set_error("%s: text %d has only padding", m->path, s0 + s); goto out; }
            if (w->pad + len[s] >= w->P) { coop_set_error("%s: %d tokens exceed hf_max_positions %d", m->path, len[s], w->P); goto out; }
        }
        hf_act *a = hf_alloc(&w->work, w, len, nc, ctx);
        if (!a) goto out;
        for (int s = 0, k = 0; s < nc; s++) {
            const int32_t *r = ids + (size_t)(s0 + s) * ctx;
            for (int t = 0; t < ctx; t++)
                if (r[t] != w->pad) {
                    memcpy(a->x + (size_t)k * w->D, w->word + (size_t)r[t] * w->D, sizeof(float) * (size_t)w->D);
                    pos[k] = w->pad + 1 + (k - a->off[s]);
                    k++;
                }
        }
        if (hf_forward(w, p, a, pos, out + (size_t)s0 * w->E)) goto out;
    }
    rc = 0;
out:
    coop_free(len);
    coop_free(pos);
    return rc;
}

/* x [n, T, D] word embeddings; the valid tokens of prompt i are 0..eot[i] (HF inputs_embeds:
   positions pad+1+t, token type 0). cache->impl points at the hf_act laid out in cache->arena. */
int coop_hftext_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                               int n, int T, int n_shared, float *out, coop_text_cache *cache) {
    hf_model *w = hf_get(m);
    (void)n_shared;   /* bidirectional attention: nothing is shared between prompts */
    if (!w) return -1;
    int *len = (int *)coop_malloc(sizeof(int) * (size_t)n), *pos = NULL, rc = -1;
    coop_arena *ar = NULL;
    hf_act *a = NULL;
    if (!len) return -1;
    for (int s = 0; s < n; s++) {
        if (eot[s] < 0 || eot[s] >= T) { coop_set_error("%s: eot %d outside [0,%d)", m->path, eot[s], T); goto out; }
        len[s] = eot[s] + 1;
        if (w->pad + len[s] >= w->P) { coop_set_error("%s: %d tokens exceed hf_max_positions %d", m->path, len[s], w->P); goto out; }
    }
    ar = cache ? &cache->arena : &w->work;
    a = hf_alloc(ar, w, len, n, T);
    if (cache) cache->impl = a;
    if (!a || !(pos = (int *)coop_malloc(sizeof(int) * (size_t)(a->N + 1)))) goto out;
    for (int s = 0; s < n; s++)
        for (int t = 0; t < len[s]; t++) {
            memcpy(a->x + (size_t)(a->off[s] + t) * w->D, x + ((size_t)s * T + t) * w->D, sizeof(float) * (size_t)w->D);
            pos[a->off[s] + t] = w->pad + 1 + t;
        }
    if (hf_forward(w, p, a, pos, out)) goto out;
    rc = 0;
out:
    coop_free(len);
    coop_free(pos);
    return rc;
}

/* dout [n, E] -> dx [n, T, D] (rows after eot are zero: padding never existed) */
int coop_hftext_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                                const float *dout, float *dx) {
    hf_model *w = hf_get(m);
    if (!w) return -1;
    hf_act *a = cache ? (hf_act *)cache->impl : NULL;
    if (!a) { coop_set_error("%s: text backward without a cached forward", m->path); return -1; }
    /* the final hidden state a->x is not needed by backward: it holds the packed gradient */
    if (hf_backward(w, p, a, dout, a->x)) return -1;
    memset(dx, 0, sizeof(float) * (size_t)a->n * a->T * w->D);
    for (int s = 0; s < a->n; s++)
        memcpy(dx + (size_t)s * a->T * w->D, a->x + (size_t)a->off[s] * w->D, sizeof(float) * (size_t)a->len[s] * w->D);
    return 0;
}

/* ===================================================================================== */
/* CLIP BPE tokenizer: OpenCLIP's SimpleTokenizer (tokenizer.py), clean='lower' path       */
/* ===================================================================================== */
/* What tokenize() does, in OpenCLIP's order (each step matched exactly, tests/test_tok_clip.c):
     basic_clean:      [ftfy.fix_text: NOT done -- mojibake repair is out of scope, text is taken
                       as is], html.unescape twice (numeric refs with Python's replacement rules,
                       the full html.entities.html5 table incl. legacy names without ';'), strip()
     whitespace_clean: " ".join(text.split()): runs of str.isspace() characters -> ' ', trimmed
                       (current OpenCLIP; older versions used re.sub(r'\s+', ' ', ...), whose regex
                       \s differs from isspace() only on U+001C..U+001F, which it does not include)
     .lower():         Python's full str.lower() (U+0130 -> "i\u0307", Final_Sigma rule for U+03A3)
     pre-tokenize:     regex.findall of
                       <start_of_text>|<end_of_text>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
                       with IGNORECASE (so "'ſ" matches 's, U+212A matches k, ...)
     BPE:              bytes_to_unicode byte symbols, '</w>' on the last one, lowest-rank merge
                       applied to all its occurrences left to right until none applies; words cached
     tokenize():       [49406] ids [49407], zero-padded to ctx; when too long, cut to ctx and the
                       last kept position becomes EOT.
   All character tables are generated by tests/ref/gen_unicode_tables.py by brute force from the
   Python `regex` module (\s, \p{L}, \p{N} under IGNORECASE) and Python's str / html modules,
   so they follow those engines' Unicode version (printed in the table block below).
   Not thread-safe: the word cache is updated by encode (use one tokenizer per thread). */



#include <stdint.h>
#include <stdlib.h>
#include <string.h>


/* BEGIN GENERATED TABLES (tests/ref/gen_unicode_tables.py) */
/* regex 2.5.123, Python 3.11.2 (unicodedata 14.0.0). */

/* token pattern classes under IGNORECASE: 1 = [\p{L}], 2 = [\p{N}], 3 = [^\s\p{L}\p{N}];
   code points in no range match none of them (\s). 1554 ranges */
static const uint32_t tokc_class_tab[][3] = {
    {0x0,0x8,3}, {0xE,0x1F,3}, {0x21,0x2F,3}, {0x30,0x39,2}, {0x3A,0x40,3},
    {0x41,0x5A,1}, {0x5B,0x60,3}, {0x61,0x7A,1}, {0x7B,0x84,3}, {0x86,0x9F,3},
    {0xA1,0xA9,3}, {0xAA,0xAA,1}, {0xAB,0xB1,3}, {0xB2,0xB3,2}, {0xB4,0xB4,3},
    {0xB5,0xB5,1}, {0xB6,0xB8,3}, {0xB9,0xB9,2}, {0xBA,0xBA,1}, {0xBB,0xBB,3},
    {0xBC,0xBE,2}, {0xBF,0xBF,3}, {0xC0,0xD6,1}, {0xD7,0xD7,3}, {0xD8,0xF6,1},
    {0xF7,0xF7,3}, {0xF8,0x2C1,1}, {0x2C2,0x2C5,3}, {0x2C6,0x2D1,1}, {0x2D2,0x2DF,3},
    {0x2E0,0x2E4,1}, {0x2E5,0x2EB,3}, {0x2EC,0x2EC,1}, {0x2ED,0x2ED,3}, {0x2EE,0x2EE,1},
    {0x2EF,0x344,3}, {0x346,0x36F,3}, {0x370,0x374,1}, {0x375,0x375,3}, {0x376,0x377,1},
    {0x378,0x379,3}, {0x37A,0x37D,1}, {0x37E,0x37E,3}, {0x37F,0x37F,1}, {0x380,0x385,3},
    {0x386,0x386,1}, {0x387,0x387,3}, {0x388,0x38A,1}, {0x38B,0x38B,3}, {0x38C,0x38C,1},
    {0x38D,0x38D,3}, {0x38E,0x3A1,1}, {0x3A2,0x3A2,3}, {0x3A3,0x3F5,1}, {0x3F6,0x3F6,3},
    {0x3F7,0x481,1}, {0x482,0x489,3}, {0x48A,0x52F,1}, {0x530,0x530,3}, {0x531,0x556,1},
    {0x557,0x558,3}, {0x559,0x559,1}, {0x55A,0x55F,3}, {0x560,0x588,1}, {0x589,0x5CF,3},
    {0x5D0,0x5EA,1}, {0x5EB,0x5EE,3}, {0x5EF,0x5F2,1}, {0x5F3,0x61F,3}, {0x620,0x64A,1},
    {0x64B,0x65F,3}, {0x660,0x669,2}, {0x66A,0x66D,3}, {0x66E,0x66F,1}, {0x670,0x670,3},
    {0x671,0x6D3,1}, {0x6D4,0x6D4,3}, {0x6D5,0x6D5,1}, {0x6D6,0x6E4,3}, {0x6E5,0x6E6,1},
    {0x6E7,0x6ED,3}, {0x6EE,0x6EF,1}, {0x6F0,0x6F9,2}, {0x6FA,0x6FC,1}, {0x6FD,0x6FE,3},
    {0x6FF,0x6FF,1}, {0x700,0x70F,3}, {0x710,0x710,1}, {0x711,0x711,3}, {0x712,0x72F,1},
    {0x730,0x74C,3}, {0x74D,0x7A5,1}, {0x7A6,0x7B0,3}, {0x7B1,0x7B1,1}, {0x7B2,0x7BF,3},
    {0x7C0,0x7C9,2}, {0x7CA,0x7EA,1}, {0x7EB,0x7F3,3}, {0x7F4,0x7F5,1}, {0x7F6,0x7F9,3},
    {0x7FA,0x7FA,1}, {0x7FB,0x7FF,3}, {0x800,0x815,1}, {0x816,0x819,3}, {0x81A,0x81A,1},
    {0x81B,0x823,3}, {0x824,0x824,1}, {0x825,0x827,3}, {0x828,0x828,1}, {0x829,0x83F,3},
    {0x840,0x858,1}, {0x859,0x85F,3}, {0x860,0x86A,1}, {0x86B,0x86F,3}, {0x870,0x887,1},
    {0x888,0x888,3}, {0x889,0x88E,1}, {0x88F,0x89F,3}, {0x8A0,0x8C9,1}, {0x8CA,0x903,3},
    {0x904,0x939,1}, {0x93A,0x93C,3}, {0x93D,0x93D,1}, {0x93E,0x94F,3}, {0x950,0x950,1},
    {0x951,0x957,3}, {0x958,0x961,1}, {0x962,0x965,3}, {0x966,0x96F,2}, {0x970,0x970,3},
    {0x971,0x980,1}, {0x981,0x984,3}, {0x985,0x98C,1}, {0x98D,0x98E,3}, {0x98F,0x990,1},
    {0x991,0x992,3}, {0x993,0x9A8,1}, {0x9A9,0x9A9,3}, {0x9AA,0x9B0,1}, {0x9B1,0x9B1,3},
    {0x9B2,0x9B2,1}, {0x9B3,0x9B5,3}, {0x9B6,0x9B9,1}, {0x9BA,0x9BC,3}, {0x9BD,0x9BD,1},
    {0x9BE,0x9CD,3}, {0x9CE,0x9CE,1}, {0x9CF,0x9DB,3}, {0x9DC,0x9DD,1}, {0x9DE,0x9DE,3},
    {0x9DF,0x9E1,1}, {0x9E2,0x9E5,3}, {0x9E6,0x9EF,2}, {0x9F0,0x9F1,1}, {0x9F2,0x9F3,3},
    {0x9F4,0x9F9,2}, {0x9FA,0x9FB,3}, {0x9FC,0x9FC,1}, {0x9FD,0xA04,3}, {0xA05,0xA0A,1},
    {0xA0B,0xA0E,3}, {0xA0F,0xA10,1}, {0xA11,0xA12,3}, {0xA13,0xA28,1}, {0xA29,0xA29,3},
    {0xA2A,0xA30,1}, {0xA31,0xA31,3}, {0xA32,0xA33,1}, {0xA34,0xA34,3}, {0xA35,0xA36,1},
    {0xA37,0xA37,3}, {0xA38,0xA39,1}, {0xA3A,0xA58,3}, {0xA59,0xA5C,1}, {0xA5D,0xA5D,3},
    {0xA5E,0xA5E,1}, {0xA5F,0xA65,3}, {0xA66,0xA6F,2}, {0xA70,0xA71,3}, {0xA72,0xA74,1},
    {0xA75,0xA84,3}, {0xA85,0xA8D,1}, {0xA8E,0xA8E,3}, {0xA8F,0xA91,1}, {0xA92,0xA92,3},
    {0xA93,0xAA8,1}, {0xAA9,0xAA9,3}, {0xAAA,0xAB0,1}, {0xAB1,0xAB1,3}, {0xAB2,0xAB3,1},
    {0xAB4,0xAB4,3}, {0xAB5,0xAB9,1}, {0xABA,0xABC,3}, {0xABD,0xABD,1}, {0xABE,0xACF,3},
    {0xAD0,0xAD0,1}, {0xAD1,0xADF,3}, {0xAE0,0xAE1,1}, {0xAE2,0xAE5,3}, {0xAE6,0xAEF,2},
    {0xAF0,0xAF8,3}, {0xAF9,0xAF9,1}, {0xAFA,0xB04,3}, {0xB05,0xB0C,1}, {0xB0D,0xB0E,3},
    {0xB0F,0xB10,1}, {0xB11,0xB12,3}, {0xB13,0xB28,1}, {0xB29,0xB29,3}, {0xB2A,0xB30,1},
    {0xB31,0xB31,3}, {0xB32,0xB33,1}, {0xB34,0xB34,3}, {0xB35,0xB39,1}, {0xB3A,0xB3C,3},
    {0xB3D,0xB3D,1}, {0xB3E,0xB5B,3}, {0xB5C,0xB5D,1}, {0xB5E,0xB5E,3}, {0xB5F,0xB61,1},
    {0xB62,0xB65,3}, {0xB66,0xB6F,2}, {0xB70,0xB70,3}, {0xB71,0xB71,1}, {0xB72,0xB77,2},
    {0xB78,0xB82,3}, {0xB83,0xB83,1}, {0xB84,0xB84,3}, {0xB85,0xB8A,1}, {0xB8B,0xB8D,3},
    {0xB8E,0xB90,1}, {0xB91,0xB91,3}, {0xB92,0xB95,1}, {0xB96,0xB98,3}, {0xB99,0xB9A,1},
    {0xB9B,0xB9B,3}, {0xB9C,0xB9C,1}, {0xB9D,0xB9D,3}, {0xB9E,0xB9F,1}, {0xBA0,0xBA2,3},
    {0xBA3,0xBA4,1}, {0xBA5,0xBA7,3}, {0xBA8,0xBAA,1}, {0xBAB,0xBAD,3}, {0xBAE,0xBB9,1},
    {0xBBA,0xBCF,3}, {0xBD0,0xBD0,1}, {0xBD1,0xBE5,3}, {0xBE6,0xBF2,2}, {0xBF3,0xC04,3},
    {0xC05,0xC0C,1}, {0xC0D,0xC0D,3}, {0xC0E,0xC10,1}, {0xC11,0xC11,3}, {0xC12,0xC28,1},
    {0xC29,0xC29,3}, {0xC2A,0xC39,1}, {0xC3A,0xC3C,3}, {0xC3D,0xC3D,1}, {0xC3E,0xC57,3},
    {0xC58,0xC5A,1}, {0xC5B,0xC5C,3}, {0xC5D,0xC5D,1}, {0xC5E,0xC5F,3}, {0xC60,0xC61,1},
    {0xC62,0xC65,3}, {0xC66,0xC6F,2}, {0xC70,0xC77,3}, {0xC78,0xC7E,2}, {0xC7F,0xC7F,3},
    {0xC80,0xC80,1}, {0xC81,0xC84,3}, {0xC85,0xC8C,1}, {0xC8D,0xC8D,3}, {0xC8E,0xC90,1},
    {0xC91,0xC91,3}, {0xC92,0xCA8,1}, {0xCA9,0xCA9,3}, {0xCAA,0xCB3,1}, {0xCB4,0xCB4,3},
    {0xCB5,0xCB9,1}, {0xCBA,0xCBC,3}, {0xCBD,0xCBD,1}, {0xCBE,0xCDC,3}, {0xCDD,0xCDE,1},
    {0xCDF,0xCDF,3}, {0xCE0,0xCE1,1}, {0xCE2,0xCE5,3}, {0xCE6,0xCEF,2}, {0xCF0,0xCF0,3},
    {0xCF1,0xCF2,1}, {0xCF3,0xD03,3}, {0xD04,0xD0C,1}, {0xD0D,0xD0D,3}, {0xD0E,0xD10,1},
    {0xD11,0xD11,3}, {0xD12,0xD3A,1}, {0xD3B,0xD3C,3}, {0xD3D,0xD3D,1}, {0xD3E,0xD4D,3},
    {0xD4E,0xD4E,1}, {0xD4F,0xD53,3}, {0xD54,0xD56,1}, {0xD57,0xD57,3}, {0xD58,0xD5E,2},
    {0xD5F,0xD61,1}, {0xD62,0xD65,3}, {0xD66,0xD78,2}, {0xD79,0xD79,3}, {0xD7A,0xD7F,1},
    {0xD80,0xD84,3}, {0xD85,0xD96,1}, {0xD97,0xD99,3}, {0xD9A,0xDB1,1}, {0xDB2,0xDB2,3},
    {0xDB3,0xDBB,1}, {0xDBC,0xDBC,3}, {0xDBD,0xDBD,1}, {0xDBE,0xDBF,3}, {0xDC0,0xDC6,1},
    {0xDC7,0xDE5,3}, {0xDE6,0xDEF,2}, {0xDF0,0xE00,3}, {0xE01,0xE30,1}, {0xE31,0xE31,3},
    {0xE32,0xE33,1}, {0xE34,0xE3F,3}, {0xE40,0xE46,1}, {0xE47,0xE4F,3}, {0xE50,0xE59,2},
    {0xE5A,0xE80,3}, {0xE81,0xE82,1}, {0xE83,0xE83,3}, {0xE84,0xE84,1}, {0xE85,0xE85,3},
    {0xE86,0xE8A,1}, {0xE8B,0xE8B,3}, {0xE8C,0xEA3,1}, {0xEA4,0xEA4,3}, {0xEA5,0xEA5,1},
    {0xEA6,0xEA6,3}, {0xEA7,0xEB0,1}, {0xEB1,0xEB1,3}, {0xEB2,0xEB3,1}, {0xEB4,0xEBC,3},
    {0xEBD,0xEBD,1}, {0xEBE,0xEBF,3}, {0xEC0,0xEC4,1}, {0xEC5,0xEC5,3}, {0xEC6,0xEC6,1},
    {0xEC7,0xECF,3}, {0xED0,0xED9,2}, {0xEDA,0xEDB,3}, {0xEDC,0xEDF,1}, {0xEE0,0xEFF,3},
    {0xF00,0xF00,1}, {0xF01,0xF1F,3}, {0xF20,0xF33,2}, {0xF34,0xF3F,3}, {0xF40,0xF47,1},
    {0xF48,0xF48,3}, {0xF49,0xF6C,1}, {0xF6D,0xF87,3}, {0xF88,0xF8C,1}, {0xF8D,0xFFF,3},
    {0x1000,0x102A,1}, {0x102B,0x103E,3}, {0x103F,0x103F,1}, {0x1040,0x1049,2}, {0x104A,0x104F,3},
    {0x1050,0x1055,1}, {0x1056,0x1059,3}, {0x105A,0x105D,1}, {0x105E,0x1060,3}, {0x1061,0x1061,1},
    {0x1062,0x1064,3}, {0x1065,0x1066,1}, {0x1067,0x106D,3}, {0x106E,0x1070,1}, {0x1071,0x1074,3},
    {0x1075,0x1081,1}, {0x1082,0x108D,3}, {0x108E,0x108E,1}, {0x108F,0x108F,3}, {0x1090,0x1099,2},
    {0x109A,0x109F,3}, {0x10A0,0x10C5,1}, {0x10C6,0x10C6,3}, {0x10C7,0x10C7,1}, {0x10C8,0x10CC,3},
    {0x10CD,0x10CD,1}, {0x10CE,0x10CF,3}, {0x10D0,0x10FA,1}, {0x10FB,0x10FB,3}, {0x10FC,0x1248,1},
    {0x1249,0x1249,3}, {0x124A,0x124D,1}, {0x124E,0x124F,3}, {0x1250,0x1256,1}, {0x1257,0x1257,3},
    {0x1258,0x1258,1}, {0x1259,0x1259,3}, {0x125A,0x125D,1}, {0x125E,0x125F,3}, {0x1260,0x1288,1},
    {0x1289,0x1289,3}, {0x128A,0x128D,1}, {0x128E,0x128F,3}, {0x1290,0x12B0,1}, {0x12B1,0x12B1,3},
    {0x12B2,0x12B5,1}, {0x12B6,0x12B7,3}, {0x12B8,0x12BE,1}, {0x12BF,0x12BF,3}, {0x12C0,0x12C0,1},
    {0x12C1,0x12C1,3}, {0x12C2,0x12C5,1}, {0x12C6,0x12C7,3}, {0x12C8,0x12D6,1}, {0x12D7,0x12D7,3},
    {0x12D8,0x1310,1}, {0x1311,0x1311,3}, {0x1312,0x1315,1}, {0x1316,0x1317,3}, {0x1318,0x135A,1},
    {0x135B,0x1368,3}, {0x1369,0x137C,2}, {0x137D,0x137F,3}, {0x1380,0x138F,1}, {0x1390,0x139F,3},
    {0x13A0,0x13F5,1}, {0x13F6,0x13F7,3}, {0x13F8,0x13FD,1}, {0x13FE,0x1400,3}, {0x1401,0x166C,1},
    {0x166D,0x166E,3}, {0x166F,0x167F,1}, {0x1681,0x169A,1}, {0x169B,0x169F,3}, {0x16A0,0x16EA,1},
    {0x16EB,0x16ED,3}, {0x16EE,0x16F0,2}, {0x16F1,0x16F8,1}, {0x16F9,0x16FF,3}, {0x1700,0x1711,1},
    {0x1712,0x171E,3}, {0x171F,0x1731,1}, {0x1732,0x173F,3}, {0x1740,0x1751,1}, {0x1752,0x175F,3},
    {0x1760,0x176C,1}, {0x176D,0x176D,3}, {0x176E,0x1770,1}, {0x1771,0x177F,3}, {0x1780,0x17B3,1},
    {0x17B4,0x17D6,3}, {0x17D7,0x17D7,1}, {0x17D8,0x17DB,3}, {0x17DC,0x17DC,1}, {0x17DD,0x17DF,3},
    {0x17E0,0x17E9,2}, {0x17EA,0x17EF,3}, {0x17F0,0x17F9,2}, {0x17FA,0x180F,3}, {0x1810,0x1819,2},
    {0x181A,0x181F,3}, {0x1820,0x1878,1}, {0x1879,0x187F,3}, {0x1880,0x1884,1}, {0x1885,0x1886,3},
    {0x1887,0x18A8,1}, {0x18A9,0x18A9,3}, {0x18AA,0x18AA,1}, {0x18AB,0x18AF,3}, {0x18B0,0x18F5,1},
    {0x18F6,0x18FF,3}, {0x1900,0x191E,1}, {0x191F,0x1945,3}, {0x1946,0x194F,2}, {0x1950,0x196D,1},
    {0x196E,0x196F,3}, {0x1970,0x1974,1}, {0x1975,0x197F,3}, {0x1980,0x19AB,1}, {0x19AC,0x19AF,3},
    {0x19B0,0x19C9,1}, {0x19CA,0x19CF,3}, {0x19D0,0x19DA,2}, {0x19DB,0x19FF,3}, {0x1A00,0x1A16,1},
    {0x1A17,0x1A1F,3}, {0x1A20,0x1A54,1}, {0x1A55,0x1A7F,3}, {0x1A80,0x1A89,2}, {0x1A8A,0x1A8F,3},
    {0x1A90,0x1A99,2}, {0x1A9A,0x1AA6,3}, {0x1AA7,0x1AA7,1}, {0x1AA8,0x1B04,3}, {0x1B05,0x1B33,1},
    {0x1B34,0x1B44,3}, {0x1B45,0x1B4C,1}, {0x1B4D,0x1B4F,3}, {0x1B50,0x1B59,2}, {0x1B5A,0x1B82,3},
    {0x1B83,0x1BA0,1}, {0x1BA1,0x1BAD,3}, {0x1BAE,0x1BAF,1}, {0x1BB0,0x1BB9,2}, {0x1BBA,0x1BE5,1},
    {0x1BE6,0x1BFF,3}, {0x1C00,0x1C23,1}, {0x1C24,0x1C3F,3}, {0x1C40,0x1C49,2}, {0x1C4A,0x1C4C,3},
    {0x1C4D,0x1C4F,1}, {0x1C50,0x1C59,2}, {0x1C5A,0x1C7D,1}, {0x1C7E,0x1C7F,3}, {0x1C80,0x1C88,1},
    {0x1C89,0x1C8F,3}, {0x1C90,0x1CBA,1}, {0x1CBB,0x1CBC,3}, {0x1CBD,0x1CBF,1}, {0x1CC0,0x1CE8,3},
    {0x1CE9,0x1CEC,1}, {0x1CED,0x1CED,3}, {0x1CEE,0x1CF3,1}, {0x1CF4,0x1CF4,3}, {0x1CF5,0x1CF6,1},
    {0x1CF7,0x1CF9,3}, {0x1CFA,0x1CFA,1}, {0x1CFB,0x1CFF,3}, {0x1D00,0x1DBF,1}, {0x1DC0,0x1DFF,3},
    {0x1E00,0x1F15,1}, {0x1F16,0x1F17,3}, {0x1F18,0x1F1D,1}, {0x1F1E,0x1F1F,3}, {0x1F20,0x1F45,1},
    {0x1F46,0x1F47,3}, {0x1F48,0x1F4D,1}, {0x1F4E,0x1F4F,3}, {0x1F50,0x1F57,1}, {0x1F58,0x1F58,3},
    {0x1F59,0x1F59,1}, {0x1F5A,0x1F5A,3}, {0x1F5B,0x1F5B,1}, {0x1F5C,0x1F5C,3}, {0x1F5D,0x1F5D,1},
    {0x1F5E,0x1F5E,3}, {0x1F5F,0x1F7D,1}, {0x1F7E,0x1F7F,3}, {0x1F80,0x1FB4,1}, {0x1FB5,0x1FB5,3},
    {0x1FB6,0x1FBC,1}, {0x1FBD,0x1FBD,3}, {0x1FBE,0x1FBE,1}, {0x1FBF,0x1FC1,3}, {0x1FC2,0x1FC4,1},
    {0x1FC5,0x1FC5,3}, {0x1FC6,0x1FCC,1}, {0x1FCD,0x1FCF,3}, {0x1FD0,0x1FD3,1}, {0x1FD4,0x1FD5,3},
    {0x1FD6,0x1FDB,1}, {0x1FDC,0x1FDF,3}, {0x1FE0,0x1FEC,1}, {0x1FED,0x1FF1,3}, {0x1FF2,0x1FF4,1},
    {0x1FF5,0x1FF5,3}, {0x1FF6,0x1FFC,1}, {0x1FFD,0x1FFF,3}, {0x200B,0x2027,3}, {0x202A,0x202E,3},
    {0x2030,0x205E,3}, {0x2060,0x206F,3}, {0x2070,0x2070,2}, {0x2071,0x2071,1}, {0x2072,0x2073,3},
    {0x2074,0x2079,2}, {0x207A,0x207E,3}, {0x207F,0x207F,1}, {0x2080,0x2089,2}, {0x208A,0x208F,3},
    {0x2090,0x209C,1}, {0x209D,0x2101,3}, {0x2102,0x2102,1}, {0x2103,0x2106,3}, {0x2107,0x2107,1},
    {0x2108,0x2109,3}, {0x210A,0x2113,1}, {0x2114,0x2114,3}, {0x2115,0x2115,1}, {0x2116,0x2118,3},
    {0x2119,0x211D,1}, {0x211E,0x2123,3}, {0x2124,0x2124,1}, {0x2125,0x2125,3}, {0x2126,0x2126,1},
    {0x2127,0x2127,3}, {0x2128,0x2128,1}, {0x2129,0x2129,3}, {0x212A,0x212D,1}, {0x212E,0x212E,3},
    {0x212F,0x2139,1}, {0x213A,0x213B,3}, {0x213C,0x213F,1}, {0x2140,0x2144,3}, {0x2145,0x2149,1},
    {0x214A,0x214D,3}, {0x214E,0x214E,1}, {0x214F,0x214F,3}, {0x2150,0x2182,2}, {0x2183,0x2184,1},
    {0x2185,0x2189,2}, {0x218A,0x245F,3}, {0x2460,0x249B,2}, {0x249C,0x24E9,3}, {0x24EA,0x24FF,2},
    {0x2500,0x2775,3}, {0x2776,0x2793,2}, {0x2794,0x2BFF,3}, {0x2C00,0x2CE4,1}, {0x2CE5,0x2CEA,3},
    {0x2CEB,0x2CEE,1}, {0x2CEF,0x2CF1,3}, {0x2CF2,0x2CF3,1}, {0x2CF4,0x2CFC,3}, {0x2CFD,0x2CFD,2},
    {0x2CFE,0x2CFF,3}, {0x2D00,0x2D25,1}, {0x2D26,0x2D26,3}, {0x2D27,0x2D27,1}, {0x2D28,0x2D2C,3},
    {0x2D2D,0x2D2D,1}, {0x2D2E,0x2D2F,3}, {0x2D30,0x2D67,1}, {0x2D68,0x2D6E,3}, {0x2D6F,0x2D6F,1},
    {0x2D70,0x2D7F,3}, {0x2D80,0x2D96,1}, {0x2D97,0x2D9F,3}, {0x2DA0,0x2DA6,1}, {0x2DA7,0x2DA7,3},
    {0x2DA8,0x2DAE,1}, {0x2DAF,0x2DAF,3}, {0x2DB0,0x2DB6,1}, {0x2DB7,0x2DB7,3}, {0x2DB8,0x2DBE,1},
    {0x2DBF,0x2DBF,3}, {0x2DC0,0x2DC6,1}, {0x2DC7,0x2DC7,3}, {0x2DC8,0x2DCE,1}, {0x2DCF,0x2DCF,3},
    {0x2DD0,0x2DD6,1}, {0x2DD7,0x2DD7,3}, {0x2DD8,0x2DDE,1}, {0x2DDF,0x2E2E,3}, {0x2E2F,0x2E2F,1},
    {0x2E30,0x2FFF,3}, {0x3001,0x3004,3}, {0x3005,0x3006,1}, {0x3007,0x3007,2}, {0x3008,0x3020,3},
    {0x3021,0x3029,2}, {0x302A,0x3030,3}, {0x3031,0x3035,1}, {0x3036,0x3037,3}, {0x3038,0x303A,2},
    {0x303B,0x303C,1}, {0x303D,0x3040,3}, {0x3041,0x3096,1}, {0x3097,0x309C,3}, {0x309D,0x309F,1},
    {0x30A0,0x30A0,3}, {0x30A1,0x30FA,1}, {0x30FB,0x30FB,3}, {0x30FC,0x30FF,1}, {0x3100,0x3104,3},
    {0x3105,0x312F,1}, {0x3130,0x3130,3}, {0x3131,0x318E,1}, {0x318F,0x3191,3}, {0x3192,0x3195,2},
    {0x3196,0x319F,3}, {0x31A0,0x31BF,1}, {0x31C0,0x31EF,3}, {0x31F0,0x31FF,1}, {0x3200,0x321F,3},
    {0x3220,0x3229,2}, {0x322A,0x3247,3}, {0x3248,0x324F,2}, {0x3250,0x3250,3}, {0x3251,0x325F,2},
    {0x3260,0x327F,3}, {0x3280,0x3289,2}, {0x328A,0x32B0,3}, {0x32B1,0x32BF,2}, {0x32C0,0x33FF,3},
    {0x3400,0x4DBF,1}, {0x4DC0,0x4DFF,3}, {0x4E00,0xA48C,1}, {0xA48D,0xA4CF,3}, {0xA4D0,0xA4FD,1},
    {0xA4FE,0xA4FF,3}, {0xA500,0xA60C,1}, {0xA60D,0xA60F,3}, {0xA610,0xA61F,1}, {0xA620,0xA629,2},
    {0xA62A,0xA62B,1}, {0xA62C,0xA63F,3}, {0xA640,0xA66E,1}, {0xA66F,0xA67E,3}, {0xA67F,0xA69D,1},
    {0xA69E,0xA69F,3}, {0xA6A0,0xA6E5,1}, {0xA6E6,0xA6EF,2}, {0xA6F0,0xA716,3}, {0xA717,0xA71F,1},
    {0xA720,0xA721,3}, {0xA722,0xA788,1}, {0xA789,0xA78A,3}, {0xA78B,0xA7CA,1}, {0xA7CB,0xA7CF,3},
    {0xA7D0,0xA7D1,1}, {0xA7D2,0xA7D2,3}, {0xA7D3,0xA7D3,1}, {0xA7D4,0xA7D4,3}, {0xA7D5,0xA7D9,1},
    {0xA7DA,0xA7F1,3}, {0xA7F2,0xA801,1}, {0xA802,0xA802,3}, {0xA803,0xA805,1}, {0xA806,0xA806,3},
    {0xA807,0xA80A,1}, {0xA80B,0xA80B,3}, {0xA80C,0xA822,1}, {0xA823,0xA82F,3}, {0xA830,0xA835,2},
    {0xA836,0xA83F,3}, {0xA840,0xA873,1}, {0xA874,0xA881,3}, {0xA882,0xA8B3,1}, {0xA8B4,0xA8CF,3},
    {0xA8D0,0xA8D9,2}, {0xA8DA,0xA8F1,3}, {0xA8F2,0xA8F7,1}, {0xA8F8,0xA8FA,3}, {0xA8FB,0xA8FB,1},
    {0xA8FC,0xA8FC,3}, {0xA8FD,0xA8FE,1}, {0xA8FF,0xA8FF,3}, {0xA900,0xA909,2}, {0xA90A,0xA925,1},
    {0xA926,0xA92F,3}, {0xA930,0xA946,1}, {0xA947,0xA95F,3}, {0xA960,0xA97C,1}, {0xA97D,0xA983,3},
    {0xA984,0xA9B2,1}, {0xA9B3,0xA9CE,3}, {0xA9CF,0xA9CF,1}, {0xA9D0,0xA9D9,2}, {0xA9DA,0xA9DF,3},
    {0xA9E0,0xA9E4,1}, {0xA9E5,0xA9E5,3}, {0xA9E6,0xA9EF,1}, {0xA9F0,0xA9F9,2}, {0xA9FA,0xA9FE,1},
    {0xA9FF,0xA9FF,3}, {0xAA00,0xAA28,1}, {0xAA29,0xAA3F,3}, {0xAA40,0xAA42,1}, {0xAA43,0xAA43,3},
    {0xAA44,0xAA4B,1}, {0xAA4C,0xAA4F,3}, {0xAA50,0xAA59,2}, {0xAA5A,0xAA5F,3}, {0xAA60,0xAA76,1},
    {0xAA77,0xAA79,3}, {0xAA7A,0xAA7A,1}, {0xAA7B,0xAA7D,3}, {0xAA7E,0xAAAF,1}, {0xAAB0,0xAAB0,3},
    {0xAAB1,0xAAB1,1}, {0xAAB2,0xAAB4,3}, {0xAAB5,0xAAB6,1}, {0xAAB7,0xAAB8,3}, {0xAAB9,0xAABD,1},
    {0xAABE,0xAABF,3}, {0xAAC0,0xAAC0,1}, {0xAAC1,0xAAC1,3}, {0xAAC2,0xAAC2,1}, {0xAAC3,0xAADA,3},
    {0xAADB,0xAADD,1}, {0xAADE,0xAADF,3}, {0xAAE0,0xAAEA,1}, {0xAAEB,0xAAF1,3}, {0xAAF2,0xAAF4,1},
    {0xAAF5,0xAB00,3}, {0xAB01,0xAB06,1}, {0xAB07,0xAB08,3}, {0xAB09,0xAB0E,1}, {0xAB0F,0xAB10,3},
    {0xAB11,0xAB16,1}, {0xAB17,0xAB1F,3}, {0xAB20,0xAB26,1}, {0xAB27,0xAB27,3}, {0xAB28,0xAB2E,1},
    {0xAB2F,0xAB2F,3}, {0xAB30,0xAB5A,1}, {0xAB5B,0xAB5B,3}, {0xAB5C,0xAB69,1}, {0xAB6A,0xAB6F,3},
    {0xAB70,0xABE2,1}, {0xABE3,0xABEF,3}, {0xABF0,0xABF9,2}, {0xABFA,0xABFF,3}, {0xAC00,0xD7A3,1},
    {0xD7A4,0xD7AF,3}, {0xD7B0,0xD7C6,1}, {0xD7C7,0xD7CA,3}, {0xD7CB,0xD7FB,1}, {0xD7FC,0xD7FF,3},
    {0xE000,0xF8FF,3}, {0xF900,0xFA6D,1}, {0xFA6E,0xFA6F,3}, {0xFA70,0xFAD9,1}, {0xFADA,0xFAFF,3},
    {0xFB00,0xFB06,1}, {0xFB07,0xFB12,3}, {0xFB13,0xFB17,1}, {0xFB18,0xFB1C,3}, {0xFB1D,0xFB1D,1},
    {0xFB1E,0xFB1E,3}, {0xFB1F,0xFB28,1}, {0xFB29,0xFB29,3}, {0xFB2A,0xFB36,1}, {0xFB37,0xFB37,3},
    {0xFB38,0xFB3C,1}, {0xFB3D,0xFB3D,3}, {0xFB3E,0xFB3E,1}, {0xFB3F,0xFB3F,3}, {0xFB40,0xFB41,1},
    {0xFB42,0xFB42,3}, {0xFB43,0xFB44,1}, {0xFB45,0xFB45,3}, {0xFB46,0xFBB1,1}, {0xFBB2,0xFBD2,3},
    {0xFBD3,0xFD3D,1}, {0xFD3E,0xFD4F,3}, {0xFD50,0xFD8F,1}, {0xFD90,0xFD91,3}, {0xFD92,0xFDC7,1},
    {0xFDC8,0xFDEF,3}, {0xFDF0,0xFDFB,1}, {0xFDFC,0xFE6F,3}, {0xFE70,0xFE74,1}, {0xFE75,0xFE75,3},
    {0xFE76,0xFEFC,1}, {0xFEFD,0xFF0F,3}, {0xFF10,0xFF19,2}, {0xFF1A,0xFF20,3}, {0xFF21,0xFF3A,1},
    {0xFF3B,0xFF40,3}, {0xFF41,0xFF5A,1}, {0xFF5B,0xFF65,3}, {0xFF66,0xFFBE,1}, {0xFFBF,0xFFC1,3},
    {0xFFC2,0xFFC7,1}, {0xFFC8,0xFFC9,3}, {0xFFCA,0xFFCF,1}, {0xFFD0,0xFFD1,3}, {0xFFD2,0xFFD7,1},
    {0xFFD8,0xFFD9,3}, {0xFFDA,0xFFDC,1}, {0xFFDD,0xFFFF,3}, {0x10000,0x1000B,1}, {0x1000C,0x1000C,3},
    {0x1000D,0x10026,1}, {0x10027,0x10027,3}, {0x10028,0x1003A,1}, {0x1003B,0x1003B,3}, {0x1003C,0x1003D,1},
    {0x1003E,0x1003E,3}, {0x1003F,0x1004D,1}, {0x1004E,0x1004F,3}, {0x10050,0x1005D,1}, {0x1005E,0x1007F,3},
    {0x10080,0x100FA,1}, {0x100FB,0x10106,3}, {0x10107,0x10133,2}, {0x10134,0x1013F,3}, {0x10140,0x10178,2},
    {0x10179,0x10189,3}, {0x1018A,0x1018B,2}, {0x1018C,0x1027F,3}, {0x10280,0x1029C,1}, {0x1029D,0x1029F,3},
    {0x102A0,0x102D0,1}, {0x102D1,0x102E0,3}, {0x102E1,0x102FB,2}, {0x102FC,0x102FF,3}, {0x10300,0x1031F,1},
    {0x10320,0x10323,2}, {0x10324,0x1032C,3}, {0x1032D,0x10340,1}, {0x10341,0x10341,2}, {0x10342,0x10349,1},
    {0x1034A,0x1034A,2}, {0x1034B,0x1034F,3}, {0x10350,0x10375,1}, {0x10376,0x1037F,3}, {0x10380,0x1039D,1},
    {0x1039E,0x1039F,3}, {0x103A0,0x103C3,1}, {0x103C4,0x103C7,3}, {0x103C8,0x103CF,1}, {0x103D0,0x103D0,3},
    {0x103D1,0x103D5,2}, {0x103D6,0x103FF,3}, {0x10400,0x1049D,1}, {0x1049E,0x1049F,3}, {0x104A0,0x104A9,2},
    {0x104AA,0x104AF,3}, {0x104B0,0x104D3,1}, {0x104D4,0x104D7,3}, {0x104D8,0x104FB,1}, {0x104FC,0x104FF,3},
    {0x10500,0x10527,1}, {0x10528,0x1052F,3}, {0x10530,0x10563,1}, {0x10564,0x1056F,3}, {0x10570,0x1057A,1},
    {0x1057B,0x1057B,3}, {0x1057C,0x1058A,1}, {0x1058B,0x1058B,3}, {0x1058C,0x10592,1}, {0x10593,0x10593,3},
    {0x10594,0x10595,1}, {0x10596,0x10596,3}, {0x10597,0x105A1,1}, {0x105A2,0x105A2,3}, {0x105A3,0x105B1,1},
    {0x105B2,0x105B2,3}, {0x105B3,0x105B9,1}, {0x105BA,0x105BA,3}, {0x105BB,0x105BC,1}, {0x105BD,0x105FF,3},
    {0x10600,0x10736,1}, {0x10737,0x1073F,3}, {0x10740,0x10755,1}, {0x10756,0x1075F,3}, {0x10760,0x10767,1},
    {0x10768,0x1077F,3}, {0x10780,0x10785,1}, {0x10786,0x10786,3}, {0x10787,0x107B0,1}, {0x107B1,0x107B1,3},
    {0x107B2,0x107BA,1}, {0x107BB,0x107FF,3}, {0x10800,0x10805,1}, {0x10806,0x10807,3}, {0x10808,0x10808,1},
    {0x10809,0x10809,3}, {0x1080A,0x10835,1}, {0x10836,0x10836,3}, {0x10837,0x10838,1}, {0x10839,0x1083B,3},
    {0x1083C,0x1083C,1}, {0x1083D,0x1083E,3}, {0x1083F,0x10855,1}, {0x10856,0x10857,3}, {0x10858,0x1085F,2},
    {0x10860,0x10876,1}, {0x10877,0x10878,3}, {0x10879,0x1087F,2}, {0x10880,0x1089E,1}, {0x1089F,0x108A6,3},
    {0x108A7,0x108AF,2}, {0x108B0,0x108DF,3}, {0x108E0,0x108F2,1}, {0x108F3,0x108F3,3}, {0x108F4,0x108F5,1},
    {0x108F6,0x108FA,3}, {0x108FB,0x108FF,2}, {0x10900,0x10915,1}, {0x10916,0x1091B,2}, {0x1091C,0x1091F,3},
    {0x10920,0x10939,1}, {0x1093A,0x1097F,3}, {0x10980,0x109B7,1}, {0x109B8,0x109BB,3}, {0x109BC,0x109BD,2},
    {0x109BE,0x109BF,1}, {0x109C0,0x109CF,2}, {0x109D0,0x109D1,3}, {0x109D2,0x109FF,2}, {0x10A00,0x10A00,1},
    {0x10A01,0x10A0F,3}, {0x10A10,0x10A13,1}, {0x10A14,0x10A14,3}, {0x10A15,0x10A17,1}, {0x10A18,0x10A18,3},
    {0x10A19,0x10A35,1}, {0x10A36,0x10A3F,3}, {0x10A40,0x10A48,2}, {0x10A49,0x10A5F,3}, {0x10A60,0x10A7C,1},
    {0x10A7D,0x10A7E,2}, {0x10A7F,0x10A7F,3}, {0x10A80,0x10A9C,1}, {0x10A9D,0x10A9F,2}, {0x10AA0,0x10ABF,3},
    {0x10AC0,0x10AC7,1}, {0x10AC8,0x10AC8,3}, {0x10AC9,0x10AE4,1}, {0x10AE5,0x10AEA,3}, {0x10AEB,0x10AEF,2},
    {0x10AF0,0x10AFF,3}, {0x10B00,0x10B35,1}, {0x10B36,0x10B3F,3}, {0x10B40,0x10B55,1}, {0x10B56,0x10B57,3},
    {0x10B58,0x10B5F,2}, {0x10B60,0x10B72,1}, {0x10B73,0x10B77,3}, {0x10B78,0x10B7F,2}, {0x10B80,0x10B91,1},
    {0x10B92,0x10BA8,3}, {0x10BA9,0x10BAF,2}, {0x10BB0,0x10BFF,3}, {0x10C00,0x10C48,1}, {0x10C49,0x10C7F,3},
    {0x10C80,0x10CB2,1}, {0x10CB3,0x10CBF,3}, {0x10CC0,0x10CF2,1}, {0x10CF3,0x10CF9,3}, {0x10CFA,0x10CFF,2},
    {0x10D00,0x10D23,1}, {0x10D24,0x10D2F,3}, {0x10D30,0x10D39,2}, {0x10D3A,0x10E5F,3}, {0x10E60,0x10E7E,2},
    {0x10E7F,0x10E7F,3}, {0x10E80,0x10EA9,1}, {0x10EAA,0x10EAF,3}, {0x10EB0,0x10EB1,1}, {0x10EB2,0x10EFF,3},
    {0x10F00,0x10F1C,1}, {0x10F1D,0x10F26,2}, {0x10F27,0x10F27,1}, {0x10F28,0x10F2F,3}, {0x10F30,0x10F45,1},
    {0x10F46,0x10F50,3}, {0x10F51,0x10F54,2}, {0x10F55,0x10F6F,3}, {0x10F70,0x10F81,1}, {0x10F82,0x10FAF,3},
    {0x10FB0,0x10FC4,1}, {0x10FC5,0x10FCB,2}, {0x10FCC,0x10FDF,3}, {0x10FE0,0x10FF6,1}, {0x10FF7,0x11002,3},
    {0x11003,0x11037,1}, {0x11038,0x11051,3}, {0x11052,0x1106F,2}, {0x11070,0x11070,3}, {0x11071,0x11072,1},
    {0x11073,0x11074,3}, {0x11075,0x11075,1}, {0x11076,0x11082,3}, {0x11083,0x110AF,1}, {0x110B0,0x110CF,3},
    {0x110D0,0x110E8,1}, {0x110E9,0x110EF,3}, {0x110F0,0x110F9,2}, {0x110FA,0x11102,3}, {0x11103,0x11126,1},
    {0x11127,0x11135,3}, {0x11136,0x1113F,2}, {0x11140,0x11143,3}, {0x11144,0x11144,1}, {0x11145,0x11146,3},
    {0x11147,0x11147,1}, {0x11148,0x1114F,3}, {0x11150,0x11172,1}, {0x11173,0x11175,3}, {0x11176,0x11176,1},
    {0x11177,0x11182,3}, {0x11183,0x111B2,1}, {0x111B3,0x111C0,3}, {0x111C1,0x111C4,1}, {0x111C5,0x111CF,3},
    {0x111D0,0x111D9,2}, {0x111DA,0x111DA,1}, {0x111DB,0x111DB,3}, {0x111DC,0x111DC,1}, {0x111DD,0x111E0,3},
    {0x111E1,0x111F4,2}, {0x111F5,0x111FF,3}, {0x11200,0x11211,1}, {0x11212,0x11212,3}, {0x11213,0x1122B,1},
    {0x1122C,0x1123E,3}, {0x1123F,0x11240,1}, {0x11241,0x1127F,3}, {0x11280,0x11286,1}, {0x11287,0x11287,3},
    {0x11288,0x11288,1}, {0x11289,0x11289,3}, {0x1128A,0x1128D,1}, {0x1128E,0x1128E,3}, {0x1128F,0x1129D,1},
    {0x1129E,0x1129E,3}, {0x1129F,0x112A8,1}, {0x112A9,0x112AF,3}, {0x112B0,0x112DE,1}, {0x112DF,0x112EF,3},
    {0x112F0,0x112F9,2}, {0x112FA,0x11304,3}, {0x11305,0x1130C,1}, {0x1130D,0x1130E,3}, {0x1130F,0x11310,1},
    {0x11311,0x11312,3}, {0x11313,0x11328,1}, {0x11329,0x11329,3}, {0x1132A,0x11330,1}, {0x11331,0x11331,3},
    {0x11332,0x11333,1}, {0x11334,0x11334,3}, {0x11335,0x11339,1}, {0x1133A,0x1133C,3}, {0x1133D,0x1133D,1},
    {0x1133E,0x1134F,3}, {0x11350,0x11350,1}, {0x11351,0x1135C,3}, {0x1135D,0x11361,1}, {0x11362,0x113FF,3},
    {0x11400,0x11434,1}, {0x11435,0x11446,3}, {0x11447,0x1144A,1}, {0x1144B,0x1144F,3}, {0x11450,0x11459,2},
    {0x1145A,0x1145E,3}, {0x1145F,0x11461,1}, {0x11462,0x1147F,3}, {0x11480,0x114AF,1}, {0x114B0,0x114C3,3},
    {0x114C4,0x114C5,1}, {0x114C6,0x114C6,3}, {0x114C7,0x114C7,1}, {0x114C8,0x114CF,3}, {0x114D0,0x114D9,2},
    {0x114DA,0x1157F,3}, {0x11580,0x115AE,1}, {0x115AF,0x115D7,3}, {0x115D8,0x115DB,1}, {0x115DC,0x115FF,3},
    {0x11600,0x1162F,1}, {0x11630,0x11643,3}, {0x11644,0x11644,1}, {0x11645,0x1164F,3}, {0x11650,0x11659,2},
    {0x1165A,0x1167F,3}, {0x11680,0x116AA,1}, {0x116AB,0x116B7,3}, {0x116B8,0x116B8,1}, {0x116B9,0x116BF,3},
    {0x116C0,0x116C9,2}, {0x116CA,0x116FF,3}, {0x11700,0x1171A,1}, {0x1171B,0x1172F,3}, {0x11730,0x1173B,2},
    {0x1173C,0x1173F,3}, {0x11740,0x11746,1}, {0x11747,0x117FF,3}, {0x11800,0x1182B,1}, {0x1182C,0x1189F,3},
    {0x118A0,0x118DF,1}, {0x118E0,0x118F2,2}, {0x118F3,0x118FE,3}, {0x118FF,0x11906,1}, {0x11907,0x11908,3},
    {0x11909,0x11909,1}, {0x1190A,0x1190B,3}, {0x1190C,0x11913,1}, {0x11914,0x11914,3}, {0x11915,0x11916,1},
    {0x11917,0x11917,3}, {0x11918,0x1192F,1}, {0x11930,0x1193E,3}, {0x1193F,0x1193F,1}, {0x11940,0x11940,3},
    {0x11941,0x11941,1}, {0x11942,0x1194F,3}, {0x11950,0x11959,2}, {0x1195A,0x1199F,3}, {0x119A0,0x119A7,1},
    {0x119A8,0x119A9,3}, {0x119AA,0x119D0,1}, {0x119D1,0x119E0,3}, {0x119E1,0x119E1,1}, {0x119E2,0x119E2,3},
    {0x119E3,0x119E3,1}, {0x119E4,0x119FF,3}, {0x11A00,0x11A00,1}, {0x11A01,0x11A0A,3}, {0x11A0B,0x11A32,1},
    {0x11A33,0x11A39,3}, {0x11A3A,0x11A3A,1}, {0x11A3B,0x11A4F,3}, {0x11A50,0x11A50,1}, {0x11A51,0x11A5B,3},
    {0x11A5C,0x11A89,1}, {0x11A8A,0x11A9C,3}, {0x11A9D,0x11A9D,1}, {0x11A9E,0x11AAF,3}, {0x11AB0,0x11AF8,1},
    {0x11AF9,0x11BFF,3}, {0x11C00,0x11C08,1}, {0x11C09,0x11C09,3}, {0x11C0A,0x11C2E,1}, {0x11C2F,0x11C3F,3},
    {0x11C40,0x11C40,1}, {0x11C41,0x11C4F,3}, {0x11C50,0x11C6C,2}, {0x11C6D,0x11C71,3}, {0x11C72,0x11C8F,1},
    {0x11C90,0x11CFF,3}, {0x11D00,0x11D06,1}, {0x11D07,0x11D07,3}, {0x11D08,0x11D09,1}, {0x11D0A,0x11D0A,3},
    {0x11D0B,0x11D30,1}, {0x11D31,0x11D45,3}, {0x11D46,0x11D46,1}, {0x11D47,0x11D4F,3}, {0x11D50,0x11D59,2},
    {0x11D5A,0x11D5F,3}, {0x11D60,0x11D65,1}, {0x11D66,0x11D66,3}, {0x11D67,0x11D68,1}, {0x11D69,0x11D69,3},
    {0x11D6A,0x11D89,1}, {0x11D8A,0x11D97,3}, {0x11D98,0x11D98,1}, {0x11D99,0x11D9F,3}, {0x11DA0,0x11DA9,2},
    {0x11DAA,0x11EDF,3}, {0x11EE0,0x11EF2,1}, {0x11EF3,0x11F01,3}, {0x11F02,0x11F02,1}, {0x11F03,0x11F03,3},
    {0x11F04,0x11F10,1}, {0x11F11,0x11F11,3}, {0x11F12,0x11F33,1}, {0x11F34,0x11F4F,3}, {0x11F50,0x11F59,2},
    {0x11F5A,0x11FAF,3}, {0x11FB0,0x11FB0,1}, {0x11FB1,0x11FBF,3}, {0x11FC0,0x11FD4,2}, {0x11FD5,0x11FFF,3},
    {0x12000,0x12399,1}, {0x1239A,0x123FF,3}, {0x12400,0x1246E,2}, {0x1246F,0x1247F,3}, {0x12480,0x12543,1},
    {0x12544,0x12F8F,3}, {0x12F90,0x12FF0,1}, {0x12FF1,0x12FFF,3}, {0x13000,0x1342F,1}, {0x13430,0x13440,3},
    {0x13441,0x13446,1}, {0x13447,0x143FF,3}, {0x14400,0x14646,1}, {0x14647,0x167FF,3}, {0x16800,0x16A38,1},
    {0x16A39,0x16A3F,3}, {0x16A40,0x16A5E,1}, {0x16A5F,0x16A5F,3}, {0x16A60,0x16A69,2}, {0x16A6A,0x16A6F,3},
    {0x16A70,0x16ABE,1}, {0x16ABF,0x16ABF,3}, {0x16AC0,0x16AC9,2}, {0x16ACA,0x16ACF,3}, {0x16AD0,0x16AED,1},
    {0x16AEE,0x16AFF,3}, {0x16B00,0x16B2F,1}, {0x16B30,0x16B3F,3}, {0x16B40,0x16B43,1}, {0x16B44,0x16B4F,3},
    {0x16B50,0x16B59,2}, {0x16B5A,0x16B5A,3}, {0x16B5B,0x16B61,2}, {0x16B62,0x16B62,3}, {0x16B63,0x16B77,1},
    {0x16B78,0x16B7C,3}, {0x16B7D,0x16B8F,1}, {0x16B90,0x16E3F,3}, {0x16E40,0x16E7F,1}, {0x16E80,0x16E96,2},
    {0x16E97,0x16EFF,3}, {0x16F00,0x16F4A,1}, {0x16F4B,0x16F4F,3}, {0x16F50,0x16F50,1}, {0x16F51,0x16F92,3},
    {0x16F93,0x16F9F,1}, {0x16FA0,0x16FDF,3}, {0x16FE0,0x16FE1,1}, {0x16FE2,0x16FE2,3}, {0x16FE3,0x16FE3,1},
    {0x16FE4,0x16FFF,3}, {0x17000,0x187F7,1}, {0x187F8,0x187FF,3}, {0x18800,0x18CD5,1}, {0x18CD6,0x18CFF,3},
    {0x18D00,0x18D08,1}, {0x18D09,0x1AFEF,3}, {0x1AFF0,0x1AFF3,1}, {0x1AFF4,0x1AFF4,3}, {0x1AFF5,0x1AFFB,1},
    {0x1AFFC,0x1AFFC,3}, {0x1AFFD,0x1AFFE,1}, {0x1AFFF,0x1AFFF,3}, {0x1B000,0x1B122,1}, {0x1B123,0x1B131,3},
    {0x1B132,0x1B132,1}, {0x1B133,0x1B14F,3}, {0x1B150,0x1B152,1}, {0x1B153,0x1B154,3}, {0x1B155,0x1B155,1},
    {0x1B156,0x1B163,3}, {0x1B164,0x1B167,1}, {0x1B168,0x1B16F,3}, {0x1B170,0x1B2FB,1}, {0x1B2FC,0x1BBFF,3},
    {0x1BC00,0x1BC6A,1}, {0x1BC6B,0x1BC6F,3}, {0x1BC70,0x1BC7C,1}, {0x1BC7D,0x1BC7F,3}, {0x1BC80,0x1BC88,1},
    {0x1BC89,0x1BC8F,3}, {0x1BC90,0x1BC99,1}, {0x1BC9A,0x1D2BF,3}, {0x1D2C0,0x1D2D3,2}, {0x1D2D4,0x1D2DF,3},
    {0x1D2E0,0x1D2F3,2}, {0x1D2F4,0x1D35F,3}, {0x1D360,0x1D378,2}, {0x1D379,0x1D3FF,3}, {0x1D400,0x1D454,1},
    {0x1D455,0x1D455,3}, {0x1D456,0x1D49C,1}, {0x1D49D,0x1D49D,3}, {0x1D49E,0x1D49F,1}, {0x1D4A0,0x1D4A1,3},
    {0x1D4A2,0x1D4A2,1}, {0x1D4A3,0x1D4A4,3}, {0x1D4A5,0x1D4A6,1}, {0x1D4A7,0x1D4A8,3}, {0x1D4A9,0x1D4AC,1},
    {0x1D4AD,0x1D4AD,3}, {0x1D4AE,0x1D4B9,1}, {0x1D4BA,0x1D4BA,3}, {0x1D4BB,0x1D4BB,1}, {0x1D4BC,0x1D4BC,3},
    {0x1D4BD,0x1D4C3,1}, {0x1D4C4,0x1D4C4,3}, {0x1D4C5,0x1D505,1}, {0x1D506,0x1D506,3}, {0x1D507,0x1D50A,1},
    {0x1D50B,0x1D50C,3}, {0x1D50D,0x1D514,1}, {0x1D515,0x1D515,3}, {0x1D516,0x1D51C,1}, {0x1D51D,0x1D51D,3},
    {0x1D51E,0x1D539,1}, {0x1D53A,0x1D53A,3}, {0x1D53B,0x1D53E,1}, {0x1D53F,0x1D53F,3}, {0x1D540,0x1D544,1},
    {0x1D545,0x1D545,3}, {0x1D546,0x1D546,1}, {0x1D547,0x1D549,3}, {0x1D54A,0x1D550,1}, {0x1D551,0x1D551,3},
    {0x1D552,0x1D6A5,1}, {0x1D6A6,0x1D6A7,3}, {0x1D6A8,0x1D6C0,1}, {0x1D6C1,0x1D6C1,3}, {0x1D6C2,0x1D6DA,1},
    {0x1D6DB,0x1D6DB,3}, {0x1D6DC,0x1D6FA,1}, {0x1D6FB,0x1D6FB,3}, {0x1D6FC,0x1D714,1}, {0x1D715,0x1D715,3},
    {0x1D716,0x1D734,1}, {0x1D735,0x1D735,3}, {0x1D736,0x1D74E,1}, {0x1D74F,0x1D74F,3}, {0x1D750,0x1D76E,1},
    {0x1D76F,0x1D76F,3}, {0x1D770,0x1D788,1}, {0x1D789,0x1D789,3}, {0x1D78A,0x1D7A8,1}, {0x1D7A9,0x1D7A9,3},
    {0x1D7AA,0x1D7C2,1}, {0x1D7C3,0x1D7C3,3}, {0x1D7C4,0x1D7CB,1}, {0x1D7CC,0x1D7CD,3}, {0x1D7CE,0x1D7FF,2},
    {0x1D800,0x1DEFF,3}, {0x1DF00,0x1DF1E,1}, {0x1DF1F,0x1DF24,3}, {0x1DF25,0x1DF2A,1}, {0x1DF2B,0x1E02F,3},
    {0x1E030,0x1E06D,1}, {0x1E06E,0x1E0FF,3}, {0x1E100,0x1E12C,1}, {0x1E12D,0x1E136,3}, {0x1E137,0x1E13D,1},
    {0x1E13E,0x1E13F,3}, {0x1E140,0x1E149,2}, {0x1E14A,0x1E14D,3}, {0x1E14E,0x1E14E,1}, {0x1E14F,0x1E28F,3},
    {0x1E290,0x1E2AD,1}, {0x1E2AE,0x1E2BF,3}, {0x1E2C0,0x1E2EB,1}, {0x1E2EC,0x1E2EF,3}, {0x1E2F0,0x1E2F9,2},
    {0x1E2FA,0x1E4CF,3}, {0x1E4D0,0x1E4EB,1}, {0x1E4EC,0x1E4EF,3}, {0x1E4F0,0x1E4F9,2}, {0x1E4FA,0x1E7DF,3},
    {0x1E7E0,0x1E7E6,1}, {0x1E7E7,0x1E7E7,3}, {0x1E7E8,0x1E7EB,1}, {0x1E7EC,0x1E7EC,3}, {0x1E7ED,0x1E7EE,1},
    {0x1E7EF,0x1E7EF,3}, {0x1E7F0,0x1E7FE,1}, {0x1E7FF,0x1E7FF,3}, {0x1E800,0x1E8C4,1}, {0x1E8C5,0x1E8C6,3},
    {0x1E8C7,0x1E8CF,2}, {0x1E8D0,0x1E8FF,3}, {0x1E900,0x1E943,1}, {0x1E944,0x1E94A,3}, {0x1E94B,0x1E94B,1},
    {0x1E94C,0x1E94F,3}, {0x1E950,0x1E959,2}, {0x1E95A,0x1EC70,3}, {0x1EC71,0x1ECAB,2}, {0x1ECAC,0x1ECAC,3},
    {0x1ECAD,0x1ECAF,2}, {0x1ECB0,0x1ECB0,3}, {0x1ECB1,0x1ECB4,2}, {0x1ECB5,0x1ED00,3}, {0x1ED01,0x1ED2D,2},
    {0x1ED2E,0x1ED2E,3}, {0x1ED2F,0x1ED3D,2}, {0x1ED3E,0x1EDFF,3}, {0x1EE00,0x1EE03,1}, {0x1EE04,0x1EE04,3},
    {0x1EE05,0x1EE1F,1}, {0x1EE20,0x1EE20,3}, {0x1EE21,0x1EE22,1}, {0x1EE23,0x1EE23,3}, {0x1EE24,0x1EE24,1},
    {0x1EE25,0x1EE26,3}, {0x1EE27,0x1EE27,1}, {0x1EE28,0x1EE28,3}, {0x1EE29,0x1EE32,1}, {0x1EE33,0x1EE33,3},
    {0x1EE34,0x1EE37,1}, {0x1EE38,0x1EE38,3}, {0x1EE39,0x1EE39,1}, {0x1EE3A,0x1EE3A,3}, {0x1EE3B,0x1EE3B,1},
    {0x1EE3C,0x1EE41,3}, {0x1EE42,0x1EE42,1}, {0x1EE43,0x1EE46,3}, {0x1EE47,0x1EE47,1}, {0x1EE48,0x1EE48,3},
    {0x1EE49,0x1EE49,1}, {0x1EE4A,0x1EE4A,3}, {0x1EE4B,0x1EE4B,1}, {0x1EE4C,0x1EE4C,3}, {0x1EE4D,0x1EE4F,1},
    {0x1EE50,0x1EE50,3}, {0x1EE51,0x1EE52,1}, {0x1EE53,0x1EE53,3}, {0x1EE54,0x1EE54,1}, {0x1EE55,0x1EE56,3},
    {0x1EE57,0x1EE57,1}, {0x1EE58,0x1EE58,3}, {0x1EE59,0x1EE59,1}, {0x1EE5A,0x1EE5A,3}, {0x1EE5B,0x1EE5B,1},
    {0x1EE5C,0x1EE5C,3}, {0x1EE5D,0x1EE5D,1}, {0x1EE5E,0x1EE5E,3}, {0x1EE5F,0x1EE5F,1}, {0x1EE60,0x1EE60,3},
    {0x1EE61,0x1EE62,1}, {0x1EE63,0x1EE63,3}, {0x1EE64,0x1EE64,1}, {0x1EE65,0x1EE66,3}, {0x1EE67,0x1EE6A,1},
    {0x1EE6B,0x1EE6B,3}, {0x1EE6C,0x1EE72,1}, {0x1EE73,0x1EE73,3}, {0x1EE74,0x1EE77,1}, {0x1EE78,0x1EE78,3},
    {0x1EE79,0x1EE7C,1}, {0x1EE7D,0x1EE7D,3}, {0x1EE7E,0x1EE7E,1}, {0x1EE7F,0x1EE7F,3}, {0x1EE80,0x1EE89,1},
    {0x1EE8A,0x1EE8A,3}, {0x1EE8B,0x1EE9B,1}, {0x1EE9C,0x1EEA0,3}, {0x1EEA1,0x1EEA3,1}, {0x1EEA4,0x1EEA4,3},
    {0x1EEA5,0x1EEA9,1}, {0x1EEAA,0x1EEAA,3}, {0x1EEAB,0x1EEBB,1}, {0x1EEBC,0x1F0FF,3}, {0x1F100,0x1F10C,2},
    {0x1F10D,0x1FBEF,3}, {0x1FBF0,0x1FBF9,2}, {0x1FBFA,0x1FFFF,3}, {0x20000,0x2A6DF,1}, {0x2A6E0,0x2A6FF,3},
    {0x2A700,0x2B739,1}, {0x2B73A,0x2B73F,3}, {0x2B740,0x2B81D,1}, {0x2B81E,0x2B81F,3}, {0x2B820,0x2CEA1,1},
    {0x2CEA2,0x2CEAF,3}, {0x2CEB0,0x2EBE0,1}, {0x2EBE1,0x2F7FF,3}, {0x2F800,0x2FA1D,1}, {0x2FA1E,0x2FFFF,3},
    {0x30000,0x3134A,1}, {0x3134B,0x3134F,3}, {0x31350,0x323AF,1}, {0x323B0,0x10FFFF,3},
};

/* str.isspace(): what str.strip() and str.split() (whitespace_clean) treat as space: 10 ranges */
static const uint32_t tokc_ws_py[][2] = {
    {0x9,0xD}, {0x1C,0x20}, {0x85,0x85}, {0xA0,0xA0}, {0x1680,0x1680}, {0x2000,0x200A},
    {0x2028,0x2029}, {0x202F,0x202F}, {0x205F,0x205F}, {0x3000,0x3000},
};

/* (literal, other code point matching it under IGNORECASE), for the pattern's literal
   alternatives ('s, 're, <start_of_text>, ...); literals are lower-case ASCII */
static const uint32_t tokc_fold_tab[][2] = {
    {0x61,0x41}, {0x62,0x42}, {0x63,0x43}, {0x64,0x44}, {0x65,0x45}, {0x66,0x46},
    {0x67,0x47}, {0x68,0x48}, {0x69,0x49}, {0x69,0x130}, {0x6A,0x4A}, {0x6B,0x4B},
    {0x6B,0x212A}, {0x6C,0x4C}, {0x6D,0x4D}, {0x6E,0x4E}, {0x6F,0x4F}, {0x70,0x50},
    {0x71,0x51}, {0x72,0x52}, {0x73,0x53}, {0x73,0x17F}, {0x74,0x54}, {0x75,0x55},
    {0x76,0x56}, {0x77,0x57}, {0x78,0x58}, {0x79,0x59}, {0x7A,0x5A},
};

/* str.lower() of single code points: {start, count, stride, delta}; U+0130 -> 'i' U+0307
   and U+03A3 (Final_Sigma) are handled in code. 182 runs */
static const int32_t tokc_lower_tab[][4] = {
    {0x41,26,1,32}, {0xC0,23,1,32}, {0xD8,7,1,32}, {0x100,24,2,1},
    {0x132,3,2,1}, {0x139,8,2,1}, {0x14A,23,2,1}, {0x178,1,1,-121},
    {0x179,3,2,1}, {0x181,1,1,210}, {0x182,2,2,1}, {0x186,1,1,206},
    {0x187,1,1,1}, {0x189,2,1,205}, {0x18B,1,1,1}, {0x18E,1,1,79},
    {0x18F,1,1,202}, {0x190,1,1,203}, {0x191,1,1,1}, {0x193,1,1,205},
    {0x194,1,1,207}, {0x196,1,1,211}, {0x197,1,1,209}, {0x198,1,1,1},
    {0x19C,1,1,211}, {0x19D,1,1,213}, {0x19F,1,1,214}, {0x1A0,3,2,1},
    {0x1A6,1,1,218}, {0x1A7,1,1,1}, {0x1A9,1,1,218}, {0x1AC,1,1,1},
    {0x1AE,1,1,218}, {0x1AF,1,1,1}, {0x1B1,2,1,217}, {0x1B3,2,2,1},
    {0x1B7,1,1,219}, {0x1B8,1,1,1}, {0x1BC,1,1,1}, {0x1C4,1,1,2},
    {0x1C5,1,1,1}, {0x1C7,1,1,2}, {0x1C8,1,1,1}, {0x1CA,1,1,2},
    {0x1CB,9,2,1}, {0x1DE,9,2,1}, {0x1F1,1,1,2}, {0x1F2,2,2,1},
    {0x1F6,1,1,-97}, {0x1F7,1,1,-56}, {0x1F8,20,2,1}, {0x220,1,1,-130},
    {0x222,9,2,1}, {0x23A,1,1,10795}, {0x23B,1,1,1}, {0x23D,1,1,-163},
    {0x23E,1,1,10792}, {0x241,1,1,1}, {0x243,1,1,-195}, {0x244,1,1,69},
    {0x245,1,1,71}, {0x246,5,2,1}, {0x370,2,2,1}, {0x376,1,1,1},
    {0x37F,1,1,116}, {0x386,1,1,38}, {0x388,3,1,37}, {0x38C,1,1,64},
    {0x38E,2,1,63}, {0x391,17,1,32}, {0x3A4,8,1,32}, {0x3CF,1,1,8},
    {0x3D8,12,2,1}, {0x3F4,1,1,-60}, {0x3F7,1,1,1}, {0x3F9,1,1,-7},
    {0x3FA,1,1,1}, {0x3FD,3,1,-130}, {0x400,16,1,80}, {0x410,32,1,32},
    {0x460,17,2,1}, {0x48A,27,2,1}, {0x4C0,1,1,15}, {0x4C1,7,2,1},
    {0x4D0,48,2,1}, {0x531,38,1,48}, {0x10A0,38,1,7264}, {0x10C7,1,1,7264},
    {0x10CD,1,1,7264}, {0x13A0,80,1,38864}, {0x13F0,6,1,8}, {0x1C90,43,1,-3008},
    {0x1CBD,3,1,-3008}, {0x1E00,75,2,1}, {0x1E9E,1,1,-7615}, {0x1EA0,48,2,1},
    {0x1F08,8,1,-8}, {0x1F18,6,1,-8}, {0x1F28,8,1,-8}, {0x1F38,8,1,-8},
    {0x1F48,6,1,-8}, {0x1F59,4,2,-8}, {0x1F68,8,1,-8}, {0x1F88,8,1,-8},
    {0x1F98,8,1,-8}, {0x1FA8,8,1,-8}, {0x1FB8,2,1,-8}, {0x1FBA,2,1,-74},
    {0x1FBC,1,1,-9}, {0x1FC8,4,1,-86}, {0x1FCC,1,1,-9}, {0x1FD8,2,1,-8},
    {0x1FDA,2,1,-100}, {0x1FE8,2,1,-8}, {0x1FEA,2,1,-112}, {0x1FEC,1,1,-7},
    {0x1FF8,2,1,-128}, {0x1FFA,2,1,-126}, {0x1FFC,1,1,-9}, {0x2126,1,1,-7517},
    {0x212A,1,1,-8383}, {0x212B,1,1,-8262}, {0x2132,1,1,28}, {0x2160,16,1,16},
    {0x2183,1,1,1}, {0x24B6,26,1,26}, {0x2C00,48,1,48}, {0x2C60,1,1,1},
    {0x2C62,1,1,-10743}, {0x2C63,1,1,-3814}, {0x2C64,1,1,-10727}, {0x2C67,3,2,1},
    {0x2C6D,1,1,-10780}, {0x2C6E,1,1,-10749}, {0x2C6F,1,1,-10783}, {0x2C70,1,1,-10782},
    {0x2C72,1,1,1}, {0x2C75,1,1,1}, {0x2C7E,2,1,-10815}, {0x2C80,50,2,1},
    {0x2CEB,2,2,1}, {0x2CF2,1,1,1}, {0xA640,23,2,1}, {0xA680,14,2,1},
    {0xA722,7,2,1}, {0xA732,31,2,1}, {0xA779,2,2,1}, {0xA77D,1,1,-35332},
    {0xA77E,5,2,1}, {0xA78B,1,1,1}, {0xA78D,1,1,-42280}, {0xA790,2,2,1},
    {0xA796,10,2,1}, {0xA7AA,1,1,-42308}, {0xA7AB,1,1,-42319}, {0xA7AC,1,1,-42315},
    {0xA7AD,1,1,-42305}, {0xA7AE,1,1,-42308}, {0xA7B0,1,1,-42258}, {0xA7B1,1,1,-42282},
    {0xA7B2,1,1,-42261}, {0xA7B3,1,1,928}, {0xA7B4,8,2,1}, {0xA7C4,1,1,-48},
    {0xA7C5,1,1,-42307}, {0xA7C6,1,1,-35384}, {0xA7C7,2,2,1}, {0xA7D0,1,1,1},
    {0xA7D6,2,2,1}, {0xA7F5,1,1,1}, {0xFF21,26,1,32}, {0x10400,40,1,40},
    {0x104B0,36,1,40}, {0x10570,19,2,39}, {0x10571,10,1,39}, {0x1057D,14,1,39},
    {0x1058D,6,1,39}, {0x10595,1,1,39}, {0x10C80,51,1,64}, {0x118A0,32,1,32},
    {0x16E40,32,1,32}, {0x1E900,34,1,34},
};

/* Final_Sigma context of str.lower(): 1 = case-ignorable, 2 = cased. 576 ranges */
static const uint32_t tokc_sigma_tab[][3] = {
    {0x27,0x27,1}, {0x2E,0x2E,1}, {0x3A,0x3A,1}, {0x41,0x5A,2}, {0x5E,0x5E,1},
    {0x60,0x60,1}, {0x61,0x7A,2}, {0xA8,0xA8,1}, {0xAA,0xAA,2}, {0xAD,0xAD,1},
    {0xAF,0xAF,1}, {0xB4,0xB4,1}, {0xB5,0xB5,2}, {0xB7,0xB8,1}, {0xBA,0xBA,2},
    {0xC0,0xD6,2}, {0xD8,0xF6,2}, {0xF8,0x1BA,2}, {0x1BC,0x1BF,2}, {0x1C4,0x293,2},
    {0x295,0x2AF,2}, {0x2B0,0x36F,1}, {0x370,0x373,2}, {0x374,0x375,1}, {0x376,0x377,2},
    {0x37A,0x37A,1}, {0x37B,0x37D,2}, {0x37F,0x37F,2}, {0x384,0x385,1}, {0x386,0x386,2},
    {0x387,0x387,1}, {0x388,0x38A,2}, {0x38C,0x38C,2}, {0x38E,0x3A1,2}, {0x3A3,0x3F5,2},
    {0x3F7,0x481,2}, {0x483,0x489,1}, {0x48A,0x52F,2}, {0x531,0x556,2}, {0x559,0x559,1},
    {0x55F,0x55F,1}, {0x560,0x588,2}, {0x591,0x5BD,1}, {0x5BF,0x5BF,1}, {0x5C1,0x5C2,1},
    {0x5C4,0x5C5,1}, {0x5C7,0x5C7,1}, {0x5F4,0x5F4,1}, {0x600,0x605,1}, {0x610,0x61A,1},
    {0x61C,0x61C,1}, {0x640,0x640,1}, {0x64B,0x65F,1}, {0x670,0x670,1}, {0x6D6,0x6DD,1},
    {0x6DF,0x6E8,1}, {0x6EA,0x6ED,1}, {0x70F,0x70F,1}, {0x711,0x711,1}, {0x730,0x74A,1},
    {0x7A6,0x7B0,1}, {0x7EB,0x7F5,1}, {0x7FA,0x7FA,1}, {0x7FD,0x7FD,1}, {0x816,0x82D,1},
    {0x859,0x85B,1}, {0x888,0x888,1}, {0x890,0x891,1}, {0x898,0x89F,1}, {0x8C9,0x902,1},
    {0x93A,0x93A,1}, {0x93C,0x93C,1}, {0x941,0x948,1}, {0x94D,0x94D,1}, {0x951,0x957,1},
    {0x962,0x963,1}, {0x971,0x971,1}, {0x981,0x981,1}, {0x9BC,0x9BC,1}, {0x9C1,0x9C4,1},
    {0x9CD,0x9CD,1}, {0x9E2,0x9E3,1}, {0x9FE,0x9FE,1}, {0xA01,0xA02,1}, {0xA3C,0xA3C,1},
    {0xA41,0xA42,1}, {0xA47,0xA48,1}, {0xA4B,0xA4D,1}, {0xA51,0xA51,1}, {0xA70,0xA71,1},
    {0xA75,0xA75,1}, {0xA81,0xA82,1}, {0xABC,0xABC,1}, {0xAC1,0xAC5,1}, {0xAC7,0xAC8,1},
    {0xACD,0xACD,1}, {0xAE2,0xAE3,1}, {0xAFA,0xAFF,1}, {0xB01,0xB01,1}, {0xB3C,0xB3C,1},
    {0xB3F,0xB3F,1}, {0xB41,0xB44,1}, {0xB4D,0xB4D,1}, {0xB55,0xB56,1}, {0xB62,0xB63,1},
    {0xB82,0xB82,1}, {0xBC0,0xBC0,1}, {0xBCD,0xBCD,1}, {0xC00,0xC00,1}, {0xC04,0xC04,1},
    {0xC3C,0xC3C,1}, {0xC3E,0xC40,1}, {0xC46,0xC48,1}, {0xC4A,0xC4D,1}, {0xC55,0xC56,1},
    {0xC62,0xC63,1}, {0xC81,0xC81,1}, {0xCBC,0xCBC,1}, {0xCBF,0xCBF,1}, {0xCC6,0xCC6,1},
    {0xCCC,0xCCD,1}, {0xCE2,0xCE3,1}, {0xD00,0xD01,1}, {0xD3B,0xD3C,1}, {0xD41,0xD44,1},
    {0xD4D,0xD4D,1}, {0xD62,0xD63,1}, {0xD81,0xD81,1}, {0xDCA,0xDCA,1}, {0xDD2,0xDD4,1},
    {0xDD6,0xDD6,1}, {0xE31,0xE31,1}, {0xE34,0xE3A,1}, {0xE46,0xE4E,1}, {0xEB1,0xEB1,1},
    {0xEB4,0xEBC,1}, {0xEC6,0xEC6,1}, {0xEC8,0xECD,1}, {0xF18,0xF19,1}, {0xF35,0xF35,1},
    {0xF37,0xF37,1}, {0xF39,0xF39,1}, {0xF71,0xF7E,1}, {0xF80,0xF84,1}, {0xF86,0xF87,1},
    {0xF8D,0xF97,1}, {0xF99,0xFBC,1}, {0xFC6,0xFC6,1}, {0x102D,0x1030,1}, {0x1032,0x1037,1},
    {0x1039,0x103A,1}, {0x103D,0x103E,1}, {0x1058,0x1059,1}, {0x105E,0x1060,1}, {0x1071,0x1074,1},
    {0x1082,0x1082,1}, {0x1085,0x1086,1}, {0x108D,0x108D,1}, {0x109D,0x109D,1}, {0x10A0,0x10C5,2},
    {0x10C7,0x10C7,2}, {0x10CD,0x10CD,2}, {0x10D0,0x10FA,2}, {0x10FC,0x10FC,1}, {0x10FD,0x10FF,2},
    {0x135D,0x135F,1}, {0x13A0,0x13F5,2}, {0x13F8,0x13FD,2}, {0x1712,0x1714,1}, {0x1732,0x1733,1},
    {0x1752,0x1753,1}, {0x1772,0x1773,1}, {0x17B4,0x17B5,1}, {0x17B7,0x17BD,1}, {0x17C6,0x17C6,1},
    {0x17C9,0x17D3,1}, {0x17D7,0x17D7,1}, {0x17DD,0x17DD,1}, {0x180B,0x180F,1}, {0x1843,0x1843,1},
    {0x1885,0x1886,1}, {0x18A9,0x18A9,1}, {0x1920,0x1922,1}, {0x1927,0x1928,1}, {0x1932,0x1932,1},
    {0x1939,0x193B,1}, {0x1A17,0x1A18,1}, {0x1A1B,0x1A1B,1}, {0x1A56,0x1A56,1}, {0x1A58,0x1A5E,1},
    {0x1A60,0x1A60,1}, {0x1A62,0x1A62,1}, {0x1A65,0x1A6C,1}, {0x1A73,0x1A7C,1}, {0x1A7F,0x1A7F,1},
    {0x1AA7,0x1AA7,1}, {0x1AB0,0x1ACE,1}, {0x1B00,0x1B03,1}, {0x1B34,0x1B34,1}, {0x1B36,0x1B3A,1},
    {0x1B3C,0x1B3C,1}, {0x1B42,0x1B42,1}, {0x1B6B,0x1B73,1}, {0x1B80,0x1B81,1}, {0x1BA2,0x1BA5,1},
    {0x1BA8,0x1BA9,1}, {0x1BAB,0x1BAD,1}, {0x1BE6,0x1BE6,1}, {0x1BE8,0x1BE9,1}, {0x1BED,0x1BED,1},
    {0x1BEF,0x1BF1,1}, {0x1C2C,0x1C33,1}, {0x1C36,0x1C37,1}, {0x1C78,0x1C7D,1}, {0x1C80,0x1C88,2},
    {0x1C90,0x1CBA,2}, {0x1CBD,0x1CBF,2}, {0x1CD0,0x1CD2,1}, {0x1CD4,0x1CE0,1}, {0x1CE2,0x1CE8,1},
    {0x1CED,0x1CED,1}, {0x1CF4,0x1CF4,1}, {0x1CF8,0x1CF9,1}, {0x1D00,0x1D2B,2}, {0x1D2C,0x1D6A,1},
    {0x1D6B,0x1D77,2}, {0x1D78,0x1D78,1}, {0x1D79,0x1D9A,2}, {0x1D9B,0x1DFF,1}, {0x1E00,0x1F15,2},
    {0x1F18,0x1F1D,2}, {0x1F20,0x1F45,2}, {0x1F48,0x1F4D,2}, {0x1F50,0x1F57,2}, {0x1F59,0x1F59,2},
    {0x1F5B,0x1F5B,2}, {0x1F5D,0x1F5D,2}, {0x1F5F,0x1F7D,2}, {0x1F80,0x1FB4,2}, {0x1FB6,0x1FBC,2},
    {0x1FBD,0x1FBD,1}, {0x1FBE,0x1FBE,2}, {0x1FBF,0x1FC1,1}, {0x1FC2,0x1FC4,2}, {0x1FC6,0x1FCC,2},
    {0x1FCD,0x1FCF,1}, {0x1FD0,0x1FD3,2}, {0x1FD6,0x1FDB,2}, {0x1FDD,0x1FDF,1}, {0x1FE0,0x1FEC,2},
    {0x1FED,0x1FEF,1}, {0x1FF2,0x1FF4,2}, {0x1FF6,0x1FFC,2}, {0x1FFD,0x1FFE,1}, {0x200B,0x200F,1},
    {0x2018,0x2019,1}, {0x2024,0x2024,1}, {0x2027,0x2027,1}, {0x202A,0x202E,1}, {0x2060,0x2064,1},
    {0x2066,0x206F,1}, {0x2071,0x2071,1}, {0x207F,0x207F,1}, {0x2090,0x209C,1}, {0x20D0,0x20F0,1},
    {0x2102,0x2102,2}, {0x2107,0x2107,2}, {0x210A,0x2113,2}, {0x2115,0x2115,2}, {0x2119,0x211D,2},
    {0x2124,0x2124,2}, {0x2126,0x2126,2}, {0x2128,0x2128,2}, {0x212A,0x212D,2}, {0x212F,0x2134,2},
    {0x2139,0x2139,2}, {0x213C,0x213F,2}, {0x2145,0x2149,2}, {0x214E,0x214E,2}, {0x2160,0x217F,2},
    {0x2183,0x2184,2}, {0x24B6,0x24E9,2}, {0x2C00,0x2C7B,2}, {0x2C7C,0x2C7D,1}, {0x2C7E,0x2CE4,2},
    {0x2CEB,0x2CEE,2}, {0x2CEF,0x2CF1,1}, {0x2CF2,0x2CF3,2}, {0x2D00,0x2D25,2}, {0x2D27,0x2D27,2},
    {0x2D2D,0x2D2D,2}, {0x2D6F,0x2D6F,1}, {0x2D7F,0x2D7F,1}, {0x2DE0,0x2DFF,1}, {0x2E2F,0x2E2F,1},
    {0x3005,0x3005,1}, {0x302A,0x302D,1}, {0x3031,0x3035,1}, {0x303B,0x303B,1}, {0x3099,0x309E,1},
    {0x30FC,0x30FE,1}, {0xA015,0xA015,1}, {0xA4F8,0xA4FD,1}, {0xA60C,0xA60C,1}, {0xA640,0xA66D,2},
    {0xA66F,0xA672,1}, {0xA674,0xA67D,1}, {0xA67F,0xA67F,1}, {0xA680,0xA69B,2}, {0xA69C,0xA69F,1},
    {0xA6F0,0xA6F1,1}, {0xA700,0xA721,1}, {0xA722,0xA76F,2}, {0xA770,0xA770,1}, {0xA771,0xA787,2},
    {0xA788,0xA78A,1}, {0xA78B,0xA78E,2}, {0xA790,0xA7CA,2}, {0xA7D0,0xA7D1,2}, {0xA7D3,0xA7D3,2},
    {0xA7D5,0xA7D9,2}, {0xA7F2,0xA7F4,1}, {0xA7F5,0xA7F6,2}, {0xA7F8,0xA7F9,1}, {0xA7FA,0xA7FA,2},
    {0xA802,0xA802,1}, {0xA806,0xA806,1}, {0xA80B,0xA80B,1}, {0xA825,0xA826,1}, {0xA82C,0xA82C,1},
    {0xA8C4,0xA8C5,1}, {0xA8E0,0xA8F1,1}, {0xA8FF,0xA8FF,1}, {0xA926,0xA92D,1}, {0xA947,0xA951,1},
    {0xA980,0xA982,1}, {0xA9B3,0xA9B3,1}, {0xA9B6,0xA9B9,1}, {0xA9BC,0xA9BD,1}, {0xA9CF,0xA9CF,1},
    {0xA9E5,0xA9E6,1}, {0xAA29,0xAA2E,1}, {0xAA31,0xAA32,1}, {0xAA35,0xAA36,1}, {0xAA43,0xAA43,1},
    {0xAA4C,0xAA4C,1}, {0xAA70,0xAA70,1}, {0xAA7C,0xAA7C,1}, {0xAAB0,0xAAB0,1}, {0xAAB2,0xAAB4,1},
    {0xAAB7,0xAAB8,1}, {0xAABE,0xAABF,1}, {0xAAC1,0xAAC1,1}, {0xAADD,0xAADD,1}, {0xAAEC,0xAAED,1},
    {0xAAF3,0xAAF4,1}, {0xAAF6,0xAAF6,1}, {0xAB30,0xAB5A,2}, {0xAB5B,0xAB5F,1}, {0xAB60,0xAB68,2},
    {0xAB69,0xAB6B,1}, {0xAB70,0xABBF,2}, {0xABE5,0xABE5,1}, {0xABE8,0xABE8,1}, {0xABED,0xABED,1},
    {0xFB00,0xFB06,2}, {0xFB13,0xFB17,2}, {0xFB1E,0xFB1E,1}, {0xFBB2,0xFBC2,1}, {0xFE00,0xFE0F,1},
    {0xFE13,0xFE13,1}, {0xFE20,0xFE2F,1}, {0xFE52,0xFE52,1}, {0xFE55,0xFE55,1}, {0xFEFF,0xFEFF,1},
    {0xFF07,0xFF07,1}, {0xFF0E,0xFF0E,1}, {0xFF1A,0xFF1A,1}, {0xFF21,0xFF3A,2}, {0xFF3E,0xFF3E,1},
    {0xFF40,0xFF40,1}, {0xFF41,0xFF5A,2}, {0xFF70,0xFF70,1}, {0xFF9E,0xFF9F,1}, {0xFFE3,0xFFE3,1},
    {0xFFF9,0xFFFB,1}, {0x101FD,0x101FD,1}, {0x102E0,0x102E0,1}, {0x10376,0x1037A,1}, {0x10400,0x1044F,2},
    {0x104B0,0x104D3,2}, {0x104D8,0x104FB,2}, {0x10570,0x1057A,2}, {0x1057C,0x1058A,2}, {0x1058C,0x10592,2},
    {0x10594,0x10595,2}, {0x10597,0x105A1,2}, {0x105A3,0x105B1,2}, {0x105B3,0x105B9,2}, {0x105BB,0x105BC,2},
    {0x10780,0x10785,1}, {0x10787,0x107B0,1}, {0x107B2,0x107BA,1}, {0x10A01,0x10A03,1}, {0x10A05,0x10A06,1},
    {0x10A0C,0x10A0F,1}, {0x10A38,0x10A3A,1}, {0x10A3F,0x10A3F,1}, {0x10AE5,0x10AE6,1}, {0x10C80,0x10CB2,2},
    {0x10CC0,0x10CF2,2}, {0x10D24,0x10D27,1}, {0x10EAB,0x10EAC,1}, {0x10F46,0x10F50,1}, {0x10F82,0x10F85,1},
    {0x11001,0x11001,1}, {0x11038,0x11046,1}, {0x11070,0x11070,1}, {0x11073,0x11074,1}, {0x1107F,0x11081,1},
    {0x110B3,0x110B6,1}, {0x110B9,0x110BA,1}, {0x110BD,0x110BD,1}, {0x110C2,0x110C2,1}, {0x110CD,0x110CD,1},
    {0x11100,0x11102,1}, {0x11127,0x1112B,1}, {0x1112D,0x11134,1}, {0x11173,0x11173,1}, {0x11180,0x11181,1},
    {0x111B6,0x111BE,1}, {0x111C9,0x111CC,1}, {0x111CF,0x111CF,1}, {0x1122F,0x11231,1}, {0x11234,0x11234,1},
    {0x11236,0x11237,1}, {0x1123E,0x1123E,1}, {0x112DF,0x112DF,1}, {0x112E3,0x112EA,1}, {0x11300,0x11301,1},
    {0x1133B,0x1133C,1}, {0x11340,0x11340,1}, {0x11366,0x1136C,1}, {0x11370,0x11374,1}, {0x11438,0x1143F,1},
    {0x11442,0x11444,1}, {0x11446,0x11446,1}, {0x1145E,0x1145E,1}, {0x114B3,0x114B8,1}, {0x114BA,0x114BA,1},
    {0x114BF,0x114C0,1}, {0x114C2,0x114C3,1}, {0x115B2,0x115B5,1}, {0x115BC,0x115BD,1}, {0x115BF,0x115C0,1},
    {0x115DC,0x115DD,1}, {0x11633,0x1163A,1}, {0x1163D,0x1163D,1}, {0x1163F,0x11640,1}, {0x116AB,0x116AB,1},
    {0x116AD,0x116AD,1}, {0x116B0,0x116B5,1}, {0x116B7,0x116B7,1}, {0x1171D,0x1171F,1}, {0x11722,0x11725,1},
    {0x11727,0x1172B,1}, {0x1182F,0x11837,1}, {0x11839,0x1183A,1}, {0x118A0,0x118DF,2}, {0x1193B,0x1193C,1},
    {0x1193E,0x1193E,1}, {0x11943,0x11943,1}, {0x119D4,0x119D7,1}, {0x119DA,0x119DB,1}, {0x119E0,0x119E0,1},
    {0x11A01,0x11A0A,1}, {0x11A33,0x11A38,1}, {0x11A3B,0x11A3E,1}, {0x11A47,0x11A47,1}, {0x11A51,0x11A56,1},
    {0x11A59,0x11A5B,1}, {0x11A8A,0x11A96,1}, {0x11A98,0x11A99,1}, {0x11C30,0x11C36,1}, {0x11C38,0x11C3D,1},
    {0x11C3F,0x11C3F,1}, {0x11C92,0x11CA7,1}, {0x11CAA,0x11CB0,1}, {0x11CB2,0x11CB3,1}, {0x11CB5,0x11CB6,1},
    {0x11D31,0x11D36,1}, {0x11D3A,0x11D3A,1}, {0x11D3C,0x11D3D,1}, {0x11D3F,0x11D45,1}, {0x11D47,0x11D47,1},
    {0x11D90,0x11D91,1}, {0x11D95,0x11D95,1}, {0x11D97,0x11D97,1}, {0x11EF3,0x11EF4,1}, {0x13430,0x13438,1},
    {0x16AF0,0x16AF4,1}, {0x16B30,0x16B36,1}, {0x16B40,0x16B43,1}, {0x16E40,0x16E7F,2}, {0x16F4F,0x16F4F,1},
    {0x16F8F,0x16F9F,1}, {0x16FE0,0x16FE1,1}, {0x16FE3,0x16FE4,1}, {0x1AFF0,0x1AFF3,1}, {0x1AFF5,0x1AFFB,1},
    {0x1AFFD,0x1AFFE,1}, {0x1BC9D,0x1BC9E,1}, {0x1BCA0,0x1BCA3,1}, {0x1CF00,0x1CF2D,1}, {0x1CF30,0x1CF46,1},
    {0x1D167,0x1D169,1}, {0x1D173,0x1D182,1}, {0x1D185,0x1D18B,1}, {0x1D1AA,0x1D1AD,1}, {0x1D242,0x1D244,1},
    {0x1D400,0x1D454,2}, {0x1D456,0x1D49C,2}, {0x1D49E,0x1D49F,2}, {0x1D4A2,0x1D4A2,2}, {0x1D4A5,0x1D4A6,2},
    {0x1D4A9,0x1D4AC,2}, {0x1D4AE,0x1D4B9,2}, {0x1D4BB,0x1D4BB,2}, {0x1D4BD,0x1D4C3,2}, {0x1D4C5,0x1D505,2},
    {0x1D507,0x1D50A,2}, {0x1D50D,0x1D514,2}, {0x1D516,0x1D51C,2}, {0x1D51E,0x1D539,2}, {0x1D53B,0x1D53E,2},
    {0x1D540,0x1D544,2}, {0x1D546,0x1D546,2}, {0x1D54A,0x1D550,2}, {0x1D552,0x1D6A5,2}, {0x1D6A8,0x1D6C0,2},
    {0x1D6C2,0x1D6DA,2}, {0x1D6DC,0x1D6FA,2}, {0x1D6FC,0x1D714,2}, {0x1D716,0x1D734,2}, {0x1D736,0x1D74E,2},
    {0x1D750,0x1D76E,2}, {0x1D770,0x1D788,2}, {0x1D78A,0x1D7A8,2}, {0x1D7AA,0x1D7C2,2}, {0x1D7C4,0x1D7CB,2},
    {0x1DA00,0x1DA36,1}, {0x1DA3B,0x1DA6C,1}, {0x1DA75,0x1DA75,1}, {0x1DA84,0x1DA84,1}, {0x1DA9B,0x1DA9F,1},
    {0x1DAA1,0x1DAAF,1}, {0x1DF00,0x1DF09,2}, {0x1DF0B,0x1DF1E,2}, {0x1E000,0x1E006,1}, {0x1E008,0x1E018,1},
    {0x1E01B,0x1E021,1}, {0x1E023,0x1E024,1}, {0x1E026,0x1E02A,1}, {0x1E130,0x1E13D,1}, {0x1E2AE,0x1E2AE,1},
    {0x1E2EC,0x1E2EF,1}, {0x1E8D0,0x1E8D6,1}, {0x1E900,0x1E943,2}, {0x1E944,0x1E94B,1}, {0x1F130,0x1F149,2},
    {0x1F150,0x1F169,2}, {0x1F170,0x1F189,2}, {0x1F3FB,0x1F3FF,1}, {0xE0001,0xE0001,1}, {0xE0020,0xE007F,1},
    {0xE0100,0xE01EF,1},
};

/* html._invalid_charrefs: numeric reference -> replacement */
static const struct { uint32_t num; const char *rep; } tokc_html_invalid_ref[] = {
    {0x0,"\357\277\275"}, {0xD,"\015"}, {0x80,"\342\202\254"}, {0x81,"\302\201"}, {0x82,"\342\200\232"}, {0x83,"\306\222"},
    {0x84,"\342\200\236"}, {0x85,"\342\200\246"}, {0x86,"\342\200\240"}, {0x87,"\342\200\241"}, {0x88,"\313\206"}, {0x89,"\342\200\260"},
    {0x8A,"\305\240"}, {0x8B,"\342\200\271"}, {0x8C,"\305\222"}, {0x8D,"\302\215"}, {0x8E,"\305\275"}, {0x8F,"\302\217"},
    {0x90,"\302\220"}, {0x91,"\342\200\230"}, {0x92,"\342\200\231"}, {0x93,"\342\200\234"}, {0x94,"\342\200\235"}, {0x95,"\342\200\242"},
    {0x96,"\342\200\223"}, {0x97,"\342\200\224"}, {0x98,"\313\234"}, {0x99,"\342\204\242"}, {0x9A,"\305\241"}, {0x9B,"\342\200\272"},
    {0x9C,"\305\223"}, {0x9D,"\302\235"}, {0x9E,"\305\276"}, {0x9F,"\305\270"},
};

/* html._invalid_codepoints (replaced by nothing): 22 ranges */
static const uint32_t tokc_html_invalid_cp[][2] = {
    {0x1,0x8}, {0xB,0xB}, {0xE,0x1F}, {0x7F,0x9F}, {0xFDD0,0xFDEF}, {0xFFFE,0xFFFF},
    {0x1FFFE,0x1FFFF}, {0x2FFFE,0x2FFFF}, {0x3FFFE,0x3FFFF}, {0x4FFFE,0x4FFFF}, {0x5FFFE,0x5FFFF}, {0x6FFFE,0x6FFFF},
    {0x7FFFE,0x7FFFF}, {0x8FFFE,0x8FFFF}, {0x9FFFE,0x9FFFF}, {0xAFFFE,0xAFFFF}, {0xBFFFE,0xBFFFF}, {0xCFFFE,0xCFFFF},
    {0xDFFFE,0xDFFFF}, {0xEFFFE,0xEFFFF}, {0xFFFFE,0xFFFFF}, {0x10FFFE,0x10FFFF},
};

/* html.entities.html5, all 2231 names (with ';' and the legacy ones without), sorted by
   byte value for binary search */
static const struct { const char *name, *val; } tokc_html5[] = {
    {"AElig","\303\206"}, {"AElig;","\303\206"}, {"AMP","&"}, {"AMP;","&"},
    {"Aacute","\303\201"}, {"Aacute;","\303\201"}, {"Abreve;","\304\202"}, {"Acirc","\303\202"},
    {"Acirc;","\303\202"}, {"Acy;","\320\220"}, {"Afr;","\360\235\224\204"}, {"Agrave","\303\200"},
    {"Agrave;","\303\200"}, {"Alpha;","\316\221"}, {"Amacr;","\304\200"}, {"And;","\342\251\223"},
    {"Aogon;","\304\204"}, {"Aopf;","\360\235\224\270"}, {"ApplyFunction;","\342\201\241"}, {"Aring","\303\205"},
    {"Aring;","\303\205"}, {"Ascr;","\360\235\222\234"}, {"Assign;","\342\211\224"}, {"Atilde","\303\203"},
    {"Atilde;","\303\203"}, {"Auml","\303\204"}, {"Auml;","\303\204"}, {"Backslash;","\342\210\226"},
    {"Barv;","\342\253\247"}, {"Barwed;","\342\214\206"}, {"Bcy;","\320\221"}, {"Because;","\342\210\265"},
    {"Bernoullis;","\342\204\254"}, {"Beta;","\316\222"}, {"Bfr;","\360\235\224\205"}, {"Bopf;","\360\235\224\271"},
    {"Breve;","\313\230"}, {"Bscr;","\342\204\254"}, {"Bumpeq;","\342\211\216"}, {"CHcy;","\320\247"},
    {"COPY","\302\251"}, {"COPY;","\302\251"}, {"Cacute;","\304\206"}, {"Cap;","\342\213\222"},
    {"CapitalDifferentialD;","\342\205\205"}, {"Cayleys;","\342\204\255"}, {"Ccaron;","\304\214"}, {"Ccedil","\303\207"},
    {"Ccedil;","\303\207"}, {"Ccirc;","\304\210"}, {"Cconint;","\342\210\260"}, {"Cdot;","\304\212"},
    {"Cedilla;","\302\270"}, {"CenterDot;","\302\267"}, {"Cfr;","\342\204\255"}, {"Chi;","\316\247"},
    {"CircleDot;","\342\212\231"}, {"CircleMinus;","\342\212\226"}, {"CirclePlus;","\342\212\225"}, {"CircleTimes;","\342\212\227"},
    {"ClockwiseContourIntegral;","\342\210\262"}, {"CloseCurlyDoubleQuote;","\342\200\235"}, {"CloseCurlyQuote;","\342\200\231"}, {"Colon;","\342\210\267"},
    {"Colone;","\342\251\264"}, {"Congruent;","\342\211\241"}, {"Conint;","\342\210\257"}, {"ContourIntegral;","\342\210\256"},
    {"Copf;","\342\204\202"}, {"Coproduct;","\342\210\220"}, {"CounterClockwiseContourIntegral;","\342\210\263"}, {"Cross;","\342\250\257"},
    {"Cscr;","\360\235\222\236"}, {"Cup;","\342\213\223"}, {"CupCap;","\342\211\215"}, {"DD;","\342\205\205"},
    {"DDotrahd;","\342\244\221"}, {"DJcy;","\320\202"}, {"DScy;","\320\205"}, {"DZcy;","\320\217"},
    {"Dagger;","\342\200\241"}, {"Darr;","\342\206\241"}, {"Dashv;","\342\253\244"}, {"Dcaron;","\304\216"},
    {"Dcy;","\320\224"}, {"Del;","\342\210\207"}, {"Delta;","\316\224"}, {"Dfr;","\360\235\224\207"},
    {"DiacriticalAcute;","\302\264"}, {"DiacriticalDot;","\313\231"}, {"DiacriticalDoubleAcute;","\313\235"}, {"DiacriticalGrave;","`"},
    {"DiacriticalTilde;","\313\234"}, {"Diamond;","\342\213\204"}, {"DifferentialD;","\342\205\206"}, {"Dopf;","\360\235\224\273"},
    {"Dot;","\302\250"}, {"DotDot;","\342\203\234"}, {"DotEqual;","\342\211\220"}, {"DoubleContourIntegral;","\342\210\257"},
    {"DoubleDot;","\302\250"}, {"DoubleDownArrow;","\342\207\223"}, {"DoubleLeftArrow;","\342\207\220"}, {"DoubleLeftRightArrow;","\342\207\224"},
    {"DoubleLeftTee;","\342\253\244"}, {"DoubleLongLeftArrow;","\342\237\270"}, {"DoubleLongLeftRightArrow;","\342\237\272"}, {"DoubleLongRightArrow;","\342\237\271"},
    {"DoubleRightArrow;","\342\207\222"}, {"DoubleRightTee;","\342\212\250"}, {"DoubleUpArrow;","\342\207\221"}, {"DoubleUpDownArrow;","\342\207\225"},
    {"DoubleVerticalBar;","\342\210\245"}, {"DownArrow;","\342\206\223"}, {"DownArrowBar;","\342\244\223"}, {"DownArrowUpArrow;","\342\207\265"},
    {"DownBreve;","\314\221"}, {"DownLeftRightVector;","\342\245\220"}, {"DownLeftTeeVector;","\342\245\236"}, {"DownLeftVector;","\342\206\275"},
    {"DownLeftVectorBar;","\342\245\226"}, {"DownRightTeeVector;","\342\245\237"}, {"DownRightVector;","\342\207\201"}, {"DownRightVectorBar;","\342\245\227"},
    {"DownTee;","\342\212\244"}, {"DownTeeArrow;","\342\206\247"}, {"Downarrow;","\342\207\223"}, {"Dscr;","\360\235\222\237"},
    {"Dstrok;","\304\220"}, {"ENG;","\305\212"}, {"ETH","\303\220"}, {"ETH;","\303\220"},
    {"Eacute","\303\211"}, {"Eacute;","\303\211"}, {"Ecaron;","\304\232"}, {"Ecirc","\303\212"},
    {"Ecirc;","\303\212"}, {"Ecy;","\320\255"}, {"Edot;","\304\226"}, {"Efr;","\360\235\224\210"},
    {"Egrave","\303\210"}, {"Egrave;","\303\210"}, {"Element;","\342\210\210"}, {"Emacr;","\304\222"},
    {"EmptySmallSquare;","\342\227\273"}, {"EmptyVerySmallSquare;","\342\226\253"}, {"Eogon;","\304\230"}, {"Eopf;","\360\235\224\274"},
    {"Epsilon;","\316\225"}, {"Equal;","\342\251\265"}, {"EqualTilde;","\342\211\202"}, {"Equilibrium;","\342\207\214"},
    {"Escr;","\342\204\260"}, {"Esim;","\342\251\263"}, {"Eta;","\316\227"}, {"Euml","\303\213"},
    {"Euml;","\303\213"}, {"Exists;","\342\210\203"}, {"ExponentialE;","\342\205\207"}, {"Fcy;","\320\244"},
    {"Ffr;","\360\235\224\211"}, {"FilledSmallSquare;","\342\227\274"}, {"FilledVerySmallSquare;","\342\226\252"}, {"Fopf;","\360\235\224\275"},
    {"ForAll;","\342\210\200"}, {"Fouriertrf;","\342\204\261"}, {"Fscr;","\342\204\261"}, {"GJcy;","\320\203"},
    {"GT",">"}, {"GT;",">"}, {"Gamma;","\316\223"}, {"Gammad;","\317\234"},
    {"Gbreve;","\304\236"}, {"Gcedil;","\304\242"}, {"Gcirc;","\304\234"}, {"Gcy;","\320\223"},
    {"Gdot;","\304\240"}, {"Gfr;","\360\235\224\212"}, {"Gg;","\342\213\231"}, {"Gopf;","\360\235\224\276"},
    {"GreaterEqual;","\342\211\245"}, {"GreaterEqualLess;","\342\213\233"}, {"GreaterFullEqual;","\342\211\247"}, {"GreaterGreater;","\342\252\242"},
    {"GreaterLess;","\342\211\267"}, {"GreaterSlantEqual;","\342\251\276"}, {"GreaterTilde;","\342\211\263"}, {"Gscr;","\360\235\222\242"},
    {"Gt;","\342\211\253"}, {"HARDcy;","\320\252"}, {"Hacek;","\313\207"}, {"Hat;","^"},
    {"Hcirc;","\304\244"}, {"Hfr;","\342\204\214"}, {"HilbertSpace;","\342\204\213"}, {"Hopf;","\342\204\215"},
    {"HorizontalLine;","\342\224\200"}, {"Hscr;","\342\204\213"}, {"Hstrok;","\304\246"}, {"HumpDownHump;","\342\211\216"},
    {"HumpEqual;","\342\211\217"}, {"IEcy;","\320\225"}, {"IJlig;","\304\262"}, {"IOcy;","\320\201"},
    {"Iacute","\303\215"}, {"Iacute;","\303\215"}, {"Icirc","\303\216"}, {"Icirc;","\303\216"},
    {"Icy;","\320\230"}, {"Idot;","\304\260"}, {"Ifr;","\342\204\221"}, {"Igrave","\303\214"},
    {"Igrave;","\303\214"}, {"Im;","\342\204\221"}, {"Imacr;","\304\252"}, {"ImaginaryI;","\342\205\210"},
    {"Implies;","\342\207\222"}, {"Int;","\342\210\254"}, {"Integral;","\342\210\253"}, {"Intersection;","\342\213\202"},
    {"InvisibleComma;","\342\201\243"}, {"InvisibleTimes;","\342\201\242"}, {"Iogon;","\304\256"}, {"Iopf;","\360\235\225\200"},
    {"Iota;","\316\231"}, {"Iscr;","\342\204\220"}, {"Itilde;","\304\250"}, {"Iukcy;","\320\206"},
    {"Iuml","\303\217"}, {"Iuml;","\303\217"}, {"Jcirc;","\304\264"}, {"Jcy;","\320\231"},
    {"Jfr;","\360\235\224\215"}, {"Jopf;","\360\235\225\201"}, {"Jscr;","\360\235\222\245"}, {"Jsercy;","\320\210"},
    {"Jukcy;","\320\204"}, {"KHcy;","\320\245"}, {"KJcy;","\320\214"}, {"Kappa;","\316\232"},
    {"Kcedil;","\304\266"}, {"Kcy;","\320\232"}, {"Kfr;","\360\235\224\216"}, {"Kopf;","\360\235\225\202"},
    {"Kscr;","\360\235\222\246"}, {"LJcy;","\320\211"}, {"LT","<"}, {"LT;","<"},
    {"Lacute;","\304\271"}, {"Lambda;","\316\233"}, {"Lang;","\342\237\252"}, {"Laplacetrf;","\342\204\222"},
    {"Larr;","\342\206\236"}, {"Lcaron;","\304\275"}, {"Lcedil;","\304\273"}, {"Lcy;","\320\233"},
    {"LeftAngleBracket;","\342\237\250"}, {"LeftArrow;","\342\206\220"}, {"LeftArrowBar;","\342\207\244"}, {"LeftArrowRightArrow;","\342\207\206"},
    {"LeftCeiling;","\342\214\210"}, {"LeftDoubleBracket;","\342\237\246"}, {"LeftDownTeeVector;","\342\245\241"}, {"LeftDownVector;","\342\207\203"},
    {"LeftDownVectorBar;","\342\245\231"}, {"LeftFloor;","\342\214\212"}, {"LeftRightArrow;","\342\206\224"}, {"LeftRightVector;","\342\245\216"},
    {"LeftTee;","\342\212\243"}, {"LeftTeeArrow;","\342\206\244"}, {"LeftTeeVector;","\342\245\232"}, {"LeftTriangle;","\342\212\262"},
    {"LeftTriangleBar;","\342\247\217"}, {"LeftTriangleEqual;","\342\212\264"}, {"LeftUpDownVector;","\342\245\221"}, {"LeftUpTeeVector;","\342\245\240"},
    {"LeftUpVector;","\342\206\277"}, {"LeftUpVectorBar;","\342\245\230"}, {"LeftVector;","\342\206\274"}, {"LeftVectorBar;","\342\245\222"},
    {"Leftarrow;","\342\207\220"}, {"Leftrightarrow;","\342\207\224"}, {"LessEqualGreater;","\342\213\232"}, {"LessFullEqual;","\342\211\246"},
    {"LessGreater;","\342\211\266"}, {"LessLess;","\342\252\241"}, {"LessSlantEqual;","\342\251\275"}, {"LessTilde;","\342\211\262"},
    {"Lfr;","\360\235\224\217"}, {"Ll;","\342\213\230"}, {"Lleftarrow;","\342\207\232"}, {"Lmidot;","\304\277"},
    {"LongLeftArrow;","\342\237\265"}, {"LongLeftRightArrow;","\342\237\267"}, {"LongRightArrow;","\342\237\266"}, {"Longleftarrow;","\342\237\270"},
    {"Longleftrightarrow;","\342\237\272"}, {"Longrightarrow;","\342\237\271"}, {"Lopf;","\360\235\225\203"}, {"LowerLeftArrow;","\342\206\231"},
    {"LowerRightArrow;","\342\206\230"}, {"Lscr;","\342\204\222"}, {"Lsh;","\342\206\260"}, {"Lstrok;","\305\201"},
    {"Lt;","\342\211\252"}, {"Map;","\342\244\205"}, {"Mcy;","\320\234"}, {"MediumSpace;","\342\201\237"},
    {"Mellintrf;","\342\204\263"}, {"Mfr;","\360\235\224\220"}, {"MinusPlus;","\342\210\223"}, {"Mopf;","\360\235\225\204"},
    {"Mscr;","\342\204\263"}, {"Mu;","\316\234"}, {"NJcy;","\320\212"}, {"Nacute;","\305\203"},
    {"Ncaron;","\305\207"}, {"Ncedil;","\305\205"}, {"Ncy;","\320\235"}, {"NegativeMediumSpace;","\342\200\213"},
    {"NegativeThickSpace;","\342\200\213"}, {"NegativeThinSpace;","\342\200\213"}, {"NegativeVeryThinSpace;","\342\200\213"}, {"NestedGreaterGreater;","\342\211\253"},
    {"NestedLessLess;","\342\211\252"}, {"NewLine;","\012"}, {"Nfr;","\360\235\224\221"}, {"NoBreak;","\342\201\240"},
    {"NonBreakingSpace;","\302\240"}, {"Nopf;","\342\204\225"}, {"Not;","\342\253\254"}, {"NotCongruent;","\342\211\242"},
    {"NotCupCap;","\342\211\255"}, {"NotDoubleVerticalBar;","\342\210\246"}, {"NotElement;","\342\210\211"}, {"NotEqual;","\342\211\240"},
    {"NotEqualTilde;","\342\211\202\314\270"}, {"NotExists;","\342\210\204"}, {"NotGreater;","\342\211\257"}, {"NotGreaterEqual;","\342\211\261"},
    {"NotGreaterFullEqual;","\342\211\247\314\270"}, {"NotGreaterGreater;","\342\211\253\314\270"}, {"NotGreaterLess;","\342\211\271"}, {"NotGreaterSlantEqual;","\342\251\276\314\270"},
    {"NotGreaterTilde;","\342\211\265"}, {"NotHumpDownHump;","\342\211\216\314\270"}, {"NotHumpEqual;","\342\211\217\314\270"}, {"NotLeftTriangle;","\342\213\252"},
    {"NotLeftTriangleBar;","\342\247\217\314\270"}, {"NotLeftTriangleEqual;","\342\213\254"}, {"NotLess;","\342\211\256"}, {"NotLessEqual;","\342\211\260"},
    {"NotLessGreater;","\342\211\270"}, {"NotLessLess;","\342\211\252\314\270"}, {"NotLessSlantEqual;","\342\251\275\314\270"}, {"NotLessTilde;","\342\211\264"},
    {"NotNestedGreaterGreater;","\342\252\242\314\270"}, {"NotNestedLessLess;","\342\252\241\314\270"}, {"NotPrecedes;","\342\212\200"}, {"NotPrecedesEqual;","\342\252\257\314\270"},
    {"NotPrecedesSlantEqual;","\342\213\240"}, {"NotReverseElement;","\342\210\214"}, {"NotRightTriangle;","\342\213\253"}, {"NotRightTriangleBar;","\342\247\220\314\270"},
    {"NotRightTriangleEqual;","\342\213\255"}, {"NotSquareSubset;","\342\212\217\314\270"}, {"NotSquareSubsetEqual;","\342\213\242"}, {"NotSquareSuperset;","\342\212\220\314\270"},
    {"NotSquareSupersetEqual;","\342\213\243"}, {"NotSubset;","\342\212\202\342\203\222"}, {"NotSubsetEqual;","\342\212\210"}, {"NotSucceeds;","\342\212\201"},
    {"NotSucceedsEqual;","\342\252\260\314\270"}, {"NotSucceedsSlantEqual;","\342\213\241"}, {"NotSucceedsTilde;","\342\211\277\314\270"}, {"NotSuperset;","\342\212\203\342\203\222"},
    {"NotSupersetEqual;","\342\212\211"}, {"NotTilde;","\342\211\201"}, {"NotTildeEqual;","\342\211\204"}, {"NotTildeFullEqual;","\342\211\207"},
    {"NotTildeTilde;","\342\211\211"}, {"NotVerticalBar;","\342\210\244"}, {"Nscr;","\360\235\222\251"}, {"Ntilde","\303\221"},
    {"Ntilde;","\303\221"}, {"Nu;","\316\235"}, {"OElig;","\305\222"}, {"Oacute","\303\223"},
    {"Oacute;","\303\223"}, {"Ocirc","\303\224"}, {"Ocirc;","\303\224"}, {"Ocy;","\320\236"},
    {"Odblac;","\305\220"}, {"Ofr;","\360\235\224\222"}, {"Ograve","\303\222"}, {"Ograve;","\303\222"},
    {"Omacr;","\305\214"}, {"Omega;","\316\251"}, {"Omicron;","\316\237"}, {"Oopf;","\360\235\225\206"},
    {"OpenCurlyDoubleQuote;","\342\200\234"}, {"OpenCurlyQuote;","\342\200\230"}, {"Or;","\342\251\224"}, {"Oscr;","\360\235\222\252"},
    {"Oslash","\303\230"}, {"Oslash;","\303\230"}, {"Otilde","\303\225"}, {"Otilde;","\303\225"},
    {"Otimes;","\342\250\267"}, {"Ouml","\303\226"}, {"Ouml;","\303\226"}, {"OverBar;","\342\200\276"},
    {"OverBrace;","\342\217\236"}, {"OverBracket;","\342\216\264"}, {"OverParenthesis;","\342\217\234"}, {"PartialD;","\342\210\202"},
    {"Pcy;","\320\237"}, {"Pfr;","\360\235\224\223"}, {"Phi;","\316\246"}, {"Pi;","\316\240"},
    {"PlusMinus;","\302\261"}, {"Poincareplane;","\342\204\214"}, {"Popf;","\342\204\231"}, {"Pr;","\342\252\273"},
    {"Precedes;","\342\211\272"}, {"PrecedesEqual;","\342\252\257"}, {"PrecedesSlantEqual;","\342\211\274"}, {"PrecedesTilde;","\342\211\276"},
    {"Prime;","\342\200\263"}, {"Product;","\342\210\217"}, {"Proportion;","\342\210\267"}, {"Proportional;","\342\210\235"},
    {"Pscr;","\360\235\222\253"}, {"Psi;","\316\250"}, {"QUOT","\042"}, {"QUOT;","\042"},
    {"Qfr;","\360\235\224\224"}, {"Qopf;","\342\204\232"}, {"Qscr;","\360\235\222\254"}, {"RBarr;","\342\244\220"},
    {"REG","\302\256"}, {"REG;","\302\256"}, {"Racute;","\305\224"}, {"Rang;","\342\237\253"},
    {"Rarr;","\342\206\240"}, {"Rarrtl;","\342\244\226"}, {"Rcaron;","\305\230"}, {"Rcedil;","\305\226"},
    {"Rcy;","\320\240"}, {"Re;","\342\204\234"}, {"ReverseElement;","\342\210\213"}, {"ReverseEquilibrium;","\342\207\213"},
    {"ReverseUpEquilibrium;","\342\245\257"}, {"Rfr;","\342\204\234"}, {"Rho;","\316\241"}, {"RightAngleBracket;","\342\237\251"},
    {"RightArrow;","\342\206\222"}, {"RightArrowBar;","\342\207\245"}, {"RightArrowLeftArrow;","\342\207\204"}, {"RightCeiling;","\342\214\211"},
    {"RightDoubleBracket;","\342\237\247"}, {"RightDownTeeVector;","\342\245\235"}, {"RightDownVector;","\342\207\202"}, {"RightDownVectorBar;","\342\245\225"},
    {"RightFloor;","\342\214\213"}, {"RightTee;","\342\212\242"}, {"RightTeeArrow;","\342\206\246"}, {"RightTeeVector;","\342\245\233"},
    {"RightTriangle;","\342\212\263"}, {"RightTriangleBar;","\342\247\220"}, {"RightTriangleEqual;","\342\212\265"}, {"RightUpDownVector;","\342\245\217"},
    {"RightUpTeeVector;","\342\245\234"}, {"RightUpVector;","\342\206\276"}, {"RightUpVectorBar;","\342\245\224"}, {"RightVector;","\342\207\200"},
    {"RightVectorBar;","\342\245\223"}, {"Rightarrow;","\342\207\222"}, {"Ropf;","\342\204\235"}, {"RoundImplies;","\342\245\260"},
    {"Rrightarrow;","\342\207\233"}, {"Rscr;","\342\204\233"}, {"Rsh;","\342\206\261"}, {"RuleDelayed;","\342\247\264"},
    {"SHCHcy;","\320\251"}, {"SHcy;","\320\250"}, {"SOFTcy;","\320\254"}, {"Sacute;","\305\232"},
    {"Sc;","\342\252\274"}, {"Scaron;","\305\240"}, {"Scedil;","\305\236"}, {"Scirc;","\305\234"},
    {"Scy;","\320\241"}, {"Sfr;","\360\235\224\226"}, {"ShortDownArrow;","\342\206\223"}, {"ShortLeftArrow;","\342\206\220"},
    {"ShortRightArrow;","\342\206\222"}, {"ShortUpArrow;","\342\206\221"}, {"Sigma;","\316\243"}, {"SmallCircle;","\342\210\230"},
    {"Sopf;","\360\235\225\212"}, {"Sqrt;","\342\210\232"}, {"Square;","\342\226\241"}, {"SquareIntersection;","\342\212\223"},
    {"SquareSubset;","\342\212\217"}, {"SquareSubsetEqual;","\342\212\221"}, {"SquareSuperset;","\342\212\220"}, {"SquareSupersetEqual;","\342\212\222"},
    {"SquareUnion;","\342\212\224"}, {"Sscr;","\360\235\222\256"}, {"Star;","\342\213\206"}, {"Sub;","\342\213\220"},
    {"Subset;","\342\213\220"}, {"SubsetEqual;","\342\212\206"}, {"Succeeds;","\342\211\273"}, {"SucceedsEqual;","\342\252\260"},
    {"SucceedsSlantEqual;","\342\211\275"}, {"SucceedsTilde;","\342\211\277"}, {"SuchThat;","\342\210\213"}, {"Sum;","\342\210\221"},
    {"Sup;","\342\213\221"}, {"Superset;","\342\212\203"}, {"SupersetEqual;","\342\212\207"}, {"Supset;","\342\213\221"},
    {"THORN","\303\236"}, {"THORN;","\303\236"}, {"TRADE;","\342\204\242"}, {"TSHcy;","\320\213"},
    {"TScy;","\320\246"}, {"Tab;","\011"}, {"Tau;","\316\244"}, {"Tcaron;","\305\244"},
    {"Tcedil;","\305\242"}, {"Tcy;","\320\242"}, {"Tfr;","\360\235\224\227"}, {"Therefore;","\342\210\264"},
    {"Theta;","\316\230"}, {"ThickSpace;","\342\201\237\342\200\212"}, {"ThinSpace;","\342\200\211"}, {"Tilde;","\342\210\274"},
    {"TildeEqual;","\342\211\203"}, {"TildeFullEqual;","\342\211\205"}, {"TildeTilde;","\342\211\210"}, {"Topf;","\360\235\225\213"},
    {"TripleDot;","\342\203\233"}, {"Tscr;","\360\235\222\257"}, {"Tstrok;","\305\246"}, {"Uacute","\303\232"},
    {"Uacute;","\303\232"}, {"Uarr;","\342\206\237"}, {"Uarrocir;","\342\245\211"}, {"Ubrcy;","\320\216"},
    {"Ubreve;","\305\254"}, {"Ucirc","\303\233"}, {"Ucirc;","\303\233"}, {"Ucy;","\320\243"},
    {"Udblac;","\305\260"}, {"Ufr;","\360\235\224\230"}, {"Ugrave","\303\231"}, {"Ugrave;","\303\231"},
    {"Umacr;","\305\252"}, {"UnderBar;","_"}, {"UnderBrace;","\342\217\237"}, {"UnderBracket;","\342\216\265"},
    {"UnderParenthesis;","\342\217\235"}, {"Union;","\342\213\203"}, {"UnionPlus;","\342\212\216"}, {"Uogon;","\305\262"},
    {"Uopf;","\360\235\225\214"}, {"UpArrow;","\342\206\221"}, {"UpArrowBar;","\342\244\222"}, {"UpArrowDownArrow;","\342\207\205"},
    {"UpDownArrow;","\342\206\225"}, {"UpEquilibrium;","\342\245\256"}, {"UpTee;","\342\212\245"}, {"UpTeeArrow;","\342\206\245"},
    {"Uparrow;","\342\207\221"}, {"Updownarrow;","\342\207\225"}, {"UpperLeftArrow;","\342\206\226"}, {"UpperRightArrow;","\342\206\227"},
    {"Upsi;","\317\222"}, {"Upsilon;","\316\245"}, {"Uring;","\305\256"}, {"Uscr;","\360\235\222\260"},
    {"Utilde;","\305\250"}, {"Uuml","\303\234"}, {"Uuml;","\303\234"}, {"VDash;","\342\212\253"},
    {"Vbar;","\342\253\253"}, {"Vcy;","\320\222"}, {"Vdash;","\342\212\251"}, {"Vdashl;","\342\253\246"},
    {"Vee;","\342\213\201"}, {"Verbar;","\342\200\226"}, {"Vert;","\342\200\226"}, {"VerticalBar;","\342\210\243"},
    {"VerticalLine;","|"}, {"VerticalSeparator;","\342\235\230"}, {"VerticalTilde;","\342\211\200"}, {"VeryThinSpace;","\342\200\212"},
    {"Vfr;","\360\235\224\231"}, {"Vopf;","\360\235\225\215"}, {"Vscr;","\360\235\222\261"}, {"Vvdash;","\342\212\252"},
    {"Wcirc;","\305\264"}, {"Wedge;","\342\213\200"}, {"Wfr;","\360\235\224\232"}, {"Wopf;","\360\235\225\216"},
    {"Wscr;","\360\235\222\262"}, {"Xfr;","\360\235\224\233"}, {"Xi;","\316\236"}, {"Xopf;","\360\235\225\217"},
    {"Xscr;","\360\235\222\263"}, {"YAcy;","\320\257"}, {"YIcy;","\320\207"}, {"YUcy;","\320\256"},
    {"Yacute","\303\235"}, {"Yacute;","\303\235"}, {"Ycirc;","\305\266"}, {"Ycy;","\320\253"},
    {"Yfr;","\360\235\224\234"}, {"Yopf;","\360\235\225\220"}, {"Yscr;","\360\235\222\264"}, {"Yuml;","\305\270"},
    {"ZHcy;","\320\226"}, {"Zacute;","\305\271"}, {"Zcaron;","\305\275"}, {"Zcy;","\320\227"},
    {"Zdot;","\305\273"}, {"ZeroWidthSpace;","\342\200\213"}, {"Zeta;","\316\226"}, {"Zfr;","\342\204\250"},
    {"Zopf;","\342\204\244"}, {"Zscr;","\360\235\222\265"}, {"aacute","\303\241"}, {"aacute;","\303\241"},
    {"abreve;","\304\203"}, {"ac;","\342\210\276"}, {"acE;","\342\210\276\314\263"}, {"acd;","\342\210\277"},
    {"acirc","\303\242"}, {"acirc;","\303\242"}, {"acute","\302\264"}, {"acute;","\302\264"},
    {"acy;","\320\260"}, {"aelig","\303\246"}, {"aelig;","\303\246"}, {"af;","\342\201\241"},
    {"afr;","\360\235\224\236"}, {"agrave","\303\240"}, {"agrave;","\303\240"}, {"alefsym;","\342\204\265"},
    {"aleph;","\342\204\265"}, {"alpha;","\316\261"}, {"amacr;","\304\201"}, {"amalg;","\342\250\277"},
    {"amp","&"}, {"amp;","&"}, {"and;","\342\210\247"}, {"andand;","\342\251\225"},
    {"andd;","\342\251\234"}, {"andslope;","\342\251\230"}, {"andv;","\342\251\232"}, {"ang;","\342\210\240"},
    {"ange;","\342\246\244"}, {"angle;","\342\210\240"}, {"angmsd;","\342\210\241"}, {"angmsdaa;","\342\246\250"},
    {"angmsdab;","\342\246\251"}, {"angmsdac;","\342\246\252"}, {"angmsdad;","\342\246\253"}, {"angmsdae;","\342\246\254"},
    {"angmsdaf;","\342\246\255"}, {"angmsdag;","\342\246\256"}, {"angmsdah;","\342\246\257"}, {"angrt;","\342\210\237"},
    {"angrtvb;","\342\212\276"}, {"angrtvbd;","\342\246\235"}, {"angsph;","\342\210\242"}, {"angst;","\303\205"},
    {"angzarr;","\342\215\274"}, {"aogon;","\304\205"}, {"aopf;","\360\235\225\222"}, {"ap;","\342\211\210"},
    {"apE;","\342\251\260"}, {"apacir;","\342\251\257"}, {"ape;","\342\211\212"}, {"apid;","\342\211\213"},
    {"apos;","'"}, {"approx;","\342\211\210"}, {"approxeq;","\342\211\212"}, {"aring","\303\245"},
    {"aring;","\303\245"}, {"ascr;","\360\235\222\266"}, {"ast;","*"}, {"asymp;","\342\211\210"},
    {"asympeq;","\342\211\215"}, {"atilde","\303\243"}, {"atilde;","\303\243"}, {"auml","\303\244"},
    {"auml;","\303\244"}, {"awconint;","\342\210\263"}, {"awint;","\342\250\221"}, {"bNot;","\342\253\255"},
    {"backcong;","\342\211\214"}, {"backepsilon;","\317\266"}, {"backprime;","\342\200\265"}, {"backsim;","\342\210\275"},
    {"backsimeq;","\342\213\215"}, {"barvee;","\342\212\275"}, {"barwed;","\342\214\205"}, {"barwedge;","\342\214\205"},
    {"bbrk;","\342\216\265"}, {"bbrktbrk;","\342\216\266"}, {"bcong;","\342\211\214"}, {"bcy;","\320\261"},
    {"bdquo;","\342\200\236"}, {"becaus;","\342\210\265"}, {"because;","\342\210\265"}, {"bemptyv;","\342\246\260"},
    {"bepsi;","\317\266"}, {"bernou;","\342\204\254"}, {"beta;","\316\262"}, {"beth;","\342\204\266"},
    {"between;","\342\211\254"}, {"bfr;","\360\235\224\237"}, {"bigcap;","\342\213\202"}, {"bigcirc;","\342\227\257"},
    {"bigcup;","\342\213\203"}, {"bigodot;","\342\250\200"}, {"bigoplus;","\342\250\201"}, {"bigotimes;","\342\250\202"},
    {"bigsqcup;","\342\250\206"}, {"bigstar;","\342\230\205"}, {"bigtriangledown;","\342\226\275"}, {"bigtriangleup;","\342\226\263"},
    {"biguplus;","\342\250\204"}, {"bigvee;","\342\213\201"}, {"bigwedge;","\342\213\200"}, {"bkarow;","\342\244\215"},
    {"blacklozenge;","\342\247\253"}, {"blacksquare;","\342\226\252"}, {"blacktriangle;","\342\226\264"}, {"blacktriangledown;","\342\226\276"},
    {"blacktriangleleft;","\342\227\202"}, {"blacktriangleright;","\342\226\270"}, {"blank;","\342\220\243"}, {"blk12;","\342\226\222"},
    {"blk14;","\342\226\221"}, {"blk34;","\342\226\223"}, {"block;","\342\226\210"}, {"bne;","=\342\203\245"},
    {"bnequiv;","\342\211\241\342\203\245"}, {"bnot;","\342\214\220"}, {"bopf;","\360\235\225\223"}, {"bot;","\342\212\245"},
    {"bottom;","\342\212\245"}, {"bowtie;","\342\213\210"}, {"boxDL;","\342\225\227"}, {"boxDR;","\342\225\224"},
    {"boxDl;","\342\225\226"}, {"boxDr;","\342\225\223"}, {"boxH;","\342\225\220"}, {"boxHD;","\342\225\246"},
    {"boxHU;","\342\225\251"}, {"boxHd;","\342\225\244"}, {"boxHu;","\342\225\247"}, {"boxUL;","\342\225\235"},
    {"boxUR;","\342\225\232"}, {"boxUl;","\342\225\234"}, {"boxUr;","\342\225\231"}, {"boxV;","\342\225\221"},
    {"boxVH;","\342\225\254"}, {"boxVL;","\342\225\243"}, {"boxVR;","\342\225\240"}, {"boxVh;","\342\225\253"},
    {"boxVl;","\342\225\242"}, {"boxVr;","\342\225\237"}, {"boxbox;","\342\247\211"}, {"boxdL;","\342\225\225"},
    {"boxdR;","\342\225\222"}, {"boxdl;","\342\224\220"}, {"boxdr;","\342\224\214"}, {"boxh;","\342\224\200"},
    {"boxhD;","\342\225\245"}, {"boxhU;","\342\225\250"}, {"boxhd;","\342\224\254"}, {"boxhu;","\342\224\264"},
    {"boxminus;","\342\212\237"}, {"boxplus;","\342\212\236"}, {"boxtimes;","\342\212\240"}, {"boxuL;","\342\225\233"},
    {"boxuR;","\342\225\230"}, {"boxul;","\342\224\230"}, {"boxur;","\342\224\224"}, {"boxv;","\342\224\202"},
    {"boxvH;","\342\225\252"}, {"boxvL;","\342\225\241"}, {"boxvR;","\342\225\236"}, {"boxvh;","\342\224\274"},
    {"boxvl;","\342\224\244"}, {"boxvr;","\342\224\234"}, {"bprime;","\342\200\265"}, {"breve;","\313\230"},
    {"brvbar","\302\246"}, {"brvbar;","\302\246"}, {"bscr;","\360\235\222\267"}, {"bsemi;","\342\201\217"},
    {"bsim;","\342\210\275"}, {"bsime;","\342\213\215"}, {"bsol;","\134"}, {"bsolb;","\342\247\205"},
    {"bsolhsub;","\342\237\210"}, {"bull;","\342\200\242"}, {"bullet;","\342\200\242"}, {"bump;","\342\211\216"},
    {"bumpE;","\342\252\256"}, {"bumpe;","\342\211\217"}, {"bumpeq;","\342\211\217"}, {"cacute;","\304\207"},
    {"cap;","\342\210\251"}, {"capand;","\342\251\204"}, {"capbrcup;","\342\251\211"}, {"capcap;","\342\251\213"},
    {"capcup;","\342\251\207"}, {"capdot;","\342\251\200"}, {"caps;","\342\210\251\357\270\200"}, {"caret;","\342\201\201"},
    {"caron;","\313\207"}, {"ccaps;","\342\251\215"}, {"ccaron;","\304\215"}, {"ccedil","\303\247"},
    {"ccedil;","\303\247"}, {"ccirc;","\304\211"}, {"ccups;","\342\251\214"}, {"ccupssm;","\342\251\220"},
    {"cdot;","\304\213"}, {"cedil","\302\270"}, {"cedil;","\302\270"}, {"cemptyv;","\342\246\262"},
    {"cent","\302\242"}, {"cent;","\302\242"}, {"centerdot;","\302\267"}, {"cfr;","\360\235\224\240"},
    {"chcy;","\321\207"}, {"check;","\342\234\223"}, {"checkmark;","\342\234\223"}, {"chi;","\317\207"},
    {"cir;","\342\227\213"}, {"cirE;","\342\247\203"}, {"circ;","\313\206"}, {"circeq;","\342\211\227"},
    {"circlearrowleft;","\342\206\272"}, {"circlearrowright;","\342\206\273"}, {"circledR;","\302\256"}, {"circledS;","\342\223\210"},
    {"circledast;","\342\212\233"}, {"circledcirc;","\342\212\232"}, {"circleddash;","\342\212\235"}, {"cire;","\342\211\227"},
    {"cirfnint;","\342\250\220"}, {"cirmid;","\342\253\257"}, {"cirscir;","\342\247\202"}, {"clubs;","\342\231\243"},
    {"clubsuit;","\342\231\243"}, {"colon;",":"}, {"colone;","\342\211\224"}, {"coloneq;","\342\211\224"},
    {"comma;",","}, {"commat;","@"}, {"comp;","\342\210\201"}, {"compfn;","\342\210\230"},
    {"complement;","\342\210\201"}, {"complexes;","\342\204\202"}, {"cong;","\342\211\205"}, {"congdot;","\342\251\255"},
    {"conint;","\342\210\256"}, {"copf;","\360\235\225\224"}, {"coprod;","\342\210\220"}, {"copy","\302\251"},
    {"copy;","\302\251"}, {"copysr;","\342\204\227"}, {"crarr;","\342\206\265"}, {"cross;","\342\234\227"},
    {"cscr;","\360\235\222\270"}, {"csub;","\342\253\217"}, {"csube;","\342\253\221"}, {"csup;","\342\253\220"},
    {"csupe;","\342\253\222"}, {"ctdot;","\342\213\257"}, {"cudarrl;","\342\244\270"}, {"cudarrr;","\342\244\265"},
    {"cuepr;","\342\213\236"}, {"cuesc;","\342\213\237"}, {"cularr;","\342\206\266"}, {"cularrp;","\342\244\275"},
    {"cup;","\342\210\252"}, {"cupbrcap;","\342\251\210"}, {"cupcap;","\342\251\206"}, {"cupcup;","\342\251\212"},
    {"cupdot;","\342\212\215"}, {"cupor;","\342\251\205"}, {"cups;","\342\210\252\357\270\200"}, {"curarr;","\342\206\267"},
    {"curarrm;","\342\244\274"}, {"curlyeqprec;","\342\213\236"}, {"curlyeqsucc;","\342\213\237"}, {"curlyvee;","\342\213\216"},
    {"curlywedge;","\342\213\217"}, {"curren","\302\244"}, {"curren;","\302\244"}, {"curvearrowleft;","\342\206\266"},
    {"curvearrowright;","\342\206\267"}, {"cuvee;","\342\213\216"}, {"cuwed;","\342\213\217"}, {"cwconint;","\342\210\262"},
    {"cwint;","\342\210\261"}, {"cylcty;","\342\214\255"}, {"dArr;","\342\207\223"}, {"dHar;","\342\245\245"},
    {"dagger;","\342\200\240"}, {"daleth;","\342\204\270"}, {"darr;","\342\206\223"}, {"dash;","\342\200\220"},
    {"dashv;","\342\212\243"}, {"dbkarow;","\342\244\217"}, {"dblac;","\313\235"}, {"dcaron;","\304\217"},
    {"dcy;","\320\264"}, {"dd;","\342\205\206"}, {"ddagger;","\342\200\241"}, {"ddarr;","\342\207\212"},
    {"ddotseq;","\342\251\267"}, {"deg","\302\260"}, {"deg;","\302\260"}, {"delta;","\316\264"},
    {"demptyv;","\342\246\261"}, {"dfisht;","\342\245\277"}, {"dfr;","\360\235\224\241"}, {"dharl;","\342\207\203"},
    {"dharr;","\342\207\202"}, {"diam;","\342\213\204"}, {"diamond;","\342\213\204"}, {"diamondsuit;","\342\231\246"},
    {"diams;","\342\231\246"}, {"die;","\302\250"}, {"digamma;","\317\235"}, {"disin;","\342\213\262"},
    {"div;","\303\267"}, {"divide","\303\267"}, {"divide;","\303\267"}, {"divideontimes;","\342\213\207"},
    {"divonx;","\342\213\207"}, {"djcy;","\321\222"}, {"dlcorn;","\342\214\236"}, {"dlcrop;","\342\214\215"},
    {"dollar;","$"}, {"dopf;","\360\235\225\225"}, {"dot;","\313\231"}, {"doteq;","\342\211\220"},
    {"doteqdot;","\342\211\221"}, {"dotminus;","\342\210\270"}, {"dotplus;","\342\210\224"}, {"dotsquare;","\342\212\241"},
    {"doublebarwedge;","\342\214\206"}, {"downarrow;","\342\206\223"}, {"downdownarrows;","\342\207\212"}, {"downharpoonleft;","\342\207\203"},
    {"downharpoonright;","\342\207\202"}, {"drbkarow;","\342\244\220"}, {"drcorn;","\342\214\237"}, {"drcrop;","\342\214\214"},
    {"dscr;","\360\235\222\271"}, {"dscy;","\321\225"}, {"dsol;","\342\247\266"}, {"dstrok;","\304\221"},
    {"dtdot;","\342\213\261"}, {"dtri;","\342\226\277"}, {"dtrif;","\342\226\276"}, {"duarr;","\342\207\265"},
    {"duhar;","\342\245\257"}, {"dwangle;","\342\246\246"}, {"dzcy;","\321\237"}, {"dzigrarr;","\342\237\277"},
    {"eDDot;","\342\251\267"}, {"eDot;","\342\211\221"}, {"eacute","\303\251"}, {"eacute;","\303\251"},
    {"easter;","\342\251\256"}, {"ecaron;","\304\233"}, {"ecir;","\342\211\226"}, {"ecirc","\303\252"},
    {"ecirc;","\303\252"}, {"ecolon;","\342\211\225"}, {"ecy;","\321\215"}, {"edot;","\304\227"},
    {"ee;","\342\205\207"}, {"efDot;","\342\211\222"}, {"efr;","\360\235\224\242"}, {"eg;","\342\252\232"},
    {"egrave","\303\250"}, {"egrave;","\303\250"}, {"egs;","\342\252\226"}, {"egsdot;","\342\252\230"},
    {"el;","\342\252\231"}, {"elinters;","\342\217\247"}, {"ell;","\342\204\223"}, {"els;","\342\252\225"},
    {"elsdot;","\342\252\227"}, {"emacr;","\304\223"}, {"empty;","\342\210\205"}, {"emptyset;","\342\210\205"},
    {"emptyv;","\342\210\205"}, {"emsp13;","\342\200\204"}, {"emsp14;","\342\200\205"}, {"emsp;","\342\200\203"},
    {"eng;","\305\213"}, {"ensp;","\342\200\202"}, {"eogon;","\304\231"}, {"eopf;","\360\235\225\226"},
    {"epar;","\342\213\225"}, {"eparsl;","\342\247\243"}, {"eplus;","\342\251\261"}, {"epsi;","\316\265"},
    {"epsilon;","\316\265"}, {"epsiv;","\317\265"}, {"eqcirc;","\342\211\226"}, {"eqcolon;","\342\211\225"},
    {"eqsim;","\342\211\202"}, {"eqslantgtr;","\342\252\226"}, {"eqslantless;","\342\252\225"}, {"equals;","="},
    {"equest;","\342\211\237"}, {"equiv;","\342\211\241"}, {"equivDD;","\342\251\270"}, {"eqvparsl;","\342\247\245"},
    {"erDot;","\342\211\223"}, {"erarr;","\342\245\261"}, {"escr;","\342\204\257"}, {"esdot;","\342\211\220"},
    {"esim;","\342\211\202"}, {"eta;","\316\267"}, {"eth","\303\260"}, {"eth;","\303\260"},
    {"euml","\303\253"}, {"euml;","\303\253"}, {"euro;","\342\202\254"}, {"excl;","!"},
    {"exist;","\342\210\203"}, {"expectation;","\342\204\260"}, {"exponentiale;","\342\205\207"}, {"fallingdotseq;","\342\211\222"},
    {"fcy;","\321\204"}, {"female;","\342\231\200"}, {"ffilig;","\357\254\203"}, {"fflig;","\357\254\200"},
    {"ffllig;","\357\254\204"}, {"ffr;","\360\235\224\243"}, {"filig;","\357\254\201"}, {"fjlig;","fj"},
    {"flat;","\342\231\255"}, {"fllig;","\357\254\202"}, {"fltns;","\342\226\261"}, {"fnof;","\306\222"},
    {"fopf;","\360\235\225\227"}, {"forall;","\342\210\200"}, {"fork;","\342\213\224"}, {"forkv;","\342\253\231"},
    {"fpartint;","\342\250\215"}, {"frac12","\302\275"}, {"frac12;","\302\275"}, {"frac13;","\342\205\223"},
    {"frac14","\302\274"}, {"frac14;","\302\274"}, {"frac15;","\342\205\225"}, {"frac16;","\342\205\231"},
    {"frac18;","\342\205\233"}, {"frac23;","\342\205\224"}, {"frac25;","\342\205\226"}, {"frac34","\302\276"},
    {"frac34;","\302\276"}, {"frac35;","\342\205\227"}, {"frac38;","\342\205\234"}, {"frac45;","\342\205\230"},
    {"frac56;","\342\205\232"}, {"frac58;","\342\205\235"}, {"frac78;","\342\205\236"}, {"frasl;","\342\201\204"},
    {"frown;","\342\214\242"}, {"fscr;","\360\235\222\273"}, {"gE;","\342\211\247"}, {"gEl;","\342\252\214"},
    {"gacute;","\307\265"}, {"gamma;","\316\263"}, {"gammad;","\317\235"}, {"gap;","\342\252\206"},
    {"gbreve;","\304\237"}, {"gcirc;","\304\235"}, {"gcy;","\320\263"}, {"gdot;","\304\241"},
    {"ge;","\342\211\245"}, {"gel;","\342\213\233"}, {"geq;","\342\211\245"}, {"geqq;","\342\211\247"},
    {"geqslant;","\342\251\276"}, {"ges;","\342\251\276"}, {"gescc;","\342\252\251"}, {"gesdot;","\342\252\200"},
    {"gesdoto;","\342\252\202"}, {"gesdotol;","\342\252\204"}, {"gesl;","\342\213\233\357\270\200"}, {"gesles;","\342\252\224"},
    {"gfr;","\360\235\224\244"}, {"gg;","\342\211\253"}, {"ggg;","\342\213\231"}, {"gimel;","\342\204\267"},
    {"gjcy;","\321\223"}, {"gl;","\342\211\267"}, {"glE;","\342\252\222"}, {"gla;","\342\252\245"},
    {"glj;","\342\252\244"}, {"gnE;","\342\211\251"}, {"gnap;","\342\252\212"}, {"gnapprox;","\342\252\212"},
    {"gne;","\342\252\210"}, {"gneq;","\342\252\210"}, {"gneqq;","\342\211\251"}, {"gnsim;","\342\213\247"},
    {"gopf;","\360\235\225\230"}, {"grave;","`"}, {"gscr;","\342\204\212"}, {"gsim;","\342\211\263"},
    {"gsime;","\342\252\216"}, {"gsiml;","\342\252\220"}, {"gt",">"}, {"gt;",">"},
    {"gtcc;","\342\252\247"}, {"gtcir;","\342\251\272"}, {"gtdot;","\342\213\227"}, {"gtlPar;","\342\246\225"},
    {"gtquest;","\342\251\274"}, {"gtrapprox;","\342\252\206"}, {"gtrarr;","\342\245\270"}, {"gtrdot;","\342\213\227"},
    {"gtreqless;","\342\213\233"}, {"gtreqqless;","\342\252\214"}, {"gtrless;","\342\211\267"}, {"gtrsim;","\342\211\263"},
    {"gvertneqq;","\342\211\251\357\270\200"}, {"gvnE;","\342\211\251\357\270\200"}, {"hArr;","\342\207\224"}, {"hairsp;","\342\200\212"},
    {"half;","\302\275"}, {"hamilt;","\342\204\213"}, {"hardcy;","\321\212"}, {"harr;","\342\206\224"},
    {"harrcir;","\342\245\210"}, {"harrw;","\342\206\255"}, {"hbar;","\342\204\217"}, {"hcirc;","\304\245"},
    {"hearts;","\342\231\245"}, {"heartsuit;","\342\231\245"}, {"hellip;","\342\200\246"}, {"hercon;","\342\212\271"},
    {"hfr;","\360\235\224\245"}, {"hksearow;","\342\244\245"}, {"hkswarow;","\342\244\246"}, {"hoarr;","\342\207\277"},
    {"homtht;","\342\210\273"}, {"hookleftarrow;","\342\206\251"}, {"hookrightarrow;","\342\206\252"}, {"hopf;","\360\235\225\231"},
    {"horbar;","\342\200\225"}, {"hscr;","\360\235\222\275"}, {"hslash;","\342\204\217"}, {"hstrok;","\304\247"},
    {"hybull;","\342\201\203"}, {"hyphen;","\342\200\220"}, {"iacute","\303\255"}, {"iacute;","\303\255"},
    {"ic;","\342\201\243"}, {"icirc","\303\256"}, {"icirc;","\303\256"}, {"icy;","\320\270"},
    {"iecy;","\320\265"}, {"iexcl","\302\241"}, {"iexcl;","\302\241"}, {"iff;","\342\207\224"},
    {"ifr;","\360\235\224\246"}, {"igrave","\303\254"}, {"igrave;","\303\254"}, {"ii;","\342\205\210"},
    {"iiiint;","\342\250\214"}, {"iiint;","\342\210\255"}, {"iinfin;","\342\247\234"}, {"iiota;","\342\204\251"},
    {"ijlig;","\304\263"}, {"imacr;","\304\253"}, {"image;","\342\204\221"}, {"imagline;","\342\204\220"},
    {"imagpart;","\342\204\221"}, {"imath;","\304\261"}, {"imof;","\342\212\267"}, {"imped;","\306\265"},
    {"in;","\342\210\210"}, {"incare;","\342\204\205"}, {"infin;","\342\210\236"}, {"infintie;","\342\247\235"},
    {"inodot;","\304\261"}, {"int;","\342\210\253"}, {"intcal;","\342\212\272"}, {"integers;","\342\204\244"},
    {"intercal;","\342\212\272"}, {"intlarhk;","\342\250\227"}, {"intprod;","\342\250\274"}, {"iocy;","\321\221"},
    {"iogon;","\304\257"}, {"iopf;","\360\235\225\232"}, {"iota;","\316\271"}, {"iprod;","\342\250\274"},
    {"iquest","\302\277"}, {"iquest;","\302\277"}, {"iscr;","\360\235\222\276"}, {"isin;","\342\210\210"},
    {"isinE;","\342\213\271"}, {"isindot;","\342\213\265"}, {"isins;","\342\213\264"}, {"isinsv;","\342\213\263"},
    {"isinv;","\342\210\210"}, {"it;","\342\201\242"}, {"itilde;","\304\251"}, {"iukcy;","\321\226"},
    {"iuml","\303\257"}, {"iuml;","\303\257"}, {"jcirc;","\304\265"}, {"jcy;","\320\271"},
    {"jfr;","\360\235\224\247"}, {"jmath;","\310\267"}, {"jopf;","\360\235\225\233"}, {"jscr;","\360\235\222\277"},
    {"jsercy;","\321\230"}, {"jukcy;","\321\224"}, {"kappa;","\316\272"}, {"kappav;","\317\260"},
    {"kcedil;","\304\267"}, {"kcy;","\320\272"}, {"kfr;","\360\235\224\250"}, {"kgreen;","\304\270"},
    {"khcy;","\321\205"}, {"kjcy;","\321\234"}, {"kopf;","\360\235\225\234"}, {"kscr;","\360\235\223\200"},
    {"lAarr;","\342\207\232"}, {"lArr;","\342\207\220"}, {"lAtail;","\342\244\233"}, {"lBarr;","\342\244\216"},
    {"lE;","\342\211\246"}, {"lEg;","\342\252\213"}, {"lHar;","\342\245\242"}, {"lacute;","\304\272"},
    {"laemptyv;","\342\246\264"}, {"lagran;","\342\204\222"}, {"lambda;","\316\273"}, {"lang;","\342\237\250"},
    {"langd;","\342\246\221"}, {"langle;","\342\237\250"}, {"lap;","\342\252\205"}, {"laquo","\302\253"},
    {"laquo;","\302\253"}, {"larr;","\342\206\220"}, {"larrb;","\342\207\244"}, {"larrbfs;","\342\244\237"},
    {"larrfs;","\342\244\235"}, {"larrhk;","\342\206\251"}, {"larrlp;","\342\206\253"}, {"larrpl;","\342\244\271"},
    {"larrsim;","\342\245\263"}, {"larrtl;","\342\206\242"}, {"lat;","\342\252\253"}, {"latail;","\342\244\231"},
    {"late;","\342\252\255"}, {"lates;","\342\252\255\357\270\200"}, {"lbarr;","\342\244\214"}, {"lbbrk;","\342\235\262"},
    {"lbrace;","{"}, {"lbrack;","["}, {"lbrke;","\342\246\213"}, {"lbrksld;","\342\246\217"},
    {"lbrkslu;","\342\246\215"}, {"lcaron;","\304\276"}, {"lcedil;","\304\274"}, {"lceil;","\342\214\210"},
    {"lcub;","{"}, {"lcy;","\320\273"}, {"ldca;","\342\244\266"}, {"ldquo;","\342\200\234"},
    {"ldquor;","\342\200\236"}, {"ldrdhar;","\342\245\247"}, {"ldrushar;","\342\245\213"}, {"ldsh;","\342\206\262"},
    {"le;","\342\211\244"}, {"leftarrow;","\342\206\220"}, {"leftarrowtail;","\342\206\242"}, {"leftharpoondown;","\342\206\275"},
    {"leftharpoonup;","\342\206\274"}, {"leftleftarrows;","\342\207\207"}, {"leftrightarrow;","\342\206\224"}, {"leftrightarrows;","\342\207\206"},
    {"leftrightharpoons;","\342\207\213"}, {"leftrightsquigarrow;","\342\206\255"}, {"leftthreetimes;","\342\213\213"}, {"leg;","\342\213\232"},
    {"leq;","\342\211\244"}, {"leqq;","\342\211\246"}, {"leqslant;","\342\251\275"}, {"les;","\342\251\275"},
    {"lescc;","\342\252\250"}, {"lesdot;","\342\251\277"}, {"lesdoto;","\342\252\201"}, {"lesdotor;","\342\252\203"},
    {"lesg;","\342\213\232\357\270\200"}, {"lesges;","\342\252\223"}, {"lessapprox;","\342\252\205"}, {"lessdot;","\342\213\226"},
    {"lesseqgtr;","\342\213\232"}, {"lesseqqgtr;","\342\252\213"}, {"lessgtr;","\342\211\266"}, {"lesssim;","\342\211\262"},
    {"lfisht;","\342\245\274"}, {"lfloor;","\342\214\212"}, {"lfr;","\360\235\224\251"}, {"lg;","\342\211\266"},
    {"lgE;","\342\252\221"}, {"lhard;","\342\206\275"}, {"lharu;","\342\206\274"}, {"lharul;","\342\245\252"},
    {"lhblk;","\342\226\204"}, {"ljcy;","\321\231"}, {"ll;","\342\211\252"}, {"llarr;","\342\207\207"},
    {"llcorner;","\342\214\236"}, {"llhard;","\342\245\253"}, {"lltri;","\342\227\272"}, {"lmidot;","\305\200"},
    {"lmoust;","\342\216\260"}, {"lmoustache;","\342\216\260"}, {"lnE;","\342\211\250"}, {"lnap;","\342\252\211"},
    {"lnapprox;","\342\252\211"}, {"lne;","\342\252\207"}, {"lneq;","\342\252\207"}, {"lneqq;","\342\211\250"},
    {"lnsim;","\342\213\246"}, {"loang;","\342\237\254"}, {"loarr;","\342\207\275"}, {"lobrk;","\342\237\246"},
    {"longleftarrow;","\342\237\265"}, {"longleftrightarrow;","\342\237\267"}, {"longmapsto;","\342\237\274"}, {"longrightarrow;","\342\237\266"},
    {"looparrowleft;","\342\206\253"}, {"looparrowright;","\342\206\254"}, {"lopar;","\342\246\205"}, {"lopf;","\360\235\225\235"},
    {"loplus;","\342\250\255"}, {"lotimes;","\342\250\264"}, {"lowast;","\342\210\227"}, {"lowbar;","_"},
    {"loz;","\342\227\212"}, {"lozenge;","\342\227\212"}, {"lozf;","\342\247\253"}, {"lpar;","("},
    {"lparlt;","\342\246\223"}, {"lrarr;","\342\207\206"}, {"lrcorner;","\342\214\237"}, {"lrhar;","\342\207\213"},
    {"lrhard;","\342\245\255"}, {"lrm;","\342\200\216"}, {"lrtri;","\342\212\277"}, {"lsaquo;","\342\200\271"},
    {"lscr;","\360\235\223\201"}, {"lsh;","\342\206\260"}, {"lsim;","\342\211\262"}, {"lsime;","\342\252\215"},
    {"lsimg;","\342\252\217"}, {"lsqb;","["}, {"lsquo;","\342\200\230"}, {"lsquor;","\342\200\232"},
    {"lstrok;","\305\202"}, {"lt","<"}, {"lt;","<"}, {"ltcc;","\342\252\246"},
    {"ltcir;","\342\251\271"}, {"ltdot;","\342\213\226"}, {"lthree;","\342\213\213"}, {"ltimes;","\342\213\211"},
    {"ltlarr;","\342\245\266"}, {"ltquest;","\342\251\273"}, {"ltrPar;","\342\246\226"}, {"ltri;","\342\227\203"},
    {"ltrie;","\342\212\264"}, {"ltrif;","\342\227\202"}, {"lurdshar;","\342\245\212"}, {"luruhar;","\342\245\246"},
    {"lvertneqq;","\342\211\250\357\270\200"}, {"lvnE;","\342\211\250\357\270\200"}, {"mDDot;","\342\210\272"}, {"macr","\302\257"},
    {"macr;","\302\257"}, {"male;","\342\231\202"}, {"malt;","\342\234\240"}, {"maltese;","\342\234\240"},
    {"map;","\342\206\246"}, {"mapsto;","\342\206\246"}, {"mapstodown;","\342\206\247"}, {"mapstoleft;","\342\206\244"},
    {"mapstoup;","\342\206\245"}, {"marker;","\342\226\256"}, {"mcomma;","\342\250\251"}, {"mcy;","\320\274"},
    {"mdash;","\342\200\224"}, {"measuredangle;","\342\210\241"}, {"mfr;","\360\235\224\252"}, {"mho;","\342\204\247"},
    {"micro","\302\265"}, {"micro;","\302\265"}, {"mid;","\342\210\243"}, {"midast;","*"},
    {"midcir;","\342\253\260"}, {"middot","\302\267"}, {"middot;","\302\267"}, {"minus;","\342\210\222"},
    {"minusb;","\342\212\237"}, {"minusd;","\342\210\270"}, {"minusdu;","\342\250\252"}, {"mlcp;","\342\253\233"},
    {"mldr;","\342\200\246"}, {"mnplus;","\342\210\223"}, {"models;","\342\212\247"}, {"mopf;","\360\235\225\236"},
    {"mp;","\342\210\223"}, {"mscr;","\360\235\223\202"}, {"mstpos;","\342\210\276"}, {"mu;","\316\274"},
    {"multimap;","\342\212\270"}, {"mumap;","\342\212\270"}, {"nGg;","\342\213\231\314\270"}, {"nGt;","\342\211\253\342\203\222"},
    {"nGtv;","\342\211\253\314\270"}, {"nLeftarrow;","\342\207\215"}, {"nLeftrightarrow;","\342\207\216"}, {"nLl;","\342\213\230\314\270"},
    {"nLt;","\342\211\252\342\203\222"}, {"nLtv;","\342\211\252\314\270"}, {"nRightarrow;","\342\207\217"}, {"nVDash;","\342\212\257"},
    {"nVdash;","\342\212\256"}, {"nabla;","\342\210\207"}, {"nacute;","\305\204"}, {"nang;","\342\210\240\342\203\222"},
    {"nap;","\342\211\211"}, {"napE;","\342\251\260\314\270"}, {"napid;","\342\211\213\314\270"}, {"napos;","\305\211"},
    {"napprox;","\342\211\211"}, {"natur;","\342\231\256"}, {"natural;","\342\231\256"}, {"naturals;","\342\204\225"},
    {"nbsp","\302\240"}, {"nbsp;","\302\240"}, {"nbump;","\342\211\216\314\270"}, {"nbumpe;","\342\211\217\314\270"},
    {"ncap;","\342\251\203"}, {"ncaron;","\305\210"}, {"ncedil;","\305\206"}, {"ncong;","\342\211\207"},
    {"ncongdot;","\342\251\255\314\270"}, {"ncup;","\342\251\202"}, {"ncy;","\320\275"}, {"ndash;","\342\200\223"},
    {"ne;","\342\211\240"}, {"neArr;","\342\207\227"}, {"nearhk;","\342\244\244"}, {"nearr;","\342\206\227"},
    {"nearrow;","\342\206\227"}, {"nedot;","\342\211\220\314\270"}, {"nequiv;","\342\211\242"}, {"nesear;","\342\244\250"},
    {"nesim;","\342\211\202\314\270"}, {"nexist;","\342\210\204"}, {"nexists;","\342\210\204"}, {"nfr;","\360\235\224\253"},
    {"ngE;","\342\211\247\314\270"}, {"nge;","\342\211\261"}, {"ngeq;","\342\211\261"}, {"ngeqq;","\342\211\247\314\270"},
    {"ngeqslant;","\342\251\276\314\270"}, {"nges;","\342\251\276\314\270"}, {"ngsim;","\342\211\265"}, {"ngt;","\342\211\257"},
    {"ngtr;","\342\211\257"}, {"nhArr;","\342\207\216"}, {"nharr;","\342\206\256"}, {"nhpar;","\342\253\262"},
    {"ni;","\342\210\213"}, {"nis;","\342\213\274"}, {"nisd;","\342\213\272"}, {"niv;","\342\210\213"},
    {"njcy;","\321\232"}, {"nlArr;","\342\207\215"}, {"nlE;","\342\211\246\314\270"}, {"nlarr;","\342\206\232"},
    {"nldr;","\342\200\245"}, {"nle;","\342\211\260"}, {"nleftarrow;","\342\206\232"}, {"nleftrightarrow;","\342\206\256"},
    {"nleq;","\342\211\260"}, {"nleqq;","\342\211\246\314\270"}, {"nleqslant;","\342\251\275\314\270"}, {"nles;","\342\251\275\314\270"},
    {"nless;","\342\211\256"}, {"nlsim;","\342\211\264"}, {"nlt;","\342\211\256"}, {"nltri;","\342\213\252"},
    {"nltrie;","\342\213\254"}, {"nmid;","\342\210\244"}, {"nopf;","\360\235\225\237"}, {"not","\302\254"},
    {"not;","\302\254"}, {"notin;","\342\210\211"}, {"notinE;","\342\213\271\314\270"}, {"notindot;","\342\213\265\314\270"},
    {"notinva;","\342\210\211"}, {"notinvb;","\342\213\267"}, {"notinvc;","\342\213\266"}, {"notni;","\342\210\214"},
    {"notniva;","\342\210\214"}, {"notnivb;","\342\213\276"}, {"notnivc;","\342\213\275"}, {"npar;","\342\210\246"},
    {"nparallel;","\342\210\246"}, {"nparsl;","\342\253\275\342\203\245"}, {"npart;","\342\210\202\314\270"}, {"npolint;","\342\250\224"},
    {"npr;","\342\212\200"}, {"nprcue;","\342\213\240"}, {"npre;","\342\252\257\314\270"}, {"nprec;","\342\212\200"},
    {"npreceq;","\342\252\257\314\270"}, {"nrArr;","\342\207\217"}, {"nrarr;","\342\206\233"}, {"nrarrc;","\342\244\263\314\270"},
    {"nrarrw;","\342\206\235\314\270"}, {"nrightarrow;","\342\206\233"}, {"nrtri;","\342\213\253"}, {"nrtrie;","\342\213\255"},
    {"nsc;","\342\212\201"}, {"nsccue;","\342\213\241"}, {"nsce;","\342\252\260\314\270"}, {"nscr;","\360\235\223\203"},
    {"nshortmid;","\342\210\244"}, {"nshortparallel;","\342\210\246"}, {"nsim;","\342\211\201"}, {"nsime;","\342\211\204"},
    {"nsimeq;","\342\211\204"}, {"nsmid;","\342\210\244"}, {"nspar;","\342\210\246"}, {"nsqsube;","\342\213\242"},
    {"nsqsupe;","\342\213\243"}, {"nsub;","\342\212\204"}, {"nsubE;","\342\253\205\314\270"}, {"nsube;","\342\212\210"},
    {"nsubset;","\342\212\202\342\203\222"}, {"nsubseteq;","\342\212\210"}, {"nsubseteqq;","\342\253\205\314\270"}, {"nsucc;","\342\212\201"},
    {"nsucceq;","\342\252\260\314\270"}, {"nsup;","\342\212\205"}, {"nsupE;","\342\253\206\314\270"}, {"nsupe;","\342\212\211"},
    {"nsupset;","\342\212\203\342\203\222"}, {"nsupseteq;","\342\212\211"}, {"nsupseteqq;","\342\253\206\314\270"}, {"ntgl;","\342\211\271"},
    {"ntilde","\303\261"}, {"ntilde;","\303\261"}, {"ntlg;","\342\211\270"}, {"ntriangleleft;","\342\213\252"},
    {"ntrianglelefteq;","\342\213\254"}, {"ntriangleright;","\342\213\253"}, {"ntrianglerighteq;","\342\213\255"}, {"nu;","\316\275"},
    {"num;","#"}, {"numero;","\342\204\226"}, {"numsp;","\342\200\207"}, {"nvDash;","\342\212\255"},
    {"nvHarr;","\342\244\204"}, {"nvap;","\342\211\215\342\203\222"}, {"nvdash;","\342\212\254"}, {"nvge;","\342\211\245\342\203\222"},
    {"nvgt;",">\342\203\222"}, {"nvinfin;","\342\247\236"}, {"nvlArr;","\342\244\202"}, {"nvle;","\342\211\244\342\203\222"},
    {"nvlt;","<\342\203\222"}, {"nvltrie;","\342\212\264\342\203\222"}, {"nvrArr;","\342\244\203"}, {"nvrtrie;","\342\212\265\342\203\222"},
    {"nvsim;","\342\210\274\342\203\222"}, {"nwArr;","\342\207\226"}, {"nwarhk;","\342\244\243"}, {"nwarr;","\342\206\226"},
    {"nwarrow;","\342\206\226"}, {"nwnear;","\342\244\247"}, {"oS;","\342\223\210"}, {"oacute","\303\263"},
    {"oacute;","\303\263"}, {"oast;","\342\212\233"}, {"ocir;","\342\212\232"}, {"ocirc","\303\264"},
    {"ocirc;","\303\264"}, {"ocy;","\320\276"}, {"odash;","\342\212\235"}, {"odblac;","\305\221"},
    {"odiv;","\342\250\270"}, {"odot;","\342\212\231"}, {"odsold;","\342\246\274"}, {"oelig;","\305\223"},
    {"ofcir;","\342\246\277"}, {"ofr;","\360\235\224\254"}, {"ogon;","\313\233"}, {"ograve","\303\262"},
    {"ograve;","\303\262"}, {"ogt;","\342\247\201"}, {"ohbar;","\342\246\265"}, {"ohm;","\316\251"},
    {"oint;","\342\210\256"}, {"olarr;","\342\206\272"}, {"olcir;","\342\246\276"}, {"olcross;","\342\246\273"},
    {"oline;","\342\200\276"}, {"olt;","\342\247\200"}, {"omacr;","\305\215"}, {"omega;","\317\211"},
    {"omicron;","\316\277"}, {"omid;","\342\246\266"}, {"ominus;","\342\212\226"}, {"oopf;","\360\235\225\240"},
    {"opar;","\342\246\267"}, {"operp;","\342\246\271"}, {"oplus;","\342\212\225"}, {"or;","\342\210\250"},
    {"orarr;","\342\206\273"}, {"ord;","\342\251\235"}, {"order;","\342\204\264"}, {"orderof;","\342\204\264"},
    {"ordf","\302\252"}, {"ordf;","\302\252"}, {"ordm","\302\272"}, {"ordm;","\302\272"},
    {"origof;","\342\212\266"}, {"oror;","\342\251\226"}, {"orslope;","\342\251\227"}, {"orv;","\342\251\233"},
    {"oscr;","\342\204\264"}, {"oslash","\303\270"}, {"oslash;","\303\270"}, {"osol;","\342\212\230"},
    {"otilde","\303\265"}, {"otilde;","\303\265"}, {"otimes;","\342\212\227"}, {"otimesas;","\342\250\266"},
    {"ouml","\303\266"}, {"ouml;","\303\266"}, {"ovbar;","\342\214\275"}, {"par;","\342\210\245"},
    {"para","\302\266"}, {"para;","\302\266"}, {"parallel;","\342\210\245"}, {"parsim;","\342\253\263"},
    {"parsl;","\342\253\275"}, {"part;","\342\210\202"}, {"pcy;","\320\277"}, {"percnt;","%"},
    {"period;","."}, {"permil;","\342\200\260"}, {"perp;","\342\212\245"}, {"pertenk;","\342\200\261"},
    {"pfr;","\360\235\224\255"}, {"phi;","\317\206"}, {"phiv;","\317\225"}, {"phmmat;","\342\204\263"},
    {"phone;","\342\230\216"}, {"pi;","\317\200"}, {"pitchfork;","\342\213\224"}, {"piv;","\317\226"},
    {"planck;","\342\204\217"}, {"planckh;","\342\204\216"}, {"plankv;","\342\204\217"}, {"plus;","+"},
    {"plusacir;","\342\250\243"}, {"plusb;","\342\212\236"}, {"pluscir;","\342\250\242"}, {"plusdo;","\342\210\224"},
    {"plusdu;","\342\250\245"}, {"pluse;","\342\251\262"}, {"plusmn","\302\261"}, {"plusmn;","\302\261"},
    {"plussim;","\342\250\246"}, {"plustwo;","\342\250\247"}, {"pm;","\302\261"}, {"pointint;","\342\250\225"},
    {"popf;","\360\235\225\241"}, {"pound","\302\243"}, {"pound;","\302\243"}, {"pr;","\342\211\272"},
    {"prE;","\342\252\263"}, {"prap;","\342\252\267"}, {"prcue;","\342\211\274"}, {"pre;","\342\252\257"},
    {"prec;","\342\211\272"}, {"precapprox;","\342\252\267"}, {"preccurlyeq;","\342\211\274"}, {"preceq;","\342\252\257"},
    {"precnapprox;","\342\252\271"}, {"precneqq;","\342\252\265"}, {"precnsim;","\342\213\250"}, {"precsim;","\342\211\276"},
    {"prime;","\342\200\262"}, {"primes;","\342\204\231"}, {"prnE;","\342\252\265"}, {"prnap;","\342\252\271"},
    {"prnsim;","\342\213\250"}, {"prod;","\342\210\217"}, {"profalar;","\342\214\256"}, {"profline;","\342\214\222"},
    {"profsurf;","\342\214\223"}, {"prop;","\342\210\235"}, {"propto;","\342\210\235"}, {"prsim;","\342\211\276"},
    {"prurel;","\342\212\260"}, {"pscr;","\360\235\223\205"}, {"psi;","\317\210"}, {"puncsp;","\342\200\210"},
    {"qfr;","\360\235\224\256"}, {"qint;","\342\250\214"}, {"qopf;","\360\235\225\242"}, {"qprime;","\342\201\227"},
    {"qscr;","\360\235\223\206"}, {"quaternions;","\342\204\215"}, {"quatint;","\342\250\226"}, {"quest;","\077"},
    {"questeq;","\342\211\237"}, {"quot","\042"}, {"quot;","\042"}, {"rAarr;","\342\207\233"},
    {"rArr;","\342\207\222"}, {"rAtail;","\342\244\234"}, {"rBarr;","\342\244\217"}, {"rHar;","\342\245\244"},
    {"race;","\342\210\275\314\261"}, {"racute;","\305\225"}, {"radic;","\342\210\232"}, {"raemptyv;","\342\246\263"},
    {"rang;","\342\237\251"}, {"rangd;","\342\246\222"}, {"range;","\342\246\245"}, {"rangle;","\342\237\251"},
    {"raquo","\302\273"}, {"raquo;","\302\273"}, {"rarr;","\342\206\222"}, {"rarrap;","\342\245\265"},
    {"rarrb;","\342\207\245"}, {"rarrbfs;","\342\244\240"}, {"rarrc;","\342\244\263"}, {"rarrfs;","\342\244\236"},
    {"rarrhk;","\342\206\252"}, {"rarrlp;","\342\206\254"}, {"rarrpl;","\342\245\205"}, {"rarrsim;","\342\245\264"},
    {"rarrtl;","\342\206\243"}, {"rarrw;","\342\206\235"}, {"ratail;","\342\244\232"}, {"ratio;","\342\210\266"},
    {"rationals;","\342\204\232"}, {"rbarr;","\342\244\215"}, {"rbbrk;","\342\235\263"}, {"rbrace;","}"},
    {"rbrack;","]"}, {"rbrke;","\342\246\214"}, {"rbrksld;","\342\246\216"}, {"rbrkslu;","\342\246\220"},
    {"rcaron;","\305\231"}, {"rcedil;","\305\227"}, {"rceil;","\342\214\211"}, {"rcub;","}"},
    {"rcy;","\321\200"}, {"rdca;","\342\244\267"}, {"rdldhar;","\342\245\251"}, {"rdquo;","\342\200\235"},
    {"rdquor;","\342\200\235"}, {"rdsh;","\342\206\263"}, {"real;","\342\204\234"}, {"realine;","\342\204\233"},
    {"realpart;","\342\204\234"}, {"reals;","\342\204\235"}, {"rect;","\342\226\255"}, {"reg","\302\256"},
    {"reg;","\302\256"}, {"rfisht;","\342\245\275"}, {"rfloor;","\342\214\213"}, {"rfr;","\360\235\224\257"},
    {"rhard;","\342\207\201"}, {"rharu;","\342\207\200"}, {"rharul;","\342\245\254"}, {"rho;","\317\201"},
    {"rhov;","\317\261"}, {"rightarrow;","\342\206\222"}, {"rightarrowtail;","\342\206\243"}, {"rightharpoondown;","\342\207\201"},
    {"rightharpoonup;","\342\207\200"}, {"rightleftarrows;","\342\207\204"}, {"rightleftharpoons;","\342\207\214"}, {"rightrightarrows;","\342\207\211"},
    {"rightsquigarrow;","\342\206\235"}, {"rightthreetimes;","\342\213\214"}, {"ring;","\313\232"}, {"risingdotseq;","\342\211\223"},
    {"rlarr;","\342\207\204"}, {"rlhar;","\342\207\214"}, {"rlm;","\342\200\217"}, {"rmoust;","\342\216\261"},
    {"rmoustache;","\342\216\261"}, {"rnmid;","\342\253\256"}, {"roang;","\342\237\255"}, {"roarr;","\342\207\276"},
    {"robrk;","\342\237\247"}, {"ropar;","\342\246\206"}, {"ropf;","\360\235\225\243"}, {"roplus;","\342\250\256"},
    {"rotimes;","\342\250\265"}, {"rpar;",")"}, {"rpargt;","\342\246\224"}, {"rppolint;","\342\250\222"},
    {"rrarr;","\342\207\211"}, {"rsaquo;","\342\200\272"}, {"rscr;","\360\235\223\207"}, {"rsh;","\342\206\261"},
    {"rsqb;","]"}, {"rsquo;","\342\200\231"}, {"rsquor;","\342\200\231"}, {"rthree;","\342\213\214"},
    {"rtimes;","\342\213\212"}, {"rtri;","\342\226\271"}, {"rtrie;","\342\212\265"}, {"rtrif;","\342\226\270"},
    {"rtriltri;","\342\247\216"}, {"ruluhar;","\342\245\250"}, {"rx;","\342\204\236"}, {"sacute;","\305\233"},
    {"sbquo;","\342\200\232"}, {"sc;","\342\211\273"}, {"scE;","\342\252\264"}, {"scap;","\342\252\270"},
    {"scaron;","\305\241"}, {"sccue;","\342\211\275"}, {"sce;","\342\252\260"}, {"scedil;","\305\237"},
    {"scirc;","\305\235"}, {"scnE;","\342\252\266"}, {"scnap;","\342\252\272"}, {"scnsim;","\342\213\251"},
    {"scpolint;","\342\250\223"}, {"scsim;","\342\211\277"}, {"scy;","\321\201"}, {"sdot;","\342\213\205"},
    {"sdotb;","\342\212\241"}, {"sdote;","\342\251\246"}, {"seArr;","\342\207\230"}, {"searhk;","\342\244\245"},
    {"searr;","\342\206\230"}, {"searrow;","\342\206\230"}, {"sect","\302\247"}, {"sect;","\302\247"},
    {"semi;",";"}, {"seswar;","\342\244\251"}, {"setminus;","\342\210\226"}, {"setmn;","\342\210\226"},
    {"sext;","\342\234\266"}, {"sfr;","\360\235\224\260"}, {"sfrown;","\342\214\242"}, {"sharp;","\342\231\257"},
    {"shchcy;","\321\211"}, {"shcy;","\321\210"}, {"shortmid;","\342\210\243"}, {"shortparallel;","\342\210\245"},
    {"shy","\302\255"}, {"shy;","\302\255"}, {"sigma;","\317\203"}, {"sigmaf;","\317\202"},
    {"sigmav;","\317\202"}, {"sim;","\342\210\274"}, {"simdot;","\342\251\252"}, {"sime;","\342\211\203"},
    {"simeq;","\342\211\203"}, {"simg;","\342\252\236"}, {"simgE;","\342\252\240"}, {"siml;","\342\252\235"},
    {"simlE;","\342\252\237"}, {"simne;","\342\211\206"}, {"simplus;","\342\250\244"}, {"simrarr;","\342\245\262"},
    {"slarr;","\342\206\220"}, {"smallsetminus;","\342\210\226"}, {"smashp;","\342\250\263"}, {"smeparsl;","\342\247\244"},
    {"smid;","\342\210\243"}, {"smile;","\342\214\243"}, {"smt;","\342\252\252"}, {"smte;","\342\252\254"},
    {"smtes;","\342\252\254\357\270\200"}, {"softcy;","\321\214"}, {"sol;","/"}, {"solb;","\342\247\204"},
    {"solbar;","\342\214\277"}, {"sopf;","\360\235\225\244"}, {"spades;","\342\231\240"}, {"spadesuit;","\342\231\240"},
    {"spar;","\342\210\245"}, {"sqcap;","\342\212\223"}, {"sqcaps;","\342\212\223\357\270\200"}, {"sqcup;","\342\212\224"},
    {"sqcups;","\342\212\224\357\270\200"}, {"sqsub;","\342\212\217"}, {"sqsube;","\342\212\221"}, {"sqsubset;","\342\212\217"},
    {"sqsubseteq;","\342\212\221"}, {"sqsup;","\342\212\220"}, {"sqsupe;","\342\212\222"}, {"sqsupset;","\342\212\220"},
    {"sqsupseteq;","\342\212\222"}, {"squ;","\342\226\241"}, {"square;","\342\226\241"}, {"squarf;","\342\226\252"},
    {"squf;","\342\226\252"}, {"srarr;","\342\206\222"}, {"sscr;","\360\235\223\210"}, {"ssetmn;","\342\210\226"},
    {"ssmile;","\342\214\243"}, {"sstarf;","\342\213\206"}, {"star;","\342\230\206"}, {"starf;","\342\230\205"},
    {"straightepsilon;","\317\265"}, {"straightphi;","\317\225"}, {"strns;","\302\257"}, {"sub;","\342\212\202"},
    {"subE;","\342\253\205"}, {"subdot;","\342\252\275"}, {"sube;","\342\212\206"}, {"subedot;","\342\253\203"},
    {"submult;","\342\253\201"}, {"subnE;","\342\253\213"}, {"subne;","\342\212\212"}, {"subplus;","\342\252\277"},
    {"subrarr;","\342\245\271"}, {"subset;","\342\212\202"}, {"subseteq;","\342\212\206"}, {"subseteqq;","\342\253\205"},
    {"subsetneq;","\342\212\212"}, {"subsetneqq;","\342\253\213"}, {"subsim;","\342\253\207"}, {"subsub;","\342\253\225"},
    {"subsup;","\342\253\223"}, {"succ;","\342\211\273"}, {"succapprox;","\342\252\270"}, {"succcurlyeq;","\342\211\275"},
    {"succeq;","\342\252\260"}, {"succnapprox;","\342\252\272"}, {"succneqq;","\342\252\266"}, {"succnsim;","\342\213\251"},
    {"succsim;","\342\211\277"}, {"sum;","\342\210\221"}, {"sung;","\342\231\252"}, {"sup1","\302\271"},
    {"sup1;","\302\271"}, {"sup2","\302\262"}, {"sup2;","\302\262"}, {"sup3","\302\263"},
    {"sup3;","\302\263"}, {"sup;","\342\212\203"}, {"supE;","\342\253\206"}, {"supdot;","\342\252\276"},
    {"supdsub;","\342\253\230"}, {"supe;","\342\212\207"}, {"supedot;","\342\253\204"}, {"suphsol;","\342\237\211"},
    {"suphsub;","\342\253\227"}, {"suplarr;","\342\245\273"}, {"supmult;","\342\253\202"}, {"supnE;","\342\253\214"},
    {"supne;","\342\212\213"}, {"supplus;","\342\253\200"}, {"supset;","\342\212\203"}, {"supseteq;","\342\212\207"},
    {"supseteqq;","\342\253\206"}, {"supsetneq;","\342\212\213"}, {"supsetneqq;","\342\253\214"}, {"supsim;","\342\253\210"},
    {"supsub;","\342\253\224"}, {"supsup;","\342\253\226"}, {"swArr;","\342\207\231"}, {"swarhk;","\342\244\246"},
    {"swarr;","\342\206\231"}, {"swarrow;","\342\206\231"}, {"swnwar;","\342\244\252"}, {"szlig","\303\237"},
    {"szlig;","\303\237"}, {"target;","\342\214\226"}, {"tau;","\317\204"}, {"tbrk;","\342\216\264"},
    {"tcaron;","\305\245"}, {"tcedil;","\305\243"}, {"tcy;","\321\202"}, {"tdot;","\342\203\233"},
    {"telrec;","\342\214\225"}, {"tfr;","\360\235\224\261"}, {"there4;","\342\210\264"}, {"therefore;","\342\210\264"},
    {"theta;","\316\270"}, {"thetasym;","\317\221"}, {"thetav;","\317\221"}, {"thickapprox;","\342\211\210"},
    {"thicksim;","\342\210\274"}, {"thinsp;","\342\200\211"}, {"thkap;","\342\211\210"}, {"thksim;","\342\210\274"},
    {"thorn","\303\276"}, {"thorn;","\303\276"}, {"tilde;","\313\234"}, {"times","\303\227"},
    {"times;","\303\227"}, {"timesb;","\342\212\240"}, {"timesbar;","\342\250\261"}, {"timesd;","\342\250\260"},
    {"tint;","\342\210\255"}, {"toea;","\342\244\250"}, {"top;","\342\212\244"}, {"topbot;","\342\214\266"},
    {"topcir;","\342\253\261"}, {"topf;","\360\235\225\245"}, {"topfork;","\342\253\232"}, {"tosa;","\342\244\251"},
    {"tprime;","\342\200\264"}, {"trade;","\342\204\242"}, {"triangle;","\342\226\265"}, {"triangledown;","\342\226\277"},
    {"triangleleft;","\342\227\203"}, {"trianglelefteq;","\342\212\264"}, {"triangleq;","\342\211\234"}, {"triangleright;","\342\226\271"},
    {"trianglerighteq;","\342\212\265"}, {"tridot;","\342\227\254"}, {"trie;","\342\211\234"}, {"triminus;","\342\250\272"},
    {"triplus;","\342\250\271"}, {"trisb;","\342\247\215"}, {"tritime;","\342\250\273"}, {"trpezium;","\342\217\242"},
    {"tscr;","\360\235\223\211"}, {"tscy;","\321\206"}, {"tshcy;","\321\233"}, {"tstrok;","\305\247"},
    {"twixt;","\342\211\254"}, {"twoheadleftarrow;","\342\206\236"}, {"twoheadrightarrow;","\342\206\240"}, {"uArr;","\342\207\221"},
    {"uHar;","\342\245\243"}, {"uacute","\303\272"}, {"uacute;","\303\272"}, {"uarr;","\342\206\221"},
    {"ubrcy;","\321\236"}, {"ubreve;","\305\255"}, {"ucirc","\303\273"}, {"ucirc;","\303\273"},
    {"ucy;","\321\203"}, {"udarr;","\342\207\205"}, {"udblac;","\305\261"}, {"udhar;","\342\245\256"},
    {"ufisht;","\342\245\276"}, {"ufr;","\360\235\224\262"}, {"ugrave","\303\271"}, {"ugrave;","\303\271"},
    {"uharl;","\342\206\277"}, {"uharr;","\342\206\276"}, {"uhblk;","\342\226\200"}, {"ulcorn;","\342\214\234"},
    {"ulcorner;","\342\214\234"}, {"ulcrop;","\342\214\217"}, {"ultri;","\342\227\270"}, {"umacr;","\305\253"},
    {"uml","\302\250"}, {"uml;","\302\250"}, {"uogon;","\305\263"}, {"uopf;","\360\235\225\246"},
    {"uparrow;","\342\206\221"}, {"updownarrow;","\342\206\225"}, {"upharpoonleft;","\342\206\277"}, {"upharpoonright;","\342\206\276"},
    {"uplus;","\342\212\216"}, {"upsi;","\317\205"}, {"upsih;","\317\222"}, {"upsilon;","\317\205"},
    {"upuparrows;","\342\207\210"}, {"urcorn;","\342\214\235"}, {"urcorner;","\342\214\235"}, {"urcrop;","\342\214\216"},
    {"uring;","\305\257"}, {"urtri;","\342\227\271"}, {"uscr;","\360\235\223\212"}, {"utdot;","\342\213\260"},
    {"utilde;","\305\251"}, {"utri;","\342\226\265"}, {"utrif;","\342\226\264"}, {"uuarr;","\342\207\210"},
    {"uuml","\303\274"}, {"uuml;","\303\274"}, {"uwangle;","\342\246\247"}, {"vArr;","\342\207\225"},
    {"vBar;","\342\253\250"}, {"vBarv;","\342\253\251"}, {"vDash;","\342\212\250"}, {"vangrt;","\342\246\234"},
    {"varepsilon;","\317\265"}, {"varkappa;","\317\260"}, {"varnothing;","\342\210\205"}, {"varphi;","\317\225"},
    {"varpi;","\317\226"}, {"varpropto;","\342\210\235"}, {"varr;","\342\206\225"}, {"varrho;","\317\261"},
    {"varsigma;","\317\202"}, {"varsubsetneq;","\342\212\212\357\270\200"}, {"varsubsetneqq;","\342\253\213\357\270\200"}, {"varsupsetneq;","\342\212\213\357\270\200"},
    {"varsupsetneqq;","\342\253\214\357\270\200"}, {"vartheta;","\317\221"}, {"vartriangleleft;","\342\212\262"}, {"vartriangleright;","\342\212\263"},
    {"vcy;","\320\262"}, {"vdash;","\342\212\242"}, {"vee;","\342\210\250"}, {"veebar;","\342\212\273"},
    {"veeeq;","\342\211\232"}, {"vellip;","\342\213\256"}, {"verbar;","|"}, {"vert;","|"},
    {"vfr;","\360\235\224\263"}, {"vltri;","\342\212\262"}, {"vnsub;","\342\212\202\342\203\222"}, {"vnsup;","\342\212\203\342\203\222"},
    {"vopf;","\360\235\225\247"}, {"vprop;","\342\210\235"}, {"vrtri;","\342\212\263"}, {"vscr;","\360\235\223\213"},
    {"vsubnE;","\342\253\213\357\270\200"}, {"vsubne;","\342\212\212\357\270\200"}, {"vsupnE;","\342\253\214\357\270\200"}, {"vsupne;","\342\212\213\357\270\200"},
    {"vzigzag;","\342\246\232"}, {"wcirc;","\305\265"}, {"wedbar;","\342\251\237"}, {"wedge;","\342\210\247"},
    {"wedgeq;","\342\211\231"}, {"weierp;","\342\204\230"}, {"wfr;","\360\235\224\264"}, {"wopf;","\360\235\225\250"},
    {"wp;","\342\204\230"}, {"wr;","\342\211\200"}, {"wreath;","\342\211\200"}, {"wscr;","\360\235\223\214"},
    {"xcap;","\342\213\202"}, {"xcirc;","\342\227\257"}, {"xcup;","\342\213\203"}, {"xdtri;","\342\226\275"},
    {"xfr;","\360\235\224\265"}, {"xhArr;","\342\237\272"}, {"xharr;","\342\237\267"}, {"xi;","\316\276"},
    {"xlArr;","\342\237\270"}, {"xlarr;","\342\237\265"}, {"xmap;","\342\237\274"}, {"xnis;","\342\213\273"},
    {"xodot;","\342\250\200"}, {"xopf;","\360\235\225\251"}, {"xoplus;","\342\250\201"}, {"xotime;","\342\250\202"},
    {"xrArr;","\342\237\271"}, {"xrarr;","\342\237\266"}, {"xscr;","\360\235\223\215"}, {"xsqcup;","\342\250\206"},
    {"xuplus;","\342\250\204"}, {"xutri;","\342\226\263"}, {"xvee;","\342\213\201"}, {"xwedge;","\342\213\200"},
    {"yacute","\303\275"}, {"yacute;","\303\275"}, {"yacy;","\321\217"}, {"ycirc;","\305\267"},
    {"ycy;","\321\213"}, {"yen","\302\245"}, {"yen;","\302\245"}, {"yfr;","\360\235\224\266"},
    {"yicy;","\321\227"}, {"yopf;","\360\235\225\252"}, {"yscr;","\360\235\223\216"}, {"yucy;","\321\216"},
    {"yuml","\303\277"}, {"yuml;","\303\277"}, {"zacute;","\305\272"}, {"zcaron;","\305\276"},
    {"zcy;","\320\267"}, {"zdot;","\305\274"}, {"zeetrf;","\342\204\250"}, {"zeta;","\316\266"},
    {"zfr;","\360\235\224\267"}, {"zhcy;","\320\266"}, {"zigrarr;","\342\207\235"}, {"zopf;","\360\235\225\253"},
    {"zscr;","\360\235\223\217"}, {"zwj;","\342\200\215"}, {"zwnj;","\342\200\214"},
};
/* END GENERATED TABLES */

/* ---- gzip ---------------------------------------------------------------------------- */
static uint32_t tokc_crc32(const unsigned char *p, size_t n) {
    static uint32_t tab[256];
    static int init = 0;
    if (!init) {   /* idempotent: racing initialisers write the same values */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            tab[i] = c;
        }
        init = 1;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = tab[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

int coop_gunzip(const void *gz, size_t n, void **out, size_t *outlen) {
    const unsigned char *p = (const unsigned char *)gz;
    *out = NULL; *outlen = 0;
    if (n < 18 || p[0] != 0x1f || p[1] != 0x8b) { coop_set_error("gunzip: not a gzip stream"); return -1; }
    if (p[2] != 8) { coop_set_error("gunzip: compression method %d is not deflate", p[2]); return -1; }
    int flg = p[3];
    size_t pos = 10;                                    /* ID1 ID2 CM FLG MTIME[4] XFL OS */
    if (flg & 0xE0) { coop_set_error("gunzip: reserved header flags set"); return -1; }
    if (flg & 4) {                                      /* FEXTRA: XLEN[2] + data */
        if (pos + 2 > n) { coop_set_error("gunzip: truncated header"); return -1; }
        size_t xlen = p[pos] | (size_t)p[pos + 1] << 8;
        pos += 2 + xlen;
    }
    for (int f = 8; f <= 16; f <<= 1)                   /* FNAME, FCOMMENT: NUL-terminated */
        if (flg & f) {
            while (pos < n && p[pos]) pos++;
            pos++;
        }
    if (flg & 2) pos += 2;                              /* FHCRC */
    if (pos + 8 > n) { coop_set_error("gunzip: truncated header"); return -1; }
    size_t dlen = n - 8 - pos;                          /* deflate data, then CRC32 + ISIZE */
    if (dlen > 0x7FFFFFFF) { coop_set_error("gunzip: stream too large"); return -1; }
    int ol = 0;
    /* stb's decoder wants 16 bits of look-ahead past the last code: hand it the 8-byte
       trailer too (it stops at the final block anyway) */
    char *o = stbi_zlib_decode_noheader_malloc((const char *)p + pos, (int)(dlen + 8), &ol);
    if (!o) { coop_set_error("gunzip: corrupt deflate data"); return -1; }
    const unsigned char *t = p + n - 8;
    uint32_t crc = t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    uint32_t isize = t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 | (uint32_t)t[7] << 24;
    if ((uint32_t)ol != isize || tokc_crc32((const unsigned char *)o, (size_t)ol) != crc) {
        free(o);   /* stb allocates with malloc */
        coop_set_error("gunzip: CRC32 / size mismatch (corrupt or multi-member gzip)");
        return -1;
    }
    *out = o; *outlen = (size_t)ol;
    return 0;
}

/* ---- tokenizer state ------------------------------------------------------------------- */
#define TOKC_NMERGES 48894                  /* 49152 - 256 - 2 */
#define TOKC_SOT 49406
#define TOKC_EOT 49407

typedef struct { uint32_t cp, lo; } tokc_pair32;
/* word cache entry: key bytes at ckeys + koff (klen; UINT32_MAX = empty slot), ids at cpool + ioff */
struct tokc_centry { uint64_t h; uint32_t koff, klen, ioff, n; };

struct coop_clip_tok {
    /* vocabulary: string -> id (open addressing, linear probing, power-of-2 capacity) */
    char *blob;                 /* all vocabulary strings, NUL-separated */
    uint32_t *str_off;          /* [nvocab] offset of string i in blob */
    int nvocab;
    int32_t *vslot; uint32_t vmask;          /* slots hold id or -1 */
    /* merges: (left id, right id) -> rank, merged id */
    uint64_t *mkey; int32_t *mrank, *mid; uint32_t mmask;
    int32_t byte_id[256];       /* vocabulary id of byte b's symbol; + 256 for the '</w>' form */
    /* single code point str.lower() pairs, sorted by cp */
    tokc_pair32 *lower; int nlower;
    unsigned char ascii_class[128];
    /* word cache: UTF-8 bytes -> ids (in cpool) */
    char *ckeys; size_t ckeys_len, ckeys_cap;
    int32_t *cpool; size_t cpool_len, cpool_cap;
    struct tokc_centry *cache;
    uint32_t cmask, ccount;
    /* scratch, grown on demand */
    uint32_t *a, *b; size_t acap, bcap;
    int32_t *sym, *rank; size_t symcap;
};

static uint64_t tokc_hash(const void *s, size_t n) {      /* FNV-1a 64 */
    const unsigned char *p = (const unsigned char *)s;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static uint64_t tokc_mix(uint64_t x) {
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

static int tokc_vocab_find(const coop_clip_tok *t, const char *s, size_t n) {
    for (uint32_t i = (uint32_t)tokc_hash(s, n) & t->vmask;; i = (i + 1) & t->vmask) {
        int32_t id = t->vslot[i];
        if (id < 0) return -1;
        const char *v = t->blob + t->str_off[id];
        if (!memcmp(v, s, n) && v[n] == 0) return id;
    }
}

/* dict semantics of OpenCLIP's encoder: a repeated string keeps the later id */
static void tokc_vocab_put(coop_clip_tok *t, int id) {
    const char *s = t->blob + t->str_off[id];
    size_t n = strlen(s);
    for (uint32_t i = (uint32_t)tokc_hash(s, n) & t->vmask;; i = (i + 1) & t->vmask) {
        int32_t o = t->vslot[i];
        if (o < 0 || !strcmp(t->blob + t->str_off[o], s)) { t->vslot[i] = id; return; }
    }
}

static int tokc_merge_find(const coop_clip_tok *t, int32_t a, int32_t b, int32_t *merged) {
    uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
    for (uint32_t i = (uint32_t)tokc_mix(k) & t->mmask;; i = (i + 1) & t->mmask) {
        if (t->mrank[i] < 0) return -1;
        if (t->mkey[i] == k) { *merged = t->mid[i]; return t->mrank[i]; }
    }
}

static int tokc_in_ranges(const uint32_t (*r)[2], int n, uint32_t c) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int m = (lo + hi) >> 1;
        if (c < r[m][0]) hi = m - 1; else if (c > r[m][1]) lo = m + 1; else return 1;
    }
    return 0;
}

static int tokc_range3(const uint32_t (*r)[3], int n, uint32_t c) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int m = (lo + hi) >> 1;
        if (c < r[m][0]) hi = m - 1; else if (c > r[m][1]) lo = m + 1; else return (int)r[m][2];
    }
    return 0;
}

#define TOKC_N(a) ((int)(sizeof(a) / sizeof((a)[0])))
static int tokc_ws_py_p(uint32_t c) { return tokc_in_ranges(tokc_ws_py, TOKC_N(tokc_ws_py), c); }
static int tokc_class(const coop_clip_tok *t, uint32_t c) {
    return c < 128 ? t->ascii_class[c] : tokc_range3(tokc_class_tab, TOKC_N(tokc_class_tab), c);
}

static int tokc_pair_cmp(const void *x, const void *y) {
    uint32_t a = ((const tokc_pair32 *)x)->cp, b = ((const tokc_pair32 *)y)->cp;
    return a < b ? -1 : a > b;
}

void coop_clip_tok_free(coop_clip_tok *t) {
    if (!t) return;
    free(t->blob); free(t->str_off); free(t->vslot); free(t->mkey); free(t->mrank); free(t->mid);
    free(t->lower); free(t->ckeys); free(t->cpool); free(t->cache);
    free(t->a); free(t->b); free(t->sym); free(t->rank);
    free(t);
}

/* bytes_to_unicode(): the printable bytes keep their code point, the other 68 map to 256+k */
static void tokc_bytes_to_unicode(uint32_t cs[256], int order[256]) {
    int n = 0, k = 0;
    for (int b = 0; b < 256; b++)
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) { order[n] = b; cs[n++] = (uint32_t)b; }
    for (int b = 0; b < 256; b++)
        if (!((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))) { order[n] = b; cs[n++] = 256u + (uint32_t)k++; }
}

/* fills the vocabulary, merge and lower-case tables of t (buffers allocated by the caller);
   side: [TOKC_NMERGES][4] scratch for the merge sides (offset, length) x 2 */
static int tokc_build(coop_clip_tok *t, const char *text, size_t len, uint32_t *side) {
    const int nv = t->nvocab;
    if (len > 0x7FFFFFF0u || !coop_utf8_valid(text, len)) {
        coop_set_error("clip tokenizer: merges text is not valid UTF-8 (or too large)");
        return -1;
    }
    memset(t->vslot, 0xFF, sizeof(int32_t) * (t->vmask + 1));
    memset(t->mrank, 0xFF, sizeof(int32_t) * (t->mmask + 1));
    size_t bl = 0;
    /* ids 0..255: byte symbols; 256..511: the same + "</w>" */
    uint32_t cs[256]; int order[256];
    tokc_bytes_to_unicode(cs, order);
    for (int w = 0; w < 2; w++)
        for (int i = 0; i < 256; i++) {
            t->str_off[w * 256 + i] = (uint32_t)bl;
            bl += (size_t)coop_utf8_encode(cs[i], t->blob + bl);
            if (w) { memcpy(t->blob + bl, "</w>", 4); bl += 4; }
            t->blob[bl++] = 0;
            if (!w) t->byte_id[order[i]] = i;
        }
    /* merges: text.split('\n')[1:48895], each line split on whitespace into exactly two parts */
    const unsigned char *s = (const unsigned char *)text, *e = s + len;
    const unsigned char *nl = (const unsigned char *)memchr(s, '\n', len);
    if (!nl) { coop_set_error("clip tokenizer: merges text has no lines"); return -1; }
    s = nl + 1;
    for (int m = 0; m < TOKC_NMERGES; m++) {
        if (s > e || (s == e && m < TOKC_NMERGES)) {
            coop_set_error("clip tokenizer: merges text has %d merge lines, need %d", m, TOKC_NMERGES);
            return -1;
        }
        const unsigned char *le = (const unsigned char *)memchr(s, '\n', (size_t)(e - s));
        if (!le) le = e;
        const unsigned char *fs[3], *fe[3];
        int nf = 0;
        for (const unsigned char *q = s; q < le;) {
            uint32_t c; int k = coop_utf8_decode(q, (size_t)(le - q), &c);
            if (k < 0) k = 1;
            int sp = c < 128 ? (c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f)) : tokc_ws_py_p(c);
            if (sp) { q += k; continue; }
            const unsigned char *st = q;
            while (q < le) {
                k = coop_utf8_decode(q, (size_t)(le - q), &c);
                if (k < 0) k = 1;
                if (c < 128 ? (c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f)) : tokc_ws_py_p(c)) break;
                q += k;
            }
            if (nf < 3) { fs[nf] = st; fe[nf] = q; }
            nf++;
        }
        if (nf != 2) {
            coop_set_error("clip tokenizer: merge line %d has %d fields, want 2", m + 1, nf);
            return -1;
        }
        /* vocabulary entry 512+m is the concatenation; sides point into it */
        size_t l0 = (size_t)(fe[0] - fs[0]), l1 = (size_t)(fe[1] - fs[1]);
        t->str_off[512 + m] = (uint32_t)bl;
        memcpy(t->blob + bl, fs[0], l0); memcpy(t->blob + bl + l0, fs[1], l1);
        side[4 * m + 0] = (uint32_t)bl; side[4 * m + 1] = (uint32_t)l0;
        side[4 * m + 2] = (uint32_t)(bl + l0); side[4 * m + 3] = (uint32_t)l1;
        bl += l0 + l1;
        t->blob[bl++] = 0;
        s = le + 1;
    }
    static const char *specials[2] = {"<start_of_text>", "<end_of_text>"};
    for (int i = 0; i < 2; i++) {
        t->str_off[nv - 2 + i] = (uint32_t)bl;
        size_t l = strlen(specials[i]);
        memcpy(t->blob + bl, specials[i], l + 1);
        bl += l + 1;
    }
    for (int i = 0; i < nv; i++) tokc_vocab_put(t, i);
    /* bpe_ranks: later duplicates overwrite the rank (dict(zip(merges, range))) */
    for (int m = 0; m < TOKC_NMERGES; m++) {
        int a = tokc_vocab_find(t, t->blob + side[4 * m], side[4 * m + 1]);
        int b = tokc_vocab_find(t, t->blob + side[4 * m + 2], side[4 * m + 3]);
        if (a < 0 || b < 0) continue;   /* can never match a symbol, which is always in the vocabulary */
        const char *ms = t->blob + t->str_off[512 + m];
        int id = tokc_vocab_find(t, ms, strlen(ms));
        uint64_t k = (uint64_t)(uint32_t)a << 32 | (uint32_t)b;
        for (uint32_t i = (uint32_t)tokc_mix(k) & t->mmask;; i = (i + 1) & t->mmask) {
            if (t->mrank[i] < 0 || t->mkey[i] == k) { t->mkey[i] = k; t->mrank[i] = m; t->mid[i] = id; break; }
        }
    }
    /* str.lower() single code point table */
    int nl2 = 0;
    for (int i = 0; i < TOKC_N(tokc_lower_tab); i++) nl2 += tokc_lower_tab[i][1];
    t->lower = (tokc_pair32 *)malloc(sizeof(tokc_pair32) * (size_t)nl2);
    if (!t->lower) { coop_set_error("clip tokenizer: out of memory"); return -1; }
    for (int i = 0; i < TOKC_N(tokc_lower_tab); i++)
        for (int k = 0; k < tokc_lower_tab[i][1]; k++) {
            uint32_t c = (uint32_t)(tokc_lower_tab[i][0] + k * tokc_lower_tab[i][2]);
            t->lower[t->nlower].cp = c;
            t->lower[t->nlower++].lo = (uint32_t)((int32_t)c + tokc_lower_tab[i][3]);
        }
    qsort(t->lower, (size_t)t->nlower, sizeof(tokc_pair32), tokc_pair_cmp);
    for (uint32_t c = 0; c < 128; c++) t->ascii_class[c] = (unsigned char)tokc_range3(tokc_class_tab, TOKC_N(tokc_class_tab), c);
    return 0;
}

coop_clip_tok *coop_clip_tok_new(const char *text, size_t len) {
    coop_clip_tok *t = (coop_clip_tok *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("clip tokenizer: out of memory"); return NULL; }
    const int nv = 512 + TOKC_NMERGES + 2;
    t->nvocab = nv;
    t->blob = (char *)malloc(len + 512 * 8 + 64);
    t->str_off = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)nv);
    /* merge sides as (offset, length) into blob, resolved to ids once the vocabulary is complete */
    uint32_t *side = (uint32_t *)malloc(sizeof(uint32_t) * 4 * TOKC_NMERGES);
    t->vmask = (1u << 17) - 1;  t->mmask = (1u << 17) - 1;
    t->vslot = (int32_t *)malloc(sizeof(int32_t) * (t->vmask + 1));
    t->mkey = (uint64_t *)malloc(sizeof(uint64_t) * (t->mmask + 1));
    t->mrank = (int32_t *)malloc(sizeof(int32_t) * (t->mmask + 1));
    t->mid = (int32_t *)malloc(sizeof(int32_t) * (t->mmask + 1));
    if (!t->blob || !t->str_off || !side || !t->vslot || !t->mkey || !t->mrank || !t->mid) {
        free(side); coop_clip_tok_free(t); coop_set_error("clip tokenizer: out of memory"); return NULL;
    }
    int rc = tokc_build(t, text, len, side);
    free(side);
    if (rc) { coop_clip_tok_free(t); return NULL; }
    return t;
}

int coop_clip_tok_lookup(const coop_clip_tok *t, const char *token) {
    return tokc_vocab_find(t, token, strlen(token));
}

/* ---- growable scratch -------------------------------------------------------------------- */
static int tokc_grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 256;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) { coop_set_error("clip tokenizer: out of memory"); return -1; }
    *p = q; *cap = nc;
    return 0;
}

/* ---- html.unescape ---------------------------------------------------------------------- */
static const char *tokc_html5_find(const char *s, size_t n) {
    int lo = 0, hi = TOKC_N(tokc_html5) - 1;
    while (lo <= hi) {
        int m = (lo + hi) >> 1;
        const char *k = tokc_html5[m].name;
        int c = strncmp(s, k, n);
        if (c == 0 && k[n]) c = -1;   /* s is a proper prefix of k: s sorts first */
        if (c == 0) return tokc_html5[m].val;
        if (c < 0) hi = m - 1; else lo = m + 1;
    }
    return NULL;
}

static int tokc_is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static int tokc_hexval(uint32_t c) {
    return c >= '0' && c <= '9' ? (int)c - '0' : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10 : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
}

/* appends UTF-8 string u as code points to out */
static size_t tokc_put_utf8(uint32_t *out, size_t o, const char *u) {
    const unsigned char *p = (const unsigned char *)u;
    size_t n = strlen(u);
    while (n) {
        uint32_t c; int k = coop_utf8_decode(p, n, &c);
        out[o++] = c; p += k; n -= (size_t)k;
    }
    return o;
}

/* Python's html.unescape on code points in[0..n) -> out (never longer than 2*n + 8: the longest
   replacement is 2 code points for a >= 2 code point reference); returns the new length */
static size_t tokc_unescape(const uint32_t *in, size_t n, uint32_t *out) {
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (in[i] != '&') { out[o++] = in[i++]; continue; }
        size_t j = i + 1;
        if (j < n && in[j] == '#') {
            /* &#[0-9]+;?  |  &#[xX][0-9a-fA-F]+;? */
            uint32_t num = 0; size_t k = j + 1; int nd = 0;
            if (k < n && tokc_is_digit(in[k])) {
                for (; k < n && tokc_is_digit(in[k]); k++, nd++) num = num > 0x110000 ? num : num * 10 + (in[k] - '0');
            } else if (k + 1 < n && (in[k] == 'x' || in[k] == 'X') && tokc_hexval(in[k + 1]) >= 0) {
                for (k++; k < n && tokc_hexval(in[k]) >= 0; k++, nd++) num = num > 0x110000 ? num : num * 16 + (uint32_t)tokc_hexval(in[k]);
            }
            if (!nd) { out[o++] = in[i++]; continue; }   /* no match at this '&' */
            if (k < n && in[k] == ';') k++;
            const char *rep = NULL;
            for (int r = 0; r < TOKC_N(tokc_html_invalid_ref); r++)
                if (tokc_html_invalid_ref[r].num == num) rep = tokc_html_invalid_ref[r].rep;
            if (rep) o = tokc_put_utf8(out, o, rep);
            else if ((num >= 0xD800 && num <= 0xDFFF) || num > 0x10FFFF) out[o++] = 0xFFFD;
            else if (!tokc_in_ranges(tokc_html_invalid_cp, TOKC_N(tokc_html_invalid_cp), num)) out[o++] = num;
            i = k;
            continue;
        }
        /* &[^\t\n\f <&#;]{1,32};? */
        size_t k = j;
        while (k < n && k - j < 32 && !(in[k] == '\t' || in[k] == '\n' || in[k] == '\f' || in[k] == ' ' ||
                                         in[k] == '<' || in[k] == '&' || in[k] == '#' || in[k] == ';')) k++;
        if (k == j) { out[o++] = in[i++]; continue; }
        if (k < n && in[k] == ';') k++;
        size_t len = k - j, na = 0;          /* s = in[j..k); names are ASCII: only prefixes <= na matter */
        char name[40];
        while (na < len && in[j + na] < 128) { name[na] = (char)in[j + na]; na++; }
        const char *val = na == len ? tokc_html5_find(name, len) : NULL;
        size_t used = len;
        if (!val)
            for (size_t x = (len - 1 < na ? len - 1 : na); x >= 2; x--)
                if ((val = tokc_html5_find(name, x))) { used = x; break; }
        if (!val) { out[o++] = '&'; used = 0; }
        else o = tokc_put_utf8(out, o, val);
        for (size_t q = j + used; q < k; q++) out[o++] = in[q];
        i = k;
    }
    return o;
}

/* ---- str.lower() ------------------------------------------------------------------------ */
static uint32_t tokc_lower1(const coop_clip_tok *t, uint32_t c) {
    if (c < 128) return c >= 'A' && c <= 'Z' ? c + 32 : c;
    int lo = 0, hi = t->nlower - 1;
    while (lo <= hi) {
        int m = (lo + hi) >> 1;
        if (c < t->lower[m].cp) hi = m - 1; else if (c > t->lower[m].cp) lo = m + 1; else return t->lower[m].lo;
    }
    return c;
}

static int tokc_sigma_class(uint32_t c) { return tokc_range3(tokc_sigma_tab, TOKC_N(tokc_sigma_tab), c); }

/* CPython's Final_Sigma: \p{cased}\p{case-ignorable}* SIGMA !(\p{case-ignorable}* \p{cased}) */
static uint32_t tokc_sigma(const uint32_t *s, size_t n, size_t i) {
    size_t j = i;
    int k = 0;
    while (j > 0 && (k = tokc_sigma_class(s[j - 1])) == 1) j--;
    if (j == 0 || k != 2) return 0x3C3;
    for (j = i + 1; j < n && (k = tokc_sigma_class(s[j])) == 1; j++) {}
    return (j == n || k != 2) ? 0x3C2 : 0x3C3;
}

/* ---- BPE of one word --------------------------------------------------------------------- */
/* word: UTF-8 bytes w[0..m); appends ids to the cache pool; returns the count or -1 */
static int tokc_bpe(coop_clip_tok *t, const unsigned char *w, size_t m, size_t *ioff) {
    if (m > t->symcap) {   /* sym and rank share one capacity */
        size_t nc = t->symcap ? t->symcap : 64;
        while (nc < m) nc *= 2;
        int32_t *ns = (int32_t *)realloc(t->sym, nc * sizeof(int32_t));
        if (ns) t->sym = ns;
        int32_t *nr = ns ? (int32_t *)realloc(t->rank, nc * sizeof(int32_t)) : NULL;
        if (!nr) { coop_set_error("clip tokenizer: out of memory"); return -1; }
        t->rank = nr; t->symcap = nc;
    }
    int32_t *sym = t->sym;
    size_t n = m;
    for (size_t i = 0; i < m; i++) sym[i] = t->byte_id[w[i]] + (i + 1 == m ? 256 : 0);
    /* rank[i]: rank of pair (sym[i], sym[i+1]), INT32_MAX when not a merge */
    int32_t *rank = t->rank, tmp;
    for (size_t i = 0; i + 1 < n; i++) { int r = tokc_merge_find(t, sym[i], sym[i + 1], &tmp); rank[i] = r < 0 ? INT32_MAX : r; }
    while (n > 1) {
        int32_t best = INT32_MAX;
        for (size_t i = 0; i + 1 < n; i++) if (rank[i] < best) best = rank[i];
        if (best == INT32_MAX) break;
        /* merge every occurrence of this pair, left to right, non-overlapping */
        int32_t first = -1, second = -1, merged = -1;
        for (size_t i = 0; i + 1 < n; i++) if (rank[i] == best) { first = sym[i]; second = sym[i + 1]; break; }
        tokc_merge_find(t, first, second, &merged);
        size_t o = 0;
        for (size_t i = 0; i < n;) {
            if (i + 1 < n && sym[i] == first && sym[i + 1] == second) { sym[o++] = merged; i += 2; }
            else sym[o++] = sym[i++];
        }
        n = o;
        for (size_t i = 0; i + 1 < n; i++) { int r = tokc_merge_find(t, sym[i], sym[i + 1], &tmp); rank[i] = r < 0 ? INT32_MAX : r; }
    }
    if (tokc_grow((void **)&t->cpool, &t->cpool_cap, t->cpool_len + n, sizeof(int32_t))) return -1;
    *ioff = t->cpool_len;
    memcpy(t->cpool + t->cpool_len, sym, n * sizeof(int32_t));
    t->cpool_len += n;
    return (int)n;
}

/* ids of one pre-token through the cache (seeded with the two special tokens, as OpenCLIP) */
static int tokc_word(coop_clip_tok *t, const unsigned char *w, size_t m, const int32_t **ids) {
    int full = t->cpool_len > (64u << 20) / 4 || t->ckeys_len > (256u << 20);
    if (!t->cache || t->ccount * 2 >= t->cmask || full) {
        /* (re)initialise: first use, load factor 1/2, or the pool is past 64 MB (start over) */
        uint32_t nm = !t->cache ? 4095 : full ? t->cmask : t->cmask * 2 + 1;
        int reset = !t->cache || full;
        struct tokc_centry *nc = (struct tokc_centry *)malloc(sizeof *nc * (nm + 1));
        if (!nc) { coop_set_error("clip tokenizer: out of memory"); return -1; }
        for (uint32_t i = 0; i <= nm; i++) nc[i].klen = UINT32_MAX;
        if (!reset)
            for (uint32_t i = 0; i <= t->cmask; i++) {
                if (t->cache[i].klen == UINT32_MAX) continue;
                uint32_t j = (uint32_t)t->cache[i].h & nm;
                while (nc[j].klen != UINT32_MAX) j = (j + 1) & nm;
                nc[j] = t->cache[i];
            }
        free(t->cache);
        t->cache = nc; t->cmask = nm;
        if (reset) {
            t->ccount = 0; t->ckeys_len = 0; t->cpool_len = 0;
            static const char *sp[2] = {"<start_of_text>", "<end_of_text>"};
            for (int s = 0; s < 2; s++) {
                size_t l = strlen(sp[s]);
                if (tokc_grow((void **)&t->ckeys, &t->ckeys_cap, t->ckeys_len + l, 1) ||
                    tokc_grow((void **)&t->cpool, &t->cpool_cap, t->cpool_len + 1, sizeof(int32_t))) return -1;
                uint64_t h = tokc_hash(sp[s], l);
                uint32_t j = (uint32_t)h & t->cmask;
                while (t->cache[j].klen != UINT32_MAX) j = (j + 1) & t->cmask;
                t->cache[j].h = h; t->cache[j].koff = (uint32_t)t->ckeys_len; t->cache[j].klen = (uint32_t)l;
                t->cache[j].ioff = (uint32_t)t->cpool_len; t->cache[j].n = 1;
                memcpy(t->ckeys + t->ckeys_len, sp[s], l); t->ckeys_len += l;
                t->cpool[t->cpool_len++] = s ? TOKC_EOT : TOKC_SOT;
                t->ccount++;
            }
        }
    }
    uint64_t h = tokc_hash(w, m);
    uint32_t j = (uint32_t)h & t->cmask;
    for (; t->cache[j].klen != UINT32_MAX; j = (j + 1) & t->cmask) {
        struct tokc_centry *c = &t->cache[j];
        if (c->h == h && c->klen == m && !memcmp(t->ckeys + c->koff, w, m)) { *ids = t->cpool + c->ioff; return (int)c->n; }
    }
    size_t ioff;
    int n = tokc_bpe(t, w, m, &ioff);
    if (n < 0 || tokc_grow((void **)&t->ckeys, &t->ckeys_cap, t->ckeys_len + m, 1)) return -1;
    struct tokc_centry *c = &t->cache[j];
    c->h = h; c->koff = (uint32_t)t->ckeys_len; c->klen = (uint32_t)m; c->ioff = (uint32_t)ioff; c->n = (uint32_t)n;
    memcpy(t->ckeys + t->ckeys_len, w, m); t->ckeys_len += m;
    t->ccount++;
    *ids = t->cpool + ioff;
    return n;
}

/* ---- pre-tokenizer ------------------------------------------------------------------------- */
/* does code point c match the lower-case ASCII literal l under the pattern's IGNORECASE? */
static int tokc_lit(uint32_t c, char l) {
    if (c == (uint32_t)(unsigned char)l) return 1;
    if (c < 128) return l >= 'a' && l <= 'z' && c == (uint32_t)(l - 32);
    for (int i = 0; i < TOKC_N(tokc_fold_tab); i++)
        if (tokc_fold_tab[i][0] == (uint32_t)(unsigned char)l && tokc_fold_tab[i][1] == c) return 1;
    return 0;
}

static size_t tokc_match_lit(const uint32_t *s, size_t n, size_t i, const char *lit) {
    size_t k = 0;
    for (; lit[k]; k++)
        if (i + k >= n || !tokc_lit(s[i + k], lit[k])) return 0;
    return k;
}

int coop_clip_tok_encode(coop_clip_tok *t, const char *text, int32_t *ids, int cap) {
    size_t len = strlen(text);
    /* worst-case sizes: unescape can at most double (2 code points out per >= 2 in), lower adds
       one code point per U+0130 */
    if (tokc_grow((void **)&t->a, &t->acap, 4 * len + 16, sizeof(uint32_t)) ||
        tokc_grow((void **)&t->b, &t->bcap, 4 * len + 16, sizeof(uint32_t))) return -1;
    uint32_t *a = t->a, *b = t->b;
    size_t n = 0;
    const unsigned char *u = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        int k = coop_utf8_decode(u + i, len - i, &c);
        if (k < 0) { coop_set_error("clip tokenizer: invalid UTF-8 at byte %zu", i); return -1; }
        a[n++] = c; i += (size_t)k;
    }
    /* basic_clean: html.unescape(html.unescape(text)).strip() */
    n = tokc_unescape(a, n, b);
    n = tokc_unescape(b, n, a);
    size_t s0 = 0;
    while (s0 < n && tokc_ws_py_p(a[s0])) s0++;
    while (n > s0 && tokc_ws_py_p(a[n - 1])) n--;
    /* whitespace_clean: " ".join(text.split()) (already stripped, so no leading/trailing run) */
    size_t m = 0;
    for (size_t i = s0; i < n;) {
        if (tokc_ws_py_p(a[i])) { while (i < n && tokc_ws_py_p(a[i])) i++; b[m++] = ' '; }
        else b[m++] = a[i++];
    }
    s0 = 0;
    /* .lower() */
    n = 0;
    for (size_t i = s0; i < m; i++) {
        uint32_t c = b[i];
        if (c == 0x130) { a[n++] = 'i'; a[n++] = 0x307; }
        else if (c == 0x3A3) a[n++] = tokc_sigma(b, m, i);
        else a[n++] = tokc_lower1(t, c);
    }
    /* findall + BPE */
    static const char *contractions[7] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    unsigned char *wb = (unsigned char *)b;   /* b is free again: UTF-8 of one pre-token */
    int count = 0;
    for (size_t i = 0; i < n;) {
        size_t e = 0;
        if (a[i] == '<') {
            e = tokc_match_lit(a, n, i, "<start_of_text>");
            if (!e) e = tokc_match_lit(a, n, i, "<end_of_text>");
        } else if (a[i] == '\'') {
            for (int c = 0; c < 7 && !e; c++) e = tokc_match_lit(a, n, i, contractions[c]);
        }
        if (e) e += i;
        else {
            int k = tokc_class(t, a[i]);
            if (k == 0) { i++; continue; }
            e = i + 1;
            if (k != 2) while (e < n && tokc_class(t, a[e]) == k) e++;
        }
        size_t wl = 0;
        for (size_t q = i; q < e; q++) wl += (size_t)coop_utf8_encode(a[q], (char *)wb + wl);
        const int32_t *wid;
        int nw = tokc_word(t, wb, wl, &wid);
        if (nw < 0) return -1;
        for (int q = 0; q < nw; q++, count++)
            if (count < cap) ids[count] = wid[q];
        i = e;
    }
    return count;
}

int coop_clip_tokenize(coop_clip_tok *t, const char *text, int32_t *ids, int ctx) {
    if (ctx < 1) { coop_set_error("clip tokenizer: context length %d < 1", ctx); return -1; }
    int n = coop_clip_tok_encode(t, text, ids + 1, ctx - 1);
    if (n < 0) return -1;
    ids[0] = TOKC_SOT;
    int last = n + 1 < ctx ? n + 1 : ctx - 1;   /* tokens[:ctx], then tokens[-1] = EOT */
    ids[last] = TOKC_EOT;
    for (int i = last + 1; i < ctx; i++) ids[i] = 0;
    return last;
}

/* ===================================================================================== */
/* Hugging Face tokenizers: GPT-2 byte-level BPE (RoBERTa) and SentencePiece unigram (XLM-R) */
/* ===================================================================================== */
/* What OpenCLIP's HFTokenizer does (open_clip/tokenizer.py, clean='whitespace'):
     text -> html.unescape twice -> strip -> collapse \s+ to ' ' -> strip
          -> tokenizer(text, max_length=ctx, padding='max_length', truncation=True)
   i.e. ids = <s> tokens[:ctx-2] </s> <pad>... .
   RoBERTa (GPT-2 BPE): vocab.json + merges.txt; the ByteLevel pre-tokenizer regex
     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
   then bytes -> printable code points (GPT-2's bytes_to_unicode) and merges by rank.
   XLM-R (unigram): sentencepiece.bpe.model (a ModelProto, parsed here): normalisation with the
   model's precompiled_charsmap (a Darts double-array trie over UTF-8 + a blob of replacement
   strings; longest match, as sentencepiece's Normalizer), dummy prefix, extra whitespace removal,
   ' ' -> U+2581; Viterbi over piece scores, unknown runs fused into one <unk>; then fairseq ids:
   <s>=0 <pad>=1 </s>=2 <unk>=3, any other piece = spm id + 1.
   LIMITS: ftfy.fix_text (OpenCLIP's first cleaning step) is not applied; html.unescape knows
   numeric references and amp/lt/gt/quot/apos/nbsp only; special-token strings typed inside the
   text ("<mask>") are tokenized as plain text; byte_fallback / user-defined-symbol matching in
   the normaliser are not supported. Invalid UTF-8 input is an error. */


#include <ctype.h>
/* BEGIN GENERATED by tests/ref/gen_hf_unicode.py (Unicode 14.0.0) */
static const uint32_t hftok_letter[][2] = {  /* 648 ranges */
  {0x41,0x5A}, {0x61,0x7A}, {0xAA,0xAA}, {0xB5,0xB5}, {0xBA,0xBA}, {0xC0,0xD6}, {0xD8,0xF6},
  {0xF8,0x2C1}, {0x2C6,0x2D1}, {0x2E0,0x2E4}, {0x2EC,0x2EC}, {0x2EE,0x2EE}, {0x370,0x374},
  {0x376,0x377}, {0x37A,0x37D}, {0x37F,0x37F}, {0x386,0x386}, {0x388,0x38A}, {0x38C,0x38C},
  {0x38E,0x3A1}, {0x3A3,0x3F5}, {0x3F7,0x481}, {0x48A,0x52F}, {0x531,0x556}, {0x559,0x559},
  {0x560,0x588}, {0x5D0,0x5EA}, {0x5EF,0x5F2}, {0x620,0x64A}, {0x66E,0x66F}, {0x671,0x6D3},
  {0x6D5,0x6D5}, {0x6E5,0x6E6}, {0x6EE,0x6EF}, {0x6FA,0x6FC}, {0x6FF,0x6FF}, {0x710,0x710},
  {0x712,0x72F}, {0x74D,0x7A5}, {0x7B1,0x7B1}, {0x7CA,0x7EA}, {0x7F4,0x7F5}, {0x7FA,0x7FA},
  {0x800,0x815}, {0x81A,0x81A}, {0x824,0x824}, {0x828,0x828}, {0x840,0x858}, {0x860,0x86A},
  {0x870,0x887}, {0x889,0x88E}, {0x8A0,0x8C9}, {0x904,0x939}, {0x93D,0x93D}, {0x950,0x950},
  {0x958,0x961}, {0x971,0x980}, {0x985,0x98C}, {0x98F,0x990}, {0x993,0x9A8}, {0x9AA,0x9B0},
  {0x9B2,0x9B2}, {0x9B6,0x9B9}, {0x9BD,0x9BD}, {0x9CE,0x9CE}, {0x9DC,0x9DD}, {0x9DF,0x9E1},
  {0x9F0,0x9F1}, {0x9FC,0x9FC}, {0xA05,0xA0A}, {0xA0F,0xA10}, {0xA13,0xA28}, {0xA2A,0xA30},
  {0xA32,0xA33}, {0xA35,0xA36}, {0xA38,0xA39}, {0xA59,0xA5C}, {0xA5E,0xA5E}, {0xA72,0xA74},
  {0xA85,0xA8D}, {0xA8F,0xA91}, {0xA93,0xAA8}, {0xAAA,0xAB0}, {0xAB2,0xAB3}, {0xAB5,0xAB9},
  {0xABD,0xABD}, {0xAD0,0xAD0}, {0xAE0,0xAE1}, {0xAF9,0xAF9}, {0xB05,0xB0C}, {0xB0F,0xB10},
  {0xB13,0xB28}, {0xB2A,0xB30}, {0xB32,0xB33}, {0xB35,0xB39}, {0xB3D,0xB3D}, {0xB5C,0xB5D},
  {0xB5F,0xB61}, {0xB71,0xB71}, {0xB83,0xB83}, {0xB85,0xB8A}, {0xB8E,0xB90}, {0xB92,0xB95},
  {0xB99,0xB9A}, {0xB9C,0xB9C}, {0xB9E,0xB9F}, {0xBA3,0xBA4}, {0xBA8,0xBAA}, {0xBAE,0xBB9},
  {0xBD0,0xBD0}, {0xC05,0xC0C}, {0xC0E,0xC10}, {0xC12,0xC28}, {0xC2A,0xC39}, {0xC3D,0xC3D},
  {0xC58,0xC5A}, {0xC5D,0xC5D}, {0xC60,0xC61}, {0xC80,0xC80}, {0xC85,0xC8C}, {0xC8E,0xC90},
  {0xC92,0xCA8}, {0xCAA,0xCB3}, {0xCB5,0xCB9}, {0xCBD,0xCBD}, {0xCDD,0xCDE}, {0xCE0,0xCE1},
  {0xCF1,0xCF2}, {0xD04,0xD0C}, {0xD0E,0xD10}, {0xD12,0xD3A}, {0xD3D,0xD3D}, {0xD4E,0xD4E},
  {0xD54,0xD56}, {0xD5F,0xD61}, {0xD7A,0xD7F}, {0xD85,0xD96}, {0xD9A,0xDB1}, {0xDB3,0xDBB},
  {0xDBD,0xDBD}, {0xDC0,0xDC6}, {0xE01,0xE30}, {0xE32,0xE33}, {0xE40,0xE46}, {0xE81,0xE82},
  {0xE84,0xE84}, {0xE86,0xE8A}, {0xE8C,0xEA3}, {0xEA5,0xEA5}, {0xEA7,0xEB0}, {0xEB2,0xEB3},
  {0xEBD,0xEBD}, {0xEC0,0xEC4}, {0xEC6,0xEC6}, {0xEDC,0xEDF}, {0xF00,0xF00}, {0xF40,0xF47},
  {0xF49,0xF6C}, {0xF88,0xF8C}, {0x1000,0x102A}, {0x103F,0x103F}, {0x1050,0x1055}, {0x105A,0x105D},
  {0x1061,0x1061}, {0x1065,0x1066}, {0x106E,0x1070}, {0x1075,0x1081}, {0x108E,0x108E},
  {0x10A0,0x10C5}, {0x10C7,0x10C7}, {0x10CD,0x10CD}, {0x10D0,0x10FA}, {0x10FC,0x1248},
  {0x124A,0x124D}, {0x1250,0x1256}, {0x1258,0x1258}, {0x125A,0x125D}, {0x1260,0x1288},
  {0x128A,0x128D}, {0x1290,0x12B0}, {0x12B2,0x12B5}, {0x12B8,0x12BE}, {0x12C0,0x12C0},
  {0x12C2,0x12C5}, {0x12C8,0x12D6}, {0x12D8,0x1310}, {0x1312,0x1315}, {0x1318,0x135A},
  {0x1380,0x138F}, {0x13A0,0x13F5}, {0x13F8,0x13FD}, {0x1401,0x166C}, {0x166F,0x167F},
  {0x1681,0x169A}, {0x16A0,0x16EA}, {0x16F1,0x16F8}, {0x1700,0x1711}, {0x171F,0x1731},
  {0x1740,0x1751}, {0x1760,0x176C}, {0x176E,0x1770}, {0x1780,0x17B3}, {0x17D7,0x17D7},
  {0x17DC,0x17DC}, {0x1820,0x1878}, {0x1880,0x1884}, {0x1887,0x18A8}, {0x18AA,0x18AA},
  {0x18B0,0x18F5}, {0x1900,0x191E}, {0x1950,0x196D}, {0x1970,0x1974}, {0x1980,0x19AB},
  {0x19B0,0x19C9}, {0x1A00,0x1A16}, {0x1A20,0x1A54}, {0x1AA7,0x1AA7}, {0x1B05,0x1B33},
  {0x1B45,0x1B4C}, {0x1B83,0x1BA0}, {0x1BAE,0x1BAF}, {0x1BBA,0x1BE5}, {0x1C00,0x1C23},
  {0x1C4D,0x1C4F}, {0x1C5A,0x1C7D}, {0x1C80,0x1C88}, {0x1C90,0x1CBA}, {0x1CBD,0x1CBF},
  {0x1CE9,0x1CEC}, {0x1CEE,0x1CF3}, {0x1CF5,0x1CF6}, {0x1CFA,0x1CFA}, {0x1D00,0x1DBF},
  {0x1E00,0x1F15}, {0x1F18,0x1F1D}, {0x1F20,0x1F45}, {0x1F48,0x1F4D}, {0x1F50,0x1F57},
  {0x1F59,0x1F59}, {0x1F5B,0x1F5B}, {0x1F5D,0x1F5D}, {0x1F5F,0x1F7D}, {0x1F80,0x1FB4},
  {0x1FB6,0x1FBC}, {0x1FBE,0x1FBE}, {0x1FC2,0x1FC4}, {0x1FC6,0x1FCC}, {0x1FD0,0x1FD3},
  {0x1FD6,0x1FDB}, {0x1FE0,0x1FEC}, {0x1FF2,0x1FF4}, {0x1FF6,0x1FFC}, {0x2071,0x2071},
  {0x207F,0x207F}, {0x2090,0x209C}, {0x2102,0x2102}, {0x2107,0x2107}, {0x210A,0x2113},
  {0x2115,0x2115}, {0x2119,0x211D}, {0x2124,0x2124}, {0x2126,0x2126}, {0x2128,0x2128},
  {0x212A,0x212D}, {0x212F,0x2139}, {0x213C,0x213F}, {0x2145,0x2149}, {0x214E,0x214E},
  {0x2183,0x2184}, {0x2C00,0x2CE4}, {0x2CEB,0x2CEE}, {0x2CF2,0x2CF3}, {0x2D00,0x2D25},
  {0x2D27,0x2D27}, {0x2D2D,0x2D2D}, {0x2D30,0x2D67}, {0x2D6F,0x2D6F}, {0x2D80,0x2D96},
  {0x2DA0,0x2DA6}, {0x2DA8,0x2DAE}, {0x2DB0,0x2DB6}, {0x2DB8,0x2DBE}, {0x2DC0,0x2DC6},
  {0x2DC8,0x2DCE}, {0x2DD0,0x2DD6}, {0x2DD8,0x2DDE}, {0x2E2F,0x2E2F}, {0x3005,0x3006},
  {0x3031,0x3035}, {0x303B,0x303C}, {0x3041,0x3096}, {0x309D,0x309F}, {0x30A1,0x30FA},
  {0x30FC,0x30FF}, {0x3105,0x312F}, {0x3131,0x318E}, {0x31A0,0x31BF}, {0x31F0,0x31FF},
  {0x3400,0x4DBF}, {0x4E00,0xA48C}, {0xA4D0,0xA4FD}, {0xA500,0xA60C}, {0xA610,0xA61F},
  {0xA62A,0xA62B}, {0xA640,0xA66E}, {0xA67F,0xA69D}, {0xA6A0,0xA6E5}, {0xA717,0xA71F},
  {0xA722,0xA788}, {0xA78B,0xA7CA}, {0xA7D0,0xA7D1}, {0xA7D3,0xA7D3}, {0xA7D5,0xA7D9},
  {0xA7F2,0xA801}, {0xA803,0xA805}, {0xA807,0xA80A}, {0xA80C,0xA822}, {0xA840,0xA873},
  {0xA882,0xA8B3}, {0xA8F2,0xA8F7}, {0xA8FB,0xA8FB}, {0xA8FD,0xA8FE}, {0xA90A,0xA925},
  {0xA930,0xA946}, {0xA960,0xA97C}, {0xA984,0xA9B2}, {0xA9CF,0xA9CF}, {0xA9E0,0xA9E4},
  {0xA9E6,0xA9EF}, {0xA9FA,0xA9FE}, {0xAA00,0xAA28}, {0xAA40,0xAA42}, {0xAA44,0xAA4B},
  {0xAA60,0xAA76}, {0xAA7A,0xAA7A}, {0xAA7E,0xAAAF}, {0xAAB1,0xAAB1}, {0xAAB5,0xAAB6},
  {0xAAB9,0xAABD}, {0xAAC0,0xAAC0}, {0xAAC2,0xAAC2}, {0xAADB,0xAADD}, {0xAAE0,0xAAEA},
  {0xAAF2,0xAAF4}, {0xAB01,0xAB06}, {0xAB09,0xAB0E}, {0xAB11,0xAB16}, {0xAB20,0xAB26},
  {0xAB28,0xAB2E}, {0xAB30,0xAB5A}, {0xAB5C,0xAB69}, {0xAB70,0xABE2}, {0xAC00,0xD7A3},
  {0xD7B0,0xD7C6}, {0xD7CB,0xD7FB}, {0xF900,0xFA6D}, {0xFA70,0xFAD9}, {0xFB00,0xFB06},
  {0xFB13,0xFB17}, {0xFB1D,0xFB1D}, {0xFB1F,0xFB28}, {0xFB2A,0xFB36}, {0xFB38,0xFB3C},
  {0xFB3E,0xFB3E}, {0xFB40,0xFB41}, {0xFB43,0xFB44}, {0xFB46,0xFBB1}, {0xFBD3,0xFD3D},
  {0xFD50,0xFD8F}, {0xFD92,0xFDC7}, {0xFDF0,0xFDFB}, {0xFE70,0xFE74}, {0xFE76,0xFEFC},
  {0xFF21,0xFF3A}, {0xFF41,0xFF5A}, {0xFF66,0xFFBE}, {0xFFC2,0xFFC7}, {0xFFCA,0xFFCF},
  {0xFFD2,0xFFD7}, {0xFFDA,0xFFDC}, {0x10000,0x1000B}, {0x1000D,0x10026}, {0x10028,0x1003A},
  {0x1003C,0x1003D}, {0x1003F,0x1004D}, {0x10050,0x1005D}, {0x10080,0x100FA}, {0x10280,0x1029C},
  {0x102A0,0x102D0}, {0x10300,0x1031F}, {0x1032D,0x10340}, {0x10342,0x10349}, {0x10350,0x10375},
  {0x10380,0x1039D}, {0x103A0,0x103C3}, {0x103C8,0x103CF}, {0x10400,0x1049D}, {0x104B0,0x104D3},
  {0x104D8,0x104FB}, {0x10500,0x10527}, {0x10530,0x10563}, {0x10570,0x1057A}, {0x1057C,0x1058A},
  {0x1058C,0x10592}, {0x10594,0x10595}, {0x10597,0x105A1}, {0x105A3,0x105B1}, {0x105B3,0x105B9},
  {0x105BB,0x105BC}, {0x10600,0x10736}, {0x10740,0x10755}, {0x10760,0x10767}, {0x10780,0x10785},
  {0x10787,0x107B0}, {0x107B2,0x107BA}, {0x10800,0x10805}, {0x10808,0x10808}, {0x1080A,0x10835},
  {0x10837,0x10838}, {0x1083C,0x1083C}, {0x1083F,0x10855}, {0x10860,0x10876}, {0x10880,0x1089E},
  {0x108E0,0x108F2}, {0x108F4,0x108F5}, {0x10900,0x10915}, {0x10920,0x10939}, {0x10980,0x109B7},
  {0x109BE,0x109BF}, {0x10A00,0x10A00}, {0x10A10,0x10A13}, {0x10A15,0x10A17}, {0x10A19,0x10A35},
  {0x10A60,0x10A7C}, {0x10A80,0x10A9C}, {0x10AC0,0x10AC7}, {0x10AC9,0x10AE4}, {0x10B00,0x10B35},
  {0x10B40,0x10B55}, {0x10B60,0x10B72}, {0x10B80,0x10B91}, {0x10C00,0x10C48}, {0x10C80,0x10CB2},
  {0x10CC0,0x10CF2}, {0x10D00,0x10D23}, {0x10E80,0x10EA9}, {0x10EB0,0x10EB1}, {0x10F00,0x10F1C},
  {0x10F27,0x10F27}, {0x10F30,0x10F45}, {0x10F70,0x10F81}, {0x10FB0,0x10FC4}, {0x10FE0,0x10FF6},
  {0x11003,0x11037}, {0x11071,0x11072}, {0x11075,0x11075}, {0x11083,0x110AF}, {0x110D0,0x110E8},
  {0x11103,0x11126}, {0x11144,0x11144}, {0x11147,0x11147}, {0x11150,0x11172}, {0x11176,0x11176},
  {0x11183,0x111B2}, {0x111C1,0x111C4}, {0x111DA,0x111DA}, {0x111DC,0x111DC}, {0x11200,0x11211},
  {0x11213,0x1122B}, {0x11280,0x11286}, {0x11288,0x11288}, {0x1128A,0x1128D}, {0x1128F,0x1129D},
  {0x1129F,0x112A8}, {0x112B0,0x112DE}, {0x11305,0x1130C}, {0x1130F,0x11310}, {0x11313,0x11328},
  {0x1132A,0x11330}, {0x11332,0x11333}, {0x11335,0x11339}, {0x1133D,0x1133D}, {0x11350,0x11350},
  {0x1135D,0x11361}, {0x11400,0x11434}, {0x11447,0x1144A}, {0x1145F,0x11461}, {0x11480,0x114AF},
  {0x114C4,0x114C5}, {0x114C7,0x114C7}, {0x11580,0x115AE}, {0x115D8,0x115DB}, {0x11600,0x1162F},
  {0x11644,0x11644}, {0x11680,0x116AA}, {0x116B8,0x116B8}, {0x11700,0x1171A}, {0x11740,0x11746},
  {0x11800,0x1182B}, {0x118A0,0x118DF}, {0x118FF,0x11906}, {0x11909,0x11909}, {0x1190C,0x11913},
  {0x11915,0x11916}, {0x11918,0x1192F}, {0x1193F,0x1193F}, {0x11941,0x11941}, {0x119A0,0x119A7},
  {0x119AA,0x119D0}, {0x119E1,0x119E1}, {0x119E3,0x119E3}, {0x11A00,0x11A00}, {0x11A0B,0x11A32},
  {0x11A3A,0x11A3A}, {0x11A50,0x11A50}, {0x11A5C,0x11A89}, {0x11A9D,0x11A9D}, {0x11AB0,0x11AF8},
  {0x11C00,0x11C08}, {0x11C0A,0x11C2E}, {0x11C40,0x11C40}, {0x11C72,0x11C8F}, {0x11D00,0x11D06},
  {0x11D08,0x11D09}, {0x11D0B,0x11D30}, {0x11D46,0x11D46}, {0x11D60,0x11D65}, {0x11D67,0x11D68},
  {0x11D6A,0x11D89}, {0x11D98,0x11D98}, {0x11EE0,0x11EF2}, {0x11FB0,0x11FB0}, {0x12000,0x12399},
  {0x12480,0x12543}, {0x12F90,0x12FF0}, {0x13000,0x1342E}, {0x14400,0x14646}, {0x16800,0x16A38},
  {0x16A40,0x16A5E}, {0x16A70,0x16ABE}, {0x16AD0,0x16AED}, {0x16B00,0x16B2F}, {0x16B40,0x16B43},
  {0x16B63,0x16B77}, {0x16B7D,0x16B8F}, {0x16E40,0x16E7F}, {0x16F00,0x16F4A}, {0x16F50,0x16F50},
  {0x16F93,0x16F9F}, {0x16FE0,0x16FE1}, {0x16FE3,0x16FE3}, {0x17000,0x187F7}, {0x18800,0x18CD5},
  {0x18D00,0x18D08}, {0x1AFF0,0x1AFF3}, {0x1AFF5,0x1AFFB}, {0x1AFFD,0x1AFFE}, {0x1B000,0x1B122},
  {0x1B150,0x1B152}, {0x1B164,0x1B167}, {0x1B170,0x1B2FB}, {0x1BC00,0x1BC6A}, {0x1BC70,0x1BC7C},
  {0x1BC80,0x1BC88}, {0x1BC90,0x1BC99}, {0x1D400,0x1D454}, {0x1D456,0x1D49C}, {0x1D49E,0x1D49F},
  {0x1D4A2,0x1D4A2}, {0x1D4A5,0x1D4A6}, {0x1D4A9,0x1D4AC}, {0x1D4AE,0x1D4B9}, {0x1D4BB,0x1D4BB},
  {0x1D4BD,0x1D4C3}, {0x1D4C5,0x1D505}, {0x1D507,0x1D50A}, {0x1D50D,0x1D514}, {0x1D516,0x1D51C},
  {0x1D51E,0x1D539}, {0x1D53B,0x1D53E}, {0x1D540,0x1D544}, {0x1D546,0x1D546}, {0x1D54A,0x1D550},
  {0x1D552,0x1D6A5}, {0x1D6A8,0x1D6C0}, {0x1D6C2,0x1D6DA}, {0x1D6DC,0x1D6FA}, {0x1D6FC,0x1D714},
  {0x1D716,0x1D734}, {0x1D736,0x1D74E}, {0x1D750,0x1D76E}, {0x1D770,0x1D788}, {0x1D78A,0x1D7A8},
  {0x1D7AA,0x1D7C2}, {0x1D7C4,0x1D7CB}, {0x1DF00,0x1DF1E}, {0x1E100,0x1E12C}, {0x1E137,0x1E13D},
  {0x1E14E,0x1E14E}, {0x1E290,0x1E2AD}, {0x1E2C0,0x1E2EB}, {0x1E7E0,0x1E7E6}, {0x1E7E8,0x1E7EB},
  {0x1E7ED,0x1E7EE}, {0x1E7F0,0x1E7FE}, {0x1E800,0x1E8C4}, {0x1E900,0x1E943}, {0x1E94B,0x1E94B},
  {0x1EE00,0x1EE03}, {0x1EE05,0x1EE1F}, {0x1EE21,0x1EE22}, {0x1EE24,0x1EE24}, {0x1EE27,0x1EE27},
  {0x1EE29,0x1EE32}, {0x1EE34,0x1EE37}, {0x1EE39,0x1EE39}, {0x1EE3B,0x1EE3B}, {0x1EE42,0x1EE42},
  {0x1EE47,0x1EE47}, {0x1EE49,0x1EE49}, {0x1EE4B,0x1EE4B}, {0x1EE4D,0x1EE4F}, {0x1EE51,0x1EE52},
  {0x1EE54,0x1EE54}, {0x1EE57,0x1EE57}, {0x1EE59,0x1EE59}, {0x1EE5B,0x1EE5B}, {0x1EE5D,0x1EE5D},
  {0x1EE5F,0x1EE5F}, {0x1EE61,0x1EE62}, {0x1EE64,0x1EE64}, {0x1EE67,0x1EE6A}, {0x1EE6C,0x1EE72},
  {0x1EE74,0x1EE77}, {0x1EE79,0x1EE7C}, {0x1EE7E,0x1EE7E}, {0x1EE80,0x1EE89}, {0x1EE8B,0x1EE9B},
  {0x1EEA1,0x1EEA3}, {0x1EEA5,0x1EEA9}, {0x1EEAB,0x1EEBB}, {0x20000,0x2A6DF}, {0x2A700,0x2B738},
  {0x2B740,0x2B81D}, {0x2B820,0x2CEA1}, {0x2CEB0,0x2EBE0}, {0x2F800,0x2FA1D}, {0x30000,0x3134A},
};
static const uint32_t hftok_number[][2] = {  /* 134 ranges */
  {0x30,0x39}, {0xB2,0xB3}, {0xB9,0xB9}, {0xBC,0xBE}, {0x660,0x669}, {0x6F0,0x6F9}, {0x7C0,0x7C9},
  {0x966,0x96F}, {0x9E6,0x9EF}, {0x9F4,0x9F9}, {0xA66,0xA6F}, {0xAE6,0xAEF}, {0xB66,0xB6F},
  {0xB72,0xB77}, {0xBE6,0xBF2}, {0xC66,0xC6F}, {0xC78,0xC7E}, {0xCE6,0xCEF}, {0xD58,0xD5E},
  {0xD66,0xD78}, {0xDE6,0xDEF}, {0xE50,0xE59}, {0xED0,0xED9}, {0xF20,0xF33}, {0x1040,0x1049},
  {0x1090,0x1099}, {0x1369,0x137C}, {0x16EE,0x16F0}, {0x17E0,0x17E9}, {0x17F0,0x17F9},
  {0x1810,0x1819}, {0x1946,0x194F}, {0x19D0,0x19DA}, {0x1A80,0x1A89}, {0x1A90,0x1A99},
  {0x1B50,0x1B59}, {0x1BB0,0x1BB9}, {0x1C40,0x1C49}, {0x1C50,0x1C59}, {0x2070,0x2070},
  {0x2074,0x2079}, {0x2080,0x2089}, {0x2150,0x2182}, {0x2185,0x2189}, {0x2460,0x249B},
  {0x24EA,0x24FF}, {0x2776,0x2793}, {0x2CFD,0x2CFD}, {0x3007,0x3007}, {0x3021,0x3029},
  {0x3038,0x303A}, {0x3192,0x3195}, {0x3220,0x3229}, {0x3248,0x324F}, {0x3251,0x325F},
  {0x3280,0x3289}, {0x32B1,0x32BF}, {0xA620,0xA629}, {0xA6E6,0xA6EF}, {0xA830,0xA835},
  {0xA8D0,0xA8D9}, {0xA900,0xA909}, {0xA9D0,0xA9D9}, {0xA9F0,0xA9F9}, {0xAA50,0xAA59},
  {0xABF0,0xABF9}, {0xFF10,0xFF19}, {0x10107,0x10133}, {0x10140,0x10178}, {0x1018A,0x1018B},
  {0x102E1,0x102FB}, {0x10320,0x10323}, {0x10341,0x10341}, {0x1034A,0x1034A}, {0x103D1,0x103D5},
  {0x104A0,0x104A9}, {0x10858,0x1085F}, {0x10879,0x1087F}, {0x108A7,0x108AF}, {0x108FB,0x108FF},
  {0x10916,0x1091B}, {0x109BC,0x109BD}, {0x109C0,0x109CF}, {0x109D2,0x109FF}, {0x10A40,0x10A48},
  {0x10A7D,0x10A7E}, {0x10A9D,0x10A9F}, {0x10AEB,0x10AEF}, {0x10B58,0x10B5F}, {0x10B78,0x10B7F},
  {0x10BA9,0x10BAF}, {0x10CFA,0x10CFF}, {0x10D30,0x10D39}, {0x10E60,0x10E7E}, {0x10F1D,0x10F26},
  {0x10F51,0x10F54}, {0x10FC5,0x10FCB}, {0x11052,0x1106F}, {0x110F0,0x110F9}, {0x11136,0x1113F},
  {0x111D0,0x111D9}, {0x111E1,0x111F4}, {0x112F0,0x112F9}, {0x11450,0x11459}, {0x114D0,0x114D9},
  {0x11650,0x11659}, {0x116C0,0x116C9}, {0x11730,0x1173B}, {0x118E0,0x118F2}, {0x11950,0x11959},
  {0x11C50,0x11C6C}, {0x11D50,0x11D59}, {0x11DA0,0x11DA9}, {0x11FC0,0x11FD4}, {0x12400,0x1246E},
  {0x16A60,0x16A69}, {0x16AC0,0x16AC9}, {0x16B50,0x16B59}, {0x16B5B,0x16B61}, {0x16E80,0x16E96},
  {0x1D2E0,0x1D2F3}, {0x1D360,0x1D378}, {0x1D7CE,0x1D7FF}, {0x1E140,0x1E149}, {0x1E2F0,0x1E2F9},
  {0x1E8C7,0x1E8CF}, {0x1E950,0x1E959}, {0x1EC71,0x1ECAB}, {0x1ECAD,0x1ECAF}, {0x1ECB1,0x1ECB4},
  {0x1ED01,0x1ED2D}, {0x1ED2F,0x1ED3D}, {0x1F100,0x1F10C}, {0x1FBF0,0x1FBF9},
};
static const uint32_t hftok_space[][2] = {  /* 10 ranges */
  {0x9,0xD}, {0x1C,0x20}, {0x85,0x85}, {0xA0,0xA0}, {0x1680,0x1680}, {0x2000,0x200A},
  {0x2028,0x2029}, {0x202F,0x202F}, {0x205F,0x205F}, {0x3000,0x3000},
};
/* END GENERATED */

static int hftok_in(const uint32_t (*r)[2], int n, uint32_t cp) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (cp < r[mid][0]) hi = mid - 1;
        else if (cp > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}
#define HFTOK_N(t) ((int)(sizeof t / sizeof t[0]))
static int hftok_is_letter(uint32_t c) { return hftok_in(hftok_letter, HFTOK_N(hftok_letter), c); }
static int hftok_is_number(uint32_t c) { return hftok_in(hftok_number, HFTOK_N(hftok_number), c); }
static int hftok_is_space(uint32_t c) { return hftok_in(hftok_space, HFTOK_N(hftok_space), c); }

/* ---- growable byte buffer ---------------------------------------------------------------- */
typedef struct { char *p; size_t n, cap; } hftok_buf;
static int hftok_put(hftok_buf *b, const void *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + n + 1 > cap) cap *= 2;
        char *q = (char *)realloc(b->p, cap);
        if (!q) { coop_set_error("out of memory (tokenizer)"); return -1; }
        b->p = q; b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}
static int hftok_putcp(hftok_buf *b, uint32_t cp) { char u[4]; return hftok_put(b, u, (size_t)coop_utf8_encode(cp, u)); }

/* ---- string -> int hash map (open addressing, FNV-1a); keys copied into one arena ------- */
typedef struct { uint32_t off, len; int32_t val; } hftok_slot;
typedef struct { hftok_slot *slot; size_t cap, count; hftok_buf keys; } hftok_map;
static uint64_t hftok_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}
static int hftok_map_init(hftok_map *m, size_t expect) {
    memset(m, 0, sizeof *m);
    m->cap = 64;
    while (m->cap < 2 * expect + 16) m->cap *= 2;
    m->slot = (hftok_slot *)calloc(m->cap, sizeof *m->slot);
    if (!m->slot) { coop_set_error("out of memory (tokenizer)"); return -1; }
    for (size_t i = 0; i < m->cap; i++) m->slot[i].val = -1;
    return 0;
}
static void hftok_map_free(hftok_map *m) { free(m->slot); free(m->keys.p); memset(m, 0, sizeof *m); }
/* slot index holding key, or the empty slot where it would go */
static size_t hftok_map_pos(const hftok_map *m, const char *s, size_t n) {
    size_t i = (size_t)hftok_hash(s, n) & (m->cap - 1);
    while (m->slot[i].val >= 0 && !(m->slot[i].len == n && !memcmp(m->keys.p + m->slot[i].off, s, n)))
        i = (i + 1) & (m->cap - 1);
    return i;
}
static int hftok_map_get(const hftok_map *m, const char *s, size_t n) { return m->slot[hftok_map_pos(m, s, n)].val; }
/* returns 1 if inserted, 0 if the key existed (value kept), -1 on error */
static int hftok_map_add(hftok_map *m, const char *s, size_t n, int val) {
    if (2 * (m->count + 1) > m->cap) {   /* grow to keep the load <= 1/2 */
        hftok_map g = *m;
        g.cap = m->cap * 2;
        g.slot = (hftok_slot *)calloc(g.cap, sizeof *g.slot);
        if (!g.slot) { coop_set_error("out of memory (tokenizer)"); return -1; }
        for (size_t i = 0; i < g.cap; i++) g.slot[i].val = -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slot[i].val >= 0) g.slot[hftok_map_pos(&g, m->keys.p + m->slot[i].off, m->slot[i].len)] = m->slot[i];
        free(m->slot);
        *m = g;
    }
    size_t i = hftok_map_pos(m, s, n);
    if (m->slot[i].val >= 0) return 0;
    if (m->keys.n + n > UINT32_MAX) { coop_set_error("tokenizer: vocabulary too large"); return -1; }
    m->slot[i].off = (uint32_t)m->keys.n;
    m->slot[i].len = (uint32_t)n;
    if (hftok_put(&m->keys, s, n)) return -1;
    m->slot[i].val = val;
    m->count++;
    return 1;
}

/* ---- the tokenizer object ---------------------------------------------------------------- */
enum { HFTOK_BPE = 1, HFTOK_UNIGRAM = 2 };
typedef struct { float score; int type; } hftok_piece;   /* unigram: spm id -> score, type */
struct coop_hf_tok {
    int kind;
    int bos, pad, eos, unk;        /* output ids of <s> <pad> </s> <unk> */
    hftok_map vocab;               /* BPE: token -> id;  unigram: piece -> spm id */
    hftok_map ranks;               /* BPE: "a b" -> merge rank */
    char byte_map[256][4];         /* BPE: byte -> UTF-8 of its printable code point */
    /* unigram */
    hftok_piece *pieces;
    int n_pieces, spm_unk, max_piece_len;
    float min_score, max_score;
    unsigned char *charsmap;       /* copy of precompiled_charsmap (NULL: identity) */
    size_t charsmap_len, trie_units;
    int add_dummy_prefix, remove_extra_ws, escape_ws;
};

void coop_hf_tok_free(coop_hf_tok *t) {
    if (!t) return;
    hftok_map_free(&t->vocab);
    hftok_map_free(&t->ranks);
    free(t->pieces);
    free(t->charsmap);
    free(t);
}

/* ---- OpenCLIP's cleaning: html.unescape x2, strip, \s+ -> ' ' ---------------------------- */
static int hftok_unescape(const char *s, size_t n, hftok_buf *out) {
    static const struct { const char *name; uint32_t cp; int semi_required; } ent[] = {
        {"amp", '&', 0}, {"lt", '<', 0}, {"gt", '>', 0}, {"quot", '"', 0}, {"nbsp", 0xA0, 0}, {"apos", '\'', 1}};
    size_t i = 0;
    while (i < n) {
        if (s[i] != '&') {
            size_t j = i;
            while (j < n && s[j] != '&') j++;
            if (hftok_put(out, s + i, j - i)) return -1;
            i = j;
            continue;
        }
        if (i + 2 < n && s[i + 1] == '#') {          /* &#123; &#x1F600; (';' optional) */
            int hex = s[i + 2] == 'x' || s[i + 2] == 'X';
            size_t j = i + 2 + (size_t)hex, d0 = j;
            uint32_t v = 0;
            while (j < n && (hex ? isxdigit((unsigned char)s[j]) : isdigit((unsigned char)s[j]))) {
                int dv = isdigit((unsigned char)s[j]) ? s[j] - '0' : (tolower((unsigned char)s[j]) - 'a' + 10);
                if (v < 0x1000000) v = v * (hex ? 16u : 10u) + (uint32_t)dv;
                j++;
            }
            if (j > d0) {
                if (j < n && s[j] == ';') j++;
                if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) v = 0xFFFD;
                if (hftok_putcp(out, v)) return -1;
                i = j;
                continue;
            }
        }
        int done = 0;
        for (size_t k = 0; k < sizeof ent / sizeof ent[0] && !done; k++) {
            size_t l = strlen(ent[k].name);
            if (i + 1 + l > n || memcmp(s + i + 1, ent[k].name, l)) continue;
            int semi = i + 1 + l < n && s[i + 1 + l] == ';';
            if (ent[k].semi_required && !semi) continue;
            if (hftok_putcp(out, ent[k].cp)) return -1;
            i += 1 + l + (size_t)semi;
            done = 1;
        }
        if (!done) { if (hftok_put(out, "&", 1)) return -1; i++; }
    }
    return 0;
}

/* cleaned UTF-8 text into *out (caller frees out->p) */
static int hftok_clean(const char *text, hftok_buf *out) {
    size_t n = strlen(text);
    if (!coop_utf8_valid(text, n)) { coop_set_error("tokenizer: text is not valid UTF-8"); return -1; }
    hftok_buf a = {NULL, 0, 0}, b = {NULL, 0, 0};
    int rc = hftok_unescape(text, n, &a) || hftok_unescape(a.p ? a.p : "", a.n, &b);
    if (!rc) {
        /* collapse runs of whitespace into one ' ', dropping leading / trailing ones */
        const unsigned char *u = (const unsigned char *)(b.p ? b.p : "");
        size_t i = 0;
        int pending = 0;
        rc = hftok_put(out, "", 0);
        while (!rc && i < b.n) {
            uint32_t cp;
            int k = coop_utf8_decode(u + i, b.n - i, &cp);
            if (k < 0) { cp = 0xFFFD; k = 1; }   /* cannot happen: inputs were valid */
            if (hftok_is_space(cp)) pending = 1;
            else {
                if (pending && out->n) rc = hftok_put(out, " ", 1);
                pending = 0;
                if (!rc) rc = hftok_put(out, u + i, (size_t)k);
            }
            i += (size_t)k;
        }
    }
    free(a.p);
    free(b.p);
    return rc ? -1 : 0;
}

/* <s> toks[0..n) </s> <pad>... with truncation that keeps </s> */
static int hftok_finish(const coop_hf_tok *t, const int *toks, int n, int32_t *ids, int ctx) {
    if (ctx < 2) { coop_set_error("tokenizer: context length %d < 2", ctx); return -1; }
    if (n > ctx - 2) n = ctx - 2;
    ids[0] = t->bos;
    for (int i = 0; i < n; i++) ids[1 + i] = toks[i];
    ids[n + 1] = t->eos;
    for (int i = n + 2; i < ctx; i++) ids[i] = t->pad;
    return n + 1;
}

/* growable int list */
typedef struct { int *p; int n, cap; } hftok_ints;
static int hftok_push(hftok_ints *v, int x) {
    if (v->n == v->cap) {
        int cap = v->cap ? 2 * v->cap : 64;
        int *q = (int *)realloc(v->p, sizeof(int) * (size_t)cap);
        if (!q) { coop_set_error("out of memory (tokenizer)"); return -1; }
        v->p = q; v->cap = cap;
    }
    v->p[v->n++] = x;
    return 0;
}

/* ===== GPT-2 byte-level BPE ================================================================ */

/* minimal JSON string parser: s[*i] is the opening quote; appends the UTF-8 value to out */
static int hftok_json_string(const char *s, size_t n, size_t *i, hftok_buf *out, const char *what) {
    size_t p = *i + 1;
    out->n = 0;
    if (hftok_put(out, "", 0)) return -1;
    while (p < n && s[p] != '"') {
        unsigned char c = (unsigned char)s[p];
        if (c < 0x20) { coop_set_error("%s: control character in a string at byte %zu", what, p); return -1; }
        if (c != '\\') { if (hftok_put(out, s + p, 1)) return -1; p++; continue; }
        if (++p >= n) break;
        char e = s[p++];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char rep[] = "\"\\/\b\f\n\r\t";
            if (hftok_put(out, rep + (simple - "\"\\/bfnrt"), 1)) return -1;
            continue;
        }
        if (e != 'u') { coop_set_error("%s: bad escape '\\%c' at byte %zu", what, e, p - 1); return -1; }
        uint32_t cp = 0;
        for (int pass = 0; pass < 2; pass++) {
            uint32_t v = 0;
            if (p + 4 > n) { coop_set_error("%s: truncated \\u escape at byte %zu", what, p); return -1; }
            for (int k = 0; k < 4; k++) {
                int h = s[p + (size_t)k];
                if (!isxdigit(h)) { coop_set_error("%s: bad \\u escape at byte %zu", what, p); return -1; }
                v = v * 16 + (uint32_t)(isdigit(h) ? h - '0' : tolower(h) - 'a' + 10);
            }
            p += 4;
            if (pass == 0) {
                cp = v;
                if (v < 0xD800 || v > 0xDFFF) break;
                if (v > 0xDBFF || p + 2 > n || s[p] != '\\' || s[p + 1] != 'u') {
                    coop_set_error("%s: unpaired surrogate at byte %zu", what, p);
                    return -1;
                }
                p += 2;
            } else {
                if (v < 0xDC00 || v > 0xDFFF) { coop_set_error("%s: unpaired surrogate at byte %zu", what, p); return -1; }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (v - 0xDC00);
            }
        }
        if (hftok_putcp(out, cp)) return -1;
    }
    if (p >= n) { coop_set_error("%s: unterminated string", what); return -1; }
    if (!coop_utf8_valid(out->p, out->n)) { coop_set_error("%s: string is not valid UTF-8 (byte %zu)", what, *i); return -1; }
    *i = p + 1;
    return 0;
}

static size_t hftok_skip_ws(const char *s, size_t n, size_t i) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    return i;
}

/* vocab.json: { "token": id, ... } */
static int hftok_parse_vocab(coop_hf_tok *t, const char *s, size_t n) {
    const char *what = "vocab.json";
    hftok_buf key = {NULL, 0, 0};
    size_t i = hftok_skip_ws(s, n, 0);
    if (i >= n || s[i] != '{') { coop_set_error("%s: expected '{' at byte %zu", what, i); return -1; }
    i = hftok_skip_ws(s, n, i + 1);
    int first = 1, rc = -1;
    for (;;) {
        if (i < n && s[i] == '}' && first) { i++; break; }
        if (i >= n || s[i] != '"') { coop_set_error("%s: expected a string key at byte %zu", what, i); goto out; }
        if (hftok_json_string(s, n, &i, &key, what)) goto out;
        i = hftok_skip_ws(s, n, i);
        if (i >= n || s[i] != ':') { coop_set_error("%s: expected ':' at byte %zu", what, i); goto out; }
        i = hftok_skip_ws(s, n, i + 1);
        long v = 0;
        size_t d0 = i;
        while (i < n && isdigit((unsigned char)s[i]) && v < 100000000) v = v * 10 + (s[i++] - '0');
        if (i == d0 || (i < n && (isdigit((unsigned char)s[i]) || s[i] == '.' || s[i] == 'e'))) {
            coop_set_error("%s: expected a non-negative integer id at byte %zu", what, d0);
            goto out;
        }
        int r = hftok_map_add(&t->vocab, key.p, key.n, (int)v);
        if (r < 0) goto out;
        if (r == 0) { coop_set_error("%s: duplicate token \"%s\"", what, key.p); goto out; }
        i = hftok_skip_ws(s, n, i);
        first = 0;
        if (i < n && s[i] == ',') { i = hftok_skip_ws(s, n, i + 1); continue; }
        if (i < n && s[i] == '}') { i++; break; }
        coop_set_error("%s: expected ',' or '}' at byte %zu", what, i);
        goto out;
    }
    i = hftok_skip_ws(s, n, i);
    if (i != n && !(i + 1 == n && s[i] == 0)) { coop_set_error("%s: trailing data at byte %zu", what, i); goto out; }
    if (!t->vocab.count) { coop_set_error("%s: empty vocabulary", what); goto out; }
    rc = 0;
out:
    free(key.p);
    return rc;
}

/* merges.txt: optional "#version" line, then "a b" per line; rank = line order */
static int hftok_parse_merges(coop_hf_tok *t, const char *s, size_t n) {
    size_t i = 0;
    int rank = 0, line = 0;
    hftok_buf joined = {NULL, 0, 0};
    while (i < n) {
        size_t e = i;
        while (e < n && s[e] != '\n') e++;
        size_t l = e;
        if (l > i && s[l - 1] == '\r') l--;
        line++;
        if (l > i && !(line == 1 && l - i >= 8 && !memcmp(s + i, "#version", 8)) && !(l == i + 1 && s[i] == 0)) {
            const char *sp = (const char *)memchr(s + i, ' ', l - i);
            size_t a = sp ? (size_t)(sp - (s + i)) : 0;
            if (!sp || a == 0 || a + 1 >= l - i || memchr(sp + 1, ' ', l - i - a - 1)) {
                coop_set_error("merges.txt: line %d is not \"left right\"", line);
                free(joined.p);
                return -1;
            }
            if (!coop_utf8_valid(s + i, l - i)) { coop_set_error("merges.txt: line %d is not valid UTF-8", line); free(joined.p); return -1; }
            joined.n = 0;
            int ok = !hftok_put(&joined, s + i, a) && !hftok_put(&joined, s + i + a + 1, l - i - a - 1);
            if (!ok) { free(joined.p); return -1; }
            if (hftok_map_get(&t->vocab, s + i, a) < 0 || hftok_map_get(&t->vocab, s + i + a + 1, l - i - a - 1) < 0 ||
                hftok_map_get(&t->vocab, joined.p, joined.n) < 0) {
                coop_set_error("merges.txt: line %d: merge \"%.*s\" uses a token missing from vocab.json", line, (int)(l - i), s + i);
                free(joined.p);
                return -1;
            }
            if (hftok_map_add(&t->ranks, s + i, l - i, rank++) < 0) { free(joined.p); return -1; }
        }
        i = e + 1;
    }
    free(joined.p);
    if (!rank) { coop_set_error("merges.txt: no merges"); return -1; }
    return 0;
}

coop_hf_tok *coop_hf_tok_new_bpe(const char *vocab_json, size_t vocab_len, const char *merges, size_t merges_len) {
    coop_hf_tok *t = (coop_hf_tok *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("out of memory (tokenizer)"); return NULL; }
    static const char *names[4] = {"<s>", "<pad>", "</s>", "<unk>"};
    int *dst[4] = {&t->bos, &t->pad, &t->eos, &t->unk};   /* before the first goto fail (C++) */
    t->kind = HFTOK_BPE;
    if (!vocab_json || !merges || hftok_map_init(&t->vocab, 1024) || hftok_map_init(&t->ranks, 1024)) {
        if (!vocab_json || !merges) coop_set_error("tokenizer: vocab.json / merges.txt missing");
        goto fail;
    }
    if (hftok_parse_vocab(t, vocab_json, vocab_len) || hftok_parse_merges(t, merges, merges_len)) goto fail;
    /* GPT-2 bytes_to_unicode: printable Latin-1 bytes map to themselves, the rest to 256 + k */
    for (int b = 0, k = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        uint32_t cp = keep ? (uint32_t)b : (uint32_t)(256 + k++);
        memset(t->byte_map[b], 0, 4);
        coop_utf8_encode(cp, t->byte_map[b]);
    }
    for (int k = 0; k < 4; k++)
        if ((*dst[k] = hftok_map_get(&t->vocab, names[k], strlen(names[k]))) < 0) {
            coop_set_error("vocab.json: special token %s missing", names[k]);
            goto fail;
        }
    return t;
fail:
    coop_hf_tok_free(t);
    return NULL;
}

/* BPE of one pre-token (already byte-mapped UTF-8, w[0..n)); appends ids */
static int hftok_bpe_word(const coop_hf_tok *t, const char *w, size_t n, hftok_ints *out, hftok_buf *tmp) {
    /* part boundaries: part k = w[st[k], st[k+1]) */
    size_t *st = (size_t *)malloc(sizeof(size_t) * (n + 2)), cnt = 0;
    int id, rc = -1;
    if (!st) { coop_set_error("out of memory (tokenizer)"); return -1; }
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = coop_utf8_decode((const unsigned char *)w + i, n - i, &cp);
        st[cnt++] = i;
        i += (size_t)(k < 0 ? 1 : k);
    }
    st[cnt] = n;
    /* repeatedly merge the lowest-rank adjacent pair (all its occurrences, left to right) */
    while (cnt > 1) {
        int best = -1;
        size_t bi = 0;
        for (size_t p = 0; p + 1 < cnt; p++) {
            tmp->n = 0;
            if (hftok_put(tmp, w + st[p], st[p + 1] - st[p]) || hftok_put(tmp, " ", 1) ||
                hftok_put(tmp, w + st[p + 1], st[p + 2] - st[p + 1])) goto out;
            int r = hftok_map_get(&t->ranks, tmp->p, tmp->n);
            if (r >= 0 && (best < 0 || r < best)) { best = r; bi = p; }
        }
        if (best < 0) break;
        /* the pair's two strings */
        size_t la = st[bi + 1] - st[bi], lb = st[bi + 2] - st[bi + 1];
        const char *a = w + st[bi], *b = w + st[bi + 1];
        size_t q = 0;
        for (size_t p = 0; p < cnt;) {
            if (p + 1 < cnt && st[p + 1] - st[p] == la && st[p + 2] - st[p + 1] == lb &&
                !memcmp(w + st[p], a, la) && !memcmp(w + st[p + 1], b, lb)) {
                st[q++] = st[p];
                p += 2;
            } else st[q++] = st[p++];
        }
        st[q] = n;
        cnt = q;
    }
    for (size_t p = 0; p < cnt; p++) {
        id = hftok_map_get(&t->vocab, w + st[p], st[p + 1] - st[p]);
        if (hftok_push(out, id >= 0 ? id : t->unk)) goto out;
    }
    rc = 0;
out:
    free(st);
    return rc;
}

/* GPT-2 pre-tokenisation of code points cp[0..n): length of the match starting at i */
static size_t hftok_pretok_len(const uint32_t *cp, size_t n, size_t i) {
    if (cp[i] == '\'' && i + 1 < n) {
        uint32_t c1 = cp[i + 1], c2 = i + 2 < n ? cp[i + 2] : 0;
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    }
    size_t j = i + (cp[i] == ' ' && i + 1 < n);   /* the optional leading ' ' */
    if (hftok_is_letter(cp[j])) { while (j < n && hftok_is_letter(cp[j])) j++; return j - i; }
    if (hftok_is_number(cp[j])) { while (j < n && hftok_is_number(cp[j])) j++; return j - i; }
#define HFTOK_OTHER(c) (!hftok_is_space(c) && !hftok_is_letter(c) && !hftok_is_number(c))
    if (HFTOK_OTHER(cp[j])) { while (j < n && HFTOK_OTHER(cp[j])) j++; return j - i; }
#undef HFTOK_OTHER
    /* whitespace: \s+(?!\S) takes the run but leaves its last char before a non-space; else \s+ */
    j = i;
    while (j < n && hftok_is_space(cp[j])) j++;
    if (j == n || j - i == 1) return j - i;
    return j - i - 1;
}

static int hftok_bpe_encode(const coop_hf_tok *t, const char *s, hftok_ints *out) {
    size_t n = strlen(s), ncp = 0;
    uint32_t *cp = (uint32_t *)malloc(sizeof(uint32_t) * (n + 1));
    size_t *off = (size_t *)malloc(sizeof(size_t) * (n + 1));
    hftok_buf word = {NULL, 0, 0}, tmp = {NULL, 0, 0};
    int rc = -1;
    if (!cp || !off) { coop_set_error("out of memory (tokenizer)"); goto out; }
    for (size_t i = 0; i < n;) {
        int k = coop_utf8_decode((const unsigned char *)s + i, n - i, &cp[ncp]);
        if (k < 0) { coop_set_error("tokenizer: text is not valid UTF-8"); goto out; }
        off[ncp++] = i;
        i += (size_t)k;
    }
    off[ncp] = n;
    for (size_t i = 0; i < ncp;) {
        size_t l = hftok_pretok_len(cp, ncp, i);
        word.n = 0;
        if (hftok_put(&word, "", 0)) goto out;
        for (size_t b = off[i]; b < off[i + l]; b++) {
            const char *u = t->byte_map[(unsigned char)s[b]];
            if (hftok_put(&word, u, strlen(u))) goto out;
        }
        if (hftok_bpe_word(t, word.p, word.n, out, &tmp)) goto out;
        i += l;
    }
    rc = 0;
out:
    free(cp); free(off); free(word.p); free(tmp.p);
    return rc;
}

/* ===== SentencePiece unigram ================================================================ */

/* protobuf wire format reader: field number + wire type, values by reference */
typedef struct { const unsigned char *p, *end; } hftok_pb;
static int hftok_pb_varint(hftok_pb *r, uint64_t *v) {
    *v = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        if (r->p >= r->end) return -1;
        unsigned char c = *r->p++;
        *v |= (uint64_t)(c & 0x7f) << sh;
        if (!(c & 0x80)) return 0;
    }
    return -1;
}
/* next field: returns 1 with (field, wire, and for wire 2 the bytes [*d, *d+*dl)), 0 at end, -1 bad */
static int hftok_pb_next(hftok_pb *r, int *field, int *wire, uint64_t *val, const unsigned char **d, size_t *dl) {
    uint64_t key;
    if (r->p >= r->end) return 0;
    if (hftok_pb_varint(r, &key) || key >> 3 == 0 || key >> 3 > 0x1FFFFFFF) return -1;
    *field = (int)(key >> 3);
    *wire = (int)(key & 7);
    switch (*wire) {
    case 0: return hftok_pb_varint(r, val) ? -1 : 1;
    case 1: if (r->end - r->p < 8) return -1; *d = r->p; r->p += 8; return 1;
    case 5: if (r->end - r->p < 4) return -1; *d = r->p; r->p += 4; return 1;
    case 2:
        if (hftok_pb_varint(r, val) || *val > (uint64_t)(r->end - r->p)) return -1;
        *d = r->p; *dl = (size_t)*val; r->p += *dl; return 1;
    default: return -1;   /* groups (3, 4) are not used by sentencepiece */
    }
}

enum { HFTOK_SP_NORMAL = 1, HFTOK_SP_UNKNOWN = 2, HFTOK_SP_CONTROL = 3, HFTOK_SP_USER = 4, HFTOK_SP_UNUSED = 5, HFTOK_SP_BYTE = 6 };

static int hftok_parse_piece(coop_hf_tok *t, const unsigned char *d, size_t dl, int id) {
    hftok_pb r = {d, d + dl};
    const unsigned char *sd = NULL, *pd = NULL;
    size_t sl = 0;
    uint64_t v;
    int f, w, k;
    float score = 0;
    int type = HFTOK_SP_NORMAL;
    while ((k = hftok_pb_next(&r, &f, &w, &v, &pd, &sl)) == 1) {
        if (f == 1 && w == 2) sd = pd, dl = sl;
        else if (f == 2 && w == 5) { uint32_t u = (uint32_t)pd[0] | (uint32_t)pd[1] << 8 | (uint32_t)pd[2] << 16 | (uint32_t)pd[3] << 24; memcpy(&score, &u, 4); }
        else if (f == 3 && w == 0) type = (int)v;
    }
    if (k < 0 || !sd) { coop_set_error("sentencepiece model: piece %d is malformed", id); return -1; }
    if (!coop_utf8_valid((const char *)sd, dl) || dl == 0) { coop_set_error("sentencepiece model: piece %d is not valid UTF-8", id); return -1; }
    if (type < 1 || type > 6) { coop_set_error("sentencepiece model: piece %d has unknown type %d", id, type); return -1; }
    if (!(score == score)) { coop_set_error("sentencepiece model: piece %d has a NaN score", id); return -1; }
    t->pieces[id].score = score;
    t->pieces[id].type = type;
    if (type == HFTOK_SP_UNKNOWN) t->spm_unk = id;
    if (type == HFTOK_SP_BYTE) { coop_set_error("sentencepiece model: byte-fallback pieces are not supported"); return -1; }
    if (type == HFTOK_SP_NORMAL || type == HFTOK_SP_USER || type == HFTOK_SP_UNUSED) {
        int a = hftok_map_add(&t->vocab, (const char *)sd, dl, id);
        if (a < 0) return -1;
        if (a == 0) { coop_set_error("sentencepiece model: duplicate piece %d", id); return -1; }
        if ((int)dl > t->max_piece_len) t->max_piece_len = (int)dl;
    }
    if (type == HFTOK_SP_NORMAL) {
        if (score < t->min_score) t->min_score = score;
        if (score > t->max_score) t->max_score = score;
    }
    return 0;
}

static int hftok_parse_normalizer(coop_hf_tok *t, const unsigned char *d, size_t dl) {
    hftok_pb r = {d, d + dl};
    const unsigned char *pd = NULL;
    size_t sl = 0;
    uint64_t v = 0;   /* (gcc -O3 cannot see that the reader sets it) */
    int f, w, k;
    while ((k = hftok_pb_next(&r, &f, &w, &v, &pd, &sl)) == 1) {
        if (f == 2 && w == 2 && sl) {
            /* precompiled_charsmap: [u32 trie bytes][trie units (u32)][NUL-terminated strings] */
            if (sl < 4) { coop_set_error("sentencepiece model: precompiled_charsmap too short"); return -1; }
            size_t ts = (size_t)pd[0] | (size_t)pd[1] << 8 | (size_t)pd[2] << 16 | (size_t)pd[3] << 24;
            if (ts % 4 || ts == 0 || ts > sl - 4) { coop_set_error("sentencepiece model: precompiled_charsmap trie size %zu invalid", ts); return -1; }
            free(t->charsmap);
            if (!(t->charsmap = (unsigned char *)malloc(sl))) { coop_set_error("out of memory (tokenizer)"); return -1; }
            memcpy(t->charsmap, pd, sl);
            t->charsmap_len = sl;
            t->trie_units = ts / 4;
        } else if (f == 3 && w == 0) t->add_dummy_prefix = v != 0;
        else if (f == 4 && w == 0) t->remove_extra_ws = v != 0;
        else if (f == 5 && w == 0) t->escape_ws = v != 0;
    }
    if (k < 0) { coop_set_error("sentencepiece model: normalizer_spec is malformed"); return -1; }
    return 0;
}

coop_hf_tok *coop_hf_tok_new_unigram(const void *model, size_t len) {
    coop_hf_tok *t = (coop_hf_tok *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("out of memory (tokenizer)"); return NULL; }
    t->kind = HFTOK_UNIGRAM;
    t->bos = 0; t->pad = 1; t->eos = 2; t->unk = 3;    /* fairseq ids (XLM-R) */
    t->spm_unk = -1;
    t->add_dummy_prefix = t->remove_extra_ws = t->escape_ws = 1;   /* proto defaults */
    t->min_score = 1e30f; t->max_score = -1e30f;
    hftok_pb r = {NULL, NULL};   /* declared before the first goto fail (C++) */
    const unsigned char *pd = NULL;
    size_t sl = 0;
    uint64_t v;
    int f, w, k, cap = 0;
    if (!model || hftok_map_init(&t->vocab, 1024)) { if (!model) coop_set_error("sentencepiece model: no data"); goto fail; }
    r.p = (const unsigned char *)model; r.end = (const unsigned char *)model + len;
    /* first pass counts pieces */
    while ((k = hftok_pb_next(&r, &f, &w, &v, &pd, &sl)) == 1) if (f == 1 && w == 2) cap++;
    if (k < 0) { coop_set_error("sentencepiece model: not a valid ModelProto (bad protobuf at byte %zu)", (size_t)(r.p - (const unsigned char *)model)); goto fail; }
    if (cap < 3) { coop_set_error("sentencepiece model: only %d pieces", cap); goto fail; }
    if (!(t->pieces = (hftok_piece *)calloc((size_t)cap, sizeof *t->pieces))) { coop_set_error("out of memory (tokenizer)"); goto fail; }
    r.p = (const unsigned char *)model;
    while ((k = hftok_pb_next(&r, &f, &w, &v, &pd, &sl)) == 1) {
        if (f == 1 && w == 2) { if (hftok_parse_piece(t, pd, sl, t->n_pieces++)) goto fail; }
        else if (f == 3 && w == 2) { if (hftok_parse_normalizer(t, pd, sl)) goto fail; }
    }
    if (t->spm_unk < 0) { coop_set_error("sentencepiece model: no <unk> piece"); goto fail; }
    if (t->min_score > t->max_score) { coop_set_error("sentencepiece model: no normal pieces"); goto fail; }
    return t;
fail:
    coop_hf_tok_free(t);
    return NULL;
}

/* precompiled_charsmap lookup (Darts double array, as sentencepiece's Normalizer::NormalizePrefix):
   longest prefix of s[0..n) with a replacement; returns its byte length (0: none), *rep = string */
static size_t hftok_charsmap_prefix(const coop_hf_tok *t, const unsigned char *s, size_t n, const char **rep) {
    const unsigned char *a = t->charsmap + 4;
    size_t nu = t->trie_units, best = 0;
#define HFTOK_UNIT(i) ((uint32_t)a[4 * (i)] | (uint32_t)a[4 * (i) + 1] << 8 | (uint32_t)a[4 * (i) + 2] << 16 | (uint32_t)a[4 * (i) + 3] << 24)
#define HFTOK_OFFSET(u) (((u) >> 10) << (((u) & (1u << 9)) >> 6))
    uint32_t unit = HFTOK_UNIT(0);
    size_t pos = HFTOK_OFFSET(unit);
    for (size_t i = 0; i < n; i++) {
        pos ^= s[i];
        if (pos >= nu) break;
        unit = HFTOK_UNIT(pos);
        if ((unit & ((1u << 31) | 0xFFu)) != s[i]) break;      /* label mismatch */
        pos ^= HFTOK_OFFSET(unit);
        if (pos >= nu) break;
        if ((unit >> 8) & 1) {                                  /* has a leaf: a match of length i+1 */
            size_t val = HFTOK_UNIT(pos) & 0x7FFFFFFFu;
            size_t base = 4 + 4 * nu;
            if (base + val < t->charsmap_len && memchr(t->charsmap + base + val, 0, t->charsmap_len - base - val)) {
                best = i + 1;
                *rep = (const char *)t->charsmap + base + val;
            }
        }
    }
#undef HFTOK_UNIT
#undef HFTOK_OFFSET
    return best;
}

/* sentencepiece Normalizer::Normalize: charsmap, strip/collapse spaces, dummy prefix, ' ' -> U+2581 */
static int hftok_sp_normalize(const coop_hf_tok *t, const char *text, hftok_buf *out) {
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), i = 0;
    static const char sp_sym[] = "\xE2\x96\x81";
    char one[5];
    /* one normalised unit at s[i]: returns the replacement and its consumed length */
#define HFTOK_NEXT(rep, used)                                                        \
    do {                                                                             \
        used = t->charsmap ? hftok_charsmap_prefix(t, s + i, n - i, &rep) : 0;       \
        if (!used) {                                                                 \
            uint32_t cp_;                                                            \
            int k_ = coop_utf8_decode(s + i, n - i, &cp_);                           \
            if (k_ < 0) { rep = "\xEF\xBF\xBD"; used = 1; }                          \
            else { memcpy(one, s + i, (size_t)k_); one[k_] = 0; rep = one; used = (size_t)k_; } \
        }                                                                            \
    } while (0)
    const char *rep;
    size_t used;
    out->n = 0;
    if (hftok_put(out, "", 0)) return -1;
    if (t->remove_extra_ws)
        while (i < n) {
            HFTOK_NEXT(rep, used);
            if (strcmp(rep, " ")) break;
            i += used;
        }
    if (i >= n) return 0;
    if (t->add_dummy_prefix && hftok_put(out, t->escape_ws ? sp_sym : " ", t->escape_ws ? 3 : 1)) return -1;
    int prev_space = t->remove_extra_ws;
    while (i < n) {
        HFTOK_NEXT(rep, used);
        if (prev_space) while (*rep == ' ') rep++;
        size_t rl = strlen(rep);
        if (rl) {
            for (size_t k = 0; k < rl; k++)
                if (t->escape_ws && rep[k] == ' ' ? hftok_put(out, sp_sym, 3) : hftok_put(out, rep + k, 1)) return -1;
            prev_space = rep[rl - 1] == ' ';
        }
        i += used;
        if (!t->remove_extra_ws) prev_space = 0;
    }
#undef HFTOK_NEXT
    if (t->remove_extra_ws) {
        size_t sl = t->escape_ws ? 3 : 1;
        const char *sym = t->escape_ws ? sp_sym : " ";
        while (out->n >= sl && !memcmp(out->p + out->n - sl, sym, sl)) out->n -= sl;
        out->p[out->n] = 0;
    }
    return 0;
}

/* Viterbi: the segmentation of s[0..n) maximising the sum of piece scores; a character no piece
   starts with becomes <unk> (score min - 10); consecutive <unk> are fused. Appends fairseq ids. */
static int hftok_sp_viterbi(const coop_hf_tok *t, const char *s, size_t n, hftok_ints *out) {
    typedef struct { float score; int from, id; } node;
    node *nd = (node *)malloc(sizeof(node) * (n + 1));
    int *path = (int *)malloc(sizeof(int) * (n + 1));
    int rc = -1, np = 0;
    const float unk_score = t->min_score - 10.0f;
    if (!nd || !path) { coop_set_error("out of memory (tokenizer)"); goto out; }
    for (size_t i = 0; i <= n; i++) nd[i].from = -1, nd[i].score = 0, nd[i].id = -1;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && nd[i].from < 0) continue;            /* not reachable (inside a character) */
        float base = nd[i].score;
        uint32_t cp;
        int clen = coop_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (clen < 0) clen = 1;
        int single = 0;
        for (size_t j = i; j < n && j - i < (size_t)t->max_piece_len;) {
            int k = coop_utf8_decode((const unsigned char *)s + j, n - j, &cp);
            j += (size_t)(k < 0 ? 1 : k);
            if (j - i > (size_t)t->max_piece_len) break;
            int id = hftok_map_get(&t->vocab, s + i, j - i);
            if (id < 0 || t->pieces[id].type == HFTOK_SP_UNUSED) continue;
            float sc = t->pieces[id].type == HFTOK_SP_USER ? (float)(j - i) * t->max_score - 0.1f : t->pieces[id].score;
            float cand = sc + base;
            if (nd[j].from < 0 || cand > nd[j].score) { nd[j].score = cand; nd[j].from = (int)i; nd[j].id = id; }
            if (j - i == (size_t)clen) single = 1;
        }
        if (!single) {
            size_t j = i + (size_t)clen;
            float cand = unk_score + base;
            if (nd[j].from < 0 || cand > nd[j].score) { nd[j].score = cand; nd[j].from = (int)i; nd[j].id = t->spm_unk; }
        }
    }
    for (size_t e = n; e > 0; e = (size_t)nd[e].from) {
        if (nd[e].from < 0) { coop_set_error("tokenizer: internal error (unreachable lattice end)"); goto out; }
        path[np++] = nd[e].id;
    }
    for (int k = np - 1; k >= 0; k--) {
        int id = path[k];
        if (id == t->spm_unk && k < np - 1 && path[k + 1] == t->spm_unk) continue;   /* fuse unk runs */
        if (hftok_push(out, id == t->spm_unk ? t->unk : id + 1)) goto out;
    }
    rc = 0;
out:
    free(nd);
    free(path);
    return rc;
}

int coop_hf_tokenize(coop_hf_tok *t, const char *text, int32_t *ids, int ctx) {
    hftok_buf clean = {NULL, 0, 0}, norm = {NULL, 0, 0};
    hftok_ints toks = {NULL, 0, 0};
    int rc = -1;
    if (!t || !text || !ids) { coop_set_error("tokenizer: NULL argument"); return -1; }
    if (hftok_clean(text, &clean)) goto out;
    if (t->kind == HFTOK_BPE) {
        if (hftok_bpe_encode(t, clean.p, &toks)) goto out;
    } else {
        if (hftok_sp_normalize(t, clean.p, &norm) || hftok_sp_viterbi(t, norm.p, norm.n, &toks)) goto out;
    }
    rc = hftok_finish(t, toks.p, toks.n, ids, ctx);
out:
    free(clean.p); free(norm.p); free(toks.p);
    return rc;
}

/* ===================================================================================== */
/* Encoders: dispatch by the model's configuration                                        */
/* ===================================================================================== */

int coop_encode_image(coop_model *m, coop_pool *p, const float *pixels, int n, float *out) {
    switch (m->cfg.vision) {
    case COOP_VISION_VIT: return coop_vit_encode(m, p, pixels, n, out);
    case COOP_VISION_RESNET: return coop_resnet_encode(m, p, pixels, n, out);
    case COOP_VISION_NONE: coop_set_error("%s: model has no image tower", m->path); return -1;
    default: coop_set_error("%s: image tower not supported by this build", m->path); return -1;
    }
    (void)p; (void)pixels; (void)n; (void)out;
}

int coop_encode_text(coop_model *m, coop_pool *p, const int32_t *ids, int n, float *out) {
    for (int64_t i = 0; i < (int64_t)n * m->cfg.context_length; i++)
        if (ids[i] < 0 || ids[i] >= m->cfg.vocab_size) {
            coop_set_error("%s: token id %d outside the vocabulary (%d)", m->path, (int)ids[i], m->cfg.vocab_size);
            return -1;
        }
    switch (m->cfg.text) {
    case COOP_TEXT_CLIP: return coop_cliptext_encode(m, p, ids, n, out);
    case COOP_TEXT_HF: return coop_hftext_encode(m, p, ids, n, out);
    case COOP_TEXT_NONE: coop_set_error("%s: model has no text tower", m->path); return -1;
    default: coop_set_error("%s: text tower not supported by this build", m->path); return -1;
    }
    (void)p; (void)out;
}

int coop_text_forward_embeds(coop_model *m, coop_pool *p, const float *x, const int *eot,
                             int n, int T, int n_shared, float *out, coop_text_cache *cache) {
    if (n <= 0 || T <= 0 || T > m->cfg.context_length || n_shared < 0 || n_shared > T) {
        coop_set_error("%s: text forward: bad sizes n=%d T=%d n_shared=%d", m->path, n, T, n_shared);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (eot[i] < 0 || eot[i] >= T) { coop_set_error("%s: text forward: eot %d outside [0,%d)", m->path, eot[i], T); return -1; }
    switch (m->cfg.text) {
    case COOP_TEXT_CLIP: return coop_cliptext_forward_embeds(m, p, x, eot, n, T, n_shared, out, cache);
    case COOP_TEXT_HF: return coop_hftext_forward_embeds(m, p, x, eot, n, T, n_shared, out, cache);
    case COOP_TEXT_NONE: coop_set_error("%s: model has no text tower", m->path); return -1;
    default: coop_set_error("%s: text tower not supported by this build", m->path); return -1;
    }
    (void)p; (void)x; (void)out; (void)cache;
}

int coop_text_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                              const float *dout, float *dx) {
    switch (m->cfg.text) {
    case COOP_TEXT_CLIP: return coop_cliptext_backward_embeds(m, p, cache, dout, dx);
    case COOP_TEXT_HF: return coop_hftext_backward_embeds(m, p, cache, dout, dx);
    default: coop_set_error("%s: text tower has no backward in this build", m->path); return -1;
    }
    (void)p; (void)cache; (void)dout; (void)dx;
}

const float *coop_token_embedding(coop_model *m, int *vocab, int *dim) {
    const char *name = m->cfg.text == COOP_TEXT_HF ? "text.transformer.embeddings.word_embeddings.weight"
                                                   : "token_embedding.weight";
    int64_t shape[2] = {m->cfg.vocab_size, m->cfg.text_width};
    if (m->cfg.text == COOP_TEXT_NONE) { coop_set_error("%s: model has no text tower", m->path); return NULL; }
    const float *w = coop_model_f32(m, name, 2, shape);
    if (w) { *vocab = (int)shape[0]; *dim = (int)shape[1]; }
    return w;
}

/* the tokenizer lives in the model's COOP_SLOT_TOK, built on first use from the file's blob */
int coop_tokenize(coop_model *m, const char *text, int32_t *ids) {
    const coop_config *c = &m->cfg;
    void *tok = coop_model_slot(m, COOP_SLOT_TOK);
    const void *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    switch (c->tokenizer) {
    case COOP_TOK_CLIP_BPE:
        if (!tok) {
            if (coop_model_tokenizer_section(m, "clip_bpe", &a, &al)) return -1;
            if (!(tok = coop_clip_tok_new((const char *)a, al))) return -1;
            coop_model_set_slot(m, COOP_SLOT_TOK, tok, (void (*)(void *))coop_clip_tok_free);
        }
        return coop_clip_tokenize((coop_clip_tok *)tok, text, ids, c->context_length);
    case COOP_TOK_GPT2_BPE:
    case COOP_TOK_UNIGRAM:
        if (!tok) {
            if (c->tokenizer == COOP_TOK_GPT2_BPE) {
                if (coop_model_tokenizer_section(m, "vocab.json", &a, &al) ||
                    coop_model_tokenizer_section(m, "merges.txt", &b, &bl)) return -1;
                tok = coop_hf_tok_new_bpe((const char *)a, al, (const char *)b, bl);
            } else {
                if (coop_model_tokenizer_section(m, "sentencepiece.bpe.model", &a, &al)) return -1;
                tok = coop_hf_tok_new_unigram(a, al);
            }
            if (!tok) return -1;
            coop_model_set_slot(m, COOP_SLOT_TOK, tok, (void (*)(void *))coop_hf_tok_free);
        }
        return coop_hf_tokenize((coop_hf_tok *)tok, text, ids, c->context_length);
    default:
        coop_set_error("%s: no tokenizer for this model in this build", m->path);
        return -1;
    }
    (void)tok; (void)a; (void)b; (void)al; (void)bl; (void)text; (void)ids;
}

/* ===================================================================================== */
/* Images: decode (stb_image), PIL-exact bicubic resize, OpenCLIP / Dassl preprocessing   */
/* ===================================================================================== */


#ifndef COOP_IMAGE_MAX_PIXELS
#define COOP_IMAGE_MAX_PIXELS (64ll << 20)
#endif

#include <limits.h>

/* ---- decode ------------------------------------------------------------------------------ */
/* stb_image 2.27 JPEG holes, refused here before stb sees the file (stbi_info already parses
   the tables):
   - a DHT table's 16 code counts are trusted: a sum over 256 writes past the table's size[257] /
     values[256] arrays (stbi__build_huffman, stbi__process_marker; fixed in stb 2.28);
   - a scan may use a Huffman table no DHT defined: its maxcode / delta are uninitialised heap
     (the stbi__jpeg struct is malloc'd), so stbi__jpeg_huff_decode indexes values[] with garbage
     (stb 2.28 adds a bounds check there); likewise an undefined DQT table feeds uninitialised
     heap into the pixels.
   So walk the markers as stb finds them (a 0xFF followed by a byte other than 0x00 / 0xFF / RSTn;
   entropy-coded data is skipped byte by byte), check every DHT, and at each SOS require the
   Huffman tables the scan uses (baseline: DC and AC; progressive: DC for a first DC scan, AC
   for an AC scan) and the quantisation tables of the frame to be defined. Bytes past the end
   read as 0, as stbi__get8 returns. */
static int img__jpeg_ok(const unsigned char *d, size_t n) {
#define IMG__B(k) ((size_t)(k) < n ? (unsigned)d[(size_t)(k)] : 0u)
    size_t i = 0;
    while (i < n && d[i] == 0xFF) i++;          /* stb skips fill bytes before SOI too */
    if (i == 0 || i >= n || d[i] != 0xD8) return 1;                  /* not a JPEG */
    i++;
    unsigned huff = 0, quant = 0, need_q = 0;   /* bits: DC tables 0-3, AC tables 4-7; DQT 0-3 */
    int prog = 0;
    while (i + 1 < n) {
        unsigned m = d[i + 1];
        if (d[i] != 0xFF || m == 0xFF) { i++; continue; }
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) { i += 2; continue; }
        if (m == 0xD9) break;
        size_t len = IMG__B(i + 2) << 8 | IMG__B(i + 3), o = i + 4;
        long L = (long)len - 2;
        if (m == 0xC4) {                                 /* DHT: [Tc|Th][16 counts][symbols] */
            while (L > 0) {
                unsigned sum = 0, q = IMG__B(o);
                for (int k = 1; k <= 16; k++) sum += IMG__B(o + k);
                if (sum > 256) return 0;
                if ((q >> 4) <= 1 && (q & 15) <= 3) huff |= 1u << ((q >> 4) * 4 + (q & 15));
                o += 17 + sum;
                L -= 17 + (long)sum;
            }
        } else if (m == 0xDB) {                          /* DQT: [Pq|Tq][64 or 128 bytes] */
            while (L > 0) {
                unsigned q = IMG__B(o);
                quant |= 1u << (q & 3);
                o += (q >> 4) ? 129 : 65;
                L -= (q >> 4) ? 129 : 65;
            }
        } else if (m == 0xC0 || m == 0xC1 || m == 0xC2) {  /* SOF: ... Nf, Nf x [C][H|V][Tq] */
            prog = m == 0xC2;
            need_q = 0;
            for (unsigned c = 0, nf = IMG__B(o + 5); c < nf && c < 4; c++) need_q |= 1u << (IMG__B(o + 8 + 3 * c) & 3);
        } else if (m == 0xDA) {                          /* SOS: Ns, Ns x [C][Td|Ta], Ss, Se, Ah|Al */
            unsigned ns = IMG__B(o), ss = IMG__B(o + 1 + 2 * ns), ah = IMG__B(o + 3 + 2 * ns) >> 4;
            if (need_q & ~quant) return 0;
            for (unsigned c = 0; c < ns && c < 4; c++) {
                unsigned t = IMG__B(o + 2 + 2 * c), td = t >> 4, ta = t & 15;
                if (td > 3 || ta > 3) continue;          /* stb refuses those itself */
                if ((!prog || (ss == 0 && ah == 0)) && !(huff & (1u << td))) return 0;
                if ((!prog || ss > 0) && !(huff & (1u << (4 + ta)))) return 0;
            }
        }
        i += 2 + len;
    }
    return 1;
#undef IMG__B
}

/* stb 2.27 copies a zero-length IDAT that comes before any image data into its still-NULL
   buffer (NULL + 0 and memcpy(NULL, p, 0) in stbi__parse_png_file / stbi__getn: undefined
   behaviour, fatal under UBSan). Such chunks carry nothing: returns a malloc'd copy of the PNG
   without zero-length IDAT chunks, or NULL when there are none (or it is not a PNG). */
static unsigned char *img__png_drop_empty_idat(const unsigned char *d, size_t n, size_t *nn) {
    if (n < 8 || memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return NULL;
    unsigned char *out = NULL;
    size_t o = 8, w = 8;
    while (o + 8 <= n) {                        /* chunk: length, type, data, CRC */
        size_t len = (size_t)d[o] << 24 | (size_t)d[o + 1] << 16 | (size_t)d[o + 2] << 8 | d[o + 3];
        size_t sz = len == 0 && n - o < 12 ? n - o : 12 + len;     /* a truncated empty chunk too */
        if (len > n - o || sz > n - o) break;
        if (len == 0 && !memcmp(d + o + 4, "IDAT", 4)) {
            if (!out) { if (!(out = (unsigned char *)malloc(n))) return NULL; memcpy(out, d, o); w = o; }
        } else if (out) { memcpy(out + w, d + o, sz); w += sz; }
        o += sz;
    }
    if (out) { memcpy(out + w, d + o, n - o); *nn = w + n - o; }
    return out;
}

static int img__decode_raw(const unsigned char *data, size_t n, const char *name, coop_image *img) {
    int w, h, comp;
    memset(img, 0, sizeof *img);
    if (n == 0) { coop_set_error("%s: empty file, not an image", name); return -1; }
    if (n > INT_MAX) { coop_set_error("%s: file too large to decode (%zu bytes)", name, n); return -1; }
    if (!img__jpeg_ok(data, n)) { coop_set_error("%s: cannot decode image (corrupt JPEG: bad or missing Huffman / quantisation table)", name); return -1; }
    /* header first: refuse huge images before stb allocates w*h*3 bytes */
    if (!stbi_info_from_memory(data, (int)n, &w, &h, &comp)) {
        coop_set_error("%s: cannot decode image (%s)", name, stbi_failure_reason());
        return -1;
    }
    if (w <= 0 || h <= 0 || (long long)w * h > COOP_IMAGE_MAX_PIXELS) {
        coop_set_error("%s: image too large (%d x %d, limit %lld pixels)", name, w, h,
                       (long long)COOP_IMAGE_MAX_PIXELS);
        return -1;
    }
    /* 3 channels requested: stb replicates grey and drops alpha, like convert('RGB') */
    unsigned char *p = stbi_load_from_memory(data, (int)n, &w, &h, &comp, 3);
    if (!p) {
        coop_set_error("%s: cannot decode image (%s)", name, stbi_failure_reason());
        return -1;
    }
    img->w = w; img->h = h; img->rgb = p;
    return 0;
}

static int img__decode(const unsigned char *data, size_t n, const char *name, coop_image *img) {
    size_t cn = 0;
    unsigned char *copy = img__png_drop_empty_idat(data, n, &cn);
    int rc = copy ? img__decode_raw(copy, cn, name, img) : img__decode_raw(data, n, name, img);
    free(copy);
    return rc;
}

int coop_image_load_mem(const void *data, size_t n, coop_image *img) {
    return img__decode((const unsigned char *)data, n, "image in memory", img);
}

int coop_image_load(const char *path, coop_image *img) {
    size_t n;
    memset(img, 0, sizeof *img);
    char *data = coop_read_file(path, &n);       /* error names the path */
    if (!data) return -1;
    int rc = img__decode((const unsigned char *)data, n, path, img);
    coop_free(data);
    return rc;
}

void coop_image_free(coop_image *img) {
    if (!img) return;
    free(img->rgb);     /* stb's STBI_FREE and coop_free are both free() */
    memset(img, 0, sizeof *img);
}

static int img__check(const coop_image *img, const char *what) {
    if (!img || !img->rgb || img->w <= 0 || img->h <= 0 ||
        (long long)img->w * img->h > COOP_IMAGE_MAX_PIXELS) {
        coop_set_error("%s: invalid image (%d x %d)", what, img ? img->w : 0, img ? img->h : 0);
        return -1;
    }
    return 0;
}

/* ---- PIL bicubic resampling ----------------------------------------------------------------
   Follows libImaging/Resample.c (Pillow >= 4.3) step by step, because matching PIL to the
   8-bit level needs its exact coefficients and roundings:
   - filter: Keys cubic with a = -0.5, support 2; when shrinking by `scale` the kernel is
     stretched by scale (antialiasing), so a tap covers 2*scale source pixels on each side.
   - output pixel i has centre c = in0 + (i + 0.5) * scale in source coordinates; taps are the
     source pixels [xmin, xmax) with xmin = (int)(c - support + 0.5) clamped to 0, xmax likewise
     clamped to the size; weight of pixel x is filter((x - c + 0.5) / filterscale), normalised
     to sum 1 (in double), then converted to 22-bit fixed point rounding away from zero.
   - each pass: acc = 2^21 + sum(pixel * k), result = clamp(acc >> 22, 0, 255).
   - horizontal pass first (only over the source rows the vertical pass reads), then vertical.
   A pass whose size and box are the identity is skipped, as in PIL. */
#define IMG__PREC 22

typedef struct {
    int ksize;          /* taps per output (max) */
    int *lo, *n;        /* [count] first tap and number of taps */
    int32_t *k;         /* [count, ksize] fixed-point weights */
} img__coeffs;

static double img__bicubic(double x) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    /* PIL's bicubic_filter, a = -0.5; kept free of FMA contraction so weights match bit for bit */
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

static void img__coeffs_free(img__coeffs *c) {
    free(c->lo); free(c->n); free(c->k);
    memset(c, 0, sizeof *c);
}

/* Weights of output positions [first, first + count) of an axis resized from in_size source
   pixels (the span [in0, in1) of them) to out_size (precompute_coeffs + normalize_coeffs_8bpc).
   Computing a window of outputs gives the same weights as computing them all. */
static int img__coeffs_make(int in_size, float in0, float in1, int out_size, int first, int count,
                            img__coeffs *c) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    memset(c, 0, sizeof *c);
    double scale = (double)(in1 - in0) / out_size;    /* in1 - in0 in float, as PIL's float box */
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * filterscale;
    double ss = 1.0 / filterscale;
    /* PIL's table width is ceil(support) * 2 + 1; taps never exceed the source size, so
       storing at most in_size of them keeps huge downscales small */
    double kmax = ceil(support) * 2 + 1;
    int ksize = kmax < in_size ? (int)kmax : in_size;
    if (ksize < 1) ksize = 1;
    c->ksize = ksize;
    c->lo = (int *)malloc(sizeof(int) * (size_t)count);
    c->n = (int *)malloc(sizeof(int) * (size_t)count);
    c->k = (int32_t *)malloc(sizeof(int32_t) * (size_t)count * (size_t)ksize);
    double *w = (double *)malloc(sizeof(double) * (size_t)ksize);
    if (!c->lo || !c->n || !c->k || !w) {
        free(w); img__coeffs_free(c);
        coop_set_error("resize: out of memory for coefficient tables");
        return -1;
    }
    for (int i = 0; i < count; i++) {
        int xx = first + i;
        double center = in0 + (xx + 0.5) * scale, ww = 0.0;
        int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        if (xmax < 0) xmax = 0;
        if (xmax > ksize) xmax = ksize;
        for (int x = 0; x < xmax; x++) {
            w[x] = img__bicubic((x + xmin - center + 0.5) * ss);
            ww += w[x];
        }
        int32_t *k = c->k + (size_t)i * ksize;
        for (int x = 0; x < ksize; x++) {
            double v = x < xmax ? (ww != 0.0 ? w[x] / ww : w[x]) : 0.0;
            k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << IMG__PREC)) : (int32_t)(0.5 + v * (1 << IMG__PREC));
        }
        c->lo[i] = xmin;
        c->n[i] = xmax;
    }
    free(w);
    return 0;
}

static inline unsigned char img__clip8(int32_t acc) {
    /* PIL's clip8: acc >> 22 clamped to [0, 255] (negative sums give 0) */
    if (acc < 0) return 0;
    acc >>= IMG__PREC;
    return (unsigned char)(acc > 255 ? 255 : acc);
}

/* a read-only RGB view: rows of w * 3 bytes, `stride` bytes apart (crops need no copy) */
typedef struct { const unsigned char *p; int w, h; ptrdiff_t stride; } img__view;

/* The two passes, one output row at a time. The plain C loops are PIL's loops; with AVX2 the
   same 32-bit integer arithmetic runs in SIMD lanes (identical results: the sums are exact and
   the clamping is the same): 4 channels of a pixel per instruction (horizontal), 16 bytes of a
   row per step (vertical). Without AVX2 (or with COOP_NO_SIMD) the plain loops run, ~3x slower. */
#if defined(__AVX2__) && !defined(COOP_NO_SIMD)
#include <immintrin.h>
#define IMG__AVX2 1
#else
#define IMG__AVX2 0
#endif

/* horizontal: in = one source row (RGB), out = ww pixels; columns [c0, c1) are the ones the
   taps touch; rgbx = scratch of (c1 - c0) * 4 + 4 bytes */
static void img__hrow(const unsigned char *in, const img__coeffs *c, int ww, int c0, int c1,
                      unsigned char *rgbx, unsigned char *out) {
    const int K = c->ksize;
#if IMG__AVX2
    /* one pixel = 4 lanes (R, G, B, 0), as PIL keeps RGB images in 4 bytes a pixel */
    for (int x = c0; x < c1; x++) {
        unsigned char *q = rgbx + (size_t)(x - c0) * 4;
        q[0] = in[3 * x]; q[1] = in[3 * x + 1]; q[2] = in[3 * x + 2]; q[3] = 0;
    }
    const __m128i bias = _mm_set1_epi32(1 << (IMG__PREC - 1));
    for (int x = 0; x < ww; x++) {
        const int32_t *k = c->k + (size_t)x * K;
        const unsigned char *s = rgbx + (size_t)(c->lo[x] - c0) * 4;
        __m128i acc = bias;
        for (int t = 0, nt = c->n[x]; t < nt; t++) {
            int32_t u;
            memcpy(&u, s + 4 * t, 4);
            __m128i px = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(u));
            acc = _mm_add_epi32(acc, _mm_mullo_epi32(px, _mm_set1_epi32(k[t])));
        }
        /* >> 22 (arithmetic), then saturating packs clamp to [0, 255] exactly like clip8 */
        acc = _mm_srai_epi32(acc, IMG__PREC);
        __m128i p8 = _mm_packus_epi16(_mm_packs_epi32(acc, acc), _mm_setzero_si128());
        int32_t v = _mm_cvtsi128_si32(p8);
        memcpy(out + 3 * x, &v, 3);
    }
#else
    (void)c0; (void)c1; (void)rgbx;
    for (int x = 0; x < ww; x++) {
        const int32_t *k = c->k + (size_t)x * K;
        const unsigned char *s = in + (size_t)c->lo[x] * 3;
        int32_t s0 = 1 << (IMG__PREC - 1), s1 = s0, s2 = s0;
        for (int t = 0, nt = c->n[x]; t < nt; t++) {
            s0 += s[3 * t + 0] * k[t];
            s1 += s[3 * t + 1] * k[t];
            s2 += s[3 * t + 2] * k[t];
        }
        out[3 * x + 0] = img__clip8(s0);
        out[3 * x + 1] = img__clip8(s1);
        out[3 * x + 2] = img__clip8(s2);
    }
#endif
}

/* vertical: out[i] = clip8(2^21 + sum_t rows[t][i] * k[t]) for the n bytes of a row */
static void img__vrow(const unsigned char *const *rows, const int32_t *k, int nt, int n, unsigned char *out) {
    int i = 0;
#if IMG__AVX2
    const __m256i bias = _mm256_set1_epi32(1 << (IMG__PREC - 1));
    for (; i + 16 <= n; i += 16) {
        __m256i a0 = bias, a1 = bias;
        for (int t = 0; t < nt; t++) {
            __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(rows[t] + i));
            __m256i kt = _mm256_set1_epi32(k[t]);
            a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(b), kt));
            a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)), kt));
        }
        a0 = _mm256_srai_epi32(a0, IMG__PREC);
        a1 = _mm256_srai_epi32(a1, IMG__PREC);
        /* packs work within 128-bit halves: put the 64-bit blocks back in byte order */
        __m256i w16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(a0, a1), 0xD8);
        __m128i b8 = _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
        _mm_storeu_si128((__m128i *)(void *)(out + i), b8);
    }
#endif
    for (; i < n; i++) {
        int32_t acc = 1 << (IMG__PREC - 1);
        for (int t = 0; t < nt; t++) acc += rows[t][i] * k[t];
        out[i] = img__clip8(acc);
    }
}

/* receives output row y (0-based inside the window) of ww RGB pixels */
typedef void (*img__sink)(void *ctx, int y, const unsigned char *row);

/* Resizes src (the span box = {x0, y0, x1, y1} of it) to ow x oh, computing only the output
   window [wx, wx + ww) x [wy, wy + wh), one row at a time into sink. Every pixel is the one the
   full resize gives. The horizontal pass keeps just the source rows the current output row
   needs (a ring of at most ksize rows), so the working memory is a few rows, never an image:
   this runs on worker threads for every training image, and fresh pages are expensive. */
static int img__resample(img__view src, int ow, int oh, const float box[4], int wx, int wy, int ww, int wh,
                         img__sink sink, void *ctx) {
    int need_h = ow != src.w || box[0] != 0 || box[2] != ow;
    int need_v = oh != src.h || box[1] != 0 || box[3] != oh;
    img__coeffs ch = {0, NULL, NULL, NULL}, cv = {0, NULL, NULL, NULL};
    unsigned char *ring = NULL, *rgbx = NULL, *orow = NULL;
    const unsigned char **rows = NULL;
    int rc = -1;
    size_t rowb = 0;
    int R = 1, c0 = 0, c1 = 1, have = 0;   /* declared before the first goto done (C++) */
    if (ww <= 0 || wh <= 0) return 0;
    if (need_v && img__coeffs_make(src.h, box[1], box[3], oh, wy, wh, &cv)) goto done;
    if (need_h && img__coeffs_make(src.w, box[0], box[2], ow, wx, ww, &ch)) goto done;

    rowb = (size_t)ww * 3;
    R = need_v ? cv.ksize : 1;                       /* rows alive at once */
    rows = (const unsigned char **)malloc(sizeof(*rows) * (size_t)R);
    orow = (unsigned char *)malloc(rowb);
    if (need_h) {
        /* source columns the window's taps touch */
        c0 = ch.lo[0];
        c1 = ch.lo[ww - 1] + ch.n[ww - 1];
        if (c1 < c0 + 1) c1 = c0 + 1;
        ring = (unsigned char *)malloc(rowb * (size_t)R);
        rgbx = (unsigned char *)malloc((size_t)(c1 - c0) * 4 + 4);
    }
    if (!rows || !orow || (need_h && (!ring || !rgbx))) { coop_set_error("resize: out of memory"); goto done; }

    have = 0;       /* source rows below this one went through the horizontal pass */
    for (int y = 0; y < wh; y++) {
        int lo = need_v ? cv.lo[y] : wy + y, nt = need_v ? cv.n[y] : 1;
        if (have < lo) have = lo;
        for (int t = 0; t < nt; t++) {
            int r = lo + t;
            if (!need_h) { rows[t] = src.p + (ptrdiff_t)r * src.stride + (ptrdiff_t)wx * 3; continue; }
            unsigned char *slot = ring + (size_t)(r % R) * rowb;
            if (r >= have) {   /* rows only move forward, so a slot is reused after its last use */
                img__hrow(src.p + (ptrdiff_t)r * src.stride, &ch, ww, c0, c1, rgbx, slot);
                have = r + 1;
            }
            rows[t] = slot;
        }
        if (need_v) {
            img__vrow(rows, cv.k + (size_t)y * cv.ksize, nt, (int)rowb, orow);
            sink(ctx, y, orow);
        } else {
            sink(ctx, y, rows[0]);
        }
    }
    rc = 0;
done:
    img__coeffs_free(&ch);
    img__coeffs_free(&cv);
    free(ring); free(rgbx); free(orow); free((void *)rows);
    return rc;
}

static int img__check_size(int w, int h, const char *what) {
    if (w <= 0 || h <= 0 || (long long)w * h > COOP_IMAGE_MAX_PIXELS) {
        coop_set_error("%s: bad output size %d x %d", what, w, h);
        return -1;
    }
    return 0;
}

/* sink for coop_image_resize: copy the row into the image */
typedef struct { unsigned char *p; size_t rowb; } img__to_image;
static void img__sink_image(void *ctx, int y, const unsigned char *row) {
    img__to_image *o = (img__to_image *)ctx;
    memcpy(o->p + (size_t)y * o->rowb, row, o->rowb);
}

int coop_image_resize(const coop_image *src, int w, int h, const float box[4], coop_image *dst) {
    memset(dst, 0, sizeof *dst);
    if (img__check(src, "coop_image_resize") || img__check_size(w, h, "coop_image_resize")) return -1;
    float b[4] = {0, 0, (float)src->w, (float)src->h};
    if (box) {
        /* PIL: the box may not leave the image nor have negative size */
        if (!(box[0] >= 0 && box[1] >= 0 && box[2] <= src->w && box[3] <= src->h &&
              box[2] >= box[0] && box[3] >= box[1])) {
            coop_set_error("coop_image_resize: box (%g, %g, %g, %g) outside the %d x %d image",
                           box[0], box[1], box[2], box[3], src->w, src->h);
            return -1;
        }
        memcpy(b, box, sizeof b);
    }
    unsigned char *p = (unsigned char *)coop_malloc((size_t)w * h * 3);
    if (!p) return -1;
    img__view v = {src->rgb, src->w, src->h, (ptrdiff_t)src->w * 3};
    img__to_image o = {p, (size_t)w * 3};
    if (img__resample(v, w, h, b, 0, 0, w, h, img__sink_image, &o)) {
        coop_free(p);
        return -1;
    }
    dst->w = w; dst->h = h; dst->rgb = p;
    return 0;
}

/* ---- ToTensor + Normalize ----------------------------------------------------------------------
   torchvision: x = uint8 / 255 in float32, then (x - mean) / std in float32; a 256-entry table per
   channel computed with the same float operations gives the same values. The sink writes each
   resized RGB row straight into the [3, S, S] output (no uint8 crop image in between). */
typedef struct {
    float lut[3][256];
    float *out;          /* [3, S, S] */
    int S, ox, oy, ww;   /* window row y, column x < ww land at out[.., oy + y, ox + x] */
    int flip;            /* mirror x (after the crop, as RandomHorizontalFlip after RandomResizedCrop) */
} img__to_tensor;

static void img__to_tensor_init(img__to_tensor *t, const float mean[3], const float std[3], float *out, int S,
                                int ox, int oy, int ww, int flip) {
    for (int c = 0; c < 3; c++)
        for (int v = 0; v < 256; v++) {
            float x = (float)v / 255.0f;
            x = x - mean[c];
            t->lut[c][v] = x / std[c];
        }
    t->out = out; t->S = S; t->ox = ox; t->oy = oy; t->ww = ww; t->flip = flip;
}

static void img__sink_tensor(void *ctx, int y, const unsigned char *row) {
    img__to_tensor *t = (img__to_tensor *)ctx;
    const size_t plane = (size_t)t->S * t->S;
    float *o0 = t->out + (size_t)(t->oy + y) * t->S, *o1 = o0 + plane, *o2 = o1 + plane;
    /* pixels outside the window were filled with the padding value */
    for (int x = 0; x < t->ww; x++) {
        int xo = t->flip ? t->S - 1 - (t->ox + x) : t->ox + x;
        const unsigned char *p = row + 3 * (size_t)x;
        o0[xo] = t->lut[0][p[0]];
        o1[xo] = t->lut[1][p[1]];
        o2[xo] = t->lut[2][p[2]];
    }
}

/* ---- test-time: Resize(shorter side) + CenterCrop --------------------------------------------- */
/* torchvision CenterCrop offset along one axis of length `dim`: where output pixel 0 falls in
   the resized image (negative = zero padding first). Python's round() is half-to-even. */
static int img__center_offset(int dim, int size) {
    if (size > dim) return -((size - dim) / 2);
    return (int)nearbyint((dim - size) / 2.0);
}

int coop_preprocess(const coop_image *img, int size, const float mean[3], const float std[3], float *out) {
    if (img__check(img, "coop_preprocess") || img__check_size(size, size, "coop_preprocess")) return -1;
    /* torchvision _compute_resized_output_size: short side -> size, long = int(size * long / short) */
    int w = img->w, h = img->h;
    int shrt = w <= h ? w : h, lng = w <= h ? h : w;
    double nl = (double)((long long)size * lng) / (double)shrt;
    if (nl > (double)(INT_MAX / 4)) { coop_set_error("coop_preprocess: %d x %d image too elongated", w, h); return -1; }
    int rw = w <= h ? size : (int)nl, rh = w <= h ? (int)nl : size;

    /* crop window in resized coordinates, clipped to the resized image */
    int ox = img__center_offset(rw, size), oy = img__center_offset(rh, size);
    int x0 = ox > 0 ? ox : 0, y0 = oy > 0 ? oy : 0;
    int x1 = ox + size < rw ? ox + size : rw, y1 = oy + size < rh ? oy + size : rh;

    img__to_tensor *t = (img__to_tensor *)malloc(sizeof *t);
    if (!t) { coop_set_error("coop_preprocess: out of memory"); return -1; }
    img__to_tensor_init(t, mean, std, out, size, x0 - ox, y0 - oy, x1 - x0, 0);
    if (x1 - x0 < size || y1 - y0 < size)   /* padding (fill 0) where the crop leaves the image */
        for (int c = 0; c < 3; c++)
            for (size_t i = 0; i < (size_t)size * size; i++) out[c * (size_t)size * size + i] = t->lut[c][0];
    float box[4] = {0, 0, (float)w, (float)h};
    img__view v = {img->rgb, w, h, (ptrdiff_t)w * 3};
    /* only the cropped part of the resize is computed (the same pixels as resizing it all) */
    int rc = img__resample(v, rw, rh, box, x0, y0, x1 - x0, y1 - y0, img__sink_tensor, t);
    free(t);
    return rc;
}

/* ---- train-time: RandomResizedCrop + RandomHorizontalFlip ------------------------------------- */
void coop_random_resized_crop(int w, int h, float smin, float smax, coop_rng *rng, int box[4]) {
    const double area = (double)w * h;
    const double r0 = 3.0 / 4.0, r1 = 4.0 / 3.0, lr0 = log(r0), lr1 = log(r1);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * (smin + (smax - (double)smin) * coop_rng_uniform(rng));
        double ar = exp(lr0 + (lr1 - lr0) * coop_rng_uniform(rng));
        int cw = (int)nearbyint(sqrt(target * ar)), ch = (int)nearbyint(sqrt(target / ar));
        if (0 < cw && cw <= w && 0 < ch && ch <= h) {
            int top = coop_rng_below(rng, h - ch + 1);
            int left = coop_rng_below(rng, w - cw + 1);
            box[0] = left; box[1] = top; box[2] = cw; box[3] = ch;
            return;
        }
    }
    /* fallback: central crop with the ratio clamped to [3/4, 4/3] */
    double in_ratio = (double)w / h;
    int cw = w, ch = h;
    if (in_ratio < r0) ch = (int)nearbyint(w / r0);
    else if (in_ratio > r1) cw = (int)nearbyint(h * r1);
    if (ch > h) ch = h;
    if (cw > w) cw = w;
    if (ch < 1) ch = 1;
    if (cw < 1) cw = 1;
    box[0] = (w - cw) / 2; box[1] = (h - ch) / 2; box[2] = cw; box[3] = ch;
}

int coop_preprocess_crop(const coop_image *img, const int box[4], int flip, int size,
                         const float mean[3], const float std[3], float *out) {
    if (img__check(img, "coop_preprocess_crop") || img__check_size(size, size, "coop_preprocess_crop")) return -1;
    if (box[0] < 0 || box[1] < 0 || box[2] <= 0 || box[3] <= 0 ||
        box[2] > img->w - box[0] || box[3] > img->h - box[1]) {
        coop_set_error("coop_preprocess_crop: crop (%d, %d, %d x %d) outside the %d x %d image",
                       box[0], box[1], box[2], box[3], img->w, img->h);
        return -1;
    }
    /* F.resized_crop crops first, then resizes the crop alone: a view of the crop */
    img__view v = {img->rgb + ((size_t)box[1] * img->w + box[0]) * 3, box[2], box[3], (ptrdiff_t)img->w * 3};
    float b[4] = {0, 0, (float)box[2], (float)box[3]};
    img__to_tensor *t = (img__to_tensor *)malloc(sizeof *t);
    if (!t) { coop_set_error("coop_preprocess_crop: out of memory"); return -1; }
    img__to_tensor_init(t, mean, std, out, size, 0, 0, size, flip);
    int rc = img__resample(v, size, size, b, 0, 0, size, size, img__sink_tensor, t);
    free(t);
    return rc;
}

int coop_preprocess_train(const coop_image *img, int size, float smin, float smax, int flip,
                          coop_rng *rng, const float mean[3], const float std[3], float *out) {
    if (img__check(img, "coop_preprocess_train")) return -1;
    if (!(smin >= 0 && smin <= smax && smax > 0)) {
        coop_set_error("coop_preprocess_train: bad scale range (%g, %g)", smin, smax);
        return -1;
    }
    int box[4];
    coop_random_resized_crop(img->w, img->h, smin, smax, rng, box);
    int mirror = flip ? coop_rng_uniform(rng) < 0.5 : 0;
    return coop_preprocess_crop(img, box, mirror, size, mean, std, out);
}

/* ===================================================================================== */
/* CoOp: prompt learner, loss and backward to the context, SGD + Dassl schedule,          */
/* data sets (folder-per-class, CoOp split JSON), few-shot sampling, image features       */
/* ===================================================================================== */


#include <dirent.h>
#include <strings.h>

/* ---- JSON ------------------------------------------------------------------------------------ */
typedef struct { const char *s; size_t n, i; const char *what; int depth; } coopj_p;

static int coopj_fail(coopj_p *p, const char *msg) {
    coop_set_error("%s: JSON error at byte %zu: %s", p->what, p->i, msg);
    return -1;
}
static void coopj_ws(coopj_p *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}
static void coopj_free_kids(coop_json *j) {
    if (j->type == COOP_JSON_STR) free(j->str);
    if (j->type == COOP_JSON_ARR || j->type == COOP_JSON_OBJ) {
        for (int i = 0; i < j->n; i++) { coopj_free_kids(&j->kids[i]); if (j->keys) free(j->keys[i]); }
        free(j->kids); free(j->keys);
    }
    memset(j, 0, sizeof *j);
}
static int coopj_hex4(coopj_p *p, uint32_t *v) {
    *v = 0;
    for (int k = 0; k < 4; k++, p->i++) {
        char c = p->i < p->n ? p->s[p->i] : 0;
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return coopj_fail(p, "bad \\u escape");
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}
/* string at p->i (on the opening quote) -> malloc'd UTF-8 */
static char *coopj_string(coopj_p *p) {
    size_t cap = 32, o = 0;
    char *b = (char *)malloc(cap);
    p->i++;
    while (b) {
        if (p->i >= p->n) { coopj_fail(p, "unterminated string"); break; }
        unsigned char c = (unsigned char)p->s[p->i];
        if (o + 8 > cap) { char *nb = (char *)realloc(b, cap *= 2); if (!nb) break; b = nb; }
        if (c == '"') { p->i++; b[o] = 0; return b; }
        if (c < 0x20) { coopj_fail(p, "control character in string"); break; }
        if (c != '\\') {
            uint32_t cp;
            int k = coop_utf8_decode((const unsigned char *)p->s + p->i, p->n - p->i, &cp);
            if (k < 0) { coopj_fail(p, "invalid UTF-8 in string"); break; }
            memcpy(b + o, p->s + p->i, (size_t)k); o += (size_t)k; p->i += (size_t)k;
            continue;
        }
        p->i++;
        char e = p->i < p->n ? p->s[p->i] : 0;
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *q = e ? strchr(from, e) : NULL;
        if (q) { b[o++] = to[q - from]; p->i++; continue; }
        if (e != 'u') { coopj_fail(p, "bad escape"); break; }
        p->i++;
        uint32_t cp, lo;
        if (coopj_hex4(p, &cp)) break;
        if (cp >= 0xdc00 && cp <= 0xdfff) { coopj_fail(p, "lone low surrogate"); break; }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (p->i + 1 >= p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') { coopj_fail(p, "lone high surrogate"); break; }
            p->i += 2;
            if (coopj_hex4(p, &lo)) break;
            if (lo < 0xdc00 || lo > 0xdfff) { coopj_fail(p, "bad surrogate pair"); break; }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) { coopj_fail(p, "NUL in string"); break; }
        o += (size_t)coop_utf8_encode(cp, b + o);
    }
    if (!b) coop_set_error("%s: out of memory", p->what);
    free(b);
    return NULL;
}
static int coopj_value(coopj_p *p, coop_json *j);
static int coopj_push(coopj_p *p, coop_json *j, int *cap) {
    if (j->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        coop_json *nk = (coop_json *)realloc(j->kids, (size_t)*cap * sizeof *nk);
        if (!nk) return coopj_fail(p, "out of memory");
        j->kids = nk;
        if (j->type == COOP_JSON_OBJ) {
            char **kk = (char **)realloc(j->keys, (size_t)*cap * sizeof *kk);
            if (!kk) return coopj_fail(p, "out of memory");
            j->keys = kk;
        }
    }
    memset(&j->kids[j->n], 0, sizeof j->kids[0]);
    return 0;
}
static int coopj_container(coopj_p *p, coop_json *j, char close) {
    int cap = 0;
    j->type = close == ']' ? COOP_JSON_ARR : COOP_JSON_OBJ;
    if (++p->depth > 64) return coopj_fail(p, "nesting deeper than 64");
    p->i++;
    coopj_ws(p);
    if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return 0; }
    for (;;) {
        if (coopj_push(p, j, &cap)) return -1;
        if (j->type == COOP_JSON_OBJ) {
            coopj_ws(p);
            if (p->i >= p->n || p->s[p->i] != '"') return coopj_fail(p, "expected a string key");
            char *k = coopj_string(p);
            if (!k) return -1;
            j->keys[j->n] = k;
            coopj_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') { j->n++; return coopj_fail(p, "expected ':'"); }
            p->i++;
        }
        j->n++;
        if (coopj_value(p, &j->kids[j->n - 1])) return -1;
        coopj_ws(p);
        if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
        if (p->i < p->n && p->s[p->i] == close) { p->i++; p->depth--; return 0; }
        if (p->i >= p->n) return coopj_fail(p, "unexpected end of input");
        return coopj_fail(p, close == ']' ? "expected ',' or ']'" : "expected ',' or '}'");
    }
}
static int coopj_value(coopj_p *p, coop_json *j) {
    coopj_ws(p);
    j->offset = p->i;
    if (p->i >= p->n) return coopj_fail(p, "unexpected end of input");
    char c = p->s[p->i];
    if (c == '{') return coopj_container(p, j, '}');
    if (c == '[') return coopj_container(p, j, ']');
    if (c == '"') { j->type = COOP_JSON_STR; j->str = coopj_string(p); return j->str ? 0 : -1; }
    static const char *const lit[3] = {"null", "true", "false"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lit[k]);
        if (p->n - p->i >= l && !memcmp(p->s + p->i, lit[k], l)) {
            j->type = k ? COOP_JSON_BOOL : COOP_JSON_NULL; j->num = k == 1; p->i += l; return 0;
        }
    }
    /* number: JSON grammar checked here, value by strtod on a bounded copy */
    size_t s = p->i, i = p->i;
    if (i < p->n && p->s[i] == '-') i++;
    if (i < p->n && p->s[i] == '0') i++;
    else if (i < p->n && p->s[i] >= '1' && p->s[i] <= '9') while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    else return coopj_fail(p, "unexpected character");
    if (i < p->n && p->s[i] == '.') {
        if (++i >= p->n || p->s[i] < '0' || p->s[i] > '9') { p->i = i; return coopj_fail(p, "bad number"); }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->n && (p->s[i] == '+' || p->s[i] == '-')) i++;
        if (i >= p->n || p->s[i] < '0' || p->s[i] > '9') { p->i = i; return coopj_fail(p, "bad number"); }
        while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9') i++;
    }
    char buf[64];
    if (i - s >= sizeof buf) return coopj_fail(p, "number too long");
    memcpy(buf, p->s + s, i - s); buf[i - s] = 0;
    j->type = COOP_JSON_NUM; j->num = strtod(buf, NULL); p->i = i;
    return 0;
}

coop_json *coop_json_parse(const char *text, size_t len, const char *what) {
    coopj_p p = {text, len, 0, what ? what : "json", 0};
    coop_json *j = (coop_json *)calloc(1, sizeof *j);
    if (!j) { coop_set_error("%s: out of memory", p.what); return NULL; }
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) p.i = 3;     /* UTF-8 BOM */
    if (coopj_value(&p, j) == 0) {
        coopj_ws(&p);
        if (p.i == p.n) return j;
        coopj_fail(&p, "trailing characters after the value");
    }
    coopj_free_kids(j); free(j);
    return NULL;
}
void coop_json_free(coop_json *j) { if (j) { coopj_free_kids(j); free(j); } }
const coop_json *coop_json_get(const coop_json *o, const char *key) {
    if (!o || o->type != COOP_JSON_OBJ) return NULL;
    for (int i = 0; i < o->n; i++) if (!strcmp(o->keys[i], key)) return &o->kids[i];
    return NULL;
}

/* ---- schedule -------------------------------------------------------------------------------- */
float coop_sched_lr(const coop_sched *s, int epoch) {
    if (epoch < s->warmup_epochs) return s->warmup_lr;
    if (!s->cosine || s->epochs <= 0) return s->lr;
    /* torch CosineAnnealingLR closed form with T_max = epochs, started after the warm-up */
    return (float)(0.5 * s->lr * (1.0 + cos(3.14159265358979323846 * (epoch - s->warmup_epochs) / s->epochs)));
}

/* ---- prompt learner / trainer ---------------------------------------------------------------- */
struct coop_trainer {
    coop_model *m;
    coop_pool  *p;
    int     ncls, n_ctx, D, E, L, T, ctp, csc, n_shared;
    float   scale;              /* exp(logit_scale) */
    float   momentum, wd;
    int64_t nctx_vals;          /* numel of ctx */
    float  *ctx, *grad, *mom;   /* [ncls or 1, M, D] */
    int     mom_started;
    int32_t *ids;               /* [ncls, L] tokenised prompts */
    int    *eot;                /* [ncls] */
    int    *src;                /* [ncls, T]: row of `base` (>= 0) or context vector -1 - j */
    float  *base;               /* [ncls, T, D] token embeddings of the prompt ids */
    float  *x, *dx;             /* [ncls, T, D] */
    float  *txt, *dtxt;         /* [ncls, E] */
    char  **names;
    coop_text_cache *cache;
};

void coop_trainer_opts_default(coop_trainer_opts *o) {
    memset(o, 0, sizeof *o);
    o->n_ctx = 16; o->ctp = COOP_CTP_END; o->seed = 1; o->momentum = 0.9f; o->weight_decay = 5e-4f;
}

int coop_logit_scale(coop_model *m, float *scale) {
    const float *ls = coop_model_f32(m, "logit_scale", 0, NULL);
    if (!ls) return -1;
    *scale = expf(ls[0]);
    return 0;
}

void coop_trainer_free(coop_trainer *t) {
    if (!t) return;
    if (t->names) for (int c = 0; c < t->ncls; c++) free(t->names[c]);
    free(t->names);
    coop_free(t->ctx); coop_free(t->grad); coop_free(t->mom); coop_free(t->ids); coop_free(t->eot);
    coop_free(t->src); coop_free(t->base); coop_free(t->x); coop_free(t->dx); coop_free(t->txt); coop_free(t->dtxt);
    if (t->cache) coop_text_cache_free(t->cache);
    free(t);
}

/* tokenises text into ids [L]; returns the EOT index, or -1 with an error naming the text */
static int coopt_tok(coop_model *m, const char *text, int32_t *ids) {
    int e = coop_tokenize(m, text, ids);
    if (e < 0) return -1;
    return e;
}

coop_trainer *coop_trainer_new(coop_model *m, coop_pool *p, const char *const *classnames, int ncls,
                               const coop_trainer_opts *o) {
    const coop_config *cf = coop_model_config(m);
    if (cf->text == COOP_TEXT_NONE) { coop_set_error("%s: model has no text tower; CoOp needs one", coop_model_path(m)); return NULL; }
    if (ncls < 1) { coop_set_error("coop_trainer_new: no classes"); return NULL; }
    if (o->ctp < COOP_CTP_END || o->ctp > COOP_CTP_FRONT) { coop_set_error("coop_trainer_new: bad class token position %d", o->ctp); return NULL; }
    int V, D;
    const float *emb = coop_token_embedding(m, &V, &D);
    if (!emb) return NULL;
    coop_trainer *t = (coop_trainer *)calloc(1, sizeof *t);
    if (!t) { coop_set_error("out of memory"); return NULL; }
    t->m = m; t->p = p; t->ncls = ncls; t->D = D; t->E = cf->embed_dim; t->L = cf->context_length;
    t->ctp = o->ctp; t->csc = o->csc; t->momentum = o->momentum; t->wd = o->weight_decay;
    const int L = t->L;
    int32_t *tmp = NULL;   /* declared before the first goto fail (C++) */
    size_t plen = 0;
    char *prefix = NULL;
    int M = 0;
    if (coop_logit_scale(m, &t->scale)) goto fail;
    tmp = (int32_t *)coop_malloc(sizeof(int32_t) * (size_t)L);
    if (!tmp) goto fail;
    /* context: the prefix text that stands for it in the tokenised prompts */
    if (o->ctx_init && o->ctx_init[0]) {
        prefix = strdup(o->ctx_init);
        if (!prefix) { coop_free(tmp); coop_set_error("out of memory"); goto fail; }
        for (char *q = prefix; *q; q++) if (*q == '_') *q = ' ';
        int e = coopt_tok(m, prefix, tmp);
        if (e < 0) { free(prefix); coop_free(tmp); goto fail; }
        t->n_ctx = e - 1;
    } else {
        if (o->n_ctx < 1 || o->n_ctx > L - 3) { coop_free(tmp); coop_set_error("n_ctx %d outside [1, %d]", o->n_ctx, L - 3); goto fail; }
        t->n_ctx = o->n_ctx;
        /* CoOp's placeholder text "X X ... X" must give exactly one token per context vector, or
           placeholder pieces would stay in the prompt (a GPT-2 BPE without a " X" token splits it
           into " " + "X"). The placeholder rows are replaced by the context, so any word that is
           one token in this vocabulary will do: "X" first (CoOp's), then a few common ones. */
        static const char *const ph[] = {"X", "x", "a", "A", "the"};
        int k = 0;
        prefix = (char *)malloc((size_t)t->n_ctx * 4 + 1);
        if (!prefix) { coop_free(tmp); coop_set_error("out of memory"); goto fail; }
        for (; k < (int)(sizeof ph / sizeof ph[0]); k++) {
            size_t at = 0, wl = strlen(ph[k]);
            for (int j = 0; j < t->n_ctx; j++) { if (j) prefix[at++] = ' '; memcpy(prefix + at, ph[k], wl); at += wl; }
            prefix[at] = 0;
            int e = coopt_tok(m, prefix, tmp);
            if (e < 0) { free(prefix); coop_free(tmp); goto fail; }
            if (e - 1 == t->n_ctx) break;
        }
        if (k == (int)(sizeof ph / sizeof ph[0])) {
            coop_set_error("%s: no placeholder word is a single token in this vocabulary; give the context words (ctx_init)", coop_model_path(m));
            free(prefix); coop_free(tmp); goto fail;
        }
    }
    if (t->n_ctx < 1) { coop_set_error("ctx_init \"%s\" has no tokens", o->ctx_init); free(prefix); coop_free(tmp); goto fail; }
    M = t->n_ctx;
    t->nctx_vals = (int64_t)(t->csc ? ncls : 1) * M * D;
    t->ctx = (float *)coop_malloc(sizeof(float) * (size_t)t->nctx_vals);
    t->grad = (float *)coop_calloc(sizeof(float) * (size_t)t->nctx_vals);
    t->mom = (float *)coop_calloc(sizeof(float) * (size_t)t->nctx_vals);
    t->ids = (int32_t *)coop_malloc(sizeof(int32_t) * (size_t)ncls * L);
    t->eot = (int *)coop_calloc(sizeof(int) * (size_t)ncls);   /* 0 = class not (yet) tokenised: the check after the loop reads it */
    t->names = (char **)calloc((size_t)ncls, sizeof(char *));
    if (!t->ctx || !t->grad || !t->mom || !t->ids || !t->eot || !t->names) { free(prefix); coop_free(tmp); goto fail; }
    if (o->ctx_init && o->ctx_init[0]) {
        /* the init words' token embeddings (rows 1..M of the tokenised words) */
        for (int c = 0; c < (t->csc ? ncls : 1); c++)
            for (int j = 0; j < M; j++) memcpy(t->ctx + ((size_t)c * M + j) * D, emb + (size_t)tmp[1 + j] * D, sizeof(float) * (size_t)D);
    } else {
        coop_rng r;
        coop_rng_seed(&r, o->seed);
        for (int64_t i = 0; i < t->nctx_vals; i++) t->ctx[i] = (float)(0.02 * coop_rng_normal(&r));
    }
    /* "<prefix>." gives the token count of everything but the class name */
    plen = strlen(prefix);
    {
        char *dot = (char *)malloc(plen + 2);
        if (!dot) { free(prefix); coop_free(tmp); coop_set_error("out of memory"); goto fail; }
        memcpy(dot, prefix, plen); dot[plen] = '.'; dot[plen + 1] = 0;
        int e0 = coopt_tok(m, dot, tmp);
        free(dot);
        if (e0 < 0) { free(prefix); coop_free(tmp); goto fail; }
        t->T = 0;
        int *nl = (int *)malloc(sizeof(int) * (size_t)ncls);
        char *text = NULL;
        for (int c = 0; c < ncls && nl; c++) {
            size_t nlen = strlen(classnames[c]);
            t->names[c] = strdup(classnames[c]);
            text = (char *)malloc(plen + nlen + 3);
            if (!t->names[c] || !text) { coop_set_error("out of memory"); break; }
            /* CoOp: prompt_prefix + " " + name + "." with '_' read as a space */
            memcpy(text, prefix, plen); text[plen] = ' ';
            for (size_t k = 0; k < nlen; k++) text[plen + 1 + k] = classnames[c][k] == '_' ? ' ' : classnames[c][k];
            text[plen + 1 + nlen] = '.'; text[plen + 2 + nlen] = 0;
            int32_t *ids = t->ids + (size_t)c * L;
            int e = coopt_tok(m, text, ids);
            if (e < 0) break;
            if (e >= L - 1) { coop_set_error("prompt for class '%s' fills the whole context (%d tokens): use fewer context tokens or a shorter name", classnames[c], L); e = -1; break; }
            nl[c] = e - e0;
            if (nl[c] < 1) { coop_set_error("class name '%s' gives no tokens", classnames[c]); e = -1; break; }
            /* the placeholder rows must be exactly the M tokens after SOT */
            for (int j = 0; j < M; j++)
                if (ids[1 + j] != tmp[1 + j]) { coop_set_error("prompt for class '%s': context tokens merge with the class name", classnames[c]); e = -1; break; }
            if (e < 0) break;
            t->eot[c] = e;
            if (e + 1 > t->T) t->T = e + 1;
            free(text); text = NULL;
        }
        free(text);
        free(prefix); coop_free(tmp);
        if (!nl) { coop_set_error("out of memory"); goto fail; }
        int ok = 1;
        for (int c = 0; c < ncls; c++) ok = ok && t->names[c] && t->eot[c] > 0 && t->eot[c] < L;
        if (!ok) { free(nl); goto fail; }
        /* rows of each prompt: where each position's vector comes from */
        const int T = t->T, h = M / 2;
        t->src = (int *)coop_malloc(sizeof(int) * (size_t)ncls * T);
        t->base = (float *)coop_malloc(sizeof(float) * (size_t)ncls * T * D);
        t->x = (float *)coop_malloc(sizeof(float) * (size_t)ncls * T * D);
        t->dx = (float *)coop_malloc(sizeof(float) * (size_t)ncls * T * D);
        t->txt = (float *)coop_malloc(sizeof(float) * (size_t)ncls * t->E);
        t->dtxt = (float *)coop_malloc(sizeof(float) * (size_t)ncls * t->E);
        t->cache = coop_text_cache_new();
        if (!t->src || !t->base || !t->x || !t->dx || !t->txt || !t->dtxt || !t->cache) { free(nl); goto fail; }
        for (int c = 0; c < ncls; c++) {
            int *s = t->src + (size_t)c * T, n = nl[c];
            for (int q = 0; q < T; q++) {
                int id = t->ids[(size_t)c * L + q];
                if (id < 0 || id >= V) { coop_set_error("token id %d outside the embedding table (%d)", id, V); free(nl); goto fail; }
                memcpy(t->base + ((size_t)c * T + q) * D, emb + (size_t)id * D, sizeof(float) * (size_t)D);
                s[q] = q;                                       /* SOT, '.', EOT, padding */
            }
            for (int j = 0; j < M; j++) {
                if (t->ctp == COOP_CTP_END) s[1 + j] = -1 - j;
                else if (t->ctp == COOP_CTP_FRONT) s[1 + n + j] = -1 - j;
                else s[j < h ? 1 + j : 1 + n + j] = -1 - j;
            }
            /* class tokens sit at 1 + M .. M + n of the tokenised prompt */
            int at = t->ctp == COOP_CTP_END ? 1 + M : t->ctp == COOP_CTP_FRONT ? 1 : 1 + h;
            for (int k = 0; k < n; k++) s[at + k] = 1 + M + k;
        }
        free(nl);
        /* identical leading rows across classes (the towers may compute them once) */
        t->n_shared = t->csc ? 1 : t->ctp == COOP_CTP_END ? 1 + M : t->ctp == COOP_CTP_MIDDLE ? 1 + h : 1;
        if (ncls == 1) t->n_shared = 0;
    }
    return t;
fail:
    coop_trainer_free(t);
    return NULL;
}

float *coop_trainer_ctx(coop_trainer *t, int *ndim, int64_t shape[3]) {
    if (ndim) *ndim = t->csc ? 3 : 2;
    if (shape) {
        int k = 0;
        if (t->csc) shape[k++] = t->ncls;
        shape[k++] = t->n_ctx; shape[k++] = t->D;
    }
    return t->ctx;
}

void coop_trainer_prompts(const coop_trainer *t, const int32_t **ids, const int **eot, int *T) {
    if (ids) *ids = t->ids;
    if (eot) *eot = t->eot;
    if (T) *T = t->T;
}

float *coop_trainer_momentum(coop_trainer *t, int **started) {
    if (started) *started = &t->mom_started;
    return t->mom;
}

/* x[c, q] = base row or context vector, as the source map says.  x: [ncls, T, D] */
static void coopt_build(const coop_trainer *t, float *x) {
    const int T = t->T, D = t->D, M = t->n_ctx;
    for (int c = 0; c < t->ncls; c++)
        for (int q = 0; q < T; q++) {
            int s = t->src[(size_t)c * T + q];
            const float *from = s >= 0 ? t->base + ((size_t)c * T + s) * D
                                       : t->ctx + ((size_t)(t->csc ? c : 0) * M + (-1 - s)) * D;
            memcpy(x + ((size_t)c * T + q) * D, from, sizeof(float) * (size_t)D);
        }
}

int coop_trainer_prompt_embeds(coop_trainer *t, float *x) { coopt_build(t, x); return 0; }

/* txt [ncls, E] raw -> rows divided by their norms (norms kept in inv[c] = 1/||txt_c||) */
static void coopt_normalize(const float *v, int n, int E, float *out, double *inv) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)v[(size_t)i * E + k] * v[(size_t)i * E + k];
        double r = s > 0 ? 1.0 / sqrt(s) : 0;
        if (inv) inv[i] = r;
        for (int k = 0; k < E; k++) out[(size_t)i * E + k] = (float)(v[(size_t)i * E + k] * r);
    }
}

int coop_trainer_head(coop_trainer *t, float *head) {
    coopt_build(t, t->x);
    if (coop_text_forward_embeds(t->m, t->p, t->x, t->eot, t->ncls, t->T, t->n_shared, t->txt, NULL)) return -1;
    coopt_normalize(t->txt, t->ncls, t->E, head, NULL);
    return 0;
}

void coop_classify(const float *img, int B, const float *head, int ncls, int E, float scale, float *logits) {
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)img[(size_t)b * E + k] * img[(size_t)b * E + k];
        double r = s > 0 ? 1.0 / sqrt(s) : 0;
        for (int c = 0; c < ncls; c++) {
            double d = 0;
            for (int k = 0; k < E; k++) d += (double)img[(size_t)b * E + k] * head[(size_t)c * E + k];
            logits[(size_t)b * ncls + c] = (float)(scale * d * r);
        }
    }
}

/* Forward: prompts -> text tower -> normalise -> logits = s cos -> mean cross entropy.
   Backward: dlogits = (softmax - onehot) / B; d tn_c = s sum_b dlogits[b,c] in_b;
   through the normalisation d txt_c = (d tn_c - tn_c (tn_c . d tn_c)) / ||txt_c||;
   the tower gives d x [ncls, T, D]; context rows of x are summed into d ctx
   (over classes too when the context is shared). */
int coop_trainer_loss(coop_trainer *t, const float *img, const int *labels, int B, float *loss,
                      float *grad, float *logits) {
    const int C = t->ncls, E = t->E, M = t->n_ctx, D = t->D, T = t->T;
    if (B < 1) { coop_set_error("coop_trainer_loss: empty batch"); return -1; }
    for (int b = 0; b < B; b++)
        if (labels[b] < 0 || labels[b] >= C) { coop_set_error("coop_trainer_loss: label %d outside [0, %d)", labels[b], C); return -1; }
    coopt_build(t, t->x);
    if (coop_text_forward_embeds(t->m, t->p, t->x, t->eot, C, T, t->n_shared, t->txt, grad ? t->cache : NULL)) return -1;
    size_t need = sizeof(double) * ((size_t)C + (size_t)C * E * 2 + (size_t)B * E + (size_t)B * C + (size_t)B);
    double *w = (double *)malloc(need);
    if (!w) { coop_set_error("out of memory"); return -1; }
    double *inv = w, *tn = inv + C, *dtn = tn + (size_t)C * E, *in = dtn + (size_t)C * E, *dl = in + (size_t)B * E, *ir = dl + (size_t)B * C;
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)t->txt[(size_t)c * E + k] * t->txt[(size_t)c * E + k];
        inv[c] = s > 0 ? 1.0 / sqrt(s) : 0.0;   /* an all-zero feature stays zero, as on the image side */
        for (int k = 0; k < E; k++) tn[(size_t)c * E + k] = t->txt[(size_t)c * E + k] * inv[c];
    }
    for (int b = 0; b < B; b++) {
        double s = 0;
        for (int k = 0; k < E; k++) s += (double)img[(size_t)b * E + k] * img[(size_t)b * E + k];
        ir[b] = s > 0 ? 1.0 / sqrt(s) : 0;
        for (int k = 0; k < E; k++) in[(size_t)b * E + k] = img[(size_t)b * E + k] * ir[b];
    }
    double total = 0;
    for (int b = 0; b < B; b++) {
        double *lg = dl + (size_t)b * C, mx = -INFINITY, se = 0;
        for (int c = 0; c < C; c++) {
            double d = 0;
            for (int k = 0; k < E; k++) d += in[(size_t)b * E + k] * tn[(size_t)c * E + k];
            lg[c] = t->scale * d;
            if (logits) logits[(size_t)b * C + c] = (float)lg[c];
            if (lg[c] > mx) mx = lg[c];
        }
        for (int c = 0; c < C; c++) se += exp(lg[c] - mx);
        total += mx + log(se) - lg[labels[b]];
        for (int c = 0; c < C; c++) lg[c] = (exp(lg[c] - mx) / se - (c == labels[b])) / B;   /* dlogits */
    }
    *loss = (float)(total / B);
    if (!grad) { free(w); return 0; }
    for (int c = 0; c < C; c++) {
        double dot = 0;
        for (int k = 0; k < E; k++) {
            double g = 0;
            for (int b = 0; b < B; b++) g += dl[(size_t)b * C + c] * in[(size_t)b * E + k];
            dtn[(size_t)c * E + k] = t->scale * g;
            dot += g * t->scale * tn[(size_t)c * E + k];
        }
        for (int k = 0; k < E; k++)
            t->dtxt[(size_t)c * E + k] = (float)((dtn[(size_t)c * E + k] - tn[(size_t)c * E + k] * dot) * inv[c]);
    }
    free(w);
    if (coop_text_backward_embeds(t->m, t->p, t->cache, t->dtxt, t->dx)) return -1;
    memset(grad, 0, sizeof(float) * (size_t)t->nctx_vals);
    for (int c = 0; c < C; c++)
        for (int q = 0; q < T; q++) {
            int s = t->src[(size_t)c * T + q];
            if (s >= 0) continue;
            float *g = grad + ((size_t)(t->csc ? c : 0) * M + (-1 - s)) * D;
            const float *d = t->dx + ((size_t)c * T + q) * D;
            for (int k = 0; k < D; k++) g[k] += d[k];
        }
    return 0;
}

/* torch.optim.SGD (dampening 0, nesterov off): d_p = g + wd p; buf = d_p on the first step,
   else buf = momentum buf + d_p; p -= lr buf */
static void coopt_sgd(coop_trainer *t, float lr) {
    for (int64_t i = 0; i < t->nctx_vals; i++) {
        float d = t->grad[i] + t->wd * t->ctx[i];
        if (t->momentum != 0) {
            t->mom[i] = t->mom_started ? t->momentum * t->mom[i] + d : d;
            d = t->mom[i];
        }
        t->ctx[i] -= lr * d;
    }
    t->mom_started = 1;
}

int coop_trainer_step(coop_trainer *t, const float *img, const int *labels, int B, float lr,
                      float *loss, int *correct) {
    float *lg = correct ? (float *)malloc(sizeof(float) * (size_t)B * t->ncls) : NULL, l;
    if (correct && !lg) { coop_set_error("out of memory"); return -1; }
    int rc = coop_trainer_loss(t, img, labels, B, &l, t->grad, lg);
    if (rc == 0) {
        coopt_sgd(t, lr);
        if (loss) *loss = l;
        if (correct) {
            *correct = 0;
            for (int b = 0; b < B; b++) {
                int best = 0;
                for (int c = 1; c < t->ncls; c++) if (lg[(size_t)b * t->ncls + c] > lg[(size_t)b * t->ncls + best]) best = c;
                *correct += best == labels[b];
            }
        }
    }
    free(lg);
    return rc;
}

int coop_trainer_save_ctx(coop_trainer *t, const char *path) {
    int nd; int64_t sh[3];
    coop_trainer_ctx(t, &nd, sh);
    return coop_npy_write(path, "<f4", t->ctx, nd, sh);
}

int coop_trainer_load_ctx(coop_trainer *t, const char *path) {
    char dt[8]; int nd, want; int64_t sh[8], ws[3]; void *d;
    if (coop_npy_read(path, dt, &nd, sh, &d)) return -1;
    coop_trainer_ctx(t, &want, ws);
    int ok = !strcmp(dt, "<f4") && nd == want;
    for (int i = 0; ok && i < nd; i++) ok = sh[i] == ws[i];
    if (!ok) {
        if (want == 3) coop_set_error("%s: context shape does not match this trainer (want [%lld, %lld, %lld]; check --n-ctx, --csc, --ctx-init and the class list)", path, (long long)ws[0], (long long)ws[1], (long long)ws[2]);
        else coop_set_error("%s: context shape does not match this trainer (want [%lld, %lld]; check --n-ctx, --csc, --ctx-init)", path, (long long)ws[0], (long long)ws[1]);
        coop_free(d);
        return -1;
    }
    memcpy(t->ctx, d, sizeof(float) * (size_t)t->nctx_vals);
    coop_free(d);
    return 0;
}

/* ---- data sets --------------------------------------------------------------------------------- */
static char *coopd_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = (char *)malloc(la + lb + 2);
    if (!s) return NULL;
    memcpy(s, a, la);
    size_t o = la;
    if (la && a[la - 1] != '/') s[o++] = '/';
    memcpy(s + o, b, lb + 1);
    return s;
}
static int coopd_isdir(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISDIR(st.st_mode); }
static int coopd_isfile(const char *p) { struct stat st; return stat(p, &st) == 0 && S_ISREG(st.st_mode); }
static int coopd_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted names in dir (dirs: 1 = folders only, 0 = image files only); NULL + error on failure */
static char **coopd_list(const char *dir, int dirs, int *n) {
    DIR *d = opendir(dir);
    *n = 0;
    if (!d) { coop_set_error("%s: %s", dir, strerror(errno)); return NULL; }
    int cap = 16;
    char **v = (char **)malloc(sizeof(char *) * (size_t)cap);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *full = coopd_join(dir, e->d_name);
        int keep = 0;
        if (full && dirs) keep = coopd_isdir(full);
        else if (full) {
            const char *x = strrchr(e->d_name, '.');
            static const char *const ext[] = {"jpg", "jpeg", "png", "bmp", "gif", "tga", "ppm", "pgm", "pnm", "psd", "hdr", "jpe"};
            for (size_t k = 0; x && k < sizeof ext / sizeof ext[0]; k++) if (!strcasecmp(x + 1, ext[k])) keep = 1;
            keep = keep && coopd_isfile(full);
        }
        free(full);
        if (!keep) continue;
        if (*n == cap) { char **nv = (char **)realloc(v, sizeof(char *) * (size_t)(cap *= 2)); if (!nv) { break; } v = nv; }
        if (!(v[*n] = strdup(e->d_name))) break;
        (*n)++;
    }
    closedir(d);
    if (!v) { coop_set_error("out of memory"); return NULL; }
    qsort(v, (size_t)*n, sizeof *v, coopd_cmp);
    return v;
}
static void coopd_free_list(char **v, int n) { if (v) for (int i = 0; i < n; i++) free(v[i]); free(v); }

static int coopd_add(coop_dataset *d, int split, int *cap, const char *root, const char *rel, int label) {
    if (d->n[split] == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        coop_item *ni = (coop_item *)realloc(d->items[split], sizeof(coop_item) * (size_t)*cap);
        if (!ni) { coop_set_error("out of memory"); return -1; }
        d->items[split] = ni;
    }
    char *full = coopd_join(root, rel);
    if (!full) { coop_set_error("out of memory"); return -1; }
    coop_item *it = &d->items[split][d->n[split]++];
    it->path = full; it->label = label; it->rel = (int)(strlen(full) - strlen(rel));
    return 0;
}

void coop_dataset_free(coop_dataset *d) {
    if (!d) return;
    for (int s = 0; s < 3; s++) { for (int i = 0; i < d->n[s]; i++) free(d->items[s][i].path); free(d->items[s]); }
    coopd_free_list(d->classnames, d->ncls);
    free(d->root); free(d->split_file);
    free(d);
}

/* CoOp split JSON -> items; images under `base` or its one subfolder holding the first file */
static int coopd_read_split(coop_dataset *d, const char *file) {
    size_t len;
    char *txt = coop_read_file(file, &len);
    if (!txt) return -1;
    coop_json *j = coop_json_parse(txt, len, file);
    free(txt);
    if (!j) return -1;
    int rc = -1, maxlab = -1;
    const coop_json *tr = NULL, *first = NULL;   /* declared before the first goto done (C++) */
    static const char *const names[3] = {"train", "val", "test"};
    char *dir = strdup(file), *slash = dir ? strrchr(dir, '/') : NULL;
    if (!dir) { coop_set_error("out of memory"); goto done; }
    if (slash) *slash = 0; else strcpy(dir, ".");
    if (j->type != COOP_JSON_OBJ) { coop_set_error("%s: top level is not a JSON object", file); goto done; }
    tr = coop_json_get(j, "train");
    if (!tr || tr->type != COOP_JSON_ARR || tr->n == 0) { coop_set_error("%s: no \"train\" list", file); goto done; }
    /* find the image root with the first train item */
    first = &tr->kids[0];
    if (first->type != COOP_JSON_ARR || first->n < 2 || first->kids[0].type != COOP_JSON_STR) {
        coop_set_error("%s: byte %zu: items must be [relpath, label, classname]", file, first->offset); goto done;
    }
    {
        char *cand = coopd_join(dir, first->kids[0].str);
        if (cand && coopd_isfile(cand)) d->root = strdup(dir);
        free(cand);
        int ns = 0;
        char **subs = d->root ? NULL : coopd_list(dir, 1, &ns);
        for (int i = 0; i < ns && !d->root; i++) {
            char *sub = coopd_join(dir, subs[i]), *c2 = sub ? coopd_join(sub, first->kids[0].str) : NULL;
            if (c2 && coopd_isfile(c2)) { d->root = sub; sub = NULL; }
            free(sub); free(c2);
        }
        coopd_free_list(subs, ns);
        if (!d->root) { coop_set_error("%s: cannot find the images: '%s' is neither under %s nor under one of its subfolders", file, first->kids[0].str, dir); goto done; }
    }
    for (int s = 0; s < 3; s++) {
        const coop_json *a = coop_json_get(j, names[s]);
        if (!a) continue;
        if (a->type != COOP_JSON_ARR) { coop_set_error("%s: byte %zu: \"%s\" is not a list", file, a->offset, names[s]); goto done; }
        for (int i = 0; i < a->n; i++) {
            const coop_json *it = &a->kids[i];
            if (it->type != COOP_JSON_ARR || it->n != 3 || it->kids[0].type != COOP_JSON_STR || it->kids[1].type != COOP_JSON_NUM ||
                it->kids[2].type != COOP_JSON_STR) {
                coop_set_error("%s: byte %zu: %s item %d is not [relpath, label, classname]", file, it->offset, names[s], i); goto done;
            }
            double lv = it->kids[1].num;
            if (lv < 0 || lv > 1e6 || lv != floor(lv)) { coop_set_error("%s: byte %zu: bad label %g", file, it->kids[1].offset, lv); goto done; }
            if ((int)lv > maxlab) maxlab = (int)lv;
        }
    }
    d->ncls = maxlab + 1;
    d->classnames = (char **)calloc((size_t)d->ncls, sizeof(char *));
    if (!d->classnames) { coop_set_error("out of memory"); goto done; }
    for (int s = 0; s < 3; s++) {
        const coop_json *a = coop_json_get(j, names[s]);
        int cap = 0;
        for (int i = 0; a && i < a->n; i++) {
            const coop_json *it = &a->kids[i];
            int lab = (int)it->kids[1].num;
            const char *cn = it->kids[2].str;
            if (!d->classnames[lab]) { if (!(d->classnames[lab] = strdup(cn))) { coop_set_error("out of memory"); goto done; } }
            else if (strcmp(d->classnames[lab], cn)) {
                coop_set_error("%s: byte %zu: label %d is called both '%s' and '%s'", file, it->offset, lab, d->classnames[lab], cn); goto done;
            }
            if (coopd_add(d, s, &cap, d->root, it->kids[0].str, lab)) goto done;
        }
    }
    for (int c = 0; c < d->ncls; c++)
        if (!d->classnames[c]) { coop_set_error("%s: label %d never appears (labels must be 0..%d)", file, c, d->ncls - 1); goto done; }
    d->split_file = strdup(file);
    rc = d->split_file ? 0 : -1;
done:
    free(dir);
    coop_json_free(j);
    return rc;
}

/* class folders under dir -> items of one split (classes must agree with d->classnames when set) */
static int coopd_read_folders(coop_dataset *d, const char *dir, const char *relprefix, int split, int *caps) {
    int nc;
    char **cls = coopd_list(dir, 1, &nc);
    if (!cls) return -1;
    if (nc == 0) { coop_set_error("%s: no class folders", dir); coopd_free_list(cls, nc); return -1; }
    if (!d->classnames) { d->classnames = cls; d->ncls = nc; }
    else {
        int same = nc == d->ncls;
        for (int c = 0; same && c < nc; c++) same = !strcmp(cls[c], d->classnames[c]);
        coopd_free_list(cls, nc);
        if (!same) { coop_set_error("%s: class folders differ from those of the training folder", dir); return -1; }
    }
    for (int c = 0; c < d->ncls; c++) {
        char *cdir = coopd_join(dir, d->classnames[c]);
        int nf;
        char **files = cdir ? coopd_list(cdir, 0, &nf) : NULL;
        free(cdir);
        if (!files) return -1;
        for (int i = 0; i < nf; i++) {
            char rel[4096];
            snprintf(rel, sizeof rel, "%s%s/%s", relprefix, d->classnames[c], files[i]);
            if (coopd_add(d, split, &caps[split], d->root, rel, c)) { coopd_free_list(files, nf); return -1; }
        }
        coopd_free_list(files, nf);
    }
    return 0;
}

static void coopd_shuffle(coop_item *v, int n, coop_rng *r) {
    for (int i = n - 1; i > 0; i--) { int j = coop_rng_below(r, i + 1); coop_item t = v[i]; v[i] = v[j]; v[j] = t; }
}

coop_dataset *coop_dataset_open(const char *data, uint64_t split_seed, int allow_missing) {
    coop_dataset *d = (coop_dataset *)calloc(1, sizeof *d);
    if (!d) { coop_set_error("out of memory"); return NULL; }
    size_t dl = strlen(data);
    int rc = -1;
    char *json = NULL;
    if (dl > 5 && !strcmp(data + dl - 5, ".json") && coopd_isfile(data)) json = strdup(data);
    else if (!coopd_isdir(data)) { coop_set_error("%s: not a folder or a .json split file", data); coop_dataset_free(d); return NULL; }
    for (int pass = 0; !json && pass < 2; pass++) {
        char *dir = pass ? coopd_join(data, "caltech-101") : strdup(data);
        DIR *dd = dir && coopd_isdir(dir) ? opendir(dir) : NULL;
        char *best = NULL;
        struct dirent *e;
        while (dd && (e = readdir(dd))) {
            size_t l = strlen(e->d_name);
            if (!strncmp(e->d_name, "split_", 6) && l > 5 && !strcmp(e->d_name + l - 5, ".json") && (!best || strcmp(e->d_name, best) < 0)) {
                free(best); best = strdup(e->d_name);
            }
        }
        if (dd) closedir(dd);
        if (best) json = coopd_join(dir, best);
        free(best); free(dir);
    }
    if (json) rc = coopd_read_split(d, json);
    else {
        char *tr = coopd_join(data, "train"), *te = coopd_join(data, "test"), *va = coopd_join(data, "val");
        int caps[3] = {0, 0, 0};
        d->root = strdup(data);
        if (!tr || !te || !va || !d->root) coop_set_error("out of memory");
        else if (coopd_isdir(tr) && coopd_isdir(te)) {
            rc = coopd_read_folders(d, tr, "train/", COOP_SPLIT_TRAIN, caps);
            if (!rc && coopd_isdir(va)) rc = coopd_read_folders(d, va, "val/", COOP_SPLIT_VAL, caps);
            if (!rc) rc = coopd_read_folders(d, te, "test/", COOP_SPLIT_TEST, caps);
        } else {
            /* one folder of classes: Dassl read_and_split_data (p_trn 0.5, p_val 0.2) per class */
            coop_dataset all;
            memset(&all, 0, sizeof all);
            all.root = d->root;
            rc = coopd_read_folders(&all, data, "", COOP_SPLIT_TRAIN, caps);
            d->classnames = all.classnames; d->ncls = all.ncls;
            coop_rng r;
            coop_rng_seed(&r, split_seed);
            int caps2[3] = {0, 0, 0};
            for (int c = 0; !rc && c < d->ncls; c++) {
                int n = 0, first = -1;
                for (int i = 0; i < all.n[0]; i++) if (all.items[0][i].label == c) { if (first < 0) first = i; n++; }
                coop_item *v = all.items[0] + (first < 0 ? 0 : first);     /* a class's files are contiguous */
                coopd_shuffle(v, n, &r);
                int ntr = (int)nearbyint(n * 0.5), nva = (int)nearbyint(n * 0.2);
                if (ntr < 1 || nva < 1 || n - ntr - nva < 1) {
                    coop_set_error("%s: class '%s' has %d images; splitting it 50/20/30 needs at least 3 (or give train/ and test/ folders, or a split JSON)", data, d->classnames[c], n);
                    rc = -1; break;
                }
                for (int i = 0; !rc && i < n; i++)
                    rc = coopd_add(d, i < ntr ? 0 : i < ntr + nva ? 1 : 2, &caps2[i < ntr ? 0 : i < ntr + nva ? 1 : 2], d->root, v[i].path + v[i].rel, c);
            }
            for (int i = 0; i < all.n[0]; i++) free(all.items[0][i].path);
            free(all.items[0]);
        }
        free(tr); free(te); free(va);
    }
    free(json);
    /* every listed file must exist (a stat each; cheap next to decoding) */
    for (int s = 0; !rc && s < 3; s++) {
        int o = 0;
        for (int i = 0; i < d->n[s]; i++) {
            if (coopd_isfile(d->items[s][i].path)) { d->items[s][o++] = d->items[s][i]; continue; }
            if (!allow_missing && !d->n_missing) coop_set_error("%s: missing", d->items[s][i].path);
            d->n_missing++;
            free(d->items[s][i].path);
        }
        d->n[s] = o;
    }
    if (!rc && d->n_missing && !allow_missing) {
        char first[600];
        snprintf(first, sizeof first, "%s", coop_last_error());
        coop_set_error("%d listed image(s) missing, first: %s (allow missing files to drop them)", d->n_missing, first);
        rc = -1;
    }
    if (!rc && d->n[0] == 0) { coop_set_error("%s: no training images", data); rc = -1; }
    if (rc) { coop_dataset_free(d); return NULL; }
    return d;
}

int coop_fewshot(const coop_item *items, int n, int k, coop_rng *rng, coop_item **out, int *nout, int *n_short) {
    *out = (coop_item *)coop_malloc(sizeof(coop_item) * (size_t)(n ? n : 1));
    int *idx = (int *)malloc(sizeof(int) * (size_t)(n ? n : 1)), *seen = (int *)calloc((size_t)(n ? n : 1), sizeof(int));
    *nout = 0;
    if (n_short) *n_short = 0;
    if (!*out || !idx || !seen) { coop_free(*out); *out = NULL; free(idx); free(seen); coop_set_error("out of memory"); return -1; }
    for (int i = 0; i < n; i++) {
        if (seen[i]) continue;
        /* items of this label in data order (labels in order of first appearance, as Dassl) */
        int m = 0;
        for (int q = i; q < n; q++) if (items[q].label == items[i].label) { idx[m++] = q; seen[q] = 1; }
        int take = m;
        if (k > 0 && m >= k) {
            take = k;
            for (int a = 0; a < k; a++) { int b = a + coop_rng_below(rng, m - a); int tmp = idx[a]; idx[a] = idx[b]; idx[b] = tmp; }
        } else if (k > 0 && n_short) (*n_short)++;
        for (int a = 0; a < take; a++) (*out)[(*nout)++] = items[idx[a]];
    }
    free(idx); free(seen);
    return 0;
}

static void coopd_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

int coop_split_write(const char *path, const coop_dataset *d, const coop_item *const items[3], const int n[3]) {
    char *tmp = (char *)malloc(strlen(path) + 5);
    if (!tmp) { coop_set_error("out of memory"); return -1; }
    sprintf(tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) { coop_set_error("%s: %s", tmp, strerror(errno)); free(tmp); return -1; }
    static const char *const names[3] = {"train", "val", "test"};
    fprintf(f, "{");
    for (int s = 0; s < 3; s++) {
        fprintf(f, "%s\n\"%s\": [", s ? "," : "", names[s]);
        for (int i = 0; i < n[s]; i++) {
            fprintf(f, "%s\n  [", i ? "," : "");
            coopd_json_str(f, items[s][i].path + items[s][i].rel);
            fprintf(f, ", %d, ", items[s][i].label);
            coopd_json_str(f, d->classnames[items[s][i].label]);
            fprintf(f, "]");
        }
        fprintf(f, "]");
    }
    fprintf(f, "\n}\n");
    int ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path)) { coop_set_error("%s: write failed", path); remove(tmp); free(tmp); return -1; }
    free(tmp);
    return 0;
}

/* ---- image features ---------------------------------------------------------------------------- */
typedef struct {
    const coop_item *items; const uint64_t *seeds; const coop_config *cf;
    float *pix; int n, failed; char err[600];
} coopd_imgjob;

static void coopd_img_task(void *ctx, int task, int ntasks) {
    coopd_imgjob *j = (coopd_imgjob *)ctx;
    const int S = j->cf->image_size;
    for (int i = task; i < j->n; i += ntasks) {
        coop_image img;
        int rc = coop_image_load(j->items[i].path, &img);
        float *out = j->pix + (size_t)i * 3 * S * S;
        if (!rc) {
            if (j->seeds) {
                coop_rng r;
                coop_rng_seed(&r, j->seeds[i]);
                rc = coop_preprocess_train(&img, S, 0.08f, 1.0f, 1, &r, j->cf->image_mean, j->cf->image_std, out);
            } else rc = coop_preprocess(&img, S, j->cf->image_mean, j->cf->image_std, out);
            coop_image_free(&img);
        }
        if (rc && !j->failed) { j->failed = 1; snprintf(j->err, sizeof j->err, "%s", coop_last_error()); }
    }
}

int coop_image_features(coop_model *m, coop_pool *p, const coop_item *items, int n, const uint64_t *seeds, float *out) {
    const coop_config *cf = coop_model_config(m);
    if (cf->vision == COOP_VISION_NONE) { coop_set_error("%s: model has no image tower", coop_model_path(m)); return -1; }
    const int S = cf->image_size, chunk = 32;
    float *pix = (float *)coop_malloc(sizeof(float) * (size_t)chunk * 3 * S * S);
    if (!pix) return -1;
    for (int i = 0; i < n; i += chunk) {
        int k = n - i < chunk ? n - i : chunk;
        coopd_imgjob j = {items + i, seeds ? seeds + i : NULL, cf, pix, k, 0, ""};
        int th = p ? coop_pool_threads(p) : 1;
        coop_pool_run(p, th < k ? th : k, coopd_img_task, &j);
        if (j.failed) { coop_set_error("%s", j.err); coop_free(pix); return -1; }
        if (coop_encode_image(m, p, pix, k, out + (size_t)i * cf->embed_dim)) { coop_free(pix); return -1; }
    }
    coop_free(pix);
    return 0;
}

#endif /* COOP_IMPLEMENTED */
#endif /* COOP_IMPLEMENTATION */
