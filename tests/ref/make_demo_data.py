"""Makes examples/data/shapes: a tiny folder-per-class image set for the offline demo
(random coloured shapes on noisy backgrounds, 64x48 PNGs). Deterministic."""
import os
import random

from PIL import Image, ImageDraw

root = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "data", "shapes")
rng = random.Random(1)
classes = {"red_circle": ("ellipse", (220, 40, 40)), "blue_square": ("rectangle", (40, 60, 220)),
           "green_triangle": ("polygon", (40, 180, 60)), "yellow_star": ("star", (230, 210, 40))}
for name, (shape, color) in classes.items():
    os.makedirs(os.path.join(root, name), exist_ok=True)
    for i in range(20):
        w, h = 64, 48
        img = Image.new("RGB", (w, h))
        px = img.load()
        base = [rng.randint(60, 200) for _ in range(3)]
        for y in range(h):
            for x in range(w):
                px[x, y] = tuple(max(0, min(255, b + rng.randint(-25, 25))) for b in base)
        d = ImageDraw.Draw(img)
        s = rng.randint(14, 30)
        x0, y0 = rng.randint(0, w - s), rng.randint(0, h - s)
        c = tuple(max(0, min(255, v + rng.randint(-30, 30))) for v in color)
        if shape == "ellipse":
            d.ellipse([x0, y0, x0 + s, y0 + s], fill=c)
        elif shape == "rectangle":
            d.rectangle([x0, y0, x0 + s, y0 + s], fill=c)
        elif shape == "polygon":
            d.polygon([(x0 + s / 2, y0), (x0, y0 + s), (x0 + s, y0 + s)], fill=c)
        else:
            import math
            pts = []
            for k in range(10):
                r = s / 2 if k % 2 == 0 else s / 5
                a = math.pi / 2 + k * math.pi / 5
                pts.append((x0 + s / 2 + r * math.cos(a), y0 + s / 2 - r * math.sin(a)))
            d.polygon(pts, fill=c)
        img.save(os.path.join(root, name, "%02d.png" % i), optimize=True)
