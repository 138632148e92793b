"""The analyst workbench's queries (copy signatures, counts for trends and organisation tables, organisation
suggestions, paged reads of the corpus), in the PostgreSQL store. Same contracts as
``storage/sqlite/workbench.py``."""

from __future__ import annotations

import psycopg

from classifier.storage.records import Filters, Statement, organisation_key


def _spellings(cur, keys: list[str]) -> dict[str, str]:
    """The name each organisation key is shown by: its most common spelling (the first in order on a tie)."""
    if not keys:
        return {}
    return {r[0]: r[1] for r in cur.execute(
        "SELECT DISTINCT ON (organisation_key) organisation_key, organisation FROM (SELECT organisation_key,"
        " organisation, COUNT(*) AS n FROM statements WHERE organisation_key = ANY(%s) GROUP BY 1, 2) g"
        " ORDER BY organisation_key, n DESC, organisation", (list(keys),))}


class WorkbenchMixin:
    """Mixed into PostgresStore, whose ``_tx``, ``_put_meta``, ``_filter_clause`` and ``get`` it uses."""

    # -- copy signatures (classifier/search/copies.py) ----------------------------------------------------------
    def reset_copy_signatures(self, version: str) -> None:
        """Drop every stored signature (they were made by another method) and record ``version``."""
        with self._tx() as cur:
            cur.execute("DELETE FROM copy_bands")
            cur.execute("DELETE FROM copy_signatures")
            self._put_meta(cur, "copy_signatures", version)
            self._put_meta(cur, "copy_signatures_seq", "0")

    def put_copy_signatures(self, rows: list[tuple[int, bytes, str, list[int]]], seq: int) -> None:
        """Store (statement id, minhash bytes, numbers, band hashes) rows and the change sequence they reach;
        a statement deleted meanwhile is skipped."""
        with self._tx() as cur:
            if rows:
                ids = [sid for sid, _, _, _ in rows]
                present = {r["id"] for r in cur.execute("SELECT id FROM statements WHERE id = ANY(%s) FOR SHARE",
                                                        (ids,))}
                rows = [r for r in rows if r[0] in present]
            if rows:
                cur.executemany("INSERT INTO copy_signatures VALUES (%s, %s, %s) ON CONFLICT (statement_id) DO UPDATE"
                                " SET minhash = EXCLUDED.minhash, numbers = EXCLUDED.numbers",
                                [(sid, minhash, numbers) for sid, minhash, numbers, _ in rows])
                cur.execute("DELETE FROM copy_bands WHERE statement_id = ANY(%s)", ([r[0] for r in rows],))
                cur.executemany("INSERT INTO copy_bands VALUES (%s, %s)",
                                [(b, sid) for sid, _, _, bands in rows for b in bands])
            cur.execute("INSERT INTO meta (key, value) VALUES ('copy_signatures_seq', %s) ON CONFLICT (key) DO UPDATE"
                        " SET value = EXCLUDED.value WHERE meta.value::bigint < EXCLUDED.value::bigint", (str(seq),))

    def copy_candidates(self, ids: list[int]) -> dict[int, set[int]]:
        """For each id, the other statements sharing at least one LSH band with it."""
        out: dict[int, set[int]] = {i: set() for i in ids}
        if ids:
            with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
                for a, b in cur.execute(
                        "SELECT DISTINCT a.statement_id, b.statement_id FROM copy_bands a JOIN copy_bands b"
                        " ON b.band_hash = a.band_hash AND b.statement_id != a.statement_id"
                        " WHERE a.statement_id = ANY(%s)", ([int(i) for i in ids],)):
                    out[a].add(b)
        return out

    def copy_signatures(self, ids: list[int]) -> dict[int, tuple[bytes, str]]:
        """(minhash bytes, numbers) of each id that has a signature."""
        if not ids:
            return {}
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return {r[0]: (bytes(r[1]), r[2]) for r in cur.execute(
                "SELECT statement_id, minhash, numbers FROM copy_signatures WHERE statement_id = ANY(%s)",
                ([int(i) for i in ids],))}

    def texts_of(self, ids: list[int]) -> dict[int, str]:
        if not ids:
            return {}
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return {r[0]: r[1] for r in cur.execute("SELECT id, text FROM statements WHERE id = ANY(%s)",
                                                     ([int(i) for i in ids],))}

    def dates_of(self, ids: list[int]) -> dict[int, str | None]:
        if not ids:
            return {}
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return {r[0]: r[1] for r in cur.execute("SELECT id, date FROM statements WHERE id = ANY(%s)",
                                                     ([int(i) for i in ids],))}

    def passing(self, ids: list[int], filters: Filters) -> set[int]:
        """Which of ``ids`` pass ``filters``."""
        if not filters:
            return set(ids)
        if not ids:
            return set()
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return {r[0] for r in cur.execute(f"SELECT s.id FROM statements s WHERE {where} AND s.id = ANY(%s)",
                                              [*args, [int(i) for i in ids]])}

    # -- counts for trends and organisation tables (classifier/analysis/trends.py) ------------------------------
    def date_counts(self, filters: Filters) -> list[tuple[str | None, int]]:
        """(stored date or None, number of statements) for the statements passing ``filters``."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            # NULLS FIRST: SQLite sorts NULL before every value
            return [(r[0], r[1]) for r in cur.execute(
                f"SELECT s.date, COUNT(*) FROM statements s WHERE {where} GROUP BY s.date ORDER BY s.date NULLS FIRST",
                args)]

    def theme_date_counts(self, filters: Filters) -> list[tuple[str, str | None, int]]:
        """(theme, stored date or None, number of statements tagged with it) over the statements passing
        ``filters``."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return [(r[0], r[1], r[2]) for r in cur.execute(
                "SELECT t.theme, s.date, COUNT(*) FROM statements s JOIN statement_themes t ON t.statement_id = s.id"
                f" WHERE {where} GROUP BY t.theme, s.date ORDER BY t.theme, s.date NULLS FIRST", args)]

    def organisation_theme_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        """(organisation name, theme or '' for all its statements, count) over the statements passing
        ``filters``; an organisation written several ways (case, spacing) is one, shown by its usual spelling."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            totals = cur.execute(f"SELECT s.organisation_key, '', COUNT(*) FROM statements s WHERE {where}"
                                 " AND s.organisation_key IS NOT NULL GROUP BY s.organisation_key ORDER BY s.organisation_key",
                                 args).fetchall()
            themed = cur.execute(
                "SELECT s.organisation_key, t.theme, COUNT(*) FROM statements s JOIN statement_themes t"
                f" ON t.statement_id = s.id WHERE {where} AND s.organisation_key IS NOT NULL"
                " GROUP BY s.organisation_key, t.theme ORDER BY s.organisation_key, t.theme", args).fetchall()
            names = _spellings(cur, [r[0] for r in totals])
        return [(names[r[0]], r[1], r[2]) for r in [*totals, *themed]]

    def organisation_name(self, name: str) -> str | None:
        """The stored spelling of the organisation ``name`` matches (case and spacing ignored), or None."""
        key = organisation_key(name)
        if not key:
            return None
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return _spellings(cur, [key]).get(key)

    def organisation_suggestions(self, text: str, limit: int) -> list[dict]:
        """Organisations whose name contains ``text`` (case and spacing ignored): names starting with it first,
        then by statement count."""
        key = organisation_key(text) or ""
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            rows = cur.execute(
                "SELECT organisation_key, COUNT(*) AS n, MIN(date), MAX(date),"
                " organisation_key LIKE %s ESCAPE '\\' AS starts FROM statements"
                " WHERE organisation_key LIKE %s ESCAPE '\\' GROUP BY organisation_key"
                " ORDER BY starts DESC, n DESC, organisation_key LIMIT %s", (pattern[1:], pattern, limit)).fetchall()
            names = _spellings(cur, [r[0] for r in rows])
        return [{"name": names[r[0]], "statements": r[1], "first_date": r[2], "last_date": r[3]} for r in rows]

    # -- the corpus, paged (classifier/exports/) ----------------------------------------------------------------
    def count_statements(self, filters: Filters) -> int:
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return cur.execute(f"SELECT COUNT(*) FROM statements s WHERE {where}", args).fetchone()[0]

    def page_statements(self, filters: Filters, offset: int = 0, limit: int = 100,
                        after: int = 0) -> list[Statement]:
        """Statements passing ``filters`` in id order, with their themes: ``limit`` of them after skipping
        ``offset``, among those with an id above ``after`` (keyset paging)."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            ids = [r[0] for r in cur.execute(f"SELECT s.id FROM statements s WHERE {where} AND s.id > %s"
                                             " ORDER BY s.id LIMIT %s OFFSET %s", [*args, after, limit, offset])]
        found = self.get(ids)
        return [found[i] for i in ids if i in found]
