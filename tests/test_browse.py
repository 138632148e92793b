"""Pages of one ranking, date order and copies grouped (classifier/search/browse.py, copies.py)."""

import pytest

from classifier.errors import InvalidInput
from classifier.search import copies
from classifier.search.browse import MAX_DEPTH, browse
from classifier.storage.records import Filters, NewStatement

WORDS = ("staff pay carers vacancies recruitment training budget funding grant beds discharge winter records "
         "digital data sharing council board plan people home care market fees providers").split()


def _corpus(n):
    """n distinct statements on overlapping words, dated over several years (every fifth undated)."""
    import random

    rng = random.Random(3)
    out = []
    for i in range(n):
        text = " ".join(rng.sample(WORDS, 9)) + f" note {i}."
        date = None if i % 5 == 4 else f"{2012 + i % 11}-{1 + i % 12:02d}-{1 + i % 27:02d}"
        out.append(NewStatement(text, f"Org {i % 7}", date, f"Title {i}"))
    return out


@pytest.fixture
def many(trained):
    trained.add_statements(_corpus(60))
    return trained


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_offset_continues_the_same_ranking(many, mode):
    index = many.search_index
    whole = [h.statement.id for h in browse(index, "staff pay carers", k=20, mode=mode).results]
    first = browse(index, "staff pay carers", k=10, offset=0, mode=mode)
    second = browse(index, "staff pay carers", k=10, offset=10, mode=mode)
    assert [h.statement.id for h in first.results] + [h.statement.id for h in second.results] == whole
    assert first.has_more and first.offset == 0 and second.offset == 10


def test_the_last_page_says_there_is_no_more(many):
    index = many.search_index
    everything = browse(index, "staff pay", k=100, mode="semantic")
    assert everything.total == 60 and not everything.has_more and len(everything.results) == 60
    last = browse(index, "staff pay", k=25, offset=50, mode="semantic")
    assert len(last.results) == 10 and not last.has_more and last.total == 60
    past = browse(index, "staff pay", k=10, offset=70, mode="semantic")
    assert past.results == () and not past.has_more


def test_paging_stops_at_the_ranking_depth(many):
    with pytest.raises(InvalidInput, match="offset \\+ k"):
        browse(many.search_index, "staff", k=10, offset=MAX_DEPTH - 9)
    with pytest.raises(InvalidInput, match="sort"):
        browse(many.search_index, "staff", sort="oldest")


@pytest.mark.parametrize("sort,newest", [("date", False), ("-date", True)])
def test_sort_by_date_orders_the_same_hits(many, sort, newest):
    index = many.search_index
    by_relevance = browse(index, "budget funding grant", k=15, offset=5)
    by_date = browse(index, "budget funding grant", k=15, offset=5, sort=sort)
    assert {h.statement.id for h in by_date.results} == {h.statement.id for h in by_relevance.results}
    dated = [h.statement.date for h in by_date.results if h.statement.date]
    assert dated == sorted(dated, reverse=newest)
    undated = [i for i, h in enumerate(by_date.results) if not h.statement.date]
    assert undated and undated == list(range(len(dated), len(by_date.results)))  # undated last


def test_partial_dates_sort_by_the_first_day_they_cover(trained):
    trained.add_statements([NewStatement("staff pay one", "A", "2020-06-15"), NewStatement("staff pay two", "B", "2020"),
                            NewStatement("staff pay three", "C", "2020-03")])
    hits = browse(trained.search_index, "staff pay", sort="date").results
    assert [h.statement.date for h in hits] == ["2020", "2020-03", "2020-06-15"]


RELEASE = ("Councils and the NHS must agree a fully funded plan for the social care workforce, with pay that "
           "keeps experienced carers in the job and training that counts in both sectors.")


def test_three_copies_come_back_as_one_hit_the_earliest(trained):
    ids = trained.add_statements([
        NewStatement(RELEASE, "Wexcombe County Council", "2021-05-04"),
        NewStatement(RELEASE.upper().replace(",", " ,"), "Harrow Vale ICB", "2019-02-01"),
        NewStatement("  " + RELEASE.replace("social care", "social  care"), "Fenbury District Council", "2023-01-01"),
        NewStatement("Delayed discharge from hospital beds rose this winter.", "Harrow Vale ICB", "2020-01-01"),
    ]).ids
    res = browse(trained.search_index, "social care workforce plan pay", k=10)
    assert len(res.results) == 2
    top = res.results[0]
    assert top.statement.id == ids[1] and top.statement.date == "2019-02-01"
    assert [c.to_dict() for c in top.copies] == [
        {"id": ids[0], "organisation": "Wexcombe County Council", "date": "2021-05-04"},
        {"id": ids[2], "organisation": "Fenbury District Council", "date": "2023-01-01"}]
    assert top.statement.text[top.hit.highlight.start:top.hit.highlight.end] == top.hit.highlight.text
    apart = browse(trained.search_index, "social care workforce plan pay", k=10, group=False)
    assert len(apart.results) == 4 and all(not h.copies for h in apart.results)
    # a filter leaves out the copies it excludes: the earliest statement inside the filter leads
    only = browse(trained.search_index, "social care workforce plan pay",
                  filters=Filters(organisations=("wexcombe county council", "fenbury district council")))
    assert [h.statement.id for h in only.results] == [ids[0]]
    assert [c.id for c in only.results[0].copies] == [ids[2]]


def test_a_line_repeated_with_each_councils_own_name_is_a_copy(trained):
    line = "{} backs the call for a ten-year settlement for adult social care and public health."
    ids = trained.add_statements([NewStatement(line.format(name), name, f"2022-0{i + 1}-01")
                                  for i, name in enumerate(["Wexcombe County Council", "Harrow Vale Council",
                                                            "Fenbury District Council"])]).ids
    res = browse(trained.search_index, "ten-year settlement for adult social care", k=5)
    assert [h.statement.id for h in res.results] == [ids[0]]
    assert [c.id for c in res.results[0].copies] == ids[1:]


def test_different_figures_are_not_copies(trained):
    a = "Care staff vacancies in the county rose by 12 per cent last year, and pay still lags the NHS bands."
    b = a.replace("12", "30")
    trained.add_statements([NewStatement(a, "A", "2020-01-01"), NewStatement(b, "B", "2021-01-01")])
    assert len(browse(trained.search_index, "care staff vacancies", k=5).results) == 2


def test_signatures_follow_the_store(trained):
    store = trained.store
    ids = trained.add_statements([NewStatement(RELEASE, "A", "2020-01-01"), NewStatement(RELEASE, "B", "2021-01-01")]).ids
    assert copies.sync_signatures(store) == 2 and copies.sync_signatures(store) == 0
    assert copies.copies_of(store, [ids[0]]) == {ids[0]: {ids[1]}}
    store.delete(ids[1])
    copies.sync_signatures(store)
    assert copies.copies_of(store, [ids[0]]) == {ids[0]: set()}
    store.set_meta("copy_signatures", "an older method")
    assert copies.sync_signatures(store) == 1  # re-signed from scratch


def test_ingest_and_reindex_sign_statements_before_any_search(trained, tmp_path):
    import json

    src = tmp_path / "two.jsonl"
    src.write_text("".join(json.dumps({"text": RELEASE, "organisation": o}) + "\n" for o in ("A", "B")))
    trained.ingest_paths([src], {})
    store = trained.store
    assert store.get_meta("copy_signatures_seq") == str(store.last_seq())
    assert copies.sync_signatures(store) == 0  # nothing left for the first search to do
