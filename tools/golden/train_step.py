"""Golden values for test/train/step-parity.test.ts: whole SGD training steps of the embedder + NormSoftmax.

A step (spec sections 1-3): embedding = normalize(remap(layer_norm(pool(backbone(x))))) with BatchNorm in
train mode; loss = cross_entropy(embedding @ normalize(W)^T / T, y), T = 0.05; backward; then
torch.optim.SGD(momentum 0.9, weight decay 1e-4) with two parameter groups: the backbone at lr, the new
parameters (remap.weight, then W) at lr * lr_mult; zero_grad. The same batch is used for every step.

Both sides start from identical weights without shipping them: every float tensor of the state dict (in
state-dict order, then W as "loss.weight") is drawn as offset + scale * randn(shape) from one
torch.Generator seeded with the case's seed (initial_rule() below; the test mirrors it and checks the
float64 sums stored under "init_sum.<key>"). num_batches_tracked starts at 0.

Run with Debian's Python (it has torch):
  /usr/bin/python3 tools/golden/train_step.py
      test/fixtures/golden/train-step-smallcnn.safetensors (committed, < 1 MB): the small CNN (28x28,
      width 128) with a 128 -> 64 remap, 10 classes, batch 8; state after 1 and 3 steps.
  /usr/bin/python3 tools/golden/train_step.py --resnet18-cache
      test/fixtures/.cache/train-step-resnet18-v2.safetensors (gitignored, ~90 MB, made at test time):
      torchvision ResNet-18 at 32x32 input with a 512 -> 128 remap, 10 classes, batch 8; same contents.
Keys: "input", "labels", "loss" (one per step), "init_sum.<key>", "after1.<key>", "after3.<key>" where
<key> is a state-dict key of the embedder ("backbone.*", "remap.weight") or "loss.weight" (W).
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from common import ROOT, out_path, save_safetensors
from nn import SmallCnn

CACHE = os.path.join(ROOT, "test", "fixtures", ".cache")
RESNET18_CACHE = os.path.join(CACHE, "train-step-resnet18-v2.safetensors")

TEMPERATURE = 0.05
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
LR = 0.01  # the recipe's lr for Cars196, SOP and In-Shop
LR_MULT = 5.0
NUM_CLASSES = 10
LABELS = [3, 3, 7, 7, 0, 0, 9, 9]  # 4 classes x 2 images, as a class-balanced batch


class Embedder(nn.Module):
    """backbone (pooled features) -> layer_norm without affine -> remap (no bias) -> L2 normalise."""

    def __init__(self, backbone, width, dim):
        super().__init__()
        self.backbone = backbone
        self.width = width
        self.remap = nn.Linear(width, dim, bias=False)

    def forward(self, x):
        h = F.layer_norm(self.backbone(x), (self.width,), eps=1e-5)
        return F.normalize(self.remap(h), p=2, dim=1, eps=1e-12)


def initial_rule(key, shape):
    """(offset, scale) of a tensor's initial value offset + scale * randn(shape)."""
    if key.endswith("running_var"):
        return 1.0, 0.1
    if key.endswith("running_mean") or key.endswith(".bias"):
        return 0.0, 0.1
    if len(shape) == 1:  # BatchNorm weight
        return 1.0, 0.2
    fan_in = math.prod(shape[1:])
    return 0.0, math.sqrt(2.0 / fan_in)


def initialise(model, weight, seed):
    gen = torch.Generator().manual_seed(seed)
    sums = {}
    targets = list(model.state_dict().items()) + [("loss.weight", weight)]
    with torch.no_grad():
        for key, t in targets:
            if not t.is_floating_point():
                t.zero_()
                continue
            offset, scale = initial_rule(key, list(t.shape))
            t.copy_(torch.randn(t.shape, generator=gen) * scale + offset)
            sums[f"init_sum.{key}"] = t.double().sum()
    return sums


def snapshot(prefix, model, weight):
    out = {f"{prefix}.{k}": v.clone() for k, v in model.state_dict().items()}
    out[f"{prefix}.loss.weight"] = weight.detach().clone()
    return out


def run_case(model, dim, x, seed):
    weight = nn.Parameter(torch.empty(NUM_CLASSES, dim))
    tensors = initialise(model, weight, seed)
    y = torch.tensor(LABELS)
    backbone = list(model.backbone.parameters())
    fresh = list(model.remap.parameters()) + [weight]
    opt = torch.optim.SGD(
        [{"params": backbone, "lr": LR}, {"params": fresh, "lr": LR * LR_MULT}],
        lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY,
    )
    model.train()
    losses = []
    for step in range(1, 4):
        logits = model(x) @ F.normalize(weight).t() / TEMPERATURE
        loss = F.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if step in (1, 3):
            tensors.update(snapshot(f"after{step}", model, weight))
    tensors.update(input=x, labels=y, loss=torch.tensor(losses))
    return tensors


def smallcnn():
    torch.manual_seed(0)
    model = Embedder(SmallCnn(), 128, 64)
    x = torch.randn(len(LABELS), 1, 28, 28, generator=torch.Generator().manual_seed(101))
    tensors = run_case(model, 64, x, seed=2019)
    path = out_path("train-step-smallcnn.safetensors")
    save_safetensors(path, tensors)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def resnet18_cache():
    torch.manual_seed(0)
    backbone = torchvision.models.resnet18()
    backbone.fc = nn.Identity()
    model = Embedder(backbone, 512, 128)
    x = torch.randn(len(LABELS), 3, 32, 32, generator=torch.Generator().manual_seed(102))
    tensors = run_case(model, 128, x, seed=1811)
    os.makedirs(CACHE, exist_ok=True)
    tmp = f"{RESNET18_CACHE}.tmp{os.getpid()}"
    save_safetensors(tmp, tensors)
    os.replace(tmp, RESNET18_CACHE)


if __name__ == "__main__":
    if "--resnet18-cache" in sys.argv:
        resnet18_cache()
    else:
        smallcnn()
