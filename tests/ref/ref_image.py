#!/usr/bin/python3
"""Reference for src/60_image.h: sample images and PIL-made fixtures.

Writes
  tests/fixtures/images/   small synthetic images (PNG in several modes, BMP, GIF, JPEG) and
                           broken files (truncated PNG / JPEG, random bytes, empty)
  tests/fixtures/image/    .npy outputs of PIL and the OpenCLIP / Dassl transforms, plus
                           cases.txt, the list of checks test_image.c runs (one per line)

What is mirrored (torchvision is not installed here, so its few lines of arithmetic are
written out below, following torchvision >= 0.13 transforms/functional.py):
  * decode:       Image.open(f).convert('RGB')  (Dassl's read_image; alpha dropped)
  * resize:       PIL Image.resize((w, h), BICUBIC, box=...)
  * preprocess:   OpenCLIP image_transform(is_train=False), resize_mode 'shortest':
                  Resize(S, BICUBIC) -> CenterCrop(S) -> ToTensor -> Normalize(CLIP mean/std)
  * crop:         F.resized_crop(img, i, j, h, w, (S, S), BICUBIC) = crop, then resize (the
                  RandomResizedCrop path), optionally F.hflip, then ToTensor / Normalize
Run with Debian's python:  /usr/bin/python3 tests/ref/ref_image.py
"""
import io
import os
import sys

import numpy as np
import torch
from PIL import Image

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
IMDIR = os.path.join(ROOT, "images")
FXDIR = os.path.join(ROOT, "image")
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)


