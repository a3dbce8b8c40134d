"""Reference for src/nn/bninception.ts: the Caffe-converted BN-Inception in PyTorch, written from the
architecture (Ioffe & Szegedy 2015, in the layer naming of the widely used Caffe conversion that Cadene's
pretrainedmodels ships as `bninception`): every convolution has a bias and is followed by BatchNorm
(eps 1e-5, momentum 0.1) and ReLU; pooling is ceil-mode; the pool branch averages with padding counted
(3x3, stride 1, pad 1), except in 5b (max) and in the grid reductions 3c and 4e (3x3 max, stride 2,
whose 3x3 convolutions also stride 2 and which have no 1x1 and no pool projection).

    /usr/bin/python3 tools/golden/bninception.py --cache DIR

writes into DIR (under test/fixtures/.cache/, gitignored; ~90 MB, so it is made at test time, see
test/nn/fixtures.ts):
  weights_caffe.safetensors  seeded weights in the converted file's layout: BatchNorm vectors as [1, C],
                             no num_batches_tracked, with the last_linear head (1000 classes)
  embedder64.safetensors     the same backbone as an embedder state (backbone.*, [C] vectors, and a
                             seeded remap.weight [64, 1024])
  images/*.png               three RGB images of different sizes
  expected.safetensors       written last (its presence means the cache is complete):
    input                      [3, 3, 64, 64] fixed input (Caffe range: BGR 0-255 minus the mean)
    eval_features, eval_logits the pooled 1024 features and the head's logits in eval mode
    train_features             the same in train mode (batch statistics) ...
    after.<bn>.<buffer>        ... and every BatchNorm's running_mean/var and num_batches_tracked after it
    embed1024, embed64         what `embed --images DIR` must write for the two weight files: each image
                               PIL-loaded as RGB, resized to 256x256 (bilinear), centre-cropped to 224,
                               BGR, minus [104, 117, 128]; eval features -> LayerNorm (no affine) ->
                               (remap) -> L2 normalisation
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from common import save_safetensors

CAFFE_MEAN_BGR = [104.0, 117.0, 128.0]

# name, input channels, 1x1, (3x3 reduce, 3x3), (double reduce, double 1, double 2), pool, pool projection.
# 3c and 4e reduce the grid: no 1x1, stride-2 3x3 convolutions, a stride-2 max pool passed through as is.
MIXED = [
    ("3a", 192, 64, (64, 64), (64, 96, 96), "avg", 32),
    ("3b", 256, 64, (64, 96), (64, 96, 96), "avg", 64),
    ("3c", 320, None, (128, 160), (64, 96, 96), "max", None),
    ("4a", 576, 224, (64, 96), (96, 128, 128), "avg", 128),
    ("4b", 576, 192, (96, 128), (96, 128, 128), "avg", 128),
    ("4c", 576, 160, (128, 160), (128, 160, 160), "avg", 128),
    ("4d", 608, 96, (128, 192), (160, 192, 192), "avg", 128),
    ("4e", 608, None, (128, 192), (192, 256, 256), "max", None),
    ("5a", 1056, 352, (192, 320), (160, 224, 224), "avg", 128),
    ("5b", 1024, 352, (192, 320), (192, 224, 224), "max", 128),
]


class BNInception(nn.Module):
    """Flat attributes so that state_dict keys are the converted file's: <unit>.weight, <unit>_bn.*."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self._units = []
        self._unit("conv1_7x7_s2", 3, 64, 7, 2)
        self._unit("conv2_3x3_reduce", 64, 64, 1)
        self._unit("conv2_3x3", 64, 192, 3)
        for name, cin, c1, (r3, o3), (rd, d1, d2), _pool, proj in MIXED:
            p = f"inception_{name}"
            s = 2 if c1 is None else 1
            if c1 is not None:
                self._unit(f"{p}_1x1", cin, c1, 1)
            self._unit(f"{p}_3x3_reduce", cin, r3, 1)
            self._unit(f"{p}_3x3", r3, o3, 3, s)
            self._unit(f"{p}_double_3x3_reduce", cin, rd, 1)
            self._unit(f"{p}_double_3x3_1", rd, d1, 3)
            self._unit(f"{p}_double_3x3_2", d1, d2, 3, s)
            if proj is not None:
                self._unit(f"{p}_pool_proj", cin, proj, 1)
        self.last_linear = nn.Linear(1024, num_classes)

    def _unit(self, name, cin, cout, k, stride=1):
        setattr(self, name, nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=True))
        setattr(self, f"{name}_bn", nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1))

    def _cbr(self, name, x):
        return F.relu(getattr(self, f"{name}_bn")(getattr(self, name)(x)))

    def features(self, x):
        h = F.max_pool2d(self._cbr("conv1_7x7_s2", x), 3, stride=2, ceil_mode=True)
        h = self._cbr("conv2_3x3", self._cbr("conv2_3x3_reduce", h))
        h = F.max_pool2d(h, 3, stride=2, ceil_mode=True)
        for name, _cin, c1, _b3, _bd, pool, proj in MIXED:
            p = f"inception_{name}"
            out = []
            if c1 is not None:
                out.append(self._cbr(f"{p}_1x1", h))
            out.append(self._cbr(f"{p}_3x3", self._cbr(f"{p}_3x3_reduce", h)))
            d = self._cbr(f"{p}_double_3x3_reduce", h)
            out.append(self._cbr(f"{p}_double_3x3_2", self._cbr(f"{p}_double_3x3_1", d)))
            if c1 is None:
                out.append(F.max_pool2d(h, 3, stride=2, ceil_mode=True))
            else:
                if pool == "avg":
                    q = F.avg_pool2d(h, 3, stride=1, padding=1, ceil_mode=True, count_include_pad=True)
                else:
                    q = F.max_pool2d(h, 3, stride=1, padding=1, ceil_mode=True)
                out.append(self._cbr(f"{p}_pool_proj", q))
            h = torch.cat(out, 1)
        return h

    def pooled(self, x):
        return F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)

    def forward(self, x):
        return self.last_linear(self.pooled(x))


