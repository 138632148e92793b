"""REFI-QDA export and import (issue 14.6): every export is validated against the published REFI-QDA 1.0 schemas
(tests/schemas/refiqda) and read by an independent reader (tests/refiqda_reader.py)."""

import io
import uuid
import zipfile
from functools import cache
from pathlib import Path

import pytest
from lxml import etree

from tests.refiqda_reader import PROJECT, InvalidProject
from tests.refiqda_reader import read_qdc as _read_qdc
from tests.refiqda_reader import read_qdpx as _read_qdpx

SCHEMAS = Path(__file__).parent / "schemas" / "refiqda"


@cache
def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / name)))


def check_schema(name: str, xml: bytes) -> None:
    xsd = schema(name)
    if not xsd.validate(etree.fromstring(xml)):
        raise InvalidProject(f"not valid against {name}: {xsd.error_log}")


def read_qdpx(data: bytes) -> dict:
    """The project, after project.qde is validated against Project.xsd."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        check_schema("Project.xsd", zf.read("project.qde"))
    return _read_qdpx(data)


def read_qdc(data: bytes) -> dict:
    check_schema("Codebook.xsd", data)
    return _read_qdc(data)

DOC = """Wexcombe joins up hospital discharge

The county council and the hospital trust have merged their discharge teams, so that a patient who is well
enough to leave hospital gets home care arranged in one conversation.

The new team will:

- share one waiting list for care at home
- fund forty step-down beds from the pooled budget

Care workers will be paid the real living wage from April, funded from the council's budget.

