"""Keyword search in the SQLite store: postings written in the same transaction as the statements, so a statement
is findable by keyword the moment it is committed and no write ever triggers a rebuild (issue 13: the in-memory
BM25 index this replaces took 3.7 s to rebuild after a write at 100k statements).

Each statement's index terms (``classifier/text/terms.py``: its title, organisation and text, stemmed, stop words
out) become one row per distinct term in ``keyword_postings``: the term frequency and the term's BM25 weight
without idf, tf (k1 + 1) / (tf + k1 (1 - b + b len / avglen)), with the average length as it stood when the row was
written. Ranking is BM25 as bm25s and the PostgreSQL backend compute it (k1 1.5, b 0.75, Lucene's idf, which stays
positive for common words, unlike FTS5's ``bm25()``), in the same two steps as the PostgreSQL backend, so a
query reads a bounded number of rows however common its words:

1. each query word lists its ``DEPTH`` statements of highest weight (an index scan in weight order), and each
   candidate scores the sum of idf x weight over the words that listed it;
2. the best ``RESCORE`` candidates get their exact BM25 (their rows found by primary key), today's average length.

A word in at most ``DEPTH`` statements is listed whole, so on a corpus that small the ranking is exact. With
filters that at most ``EXACT_LIMIT`` statements pass, each of them is scored exactly instead; otherwise the
lists are read with the filter applied, so k hits come back whenever k statements match.
"""

from __future__ import annotations

import math
import sqlite3
from collections import Counter

from classifier.storage.records import Filters
from classifier.text.terms import statement_terms, terms

K1, B = 1.5, 0.75
DEPTH = 1000
RESCORE = 200
EXACT_LIMIT = 10_000

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS keyword_postings (term TEXT NOT NULL, statement_id INTEGER NOT NULL,"
    " tf INTEGER NOT NULL, impact REAL NOT NULL, PRIMARY KEY (statement_id, term)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS keyword_postings_impact ON keyword_postings (term, impact DESC, statement_id)",
    "CREATE TABLE IF NOT EXISTS keyword_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS keyword_lengths (id INTEGER PRIMARY KEY, len INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS keyword_corpus (one INTEGER PRIMARY KEY CHECK (one = 1), n INTEGER NOT NULL,"
    " total INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO keyword_corpus VALUES (1, 0, 0)",
]
_BACKFILL_BATCH = 5000


def create_and_backfill(db: sqlite3.Connection) -> None:
    """Migration 2: the tables, with the postings of every statement already stored."""
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


def _weight(tf: int, length: int, avg: float) -> float:
    return tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avg))


def index(db: sqlite3.Connection, rows: list[tuple[int, str | None, str | None, str]]) -> None:
    """Add the postings of (id, title, organisation, text) rows, inside the caller's transaction."""
    if not rows:
        return
    found = [t.split() for t in statement_terms([(title, org, text) for _, title, org, text in rows])]
    db.execute("UPDATE keyword_corpus SET n = n + ?, total = total + ?", (len(rows), sum(map(len, found))))
    count, total = db.execute("SELECT n, total FROM keyword_corpus").fetchone()
    avg = max(total / max(count, 1), 1.0)
    postings, df = [], Counter()
    for (sid, *_), words in zip(rows, found):
        tfs = Counter(words)
        df.update(tfs.keys())
        postings += [(term, sid, tf, _weight(tf, len(words), avg)) for term, tf in tfs.items()]
    db.executemany("INSERT INTO keyword_postings VALUES (?, ?, ?, ?)", postings)
    db.executemany("INSERT INTO keyword_lengths VALUES (?, ?)", [(sid, len(w)) for (sid, *_), w in zip(rows, found)])
    db.executemany("INSERT INTO keyword_terms VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET df = df + excluded.df",
                   sorted(df.items()))


def unindex(db: sqlite3.Connection, ids: list[int]) -> None:
    """Remove the postings of deleted statements, inside the caller's transaction."""
    for sid in ids:
        row = db.execute("SELECT len FROM keyword_lengths WHERE id = ?", (sid,)).fetchone()
        if row is None:
            continue
        db.execute("UPDATE keyword_terms SET df = df - 1 WHERE term IN"
                   " (SELECT term FROM keyword_postings WHERE statement_id = ?)", (sid,))
        db.execute("DELETE FROM keyword_postings WHERE statement_id = ?", (sid,))
        db.execute("DELETE FROM keyword_lengths WHERE id = ?", (sid,))
        db.execute("UPDATE keyword_corpus SET n = n - 1, total = total - ?", (row[0],))


def search(store, query: str, n: int, filters: Filters = Filters()) -> list[tuple[int, float]]:
    """The ``n`` best (statement id, BM25 score) for ``query`` among the statements passing ``filters``."""
    words = list(dict.fromkeys(terms([query])[0]))
    if not words:
        return []
    with store._tx(write=False) as db:  # one read transaction: statistics and postings from one point
        count, total = db.execute("SELECT n, total FROM keyword_corpus").fetchone()
        if not count:
            return []
        avg = max(total / count, 1.0)
        df = dict(db.execute(f"SELECT term, df FROM keyword_terms WHERE term IN ({','.join('?' * len(words))})",
                             words).fetchall())
        idf = {w: math.log(1 + (count - df[w] + 0.5) / (df[w] + 0.5)) for w in words if df.get(w, 0) > 0}
        if not idf:
            return []
        where, where_args = store._filter_clause(filters) if filters else ("1=1", [])
        exact = bool(filters) and db.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM statements s WHERE {where} LIMIT ?)",
            [*where_args, EXACT_LIMIT + 1]).fetchone()[0] <= EXACT_LIMIT
        if exact:
            ids = [r[0] for r in db.execute(f"SELECT s.id FROM statements s WHERE {where}", where_args)]
        else:
            lists = " UNION ALL ".join(
                "SELECT * FROM (SELECT p.statement_id AS id, ? * p.impact AS part FROM keyword_postings p"
                + (" JOIN statements s ON s.id = p.statement_id" if filters else "")
                + f" WHERE p.term = ? AND {where} ORDER BY p.impact DESC, p.statement_id LIMIT ?)" for _ in idf)
            args = [x for w, weight in idf.items() for x in (weight, w, *where_args, max(DEPTH, n))]
            ids = [r[0] for r in db.execute(f"SELECT id FROM ({lists}) GROUP BY id ORDER BY SUM(part) DESC, id"
                                            " LIMIT ?", [*args, max(RESCORE, n)])]
        scores = _exact(db, ids, idf, avg)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:n]


def _exact(db: sqlite3.Connection, ids: list[int], idf: dict, avg: float) -> dict[int, float]:
    """The exact BM25 of each statement in ``ids`` that has a query word (rows found by primary key)."""
    scores: dict[int, float] = {}
    marks = ",".join("?" * len(idf))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for sid, term, tf, length in db.execute(
                f"SELECT p.statement_id, p.term, p.tf, l.len FROM keyword_postings p JOIN keyword_lengths l"
                f" ON l.id = p.statement_id WHERE p.statement_id IN ({','.join('?' * len(chunk))})"
                f" AND p.term IN ({marks})", [*chunk, *idf]):
            scores[sid] = scores.get(sid, 0.0) + idf[term] * _weight(tf, length, avg)
    return scores
