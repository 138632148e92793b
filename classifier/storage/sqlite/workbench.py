"""The analyst workbench's queries: copy signatures, counts for trends and organisation tables, organisation
suggestions and paged reads of the whole corpus, in the SQLite store."""

from __future__ import annotations

from classifier.storage.records import Filters, Statement, organisation_key


def _spellings(db, keys: list[str]) -> dict[str, str]:
    """The name each organisation key is shown by: its most common spelling (the first in order on a tie)."""
    best: dict[str, tuple[int, str]] = {}
    for i in range(0, len(keys), 900):
        chunk = keys[i:i + 900]
        for key, name, n in db.execute(
                "SELECT organisation_key, organisation, COUNT(*) FROM statements WHERE organisation_key IN"
                f" ({','.join('?' * len(chunk))}) GROUP BY organisation_key, organisation", chunk):
            if key not in best or (-n, name) < (-best[key][0], best[key][1]):
                best[key] = (n, name)
    return {k: name for k, (_, name) in best.items()}


class WorkbenchMixin:
    """Mixed into SQLiteStore, whose ``_tx``, ``_filter_clause`` and ``get`` it uses."""

    # -- copy signatures (classifier/search/copies.py) ----------------------------------------------------------
    def reset_copy_signatures(self, version: str) -> None:
        """Drop every stored signature (they were made by another method) and record ``version``."""
        with self._tx() as db:
            db.execute("DELETE FROM copy_bands")
            db.execute("DELETE FROM copy_signatures")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('copy_signatures', ?)", (version,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('copy_signatures_seq', '0')")

    def put_copy_signatures(self, rows: list[tuple[int, bytes, str, list[int]]], seq: int) -> None:
        """Store (statement id, minhash bytes, numbers, band hashes) rows and the change sequence they reach.

        A statement deleted meanwhile is skipped (its signature would point at nothing); a statement signed by
        another process meanwhile is signed again with the same values."""
        with self._tx() as db:
            for sid, minhash, numbers, bands in rows:
                if db.execute("SELECT 1 FROM statements WHERE id=?", (sid,)).fetchone() is None:
                    continue
                db.execute("INSERT OR REPLACE INTO copy_signatures VALUES (?,?,?)", (sid, minhash, numbers))
                db.execute("DELETE FROM copy_bands WHERE statement_id=?", (sid,))
                db.executemany("INSERT INTO copy_bands VALUES (?,?)", [(b, sid) for b in bands])
            row = db.execute("SELECT value FROM meta WHERE key='copy_signatures_seq'").fetchone()
            if row is None or int(row["value"]) < seq:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('copy_signatures_seq', ?)", (str(seq),))

    def copy_candidates(self, ids: list[int]) -> dict[int, set[int]]:
        """For each id, the other statements sharing at least one LSH band with it."""
        out: dict[int, set[int]] = {i: set() for i in ids}
        with self._tx(write=False) as db:
            for i in range(0, len(ids), 900):
                chunk = ids[i:i + 900]
                for r in db.execute(
                        "SELECT DISTINCT a.statement_id, b.statement_id FROM copy_bands a JOIN copy_bands b"
                        " ON b.band_hash = a.band_hash AND b.statement_id != a.statement_id"
                        f" WHERE a.statement_id IN ({','.join('?' * len(chunk))})", chunk):
                    out[r[0]].add(r[1])
        return out

    def copy_signatures(self, ids: list[int]) -> dict[int, tuple[bytes, str]]:
        """(minhash bytes, numbers) of each id that has a signature."""
        out = {}
        with self._tx(write=False) as db:
            for i in range(0, len(ids), 900):
                chunk = ids[i:i + 900]
                for r in db.execute("SELECT statement_id, minhash, numbers FROM copy_signatures WHERE statement_id"
                                    f" IN ({','.join('?' * len(chunk))})", chunk):
                    out[r[0]] = (r[1], r[2])
        return out

    def texts_of(self, ids: list[int]) -> dict[int, str]:
        out = {}
        with self._tx(write=False) as db:
            for i in range(0, len(ids), 900):
                chunk = ids[i:i + 900]
                for r in db.execute(f"SELECT id, text FROM statements WHERE id IN ({','.join('?' * len(chunk))})",
                                    chunk):
                    out[r[0]] = r[1]
        return out

    def dates_of(self, ids: list[int]) -> dict[int, str | None]:
        out = {}
        with self._tx(write=False) as db:
            for i in range(0, len(ids), 900):
                chunk = ids[i:i + 900]
                for r in db.execute(f"SELECT id, date FROM statements WHERE id IN ({','.join('?' * len(chunk))})",
                                    chunk):
                    out[r[0]] = r[1]
        return out

    def passing(self, ids: list[int], filters: Filters) -> set[int]:
        """Which of ``ids`` pass ``filters``."""
        if not filters:
            return set(ids)
        where, args = self._filter_clause(filters)
        out: set[int] = set()
        with self._tx(write=False) as db:
            for i in range(0, len(ids), 500):
                chunk = ids[i:i + 500]
                out.update(r[0] for r in db.execute(
                    f"SELECT s.id FROM statements s WHERE {where} AND s.id IN ({','.join('?' * len(chunk))})",
                    [*args, *chunk]))
        return out

    # -- counts for trends and organisation tables (classifier/analysis/trends.py) ------------------------------
    def date_counts(self, filters: Filters) -> list[tuple[str | None, int]]:
        """(stored date or None, number of statements) for the statements passing ``filters``."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False) as db:
            return [(r[0], r[1]) for r in db.execute(
                f"SELECT s.date, COUNT(*) FROM statements s WHERE {where} GROUP BY s.date ORDER BY s.date", args)]

    def theme_date_counts(self, filters: Filters) -> list[tuple[str, str | None, int]]:
        """(theme, stored date or None, number of statements tagged with it) over the statements passing
        ``filters``."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False) as db:
            return [(r[0], r[1], r[2]) for r in db.execute(
                "SELECT t.theme, s.date, COUNT(*) FROM statements s JOIN statement_themes t ON t.statement_id = s.id"
                f" WHERE {where} GROUP BY t.theme, s.date", args)]

    def organisation_theme_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        """(organisation name, theme or '' for all its statements, count) over the statements passing
        ``filters``; an organisation written several ways (case, spacing) is one, shown by its first spelling."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False) as db:
            totals = db.execute(f"SELECT s.organisation_key, '', COUNT(*) FROM statements s WHERE {where}"
                                " AND s.organisation_key IS NOT NULL GROUP BY s.organisation_key", args).fetchall()
            themed = db.execute(
                "SELECT s.organisation_key, t.theme, COUNT(*) FROM statements s JOIN statement_themes t"
                f" ON t.statement_id = s.id WHERE {where} AND s.organisation_key IS NOT NULL"
                " GROUP BY s.organisation_key, t.theme", args).fetchall()
            names = _spellings(db, [r[0] for r in totals])
        return [(names[r[0]], r[1], r[2]) for r in [*totals, *themed]]

    def organisation_name(self, name: str) -> str | None:
        """The stored spelling of the organisation ``name`` matches (case and spacing ignored), or None."""
        key = organisation_key(name)
        with self._tx(write=False) as db:
            return _spellings(db, [key]).get(key) if key else None

    def organisation_suggestions(self, text: str, limit: int) -> list[dict]:
        """Organisations whose name contains ``text`` (case and spacing ignored): names starting with it first,
        then by statement count."""
        key = organisation_key(text) or ""
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._tx(write=False) as db:
            rows = db.execute(
                "SELECT organisation_key AS okey, COUNT(*) AS n, MIN(date) AS first, MAX(date) AS last,"
                " organisation_key LIKE ? ESCAPE '\\' AS starts FROM statements"
                " WHERE organisation_key LIKE ? ESCAPE '\\' GROUP BY organisation_key"
                " ORDER BY starts DESC, n DESC, okey LIMIT ?",
                (pattern[1:], pattern, limit)).fetchall()
            names = _spellings(db, [r["okey"] for r in rows])
        return [{"name": names[r["okey"]], "statements": r["n"], "first_date": r["first"], "last_date": r["last"]}
                for r in rows]

    # -- the corpus, paged (classifier/exports/) ----------------------------------------------------------------
    def count_statements(self, filters: Filters) -> int:
        where, args = self._filter_clause(filters)
        with self._tx(write=False) as db:
            return db.execute(f"SELECT COUNT(*) FROM statements s WHERE {where}", args).fetchone()[0]

    def page_statements(self, filters: Filters, offset: int = 0, limit: int = 100,
                        after: int = 0) -> list[Statement]:
        """Statements passing ``filters`` in id order, with their themes: ``limit`` of them after skipping
        ``offset``, among those with an id above ``after`` (keyset paging: a whole-corpus export walks by
        ``after`` and never re-reads the rows it skipped)."""
        where, args = self._filter_clause(filters)
        with self._tx(write=False) as db:
            ids = [r[0] for r in db.execute(f"SELECT s.id FROM statements s WHERE {where} AND s.id > ?"
                                            " ORDER BY s.id LIMIT ? OFFSET ?", [*args, after, limit, offset])]
        found = self.get(ids)
        return [found[i] for i in ids if i in found]
