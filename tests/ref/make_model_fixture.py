"""Writes tests/fixtures/model/tiny.coop with coopfile.py, so the C loader test checks
that the Python writer (used by every reference) and the C reader agree byte for byte."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from coopfile import write_model  # noqa: E402

out = os.path.join(os.path.dirname(__file__), "..", "fixtures", "model")
os.makedirs(out, exist_ok=True)
cfg = {"model_name": "tiny", "pretrained": "test", "embed_dim": 4, "vision": "none", "text": "clip",
       "vocab_size": 10, "text_width": 8, "text_layers": 1, "text_heads": 2, "text_mlp": 16,
       "text_act": "quick_gelu", "tokenizer": "clip_bpe", "pad_id": 0, "sot_id": 8, "eot_id": 9,
       "context_length": 6}
a = (np.arange(80, dtype=np.float32).reshape(10, 8) - 40) / 7
b = np.linspace(-3, 3, 5).astype(np.float32)
for dt in ("f32", "f16", "bf16"):
    write_model(os.path.join(out, "tiny_%s.coop" % dt), cfg, {"token_embedding.weight": a, "x.b": b},
                {"clip_bpe": b"#version\nh e\n", "other": b"123"}, dtype=dt)
np.save(os.path.join(out, "tiny_a.npy"), a)
