import numpy as np
import pytest

from classifier.errors import InvalidInput, NotFound
from classifier.storage.records import Filters, NewStatement, content_hash
from classifier.text.dates import parse_date
from classifier.storage.sqlite import SQLiteStore

# Every test here runs on both backends (tests/conftest.py: ``backend``, ``store``).
BACKENDS = ("sqlite", "postgres")


def _add(store, texts, org="Wexcombe County Council", date="2020-01-01", themes=None):
    vecs = np.eye(len(texts), 8, dtype=np.float32)
    scores = [{"funding": 0.9 if (themes or {}).get(t) == "funding" else 0.1} for t in texts]
    return store.add([NewStatement(t, org, date) for t in texts], vecs, scores, {"funding": 0.5}, "v1")


def test_add_returns_ids_in_input_order_and_dedupes(store):
    first = _add(store, ["alpha text", "beta text"])
    again = _add(store, ["gamma text", "Alpha   TEXT"])
    assert first.added == 2 and again.added == 1 and again.duplicates == 1
    assert again.ids[1] == first.ids[0]
    assert store.count() == 3


def test_same_text_from_another_organisation_is_not_a_duplicate(store):
    _add(store, ["shared words"], org="A")
    r = _add(store, ["shared words"], org="B")
    assert r.added == 1
    assert content_hash("x", "A") != content_hash("x", "B")


def test_themes_over_threshold_are_stored_and_filterable(store):
    r = _add(store, ["money", "people"], themes={"money": "funding"})
    got = store.get_one(r.ids[0])
    assert got.themes == [{"id": "funding", "score": 0.9}] and got.model_version == "v1"
    assert store.get_one(r.ids[1]).themes == []
    assert store.filter_ids(Filters(themes=("funding",))) == [r.ids[0]]


def test_filters_by_organisation_case_insensitively_and_dates(store):
    a = _add(store, ["one"], org="Wexcombe County Council", date="2014-05-01").ids[0]
    b = _add(store, ["two"], org="Other Trust", date="2019-05-01").ids[0]
    c = _add(store, ["three"], org="Other Trust", date=None).ids[0]
    assert store.filter_ids(Filters(organisations=("wexcombe county council",))) == [a]
    assert store.filter_ids(Filters(since="2015-01-01")) == [b]
    assert store.filter_ids(Filters(until="2015-01-01")) == [a]
    assert store.filter_ids(Filters(organisations=("Other Trust",))) == [b, c]


def test_delete_logs_a_change_and_missing_is_not_found(store):
    ids = _add(store, ["one", "two"]).ids
    seq = store.last_seq()
    store.delete(ids[0])
    latest, added, deleted = store.changes_since(seq)
    assert latest > seq and deleted == [ids[0]] and added == []
    with pytest.raises(NotFound):
        store.delete(ids[0])
    with pytest.raises(NotFound):
        store.get_one(ids[0])
    for impossible in (0, -1, 2 ** 64):
        with pytest.raises(NotFound):
            store.get_one(impossible)
        with pytest.raises(NotFound):
            store.delete(impossible)


def test_vectors_round_trip(store):
    ids = _add(store, ["one", "two", "three"]).ids
    got_ids, vecs = next(store.vectors())
    assert got_ids.tolist() == ids and np.allclose(vecs, np.eye(3, 8))


def test_failed_batch_leaves_nothing_behind(store):
    with pytest.raises(Exception):
        store.add([NewStatement("ok"), NewStatement(None)], np.zeros((2, 8), np.float32), [{}, {}], {}, "v1")
    assert store.count() == 0 and store.last_seq() == 0


@pytest.mark.parametrize("bad", ["2020-13-01", "2020-02-30", "20200101", "yesterday", 2020])
def test_bad_dates_are_rejected(bad):
    with pytest.raises(InvalidInput):
        parse_date(bad)


def test_organisations_lists_counts(store):
    _add(store, ["a", "b"], org="A")
    _add(store, ["c"], org="B")
    assert [(o["name"], o["statements"]) for o in store.organisations()] == [("A", 2), ("B", 1)]


def test_integers_outside_sqlite_range_are_refused_before_the_bind(store):
    from classifier.storage.records import MAX_ID, check_int

    for bad in (10 ** 29, MAX_ID + 1, 0, -3, True, 1.0, "1"):
        with pytest.raises(InvalidInput, match="statement_id"):
            store.add_labels([("text", [], "api", bad)])
    assert store.labels() == []
    assert store.add_labels([("text", [], "api", MAX_ID)]) == 1
    assert check_int(5, "k", 1, 100) == 5
    with pytest.raises(InvalidInput, match="'k' must be between 1 and 100"):
        check_int(101, "k", 1, 100)
    for impossible in (10 ** 29, MAX_ID + 1):
        with pytest.raises(NotFound):
            store.get_job(impossible)


def test_review_candidates_leave_out_labelled_statements(store):
    # issue 15.11: a statement an analyst had labelled kept coming back to the review queue
    ids = _add(store, ["one", "two", "three"]).ids
    assert [sid for sid, _, _ in store.scores_near_thresholds({"funding": 0.5}, 10)] == ids
    store.add_labels([("two", ["funding"], "correction", ids[1]), ("free text", [], "api", None)])
    assert [sid for sid, _, _ in store.scores_near_thresholds({"funding": 0.5}, 10)] == [ids[0], ids[2]]


@pytest.mark.parametrize("stored,asked", [
    ("Defect Council", "defect council"), ("Defect Council", "DEFECT  COUNCIL"), ("defect council", "Defect Council"),
    ("Defect Council\u200e", "defect council"), ("De\u00adfect Council", "Defect Council"),
    ("Ｄefect Council", "defect council"), ("Defect Council", " Defect\u200b Council "),
])
def test_organisations_match_ignoring_case_width_spacing_and_invisible_marks(store, stored, asked):
    # issue 15.11: one key (store.organisation_key) for storing, filtering and listing organisations
    sid = _add(store, ["one"], org=stored).ids[0]
    _add(store, ["two"], org="Other Trust")
    assert store.filter_ids(Filters(organisations=(asked,))) == [sid]
    _add(store, ["three"], org=asked)
    assert sorted(o["statements"] for o in store.organisations()) == [1, 2]


def test_stored_organisation_keys_are_recomputed_when_the_key_changes(tmp_path):
    # SQLite only: it rewrites the file behind the store's back
    import sqlite3

    store = SQLiteStore(tmp_path / "s.sqlite")
    sid = _add(store, ["one"], org="Defect Council\u200e").ids[0]
    # A store written by a version whose key kept invisible marks
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE statements SET organisation_key=? WHERE id=?", ("defect council\u200e", sid))
        db.execute("DELETE FROM meta WHERE key='organisation_keys'")
    assert SQLiteStore(tmp_path / "s.sqlite").filter_ids(Filters(organisations=("defect council",))) == [sid]
