"""Fixtures for tools/convert.c (run with /usr/bin/python3; CI never runs this).

Builds two tiny CLIP-like models with OpenCLIP state-dict names -- a ViT one and a
ModifiedResNet one (with realistic BatchNorm running statistics) -- and saves each the three
ways users download them:
  *.safetensors   safetensors, written by hand (8-byte header length, JSON header, data)
  *.bin           torch.save zip archive (the ViT one a plain state dict with a non-contiguous
                  and an offset view; the ResNet one a {"state_dict": {"module."...}} checkpoint)
  *.pt            TorchScript archive (torch.jit.script + torch.jit.save of modules with the same
                  submodule names, conv/linear weights in fp16 like OpenAI's releases)
plus open_clip_config.json files, a tiny gzipped BPE vocabulary, broken checkpoints for the
error tests, and the expected converted models (*_expected.coop, written with coopfile.py,
BatchNorm folded here in float64) that tests/test_convert.c compares against.
All weights are rounded to fp16 first so the fp16 TorchScript copy holds the same values.
"""
import collections
import gzip
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import coopfile  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "fixtures", "ckpt")
VOCAB_GZ = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data",
                        "bpe_simple_vocab_16e6.txt.gz")
MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]

torch.manual_seed(0)


# ---- modules with OpenCLIP / OpenAI names ----------------------------------------------------
class Block(nn.Module):
    def __init__(self, d, mlp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, d // 64)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(collections.OrderedDict(
            [("c_fc", nn.Linear(d, mlp)), ("gelu", nn.GELU()), ("c_proj", nn.Linear(mlp, d))]))

    def forward(self, x):
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, d, layers, mlp):
        super().__init__()
        self.resblocks = nn.Sequential(*[Block(d, mlp) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class ViT(nn.Module):
    def __init__(self, image, patch, width, layers, embed, mlp_ratio=1):
        super().__init__()
        g = image // patch
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width))
        self.positional_embedding = nn.Parameter(torch.randn(g * g + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, mlp_ratio * width)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, embed))

    def forward(self, x):
        return self.conv1(x)


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(collections.OrderedDict(
                [("-1", nn.AvgPool2d(stride)), ("0", nn.Conv2d(inplanes, planes * 4, 1, bias=False)),
                 ("1", nn.BatchNorm2d(planes * 4))]))

    def forward(self, x):
        return self.bn3(self.conv3(self.bn2(self.conv2(self.bn1(self.conv1(x))))))


class AttnPool(nn.Module):
    def __init__(self, grid, dim, out):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, dim))
        self.k_proj = nn.Linear(dim, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.c_proj = nn.Linear(dim, out)

    def forward(self, x):
        return self.c_proj(x)


class ResNet(nn.Module):
    def __init__(self, layers, width, image, embed):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        inpl = width
        for i, n in enumerate(layers):
            planes = width * 2 ** i
            blocks = [Bottleneck(inpl, planes, 1 if i == 0 else 2)]
            inpl = planes * 4
            blocks += [Bottleneck(inpl, planes, 1) for _ in range(1, n)]
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        self.attnpool = AttnPool(image // 32, width * 32, embed)

    def forward(self, x):
        return self.bn1(self.conv1(x))


class CLIP(nn.Module):
    def __init__(self, visual, ctx, vocab, width, layers, embed, mlp_ratio=1):
        super().__init__()
        self.visual = visual
        self.transformer = Transformer(width, layers, mlp_ratio * width)
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.randn(ctx, width))
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.randn(width, embed))
        self.logit_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))
        self.register_buffer("attn_mask", torch.full((ctx, ctx), float("-inf")).triu(1))

    def forward(self, x):
        return self.visual(x)


