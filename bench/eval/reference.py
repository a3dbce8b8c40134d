"""faiss side of bench/eval/run.ts: Recall@K of one set searched against itself, self excluded.

Usage: python3 reference.py DATA_DIR float|binary THREADS K1,K2,...
Reads DATA_DIR/x.npy (float32 [n, d]) and DATA_DIR/labels.npy, prints one JSON line:
  {"seconds": ..., "cpuSeconds": ..., "recall": {"1": ...}, "peakRssMiB": ..., "faiss": version}
The timed part is what an evaluation does: build the index (IndexFlatIP on the floats, or
IndexBinaryFlat on np.packbits(x > 0, bitorder='little')), search k + 1 neighbours, drop each
query's own index, compute recall.
"""
import json
import resource
import sys
import time

import faiss
import numpy as np


def recall(neighbours, labels, ks):
    hits = labels[neighbours] == labels[:, None]
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), np.iinfo(np.int64).max)
    return {str(k): float(100.0 * (first < k).mean()) for k in ks}


def drop_self(I, k):
    n = I.shape[0]
    own = I == np.arange(n)[:, None]
    # Rows without their own index (ties) drop the last entry instead.
    own[~own.any(axis=1), -1] = True
    return I[~own].reshape(n, k)


def main():
    data, mode, threads, ks = sys.argv[1], sys.argv[2], int(sys.argv[3]), [int(k) for k in sys.argv[4].split(",")]
    faiss.omp_set_num_threads(threads)
    x = np.load(f"{data}/x.npy")
    labels = np.load(f"{data}/labels.npy")
    k = max(ks)
    cpu_start = time.process_time()
    start = time.perf_counter()
    if mode == "float":
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        _, I = index.search(x, k + 1)
    else:
        codes = np.packbits(x > 0, axis=1, bitorder="little")
        index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
        index.add(codes)
        _, I = index.search(codes, k + 1)
    result = recall(drop_self(I, k), labels, ks)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "recall": result, "peakRssMiB": peak, "faiss": faiss.__version__}))


if __name__ == "__main__":
    main()
