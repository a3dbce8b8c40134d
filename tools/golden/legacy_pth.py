"""Fixtures for the pre-1.6 torch.save formats (test/io/legacy-pth.test.ts).

Run with Debian's Python (it has torch 1.13):  /usr/bin/python3 tools/golden/legacy_pth.py
Writes test/fixtures/legacy-pth/ and expected.json, the exact values torch.load gives for each file.

- pickle-*.pth: the legacy pickle format (PyTorch 0.1.10-1.5). torch.save(..., _use_new_zipfile_serialization=
  False) writes most of them; write_legacy_pickle writes the ones torch 1.13 no longer can (a storage view
  in a persistent id, a big-endian sys_info), the way _legacy_save lays the file out.
- tar-*.pth: the first format (PyTorch 0.1.x, torchvision's 2017 ResNet files), which torch 1.13 reads
  (legacy_load) but cannot write: write_legacy_tar writes the four entries as torch 0.1.x's _save did.
Every file that must load is checked here with torch.load, and its expected values come from that load.
torch.save names storages by memory address, so a rerun changes those files' bytes but not their values.

With --resnet18 DIR it instead writes a seeded torchvision resnet18 state dict three ways into DIR (zip,
legacy pickle, legacy tar; about 45 MB each) for the test that compares their forward passes.

expected.json: {file: {tensor name: {"dtype", "shape", "values"}}}, as in tools/golden/io.py.
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import tarfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "legacy-pth")
MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_TYPES = {
    torch.float32: torch.FloatStorage,
    torch.float64: torch.DoubleStorage,
    torch.float16: torch.HalfStorage,
    torch.int64: torch.LongStorage,
    torch.int32: torch.IntStorage,
    torch.uint8: torch.ByteStorage,
    torch.bool: torch.BoolStorage,
}
TENSOR_TYPES = {torch.float32: torch.FloatTensor, torch.int64: torch.LongTensor, torch.float64: torch.DoubleTensor}


def sys_info(little_endian=True):
    return dict(protocol_version=PROTOCOL_VERSION, little_endian=little_endian, type_sizes=dict(short=2, int=4, long=8))


class Py2Pickler(pickle._Pickler):
    """Writes str as Python 2's str (SHORT_BINSTRING / BINSTRING), as the Python 2 pickles of PyTorch's
    first years are; everything else as Python 3's protocol 2 (which Python 2 wrote the same way)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_str(self, obj):
        data = obj.encode("latin1")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_str


class Py2OrderedDict:
    """Pickles as Python 2's OrderedDict did: OrderedDict([[key, value], ...])."""

    def __init__(self, items):
        self.items = items

    def __reduce__(self):
        return (collections.OrderedDict, ([[k, v] for k, v in self.items],))


def dump(obj, f, py2=False):
    (Py2Pickler if py2 else pickle.Pickler)(f, protocol=2).dump(obj)


def raw_bytes(t):
    """The little-endian bytes of a contiguous 1-d tensor (a storage's contents)."""
    return t.contiguous().view(torch.uint8).numpy().tobytes() if t.numel() else b""


# ---- the legacy pickle format, written by hand -------------------------------------------------------


class StorageView:
    """Stands for a storage in write_legacy_pickle: `root` is a key of `roots`; a view when offset/numel set."""

    def __init__(self, root, dtype, numel, view=None):
        self.root, self.dtype, self.numel, self.view = root, dtype, numel, view


