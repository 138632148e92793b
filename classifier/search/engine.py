"""Search over the statement store: dense (FAISS), keyword (BM25) and hybrid (reciprocal rank fusion).

``SearchIndex`` keeps the FAISS index in step with SQLite: on every search it reads the store's change
sequence and applies whatever this process missed, so a statement acknowledged by any worker is found by the
next search in every worker. Keyword search needs no such step: it runs in SQLite (BM25 over a postings
table written in each statement's transaction, ``storage/sqlite/keyword.py``) over what is committed.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import Stemmer

from classifier.model.embeddings import Embedder
from classifier.errors import InvalidInput
from classifier.search.faiss_index import IndexMeta, VectorIndex
from classifier.text.sentences import split_sentences
from classifier.storage.records import Filters, Statement
from classifier.text.dates import date_bounds
from classifier.storage.sqlite import SQLiteStore
from classifier.storage.sqlite import keyword as keyword_index

MODES = ("hybrid", "semantic", "keyword")
# How deep one ranking goes: pages of results (classifier/search/browse.py) are cut from the top MAX_K.
MAX_K = 1000
# Fusion constant and weights (dense, keyword), chosen by a sweep on training_data/search_eval.jsonl (README,
# "Search"): k=10 with keyword weighted 1.5 was best overall and on each half of the queries within noise.
RRF_K = 10
HYBRID_WEIGHTS = (1.0, 1.5)
_WORD = re.compile(r"\w\w+")
_STEMMER = Stemmer.Stemmer("english")


@dataclass(frozen=True)
class Highlight:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SearchHit:
    statement: Statement
    score: float
    highlight: Highlight | None

    def to_dict(self) -> dict:
        s = self.statement
        return {"id": s.id, "score": round(float(self.score), 6), "text": s.text, "organisation": s.organisation,
                "date": s.date, "title": s.title, "url": s.url, "themes": s.themes,
                "highlight": {"start": self.highlight.start, "end": self.highlight.end, "text": self.highlight.text}}


@dataclass(frozen=True)
class SearchResponse:
    query: str
    mode: str
    results: tuple[SearchHit, ...]

    def to_dict(self) -> dict:
        return {"query": self.query, "mode": self.mode, "results": [r.to_dict() for r in self.results]}


def best_sentence(text: str, query: str) -> Highlight:
    """The sentence of ``text`` sharing most (stemmed) words with the query; the first one on a tie.

    Sentences come from ``sentences.split_sentences``, so a decimal point, an abbreviation or an initial
    never cuts a quoted sentence short.
    """
    q = set(_STEMMER.stemWords([w.lower() for w in _WORD.findall(query)]))
    best, best_score = None, -1
    for sentence in split_sentences(text):
        words = set(_STEMMER.stemWords([w.lower() for w in _WORD.findall(sentence.text)]))
        score = len(words & q)
        if score > best_score:
            best, best_score = (sentence.start, sentence.end), score
    if best is None:
        best = (0, len(text))
    return Highlight(best[0], best[1], text[best[0]:best[1]])


def rrf(rankings: list[list[int]], weights: tuple[float, ...], k: int = RRF_K) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: sum of weight / (k + rank) over the rankings an id appears in."""
    scores: dict[int, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, sid in enumerate(ranking, 1):
            scores[sid] = scores.get(sid, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def check_query(query: str, k: int, filters: Filters, mode: str) -> str:
    """The query with whitespace collapsed, or InvalidInput: every search engine checks its input here."""
    query = " ".join((query or "").split())
    if not query:
        raise InvalidInput("the query is empty")
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K}")
    if filters.since and filters.until and date_bounds(filters.since)[0] > date_bounds(filters.until)[1]:
        raise InvalidInput("since is after until")
    return query


class SearchIndex:
    """FAISS over the store, reconciled on open and kept current from the change log; keyword search in SQL."""

    def __init__(self, store: SQLiteStore, embedder: Embedder, index_dir: Path):
        self.store = store
        self.embedder = embedder
        self.path = Path(index_dir) / "vectors.faiss"
        self._vectors: VectorIndex | None = None
        self._seq = -1
        self._lock = threading.RLock()

    # -- keeping in step ----------------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring the in-memory indexes up to the store's latest committed change."""
        latest = self.store.last_seq()
        if self._vectors is not None and latest == self._seq:
            return
        with self._lock:
            if self._vectors is None:
                self._open()
            else:
                self._catch_up()

    def _meta(self) -> IndexMeta:
        return IndexMeta(self._vectors.kind, self._vectors.dimension, self._vectors.count, self._vectors.checksum(),
                         self._seq, self.embedder.name)

    def _open(self) -> None:
        loaded = VectorIndex.load(self.path)
        if loaded is not None:
            index, meta = loaded
            if meta.embedder == self.embedder.name and meta.dimension == self.embedder.dimension \
                    and meta.seq <= self.store.last_seq():
                self._vectors, self._seq = index, meta.seq
                self._catch_up()
                count, checksum = self.store.id_checksum()
                if self._vectors.count == count and self._vectors.checksum() == checksum:
                    return
        self.rebuild()

    def _catch_up(self) -> None:
        latest, added, deleted = self.store.changes_since(self._seq)
        if latest == self._seq:
            return
        present = set(self._vectors.ids().tolist()) if (added or deleted) else set()
        gone = [i for i in deleted if i in present]
        if gone and not self._vectors.supports_remove:
            self.rebuild()
            return
        self._vectors.remove(gone)
        fresh = [i for i in added if i not in present]
        for ids, vecs in self.store.vectors(fresh):
            self._vectors.add(ids, vecs)
        self._seq = latest

    def rebuild(self) -> None:
        """Rebuild the vector index from the vectors stored in SQLite and save it atomically."""
        with self._lock:
            seq = self.store.last_seq()
            count = self.store.count()
            index = VectorIndex(self.embedder.dimension, VectorIndex.kind_for(count))
            for ids, vecs in self.store.vectors():
                index.add(ids, vecs)
            self._vectors, self._seq = index, seq
            self._catch_up()
            self.save()

    def save(self) -> None:
        with self._lock:
            if self._vectors is not None:
                self._vectors.save(self.path, self._meta())

    @property
    def count(self) -> int:
        self.sync()
        return self._vectors.count

    # -- searching ----------------------------------------------------------------------------------------
    def dense(self, query_vector: np.ndarray, n: int, candidates: np.ndarray | None,
              seen: int | None = None) -> list[tuple[int, float]]:
        """The ``n`` nearest statements, among ``candidates`` when given. ``seen``: the change position read
        before the candidates were (None: they were read with this index's own position). Compared under the
        lock, because another thread may catch the shared index up in between: when the index has moved past
        ``seen``, a candidate may have been deleted from it since, so only those it holds are kept."""
        with self._lock:
            if candidates is not None and seen is not None and self._seq != seen:
                candidates = candidates[np.isin(candidates, self._vectors.ids())]
            ids, scores = self._vectors.search(query_vector, n, candidates)
        return list(zip(ids.tolist(), scores.tolist()))

    def keyword(self, query: str, n: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
        """BM25 over the store's keyword postings, filters applied in the same query. It reads what is
        committed, so it needs no catching up."""
        return keyword_index.search(self.store, query, n, filters)

    def search(self, query: str, k: int = 10, filters: Filters = Filters(), mode: str = "hybrid",
               weights: tuple[float, float] = HYBRID_WEIGHTS, highlights: bool = True) -> SearchResponse:
        """Rank statements for ``query``; filters restrict the candidates before any ranking. With
        ``highlights`` false the hits carry ``highlight=None`` (a caller showing only some of them, such as a
        page of results, finds the sentences for those alone with ``best_sentence``)."""
        query = check_query(query, k, filters, mode)
        # Candidates first, then the index brought up to date: every candidate was committed before the index
        # caught up, so the index holds it. One deleted after ``seen`` (by the time ``dense`` holds the lock, by
        # this search's catching up or another thread's) is dropped there rather than looked up.
        seen = self.store.last_seq()
        candidates = np.array(self.store.filter_ids(filters), dtype=np.int64) if filters else None
        self.sync()
        if candidates is not None and len(candidates) == 0:
            return SearchResponse(query, mode, ())
        pool = max(50, 4 * k)
        if mode == "semantic":
            ranked = self.dense(self.embedder.embed([query])[0], k, candidates, seen)
        elif mode == "keyword":
            ranked = self.keyword(query, k, filters)
        else:
            dense = self.dense(self.embedder.embed([query])[0], pool, candidates, seen)
            keyword = self.keyword(query, pool, filters)
            ranked = rrf([[i for i, _ in dense], [i for i, _ in keyword]], weights)[:k]
        statements = self.store.get([i for i, _ in ranked])
        hits = tuple(SearchHit(statements[i], s, best_sentence(statements[i].text, query) if highlights else None)
                     for i, s in ranked if i in statements)
        return SearchResponse(query, mode, hits)
