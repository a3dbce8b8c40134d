"""Fixtures for the weights and arrays readers (test/io/*.test.ts).

Run with Debian's Python (it has torch):  /usr/bin/python3 tools/golden/io.py
Writes test/fixtures/io/: .pth files from torch.save (every storage dtype, strided views and shared
storages, training checkpoints, pickle protocol 4, a deflated copy, and files that must be rejected),
.npy files from numpy (every dtype, Fortran order, header versions 1-3, big-endian), .safetensors
files, and expected.json with the exact values each file holds.

expected.json: {file: {tensor name: {"dtype", "shape", "values"}}}; values are row-major, floats are
JSON numbers except "nan", "inf" and "-inf", int64 values are decimal strings (they may exceed 2^53).
"""
import argparse
import collections
import io
import json
import math
import os
import struct
import zipfile

import numpy as np
import torch

from common import save_safetensors

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "io")
os.makedirs(OUT, exist_ok=True)
torch.manual_seed(7)  # nn.Module initialisation
gen = torch.Generator().manual_seed(7)
expected = {}


def path(name):
    return os.path.join(OUT, name)


def float_value(v):
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def describe(t):
    """The dtype, shape and exact row-major values of a torch tensor or numpy array."""
    if isinstance(t, np.ndarray):
        t = torch.from_numpy(np.array(t, dtype=t.dtype.newbyteorder("="), order="C"))
    t = t.detach().contiguous()
    dtype = str(t.dtype).replace("torch.", "")
    flat = t.reshape(-1)
    if t.is_floating_point():
        values = [float_value(v) for v in flat.double().tolist()]
    elif t.dtype == torch.int64:
        values = [str(v) for v in flat.tolist()]
    else:
        values = [int(v) for v in flat.tolist()]
    return {"dtype": dtype, "shape": list(t.shape), "values": values}


def expect(name, tensors):
    expected[name] = {k: describe(v) for k, v in tensors.items()}


def randn(*shape):
    return torch.randn(*shape, generator=gen)


