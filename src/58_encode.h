/* ===================================================================================== */
/* Encoders: dispatch by the model's configuration                                        */
/* ===================================================================================== */
/* (COOP__HAVE_* are development switches set while parts are being written) */

int coop_encode_image(coop_model *m, coop_pool *p, const float *pixels, int n, float *out) {
    switch (m->cfg.vision) {
#if COOP__HAVE_VIT
    case COOP_VISION_VIT: return coop_vit_encode(m, p, pixels, n, out);
#endif
#if COOP__HAVE_RESNET
    case COOP_VISION_RESNET: return coop_resnet_encode(m, p, pixels, n, out);
#endif
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
#if COOP__HAVE_CLIPTEXT
    case COOP_TEXT_CLIP: return coop_cliptext_encode(m, p, ids, n, out);
#endif
#if COOP__HAVE_HFTEXT
    case COOP_TEXT_HF: return coop_hftext_encode(m, p, ids, n, out);
#endif
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
#if COOP__HAVE_CLIPTEXT
    case COOP_TEXT_CLIP: return coop_cliptext_forward_embeds(m, p, x, eot, n, T, n_shared, out, cache);
#endif
#if COOP__HAVE_HFTEXT
    case COOP_TEXT_HF: return coop_hftext_forward_embeds(m, p, x, eot, n, T, n_shared, out, cache);
#endif
    case COOP_TEXT_NONE: coop_set_error("%s: model has no text tower", m->path); return -1;
    default: coop_set_error("%s: text tower not supported by this build", m->path); return -1;
    }
    (void)p; (void)x; (void)out; (void)cache;
}

int coop_text_backward_embeds(coop_model *m, coop_pool *p, coop_text_cache *cache,
                              const float *dout, float *dx) {
    switch (m->cfg.text) {
#if COOP__HAVE_CLIPTEXT
    case COOP_TEXT_CLIP: return coop_cliptext_backward_embeds(m, p, cache, dout, dx);
#endif
#if COOP__HAVE_HFTEXT
    case COOP_TEXT_HF: return coop_hftext_backward_embeds(m, p, cache, dout, dx);
#endif
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
#if COOP__HAVE_TOKCLIP
    case COOP_TOK_CLIP_BPE:
        if (!tok) {
            if (coop_model_tokenizer_section(m, "clip_bpe", &a, &al)) return -1;
            if (!(tok = coop_clip_tok_new((const char *)a, al))) return -1;
            coop_model_set_slot(m, COOP_SLOT_TOK, tok, (void (*)(void *))coop_clip_tok_free);
        }
        return coop_clip_tokenize((coop_clip_tok *)tok, text, ids, c->context_length);
#endif
#if COOP__HAVE_TOKHF
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
#endif
    default:
        coop_set_error("%s: no tokenizer for this model in this build", m->path);
        return -1;
    }
    (void)tok; (void)a; (void)b; (void)al; (void)bl; (void)text; (void)ids;
}
