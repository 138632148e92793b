"""REFI-QDA export and import (issue 14.6), checked by an independent reader (tests/refiqda_reader.py)."""

import io
import zipfile

import pytest
from lxml import etree

from tests.refiqda_reader import PROJECT, InvalidProject, read_qdc, read_qdpx

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
                             ("Harrow Vale ICB", "Records", "Caf\u00e9 owners and \U0001F3E5 staff share one care "
                                                           "record with social workers across the county.")):
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


def test_the_codebook_export_is_valid(trained):
    from classifier.exports.refiqda import codebook_xml

    codes = read_qdc(codebook_xml(trained.codebook))
    assert [c["name"] for c in codes.values()] == [t.label for t in trained.codebook.themes]
    assert all(c["color"] for c in codes.values())


def test_the_reader_is_not_a_rubber_stamp(trained, corpus):
    data, _ = trained.export_qdpx()

    def disorder(root):  # Sources before CodeBook breaks the schema's sequence
        root.insert(0, root.find(f"{{{PROJECT}}}Sources"))

    with pytest.raises(InvalidProject):
        read_qdpx(_edit(data, disorder))

    def bad_ref(root):
        root.find(f".//{{{PROJECT}}}CodeRef").set("targetGUID", "00000000-0000-4000-8000-000000000000")

    with pytest.raises(InvalidProject):
        read_qdpx(_edit(data, bad_ref))


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
