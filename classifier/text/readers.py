"""Reading documents from files: JSONL, CSV, plain text, Markdown, HTML, PDF and Word.

Each reader yields ``Document``s; ``documents_from_path`` picks the reader by extension and applies the
caller's values (organisation, date, title, url): a JSONL or CSV record's own fields win over them, but for a
whole-file document (text, HTML, PDF, Word) the caller's values win over what the reader derived from the file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, replace
from pathlib import Path

from classifier.errors import ConfigError, DataError, InvalidInput, JoinedupError
from classifier.text.dates import parse_date
from classifier.text.policy import check_text

FIELDS = ("organisation", "date", "title", "url", "source_type")
# Organisation, title and url are names and links: a longer value is a payload, not metadata.
MAX_FIELD_CHARS = 2000
SUFFIXES = (".jsonl", ".csv", ".txt", ".md", ".html", ".htm", ".pdf", ".docx")


@dataclass(frozen=True)
class Document:
    text: str
    organisation: str | None = None
    date: str | None = None
    title: str | None = None
    url: str | None = None
    source_type: str | None = None   # press_release, web_page, board_paper... (not part of the id)

    @property
    def id(self) -> str:
        key = "\0".join([self.organisation or "", self.title or "", self.url or "", self.text])
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def checked_field(value: str, where: str, name: str, max_chars: int | None = None) -> str:
    """``value`` if it passes the text policy (classifier/textpolicy.py) and ``max_chars``; otherwise
    InvalidInput whose message starts with ``where`` (a record, a file, "document") and names the field."""
    try:
        return check_text(value, name, max_chars)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", dict(exc.details or {}, field=f"{where}.{name}")) from exc


def check_document(doc: Document, where: str) -> Document:
    """``doc`` if its organisation, title and url pass the text policy and ``MAX_FIELD_CHARS`` and its date is
    a date; InvalidInput naming ``where`` and the field otherwise. Paragraphs are checked where they are made
    (``Pipeline.add_document``), against the paragraph limit."""
    for name in ("organisation", "title", "url", "source_type"):
        value = getattr(doc, name)
        if value is not None:
            checked_field(value, where, name, MAX_FIELD_CHARS)
    try:
        parse_date(doc.date)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from exc
    return doc


def document_from_record(obj, where: str, max_text_chars: int | None = None) -> Document:
    """A checked document from a JSON object or CSV row with ``text`` and optional organisation/date/title/url.

    Every field passes the text policy; organisation, title and url are limited to ``MAX_FIELD_CHARS`` and
    ``text`` to ``max_text_chars`` when given (a statement's text is one paragraph; a document's is split and
    its paragraphs checked later). Raises InvalidInput naming ``where`` and the field.
    """
    if not isinstance(obj, dict):
        raise InvalidInput(f"{where}: expected an object with a 'text' field")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{where}: 'text' must be a non-empty string")
    checked_field(text, where, "text", max_text_chars)
    meta = {}
    for f in FIELDS:
        value = obj.get(f)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{where}: '{f}' must be a string")
        meta[f] = value.strip() or None if isinstance(value, str) else None
    try:
        meta["date"] = parse_date(meta["date"])
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from exc
    return check_document(Document(text, **meta), where)


def _jsonl(path: Path):
    for lineno, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if line.strip():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path.name}:{lineno}: not valid JSON ({exc.msg})") from exc
            yield document_from_record(obj, f"{path.name}:{lineno}")


def _csv(path: Path):
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise InvalidInput(f"{path.name}: a CSV needs a 'text' column")
    for lineno, row in enumerate(reader, 2):
        yield document_from_record(row, f"{path.name}:{lineno}")


def _text(path: Path):
    yield Document(path.read_text(encoding="utf-8-sig"), title=path.stem.replace("_", " "))


def _html(path: Path):
    import trafilatura

    raw = path.read_text(encoding="utf-8-sig", errors="replace")
    text = trafilatura.extract(raw, include_comments=False, include_tables=False, favor_precision=True)
    if not text:
        raise InvalidInput(f"{path.name}: no main text found in the HTML")
    meta = trafilatura.extract_metadata(raw)
    try:
        date = parse_date(meta.date if meta else None)
    except InvalidInput:  # a page's own date in a form we do not store is dropped, not a reason to skip it
        date = None
    yield Document(text, title=(meta.title if meta and meta.title else path.stem), date=date)


def _pdf(path: Path):
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{path.name}: not a readable PDF ({_one_line(exc)})") from exc
    text = "\f".join(pages)
    if not text.strip():
        raise InvalidInput(f"{path.name}: the PDF has no extractable text (scanned images?)")
    title = (reader.metadata.title if reader.metadata and reader.metadata.title else path.stem)
    yield Document(text, title=title)


def _docx(path: Path):
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        d = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{path.name}: not a readable Word document ({_one_line(exc)})") from exc
    text = "\n\n".join(p.text for p in d.paragraphs if p.text.strip())
    if not text:
        raise InvalidInput(f"{path.name}: the Word document has no text")
    yield Document(text, title=d.core_properties.title or path.stem)


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception as a short single line: its type and the start of its message."""
    message = " ".join(str(exc).split())
    if len(message) > limit:
        message = message[:limit - 3] + "..."
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


