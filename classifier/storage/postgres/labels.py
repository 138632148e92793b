"""Analysts' labelled examples and corrections, in the PostgreSQL store."""

from __future__ import annotations

import json

from classifier.storage.records import check_int
from classifier.storage.sqlite.store_utils import _now


class LabelsMixin:
    """Label rows; mixed into PostgresStore, whose ``_tx`` it uses."""

    def add_labels(self, examples: list[tuple[str, list[str], str, int | None]]) -> int:
        """Store (text, themes, source, statement_id) examples in one transaction; returns how many."""
        for _, _, _, sid in examples:
            if sid is not None:
                check_int(sid, "statement_id")
        now = _now()
        if examples:
            with self._tx() as cur:
                cur.executemany("INSERT INTO labels (text, themes, source, statement_id, created)"
                                " VALUES (%s, %s, %s, %s, %s)",
                                [(" ".join(t.split()), json.dumps(th), src, sid, now) for t, th, src, sid in examples])
        return len(examples)

    def labels(self) -> list[dict]:
        """Every stored label, oldest first."""
        with self._tx(write=False) as cur:
            rows = cur.execute("SELECT * FROM labels ORDER BY id").fetchall()
        return [{"id": r["id"], "text": r["text"], "themes": json.loads(r["themes"]), "source": r["source"],
                 "statement_id": r["statement_id"], "created": r["created"]} for r in rows]
