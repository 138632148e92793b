"""What only the PostgreSQL backend has: migrations shared by processes, SQL search paths, keyword statistics and
the change log under concurrent writers. The suites shared with SQLite (store, search, crash, serve) run on it
too, through ``BACKENDS`` in their modules."""

import subprocess
import sys
import threading

import numpy as np
import pytest

from classifier.config import load_settings
from classifier.errors import ConfigError
from classifier.search.engine import rrf
from classifier.storage import open_store
from classifier.storage.records import Filters, NewStatement
from classifier.text.readers import Document
from tests.fakes import HashingEmbedder

BACKENDS = ("postgres",)


@pytest.fixture
def pg(store, backend):
    return store


def _add(store, texts, orgs=None, embedder=HashingEmbedder(64)):
    items = [NewStatement(t, (orgs or {}).get(i, f"Org {i % 5}"), f"20{10 + i % 10}-01-01") for i, t in enumerate(texts)]
    return store.add(items, embedder.embed(texts), [{"funding": 0.9 if i % 3 == 0 else 0.1} for i in range(len(texts))],
                     {"funding": 0.5}, "v1")


def _sql(store, query, params=()):
    with store._tx(rows=__import__("psycopg").rows.tuple_row) as cur:
        return cur.execute(query, params).fetchall()


def test_migrations_are_applied_once_when_several_processes_start_together(database_url):
    code = ("import sys; from classifier.storage.postgres import PostgresStore; PostgresStore(sys.argv[1]).close()")
    procs = [subprocess.Popen([sys.executable, "-c", code, database_url], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, errors
    store = open_store(load_settings(environ={}, database_url=database_url))
    from classifier.storage.postgres.schema import MIGRATIONS

    assert _sql(store, "SELECT version FROM schema_migrations ORDER BY version") == [(v,) for v, _ in MIGRATIONS]
    store.close()


def test_a_database_from_an_older_release_is_brought_up_to_date(database_url):
    import psycopg

    from classifier.storage.postgres.schema import MIGRATIONS, migrate

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied timestamptz NOT NULL"
                     " DEFAULT now())")
        conn.execute(MIGRATIONS[0][1])
        conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (MIGRATIONS[0][0],))
        conn.execute("INSERT INTO statements (text, content_hash, embedding, created) VALUES"
                     " ('kept', 'h', '[1,0]', '2020-01-01T00:00:00+00:00')")
        assert migrate(conn) == [v for v, _ in MIGRATIONS[1:]]
        assert migrate(conn) == []
    store = open_store(load_settings(environ={}, database_url=database_url))
    assert [s.text for s in store.get([1]).values()] == ["kept"]
    # the keyword postings (migration 2) were made for the statement already stored
    assert _sql(store, "SELECT lexeme, statement_id, tf, len FROM keyword_postings") == [("kept", 1, 1, 1)]
    store.close()


