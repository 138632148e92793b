"""Search done by PostgreSQL: dense (pgvector HNSW), keyword (tsvector, BM25 from kept document frequencies) and hybrid (reciprocal rank
fusion of the two, in one SQL query), with the filters applied inside each ranking.

The same contract as the embedded ``SearchIndex`` (``classifier/search/engine.py``): ``search(query, k,
filters, mode, weights) -> SearchResponse``, the same checks of the arguments, the same fusion constant and
weights, the same candidate pool for hybrid, and highlights from the same ``best_sentence``. There is no
derived index to keep in step: ``sync``, ``rebuild`` and ``save`` only make sure the HNSW index for the
embedder's dimension exists, and a statement is searchable as soon as the transaction that stored it commits.

Filters come before ranking, and a filtered query returns k results whenever k statements match:
- when at most ``EXACT_LIMIT`` statements pass the filters, distances are computed exactly for all of them
  (the query orders by an expression the HNSW index does not serve, so the planner cannot approximate);
- otherwise the HNSW index is scanned with ``hnsw.iterative_scan = strict_order``, which keeps scanning
  until enough rows pass the filters; should it still come back short, the exact query runs instead.
"""

from __future__ import annotations

import threading

import numpy as np
import psycopg

from classifier.errors import InvalidInput
from classifier.model.embeddings import Embedder
from classifier.search.engine import (HYBRID_WEIGHTS, MAX_K, MODES, RRF_K, SearchHit, SearchResponse,
                                      best_sentence)
from classifier.storage.records import Filters
from classifier.text.dates import date_bounds

from .schema import VECTOR_INDEX_LOCK
from .store import PostgresStore

# Below this many statements passing the filters, dense ranking is exact (a few ms at 384 dimensions).
EXACT_LIMIT = 20_000
# HNSW build and search parameters. ef_search is raised to the number of rows asked for when that is larger.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 100
HNSW_MAX_SCAN_TUPLES = 50_000
# Memory for building the HNSW index (this transaction only): a graph that fits builds several times faster.
BUILD_MEMORY = "512MB"

# BM25 as the embedded backend's keyword index computes it (bm25s defaults, Lucene's idf).
BM25_K1 = 1.5
BM25_B = 0.75

# BM25 over the tsvector column. The query's words, stemmed by PostgreSQL's English configuration as the stored
# text is, are looked up first with their idf (from keyword_stats); a statement with any of them (the GIN index
# finds those) scores the sum over the words of idf * tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen)), where
# len is its number of distinct words. tf is ts_rank_cd of the word alone times 10: for a one-word query that
# is 0.1 (the weight of unlabelled positions) per occurrence, computed in C, twice as fast as unnesting the
# tsvector. ts_rank_cd of the whole query, which has no idf, was 0.14 nDCG@10 worse on the judged queries.
_TERMS = ("SELECT u.lexeme, ln(1 + (c.n - k.df + 0.5) / (k.df + 0.5)), GREATEST(c.total_length::float8 /"
          " GREATEST(c.n, 1), 1) FROM unnest(to_tsvector('english'::regconfig, %(q)s)) u JOIN keyword_stats k"
          " ON k.lexeme = u.lexeme CROSS JOIN keyword_corpus c WHERE k.df > 0 ORDER BY u.lexeme")


def _keyword_sql(terms: int, where: str) -> str:
    """The keyword ranking over ``terms`` looked-up words (parameters t0.., idf0.., avglen)."""
    if not terms:
        return "SELECT NULL::bigint AS id, NULL::float8 AS score WHERE FALSE"
    norm = f"{BM25_K1} * (1 - {BM25_B} + {BM25_B} * length(s.search_text) / %(avglen)s)"
    parts = [f"%(idf{i})s * tf{i} * {BM25_K1 + 1} / (tf{i} + {norm})" for i in range(terms)]
    tfs = ", ".join(f"round(ts_rank_cd(s.search_text, quote_literal(%(t{i})s)::tsquery)::float8 * 10) AS tf{i}"
                    for i in range(terms))
    query = " || ' | ' || ".join(f"quote_literal(%(t{i})s)" for i in range(terms))
    return (f"SELECT id, {' + '.join(parts)} AS score FROM (SELECT s.id, s.search_text, {tfs} FROM statements s"
            f" WHERE s.search_text @@ ({query})::tsquery AND {where}) s ORDER BY score DESC, id LIMIT %(pool)s")


