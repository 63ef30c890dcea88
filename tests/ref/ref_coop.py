#!/usr/bin/python3
"""PyTorch reference for CoOp (src/70_coop.h): prompt learner, loss, gradient w.r.t. the context,
PyTorch SGD and Dassl's warm-up + cosine schedule -- written from CoOp's trainers/coop.py
(PromptLearner / TextEncoder / CustomCLIP) and Dassl's optim, with a small CLIP text tower of
our own (same maths as OpenCLIP's TextTransformer: x + pos, causal pre-LN blocks, ln_final,
feature at the EOT position @ text_projection).

The image side is isolated: the "image features" are fixed random vectors, so the check covers
exactly the text path that CoOp trains.

Writes tests/fixtures/coop/:
  tiny.coop            text-only model: real CLIP BPE vocabulary (49408), width 16, 2 layers
  notext.coop          a model without a text tower (bad-input test)
  img.npy [B, E]       image features;  labels.npy [B] int32
  classnames.txt       one class name per line (as given to the prompt learner, '_' kept)
  sched.npy [E]        Dassl lr per epoch: ConstantWarmupScheduler(1 epoch, 1e-5) + CosineAnnealingLR(10)
  <case>_init.npy      initial ctx ([M, D] or [C, M, D])
  <case>_ids.npy       [C, 77] int32 tokenized prompts; <case>_x.npy [C, 77, D] prompt embeddings (step 0)
  <case>_txt.npy       [C, E] raw text features at step 0
  <case>_loss.npy      [11] losses of steps 0..9 and after the 10th update (full batch)
  <case>_grad.npy      d loss / d ctx at step 0
  <case>_ctx10.npy     ctx after 10 SGD steps
Cases: shared/csc x end/middle/front, and word init "a photo of a".
Usage: /usr/bin/python3 tests/ref/ref_coop.py [path/to/bpe_simple_vocab_16e6.txt.gz]
"""
import gzip
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from coopfile import write_model  # noqa: E402
from ref_tok_clip import ClipBPE  # noqa: E402

OUT = os.path.join(HERE, "..", "fixtures", "coop")
W, LAYERS, HEADS, MLP, E, L, V = 16, 2, 2, 64, 8, 77, 49408
CLASSES = ["cat", "red_panda", "golden retriever dog", "Faces_easy", "x"]
B = 10
STEPS, LR, MOM, WD = 10, 0.05, 0.9, 5e-4


def make_weights(g, W=W, LAYERS=LAYERS, MLP=MLP, E=E):
    """Text tower weights (OpenCLIP names); the sizes default to this file's tiny model."""
    t = {}
    n = lambda *s, std=0.02: torch.randn(*s, generator=g) * std  # noqa: E731
    t["token_embedding.weight"] = n(V, W)
    t["positional_embedding"] = n(L, W, std=0.01)
    for i in range(LAYERS):
        p = "transformer.resblocks.%d." % i
        t[p + "ln_1.weight"] = 1 + n(W, std=0.1)
        t[p + "ln_1.bias"] = n(W, std=0.1)
        t[p + "attn.in_proj_weight"] = n(3 * W, W, std=W ** -0.5)
        t[p + "attn.in_proj_bias"] = n(3 * W, std=0.1)
        t[p + "attn.out_proj.weight"] = n(W, W, std=W ** -0.5)
        t[p + "attn.out_proj.bias"] = n(W, std=0.1)
        t[p + "ln_2.weight"] = 1 + n(W, std=0.1)
        t[p + "ln_2.bias"] = n(W, std=0.1)
        t[p + "mlp.c_fc.weight"] = n(MLP, W, std=W ** -0.5)
        t[p + "mlp.c_fc.bias"] = n(MLP, std=0.1)
        t[p + "mlp.c_proj.weight"] = n(W, MLP, std=MLP ** -0.5)
        t[p + "mlp.c_proj.bias"] = n(W, std=0.1)
    t["ln_final.weight"] = 1 + n(W, std=0.1)
    t["ln_final.bias"] = n(W, std=0.1)
    t["text_projection"] = n(W, E, std=W ** -0.5)
    t["logit_scale"] = torch.tensor([math.log(1 / 0.07)])
    return t


