"""The statement store in PostgreSQL: statements, vectors (pgvector), keyword search columns, themes, the
change log and meta values. Documents, labels, jobs and the workbench's queries are mixins beside this module, as in
``storage/sqlite``.

One database serves every worker on every machine: a write has committed when ``add`` returns, and any later
read on any connection sees it (read-your-writes needs nothing more). Connections come from a
``psycopg_pool.ConnectionPool`` opened per store, with the pgvector adapter registered on each.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import psycopg
import psycopg.sql
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from classifier.errors import ConfigError, NotFound
from classifier.storage.records import (ORGANISATION_KEY_VERSION, AddResult, Filters, NewStatement, Statement,
                                        content_hash, is_row_id, organisation_key)
from classifier.storage.sqlite.store_utils import _now
from classifier.text.dates import date_bounds

from .documents import DocumentsMixin
from .jobs import JobsMixin
from .labels import LabelsMixin
from .schema import BM25_B, BM25_K1, CHANGES_LOCK, REKEY_LOCK, SESSION_SETTINGS, migrate
from .workbench import WorkbenchMixin

# What a Statement is read from, over ``statements s``: everything but the vector and the derived search
# columns, and its themes best first, in one row (``statement_of`` makes the Statement). Search reads its hits
# this way, in the query that ranks them.
STATEMENT_SQL = ("s.id, s.text, s.organisation, s.date, s.title, s.url, s.document_id, s.paragraph_index, s.char_start,"
                 " s.char_end, s.model_version, s.created, ARRAY(SELECT t.theme FROM statement_themes t WHERE"
                 " t.statement_id = s.id ORDER BY t.score DESC, t.theme), ARRAY(SELECT t.score FROM statement_themes t"
                 " WHERE t.statement_id = s.id ORDER BY t.score DESC, t.theme)")
STATEMENT_FIELDS = 14


def statement_of(row) -> Statement:
    """The Statement of the ``STATEMENT_FIELDS`` values ``STATEMENT_SQL`` selects."""
    (sid, text, organisation, date, title, url, document_id, paragraph_index, start, end, model_version, created,
     themes, scores) = row
    return Statement(sid, text, organisation, date, title, url, document_id, paragraph_index, start, end,
                     [{"id": t, "score": round(v, 4)} for t, v in zip(themes, scores)], model_version, created)

# Per process: gunicorn runs a few threads per worker, and a few workers per machine share one server.
POOL_MAX = 8

_COLUMNS = ("text, organisation, organisation_key, date, title, url, document_id, paragraph_index, char_start,"
            " char_end, content_hash, scores, model_version, embedding, created")


def _configure(conn: psycopg.Connection) -> None:
    register_vector(conn)
    for name, value in SESSION_SETTINGS.items():
        conn.execute("SELECT set_config(%s, %s, false)", (name, value))
    conn.commit()


def create_schema(url: str, schema: str) -> str:
    """Create ``schema`` in the database at ``url``; returns a URL whose tables live there (search_path
    ``schema, public``, so the vector type in public is still found)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA {}").format(psycopg.sql.Identifier(schema)))
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema},public"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(psycopg.sql.Identifier(schema)))


