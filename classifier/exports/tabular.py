"""CSV and JSON lines with citation columns, for search hits and for the stored corpus.

Every row cites its statement: ``id, organisation, date, title, url, document_id, paragraph_index, themes,
score, text`` (score empty for a corpus export, where nothing was ranked), then ``copies`` for search hits
(the ids of the near-identical statements grouped under the hit). CSV is RFC 4180 as Python's ``csv``
module writes it (every field that needs it quoted, quotes doubled, CRLF line ends), UTF-8, themes joined by
``;``. JSON lines carry the same fields, themes as a list. Both are generators of text chunks, so a large
export streams instead of being built in memory.

Text is written as stored: a cell beginning with ``=``, ``+``, ``-`` or ``@`` is not altered, so a
spreadsheet that evaluates formulas in opened CSV files should import it as text.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Iterable, Iterator

from classifier.errors import InvalidInput
from classifier.storage.records import Statement

COLUMNS = ("id", "organisation", "date", "title", "url", "document_id", "paragraph_index", "themes", "score", "text")
SEARCH_COLUMNS = (*COLUMNS, "copies")
FORMATS = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def citation(statement: Statement, score: float | None = None, copies: Iterable[int] | None = None) -> dict:
    """The citation fields of one statement, in column order (``copies`` only when given)."""
    row = {"id": statement.id, "organisation": statement.organisation, "date": statement.date,
           "title": statement.title, "url": statement.url, "document_id": statement.document_id,
           "paragraph_index": statement.paragraph_index, "themes": [t["id"] for t in statement.themes],
           "score": None if score is None else round(float(score), 6), "text": statement.text}
    if copies is not None:
        row["copies"] = list(copies)
    return row


def search_rows(hits) -> Iterator[dict]:
    """Citation rows of browse hits (``classifier.search.browse.BrowseHit``), in their order."""
    for h in hits:
        yield citation(h.statement, h.score, [c.id for c in h.copies])


def statement_rows(statements: Iterable[Statement]) -> Iterator[dict]:
    for s in statements:
        yield citation(s)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def csv_chunks(rows: Iterable[dict], columns: tuple[str, ...] = COLUMNS, flush_every: int = 200) -> Iterator[str]:
    """The header, then the rows, as RFC 4180 CSV text in chunks of ``flush_every`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(row.get(c)) for c in columns])
        if n % flush_every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(rows: Iterable[dict], columns: tuple[str, ...] = COLUMNS) -> Iterator[str]:
    """One JSON object per line, keys in column order."""
    for row in rows:
        yield json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n"


def chunks(fmt: str, rows: Iterable[dict], columns: tuple[str, ...] = COLUMNS) -> Iterator[str]:
    """``rows`` as ``fmt`` ("csv" or "jsonl")."""
    if fmt == "csv":
        return csv_chunks(rows, columns)
    if fmt == "jsonl":
        return jsonl_chunks(rows, columns)
    raise InvalidInput(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")


def corpus_statements(store, filters, batch: int = 500) -> Iterator[Statement]:
    """Every stored statement passing ``filters``, in id order, read ``batch`` at a time by keyset paging."""
    after = 0
    while True:
        page = store.page_statements(filters, limit=batch, after=after)
        if not page:
            return
        yield from page
        after = page[-1].id


@dataclass(frozen=True)
class StatementsPage:
    statements: tuple[Statement, ...]
    offset: int
    limit: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.statements) < self.total

    def to_dict(self) -> dict:
        return {"offset": self.offset, "limit": self.limit, "total": self.total, "has_more": self.has_more,
                "statements": [s.to_dict() for s in self.statements]}


def statements_page(store, filters, offset: int = 0, limit: int = 100) -> StatementsPage:
    """One page of the stored statements passing ``filters``, in id order, with the total that pass."""
    return StatementsPage(tuple(store.page_statements(filters, offset=offset, limit=limit)), offset, limit,
                          store.count_statements(filters))