def text_tower(t, x, eot, heads=HEADS, act="gelu"):
    """OpenCLIP TextTransformer from input embeddings. x: [C, L, W] (before pos), eot: [C].
    act: "gelu" (nn.GELU) or "quick_gelu" (x * sigmoid(1.702 x), OpenAI's models)."""
    C, T, W = x.shape
    HEADS = heads
    LAYERS = sum(1 for k in t if k.startswith("transformer.resblocks.") and k.endswith(".ln_1.weight"))
    gelu = torch.nn.functional.gelu if act == "gelu" else (lambda h: h * torch.sigmoid(1.702 * h))
    x = x + t["positional_embedding"][:T]
    mask = torch.full((T, T), float("-inf")).triu(1)
    hd = W // HEADS
    for i in range(LAYERS):
        p = "transformer.resblocks.%d." % i
        h = torch.nn.functional.layer_norm(x, (W,), t[p + "ln_1.weight"], t[p + "ln_1.bias"], 1e-5)
        qkv = h @ t[p + "attn.in_proj_weight"].T + t[p + "attn.in_proj_bias"]
        q, k, v = [a.reshape(C, T, HEADS, hd).transpose(1, 2) for a in qkv.split(W, dim=-1)]
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, dim=-1) @ v
        a = a.transpose(1, 2).reshape(C, T, W)
        x = x + a @ t[p + "attn.out_proj.weight"].T + t[p + "attn.out_proj.bias"]
        h = torch.nn.functional.layer_norm(x, (W,), t[p + "ln_2.weight"], t[p + "ln_2.bias"], 1e-5)
        h = gelu(h @ t[p + "mlp.c_fc.weight"].T + t[p + "mlp.c_fc.bias"])
        x = x + h @ t[p + "mlp.c_proj.weight"].T + t[p + "mlp.c_proj.bias"]
    x = torch.nn.functional.layer_norm(x, (W,), t["ln_final.weight"], t["ln_final.bias"], 1e-5)
    return x[torch.arange(C), eot] @ t["text_projection"]


class PromptLearner:
    """CoOp's PromptLearner (trainers/coop.py), same slicing: prefix = SOT row, suffix = rows
    after the n_ctx placeholders (class tokens, '.', EOT, padding)."""

    def __init__(self, tok, t, classnames, n_ctx, csc, ctp, ctx_init, g):
        emb = t["token_embedding.weight"]
        if ctx_init:
            ctx_init = ctx_init.replace("_", " ")
            ids = tok.tokenize(ctx_init)
            n_ctx = ids.index(tok.eot) - 1          # tokens (= words for CoOp's usual inits)
            ctx = emb[torch.tensor(ids)][1:1 + n_ctx].clone()
            if csc:                                 # our choice: every class starts from the words
                ctx = ctx.unsqueeze(0).repeat(len(classnames), 1, 1)
            prefix_text = ctx_init
        else:
            w = emb.shape[1]
            shape = (len(classnames), n_ctx, w) if csc else (n_ctx, w)
            ctx = torch.randn(*shape, generator=g) * 0.02
            prefix_text = " ".join(["X"] * n_ctx)
        names = [c.replace("_", " ") for c in classnames]
        self.name_lens = [len(tok.encode(nm)) for nm in names]
        prompts = [prefix_text + " " + nm + "." for nm in names]
        self.ids = torch.tensor([tok.tokenize(p) for p in prompts], dtype=torch.int64)
        e = emb[self.ids]
        self.prefix, self.suffix = e[:, :1], e[:, 1 + n_ctx:]
        self.eot = self.ids.argmax(dim=-1)
        self.n_ctx, self.ctp = n_ctx, ctp
        self.ctx = ctx.clone().requires_grad_(True)

    def prompts(self):
        ctx, C = self.ctx, self.prefix.shape[0]
        if ctx.dim() == 2:
            ctx = ctx.unsqueeze(0).expand(C, -1, -1)
        if self.ctp == "end":
            return torch.cat([self.prefix, ctx, self.suffix], dim=1)
        rows, half = [], self.n_ctx // 2
        for i in range(C):
            nl = self.name_lens[i]
            pre, cls, suf = self.prefix[i:i + 1], self.suffix[i:i + 1, :nl], self.suffix[i:i + 1, nl:]
            if self.ctp == "middle":
                rows.append(torch.cat([pre, ctx[i:i + 1, :half], cls, ctx[i:i + 1, half:], suf], dim=1))
            else:
                rows.append(torch.cat([pre, cls, ctx[i:i + 1], suf], dim=1))
        return torch.cat(rows, dim=0)


def loss_of(t, pl, img, labels, heads=HEADS, act="gelu"):
    txt = text_tower(t, pl.prompts(), pl.eot, heads, act)
    i = img / img.norm(dim=-1, keepdim=True)
    tn = txt / txt.norm(dim=-1, keepdim=True)
    logits = t["logit_scale"].exp() * i @ tn.T
    return torch.nn.functional.cross_entropy(logits, labels), txt


