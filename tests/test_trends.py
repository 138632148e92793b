"""Trends over time, an organisation's themes over time, organisation suggestions (classifier/analysis/trends.py)."""

import random

import pytest

from classifier.analysis.trends import RELEVANCE_FLOOR, periods_between, period_of
from classifier.storage.records import Filters, NewStatement
from tests.conftest import VOCAB

ORGS = ["Wexcombe County Council", "Harrow Vale ICB", "Fenbury District Council", "London Borough of Tilney"]


@pytest.fixture
def corpus(trained):
    """80 statements on the fixture vocabularies, dated at every precision (and some undated), by 4 organisations."""
    rng = random.Random(5)
    items = []
    for i in range(80):
        words = rng.sample(VOCAB[list(VOCAB)[i % 4]], 4) + rng.sample(VOCAB[list(VOCAB)[(i + 1) % 4]], 1)
        precision = i % 6
        year = 2015 + i % 7
        date = (None if precision == 0 else f"{year}" if precision == 1 else f"{year}-{1 + i % 12:02d}"
                if precision == 2 else f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}")
        items.append(NewStatement(" ".join(words) + f" statement {i}", ORGS[i % 4] if i % 9 else ORGS[i % 4].upper(),
                                  date))
    trained.add_statements(items)
    return trained


def _stored(pipe, filters=Filters()):
    return list(pipe.store.get(pipe.store.filter_ids(filters)).values())


def _expected(statements, interval, theme=None, organisations=None):
    """Count by hand, in the test: the statements tagged with the theme, by period."""
    counts, undated, imprecise, total = {}, 0, 0, 0
    for s in statements:
        if theme and theme not in [t["id"] for t in s.themes]:
            continue
        if organisations and s.organisation.lower() not in [o.lower() for o in organisations]:
            continue
        total += 1
        if not s.date:
            undated += 1
        elif period_of(s.date, interval) is None:
            imprecise += 1
        else:
            counts[period_of(s.date, interval)] = counts.get(period_of(s.date, interval), 0) + 1
    return counts, undated, imprecise, total


@pytest.mark.parametrize("interval", ["year", "quarter", "month"])
@pytest.mark.parametrize("theme", ["workforce", "hospital_discharge", None])
def test_trend_counts_match_the_stored_statements(client, corpus, interval, theme):
    args = {"interval": interval, **({"theme": theme} if theme else {})}
    body = client.get("/api/v1/trends", query_string=args).get_json()
    counts, undated, imprecise, total = _expected(_stored(corpus), interval, theme)
    assert total > 0 and body["total"] == total
    assert (body["undated"], body["imprecise"]) == (undated, imprecise)
    series = {p["period"]: p["count"] for p in body["series"]}
    assert {p: n for p, n in series.items() if n} == counts
    periods = [p["period"] for p in body["series"]]
    assert periods == periods_between(min(counts), max(counts), interval)  # every period between, empty ones 0
    assert sum(series.values()) + undated + imprecise == total


def test_trend_filters_by_organisations_and_dates(client, corpus):
    body = client.get("/api/v1/trends", query_string=[("theme", "workforce"), ("organisation", "harrow vale icb"),
                                                      ("organisation", "London Borough of Tilney"),
                                                      ("since", "2017"), ("until", "2019-06")]).get_json()
    stored = _stored(corpus, Filters(since="2017", until="2019-06"))
    counts, undated, imprecise, total = _expected(stored, "year", "workforce", ORGS[1::2])
    assert body["total"] == total and {p["period"]: p["count"] for p in body["series"] if p["count"]} == counts
    assert [p["period"] for p in body["series"]] == ["2017", "2018", "2019"]  # the range asked for


def test_trend_with_a_query_counts_statements_over_the_floor(client, corpus):
    import numpy as np

    query = "staff pay vacancies recruitment"
    body = client.get("/api/v1/trends", query_string={"q": query, "interval": "year"}).get_json()
    q = corpus.embedder.embed([query])[0]
    expected = 0
    for ids, vectors in corpus.store.vectors():
        expected += int((vectors @ q >= RELEVANCE_FLOOR).sum())
    assert 0 < body["total"] == expected < 80 and body["relevance_floor"] == RELEVANCE_FLOOR


@pytest.mark.parametrize("args,message", [({"interval": "week"}, "unknown interval"),
                                          ({"theme": "nonsense"}, "unknown theme"),
                                          ({"since": "2020", "until": "2019"}, "since is after until")])
def test_bad_trend_requests(client, corpus, args, message):
    r = client.get("/api/v1/trends", query_string=args)
    assert r.status_code == 422 and message in r.get_json()["error"]["message"]


def test_organisation_themes_over_time_match_the_stored_statements(client, corpus):
    body = client.get("/api/v1/organisations/wexcombe  COUNTY council").get_json()
    assert body["organisation"] == ORGS[0]  # its most common spelling
    mine = [s for s in _stored(corpus) if s.organisation.lower() == ORGS[0].lower()]
    assert body["statements"] == len(mine)
    for row in body["themes"]:
        counts, _, _, total = _expected(mine, "year", row["theme"])
        assert row["total"] == total
        assert dict(zip(body["periods"], row["counts"])) == {p: counts.get(p, 0) for p in body["periods"]}
    assert client.get("/api/v1/organisations/Nobody%20at%20all").status_code == 404


def test_organisation_suggestions_match_anywhere_prefix_first(client, corpus):
    names = [o["name"] for o in client.get("/api/v1/organisations?q=council").get_json()["organisations"]]
    assert len(names) == 2 and all("council" in n.lower() for n in names)
    assert [o["name"] for o in client.get("/api/v1/organisations?q=LONDON").get_json()["organisations"]] == \
        ["London Borough of Tilney"]
    found = client.get("/api/v1/organisations?q=o&limit=2").get_json()["organisations"]
    assert len(found) == 2
    assert client.get("/api/v1/organisations?q=%25").get_json()["organisations"] == []  # LIKE wildcards are literal
    assert len(client.get("/api/v1/organisations").get_json()["organisations"]) == 4
