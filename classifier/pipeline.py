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

from classifier.model.codebook import Codebook, load_codebook
from classifier.config import Settings
from classifier.model.embeddings import CachedEmbedder, Embedder, load_embedder
from classifier.errors import InvalidInput, JoinedupError, ModelError
from classifier.text.readers import Document, check_document, checked_field, documents_from_path
from classifier.text.paragraphs import split_paragraphs
from classifier.text.structure import Block, structure
from classifier.model.registry import Registry
from classifier.search.factory import open_search
from classifier.storage.records import AddResult, NewStatement, check_int
from classifier.storage import open_store
from classifier.storage.base import Store
from classifier.tagging.scorer import TagResult, ThemeScorer

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
                    s = self.settings
                    self._embedder = load_embedder(s.embedding_model, s.embedding_batch_size, s.threads,
                                                   s.embedding_backend, s.models_dir / "embeddings")
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
        """The configured backend's store: SQLite in the data directory, or PostgreSQL (JOINEDUP_DATABASE_URL)."""
        return open_store(self.settings)

    @cached_property
    def search_index(self):
        """The search engine that goes with the store (FAISS + keyword index, or SQL in PostgreSQL)."""
        self.check_vector_space()
        return open_search(self.settings, self.store, self.embedder)

    def close(self) -> None:
        """Return the store's database connections (PostgreSQL keeps a pool); the SQLite store holds none."""
        store = self.__dict__.pop("store", None)
        self.__dict__.pop("search_index", None)
        if store is not None and hasattr(store, "close"):
            store.close()

    def check_vector_space(self) -> None:
        """Refuse to mix vector spaces: stored vectors must come from the configured embedder."""
        stored = self.store.get_meta("embedder")
        if stored is None:
            if self.store.count() == 0:
                self.store.set_meta("embedder", self.embedder.name)
                return
            stored = self.embedder.name  # a store from before the embedder was recorded
            self.store.set_meta("embedder", stored)
        if stored != self.embedder.name:
            raise ModelError(f"the stored statements were embedded with {stored!r} but the configured embedder is "
                             f"{self.embedder.name!r}; run 'joinedup reindex --reembed' or switch back")

    def reembed(self) -> int:
        """Re-embed every stored statement with the configured embedder (after changing model or backend)."""
        done = 0
        for ids, _ in self.store.vectors(batch=1000):
            rows = self.store.get(ids.tolist())
            vectors = self.cached_embedder.embed([rows[int(i)].text for i in ids])
            self.store.replace_vectors(list(zip(ids.tolist(), vectors)), self.embedder.name)
            done += len(ids)
        self.store.set_meta("embedder", self.embedder.name)
        self.search_index.rebuild()
        return done

    def add_statements(self, items: list[NewStatement]) -> AddResult:
        """Embed, tag and store statements in one transaction; returns after the commit."""
        self.check_vector_space()
        scorer = self.scorer()
        texts = [i.text for i in items]
        vectors = self.cached_embedder.embed(texts)
        proba = scorer.score(texts, vectors)
        scores = [{t: round(float(v), 4) for t, v in zip(scorer.theme_ids, row)} for row in proba]
        return self.store.add(items, vectors, scores, scorer.model.thresholds, scorer.version)

    def document_blocks(self, text: str) -> list[Block]:
        """A document text's paragraphs with kinds, within a request's limits: PayloadTooLarge past
        ``max_paragraphs`` (the splitter stops there, before further work), InvalidInput for a paragraph over
        ``max_paragraph_chars`` or a text with nothing to tag."""
        s = self.settings
        blocks = structure(text, max_paragraphs=s.max_paragraphs)
        if not any(b.tagged for b in blocks):
            raise InvalidInput("the text has no paragraphs to tag (only boilerplate, headings or page numbers)")
        long = [b.index for b in blocks if len(b.text) > s.max_paragraph_chars]
        if long:
            raise InvalidInput(f"paragraph {long[0]} is over {s.max_paragraph_chars} characters",
                               {"limit": s.max_paragraph_chars})
        return blocks

    def tag_text(self, text: str, title: str | None = None) -> TagResult:
        """Tag a document text in context (its structure, title and neighbours); nothing is stored."""
        return self.scorer().tag_document(self.document_blocks(text), title)

    def tag_paragraphs(self, texts: list[str]) -> TagResult:
        """Tag each text as one isolated paragraph, with no document context; nothing is stored."""
        return self.scorer().tag_texts(texts)

    def statements_from_document(self, doc: Document, where: str = "document",
                                 max_paragraphs: int | None = None) -> list[NewStatement]:
        """A document's paragraphs as statements carrying the document's metadata and offsets.

        Every way of storing a document comes through here, so this is where its metadata and each paragraph
        are checked against the text policy and the limits (``max_paragraph_chars``), before anything is
        embedded; InvalidInput names ``where`` and the field. With ``max_paragraphs`` (a request's cap), a
        document with more paragraphs raises PayloadTooLarge as soon as the splitter passes it.
        """
        check_document(doc, where)
        paragraphs = split_paragraphs(doc.text, max_paragraphs=max_paragraphs)
        for p in paragraphs:
            checked_field(p.text, where, f"paragraphs[{p.index}]", self.settings.max_paragraph_chars)
        return [NewStatement(p.text, doc.organisation, doc.date, doc.title, doc.url, doc.id, p.index, p.start, p.end)
                for p in paragraphs]

    def _statements_of(self, docs: list[Document], where: str = "document") -> list[NewStatement]:
        return [st for i, doc in enumerate(docs)
                for st in self.statements_from_document(doc, where if len(docs) == 1 else f"{where} document {i + 1}")]

    def ingest_documents(self, docs: list[Document], report: IngestReport | None = None,
                         progress=None, on_commit=None) -> IngestReport:
        """Split, embed, tag and store documents in committed batches of ``INGEST_BATCH`` statements."""
        return self._ingest_statements(self._statements_of(docs), report or IngestReport(), progress, on_commit)

    def _ingest_statements(self, pending: list[NewStatement], report: IngestReport, progress, on_commit) -> IngestReport:
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
                # Split and checked once: the statements both size the progress bar and are what gets stored.
                pending = self._statements_of(docs, Path(path).name)
            except JoinedupError as exc:
                report.skipped.append((str(path), exc.message))
                continue
            bar = progress_factory(len(pending), Path(path).name) if progress_factory else None
            self._ingest_statements(pending, report, bar.update if bar else None, on_commit)
            if bar:
                bar.close()
        self.search_index.sync()
        self.search_index.save()
        # Copy signatures now rather than in the first search after a big ingest (about 2,500 statements/s).
        from classifier.search.copies import sync_signatures

        sync_signatures(self.store)
        return report

    # -- labels, training, re-tagging --------------------------------------------------------------------------
    def add_labels(self, examples: list[dict], source: str) -> int:
        """Check and store labelled examples ``{"text", "themes", "statement_id"?}``; unknown themes are a 422."""
        from classifier.text.policy import check_text

        rows = []
        unknown: list[str] = []
        for i, ex in enumerate(examples):
            if not isinstance(ex, dict):
                raise InvalidInput(f"examples[{i}] must be an object")
            text = check_text(ex.get("text"), f"examples[{i}].text", self.settings.max_paragraph_chars)
            themes = ex.get("themes")
            if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
                raise InvalidInput(f"examples[{i}].themes must be a list of theme ids")
            unknown += [t for t in themes if t not in self.codebook]
            sid = ex.get("statement_id")
            if sid is not None:
                check_int(sid, f"examples[{i}].statement_id")
            rows.append((text, list(dict.fromkeys(themes)), source, sid))
        if unknown:
            self.codebook.validate(unknown)  # raises, naming every unknown id
        return self.store.add_labels(rows)

    def stored_examples(self) -> list:
        from classifier.model.dataset import LabelledExample

        return [LabelledExample(r["text"], tuple(t for t in r["themes"] if t in self.codebook), r["source"])
                for r in self.store.labels()]

    def train(self, force: bool = False, activate: bool = True, progress=lambda m: None, data=None, test=None,
              seed=None, select: bool = True):
        """Train on the shipped corpus plus stored labels, gate against the active model, re-tag if activated.

        With ``select`` false the active model's parameters are reused rather than chosen again (much faster).
        """
        from classifier.model.training import train as run_training

        s = self.settings
        result = run_training(self.codebook, self.cached_embedder, self.registry,
                              data or s.documents_path, test or s.test_path,
                              seed=s.seed if seed is None else seed, activate=activate, progress=progress,
                              extra=self.stored_examples(), force=force, margin=s.gate_margin, select=select)
        if result.activated and self.store.count():
            progress(f"re-tagging {self.store.count()} stored statements with {result.version}")
            self.retag(result.version)
        return result

    def retag(self, version: str | None = None) -> int:
        """Re-score every stored statement with ``version`` (default: the active model); returns how many."""
        scorer = self.scorer(version)
        done = 0
        for ids, vectors in self.store.vectors(batch=1000):
            rows = self.store.get(ids.tolist())
            texts = [rows[int(i)].text for i in ids]
            proba = scorer.score(texts, vectors)
            self.store.retag([(int(i), {t: round(float(v), 4) for t, v in zip(scorer.theme_ids, row)})
                              for i, row in zip(ids, proba)], scorer.model.thresholds, scorer.version)
            done += len(ids)
        return done

    def review_queue(self, n: int = 20) -> list[dict]:
        """Stored statements whose theme scores sit closest to their thresholds (uncertainty sampling), leaving
        out those that already carry an analyst's label."""
        if not 1 <= n <= 100:
            raise InvalidInput("n must be between 1 and 100")
        scorer = self.scorer()
        picked = self.store.scores_near_thresholds(scorer.model.thresholds, n)
        statements = self.store.get([sid for sid, _, _ in picked])
        return [dict(statements[sid].to_dict(), margin=round(margin, 4), uncertain=uncertain)
                for sid, margin, uncertain in picked if sid in statements]
