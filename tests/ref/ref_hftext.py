"""PyTorch reference for the Hugging Face text tower of coop.h (src/46_hftext.h).

Our own small RoBERTa encoder written the way transformers' modeling_roberta.py computes it
(padded batch, attention_mask = ids != pad added as finfo.min to masked keys, position ids
pad + cumsum(mask) for input_ids and pad+1+t for inputs_embeds, token type 0, embedding
LayerNorm, post-LN layers with exact GELU), OpenCLIP's MeanPooler / ClsPooler and the
projection of HFTextEncoder ('mlp': Linear(D,(D+E)//2,bias=False), GELU, Linear(.,E,bias=False);
'linear': Linear(D,E,bias=False)).

Two tiny models (D 48, 2 layers, 4 heads, max positions 80) with the tokenizers of
ref_tok_hf.py (run it first):
  hf_roberta.coop  gpt2_bpe tokenizer, mean pooler, mlp projection
  hf_xlmr.coop     unigram tokenizer, mean pooler, linear projection
  hf_cls.coop      gpt2_bpe, cls pooler with the transformer pooler (dense + tanh), mlp
Fixtures per model P: P_ids [n,77] (our reference tokenizer), P_feat [n,E] (padded computation),
P_x [n,T,D] inputs_embeds (pad rows random: they must not matter), P_eot [n], P_out [n,E],
P_dout [n,E], P_dx [n,T,D] (autograd).
Run: /usr/bin/python3 tests/ref/ref_hftext.py
"""
import json, math, os, sys
import numpy as np
import torch
import sentencepiece as spm

sys.path.insert(0, os.path.dirname(__file__))
import coopfile
import ref_tok_hf as rt

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "hf")
torch.manual_seed(0)
D, L, H, F, E, P, PAD, CTX = 48, 2, 4, 96, 40, 80, 1, 77

TEXTS = ["a photo of a dog.", "Ein Foto eines Hundes in München", "一只狗的照片", "x", "emoji 😀🐶 ok",
         "the quick brown fox jumps over the lazy dog " * 3, "fotografía de un gato ①", "  spaced   out  "]


