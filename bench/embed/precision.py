"""PyTorch side of bench/embed/precision.ts: ResNet-50 inference in fp32 and under CPU autocast (bf16).

Reads one JSON request per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "setup", "threads": N, "batch": B, "size": S} -> torch and torchvision versions, threads, oneDNN (mkldnn) present
  {"cmd": "run", "precision": "fp32"|"bf16", "iterations": K} -> {"secondsPerBatch": [...], "cpuSecondsPerBatch": [...]}
  {"cmd": "agreement"}                                      -> mean and min cosine of bf16 vs fp32 embeddings
The model: torchvision's resnet50 (random init, eval mode, fc removed: the 2048-d pooled features,
L2-normalised), NCHW input, torch.no_grad(); bf16 = torch.autocast('cpu', dtype=torch.bfloat16), the
output cast back to float32 before normalisation.
"""
import json
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

state = {}


def embed(x, precision):
    with torch.no_grad():
        if precision == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                y = state["model"](x)
        else:
            y = state["model"](x)
        return F.normalize(y.float(), dim=1)


def handle(req):
    cmd = req["cmd"]
    if cmd == "setup":
        torch.set_num_threads(req["threads"])
        torch.manual_seed(0)
        try:
            model = torchvision.models.resnet50(weights=None)
        except TypeError:
            model = torchvision.models.resnet50(pretrained=False)
        model.fc = torch.nn.Identity()
        state["model"] = model.eval()
        state["x"] = torch.randn(req["batch"], 3, req["size"], req["size"])
        embed(state["x"][:2], "fp32")
        embed(state["x"][:2], "bf16")
        return {
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "threads": torch.get_num_threads(),
            "mkldnn": torch.backends.mkldnn.is_available(),
        }
    if cmd == "run":
        times, cpu = [], []
        for _ in range(req["iterations"]):
            start, start_cpu = time.perf_counter(), time.process_time()
            embed(state["x"], req["precision"])
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        return {"secondsPerBatch": times, "cpuSecondsPerBatch": cpu}
    if cmd == "agreement":
        a = embed(state["x"], "fp32")
        b = embed(state["x"], "bf16")
        cos = (a * b).sum(1)
        return {"mean": cos.mean().item(), "min": cos.min().item()}
    raise ValueError(f"unknown cmd {cmd}")


for line in sys.stdin:
    try:
        print(json.dumps(handle(json.loads(line))), flush=True)
    except Exception as e:  # one line back per request, also on failure
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
