"""The statement store: SQLite (WAL) as the source of truth for statements, their themes and vectors.

Every change is also appended to a ``changes`` log with a monotonically increasing sequence number, so each
process holding a derived index (FAISS, BM25) can catch up on exactly what it missed: a write acknowledged by
one worker is visible to a search in any other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.errors import InvalidInput, NotFound

SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    organisation TEXT,
    organisation_key TEXT,
    date TEXT,
    title TEXT,
    url TEXT,
    document_id TEXT,
    paragraph_index INTEGER,
    char_start INTEGER,
    char_end INTEGER,
    content_hash TEXT NOT NULL UNIQUE,
    scores TEXT NOT NULL DEFAULT '{}',
    model_version TEXT,
    vector BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_org ON statements (organisation_key);
CREATE INDEX IF NOT EXISTS statements_date ON statements (date);
CREATE TABLE IF NOT EXISTS statement_themes (
    statement_id INTEGER NOT NULL REFERENCES statements (id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (statement_id, theme)
);
CREATE INDEX IF NOT EXISTS statement_themes_theme ON statement_themes (theme, statement_id);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    statement_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    themes TEXT NOT NULL,
    source TEXT NOT NULL,
    statement_id INTEGER,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    model TEXT,
    report TEXT,
    pid INTEGER,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""

JOB_STATES = ("queued", "running", "succeeded", "failed", "rejected")

# SQLite integers are signed 64-bit: a larger Python int fails at the bind with OverflowError.
MAX_ID = 2 ** 63 - 1

# Dates are ISO 8601 at the precision the source gives: YYYY-MM-DD, or YYYY-MM / YYYY where a month or a
# year is all that is known. They are stored as given (so a partial date is never shown as a made-up day),
# and a partial date stands for every day it covers: a date filter keeps a statement whose period overlaps
# [since, until], with a partial since starting on its first day and a partial until ending on its last.
_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


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


def check_int(value, field_name: str, low: int = 1, high: int = MAX_ID) -> int:
    """``value`` if it is an integer (not a bool) in ``low..high``; otherwise InvalidInput naming the field.

    Every integer taken from a request passes here before it can reach SQLite; the default range is that of
    a row id (1..2^63-1).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"'{field_name}' must be an integer", {"field": field_name})
    if not low <= value <= high:
        raise InvalidInput(f"'{field_name}' must be between {low} and {high}",
                           {"field": field_name, "minimum": low, "maximum": high})
    return value


