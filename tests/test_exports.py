"""Search and corpus exports with citation columns: API, CLI (classifier/exports/tabular.py)."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from classifier.exports.tabular import COLUMNS, SEARCH_COLUMNS
from tests.fakes import FAKE_EMBEDDER

TRICKY = 'She said "pay carers properly", then: a, b; and é, £3.8m.'
ROWS = [
    {"text": "Care staff vacancies keep rising and pay must improve.", "organisation": "Wexcombe County Council",
     "date": "2019-04-01", "title": "Workforce", "url": "https://wexcombe.example/w"},
    {"text": TRICKY, "organisation": "Harrow Vale ICB", "date": "2021", "title": "Pay, again"},
    {"text": "Delayed discharge from hospital beds rose this winter.", "organisation": "Harrow Vale ICB"},
]


def test_csv_is_rfc_4180():
    from classifier.exports.tabular import csv_chunks

    rows = [{"id": 1, "text": 'a "quoted", multi\nline\r\ntext', "themes": ["x", "y"], "score": None},
            {"id": 2, "text": "plain", "themes": [], "score": 0.5}]
    out = "".join(csv_chunks(rows, ("id", "text", "themes", "score"), flush_every=1))
    assert out == 'id,text,themes,score\r\n1,"a ""quoted"", multi\nline\r\ntext",x;y,\r\n2,plain,,0.5\r\n'
    assert list(csv.reader(io.StringIO(out, newline="")))[1] == ["1", 'a "quoted", multi\nline\r\ntext', "x;y", ""]


@pytest.fixture
def stored(client):
    ids = client.post("/api/v1/statements", json={"statements": ROWS}).get_json()["ids"]
    return ids


def test_search_exports_csv_with_citation_columns(client, stored):
    r = client.get("/api/v1/search", query_string={"q": "pay carers staff", "k": 3, "format": "csv"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == 'attachment; filename="joinedup-search-pay-carers-staff.csv"'
    raw = r.get_data()
    raw.decode("utf-8")  # UTF-8 throughout
    assert raw.startswith(b"id,organisation,date,title,url,document_id,paragraph_index,themes,score,text,copies\r\n")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == SEARCH_COLUMNS and len(rows) == 3
    by_id = {int(row["id"]): row for row in rows}
    assert by_id[stored[1]]["text"] == TRICKY  # quotes, commas, newlines survive the round trip
    assert by_id[stored[1]]["title"] == "Pay, again" and by_id[stored[1]]["date"] == "2021"
    assert by_id[stored[0]]["url"] == "https://wexcombe.example/w"
    statement = client.get(f"/api/v1/statements/{stored[0]}").get_json()
    assert by_id[stored[0]]["themes"] == ";".join(t["id"] for t in statement["themes"])
    page = client.get("/api/v1/search", query_string={"q": "pay carers staff", "k": 3}).get_json()
    assert [int(row["id"]) for row in rows] == [h["id"] for h in page["results"]]
    assert [float(row["score"]) for row in rows] == [h["score"] for h in page["results"]]


def test_search_exports_json_lines_in_the_ranking_order(client, stored):
    r = client.get("/api/v1/search", query_string={"q": "hospital beds", "format": "jsonl", "sort": "date"})
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.get_data(as_text=True).splitlines()]
    assert all(tuple(line) == SEARCH_COLUMNS for line in lines)
    assert [line["date"] for line in lines] == ["2019-04-01", "2021", None]
    assert isinstance(lines[0]["themes"], list)


def test_export_pages_go_past_the_json_page_limit_but_not_the_ranking_depth(client, stored):
    assert client.get("/api/v1/search", query_string={"q": "x", "k": 101}).status_code == 422
    assert client.get("/api/v1/search", query_string={"q": "x", "k": 500, "format": "csv"}).status_code == 200
    assert client.get("/api/v1/search", query_string={"q": "x", "k": 1001, "format": "csv"}).status_code == 422
    bad = client.get("/api/v1/search", query_string={"q": "x", "format": "xlsx"})
    assert bad.status_code == 422 and bad.get_json()["error"]["message"].startswith("unknown format")


def test_statements_are_paged_in_id_order_with_filters(client, stored):
    first = client.get("/api/v1/statements", query_string={"limit": 2}).get_json()
    assert [s["id"] for s in first["statements"]] == stored[:2]
    assert first["total"] == 3 and first["has_more"] and first["offset"] == 0
    rest = client.get("/api/v1/statements", query_string={"limit": 2, "offset": 2}).get_json()
    assert [s["id"] for s in rest["statements"]] == stored[2:] and not rest["has_more"]
    harrow = client.get("/api/v1/statements", query_string={"organisation": "harrow vale icb", "format": "jsonl"})
    lines = [json.loads(line) for line in harrow.get_data(as_text=True).splitlines()]
    assert [line["id"] for line in lines] == stored[1:] and all(tuple(line) == COLUMNS for line in lines)
    assert all(line["score"] is None for line in lines)
    dated = client.get("/api/v1/statements", query_string={"since": "2020", "format": "csv"})
    assert [int(r["id"]) for r in csv.DictReader(io.StringIO(dated.get_data(as_text=True)))] == [stored[1]]
    assert dated.headers["Content-Disposition"] == 'attachment; filename="joinedup-statements-1-1.csv"'


@pytest.fixture
def run(trained, monkeypatch):
    s = trained.settings
    for key, value in {"DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir, "TRAINING_DATA_DIR": s.training_data_dir,
                       "EMBEDDING_MODEL": FAKE_EMBEDDER}.items():
        monkeypatch.setenv(f"JOINEDUP_{key}", str(value))
    from service.cli import cli

    return lambda *args: CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_exports_the_corpus_and_the_hits(run, trained, tmp_path):
    from classifier.storage.records import NewStatement

    ids = trained.add_statements([NewStatement(r["text"], r["organisation"], r.get("date"), r.get("title"),
                                               r.get("url")) for r in ROWS]).ids
    out = tmp_path / "corpus.csv"
    result = run("export", "csv", "--organisation", "HARROW VALE ICB", "-o", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [int(r["id"]) for r in rows] == ids[1:] and rows[0]["text"] == TRICKY
    lines = run("export", "jsonl").output.splitlines()
    assert [json.loads(line)["id"] for line in lines] == ids
    hits = run("search", "pay carers staff", "--format", "csv", "-k", "2").output
    assert hits.startswith(",".join(SEARCH_COLUMNS)) and len(list(csv.DictReader(io.StringIO(hits)))) == 2


def test_cli_pages_and_marks_the_whole_paragraph(run, trained):
    from classifier.storage.records import NewStatement

    trained.add_statements([NewStatement(f"Care staff pay must rise. Vacancies are high in area {i}.", f"Org {i}",
                                         f"20{10 + i}-01-01") for i in range(4)])
    first = run("search", "vacancies high", "-k", "2", "--mode", "keyword").output
    assert "more: --offset 2" in first and ">>>Vacancies are high in area" in first
    assert first.count("    Care staff pay must rise. >>>Vacancies") == 2
    second = run("search", "vacancies high", "-k", "2", "--offset", "2", "--mode", "keyword").output
    assert " 3. [" in second and " 4. [" in second and "more:" not in second
    oldest = run("search", "vacancies high", "--sort", "date", "--mode", "keyword").output
    assert oldest.index("2010-01-01") < oldest.index("2013-01-01")


def test_the_highlight_is_bold_on_a_terminal_and_marked_elsewhere(monkeypatch):
    from service.commands import _highlighter

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert _highlighter(True)("best") == "\x1b[1mbest\x1b[0m"
    assert _highlighter(False)("best") == ">>>best<<<"
    monkeypatch.setenv("NO_COLOR", "1")
    assert _highlighter(True)("best") == ">>>best<<<"
