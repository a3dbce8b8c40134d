"""Independent goldens for src/loss/triplet.ts and src/loss/proxynca.ts from pytorch-metric-learning (PML,
Musgrave et al.), which is not on Debian or reachable through pip here and is never committed: run it
from a source copy (PML 2.8.1, commit 216a792c22b0154d3d3bf008a7317edc7d677e71 made these fixtures):

    git clone https://github.com/KevinMusgrave/pytorch-metric-learning /tmp/pml-repo   # or any copy
    git --git-dir=/tmp/pml-repo/.git archive HEAD src/pytorch_metric_learning | tar -x -C /tmp/pml
    /usr/bin/python3 tools/golden/pml_losses.py /tmp/pml/src $(git --git-dir=/tmp/pml-repo/.git rev-parse HEAD)

Writes test/fixtures/golden/loss-pml-triplet.json and loss-pml-proxynca.json (inputs, loss, gradients).
(PML imports tqdm only for progress bars; a stand-in is installed when tqdm is missing.)

Triplet. Ours is TF-addons' triplet_semihard_loss: for every positive pair (a, p) ONE negative, the
nearest one farther from a than p (semi-hard), else the farthest negative of a (a hard one), and the mean
of max(0, m + d_ap - d_an) over ALL positive pairs. PML's TripletMarginMiner('semihard') instead returns
EVERY triplet with 0 < d_an - d_ap <= m, no fallback, and TripletMarginLoss averages over the triplets
with a non-zero loss (AvgNonZeroReducer). They agree where each positive pair has at most one semi-hard
negative and a negative beyond p: then ours = sum of PML's triplet losses / number of positive pairs.
 - case "agree": a batch (found by seed) where that holds: PML's miner and loss alone, SumReducer,
   divided by the positive-pair count (from PML's get_all_pairs_indices).
 - cases "unit" (4 classes x 4, unit norm, m = 0.2) and "raw" (uneven classes with a singleton, raw
   scale, m = 0.5): PML's distance and its three miners partition all triplets into semi-hard / easy /
   hard; per positive pair the TF rule picks among them (nearest semi-hard; if none but an easy one, a
   zero term; else the farthest hard negative) and PML's TripletMarginLoss (SumReducer) scores the
   picked triplets; divided by the positive-pair count. Only that per-pair pick is ours.
 - case "none": all labels distinct, no positive pair: PML's loss is 0 with a zero gradient.
PML's distance: LpDistance(normalize_embeddings=False) (its default normalises, ours does not).

ProxyNCA. Ours (Movshovitz-Attias et al.) leaves the positive proxy OUT of the denominator:
    l_i = D_iy + log sum_{c != y} exp(-D_ic),  D_ic = || s_x x_i/|x_i| - s_p p_c/|p_c| ||^2,
PML's ProxyNCALoss keeps it in: l'_i = -log softmax_y(-k D'_i), D'_ic = || x_i/|x_i| - p_c/|p_c| ||^2 and
k = softmax_scale. D_ic = (s_x - s_p)^2 + s_x s_p D'_ic and the constant cancels in the ratio, so with
k = s_x s_p both see the same distances and, with q_i = exp(-l'_i) (the softmax of the positive),
l_i = -log(q_i / (1 - q_i)) = l'_i + log(1 - exp(-l'_i)). The fixture takes PML's per-sample losses
(DoNothingReducer), applies that identity and averages; gradients flow back through PML's computation to
the embeddings and to its proxies.
"""
import json
import os
import subprocess
import sys
import types

import torch
import torch.nn.functional as F

from common import save_json


def import_pml(src):
    sys.path.insert(0, os.path.abspath(src))
    try:
        import tqdm  # noqa: F401
    except ImportError:
        stub = types.ModuleType("tqdm")
        stub.tqdm = lambda iterable=None, *args, **kwargs: iterable
        sys.modules["tqdm"] = stub
    import pytorch_metric_learning as pml
    from pytorch_metric_learning import distances, losses, miners, reducers
    from pytorch_metric_learning.utils import loss_and_miner_utils as lmu

    return pml, distances, losses, miners, reducers, lmu


