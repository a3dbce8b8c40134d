"""faiss side of bench/search/run.ts, a long-lived JSON-lines worker (bench/common/python.ts).

Requests (one JSON object per line on stdin; one JSON line answers each):
  {"op": "load", "dir": D}          reads D/x.npy (float32 [n, d], unit rows) and D/q.npy (queries)
  {"op": "flat", "k": K, "threads": T}            IndexFlatIP: exact inner product
  {"op": "binary", "k": K, "threads": T}          IndexBinaryFlat on np.packbits(x > 0, bitorder="little")
  {"op": "hnsw_build", "M": M, "efConstruction": E, "threads": T}   IndexHNSWFlat, inner product
  {"op": "hnsw_search", "ef": EF, "k": K, "threads": T}
Search answers {"seconds", "ids": [[...] per query]} (wall time of the search call only); builds answer
{"seconds", "indexBytes"}; every answer carries "peakRssMiB" and "faiss" (the version).
"""
import os
import resource
import sys
import time

import faiss
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from jsonl_worker import serve  # noqa: E402

state = {}


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def handle(req):
    op = req["op"]
    if "threads" in req:
        faiss.omp_set_num_threads(int(req["threads"]))
    if op == "load":
        state["x"] = np.ascontiguousarray(np.load(f"{req['dir']}/x.npy"), dtype=np.float32)
        state["q"] = np.ascontiguousarray(np.load(f"{req['dir']}/q.npy"), dtype=np.float32)
        state.pop("hnsw", None)
        return {"items": int(state["x"].shape[0]), "queries": int(state["q"].shape[0])}
    x, q, k = state["x"], state["q"], int(req.get("k", 10))
    if op == "flat":
        index = faiss.IndexFlatIP(x.shape[1])
        index.add(x)
        seconds, (_, ids) = timed(lambda: index.search(q, k))
        return {"seconds": seconds, "ids": ids.tolist()}
    if op == "binary":
        codes = np.packbits(x > 0, axis=1, bitorder="little")
        qc = np.packbits(q > 0, axis=1, bitorder="little")
        index = faiss.IndexBinaryFlat(codes.shape[1] * 8)
        index.add(codes)
        seconds, (dist, ids) = timed(lambda: index.search(qc, k))
        return {"seconds": seconds, "ids": ids.tolist(), "hamming": dist.tolist()}
    if op == "hnsw_build":
        index = faiss.IndexHNSWFlat(x.shape[1], int(req["M"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(req["efConstruction"])
        seconds, _ = timed(lambda: index.add(x))
        state["hnsw"] = index
        return {"seconds": seconds, "indexBytes": int(faiss.serialize_index(index).nbytes)}
    if op == "hnsw_search":
        index = state["hnsw"]
        index.hnsw.efSearch = int(req["ef"])
        seconds, (_, ids) = timed(lambda: index.search(q, k))
        return {"seconds": seconds, "ids": ids.tolist()}
    raise ValueError(f"unknown op {op}")


def handle_with_memory(req):
    return {**handle(req), "peakRssMiB": peak_mib(), "faiss": faiss.__version__}


def main():
    serve(handle_with_memory)


if __name__ == "__main__":
    main()
