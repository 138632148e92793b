"""Background job rows (training, re-tagging), in the SQLite store."""

from __future__ import annotations

import json

from classifier.errors import NotFound
from classifier.storage.records import is_row_id

from .store_utils import _now


class JobsMixin:
    """Job rows; mixed into SQLiteStore, whose ``_tx`` it uses."""

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