class TensorOf:
    """Pickles as torch._utils._rebuild_tensor_v2 over a StorageView, like Tensor.__reduce_ex__ does; with
    v1, as PyTorch 0.3's _rebuild_tensor(storage, offset, size, stride)."""

    def __init__(self, storage, offset, size, stride, v1=False):
        if v1:
            self.rebuild, self.args = torch._utils._rebuild_tensor, (storage, offset, tuple(size), tuple(stride))
        else:
            self.rebuild = torch._utils._rebuild_tensor_v2
            self.args = (storage, offset, torch.Size(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (self.rebuild, self.args)


def write_legacy_pickle(path, obj, roots, little_endian=True, py2=False, location="cpu"):
    """_legacy_save's layout; roots: key -> 1-d tensor holding the storage's values."""

    class Pickler(Py2Pickler if py2 else pickle.Pickler):
        def persistent_id(self, o):
            if not isinstance(o, StorageView):
                return None
            view = None if o.view is None else (o.view[0], o.view[1], o.view[2])
            return ("storage", STORAGE_TYPES[o.dtype], o.root, location, o.numel, view)

    with open(path, "wb") as f:
        for header in (MAGIC_NUMBER, PROTOCOL_VERSION, sys_info(little_endian)):
            dump(header, f, py2)
        Pickler(f, protocol=2).dump(obj)
        keys = sorted(roots)
        dump(keys, f, py2)
        for key in keys:
            f.write(struct.pack("<q", roots[key].numel()))
            f.write(raw_bytes(roots[key]))


# ---- the tar format, written as torch 0.1.x did -------------------------------------------------------


class TarTensor:
    """A tensor to write into a tar file: a strided view of storage `storage` (a key of `storages`)."""

    def __init__(self, storage, offset, size, stride, dtype=torch.float32):
        self.storage, self.offset, self.size, self.stride, self.dtype = storage, offset, size, stride, dtype


def write_legacy_tar(path, obj, storages, views=(), little_endian=True, overwritten=(), py2=False):
    """storages: key -> 1-d tensor; views: (view key, root key, offset, numel) storage views, whose own
    records in 'storages' torch.load ignores (it slices the root): those listed in `overwritten` are
    written as zeros so that a reader that forgets the views gets them wrong."""
    tensor_keys = {}
    containers = set()

    class Pickler(Py2Pickler if py2 else pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, TarTensor):
                tensor_keys.setdefault(id(o), (len(tensor_keys) * 16 + 0x7F3A00001000, o))
                return str(tensor_keys[id(o)][0])
            if isinstance(o, type) and issubclass(o, torch.nn.Module) and o not in containers:
                containers.add(o)  # once, as torch did: inside the id it is pickled by reference
                return (o, None, None)  # a container class (no source saved), as a whole-model save has
            return None

    def entry(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 1485000000, 0o644
        tar.addfile(info, io.BytesIO(data))

    buf = io.BytesIO()
    Pickler(buf, protocol=2).dump(obj)
    pickled = buf.getvalue()

    tensors = io.BytesIO()
    dump(len(tensor_keys), tensors, py2)
    for key, t in tensor_keys.values():
        dump((key, t.storage, TENSOR_TYPES[t.dtype]), tensors, py2)
        tensors.write(struct.pack("<q", len(t.size)))  # _write_metadata: ndim as 8 bytes
        tensors.write(struct.pack(f"<{len(t.size)}q", *t.size))
        tensors.write(struct.pack(f"<{len(t.stride)}q", *t.stride))
        tensors.write(struct.pack("<q", t.offset))

    records = io.BytesIO()
    dump(len(storages), records, py2)
    for key, values in storages.items():
        dump((key, "cpu", STORAGE_TYPES[values.dtype]), records, py2)
        records.write(struct.pack("<q", values.numel()))
        records.write(b"\0" * len(raw_bytes(values)) if key in overwritten else raw_bytes(values))
    dump(list(views), records, py2)

    info = io.BytesIO()
    dump(sys_info(little_endian), info, py2)
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("sys_info", info), ("pickle", pickled), ("tensors", tensors), ("storages", records)):
            entry(tar, name, data if isinstance(data, bytes) else data.getvalue())


# ---- expected values ----------------------------------------------------------------------------------


def describe(t):
    t = t.detach().contiguous()
    flat = t.reshape(-1)
    if t.is_floating_point():
        values = flat.double().tolist()
    elif t.dtype == torch.int64:
        values = [str(v) for v in flat.tolist()]
    else:
        values = [int(v) for v in flat.tolist()]
    return {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "values": values}


def loaded(path):
    """What torch.load gives for the file, as {name: tensor} in order."""
    obj = torch.load(path, map_location="cpu")
    assert isinstance(obj, dict), type(obj)
    assert all(torch.is_tensor(v) for v in obj.values()), path
    return obj


class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 2)
        self.bn = torch.nn.BatchNorm2d(3)
        self.fc = torch.nn.Linear(3, 2)


def small_state_dict():
    torch.manual_seed(11)
    m = Small()
    m.bn.running_mean.uniform_(-1, 1)
    m.bn.running_var.uniform_(0.5, 2)
    m.bn.num_batches_tracked.fill_(2**40 + 3)  # an int64 beyond int32
    return m, m.state_dict()


def fixtures():
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    path = lambda name: os.path.join(OUT, name)  # noqa: E731

    # Written by torch itself in the legacy pickle format.
    model, sd = small_state_dict()
    base = torch.arange(24, dtype=torch.float32) / 8 - 1
    sd["views.transposed"] = base[:12].view(3, 4).t()  # strides (1, 4)
    sd["views.shared_a"] = base[2:10]  # offset 2 into the same storage as shared_b
    sd["views.shared_b"] = base[8:20:3]  # offset 8, stride 3
    sd["dtypes.float64"] = torch.tensor([1.5, -2.25, 1e300], dtype=torch.float64)
    sd["dtypes.float16"] = torch.tensor([0.5, -65504.0], dtype=torch.float16)
    sd["dtypes.int32"] = torch.tensor([-7, 2**31 - 1], dtype=torch.int32)
    sd["dtypes.uint8"] = torch.tensor([0, 255], dtype=torch.uint8)
    sd["dtypes.bool"] = torch.tensor([True, False, True])
    assert isinstance(sd, collections.OrderedDict)
    torch.save(sd, path("pickle-state-dict.pth"), _use_new_zipfile_serialization=False)
    plain = {"w": torch.randn(2, 3, generator=torch.Generator().manual_seed(1)), "steps": torch.tensor([5, -6])}
    torch.save(plain, path("pickle-plain-dict.pth"), _use_new_zipfile_serialization=False)
    torch.save(model, path("pickle-model.pth"), _use_new_zipfile_serialization=False)
    assert isinstance(torch.load(path("pickle-model.pth")), Small)  # a whole model: torch can, we refuse

    # Storage views in persistent ids (written by PyTorch < 0.4 for tensors of sliced storages).
    root = torch.arange(10, dtype=torch.float32) * 0.5
    v = StorageView("100", torch.float32, 10, view=("101", 3, 5))
    whole = StorageView("100", torch.float32, 10)
    obj = collections.OrderedDict(
        [("whole", TensorOf(whole, 0, [2, 5], [5, 1])), ("view", TensorOf(v, 1, [2, 2], [1, 2]))]
    )
    write_legacy_pickle(path("pickle-storage-view.pth"), obj, {"100": root})
    write_legacy_pickle(path("pickle-big-endian.pth"), obj, {"100": root}, little_endian=False)
    torch.load(path("pickle-big-endian.pth"))  # torch ignores the flag; we refuse the file

    # The tar format: an OrderedDict with float32 and int64, shared storages, offsets and strides.
    s1, s2, s3 = 0x7F3A0000A000, 0x7F3A0000B000, 0x7F3A0000C000
    weights = torch.linspace(-1, 1, 20)
    counts = torch.tensor([2**40 + 3, -1, 7])
    state = collections.OrderedDict(
        [
            ("conv.weight", TarTensor(s1, 0, [2, 3], [3, 1])),
            ("conv.bias", TarTensor(s1, 6, [2], [1])),
            ("fc.weight", TarTensor(s1, 8, [3, 2], [1, 3])),  # transposed
            ("fc.bias", TarTensor(s1, 14, [3], [2])),  # step 2: reaches 18
            ("bn.num_batches_tracked", TarTensor(s2, 0, [], [], torch.int64)),
            ("bn.counts", TarTensor(s2, 0, [3], [1], torch.int64)),
            ("view.part", TarTensor(s3, 1, [2, 2], [2, 1])),  # offset 1 into a storage view
        ]
    )
    storages = {s1: weights, s2: counts, s3: weights[4:10].clone()}
    write_legacy_tar(path("tar-state-dict.pth"), state, storages, views=[(s3, s1, 4, 6)], overwritten={s3})
    tar_plain = {"w": TarTensor(s1, 2, [4], [1]), "steps": TarTensor(s2, 1, [2], [1], torch.int64)}
    write_legacy_tar(path("tar-plain-dict.pth"), tar_plain, {s1: weights, s2: counts})
    write_legacy_tar(path("tar-big-endian.pth"), tar_plain, {s1: weights, s2: counts}, little_endian=False)
    write_legacy_tar(path("tar-model.pth"), {"model": Small, "w": TarTensor(s1, 0, [2], [1])}, {s1: weights})

    # As Python 2 wrote them (str as BINSTRING, OrderedDict from a list of pairs): the PyTorch 0.3-era
    # pickle format (_rebuild_tensor, storages saved from the GPU) and a 0.1.x tar.
    py2_state = Py2OrderedDict(
        [
            ("features.0.weight", TensorOf(whole, 0, [2, 3], [3, 1], v1=True)),
            ("features.0.bias", TensorOf(whole, 6, [4], [1], v1=True)),
        ]
    )
    write_legacy_pickle(path("pickle-python2.pth"), py2_state, {"100": root}, py2=True, location="cuda:0")
    py2_tar = Py2OrderedDict(
        [("conv.weight", TarTensor(s1, 1, [3, 2], [1, 3])), ("steps", TarTensor(s2, 0, [3], [1], torch.int64))]
    )
    write_legacy_tar(path("tar-python2.pth"), py2_tar, {s1: weights, s2: counts}, py2=True)

    for name in (
        "pickle-state-dict.pth",
        "pickle-plain-dict.pth",
        "pickle-storage-view.pth",
        "tar-state-dict.pth",
        "tar-plain-dict.pth",
        "pickle-python2.pth",
        "tar-python2.pth",
    ):
        expected[name] = {k: describe(t) for k, t in loaded(path(name)).items()}
    assert type(torch.load(path("tar-state-dict.pth"))) is collections.OrderedDict
    assert type(torch.load(path("tar-plain-dict.pth"))) is dict
    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f"wrote {len(os.listdir(OUT))} files, {total} bytes, to {os.path.normpath(OUT)}")


