"""Golden fixture for `--nmi-method sklearn`: hard clustering data (many overlapping classes, where the
k-means seeding matters) and scikit-learn's KMeans + normalized_mutual_info_score on it over several
seeds, beside faiss k-means as the paper's official script runs it (300 iterations, 10 restarts).

Run with Debian's /usr/bin/python3 (numpy, sklearn, faiss): /usr/bin/python3 tools/golden/nmi_sklearn.py
Writes test/fixtures/golden/nmi-sklearn.npy (float16 [2000, 32] unit rows, the data every method sees),
nmi-sklearn-labels.npy (int64 [2000]) and nmi-sklearn.json (the reference NMIs).
"""
import json
import time

import faiss
import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score

from common import out_path

faiss.omp_set_num_threads(1)

N, D, CLASSES, SPREAD, SEEDS = 2000, 32, 100, 0.25, 8


def data():
    rng = np.random.default_rng(2024)
    centres = rng.standard_normal((CLASSES, D))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = np.arange(N) % CLASSES
    rng.shuffle(labels)
    x = centres[labels] + SPREAD * rng.standard_normal((N, D))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    # float16 is what is committed; every method (here and in the test) clusters these exact values.
    return x.astype(np.float16), labels.astype(np.int64)


def nmis(labels, clusters):
    return {
        a: float(normalized_mutual_info_score(labels, clusters, average_method=a)) for a in ("geometric", "arithmetic")
    }


def main():
    x16, labels = data()
    x = x16.astype(np.float32)
    sklearn_runs = []
    start = time.time()
    for seed in range(SEEDS):
        km = KMeans(n_clusters=CLASSES, n_init=10, max_iter=300, tol=1e-4, random_state=seed).fit(x)
        sklearn_runs.append({"seed": seed, "inertia": float(km.inertia_), **nmis(labels, km.labels_)})
    sklearn_seconds = (time.time() - start) / SEEDS
    faiss_runs = []
    for seed in range(SEEDS):
        km = faiss.Kmeans(D, CLASSES, niter=300, nredo=10, seed=seed)
        km.train(x)
        _, clusters = km.index.search(x, 1)
        faiss_runs.append({"seed": seed, "inertia": float(km.obj[-1]), **nmis(labels, clusters[:, 0])})
    np.save(out_path("nmi-sklearn.npy"), x16)
    np.save(out_path("nmi-sklearn-labels.npy"), labels)
    doc = {
        "shape": [N, D],
        "classes": CLASSES,
        "spread": SPREAD,
        "sklearn": {"n_init": 10, "max_iter": 300, "tol": 1e-4, "seconds_per_fit": sklearn_seconds, "runs": sklearn_runs},
        "faiss": {"niter": 300, "nredo": 10, "runs": faiss_runs},
    }
    with open(out_path("nmi-sklearn.json"), "w") as f:
        json.dump(doc, f, indent=1)
    for name in ("sklearn", "faiss"):
        runs = doc[name]["runs"]
        print(name, [round(r["geometric"], 4) for r in runs], [round(r["arithmetic"], 4) for r in runs])


if __name__ == "__main__":
    main()
