"""HNSW at scale (issue 13.5): recall@10 against exact search and single-query latency, per efSearch.

Vectors are scattered around real paragraph embeddings, as ``bench/run.py`` makes them, so the corpus has the
clustered shape of real text (the hard case for a graph index: many near-equal neighbours). Queries are the
judged search queries and paragraphs of the held-out test documents, embedded by the real model. Run by hand:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/hnsw.py --size 1000000

Prints one row per efSearch and writes bench/results/hnsw.md. ``faiss_index.ef_search_for`` uses the result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from bench.run import texts_from_training  # noqa: E402
from classifier.config import load_settings  # noqa: E402
from classifier.pipeline import Pipeline  # noqa: E402
from classifier.search.faiss_index import VectorIndex, ef_search_for  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=300, help="paragraph queries besides the judged questions")
    ap.add_argument("--ef", default="128,256,384,512,768,1024")
    args = ap.parse_args()
    faiss.omp_set_num_threads(2)
    embedder = Pipeline(load_settings()).embedder
    base = embedder.embed(texts_from_training(2000))
    rng = np.random.default_rng(0)
    n, dim = args.size, base.shape[1]

    def scattered(m: int) -> np.ndarray:
        v = base[rng.integers(0, len(base), m)] + rng.normal(scale=0.035, size=(m, dim)).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)

    index = VectorIndex(dim, "hnsw")
    exact = faiss.IndexFlatIP(dim)
    t = time.perf_counter()
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        vecs = scattered(m)
        index.add(np.arange(start + 1, start + m + 1, dtype=np.int64), vecs)
        exact.add(vecs)
        print(f"  added {start + m:,} ({time.perf_counter() - t:.0f} s)", flush=True)
    build = time.perf_counter() - t
    judged = [json.loads(line)["query"] for line in
              (ROOT / "training_data" / "search_eval.jsonl").read_text().splitlines() if line.strip()]
    test_texts = texts_from_training(5000)[-args.queries:]
    queries = embedder.embed(judged + test_texts)
    asked = len(judged)  # the judged questions come first: far from any paragraph, the hard case
    _, truth = exact.search(queries, 10)
    truth = truth + 1  # ids are positions + 1
    faiss.omp_set_num_threads(1)  # a serving worker searches on one thread
    rows = [f"HNSW at {n:,} vectors (M 32, efConstruction 80), built in "
            f"{build:.0f} s; {asked} judged questions and {len(queries) - asked} paragraphs as queries; default "
            f"efSearch here: {ef_search_for(n)}", "",
            "| efSearch | recall@10, questions | recall@10, paragraphs | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for ef in [int(e) for e in args.ef.split(",")]:
        index.ef_search = ef
        lat, recall = [], []
        for q, want in zip(queries, truth):
            t = time.perf_counter()
            ids, _ = index.search(q, 10)
            lat.append(time.perf_counter() - t)
            recall.append(len(set(ids.tolist()) & set(want.tolist())) / 10)
        row = (f"| {ef} | {np.mean(recall[:asked]):.3f} | {np.mean(recall[asked:]):.3f} | "
               f"{np.percentile(lat, 50) * 1000:.1f} | {np.percentile(lat, 99) * 1000:.1f} |")
        rows.append(row)
        print(row, flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "hnsw.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