def randomise(model):
    """Realistic magnitudes, every value representable in fp16."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("logit_scale"):
                continue
            if ".bn" in name or "downsample.1" in name or "ln" in name:
                base = 1.0 if name.endswith("weight") else 0.0
                p.copy_(base + 0.1 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / max(1, p.shape[-1]) ** 0.5)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.2 * torch.randn_like(b))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand_like(b) * 1.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(1234)
        for t in list(model.parameters()) + list(model.buffers()):
            if t.dtype == torch.float32:
                t.copy_(t.half().float())


# ---- writers ----------------------------------------------------------------------------------
def save_safetensors(path, sd, dtype_of=lambda name: "F32"):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in sd.items():
        a = t.detach().float().numpy()
        dt = dtype_of(name)
        if dt == "I64":
            b = t.numpy().astype("<i8").tobytes()
        elif dt == "F32":
            b = a.astype("<f4").tobytes()
        elif dt == "F16":
            b = a.astype("<f2").tobytes()
        else:
            b = np.frombuffer(coopfile._to_dtype(a, "bf16"), dtype=np.uint8).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def openai_half(model):
    """What OpenAI's convert_weights does: conv/linear/attention weights and projections to fp16."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.weight.data = m.weight.data.half()
            if m.bias is not None:
                m.bias.data = m.bias.data.half()
        if isinstance(m, nn.MultiheadAttention):
            for a in ["in_proj_weight", "in_proj_bias"]:
                getattr(m, a).data = getattr(m, a).data.half()
            m.out_proj.weight.data = m.out_proj.weight.data.half()
            m.out_proj.bias.data = m.out_proj.bias.data.half()
        for a in ["text_projection", "proj"]:
            if hasattr(m, a) and isinstance(getattr(m, a), nn.Parameter):
                getattr(m, a).data = getattr(m, a).data.half()


def save_torchscript(path, model, trace_input=None):
    """torch.jit.script, or torch.jit.trace (as OpenAI's releases were made) when given an input;
    the traced module's conv/linear/attention weights are then made fp16 in place."""
    import copy
    m = copy.deepcopy(model)
    if trace_input is None:
        openai_half(m)
        torch.jit.save(torch.jit.script(m), path)
        return
    h = copy.deepcopy(model)
    openai_half(h)
    half = {n for n, p in h.named_parameters() if p.dtype == torch.float16}
    t = torch.jit.trace(m, trace_input)
    for n, p in t.named_parameters():
        if n in half:
            p.data = p.data.half()
    torch.jit.save(t, path)


# ---- expected conversion ----------------------------------------------------------------------
def fold_bn(sd, conv, bn, eps=1e-5):
    w = sd[conv + ".weight"].double().numpy()
    g, b = sd[bn + ".weight"].double().numpy(), sd[bn + ".bias"].double().numpy()
    mu, var = sd[bn + ".running_mean"].double().numpy(), sd[bn + ".running_var"].double().numpy()
    s = g / np.sqrt(var + eps)
    return (w * s[:, None, None, None]).astype(np.float32), (b - mu * s).astype(np.float32)


def expected_tensors(sd, resnet):
    out = {}
    for k, v in sd.items():
        if k == "attn_mask" or k.endswith("num_batches_tracked"):
            continue
        if resnet and k.startswith("visual.") and (".bn" in k or "downsample.1" in k):
            continue
        out[k] = v.detach().float().numpy().reshape(v.shape if v.dim() else (1,))
    if resnet:
        convs = [("visual.conv%d" % i, "visual.bn%d" % i) for i in (1, 2, 3)]
        for k in sd:
            if k.startswith("visual.layer") and k.endswith(".weight") and (".conv" in k or "downsample.0" in k):
                c = k[:-len(".weight")]
                convs.append((c, c.replace("conv", "bn") if ".conv" in c else c[:-1] + "1"))
        for c, b in convs:
            out[c + ".weight"], out[c + ".bias"] = fold_bn(sd, c, b)
    return out


def write_expected(path, model, cfg, sd, resnet, vocab_text):
    t = expected_tensors(sd, resnet)
    coopfile.write_model(path, cfg, t, {"clip_bpe": vocab_text}, "f32")


def base_cfg(name, embed, ctx, vocab, width, layers):
    return collections.OrderedDict([
        ("model_name", name), ("pretrained", "-"), ("embed_dim", embed)])