def is_row_id(value) -> bool:
    """Whether ``value`` could be a row id at all; anything else cannot exist (a 404, not a bind error)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# Bumped whenever organisation_key changes, so that stored keys are recomputed once (Store.__init__).
ORGANISATION_KEY_VERSION = "2"


def organisation_key(name: str | None) -> str | None:
    """The one way organisation names are matched (stored key, filters, the organisations list): NFKC,
    case-folded, whitespace collapsed, and invisible format characters (direction marks, zero-width spaces,
    soft hyphens) dropped, so "Defect Council", "defect  council" and "Defect Council\u200e" are one name."""
    if name is None:
        return None
    key = normalise("".join(ch for ch in name if unicodedata.category(ch) != "Cf"))
    return key or None


def content_hash(text: str, organisation: str | None) -> str:
    """The dedupe key: the same normalised text from the same organisation is stored once."""
    return hashlib.sha256(f"{normalise(organisation or '')}\0{normalise(text)}".encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class NewStatement:
    text: str
    organisation: str | None = None
    date: str | None = None
    title: str | None = None
    url: str | None = None
    document_id: str | None = None
    paragraph_index: int | None = None
    start: int | None = None
    end: int | None = None


@dataclass
class Statement:
    id: int
    text: str
    organisation: str | None
    date: str | None
    title: str | None
    url: str | None
    document_id: str | None
    paragraph_index: int | None
    start: int | None
    end: int | None
    themes: list = field(default_factory=list)     # [{"id", "score"}] tagged themes, best first
    model_version: str | None = None
    created: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "organisation": self.organisation, "date": self.date,
                "title": self.title, "url": self.url, "document_id": self.document_id,
                "paragraph_index": self.paragraph_index, "start": self.start, "end": self.end,
                "themes": self.themes, "model_version": self.model_version, "created": self.created}


@dataclass
class AddResult:
    ids: list[int]          # one per input, in input order; a duplicate gets the id already stored
    added: int
    duplicates: int


@dataclass(frozen=True)
class Filters:
    themes: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __bool__(self) -> bool:
        return bool(self.themes or self.organisations or self.since or self.until)


class Store:
    """SQLite access. Each call opens a short-lived connection, so one Store is safe across threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._connect()
        try:
            db.executescript(SCHEMA)  # each statement is idempotent; executescript manages its own commit
        finally:
            db.close()
        if self.get_meta("organisation_keys") != ORGANISATION_KEY_VERSION:
            self._rekey_organisations()

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
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
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
        ids, added, dupes = [], 0, 0
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
        with self._tx() as db:
            for item, vec, sc in zip(items, vectors, scores):
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
                self._write_themes(db, sid, sc, thresholds)
                db.execute("INSERT INTO changes (op, statement_id) VALUES ('add', ?)", (sid,))
                ids.append(sid)
                added += 1
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
        """Store new vectors (a re-embedding with another model or backend) and record whose space they are in."""
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
        """(ids, texts) of every statement in id order: what the keyword index is built from."""
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
        sql, args = ["SELECT s.id FROM statements s WHERE 1=1"], []
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
        with self._tx(write=False) as db:
            return [r[0] for r in db.execute(" ".join(sql) + " ORDER BY s.id", args)]

    def organisations(self) -> list[dict]:
        with self._tx(write=False) as db:
            rows = db.execute("SELECT organisation, COUNT(*) AS n, MIN(date) AS first, MAX(date) AS last FROM"
                              " statements WHERE organisation IS NOT NULL GROUP BY organisation_key"
                              " ORDER BY n DESC, organisation").fetchall()
        return [{"name": r["organisation"], "statements": r["n"], "first_date": r["first"], "last_date": r["last"]}
                for r in rows]

    # -- labelled examples (analysts' labels and corrections) --------------------------------------------------
    def add_labels(self, examples: list[tuple[str, list[str], str, int | None]]) -> int:
        """Store (text, themes, source, statement_id) examples in one transaction; returns how many."""
        for _, _, _, sid in examples:
            if sid is not None:
                check_int(sid, "statement_id")
        now = _now()
        with self._tx() as db:
            db.executemany("INSERT INTO labels (text, themes, source, statement_id, created) VALUES (?,?,?,?,?)",
                           [(" ".join(t.split()), json.dumps(th), src, sid, now) for t, th, src, sid in examples])
        return len(examples)

    def labels(self) -> list[dict]:
        """Every stored label, oldest first."""
        with self._tx(write=False) as db:
            rows = db.execute("SELECT * FROM labels ORDER BY id").fetchall()
        return [{"id": r["id"], "text": r["text"], "themes": json.loads(r["themes"]), "source": r["source"],
                 "statement_id": r["statement_id"], "created": r["created"]} for r in rows]

    # -- background jobs ----------------------------------------------------------------------------------------
    def create_job(self, kind: str, params: dict) -> tuple[int | None, int | None]:
        """(new job id, None), or (None, id of the job of this kind already queued or running)."""
        now = _now()
        with self._tx() as db:
            row = db.execute("SELECT id FROM jobs WHERE kind=? AND status IN ('queued', 'running') ORDER BY id",
                             (kind,)).fetchone()
            if row:
                return None, row["id"]
            cur = db.execute("INSERT INTO jobs (kind, status, params, created, updated) VALUES (?, 'queued', ?, ?, ?)",
                             (kind, json.dumps(params), now, now))
            return cur.lastrowid, None

    def update_job(self, job_id: int, **fields) -> None:
        allowed = {"status", "progress", "model", "report", "pid"}
        if set(fields) - allowed:
            raise ValueError(f"unknown job fields {set(fields) - allowed}")
        if "report" in fields and fields["report"] is not None:
            fields["report"] = json.dumps(fields["report"])
        sets = ", ".join(f"{k}=?" for k in fields)
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET {sets}, updated=? WHERE id=?", [*fields.values(), _now(), job_id])

    def get_job(self, job_id: int) -> dict:
        if not is_row_id(job_id):
            raise NotFound(f"no job {job_id}")
        with self._tx(write=False) as db:
            r = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if r is None:
            raise NotFound(f"no job {job_id}")
        return {"id": r["id"], "kind": r["kind"], "status": r["status"], "progress": r["progress"],
                "params": json.loads(r["params"]), "model": r["model"],
                "report": json.loads(r["report"]) if r["report"] else None, "pid": r["pid"],
                "created": r["created"], "updated": r["updated"]}

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