def resnet18(out):
    """A seeded torchvision resnet18 state dict (random BatchNorm statistics) three ways: zip, pickle, tar."""
    import torchvision

    torch.manual_seed(0)
    m = torchvision.models.resnet18()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.1, 0.1)
            mod.running_var.uniform_(0.5, 1.5)
    sd = m.state_dict()
    os.makedirs(out, exist_ok=True)
    torch.save(sd, os.path.join(out, "resnet18-zip.pth"))
    torch.save(sd, os.path.join(out, "resnet18-pickle.pth"), _use_new_zipfile_serialization=False)
    storages, state = {}, collections.OrderedDict()
    for i, (name, t) in enumerate(sd.items()):
        key = 0x7F3A00100000 + 64 * i
        storages[key] = t.reshape(-1).clone()
        state[name] = TarTensor(key, 0, list(t.shape), list(t.stride()), t.dtype)
    write_legacy_tar(os.path.join(out, "resnet18-tar.pth"), state, storages)
    for fmt in ("pickle", "tar"):
        back = torch.load(os.path.join(out, f"resnet18-{fmt}.pth"))
        assert back.keys() == sd.keys() and all(torch.equal(back[k], sd[k]) for k in sd), fmt


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--resnet18":
        resnet18(sys.argv[2])
    else:
        fixtures()
