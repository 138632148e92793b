"""What every statement store offers: the protocol the SQLite and PostgreSQL backends both implement.

Nothing above ``classifier/storage`` names an engine: the pipeline opens a store with ``open_store(settings)``
(``classifier/storage/__init__.py``) and speaks to it through these methods, in the types of ``records.py``.
``tests/test_store_conformance.py`` checks that each backend has every method listed here and that both give
the same outputs for the same inputs.
"""

from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable

import numpy as np

from classifier.storage.records import AddResult, Filters, Label, NewStatement, Statement, StoredDocument


@runtime_checkable
class Store(Protocol):
    """Statements with their vectors and themes, the change log, meta values, labels, jobs and the workbench's
    queries. Every write is one transaction and has committed when the call returns."""

    # -- statements: writes --------------------------------------------------------------------------------
    def add(self, items: list[NewStatement], vectors: np.ndarray, scores: list[dict], thresholds: dict,
            model_version: str | None) -> AddResult:
        """Insert statements (deduplicated by content hash) with vectors and theme scores; ids in input order."""

    def retag(self, rows: list[tuple[int, dict]], thresholds: dict, model_version: str) -> None:
        """Replace the theme scores of existing statements."""

    def replace_vectors(self, rows: list[tuple[int, np.ndarray]], embedder: str) -> None:
        """Store re-embedded vectors and record the vector space (meta ``embedder``) they are in."""

    def delete(self, statement_id: int) -> None:
        """Delete one statement (NotFound if there is none) and log the change."""

    # -- statements: reads ---------------------------------------------------------------------------------
    def count(self) -> int: ...

    def get(self, ids: list[int]) -> dict[int, Statement]:
        """The statements of ``ids`` that exist, with their themes (best first)."""

    def get_one(self, statement_id: int) -> Statement:
        """One statement, or NotFound."""

    def vectors(self, ids: list[int] | None = None, batch: int = 5000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, float32 vectors) batches for ``ids``, or for every statement, in id order."""

    def texts(self) -> tuple[list[int], list[str]]:
        """(ids, texts) of every statement in id order."""

    def id_checksum(self) -> tuple[int, str]:
        """(count, sha256 over the sorted ids): what a derived index must match."""

    def filter_ids(self, filters: Filters) -> list[int]:
        """Ids passing every filter, in id order."""

    def organisations(self) -> list[dict]:
        """Organisations with statement counts and first/last dates, most statements first."""

    def scores_near_thresholds(self, thresholds: dict, n: int) -> list[tuple[int, float, list[str]]]:
        """(id, margin, uncertain themes) of the n unlabelled statements nearest their thresholds."""

    # -- the change log and meta values --------------------------------------------------------------------
    def last_seq(self) -> int:
        """The sequence number of the latest committed change (0 when none)."""

    def changes_since(self, seq: int) -> tuple[int, list[int], list[int]]:
        """(latest seq, ids added since ``seq`` and still present, ids deleted since ``seq``)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    # -- labels --------------------------------------------------------------------------------------------
    def add_labels(self, examples: list[tuple[str, list[str], str, int | None]], name: str | None = None) -> int:
        """Store (text, themes, source, statement_id) examples, given by ``name``, in one transaction; returns
        how many."""

    def labels(self) -> list[dict]:
        """Every stored label, oldest first."""

    def list_labels(self, statement_id: int | None = None, offset: int = 0, limit: int = 100) -> tuple[list[Label], int]:
        """(a page of labels, newest first, of one statement when given; how many match in all)."""

    def get_label(self, label_id: int) -> Label:
        """One label, or NotFound."""

    def update_label(self, label_id: int, themes: list[str], name: str | None) -> Label:
        """Replace a label's themes and who gave them; NotFound for an unknown id."""

    def delete_label(self, label_id: int) -> None:
        """Delete a label (its statement returns to the review queue if it has no other); NotFound if unknown."""

    # -- documents -----------------------------------------------------------------------------------------
    def add_document(self, doc: StoredDocument, text: str, statements: list[NewStatement], vectors: np.ndarray,
                     scores: list[dict], themes: list[dict], model_version: str | None
                     ) -> tuple[StoredDocument, AddResult]:
        """Store a document, its ordered paragraphs and a statement per searchable paragraph in one
        transaction (``themes``: the decided ones, theme -> score); a document stored already is returned as
        it is."""

    def add_documents(self, items: list[tuple[StoredDocument, str, list[NewStatement], np.ndarray, list[dict],
                                              list[dict]]], model_version: str | None) -> list[AddResult]:
        """``add_document`` for several (doc, text, statements, vectors, scores, themes) in ONE transaction."""

    def get_document(self, document_id: str, with_text: bool = False) -> StoredDocument:
        """One document with its paragraphs in order, or NotFound."""

    def list_documents(self, filters: Filters, offset: int = 0, limit: int = 20) -> tuple[list[StoredDocument], int]:
        """(a page of documents, newest date first, without paragraphs; how many match in all)."""

    def retag_document(self, document_id: str, paragraph_themes: dict[int, list[dict]]) -> None:
        """Replace the themes shown on a document's paragraphs."""

    def document_ids(self) -> list[str]: ...

    # -- jobs ----------------------------------------------------------------------------------------------
    def create_job(self, kind: str, params: dict) -> tuple[int | None, int | None]:
        """(new job id, None), or (None, id of the job of this kind already queued or running)."""

    def update_job(self, job_id: int, **fields) -> None: ...

    def get_job(self, job_id: int) -> dict: ...

    # -- the workbench: copy signatures, counts, suggestions, pages ----------------------------------------
    def reset_copy_signatures(self, version: str) -> None: ...

    def put_copy_signatures(self, rows: list[tuple[int, bytes, str, list[int]]], seq: int) -> None: ...

    def copy_candidates(self, ids: list[int]) -> dict[int, set[int]]: ...

    def copy_signatures(self, ids: list[int]) -> dict[int, tuple[bytes, str]]: ...

    def texts_of(self, ids: list[int]) -> dict[int, str]: ...

    def dates_of(self, ids: list[int]) -> dict[int, str | None]: ...

    def passing(self, ids: list[int], filters: Filters) -> set[int]: ...

    def date_counts(self, filters: Filters) -> list[tuple[str | None, int]]: ...

    def theme_date_counts(self, filters: Filters) -> list[tuple[str, str | None, int]]: ...

    def organisation_theme_counts(self, filters: Filters) -> list[tuple[str, str, int]]: ...

    def organisation_name(self, name: str) -> str | None: ...

    def organisation_suggestions(self, text: str, limit: int) -> list[dict]: ...

    def count_statements(self, filters: Filters) -> int: ...

    def page_statements(self, filters: Filters, offset: int = 0, limit: int = 100,
                        after: int = 0) -> list[Statement]: ...
