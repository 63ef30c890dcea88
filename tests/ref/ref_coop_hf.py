#!/usr/bin/python3
"""PyTorch reference for CoOp on a Hugging Face text tower (RoBERTa, as in roberta-ViT-B-32):
the same checks as ref_coop.py (d loss / d ctx at step 0, a 10-step full-batch SGD trajectory)
for coop.h's trainer on tests/fixtures/hf/hf_roberta.coop.

Everything is taken from the model file itself: the weights (read below, f32 -> float64), the
config, and the GPT-2 BPE tokenizer sections (vocab.json, merges.txt), which are tokenised with
our Python reference of HF's byte-level BPE (ref_tok_hf.encode_bpe). The tower is ref_hftext's
padded RoBERTa (ref_hftext.tower): CoOp feeds inputs_embeds [C, 77, D] (the <pad> embedding in
the padding rows), position ids pad+1+t (create_position_ids_from_inputs_embeds), token type 0,
embedding LayerNorm, attention_mask = 1 up to </s>, OpenCLIP's mean pooler and mlp projection.
Computed in float64, so the C side (fp32) is compared with the exact answer.

Prompts (CoOp's PromptLearner, as coop.h builds them): the text "<ctx words> <name>." ('_' in
names and init words read as spaces) is tokenised; row 0 (<s>) is the prefix, the M rows after
it are replaced by the learned context, the rest (class tokens, '.', </s>, padding) is the
suffix. The class-token count is counted in context (tokens of the prompt minus those of
"<ctx words>."): with GPT-2 BPE " red" and "red" are different tokens, so CoOp's len(encode(name))
would be wrong here. Middle: [<s>][ctx :M/2][class][ctx M/2:][. </s>]; front: [<s>][class][ctx].

The context words are always "a photo of a" (M = 4): the tiny vocabulary has no single token for
" X", so CoOp's "X X X X" placeholder prefix would not give M tokens (coop.h then picks another
single-token placeholder; test_hftext checks that path against shared_end). Only the init_end
case starts from the words' embeddings; the others load a random N(0, 0.02) context.

Loss: logits = exp(logit_scale) * normalize(img) @ normalize(txt).T, mean cross entropy over
fixed random image features img [B, E]; optimizer torch.optim.SGD(lr 0.002 constant, momentum
0.9, weight decay 5e-4, dampening 0, no nesterov) for 10 full-batch steps.

Writes tests/fixtures/coop_hf/:
  img.npy [B, E], labels.npy [B] int32, classnames.txt (one per line, '_' kept)
  <case>_init.npy   initial ctx ([M, D] or [C, M, D]), float32
  <case>_ids.npy    [C, 77] int32 tokenised prompts
  <case>_x.npy      [C, T, D] prompt embeddings at step 0, T = max </s> index + 1
  <case>_txt.npy    [C, E] raw text features at step 0
  <case>_grad.npy   d loss / d ctx at step 0
  <case>_loss.npy   [11] losses of steps 0..9 and after the 10th update
  <case>_ctx10.npy  ctx after 10 SGD steps
Cases: init_end (word init), shared_end, csc_end, shared_middle, csc_front.
Usage: /usr/bin/python3 tests/ref/ref_coop_hf.py   (after ref_tok_hf.py and ref_hftext.py)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ref_hftext as rh  # noqa: E402
import ref_tok_hf as rt  # noqa: E402

MODEL = os.path.join(HERE, "..", "fixtures", "hf", "hf_roberta.coop")
OUT = os.path.join(HERE, "..", "fixtures", "coop_hf")
CLASSES = ["cat", "red_panda", "crème brûlée", "Straße_in München", "一只狗"]
B = 10
STEPS, LR, MOM, WD = 10, 0.002, 0.9, 5e-4
CTX_WORDS = "a photo of a"


def read_model(path):
    """coop.h model file -> (config dict of strings, tokenizer sections, float64 tensors).
    Layout as coopfile.write_model writes it (only f32 tensors are needed here)."""
    buf = open(path, "rb").read()
    magic, ver, nt, size, co, cl, to, tl, tab = struct.unpack_from("<8sIIQQQQQQ", buf, 0)
    assert magic == b"COOPMODL" and ver == 1 and size == len(buf), path
    cfg = dict(line.split(" ", 1) for line in buf[co:co + cl].decode().splitlines() if line)
    tok, o = {}, to
    while o < to + tl:
        (n,) = struct.unpack_from("<I", buf, o)
        name = buf[o + 4:o + 4 + n].decode()
        (ln,) = struct.unpack_from("<Q", buf, o + 4 + n)
        tok[name] = buf[o + 12 + n:o + 12 + n + ln]
        o += 12 + n + ln
        o += -o % 8
    tensors = {}
    for i in range(nt):
        name, dt, nd, s0, s1, s2, s3, off, nb = struct.unpack_from("<80sII4IQQ", buf, tab + 128 * i)
        assert dt == 0, "f32 tensors only"
        shape = (s0, s1, s2, s3)[:nd]
        a = np.frombuffer(buf, dtype="<f4", count=nb // 4, offset=off).reshape(shape)
        tensors[name.rstrip(b"\0").decode()] = torch.from_numpy(a.astype(np.float64))
    return cfg, tok, tensors


class HFPromptLearner:
    """CoOp's PromptLearner on HF ids: prefix = <s> row, M context rows, suffix = the rest."""

    def __init__(self, encode, emb, classnames, ctx_words, csc, ctp, init):
        self.n_ctx = encode(ctx_words.replace("_", " ")).index(2) - 1
        words = ctx_words.replace("_", " ")
        e0 = encode(words + ".").index(2)                      # </s> index of "<ctx words>."
        prompts = [words + " " + c.replace("_", " ") + "." for c in classnames]
        self.ids = torch.tensor([encode(p) for p in prompts], dtype=torch.int64)
        self.eot = torch.tensor([list(r).index(2) for r in self.ids.tolist()])
        self.name_lens = [int(e) - e0 for e in self.eot]
        e = emb[self.ids]                                      # [C, 77, D], <pad> rows included
        self.prefix, self.suffix = e[:, :1], e[:, 1 + self.n_ctx:]
        self.ctp = ctp
        if init is None:                                       # the words' token embeddings
            init = e[0, 1:1 + self.n_ctx].clone()
            if csc:
                init = init.unsqueeze(0).repeat(len(classnames), 1, 1)
        self.ctx = init.clone().requires_grad_(True)

    def prompts(self):
        ctx, C, M = self.ctx, self.prefix.shape[0], self.n_ctx
        if ctx.dim() == 2:
            ctx = ctx.unsqueeze(0).expand(C, -1, -1)
        if self.ctp == "end":
            return torch.cat([self.prefix, ctx, self.suffix], dim=1)
        rows, h = [], M // 2
        for i in range(C):
            nl = self.name_lens[i]
            pre, cls, suf = self.prefix[i:i + 1], self.suffix[i:i + 1, :nl], self.suffix[i:i + 1, nl:]
            if self.ctp == "middle":
                rows.append(torch.cat([pre, ctx[i:i + 1, :h], cls, ctx[i:i + 1, h:], suf], dim=1))
            else:
                rows.append(torch.cat([pre, cls, ctx[i:i + 1], suf], dim=1))
        return torch.cat(rows, dim=0)