_READERS = {".jsonl": _jsonl, ".csv": _csv, ".txt": _text, ".md": _text, ".html": _html, ".htm": _html,
            ".pdf": _pdf, ".docx": _docx}
# Readers of files that hold many records, each with fields of its own.
_RECORD_READERS = (_jsonl, _csv)


def documents_from_path(path: Path, defaults: dict | None = None) -> list[Document]:
    """Every document in one file, with the caller's values (``defaults``) applied.

    In a JSONL or CSV file they fill only the fields a record leaves empty. A text, HTML, PDF or Word file
    is one document, and the caller's values replace what the reader derived from it (file name, metadata).

    Raises InvalidInput or DataError with a one-line reason when the file cannot be read.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path.name}: unsupported file type (use one of {', '.join(SUFFIXES)})")
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    defaults = {k: v for k, v in (defaults or {}).items() if v}
    try:
        docs = list(reader(path))
    except JoinedupError:
        raise
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path.name}: not UTF-8 text") from exc
    except OSError as exc:
        raise DataError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    except ImportError as exc:
        raise ConfigError(f"{path.name}: the {path.suffix.lower()} reader cannot be loaded ({_one_line(exc)});"
                          f" reinstall joinedup's dependencies") from exc
    except Exception as exc:
        # The extractors (lxml under python-docx and trafilatura, pypdf, zipfile, csv) raise whatever their
        # parsers meet in a damaged file. This is the one place that turns all of it into a one-line error
        # naming the file, so one bad file is skipped without a traceback and the rest of an ingest goes on.
        raise InvalidInput(f"{path.name}: cannot be read as {path.suffix.lower()} ({_one_line(exc)})") from exc
    if reader in _RECORD_READERS:
        return [replace(d, **{k: v for k, v in defaults.items() if getattr(d, k) is None}) for d in docs]
    return [replace(d, **defaults) for d in docs]


# What a person may upload as one document (records files, JSONL and CSV, are for ``joinedup ingest``).
UPLOAD_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".txt", ".md")


def document_from_upload(data: bytes, filename: str, fields: dict, where: str = "file") -> Document:
    """One checked document from an uploaded file's bytes, read by its extension, with ``fields``
    (organisation, date, title, url, source_type; already strings) winning over what the file says.

    The bytes go to a private temporary directory under a name made here from the upload's base name, so
    nothing in the request chooses a path. InvalidInput with a one-line reason when the file cannot be used.
    """
    import re
    import tempfile

    base = Path(filename.replace("\\", "/")).name if filename else ""
    suffix = Path(base).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        raise InvalidInput(f"{where}: unsupported file type {suffix or '(none)'!r}; upload one of "
                           f"{', '.join(UPLOAD_SUFFIXES)}", {"field": where})
    if not data:
        raise InvalidInput(f"{where}: the file is empty", {"field": where})
    stem = re.sub(r"[^\w .()-]+", "_", Path(base).stem).strip(" .")[:100] or "upload"
    meta = document_from_record(dict(fields, text="-"), where)  # the same checks as a JSON document's fields
    defaults = {f: getattr(meta, f) for f in FIELDS}
    with tempfile.TemporaryDirectory(prefix="joinedup-upload-") as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        path.write_bytes(data)
        try:
            docs = documents_from_path(path, defaults)
        except (InvalidInput, DataError) as exc:  # a reader that cannot load (ConfigError) is not the file's fault
            raise InvalidInput(f"{where}: {exc.message}", {"field": where}) from exc
    if len(docs) != 1 or not docs[0].text.strip():
        raise InvalidInput(f"{where}: no text found in {base}", {"field": where})
    return check_document(docs[0], where)