def make_hf(E):
    """OpenCLIP's HFTextEncoder names (text.transformer.* = the HF RobertaModel without pooler,
    text.proj.0/2 = the mlp projection); values fp16-exact; saved as F16 safetensors."""
    g = torch.Generator().manual_seed(5)
    V, P, D, M, H = 100, 20, 64, 64, 48
    vis = ViT(32, 16, 64, 1, E)
    randomise(vis)
    sd = collections.OrderedDict(("visual." + k, v.detach()) for k, v in vis.state_dict().items())

    def r(*shape, base=0.0):
        return (base + torch.randn(*shape, generator=g) * 0.1).half().float()
    t = "text.transformer."
    sd[t + "embeddings.position_ids"] = torch.arange(P).unsqueeze(0)          # int64 buffer: dropped
    sd[t + "embeddings.word_embeddings.weight"] = r(V, D)
    sd[t + "embeddings.position_embeddings.weight"] = r(P, D)
    sd[t + "embeddings.token_type_embeddings.weight"] = r(1, D)
    sd[t + "embeddings.LayerNorm.weight"] = r(D, base=1.0)
    sd[t + "embeddings.LayerNorm.bias"] = r(D)
    L = t + "encoder.layer.0."
    for n in ["query", "key", "value"]:
        sd[L + "attention.self.%s.weight" % n] = r(D, D)
        sd[L + "attention.self.%s.bias" % n] = r(D)
    sd[L + "attention.output.dense.weight"] = r(D, D)
    sd[L + "attention.output.dense.bias"] = r(D)
    sd[L + "attention.output.LayerNorm.weight"] = r(D, base=1.0)
    sd[L + "attention.output.LayerNorm.bias"] = r(D)
    sd[L + "intermediate.dense.weight"] = r(M, D)
    sd[L + "intermediate.dense.bias"] = r(M)
    sd[L + "output.dense.weight"] = r(D, M)
    sd[L + "output.dense.bias"] = r(D)
    sd[L + "output.LayerNorm.weight"] = r(D, base=1.0)
    sd[L + "output.LayerNorm.bias"] = r(D)
    sd["text.proj.0.weight"] = r(H, D)
    sd["text.proj.2.weight"] = r(E, H)
    sd["logit_scale"] = torch.tensor(4.60546875)
    save_safetensors(os.path.join(OUT, "hf.safetensors"), sd,
                     lambda n: "I64" if n.endswith("position_ids") else "F16")
    for name, hf in [("roberta", "roberta-base"), ("xlm", "xlm-roberta-base")]:
        with open(os.path.join(OUT, "hf_%s_open_clip_config.json" % name), "w") as f:
            json.dump({"model_cfg": {"embed_dim": E, "quick_gelu": name == "roberta",
                                     "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16,
                                                    "mlp_ratio": 1.0},
                                     "text_cfg": {"hf_model_name": hf, "hf_tokenizer_name": hf, "proj": "mlp",
                                                  "pooler_type": "mean_pooler", "context_length": 16}},
                       "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}}, f, indent=2)
    tok = os.path.join(OUT, "hf_tok")
    os.makedirs(tok, exist_ok=True)
    files = {"vocab.json": json.dumps({"<s>": 0, "<pad>": 1, "</s>": 2, "a": 3, "b": 4, "ab": 5}).encode(),
             "merges.txt": b"#version: 0.2\na b\n",
             "sentencepiece.bpe.model": bytes(range(256)) * 2}
    for n, d in files.items():
        with open(os.path.join(tok, n), "wb") as f:
            f.write(d)
    cfg = collections.OrderedDict([
        ("model_name", "custom"), ("pretrained", "-"), ("embed_dim", E), ("vision", "vit"), ("image_size", 32),
        ("vision_width", 64), ("vision_layers", 1), ("vision_heads", 1), ("vision_patch", 16), ("vision_mlp", 64),
        ("vision_act", "quick_gelu"), ("image_mean", [0.5, 0.5, 0.5]), ("image_std", [0.5, 0.5, 0.5]),
        ("text", "hf"), ("context_length", 16), ("vocab_size", V),
        ("text_width", D), ("text_layers", 1), ("text_heads", 1), ("text_mlp", M), ("text_act", "gelu"),
        ("tokenizer", "gpt2_bpe"), ("pad_id", 1), ("sot_id", 0), ("eot_id", 2), ("hf_model_type", "roberta"),
        ("hf_pooler", "mean"), ("hf_proj", "mlp"), ("hf_proj_hidden", H), ("hf_max_positions", P), ("hf_type_vocab", 1),
        ("ln_eps", 1e-5), ("bn_folded", 0)])
    tensors = {k: v.float().numpy().reshape(v.shape if v.dim() else (1,)) for k, v in sd.items()
               if not k.endswith("position_ids")}
    coopfile.write_model(os.path.join(OUT, "hf_roberta_expected.coop"), cfg, tensors,
                         {"vocab.json": files["vocab.json"], "merges.txt": files["merges.txt"]}, "f32")


def main():
    os.makedirs(OUT, exist_ok=True)
    # tiny vocabulary: the first 300 lines of CLIP's merges (enough to test the gzip path)
    with gzip.open(VOCAB_GZ, "rb") as f:
        lines = f.read().split(b"\n")[:300]
    vocab_text = b"\n".join(lines) + b"\n"
    with open(os.path.join(OUT, "vocab_tiny.txt.gz"), "wb") as f:
        f.write(gzip.compress(vocab_text, mtime=0))
    with open(os.path.join(OUT, "vocab_tiny.txt"), "wb") as f:       # the converter takes plain text too
        f.write(vocab_text)

    V, L, D, E = 200, 8, 64, 32
    # ---- ViT --------------------------------------------------------------------------------
    vit = CLIP(ViT(32, 8, 64, 2, E), L, V, D, 1, E)
    randomise(vit)
    vit.eval()
    sd = {k: v for k, v in vit.state_dict().items()}
    save_safetensors(os.path.join(OUT, "vit.safetensors"), {k: v for k, v in sd.items() if k != "attn_mask"},
                     lambda n: "F16" if n.endswith("c_fc.weight") else "F32")
    # .bin: a non-contiguous view and a view at a storage offset, as torch.save keeps them
    bsd = collections.OrderedDict(sd)
    bsd["text_projection"] = sd["text_projection"].t().contiguous().t()
    big = torch.cat([torch.zeros(7), sd["visual.ln_post.bias"]])
    bsd["visual.ln_post.bias"] = big[7:]
    assert not bsd["text_projection"].is_contiguous() and bsd["visual.ln_post.bias"].storage_offset() == 7
    torch.save(bsd, os.path.join(OUT, "vit.bin"))
    save_torchscript(os.path.join(OUT, "vit.pt"), vit, torch.zeros(1, 3, 32, 32))
    cfg_json = {"model_cfg": {"embed_dim": E, "quick_gelu": True,
                              "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "mlp_ratio": 1.0},
                              "text_cfg": {"context_length": L, "vocab_size": V, "width": D, "heads": 1, "layers": 1, "mlp_ratio": 1.0}},
                "preprocess_cfg": {"mean": MEAN, "std": STD}}
    with open(os.path.join(OUT, "vit_open_clip_config.json"), "w") as f:
        json.dump(cfg_json, f, indent=2)
    cfg = collections.OrderedDict([
        ("model_name", "custom"), ("pretrained", "openai"), ("embed_dim", E), ("vision", "vit"), ("image_size", 32),
        ("vision_width", 64), ("vision_layers", 2), ("vision_heads", 1), ("vision_patch", 8), ("vision_mlp", 64),
        ("vision_act", "quick_gelu"), ("text", "clip"), ("context_length", L), ("vocab_size", V),
        ("text_width", D), ("text_layers", 1), ("text_heads", 1), ("text_mlp", 64), ("text_act", "quick_gelu"),
        ("tokenizer", "clip_bpe"), ("pad_id", 0), ("sot_id", V - 2), ("eot_id", V - 1), ("bn_folded", 0)])
    write_expected(os.path.join(OUT, "vit_expected.coop"), vit, cfg, sd, False, vocab_text)

    # ---- ModifiedResNet ---------------------------------------------------------------------
    rn = CLIP(ResNet([1, 2, 1, 1], 2, 64, E), L, V, D, 1, E)
    randomise(rn)
    rn.eval()
    sd = {k: v for k, v in rn.state_dict().items()}
    save_safetensors(os.path.join(OUT, "rn.safetensors"), {k: v for k, v in sd.items() if k != "attn_mask"},
                     lambda n: "BF16" if n.endswith("num_batches_tracked") else "F32")
    ck = {"epoch": 3, "name": "tiny", "state_dict": collections.OrderedDict(
        ("module." + k, v) for k, v in sd.items() if k != "attn_mask"), "optimizer": {"lr": 0.1}}
    torch.save(ck, os.path.join(OUT, "rn.bin"))
    save_torchscript(os.path.join(OUT, "rn.pt"), rn)
    cfg = collections.OrderedDict([
        ("model_name", "custom"), ("pretrained", "openai"), ("embed_dim", E), ("vision", "resnet"), ("image_size", 64),
        ("vision_width", 2), ("vision_layers", 0), ("vision_heads", 1), ("vision_patch", 0), ("vision_mlp", 0),
        ("resnet_layers", [1, 2, 1, 1]), ("text", "clip"), ("context_length", L), ("vocab_size", V),
        ("text_width", D), ("text_layers", 1), ("text_heads", 1), ("text_mlp", 64), ("text_act", "quick_gelu"),
        ("tokenizer", "clip_bpe"), ("pad_id", 0), ("sot_id", V - 2), ("eot_id", V - 1), ("bn_folded", 1)])
    write_expected(os.path.join(OUT, "rn_expected.coop"), rn, cfg, sd, True, vocab_text)

    # ---- HF (RoBERTa-style) text tower + tiny ViT: tensors by name (no transformers needed) ----
    make_hf(E)

    # ---- broken inputs for the error tests --------------------------------------------------
    vsd = {k: v for k, v in vit.state_dict().items() if k != "attn_mask"}
    miss = dict(vsd)
    del miss["visual.ln_post.weight"]
    save_safetensors(os.path.join(OUT, "bad_missing.safetensors"), miss, lambda n: "F16")
    mis = dict(vsd)
    mis["visual.transformer.resblocks.1.mlp.c_fc.weight"] = torch.zeros(63, 64)
    save_safetensors(os.path.join(OUT, "bad_shape.safetensors"), mis, lambda n: "F16")
    with open(os.path.join(OUT, "rn.bin"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "bad_truncated.bin"), "wb") as f:
        f.write(data[:len(data) // 3])
    with open(os.path.join(OUT, "rn.safetensors"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "bad_truncated.safetensors"), "wb") as f:
        f.write(data[:len(data) // 3])
    with open(os.path.join(OUT, "bad_magic.bin"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(2).bytes(4088))
    # hostile safetensors headers: data offsets past the end; a huge header length; deep JSON
    def st_raw(name, header_bytes, body=b"\0" * 64, hlen=None):
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(struct.pack("<Q", len(header_bytes) if hlen is None else hlen) + header_bytes + body)
    st_raw("bad_offsets.safetensors", json.dumps({"logit_scale": {"dtype": "F32", "shape": [1],
                                                  "data_offsets": [1 << 40, (1 << 40) + 4]}}).encode())
    st_raw("bad_numel.safetensors", json.dumps({"logit_scale": {"dtype": "F32", "shape": [1 << 31, 1 << 31, 1 << 31],
                                               "data_offsets": [0, 4]}}).encode())
    st_raw("bad_hlen.safetensors", b"{}", hlen=(1 << 62))
    st_raw("bad_json.safetensors", b'{"a":' * 100000)
    st_raw("bad_json2.safetensors", b'{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "b\\ud800": ')
    # a torch zip whose pickle is garbage / truncated
    import zipfile
    rng = np.random.default_rng(1)
    with zipfile.ZipFile(os.path.join(OUT, "bad_pickle.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00(X" + rng.bytes(300))
        z.writestr("archive/data/0", b"\0" * 16)
    with zipfile.ZipFile(os.path.join(OUT, "bad_pickle2.bin"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00(X\x04\x00\x00\x00abcdh\x63h\x00u.")
    # the ViT .bin re-packed with deflate-compressed entries (the converter inflates them)
    with zipfile.ZipFile(os.path.join(OUT, "vit.bin")) as zi, \
            zipfile.ZipFile(os.path.join(OUT, "vit_deflated.bin"), "w", zipfile.ZIP_DEFLATED) as zo:
        for info in zi.infolist():
            zo.writestr(info.filename, zi.read(info.filename))
    print("wrote", OUT)
    for n in sorted(os.listdir(OUT)):
        print("  %-32s %8d" % (n, os.path.getsize(os.path.join(OUT, n))))


if __name__ == "__main__":
    main()
