"""The one place that composes the pieces: settings -> codebook, embedder, registry, scorer (and the store).

Heavy objects are built on first use and kept for the life of the process. The active model is re-read
whenever the registry's ACTIVE pointer changes, so every worker process serves the version that was
activated last, without a restart.
"""

from __future__ import annotations

import threading
from functools import cached_property

from dataclasses import dataclass, field, replace
from pathlib import Path

from classifier.model.codebook import Codebook, load_codebook
from classifier.config import Settings
from classifier.model.embeddings import CachedEmbedder, Embedder, load_embedder
from classifier.errors import InvalidInput, JoinedupError, ModelError
from classifier.text.readers import Document, check_document, checked_field, documents_from_path
from classifier.text.structure import Block, read_across_page_breaks, structure
from classifier.text.visible import plain
from classifier.model.registry import Registry
from classifier.search.factory import open_search
import numpy as np

from classifier.storage.records import (AddResult, DocumentParagraph, Label, NewStatement, StoredDocument, check_int,
                                        check_name)
from classifier.storage import open_store
from classifier.storage.base import Store
from classifier.tagging.scorer import TagResult, ThemeScorer

INGEST_BATCH = 64
# The source type of the one-paragraph document a statement added on its own is stored as (tagged alone).
SINGLE_STATEMENT = "statement"


