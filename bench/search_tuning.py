"""Which ranking signals help on the judged queries (issue 13.6)? Prints nDCG@10 per variant.

Loads the sample corpus into a scratch store with the configured embedder and model, computes every signal once
per query over the whole (filtered) corpus, and scores fusions of them. Run by hand:

    HF_HUB_OFFLINE=1 .venv/bin/python bench/search_tuning.py

The corpus is small (a few hundred statements), so each signal is computed exactly rather than through the
indexes; a variant that wins here is then built into both search engines and measured there with
``joinedup evaluate-search``.
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import bm25s
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from classifier.config import load_settings  # noqa: E402
from classifier.pipeline import Pipeline  # noqa: E402
from classifier.text.terms import terms as _tokens  # noqa: E402
from classifier.search.evaluation import load_judgements, ndcg_at  # noqa: E402
from classifier.storage import scratch_settings  # noqa: E402
from classifier.storage.records import Filters  # noqa: E402
from classifier.text.readers import documents_from_path  # noqa: E402


def bm25_scores(corpus_texts: list[str], query: str) -> np.ndarray:
    retriever = bm25s.BM25()
    retriever.index(_tokens(corpus_texts), show_progress=False)
    q = _tokens([query])
    if not q[0]:
        return np.zeros(len(corpus_texts))
    return retriever.get_scores(q[0])


def ranks(scores: np.ndarray, pool: int = 50) -> dict[int, int]:
    """position -> rank (1-based) of the top ``pool`` positive scores."""
    order = np.argsort(-scores, kind="stable")[:pool]
    return {int(i): r for r, i in enumerate(order, 1) if scores[i] > 0}


def rrf(rank_maps: list[dict[int, int]], weights: list[float], k: int = 10) -> dict[int, float]:
    out: dict[int, float] = {}
    for m, w in zip(rank_maps, weights):
        for i, r in m.items():
            out[i] = out.get(i, 0.0) + w / (k + r)
    return out


def bigrams(tokens: list[str]) -> set[tuple[str, str]]:
    return set(zip(tokens, tokens[1:]))


def main() -> None:
    settings = load_settings()
    judged = load_judgements(settings.training_data_dir / "search_eval.jsonl")
    with tempfile.TemporaryDirectory() as tmp, scratch_settings(settings, Path(tmp)) as scratch:
        pipe = Pipeline(scratch)
        pipe.ingest_documents(documents_from_path(settings.training_data_dir / "sample_corpus.jsonl"))
        store = pipe.store
        ids = store.filter_ids(Filters())
        rows = store.get(ids)
        statements = [rows[i] for i in ids]
        texts = [s.text for s in statements]
        urls = [s.url for s in statements]
        fielded = [f"{s.title or ''} {s.organisation or ''} {s.text}" for s in statements]
        titled = [f"{s.title or ''} {s.text}" for s in statements]
        orged = [f"{s.organisation or ''} {s.text}" for s in statements]
        title2 = [f"{s.title or ''} {s.title or ''} {s.organisation or ''} {s.text}" for s in statements]
        by_id = {int(i): v for bi, bv in store.vectors(ids) for i, v in zip(bi, bv)}
        vectors = np.vstack([by_id[i] for i in ids])
        order = {int(i): n for n, i in enumerate(ids)}
        scorer = pipe.scorer()
        theme_ids = scorer.theme_ids
        stmt_themes = np.array([[next((x["score"] for x in s.themes if x["id"] == t), 0.0) for t in theme_ids]
                                for s in statements])
        tok_text = _tokens(texts)
        text_bigrams = [bigrams(t) for t in tok_text]

        signals = []
        extra = {}
        for j in judged:
            cand = np.array([order[i] for i in store.filter_ids(j.filters)]) if j.filters else np.arange(len(ids))
            mask = np.zeros(len(ids), dtype=bool)
            mask[cand] = True
            qv = pipe.embedder.embed([j.query])[0]
            dense = np.where(mask, vectors @ qv, -np.inf)
            kw = np.where(mask, bm25_scores(texts, j.query), 0)
            kwf = np.where(mask, bm25_scores(fielded, j.query), 0)
            extra[j.query] = [np.where(mask, bm25_scores(x, j.query), 0) for x in (titled, orged, title2)]
            qt = scorer.score([j.query], qv[None, :])[0]
            prior = np.where(mask, stmt_themes @ qt / (np.linalg.norm(qt) + 1e-9), 0)
            qb = bigrams(_tokens([j.query])[0])
            phrase = np.where(mask, np.array([len(qb & b) for b in text_bigrams], dtype=float), 0)
            signals.append((j, dense, kw, kwf, prior, phrase))

        def evaluate(name, fuse):
            nd = []
            for j, dense, kw, kwf, prior, phrase in signals:
                score = fuse(dense, kw, kwf, prior, phrase)
                top = sorted(score.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
                nd.append(ndcg_at([urls[i] for i, _ in top], j.relevance))
            half = len(nd) // 2
            print(f"{name:<52}{np.mean(nd):.3f}   (halves {np.mean(nd[:half]):.3f} / {np.mean(nd[half:]):.3f})")

        dense_r = lambda d: ranks(np.where(np.isfinite(d), d + 2, 0))  # noqa: E731
        evaluate("dense", lambda d, kw, kwf, p, ph: {i: -r for i, r in dense_r(d).items()})
        evaluate("bm25 text", lambda d, kw, kwf, p, ph: {i: -r for i, r in ranks(kw).items()})
        evaluate("bm25 title+org+text", lambda d, kw, kwf, p, ph: {i: -r for i, r in ranks(kwf).items()})
        evaluate("today: rrf(dense 1.0, bm25 1.5, k=10)", lambda d, kw, kwf, p, ph: rrf([dense_r(d), ranks(kw)], [1, 1.5]))
        for wk in (1.0, 1.5):
            evaluate(f"rrf(dense, bm25 fielded {wk})", lambda d, kw, kwf, p, ph, wk=wk: rrf([dense_r(d), ranks(kwf)], [1, wk]))
            for wp in (0.25, 0.5, 1.0):
                evaluate(f"rrf(dense, bm25 {wk}, prior {wp})", lambda d, kw, kwf, p, ph, wk=wk, wp=wp:
                         rrf([dense_r(d), ranks(kw), ranks(np.where(np.isfinite(d), p, 0))], [1, wk, wp]))
            for wp in (0.25, 0.5):
                evaluate(f"rrf(dense, bm25 {wk}, phrase {wp})", lambda d, kw, kwf, p, ph, wk=wk, wp=wp:
                         rrf([dense_r(d), ranks(kw), ranks(ph)], [1, wk, wp]))
        for n, name in enumerate(("title+text", "org+text", "title x2+org+text")):
            evaluate(f"rrf(dense, bm25 {name} 1.5)", lambda d, kw, kwf, p, ph, n=n, j=None: None) if False else None
        def by_extra(n, w, k=10, wp=0.0):
            def fuse(d, kw, kwf, p, ph):
                key = next(q for q, (_, dd, *_r) in ((s[0].query, s) for s in signals) if dd is d)
                maps = [dense_r(d), ranks(extra[key][n] if n is not None else kwf)]
                ws = [1, w]
                if wp:
                    maps.append(ranks(np.where(np.isfinite(d), p, 0)))
                    ws.append(wp)
                return rrf(maps, ws, k)
            return fuse
        for n, name in ((0, "title+text"), (1, "org+text"), (2, "title x2+org+text"), (None, "title+org+text")):
            for w in (1.0, 1.5, 2.0):
                evaluate(f"rrf(dense, bm25 {name} {w})", by_extra(n, w))
        for k in (5, 20, 60):
            evaluate(f"rrf(dense, bm25 title+org+text 1.5, k={k})", by_extra(None, 1.5, k))
        for wp in (0.25, 0.5):
            evaluate(f"rrf(dense, bm25 title+org+text 1.5, prior {wp})", by_extra(None, 1.5, 10, wp))
        for a in ():
            def lin(d, kw, kwf, p, ph, a=a):
                finite = np.isfinite(d)
                kwn = kw / (kw.max() + 1e-9)
                s = np.where(finite, d + a * kwn, -np.inf)
                return {i: s[i] for i in np.argsort(-s)[:50]}
            evaluate(f"linear: cosine + {a} * bm25/max", lin)
            for b in (0.05, 0.1, 0.2):
                def linp(d, kw, kwf, p, ph, a=a, b=b):
                    finite = np.isfinite(d)
                    kwn = kw / (kw.max() + 1e-9)
                    s = np.where(finite, d + a * kwn + b * p, -np.inf)
                    return {i: s[i] for i in np.argsort(-s)[:50]}
                evaluate(f"linear: cosine + {a} * bm25/max + {b} * prior", linp)


if __name__ == "__main__":
    main()
