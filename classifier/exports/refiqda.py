"""REFI-QDA exchange: the automatically coded corpus as a QDPX project for NVivo, MAXQDA or ATLAS.ti, the codebook
as a QDC file, and an analyst's project read back as labels.

A QDPX file is a zip holding ``project.qde`` (XML in the ``urn:QDA-XML:project:1.0`` namespace) and the plain
text of each source under ``sources/``. Here:

- one code per theme: its label as the name, the codebook definition as the description, a fixed colour;
- one text source per stored document, its text stored exactly as the document's offsets count it;
- one plain-text selection per paragraph that carries themes, from the paragraph's ``start`` to its ``end``
  (REFI-QDA positions count characters, that is Unicode code points, as Python string indices do; the end is
  exclusive), with one coding per theme.

GUIDs are derived from what they stand for (uuid5: a theme id, a document id, a paragraph), so exporting twice
gives the same project and an imported project finds its documents and paragraphs again. Element order and
attributes follow the REFI-QDA 1.0 schema (``tests/refiqda_reader.py`` checks them independently).
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import PurePosixPath

from lxml import etree

from classifier.errors import InvalidInput
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


def guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(_GUIDS, f"{kind}:{key}"))


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ExportSummary:
    codes: int
    sources: int
    selections: int
    codings: int


def _code(parent, ns: str, theme, colour: str) -> None:
    code = etree.SubElement(parent, f"{{{ns}}}Code", guid=guid("theme", theme.id), name=theme.label,
                            isCodable="true", color=colour)
    etree.SubElement(code, f"{{{ns}}}Description").text = theme.definition


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


def project_qdpx(store, codebook: Codebook, filters: Filters = Filters(), name: str = "joinedup corpus"
                 ) -> tuple[bytes, ExportSummary]:
    """The stored documents passing ``filters`` and their paragraphs' themes as a QDPX project (zip bytes)."""
    now = _now()
    user = guid("user", ORIGIN)
    root = etree.Element(f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS}, name=name, origin=ORIGIN,
                         creatingUserGUID=user, creationDateTime=now)
    users = etree.SubElement(root, f"{{{PROJECT_NS}}}Users")
    etree.SubElement(users, f"{{{PROJECT_NS}}}User", guid=user, name=ORIGIN)
    codes = etree.SubElement(etree.SubElement(root, f"{{{PROJECT_NS}}}CodeBook"), f"{{{PROJECT_NS}}}Codes")
    for i, theme in enumerate(codebook.themes):
        _code(codes, PROJECT_NS, theme, PALETTE[i % len(PALETTE)])
    known = {t.id for t in codebook.themes}
    sources = etree.SubElement(root, f"{{{PROJECT_NS}}}Sources")
    texts: dict[str, str] = {}
    n_sources = n_selections = n_codings = 0
    for doc in _documents(store, filters):
        source_guid = guid("document", doc.id)
        title = doc.title or (doc.text or "")[:60]
        source = etree.SubElement(sources, f"{{{PROJECT_NS}}}TextSource", guid=source_guid,
                                  name=" - ".join(x for x in (doc.organisation, doc.date, title) if x) or doc.id,
                                  plainTextPath=f"internal://{source_guid}.txt", creatingUser=user,
                                  creationDateTime=now)
        cite = "; ".join(f"{k}: {v}" for k, v in (("organisation", doc.organisation), ("date", doc.date),
                                                    ("title", doc.title), ("url", doc.url),
                                                    ("joinedup document", doc.id)) if v)
        etree.SubElement(source, f"{{{PROJECT_NS}}}Description").text = cite
        texts[source_guid] = doc.text or ""
        n_sources += 1
        for p in doc.paragraphs:
            themes = [t["id"] for t in p.themes if t["id"] in known]
            if not themes:
                continue
            selection = etree.SubElement(source, f"{{{PROJECT_NS}}}PlainTextSelection",
                                         guid=guid("paragraph", f"{doc.id}:{p.index}"),
                                         name=f"{p.index}: {p.text[:60]}", startPosition=str(p.start),
                                         endPosition=str(p.end), creatingUser=user, creationDateTime=now)
            n_selections += 1
            for theme in themes:
                coding = etree.SubElement(selection, f"{{{PROJECT_NS}}}Coding",
                                          guid=guid("coding", f"{doc.id}:{p.index}:{theme}"), creatingUser=user,
                                          creationDateTime=now)
                etree.SubElement(coding, f"{{{PROJECT_NS}}}CodeRef", targetGUID=guid("theme", theme))
                n_codings += 1
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))
        for source_guid, text in texts.items():
            zf.writestr(f"sources/{source_guid}.txt", text.encode("utf-8"))
    return buffer.getvalue(), ExportSummary(len(codebook.themes), n_sources, n_selections, n_codings)


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


def read_project(data: bytes, store, codebook: Codebook) -> ImportResult:
    """Labels from the codings on an analyst's plain-text selections.

    Codes are matched to themes by name (a theme's label or id, case ignored); a selection to a stored paragraph
    by its source (a document this service exported, or one whose text is stored) and offsets, or else by the
    selected text. A selection this service exported that the analyst left without codings says the paragraph
    has no theme.
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
    documents = {guid("document", d): d for d in store.document_ids()}
    for source in root.iter(f"{{{PROJECT_NS}}}TextSource"):
        doc_id = documents.get(source.get("guid", ""))
        doc = store.get_document(doc_id, with_text=True) if doc_id else None
        text = _source_text(source, files)
        by_span = {(p.start, p.end): p for p in doc.paragraphs} if doc else {}
        ours = {guid("paragraph", f"{doc.id}:{p.index}") for p in doc.paragraphs} if doc else set()
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
            paragraph = by_span.get((start, end))
            selected = " ".join((text or "")[start:end].split()) if text is not None else ""
            if paragraph is None and doc is not None and selected:
                paragraph = next((p for p in doc.paragraphs if " ".join(p.text.split()) == selected), None)
            if paragraph is not None and paragraph.kind != "boilerplate":
                result.examples.append({"text": paragraph.text, "themes": themes,
                                        "statement_id": paragraph.statement_id})
            elif selected:
                result.examples.append({"text": selected, "themes": themes})
            else:
                result.unmatched.append(selection.get("name") or selection.get("guid") or "?")
    return result
