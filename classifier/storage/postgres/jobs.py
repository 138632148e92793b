"""Background job rows (training, re-tagging), in the PostgreSQL store."""

from __future__ import annotations

import json

from classifier.errors import NotFound
from classifier.storage.records import is_row_id
from classifier.storage.sqlite.store_utils import _now

from .schema import JOBS_LOCK


class JobsMixin:
    """Job rows; mixed into PostgresStore, whose ``_tx`` it uses."""

    def create_job(self, kind: str, params: dict) -> tuple[int | None, int | None]:
        """(new job id, None), or (None, id of the job of this kind already queued or running).

        Under a lock held to commit, so two workers (or machines) asked at once start one job between them."""
        now = _now()
        with self._tx() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (JOBS_LOCK,))
            row = cur.execute("SELECT id FROM jobs WHERE kind=%s AND status IN ('queued', 'running') ORDER BY id"
                              " LIMIT 1", (kind,)).fetchone()
            if row:
                return None, row["id"]
            row = cur.execute("INSERT INTO jobs (kind, status, params, created, updated) VALUES"
                              " (%s, 'queued', %s, %s, %s) RETURNING id", (kind, json.dumps(params), now, now)).fetchone()
            return row["id"], None

    def update_job(self, job_id: int, **fields) -> None:
        allowed = {"status", "progress", "model", "report", "pid"}
        if set(fields) - allowed:
            raise ValueError(f"unknown job fields {set(fields) - allowed}")
        if "report" in fields and fields["report"] is not None:
            fields["report"] = json.dumps(fields["report"])
        sets = ", ".join(f"{k}=%s" for k in fields)
        with self._tx() as cur:
            cur.execute(f"UPDATE jobs SET {sets}, updated=%s WHERE id=%s", [*fields.values(), _now(), job_id])

    def get_job(self, job_id: int) -> dict:
        if not is_row_id(job_id):
            raise NotFound(f"no job {job_id}")
        with self._tx(write=False) as cur:
            r = cur.execute("SELECT * FROM jobs WHERE id=%s", (job_id,)).fetchone()
        if r is None:
            raise NotFound(f"no job {job_id}")
        return {"id": r["id"], "kind": r["kind"], "status": r["status"], "progress": r["progress"],
                "params": json.loads(r["params"]), "model": r["model"],
                "report": json.loads(r["report"]) if r["report"] else None, "pid": r["pid"],
                "created": r["created"], "updated": r["updated"]}