def dassl_schedule(base_lr, max_epoch, warmup, cons_lr):
    """lr of each epoch, from torch's CosineAnnealingLR wrapped as Dassl's ConstantWarmupScheduler
    does: during warm-up the constant lr; afterwards the successor is stepped once per epoch."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, float(max_epoch))
    lrs, last = [], 0
    for epoch in range(max_epoch):
        lrs.append(cons_lr if epoch < warmup else opt.param_groups[0]["lr"])
        # Dassl's step(): successor steps only once last_epoch >= warmup_epoch
        if last >= warmup:
            cos.step()
        last += 1
    return np.array(lrs, dtype=np.float32)


def main():
    gz = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data",
                                                             "bpe_simple_vocab_16e6.txt.gz")
    tok = ClipBPE(gz)
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    t = make_weights(g)
    cfg = {"model_name": "tiny-coop", "pretrained": "test", "embed_dim": E, "vision": "none",
           "text": "clip", "context_length": L, "vocab_size": V, "text_width": W, "text_layers": LAYERS,
           "text_heads": HEADS, "text_mlp": MLP, "text_act": "gelu", "tokenizer": "clip_bpe",
           "pad_id": 0, "sot_id": tok.sot, "eot_id": tok.eot}
    vocab = gzip.open(gz).read()
    write_model(os.path.join(OUT, "tiny.coop"), cfg, {k: v.numpy() for k, v in t.items()}, {"clip_bpe": vocab})
    cfg2 = dict(cfg, text="none", tokenizer="none", vision="vit", image_size=32, vision_width=8, vision_layers=1,
                vision_heads=2, vision_patch=16, vision_mlp=16, vision_act="gelu")
    write_model(os.path.join(OUT, "notext.coop"), cfg2, {"logit_scale": t["logit_scale"].numpy()})
    img = torch.randn(B, E, generator=g)
    labels = torch.tensor([i % len(CLASSES) for i in range(B)])
    np.save(os.path.join(OUT, "img.npy"), img.numpy())
    np.save(os.path.join(OUT, "labels.npy"), labels.numpy().astype(np.int32))
    with open(os.path.join(OUT, "classnames.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")
    np.save(os.path.join(OUT, "sched.npy"), dassl_schedule(0.002, 10, 1, 1e-5))
    cases = [("shared_end", 4, 0, "end", None), ("shared_middle", 5, 0, "middle", None),
             ("shared_front", 4, 0, "front", None), ("csc_end", 3, 1, "end", None),
             ("csc_middle", 4, 1, "middle", None), ("csc_front", 2, 1, "front", None),
             ("init_end", 0, 0, "end", "a photo of a"), ("init_middle", 0, 0, "middle", "a_photo of a")]
    for name, n_ctx, csc, ctp, init in cases:
        pl = PromptLearner(tok, t, CLASSES, n_ctx, csc, ctp, init, g)
        np.save(os.path.join(OUT, name + "_init.npy"), pl.ctx.detach().numpy())
        np.save(os.path.join(OUT, name + "_ids.npy"), pl.ids.numpy().astype(np.int32))
        np.save(os.path.join(OUT, name + "_x.npy"), pl.prompts().detach().numpy())
        opt = torch.optim.SGD([pl.ctx], lr=LR, momentum=MOM, weight_decay=WD, dampening=0, nesterov=False)
        losses = []
        for step in range(STEPS + 1):
            opt.zero_grad()
            loss, txt = loss_of(t, pl, img, labels)
            losses.append(loss.item())
            if step == STEPS:
                break
            loss.backward()
            if step == 0:
                np.save(os.path.join(OUT, name + "_grad.npy"), pl.ctx.grad.numpy())
                np.save(os.path.join(OUT, name + "_txt.npy"), txt.detach().numpy())
            opt.step()
        np.save(os.path.join(OUT, name + "_loss.npy"), np.array(losses, dtype=np.float32))
        np.save(os.path.join(OUT, name + "_ctx10.npy"), pl.ctx.detach().numpy())
        print("%-14s n_ctx %d loss %.6f -> %.6f  |grad| %.3g" % (name, pl.n_ctx, losses[0], losses[-1],
                                                               np.abs(np.load(os.path.join(OUT, name + "_grad.npy"))).max()))


if __name__ == "__main__":
    main()
