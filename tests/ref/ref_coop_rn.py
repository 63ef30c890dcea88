#!/usr/bin/python3
"""CoOp end to end through a ModifiedResNet image tower (the ResNet issue's "CoOp on RN50" check,
at fixture size): one small CLIP model = the RN tower of ref_resnet.py + the CLIP text tower of
ref_coop.py (both imported, not re-implemented), pixels -> image features -> CoOp loss,
d loss / d ctx and a 10-step SGD trajectory, as ref_coop.py computes them.

The model is shaped like OpenAI's RN50 in miniature: ModifiedResNet layers (1, 2, 1, 1),
width 4 (attention pool over 128 channels, 2 heads), 64x64 input, BatchNorm with running
statistics far from 0/1 *folded into the convolutions* as build/convert writes RN checkpoints
(bn_folded 1); text tower width 8, 2 layers, QuickGELU (OpenAI's RN50 text activation);
embed_dim 16 shared by both towers; logit_scale ln(1 / 0.07) as in ref_coop.py (a trained
model's 100 makes this random model's loss ~13 and the 10 steps chaotic).
Size: the 49408 x 8 token embedding (1.6 MB) dominates; the tokenizer section holds only the
header and the 48894 merges CLIP uses (the rest of bpe_simple_vocab_16e6.txt is never read).

Image features: float64 maths on the f32 tensors in the file (ref_resnet.forward_folded),
cross-checked against the nn.Module with unfolded BatchNorm; stored as f32 (feat.npy) and
fed to CoOp in f32 like ref_coop.py's fixed features.

Writes tests/fixtures/coop_rn/:
  rn_clip.coop         the model (f32)
  pixels.npy [B,3,S,S] image-like normalised pixels;  feat.npy [B, E] raw image features
  labels.npy [B] int32; classnames.txt (one per line, '_' kept: the prompt learner reads it)
  <case>_init.npy      initial ctx ([M, D] shared, [C, M, D] csc)
  <case>_ids.npy       [C, 77] int32 tokenised prompts
  <case>_loss.npy      [11] full-batch losses of steps 0..9 and after the 10th update
  <case>_grad.npy      d loss / d ctx at step 0
  <case>_ctx10.npy     ctx after 10 SGD steps (lr 0.002 constant, momentum 0.9, wd 5e-4)
Cases: shared_end (M = 16, CoOp's default), csc_end (M = 4); class token at the end.
At lr 0.002 the first shared_end step overshoots (loss 1.306 -> 1.415, then falling again; a
step of 1e-4 lowers it to 1.274): the context starts at N(0, 0.02) and its gradient is ~8,
so one step moves it by about its own size. That is still one deterministic trajectory to match.
Usage: /usr/bin/python3 tests/ref/ref_coop_rn.py [path/to/bpe_simple_vocab_16e6.txt.gz]
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
from ref_coop import PromptLearner, loss_of, make_weights  # noqa: E402
from ref_resnet import ModifiedResNet, forward_folded, realistic_init, state_tensors  # noqa: E402
from ref_tok_clip import ClipBPE  # noqa: E402

OUT = os.path.join(HERE, "..", "fixtures", "coop_rn")
# image tower
RN_LAYERS, RN_WIDTH, RN_HEADS, S = (1, 2, 1, 1), 4, 2, 64
# text tower (ref_coop.py's, narrower) and the shared embedding
TW, TLAYERS, THEADS, TMLP, ACT, L, V = 8, 2, 2, 32, "quick_gelu", 77, 49408
E = 16
CLASSES = ["accordion", "sea_horse", "Faces_easy", "golden retriever"]
B = 8
STEPS, LR, MOM, WD = 10, 0.002, 0.9, 5e-4
NMERGES = 49152 - 256 - 2   # merges CLIP's tokenizer uses (lines 1..48894)


def images(g, n):
    """Image-like normalised pixels [n, 3, S, S]: smooth random colour fields (8x8 upsampled
    bicubically) plus a little noise, so images differ in more than their noise."""
    low = torch.randn(n, 3, 8, 8, generator=g, dtype=torch.float64)
    smooth = torch.nn.functional.interpolate(low, size=(S, S), mode="bicubic", align_corners=False)
    return 1.5 * smooth + 0.3 * torch.randn(n, 3, S, S, generator=g, dtype=torch.float64)


def main():
    gz = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data",
                                                             "bpe_simple_vocab_16e6.txt.gz")
    tok = ClipBPE(gz)
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(2024)

    # image tower: realistic BN statistics, folded as the converter does
    rn = ModifiedResNet(RN_LAYERS, RN_WIDTH, RN_HEADS, S, E)
    realistic_init(rn, g)
    rn = rn.double()
    with torch.no_grad():
        # a random tower maps every input near one direction (post-ReLU activations share a
        # large mean): centre the features on a calibration batch through the c_proj bias,
        # so the batch's features differ as a trained CLIP's do (cosines -0.9 .. 0.9, not 0.999)
        rn.attnpool.c_proj.bias -= rn(images(g, 32)).mean(0)
    vis = state_tensors(rn, True)
    pix = images(g, B).float()
    with torch.no_grad():
        feat = forward_folded(vis, RN_LAYERS, RN_HEADS, pix.double())
        mod = rn(pix.double())
    rel = ((feat - mod).abs().max() / mod.abs().max()).item()
    print("image features: folded f32 tensors vs nn.Module (BN unfolded): rel %.3g" % rel)
    assert rel < 1e-5
    feat = feat.float()
    fn = feat / feat.norm(dim=1, keepdim=True)
    cs = (fn @ fn.T)[~torch.eye(B, dtype=torch.bool)]
    print("image features: |f| %.3g .. %.3g, pairwise cosine %.2f .. %.2f"
          % (feat.norm(dim=1).min(), feat.norm(dim=1).max(), cs.min(), cs.max()))

    # text tower (ref_coop.py's weights and maths) and its logit scale (CLIP's initial 1 / 0.07)
    t = make_weights(g, W=TW, LAYERS=TLAYERS, MLP=TMLP, E=E)
    t["logit_scale"] = torch.tensor([math.log(1 / 0.07)])

    cfg = {"model_name": "RN-coop-test", "pretrained": "test", "embed_dim": E,
           "vision": "resnet", "image_size": S, "vision_width": RN_WIDTH, "vision_heads": RN_HEADS,
           "resnet_layers": list(RN_LAYERS), "bn_folded": 1,
           "text": "clip", "context_length": L, "vocab_size": V, "text_width": TW, "text_layers": TLAYERS,
           "text_heads": THEADS, "text_mlp": TMLP, "text_act": ACT, "tokenizer": "clip_bpe",
           "pad_id": 0, "sot_id": tok.sot, "eot_id": tok.eot}
    lines = gzip.open(gz).read().split(b"\n")
    merges = b"\n".join(lines[:1 + NMERGES]) + b"\n"
    tensors = dict(vis)
    tensors.update({k: v.numpy() for k, v in t.items()})
    write_model(os.path.join(OUT, "rn_clip.coop"), cfg, tensors, {"clip_bpe": merges})

    labels = torch.tensor([i % len(CLASSES) for i in range(B)])
    np.save(os.path.join(OUT, "pixels.npy"), pix.numpy())
    np.save(os.path.join(OUT, "feat.npy"), feat.numpy())
    np.save(os.path.join(OUT, "labels.npy"), labels.numpy().astype(np.int32))
    with open(os.path.join(OUT, "classnames.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")

    for name, n_ctx, csc in (("shared_end", 16, 0), ("csc_end", 4, 1)):
        pl = PromptLearner(tok, t, CLASSES, n_ctx, csc, "end", None, g)
        init = pl.ctx.detach().clone()
        np.save(os.path.join(OUT, name + "_init.npy"), init.numpy())
        np.save(os.path.join(OUT, name + "_ids.npy"), pl.ids.numpy().astype(np.int32))
        opt = torch.optim.SGD([pl.ctx], lr=LR, momentum=MOM, weight_decay=WD, dampening=0, nesterov=False)
        losses = []
        for step in range(STEPS + 1):
            opt.zero_grad()
            loss, _ = loss_of(t, pl, feat, labels, THEADS, ACT)
            losses.append(loss.item())
            if step == STEPS:
                break
            loss.backward()
            if step == 0:
                grad = pl.ctx.grad.clone()
                np.save(os.path.join(OUT, name + "_grad.npy"), grad.numpy())
            opt.step()
        ctx10 = pl.ctx.detach()
        np.save(os.path.join(OUT, name + "_loss.npy"), np.array(losses, dtype=np.float32))
        np.save(os.path.join(OUT, name + "_ctx10.npy"), ctx10.numpy())
        moved = ((ctx10 - init).abs().max() / init.abs().max()).item()
        print("%-11s n_ctx %2d loss %.6f -> %.6f  |grad| %.3g  max|ctx10 - init| / max|init| %.3g"
              % (name, n_ctx, losses[0], losses[-1], grad.abs().max().item(), moved))
    tot = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("fixtures in %s: %.2f MB" % (os.path.normpath(OUT), tot / 1e6))


if __name__ == "__main__":
    main()