Media enquiries: press@wexcombe.example
"""


@pytest.fixture
def corpus(client):
    ids = []
    for org, title, text in (("Wexcombe County Council", "Discharge", DOC),
                             ("Harrow Vale ICB", "Records", ("Caf\u00e9 owners and \U0001F3E5 staff share one care "
                                                            "record with social workers across the county."))):
        resp = client.post("/api/v1/documents", json={"text": text, "organisation": org, "title": title,
                                                      "date": "2024-03-12"})
        assert resp.status_code == 201
        ids.append(resp.get_json()["document"]["id"])
    return ids


def test_the_export_is_a_valid_project_whose_selections_cut_exactly_the_stored_paragraphs(trained, corpus, client):
    data, summary = trained.export_qdpx()
    project = read_qdpx(data)
    themes = trained.codebook.themes
    assert sorted(c["name"] for c in project["codes"].values()) == sorted(t.label for t in themes)
    assert {c["description"] for c in project["codes"].values()} == {t.definition for t in themes}
    assert len(project["sources"]) == len(corpus) == summary.sources
    name_of = {g: c["name"] for g, c in project["codes"].items()}
    label_of = {t.id: t.label for t in themes}
    selections = 0
    for source in project["sources"]:
        doc = next(d for d in (trained.store.get_document(i, with_text=True) for i in corpus)
                   if d.text == source["text"])
        coded = {(p.start, p.end): p for p in doc.paragraphs if p.themes}
        assert {(s["start"], s["end"]) for s in source["selections"]} == set(coded)
        for sel in source["selections"]:
            paragraph = coded[(sel["start"], sel["end"])]
            # code points, as Python counts them: the emoji and the accent do not shift what is cut
            assert " ".join(source["text"][sel["start"]:sel["end"]].split()) == paragraph.text
            assert sorted(name_of[c] for c in sel["codes"]) == sorted(label_of[t["id"]] for t in paragraph.themes)
            selections += 1
    assert selections == summary.selections > 0
    assert read_qdpx(trained.export_qdpx()[0])["codes"].keys() == project["codes"].keys()  # stable GUIDs


def test_importing_the_export_turns_its_codings_into_labels(trained, corpus):
    data, summary = trained.export_qdpx()
    added, result = trained.import_qdpx(data, "round-trip.qdpx")
    assert added == summary.selections and not result.unknown_codes and not result.unmatched
    labels = trained.store.labels()
    assert {lab["name"] for lab in labels} == {"REFI-QDA import round-trip.qdpx"}
    for lab in labels:
        stored = trained.store.get_one(lab["statement_id"])
        assert lab["text"] == stored.text and lab["themes"] == [t["id"] for t in stored.themes]


def _edit(data: bytes, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    root = etree.fromstring(src.read("project.qde"))
    edit(root)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name in src.namelist():
            zf.writestr(name, etree.tostring(root) if name == "project.qde" else src.read(name))
    return out.getvalue()


def test_an_analysts_corrections_come_back_as_labels_and_unknown_codes_are_reported(trained, corpus):
    data, _ = trained.export_qdpx()
    ns = {"q": PROJECT}

    def analyst(root):
        codes = root.find("q:CodeBook/q:Codes", ns)
        new = etree.SubElement(codes, f"{{{PROJECT}}}Code", guid="0b7e9d3c-1111-4222-8333-944455556666",
                               name="Transport", isCodable="true")
        workforce = next(c for c in codes if c.get("name").lower() == "workforce")
        first, second = root.findall(".//q:PlainTextSelection", ns)[:2]
        for coding in first.findall("q:Coding", ns):   # the analyst says: no theme here
            first.remove(coding)
        for coding in second.findall("q:Coding", ns):  # ... and: workforce, and a code of their own
            second.remove(coding)
        for target in (workforce.get("guid"), new.get("guid")):
            c = etree.SubElement(second, f"{{{PROJECT}}}Coding", guid=f"0b7e9d3c-2222-4222-8333-94445555{len(second):04d}")
            etree.SubElement(c, f"{{{PROJECT}}}CodeRef", targetGUID=target)

    edited = _edit(data, analyst)
    read_qdpx(edited)
    added, result = trained.import_qdpx(edited, "analyst.qdpx")
    assert result.unknown_codes == ["Transport"]
    themes = [lab["themes"] for lab in trained.store.labels()]
    assert themes[0] == [] and themes[1] == ["workforce"] and added == len(themes)


def test_an_export_that_nothing_passes_is_still_a_valid_project(trained, corpus):
    data, summary = trained.export_qdpx(_filters(organisations=("nobody at all",)))
    assert summary.sources == 0 and read_qdpx(data)["sources"] == []


def test_the_codebook_export_is_valid(trained):
    from classifier.exports.refiqda import codebook_xml

    codes = read_qdc(codebook_xml(trained.codebook))
    assert [c["name"] for c in codes.values()] == [t.label for t in trained.codebook.themes]
    assert all(c["color"] for c in codes.values())


def test_the_reader_and_the_schemas_are_not_rubber_stamps(trained, corpus):
    data, _ = trained.export_qdpx()

    def disorder(root):  # Sources before CodeBook breaks the schema's sequence
        root.insert(0, root.find(f"{{{PROJECT}}}Sources"))

    for reader in (read_qdpx, _read_qdpx):
        with pytest.raises(InvalidProject):
            reader(_edit(data, disorder))

    def bad_guid(root):
        root.find(f".//{{{PROJECT}}}PlainTextSelection").set("guid", "paragraph-1")

    with pytest.raises(InvalidProject, match="Project.xsd"):
        read_qdpx(_edit(data, bad_guid))

    def bad_ref(root):
        root.find(f".//{{{PROJECT}}}CodeRef").set("targetGUID", "00000000-0000-4000-8000-000000000000")

    with pytest.raises(InvalidProject):
        read_qdpx(_edit(data, bad_ref))
    from classifier.exports.refiqda import codebook_xml

    qdc = codebook_xml(trained.codebook).replace(b'isCodable="true"', b'isCodable="yes"', 1)
    with pytest.raises(InvalidProject, match="Codebook.xsd"):
        read_qdc(qdc)


def test_the_exports_over_http(client, corpus):
    resp = client.get("/api/v1/exports/qdpx", query_string={"organisation": "harrow vale icb"})
    assert resp.status_code == 200 and "joinedup.qdpx" in resp.headers["Content-Disposition"]
    assert len(read_qdpx(resp.data)["sources"]) == 1
    qdc = client.get("/api/v1/exports/qdc")
    assert qdc.status_code == 200 and len(read_qdc(qdc.data)) == 13
    assert client.get("/api/v1/exports/qdpx", query_string={"theme": "transport"}).status_code == 422


@pytest.mark.parametrize("data, words", [
    (b"not a zip", "not a QDPX file"),
    (b"PK\x05\x06" + b"\0" * 18, "no project.qde"),
])
def test_bad_projects_are_one_line_errors(trained, data, words):
    from classifier.errors import InvalidInput

    with pytest.raises(InvalidInput, match=words):
        trained.import_qdpx(data, "bad.qdpx")
    assert trained.store.labels() == []


def test_the_command_line_round_trip(trained, corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from service.cli import cli
    from tests.fakes import FAKE_EMBEDDER

    s = trained.settings
    for key, value in {"DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir, "TRAINING_DATA_DIR": s.training_data_dir,
                       "EMBEDDING_MODEL": FAKE_EMBEDDER}.items():
        monkeypatch.setenv(f"JOINEDUP_{key}", str(value))
    run = CliRunner()
    out = tmp_path / "corpus.qdpx"
    res = run.invoke(cli, ["export", "qdpx", str(out), "--since", "2024"], catch_exceptions=False)
    assert res.exit_code == 0 and "2 documents" in res.output
    read_qdpx(out.read_bytes())
    res = run.invoke(cli, ["export", "qdc", str(tmp_path / "codes.qdc")], catch_exceptions=False)
    assert res.exit_code == 0 and len(read_qdc((tmp_path / "codes.qdc").read_bytes())) == 13
    res = run.invoke(cli, ["import", "qdpx", str(out)], catch_exceptions=False)
    assert res.exit_code == 0 and "imported" in res.output and trained.store.labels()
    (tmp_path / "bad.qdpx").write_bytes(b"nope")
    res = run.invoke(cli, ["import", "qdpx", str(tmp_path / "bad.qdpx")], catch_exceptions=False)
    assert res.exit_code == 1 and "not a QDPX file" in res.output and "Traceback" not in res.output
    res = run.invoke(cli, ["import", "qdpx", str(tmp_path / "missing.qdpx")], catch_exceptions=False)
    assert res.exit_code == 1 and "cannot be read" in res.output


def test_titles_and_paragraphs_with_characters_xml_cannot_hold_still_export(trained, client):
    # A form feed (a PDF page break) and U+FFFE are accepted text but not XML 1.0 characters (was a 500).
    resp = client.post("/api/v1/documents", json={
        "text": "Pooled budgets for home care\fand the care workforce paid fairly, so people leave hospital sooner.",
        "organisation": "Wexcombe County Council", "title": "Pooled\fbudgets \ufffe"})
    assert resp.status_code == 201
    got = client.get("/api/v1/exports/qdpx")
    assert got.status_code == 200
    (source,) = read_qdpx(got.data)["sources"]
    assert "\f" in source["text"] and source["name"].endswith("Pooled budgets  ")


def _lone_statement(pipe, text: str, theme: str) -> int:
    """A statement stored without a document, as a store made before documents were holds it."""
    from classifier.storage.records import NewStatement

    result = pipe.store.add([NewStatement(text, "Harrow Vale ICB", "2021-06")], pipe.embedder.embed([text]),
                            [{theme: 0.9}], {theme: 0.5}, "v0")
    return result.ids[0]


def test_a_statement_without_a_document_is_a_source_whose_whole_text_is_one_selection(trained, corpus):
    text = "Every care home resident will have a named GP and a care plan shared with the council."
    sid = _lone_statement(trained, text, "workforce")
    assert trained.store.get_one(sid).document_id is None
    data, summary = trained.export_qdpx()
    project = read_qdpx(data)
    (source,) = [s for s in project["sources"] if s["text"] == text]
    (selection,) = source["selections"]
    assert (selection["start"], selection["end"]) == (0, len(text))
    assert [project["codes"][c]["name"] for c in selection["codes"]] == ["Workforce"]
    assert summary.sources == len(corpus) + 1
    assert not [s for s in read_qdpx(trained.export_qdpx(_filters(organisations=("wexcombe county council",)))[0])
                ["sources"] if s["text"] == text]  # filters apply to it as to documents

    _, result = trained.import_qdpx(data, "lone.qdpx")
    assert not result.unmatched
    (label,) = [lab for lab in trained.store.labels() if lab["statement_id"] == sid]
    assert label["text"] == text and label["themes"] == ["workforce"]


def _filters(**kw):
    from classifier.storage.records import Filters

    return Filters(**kw)


def _rewrite(data: bytes, edit_xml, edit_files) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    root = etree.fromstring(src.read("project.qde"))
    files = {n: src.read(n) for n in src.namelist() if n != "project.qde"}
    edit_xml(root)
    files = edit_files(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("project.qde", etree.tostring(root))
        for name, raw in files.items():
            zf.writestr(name, raw)
    return out.getvalue()


def test_sources_given_new_guids_by_a_qda_tool_are_found_by_their_description(trained, corpus):
    sid = _lone_statement(trained, "Councils and the NHS will share one workforce plan for care.", "workforce")
    data, summary = trained.export_qdpx()
    renamed = {}

    def new_guids(root):
        for source in root.iter(f"{{{PROJECT}}}TextSource"):
            renamed[source.get("guid")] = fresh = str(uuid.uuid4())
            source.set("guid", fresh)
            source.set("plainTextPath", f"internal://{fresh}.txt")
        for selection in root.iter(f"{{{PROJECT}}}PlainTextSelection"):
            selection.set("guid", str(uuid.uuid4()))

    edited = _rewrite(data, new_guids, lambda files: {f"sources/{renamed[n[8:-4]]}.txt": raw
                                                      for n, raw in files.items()})
    read_qdpx(edited)
    added, result = trained.import_qdpx(edited, "reissued.qdpx")
    assert added == summary.selections and not result.unmatched
    labels = trained.store.labels()
    assert all(lab["statement_id"] is not None for lab in labels) and sid in {lab["statement_id"] for lab in labels}


def test_selections_whose_offsets_moved_are_matched_by_their_text(trained, corpus):
    # A tool that stores line ends as CRLF moves every offset after the first line; the text still matches.
    data, summary = trained.export_qdpx()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        texts = {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("sources/")}

    def shift(root):
        for source in root.iter(f"{{{PROJECT}}}TextSource"):
            text = texts[f"sources/{source.get('guid')}.txt"]
            for sel in source.iter(f"{{{PROJECT}}}PlainTextSelection"):
                for attr in ("startPosition", "endPosition"):
                    at = int(sel.get(attr))
                    sel.set(attr, str(at + text[:at].count("\n")))

    moved = _rewrite(data, shift, lambda files: {n: raw.replace(b"\n", b"\r\n") for n, raw in files.items()})
    read_qdpx(moved)
    added, result = trained.import_qdpx(moved, "crlf.qdpx")
    assert added == summary.selections and not result.unmatched
    assert all(lab["statement_id"] is not None for lab in trained.store.labels())
