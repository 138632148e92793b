import json
import re
from pathlib import Path

import pytest

from classifier.errors import DataError, InvalidInput
from classifier.text.readers import documents_from_path


def _pdf_bytes(lines: list[str]) -> bytes:
    """A minimal one-page PDF with the lines as text (enough for pypdf's extractor)."""
    text = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({l}) Tj T*" for l in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_jsonl_records_and_defaults(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps({"text": "One.", "organisation": "A", "date": "2019-01-02"}) + "\n\n"
                 + json.dumps({"text": "Two."}) + "\n")
    docs = documents_from_path(p, {"organisation": "Default Org", "date": "2020-05-05"})
    assert [(d.text, d.organisation, d.date) for d in docs] == [("One.", "A", "2019-01-02"),
                                                               ("Two.", "Default Org", "2020-05-05")]


def test_csv_needs_a_text_column(tmp_path):
    good = tmp_path / "g.csv"
    good.write_text("text,organisation,date\n\"Pooled budgets, again.\",B,2018-03-04\n")
    assert documents_from_path(good)[0].organisation == "B"
    bad = tmp_path / "b.csv"
    bad.write_text("body\nx\n")
    with pytest.raises(InvalidInput, match="'text' column"):
        documents_from_path(bad)


def test_plain_text_and_markdown(tmp_path):
    p = tmp_path / "my_response.md"
    p.write_text("# Our response\n\nWe support the BCF.\n")
    doc = documents_from_path(p)[0]
    assert doc.title == "my response" and "We support the BCF." in doc.text


def test_the_real_extractors_are_declared_dependencies():
    # lxml 6 moved lxml.html.clean (needed by jusText, needed by trafilatura) into lxml_html_clean; an install
    # that lacked it could not read HTML at all, and nothing in pyproject.toml said so.
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\s<>=!~\[;]", d, maxsplit=1)[0].lower().replace("_", "-") for d in project["dependencies"]}
    assert {"trafilatura", "lxml-html-clean", "pypdf", "python-docx"} <= names


def test_the_html_extractor_imports():
    # Deliberately not importorskip: HTML ingest without its extractor is a broken install, and the suite
    # must fail on it rather than quietly skip the HTML tests.
    import lxml_html_clean  # noqa: F401
    import trafilatura

    assert "equal partners" in trafilatura.extract(
        "<html><body><article><p>" + "Councils must be equal partners in the new boards. " * 5
        + "</p></article></body></html>")


def test_html_main_text_without_boilerplate(tmp_path):
    p = tmp_path / "page.html"
    body = " ".join(["Councils must be equal partners in integrated care systems, and the funding must follow."] * 3)
    p.write_text(f"<html><head><title>Statement on ICSs</title></head><body><nav>Home | About | Contact us</nav>"
                 f"<article><h1>Statement on ICSs</h1><p>{body}</p><p>{body}</p></article>"
                 f"<footer>Cookie settings. Copyright 2024.</footer></body></html>")
    doc = documents_from_path(p)[0]
    assert "equal partners" in doc.text and "Cookie settings" not in doc.text


def test_pdf_text_is_extracted(tmp_path):
    p = tmp_path / "paper.pdf"
    p.write_bytes(_pdf_bytes(["Delayed discharges rose this winter.", "We need more step-down beds."]))
    doc = documents_from_path(p)[0]
    assert "Delayed discharges" in doc.text and "step-down" in doc.text


