"""PyTorch eager side of bench/train/run.ts: one full NormSoftmax training step of a torchvision ResNet
(or ViT-B/16, or with "dinov2": DIR facebookresearch/dinov2's ViT-S/14 from that checkout).

Reads one JSON request per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "setup", "threads": N}                                   -> torch version, threads, python
  {"cmd": "prepare", "arch": A, "size": S, "batch": B, "classes": C, "temperature": T,
   "lr": LR, "lrMult": M, "momentum": MO, "weightDecay": WD,
   "precision": "fp32" | "bf16", "dinov2": DIR (dinov2_* only)}     -> {"dim": D}
  {"cmd": "step", "iterations": K}                                 -> {"nsPerIteration", "cpuNsPerIteration"}
A step mirrors run.ts op for op: embedding = normalize(layer_norm(avgpool(backbone(x)))) with BatchNorm
in train mode (no remap: dim = backbone width), loss = cross_entropy(embedding @ normalize(W)^T / T, y),
backward, SGD(momentum, weight decay) over two groups (backbone at lr, W at lr * lrMult), zero_grad.
The CPU time is the whole process's (all threads), as run.ts measures it.
bf16: the embedding under torch.autocast("cpu", dtype=torch.bfloat16) with the backbone and input in
channels_last memory (what a PyTorch user does for bf16 on CPU), cast to float32 and normalised again
before the loss, which runs in float32 (as run.ts's embedBatch).
Random init (torchvision's, seeded), random input: no pretrained weights, no data loading.
"""
import math
import os
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from dinov2_hub import dinov2_backbone  # noqa: E402
from jsonl_worker import dispatch, serve  # noqa: E402

state = {}


def setup(req):
    torch.set_num_threads(req["threads"])
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version()}


def prepare(req):
    state.clear()  # frees the previous case's model before building the next
    torch.manual_seed(0)
    if req["arch"].startswith("dinov2_"):
        # facebookresearch/dinov2's hub model (a checkout, --dinov2 DIR): its forward is the class token
        # after the final norm; position embeddings interpolated from its 37 x 37 grid, as ours are.
        backbone, dim = dinov2_backbone(req["arch"], req["dinov2"])
    elif req["arch"].startswith("vit_"):
        # torchvision's ViT: without heads, the class token after encoder.ln.
        backbone = getattr(torchvision.models, req["arch"])()
        dim = backbone.heads.head.in_features
        backbone.heads = nn.Identity()
    else:
        backbone = getattr(torchvision.models, req["arch"])()
        dim = backbone.fc.in_features
        backbone.fc = nn.Identity()
    backbone.train()
    classes, batch, size = req["classes"], req["batch"], req["size"]
    weight = nn.Parameter(torch.empty(classes, dim).uniform_(-1 / math.sqrt(dim), 1 / math.sqrt(dim)))
    opt = torch.optim.SGD(
        [{"params": backbone.parameters(), "lr": req["lr"]}, {"params": [weight], "lr": req["lr"] * req["lrMult"]}],
        lr=req["lr"], momentum=req["momentum"], weight_decay=req["weightDecay"],
    )
    x = torch.randn(batch, 3, size, size)
    y = torch.arange(batch) % classes
    bf16 = req.get("precision", "fp32") == "bf16"
    if bf16:
        backbone = backbone.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    state.update(backbone=backbone, weight=weight, opt=opt, x=x, y=y, dim=dim, t=req["temperature"], bf16=bf16)
    return {"dim": dim}


def step(req):
    backbone, weight, opt = state["backbone"], state["weight"], state["opt"]
    x, y, dim, t = state["x"], state["y"], state["dim"], state["t"]
    n = req["iterations"]
    start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
    for _ in range(n):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=state["bf16"]):
            embedding = F.normalize(F.layer_norm(backbone(x), (dim,), eps=1e-5), p=2, dim=1, eps=1e-12)
        if state["bf16"]:
            embedding = F.normalize(embedding.float(), p=2, dim=1, eps=1e-12)
        loss = F.cross_entropy(embedding @ F.normalize(weight).t() / t, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    wall, cpu = time.perf_counter_ns() - start, time.process_time_ns() - cpu_start
    return {"nsPerIteration": wall / n, "cpuNsPerIteration": cpu / n}


serve(dispatch({"setup": setup, "prepare": prepare, "step": step}))