def text_features(t, cfg, pl):
    x = pl.prompts()
    C, T, _ = x.shape
    pad = int(cfg["pad_id"])
    pos = torch.arange(pad + 1, pad + 1 + T)[None, :].expand(C, T)
    mask = (torch.arange(T)[None, :] <= pl.eot[:, None]).long()
    return rh.tower(t, x, pos, mask, cfg["hf_proj"], cfg["hf_pooler"]), x


def loss_of(t, cfg, pl, img, labels):
    txt, x = text_features(t, cfg, pl)
    i = img / img.norm(dim=-1, keepdim=True)
    tn = txt / txt.norm(dim=-1, keepdim=True)
    logits = t["logit_scale"].exp() * i @ tn.T
    return torch.nn.functional.cross_entropy(logits, labels), txt, x


def main():
    cfg, tok, t = read_model(MODEL)
    D, E, L = int(cfg["text_width"]), int(cfg["embed_dim"]), int(cfg["context_length"])
    # ref_hftext.tower reads its sizes from module constants: they must be this file's
    assert (D, int(cfg["text_layers"]), int(cfg["text_heads"]), float(cfg["ln_eps"])) == (rh.D, rh.L, rh.H, 1e-5)
    assert cfg["tokenizer"] == "gpt2_bpe" and cfg["hf_pooler"] == "mean" and int(cfg["pad_id"]) == 1
    vocab = json.loads(tok["vocab.json"].decode("utf-8"))
    merges = [tuple(l.split()) for l in tok["merges.txt"].decode("utf-8").split("\n")[1:] if l]
    ranks = {m: i for i, m in enumerate(merges)}
    encode = lambda s: rt.encode_bpe(s, vocab, ranks, L)  # noqa: E731
    emb = t["text.transformer.embeddings.word_embeddings.weight"]

    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(11)
    img = torch.randn(B, E, generator=g).double()
    labels = torch.tensor([i % len(CLASSES) for i in range(B)])
    f32 = lambda a: np.ascontiguousarray(a.detach().float().numpy())  # noqa: E731
    np.save(os.path.join(OUT, "img.npy"), f32(img))
    np.save(os.path.join(OUT, "labels.npy"), labels.numpy().astype(np.int32))
    with open(os.path.join(OUT, "classnames.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(CLASSES) + "\n")
    cases = [("init_end", 0, "end", CTX_WORDS, False), ("shared_end", 0, "end", "a_photo of a", True),
             ("csc_end", 1, "end", CTX_WORDS, True), ("shared_middle", 0, "middle", CTX_WORDS, True),
             ("csc_front", 1, "front", CTX_WORDS, True)]
    for name, csc, ctp, words, rand in cases:
        init = None
        if rand:
            M = encode(words.replace("_", " ")).index(2) - 1
            shape = (len(CLASSES), M, D) if csc else (M, D)
            # stored as float32: the reference starts from exactly the values the C test loads
            init = (torch.randn(*shape, generator=g) * 0.02).float().double()
        pl = HFPromptLearner(encode, emb, CLASSES, words, csc, ctp, init)
        T = int(pl.eot.max()) + 1
        np.save(os.path.join(OUT, name + "_init.npy"), f32(pl.ctx))
        np.save(os.path.join(OUT, name + "_ids.npy"), pl.ids.numpy().astype(np.int32))
        opt = torch.optim.SGD([pl.ctx], lr=LR, momentum=MOM, weight_decay=WD, dampening=0, nesterov=False)
        losses = []
        for step in range(STEPS + 1):
            opt.zero_grad()
            loss, txt, x = loss_of(t, cfg, pl, img, labels)
            losses.append(loss.item())
            if step == STEPS:
                break
            loss.backward()
            if step == 0:
                grad = pl.ctx.grad.clone()
                np.save(os.path.join(OUT, name + "_grad.npy"), f32(grad))
                np.save(os.path.join(OUT, name + "_txt.npy"), f32(txt))
                np.save(os.path.join(OUT, name + "_x.npy"), f32(x[:, :T]))
            opt.step()
        np.save(os.path.join(OUT, name + "_loss.npy"), np.array(losses, dtype=np.float32))
        np.save(os.path.join(OUT, name + "_ctx10.npy"), f32(pl.ctx))
        move = (pl.ctx.detach() - torch.from_numpy(np.load(os.path.join(OUT, name + "_init.npy"))).double()).abs().max()
        print("%-14s M %d T %2d name tokens %s  loss %.6f -> %.6f  |grad| %.3g  |ctx10 - init| %.3g"
              % (name, pl.n_ctx, T, pl.name_lens, losses[0], losses[-1], grad.abs().max(), move))


if __name__ == "__main__":
    main()
