import json
import os
import subprocess
import sys

import pytest

from tests.fakes import FAKE_EMBEDDER
from click.testing import CliRunner

from classifier.storage.records import Filters
from service.cli import cli


def _stored(pipe):
    return list(pipe.store.get(pipe.store.filter_ids(Filters())).values())


@pytest.fixture
def run(trained, monkeypatch):
    s = trained.settings
    for key, value in {"DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir, "TRAINING_DATA_DIR": s.training_data_dir,
                       "EMBEDDING_MODEL": FAKE_EMBEDDER}.items():
        monkeypatch.setenv(f"JOINEDUP_{key}", str(value))

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_tag_table_and_json(run, trained):
    text = "Staff pay and vacancies.\n\nDelayed discharge from beds."
    table = run("tag", "-", input=text)
    assert table.exit_code == 0 and "[0] Staff pay and vacancies." in table.output and "document:" in table.output
    body = json.loads(run("tag", "--json", "-", input=text).output)
    assert body["model"]["version"] == trained.registry.active_version()
    assert [p["text"] for p in body["paragraphs"]] == ["Staff pay and vacancies.", "Delayed discharge from beds."]


def test_tag_jsonl_writes_one_line_per_input(run, trained, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "staff pay\\n\\nand beds"}\n{"text": "records sharing"}\n')
    out = run("tag", "--jsonl", str(src))
    lines = [json.loads(l) for l in out.output.splitlines()]
    assert [l["id"] for l in lines] == ["a", 2]
    assert all(set(l) == {"id", "model", "themes", "scores"} and len(l["scores"]) == 4 for l in lines)
    assert {l["model"] for l in lines} == {trained.registry.active_version()}
    for l in lines:
        ranked = [l["scores"][t] for t in l["themes"]]
        assert ranked == sorted(ranked, reverse=True)


@pytest.mark.parametrize("args,input,message", [
    (["tag", "/no/such/file"], None, "no such file"),
    (["tag", "-"], "   \n", "the input is empty"),
    (["tag", "--jsonl", "-"], '{"text": "ok"}\nnot json\n', "line 2: not valid JSON"),
    (["search", "x", "--since", "2020-02-30"], None, "not a real calendar date"),
    (["search", "x", "--theme", "nonsense"], None, "unknown theme id(s): nonsense"),
    (["search", "   "], None, "the query is empty"),
    (["evaluate", "--model", "../../etc"], None, "no model version"),
    (["ingest", "--date", "yesterday", "x.txt"], None, "--date must be a date"),
])
def test_bad_input_is_one_line_and_nonzero(run, args, input, message):
    result = run(*args, input=input)
    assert result.exit_code == 1
    err = result.stderr if hasattr(result, "stderr") else result.output
    assert message in err and "Traceback" not in err
    assert len([l for l in err.splitlines() if l.startswith("joinedup: error:")]) == 1


def test_ingest_search_and_reindex(run, tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"text": "Care staff pay must rise to fill vacancies.", "organisation": "Wexcombe",
                               "date": "2016-01-01", "title": "Pay"}) + "\n")
    out = run("ingest", str(src))
    assert out.exit_code == 0 and "added 1, duplicates 0, skipped 0" in out.output
    assert "added 0, duplicates 1" in run("ingest", str(src)).output
    found = json.loads(run("search", "staff pay vacancies", "--json").output)
    assert found["results"][0]["organisation"] == "Wexcombe"
    assert "1 statements" in run("reindex").output
    skipped = run("ingest", str(tmp_path / "nope.pdf"))
    assert skipped.exit_code == 1 and "skipped" in (skipped.stderr or skipped.output)


def test_ingest_stores_the_good_files_and_fails_on_a_bad_one(run, trained, tmp_path):
    from tests.test_ingest import _docx_bytes

    bad, good = tmp_path / "bad.docx", tmp_path / "good.txt"
    bad.write_bytes(_docx_bytes(tmp_path, b"<w:document><broken"))
    good.write_text("Councils and the NHS pooled their budgets for hospital discharge.\n")
    out = run("ingest", str(bad), str(good))
    assert out.exit_code == 1 and "added 1, duplicates 0, skipped 1" in out.stdout
    errors = [l for l in out.stderr.splitlines() if "bad.docx" in l]
    assert len(errors) == 1 and "cannot be read as .docx" in errors[0] and "Traceback" not in out.stderr
    assert [s.text for s in _stored(trained)] == ["Councils and the NHS pooled their budgets for hospital discharge."]


def test_ingest_title_and_partial_date_apply_to_a_text_file(run, trained, tmp_path):
    src = tmp_path / "board_paper.txt"
    src.write_text("Care staff pay must rise to fill vacancies.\n")
    out = run("ingest", str(src), "--title", "Board paper, June", "--date", "2022-06")
    assert out.exit_code == 0, out.output
    [stored] = _stored(trained)
    assert (stored.title, stored.date) == ("Board paper, June", "2022-06")
    found = json.loads(run("search", "staff pay", "--since", "2022-06-01", "--until", "2022-06-30", "--json").output)
    assert [r["date"] for r in found["results"]] == ["2022-06"]
    later_day = run("search", "staff pay", "--since", "2022-06-15", "--until", "2022-06", "--json")
    assert later_day.exit_code == 0 and len(json.loads(later_day.output)["results"]) == 1
    assert json.loads(run("search", "staff pay", "--since", "2022-07", "--json").output)["results"] == []


def test_search_quotes_a_whole_sentence_with_a_decimal_in_it(run, tmp_path):
    src = tmp_path / "money.jsonl"
    src.write_text(json.dumps({"text": "Councils were promised a total of £6.2 billion for care. The gap remains.",
                               "organisation": "Wexcombe"}) + "\n")
    run("ingest", str(src))
    out = run("search", "councils promised total", "--mode", "keyword")
    # the whole paragraph, the best sentence marked (>>> <<< when the output is not a terminal)
    assert ">>>Councils were promised a total of £6.2 billion for care.<<< The gap remains." in out.output


@pytest.mark.parametrize("args", [["themes"], ["tag", "--jsonl", "-"], ["models", "list"]])
def test_a_closed_pipe_ends_any_command_quietly(trained, args):
    # `joinedup themes | head`: the reader goes away and the next write fails with EPIPE. The read end is
    # closed before the command starts, so its first write fails every time.
    s = trained.settings
    env = dict(os.environ, JOINEDUP_DATA_DIR=str(s.data_dir), JOINEDUP_MODELS_DIR=str(s.models_dir),
               JOINEDUP_TRAINING_DATA_DIR=str(s.training_data_dir), JOINEDUP_EMBEDDING_MODEL=FAKE_EMBEDDER)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-c", "from service.cli import main; main()", *args],
                              input='{"text": "staff pay"}\n' * 3000, stdout=write_end, stderr=subprocess.PIPE,
                              text=True, env=env, timeout=120)
    finally:
        os.close(write_end)
    assert done.stderr == "" and done.returncode == 141


def test_train_if_missing_does_nothing_when_a_model_is_active(run, trained):
    out = run("train", "--if-missing")
    assert out.exit_code == 0 and "not retraining" in out.output
    assert len(trained.registry.versions()) == 1
