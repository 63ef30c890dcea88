"""PyTorch side of build/bench: the same work, timed the same way, so bench can print ratios.

Run by build/bench (or by hand): /usr/bin/python3 tools/bench_torch.py WHAT [--threads 2]
WHAT: vit | coop | text | resnet50 | resnet101 | roberta.  Prints one line: "seconds <median>".
Random weights at the real sizes (ViT-B-32, RN50, RN101, roberta-base text tower); PyTorch at
its best as DESIGN.md asks: OpenBLAS with pthreads, OMP_WAIT_POLICY=PASSIVE, warm-up, median,
and glibc malloc told to keep freed memory (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
MALLOC_TOP_PAD_, set by build/bench): otherwise every new activation tensor pays first-touch
page faults, which on these machines costs PyTorch 2-3x.
This is a development tool (Debian's python3-torch); nothing in CI runs it.
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Block(nn.Module):
    """OpenCLIP's ResidualAttentionBlock: pre-LN attention + MLP."""

    def __init__(self, d, heads, act):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), act(), nn.Linear(4 * d, d))

    def forward(self, x, mask=None):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class ViT(nn.Module):
    def __init__(self, width=768, layers=12, heads=12, patch=32, size=224, embed=512):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch, patch, bias=False)
        g = size // patch
        self.cls = nn.Parameter(torch.randn(width) * 0.02)
        self.pos = nn.Parameter(torch.randn(g * g + 1, width) * 0.01)
        self.ln_pre = nn.LayerNorm(width)
        self.blocks = nn.ModuleList([Block(width, heads, QuickGELU) for _ in range(layers)])
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, embed) * width ** -0.5)

    def forward(self, x):
        x = self.conv1(x).flatten(2).permute(2, 0, 1)
        x = torch.cat([self.cls.expand(1, x.shape[1], -1), x]) + self.pos[:, None]
        x = self.ln_pre(x)
        for b in self.blocks:
            x = b(x)
        return self.ln_post(x[0]) @ self.proj


class TextTower(nn.Module):
    def __init__(self, width=512, layers=12, heads=8, ctx=77, embed=512):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(ctx, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads, QuickGELU) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, embed) * width ** -0.5)
        self.register_buffer("mask", torch.full((ctx, ctx), float("-inf")).triu(1))

    def forward(self, x, eot):
        x = (x + self.pos).permute(1, 0, 2)
        for b in self.blocks:
            x = b(x, self.mask)
        x = self.ln_final(x.permute(1, 0, 2))
        return x[torch.arange(x.shape[0]), eot] @ self.proj


