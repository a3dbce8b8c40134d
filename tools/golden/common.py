"""Helpers for the golden-fixture generators (run with Debian's /usr/bin/python3, which has torch).

Fixtures are written to test/fixtures/golden/. Small ones as JSON ({name: {"shape", "dtype", "data"}}),
larger ones as .safetensors (written here without the safetensors package, which Debian lacks).
"""
import json
import os
import struct

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(ROOT, "test", "fixtures", "golden")

_DTYPES = {
    torch.float32: ("F32", "float32"),
    torch.float64: ("F64", "float64"),
    torch.float16: ("F16", "float16"),
    torch.bfloat16: ("BF16", "bfloat16"),
    torch.int64: ("I64", "int64"),
    torch.int32: ("I32", "int32"),
    torch.uint8: ("U8", "uint8"),
    torch.bool: ("BOOL", "bool"),
}


def out_path(name):
    os.makedirs(GOLDEN, exist_ok=True)
    return os.path.join(GOLDEN, name)


def save_json(name, tensors, extra=None):
    """tensors: dict name -> torch.Tensor. Stored as {"tensors": {...}, "extra": {...}}."""
    doc = {"tensors": {}, "extra": extra or {}}
    for key, t in tensors.items():
        t = t.detach().cpu()
        doc["tensors"][key] = {
            "shape": list(t.shape),
            "dtype": _DTYPES[t.dtype][1],
            "data": t.reshape(-1).tolist() if t.dtype != torch.bool else [int(v) for v in t.reshape(-1).tolist()],
        }
    with open(out_path(name), "w") as f:
        json.dump(doc, f)


def save_safetensors(path, tensors, metadata=None):
    """Writes the safetensors format: u64 header length, JSON header, then raw little-endian data."""
    header = {}
    blobs = []
    offset = 0
    for key, t in tensors.items():
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[key] = {"dtype": _DTYPES[t.dtype][0], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)
