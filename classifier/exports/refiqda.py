"""REFI-QDA exchange: the automatically coded corpus as a QDPX project for NVivo, MAXQDA or ATLAS.ti, the codebook
as a QDC file, and an analyst's project read back as labels.

A QDPX file is a zip holding ``project.qde`` (XML in the ``urn:QDA-XML:project:1.0`` namespace) and the plain
text of each source under ``sources/``. Here:

- one code per theme: its label as the name, the codebook definition as the description, a fixed colour;
- one text source per stored document, its text stored exactly as the document's offsets count it, and one per
  statement stored without a document (from before documents were stored), its whole text one selection;
- one plain-text selection per paragraph that carries themes, from the paragraph's ``start`` to its ``end``
  with one coding per theme. The schema says only that positions are integers; they count Unicode code points
  from 0, end exclusive (Python string indices, as the stored offsets do and as Python REFI-QDA readers cut
  selections), so an accent or an emoji before a paragraph does not move it.

GUIDs are derived from what they stand for (uuid5: a theme id, a document id, a paragraph), so exporting twice
gives the same project and an imported project finds its documents and paragraphs again; each source's
description also names its joinedup document or statement, for a tool that issues new GUIDs. Element order and
attributes follow the REFI-QDA 1.0 schema (the tests validate every export against the published Project.xsd and
Codebook.xsd, and read it with an independent reader, ``tests/refiqda_reader.py``).
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import PurePosixPath

from lxml import etree

from classifier.errors import InvalidInput, NotFound
from classifier.exports.tabular import corpus_statements
from classifier.model.codebook import Codebook
from classifier.storage.records import Filters

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
ORIGIN = "joinedup"
# GUIDs are uuid5 names under this namespace, so the same theme, document or paragraph always gets the same one.
_GUIDS = uuid.UUID("6f1c1f0e-3c55-5b8e-9d62-1f5e2f7b9a10")
# One colour per theme, in codebook order (distinct on a white page; cycled past the thirteenth).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173")
MAX_QDPX_BYTES = 200 * 1024 * 1024  # a project read back is unzipped in memory: refuse a zip bomb

# XML 1.0 allows no control character but tab, newline and carriage return, and not U+FFFE/U+FFFF; stored titles
# and paragraphs may hold a form feed (a PDF page break) or a noncharacter, which lxml refuses. Names and
# descriptions get a space instead; a source's text goes under sources/ as a plain file, untouched.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# How a source's description names what it was exported from: "joinedup document: <id>" / "joinedup statement: <id>".
_ORIGIN_REF = re.compile(r"joinedup (document|statement): (\S+?);?(?:\s|$)")


def _xml(text: str | None) -> str:
    return _NOT_XML.sub(" ", text or "")


def guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_GUIDS, f"{kind}:{key}"))


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ExportSummary:
    codes: int
    sources: int
    selections: int
    codings: int


def _code(parent, ns: str, theme, colour: str) -> None:
    code = etree.SubElement(parent, f"{{{ns}}}Code", guid=guid("theme", theme.id), name=_xml(theme.label),
                            isCodable="true", color=colour)
    etree.SubElement(code, f"{{{ns}}}Description").text = _xml(theme.definition)


def codebook_xml(codebook: Codebook) -> bytes:
    """The codebook as a REFI-QDA codebook document (.qdc)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin=ORIGIN)
    codes = etree.SubElement(root, f"{{{CODEBOOK_NS}}}Codes")
    for i, theme in enumerate(codebook.themes):
        _code(codes, CODEBOOK_NS, theme, PALETTE[i % len(PALETTE)])
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def _documents(store, filters: Filters):
    """Every stored document passing the organisation and date filters (with its text), newest first; with
    theme filters, those with a paragraph carrying one of the themes."""
    offset = 0
    doc_filters = Filters((), filters.organisations, filters.since, filters.until)
    while True:
        page, total = store.list_documents(doc_filters, offset, 100)
        for summary in page:
            doc = store.get_document(summary.id, with_text=True)
            if filters.themes and not any(t["id"] in filters.themes for p in doc.paragraphs for t in p.themes):
                continue
            yield doc
        offset += len(page)
        if not page or offset >= total:
            return


