"""Keyword search in the SQLite store: an FTS5 table of index terms, written in the same transaction as the
statements, so a statement is findable by keyword the moment it is committed and no write ever triggers a
rebuild (issue 13: the in-memory BM25 index it replaces took 3.7 s to rebuild after a write at 100k).

The table holds each statement's terms (``classifier/text/terms.py``: stemmed, stop words out), already cut
the way bm25s cut them, so the tokenizer here only splits on the spaces between them. FTS5 ranks with its
``bm25()`` (k1 1.2, b 0.75); filters are a join on the statements table in the same query, so a filtered search
ranks only the statements that pass and returns k hits whenever k match.
"""

from __future__ import annotations

import sqlite3

from classifier.storage.records import Filters
from classifier.text.terms import statement_terms, terms

# FTS5's own tokenizer over the stored terms: "_" is part of a word, as it is for the \w of the term pattern.
TABLE_SQL = ("CREATE VIRTUAL TABLE IF NOT EXISTS keyword_index USING fts5(terms,"
             " tokenize = \"unicode61 remove_diacritics 0 tokenchars '_'\")")
_BACKFILL_BATCH = 5000


def create_and_backfill(db: sqlite3.Connection) -> None:
    """Migration 2: the table, with a row for every statement already stored."""
    db.execute(TABLE_SQL)
    last = 0
    while True:
        rows = db.execute("SELECT id, title, organisation, text FROM statements WHERE id > ? ORDER BY id LIMIT ?",
                          (last, _BACKFILL_BATCH)).fetchall()
        if not rows:
            return
        index(db, [(r[0], r[1], r[2], r[3]) for r in rows])
        last = rows[-1][0]


def index(db: sqlite3.Connection, rows: list[tuple[int, str | None, str | None, str]]) -> None:
    """Add (id, title, organisation, text) rows, inside the caller's transaction."""
    if rows:
        found = statement_terms([(title, org, text) for _, title, org, text in rows])
        db.executemany("INSERT INTO keyword_index (rowid, terms) VALUES (?, ?)",
                       [(sid, t) for (sid, *_), t in zip(rows, found)])


def unindex(db: sqlite3.Connection, ids: list[int]) -> None:
    db.executemany("DELETE FROM keyword_index WHERE rowid = ?", [(i,) for i in ids])


def match_expression(query: str) -> str | None:
    """The FTS5 query for ``query``: any of its terms, each quoted (terms are word characters only)."""
    words = list(dict.fromkeys(terms([query])[0]))
    return " OR ".join(f'"{w}"' for w in words) if words else None


def search(store, query: str, n: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
    """The ``n`` best (statement id, BM25 score) for ``query`` among the statements passing ``filters``."""
    expression = match_expression(query)
    if expression is None:
        return []
    with store._tx(write=False) as db:
        if filters:
            where, args = store._filter_clause(filters)
            rows = db.execute("SELECT k.rowid, -bm25(keyword_index) FROM keyword_index k JOIN statements s"
                              f" ON s.id = k.rowid WHERE keyword_index MATCH ? AND {where}"
                              " ORDER BY bm25(keyword_index), k.rowid LIMIT ?", [expression, *args, n]).fetchall()
        else:
            rows = db.execute("SELECT rowid, -bm25(keyword_index) FROM keyword_index WHERE keyword_index MATCH ?"
                              " ORDER BY bm25(keyword_index), rowid LIMIT ?", (expression, n)).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
