"""Dates at the precision a source gives: YYYY-MM-DD, or YYYY-MM / YYYY where a month or a year is all
that is known."""

from __future__ import annotations

import datetime as dt
import re

from classifier.errors import InvalidInput

# Dates are ISO 8601 at the precision the source gives: YYYY-MM-DD, or YYYY-MM / YYYY where a month or a
# year is all that is known. They are stored as given (so a partial date is never shown as a made-up day),
# and a partial date stands for every day it covers: a date filter keeps a statement whose period overlaps
# [since, until], with a partial since starting on its first day and a partial until ending on its last.
# Dates are ISO 8601 at the precision the source gives: YYYY-MM-DD, or YYYY-MM / YYYY where a month or a
# year is all that is known. They are stored as given (so a partial date is never shown as a made-up day),
# and a partial date stands for every day it covers: a date filter keeps a statement whose period overlaps
# [since, until], with a partial since starting on its first day and a partial until ending on its last.
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def parse_date(value, field_name: str = "date") -> str | None:
    """An ISO 8601 date as YYYY-MM-DD, YYYY-MM or YYYY, returned as given, or None; anything else is InvalidInput."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise InvalidInput(f"{field_name} must be a date as YYYY-MM-DD, YYYY-MM or YYYY, got {value!r}")
    try:
        date_bounds(value)
    except ValueError as exc:
        raise InvalidInput(f"{field_name} {value!r} is not a real calendar date") from exc
    return value


def date_bounds(value: str) -> tuple[str, str]:
    """The first and last day (YYYY-MM-DD) of a date given as YYYY-MM-DD, YYYY-MM or YYYY.

    Raises ValueError for a date that does not exist (month 13, 30 February, year 0).
    """
    parts = [int(p) for p in value.split("-")]
    first = dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    if len(parts) == 3:
        last = first
    elif len(parts) == 2:
        last = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1) - dt.timedelta(days=1)
    else:
        last = dt.date(first.year, 12, 31)
    return first.isoformat(), last.isoformat()
