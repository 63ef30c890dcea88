"""PyTorch reference for the ModifiedResNet image tower (CLIP RN50/RN101/RN50x*), written from the
architecture facts of OpenAI CLIP / open_clip's modified_resnet.py:

  stem:   conv1 3x3 s2 p1 (3 -> w/2), conv2 3x3 p1 (w/2 -> w/2), conv3 3x3 p1 (w/2 -> w), each
          BN + ReLU, then AvgPool2d(2)
  layers: Bottleneck blocks, expansion 4, planes w, 2w, 4w, 8w, strides 1, 2, 2, 2 (first block)
          conv1 1x1 + BN + ReLU, conv2 3x3 p1 + BN + ReLU, AvgPool2d(stride) if stride > 1,
          conv3 1x1 + BN; downsample = AvgPool2d(stride) -> conv 1x1 -> BN when stride > 1 or
          inplanes != 4 * planes; out = ReLU(out + identity)
  head:   attention pooling: tokens [HW, C], mean token prepended, + positional_embedding,
          one multi-head attention (only the mean token's output is used), c_proj -> embed_dim

Writes tests/fixtures/resnet/: tiny models (BN folded in Python, BN unfolded, f16 and bf16 of
the folded one), pixels.npy [N,3,S,S] and the expected features (float64 math, stored as f32).
Also `--big OUT` writes an RN50-size random model (not committed) and times PyTorch on it.

usage: /usr/bin/python3 tests/ref/ref_resnet.py            (fixtures)
       /usr/bin/python3 tests/ref/ref_resnet.py --big /tmp/rn50.coop [--batch 32]
"""
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coopfile import write_model, round_weights  # noqa: E402

EPS = 1e-5  # BatchNorm2d default


class Bottleneck(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.stride = stride
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            # keys "downsample.0" (conv) and "downsample.1" (bn), as in the CLIP state dict
            # (CLIP's "-1" entry is the parameter-free AvgPool2d)
            self.downsample = nn.ModuleDict({"0": nn.Conv2d(inplanes, planes * 4, 1, bias=False),
                                             "1": nn.BatchNorm2d(planes * 4)})

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        if self.stride > 1:
            out = F.avg_pool2d(out, self.stride)
        out = self.bn3(self.conv3(out))
        idt = x
        if self.downsample is not None:
            if self.stride > 1:
                idt = F.avg_pool2d(idt, self.stride)
            idt = self.downsample["1"](self.downsample["0"](idt))
        return F.relu(out + idt)


class AttnPool(nn.Module):
    def __init__(self, grid, dim, heads, out_dim):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.randn(grid * grid + 1, dim) / dim ** 0.5)
        self.q_proj = nn.Linear(dim, dim)
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.c_proj = nn.Linear(dim, out_dim)
        self.heads = heads

    def forward(self, x):  # x [N, C, H, W]
        n, c = x.shape[:2]
        x = x.flatten(2).permute(2, 0, 1)                       # [HW, N, C]
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0)  # [HW+1, N, C]
        x = x + self.positional_embedding[:, None, :].to(x.dtype)
        y, _ = F.multi_head_attention_forward(
            query=x[:1], key=x, value=x, embed_dim_to_check=c, num_heads=self.heads,
            q_proj_weight=self.q_proj.weight, k_proj_weight=self.k_proj.weight,
            v_proj_weight=self.v_proj.weight, in_proj_weight=None,
            in_proj_bias=torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0,
            out_proj_weight=self.c_proj.weight, out_proj_bias=self.c_proj.bias,
            use_separate_proj_weight=True, training=False, need_weights=False)
        return y[0]