def test_a_url_of_another_kind_or_an_unreachable_server_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="postgresql://"):
        open_store(load_settings(environ={}, database_url="mysql://x/y"))
    with pytest.raises(ConfigError, match="cannot open the PostgreSQL database"):
        open_store(load_settings(environ={}, database_url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"))


def test_the_embedded_default_never_imports_psycopg():
    code = ("import sys, classifier.pipeline, classifier.search.factory, classifier.storage, service;"
            " from classifier.config import load_settings; from classifier.storage import open_store;"
            " import tempfile, pathlib; open_store(load_settings(environ={}, data_dir=pathlib.Path(tempfile.mkdtemp())));"
            " bad = [m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool', 'pgvector')];"
            " assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_everything_the_pipeline_stores_is_in_postgres(trained, backend):
    trained.ingest_documents([Document("Delayed discharge from hospital beds rose this winter.", "Harrow Vale ICB")])
    trained.add_labels([{"text": "beds", "themes": ["hospital_discharge"]}], "api")
    assert trained.search_index.search("hospital beds", k=1).results
    store = trained.store
    assert _sql(store, "SELECT COUNT(*) FROM statements") == [(1,)]
    assert _sql(store, "SELECT COUNT(*) FROM labels") == [(1,)]
    assert _sql(store, "SELECT value FROM meta WHERE key = 'embedder'") == [("hashing-64",)]
    data = trained.settings.data_dir
    assert not (data / "joinedup.sqlite").exists() and not (data / "index").exists()


def test_filtered_approximate_search_still_returns_k_and_the_exact_ranking(pg, monkeypatch):
    from classifier.storage.postgres import search as pg_search

    emb = HashingEmbedder(64)
    texts = [f"care staff budget item{i} {'winter beds' if i % 2 else 'digital records'} note{i % 13}"
             for i in range(400)]
    ids = _add(pg, texts, orgs={i: "Rare Org" for i in range(0, 400, 37)}).ids
    engine = pg_search.PostgresSearch(pg, emb)
    exact = {m: engine.search("winter beds staff", k=10, filters=Filters(organisations=("rare org",)), mode=m)
             for m in ("semantic", "hybrid", "keyword")}
    monkeypatch.setattr(pg_search, "EXACT_LIMIT", 0)  # filtered queries go through the HNSW index
    for mode, want in exact.items():
        got = engine.search("winter beds staff", k=10, filters=Filters(organisations=("rare org",)), mode=mode)
        assert len(got.results) == 10 == len(want.results)
        assert {h.statement.organisation for h in got.results} == {"Rare Org"}
        assert [h.statement.id for h in got.results] == [h.statement.id for h in want.results], mode
    assert len(engine.search("staff", k=50, mode="semantic").results) == 50
    assert len(ids) == 400


def test_hybrid_in_sql_is_the_reciprocal_rank_fusion_of_the_two_rankings(pg):
    from classifier.search.engine import HYBRID_WEIGHTS
    from classifier.storage.postgres import PostgresSearch

    _add(pg, [f"{w} plan for the {v} and {u}" for w in ("workforce", "care", "budget", "housing")
              for v in ("council", "board", "trust") for u in ("staff", "beds", "data", "pay", "children")])
    engine = PostgresSearch(pg, HashingEmbedder(64))
    query, k = "workforce plan for staff pay", 5
    dense = [h.statement.id for h in engine.search(query, k=max(50, 4 * k), mode="semantic").results]
    keyword = [h.statement.id for h in engine.search(query, k=max(50, 4 * k), mode="keyword").results]
    want = rrf([dense, keyword], HYBRID_WEIGHTS)[:k]
    got = engine.search(query, k=k, mode="hybrid").results
    assert [h.statement.id for h in got] == [i for i, _ in want]
    assert [round(h.score, 9) for h in got] == [round(s, 9) for _, s in want]


def test_keyword_statistics_follow_every_write(pg):
    ids = _add(pg, ["Staff pay and staff training", "Beds and delayed discharge", "Pay for carers"]).ids
    pg.delete(ids[1])
    _add(pg, ["Pay for carers", "Winter beds again"])  # one duplicate: counted once
    kept = _sql(pg, "SELECT lexeme, df FROM keyword_stats WHERE df > 0 ORDER BY lexeme")
    recount = _sql(pg, "SELECT word, ndoc::bigint FROM ts_stat('SELECT search_text FROM statements') ORDER BY word")
    assert kept == recount
    assert _sql(pg, "SELECT n, total_length FROM keyword_corpus") == \
        _sql(pg, "SELECT COUNT(*), SUM(length(search_text)) FROM statements")
    postings = "SELECT lexeme, statement_id, tf, len FROM keyword_postings ORDER BY 1, 2"
    assert _sql(pg, postings) == _sql(pg, "SELECT u.lexeme, s.id, cardinality(u.positions), length(s.search_text)"
                                          " FROM statements s, unnest(s.search_text) u ORDER BY 1, 2")
    assert not _sql(pg, "SELECT 1 FROM keyword_postings WHERE statement_id = %s", (ids[1],))


def _bm25(store, query: str) -> dict[int, float]:
    """BM25 as the README states it (k1 1.5, b 0.75, Lucene's idf, length in distinct words), computed here in
    Python over every statement from its tsvector: the reference the SQL ranking is checked against."""
    words = {w for (w,) in _sql(store, "SELECT lexeme FROM unnest(to_tsvector('english', %s))", (query,))}
    rows = _sql(store, "SELECT s.id, u.lexeme, cardinality(u.positions), length(s.search_text) FROM statements s,"
                       " unnest(s.search_text) u")
    lengths = {sid: n for sid, _, _, n in rows}
    n, avglen = len(lengths), max(sum(lengths.values()) / max(len(lengths), 1), 1)
    df = {w: sum(1 for _, lex, _, _ in rows if lex == w) for w in words}
    out: dict[int, float] = {}
    for sid, lex, tf, length in rows:
        if lex in words:
            idf = np.log(1 + (n - df[lex] + 0.5) / (df[lex] + 0.5))
            out[sid] = out.get(sid, 0.0) + idf * tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * length / avglen))
    return out


def _corpus(store, n=300):
    """Statements that all say "care" (and most "council"), with rarer words sprinkled in, in five organisations."""
    rng = np.random.default_rng(7)
    common, rare = ["care", "council", "plan", "budget"], ["pharmacy", "ambulance", "dementia", "housing", "transport"]
    texts = [" ".join(["care"] * int(rng.integers(1, 4)) + list(rng.choice(common, int(rng.integers(1, 6))))
                      + list(rng.choice(rare, int(rng.integers(0, 3)))) + [f"item{i}"]) for i in range(n)]
    return _add(store, texts).ids


QUERIES = ("care", "care council", "dementia care", "pharmacy ambulance transport council", "housing plan budget",
           "nothing matches this")


def test_keyword_ranking_is_bm25_over_every_statement_when_no_word_is_cut_short(pg):
    from classifier.storage.postgres import PostgresSearch

    _corpus(pg)
    engine = PostgresSearch(pg, HashingEmbedder(64))
    for query in QUERIES:
        want = sorted(_bm25(pg, query).items(), key=lambda x: (-x[1], x[0]))[:25]
        got = [(h.statement.id, h.score) for h in engine.search(query, k=25, mode="keyword").results]
        assert [i for i, _ in got] == [i for i, _ in want], query
        assert np.allclose([s for _, s in got], [s for _, s in want]), query


def test_keyword_search_reads_a_bounded_number_of_postings_however_common_the_words(pg, monkeypatch):
    """Every statement says "care": the ranking reads each word's KEYWORD_DEPTH best postings and re-scores
    RESCORE candidates, never every statement that contains a query word."""
    import json

    from classifier.storage.postgres import PostgresSearch
    from classifier.storage.postgres import search as pg_search

    ids = _corpus(pg)
    monkeypatch.setattr(pg_search, "KEYWORD_DEPTH", 20)
    monkeypatch.setattr(pg_search, "RESCORE", 15)
    params = {"q": "care council dementia", "depth": 20, "rescore": 15, "pool": 10}
    with pg._tx(rows=__import__("psycopg").rows.tuple_row) as cur:
        # A table this small is cheaper read whole; at scale the planner takes the indexes (bench/postgres.py).
        cur.execute("ANALYZE keyword_postings")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        plan = cur.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + pg_search._keyword_sql(None), params).fetchone()[0]

    def rows_read(node):
        own = node["Actual Rows"] * node["Actual Loops"] if node.get("Relation Name") in (
            "statements", "keyword_postings") else 0
        return own + sum(rows_read(child) for child in node.get("Plans", []))

    plan = plan if isinstance(plan, list) else json.loads(plan)
    # three words listed (20 each), then each of 15 candidates' postings (at most 4 words, its item number and
    # the two words of its organisation, "Org 3", which keyword search reads with the text)
    assert rows_read(plan[0]["Plan"]) <= 3 * 20 + 15 * 8 < len(ids)
    # what it returns: k hits, each with its exact BM25 score, and the statement with the rare word first
    engine = PostgresSearch(pg, HashingEmbedder(64))
    exact = _bm25(pg, "care council dementia")
    hits = engine.search("care council dementia", k=10, mode="keyword").results
    assert len(hits) == 10
    assert all(np.isclose(h.score, exact[h.statement.id]) for h in hits)
    assert "dementia" in hits[0].statement.text
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_a_filtered_keyword_search_returns_k_whenever_k_match_by_either_path(pg, monkeypatch):
    """Few statements pass: each is scored exactly. Many pass (KEYWORD_EXACT_LIMIT 0 here): each word's list is
    read among those that pass, cut short at KEYWORD_DEPTH, and still gives k results."""
    from classifier.storage.postgres import PostgresSearch
    from classifier.storage.postgres import search as pg_search

    _corpus(pg)
    monkeypatch.setattr(pg_search, "KEYWORD_DEPTH", 5)
    monkeypatch.setattr(pg_search, "RESCORE", 5)
    engine = PostgresSearch(pg, HashingEmbedder(64))
    for limit in (10 ** 6, 0):
        monkeypatch.setattr(pg_search, "KEYWORD_EXACT_LIMIT", limit)
        for filters in (Filters(organisations=("org 3",)), Filters(themes=("funding",)),
                        Filters(since="2013-01-01", until="2013-12-31")):
            passing = set(pg.filter_ids(filters))
            hits = engine.search("care dementia", k=20, filters=filters, mode="keyword").results
            assert len(hits) == 20 and {h.statement.id for h in hits} <= passing, (limit, filters)
            if limit:  # scored exactly: BM25 over the whole corpus, ranked among the statements that pass
                want = sorted(((i, v) for i, v in _bm25(pg, "care dementia").items() if i in passing),
                              key=lambda x: (-x[1], x[0]))[:20]
                assert [(h.statement.id, round(h.score, 9)) for h in hits] == [(i, round(v, 9)) for i, v in want]
