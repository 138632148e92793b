"""An independent REFI-QDA reader for the tests, written from the REFI-QDA 1.0 schemas (Project.xsd and
Codebook.xsd, urn:QDA-XML:project:1.0 / urn:QDA-XML:codebook:1.0), sharing no code with the exporter.

It checks what the schema requires of the elements a text project uses: the order of each element's children
(xsd:sequence), required attributes, the GUID and colour patterns, dateTime and integer values, that a text
source has its text either inline or at an ``internal://`` path present in the archive (not both), and that every
CodeRef points at a code. It returns the project as plain Python values.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

from lxml import etree

PROJECT = "urn:QDA-XML:project:1.0"
CODEBOOK = "urn:QDA-XML:codebook:1.0"
GUID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                  r"|\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\})$")
RGB = re.compile(r"^#(?:[A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")

# element -> (allowed children in schema order, required attributes, GUID-typed attributes)
PROJECT_RULES = {
    "Project": (["Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets", "Graphs",
                 "Description", "NoteRef"], {"name"}, {"creatingUserGUID", "modifyingUserGUID"}),
    "Users": (["User"], set(), set()),
    "User": ([], {"guid"}, {"guid"}),
    "CodeBook": (["Codes"], set(), set()),
    "Codes": (["Code"], set(), set()),
    "Code": (["Description", "NoteRef", "Code"], {"guid", "name", "isCodable"}, {"guid"}),
    "Sources": (["TextSource", "PictureSource", "PDFSource", "AudioSource", "VideoSource"], set(), set()),
    "TextSource": (["Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef", "VariableValue"],
                   {"guid"}, {"guid", "creatingUser", "modifyingUser"}),
    "PlainTextSelection": (["Description", "Coding", "NoteRef"], {"guid", "startPosition", "endPosition"},
                           {"guid", "creatingUser", "modifyingUser"}),
    "Coding": (["CodeRef", "NoteRef"], {"guid"}, {"guid", "creatingUser"}),
    "CodeRef": ([], {"targetGUID"}, {"targetGUID"}),
    "Description": ([], set(), set()),
    "PlainTextContent": ([], set(), set()),
}
CHOICE = {"Sources"}  # xsd:choice, any order
ONE_CHILD = {"Coding": {"CodeRef"}}  # exactly one CodeRef
DATETIMES = {"creationDateTime", "modifiedDateTime"}


class InvalidProject(AssertionError):
    pass


def _check(el, ns: str, rules: dict) -> None:
    q = etree.QName(el)
    if q.namespace != ns:
        raise InvalidProject(f"{el.tag}: not in the {ns} namespace")
    name = q.localname
    if name not in rules:
        raise InvalidProject(f"{name}: not an element this reader knows at {el.getparent().tag}")
    allowed, required, guids = rules[name]
    missing = required - set(el.attrib)
    if missing:
        raise InvalidProject(f"{name}: missing required attribute(s) {sorted(missing)}")
    for attr in guids & set(el.attrib):
        if not GUID.match(el.get(attr)):
            raise InvalidProject(f"{name}@{attr}: {el.get(attr)!r} is not a GUID")
    for attr in DATETIMES & set(el.attrib):
        datetime.fromisoformat(el.get(attr).replace("Z", "+00:00"))
    if "color" in el.attrib and not RGB.match(el.get("color")):
        raise InvalidProject(f"{name}@color: {el.get('color')!r} is not #RRGGBB")
    if "isCodable" in el.attrib and el.get("isCodable") not in ("true", "false", "1", "0"):
        raise InvalidProject(f"{name}@isCodable is not a boolean")
    for attr in ("startPosition", "endPosition"):
        if attr in el.attrib and not re.fullmatch(r"-?\d+", el.get(attr)):
            raise InvalidProject(f"{name}@{attr} is not an integer")
    children = [etree.QName(c).localname for c in el if isinstance(c.tag, str)]
    if any(c not in allowed for c in children):
        raise InvalidProject(f"{name}: unexpected child {next(c for c in children if c not in allowed)}")
    if name not in CHOICE:
        order = [allowed.index(c) for c in children]
        if order != sorted(order):
            raise InvalidProject(f"{name}: children out of the schema's order: {children}")
        for once in ("Description", "PlainTextContent", "Users", "CodeBook", "Sources", "Codes"):
            if children.count(once) > 1:
                raise InvalidProject(f"{name}: more than one {once}")
    if name in ONE_CHILD and children != sorted(ONE_CHILD[name]) and children[:1] != ["CodeRef"]:
        raise InvalidProject(f"{name}: needs exactly one CodeRef first")
    if name in ("Codes", "Users", "Sources") and not children:
        raise InvalidProject(f"{name}: needs at least one child")
    for child in el:
        if isinstance(child.tag, str):
            _check(child, ns, rules)


def read_qdpx(data: bytes) -> dict:
    """{"codes": {guid: {"name", "description", "color"}}, "sources": [{"guid", "name", "text", "selections":
    [{"guid", "start", "end", "codes": [code guid]}]}]}; raises InvalidProject."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = set(zf.namelist())
        if "project.qde" not in names:
            raise InvalidProject("no project.qde at the root of the archive")
        root = etree.fromstring(zf.read("project.qde"))
        _check(root, PROJECT, PROJECT_RULES)
        if etree.QName(root).localname != "Project":
            raise InvalidProject("the root element is not Project")
        codes = {c.get("guid"): {"name": c.get("name"), "color": c.get("color"),
                                 "description": c.findtext(f"{{{PROJECT}}}Description")}
                 for c in root.iter(f"{{{PROJECT}}}Code")}
        sources = []
        for s in root.iter(f"{{{PROJECT}}}TextSource"):
            inline = s.find(f"{{{PROJECT}}}PlainTextContent")
            path = s.get("plainTextPath")
            if (inline is None) == (path is None):
                raise InvalidProject(f"TextSource {s.get('guid')}: needs PlainTextContent or plainTextPath, not both")
            if path is not None:
                if not path.startswith("internal://") or f"sources/{path[11:]}" not in names:
                    raise InvalidProject(f"TextSource {s.get('guid')}: {path} is not in the archive")
                text = zf.read(f"sources/{path[11:]}").decode("utf-8")
            else:
                text = inline.text or ""
            selections = []
            for sel in s.iter(f"{{{PROJECT}}}PlainTextSelection"):
                start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
                if not 0 <= start <= end <= len(text):
                    raise InvalidProject(f"selection {sel.get('guid')}: {start}..{end} outside its source")
                refs = [r.get("targetGUID") for r in sel.iter(f"{{{PROJECT}}}CodeRef")]
                if any(r not in codes for r in refs):
                    raise InvalidProject(f"selection {sel.get('guid')}: a CodeRef points at no code")
                selections.append({"guid": sel.get("guid"), "start": start, "end": end, "codes": refs})
            sources.append({"guid": s.get("guid"), "name": s.get("name"), "text": text, "selections": selections})
    guids = [c for c in codes] + [s["guid"] for s in sources] + [x["guid"] for s in sources for x in s["selections"]]
    if len(guids) != len(set(guids)):
        raise InvalidProject("a GUID is used twice")
    return {"codes": codes, "sources": sources}


def read_qdc(data: bytes) -> dict:
    """{guid: {"name", "description", "color"}} of a REFI-QDA codebook; raises InvalidProject."""
    root = etree.fromstring(data)
    rules = {"CodeBook": (["Codes", "Sets"], set(), set()), "Codes": (["Code"], set(), set()),
             "Code": (["Description", "Code"], {"guid", "name", "isCodable"}, {"guid"}),
             "Description": ([], set(), set())}
    _check(root, CODEBOOK, rules)
    return {c.get("guid"): {"name": c.get("name"), "color": c.get("color"),
                            "description": c.findtext(f"{{{CODEBOOK}}}Description")}
            for c in root.iter(f"{{{CODEBOOK}}}Code")}
