"""The one place that composes the pieces: settings -> codebook, embedder, registry, scorer (and the store).

Heavy objects are built on first use and kept for the life of the process. The active model is re-read
whenever the registry's ACTIVE pointer changes, so every worker process serves the version that was
activated last, without a restart.
"""

from __future__ import annotations

import threading
from functools import cached_property

from dataclasses import dataclass, field
from pathlib import Path

from .codebook import Codebook, load_codebook
from .config import Settings
from .embeddings import CachedEmbedder, Embedder, load_embedder
from .errors import JoinedupError
from .ingest import Document, documents_from_path
from .paragraphs import split_paragraphs
from .registry import Registry
from .search import SearchIndex
from .store import AddResult, NewStatement, Store
from .tagging import ThemeScorer

INGEST_BATCH = 64


@dataclass
class IngestReport:
    added: int = 0
    duplicates: int = 0
    skipped: list = field(default_factory=list)   # (file or record, reason)
    ids: list = field(default_factory=list)

    def merge(self, result: AddResult) -> None:
        self.added += result.added
        self.duplicates += result.duplicates
        self.ids.extend(result.ids)


class Pipeline:
    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self._embedder = embedder
        self._scorer: ThemeScorer | None = None
        self._lock = threading.RLock()

    @cached_property
    def codebook(self) -> Codebook:
        return load_codebook(self.settings.codebook_path)

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.settings.models_dir)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self.settings.embedding_model, self.settings.embedding_batch_size,
                                                   self.settings.threads)
        return self._embedder

    @cached_property
    def cached_embedder(self) -> CachedEmbedder:
        return CachedEmbedder(self.embedder, self.settings.cache_path)

    def scorer(self, version: str | None = None) -> ThemeScorer:
        """The scorer for ``version``, or for the active model (reloaded when the pointer has moved)."""
        if version is not None:
            return self._load(version)
        active = self.registry.active_version()
        current = self._scorer
        if current is not None and active == current.version:
            return current
        with self._lock:
            if self._scorer is None or self._scorer.version != active:
                # Load the new model fully before swapping, so requests in flight keep the old one.
                self._scorer = self._load(active)
            return self._scorer

    def _load(self, version: str | None) -> ThemeScorer:
        emb = self.embedder
        model = self.registry.load(version, embedder_name=emb.name, dimension=emb.dimension)
        return ThemeScorer(model, emb, self.codebook)

    # -- the statement store and search ----------------------------------------------------------------------
    @cached_property
    def store(self) -> Store:
        return Store(self.settings.db_path)

    @cached_property
    def search_index(self) -> SearchIndex:
        return SearchIndex(self.store, self.embedder, self.settings.data_dir / "index")

    def add_statements(self, items: list[NewStatement]) -> AddResult:
        """Embed, tag and store statements in one transaction; returns after the commit."""
        scorer = self.scorer()
        texts = [i.text for i in items]
        vectors = self.cached_embedder.embed(texts)
        proba = scorer.score(texts, vectors)
        scores = [{t: round(float(v), 4) for t, v in zip(scorer.theme_ids, row)} for row in proba]
        return self.store.add(items, vectors, scores, scorer.model.thresholds, scorer.version)

    @staticmethod
    def statements_from_document(doc: Document) -> list[NewStatement]:
        """A document's paragraphs as statements carrying the document's metadata and offsets."""
        return [NewStatement(p.text, doc.organisation, doc.date, doc.title, doc.url, doc.id, p.index, p.start, p.end)
                for p in split_paragraphs(doc.text)]

    def ingest_documents(self, docs: list[Document], report: IngestReport | None = None,
                         progress=None, on_commit=None) -> IngestReport:
        """Split, embed, tag and store documents in committed batches of ``INGEST_BATCH`` statements."""
        report = report or IngestReport()
        pending: list[NewStatement] = []
        for doc in docs:
            pending.extend(self.statements_from_document(doc))
        for i in range(0, len(pending), INGEST_BATCH):
            batch = pending[i:i + INGEST_BATCH]
            result = self.add_statements(batch)
            report.merge(result)
            if on_commit:
                on_commit(result)
            if progress:
                progress(len(batch))
        return report

    def ingest_paths(self, paths: list[Path], defaults: dict, progress_factory=None, on_commit=None) -> IngestReport:
        """Ingest files; a file that cannot be read is reported in ``skipped`` and the rest are kept."""
        report = IngestReport()
        for path in paths:
            try:
                docs = documents_from_path(path, defaults)
            except JoinedupError as exc:
                report.skipped.append((str(path), exc.message))
                continue
            total = sum(len(split_paragraphs(d.text)) for d in docs)
            bar = progress_factory(total, Path(path).name) if progress_factory else None
            self.ingest_documents(docs, report, progress=bar.update if bar else None, on_commit=on_commit)
            if bar:
                bar.close()
        self.search_index.sync()
        self.search_index.save()
        return report
