"""The codebook of integration themes, read from ``training_data/themes.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from classifier.errors import DataError, InvalidInput

THEME_ID = re.compile(r"^[a-z][a-z0-9_]{1,47}$")


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    definition: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "definition": self.definition,
                "include": list(self.include), "exclude": list(self.exclude)}


@dataclass(frozen=True)
class Codebook:
    themes: tuple[Theme, ...]
    _by_id: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_by_id", {t.id: t for t in self.themes})

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]

    def label(self, theme_id: str) -> str:
        return self._by_id[theme_id].label

    def __contains__(self, theme_id: str) -> bool:
        return theme_id in self._by_id

    def __len__(self) -> int:
        return len(self.themes)

    def evidence(self) -> list[tuple[str, str]]:
        """The codebook's own words as short labelled phrases ``(text, theme id)``: each term its definition
        lists after the colon, each include note, and the label.

        Training fits on them (never scores them), so a paragraph or bullet that uses the codebook's words
        ("light-touch guidance", "job redesign") carries that evidence even when no training paragraph
        happens to (issue 12.4). Exclude notes are not turned into phrases: they describe cases, not text.
        """
        out: list[tuple[str, str]] = []
        for t in self.themes:
            # "a, b, c and d": split at the commas, and at the list's last "and" only, so that a term with an
            # "and" of its own ("health and wellbeing boards", "intermediate and step-down care") stays whole.
            phrases = [p.strip(" .;") for p in t.definition.split(":", 1)[-1].split(",")]
            phrases[-1:] = [p.strip(" .;") for p in re.split(r"\band\b", phrases[-1], maxsplit=1)]
            for phrase in [*phrases, *t.include, t.label]:
                phrase = " ".join(phrase.split())
                if len(phrase) > 2:
                    out.append((phrase[0].upper() + phrase[1:], t.id))
        return list(dict.fromkeys(out))

    def validate(self, theme_ids) -> list[str]:
        """Return ``theme_ids`` de-duplicated in order; raise InvalidInput naming any unknown id."""
        unknown = [t for t in theme_ids if not isinstance(t, str) or t not in self._by_id]
        if unknown:
            raise InvalidInput(f"unknown theme id(s): {', '.join(map(str, unknown))}",
                               {"unknown_themes": [str(u) for u in unknown], "known_themes": self.ids})
        return list(dict.fromkeys(theme_ids))


def load_codebook(path: Path) -> Codebook:
    """Read and check a codebook TOML file (``[[theme]]`` tables with id, label, definition)."""
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise DataError(f"codebook not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"codebook {path} is not valid TOML: {exc}") from exc
    themes = []
    for i, t in enumerate(raw.get("theme", [])):
        tid = t.get("id", "")
        if not THEME_ID.match(str(tid)):
            raise DataError(f"codebook theme #{i + 1} has an invalid id {tid!r}")
        if not t.get("label") or not t.get("definition"):
            raise DataError(f"codebook theme {tid!r} needs a label and a definition")
        themes.append(Theme(tid, t["label"], t["definition"], tuple(t.get("include", ())), tuple(t.get("exclude", ()))))
    if not themes:
        raise DataError(f"codebook {path} defines no themes")
    ids = [t.id for t in themes]
    if len(set(ids)) != len(ids):
        raise DataError(f"codebook {path} repeats a theme id")
    return Codebook(tuple(themes))
