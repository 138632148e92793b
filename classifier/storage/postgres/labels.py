"""Analysts' labelled examples and corrections, in the PostgreSQL store. Same contracts as
``storage/sqlite/labels.py``."""

from __future__ import annotations

import json

from classifier.errors import NotFound
from classifier.storage.records import Label, check_int, is_row_id

from classifier.storage.sqlite.store_utils import _now


def _label(r) -> Label:
    return Label(r["id"], r["text"], tuple(json.loads(r["themes"])), r["source"], r["statement_id"], r["name"],
                 r["created"], r["updated"])


class LabelsMixin:
    """Label rows; mixed into PostgresStore, whose ``_tx`` it uses."""

    def add_labels(self, examples: list[tuple[str, list[str], str, int | None]], name: str | None = None) -> int:
        """Store (text, themes, source, statement_id) examples, given by ``name``, in one transaction; returns
        how many."""
        for _, _, _, sid in examples:
            if sid is not None:
                check_int(sid, "statement_id")
        now = _now()
        if not examples:
            return 0
        with self._tx() as cur:
            cur.executemany("INSERT INTO labels (text, themes, source, statement_id, created, name)"
                       " VALUES (%s, %s, %s, %s, %s, %s)", [(" ".join(t.split()), json.dumps(th), src, sid, now, name)
                                          for t, th, src, sid in examples])
        return len(examples)

    def labels(self) -> list[dict]:
        """Every stored label, oldest first."""
        with self._tx(write=False) as cur:
            rows = cur.execute("SELECT * FROM labels ORDER BY id").fetchall()
        return [_label(r).to_dict() for r in rows]

    def list_labels(self, statement_id: int | None = None, offset: int = 0, limit: int = 100) -> tuple[list[Label], int]:
        """(a page of labels, newest first, of one statement when given; how many match in all)."""
        where, args = ("WHERE statement_id = %s", [statement_id]) if statement_id is not None else ("", [])
        with self._tx(write=False) as cur:
            total = cur.execute(f"SELECT COUNT(*) AS n FROM labels {where}", args).fetchone()["n"]
            rows = cur.execute(f"SELECT * FROM labels {where} ORDER BY id DESC LIMIT %s OFFSET %s",
                              [*args, limit, offset]).fetchall()
        return [_label(r) for r in rows], total

    def get_label(self, label_id: int) -> Label:
        if not is_row_id(label_id):
            raise NotFound(f"no label {label_id}")
        with self._tx(write=False) as cur:
            row = cur.execute("SELECT * FROM labels WHERE id = %s", (label_id,)).fetchone()
        if row is None:
            raise NotFound(f"no label {label_id}")
        return _label(row)

    def update_label(self, label_id: int, themes: list[str], name: str | None) -> Label:
        """Replace a label's themes and who gave them; NotFound for an unknown id."""
        if not is_row_id(label_id):
            raise NotFound(f"no label {label_id}")
        with self._tx() as cur:
            cur.execute("UPDATE labels SET themes = %s, name = %s, updated = %s WHERE id = %s",
                        (json.dumps(list(themes)), name, _now(), label_id))
            if cur.rowcount == 0:
                raise NotFound(f"no label {label_id}")
        return self.get_label(label_id)

    def delete_label(self, label_id: int) -> None:
        if not is_row_id(label_id):
            raise NotFound(f"no label {label_id}")
        with self._tx() as cur:
            if cur.execute("DELETE FROM labels WHERE id = %s", (label_id,)).rowcount == 0:
                raise NotFound(f"no label {label_id}")
