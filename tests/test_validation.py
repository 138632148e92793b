"""One validation path for every way of creating statements: API forms, ingested records and files."""

import json

import pytest

from classifier.errors import InvalidInput
from classifier.text.readers import Document, document_from_record


@pytest.mark.parametrize("record,field", [
    ({"text": "Fine text.", "organisation": "A\u0000B"}, "organisation"),
    ({"text": "Fine text.", "title": "\u202eevil"}, "title"),
    ({"text": "Fine text.", "url": "u" * 2001}, "url"),
    ({"text": "bad \u0007 bell"}, "text"),
])
def test_records_are_checked_against_the_text_policy_and_limits(record, field):
    with pytest.raises(InvalidInput) as info:
        document_from_record(record, "notes.jsonl:3")
    assert info.value.message.startswith("notes.jsonl:3: '" + field + "'")
    assert info.value.details["field"] == f"notes.jsonl:3.{field}"


def test_a_record_text_limit_applies_only_when_given():
    long = "z" * 30_000
    assert document_from_record({"text": long}, "r").text == long  # a document: split and checked later
    with pytest.raises(InvalidInput, match="limit is 20000"):
        document_from_record({"text": long}, "r", 20_000)


def test_paragraphs_of_any_document_are_checked_before_embedding(trained):
    class Refusing:
        def embed(self, texts):
            raise AssertionError("nothing may be embedded")

    trained.__dict__["cached_embedder"] = Refusing()
    doc = Document("A short one.\n\n" + "w " * 15_000, organisation="Defect Council")
    with pytest.raises(InvalidInput, match=r"upload: 'paragraphs\[1\]' is 29999 characters; the limit is 20000"):
        trained.add_document(doc, "upload")
    with pytest.raises(InvalidInput, match=r"document: 'paragraphs\[1\]'"):
        trained.ingest_documents([doc])
    with pytest.raises(InvalidInput, match="'organisation'"):
        trained.add_document(Document("Fine.", organisation="x" * 2001))
    assert trained.store.count() == 0


def test_ingest_skips_a_file_with_a_bad_record_or_paragraph_and_keeps_the_rest(trained, tmp_path):
    bad_jsonl = tmp_path / "bad.jsonl"
    bad_jsonl.write_text(json.dumps({"text": "Staff pay.", "organisation": "O" * 500_000}) + "\n")
    long_txt = tmp_path / "long.txt"
    long_txt.write_text("Intro line.\n\n" + "word " * 6000 + "\n")
    defaults_txt = tmp_path / "fine.txt"
    defaults_txt.write_text("Delayed discharge from hospital beds rose this winter.\n")
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"text": "Staff vacancies and pay for carers.", "organisation": "Good Org"}) + "\n")
    report = trained.ingest_paths([bad_jsonl, long_txt, good], {})
    assert report.added == 1 and trained.store.count() == 1
    assert [(p.rsplit("/", 1)[-1], "'organisation'" in m or "'paragraphs[1]'" in m) for p, m in report.skipped] == [
        ("bad.jsonl", True), ("long.txt", True)]
    report = trained.ingest_paths([defaults_txt], {"organisation": "\u202eReversed"})
    assert report.added == 0 and "'organisation'" in report.skipped[0][1]
