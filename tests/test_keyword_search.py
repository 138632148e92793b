"""Keyword search in the embedded store (issue 13.2): postings in the same transaction as the statements, filters
in the same query, and no race between the filter's candidates and the vector index."""

import sqlite3

import numpy as np

from classifier.storage.records import Filters, NewStatement
from classifier.storage.sqlite import SQLiteStore
from classifier.storage.sqlite import keyword


def _ids(hits):
    return [h.statement.id for h in hits.results]


def test_a_statement_is_found_by_keyword_as_soon_as_it_is_committed(trained):
    index = trained.search_index
    trained.add_statements([NewStatement(f"Care homes in district {i} report staff shortages.", f"Org {i}")
                            for i in range(30)])
    assert index.search("staff shortages", k=5, mode="keyword").results
    [new] = trained.add_statements([NewStatement("Pharmacists will join the discharge lounge rota.", "Org X")]).ids
    # no search ran in between, and nothing is rebuilt: the row is in the index the moment it commits
    assert _ids(index.search("pharmacists rota", k=3, mode="keyword"))[0] == new
    trained.store.delete(new)
    assert new not in _ids(index.search("pharmacists rota", k=3, mode="keyword"))


def test_title_and_organisation_are_searched_with_the_text(trained):
    [sid] = trained.add_statements([NewStatement("We welcome the plan and will respond in full.",
                                                 "Northwick Carers Forum", "2024-01-01",
                                                 "Response to the reablement consultation")]).ids
    assert _ids(trained.search_index.search("reablement", k=3, mode="keyword")) == [sid]
    assert _ids(trained.search_index.search("northwick carers", k=3, mode="keyword")) == [sid]


def test_filters_apply_before_ranking_so_k_hits_come_back_whenever_k_match(trained):
    items = [NewStatement(f"Funding for social care falls again in year {i}.", "Big Council" if i < 40 else "Small",
                          f"20{10 + i % 10}-05-01") for i in range(45)]
    trained.add_statements(items)
    hits = trained.search_index.search("funding social care", k=5, mode="keyword",
                                       filters=Filters(organisations=("small",)))
    assert len(hits.results) == 5 and {h.statement.organisation for h in hits.results} == {"Small"}
    dated = trained.search_index.search("funding", k=50, mode="keyword", filters=Filters(since="2019", until="2019"))
    assert dated.results and all(h.statement.date.startswith("2019") for h in dated.results)


def test_migration_2_indexes_the_statements_already_stored(trained):
    [sid] = trained.add_statements([NewStatement("Delayed transfers of care fell by a third.", "Org A")]).ids
    path = trained.store.path
    with sqlite3.connect(path) as db:  # the store as an older release left it: no keyword tables
        for table in ("keyword_postings", "keyword_terms", "keyword_lengths", "keyword_corpus"):
            db.execute(f"DROP TABLE {table}")
        db.execute("DELETE FROM schema_migrations WHERE version = 2")
    reopened = SQLiteStore(path)
    assert keyword.search(reopened, "delayed transfers", 5) == [(sid, keyword.search(reopened, "delayed transfers",
                                                                                     5)[0][1])]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM keyword_lengths").fetchone()[0] == reopened.count()


def test_a_statement_committed_while_a_filtered_search_reads_its_candidates_is_not_a_500(trained, monkeypatch):
    """The race of issue 13: a statement committed between reading the filter's candidates and asking FAISS.
    Committed before the candidates are read, it must be in the index the search uses; deleted after, it must
    be left out, not looked up."""
    store, index = trained.store, trained.search_index
    trained.add_statements([NewStatement(f"Winter pressures in ward {i}.", "Org A") for i in range(10)])
    index.search("winter", k=3)  # the index is now current
    real = store.filter_ids
    added = []

    def commit_then_read(filters):
        if not added:
            added.append(trained.add_statements([NewStatement("Winter beds opened early.", "Org A")]).ids[0])
        return real(filters)

    monkeypatch.setattr(store, "filter_ids", commit_then_read)
    for mode in ("semantic", "hybrid"):
        hits = index.search("winter beds", k=20, mode=mode, filters=Filters(organisations=("Org A",)))
        assert added[0] in _ids(hits)

    def read_then_delete(filters):
        ids = real(filters)
        store.delete(ids[0])
        monkeypatch.setattr(store, "filter_ids", real)
        return ids

    monkeypatch.setattr(store, "filter_ids", read_then_delete)
    first = real(Filters(organisations=("Org A",)))[0]
    hits = index.search("winter", k=20, mode="semantic", filters=Filters(organisations=("Org A",)))
    assert hits.results and first not in _ids(hits)
    assert np.all(np.isin(_ids(hits), real(Filters(organisations=("Org A",)))))


