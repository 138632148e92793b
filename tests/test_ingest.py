import json
import re

import pytest

from classifier.errors import DataError, InvalidInput
from classifier.ingest import documents_from_path


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
