"""Keyword search in the SQLite store: an FTS5 table of index terms, written in the same transaction as the
statements, so a statement is findable by keyword the moment it is committed and no write ever triggers a
rebuild (issue 13: the in-memory BM25 index it replaces took 3.7 s to rebuild after a write at 100k).

The table holds each statement's terms (``classifier/text/terms.py``: stemmed, stop words out), already cut
the way bm25s cut them, so the tokenizer here only splits on the spaces between them. Ranking is BM25 as the
PostgreSQL backend and bm25s compute it (k1 1.5, b 0.75, Lucene's idf, which stays positive), from term
frequencies read through an ``fts5vocab`` view, not FTS5's own ``bm25()``: that one's idf is clamped to almost
zero for a word in more than half the statements, so a query of common words ("care staff pay") came back in
insertion order. Filters are a join on the statements table in the same query, so a filtered search ranks only
the statements that pass and returns k hits whenever k match.
"""

from __future__ import annotations

import math
import sqlite3

from classifier.storage.records import Filters
from classifier.text.terms import statement_terms, terms

# FTS5's own tokenizer over the stored terms: "_" is part of a word, as it is for the \w of the term pattern.
SCHEMA = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS keyword_index USING fts5(terms,"
    " tokenize = \"unicode61 remove_diacritics 0 tokenchars '_'\")",
    # views over the index: a term's document frequency, and each occurrence (term frequency per statement)
    "CREATE VIRTUAL TABLE IF NOT EXISTS keyword_terms USING fts5vocab(keyword_index, row)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS keyword_occurrences USING fts5vocab(keyword_index, instance)",
    # each statement's length in terms, and the corpus's count and total length, for BM25's length norm
    "CREATE TABLE IF NOT EXISTS keyword_lengths (id INTEGER PRIMARY KEY, len INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS keyword_corpus (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL,"
    " total INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO keyword_corpus VALUES (1, 0, 0)",
]
K1, B = 1.5, 0.75
_BACKFILL_BATCH = 5000


def create_and_backfill(db: sqlite3.Connection) -> None:
    """Migration 2: the tables, with a row for every statement already stored."""
    for statement in SCHEMA:
        db.execute(statement)
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
        lengths = [(sid, len(t.split())) for (sid, *_), t in zip(rows, found)]
        db.executemany("INSERT OR REPLACE INTO keyword_lengths VALUES (?, ?)", lengths)
        db.execute("UPDATE keyword_corpus SET n = n + ?, total = total + ?",
                   (len(lengths), sum(n for _, n in lengths)))


def unindex(db: sqlite3.Connection, ids: list[int]) -> None:
    for sid in ids:
        row = db.execute("SELECT len FROM keyword_lengths WHERE id = ?", (sid,)).fetchone()
        if row is None:
            continue
        db.execute("DELETE FROM keyword_index WHERE rowid = ?", (sid,))
        db.execute("DELETE FROM keyword_lengths WHERE id = ?", (sid,))
        db.execute("UPDATE keyword_corpus SET n = n - 1, total = total - ?", (row[0],))


def search(store, query: str, n: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
    """The ``n`` best (statement id, BM25 score) for ``query`` among the statements passing ``filters``."""
    words = list(dict.fromkeys(terms([query])[0]))
    if not words:
        return []
    with store._tx(write=False) as db:
        count, total = db.execute("SELECT n, total FROM keyword_corpus").fetchone()
        if not count:
            return []
        df = dict(db.execute(f"SELECT term, doc FROM keyword_terms WHERE term IN ({','.join('?' * len(words))})",
                             words).fetchall())
        weights = [(w, math.log(1 + (count - df[w] + 0.5) / (df[w] + 0.5))) for w in words if df.get(w)]
        if not weights:
            return []
        # one branch per word: FTS5's vocabulary view seeks a single term, and each branch counts its
        # occurrences per statement (the term frequency)
        per_word = " UNION ALL ".join("SELECT doc, COUNT(*) AS tf, ? AS idf FROM keyword_occurrences"
                                      " WHERE term = ? GROUP BY doc" for _ in weights)
        args: list = [x for w, idf in weights for x in (idf, w)]
        join, where = "", ""
        if filters:
            clause, filter_args = store._filter_clause(filters)
            join, where = " JOIN statements s ON s.id = o.doc", f" WHERE {clause}"
            args += filter_args
        rows = db.execute(
            f"SELECT o.doc, SUM(o.idf * o.tf * {K1 + 1} / (o.tf + {K1} * ({1 - B} + {B} * l.len / ?))) AS score"
            f" FROM ({per_word}) o JOIN keyword_lengths l ON l.id = o.doc{join}{where}"
            " GROUP BY o.doc ORDER BY score DESC, o.doc LIMIT ?",
            [max(total / count, 1.0), *args, n]).fetchall()  # placeholders in the order they appear
    return [(int(r[0]), float(r[1])) for r in rows]