def seeded_model():
    """Default PyTorch init, then BatchNorm statistics calibrated on a Caffe-range batch (so activations
    stay O(1) through the 69 layers in eval mode) and perturbed, with random affine parameters."""
    torch.manual_seed(1502)
    gen = torch.Generator().manual_seed(3167)
    model = BNInception()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    model.train()
    for m in bns:
        m.momentum = 1.0
    with torch.no_grad():
        model.pooled(caffe_range(torch.rand(4, 3, 96, 96, generator=gen)))
    with torch.no_grad():
        for m in bns:
            n = m.num_features
            m.momentum = 0.1
            std = m.running_var.sqrt()
            m.running_mean.add_(torch.randn(n, generator=gen) * 0.2 * std)
            m.running_var.mul_(torch.rand(n, generator=gen) * 1.5 + 0.5)
            m.weight.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
            m.bias.copy_(torch.randn(n, generator=gen) * 0.2)
            m.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
    return model, gen


def caffe_range(u):
    """u in [0, 1) as B x 3 x H x W BGR pixels: u * 255 minus the Caffe mean."""
    return u * 255 - torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1)


def caffe_layout(state):
    """The converted file's layout: BatchNorm vectors [1, C], no num_batches_tracked."""
    out = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            continue
        is_bn_vector = "_bn." in k and v.dim() == 1
        out[k] = v.reshape(1, -1).clone() if is_bn_vector else v.clone()
    return out


def write_images(folder, gen):
    """Smooth gradients plus noise, so that resizing matters; sizes below, at and above 256."""
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, (w, h) in enumerate([(300, 200), (160, 240), (256, 256)]):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        base = np.stack([xx / w * 255, yy / h * 255, (xx + yy) / (w + h) * 255], axis=2)
        noise = torch.randint(-40, 41, (h, w, 3), generator=gen).numpy()
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        path = os.path.join(folder, f"img{i}.png")
        Image.fromarray(pixels, "RGB").save(path)
        paths.append(path)
    return paths


def preprocess(path):
    """What our eval pipeline does for BN-Inception: resize 256x256 (PIL bilinear), centre crop 224
    (offset round(32 / 2) = 16), BGR, 0-255, minus the Caffe mean, std 1."""
    img = Image.open(path).convert("RGB").resize((256, 256), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32)[16:240, 16:240, ::-1] - np.array(CAFFE_MEAN_BGR, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))


def embedding(features, remap=None):
    h = F.layer_norm(features, (features.shape[1],), eps=1e-5)
    if remap is not None:
        h = h @ remap.t()
    return F.normalize(h, p=2, dim=1, eps=1e-12)


def atomic(path, write):
    tmp = f"{path}.tmp{os.getpid()}"
    write(tmp)
    os.replace(tmp, path)


def make_cache(folder):
    os.makedirs(folder, exist_ok=True)
    model, gen = seeded_model()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = caffe_range(torch.rand(3, 3, 64, 64, generator=gen))
    remap = (torch.rand(64, 1024, generator=gen) * 2 - 1) / 1024 ** 0.5
    images = torch.stack([preprocess(p) for p in write_images(os.path.join(folder, "images"), gen)])
    expected = {"input": x}
    model.eval()
    with torch.no_grad():
        f = model.pooled(x)
        expected["eval_features"] = f
        expected["eval_logits"] = model.last_linear(f)
        g = model.pooled(images)
        expected["embed1024"] = embedding(g)
        expected["embed64"] = embedding(g, remap)
        model.train()
        expected["train_features"] = model.pooled(x)
    for k, v in model.state_dict().items():
        if "running_" in k or "num_batches_tracked" in k:
            expected[f"after.{k}"] = v.clone()
    atomic(os.path.join(folder, "weights_caffe.safetensors"), lambda p: save_safetensors(p, caffe_layout(state)))
    backbone = {f"backbone.{k}": v for k, v in state.items() if not k.startswith("last_linear.")}
    backbone["remap.weight"] = remap
    atomic(os.path.join(folder, "embedder64.safetensors"), lambda p: save_safetensors(p, backbone))
    atomic(os.path.join(folder, "expected.safetensors"), lambda p: save_safetensors(p, expected))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--cache":
        sys.exit("usage: bninception.py --cache DIR")
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    make_cache(sys.argv[2])
