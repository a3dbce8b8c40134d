"""Golden fixtures for src/loss: NormSoftmax (full and on a class subset), triplet with semi-hard
mining (a port of TF-addons' triplet_semihard_loss to torch) and ProxyNCA, with their gradients.

Run with Debian's /usr/bin/python3 (torch): /usr/bin/python3 tools/golden/loss.py
Writes test/fixtures/golden/loss-{normsoftmax,triplet,proxynca}.json.
"""
import math

import torch
import torch.nn.functional as F

from common import save_json


def normsoftmax():
    g = torch.Generator().manual_seed(1)
    B, d, C, T = 12, 16, 10, 0.05
    x0 = F.normalize(torch.randn(B, d, generator=g))
    w0 = torch.empty(C, d).uniform_(-1 / math.sqrt(d), 1 / math.sqrt(d), generator=g)
    y = torch.randint(0, 6, (B,), generator=g)  # classes 6..9 never in the batch

    # Full softmax, the spec formula.
    x = x0.clone().requires_grad_()
    w = w0.clone().requires_grad_()
    loss = F.cross_entropy(x @ F.normalize(w).t() / T, y)
    loss.backward()

    # Softmax over a subset S: the batch's classes plus negatives 7 and 9; labels re-indexed into S.
    subset = sorted(set(y.tolist()) | {7, 9})
    position = {c: i for i, c in enumerate(subset)}
    targets = torch.tensor([position[c] for c in y.tolist()])
    xs = x0.clone().requires_grad_()
    ws = w0[subset].clone().requires_grad_()
    loss_s = F.cross_entropy(xs @ F.normalize(ws).t() / T, targets)
    loss_s.backward()

    # One torch.optim.SGD step of W[S] alone (momentum 0.9, weight decay 1e-4, lr 0.5).
    sgd = torch.optim.SGD([ws], lr=0.5, momentum=0.9, weight_decay=1e-4)
    sgd.step()

    save_json(
        "loss-normsoftmax.json",
        {
            "x": x0,
            "w": w0,
            "y": y,
            "loss": loss.detach(),
            "grad_x": x.grad,
            "grad_w": w.grad,
            "subset": torch.tensor(subset),
            "loss_subset": loss_s.detach(),
            "grad_x_subset": xs.grad,
            "grad_w_subset": ws.grad,
            "w_subset_after_sgd": ws.detach(),
        },
        {"temperature": T, "sgd": {"lr": 0.5, "momentum": 0.9, "weight_decay": 1e-4}},
    )


def tfa_pairwise_distance(feature):
    sq = feature.square().sum(1, keepdim=True)
    d2 = (sq + sq.t() - 2.0 * feature @ feature.t()).clamp(min=0.0)
    error_mask = d2 <= 0.0
    d = torch.sqrt(d2 + error_mask.float() * 1e-16) * (~error_mask).float()
    return d * (1 - torch.eye(feature.shape[0]))


def masked_minimum(data, mask, dim=1):
    axis_maximums = data.max(dim, keepdim=True).values
    return ((data - axis_maximums) * mask).min(dim, keepdim=True).values + axis_maximums


def masked_maximum(data, mask, dim=1):
    axis_minimums = data.min(dim, keepdim=True).values
    return ((data - axis_minimums) * mask).max(dim, keepdim=True).values + axis_minimums


def tfa_triplet_semihard(labels, embeddings, margin):
    """Line by line as tfa.losses.triplet_semihard_loss (tiled [B*B, B] layout included)."""
    n = labels.shape[0]
    lshape = labels.reshape(n, 1)
    pdist = tfa_pairwise_distance(embeddings)
    adjacency = lshape == lshape.t()
    adjacency_not = ~adjacency
    pdist_tile = pdist.repeat(n, 1)
    mask = adjacency_not.repeat(n, 1) & (pdist_tile > pdist.t().reshape(-1, 1))
    mask_final = (mask.float().sum(1, keepdim=True) > 0.0).reshape(n, n).t()
    negatives_outside = masked_minimum(pdist_tile, mask.float()).reshape(n, n).t()
    negatives_inside = masked_maximum(pdist, adjacency_not.float()).repeat(1, n)
    semi_hard = torch.where(mask_final, negatives_outside, negatives_inside)
    loss_mat = margin + pdist - semi_hard
    mask_positives = adjacency.float() - torch.eye(n)
    return (loss_mat * mask_positives).clamp(min=0.0).sum() / mask_positives.sum()


def triplet():
    g = torch.Generator().manual_seed(2)
    cases = {}
    extra = {}
    # a: 4 classes x 4 images, unit-norm; b: uneven classes, a singleton, and a duplicated point.
    xa = F.normalize(torch.randn(16, 8, generator=g))
    ya = torch.arange(4).repeat_interleave(4)
    xb = torch.randn(10, 5, generator=g)
    xb[7] = xb[3]
    yb = torch.tensor([0, 0, 0, 1, 1, 2, 3, 1, 3, 3])
    for name, x0, y, margin in [("a", xa, ya, 0.2), ("a_m1", xa, ya, 1.0), ("b", xb, yb, 0.5)]:
        x = x0.clone().requires_grad_()
        loss = tfa_triplet_semihard(y, x, margin)
        loss.backward()
        cases[f"{name}.x"] = x0
        cases[f"{name}.y"] = y
        cases[f"{name}.loss"] = loss.detach()
        cases[f"{name}.grad_x"] = x.grad
        extra[name] = {"margin": margin}
    save_json("loss-triplet.json", cases, extra)


def proxynca_loss(x, proxies, y, sx, sp):
    xs = sx * F.normalize(x)
    ps = sp * F.normalize(proxies)
    dist = (xs.square().sum(1, keepdim=True) + ps.square().sum(1, keepdim=True).t() - 2 * xs @ ps.t()).clamp(min=0)
    positive = dist.gather(1, y[:, None]).squeeze(1)
    others = torch.ones_like(dist, dtype=torch.bool).scatter(1, y[:, None], False)
    negatives = torch.logsumexp((-dist).masked_fill(~others, float("-inf")), dim=1)
    return (positive + negatives).mean()


def proxynca():
    g = torch.Generator().manual_seed(3)
    B, d, C, sx, sp = 9, 6, 5, 1.0, 3.0
    x0 = torch.randn(B, d, generator=g)
    p0 = torch.randn(C, d, generator=g) / 8
    y = torch.randint(0, C, (B,), generator=g)
    x = x0.clone().requires_grad_()
    p = p0.clone().requires_grad_()
    loss = proxynca_loss(x, p, y, sx, sp)
    loss.backward()
    save_json(
        "loss-proxynca.json",
        {"x": x0, "proxies": p0, "y": y, "loss": loss.detach(), "grad_x": x.grad, "grad_proxies": p.grad},
        {"scale_embeddings": sx, "scale_proxies": sp},
    )


if __name__ == "__main__":
    normsoftmax()
    triplet()
    proxynca()