# ---- synthetic images --------------------------------------------------------------------
def synth_rgb(w, h, seed):
    """smooth gradients + hard edges + a noisy patch: exercises the filter's overshoot and
    the per-pass clamping to [0, 255]"""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127.5 + 127.5 * np.sin(x / max(w, 1) * 6.3 + y / max(h, 1) * 2.0)
    g = 255.0 * (x + y) / max(w + h - 2, 1)
    b = np.where(((x // 7) + (y // 5)) % 2 == 0, 255.0, 0.0)      # checkerboard: hard edges
    img = np.stack([r, g, b], -1)
    ph, pw = max(1, h // 3), max(1, w // 3)
    img[h // 3:h // 3 + ph, w // 3:w // 3 + pw] = rng.randint(0, 256, (ph, pw, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def make_images():
    os.makedirs(IMDIR, exist_ok=True)
    files = {}

    def save(name, im, **kw):
        path = os.path.join(IMDIR, name)
        im.save(path, **kw)
        files[name] = path

    save("rgb_160x120.png", Image.fromarray(synth_rgb(160, 120, 1)))
    save("rgb_97x61.bmp", Image.fromarray(synth_rgb(97, 61, 2)))
    save("rgb_35x32.png", Image.fromarray(synth_rgb(35, 32, 3)))
    save("gray_50x80.png", Image.fromarray(synth_rgb(50, 80, 4)[:, :, 1]))           # mode L
    rgba = np.concatenate([synth_rgb(64, 48, 5), synth_rgb(64, 48, 6)[:, :, :1]], -1)
    save("rgba_64x48.png", Image.fromarray(rgba, "RGBA"))
    pal = Image.fromarray(synth_rgb(40, 30, 7)).quantize(colors=37)                    # mode P
    save("palette_40x30.png", pal)
    pal_t = pal.copy()
    pal_t.info["transparency"] = 3                                                     # tRNS
    save("palette_trns_40x30.png", pal_t)
    la = Image.fromarray(np.stack([synth_rgb(24, 20, 8)[:, :, 0], synth_rgb(24, 20, 9)[:, :, 2]], -1), "LA")
    save("la_24x20.png", la)
    save("tiny_1x23.png", Image.fromarray(synth_rgb(1, 23, 10)))
    save("tiny_23x1.png", Image.fromarray(synth_rgb(23, 1, 11)))
    save("gif_32x24.gif", Image.fromarray(synth_rgb(32, 24, 12)).quantize(colors=64))
    # a JPEG with photo-like content (smooth + texture); 4:2:0 chroma (PIL's default)
    save("photo_120x90.jpg", Image.fromarray(synth_rgb(120, 90, 13)), quality=90)
    save("photo444_120x90.jpg", Image.fromarray(synth_rgb(120, 90, 13)), quality=90, subsampling=0)

    # broken files: decoding must fail with a message naming the file, never crash
    with open(files["rgb_160x120.png"], "rb") as f:
        png = f.read()
    with open(os.path.join(IMDIR, "bad_truncated.png"), "wb") as f:
        f.write(png[:len(png) * 3 // 5])
    with open(files["photo_120x90.jpg"], "rb") as f:
        jpg = f.read()
    with open(os.path.join(IMDIR, "bad_truncated.jpg"), "wb") as f:
        f.write(jpg[:len(jpg) // 2])
    with open(os.path.join(IMDIR, "bad_random.jpg"), "wb") as f:
        f.write(np.random.RandomState(99).randint(0, 256, 3000).astype(np.uint8).tobytes())
    with open(os.path.join(IMDIR, "bad_empty.png"), "wb") as f:
        pass
    # a PNG header claiming 10000 x 10000 pixels (100 Mpixel, over the 64 Mpixel limit but under
    # stb's own): must be refused before any pixel memory is allocated
    hdr = bytearray(png[:33])
    hdr[16:24] = (10000).to_bytes(4, "big") + (10000).to_bytes(4, "big")
    import zlib
    hdr[29:33] = zlib.crc32(bytes(hdr[12:29])).to_bytes(4, "big")
    with open(os.path.join(IMDIR, "bad_huge.png"), "wb") as f:
        f.write(bytes(hdr) + png[33:])
    return files


# ---- the transforms, as torchvision does them on PIL images ------------------------------
def load_rgb(path):
    return Image.open(path).convert("RGB")


def to_tensor_normalize(im):
    """ToTensor + Normalize in float32, as torchvision does"""
    t = torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()
    t = t.to(torch.float32).div(255)
    mean = torch.as_tensor(MEAN, dtype=torch.float32)[:, None, None]
    std = torch.as_tensor(STD, dtype=torch.float32)[:, None, None]
    return t.sub_(mean).div_(std).numpy()


def tv_resize_shorter(im, size):
    """torchvision Resize(int): _compute_resized_output_size, then PIL resize"""
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    if (new_w, new_h) == (w, h):
        return im
    return im.resize((new_w, new_h), Image.BICUBIC)


def tv_center_crop(im, size):
    """torchvision F.center_crop on PIL: pad with 0 when too small, Python round() offsets"""
    w, h = im.size
    if size > w or size > h:
        l, t = (size - w) // 2 if size > w else 0, (size - h) // 2 if size > h else 0
        r, b = (size - w + 1) // 2 if size > w else 0, (size - h + 1) // 2 if size > h else 0
        pad = Image.new("RGB", (w + l + r, h + t + b), (0, 0, 0))
        pad.paste(im, (l, t))
        im = pad
        w, h = im.size
        if (w, h) == (size, size):
            return im
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return im.crop((left, top, left + size, top + size))


def preprocess(im, size):
    return to_tensor_normalize(tv_center_crop(tv_resize_shorter(im, size), size))


def resized_crop(im, i, j, h, w, size, flip):
    out = im.crop((j, i, j + w, i + h)).resize((size, size), Image.BICUBIC)
    if flip:
        out = out.transpose(Image.FLIP_LEFT_RIGHT)
    return to_tensor_normalize(out)


# ---- fixtures --------------------------------------------------------------------------------
def main():
    files = make_images()
    os.makedirs(FXDIR, exist_ok=True)
    for f in os.listdir(FXDIR):
        os.remove(os.path.join(FXDIR, f))
    lines = ["# written by tests/ref/ref_image.py; paths relative to tests/fixtures/",
             "# decode IMAGE NPY(int32 [h,w,3], PIL convert('RGB')) exact|jpeg",
             "# resize IMAGE W H X0 Y0 X1 Y1|- NPY(int32 [H,W,3], PIL BICUBIC)",
             "# pre IMAGE S NPY(float32 [3,S,S], OpenCLIP val transform, CLIP mean/std)",
             "# prejpeg IMAGE S NPY(as pre, but PIL decoded the JPEG with libjpeg: bounded, not exact)",
             "# crop IMAGE LEFT TOP CW CH S FLIP NPY(float32 [3,S,S], crop -> resize -> flip -> normalize)",
             "# bad FILE (decoding must fail with an error naming it)"]

    def npy(name, arr):
        np.save(os.path.join(FXDIR, name), arr)
        return "image/" + name

    for name in sorted(files):
        kind = "jpeg" if name.endswith(".jpg") else "exact"
        arr = np.asarray(load_rgb(files[name]), dtype=np.int32)
        lines.append("decode images/%s %s %s" % (name, npy("dec_" + name.replace(".", "_") + ".npy", arr), kind))

    resize_cases = [
        ("rgb_160x120.png", 64, 48, None), ("rgb_160x120.png", 50, 37, None),
        ("rgb_160x120.png", 224, 224, None), ("rgb_160x120.png", 300, 7, None),
        ("rgb_160x120.png", 7, 5, None), ("rgb_160x120.png", 160, 120, None),
        ("rgb_160x120.png", 40, 33, (10.5, 7.25, 130.75, 100.5)),
        ("rgb_160x120.png", 32, 32, (20, 10, 100, 90)),
        ("rgb_160x120.png", 160, 120, (0.3, 0, 159.7, 120)),
        ("rgb_160x120.png", 13, 120, (3.1, 0, 150.2, 120)),
        ("gray_50x80.png", 32, 51, None), ("gray_50x80.png", 113, 181, None),
        ("tiny_1x23.png", 5, 40, None), ("tiny_1x23.png", 1, 7, None),
        ("tiny_23x1.png", 12, 3, None),
        ("rgb_97x61.bmp", 97, 30, None), ("rgb_97x61.bmp", 41, 61, None),
        ("rgb_97x61.bmp", 1, 1, None),
    ]
    for k, (name, w, h, box) in enumerate(resize_cases):
        im = load_rgb(files[name])
        out = np.asarray(im.resize((w, h), Image.BICUBIC, box=box), dtype=np.int32)
        bs = "-" if box is None else " ".join(repr(float(v)) for v in box)
        lines.append("resize images/%s %d %d %s %s" % (name, w, h, bs, npy("resize_%02d.npy" % k, out)))

    pre_cases = [("rgb_160x120.png", 224), ("rgb_97x61.bmp", 224),
                 ("rgb_160x120.png", 32), ("rgb_160x120.png", 15), ("rgb_160x120.png", 47),
                 ("rgb_35x32.png", 32), ("rgb_35x32.png", 30), ("gray_50x80.png", 32),
                 ("rgba_64x48.png", 32), ("palette_40x30.png", 32), ("palette_trns_40x30.png", 24),
                 ("la_24x20.png", 16), ("gif_32x24.gif", 32), ("tiny_1x23.png", 32),
                 ("tiny_23x1.png", 8)]
    for k, (name, s) in enumerate(pre_cases):
        out = preprocess(load_rgb(files[name]), s).astype(np.float32)
        lines.append("pre images/%s %d %s" % (name, s, npy("pre_%02d.npy" % k, out)))

    # JPEG end to end: PIL (libjpeg) decode vs stb decode; measured, not exact
    for k, (name, s) in enumerate([("photo_120x90.jpg", 64), ("photo444_120x90.jpg", 64)]):
        out = preprocess(load_rgb(files[name]), s).astype(np.float32)
        lines.append("prejpeg images/%s %d %s" % (name, s, npy("prejpeg_%02d.npy" % k, out)))

    crop_cases = [("rgb_160x120.png", 27, 13, 101, 77, 32, 0), ("rgb_160x120.png", 27, 13, 101, 77, 32, 1),
                  ("rgb_160x120.png", 60, 50, 15, 20, 24, 1), ("rgb_160x120.png", 0, 0, 160, 120, 48, 0),
                  ("gray_50x80.png", 3, 9, 44, 33, 20, 0), ("rgb_97x61.bmp", 50, 2, 47, 59, 64, 1)]
    for k, (name, left, top, cw, ch, s, flip) in enumerate(crop_cases):
        out = resized_crop(load_rgb(files[name]), top, left, ch, cw, s, flip).astype(np.float32)
        lines.append("crop images/%s %d %d %d %d %d %d %s" % (name, left, top, cw, ch, s, flip,
                                                               npy("crop_%02d.npy" % k, out)))

    for name in ["bad_truncated.png", "bad_truncated.jpg", "bad_random.jpg", "bad_empty.png", "bad_huge.png"]:
        lines.append("bad images/%s" % name)

    with open(os.path.join(FXDIR, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(d, f)) for d in (IMDIR, FXDIR) for f in os.listdir(d))
    print("wrote %d cases, %d files, %.2f MB" % (len(lines) - 7, len(os.listdir(FXDIR)) + len(os.listdir(IMDIR)),
                                                 total / 1e6))


if __name__ == "__main__":
    sys.exit(main())
