"""Golden fixtures for src/train/optim: torch.optim.SGD and torch.optim.AdamW over two parameter groups
(the second with an lr multiplier and its own weight decay), several steps with given gradients, one
parameter without a gradient in step 2 (skipped), and a base-lr change before step 3.

Run with Debian's /usr/bin/python3 (torch): /usr/bin/python3 tools/golden/loss_optim.py
Writes test/fixtures/golden/loss-optim-{sgd,sgd-nesterov,adamw}.json.
"""
import torch

from common import save_json

SHAPES = {"a": (4, 3), "b": (5,), "c": (6, 2)}
# Which parameters have a gradient in each step, and the base lr of each step.
STEPS = [{"grads": ["a", "b", "c"], "lr": None}, {"grads": ["a", "c"], "lr": None}, {"grads": ["a", "b", "c"], "lr": 0.25}]


def run(name, make, base_lr, lr_mult, group_wd, state_keys):
    g = torch.Generator().manual_seed(4)
    init = {k: torch.randn(*s, generator=g) for k, s in SHAPES.items()}
    params = {k: v.clone().requires_grad_() for k, v in init.items()}
    groups = [
        {"params": [params["a"], params["b"]], "lr": base_lr, "weight_decay": group_wd[0]},
        {"params": [params["c"]], "lr": base_lr * lr_mult, "weight_decay": group_wd[1]},
    ]
    opt = make(groups)
    out = {f"init.{k}": v for k, v in init.items()}
    for i, step in enumerate(STEPS, start=1):
        if step["lr"] is not None:
            opt.param_groups[0]["lr"] = step["lr"]
            opt.param_groups[1]["lr"] = step["lr"] * lr_mult
        for k, p in params.items():
            p.grad = None
            if k in step["grads"]:
                grad = torch.randn(*SHAPES[k], generator=g)
                p.grad = grad
                out[f"grad.{i}.{k}"] = grad
        opt.step()
        for k, p in params.items():
            out[f"after.{i}.{k}"] = p.detach().clone()
    sd = opt.state_dict()
    steps = {}
    for index, st in sd["state"].items():
        for key in state_keys:
            out[f"state.{index}.{key}"] = st[key]
        if "step" in st:
            steps[str(index)] = float(st["step"])
    save_json(
        f"loss-optim-{name}.json",
        out,
        {"base_lr": base_lr, "lr_mult": lr_mult, "group_weight_decay": group_wd, "steps": STEPS, "step_counts": steps},
    )


if __name__ == "__main__":
    run("sgd", lambda gr: torch.optim.SGD(gr, lr=0.1, momentum=0.9), 0.1, 10.0, [1e-4, 0.0], ["momentum_buffer"])
    run(
        "sgd-nesterov",
        lambda gr: torch.optim.SGD(gr, lr=0.1, momentum=0.8, nesterov=True),
        0.1,
        0.5,
        [1e-2, 1e-3],
        ["momentum_buffer"],
    )
    run("sgd-dampening", lambda gr: torch.optim.SGD(gr, lr=0.1, momentum=0.9, dampening=0.3), 0.1, 2.0, [1e-3, 0.0], ["momentum_buffer"])
    run("adamw", lambda gr: torch.optim.AdamW(gr, lr=0.01), 0.01, 10.0, [1e-2, 0.1], ["exp_avg", "exp_avg_sq"])
