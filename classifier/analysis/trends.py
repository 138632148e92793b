"""How often a theme (or a query) comes up over time, and which themes an organisation raises when.

Counts are of stored statements, exactly: a statement tagged with the theme, passing the filters, is counted
once, in the period its date falls in. Dates are kept at the precision their source gave (``2021``,
``2021-06``, ``2021-06-14``), so a statement whose date is coarser than the interval (a year-only date in a
monthly series) cannot be placed in one period: it is counted in ``imprecise`` instead, and undated
statements in ``undated``, so that ``sum(series) + imprecise + undated == total`` always.

With a query, a statement counts when its embedding's cosine similarity to the query's is at least
``RELEVANCE_FLOOR`` (how that floor was chosen is in README, "Trends").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from classifier.errors import InvalidInput, NotFound
from classifier.storage.records import Filters
from classifier.text.dates import date_bounds

INTERVALS = ("year", "quarter", "month")
# Cosine similarity (all-MiniLM-L6-v2, normalised vectors) from which a statement "matches" a trend's query.
# On the 81 judged search queries (training_data/search_eval.jsonl, 485 statements) 0.55 has the best F1
# between judged-relevant and other statements, and each half of the queries picks 0.50 or 0.55; it admits
# about as many statements (659) as were judged relevant (737). README, "Trends", has the sweep.
RELEVANCE_FLOOR = 0.55


@dataclass(frozen=True)
class Period:
    period: str
    count: int

    def to_dict(self) -> dict:
        return {"period": self.period, "count": self.count}


@dataclass(frozen=True)
class Trend:
    interval: str
    theme: str | None
    query: str | None
    series: tuple[Period, ...]
    total: int
    undated: int
    imprecise: int

    def to_dict(self) -> dict:
        return {"interval": self.interval, "theme": self.theme, "query": self.query,
                "relevance_floor": RELEVANCE_FLOOR if self.query else None,
                "series": [p.to_dict() for p in self.series], "total": self.total, "undated": self.undated,
                "imprecise": self.imprecise}


@dataclass(frozen=True)
class ThemeRow:
    theme: str
    total: int
    counts: tuple[int, ...]      # one per period

    def to_dict(self) -> dict:
        return {"theme": self.theme, "total": self.total, "counts": list(self.counts)}


@dataclass(frozen=True)
class OrganisationThemes:
    """An organisation's themes over time: one row per theme it raised, one column per period."""

    organisation: str
    interval: str
    statements: int
    first_date: str | None
    last_date: str | None
    periods: tuple[str, ...]
    themes: tuple[ThemeRow, ...]

    def to_dict(self) -> dict:
        return {"organisation": self.organisation, "interval": self.interval, "statements": self.statements,
                "first_date": self.first_date, "last_date": self.last_date, "periods": list(self.periods),
                "themes": [t.to_dict() for t in self.themes]}


@dataclass(frozen=True)
class CrossTab:
    """Organisations by themes: how many of each organisation's statements carry each theme."""

    themes: tuple[str, ...]
    rows: tuple[tuple[str, int, tuple[int, ...]], ...]     # (organisation, statements, count per theme)

    def to_dict(self) -> dict:
        return {"themes": list(self.themes), "organisations": [
            {"name": name, "statements": n, "counts": dict(zip(self.themes, counts))} for name, n, counts in self.rows]}


def check_interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise InvalidInput(f"unknown interval {interval!r}; use one of {', '.join(INTERVALS)}")
    return interval


def period_of(date: str, interval: str) -> str | None:
    """The period (``2021``, ``2021-Q2``, ``2021-06``) a stored date falls in, or None when the date is
    coarser than the interval."""
    parts = date.split("-")
    if interval == "year":
        return parts[0]
    if len(parts) < 2:
        return None
    if interval == "quarter":
        return f"{parts[0]}-Q{(int(parts[1]) - 1) // 3 + 1}"
    return f"{parts[0]}-{parts[1]}"


def _index(period: str) -> int:
    """A period as a number of its interval since year 0, so periods can be enumerated."""
    if "-Q" in period:
        year, q = period.split("-Q")
        return int(year) * 4 + int(q) - 1
    if "-" in period:
        year, month = period.split("-")
        return int(year) * 12 + int(month) - 1
    return int(period)


def _label(index: int, interval: str) -> str:
    if interval == "year":
        return f"{index:04d}"
    if interval == "quarter":
        return f"{index // 4:04d}-Q{index % 4 + 1}"
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def periods_between(first: str, last: str, interval: str) -> list[str]:
    return [_label(i, interval) for i in range(_index(first), _index(last) + 1)]