def test_the_ranking_is_bm25_with_an_idf_that_stays_positive_for_common_words(trained):
    """Every statement says "care" and "staff": FTS5's bm25() would score them all alike (its idf is clamped to
    ~0 above half the corpus) and return them in insertion order; the ranking here is BM25 as bm25s and the
    PostgreSQL backend compute it."""
    import math

    from classifier.text.terms import statement_terms, terms

    texts = ["Care staff care staff shortages.", "Care staff are leaving for retail jobs with better pay and hours.",
             "Care staff.", "Care staff care staff care staff training across the county this year."]
    ids = trained.add_statements([NewStatement(t, "Org") for t in texts]).ids
    got = keyword.search(trained.store, "care staff", 10)
    docs = {sid: statement_terms([(None, "Org", t)])[0].split() for sid, t in zip(ids, texts)}
    avg = sum(map(len, docs.values())) / len(docs)
    want = {}
    for sid, words in docs.items():
        score = 0.0
        for w in dict.fromkeys(terms(["care staff"])[0]):
            df = sum(w in d for d in docs.values())
            tf = words.count(w)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            score += idf * tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * len(words) / avg)) if tf else 0
        want[sid] = score
    assert [sid for sid, _ in got] == sorted(want, key=lambda s: (-want[s], s))
    assert all(abs(score - want[sid]) < 1e-9 for sid, score in got)
    assert len({round(s, 6) for _, s in got}) > 1


def test_a_query_of_common_words_reads_a_bounded_number_of_postings_and_keeps_the_best(trained, monkeypatch):
    """With the lists cut short, the hits are still the best by exact BM25 among what was read, and a statement
    with a rare query word is found first however many statements share the common ones."""
    monkeypatch.setattr(keyword, "DEPTH", 5)
    monkeypatch.setattr(keyword, "RESCORE", 8)
    texts = [f"Care staff in ward {i} report that care staff turnover is high." for i in range(60)]
    texts.append("Care staff in the dementia unit.")
    ids = trained.add_statements([NewStatement(t, f"Org {i % 4}") for i, t in enumerate(texts)]).ids
    hits = keyword.search(trained.store, "care staff dementia", 10)
    assert hits[0][0] == ids[-1] and len(hits) == 10
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # with a filter that few statements pass, every one of them is scored exactly
    few = keyword.search(trained.store, "care staff", 10, Filters(organisations=("Org 1",)))
    assert len(few) == 10 and all(trained.store.get_one(sid).organisation == "Org 1" for sid, _ in few)


def test_a_candidate_another_thread_drops_from_the_index_after_this_search_caught_up_is_not_looked_up(
        trained, monkeypatch):
    """The same race between the threads of one worker: this search's candidates are read and its index is
    current, then another request of the same process catches the shared index up with a delete before this
    one asks FAISS. The index state the search uses is checked under the index's lock, not before it."""
    store, index = trained.store, trained.search_index
    trained.add_statements([NewStatement(f"Winter pressures in ward {i}.", "Org A") for i in range(10)])
    index.search("winter", k=3)  # the index is now current, so this search's own catching up changes nothing
    org_a = Filters(organisations=("Org A",))
    real = index.dense
    for mode in ("semantic", "hybrid"):
        victim = store.filter_ids(org_a)[0]

        def another_thread_catches_up_first(*args, victim=victim, **kwargs):
            store.delete(victim)
            index.sync()
            monkeypatch.setattr(index, "dense", real)
            return real(*args, **kwargs)

        monkeypatch.setattr(index, "dense", another_thread_catches_up_first)
        hits = index.search("winter pressures", k=20, mode=mode, filters=org_a)
        assert hits.results and victim not in _ids(hits)
        assert set(_ids(hits)) <= set(store.filter_ids(org_a))