@dataclass
class IngestReport:
    added: int = 0
    duplicates: int = 0
    skipped: list = field(default_factory=list)   # (file or record, reason)
    ids: list = field(default_factory=list)
    documents: int = 0

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
            vectors = self.cached_embedder.embed([plain(rows[int(i)].text) for i in ids])
            self.store.replace_vectors(list(zip(ids.tolist(), vectors)), self.embedder.name)
            done += len(ids)
        self.store.set_meta("embedder", self.embedder.name)
        self.search_index.rebuild()
        return done

    def add_statements(self, items: list[NewStatement]) -> AddResult:
        """Embed, tag (each as an isolated paragraph, as ``tag_paragraphs`` does) and store statements; returns
        after the commit. Each statement is stored as a document of one paragraph, so that every search hit
        opens in a document; all in one transaction."""
        self.check_vector_space()
        if not items:
            return AddResult([], 0, 0)
        scorer = self.scorer()
        texts = [plain(i.text) for i in items]  # as a document's paragraphs are read (structure)
        vectors = self.cached_embedder.embed(texts)
        proba = scorer.score(texts, vectors)
        thresholds = scorer.model.thresholds
        batch = []
        for item, vec, row in zip(items, vectors, proba):
            scores = {t: round(float(v), 4) for t, v in zip(scorer.theme_ids, row)}
            themes = {t: v for t, v in scores.items() if v >= thresholds.get(t, 1.01)}
            doc = Document(item.text, item.organisation, item.date, item.title, item.url)
            record = StoredDocument(doc.id, doc.organisation, doc.date, doc.title, doc.url, SINGLE_STATEMENT, (
                DocumentParagraph(0, "body", item.text, 0, len(item.text),
                                  tuple({"id": t, "score": v} for t, v in sorted(themes.items(),
                                                                                 key=lambda kv: -kv[1]))),))
            statement = replace(item, document_id=doc.id, paragraph_index=0, start=0, end=len(item.text))
            batch.append((record, item.text, [statement], vec[None, :], [scores], [themes]))
        total = AddResult([], 0, 0)
        for one in self.store.add_documents(batch, scorer.version):
            total.ids += one.ids
            total.added += one.added
            total.duplicates += one.duplicates
        return total

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

    def add_document(self, doc: Document, where: str = "document", max_paragraphs: int | None = None,
                     furniture_only_ok: bool = False) -> tuple[StoredDocument, AddResult]:
        """Structure, embed, tag in context and store one document in one transaction: the document, every
        paragraph (boilerplate included, untagged) and a statement for each tagged paragraph, with exactly the
        themes ``POST /tag`` gives the same text. Every way of storing text comes through here.

        The metadata and each paragraph are checked against the text policy and limits first (InvalidInput
        naming ``where``); ``max_paragraphs`` (a request's cap) stops the splitter with PayloadTooLarge. A text
        with nothing but furniture is InvalidInput, unless ``furniture_only_ok`` (a record in a file being
        ingested: kept for the document view, with nothing searchable, and the rest of the file goes on).
        """
        blocks = self._document_blocks(doc, where, max_paragraphs, furniture_only_ok)
        return self._store_documents([(doc, blocks)])[0]

    def _document_blocks(self, doc: Document, where: str, max_paragraphs: int | None,
                         furniture_only_ok: bool) -> list[Block]:
        check_document(doc, where)
        blocks = structure(doc.text, max_paragraphs=max_paragraphs)
        for b in blocks:
            checked_field(b.text, where, f"paragraphs[{b.index}]", self.settings.max_paragraph_chars)
        if not furniture_only_ok and not any(b.tagged for b in blocks):  # as POST /tag says of the same text
            raise InvalidInput(f"{where}: the text has no paragraphs to tag (only boilerplate or page numbers)")
        return blocks

    def _store_documents(self, prepared: list[tuple[Document, list[Block]]]) -> list[tuple[StoredDocument, AddResult]]:
        """Embed and tag checked documents together (one pass of the tagger), then store each in its own
        transaction."""
        self.check_vector_space()
        scorer = self.scorer()
        embed = self.cached_embedder.embed
        vectors = [embed([b.reading for b in blocks if b.tagged]) if any(b.tagged for b in blocks)
                   else np.zeros((0, self.embedder.dimension), dtype=np.float32) for _, blocks in prepared]
        results = scorer.tag_documents([(blocks, doc.title, v) for (doc, blocks), v in zip(prepared, vectors)], embed)
        items = []
        for (doc, blocks), vecs, result in zip(prepared, vectors, results):
            tagged = [b for b in blocks if b.tagged]
            vecs = vecs[[k for k, b in enumerate(tagged) if b.searchable]]   # readers' comments: no statement
            tagged = [b for b in tagged if b.searchable]
            by_index = {p.index: p for p in result.paragraphs}
            statements = [NewStatement(b.text, doc.organisation, doc.date, doc.title, doc.url, doc.id, b.index,
                                       b.start, b.end) for b in tagged]
            record = StoredDocument(doc.id, doc.organisation, doc.date, doc.title, doc.url, doc.source_type, tuple(
                DocumentParagraph(p.index, p.kind, p.text, p.start, p.end,
                                  tuple({"id": t.id, "score": t.score} for t in p.themes)) for p in result.paragraphs))
            items.append((record, doc.text, statements, vecs, [by_index[b.index].scores for b in tagged],
                          [{t.id: t.score for t in by_index[b.index].themes} for b in tagged]))
        if len(items) == 1:  # one document (an API request): returned as GET gives it
            return [self.store.add_document(*items[0], scorer.version)]
        return [(None, r) for r in self.store.add_documents(items, scorer.version)]

    def ingest_documents(self, docs: list[Document], report: IngestReport | None = None,
                         progress=None, on_commit=None, where: str = "document") -> IngestReport:
        """Store documents one transaction each, tagged ``INGEST_BATCH`` documents at a time (the same themes as
        one by one); ``progress`` gets each document's count, ``on_commit`` each document's AddResult. A document
        that fails its checks stops the ingest there: those before it are stored."""
        report = report or IngestReport()
        for start in range(0, len(docs), INGEST_BATCH):
            prepared = []
            for i, doc in enumerate(docs[start:start + INGEST_BATCH], start):
                try:
                    prepared.append((doc, self._document_blocks(
                        doc, where if len(docs) == 1 else f"{where} document {i + 1}", None, True)))
                except JoinedupError:
                    self._commit(self._store_documents(prepared) if prepared else [], report, progress, on_commit)
                    raise
            self._commit(self._store_documents(prepared), report, progress, on_commit)
        return report

    @staticmethod
    def _commit(stored, report: IngestReport, progress, on_commit) -> None:
        for _, result in stored:
            report.merge(result)
            report.documents += 1
            if on_commit:
                on_commit(result)
            if progress:
                progress(1)

    def ingest_paths(self, paths: list[Path], defaults: dict, progress_factory=None, on_commit=None) -> IngestReport:
        """Ingest files; a file that cannot be read is reported in ``skipped`` and the rest are kept."""
        report = IngestReport()
        for path in paths:
            try:
                docs = documents_from_path(path, defaults)
                for i, doc in enumerate(docs):  # every document checked before any is stored
                    check_document(doc, f"{Path(path).name} document {i + 1}" if len(docs) > 1 else Path(path).name)
            except JoinedupError as exc:
                report.skipped.append((str(path), exc.message))
                continue
            bar = progress_factory(len(docs), Path(path).name) if progress_factory else None
            try:
                self.ingest_documents(docs, report, bar.update if bar else None, on_commit, Path(path).name)
            except JoinedupError as exc:  # a paragraph over the limit: what was stored before it stays stored
                report.skipped.append((str(path), exc.message))
            if bar:
                bar.close()
        self.search_index.sync()
        self.search_index.save()
        # Copy signatures now rather than in the first search after a big ingest (about 2,500 statements/s).
        from classifier.search.copies import sync_signatures

        sync_signatures(self.store)
        return report

    # -- labels, training, re-tagging --------------------------------------------------------------------------
    def add_labels(self, examples: list[dict], source: str, name: str | None = None) -> int:
        """Check and store labelled examples ``{"text", "themes", "statement_id"?}`` given by ``name``; unknown
        themes are a 422."""
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
        return self.store.add_labels(rows, check_name(name))

    def edit_label(self, label_id: int, themes, name: str | None = None) -> Label:
        """Replace a label's themes (checked against the codebook) and who gave them."""
        if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
            raise InvalidInput("themes must be a list of theme ids")
        return self.store.update_label(label_id, self.codebook.validate(list(dict.fromkeys(themes))),
                                       check_name(name))

    def export_qdpx(self, filters=None):
        """The stored documents and their themes as a REFI-QDA project: (zip bytes, summary)."""
        from classifier.exports.refiqda import project_qdpx
        from classifier.storage.records import Filters

        return project_qdpx(self.store, self.codebook, filters or Filters())

    def import_qdpx(self, data: bytes, filename: str):
        """Store the codings of an analyst's REFI-QDA project as labels; returns (labels added, ImportResult).
        A selection longer than a paragraph may be is reported, not stored."""
        from classifier.exports.refiqda import read_project

        result = read_project(data, self.store, self.codebook)
        limit = self.settings.max_paragraph_chars
        keep = [e for e in result.examples if len(e["text"]) <= limit]
        result.unmatched += [e["text"][:60] + "..." for e in result.examples if len(e["text"]) > limit]
        result.examples = keep
        added = self.add_labels(keep, "qdpx", f"REFI-QDA import {filename}"[:200]) if keep else 0
        return added, result

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
        """Re-score every stored statement with ``version`` (default: the active model); returns how many.

        A document's paragraphs are re-tagged in their document, as ``add_document`` tagged them, and the
        paragraphs shown in the document view get the same themes as their statements; a statement added on
        its own (or stored before documents were) is re-tagged alone."""
        scorer = self.scorer(version)
        doc_thresholds = dict(zip(scorer.theme_ids, scorer.document_thresholds.tolist()))
        done, covered = 0, set()
        for document_id in self.store.document_ids():
            doc = self.store.get_document(document_id)
            if doc.source_type == SINGLE_STATEMENT:
                continue
            blocks = read_across_page_breaks([Block(p.index, p.kind, p.text, p.start, p.end) for p in doc.paragraphs],
                                             doc.text)
            tagged = [p for p in doc.paragraphs if p.kind != "boilerplate"]
            if not tagged:
                continue
            stored = {int(i): v for ids, vecs in self.store.vectors([p.statement_id for p in tagged
                                                                     if p.statement_id is not None])
                      for i, v in zip(ids, vecs)}
            reading = {b.index: b.reading for b in blocks}
            missing = [reading[p.index] for p in tagged if p.statement_id not in stored]  # a statement deleted since
            fresh = iter(self.cached_embedder.embed(missing)) if missing else iter(())
            vectors = np.stack([stored[p.statement_id] if p.statement_id in stored else next(fresh) for p in tagged])
            result = scorer.tag_document(blocks, doc.title, vectors)
            by_index = {t.index: t for t in result.paragraphs}
            own = self.store.get([p.statement_id for p in tagged if p.statement_id in stored])
            rows = [(p.statement_id, by_index[p.index].scores) for p in tagged
                    if p.statement_id in own and own[p.statement_id].document_id == document_id]
            self.store.retag(rows, doc_thresholds, scorer.version)
            self.store.retag_document(document_id, {t.index: [{"id": x.id, "score": x.score} for x in t.themes]
                                                    for t in result.paragraphs})
            covered.update(sid for sid, _ in rows)
            done += len(rows)
        for ids, vectors in self.store.vectors(batch=1000):
            keep = [k for k, i in enumerate(ids.tolist()) if i not in covered]
            if not keep:
                continue
            ids, vectors = ids[keep], vectors[keep]
            rows = self.store.get(ids.tolist())
            texts = [plain(rows[int(i)].text) for i in ids]  # as they were embedded
            proba = scorer.score(texts, vectors)
            scored = [(int(i), {t: round(float(v), 4) for t, v in zip(scorer.theme_ids, row)})
                      for i, row in zip(ids, proba)]
            self.store.retag(scored, scorer.model.thresholds, scorer.version)
            for sid, sc in scored:  # the one-paragraph document of a statement added on its own
                st = rows[sid]
                if st.document_id and st.paragraph_index == 0:
                    on = sorted(((t, v) for t, v in sc.items() if v >= scorer.model.thresholds.get(t, 1.01)),
                                key=lambda kv: -kv[1])
                    self.store.retag_document(st.document_id, {0: [{"id": t, "score": v} for t, v in on]})
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