class ModifiedResNet(nn.Module):
    def __init__(self, layers, width, heads, image_size, embed_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        inpl = width
        for li, (nb, mult) in enumerate(zip(layers, (1, 2, 4, 8))):
            blocks = []
            for j in range(nb):
                stride = 2 if (li > 0 and j == 0) else 1
                blocks.append(Bottleneck(inpl, width * mult, stride))
                inpl = width * mult * 4
            setattr(self, "layer%d" % (li + 1), nn.Sequential(*blocks))
        self.attnpool = AttnPool(image_size // 32, width * 32, heads, embed_dim)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        x = F.avg_pool2d(x, 2)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


def realistic_init(model, gen):
    """He-init convs, BN with running stats far from 0/1 and gammas in [0.5, 1.5]."""
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.Conv2d):
                fan_in = mod.weight[0].numel()
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            elif isinstance(mod, nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(c, generator=gen))
                mod.bias.copy_(0.3 * torch.randn(c, generator=gen))
                mod.running_mean.copy_(0.5 * torch.randn(c, generator=gen))
                mod.running_var.copy_(0.3 + 2.5 * torch.rand(c, generator=gen))
            elif isinstance(mod, nn.Linear):
                mod.weight.copy_(torch.randn(mod.weight.shape, generator=gen) / mod.in_features ** 0.5)
                mod.bias.copy_(0.1 * torch.randn(mod.bias.shape, generator=gen))
            elif isinstance(mod, AttnPool):
                mod.positional_embedding.copy_(torch.randn(mod.positional_embedding.shape, generator=gen) * 0.5)
    model.eval()


def state_tensors(model, folded):
    """OpenCLIP state-dict names under 'visual.'; folded: BN merged into the preceding conv
    (conv.weight * g/sqrt(v+eps), bias = b - m*g/sqrt(v+eps)), bn tensors dropped."""
    sd = {k: v.detach().double() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    out = {}
    if not folded:
        for k, v in sd.items():
            out["visual." + k] = v.float().numpy()
        return out
    convs = [k[:-len(".weight")] for k in sd if k.endswith(".weight") and sd[k].dim() == 4]
    for cv in convs:
        if cv.endswith("downsample.0"):
            bn = cv[:-1] + "1"
        else:
            bn = cv.replace("conv", "bn")
        s = sd[bn + ".weight"] / torch.sqrt(sd[bn + ".running_var"] + EPS)
        out["visual." + cv + ".weight"] = (sd[cv + ".weight"] * s[:, None, None, None]).float().numpy()
        out["visual." + cv + ".bias"] = (sd[bn + ".bias"] - sd[bn + ".running_mean"] * s).float().numpy()
    for k, v in sd.items():
        if k.startswith("attnpool."):
            out["visual." + k] = v.float().numpy()
    return out


def forward_folded(t, layers, heads, x, dtype=np.float64):
    """Functional forward from folded tensors (float64), used for the f16/bf16 expectations."""
    T = {k: (v if dtype is None else torch.from_numpy(np.asarray(v, dtype=dtype))) for k, v in t.items()}

    def conv(name, x, stride=1, pad=0):
        return F.conv2d(x, T[name + ".weight"], T[name + ".bias"], stride=stride, padding=pad)
    x = F.relu(conv("visual.conv1", x, 2, 1))
    x = F.relu(conv("visual.conv2", x, 1, 1))
    x = F.avg_pool2d(F.relu(conv("visual.conv3", x, 1, 1)), 2)
    for li, nb in enumerate(layers):
        for j in range(nb):
            p = "visual.layer%d.%d" % (li + 1, j)
            stride = 2 if (li > 0 and j == 0) else 1
            o = F.relu(conv(p + ".conv1", x))
            o = F.relu(conv(p + ".conv2", o, 1, 1))
            if stride > 1:
                o = F.avg_pool2d(o, stride)
            o = conv(p + ".conv3", o)
            idt = x
            if (p + ".downsample.0.weight") in T:
                if stride > 1:
                    idt = F.avg_pool2d(idt, stride)
                idt = conv(p + ".downsample.0", idt)
            x = F.relu(o + idt)
    n, c = x.shape[:2]
    tok = x.flatten(2).transpose(1, 2)                              # [N, HW, C]
    tok = torch.cat([tok.mean(1, keepdim=True), tok], 1) + T["visual.attnpool.positional_embedding"]
    ap = "visual.attnpool."
    q = tok[:, :1] @ T[ap + "q_proj.weight"].T + T[ap + "q_proj.bias"]
    k = tok @ T[ap + "k_proj.weight"].T + T[ap + "k_proj.bias"]
    v = tok @ T[ap + "v_proj.weight"].T + T[ap + "v_proj.bias"]
    hd = c // heads
    q = q.view(n, 1, heads, hd).transpose(1, 2)
    k = k.view(n, -1, heads, hd).transpose(1, 2)
    v = v.view(n, -1, heads, hd).transpose(1, 2)
    a = torch.softmax(q @ k.transpose(-1, -2) / hd ** 0.5, -1)
    o = (a @ v).transpose(1, 2).reshape(n, c)
    return o @ T[ap + "c_proj.weight"].T + T[ap + "c_proj.bias"]


def config(layers, width, heads, image_size, embed_dim, folded):
    return {"model_name": "RN-test", "embed_dim": embed_dim, "vision": "resnet", "image_size": image_size,
            "vision_width": width, "vision_heads": heads, "resnet_layers": list(layers),
            "text": "none", "bn_folded": 1 if folded else 0}


def make_fixtures():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "resnet")
    os.makedirs(out, exist_ok=True)
    layers, width, heads, S, E = (1, 2, 1, 1), 6, 2, 64, 32
    gen = torch.Generator().manual_seed(1234)
    model = ModifiedResNet(layers, width, heads, S, E)
    realistic_init(model, gen)
    model = model.double()
    pix = torch.randn(3, 3, S, S, generator=gen, dtype=torch.float64)
    pix32 = pix.float()
    with torch.no_grad():
        want = model(pix32.double())
    folded = state_tensors(model, True)
    unfolded = state_tensors(model, False)
    # the C side sees f32 weights: expectations from the f32-rounded tensors
    with torch.no_grad():
        want_folded = forward_folded(folded, layers, heads, pix32.double())
    rel = (want_folded - want).abs().max() / want.abs().max()
    print("folded functional vs module (f32-rounded weights): rel %.3g" % rel)
    assert rel < 1e-5
    np.save(os.path.join(out, "pixels.npy"), pix32.numpy())
    np.save(os.path.join(out, "want_f32.npy"), want_folded.float().numpy())
    np.save(os.path.join(out, "want_unfolded.npy"), want.float().numpy())
    write_model(os.path.join(out, "rn_f32.coop"), config(layers, width, heads, S, E, True), folded)
    write_model(os.path.join(out, "rn_unfolded.coop"), config(layers, width, heads, S, E, False), unfolded)
    for dt in ("f16", "bf16"):
        r = {k: round_weights(v, dt) for k, v in folded.items()}
        with torch.no_grad():
            w = forward_folded(r, layers, heads, pix32.double())
        np.save(os.path.join(out, "want_%s.npy" % dt), w.float().numpy())
        write_model(os.path.join(out, "rn_%s.coop" % dt), config(layers, width, heads, S, E, True), folded, dtype=dt)
    tot = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print("fixtures in %s: %.2f MB, feature |max| %.3g" % (out, tot / 1e6, want.abs().max()))


def make_big(path, batch):
    """RN50-size random folded model (not committed) + PyTorch timing at `batch`."""
    torch.set_num_threads(2)
    layers, width, heads, S, E = (3, 4, 6, 3), 64, 32, 224, 1024
    gen = torch.Generator().manual_seed(1)
    model = ModifiedResNet(layers, width, heads, S, E)
    realistic_init(model, gen)
    pix = torch.randn(batch, 3, S, S, generator=gen)
    folded = state_tensors(model, True)
    write_model(path, config(layers, width, heads, S, E, True), folded)
    np.save(path + ".pixels.npy", pix.numpy())
    # PyTorch at its best here: channels_last (oneDNN's NHWC kernels are ~6x faster than its
    # NCHW path on this machine), with BatchNorm as modules or folded into the convs
    cl = torch.channels_last
    model_cl = model.to(memory_format=cl)
    pix_cl = pix.contiguous(memory_format=cl)
    folded_cl = {k: (torch.from_numpy(v).contiguous(memory_format=cl) if v.ndim == 4 else torch.from_numpy(v))
                 for k, v in folded.items()}
    with torch.no_grad():
        want = model(pix)
        np.save(path + ".want.npy", want.numpy())
        for name, fn in (("module (BN), channels_last", lambda: model_cl(pix_cl)),
                         ("BN folded, channels_last", lambda: forward_folded(folded_cl, layers, heads, pix_cl, None))):
            fn()
            ts = []
            for _ in range(3):
                t0 = time.time()
                fn()
                ts.append(time.time() - t0)
            ts.sort()
            print("torch %s batch %d: median %.3f s (%.1f img/s)" % (name, batch, ts[1], batch / ts[1]))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--big":
        b = int(sys.argv[sys.argv.index("--batch") + 1]) if "--batch" in sys.argv else 32
        make_big(sys.argv[2], b)
    else:
        make_fixtures()
