import threading

import pytest

from classifier.errors import InvalidInput
from classifier.text.readers import Document
from classifier.pipeline import Pipeline
from classifier.search.engine import best_sentence, rrf
from classifier.storage.records import Filters

# Every test here that uses the store runs on both backends (tests/conftest.py: ``backend``).
BACKENDS = ("sqlite", "postgres")

DOCS = [
    Document("Social care needs a workforce plan with better pay for carers and staff. Vacancies are high.",
             "Wexcombe County Council", "2015-03-01", "Workforce"),
    Document("Delayed discharge from hospital beds rose this winter. The wards are full.",
             "Harrow Vale ICB", "2018-11-02", "Winter"),
    Document("The budget settlement leaves a funding gap and an overspend.", "Wexcombe County Council",
             "2021-06-01", "Budget"),
    Document("Shared care records and digital data sharing systems are live.", "Harrow Vale ICB", None, "Records"),
]


@pytest.fixture
def loaded(trained) -> Pipeline:
    trained.ingest_documents(DOCS)
    return trained


def test_each_mode_finds_the_obvious_statement(loaded):
    for mode in ("hybrid", "semantic", "keyword"):
        res = loaded.search_index.search("workforce plan for carers pay", k=2, mode=mode)
        assert res.results[0].statement.title == "Workforce", mode
        assert res.mode == mode


def test_filters_hold_on_every_result_and_return_k_when_available(loaded):
    res = loaded.search_index.search("funding", k=10, filters=Filters(organisations=("harrow vale icb",)))
    assert {h.statement.organisation for h in res.results} == {"Harrow Vale ICB"}
    assert len(res.results) == 2  # both of its statements, however poorly they match
    res = loaded.search_index.search("anything", k=10, filters=Filters(since="2016-01-01", until="2019-12-31"))
    assert [h.statement.date for h in res.results] == ["2018-11-02"]
    res = loaded.search_index.search("beds", k=10, filters=Filters(themes=("funding",)))
    assert res.results and all("funding" in [t["id"] for t in h.statement.themes] for h in res.results)


def test_no_candidates_means_no_results(loaded):
    res = loaded.search_index.search("x", filters=Filters(organisations=("nobody",)))
    assert res.results == ()


@pytest.mark.parametrize("kwargs,msg", [({"query": " "}, "empty"), ({"query": "x", "k": 0}, "k must"),
                                        ({"query": "x", "k": 1001}, "k must"), ({"query": "x", "mode": "fuzzy"}, "mode"),
                                        ({"query": "x", "filters": Filters(since="2020-01-01", until="2019-01-01")},
                                         "since is after until")])
def test_bad_search_input(loaded, kwargs, msg):
    with pytest.raises(InvalidInput, match=msg):
        loaded.search_index.search(**kwargs)


def test_highlight_is_the_best_matching_sentence(loaded):
    hit = loaded.search_index.search("vacancies", k=1, mode="keyword").results[0]
    assert hit.highlight.text == "Vacancies are high."
    assert hit.statement.text[hit.highlight.start:hit.highlight.end] == hit.highlight.text


def test_best_sentence_offsets():
    text = "First sentence here. Second talks about beds! Third."
    h = best_sentence(text, "beds")
    assert text[h.start:h.end] == "Second talks about beds!"


def test_rrf_rewards_agreement():
    fused = rrf([[1, 2, 3], [3, 1, 4]], (1.0, 1.0))
    assert [i for i, _ in fused][:2] == [1, 3]


def test_a_write_in_one_process_is_seen_by_another_pipeline(loaded):
    other = Pipeline(loaded.settings, embedder=loaded.embedder)
    assert other.search_index.count == 4
    loaded.ingest_documents([Document("A brand new statement about leisure centres and parks.", "New Org")])
    res = other.search_index.search("leisure centres parks", k=1, mode="keyword")
    assert res.results[0].statement.organisation == "New Org"
    loaded.store.delete(res.results[0].statement.id)
    assert other.search_index.count == 4


@pytest.mark.one_backend  # the FAISS file of the embedded backend
def test_index_file_mismatch_triggers_rebuild(loaded):
    loaded.search_index.sync()
    loaded.search_index.save()
    path = loaded.search_index.path
    path.with_suffix(".json").write_text('{"kind": "flat", "dimension": 64, "count": 1, "checksum": "x",'
                                         ' "seq": 0, "embedder": "hashing-64"}')
    fresh = Pipeline(loaded.settings, embedder=loaded.embedder)
    assert fresh.search_index.count == 4


def test_searches_during_ingest_do_not_fail(loaded):
    errors = []

    def searcher():
        other = Pipeline(loaded.settings, embedder=loaded.embedder)
        for _ in range(30):
            try:
                assert other.search_index.search("funding gap", k=3).results
            except Exception as exc:  # collected, so the assertion below names it
                errors.append(exc)

    t = threading.Thread(target=searcher)
    t.start()
    for i in range(10):
        loaded.ingest_documents([Document(f"Statement number {i} on the funding gap and budgets.", f"Org {i}")])
    t.join()
    assert errors == []


def test_vectors_from_another_embedder_are_refused_until_reembedded(loaded):
    from tests.fakes import HashingEmbedder
    from classifier.errors import ModelError

    other = Pipeline(loaded.settings, embedder=HashingEmbedder(32))
    with pytest.raises(ModelError, match="reindex --reembed"):
        other.add_statements([])
    with pytest.raises(ModelError, match="reindex --reembed"):
        other.search_index.search("x")
    assert other.reembed() == 4
    assert other.store.get_meta("embedder") == "hashing-32"
    assert other.search_index.search("workforce plan carers", k=1).results
