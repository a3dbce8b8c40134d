"""PyTorch eager side of bench/train/normsoftmax-subsample.ts: the full-softmax (f = 1) NormSoftmax step.

Reads one JSON request per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "setup", "threads": N, "classes": C, "dim": D, "batch": B, "temperature": T}
  {"cmd": "step", "iterations": K}  -> {"nsPerIteration": ...}
A step: logits = x . normalize(W)^T / T, mean cross entropy, backward (into x and W),
SGD(momentum 0.9, weight decay 1e-4) step, zero_grad. Mirrors the TypeScript side op for op.
"""
import math
import os
import platform
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from jsonl_worker import dispatch, serve  # noqa: E402

state = {}


def setup(req):
    torch.set_num_threads(req["threads"])
    torch.manual_seed(0)
    c, d, b = req["classes"], req["dim"], req["batch"]
    w = torch.empty(c, d).uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d)).requires_grad_()
    x = F.normalize(torch.randn(b, d)).requires_grad_()
    per_class = 5
    y = torch.arange(b // per_class).repeat_interleave(per_class) * (c // (b // per_class))
    state.update(w=w, x=x, y=y, t=req["temperature"], opt=torch.optim.SGD([w], lr=0.01, momentum=0.9, weight_decay=1e-4))
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "python": platform.python_version()}


def step(req):
    w, x, y, t, opt = state["w"], state["x"], state["y"], state["t"], state["opt"]
    n = req["iterations"]
    start = time.perf_counter_ns()
    for _ in range(n):
        loss = F.cross_entropy(x @ F.normalize(w).t() / t, y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        x.grad = None
    return {"nsPerIteration": (time.perf_counter_ns() - start) / n}


serve(dispatch({"setup": setup, "step": step}))
