"""Writer for coop.h model files, used by the PyTorch references to make fixtures.

The format is described in coop.h ("Model file"). This mirrors coop_model_writer_* in C:
header (64 bytes), config text, tokenizer blob, tensor data (64-byte aligned), tensor table.
"""
import struct

import numpy as np

DTYPES = {"f32": 0, "f16": 1, "bf16": 2}


def _to_dtype(a, dtype):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    if dtype == "f32":
        return a.tobytes()
    if dtype == "f16":
        return a.astype("<f2").tobytes()
    # bf16: round to nearest even on the upper 16 bits (NaN kept quiet)
    u = a.view(np.uint32).astype(np.uint64)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(a)
    r[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return r.astype("<u2").tobytes()


def round_weights(a, dtype):
    """The f32 values a model file of this dtype holds (for references that compute with them)."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "f32":
        return a.copy()
    if dtype == "f16":
        return a.astype(np.float16).astype(np.float32)
    b = np.frombuffer(_to_dtype(a, "bf16"), dtype=np.uint16).astype(np.uint32) << 16
    return b.view(np.float32).reshape(a.shape)


def config_text(config):
    lines = []
    for k, v in config.items():
        if isinstance(v, (list, tuple)):
            v = " ".join(repr(float(x)) if isinstance(x, float) else str(x) for x in v)
        elif isinstance(v, float):
            v = repr(v)
        lines.append("%s %s" % (k, v))
    return ("\n".join(lines) + "\n").encode()


def tokenizer_blob(tok):
    out = b""
    for name, data in tok.items():
        nb = name.encode()
        out += struct.pack("<I", len(nb)) + nb + struct.pack("<Q", len(data)) + bytes(data)
        out += b"\0" * (-len(out) % 8)
    return out


def _align(n, a=64):
    return n + (-n % a)


def write_model(path, config, tensors, tokenizer=None, dtype="f32"):
    """config: dict key -> value (lists for multi-valued keys); tensors: dict name -> array;
    tokenizer: dict section name -> bytes; dtype: f32|f16|bf16 for all tensors
    (or a dict name -> dtype)."""
    cfg = config_text(config)
    tok = tokenizer_blob(tokenizer or {})
    names = list(tensors.keys())
    off = 64
    cfg_off = off
    off = _align(off + len(cfg))
    tok_off = off
    off = _align(off + len(tok))
    entries = []
    blobs = []
    for name in names:
        a = np.asarray(tensors[name])
        if a.ndim == 0:
            a = a.reshape(1)
        assert 1 <= a.ndim <= 4, name
        assert len(name.encode()) < 80, name
        dt = dtype[name] if isinstance(dtype, dict) else dtype
        data = _to_dtype(a, dt)
        shape = list(a.shape) + [1] * (4 - a.ndim)
        entries.append((name, DTYPES[dt], a.ndim, shape, off, len(data)))
        blobs.append((off, data))
        off = _align(off + len(data))
    table_off = off
    size = table_off + 128 * len(names)
    buf = bytearray(size)
    buf[0:64] = struct.pack("<8sIIQQQQQQ", b"COOPMODL", 1, len(names), size,
                            cfg_off, len(cfg), tok_off if tok else 0, len(tok), table_off)
    buf[cfg_off:cfg_off + len(cfg)] = cfg
    buf[tok_off:tok_off + len(tok)] = tok
    for o, data in blobs:
        buf[o:o + len(data)] = data
    for i, (name, dt, nd, shape, o, nb) in enumerate(entries):
        e = struct.pack("<80sII4IQQ", name.encode(), dt, nd, *shape, o, nb) + b"\0" * 8
        assert len(e) == 128
        buf[table_off + 128 * i: table_off + 128 * (i + 1)] = e
    with open(path + ".tmp", "wb") as f:
        f.write(buf)
    import os
    os.replace(path + ".tmp", path)
