"""The server backend: everything in one PostgreSQL database (statements, documents, pgvector vectors with an
HNSW index, tsvector keyword search, themes, the change log, labels, jobs). Selected by
``JOINEDUP_DATABASE_URL=postgresql://...``; needs the ``[postgres]`` extra (psycopg, psycopg-pool, pgvector).
Imported only when such a URL is configured, so the embedded default never loads psycopg."""

from .search import PostgresSearch
from .store import PostgresStore, create_schema, drop_schema

__all__ = ["PostgresSearch", "PostgresStore", "create_schema", "drop_schema"]
