"""faiss side of bench/search/exact.ts, a long-lived JSON-lines worker (bench/common/python.ts).

Requests (one JSON object per line on stdin; one JSON line answers each):
  {"op": "load", "dir": D}                           reads D/x.npy (float32 [n, d]) and D/q.npy (queries)
  {"op": "flat", "k": K, "batch": B, "threads": T}   IndexFlatIP: every query, searched B at a time
Search answers {"seconds", "ids", "scores"} (wall time of the search calls only, one list per query); every
answer carries "faiss" (the version).
"""
import os
import sys
import time

import faiss
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from jsonl_worker import serve  # noqa: E402

state = {}


def handle(req):
    op = req["op"]
    if "threads" in req:
        faiss.omp_set_num_threads(int(req["threads"]))
    if op == "load":
        state["x"] = np.ascontiguousarray(np.load(f"{req['dir']}/x.npy"), dtype=np.float32)
        state["q"] = np.ascontiguousarray(np.load(f"{req['dir']}/q.npy"), dtype=np.float32)
        index = faiss.IndexFlatIP(state["x"].shape[1])
        index.add(state["x"])
        state["index"] = index
        return {"items": int(state["x"].shape[0]), "queries": int(state["q"].shape[0])}
    if op == "flat":
        q, k, batch, index = state["q"], int(req["k"]), int(req["batch"]), state["index"]
        ids = np.empty((q.shape[0], k), dtype=np.int64)
        scores = np.empty((q.shape[0], k), dtype=np.float32)
        seconds = 0.0
        for s in range(0, q.shape[0], batch):
            start = time.perf_counter()
            d, i = index.search(q[s : s + batch], k)
            seconds += time.perf_counter() - start
            ids[s : s + batch] = i
            scores[s : s + batch] = d
        return {"seconds": seconds, "ids": ids.tolist(), "scores": scores.tolist()}
    raise ValueError(f"unknown op {op}")


def main():
    serve(lambda req: {**handle(req), "faiss": faiss.__version__})


if __name__ == "__main__":
    main()
