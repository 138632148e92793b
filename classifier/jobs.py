"""Background jobs (training, re-tagging) run in their own process, one of a kind at a time.

A request creates a job row and starts ``python -m service.commands run-job ID`` in a new session, so the job
outlives the request and a worker restart; the job process records its progress and result in SQLite, where
every worker can read it.
"""

from __future__ import annotations

import os
import subprocess
import sys

from classifier.config import settings_env
from classifier.errors import Conflict
from classifier.storage.sqlite import SQLiteStore


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of this process counts as dead
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def start_job(store: SQLiteStore, kind: str, params: dict, settings) -> dict:
    """Create and launch a job with the caller's settings; raise Conflict naming a job of this kind still running."""
    job_id, running = store.create_job(kind, params)
    if running is not None:
        other = store.get_job(running)
        if other["pid"] and not _alive(other["pid"]):
            store.update_job(running, status="failed", progress="the job process died")
            job_id, running = store.create_job(kind, params)
    if running is not None:
        raise Conflict(f"a {kind} job is already running (job {running})", {"job": {"id": running}})
    proc = subprocess.Popen([sys.executable, "-m", "service.commands", "run-job", str(job_id)],
                            env={**os.environ, **settings_env(settings)}, start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store.update_job(job_id, pid=proc.pid)
    return store.get_job(job_id)


def public(job: dict) -> dict:
    """The job as the API shows it."""
    out = {"id": job["id"], "kind": job["kind"], "status": job["status"], "progress": job["progress"],
           "created": job["created"], "updated": job["updated"]}
    if job["model"]:
        out["model"] = job["model"]
    if job["report"]:
        out["report"] = job["report"]
    return out


def run_job(pipe, job_id: int) -> None:
    """Carry out a job in this process, recording progress and the outcome."""
    store = pipe.store
    job = store.get_job(job_id)
    store.update_job(job_id, status="running", pid=os.getpid(), progress="starting")
    try:
        if job["kind"] == "train":
            result = pipe.train(force=bool(job["params"].get("force")), select=bool(job["params"].get("select")),
                                progress=lambda m: store.update_job(job_id, progress=m))
            status = "rejected" if result.decision == "rejected" else "succeeded"
            store.update_job(job_id, status=status, model=result.version, report=result.to_dict(),
                             progress=f"model {result.version} {result.decision}")
        elif job["kind"] == "retag":
            n = pipe.retag(job["params"].get("version"))
            store.update_job(job_id, status="succeeded", progress=f"re-tagged {n} statements",
                             model=job["params"].get("version"))
        else:
            store.update_job(job_id, status="failed", progress=f"unknown job kind {job['kind']!r}")
    except Exception as exc:  # the job's outcome is the record; the process must not die silently
        store.update_job(job_id, status="failed", progress=f"{type(exc).__name__}: {exc}")
        raise
