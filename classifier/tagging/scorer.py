"""Tagging: paragraphs -> embeddings -> theme scores, with a document-level roll-up."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from classifier.model.codebook import Codebook
from classifier.model.embeddings import Embedder
from classifier.text.paragraphs import Paragraph
from classifier.text.visible import plain
from classifier.model.context import DocumentLayout
from classifier.text.boilerplate import is_boilerplate
from classifier.text.structure import Block, structure
from classifier.model.registry import LoadedModel


@dataclass(frozen=True)
class ThemeScore:
    id: str
    label: str
    score: float


@dataclass(frozen=True)
class TaggedParagraph:
    index: int
    text: str
    start: int | None
    end: int | None
    themes: tuple[ThemeScore, ...]   # themes at or over their threshold, best first
    scores: dict                     # probability for every theme the model knows ({} when not tagged)
    kind: str = "body"               # see classifier.text.structure.KINDS

    def to_dict(self) -> dict:
        return {"index": self.index, "kind": self.kind, "text": self.text, "start": self.start, "end": self.end,
                "themes": [t.__dict__ for t in self.themes], "scores": self.scores}


@dataclass(frozen=True)
class DocumentTheme:
    id: str
    label: str
    score: float          # the highest score among the paragraphs tagged with the theme
    paragraphs: tuple[int, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "score": self.score, "paragraphs": list(self.paragraphs)}


@dataclass(frozen=True)
class TagResult:
    model_version: str
    paragraphs: tuple[TaggedParagraph, ...]
    document: tuple[DocumentTheme, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"model": {"version": self.model_version},
                "paragraphs": [p.to_dict() for p in self.paragraphs],
                "document": {"themes": [d.to_dict() for d in self.document]}}


class ThemeScorer:
    """A loaded model plus the embedder it was trained with and the codebook that names its themes."""

    def __init__(self, model: LoadedModel, embedder: Embedder, codebook: Codebook):
        self.model = model
        self.embedder = embedder
        self.codebook = codebook
        self.theme_ids = model.themes
        self._thresholds = np.array([model.thresholds[t] for t in self.theme_ids])
        # Paragraphs read in their document are cut at the context stage's thresholds (model/context.py);
        # a model without that stage uses the same thresholds for both.
        document = model.manifest.get("document_thresholds") or model.thresholds
        self._document_thresholds = np.array([document[t] for t in self.theme_ids])

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def document_thresholds(self) -> np.ndarray:
        """The thresholds a paragraph read in its document is cut at, in ``theme_ids`` order."""
        return self._document_thresholds

    def _label(self, theme_id: str) -> str:
        return self.codebook.label(theme_id) if theme_id in self.codebook else theme_id

    def score(self, texts: list[str], vectors: np.ndarray) -> np.ndarray:
        """Per-theme probabilities for texts and their embeddings, shape (n, n_themes). Texts are the ones
        their embeddings were made from: read as a reader sees them (``visible.plain``), which callers holding
        a stored statement's text as it came (soft hyphens and all) do first."""
        if len(texts) == 0:
            return np.zeros((0, len(self.theme_ids)))
        with threadpool_limits(limits=1, user_api="blas"):  # see training.train: BLAS threads thrash here
            return self.model.theme_model.predict_proba(texts, vectors)

    def score_documents(self, texts: list[str], vectors: np.ndarray, layouts: list) -> np.ndarray:
        """Per-theme probabilities for rows read in their documents (``features.ThemeModel.document_proba``)."""
        if len(texts) == 0:
            return np.zeros((0, len(self.theme_ids)))
        # A model saved before the context stage existed has ``context`` None: the paragraph-alone scores.
        with threadpool_limits(limits=1, user_api="blas"):
            return self.model.theme_model.document_proba(texts, vectors, layouts)

    def themes_for(self, proba_row: np.ndarray, thresholds: np.ndarray | None = None) -> tuple[ThemeScore, ...]:
        """The themes at or over their thresholds (the paragraph-alone ones unless others are given), best first."""
        thresholds = self._thresholds if thresholds is None else thresholds
        on = [j for j in np.argsort(-proba_row, kind="stable") if proba_row[j] >= thresholds[j]]
        return tuple(ThemeScore(self.theme_ids[j], self._label(self.theme_ids[j]), round(float(proba_row[j]), 4))
                     for j in on)

    def tag_paragraphs(self, paragraphs: list[Paragraph], vectors: np.ndarray | None = None) -> TagResult:
        """Tag paragraphs (embedding them unless ``vectors`` are given) and roll the themes up."""
        texts = [plain(p.text) for p in paragraphs]
        if vectors is None:
            vectors = self.embedder.embed(texts)
        proba = self.score(texts, vectors)
        tagged = tuple(
            TaggedParagraph(p.index, p.text, p.start, p.end, self.themes_for(row),
                            {t: round(float(v), 4) for t, v in zip(self.theme_ids, row)})
            for p, row in zip(paragraphs, proba))
        return TagResult(self.version, tagged, roll_up(tagged))

    def tag_document(self, blocks: list[Block], title: str | None = None,
                     vectors: np.ndarray | None = None) -> TagResult:
        """Tag a structured document: every block comes back in order with its kind; boilerplate is never
        tagged. ``vectors`` (one per tagged block, in order) saves embedding them again.

        Each tagged block is embedded on its own (see the embedder), so a block's scores depend only on its
        document, never on what else is in the batch.
        """
        return self.tag_documents([(blocks, title, vectors)])[0]

    def tag_documents(self, documents: list[tuple[list[Block], str | None, np.ndarray | None]],
                      embed=None) -> list[TagResult]:
        """``tag_document`` for several documents at once: one pass of each stage over all their paragraphs
        (the stages score row by row and document by document, so each result is what ``tag_document`` gives
        alone; batching only saves the per-call cost). ``embed`` embeds titles given apart from the text
        (default: the scorer's embedder)."""
        embed = embed or self.embedder.embed
        texts: list[str] = []
        vectors: list[np.ndarray] = []
        layouts, placed = [], []
        for blocks, title, given in documents:
            tagged_blocks = [b for b in blocks if b.tagged]
            own = [b.reading for b in tagged_blocks]
            if given is None:
                given = embed(own) if own else np.zeros((0, self.embedder.dimension), np.float32)
            base = len(texts)
            title = plain(" ".join(title.split())) if title else None
            title_row = next((i for i, t in enumerate(own) if t == title), None) if title else None
            texts += own
            if own:
                vectors.append(np.asarray(given, dtype=np.float32))
            if title and title_row is None and own:
                # A title given apart from the text is read as one more row, which only the context stage sees.
                title_row = len(own)
                texts.append(title)
                vectors.append(np.asarray(embed([title]), dtype=np.float32))
            # Readers' comments are read each as a document of one paragraph: a comment is not part of the
            # article's argument, and the article is not read through its readers' comments.
            article = [i for i, b in enumerate(tagged_blocks) if b.kind != "comment"]
            if article:
                layouts.append(DocumentLayout(tuple(base + i for i in article),
                                              tuple(tagged_blocks[i].kind for i in article),
                                              None if title_row is None else base + title_row))
            layouts += [DocumentLayout((base + i,), ("body",)) for i, b in enumerate(tagged_blocks)
                        if b.kind == "comment"]
            placed.append((blocks, tagged_blocks, base))
        matrix = np.vstack(vectors) if texts else np.zeros((0, self.embedder.dimension), np.float32)
        proba = self.score_documents(texts, matrix, layouts)
        results = []
        for blocks, tagged_blocks, base in placed:
            rows = {b.index: proba[base + i] for i, b in enumerate(tagged_blocks)}
            out = []
            for b in blocks:
                row = rows.get(b.index)
                if row is None:
                    out.append(TaggedParagraph(b.index, b.text, b.start, b.end, (), {}, b.kind))
                else:
                    out.append(TaggedParagraph(b.index, b.text, b.start, b.end,
                                               self.themes_for(row, self._document_thresholds),
                                               {t: round(float(v), 4) for t, v in zip(self.theme_ids, row)}, b.kind))
            tagged = tuple(out)
            results.append(TagResult(self.version, tagged, roll_up(tagged)))
        return results

    def tag_text(self, text: str, title: str | None = None, max_paragraphs: int | None = None) -> TagResult:
        """Structure ``text`` as a document (kinds, boilerplate) and tag it."""
        return self.tag_document(structure(text, max_paragraphs=max_paragraphs), title)

    def tag_texts(self, texts: list[str]) -> TagResult:
        """Tag each text as one isolated paragraph (no splitting, no context); offsets are into each text.
        Page furniture is recognised here too and never tagged, as in a document."""
        result = self.tag_paragraphs([Paragraph(i, t, 0, len(t)) for i, t in enumerate(texts)])
        paragraphs = tuple(TaggedParagraph(p.index, p.text, p.start, p.end, (), {}, "boilerplate")
                           if is_boilerplate(p.text) else p for p in result.paragraphs)
        return TagResult(result.model_version, paragraphs, roll_up(paragraphs))


