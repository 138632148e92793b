"""Stored documents and their ordered paragraphs, in the PostgreSQL store. Same contracts as
``storage/sqlite/documents.py``."""

from __future__ import annotations

import json

import numpy as np
import psycopg

from classifier.errors import NotFound
from classifier.storage.records import (AddResult, DocumentParagraph, Filters, NewStatement, StoredDocument,
                                        organisation_key)
from classifier.storage.sqlite.store_utils import _now
from classifier.text.dates import date_bounds


class DocumentsMixin:
    """Documents; mixed into PostgresStore, whose ``_tx`` and statement writer it uses."""

    def add_document(self, doc: StoredDocument, text: str, statements: list[NewStatement], vectors: np.ndarray,
                     scores: list[dict], themes: list[dict], model_version: str | None
                     ) -> tuple[StoredDocument, AddResult]:
        """Store a document, its paragraphs and a statement for each searchable paragraph in ONE transaction.

        ``statements`` (with ``paragraph_index`` set), ``vectors``, ``scores`` and ``themes`` (the decided
        themes, theme -> score) run in parallel. A document already stored (same id), by this or a concurrent
        transaction, is returned as it is. A paragraph whose statement is a duplicate of one already stored
        points at that statement.
        """
        with self._tx(rows=psycopg.rows.tuple_row) as cur:
            result = self._add_document(cur, doc, text, statements, vectors, scores, themes, model_version)
        return self.get_document(doc.id), result

    def add_documents(self, items: list[tuple[StoredDocument, str, list[NewStatement], np.ndarray, list[dict],
                                              list[dict]]], model_version: str | None) -> list[AddResult]:
        """``add_document`` for several (doc, text, statements, vectors, scores, themes) in ONE transaction."""
        with self._tx(rows=psycopg.rows.tuple_row) as cur:
            return [self._add_document(cur, *item, model_version) for item in items]

    def _add_document(self, cur, doc: StoredDocument, text: str, statements: list[NewStatement], vectors: np.ndarray,
                      scores: list[dict], themes: list[dict], model_version: str | None) -> AddResult:
        # ON CONFLICT waits for a concurrent writer of the same document, then finds it stored.
        inserted = cur.execute(
            "INSERT INTO documents (id, text, organisation, organisation_key, date, title, url, source_type,"
            " model_version, created) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO NOTHING RETURNING id",
            (doc.id, text, doc.organisation, organisation_key(doc.organisation), doc.date, doc.title, doc.url,
             doc.source_type, model_version, _now())).fetchone()
        if inserted is None:
            ids = [r[0] for r in cur.execute("SELECT statement_id FROM document_paragraphs WHERE document_id=%s"
                                             " AND statement_id IS NOT NULL ORDER BY idx", (doc.id,))]
            result = AddResult(ids, 0, len(ids))
        else:
            result = self._insert_statements(cur, statements, vectors, scores, themes, model_version)
            by_index = {st.paragraph_index: sid for st, sid in zip(statements, result.ids)}
            if doc.paragraphs:
                cur.executemany("INSERT INTO document_paragraphs VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                                [(doc.id, p.index, p.kind, p.text, p.start, p.end, json.dumps(list(p.themes)),
                                  by_index.get(p.index)) for p in doc.paragraphs])
        return result

    def get_document(self, document_id: str, with_text: bool = False) -> StoredDocument:
        with self._tx(write=False) as cur:
            row = cur.execute("SELECT * FROM documents WHERE id=%s", (document_id,)).fetchone()
            if row is None:
                raise NotFound(f"no document {document_id!r}")
            paragraphs = cur.execute("SELECT * FROM document_paragraphs WHERE document_id=%s ORDER BY idx",
                                     (document_id,)).fetchall()
        return _document(row, paragraphs)

    def list_documents(self, filters: Filters, offset: int = 0, limit: int = 20) -> tuple[list[StoredDocument], int]:
        """(a page of documents, newest date first, without their paragraphs; how many match in all)."""
        sql, args = ["FROM documents WHERE TRUE"], []
        if filters.organisations:
            sql.append("AND organisation_key = ANY(%s)")
            args.append([organisation_key(o) for o in filters.organisations])
        if filters.since:
            sql.append("AND date IS NOT NULL AND date >= %s")
            args.append(date_bounds(filters.since)[0][:len("YYYY-MM-DD")])
        if filters.until:
            sql.append("AND date IS NOT NULL AND substr(date, 1, 10) <= %s")
            args.append(date_bounds(filters.until)[1])
        where = " ".join(sql)
        with self._tx(write=False) as cur:
            total = cur.execute(f"SELECT COUNT(*) AS n {where}", args).fetchone()["n"]
            # date IS NULL first as false: undated last, as SQLite orders them
            rows = cur.execute(f"SELECT * {where} ORDER BY date IS NULL, date DESC, created DESC, id"
                               " LIMIT %s OFFSET %s", [*args, limit, offset]).fetchall()
        return [_document(r, []) for r in rows], total

    def retag_document(self, document_id: str, paragraph_themes: dict[int, list[dict]]) -> None:
        """Replace the themes shown on a document's paragraphs (after a new model is activated)."""
        if not paragraph_themes:
            return
        with self._tx() as cur:
            cur.executemany("UPDATE document_paragraphs SET themes=%s WHERE document_id=%s AND idx=%s",
                            [(json.dumps(t), document_id, i) for i, t in paragraph_themes.items()])

    def document_ids(self) -> list[str]:
        with self._tx(write=False, rows=psycopg.rows.tuple_row) as cur:
            return [r[0] for r in cur.execute("SELECT id FROM documents ORDER BY created, id")]


def _document(row, paragraphs) -> StoredDocument:
    return StoredDocument(row["id"], row["organisation"], row["date"], row["title"], row["url"], row["source_type"],
                          tuple(DocumentParagraph(p["idx"], p["kind"], p["text"], p["char_start"], p["char_end"],
                                                  tuple(json.loads(p["themes"])), p["statement_id"])
                                for p in paragraphs),
                          row["model_version"], row["created"], row["text"])
