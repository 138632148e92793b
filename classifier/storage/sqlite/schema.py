"""The SQLite schema as numbered migrations, applied in order on open and recorded in ``schema_migrations``.

A data directory made by an older release is brought up to date when the store opens; each applied version
is recorded in ``schema_migrations``, and a migration never reruns. To change the schema, append a migration: never edit one that has shipped.
Migration 1 is the schema of release 0.1 (its statements are idempotent, so stores made before migrations
were numbered take it as a no-op).
"""

from collections.abc import Callable

from . import keyword

SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    organisation TEXT,
    organisation_key TEXT,
    date TEXT,
    title TEXT,
    url TEXT,
    document_id TEXT,
    paragraph_index INTEGER,
    char_start INTEGER,
    char_end INTEGER,
    content_hash TEXT NOT NULL UNIQUE,
    scores TEXT NOT NULL DEFAULT '{}',
    model_version TEXT,
    vector BLOB NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_org ON statements (organisation_key);
CREATE INDEX IF NOT EXISTS statements_date ON statements (date);
CREATE TABLE IF NOT EXISTS statement_themes (
    statement_id INTEGER NOT NULL REFERENCES statements (id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (statement_id, theme)
);
CREATE INDEX IF NOT EXISTS statement_themes_theme ON statement_themes (theme, statement_id);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    statement_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    text TEXT NOT NULL,
    themes TEXT NOT NULL,
    source TEXT NOT NULL,
    statement_id INTEGER,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    progress TEXT NOT NULL DEFAULT '',
    params TEXT NOT NULL DEFAULT '{}',
    model TEXT,
    report TEXT,
    pid INTEGER,
    created TEXT NOT NULL,
    updated TEXT NOT NULL
);
"""

# Migration 5 (workbench): MinHash signatures of statements for grouping near-identical copies in search
# (classifier/search/copies.py). ``copy_bands`` holds one row per LSH band: statements sharing a band hash are
# candidate copies, checked against their signatures. Both are derived data and go with their statement.
WORKBENCH_V5 = """
CREATE TABLE IF NOT EXISTS copy_signatures (
    statement_id INTEGER PRIMARY KEY REFERENCES statements (id) ON DELETE CASCADE,
    minhash BLOB NOT NULL,
    numbers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS copy_bands (
    band_hash INTEGER NOT NULL,
    statement_id INTEGER NOT NULL REFERENCES statements (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS copy_bands_hash ON copy_bands (band_hash, statement_id);
CREATE INDEX IF NOT EXISTS copy_bands_statement ON copy_bands (statement_id);
CREATE INDEX IF NOT EXISTS statements_org_date ON statements (organisation_key, date);
"""

# Documents and their paragraphs in order (issue 12): every paragraph, boilerplate included, with its kind,
# offsets into the document text and themes; a searchable paragraph points at its statement.
DOCUMENTS_V3 = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    organisation TEXT,
    organisation_key TEXT,
    date TEXT,
    title TEXT,
    url TEXT,
    source_type TEXT,
    model_version TEXT,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_org ON documents (organisation_key, date);
CREATE INDEX IF NOT EXISTS documents_date ON documents (date);
CREATE TABLE IF NOT EXISTS document_paragraphs (
    document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    themes TEXT NOT NULL DEFAULT '[]',
    statement_id INTEGER REFERENCES statements (id) ON DELETE SET NULL,
    PRIMARY KEY (document_id, idx)
);
CREATE INDEX IF NOT EXISTS document_paragraphs_statement ON document_paragraphs (statement_id);
"""

# (version, SQL script, or a function of the connection for a migration that needs Python, such as computing
# index terms). Numbers are reserved per feature so that work in parallel does not collide:
# 2 keyword search (postings, storage/sqlite/keyword.py), 3 documents, 4 labels (who and when), 5 workbench.
# Labels (issue 14): who gave a label and when it was last changed, so a mistaken label can be seen and edited.
LABELS_V4 = """
ALTER TABLE labels ADD COLUMN name TEXT;
ALTER TABLE labels ADD COLUMN updated TEXT;
CREATE INDEX IF NOT EXISTS labels_statement ON labels (statement_id);
"""

MIGRATIONS: list[tuple[int, str | Callable]] = [
    (1, SCHEMA_V1),
    (2, keyword.create_and_backfill),
    (3, DOCUMENTS_V3),
    (4, LABELS_V4),
    (5, WORKBENCH_V5),
]
