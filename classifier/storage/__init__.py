"""Where statements live. ``open_store(settings)`` picks the backend from the configuration, so nothing above
this package names an engine:

- ``sqlite/``: the embedded default, one SQLite file in the data directory (FAISS and keyword indexes beside
  it, in ``classifier/search``);
- ``postgres/``: everything in one PostgreSQL database, chosen by ``JOINEDUP_DATABASE_URL=postgresql://...``
  (needs the ``[postgres]`` extra; imported only then).

``base.Store`` is the protocol both implement; ``records`` holds the types they take and give. A third backend
is a new subpackage here plus a branch in ``open_store`` (and in ``classifier.search.factory``).
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from classifier.errors import ConfigError

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(settings) -> bool:
    """Whether ``settings`` select the PostgreSQL backend (a ``postgresql://`` database URL)."""
    url = (settings.database_url or "").strip()
    if url and not url.startswith(POSTGRES_SCHEMES):
        raise ConfigError("JOINEDUP_DATABASE_URL must start with postgresql:// (or be empty for the embedded"
                          " SQLite store)")
    return bool(url)


def postgres_backend():
    """The ``classifier.storage.postgres`` module, or ConfigError saying which extra to install."""
    try:
        from classifier.storage import postgres
    except ModuleNotFoundError as exc:
        raise ConfigError(f"JOINEDUP_DATABASE_URL names a PostgreSQL database but {exc.name!r} is not installed;"
                          " install the extra: pip install 'joinedup[postgres]'") from exc
    return postgres


def open_store(settings):
    """The statement store ``settings`` configure: PostgreSQL for a ``postgresql://`` database URL, else the
    SQLite file in the data directory. Returns an object implementing ``base.Store``."""
    if is_postgres(settings):
        return postgres_backend().PostgresStore(settings.database_url.strip())
    from classifier.storage.sqlite import SQLiteStore

    return SQLiteStore(settings.db_path)


@contextmanager
def scratch_settings(settings, workdir: Path):
    """Settings for a throwaway store beside the configured one (search evaluation loads its corpus there):
    the data directory ``workdir`` and, with PostgreSQL, a schema of its own in the same database, dropped when
    the block ends. Nothing is written to the configured store."""
    if not is_postgres(settings):
        yield replace(settings, data_dir=Path(workdir))
        return
    postgres = postgres_backend()
    schema = f"joinedup_scratch_{uuid.uuid4().hex[:12]}"
    url = postgres.create_schema(settings.database_url.strip(), schema)
    try:
        yield replace(settings, data_dir=Path(workdir), database_url=url)
    finally:
        postgres.drop_schema(settings.database_url.strip(), schema)
