"""Small helpers shared by the SQLite store's modules."""

from __future__ import annotations

import datetime as dt


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