def _lone_statements(store, filters: Filters, documents: set[str]):
    """The statements passing ``filters`` that have no stored document (stored before documents were), in id
    order."""
    for statement in corpus_statements(store, filters):
        if statement.document_id is None or statement.document_id not in documents:
            yield statement


class _Writer:
    """Builds project.qde and the sources/ files, counting what it wrote."""

    def __init__(self, codebook: Codebook, name: str):
        self.now = _now()
        self.user = guid("user", ORIGIN)
        self.known = {t.id for t in codebook.themes}
        self.root = etree.Element(f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS}, name=_xml(name),
                                  origin=ORIGIN, creatingUserGUID=self.user, creationDateTime=self.now)
        users = etree.SubElement(self.root, f"{{{PROJECT_NS}}}Users")
        etree.SubElement(users, f"{{{PROJECT_NS}}}User", guid=self.user, name=ORIGIN)
        codes = etree.SubElement(etree.SubElement(self.root, f"{{{PROJECT_NS}}}CodeBook"), f"{{{PROJECT_NS}}}Codes")
        for i, theme in enumerate(codebook.themes):
            _code(codes, PROJECT_NS, theme, PALETTE[i % len(PALETTE)])
        self.sources = etree.SubElement(self.root, f"{{{PROJECT_NS}}}Sources")
        self.texts: dict[str, str] = {}
        self.summary = ExportSummary(len(codebook.themes), 0, 0, 0)

    def source(self, key: str, text: str, organisation, date, title, url) -> etree._Element:
        """A text source for ``key`` ("document:<id>" or "statement:<id>"), its text under sources/."""
        source_guid = guid(*key.split(":", 1))
        name = " - ".join(x for x in (organisation, date, title or text[:60]) if x)
        source = etree.SubElement(self.sources, f"{{{PROJECT_NS}}}TextSource", guid=source_guid,
                                  name=_xml(name) or key, plainTextPath=f"internal://{source_guid}.txt",
                                  creatingUser=self.user, creationDateTime=self.now)
        kind, ident = key.split(":", 1)
        cite = "; ".join(f"{k}: {v}" for k, v in (("organisation", organisation), ("date", date), ("title", title),
                                                    ("url", url), (f"joinedup {kind}", ident)) if v)
        etree.SubElement(source, f"{{{PROJECT_NS}}}Description").text = _xml(cite)
        self.texts[source_guid] = text
        self.summary = replace(self.summary, sources=self.summary.sources + 1)
        return source

    def selection(self, source, key: str, name: str, start: int, end: int, themes) -> None:
        """A plain-text selection from ``start`` to ``end`` with a coding per known theme (none: no selection)."""
        themes = [t for t in themes if t in self.known]
        if not themes:
            return
        selection = etree.SubElement(source, f"{{{PROJECT_NS}}}PlainTextSelection", guid=guid("paragraph", key),
                                     name=_xml(name), startPosition=str(start), endPosition=str(end),
                                     creatingUser=self.user, creationDateTime=self.now)
        for theme in themes:
            coding = etree.SubElement(selection, f"{{{PROJECT_NS}}}Coding", guid=guid("coding", f"{key}:{theme}"),
                                      creatingUser=self.user, creationDateTime=self.now)
            etree.SubElement(coding, f"{{{PROJECT_NS}}}CodeRef", targetGUID=guid("theme", theme))
        self.summary = replace(self.summary, selections=self.summary.selections + 1,
                               codings=self.summary.codings + len(themes))

    def zip(self) -> bytes:
        if not len(self.sources):
            self.root.remove(self.sources)  # the schema wants at least one source in a Sources element
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("project.qde", etree.tostring(self.root, xml_declaration=True, encoding="utf-8",
                                                      pretty_print=True))
            for source_guid, text in self.texts.items():
                zf.writestr(f"sources/{source_guid}.txt", text.encode("utf-8"))
        return buffer.getvalue()


