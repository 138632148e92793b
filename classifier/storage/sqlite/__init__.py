"""The embedded backend: one SQLite file (WAL) holds statements, vectors, themes, labels, jobs and the change log."""

from .store import SQLiteStore

__all__ = ["SQLiteStore"]
