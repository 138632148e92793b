"""Opening a SQLite file in write-ahead-log mode from several processes at once.

Switching a database to WAL needs an exclusive lock that SQLite does not wait for: the busy timeout is not
applied to it, so gunicorn workers opening a new file together got "database is locked" (a 500 on a write).
The mode is stored in the file, so only the first opener switches it; the others see "wal" and go on, and a
switch that loses the race is tried again after a short wait.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

_ATTEMPTS = 60
_PAUSE = 0.05  # seconds; 60 attempts wait about 3 s in all, far more than a switch takes


def connect_wal(path: Path, timeout: float, **kwargs) -> sqlite3.Connection:
    """``sqlite3.connect(path, timeout=timeout, **kwargs)`` with the file in WAL mode."""
    db = sqlite3.connect(path, timeout=timeout, **kwargs)
    for attempt in range(_ATTEMPTS):
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return db
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == _ATTEMPTS - 1:
                db.close()
                raise
            time.sleep(_PAUSE)
    raise AssertionError("unreachable")