def project_qdpx(store, codebook: Codebook, filters: Filters | None = None, name: str = "joinedup corpus"
                 ) -> tuple[bytes, ExportSummary]:
    """The stored documents passing ``filters`` and their paragraphs' themes as a QDPX project (zip bytes); a
    statement stored without a document is a source of its own, its whole text one selection."""
    filters = filters or Filters()
    out = _Writer(codebook, name)
    for doc in _documents(store, filters):
        source = out.source(f"document:{doc.id}", doc.text or "", doc.organisation, doc.date, doc.title, doc.url)
        for p in doc.paragraphs:
            out.selection(source, f"{doc.id}:{p.index}", f"{p.index}: {p.text[:60]}", p.start, p.end,
                          [t["id"] for t in p.themes])
    for st in _lone_statements(store, filters, set(store.document_ids())):
        source = out.source(f"statement:{st.id}", st.text, st.organisation, st.date, st.title, st.url)
        out.selection(source, f"statement:{st.id}", st.text[:60], 0, len(st.text), [t["id"] for t in st.themes])
    return out.zip(), out.summary


# -- reading an analyst's project back ------------------------------------------------------------------------

@dataclass
class ImportResult:
    """What a project read back gives: labelled examples for ``Pipeline.add_labels`` and what was left out."""

    examples: list[dict] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)      # code names matching no theme
    unmatched: list[str] = field(default_factory=list)          # selections matching no stored paragraph


def _read_zip(data: bytes) -> tuple[etree._Element, dict[str, bytes]]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise InvalidInput("not a QDPX file (a QDPX project is a zip archive)") from exc
    with zf:
        if sum(i.file_size for i in zf.infolist()) > MAX_QDPX_BYTES:
            raise InvalidInput(f"the project unpacks to more than {MAX_QDPX_BYTES // 2 ** 20} MB")
        names = {i.filename for i in zf.infolist()}
        qde = next((n for n in names if PurePosixPath(n).name.lower() == "project.qde"), None)
        if qde is None:
            raise InvalidInput("no project.qde in the QDPX file")
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.fromstring(zf.read(qde), parser)
        except etree.XMLSyntaxError as exc:
            raise InvalidInput(f"project.qde is not well-formed XML ({exc})") from exc
        files = {n: zf.read(n) for n in names if n.lower().startswith("sources/") and not n.endswith("/")}
    if etree.QName(root).localname != "Project" or etree.QName(root).namespace != PROJECT_NS:
        raise InvalidInput(f"project.qde is not a REFI-QDA project (root {root.tag})")
    return root, files


def _source_text(source, files: dict[str, bytes]) -> str | None:
    content = source.find(f"{{{PROJECT_NS}}}PlainTextContent")
    if content is not None:
        return content.text or ""
    path = source.get("plainTextPath") or ""
    if path.startswith("internal://"):
        raw = files.get(f"sources/{path[len('internal://'):]}")
        if raw is not None:
            return raw.decode("utf-8-sig", errors="replace")
    return None


@dataclass(frozen=True)
class _Unit:
    """A stretch of a stored source a selection can stand for: a paragraph of a document, or a whole statement."""

    start: int
    end: int
    text: str
    statement_id: int | None
    selection_guid: str             # the GUID our export gave its selection
    boilerplate: bool = False


