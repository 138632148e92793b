"""The statement store: SQLite (WAL) as the source of truth for statements, their themes and vectors.

Every change is also appended to a ``changes`` log with a monotonically increasing sequence number, so each
process holding a derived index (FAISS) can catch up on exactly what it missed: a write acknowledged by
one worker is visible to a search in any other.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from classifier.errors import NotFound
from classifier.storage.records import (ORGANISATION_KEY_VERSION, AddResult, Filters, NewStatement, Statement,
                                        content_hash, is_row_id, organisation_key)
from classifier.text.dates import date_bounds
from classifier.wal import connect_wal

from . import keyword
from .documents import DocumentsMixin
from .jobs import JobsMixin
from .labels import LabelsMixin
from .schema import MIGRATIONS
from .workbench import WorkbenchMixin
from .store_utils import _now



def _statements(script: str):
    """The SQL statements of a script, one at a time (``executescript`` would commit the transaction it is in).
    ``sqlite3.complete_statement`` keeps a trigger's ``BEGIN ... END`` body whole."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


class SQLiteStore(LabelsMixin, JobsMixin, WorkbenchMixin, DocumentsMixin):
    """SQLite access. Each call opens a short-lived connection, so one SQLiteStore is safe across threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._connect()
        try:
            self._migrate(db)
        finally:
            db.close()
        if self.get_meta("organisation_keys") != ORGANISATION_KEY_VERSION:
            self._rekey_organisations()

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        """Apply every migration not yet recorded in ``schema_migrations``, each in its own transaction under
        the write lock, so processes opening the store at once apply each exactly once. Applied versions are
        recorded one by one (not as a high-water mark), so a migration numbered below one already applied is
        still run."""
        db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
        for version, script in MIGRATIONS:
            if db.execute("SELECT 1 FROM schema_migrations WHERE version=?", (version,)).fetchone():
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                if not db.execute("SELECT 1 FROM schema_migrations WHERE version=?", (version,)).fetchone():
                    if callable(script):
                        script(db)
                    else:
                        for statement in _statements(script):
                            db.execute(statement)
                    db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, _now()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _rekey_organisations(self) -> None:
        """Recompute every stored organisation key with the current ``organisation_key`` (once per version)."""
        with self._tx() as db:
            row = db.execute("SELECT value FROM meta WHERE key='organisation_keys'").fetchone()
            if row and row["value"] == ORGANISATION_KEY_VERSION:
                return  # another process did it while this one waited for the write lock
            rows = db.execute("SELECT id, organisation, organisation_key FROM statements"
                              " WHERE organisation IS NOT NULL").fetchall()
            db.executemany("UPDATE statements SET organisation_key=? WHERE id=?",
                           [(organisation_key(r["organisation"]), r["id"]) for r in rows
                            if organisation_key(r["organisation"]) != r["organisation_key"]])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('organisation_keys', ?)", (ORGANISATION_KEY_VERSION,))

    def _connect(self) -> sqlite3.Connection:
        db = connect_wal(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        db.row_factory = sqlite3.Row
        return db

    @contextmanager
    def _tx(self, write: bool = True):
        db = self._connect()
        try:
            if write:
                db.execute("BEGIN IMMEDIATE")
            yield db
            if write:
                db.execute("COMMIT")
        except BaseException:
            if write and db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # -- writes -------------------------------------------------------------------------------------------
    def add(self, items: list[NewStatement], vectors: np.ndarray, scores: list[dict], thresholds: dict,
            model_version: str | None) -> AddResult:
        """Insert statements with their vectors and theme scores in one transaction; returns once committed."""
        themes = [{t: v for t, v in sc.items() if v >= thresholds.get(t, 1.01)} for sc in scores]
        with self._tx() as db:
            return self._insert_statements(db, items, vectors, scores, themes, model_version)

    def _insert_statements(self, db, items: list[NewStatement], vectors: np.ndarray, scores: list[dict],
                           themes: list[dict], model_version: str | None) -> AddResult:
        """Insert statements inside the caller's transaction; ``themes`` are the decided ones (theme -> score)."""
        ids, added, dupes = [], 0, 0
        fresh = []   # (id, title, organisation, text) of the statements new here, for the keyword index
        now = _now()
        for item, vec, sc, th in zip(items, vectors, scores, themes):
            key = content_hash(item.text, item.organisation)
            row = db.execute("SELECT id FROM statements WHERE content_hash=?", (key,)).fetchone()
            if row:
                ids.append(row["id"])
                dupes += 1
                continue
            cur = db.execute(
                "INSERT INTO statements (text, organisation, organisation_key, date, title, url, document_id,"
                " paragraph_index, char_start, char_end, content_hash, scores, model_version, vector, created)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (item.text, item.organisation, organisation_key(item.organisation),
                 item.date, item.title, item.url, item.document_id, item.paragraph_index, item.start, item.end,
                 key, json.dumps(sc), model_version, np.asarray(vec, dtype=np.float32).tobytes(), now))
            sid = cur.lastrowid
            db.execute("DELETE FROM statement_themes WHERE statement_id=?", (sid,))
            db.executemany("INSERT INTO statement_themes VALUES (?,?,?)", [(sid, t, float(v)) for t, v in th.items()])
            db.execute("INSERT INTO changes (op, statement_id) VALUES ('add', ?)", (sid,))
            fresh.append((sid, item.title, item.organisation, item.text))
            ids.append(sid)
            added += 1
        keyword.index(db, fresh)
        return AddResult(ids, added, dupes)

    @staticmethod
    def _write_themes(db, sid: int, scores: dict, thresholds: dict) -> None:
        db.execute("DELETE FROM statement_themes WHERE statement_id=?", (sid,))
        db.executemany("INSERT INTO statement_themes VALUES (?,?,?)",
                       [(sid, t, float(s)) for t, s in scores.items() if s >= thresholds.get(t, 1.01)])

    def retag(self, rows: list[tuple[int, dict]], thresholds: dict, model_version: str) -> None:
        """Replace the theme scores of existing statements (after a new model is activated)."""
        with self._tx() as db:
            for sid, sc in rows:
                db.execute("UPDATE statements SET scores=?, model_version=? WHERE id=?", (json.dumps(sc), model_version, sid))
                self._write_themes(db, sid, sc, thresholds)

    def replace_vectors(self, rows: list[tuple[int, np.ndarray]], embedder: str) -> None:
        """SQLiteStore new vectors (a re-embedding with another model or backend) and record whose space they are in."""
        with self._tx() as db:
            db.executemany("UPDATE statements SET vector=? WHERE id=?",
                           [(np.asarray(v, dtype=np.float32).tobytes(), int(i)) for i, v in rows])
            db.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (embedder,))

    def delete(self, statement_id: int) -> None:
        if not is_row_id(statement_id):
            raise NotFound(f"no statement {statement_id}")
        with self._tx() as db:
            cur = db.execute("DELETE FROM statements WHERE id=?", (statement_id,))
            if cur.rowcount == 0:
                raise NotFound(f"no statement {statement_id}")
            keyword.unindex(db, [statement_id])
            db.execute("INSERT INTO changes (op, statement_id) VALUES ('delete', ?)", (statement_id,))

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- reads --------------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._tx(write=False) as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row["value"] if row else None

    def count(self) -> int:
        with self._tx(write=False) as db:
            return db.execute("SELECT COUNT(*) FROM statements").fetchone()[0]

    def last_seq(self) -> int:
        with self._tx(write=False) as db:
            return db.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]

    def changes_since(self, seq: int) -> tuple[int, list[int], list[int]]:
        """(latest seq, ids added since ``seq`` and still present, ids deleted since ``seq``)."""
        with self._tx(write=False) as db:
            rows = db.execute("SELECT seq, op, statement_id FROM changes WHERE seq > ? ORDER BY seq", (seq,)).fetchall()
        latest = rows[-1]["seq"] if rows else seq
        state: dict[int, str] = {}
        for r in rows:
            state[r["statement_id"]] = r["op"]
        return latest, [i for i, op in state.items() if op == "add"], [i for i, op in state.items() if op == "delete"]

    def vectors(self, ids: list[int] | None = None, batch: int = 5000):
        """Yield (ids, vectors) batches for the given ids, or for every statement in id order."""
        with self._tx(write=False) as db:
            if ids is None:
                last = 0
                while True:
                    rows = db.execute("SELECT id, vector FROM statements WHERE id > ? ORDER BY id LIMIT ?",
                                      (last, batch)).fetchall()
                    if not rows:
                        return
                    last = rows[-1]["id"]
                    yield self._unpack(rows)
            else:
                for i in range(0, len(ids), 900):
                    chunk = ids[i:i + 900]
                    rows = db.execute(f"SELECT id, vector FROM statements WHERE id IN ({','.join('?' * len(chunk))})"
                                      " ORDER BY id", chunk).fetchall()
                    if rows:
                        yield self._unpack(rows)

    @staticmethod
    def _unpack(rows):
        return (np.array([r["id"] for r in rows], dtype=np.int64),
                np.stack([np.frombuffer(r["vector"], dtype=np.float32) for r in rows]))

    def texts(self) -> tuple[list[int], list[str]]:
        """(ids, texts) of every statement in id order."""
        with self._tx(write=False) as db:
            rows = db.execute("SELECT id, text FROM statements ORDER BY id").fetchall()
        return [r["id"] for r in rows], [r["text"] for r in rows]

    def id_checksum(self) -> tuple[int, str]:
        """(count, sha256 over sorted ids): what a derived index must match."""
        h = hashlib.sha256()
        n = 0
        with self._tx(write=False) as db:
            for (sid,) in db.execute("SELECT id FROM statements ORDER BY id"):
                h.update(int(sid).to_bytes(8, "little"))
                n += 1
        return n, h.hexdigest()

    def get(self, ids: list[int]) -> dict[int, Statement]:
        out: dict[int, Statement] = {}
        with self._tx(write=False) as db:
            for i in range(0, len(ids), 900):
                chunk = ids[i:i + 900]
                marks = ",".join("?" * len(chunk))
                for r in db.execute(f"SELECT * FROM statements WHERE id IN ({marks})", chunk):
                    out[r["id"]] = self._statement(r)
                for r in db.execute(f"SELECT statement_id, theme, score FROM statement_themes WHERE statement_id IN"
                                    f" ({marks}) ORDER BY score DESC", chunk):
                    out[r["statement_id"]].themes.append({"id": r["theme"], "score": round(r["score"], 4)})
        return out

    def get_one(self, statement_id: int) -> Statement:
        if not is_row_id(statement_id):
            raise NotFound(f"no statement {statement_id}")
        found = self.get([statement_id])
        if statement_id not in found:
            raise NotFound(f"no statement {statement_id}")
        return found[statement_id]

    @staticmethod
    def _statement(r) -> Statement:
        return Statement(r["id"], r["text"], r["organisation"], r["date"], r["title"], r["url"], r["document_id"],
                         r["paragraph_index"], r["char_start"], r["char_end"], [], r["model_version"], r["created"])

    def filter_ids(self, filters: Filters) -> list[int]:
        """Ids of the statements that pass every filter (themes: any of; organisations: any of)."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False) as db:
            return [r[0] for r in db.execute(f"SELECT s.id FROM statements s WHERE {where} ORDER BY s.id", args)]

    @staticmethod
    def _filter_clause(filters: Filters) -> tuple[str, list]:
        """The WHERE clause (over ``statements s``) and its arguments for ``filters``: the one place filters
        become SQL, shared by searching, exports and counts."""
        sql, args = ["1=1"], []
        if filters.organisations:
            sql.append(f"AND s.organisation_key IN ({','.join('?' * len(filters.organisations))})")
            args += [organisation_key(o) or "" for o in filters.organisations]
        # Overlap with partial dates (see _DATE), as plain string comparisons the date index can serve: a stored
        # YYYY-MM or YYYY sorts before every day it covers, so "date <= last day" is "starts by then", and one
        # still running on the first day is either a later string or that day's own month or year.
        if filters.since:
            first = date_bounds(filters.since)[0]
            sql.append("AND (s.date >= ? OR s.date IN (?, ?))")
            args += [first, first[:7], first[:4]]
        if filters.until:
            sql.append("AND s.date <= ?")
            args.append(date_bounds(filters.until)[1])
        if filters.themes:
            sql.append(f"AND s.id IN (SELECT statement_id FROM statement_themes WHERE theme IN"
                       f" ({','.join('?' * len(filters.themes))}))")
            args += list(filters.themes)
        return " ".join(sql), args

    def organisations(self) -> list[dict]:
        with self._tx(write=False) as db:
            rows = db.execute("SELECT organisation, COUNT(*) AS n, MIN(date) AS first, MAX(date) AS last FROM"
                              " statements WHERE organisation IS NOT NULL GROUP BY organisation_key"
                              " ORDER BY n DESC, organisation").fetchall()
        return [{"name": r["organisation"], "statements": r["n"], "first_date": r["first"], "last_date": r["last"]}
                for r in rows]






    def scores_near_thresholds(self, thresholds: dict, n: int) -> list[tuple[int, float, list[str]]]:
        """(statement id, margin, uncertain themes) for the n unlabelled statements whose scores sit closest to
        thresholds."""
        out = []
        with self._tx(write=False) as db:
            # A statement an analyst has already labelled is settled: offering it again wastes their time.
            for r in db.execute("SELECT id, scores FROM statements WHERE id NOT IN"
                                " (SELECT statement_id FROM labels WHERE statement_id IS NOT NULL)"):
                scores = json.loads(r["scores"])
                margins = {t: abs(s - thresholds[t]) for t, s in scores.items() if t in thresholds}
                if not margins:
                    continue
                best = min(margins.values())
                uncertain = sorted((t for t, m in margins.items() if m <= max(best, 0.1)), key=margins.get)
                out.append((r["id"], best, uncertain))
        out.sort(key=lambda x: (x[1], x[0]))
        return out[:n]