class PostgresStore(LabelsMixin, JobsMixin, WorkbenchMixin, DocumentsMixin):
    """PostgreSQL access through a connection pool; safe across threads. ``close()`` returns the connections."""

    def __init__(self, url: str, pool_size: int = POOL_MAX):
        self.url = url
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                migrate(conn)
        except psycopg.OperationalError as exc:
            raise ConfigError(f"cannot open the PostgreSQL database: {str(exc).strip()}") from exc
        # min_size 0: no connection is held (or re-opened in the background) while the store is idle.
        self._pool = ConnectionPool(url, min_size=0, max_size=pool_size, open=True, configure=_configure,
                                    check=ConnectionPool.check_connection, name="joinedup")
        if self.get_meta("organisation_keys") != ORGANISATION_KEY_VERSION:
            self._rekey_organisations()

    def close(self) -> None:
        self._pool.close()

    @contextmanager
    def _tx(self, write: bool = True, rows=dict_row):
        """A cursor in one transaction, committed when the block ends (rolled back on an exception). With
        ``write`` false, a cursor whose statements each run on their own (autocommit): one round trip each,
        no BEGIN and COMMIT. Under READ COMMITTED a transaction gives several statements no common snapshot
        anyway; what needs one (locks, ``SET LOCAL``) asks for ``write``."""
        with self._pool.connection() as conn:
            if write:
                with conn.cursor(row_factory=rows) as cur:
                    yield cur
                return
            conn.autocommit = True
            try:
                with conn.cursor(row_factory=rows) as cur:
                    yield cur
            finally:
                conn.autocommit = False

    def _rekey_organisations(self) -> None:
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (REKEY_LOCK,))
            cur.execute("SELECT value FROM meta WHERE key='organisation_keys'")
            row = cur.fetchone()
            if row and row["value"] == ORGANISATION_KEY_VERSION:
                return
            cur.execute("SELECT id, organisation, organisation_key FROM statements WHERE organisation IS NOT NULL")
            stale = [(organisation_key(r["organisation"]), r["id"]) for r in cur.fetchall()
                     if organisation_key(r["organisation"]) != r["organisation_key"]]
            if stale:
                cur.executemany("UPDATE statements SET organisation_key=%s WHERE id=%s", stale)
            self._put_meta(cur, "organisation_keys", ORGANISATION_KEY_VERSION)

    @staticmethod
    def _put_meta(cur, key: str, value: str) -> None:
        cur.execute("INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value ="
                    " EXCLUDED.value", (key, value))

    @staticmethod
    def _log(cur, op: str, ids: list[int]) -> None:
        """Append changes under CHANGES_LOCK, held until commit, so sequence numbers become visible in order;
        and count the statements' words in (or, before a delete, out of) the keyword statistics and postings.
        Call it after the inserts of an add, and before the DELETE of a delete."""
        if not ids:
            return
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGES_LOCK,))
        sign = 1 if op == "add" else -1
        cur.execute("INSERT INTO keyword_stats (lexeme, df) SELECT u.lexeme, %s * COUNT(*) FROM statements s,"
                    " unnest(s.search_text) u WHERE s.id = ANY(%s) GROUP BY u.lexeme ORDER BY u.lexeme"
                    " ON CONFLICT (lexeme) DO UPDATE SET df = keyword_stats.df + EXCLUDED.df", (sign, ids))
        cur.execute("UPDATE keyword_corpus c SET n = c.n + %s * sub.n, total_length = c.total_length + %s * sub.total"
                    " FROM (SELECT COUNT(*) AS n, COALESCE(SUM(length(search_text)), 0) AS total FROM statements"
                    " WHERE id = ANY(%s)) sub", (sign, sign, ids))
        if op == "add":
            # Each word's BM25 weight (without idf) with the average length as it now stands, this batch counted.
            tf = "cardinality(u.positions)"
            cur.execute("INSERT INTO keyword_postings (lexeme, statement_id, tf, len, impact)"
                        f" SELECT u.lexeme, s.id, {tf}, length(s.search_text), {tf} * {BM25_K1 + 1}::float8 / ({tf}"
                        f" + {BM25_K1}::float8 * ({1 - BM25_B}::float8 + {BM25_B}::float8 * length(s.search_text)"
                        " / GREATEST(c.total_length::float8 / GREATEST(c.n, 1), 1))) FROM statements s CROSS JOIN"
                        " LATERAL unnest(s.search_text) u CROSS JOIN keyword_corpus c WHERE s.id = ANY(%s)", (ids,))
        else:
            cur.execute("DELETE FROM keyword_postings WHERE statement_id = ANY(%s)", (ids,))
        cur.executemany("INSERT INTO changes (op, statement_id) VALUES (%s, %s)", [(op, i) for i in ids])

    # -- writes -------------------------------------------------------------------------------------------
    def add(self, items: list[NewStatement], vectors: np.ndarray, scores: list[dict], thresholds: dict,
            model_version: str | None) -> AddResult:
        """Insert statements with their vectors and theme scores in one transaction; returns once committed.

        A statement whose content hash is stored already (by this batch, or by any committed or concurrent
        transaction) gets the stored id and counts as a duplicate."""
        themes = [{t: v for t, v in sc.items() if v >= thresholds.get(t, 1.01)} for sc in scores]
        if not items:
            return AddResult([], 0, 0)
        with self._tx(rows=psycopg.rows.tuple_row) as cur:
            return self._insert_statements(cur, items, vectors, scores, themes, model_version)

    def _insert_statements(self, cur, items: list[NewStatement], vectors: np.ndarray, scores: list[dict],
                           themes: list[dict], model_version: str | None) -> AddResult:
        """Insert statements inside the caller's transaction (``cur`` yields tuples); ``themes`` are the decided
        ones (theme -> score)."""
        now = _now()
        rows, keys = [], []
        for item, vec, sc in zip(items, vectors, scores):
            key = content_hash(item.text, item.organisation)
            keys.append(key)
            rows.append((item.text, item.organisation, organisation_key(item.organisation), item.date, item.title,
                         item.url, item.document_id, item.paragraph_index, item.start, item.end, key, json.dumps(sc),
                         model_version, np.asarray(vec, dtype=np.float32), now))
        if not rows:
            return AddResult([], 0, 0)
        # Known hashes first, so a duplicate takes no id from the sequence (ids stay as SQLite gives them);
        # ON CONFLICT covers a concurrent transaction storing the same text between the two statements.
        known = dict(cur.execute("SELECT content_hash, id FROM statements WHERE content_hash = ANY(%s)",
                                 (keys,)).fetchall())
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            if key not in known:
                first.setdefault(key, i)
        fresh = sorted(first.values())
        new: dict[int, int] = {}   # input position -> new id
        if fresh:
            cur.executemany(f"INSERT INTO statements ({_COLUMNS}) VALUES ({', '.join(['%s'] * 13)}, %b, %s)"
                            " ON CONFLICT (content_hash) DO NOTHING RETURNING id", [rows[i] for i in fresh],
                            returning=True)
            for i in fresh:
                row = cur.fetchone()
                if row is not None:
                    new[i] = row[0]
                cur.nextset()
        raced = [keys[i] for i in fresh if i not in new]
        if raced:
            known.update(cur.execute("SELECT content_hash, id FROM statements WHERE content_hash = ANY(%s)",
                                     (raced,)).fetchall())
        by_hash = {**known, **{keys[i]: sid for i, sid in new.items()}}
        ids = [new.get(i, by_hash[keys[i]]) for i in range(len(keys))]
        theme_rows = [(new[i], t, float(s)) for i in sorted(new) for t, s in themes[i].items()]
        if theme_rows:
            cur.executemany("INSERT INTO statement_themes (statement_id, theme, score) VALUES (%s, %s, %s)",
                            theme_rows)
        self._log(cur, "add", [new[i] for i in sorted(new)])
        return AddResult(ids, len(new), len(ids) - len(new))

    def retag(self, rows: list[tuple[int, dict]], thresholds: dict, model_version: str) -> None:
        """Replace the theme scores of existing statements (after a new model is activated)."""
        if not rows:
            return
        with self._tx() as cur:
            cur.executemany("UPDATE statements SET scores=%s, model_version=%s WHERE id=%s",
                            [(json.dumps(sc), model_version, sid) for sid, sc in rows])
            cur.execute("DELETE FROM statement_themes WHERE statement_id = ANY(%s)", ([sid for sid, _ in rows],))
            theme_rows = [(sid, t, float(s)) for sid, sc in rows for t, s in sc.items()
                          if s >= thresholds.get(t, 1.01)]
            if theme_rows:
                # INSERT ... SELECT skips ids deleted meanwhile, as SQLite's foreign key would refuse them
                cur.executemany("INSERT INTO statement_themes (statement_id, theme, score) SELECT id, %s, %s"
                                " FROM statements WHERE id = %s", [(t, s, sid) for sid, t, s in theme_rows])

    def replace_vectors(self, rows: list[tuple[int, np.ndarray]], embedder: str) -> None:
        """Store new vectors (a re-embedding with another model or backend) and record whose space they are in."""
        with self._tx() as cur:
            if rows:
                cur.executemany("UPDATE statements SET embedding=%b WHERE id=%s",
                                [(np.asarray(v, dtype=np.float32), int(i)) for i, v in rows])
            self._put_meta(cur, "embedder", embedder)

    def delete(self, statement_id: int) -> None:
        if not is_row_id(statement_id):
            raise NotFound(f"no statement {statement_id}")
        with self._tx() as cur:
            if cur.execute("SELECT 1 FROM statements WHERE id=%s FOR UPDATE", (statement_id,)).fetchone() is None:
                raise NotFound(f"no statement {statement_id}")
            self._log(cur, "delete", [statement_id])
            cur.execute("DELETE FROM statements WHERE id=%s", (statement_id,))

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as cur:
            self._put_meta(cur, key, value)

    # -- reads --------------------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._tx(write=False) as cur:
            row = cur.execute("SELECT value FROM meta WHERE key=%s", (key,)).fetchone()
        return row["value"] if row else None

    def count(self) -> int:
        with self._tx(write=False) as cur:
            return cur.execute("SELECT COUNT(*) AS n FROM statements").fetchone()["n"]

    def last_seq(self) -> int:
        with self._tx(write=False) as cur:
            return cur.execute("SELECT COALESCE(MAX(seq), 0) AS seq FROM changes").fetchone()["seq"]

    def changes_since(self, seq: int) -> tuple[int, list[int], list[int]]:
        """(latest seq, ids added since ``seq`` and still present, ids deleted since ``seq``)."""
        with self._tx(write=False) as cur:
            rows = cur.execute("SELECT seq, op, statement_id FROM changes WHERE seq > %s ORDER BY seq",
                               (seq,)).fetchall()
        latest = rows[-1]["seq"] if rows else seq
        state: dict[int, str] = {}
        for r in rows:
            state[r["statement_id"]] = r["op"]
        return latest, [i for i, op in state.items() if op == "add"], [i for i, op in state.items() if op == "delete"]

    def vectors(self, ids: list[int] | None = None, batch: int = 5000):
        """Yield (ids, vectors) batches for the given ids, or for every statement in id order."""
        if ids is None:
            last = 0
            while True:
                with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
                    rows = cur.execute("SELECT id, embedding FROM statements WHERE id > %s ORDER BY id LIMIT %s",
                                       (last, batch), binary=True).fetchall()
                if not rows:
                    return
                last = rows[-1][0]
                yield self._unpack(rows)
        else:
            # Chunks of the given ids as SQLite makes them (900, its bound-parameter budget), each in id order.
            for i in range(0, len(ids), 900):
                with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
                    rows = cur.execute("SELECT id, embedding FROM statements WHERE id = ANY(%s) ORDER BY id",
                                       ([int(x) for x in ids[i:i + 900]],), binary=True).fetchall()
                if rows:
                    yield self._unpack(rows)

    @staticmethod
    def _unpack(rows):
        return (np.array([r[0] for r in rows], dtype=np.int64),
                np.stack([r[1].to_numpy() for r in rows]).astype(np.float32, copy=False))

    def texts(self) -> tuple[list[int], list[str]]:
        """(ids, texts) of every statement in id order."""
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            rows = cur.execute("SELECT id, text FROM statements ORDER BY id").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def id_checksum(self) -> tuple[int, str]:
        """(count, sha256 over sorted ids): what a derived index must match."""
        h = hashlib.sha256()
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            ids = [r[0] for r in cur.execute("SELECT id FROM statements ORDER BY id")]
        for sid in ids:
            h.update(int(sid).to_bytes(8, "little"))
        return len(ids), h.hexdigest()

    def get(self, ids: list[int]) -> dict[int, Statement]:
        wanted = [int(i) for i in ids if is_row_id(i)]
        out: dict[int, Statement] = {}
        if not wanted:
            return out
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            for r in cur.execute(f"SELECT {STATEMENT_SQL} FROM statements s WHERE s.id = ANY(%s)", (wanted,)):
                out[r[0]] = statement_of(r)
        return out

    def get_one(self, statement_id: int) -> Statement:
        if not is_row_id(statement_id):
            raise NotFound(f"no statement {statement_id}")
        found = self.get([statement_id])
        if statement_id not in found:
            raise NotFound(f"no statement {statement_id}")
        return found[statement_id]

    def filter_ids(self, filters: Filters) -> list[int]:
        """Ids of the statements that pass every filter (themes: any of; organisations: any of)."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return [r[0] for r in cur.execute(f"SELECT s.id FROM statements s WHERE {where} ORDER BY s.id", args)]

    @staticmethod
    def _filter_clause(filters: Filters) -> tuple[str, list]:
        """The WHERE clause (over ``statements s``) and its arguments for ``filters``: the one place filters
        become SQL here, shared by search, exports and counts. Dates are compared as SQLite compares them
        (see ``storage/sqlite/store.py``): a stored YYYY-MM or YYYY sorts before every day it covers."""
        sql, args = ["TRUE"], []
        if filters.organisations:
            sql.append("AND s.organisation_key = ANY(%s)")
            args.append([organisation_key(o) or "" for o in filters.organisations])
        if filters.since:
            first = date_bounds(filters.since)[0]
            sql.append("AND (s.date >= %s OR s.date IN (%s, %s))")
            args += [first, first[:7], first[:4]]
        if filters.until:
            sql.append("AND s.date <= %s")
            args.append(date_bounds(filters.until)[1])
        if filters.themes:
            sql.append("AND s.id IN (SELECT statement_id FROM statement_themes WHERE theme = ANY(%s))")
            args.append(list(filters.themes))
        return " ".join(sql), args

    def organisations(self) -> list[dict]:
        with self._tx(write=False) as cur:
            rows = cur.execute(
                "SELECT (array_agg(organisation ORDER BY id DESC))[1] AS organisation, COUNT(*) AS n,"
                " MIN(date) AS first, MAX(date) AS last FROM statements WHERE organisation IS NOT NULL"
                " GROUP BY organisation_key ORDER BY n DESC, organisation").fetchall()
        return [{"name": r["organisation"], "statements": r["n"], "first_date": r["first"], "last_date": r["last"]}
                for r in rows]

    def scores_near_thresholds(self, thresholds: dict, n: int) -> list[tuple[int, float, list[str]]]:
        """(statement id, margin, uncertain themes) for the n unlabelled statements whose scores sit closest to
        thresholds."""
        out = []
        with self._tx(write=False) as cur:
            rows = cur.execute("SELECT id, scores FROM statements s WHERE NOT EXISTS (SELECT 1 FROM labels l"
                               " WHERE l.statement_id = s.id) ORDER BY id").fetchall()
        for r in rows:
            scores = json.loads(r["scores"])
            margins = {t: abs(s - thresholds[t]) for t, s in scores.items() if t in thresholds}
            if not margins:
                continue
            best = min(margins.values())
            uncertain = sorted((t for t, m in margins.items() if m <= max(best, 0.1)), key=margins.get)
            out.append((r["id"], best, uncertain))
        out.sort(key=lambda x: (x[1], x[0]))
        return out[:n]
