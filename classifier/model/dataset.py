"""Labelled paragraphs: reading JSONL files, hashing them, and turning theme lists into a label matrix."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from classifier.model.codebook import Codebook
from classifier.errors import DataError


@dataclass(frozen=True)
class LabelledExample:
    text: str
    themes: tuple[str, ...]
    source: str = "sample"


@dataclass(frozen=True)
class LabelledSet:
    """Examples plus where they came from and a sha256 over the files' bytes (recorded in manifests)."""

    examples: tuple[LabelledExample, ...]
    files: tuple[str, ...]
    sha256: str

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

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
        return LabelledSet(tuple(by_text.values()), self.files, digest.hexdigest())

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
    examples = []
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
            examples.append(parse_example(obj, codebook, f"{f}:{lineno}"))
    if not examples:
        raise DataError(f"no labelled examples in {path}")
    return LabelledSet(tuple(examples), tuple(str(f) for f in files), digest.hexdigest())
