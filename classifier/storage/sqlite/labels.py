"""Analysts' labelled examples and corrections, in the SQLite store."""

from __future__ import annotations

import json

from classifier.storage.records import check_int

from .store_utils import _now


class LabelsMixin:
    """Label rows; mixed into SQLiteStore, whose ``_tx`` it uses."""

    # -- labelled examples (analysts' labels and corrections) --------------------------------------------------
    def add_labels(self, examples: list[tuple[str, list[str], str, int | None]]) -> int:
        """SQLiteStore (text, themes, source, statement_id) examples in one transaction; returns how many."""
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
