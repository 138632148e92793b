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


def test_the_change_log_is_read_in_commit_order_under_concurrent_writers(pg):
    """A reader catching up from the last sequence it saw misses nothing, however writers interleave."""
    written, seen, done = set(), set(), threading.Event()
    lock = threading.Lock()

    def writer(n):
        for i in range(15):
            r = _add(pg, [f"writer {n} statement {i} text"], embedder=HashingEmbedder(64))
            with lock:
                written.update(r.ids)

    def reader():
        seq = 0
        while True:
            finished = done.is_set()
            seq, added, _ = pg.changes_since(seq)
            seen.update(added)
            if finished:
                return

    r = threading.Thread(target=reader)
    r.start()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    done.set()
    r.join()
    assert seen == written and len(written) == 60


def test_one_job_of_a_kind_when_workers_ask_at_once(pg):
    results = []

    def ask():
        results.append(pg.create_job("train", {}))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    created = [job for job, _ in results if job is not None]
    assert len(created) == 1 and all(running == created[0] for job, running in results if job is None)


def test_vectors_are_stored_exactly(pg):
    vecs = np.random.default_rng(3).standard_normal((5, 384)).astype(np.float32)
    r = pg.add([NewStatement(f"text {i}") for i in range(5)], vecs, [{}] * 5, {}, "v1")
    ids, got = next(pg.vectors())
    assert ids.tolist() == r.ids and np.array_equal(got, vecs) and got.dtype == np.float32


def test_a_scratch_store_lives_in_its_own_schema_and_is_dropped(pg, settings, tmp_path):
    """Search evaluation loads its corpus into a scratch store: never into the configured database."""
    from classifier.storage import scratch_settings

    _add(pg, ["kept in the real store"])
    with scratch_settings(settings, tmp_path / "scratch") as scratch:
        temp = open_store(scratch)
        _add(temp, ["only in the scratch store", "and this"])
        assert temp.count() == 2 and pg.count() == 1
        temp.close()
    assert pg.count() == 1
    assert _sql(pg, "SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'joinedup_scratch_%%'") == [(0,)]