def make_weights(V, proj, pooler_dense):
    g = torch.Generator().manual_seed(V * 7 + len(proj))
    r = lambda *s, std=0.08: torch.randn(*s, generator=g) * std
    t = {"text.transformer.embeddings.word_embeddings.weight": r(V, D, std=0.5),
         "text.transformer.embeddings.position_embeddings.weight": r(P, D, std=0.3),
         "text.transformer.embeddings.token_type_embeddings.weight": r(1, D, std=0.3),
         "text.transformer.embeddings.LayerNorm.weight": 1 + r(D, std=0.1),
         "text.transformer.embeddings.LayerNorm.bias": r(D, std=0.05)}
    for l in range(L):
        b = "text.transformer.encoder.layer.%d." % l
        for n in ("query", "key", "value"):
            t[b + "attention.self.%s.weight" % n] = r(D, D, std=0.25)
            t[b + "attention.self.%s.bias" % n] = r(D, std=0.05)
        t[b + "attention.output.dense.weight"] = r(D, D, std=0.15)
        t[b + "attention.output.dense.bias"] = r(D, std=0.05)
        t[b + "attention.output.LayerNorm.weight"] = 1 + r(D, std=0.1)
        t[b + "attention.output.LayerNorm.bias"] = r(D, std=0.05)
        t[b + "intermediate.dense.weight"] = r(F, D, std=0.2)
        t[b + "intermediate.dense.bias"] = r(F, std=0.05)
        t[b + "output.dense.weight"] = r(D, F, std=0.15)
        t[b + "output.dense.bias"] = r(D, std=0.05)
        t[b + "output.LayerNorm.weight"] = 1 + r(D, std=0.1)
        t[b + "output.LayerNorm.bias"] = r(D, std=0.05)
    if pooler_dense:
        t["text.transformer.pooler.dense.weight"] = r(D, D, std=0.2)
        t["text.transformer.pooler.dense.bias"] = r(D, std=0.05)
    if proj == "mlp":
        t["text.proj.0.weight"] = r((D + E) // 2, D, std=0.2)
        t["text.proj.2.weight"] = r(E, (D + E) // 2, std=0.2)
    else:
        t["text.proj.weight"] = r(E, D, std=0.2)
    t["logit_scale"] = torch.tensor([math.log(1 / 0.07)])
    return {k: v.double() for k, v in t.items()}


def ln(x, w, b):
    return torch.nn.functional.layer_norm(x, (D,), w, b, eps=1e-5)


def gelu(x):
    return torch.nn.functional.gelu(x)   # exact (erf)


def tower(t, emb, pos_ids, mask, proj, pooler):
    """emb: [n,T,D] word embeddings; pos_ids [n,T]; mask [n,T] (1 valid). HF RoBERTa + OpenCLIP pooler/proj."""
    p = "text.transformer."
    x = emb + t[p + "embeddings.position_embeddings.weight"][pos_ids] + t[p + "embeddings.token_type_embeddings.weight"][0]
    x = ln(x, t[p + "embeddings.LayerNorm.weight"], t[p + "embeddings.LayerNorm.bias"])
    n, T, _ = x.shape
    ext = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
    lin = lambda y, name: y @ t[name + ".weight"].T + t[name + ".bias"]
    for l in range(L):
        b = p + "encoder.layer.%d." % l
        heads = lambda y: y.view(n, T, H, D // H).transpose(1, 2)
        q, k, v = (heads(lin(x, b + "attention.self." + s)) for s in ("query", "key", "value"))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // H) + ext, dim=-1)
        c = (a @ v).transpose(1, 2).reshape(n, T, D)
        x = ln(lin(c, b + "attention.output.dense") + x, t[b + "attention.output.LayerNorm.weight"], t[b + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, b + "intermediate.dense"))
        x = ln(lin(h, b + "output.dense") + x, t[b + "output.LayerNorm.weight"], t[b + "output.LayerNorm.bias"])
    m = mask.unsqueeze(-1).to(x.dtype)
    if pooler == "mean":
        pooled = (x * m).sum(1) / m.sum(1)
    else:
        pooled = torch.tanh(lin(x[:, 0], p + "pooler.dense"))
    if proj == "mlp":
        return gelu(pooled @ t["text.proj.0.weight"].T) @ t["text.proj.2.weight"].T
    return pooled @ t["text.proj.weight"].T


def run(name, tok, encode, V, model_type, proj, pooler, tokname):
    t = make_weights(V, proj, pooler == "cls")
    cfg = {"model_name": name, "embed_dim": E, "vision": "none", "text": "hf", "context_length": CTX,
           "vocab_size": V, "text_width": D, "text_layers": L, "text_heads": H, "text_mlp": F,
           "tokenizer": tokname, "pad_id": PAD, "sot_id": 0, "eot_id": 2, "hf_model_type": model_type,
           "hf_pooler": pooler, "hf_proj": proj, "hf_proj_hidden": (D + E) // 2, "hf_max_positions": P,
           "hf_type_vocab": 1, "ln_eps": 1e-5}
    coopfile.write_model(os.path.join(OUT, name + ".coop"), cfg, {k: v.float().numpy() for k, v in t.items()}, tok)
    # ids path (padded, mask = ids != pad; position ids = pad + cumsum(mask) * mask)
    ids = torch.tensor([encode(s) for s in TEXTS], dtype=torch.long)
    mask = (ids != PAD).long()
    pos = torch.cumsum(mask, 1) * mask + PAD
    feat = tower(t, t["text.transformer.embeddings.word_embeddings.weight"][ids], pos, mask, proj, pooler)
    # inputs_embeds path (CoOp): T positions, first eot+1 valid, the rest random (must not matter)
    g = torch.Generator().manual_seed(5)
    T = 24
    eot = torch.tensor([3, 23, 0, 10, 17, 5])
    n = len(eot)
    x = (torch.randn(n, T, D, generator=g) * 0.5).double().requires_grad_(True)
    m2 = (torch.arange(T)[None, :] <= eot[:, None]).long()
    pos2 = torch.arange(PAD + 1, T + PAD + 1)[None, :].expand(n, T)   # create_position_ids_from_inputs_embeds
    out = tower(t, x, pos2, m2, proj, pooler)
    dout = torch.randn(n, E, generator=g).double()
    (out * dout).sum().backward()
    f32 = lambda a: np.ascontiguousarray(a.detach().float().numpy())
    np.save(os.path.join(OUT, name + "_ids.npy"), ids.int().numpy())
    np.save(os.path.join(OUT, name + "_feat.npy"), f32(feat))
    np.save(os.path.join(OUT, name + "_x.npy"), f32(x))
    np.save(os.path.join(OUT, name + "_eot.npy"), eot.int().numpy())
    np.save(os.path.join(OUT, name + "_out.npy"), f32(out))
    np.save(os.path.join(OUT, name + "_dout.npy"), f32(dout))
    np.save(os.path.join(OUT, name + "_dx.npy"), f32(x.grad))
    print(name, "V", V, "ids", tuple(ids.shape), "|feat|", float(feat.abs().max()), "|dx|", float(x.grad.abs().max()))


def main():
    vocab = json.load(open(os.path.join(OUT, "vocab.json"), encoding="utf-8"))
    merges = [tuple(l.split()) for l in open(os.path.join(OUT, "merges.txt"), encoding="utf-8").read().split("\n")[1:] if l]
    ranks = {m: i for i, m in enumerate(merges)}
    bpe_tok = {"vocab.json": open(os.path.join(OUT, "vocab.json"), "rb").read(),
               "merges.txt": open(os.path.join(OUT, "merges.txt"), "rb").read()}
    model = open(os.path.join(OUT, "spm.model"), "rb").read()
    sp = spm.SentencePieceProcessor(model_proto=model)
    run("hf_roberta", bpe_tok, lambda s: rt.encode_bpe(s, vocab, ranks, CTX), len(vocab), "roberta", "mlp", "mean", "gpt2_bpe")
    run("hf_xlmr", {"sentencepiece.bpe.model": model}, lambda s: rt.encode_spm(s, sp, CTX), sp.get_piece_size() + 2,
        "xlm-roberta", "linear", "mean", "unigram")
    run("hf_cls", bpe_tok, lambda s: rt.encode_bpe(s, vocab, ranks, CTX), len(vocab), "roberta", "mlp", "cls", "gpt2_bpe")


if __name__ == "__main__":
    main()
