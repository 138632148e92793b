"""joinedup benchmarks: run by hand (`make bench`), never as timed tests. Prints a Markdown table and writes
bench/results/report.md and report.json; then runs bench/postgres.py (both storage backends at 10k and 100k)
and bench/hnsw.py (HNSW recall and speed at 1M), which print and write tables of their own.

Every speed figure is quoted next to a plain sentence-transformers encode measured in the same run, because
absolute figures on shared machines drift. Use --quick for a smaller run (10k statements only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from classifier.config import DEFAULT_EMBEDDING_MODEL, load_settings  # noqa: E402
from classifier.model.dataset import load_labelled  # noqa: E402
from classifier.model.embeddings import load_embedder, resolve_model_path  # noqa: E402
from classifier.search.faiss_index import VectorIndex  # noqa: E402
from classifier.pipeline import Pipeline  # noqa: E402
from classifier.storage.records import NewStatement  # noqa: E402

RESULTS: list[dict] = []


def record(area: str, metric: str, value, unit: str = "", note: str = ""):
    RESULTS.append({"area": area, "metric": metric, "value": value, "unit": unit, "note": note})
    print(f"{area:10s} {metric:55s} {value!s:>12} {unit} {note}", flush=True)


def pct(values, q):
    return float(np.percentile(np.asarray(values) * 1000, q))


def texts_from_training(n: int) -> list[str]:
    from classifier.model.codebook import load_codebook

    cb = load_codebook(ROOT / "training_data" / "themes.toml")
    texts = load_labelled(ROOT / "training_data" / "documents", cb).without_boilerplate().texts + \
        load_labelled(ROOT / "training_data" / "test_documents.jsonl", cb).without_boilerplate().texts
    out = []
    while len(out) < n:
        out.extend(texts)
    return out[:n]


def bench_embedding(pipe: Pipeline, n: int = 2000):
    from sentence_transformers import SentenceTransformer

    texts = texts_from_training(n)
    model = SentenceTransformer(str(resolve_model_path(DEFAULT_EMBEDDING_MODEL)), device="cpu")
    model.encode(texts[:64])
    t = time.perf_counter()
    reference = model.encode(texts, batch_size=32, normalize_embeddings=True)
    plain = time.perf_counter() - t
    record("embed", f"plain sentence-transformers encode (PyTorch), {n} paragraphs", round(n / plain, 1), "para/s",
           f"{plain:.1f} s")
    for backend in ("torch", "onnx", "onnx-int8"):
        emb = load_embedder(pipe.settings.embedding_model, backend=backend,
                            export_root=pipe.settings.models_dir / "embeddings")
        emb.embed(texts[:64])
        t = time.perf_counter()
        vecs = emb.embed(texts)
        took = time.perf_counter() - t
        cosine = float(np.mean(np.sum(vecs * reference, axis=1)))
        record("embed", f"backend {backend}, {n} paragraphs", round(n / took, 1), "para/s",
               f"{plain / took:.2f}x plain; mean cosine to PyTorch {cosine:.4f}")

    scorer = pipe.scorer()
    t = time.perf_counter()
    vectors = pipe.embedder.embed(texts)
    scorer.score(texts, vectors)
    ours = time.perf_counter() - t
    record("tag", f"batched tagging (embed + score), {n} paragraphs", round(n / ours, 1), "para/s",
           f"{ours / plain:.2f}x plain encode time")

    single = []
    for text in texts[:200]:
        t = time.perf_counter()
        scorer.tag_texts([text])
        single.append(time.perf_counter() - t)
    record("tag", "single paragraph latency p50 / p99", f"{pct(single, 50):.1f} / {pct(single, 99):.1f}", "ms")

    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps({"id": i, "text": x}) + "\n" for i, x in enumerate(texts)))
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "joinedup"), "tag", "--jsonl", str(src)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env=dict(os.environ, JOINEDUP_DATA_DIR=tmp))
        cli = time.perf_counter() - t
    record("tag", f"`joinedup tag --jsonl` end to end, {n} paragraphs (model load included)", round(cli, 1), "s",
           f"{cli / plain:.2f}x plain encode (target <= 0.75x)")
    return plain


def bench_ingest(settings, embedder, n: int = 1000):
    with tempfile.TemporaryDirectory() as tmp:
        pipe = Pipeline(load_settings(environ={}, data_dir=Path(tmp), models_dir=settings.models_dir),
                        embedder=embedder)
        texts = [f"{x} (copy {i})" for i, x in enumerate(texts_from_training(n))]
        t = time.perf_counter()
        for i in range(0, n, 64):
            pipe.add_statements([NewStatement(x, "Bench Org", "2020-01-01") for x in texts[i:i + 64]])
        pipe.search_index.sync()
        elapsed = time.perf_counter() - t
    record("ingest", f"ingest end to end (embed, tag, commit, index), {n} statements", round(n / elapsed, 1),
           "stmt/s", "target >= 100")


def synthetic_store(pipe: Pipeline, n: int, base: np.ndarray, seed: int = 0):
    """n statements written straight into the store, with vectors scattered around real paragraph embeddings
    (``base``) so the corpus has the clustered shape of real text, and short synthetic texts."""
    rng = np.random.default_rng(seed)
    words = "care council health funding workforce discharge housing data board plan budget winter staff".split()
    dim = base.shape[1]
    batch = 5000
    for start in range(0, n, batch):
        m = min(batch, n - start)
        vecs = base[rng.integers(0, len(base), m)] + rng.normal(scale=0.035, size=(m, dim)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        items = [NewStatement(" ".join(rng.choice(words, 12)) + f" s{start + i}", f"Org {(start + i) % 50}",
                              f"{2012 + (start + i) % 15}-01-01") for i in range(m)]
        pipe.store.add(items, vecs, [{} for _ in items], {}, "synthetic")


def bench_search(settings, embedder, sizes):
    queries = [json.loads(line)["query"] for line in
               (ROOT / "training_data" / "search_eval.jsonl").read_text().splitlines() if line.strip()]
    base = embedder.embed(texts_from_training(2000))
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            pipe = Pipeline(load_settings(environ={}, data_dir=Path(tmp), models_dir=settings.models_dir),
                            embedder=embedder)
            t = time.perf_counter()
            synthetic_store(pipe, n, base)
            pipe.search_index.sync()
            record("search", f"build store + indexes, {n:,} statements", round(time.perf_counter() - t, 1), "s",
                   f"index kind {pipe.search_index._vectors.kind}")
            for mode in ("semantic", "hybrid"):
                lat = []
                for i in range(200):
                    q = queries[i % len(queries)]
                    t = time.perf_counter()
                    pipe.search_index.search(q, k=10, mode=mode)
                    lat.append(time.perf_counter() - t)
                record("search", f"{mode} search incl. query embedding, {n:,}: p50 / p99",
                       f"{pct(lat, 50):.1f} / {pct(lat, 99):.1f}", "ms", "target p50 <= 20, p99 <= 60 at 100k")
            if pipe.search_index._vectors.kind == "hnsw":
                exact = VectorIndex(embedder.dimension, "flat")
                for ids, vecs in pipe.store.vectors():
                    exact.add(ids, vecs)
                qs = embedder.embed(queries)
                recall = np.mean([len(set(exact.search(q, 10)[0]) & set(pipe.search_index._vectors.search(q, 10)[0])) / 10
                                  for q in qs])
                record("search", f"HNSW recall@10 vs exact, {n:,}", round(float(recall), 3))
            pipe.search_index.save()
            del pipe
            rss = serving_rss(settings, Path(tmp), queries)
            record("memory", f"peak RSS of one serving worker, {n:,} statements", rss, "MB", "target <= 1200 at 100k")


def serving_rss(settings, data_dir: Path, queries: list[str], port: int = 8766) -> int:
    """Start `joinedup serve` with one worker on ``data_dir``, search (all modes) and tag through it, and return
    the worker's peak resident set size in MB."""
    env = dict(os.environ, JOINEDUP_DATA_DIR=str(data_dir), JOINEDUP_MODELS_DIR=str(settings.models_dir))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "joinedup"), "serve", "--port", str(port),
                             "--workers", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        _wait_healthy(base)
        for i, q in enumerate(queries[:30]):
            mode = ("hybrid", "semantic", "keyword")[i % 3]
            urllib.request.urlopen(f"{base}/search?q={urllib.parse.quote(q)}&mode={mode}&k=20", timeout=600).read()
        for text in texts_from_training(20):
            req = urllib.request.Request(f"{base}/tag", method="POST", data=json.dumps({"text": text}).encode(),
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=60).read()
        return _rss_of_children(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _wait_healthy(base: str) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the server did not come up")


def bench_retrain(settings, embedder):
    from classifier.model.codebook import load_codebook
    from classifier.model.embeddings import CachedEmbedder
    from classifier.model.registry import Registry
    from classifier.model.training import train

    cb = load_codebook(ROOT / "training_data" / "themes.toml")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "documents"
        data.mkdir()
        # About 2,000 labelled paragraphs: the first training documents (a speed run, not an evaluation)
        rows, n = [], 0
        for f in sorted((ROOT / "training_data" / "documents").glob("*.jsonl")):
            for line in f.read_text().splitlines():
                if n < 2000:
                    rows.append(line)
                    n += len(json.loads(line)["paragraphs"])
        (data / "all.jsonl").write_text("\n".join(rows) + "\n")
        cached = CachedEmbedder(embedder, Path(tmp) / "cache.sqlite")
        registry = Registry(Path(tmp) / "models")
        for label in ("cold cache", "warm cache"):
            t = time.perf_counter()
            first = train(cb, cached, registry, data, None)
            record("retrain", f"train on 2,000 labelled paragraphs, choosing among {len(first.candidates)} "
                   f"candidates, {label}", round(time.perf_counter() - t, 1), "s", "`joinedup train`")
        t = time.perf_counter()
        again = train(cb, cached, registry, data, None, activate=False, select=False)
        assert again.params_source == "reused"
        record("retrain", "retrain on 2,000 labelled paragraphs reusing the active model's parameters, warm cache",
               round(time.perf_counter() - t, 1), "s", "API retrain / `train --reuse-params`; target <= 15 s")


def bench_backends(settings):
    """Train on the shipped corpus with each embedding backend: frozen-test F1 beside speed chooses the default."""
    from classifier.model.training import train
    from classifier.model.registry import Registry

    pipe = Pipeline(settings)
    for backend in ("torch", "onnx", "onnx-int8"):
        emb = load_embedder(settings.embedding_model, settings.embedding_batch_size, 0, backend,
                            settings.models_dir / "embeddings")
        with tempfile.TemporaryDirectory() as tmp:
            r = train(pipe.codebook, emb, Registry(Path(tmp)), settings.documents_path, settings.test_path,
                      seed=settings.seed)
        record("backend", f"{emb.name}: CV micro / macro F1, frozen-test micro / macro F1",
               f"{r.cv.micro_f1:.3f} / {r.cv.macro_f1:.3f}, {r.test.micro_f1:.3f} / {r.test.macro_f1:.3f}")


def bench_http(settings, n_requests: int = 200, concurrency: int = 8):
    port = 8765
    with tempfile.TemporaryDirectory() as tmp:
        # One client sends every request here: the per-client rate limit (120/minute by default) would answer
        # most of them with 429 and measure the limiter, not the service.
        env = dict(os.environ, JOINEDUP_DATA_DIR=tmp, JOINEDUP_MODELS_DIR=str(settings.models_dir),
                   JOINEDUP_RATE_LIMIT="0")
        joinedup = str(Path(sys.executable).parent / "joinedup")
        subprocess.run([joinedup, "ingest", "--quiet", str(ROOT / "training_data" / "sample_corpus.jsonl")], env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc = subprocess.Popen([joinedup, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/api/v1")
            texts = texts_from_training(n_requests)

            def tag(i):
                req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/tag", method="POST",
                                             data=json.dumps({"text": texts[i]}).encode(),
                                             headers={"Content-Type": "application/json"})
                return urllib.request.urlopen(req, timeout=60).status

            def search(i):
                q = urllib.parse.quote(" ".join(texts[i].split()[:6]))
                return urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/search?q={q}", timeout=60).status

            for name, fn in (("/tag", tag), ("/search", search)):
                errors = 0
                t = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    for status in pool.map(lambda i: _safe(fn, i), range(n_requests)):
                        errors += status != 200
                elapsed = time.perf_counter() - t
                record("http", f"{name}: {n_requests} requests, {concurrency} concurrent, 2 workers",
                       round(n_requests / elapsed, 1), "req/s", f"{errors} errors")
            rss = _rss_of_children(proc.pid)
            record("memory", "peak RSS per serving worker after the load above, sample corpus", rss, "MB")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _safe(fn, i):
    try:
        return fn(i)
    except Exception:
        return 0


def _rss_of_children(pid: int) -> int:
    peaks = []
    for child in Path("/proc").iterdir():
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        if f"PPid:\t{pid}\n" in status:
            peaks += [int(line.split()[1]) // 1024 for line in status.splitlines() if line.startswith("VmHWM")]
    return max(peaks) if peaks else -1


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k statements only")
    ap.add_argument("--sizes", default=None, help="comma-separated corpus sizes for search (default 10000,100000)")
    ap.add_argument("--only", default=None,
                    help="comma-separated parts: embedding,ingest,search,retrain,http,storage,scale (default all) "
                         "and backends")
    args = ap.parse_args()
    parts = set((args.only or "embedding,ingest,search,retrain,http,storage,scale").split(","))
    sizes = [int(s) for s in (args.sizes or ("10000" if args.quick else "10000,100000")).split(",")]
    settings = load_settings()
    embedder = Pipeline(settings).embedder
    pipe = Pipeline(settings, embedder=embedder)
    record("machine", "cpu / cores / python", f"{platform.processor() or platform.machine()} / {os.cpu_count()} / "
           f"{platform.python_version()}")
    if "embedding" in parts:
        bench_embedding(pipe)
    if "ingest" in parts:
        bench_ingest(settings, embedder)
    if "search" in parts:
        bench_search(settings, embedder, sizes)
    if "retrain" in parts:
        bench_retrain(settings, embedder)
    if "http" in parts:
        bench_http(settings)
    if "backends" in parts:
        bench_backends(settings)
    # The two storage backends side by side (bench/postgres.py) and HNSW at 1M statements (bench/hnsw.py) run as
    # scripts of their own: each prints its table and writes it under bench/results/.
    if "storage" in parts:
        subprocess.run([sys.executable, str(ROOT / "bench" / "postgres.py"), "--sizes", ",".join(map(str, sizes))],
                       check=False)
    if "scale" in parts:
        subprocess.run([sys.executable, str(ROOT / "bench" / "hnsw.py"), "--size", "1000000"], check=False)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "report.json").write_text(json.dumps(RESULTS, indent=2))
    lines = ["| area | metric | value | unit | note |", "|---|---|---|---|---|"]
    lines += [f"| {r['area']} | {r['metric']} | {r['value']} | {r['unit']} | {r['note']} |" for r in RESULTS]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