def test_docx_paragraphs(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("First paragraph about the workforce.")
    d.add_paragraph("Second paragraph about data sharing.")
    d.core_properties.title = "Board paper"
    p = tmp_path / "paper.docx"
    d.save(p)
    doc = documents_from_path(p)[0]
    assert doc.title == "Board paper" and doc.text == ("First paragraph about the workforce.\n\n"
                                                        "Second paragraph about data sharing.")


def _docx_bytes(tmp_path, document_xml: bytes | None = None) -> bytes:
    """A real Word file from python-docx, optionally with word/document.xml replaced."""
    import zipfile

    import docx

    d = docx.Document()
    d.add_paragraph("A paragraph about pooled budgets.")
    src, out = tmp_path / "src.docx", tmp_path / "out.docx"
    d.save(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, document_xml if document_xml is not None and item.filename == "word/document.xml"
                          else data)
    return out.read_bytes()


def _whole_files(tmp_path):
    """A .txt, .html, .pdf and .docx file, each of which carries a title (and the page a date) of its own."""
    import docx

    body = "Councils must be equal partners in integrated care systems, and the funding must follow. " * 3
    (tmp_path / "notes_2019.txt").write_text(body)
    (tmp_path / "page.html").write_text(
        f"<html><head><title>Page title</title><meta name='date' content='2019-03-04'></head>"
        f"<body><article><p>{body}</p><p>{body}</p></article></body></html>")
    pdf = _pdf_bytes(["Delayed discharges rose this winter."]).replace(
        b"/Root 1 0 R", b"/Root 1 0 R /Info << /Title (PDF title) >>")
    (tmp_path / "paper.pdf").write_bytes(pdf)
    d = docx.Document()
    d.add_paragraph("A paragraph about the workforce.")
    d.core_properties.title = "Word title"
    d.save(tmp_path / "paper.docx")
    return [tmp_path / n for n in ("notes_2019.txt", "page.html", "paper.pdf", "paper.docx")]


def test_whole_files_take_their_own_titles_when_the_caller_gives_none(tmp_path):
    docs = [documents_from_path(p)[0] for p in _whole_files(tmp_path)]
    assert [d.title for d in docs] == ["notes 2019", "Page title", "PDF title", "Word title"]
    assert docs[1].date == "2019-03-04"


def test_the_callers_values_win_over_what_a_whole_file_says_about_itself(tmp_path):
    given = {"title": "My title", "organisation": "Wexcombe Council", "date": "2022-06", "url": "https://example.org/x"}
    for p in _whole_files(tmp_path):
        doc = documents_from_path(p, given)[0]
        assert (doc.title, doc.organisation, doc.date, doc.url) == tuple(given.values()), p.name


def test_records_keep_their_own_fields_over_the_callers(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text(json.dumps({"text": "One.", "title": "Own", "date": "2019"}) + "\n" + json.dumps({"text": "Two."}))
    docs = documents_from_path(p, {"title": "Given", "date": "2022-06"})
    assert [(d.title, d.date) for d in docs] == [("Own", "2019"), ("Given", "2022-06")]


@pytest.mark.parametrize("name,make", [
    ("bad.docx", lambda tmp: _docx_bytes(tmp, b"<w:document><broken")),  # lxml XMLSyntaxError
    ("bad.csv", lambda tmp: b"text\n\"" + b"x" * 200_000 + b"\"\n"),      # csv.Error: field over the limit
])
def test_any_extractor_failure_is_a_one_line_error_naming_the_file(tmp_path, name, make):
    p = tmp_path / name
    p.write_bytes(make(tmp_path))
    with pytest.raises((InvalidInput, DataError)) as info:
        documents_from_path(p)
    assert info.value.message.startswith(name) and "\n" not in info.value.message


def test_an_unexpected_exception_inside_an_extractor_is_caught_at_the_reader(tmp_path, monkeypatch):
    import pypdf

    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded\nwhile parsing an object")

    monkeypatch.setattr(pypdf, "PdfReader", explode)
    p = tmp_path / "deep.pdf"
    p.write_bytes(_pdf_bytes(["x"]))
    with pytest.raises(InvalidInput, match=r"^deep.pdf: cannot be read as .pdf \(RecursionError: maximum recursion "
                                           r"depth exceeded while parsing an object\)$"):
        documents_from_path(p)


def test_a_missing_extractor_is_a_config_error_not_a_traceback(tmp_path, monkeypatch):
    import builtins

    from classifier.errors import ConfigError

    real_import = builtins.__import__

    def no_trafilatura(name, *args, **kwargs):
        if name == "trafilatura":
            raise ImportError("cannot import name 'Cleaner' from 'lxml.html.clean'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    p = tmp_path / "page.html"
    p.write_text("<p>Text.</p>")
    with pytest.raises(ConfigError, match=r"page.html: the .html reader cannot be loaded"):
        documents_from_path(p)


@pytest.mark.parametrize("name,content,error", [
    ("x.pdf", b"not a pdf at all", InvalidInput),
    ("x.docx", b"PK not really", InvalidInput),
    ("x.jsonl", b'{"text": "ok"}\n{broken', InvalidInput),
    ("x.jsonl", b'{"text": "ok", "date": "2020-13-45"}\n', InvalidInput),
    ("x.txt", b"\xff\xfe\x00bad", InvalidInput),
    ("x.exe", b"MZ", DataError),
])
def test_unreadable_files_give_one_line_errors(tmp_path, name, content, error):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(error) as info:
        documents_from_path(p)
    assert "\n" not in info.value.message


def test_a_malformed_docx_is_skipped_and_the_other_files_are_stored(trained, tmp_path):
    bad, good = tmp_path / "bad.docx", tmp_path / "good.txt"
    bad.write_bytes(_docx_bytes(tmp_path, b"<w:document><broken"))
    good.write_text("Councils and the NHS pooled their budgets for hospital discharge.\n")
    report = trained.ingest_paths([bad, good], {})
    assert report.added == 1 and [Path(where).name for where, _ in report.skipped] == ["bad.docx"]


def test_ingest_reports_skips_and_keeps_the_rest(trained, tmp_path):
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "Staff pay.\n\nDelayed discharge from beds.", "organisation": "A"}) + "\n")
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"garbage")
    report = trained.ingest_paths([bad, good, tmp_path / "missing.txt"], {})
    assert report.added == 2 and len(report.skipped) == 2
    again = trained.ingest_paths([good], {})
    assert again.added == 0 and again.duplicates == 2
    stored = trained.store.get(again.ids)
    assert [s.paragraph_index for s in stored.values()] == [0, 1]
    assert all(s.document_id == stored[again.ids[0]].document_id for s in stored.values())
