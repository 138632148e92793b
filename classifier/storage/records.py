"""What the storage layer takes and gives: statement records, filters and the keys used to match them.

Every backend (``storage/sqlite``, ``storage/postgres``) speaks in these types, so nothing above storage
knows which engine holds the data."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field

from classifier.errors import InvalidInput

JOB_STATES = ("queued", "running", "succeeded", "failed", "rejected")


# SQLite integers are signed 64-bit: a larger Python int fails at the bind with OverflowError.
MAX_ID = 2 ** 63 - 1


def check_int(value, field_name: str, low: int = 1, high: int = MAX_ID) -> int:
    """``value`` if it is an integer (not a bool) in ``low..high``; otherwise InvalidInput naming the field.

    Every integer taken from a request passes here before it can reach SQLite; the default range is that of
    a row id (1..2^63-1).
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"'{field_name}' must be an integer", {"field": field_name})
    if not low <= value <= high:
        raise InvalidInput(f"'{field_name}' must be between {low} and {high}",
                           {"field": field_name, "minimum": low, "maximum": high})
    return value


def is_row_id(value) -> bool:
    """Whether ``value`` could be a row id at all; anything else cannot exist (a 404, not a bind error)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# Bumped whenever organisation_key changes, so that stored keys are recomputed once (Store.__init__).
ORGANISATION_KEY_VERSION = "2"


def organisation_key(name: str | None) -> str | None:
    """The one way organisation names are matched (stored key, filters, the organisations list): NFKC,
    case-folded, whitespace collapsed, and invisible format characters (direction marks, zero-width spaces,
    soft hyphens) dropped, so "Defect Council", "defect  council" and "Defect Council\u200e" are one name."""
    if name is None:
        return None
    key = normalise("".join(ch for ch in name if unicodedata.category(ch) != "Cf"))
    return key or None


def content_hash(text: str, organisation: str | None) -> str:
    """The dedupe key: the same normalised text from the same organisation is stored once."""
    return hashlib.sha256(f"{normalise(organisation or '')}\0{normalise(text)}".encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class NewStatement:
    text: str
    organisation: str | None = None
    date: str | None = None
    title: str | None = None
    url: str | None = None
    document_id: str | None = None
    paragraph_index: int | None = None
    start: int | None = None
    end: int | None = None


@dataclass
class Statement:
    id: int
    text: str
    organisation: str | None
    date: str | None
    title: str | None
    url: str | None
    document_id: str | None
    paragraph_index: int | None
    start: int | None
    end: int | None
    themes: list = field(default_factory=list)     # [{"id", "score"}] tagged themes, best first
    model_version: str | None = None
    created: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "organisation": self.organisation, "date": self.date,
                "title": self.title, "url": self.url, "document_id": self.document_id,
                "paragraph_index": self.paragraph_index, "start": self.start, "end": self.end,
                "themes": self.themes, "model_version": self.model_version, "created": self.created}


@dataclass
class AddResult:
    ids: list[int]          # one per input, in input order; a duplicate gets the id already stored
    added: int
    duplicates: int


@dataclass(frozen=True)
class Filters:
    themes: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None

    def __bool__(self) -> bool:
        return bool(self.themes or self.organisations or self.since or self.until)



@dataclass(frozen=True)
class DocumentParagraph:
    """One paragraph of a stored document, in order: boilerplate has no themes and no statement."""

    index: int
    kind: str
    text: str
    start: int
    end: int
    themes: tuple = ()                 # ({"id", "score"}, ...) best first
    statement_id: int | None = None

    def to_dict(self) -> dict:
        return {"index": self.index, "kind": self.kind, "text": self.text, "start": self.start, "end": self.end,
                "themes": [dict(t) for t in self.themes], "statement_id": self.statement_id}


@dataclass(frozen=True)
class StoredDocument:
    id: str
    organisation: str | None
    date: str | None
    title: str | None
    url: str | None
    source_type: str | None
    paragraphs: tuple[DocumentParagraph, ...] = ()
    model_version: str | None = None
    created: str | None = None
    text: str | None = None

    def to_dict(self, with_text: bool = False) -> dict:
        out = {"id": self.id, "organisation": self.organisation, "date": self.date, "title": self.title,
               "url": self.url, "source_type": self.source_type, "model_version": self.model_version,
               "created": self.created, "paragraphs": [p.to_dict() for p in self.paragraphs]}
        if with_text:
            out["text"] = self.text
        return out


@dataclass(frozen=True)
class Label:
    """An analyst's labelled example or correction: the themes a text has (an empty list: none), who gave
    them (``name``, free text) and when."""

    id: int
    text: str
    themes: tuple[str, ...]
    source: str
    statement_id: int | None
    name: str | None
    created: str
    updated: str | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "text": self.text, "themes": list(self.themes), "source": self.source,
                "statement_id": self.statement_id, "name": self.name, "created": self.created,
                "updated": self.updated}


NAME_MAX = 200


def check_name(name) -> str | None:
    """Who gave a label: optional free text under the text policy, at most ``NAME_MAX`` characters."""
    if name is None:
        return None
    from classifier.text.policy import check_text

    if isinstance(name, str) and not name.strip():
        return None
    return " ".join(check_text(name, "name", NAME_MAX).split())
