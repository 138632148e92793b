"""Search evaluation: nDCG@10 and recall@10 for each mode on queries with graded relevance judgements.

Judgements name statements by their url (unique per statement in the sample corpus), so they survive a
rebuild of the store. The corpus is loaded into a temporary store, so the figures never depend on what a
user has ingested.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from classifier.errors import DataError
from classifier.text.readers import documents_from_path
from classifier.search.engine import MODES, SearchIndex
from classifier.storage.records import Filters

K = 10


@dataclass(frozen=True)
class Judged:
    query: str
    relevance: dict          # url -> grade (1 = relevant, 2 = highly relevant, 3 = exactly on point)
    filters: Filters = Filters()


@dataclass(frozen=True)
class ModeScore:
    mode: str
    ndcg: float
    recall: float
    queries: int


def load_judgements(path: Path) -> list[Judged]:
    out = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            rel = {str(u): int(g) for u, g in obj["relevant"].items() if int(g) > 0}
            f = obj.get("filters") or {}
            filters = Filters(tuple(f.get("themes", ())), tuple(f.get("organisations", ())), f.get("since"), f.get("until"))
            out.append(Judged(obj["query"], rel, filters))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{path}:{lineno}: expected {{'query', 'relevant': {{url: grade}}}} ({exc})") from exc
    return out


def ndcg_at(ranked: list[str], relevance: dict, k: int = K) -> float:
    dcg = sum((2 ** relevance.get(u, 0) - 1) / math.log2(i + 2) for i, u in enumerate(ranked[:k]))
    ideal = sorted(relevance.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevance: dict, k: int = K) -> float:
    return len(set(ranked[:k]) & set(relevance)) / len(relevance) if relevance else 0.0


def score_modes(index: SearchIndex, url_of: dict, judged: list[Judged], weights=None) -> list[ModeScore]:
    """Mean nDCG@10 and recall@10 of each mode over the judged queries."""
    out = []
    for mode in MODES:
        nd, rc = [], []
        for j in judged:
            kwargs = {"weights": weights} if (weights and mode == "hybrid") else {}
            hits = index.search(j.query, k=K, filters=j.filters, mode=mode, **kwargs).results
            ranked = [url_of[h.statement.id] for h in hits]
            nd.append(ndcg_at(ranked, j.relevance))
            rc.append(recall_at(ranked, j.relevance))
        out.append(ModeScore(mode, sum(nd) / len(nd), sum(rc) / len(rc), len(judged)))
    return out


def load_corpus_index(pipe, corpus: Path, workdir: Path, settings=None):
    """A temporary store + index holding ``corpus``, embedded through the pipeline's cache (``settings``: where
    that store lives, see ``storage.scratch_settings``; by default a data directory in ``workdir``)."""
    from classifier.pipeline import Pipeline

    temp = Pipeline(settings or replace(pipe.settings, data_dir=workdir), embedder=pipe.cached_embedder)
    temp.ingest_documents(documents_from_path(corpus))
    store = temp.store
    url_of = {s.id: s.url for s in store.get(store.filter_ids(Filters()) or [0]).values()}
    return temp.search_index, url_of


def evaluate_search(pipe, judgements: Path, corpus: Path) -> list[ModeScore]:
    judged = load_judgements(judgements)
    if not judged:
        raise DataError(f"no judged queries in {judgements}")
    from classifier.storage import scratch_settings

    with tempfile.TemporaryDirectory() as tmp, scratch_settings(pipe.settings, Path(tmp)) as scratch:
        index, url_of = load_corpus_index(pipe, corpus, Path(tmp), scratch)
        missing = {u for j in judged for u in j.relevance} - set(url_of.values())
        if missing:
            raise DataError(f"{len(missing)} judged url(s) are not in the corpus, e.g. {sorted(missing)[0]}")
        return score_modes(index, url_of, judged)


def format_table(scores: list[ModeScore]) -> str:
    lines = [f"{scores[0].queries} queries", f"{'mode':<10}{'nDCG@10':>9}{'recall@10':>11}", "-" * 30]
    lines += [f"{s.mode:<10}{s.ndcg:>9.3f}{s.recall:>11.3f}" for s in scores]
    return "\n".join(lines)
