"""Dates at the precision a source gives (YYYY-MM-DD, YYYY-MM, YYYY) and date filters over them."""

import numpy as np
import pytest

from classifier.errors import InvalidInput
from classifier.storage.records import Filters, NewStatement
from classifier.text.dates import date_bounds, parse_date
from classifier.storage.sqlite import SQLiteStore


@pytest.mark.parametrize("value", ["2022-06-15", "2022-06", "2022", "2024-02-29"])
def test_a_day_a_month_or_a_year_is_accepted_and_kept_as_given(value):
    assert parse_date(value, "--date") == value


@pytest.mark.parametrize("value,message", [
    ("2022-6", "must be a date as YYYY-MM-DD, YYYY-MM or YYYY"),
    ("22", "must be a date"),
    ("2022-06-15T10:00", "must be a date"),
    ("2022-13", "not a real calendar date"),
    ("2023-02-29", "not a real calendar date"),
    ("0000", "not a real calendar date"),
])
def test_other_forms_are_refused(value, message):
    with pytest.raises(InvalidInput, match=message):
        parse_date(value, "--date")


def test_bounds_of_partial_dates():
    assert date_bounds("2022") == ("2022-01-01", "2022-12-31")
    assert date_bounds("2022-06") == ("2022-06-01", "2022-06-30")
    assert date_bounds("2022-12") == ("2022-12-01", "2022-12-31")
    assert date_bounds("2024-02") == ("2024-02-01", "2024-02-29")
    assert date_bounds("2022-06-15") == ("2022-06-15", "2022-06-15")


@pytest.fixture
def dated(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    dates = ["2021", "2022", "2022-05", "2022-05-31", "2022-06", "2022-06-15", "2022-07-01", "2022-07", "2023", None]
    vecs = np.zeros((len(dates), 4), dtype=np.float32)
    result = store.add([NewStatement(f"statement {d}", "Wexcombe", d) for d in dates], vecs,
                       [{} for _ in dates], {}, "v1")
    by_id = dict(zip(result.ids, dates))
    return lambda since=None, until=None: [by_id[i] for i in store.filter_ids(Filters(since=since, until=until))]


def test_a_month_is_inside_a_range_that_covers_it(dated):
    assert dated("2022-06-01", "2022-06-30") == ["2022", "2022-06", "2022-06-15"]


def test_a_partial_date_is_kept_when_its_period_overlaps_the_range(dated):
    assert dated("2022-06-20", "2022-06-25") == ["2022", "2022-06"]
    assert dated(since="2022-06-16") == ["2022", "2022-06", "2022-07-01", "2022-07", "2023"]
    assert dated(until="2022-05-31") == ["2021", "2022", "2022-05", "2022-05-31"]


def test_partial_since_and_until_cover_their_whole_period(dated):
    assert dated("2022-06", "2022-06") == ["2022", "2022-06", "2022-06-15"]
    assert dated("2022-07", None) == ["2022", "2022-07-01", "2022-07", "2023"]
    assert dated(None, "2021") == ["2021"]
    assert dated("2022", "2022") == ["2022", "2022-05", "2022-05-31", "2022-06", "2022-06-15", "2022-07-01",
                                     "2022-07"]
