"""PyTorch reference of OpenCLIP's ViT image tower and CLIP text tower, for coop.h's tests.

Written for this project from OpenCLIP's model definitions (model.py / transformer.py:
VisionTransformer, ResidualAttentionBlock with nn.MultiheadAttention semantics, the text
tower's causal mask, EOT = argmax of ids, x @ text_projection). It builds a tiny model with
trained-CLIP-like statistics (peaked attention, non-trivial layernorm gains), writes it as
tests/fixtures/clip/tiny.coop (+ a bf16 copy) and the inputs / expected outputs:

  pixels.npy [4,3,32,32] -> image.npy [4,E]          ids.npy [6,77] -> text.npy [6,E]
  emb_x.npy [5,T,D], emb_eot.npy [5], emb_shared (int) -> emb_out.npy [5,E]
  emb_dout.npy [5,E] -> emb_dx.npy [5,T,D] (autograd through the full 77-position tower)

The vision tower uses GELU and the text tower QuickGELU so that one file covers both.
Run: /usr/bin/python3 tests/ref/ref_clip.py   (needs torch; CI only reads the fixtures)
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from coopfile import round_weights, write_model  # noqa: E402

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "clip")
V, CTX = 49408, 77
VW, VL, VH, PATCH, SIZE = 64, 2, 4, 8, 32
TW, TL, TH = 32, 3, 4
E = 24


def act_fn(name):
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    return lambda x: torch.nn.functional.gelu(x)


def block(x, w, pre, heads, act, mask=None):
    """OpenCLIP ResidualAttentionBlock on x [B, T, D]."""
    B, T, D = x.shape
    hd = D // heads
    ln = torch.nn.functional.layer_norm
    h = ln(x, (D,), w[pre + "ln_1.weight"], w[pre + "ln_1.bias"], 1e-5)
    qkv = h @ w[pre + "attn.in_proj_weight"].t() + w[pre + "attn.in_proj_bias"]
    q, k, v = qkv.split(D, dim=-1)
    q = q.reshape(B, T, heads, hd).transpose(1, 2)
    k = k.reshape(B, T, heads, hd).transpose(1, 2)
    v = v.reshape(B, T, heads, hd).transpose(1, 2)
    s = q @ k.transpose(-1, -2) / hd ** 0.5
    if mask is not None:
        s = s + mask
    p = s.softmax(-1)
    a = (p @ v).transpose(1, 2).reshape(B, T, D)
    x = x + a @ w[pre + "attn.out_proj.weight"].t() + w[pre + "attn.out_proj.bias"]
    h = ln(x, (D,), w[pre + "ln_2.weight"], w[pre + "ln_2.bias"], 1e-5)
    h = act(h @ w[pre + "mlp.c_fc.weight"].t() + w[pre + "mlp.c_fc.bias"])
    return x + h @ w[pre + "mlp.c_proj.weight"].t() + w[pre + "mlp.c_proj.bias"], p


def encode_image(w, px):
    ln = torch.nn.functional.layer_norm
    x = torch.nn.functional.conv2d(px, w["visual.conv1.weight"], stride=PATCH)   # [B, W, G, G]
    x = x.flatten(2).transpose(1, 2)
    cls = w["visual.class_embedding"].expand(x.shape[0], 1, -1)
    x = torch.cat([cls, x], 1) + w["visual.positional_embedding"]
    x = ln(x, (VW,), w["visual.ln_pre.weight"], w["visual.ln_pre.bias"], 1e-5)
    peak = []
    for i in range(VL):
        x, p = block(x, w, "visual.transformer.resblocks.%d." % i, VH, act_fn("gelu"))
        peak.append(p.max(-1).values.mean().item())
    x = ln(x[:, 0], (VW,), w["visual.ln_post.weight"], w["visual.ln_post.bias"], 1e-5)
    return x @ w["visual.proj"], peak


def text_from_embeds(w, x, eot):
    """x [B, 77, D] token embeddings (all 77 positions), eot [B] -> features [B, E]"""
    ln = torch.nn.functional.layer_norm
    mask = torch.full((CTX, CTX), float("-inf")).triu(1)
    x = x + w["positional_embedding"]
    peak = []
    for i in range(TL):
        x, p = block(x, w, "transformer.resblocks.%d." % i, TH, act_fn("quick_gelu"), mask)
        peak.append(p.max(-1).values.mean().item())
    x = ln(x, (TW,), w["ln_final.weight"], w["ln_final.bias"], 1e-5)
    return x[torch.arange(x.shape[0]), eot] @ w["text_projection"], peak


def make_weights():
    g = torch.Generator().manual_seed(1)

    def rn(*shape, std=1.0, mean=0.0):
        return torch.randn(*shape, generator=g) * std + mean

    w = {}

    def blocks(prefix, D, L):
        for i in range(L):
            p = "%s.resblocks.%d." % (prefix, i)
            w[p + "ln_1.weight"] = rn(D, std=0.25, mean=1.0)
            w[p + "ln_1.bias"] = rn(D, std=0.1)
            inw = rn(3 * D, D, std=D ** -0.5)
            inw[: 2 * D] *= 2.5          # q and k larger than at init: peaked attention, as trained CLIP
            w[p + "attn.in_proj_weight"] = inw
            w[p + "attn.in_proj_bias"] = rn(3 * D, std=0.1)
            w[p + "attn.out_proj.weight"] = rn(D, D, std=D ** -0.5)
            w[p + "attn.out_proj.bias"] = rn(D, std=0.05)
            w[p + "ln_2.weight"] = rn(D, std=0.25, mean=1.0)
            w[p + "ln_2.bias"] = rn(D, std=0.1)
            w[p + "mlp.c_fc.weight"] = rn(4 * D, D, std=D ** -0.5)
            w[p + "mlp.c_fc.bias"] = rn(4 * D, std=0.2)
            w[p + "mlp.c_proj.weight"] = rn(D, 4 * D, std=(4 * D) ** -0.5)
            w[p + "mlp.c_proj.bias"] = rn(D, std=0.05)

    G = SIZE // PATCH
    w["visual.conv1.weight"] = rn(VW, 3, PATCH, PATCH, std=(3 * PATCH * PATCH) ** -0.5)
    w["visual.class_embedding"] = rn(VW, std=0.5)
    w["visual.positional_embedding"] = rn(G * G + 1, VW, std=0.3)
    w["visual.ln_pre.weight"] = rn(VW, std=0.25, mean=1.0)
    w["visual.ln_pre.bias"] = rn(VW, std=0.1)
    blocks("visual.transformer", VW, VL)
    w["visual.ln_post.weight"] = rn(VW, std=0.25, mean=1.0)
    w["visual.ln_post.bias"] = rn(VW, std=0.1)
    w["visual.proj"] = rn(VW, E, std=VW ** -0.5)
    w["token_embedding.weight"] = rn(V, TW, std=0.3)
    w["positional_embedding"] = rn(CTX, TW, std=0.1)
    blocks("transformer", TW, TL)
    w["ln_final.weight"] = rn(TW, std=0.25, mean=1.0)
    w["ln_final.bias"] = rn(TW, std=0.1)
    w["text_projection"] = rn(TW, E, std=TW ** -0.5)
    w["logit_scale"] = torch.tensor([np.log(1 / 0.07)], dtype=torch.float32)
    # the token embedding is stored as f16 (keeps the fixture small): compute with those values
    w["token_embedding.weight"] = torch.from_numpy(round_weights(w["token_embedding.weight"].numpy(), "f16"))
    return w


def config():
    return {"model_name": "tiny-vit", "pretrained": "test", "embed_dim": E, "vision": "vit",
            "image_size": SIZE, "vision_width": VW, "vision_layers": VL, "vision_heads": VH,
            "vision_patch": PATCH, "vision_mlp": 4 * VW, "vision_act": "gelu", "text": "clip",
            "context_length": CTX, "vocab_size": V, "text_width": TW, "text_layers": TL,
            "text_heads": TH, "text_mlp": 4 * TW, "text_act": "quick_gelu", "tokenizer": "clip_bpe",
            "pad_id": 0, "sot_id": 49406, "eot_id": 49407}


def main():
    os.makedirs(OUT, exist_ok=True)
    w = make_weights()
    np_w = {k: v.numpy() for k, v in w.items()}
    dt = {k: ("f16" if k == "token_embedding.weight" else "f32") for k in np_w}
    write_model(os.path.join(OUT, "tiny.coop"), config(), np_w, {}, dtype=dt)
    write_model(os.path.join(OUT, "tiny_bf16.coop"), config(), np_w, {}, dtype="bf16")
    torch.set_grad_enabled(False)
    g = torch.Generator().manual_seed(2)
    px = torch.randn(4, 3, SIZE, SIZE, generator=g)
    img, peak = encode_image(w, px)
    print("vision: mean max attention prob per layer", ["%.2f" % p for p in peak])
    ids = torch.zeros(6, CTX, dtype=torch.int64)
    lens = [1, 3, 7, 12, 30, 75]                 # tokens between SOT and EOT
    for i, n in enumerate(lens):
        ids[i, 0] = 49406
        ids[i, 1:1 + n] = torch.randint(1, 49406, (n,), generator=g)
        ids[i, 1 + n] = 49407
    emb = w["token_embedding.weight"][ids]
    txt, peak = text_from_embeds(w, emb, ids.argmax(-1))
    print("text: mean max attention prob per layer", ["%.2f" % p for p in peak])
    # CoOp-like embeds: 5 prompts sharing SOT + 4 context rows, then class rows, '.', EOT
    n, P = 5, 5
    eot = torch.tensor([7, 9, 6, 11, 8])
    T = int(eot.max()) + 1
    x = torch.randn(n, CTX, TW, generator=g) * 0.3        # rows past EOT: arbitrary, must not matter
    x[:, :P] = x[0, :P]
    dout = torch.randn(n, E, generator=g)
    with torch.enable_grad():
        xg = x.clone().requires_grad_(True)
        out, _ = text_from_embeds(w, xg, eot)
        (out * dout).sum().backward()
    np.save(os.path.join(OUT, "pixels.npy"), px.numpy())
    np.save(os.path.join(OUT, "image.npy"), img.numpy())
    np.save(os.path.join(OUT, "ids.npy"), ids.numpy().astype(np.int32))
    np.save(os.path.join(OUT, "text.npy"), txt.numpy())
    np.save(os.path.join(OUT, "emb_x.npy"), x[:, :T].numpy())
    np.save(os.path.join(OUT, "emb_eot.npy"), eot.numpy().astype(np.int32))
    np.save(os.path.join(OUT, "emb_out.npy"), out.detach().numpy())
    np.save(os.path.join(OUT, "emb_dout.npy"), dout.numpy())
    np.save(os.path.join(OUT, "emb_dx.npy"), xg.grad[:, :T].numpy())
    print("rows past EOT have zero gradient:", bool((xg.grad[:, T:] == 0).all()))
    write_demo_checkpoint(w)


def write_demo_checkpoint(w):
    """The same weights as an OpenCLIP-style checkpoint (fp16 safetensors + open_clip_config.json),
    which `make demo` converts with build/convert. Random weights: a demonstration only."""
    import json
    from make_checkpoints import save_safetensors
    sd = {k: v for k, v in w.items()}
    save_safetensors(os.path.join(OUT, "demo.safetensors"), sd, lambda n: "F16")
    cfg = {"model_cfg": {"embed_dim": E, "quick_gelu": False,
                         "vision_cfg": {"image_size": SIZE, "layers": VL, "width": VW, "patch_size": PATCH,
                                        "head_width": VW // VH, "mlp_ratio": 4.0},
                         "text_cfg": {"context_length": CTX, "vocab_size": V, "width": TW, "heads": TH,
                                      "layers": TL}}}
    with open(os.path.join(OUT, "demo_open_clip_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


if __name__ == "__main__":
    main()