def main(src):
    pml, distances, losses, miners, reducers, lmu = import_pml(src)
    dist = distances.LpDistance(normalize_embeddings=False, p=2, power=1)

    def positive_pairs(y):
        a, p = lmu.get_all_pairs_indices(y)[:2]
        return a, p

    def mined(x, y, m, kind):
        a, p, n = miners.TripletMarginMiner(margin=m, type_of_triplets=kind, distance=dist)(x, y)
        return list(zip(a.tolist(), p.tolist(), n.tolist()))

    def triplet_sum(x, y, m, triplets):
        loss = losses.TripletMarginLoss(margin=m, distance=dist, reducer=reducers.SumReducer())
        if not triplets:
            return loss(x, y, indices_tuple=(torch.tensor([], dtype=torch.long),) * 3)
        a, p, n = (torch.tensor(v) for v in zip(*triplets))
        return loss(x, y, indices_tuple=(a, p, n))

    def tf_pick(x, y, m):
        """Per positive pair, the triplet TF-addons' rule uses, from PML's semi-hard/easy/hard sets."""
        with torch.no_grad():
            d = dist(x)
        semi, easy, hard = (mined(x, y, m, k) for k in ("semihard", "easy", "hard"))
        picked = []
        counts = {"semihard": 0, "easy": 0, "fallback": 0}
        for a, p in zip(*(t.tolist() for t in positive_pairs(y))):
            s = [t for t in semi if t[:2] == (a, p)]
            if s:
                picked.append(min(s, key=lambda t: d[a, t[2]].item()))
                counts["semihard"] += 1
            elif any(t[:2] == (a, p) for t in easy):
                counts["easy"] += 1  # the nearest negative beyond p is past the margin: a zero term
            else:
                h = [t for t in hard if t[:2] == (a, p)]
                picked.append(max(h, key=lambda t: d[a, t[2]].item()))
                counts["fallback"] += 1
        return picked, counts

    tensors, extra = {}, {"pml_version": pml.__version__, "pml_commit": commit_of(src)}

    def record(name, x0, y, m, build):
        x = x0.clone().requires_grad_()
        loss, info = build(x, y, m)
        loss.backward()
        grad = x.grad if x.grad is not None else torch.zeros_like(x0)
        tensors.update({f"{name}.x": x0, f"{name}.y": y, f"{name}.loss": loss.detach(), f"{name}.grad_x": grad})
        extra[name] = {"margin": m, **info}

    def agree(x, y, m):
        pairs = len(positive_pairs(y)[0])
        semi = mined(x, y, m, "semihard")
        default = losses.TripletMarginLoss(margin=m, distance=dist)(
            x, y, miners.TripletMarginMiner(margin=m, type_of_triplets="semihard", distance=dist)(x, y)
        )
        info = {"positive_pairs": pairs, "semihard_triplets": len(semi), "pml_default_loss": default.item()}
        return triplet_sum(x, y, m, semi) / pairs, info

    def tf_rule(x, y, m):
        pairs = len(positive_pairs(y)[0])
        picked, counts = tf_pick(x, y, m)
        return triplet_sum(x, y, m, picked) / pairs, {"positive_pairs": pairs, **counts}

    # "agree": the first seed whose batch meets the conditions above, with several semi-hard pairs.
    ya = torch.arange(4).repeat_interleave(3)
    for seed in range(10000):
        g = torch.Generator().manual_seed(seed)
        xa = F.normalize(torch.randn(12, 4, generator=g))
        _, counts = tf_pick(xa, ya, 0.05)
        semi = mined(xa, ya, 0.05, "semihard")
        if counts["fallback"] == 0 and len(semi) == counts["semihard"] >= 6:
            break
    else:
        raise SystemExit("no seed gives a batch where the two definitions coincide")
    record("agree", xa, ya, 0.05, agree)
    extra["agree"]["seed"] = seed

    g = torch.Generator().manual_seed(8)
    xu = F.normalize(torch.randn(16, 4, generator=g))
    record("unit", xu, torch.arange(4).repeat_interleave(4), 0.2, tf_rule)
    xr = torch.randn(11, 5, generator=g) * 1.5
    record("raw", xr, torch.tensor([0, 0, 0, 1, 1, 2, 3, 1, 3, 3, 0]), 0.5, tf_rule)
    record("none", torch.randn(5, 4, generator=g), torch.arange(5), 0.2,
           lambda x, y, m: (losses.TripletMarginLoss(margin=m, distance=dist)(x, y), {}))
    for name in ("agree", "unit", "raw"):
        assert extra[name].get("semihard", extra[name].get("semihard_triplets", 0)) > 0, name
    assert extra["unit"]["fallback"] > 0 and extra["raw"]["fallback"] > 0 and extra["raw"]["easy"] > 0, extra
    save_json("loss-pml-triplet.json", tensors, extra)

    # ProxyNCA.
    tensors, extra = {}, {"pml_version": pml.__version__, "pml_commit": commit_of(src)}
    g = torch.Generator().manual_seed(11)
    B, d, C = 10, 6, 5
    for name, sx, sp in [("default", 1.0, 3.0), ("equal", 2.0, 2.0), ("unit", 1.0, 1.0)]:
        x0 = torch.randn(B, d, generator=g)
        p0 = torch.randn(C, d, generator=g) / 8
        y = torch.randint(0, C, (B,), generator=g)
        loss_fn = losses.ProxyNCALoss(num_classes=C, embedding_size=d, softmax_scale=sx * sp,
                                      reducer=reducers.DoNothingReducer())
        with torch.no_grad():
            loss_fn.proxies.copy_(p0)
        x = x0.clone().requires_grad_()
        out = loss_fn(x, y)["loss"]
        assert out["indices"].tolist() == list(range(B)), "PML dropped a sample (softmax underflow)"
        per_sample = out["losses"]
        ours = (per_sample + torch.log(-torch.expm1(-per_sample))).mean()
        ours.backward()
        tensors.update({f"{name}.x": x0, f"{name}.proxies": p0, f"{name}.y": y, f"{name}.loss": ours.detach(),
                        f"{name}.grad_x": x.grad, f"{name}.grad_proxies": loss_fn.proxies.grad})
        extra[name] = {"scale_embeddings": sx, "scale_proxies": sp, "softmax_scale": sx * sp,
                       "pml_mean_loss": per_sample.mean().item()}
    save_json("loss-pml-proxynca.json", tensors, extra)
    print("wrote loss-pml-triplet.json, loss-pml-proxynca.json;", json.dumps({"agree_seed": seed}))


def commit_of(src):
    """The commit of the PML copy: the second argument, else git's answer for src, else 'unknown'."""
    if len(sys.argv) > 2:
        return sys.argv[2]
    r = subprocess.run(["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else "unknown"


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: pml_losses.py PML_SRC_DIR [COMMIT] (the src/ folder of a pytorch-metric-learning copy)")
    main(sys.argv[1])
