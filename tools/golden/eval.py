"""Golden fixtures for src/eval: exact k-NN from faiss (IndexFlatIP, IndexBinaryFlat), Recall@K on
faiss' neighbours, and NMI from sklearn (on fixed labelings and on faiss k-means clusters).

Run with Debian's /usr/bin/python3 (faiss, sklearn): /usr/bin/python3 tools/golden/eval.py
Writes test/fixtures/golden/eval-knn.json, eval-binary.json and eval-nmi.json.
"""
import faiss
import numpy as np
import torch
from sklearn.metrics import normalized_mutual_info_score

from common import save_json

faiss.omp_set_num_threads(1)


def unit(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def clustered(rng, n, centres, spread):
    """n unit vectors around the rows of `centres`; labels 0.. in order of first appearance."""
    classes, d = centres.shape
    labels = rng.integers(0, classes, n)
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first)
    remap = np.empty(classes, dtype=np.int64)
    remap[np.unique(labels)[order]] = np.arange(len(order))
    labels = remap[labels]
    x = centres[labels] + spread * rng.standard_normal((n, d))
    return unit(x), labels


def recall_at(neighbours, query_labels, gallery_labels, ks):
    hits = gallery_labels[neighbours] == query_labels[:, None]
    return {str(k): float(100.0 * hits[:, :k].any(axis=1).mean()) for k in ks}


def drop_self(I, k):
    """faiss searched k+1 with the query in the gallery: remove each row's own index."""
    rows = []
    for i, row in enumerate(I):
        kept = [j for j in row if j != i][:k]
        assert len(kept) == k
        rows.append(kept)
    return np.array(rows, dtype=np.int64)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def knn():
    rng = np.random.default_rng(5)
    d, k, ks = 24, 10, [1, 2, 4, 8]
    centres = rng.standard_normal((12, d))
    gallery, glabels = clustered(rng, 300, centres, 1.3)
    query, qlabels = clustered(rng, 70, centres, 1.3)
    index = faiss.IndexFlatIP(d)
    index.add(gallery)
    D, I = index.search(query, k)

    x, labels = clustered(rng, 240, rng.standard_normal((16, d)), 1.2)
    index = faiss.IndexFlatIP(d)
    index.add(x)
    _, Is = index.search(x, k + 1)
    Is = drop_self(Is, k)
    Ds = np.take_along_axis(x @ x.T, Is, axis=1)
    save_json(
        "eval-knn.json",
        {
            "query": t(query),
            "gallery": t(gallery),
            "query_labels": t(qlabels),
            "gallery_labels": t(glabels),
            "D": t(D),
            "I": t(I),
            "x": t(x),
            "labels": t(labels),
            "self_D": t(Ds.astype(np.float32)),
            "self_I": t(Is),
        },
        {
            "k": k,
            "ks": ks,
            "recall_pair": recall_at(I, qlabels, glabels, ks),
            "recall_self": recall_at(Is, labels, labels, ks),
        },
    )


def binary():
    rng = np.random.default_rng(6)
    k, ks = 10, [1, 2, 4, 8]
    # 44 dimensions: not a multiple of 8, so the last byte is padded; few bits make many ties.
    small, _ = clustered(rng, 120, rng.standard_normal((6, 44)), 1.0)
    small_codes = np.packbits(small > 0, axis=1, bitorder="little")
    index = faiss.IndexBinaryFlat(small_codes.shape[1] * 8)
    index.add(small_codes)
    small_D, _ = index.search(small_codes[:40], k)

    # 256 bits: ties at the recall boundaries are rare, so faiss' neighbours give exact recall.
    x, labels = clustered(rng, 200, rng.standard_normal((10, 256)), 2.2)
    codes = np.packbits(x > 0, axis=1, bitorder="little")
    index = faiss.IndexBinaryFlat(256)
    index.add(codes)
    D, I = index.search(codes, k + 1)
    Is = drop_self(I, k)
    Ds = np.array([[bin(int.from_bytes(np.bitwise_xor(codes[i], codes[j]).tobytes(), "little")).count("1") for j in row]
                   for i, row in enumerate(Is)], dtype=np.int32)
    # Our rule: (distance, index) ascending. Check faiss' lists agree with it at every recall boundary.
    full = np.array([[bin(int.from_bytes(np.bitwise_xor(codes[i], codes[j]).tobytes(), "little")).count("1")
                      for j in range(len(codes))] for i in range(len(codes))])
    np.fill_diagonal(full, 10**6)
    ours = np.lexsort((np.tile(np.arange(len(codes)), (len(codes), 1)), full), axis=1)[:, :k]
    assert recall_at(ours, labels, labels, ks) == recall_at(Is, labels, labels, ks)
    save_json(
        "eval-binary.json",
        {
            "small": t(small),
            "small_codes": t(small_codes),
            "small_D": t(small_D.astype(np.int32)),
            "labels": t(labels),
            "codes": t(codes),
            "self_D": t(Ds),
            "self_I": t(Is),
        },
        {"k": k, "ks": ks, "recall_self": recall_at(Is, labels, labels, ks)},
    )


def nmi():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 5, 300)
    b = (a + (rng.random(300) < 0.35) * rng.integers(0, 7, 300)) % 7
    pairs = {
        "geometric": float(normalized_mutual_info_score(a, b, average_method="geometric")),
        "arithmetic": float(normalized_mutual_info_score(a, b, average_method="arithmetic")),
    }
    # k-means as the reference runs it: faiss, 300 iterations, 10 restarts, seed 0.
    x, labels = clustered(rng, 400, rng.standard_normal((8, 16)), 0.9)
    kmeans = faiss.Kmeans(16, 8, niter=300, nredo=10, seed=0)
    kmeans.train(x)
    _, clusters = kmeans.index.search(x, 1)
    clusters = clusters[:, 0]
    save_json(
        "eval-nmi.json",
        {"a": t(a), "b": t(b), "x": t(x), "labels": t(labels), "faiss_clusters": t(clusters.astype(np.int64))},
        {
            "pairs": pairs,
            "faiss_kmeans": {
                "geometric": float(normalized_mutual_info_score(labels, clusters, average_method="geometric")),
                "arithmetic": float(normalized_mutual_info_score(labels, clusters, average_method="arithmetic")),
                "objective": float(kmeans.obj[-1]),
            },
        },
    )


if __name__ == "__main__":
    knn()
    binary()
    nmi()