class _Sources:
    """Finds the stored document or statement a project's text source was exported from: by its GUID, else by
    the joinedup id its description names (a QDA tool may issue new GUIDs but keeps descriptions)."""

    def __init__(self, store):
        self.store = store
        self.documents = {guid("document", d): d for d in store.document_ids()}
        self._lone: dict[str, int] | None = None

    def lone(self) -> dict[str, int]:
        # Built only when a source is not found otherwise: it reads every statement.
        if self._lone is None:
            ids = set(self.documents.values())
            self._lone = {guid("statement", str(st.id)): st.id for st in _lone_statements(self.store, Filters(), ids)}
        return self._lone

    def units(self, source) -> tuple[list[_Unit], str | None]:
        """The units of the stored text ``source`` came from, and that text (([], None): not ours)."""
        refs = dict(_ORIGIN_REF.findall(source.findtext(f"{{{PROJECT_NS}}}Description") or ""))
        doc_id = self.documents.get(source.get("guid", "")) or refs.get("document")
        if doc_id is not None:
            try:
                doc = self.store.get_document(doc_id, with_text=True)
            except NotFound:
                doc = None
            if doc is not None:
                return [_Unit(p.start, p.end, p.text, p.statement_id, guid("paragraph", f"{doc.id}:{p.index}"),
                              p.kind == "boilerplate") for p in doc.paragraphs], doc.text
        sid = refs.get("statement")
        sid = int(sid) if sid and sid.isdigit() else self.lone().get(source.get("guid", ""))
        if sid is not None:
            try:
                st = self.store.get_one(sid)
            except NotFound:
                return [], None
            return [_Unit(0, len(st.text), st.text, st.id, guid("paragraph", f"statement:{st.id}"))], st.text
        return [], None


def _words(text: str) -> str:
    return " ".join(text.split())


def read_project(data: bytes, store, codebook: Codebook) -> ImportResult:
    """Labels from the codings on an analyst's plain-text selections.

    Codes are matched to themes by name (a theme's label or id, case ignored). A text source is matched to the
    stored document or statement it was exported from (by GUID, or by the joinedup id in its description), and
    a selection to a stored paragraph by its offsets, or else by its text; a selection matching none becomes a
    label on its own text. A selection this service exported that the analyst left without codings says the
    paragraph has no theme.
    """
    root, files = _read_zip(data)
    by_name = {}
    for theme in codebook.themes:
        by_name[theme.label.casefold()] = theme.id
        by_name[theme.id.casefold()] = theme.id
    code_theme: dict[str, str | None] = {}
    result = ImportResult()
    for code in root.iter(f"{{{PROJECT_NS}}}Code"):
        name = (code.get("name") or "").strip()
        code_theme[code.get("guid", "")] = by_name.get(name.casefold())
        if code_theme[code.get("guid", "")] is None and name not in result.unknown_codes:
            result.unknown_codes.append(name)
    stored = _Sources(store)
    for source in root.iter(f"{{{PROJECT_NS}}}TextSource"):
        units, stored_text = stored.units(source)
        text = _source_text(source, files)
        if text is None:
            text = stored_text
        by_span = {(u.start, u.end): u for u in units}
        ours = {u.selection_guid for u in units}
        for selection in source.iter(f"{{{PROJECT_NS}}}PlainTextSelection"):
            try:
                start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            except (TypeError, ValueError):
                result.unmatched.append(selection.get("name") or selection.get("guid") or "?")
                continue
            themes = [code_theme.get(c.get("targetGUID", "")) for c in selection.iter(f"{{{PROJECT_NS}}}CodeRef")]
            themes = list(dict.fromkeys(t for t in themes if t))
            if not themes and selection.get("guid") not in ours:
                continue  # an analyst's own uncoded selection (a memo anchor, say) says nothing about themes
            selected = _words(text[start:end]) if text is not None and 0 <= start < end else ""
            unit = by_span.get((start, end))
            if unit is not None and selected and _words(unit.text) != selected:
                unit = None  # the source text was edited: the offsets no longer cut this paragraph
            if unit is None and selected:
                unit = next((u for u in units if _words(u.text) == selected), None)
            if unit is not None and not unit.boilerplate:
                result.examples.append({"text": unit.text, "themes": themes, "statement_id": unit.statement_id})
            elif selected:
                result.examples.append({"text": selected, "themes": themes})
            else:
                result.unmatched.append(selection.get("name") or selection.get("guid") or "?")
    return result
