"""Golden fixture for the Reality Check evaluation (src/eval/reality-check.ts): Precision@1, R-Precision and
MAP@R as pytorch-metric-learning's AccuracyCalculator defines them (query set = reference set, the query
itself excluded, queries whose class has no other item left out), with faiss' exact inner-product k-NN;
three models' separated mean and 95% confidence interval (Student's t, scipy.stats.t.interval) and their
L2-normalised embeddings concatenated. pytorch-metric-learning itself is not installed: its formulas are
restated below (accuracy_calculator.py: precision_at_1, r_precision, mean_average_precision_at_r).

Run: /usr/bin/python3 tools/golden/reality_check.py  ->  test/fixtures/golden/eval-reality-check.json
"""
import faiss
import numpy as np
import scipy.stats
import torch

from common import save_json


def knn_labels(x, labels, k):
    """Labels of the k nearest other items by inner product (faiss IndexFlatIP, self removed)."""
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    _, idx = index.search(x, k + 1)
    out = np.empty((len(x), k), dtype=labels.dtype)
    for i in range(len(x)):
        row = [j for j in idx[i] if j != i][:k]
        out[i] = labels[row]
    return out


def pml_metrics(x, labels):
    """pytorch-metric-learning's three metrics (fractions), lone queries excluded."""
    counts = {c: int((labels == c).sum()) for c in np.unique(labels)}
    r = np.array([counts[c] - 1 for c in labels])
    keep = r >= 1
    k = int(r.max())
    kl = knn_labels(x, labels, k)[keep]
    q = labels[keep][:, None]
    r = r[keep]
    equality = kl == q
    relevance_mask = np.arange(k)[None, :] < r[:, None]
    # precision_at_1
    p1 = float(np.mean(equality[:, 0]))
    # r_precision
    rp = float(np.mean(np.sum(equality * relevance_mask, axis=1) / r))
    # mean_average_precision_at_r
    num_same = np.cumsum(equality, axis=1)
    precision_at_ks = (num_same * equality) / np.arange(1, k + 1)[None, :]
    map_r = float(np.mean(np.sum(precision_at_ks * relevance_mask, axis=1) / r))
    return {"precisionAt1": 100 * p1, "rPrecision": 100 * rp, "mapAtR": 100 * map_r, "queries": int(keep.sum())}


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def main():
    rng = np.random.default_rng(0)
    sizes = [1, 4, 10, 15, 20, 40]  # class 0 has a single item: a lone query, left out
    labels = np.concatenate([np.full(s, c) for c, s in enumerate(sizes)])
    labels = labels[rng.permutation(len(labels))].astype(np.int64)
    models = []
    for d, spread in [(8, 0.9), (6, 1.1), (8, 1.3)]:
        centres = rng.normal(size=(len(sizes), d))
        models.append(unit(centres[labels] + spread * rng.normal(size=(len(labels), d))))
    each = [pml_metrics(m, labels) for m in models]
    separated = {}
    for key in ["precisionAt1", "rPrecision", "mapAtR"]:
        values = np.array([e[key] for e in each])
        lo, hi = scipy.stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=scipy.stats.sem(values))
        separated[key] = {"mean": float(values.mean()), "ci95": float((hi - lo) / 2)}
    concatenated = pml_metrics(np.ascontiguousarray(np.hstack([unit(m) for m in models])), labels)
    tensors = {f"model{i}": torch.from_numpy(m) for i, m in enumerate(models)}
    tensors["labels"] = torch.from_numpy(labels)
    save_json(
        "eval-reality-check.json",
        tensors,
        {"models": each, "separated": separated, "concatenated": concatenated,
         "t975": {str(df): float(scipy.stats.t.ppf(0.975, df)) for df in [1, 2, 3, 4, 9, 30, 31, 50, 200]}},
    )


if __name__ == "__main__":
    main()
