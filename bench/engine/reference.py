"""PyTorch eager side of bench/engine/run.ts.

Reads one JSON request per line on stdin and answers each with one JSON line on stdout:
  {"cmd": "setup", "threads": N}                  -> torch version, threads, python version
  {"cmd": "dispatch", "case": NAME, "iterations": K} -> {"nsPerIteration": ...}
  {"cmd": "block", "iterations": K}               -> {"nsPerIteration": ...}
  {"cmd": "faults", "iterations": K}              -> page faults per block step (getrusage, this process)
The cases mirror dispatch-cases.ts and block.ts op for op.
"""
import os
import platform
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from jsonl_worker import serve  # noqa: E402

SMALL = (4,)
MEDIUM = (64, 64)
BLOCK = {"batch": 16, "channels": 64, "size": 56}


def binary(shape, op):
    a, b = torch.rand(shape), torch.rand(shape)
    if op == "add":
        def run(n):
            for _ in range(n):
                a.add(b)
    else:
        def run(n):
            for _ in range(n):
                a.mul(b)
    return run


def unary(shape, op):
    a = torch.rand(shape).sub(0.5)
    if op == "relu":
        def run(n):
            for _ in range(n):
                a.relu()
    else:
        def run(n):
            for _ in range(n):
                a.sum()
    return run


def chain10():
    a, b = torch.rand(SMALL), torch.rand(SMALL)

    def run(n):
        for _ in range(n):
            a.add(b).mul(b).relu().sub(b).mul(0.5).exp().add(1).log().neg().abs()
    return run


def create_dispose():
    def run(n):
        for _ in range(n):
            torch.zeros(SMALL)
    return run


DISPATCH = {
    "add_4": lambda: binary(SMALL, "add"),
    "mul_4": lambda: binary(SMALL, "mul"),
    "relu_4": lambda: unary(SMALL, "relu"),
    "sum_4": lambda: unary(SMALL, "sum"),
    "add_64x64": lambda: binary(MEDIUM, "add"),
    "mul_64x64": lambda: binary(MEDIUM, "mul"),
    "relu_64x64": lambda: unary(MEDIUM, "relu"),
    "sum_64x64": lambda: unary(MEDIUM, "sum"),
    "chain10_4": chain10,
    "create_dispose_4": create_dispose,
}


def stage():
    c = BLOCK["channels"]
    return {
        "weight": (torch.randn(c, c, 3, 3) * (2 / (9 * c)) ** 0.5).requires_grad_(),
        "gamma": torch.ones(c, requires_grad=True),
        "beta": torch.zeros(c, requires_grad=True),
        "running_mean": torch.zeros(c),
        "running_var": torch.ones(c),
    }


def block():
    torch.manual_seed(0)
    x = torch.randn(BLOCK["batch"], BLOCK["channels"], BLOCK["size"], BLOCK["size"], requires_grad=True)
    stages = [stage(), stage()]
    params = [x] + [s[k] for s in stages for k in ("weight", "gamma", "beta")]

    def step():
        for p in params:
            p.grad = None
        y = x
        for s in stages:
            y = F.conv2d(y, s["weight"], None, 1, 1)
            y = F.batch_norm(y, s["running_mean"], s["running_var"], s["gamma"], s["beta"], True, 0.1, 1e-5)
            y = F.relu(y)
        y.sum().backward()

    def run(n):
        for _ in range(n):
            step()
    return run


prepared = {}


def timed(key, make, iterations):
    if key not in prepared:
        prepared[key] = make()
    run = prepared[key]
    start = time.perf_counter_ns()
    run(iterations)
    return (time.perf_counter_ns() - start) / iterations


def handle(request):
    cmd = request.get("cmd")
    if cmd == "setup":
        torch.set_num_threads(int(request["threads"]))
        return {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "python": platform.python_version(),
            "parallel": torch.__config__.parallel_info().splitlines()[-1].strip(),
        }
    if cmd == "dispatch":
        name = request["case"]
        if name not in DISPATCH:
            raise ValueError(f"unknown dispatch case {name}")
        return {"nsPerIteration": timed(name, DISPATCH[name], int(request["iterations"]))}
    if cmd == "block":
        return {"nsPerIteration": timed("block", block, int(request["iterations"]))}
    if cmd == "faults":
        if "block" not in prepared:
            prepared["block"] = block()
        run, n = prepared["block"], int(request["iterations"])
        run(3)  # warm-up, as bench/engine/faults.ts
        before = resource.getrusage(resource.RUSAGE_SELF)
        run(n)
        after = resource.getrusage(resource.RUSAGE_SELF)
        return {"minor": (after.ru_minflt - before.ru_minflt) / n, "major": (after.ru_majflt - before.ru_majflt) / n}
    raise ValueError(f"unknown command {cmd}")


def main():
    serve(handle)


if __name__ == "__main__":
    main()