def coop_step(vit, text, ctx, prefix, suffix, eot, images, labels, opt):
    """One CoOp step as CoOp's trainer does it: frozen image tower, prompts through the text tower."""
    with torch.no_grad():
        img = vit(images)
    n = prefix.shape[0]
    prompts = torch.cat([prefix, ctx.expand(n, -1, -1), suffix], 1)
    txt = text(prompts, eot)
    img = img / img.norm(dim=-1, keepdim=True)
    txt = txt / txt.norm(dim=-1, keepdim=True)
    loss = F.cross_entropy(100.0 * img @ txt.t(), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()


def bottleneck_resnet(layers, width=64, size=224, embed=1024, heads=32):
    """ModifiedResNet-shaped network (stem of three 3x3 convs, avg-pool striding, attention pool)."""

    class Bottleneck(nn.Module):
        def __init__(self, inp, planes, stride):
            super().__init__()
            self.c1 = nn.Conv2d(inp, planes, 1, bias=False); self.b1 = nn.BatchNorm2d(planes)
            self.c2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False); self.b2 = nn.BatchNorm2d(planes)
            self.pool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
            self.c3 = nn.Conv2d(planes, planes * 4, 1, bias=False); self.b3 = nn.BatchNorm2d(planes * 4)
            self.down = None
            if stride > 1 or inp != planes * 4:
                self.down = nn.Sequential(nn.AvgPool2d(stride), nn.Conv2d(inp, planes * 4, 1, bias=False),
                                          nn.BatchNorm2d(planes * 4))

        def forward(self, x):
            o = F.relu(self.b1(self.c1(x)))
            o = F.relu(self.b2(self.c2(o)))
            o = self.b3(self.c3(self.pool(o)))
            return F.relu(o + (self.down(x) if self.down is not None else x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            w = width
            self.stem = nn.Sequential(nn.Conv2d(3, w // 2, 3, 2, 1, bias=False), nn.BatchNorm2d(w // 2), nn.ReLU(),
                                      nn.Conv2d(w // 2, w // 2, 3, 1, 1, bias=False), nn.BatchNorm2d(w // 2), nn.ReLU(),
                                      nn.Conv2d(w // 2, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                                      nn.AvgPool2d(2))
            blocks, inp = [], w
            for i, n in enumerate(layers):
                planes = w * 2 ** i
                for j in range(n):
                    blocks.append(Bottleneck(inp, planes, 2 if (i > 0 and j == 0) else 1))
                    inp = planes * 4
            self.blocks = nn.Sequential(*blocks)
            c = w * 32
            g = size // 32
            self.pos = nn.Parameter(torch.randn(g * g + 1, c) / c ** 0.5)
            self.attn = nn.MultiheadAttention(c, heads)
            self.c_proj = nn.Linear(c, embed)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            x = x.flatten(2).permute(2, 0, 1)
            x = torch.cat([x.mean(0, keepdim=True), x]) + self.pos[:, None]
            return self.c_proj(self.attn(x[:1], x, x, need_weights=False)[0][0])

    return Net().eval()


def roberta_step(width=768, layers=12, heads=12, n=100, T=77):
    """RoBERTa-base text tower forward + backward to the input embeddings (post-LN, GELU, mean pool, MLP proj)."""
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(width, heads, 4 * width, 0.0, activation="gelu",
                                                           layer_norm_eps=1e-5), layers)
    ln = nn.LayerNorm(width)
    proj = nn.Sequential(nn.Linear(width, (width + 512) // 2, bias=False), nn.GELU(),
                         nn.Linear((width + 512) // 2, 512, bias=False))
    for p in list(enc.parameters()) + list(ln.parameters()) + list(proj.parameters()):
        p.requires_grad_(False)
    lens = torch.randint(8, 24, (n,))
    pad = torch.arange(T)[None] >= lens[:, None]
    x = torch.randn(n, T, width, requires_grad=True)

    def run():
        h = enc(ln(x).permute(1, 0, 2), src_key_padding_mask=pad).permute(1, 0, 2)
        m = (~pad).float()[..., None]
        out = proj((h * m).sum(1) / m.sum(1))
        out.sum().backward()
    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--classes", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    B = a.batch
    if a.what == "vit":
        m = ViT().eval()
        x = torch.randn(B, 3, 224, 224)

        def run():
            with torch.inference_mode():
                m(x)
    elif a.what in ("resnet50", "resnet101"):
        m = bottleneck_resnet([3, 4, 6, 3] if a.what == "resnet50" else [3, 4, 23, 3])
        x = torch.randn(B, 3, 224, 224)

        def run():
            with torch.inference_mode():
                m(x)
    elif a.what in ("coop", "text"):
        vit, text = ViT().eval(), TextTower().eval()
        for p in list(vit.parameters()) + list(text.parameters()):
            p.requires_grad_(False)
        C, M, D = a.classes, 16, 512
        ctx = nn.Parameter(torch.randn(1, M, D) * 0.02)
        prefix = torch.randn(C, 1, D) * 0.02
        suffix = torch.randn(C, 77 - 1 - M, D) * 0.02
        eot = torch.randint(1 + M + 2, 1 + M + 8, (C,))
        images = torch.randn(B, 3, 224, 224)
        labels = torch.randint(0, C, (B,))
        opt = torch.optim.SGD([ctx], lr=0.002, momentum=0.9, weight_decay=5e-4)
        if a.what == "coop":
            def run():
                coop_step(vit, text, ctx, prefix, suffix, eot, images, labels, opt)
        else:
            def run():
                n = prefix.shape[0]
                out = text(torch.cat([prefix, ctx.expand(n, -1, -1), suffix], 1), eot)
                opt.zero_grad()
                out.sum().backward()
    elif a.what == "roberta":
        run = roberta_step(n=a.classes)
    else:
        raise SystemExit("unknown benchmark " + a.what)
    run()  # warm-up
    times = []
    for _ in range(a.runs):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    print("seconds %.6f" % statistics.median(times))


if __name__ == "__main__":
    main()