class PostgresSearch:
    """Ranked search over a PostgresStore, for one embedder's vectors."""

    def __init__(self, store: PostgresStore, embedder: Embedder):
        self.store = store
        self.embedder = embedder
        self.dimension = int(embedder.dimension)
        self._ready = False
        self._lock = threading.Lock()

    # -- the vector index ---------------------------------------------------------------------------------
    @property
    def index_name(self) -> str:
        return f"statements_embedding_hnsw_{self.dimension}"

    def sync(self) -> None:
        """Make sure the HNSW index for this embedder's dimension exists (once per process)."""
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self._ensure_vector_index()
                self._ready = True

    def _ensure_vector_index(self) -> None:
        # Inner product on normalised vectors is cosine similarity, and the score FAISS gives the embedded
        # backend. The index is partial, so vectors of another space (mid re-embedding) are simply not in it.
        d = self.dimension
        with self.store._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (VECTOR_INDEX_LOCK,))
            cur.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.index_name} ON statements USING hnsw"
                        f" ((embedding::vector({d})) vector_ip_ops) WITH (m = {HNSW_M},"
                        f" ef_construction = {HNSW_EF_CONSTRUCTION}) WHERE vector_dims(embedding) = {d}")

    def rebuild(self) -> None:
        """Rebuild the HNSW index from the stored vectors (after a re-embedding, or to compact it)."""
        self.sync()
        with self.store._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (VECTOR_INDEX_LOCK,))
            cur.execute(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
            cur.execute(f"REINDEX INDEX {self.index_name}")

    def save(self) -> None:
        """Nothing to save: the index is part of the database."""

    @property
    def count(self) -> int:
        self.sync()
        return self.store.count()

    # -- searching ----------------------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: Filters = Filters(), mode: str = "hybrid",
               weights: tuple[float, float] = HYBRID_WEIGHTS, highlights: bool = True) -> SearchResponse:
        """Rank statements for ``query``; filters restrict the candidates before any ranking. With
        ``highlights`` false the hits carry ``highlight=None``, as the embedded engine's do."""
        query = " ".join((query or "").split())
        if not query:
            raise InvalidInput("the query is empty")
        if mode not in MODES:
            raise InvalidInput(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InvalidInput(f"k must be between 1 and {MAX_K}")
        if filters.since and filters.until and date_bounds(filters.since)[0] > date_bounds(filters.until)[1]:
            raise InvalidInput("since is after until")
        self.sync()
        vector = None if mode == "keyword" else np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        ranked = self._rank(query, vector, k, filters, mode, weights)
        statements = self.store.get([i for i, _ in ranked])
        hits = tuple(SearchHit(statements[i], s, best_sentence(statements[i].text, query) if highlights else None)
                     for i, s in ranked if i in statements)
        return SearchResponse(query, mode, hits)

    def _rank(self, query: str, vector, k: int, filters: Filters, mode: str,
              weights: tuple[float, float]) -> list[tuple[int, float]]:
        where, args = self.store._filter_clause(filters)
        pool = k if mode != "hybrid" else max(50, 4 * k)
        params = {"q": query, "v": vector, "k": k, "pool": pool, "rrf": RRF_K, "wd": float(weights[0]),
                  "wk": float(weights[1])}
        # The filter's arguments are positional in _filter_clause; here they become named parameters.
        names = [f"f{i}" for i in range(len(args))]
        where = where.replace("%s", "{}").format(*[f"%({n})s" for n in names])
        params.update(zip(names, args))
        with self.store._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            terms = 0
            if mode != "semantic":
                found_terms = cur.execute(_TERMS, params).fetchall()
                terms = len(found_terms)
                for i, (lexeme, idf, avglen) in enumerate(found_terms):
                    params.update({f"t{i}": lexeme, f"idf{i}": float(idf), "avglen": float(avglen)})
                if mode == "keyword" and not terms:
                    return []
            exact = False
            matching = None
            if mode != "keyword" and filters:
                matching = cur.execute(f"SELECT COUNT(*) FROM statements s WHERE {where}", params).fetchone()[0]
                if matching == 0:
                    return []
                exact = matching <= EXACT_LIMIT
            if mode != "keyword" and not exact:
                cur.execute("SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan',"
                            " 'strict_order', true), set_config('hnsw.max_scan_tuples', %s, true)",
                            (str(min(1000, max(HNSW_EF_SEARCH, pool))), str(HNSW_MAX_SCAN_TUPLES)))
            rows = cur.execute(self._sql(mode, where, exact, terms), params).fetchall()
            found = rows[0][2] if rows and mode != "keyword" else 0
            if mode != "keyword" and not exact and found < pool:
                # The approximate scan came back short: rank exactly if more statements could be found.
                if matching is None:
                    matching = cur.execute(f"SELECT COUNT(*) FROM statements s WHERE {where}"
                                           f" AND vector_dims(s.embedding) = {self.dimension}", params).fetchone()[0]
                if matching > found:
                    rows = cur.execute(self._sql(mode, where, True, terms), params).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]

    def _sql(self, mode: str, where: str, exact: bool, terms: int = 0) -> str:
        d = self.dimension
        # The index serves ORDER BY on exactly its expression; the exact form computes every distance.
        distance = (f"(s.embedding <#> %(v)s::vector({d}))" if exact
                    else f"((s.embedding::vector({d})) <#> %(v)s::vector({d}))")
        dense = (f"SELECT s.id, {distance} AS distance FROM statements s WHERE vector_dims(s.embedding) = {d}"
                 f" AND {where} ORDER BY {distance} LIMIT %(pool)s")
        keyword = _keyword_sql(terms, where)
        if mode == "semantic":
            return f"SELECT id, -distance, COUNT(*) OVER () FROM ({dense}) d ORDER BY distance, id"
        if mode == "keyword":
            return keyword
        # Reciprocal rank fusion as engine.rrf does it: weight / (RRF_K + rank), ranks from 1, ties by id.
        return (f"WITH dense AS (SELECT id, ROW_NUMBER() OVER (ORDER BY distance, id) AS rank FROM ({dense}) d),"
                f" keyword AS (SELECT id, ROW_NUMBER() OVER (ORDER BY score DESC, id) AS rank FROM ({keyword}) w)"
                " SELECT COALESCE(dense.id, keyword.id) AS id,"
                " COALESCE(%(wd)s / (%(rrf)s + dense.rank), 0.0) + COALESCE(%(wk)s / (%(rrf)s + keyword.rank), 0.0)"
                " AS score, (SELECT COUNT(*) FROM dense) FROM dense FULL OUTER JOIN keyword ON dense.id = keyword.id"
                " ORDER BY score DESC, id LIMIT %(k)s")
