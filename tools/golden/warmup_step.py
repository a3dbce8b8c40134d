"""Golden values for test/train/warmup-parity.test.ts: the recipe's warm-up phase, then the main phase.

Replays what the trainer does (spec section 3, as the reference's train_classification.py does it):
  warm-up (WARMUP_EPOCHS epochs of BATCHES batches): the backbone is frozen (requires_grad False, not in
    the optimiser) but the model stays in train mode, so BatchNorm running statistics still update; one
    torch.optim.SGD over the new parameters only (remap.weight if any, then W) at lr * lr_mult, momentum
    0.9, weight decay 1e-4, kept across the warm-up epochs;
  main phase (EPOCHS_PER_STEP * NUM_STEPS epochs): a fresh SGD (momentum buffers start again) with two
    groups, the backbone at lr and the new parameters at lr * lr_mult, both scaled by
    gamma^floor(epoch_in_phase / epochs_per_step).
Each step: embedding = normalize(remap(layer_norm(pool(backbone(x))))), loss = cross_entropy(embedding @
normalize(W)^T / T, y), backward, step, zero_grad. Every step has its own batch ("input"[k], "labels"[k]).
Initial weights are drawn as in train_step.py (initial_rule, seeded generator, sums under "init_sum.<key>").

Run with Debian's Python (it has torch):
  /usr/bin/python3 tools/golden/warmup_step.py
      test/fixtures/golden/warmup-smallcnn.safetensors (committed): the small CNN (28x28) with a 128 -> 64
      remap; "noremap." keys: dim 128 (no remap layer: the warm-up trains W alone), without "final".
  /usr/bin/python3 tools/golden/warmup_step.py --resnet18-cache
      test/fixtures/.cache/warmup-resnet18.safetensors (gitignored, ~45 MB, made at test time): ResNet-18 at
      32x32 with a 512 -> 128 remap, NUM_STEPS = 1 (one main epoch), without "final".
Keys (prefix "" or "noremap."): "input" [steps, B, C, H, W], "labels" [steps, B], "loss" [steps],
"init_sum.<key>", "warmup.<key>" (after the warm-up; the backbone's parameters are left out, as they
must equal their initial values, checked here), "main1.<key>" (after the first main-phase step) and
"final.<key>" (after the last step); <key> is an embedder state-dict key or "loss.weight".
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from common import ROOT, out_path, save_safetensors
from nn import SmallCnn
from train_step import Embedder, initialise, snapshot

CACHE = os.path.join(ROOT, "test", "fixtures", ".cache")
RESNET18_CACHE = os.path.join(CACHE, "warmup-resnet18.safetensors")

TEMPERATURE = 0.05
MOMENTUM = 0.9
WEIGHT_DECAY = 1e-4
LR = 0.01
LR_MULT = 5.0
GAMMA = 0.1
NUM_CLASSES = 10
BATCH = 8
IMAGES_PER_CLASS = 2
WARMUP_EPOCHS = 2
EPOCHS_PER_STEP = 1
NUM_STEPS = 2
BATCHES = 2  # per epoch (the trainer's maxBatchesPerEpoch)


def batches(steps, shape, seed):
    """Per step: images randn(B, *shape) and a class-balanced label vector (B / ipc classes, ipc each)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(steps, BATCH, *shape, generator=gen)
    labels = []
    for _ in range(steps):
        classes = torch.randperm(NUM_CLASSES, generator=gen)[: BATCH // IMAGES_PER_CLASS]
        labels.append(classes.repeat_interleave(IMAGES_PER_CLASS))
    return x, torch.stack(labels)


def run_case(model, dim, x, labels, seed, num_steps, keep_final):
    weight = nn.Parameter(torch.empty(NUM_CLASSES, dim))
    tensors = initialise(model, weight, seed)
    backbone = list(model.backbone.parameters())
    fresh = list(model.remap.parameters()) if model.remap is not None else []
    fresh.append(weight)
    losses = []
    step = 0

    def train_step(opt):
        nonlocal step
        logits = model(x[step]) @ F.normalize(weight).t() / TEMPERATURE
        loss = F.cross_entropy(logits, labels[step])
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        step += 1

    initial_backbone = [p.detach().clone() for p in backbone]
    model.train()  # BatchNorm stays in train mode during the warm-up (running statistics move)
    for p in backbone:
        p.requires_grad_(False)
    opt = torch.optim.SGD(fresh, lr=LR * LR_MULT, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    for _ in range(WARMUP_EPOCHS * BATCHES):
        train_step(opt)
    assert all(torch.equal(p, q) for p, q in zip(backbone, initial_backbone)), "warm-up moved the backbone"
    frozen = {f"warmup.backbone.{k}" for k, _ in model.backbone.named_parameters()}
    tensors.update({k: v for k, v in snapshot("warmup", model, weight).items() if k not in frozen})

    for p in backbone:
        p.requires_grad_(True)
    opt = torch.optim.SGD(
        [{"params": backbone, "lr": LR}, {"params": fresh, "lr": LR * LR_MULT}],
        lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY,
    )
    for epoch in range(EPOCHS_PER_STEP * num_steps):
        factor = GAMMA ** (epoch // EPOCHS_PER_STEP)
        opt.param_groups[0]["lr"] = LR * factor
        opt.param_groups[1]["lr"] = LR * LR_MULT * factor
        for _ in range(BATCHES):
            train_step(opt)
            if step == WARMUP_EPOCHS * BATCHES + 1:
                tensors.update(snapshot("main1", model, weight))
    if keep_final:
        tensors.update(snapshot("final", model, weight))
    tensors.update(input=x, labels=labels, loss=torch.tensor(losses))
    return tensors


def total_steps(num_steps):
    return (WARMUP_EPOCHS + EPOCHS_PER_STEP * num_steps) * BATCHES


class NoRemapEmbedder(Embedder):
    """dim == width: no remap layer (the embedder then has only the backbone and W to train)."""

    def __init__(self, backbone, width):
        nn.Module.__init__(self)
        self.backbone = backbone
        self.width = width
        self.remap = None

    def forward(self, x):
        return F.normalize(F.layer_norm(self.backbone(x), (self.width,), eps=1e-5), p=2, dim=1, eps=1e-12)


def smallcnn():
    x, labels = batches(total_steps(NUM_STEPS), (1, 28, 28), seed=303)
    torch.manual_seed(0)
    tensors = run_case(Embedder(SmallCnn(), 128, 64), 64, x, labels, 2020, NUM_STEPS, keep_final=True)
    plain = run_case(NoRemapEmbedder(SmallCnn(), 128), 128, x, labels, 2021, NUM_STEPS, keep_final=False)
    tensors.update({f"noremap.{k}": v for k, v in plain.items() if k not in ("input", "labels")})
    path = out_path("warmup-smallcnn.safetensors")
    save_safetensors(path, tensors)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def resnet18_cache():
    x, labels = batches(total_steps(1), (3, 32, 32), seed=304)
    torch.manual_seed(0)
    backbone = torchvision.models.resnet18()
    backbone.fc = nn.Identity()
    tensors = run_case(Embedder(backbone, 512, 128), 128, x, labels, 1812, 1, keep_final=False)
    os.makedirs(CACHE, exist_ok=True)
    tmp = f"{RESNET18_CACHE}.tmp{os.getpid()}"
    save_safetensors(tmp, tensors)
    os.replace(tmp, RESNET18_CACHE)


if __name__ == "__main__":
    if "--resnet18-cache" in sys.argv:
        resnet18_cache()
    else:
        smallcnn()
