"""Stored documents and their ordered paragraphs, in the SQLite store."""

from __future__ import annotations

import json

import numpy as np

from classifier.errors import NotFound
from classifier.storage.records import AddResult, DocumentParagraph, Filters, NewStatement, StoredDocument, organisation_key
from classifier.text.dates import date_bounds

from .store_utils import _now


class DocumentsMixin:
    """Documents; mixed into SQLiteStore, whose ``_tx`` and statement writer it uses."""

    def add_document(self, doc: StoredDocument, text: str, statements: list[NewStatement], vectors: np.ndarray,
                     scores: list[dict], themes: list[dict], model_version: str | None
                     ) -> tuple[StoredDocument, AddResult]:
        """Store a document, its paragraphs and a statement for each searchable paragraph in ONE transaction.

        ``statements`` (with ``paragraph_index`` set), ``vectors``, ``scores`` and ``themes`` (the decided
        themes, theme -> score) run in parallel. A document already stored (same id: same organisation,
        title, url and text) is returned as it is. A paragraph whose statement is a duplicate of one already
        stored points at that statement.
        """
        with self._tx() as db:
            result = self._add_document(db, doc, text, statements, vectors, scores, themes, model_version)
        return self.get_document(doc.id), result

    def add_documents(self, items: list[tuple[StoredDocument, str, list[NewStatement], np.ndarray, list[dict],
                                              list[dict]]], model_version: str | None) -> list[AddResult]:
        """``add_document`` for several (doc, text, statements, vectors, scores, themes) in ONE transaction."""
        with self._tx() as db:
            return [self._add_document(db, *item, model_version) for item in items]

    def _add_document(self, db, doc: StoredDocument, text: str, statements: list[NewStatement], vectors: np.ndarray,
                      scores: list[dict], themes: list[dict], model_version: str | None) -> AddResult:
        if db.execute("SELECT 1 FROM documents WHERE id=?", (doc.id,)).fetchone():
            ids = [r[0] for r in db.execute("SELECT statement_id FROM document_paragraphs WHERE document_id=?"
                                            " AND statement_id IS NOT NULL ORDER BY idx", (doc.id,))]
            result = AddResult(ids, 0, len(ids))
        else:
            db.execute("INSERT INTO documents (id, text, organisation, organisation_key, date, title, url,"
                       " source_type, model_version, created) VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (doc.id, text, doc.organisation, organisation_key(doc.organisation), doc.date,
                        doc.title, doc.url, doc.source_type, model_version, _now()))
            result = self._insert_statements(db, statements, vectors, scores, themes, model_version)
            by_index = {st.paragraph_index: sid for st, sid in zip(statements, result.ids)}
            db.executemany("INSERT INTO document_paragraphs VALUES (?,?,?,?,?,?,?,?)",
                           [(doc.id, p.index, p.kind, p.text, p.start, p.end, json.dumps(list(p.themes)),
                             by_index.get(p.index)) for p in doc.paragraphs])
        return result

    def get_document(self, document_id: str, with_text: bool = False) -> StoredDocument:
        with self._tx(write=False) as db:
            row = db.execute("SELECT * FROM documents WHERE id=?", (document_id,)).fetchone()
            if row is None:
                raise NotFound(f"no document {document_id!r}")
            paragraphs = db.execute("SELECT * FROM document_paragraphs WHERE document_id=? ORDER BY idx",
                                    (document_id,)).fetchall()
        return _document(row, paragraphs)

    def list_documents(self, filters: Filters, offset: int = 0, limit: int = 20) -> tuple[list[StoredDocument], int]:
        """(a page of documents, newest date first, without their paragraphs; how many match in all)."""
        sql, args = ["FROM documents WHERE 1=1"], []
        if filters.organisations:
            sql.append(f"AND organisation_key IN ({','.join('?' * len(filters.organisations))})")
            args += [organisation_key(o) for o in filters.organisations]
        if filters.since:
            sql.append("AND date IS NOT NULL AND date >= ?")
            args.append(date_bounds(filters.since)[0][:len("YYYY-MM-DD")])
        if filters.until:
            sql.append("AND date IS NOT NULL AND substr(date, 1, 10) <= ?")
            args.append(date_bounds(filters.until)[1])
        where = " ".join(sql)
        with self._tx(write=False) as db:
            total = db.execute(f"SELECT COUNT(*) {where}", args).fetchone()[0]
            rows = db.execute(f"SELECT * {where} ORDER BY date IS NULL, date DESC, created DESC, id LIMIT ? OFFSET ?",
                              [*args, limit, offset]).fetchall()
        return [_document(r, []) for r in rows], total

    def retag_document(self, document_id: str, paragraph_themes: dict[int, list[dict]]) -> None:
        """Replace the themes shown on a document's paragraphs (after a new model is activated)."""
        with self._tx() as db:
            db.executemany("UPDATE document_paragraphs SET themes=? WHERE document_id=? AND idx=?",
                           [(json.dumps(t), document_id, i) for i, t in paragraph_themes.items()])

    def document_ids(self) -> list[str]:
        with self._tx(write=False) as db:
            return [r[0] for r in db.execute("SELECT id FROM documents ORDER BY created, id")]


def _document(row, paragraphs) -> StoredDocument:
    return StoredDocument(row["id"], row["organisation"], row["date"], row["title"], row["url"], row["source_type"],
                          tuple(DocumentParagraph(p["idx"], p["kind"], p["text"], p["char_start"], p["char_end"],
                                                  tuple(json.loads(p["themes"])), p["statement_id"])
                                for p in paragraphs),
                          row["model_version"], row["created"], row["text"])
