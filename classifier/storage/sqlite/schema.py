"""The SQLite schema as numbered migrations, applied in order on open and recorded in ``PRAGMA user_version``.

A data directory made by an older release is brought up to date when the store opens; a migration never
rewrites one that has run. To change the schema, append a migration: never edit one that has shipped.
Migration 1 is the schema of release 0.1 (its statements are idempotent, so stores made before migrations
were numbered, which have user_version 0, take it as a no-op).
"""

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

# (version, SQL script). Numbers are reserved per feature so that work in parallel does not collide:
# 2 keyword search (FTS5), 3 documents, 4 labels (who and when), 5 workbench.
MIGRATIONS: list[tuple[int, str]] = [
    (1, SCHEMA_V1),
]