def _span(found: list[str], filters: Filters, interval: str) -> list[str]:
    """Every period from the first to the last with a statement, widened to ``since``/``until`` when given."""
    ends = list(found)
    if filters.since:
        ends.append(period_of(date_bounds(filters.since)[0], interval))
    if filters.until:
        ends.append(period_of(date_bounds(filters.until)[1], interval))
    if not found:
        return []
    return periods_between(min(ends, key=_index), max(ends, key=_index), interval)


def _bucket(date_counts, interval: str) -> tuple[dict[str, int], int, int, int]:
    counts: dict[str, int] = {}
    total = undated = imprecise = 0
    for date, n in date_counts:
        total += n
        if not date:
            undated += n
            continue
        period = period_of(date, interval)
        if period is None:
            imprecise += n
        else:
            counts[period] = counts.get(period, 0) + n
    return counts, total, undated, imprecise


def trend(pipeline, theme: str | None = None, filters: Filters = Filters(), interval: str = "year",
          query: str | None = None) -> Trend:
    """Statements per period: those tagged with ``theme`` (with any theme of ``filters.themes`` when None)
    passing ``filters`` and, with ``query``, matching it at or above ``RELEVANCE_FLOOR``."""
    check_interval(interval)
    if filters.since and filters.until and date_bounds(filters.since)[0] > date_bounds(filters.until)[1]:
        raise InvalidInput("since is after until")
    if theme is not None:
        pipeline.codebook.validate([theme])
        filters = Filters((theme,), filters.organisations, filters.since, filters.until)
    if query:
        date_counts = _query_date_counts(pipeline, query, filters)
    else:
        date_counts = pipeline.store.date_counts(filters)
    counts, total, undated, imprecise = _bucket(date_counts, interval)
    series = tuple(Period(p, counts.get(p, 0)) for p in _span(list(counts), filters, interval))
    return Trend(interval, theme, query or None, series, total, undated, imprecise)


def _query_date_counts(pipeline, query: str, filters: Filters) -> list[tuple[str | None, int]]:
    """(date, count) of the statements passing the filters whose cosine similarity to ``query`` is at least the
    floor. Every candidate is scored exactly against its stored vector, whatever kind the search index is."""
    store = pipeline.store
    ids = store.filter_ids(filters)
    if not ids:
        return []
    q = pipeline.embedder.embed([" ".join(query.split())])[0].astype(np.float32)
    matched: list[int] = []
    for batch_ids, vectors in store.vectors(ids):
        matched += batch_ids[vectors @ q >= RELEVANCE_FLOOR].tolist()
    out: dict = {}
    for date in store.dates_of(matched).values():
        out[date] = out.get(date, 0) + 1
    return list(out.items())


def organisation_themes(pipeline, name: str, interval: str = "year", filters: Filters = Filters()) -> OrganisationThemes:
    """The themes ``name`` (case and spacing ignored) raised, per period, over the periods from its first to its
    last dated statement; NotFound for an organisation with no statements. A theme's total counts all its
    statements, those whose date cannot be placed in a period included."""
    check_interval(interval)
    store = pipeline.store
    stored = store.organisation_name(name)
    if stored is None:
        raise NotFound(f"no statements from an organisation called {name!r}")
    scoped = Filters(filters.themes, (stored,), filters.since, filters.until)
    dates = store.date_counts(scoped)
    counts, statements, _, _ = _bucket(dates, interval)
    dated = sorted((d for d, _ in dates if d), key=lambda d: date_bounds(d)[0])
    periods = tuple(_span(list(counts), filters, interval))
    per_theme: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for theme, date, n in store.theme_date_counts(scoped):
        totals[theme] = totals.get(theme, 0) + n
        period = period_of(date, interval) if date else None
        if period is not None:
            per_theme.setdefault(theme, {})
            per_theme[theme][period] = per_theme[theme].get(period, 0) + n
    order = sorted((t for t in pipeline.codebook.ids if t in totals), key=lambda t: -totals[t])
    rows = tuple(ThemeRow(t, totals[t], tuple(per_theme.get(t, {}).get(p, 0) for p in periods)) for t in order)
    return OrganisationThemes(stored, interval, statements, dated[0] if dated else None,
                              dated[-1] if dated else None, periods, rows)


def organisation_crosstab(pipeline, filters: Filters = Filters(), limit: int = 25) -> CrossTab:
    """The ``limit`` organisations with most statements passing ``filters``, by theme."""
    rows: dict[str, dict[str, int]] = {}
    for name, theme, n in pipeline.store.organisation_theme_counts(filters):
        rows.setdefault(name, {})[theme] = n
    themes = tuple(pipeline.codebook.ids)
    ranked = sorted(rows.items(), key=lambda kv: (-kv[1].get("", 0), kv[0]))[:limit]
    return CrossTab(themes, tuple((name, counts.get("", 0), tuple(counts.get(t, 0) for t in themes))
                                  for name, counts in ranked))