def fixed_time(name, compress=zipfile.ZIP_DEFLATED):
    """A zip entry with a constant timestamp, so that regenerating the fixtures changes nothing."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = compress
    return info


def tiny_net():
    net = torch.nn.Sequential(
        collections.OrderedDict(
            conv=torch.nn.Conv2d(2, 3, 3, bias=False), bn=torch.nn.BatchNorm2d(3), fc=torch.nn.Linear(3, 2)
        )
    )
    net.train()
    net(randn(4, 2, 5, 5))  # moves the BatchNorm running statistics and num_batches_tracked
    return net


def every_dtype():
    specials = torch.tensor([0.0, -0.0, 1.5, -2.25, float("inf"), float("-inf"), float("nan"), 65504.0])
    return {
        "f32": torch.cat([specials, randn(4)]).view(3, 4),
        "f64": torch.randn(2, 3, generator=gen, dtype=torch.float64) * 1e200,
        "f16": torch.cat([specials, torch.tensor([6.1e-5, -3.0])]).half(),
        "bf16": torch.cat([specials[:7], torch.tensor([1e30, 3.140625])]).bfloat16().view(3, 3),
        "i64": torch.tensor([[0, -1, 2**62 + 1], [-(2**63), 2**63 - 1, 12345]], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), 2**31 - 1, 0, 7], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, -1], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, 0, -5], dtype=torch.int8),
        "u8": torch.tensor([[0, 255], [128, 1]], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }


def write_pth():
    tensors = every_dtype()
    torch.save(tensors, path("dtypes.pth"))
    expect("dtypes.pth", tensors)

    base = torch.arange(24, dtype=torch.float32)
    grid = randn(4, 6)
    views = {
        "transposed": grid.t(),
        "strided": grid[1:, ::2],
        "shared_a": base[2:8],
        "shared_b": base[5:15].view(2, 5),
        "expanded": torch.tensor([1.0, 2.0]).expand(3, 2),
        "selected": base[3],
        "permuted": randn(2, 3, 4).permute(2, 0, 1),
        "long_column": torch.arange(12).view(3, 4)[:, 1],
    }
    assert views["shared_a"].storage().data_ptr() == views["shared_b"].storage().data_ptr()
    torch.save(views, path("views.pth"))
    expect("views.pth", views)

    state = tiny_net().state_dict()
    torch.save(state, path("module.pth"))
    expect("module.pth", state)

    net = tiny_net()
    optim = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(randn(1, 2, 5, 5)).sum().backward()
    optim.step()
    wrapped = torch.nn.DataParallel(net).state_dict()
    checkpoint = {
        "epoch": 3,
        "arch": "tiny",
        "best_acc": 0.5,
        "flags": [True, None, -(2**70)],
        "shape": (1, 2),
        "blob": b"\x00\xff",
        "state_dict": wrapped,
        "optimizer": optim.state_dict(),
    }
    torch.save(checkpoint, path("checkpoint.pth"))
    expect("checkpoint.pth", {k[len("module.") :]: v for k, v in wrapped.items()})

    model = {"model": {"embed": {"weight": randn(3, 2)}, "heads": [randn(2), randn(1)]}, "step": 10}
    torch.save(model, path("model_key.pth"))
    expect("model_key.pth", {"embed.weight": model["model"]["embed"]["weight"],
                             "heads.0": model["model"]["heads"][0], "heads.1": model["model"]["heads"][1]})

    torch.save(tensors, path("protocol4.pth"), pickle_protocol=4)
    expect("protocol4.pth", tensors)

    with zipfile.ZipFile(path("dtypes.pth")) as src, zipfile.ZipFile(path("deflate.pth"), "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(fixed_time(info.filename), src.read(info.filename))
    expect("deflate.pth", tensors)

    torch.save({"w": randn(2)}, path("legacy.pth"), _use_new_zipfile_serialization=False)
    torch.save({"args": argparse.Namespace(lr=0.1), "state_dict": {"w": randn(2)}}, path("namespace.pth"))
    # A pickle that would run a shell command if its globals were trusted.
    with zipfile.ZipFile(path("malicious.pth"), "w") as z:
        z.writestr(fixed_time("archive/data.pkl"), b"\x80\x02cos\nsystem\nX\x0f\x00\x00\x00touch /tmp/pwnd\x85R.")
        z.writestr(fixed_time("archive/version"), b"3\n")
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path("torchscript.pt"))


def write_npy():
    rng = np.random.default_rng(3)
    arrays = {
        "f4": rng.standard_normal((3, 4)).astype("<f4"),
        "f8": np.array([[0.0, -0.0, np.inf], [-np.inf, np.nan, 1e-300]], dtype="<f8"),
        "f2": np.array([1.5, -2.0, 65504, 6.1e-5, np.nan], dtype="<f2"),
        "i8": np.array([-(2**63), 2**63 - 1, 2**53 + 1, -7], dtype="<i8"),
        "i4": rng.integers(-(2**31), 2**31, (2, 5)).astype("<i4"),
        "i2": np.array([-32768, 32767, 0], dtype="<i2"),
        "i1": np.array([[-128, 127], [0, 1]], dtype="|i1"),
        "u1": np.arange(250, 256, dtype="|u1"),
        "b1": np.array([[True, False, True]]),
        "scalar": np.array(3.25, dtype="<f4"),
        "empty": np.zeros((0, 4), dtype="<f4"),
        "fortran2d": np.asfortranarray(rng.standard_normal((3, 5)).astype("<f4")),
        "fortran3d": np.asfortranarray(np.arange(24, dtype="<i8").reshape(2, 3, 4)),
    }
    assert arrays["fortran2d"].flags.f_contiguous and not arrays["fortran2d"].flags.c_contiguous
    for name, arr in arrays.items():
        np.save(path(f"{name}.npy"), arr)
    for version in [(2, 0), (3, 0)]:
        name = f"v{version[0]}.npy"
        arrays[name[:-4]] = rng.standard_normal((2, 3)).astype("<f4")
        with open(path(name), "wb") as f:
            np.lib.format.write_array(f, arrays[name[:-4]], version=version)
    np.save(path("bigendian.npy"), np.arange(4, dtype=">f4"))
    np.save(path("object.npy"), np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(path("u4.npy"), np.arange(3, dtype="<u4"))
    expected["npy"] = {name: describe(arr) for name, arr in arrays.items()}


def write_safetensors():
    tensors = every_dtype()
    del tensors["i16"], tensors["i8"]  # common.save_safetensors knows only the engine's core dtypes
    save_safetensors(path("dtypes.safetensors"), tensors, {"format": "pt", "source": "tools/golden/io.py"})
    expect("dtypes.safetensors", tensors)
    # int8 and int16 written here by hand, in reverse order of offsets, with no header padding.
    ints = {"i16": torch.tensor([[-32768, 32767], [5, -6]], dtype=torch.int16), "i8": torch.tensor([-128, 127, 3], dtype=torch.int8)}
    blobs = {k: v.numpy().tobytes() for k, v in ints.items()}
    header = {
        "i16": {"dtype": "I16", "shape": [2, 2], "data_offsets": [3, 11]},
        "i8": {"dtype": "I8", "shape": [3], "data_offsets": [0, 3]},
    }
    head = json.dumps(header).encode()
    with open(path("ints.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + blobs["i8"] + blobs["i16"])
    expect("ints.safetensors", ints)


write_pth()
write_npy()
write_safetensors()
with open(path("expected.json"), "w") as f:
    json.dump(expected, f, indent=None, separators=(",", ":"))
print("wrote", sorted(os.listdir(OUT)))
