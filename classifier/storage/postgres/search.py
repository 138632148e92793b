"""Search done by PostgreSQL: dense (pgvector HNSW), keyword (BM25 over a postings table read in weight order)
and hybrid (reciprocal rank fusion of the two, in one SQL query), with the filters applied inside each ranking.

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

from classifier.model.embeddings import Embedder
from classifier.search.engine import (check_query, HYBRID_WEIGHTS, RRF_K, SearchHit, SearchResponse,
                                      best_sentence)
from classifier.storage.records import Filters, Statement

from .schema import BM25_B, BM25_K1, HNSW_EF_SEARCH, VECTOR_INDEX_LOCK
from .store import STATEMENT_FIELDS, STATEMENT_SQL, PostgresStore, statement_of

# Below this many statements passing the filters, dense ranking is exact (a few ms at 384 dimensions).
EXACT_LIMIT = 20_000
# HNSW build parameters (search settings: schema.SESSION_SETTINGS; ef_search is raised to the number of rows
# asked for when that is larger).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
# Memory for building the HNSW index (this transaction only): a graph that fits builds several times faster.
BUILD_MEMORY = "512MB"

# Keyword ranking is BM25 (Lucene's idf; k1 and b in schema.py) over the ``keyword_postings`` index, in two
# steps that touch a bounded number of rows however common the query's words are:
# 1. candidates: for each query word (stemmed by PostgreSQL's English configuration, as the stored text is) the
#    KEYWORD_DEPTH statements where it weighs most, read in weight order by an index-only scan; each candidate
#    scores the sum of idf * weight over the words that listed it. A word in at most KEYWORD_DEPTH statements
#    lists all of them, so for such words this is the whole of BM25; only a word found in more statements than
#    that (1% of 100,000) is cut short, and only then can a statement be missed.
# 2. re-scoring: the best RESCORE candidates get their exact BM25 over every query word (their rows found by
#    the primary key), with today's average length, and are ranked by it.
# Measured (README, "Storage backends"): the same nDCG@10 as BM25 over every statement on the judged queries,
# also with 100,000 unjudged statements added; 0.93 of BM25's own top 10 on 100,000 statements of real
# sentences, and 0.82 on the benchmark's 13-word texts, where every word is in 62% of the statements.
# With filters that at most KEYWORD_EXACT_LIMIT statements pass, each of them is scored exactly instead (its
# postings of the query words found by the primary key): fewer rows than walking a common word's list to find
# enough that pass. With filters more statements pass, step 1 reads each word's best postings among those that
# pass. Either way a filtered query finds k results whenever k statements pass and contain a query word.
KEYWORD_DEPTH = 1000
RESCORE = 200
KEYWORD_EXACT_LIMIT = 10_000


def _keyword_sql(where: str | None, every: bool = False) -> str:
    """The keyword ranking (parameters q, depth, rescore, pool); ``where`` filters over ``statements s``. With
    ``every``, each statement passing ``where`` is scored exactly (for a filter few statements pass)."""
    k1, b = f"{BM25_K1}::float8", f"{BM25_B}::float8"
    # BM25 of the statement whose postings are ``kp`` over the query's words ``t``
    bm25 = (f"SUM(t.idf * kp.tf * {BM25_K1 + 1}::float8 / (kp.tf + {k1} * (1::float8 - {b} + {b} * kp.len"
            " / c.avglen)))")
    head = (
        "WITH corpus AS MATERIALIZED (SELECT n, GREATEST(total_length::float8 / GREATEST(n, 1), 1) AS avglen"
        " FROM keyword_corpus),"
        " terms AS MATERIALIZED (SELECT u.lexeme, ln(1 + (c.n - k.df + 0.5::float8) / (k.df + 0.5::float8)) AS idf"
        " FROM unnest(to_tsvector('english'::regconfig, %(q)s)) u JOIN keyword_stats k ON k.lexeme = u.lexeme"
        " CROSS JOIN corpus c WHERE k.df > 0)")
    # each statement's postings of the query words, by the primary key: probes, at any table size
    probe = ("CROSS JOIN LATERAL (SELECT {bm25} AS score FROM terms t JOIN keyword_postings kp ON kp.statement_id"
             " = {id} AND kp.lexeme = t.lexeme CROSS JOIN corpus c) w")
    if every:
        return (f"{head} SELECT s.id, w.score FROM statements s {probe.format(bm25=bm25, id='s.id')}"
                f" WHERE {where} AND w.score IS NOT NULL ORDER BY w.score DESC, s.id LIMIT %(pool)s")
    listing = ("SELECT kp.statement_id, kp.impact FROM keyword_postings kp WHERE kp.lexeme = t.lexeme"
               if where is None else
               "SELECT kp.statement_id, kp.impact FROM keyword_postings kp JOIN statements s ON s.id = kp.statement_id"
               f" WHERE kp.lexeme = t.lexeme AND {where}")
    return (
        f"{head}, candidates AS (SELECT p.statement_id AS id, SUM(t.idf * p.impact) AS partial FROM terms t CROSS JOIN"
        f" LATERAL ({listing} ORDER BY kp.impact DESC, kp.statement_id LIMIT %(depth)s) p GROUP BY p.statement_id),"
        " best AS (SELECT id FROM candidates ORDER BY partial DESC, id LIMIT %(rescore)s)"
        f" SELECT best.id, w.score FROM best {probe.format(bm25=bm25, id='best.id')}"
        " ORDER BY w.score DESC, best.id LIMIT %(pool)s")


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
        query = check_query(query, k, filters, mode)
        self.sync()
        vector = None if mode == "keyword" else np.asarray(self.embedder.embed([query])[0], dtype=np.float32)
        hits = tuple(SearchHit(st, score, best_sentence(st.text, query) if highlights else None)
                     for st, score in self._rank(query, vector, k, filters, mode, weights))
        return SearchResponse(query, mode, hits)

    def _rank(self, query: str, vector, k: int, filters: Filters, mode: str,
              weights: tuple[float, float]) -> list[tuple[Statement, float]]:
        """The ranked statements with their scores, read in the query that ranks them."""
        where, args = self.store._filter_clause(filters)
        pool = k if mode != "hybrid" else max(50, 4 * k)
        params = {"q": query, "v": vector, "k": k, "pool": pool, "rrf": RRF_K, "wd": float(weights[0]),
                  "wk": float(weights[1]), "depth": max(KEYWORD_DEPTH, pool), "rescore": max(RESCORE, pool)}
        # The filter's arguments are positional in _filter_clause; here they become named parameters.
        names = [f"f{i}" for i in range(len(args))]
        where = where.replace("%s", "{}").format(*[f"%({n})s" for n in names])
        params.update(zip(names, args))
        # A transaction only to raise ef_search for a deep dense ranking; otherwise each statement on its own.
        deep = mode != "keyword" and pool > HNSW_EF_SEARCH
        with self.store._tx(write=deep, rows=psycopg.rows.tuple_row) as cur:
            exact = False
            matching = None
            if filters:
                matching = cur.execute(f"SELECT COUNT(*) FROM statements s WHERE {where}", params).fetchone()[0]
                if matching == 0:
                    return []
                exact = matching <= EXACT_LIMIT
            if deep and not exact:
                cur.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(min(1000, pool)),))
            keyword_where = where if filters else None
            every = matching is not None and matching <= KEYWORD_EXACT_LIMIT
            rows = cur.execute(self._sql(mode, where, exact, keyword_where, every), params).fetchall()
            found = rows[0][2] if rows and mode != "keyword" else 0
            if mode != "keyword" and not exact and found < pool:
                # The approximate scan came back short: rank exactly if more statements could be found.
                if matching is None:
                    matching = cur.execute(f"SELECT COUNT(*) FROM statements s WHERE {where}"
                                           f" AND vector_dims(s.embedding) = {self.dimension}", params).fetchone()[0]
                if matching > found:
                    rows = cur.execute(self._sql(mode, where, True, keyword_where, every), params).fetchall()
        return [(statement_of(r[-STATEMENT_FIELDS:]), float(r[1])) for r in rows]

    def _sql(self, mode: str, where: str, exact: bool, keyword_where: str | None = None, every: bool = False) -> str:
        """The ranking of ``mode`` with each hit's statement: (id, score, [pool size,] statement fields...)."""
        ranking = self._ranking_sql(mode, where, exact, keyword_where, every)
        extra = "" if mode == "keyword" else ", r.found"
        return (f"SELECT r.id, r.score{extra}, {STATEMENT_SQL} FROM ({ranking}) r JOIN statements s ON s.id = r.id"
                " ORDER BY r.score DESC, r.id")

    def _ranking_sql(self, mode: str, where: str, exact: bool, keyword_where: str | None = None,
                     every: bool = False) -> str:
        d = self.dimension
        # The index serves ORDER BY on exactly its expression; the exact form computes every distance.
        distance = (f"(s.embedding <#> %(v)s::vector({d}))" if exact
                    else f"((s.embedding::vector({d})) <#> %(v)s::vector({d}))")
        dense = (f"SELECT s.id, {distance} AS distance FROM statements s WHERE vector_dims(s.embedding) = {d}"
                 f" AND {where} ORDER BY {distance} LIMIT %(pool)s")
        keyword = _keyword_sql(keyword_where, every)
        if mode == "semantic":
            return f"SELECT id, -distance AS score, COUNT(*) OVER () AS found FROM ({dense}) d ORDER BY distance, id"
        if mode == "keyword":
            return keyword
        # Reciprocal rank fusion as engine.rrf does it: weight / (RRF_K + rank), ranks from 1, ties by id.
        return (f"WITH dense AS (SELECT id, ROW_NUMBER() OVER (ORDER BY distance, id) AS rank FROM ({dense}) d),"
                f" keyword AS (SELECT id, ROW_NUMBER() OVER (ORDER BY score DESC, id) AS rank FROM ({keyword}) w)"
                " SELECT COALESCE(dense.id, keyword.id) AS id,"
                " COALESCE(%(wd)s / (%(rrf)s + dense.rank), 0.0) + COALESCE(%(wk)s / (%(rrf)s + keyword.rank), 0.0)"
                " AS score, (SELECT COUNT(*) FROM dense) AS found FROM dense FULL OUTER JOIN keyword ON dense.id = keyword.id"
                " ORDER BY score DESC, id LIMIT %(k)s")
