"""Conformance: the PostgreSQL store offers every public method of the SQLite store, with the same signature,
and gives the same outputs for the same inputs. The scenario below must call every public method: a method
added to SQLiteStore without a call here (and a twin in PostgresStore) fails this test."""

import inspect

import numpy as np
import pytest

from classifier.errors import JoinedupError
from classifier.storage.base import Store
from classifier.storage.records import DocumentParagraph, Filters, NewStatement, Statement, StoredDocument
from classifier.storage.sqlite import SQLiteStore

BACKENDS = ("postgres",)

# Values that legitimately differ between two runs: wall-clock times.
_CLOCK = {"created", "updated"}


def _public(cls) -> dict:
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}


def test_postgres_store_has_every_public_method_of_the_sqlite_store_with_the_same_signature():
    from classifier.storage.postgres import PostgresStore

    sqlite, postgres = _public(SQLiteStore), _public(PostgresStore)
    missing = sorted(set(sqlite) - set(postgres))
    assert not missing, f"PostgresStore lacks {missing}"
    for name, method in sqlite.items():
        assert inspect.signature(postgres[name]) == inspect.signature(method), name


def test_the_store_protocol_lists_every_public_method_of_the_sqlite_store():
    listed = {n for n in dir(Store) if not n.startswith("_") and callable(getattr(Store, n))}
    assert sorted(set(_public(SQLiteStore)) - listed) == []