def roll_up(paragraphs) -> tuple[DocumentTheme, ...]:
    """Document themes: each theme any of the document's own paragraphs carries (readers' comments are not the
    document's), with the paragraphs and the best score.

    Ordered by how many paragraphs raise the theme, then by score, so the summary leads with what the
    document is mostly about.
    """
    found: dict[str, list] = {}
    for p in paragraphs:
        if p.kind == "comment":
            continue
        for t in p.themes:
            entry = found.setdefault(t.id, [t.label, 0.0, []])
            entry[1] = max(entry[1], t.score)
            entry[2].append(p.index)
    ordered = sorted(found.items(), key=lambda kv: (-len(kv[1][2]), -kv[1][1], kv[0]))
    return tuple(DocumentTheme(tid, label, score, tuple(idx)) for tid, (label, score, idx) in ordered)


def tag_jsonl(scorer: ThemeScorer, lines, batch_size: int = 1024):
    """Tag JSON lines ``{"id"?, "text"}`` in batches; yield one output JSON line per input line.

    Each output line is ``{"id", "model", "themes", "scores"}``, ``model`` naming the model version that
    scored it. Each text is one paragraph (no splitting). A line without an id gets its line number. A bad
    line stops the run with an error naming the line, before any later line is read.
    """
    import json

    from classifier.errors import InvalidInput

    def flush(batch):
        texts = [plain(t) for _, t in batch]
        proba = scorer.score(texts, scorer.embedder.embed(texts))
        for (ident, text), row in zip(batch, proba):
            themes = [] if is_boilerplate(text) else [t.id for t in scorer.themes_for(row)]
            yield json.dumps({"id": ident, "model": scorer.version, "themes": themes,
                              "scores": {t: round(float(v), 4) for t, v in zip(scorer.theme_ids, row)}},
                             ensure_ascii=False)

    batch = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"line {lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            raise InvalidInput(f"line {lineno}: expected an object with a non-empty 'text' string")
        batch.append((obj.get("id", lineno), obj["text"]))
        if len(batch) >= batch_size:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)
