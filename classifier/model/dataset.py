"""Labelled paragraphs: reading JSONL files, hashing them, and turning theme lists into a label matrix.

A line is either one paragraph ``{"text", "themes"}`` or a whole document ``{"id", "register", "title",
"paragraphs": [{"kind", "text", "themes"}, ...]}`` (training_data/documents/). A document's paragraphs become
examples in order, each knowing its document, position and kind, so that training can group folds by document
and give the context-aware model its neighbours. A lone paragraph is a document of one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifier.model.codebook import Codebook
from classifier.errors import DataError


@dataclass(frozen=True)
class LabelledExample:
    text: str
    themes: tuple[str, ...]
    source: str = "sample"
    document: str | None = None     # the id of the document it belongs to (None: a paragraph of its own)
    index: int = 0                  # its position in that document
    kind: str = "body"              # heading | body | list_item | quote | boilerplate
    register: str | None = None     # the training file (register) it came from


@dataclass(frozen=True)
class LabelledDocument:
    """A labelled document: its title and its examples in order (boilerplate included, as on the page)."""

    id: str
    title: str | None
    register: str | None
    examples: tuple[LabelledExample, ...]


@dataclass(frozen=True)
class LabelledSet:
    """Examples plus where they came from and a sha256 over the files' bytes (recorded in manifests)."""

    examples: tuple[LabelledExample, ...]
    files: tuple[str, ...]
    sha256: str
    titles: dict = field(default_factory=dict, compare=False)   # document id -> title

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def groups(self) -> list[str]:
        """The document of each example (a paragraph of its own is its own group): the unit of a fold."""
        return [e.document or f"\0{i}" for i, e in enumerate(self.examples)]

    def documents(self, titles: dict | None = None) -> list[LabelledDocument]:
        """The examples regrouped into their documents, in order of first appearance."""
        titles = titles or {}
        out: dict[str, list] = {}
        for g, e in zip(self.groups, self.examples):
            out.setdefault(g, []).append(e)
        return [LabelledDocument(g, titles.get(g), ex[0].register, tuple(ex)) for g, ex in out.items()]

    def without_boilerplate(self) -> "LabelledSet":
        """The examples a tagger sees: boilerplate is recognised by rule and never tagged."""
        return LabelledSet(tuple(e for e in self.examples if e.kind != "boilerplate"), self.files, self.sha256,
                           self.titles)

    def with_extra(self, extra: list[LabelledExample]) -> "LabelledSet":
        """This set plus ``extra`` examples; an extra example replaces any earlier one with the same text."""
        if not extra:
            return self
        by_text = {e.text: e for e in self.examples}
        for e in extra:
            by_text.pop(e.text, None)
            by_text[e.text] = e
        digest = hashlib.sha256(self.sha256.encode())
        for e in extra:
            digest.update(json.dumps([e.text, list(e.themes)]).encode())
        return LabelledSet(tuple(by_text.values()), self.files, digest.hexdigest(), self.titles)

    def label_matrix(self, codebook: Codebook) -> np.ndarray:
        """An ``(n_examples, n_themes)`` 0/1 matrix in codebook order."""
        index = {tid: j for j, tid in enumerate(codebook.ids)}
        y = np.zeros((len(self.examples), len(codebook)), dtype=np.int8)
        for i, ex in enumerate(self.examples):
            for t in ex.themes:
                y[i, index[t]] = 1
        return y


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise DataError(f"no .jsonl files in {path}")
        return files
    if path.is_file():
        return [path]
    raise DataError(f"labelled data not found: {path}")


KINDS = ("heading", "body", "list_item", "quote", "boilerplate")


def parse_document(obj: dict, codebook: Codebook, where: str, register: str) -> tuple[str, str | None, list]:
    """(id, title, examples) of one labelled document line."""
    doc_id, paragraphs = obj.get("id"), obj.get("paragraphs")
    if not isinstance(doc_id, str) or not doc_id:
        raise DataError(f"{where}: a document needs a string 'id'")
    if not isinstance(paragraphs, list) or not paragraphs:
        raise DataError(f"{where}: 'paragraphs' must be a non-empty list")
    title = obj.get("title") if isinstance(obj.get("title"), str) else None
    register = obj.get("register") or register
    out = []
    for i, para in enumerate(paragraphs):
        ex = parse_example(para, codebook, f"{where} paragraph {i}")
        kind = para.get("kind", "body")
        if kind not in KINDS:
            raise DataError(f"{where} paragraph {i}: unknown kind {kind!r}")
        out.append(LabelledExample(ex.text, ex.themes, str(obj.get("source", ex.source)), doc_id, i, kind, register))
    return doc_id, title, out


def parse_example(obj, codebook: Codebook, where: str) -> LabelledExample:
    """Check one decoded JSON object and return it as an example; raise DataError saying where it failed."""
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a JSON object")
    text, themes = obj.get("text"), obj.get("themes")
    if not isinstance(text, str) or not text.strip():
        raise DataError(f"{where}: 'text' must be a non-empty string")
    if not isinstance(themes, list):
        raise DataError(f"{where}: 'themes' must be a list of theme ids")
    unknown = [t for t in themes if t not in codebook]
    if unknown:
        raise DataError(f"{where}: unknown theme id(s) {', '.join(map(str, unknown))}",
                        {"unknown_themes": [str(u) for u in unknown]})
    return LabelledExample(" ".join(text.split()), tuple(dict.fromkeys(themes)), str(obj.get("source", "sample")))


def load_labelled(path: Path, codebook: Codebook) -> LabelledSet:
    """Read a labelled JSONL file, or every ``*.jsonl`` in a directory (sorted, so the hash is stable)."""
    files = _files(Path(path))
    digest = hashlib.sha256()
    examples: list[LabelledExample] = []
    titles: dict[str, str | None] = {}
    for f in files:
        data = f.read_bytes()
        digest.update(f.name.encode() + b"\0" + data)
        for lineno, line in enumerate(data.decode("utf-8", errors="strict").splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{f}:{lineno}: not valid JSON ({exc.msg})") from exc
            if isinstance(obj, dict) and "paragraphs" in obj:
                doc_id, title, doc_examples = parse_document(obj, codebook, f"{f}:{lineno}", f.stem)
                if doc_id in titles:
                    raise DataError(f"{f}:{lineno}: document id {doc_id!r} is used twice")
                titles[doc_id] = title
                examples += doc_examples
            else:
                ex = parse_example(obj, codebook, f"{f}:{lineno}")
                examples.append(LabelledExample(ex.text, ex.themes, ex.source, register=f.stem))
    if not examples:
        raise DataError(f"no labelled examples in {path}")
    return LabelledSet(tuple(examples), tuple(str(f) for f in files), digest.hexdigest(), titles)