def _normal(value):
    """Outputs in comparable form: dataclasses and arrays as plain values, clock fields blanked."""
    if isinstance(value, Statement):
        return _normal(dict(value.to_dict(), created=None))
    if isinstance(value, dict):
        return {k: (None if k in _CLOCK else _normal(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_normal(v) for v in value)
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, np.ndarray):
        return value.round(6).tolist()
    if inspect.isgenerator(value):
        return [_normal(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _normal(vars(value))
    return value


class Recorder:
    """Calls a method on the store, keeping the normalised output (or the error's type and message)."""

    def __init__(self, store):
        self.store, self.called, self.outputs = store, set(), []

    def __getattr__(self, name):
        method = getattr(self.store, name)

        def call(*args, **kwargs):
            self.called.add(name)
            try:
                out = _normal(method(*args, **kwargs))
            except (JoinedupError, ValueError) as exc:
                out = (type(exc).__name__, str(exc))
            self.outputs.append((name, out))
            return out
        return call


def _scenario(s: Recorder) -> None:
    rng = np.random.default_rng(5)
    vec = lambda n: rng.standard_normal((n, 8)).astype(np.float32)  # noqa: E731
    items = [
        NewStatement("We call for a ten-year workforce plan with £3.8 billion for pay.", "Wexcombe County Council",
                     "2019-05-01", "Workforce", "https://example.org/a", "doc-a", 0, 0, 64),
        NewStatement("Delayed discharge rose again this winter.", "wexcombe  county council", "2021", "Winter"),
        NewStatement("Shared care records are live across the region.", "Harrow Vale ICB", "2020-06", None),
        NewStatement("Funding gap and overspend in adult social care.", "Harrow Vale ICB", None),
        NewStatement("We call for a ten-year workforce plan with £3.8 billion for pay.", "Other Trust", "2022-01-01"),
    ]
    thresholds = {"funding": 0.5, "workforce": 0.5, "hospital_discharge": 0.4}
    scores = [{"funding": 0.71, "workforce": 0.93}, {"hospital_discharge": 0.82, "funding": 0.12},
              {"funding": 0.45}, {"funding": 0.97, "workforce": 0.38}, {"workforce": 0.66}]
    s.add(items, vec(5), scores, thresholds, "v1")
    s.add(items[:2] + [NewStatement("A brand new line on housing.", "New Org", "2023-03-03")], vec(3),
          [{}, {}, {"funding": 0.55}], thresholds, "v1")
    s.count()
    s.last_seq()
    s.get([1, 2, 3, 99])
    s.get_one(1)
    s.get_one(99)
    s.get_one(0)
    s.vectors()
    s.vectors([3, 1], batch=1)
    s.texts()
    s.id_checksum()
    everything = [Filters(), Filters(themes=("funding",)), Filters(organisations=("WEXCOMBE COUNTY COUNCIL",)),
                  Filters(since="2020-01-01"), Filters(until="2020-12-31"), Filters(since="2021-06-01", until="2021-06-30"),
                  Filters(themes=("workforce",), organisations=("other trust", "harrow vale icb"))]
    for f in everything:
        s.filter_ids(f)
        s.count_statements(f)
        s.passing([1, 2, 3, 4, 5, 6, 77], f)
        s.date_counts(f)
        s.theme_date_counts(f)
        s.organisation_theme_counts(f)
        s.page_statements(f, offset=1, limit=2)
        s.page_statements(f, after=2)
    s.organisations()
    s.organisation_name("harrow  VALE icb")
    s.organisation_name("nobody")
    for text in ("vale", "w", "100%", "", "council"):
        s.organisation_suggestions(text, 5)
    s.texts_of([2, 4, 50])
    s.dates_of([2, 4, 50])
    s.scores_near_thresholds(thresholds, 3)
    s.retag([(1, {"funding": 0.2, "workforce": 0.51}), (3, {"funding": 0.99})], thresholds, "v2")
    s.get([1, 3])
    s.replace_vectors([(2, np.ones(8, np.float32))], "space-b")
    s.get_meta("embedder")
    s.set_meta("note", "x")
    s.get_meta("note")
    s.get_meta("absent")
    s.vectors([2])
    seq = s.last_seq()
    s.delete(4)
    s.delete(4)
    s.delete(2 ** 64)
    s.changes_since(0)
    s.changes_since(seq)
    _documents(s, vec, thresholds)
    s.add_labels([("  we   call for  pay ", ["workforce"], "api", 1), ("free text", [], "import", None)])
    s.add_labels([("bad", [], "api", 10 ** 29)])
    s.add_labels([("named", ["funding"], "page", 3)], "R. Analyst")
    s.labels()
    s.list_labels()
    s.list_labels(1)
    s.list_labels(None, 1, 1)
    s.get_label(1)
    s.get_label(99)
    s.get_label(2 ** 64)
    s.update_label(1, ["funding", "workforce"], "Someone Else")
    s.update_label(99, [], None)
    s.get_label(1)
    s.delete_label(2)
    s.delete_label(2)
    s.delete_label(2 ** 64)
    s.labels()
    s.scores_near_thresholds(thresholds, 10)
    s.create_job("train", {"force": True})
    s.create_job("train", {})
    s.update_job(1, status="running", progress="half way", pid=123)
    s.update_job(1, status="succeeded", model="m1", report={"micro_f1": 0.8})
    s.update_job(1, nonsense=1)
    s.get_job(1)
    s.get_job(2)
    s.get_job(10 ** 30)
    s.create_job("train", {})
    s.reset_copy_signatures("method-1")
    s.put_copy_signatures([(1, b"\x01\x02", "3.8", [11, 12]), (5, b"\x01\x03", "3.8", [11, 13]), (4, b"x", "", [13])],
                          seq=3)
    s.put_copy_signatures([(3, b"\x09", "", [14])], seq=2)
    s.get_meta("copy_signatures_seq")
    s.copy_candidates([1, 5, 3])
    s.copy_signatures([1, 5, 3, 4])


def _documents(s: Recorder, vec, thresholds) -> None:
    """Documents: ordered paragraphs (boilerplate without a statement), a paragraph whose statement is a
    duplicate, the same document twice, listing with filters, retagging, and a deleted statement."""
    text = "Board paper\n\nDelayed discharge rose again this winter.\n\nA fresh line on carers' pay.\n\nPage 2 of 9"
    paragraphs = (DocumentParagraph(0, "heading", "Board paper", 0, 11),
                  DocumentParagraph(1, "body", "Delayed discharge rose again this winter.", 13, 54,
                                    ({"id": "hospital_discharge", "score": 0.82},)),
                  DocumentParagraph(2, "list_item", "A fresh line on carers' pay.", 56, 84,
                                    ({"id": "workforce", "score": 0.7}, {"id": "funding", "score": 0.61})),
                  DocumentParagraph(3, "boilerplate", "Page 2 of 9", 86, 97))
    doc = StoredDocument("doc-1", "wexcombe  county council", "2021", "Board paper", "https://example.org/p",
                         "board_paper", paragraphs)
    statements = [NewStatement(p.text, doc.organisation, doc.date, doc.title, doc.url, doc.id, p.index, p.start, p.end)
                  for p in paragraphs[:3]]
    scores = [{"funding": 0.1}, {"hospital_discharge": 0.82, "funding": 0.12}, {"workforce": 0.7, "funding": 0.61}]
    themes = [{}, {"hospital_discharge": 0.82}, {"workforce": 0.7, "funding": 0.61}]
    s.add_document(doc, text, statements, vec(3), scores, themes, "v3")
    s.add_document(doc, text, statements, vec(3), scores, themes, "v3")
    single = StoredDocument("doc-9", "Fenbury", None, None, None, "statement",
                            (DocumentParagraph(0, "body", "Carers need a pay rise.", 0, 23),))
    s.add_documents([(doc, text, statements, vec(3), scores, themes),
                     (single, "Carers need a pay rise.", [NewStatement("Carers need a pay rise.", "Fenbury", None, None,
                                                                        None, "doc-9", 0, 0, 23)],
                      vec(1), [{"workforce": 0.9}], [{"workforce": 0.9}]),
                     (single, "Carers need a pay rise.", [NewStatement("Carers need a pay rise.", "Fenbury", None, None,
                                                                        None, "doc-9", 0, 0, 23)],
                      vec(1), [{"workforce": 0.9}], [{"workforce": 0.9}])], "v3")
    s.get_document("doc-9")
    s.add_document(StoredDocument("doc-2", "Harrow Vale ICB", None, None, None, None, ()), "", [],
                   np.zeros((0, 8), np.float32), [], [], "v3")
    s.add_document(StoredDocument("doc-3", "Other Trust", "2019-04-02", "Minutes", None, "minutes",
                                  (DocumentParagraph(0, "body", "Minutes of the meeting.", 0, 23),)),
                   "Minutes of the meeting.", [NewStatement("Minutes of the meeting.", "Other Trust", "2019-04-02",
                                                            "Minutes", None, "doc-3", 0, 0, 23)],
                   vec(1), [{"funding": 0.3}], [{}], None)
    s.get_document("doc-1")
    s.get_document("doc-1", with_text=True)
    s.get_document("absent")
    for f in (Filters(), Filters(organisations=("Wexcombe County Council",)), Filters(since="2020-01-01"),
              Filters(until="2020-12-31"), Filters(since="2019-04", until="2019-04")):
        s.list_documents(f)
        s.list_documents(f, offset=1, limit=1)
    s.retag_document("doc-1", {1: [], 2: [{"id": "funding", "score": 0.9}]})
    s.get_document("doc-1")
    s.document_ids()
    s.get_one(8)
    s.delete(8)
    s.get_document("doc-1")


def test_both_backends_give_the_same_outputs_for_the_same_calls(tmp_path, store):
    sqlite, postgres = Recorder(SQLiteStore(tmp_path / "conformance.sqlite")), Recorder(store)
    _scenario(sqlite)
    _scenario(postgres)
    assert sorted(set(_public(SQLiteStore)) - sqlite.called) == [], "the scenario must call every public method"
    for (name, want), (_, got) in zip(sqlite.outputs, postgres.outputs):
        assert got == want, name
    assert len(sqlite.outputs) == len(postgres.outputs)
