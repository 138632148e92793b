"""Documents through the API (issue 12): one storage path for JSON, uploads, POST /statements and search hits."""

import io

import pytest

from classifier.text.paragraphs import rejoin_lines
from classifier.text.visible import plain

TEXT = """Wexcombe joins up hospital discharge

The county council and the hospital trust have merged their discharge teams, so that a patient who is well
enough to leave hospital gets home care arranged in one conversation.

The new team will:

- share one waiting list for care at home
- fund forty step-down beds from the pooled budget

"People should not wait in a ward for a care package," said the cabinet member for adult social care.

ENDS

Media enquiries: press@wexcombe.example
"""

FIELDS = {"organisation": "Wexcombe County Council", "date": "2024-03-12", "title": "Wexcombe joins up discharge",
          "url": "https://wexcombe.example/news/discharge"}


def _error(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def _post(client, **extra):
    return client.post("/api/v1/documents", json=dict(FIELDS, text=TEXT, **extra))


def test_a_document_is_stored_whole_and_get_returns_what_post_returned(client):
    resp = _post(client)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    doc = resp.get_json()["document"]
    assert resp.headers["Location"] == f"/api/v1/documents/{doc['id']}"
    assert {k: doc[k] for k in FIELDS} == FIELDS
    assert client.get(f"/api/v1/documents/{doc['id']}").get_json() == {"document": doc}

    paras = doc["paragraphs"]
    assert [p["index"] for p in paras] == list(range(len(paras)))
    kinds = {p["text"]: p["kind"] for p in paras}
    assert kinds["Wexcombe joins up hospital discharge"] == "heading"
    assert kinds["share one waiting list for care at home"] == "list_item"
    assert kinds["ENDS"] == "boilerplate" and kinds["Media enquiries: press@wexcombe.example"] == "boilerplate"
    for p in paras:
        # offsets point into the text as sent; the paragraph text is that span with whitespace collapsed
        assert " ".join(TEXT[p["start"]:p["end"]].split()).strip("-• ") .endswith(p["text"][-10:])
        if p["kind"] == "boilerplate":
            assert p["themes"] == [] and p["statement_id"] is None
        else:
            assert p["statement_id"] is not None
            stored = client.get(f"/api/v1/statements/{p['statement_id']}").get_json()
            assert (stored["document_id"], stored["paragraph_index"], stored["text"]) == (doc["id"], p["index"],
                                                                                         p["text"])
            assert stored["themes"] == p["themes"]


def test_stored_themes_equal_what_tag_returns_for_the_same_document(client):
    doc = _post(client).get_json()["document"]
    tagged = client.post("/api/v1/tag", json={"text": TEXT, "title": FIELDS["title"]}).get_json()
    by_index = {p["index"]: [{"id": t["id"], "score": t["score"]} for t in p["themes"]]
                for p in tagged["paragraphs"]}
    assert {p["index"]: p["themes"] for p in doc["paragraphs"]} == by_index


def test_boilerplate_is_never_searchable(client):
    doc = _post(client).get_json()["document"]
    hits = client.get("/api/v1/search", query_string={"q": "media enquiries press discharge", "mode": "keyword", "k": 50})
    texts = [h["text"] for h in hits.get_json()["results"]]
    assert texts and not any("press@wexcombe" in t for t in texts)
    assert not any(t == "ENDS" for t in texts)
    assert doc["id"]


def test_every_search_hit_points_into_its_document(client):
    _post(client)
    client.post("/api/v1/statements", json={"statements": [
        {"text": "Care workers need a national pay floor.", "organisation": "Harrow Vale ICB"}]})
    results = client.get("/api/v1/search", query_string={"q": "care at home waiting list pay", "k": 20}).get_json()
    assert len(results["results"]) >= 3
    for hit in results["results"]:
        doc = client.get(f"/api/v1/documents/{hit['document_id']}").get_json()["document"]
        assert doc["paragraphs"][hit["paragraph_index"]]["statement_id"] == hit["id"]


def test_adding_the_same_document_twice_stores_it_once(client):
    first = _post(client).get_json()["document"]
    again = _post(client)
    assert again.status_code == 201 and again.get_json()["document"] == first
    listed = client.get("/api/v1/documents").get_json()
    assert listed["total"] == 1


def _upload(client, name, data, **fields):
    return client.post("/api/v1/documents", data=dict(fields, file=(io.BytesIO(data), name)),
                       content_type="multipart/form-data")


def test_upload_text_markdown_and_html_files(client):
    resp = _upload(client, "discharge.txt", TEXT.encode(), organisation="Wexcombe County Council", date="2024-03")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    doc = resp.get_json()["document"]
    assert (doc["organisation"], doc["date"], doc["title"]) == ("Wexcombe County Council", "2024-03", "discharge")
    assert any(p["kind"] == "list_item" for p in doc["paragraphs"])

    md = _upload(client, "notes.md", b"# Pooled budgets\n\nThe council and the ICB will pool budgets for "
                                     b"intermediate care from April.\n", title="Pooled budgets")
    assert md.status_code == 201 and md.get_json()["document"]["title"] == "Pooled budgets"

    html = (b"<html><head><title>Step-down beds</title></head><body><nav>Skip to main content</nav><article>"
            b"<h1>Step-down beds</h1><p>The council will fund forty step-down beds so that people leave hospital "
            b"sooner, paid for from the Better Care Fund and agreed by the health and wellbeing board.</p>"
            b"<p>Care homes in the county will be paid a fair rate for each bed, and the integrated care board "
            b"will pay for the nursing input that residents need.</p></article></body></html>")
    page = _upload(client, "beds.html", html, organisation="Wexcombe County Council")
    assert page.status_code == 201, page.get_data(as_text=True)
    texts = [p["text"] for p in page.get_json()["document"]["paragraphs"]]
    assert any("forty step-down beds" in t for t in texts)
    assert client.get("/api/v1/documents").get_json()["total"] == 3


def test_upload_a_word_document(client):
    import docx

    d = docx.Document()
    d.add_paragraph("Shared care records")
    d.add_paragraph("Social workers and GPs in the county now read one shared care record, so that nobody has to "
                    "tell their story twice.")
    buf = io.BytesIO()
    d.save(buf)
    resp = _upload(client, "records.docx", buf.getvalue(), organisation="Harrow Vale ICB")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert any("shared care record" in p["text"] for p in resp.get_json()["document"]["paragraphs"])


@pytest.mark.parametrize("name, data, fields, words", [
    ("virus.exe", b"MZ", {}, "unsupported file type"),
    ("empty.txt", b"", {}, "empty"),
    ("bad.docx", b"not a zip at all", {}, "bad.docx"),
    ("latin.txt", "caf\xe9 care".encode("latin-1"), {}, "UTF-8"),
    ("ok.txt", TEXT.encode(), {"date": "last week"}, "date"),
    ("ok.txt", TEXT.encode(), {"organisation": "x" * 2001}, "organisation"),
    ("ok.txt", TEXT.encode(), {"colour": "red"}, "colour"),
])
def test_bad_uploads_are_422_naming_the_problem(client, name, data, fields, words):
    err = _error(_upload(client, name, data, **fields), 422)
    assert words in err["message"]
    assert client.get("/api/v1/documents").get_json()["total"] == 0


def test_a_file_and_a_text_together_are_refused(client):
    resp = client.post("/api/v1/documents", data={"text": TEXT, "file": (io.BytesIO(b"x y z"), "a.txt")},
                       content_type="multipart/form-data")
    assert "not both" in _error(resp, 422)["message"]


@pytest.mark.parametrize("body, status", [
    ({}, 422), ({"text": ""}, 422), ({"text": 5}, 422), ({"text": TEXT, "title": "a\x00b"}, 422),
    ({"text": TEXT, "organisation": "o" * 2001}, 422), ({"text": TEXT, "extra": 1}, 422),
    ({"text": "ENDS\n\nMedia enquiries: press@wexcombe.example"}, 422),
])
def test_bad_json_documents(client, body, status):
    _error(client.post("/api/v1/documents", json=body), status)
    assert client.get("/api/v1/documents").get_json()["total"] == 0


def test_unknown_document_is_404(client):
    _error(client.get("/api/v1/documents/0123456789abcdef"), 404)


def test_listing_pages_and_filters(client):
    for i, (org, date) in enumerate([("Wexcombe County Council", "2021-05-01"), ("Harrow Vale ICB", "2023-01-09"),
                                     ("wexcombe county council", "2024-07-30")]):
        text = f"Document {i}: the council and the NHS will pool budgets for reablement in area {i}."
        assert client.post("/api/v1/documents", json={"text": text, "organisation": org,
                                                      "date": date}).status_code == 201
    page = client.get("/api/v1/documents", query_string={"limit": 2}).get_json()
    assert [d["date"] for d in page["documents"]] == ["2024-07-30", "2023-01-09"]
    assert page["has_more"] and page["total"] == 3 and "paragraphs" not in page["documents"][0]
    rest = client.get("/api/v1/documents", query_string={"limit": 2, "offset": 2}).get_json()
    assert [d["date"] for d in rest["documents"]] == ["2021-05-01"] and not rest["has_more"]
    wex = client.get("/api/v1/documents", query_string={"organisation": "WEXCOMBE County Council"}).get_json()
    assert wex["total"] == 2
    since = client.get("/api/v1/documents", query_string={"since": "2023"}).get_json()
    assert since["total"] == 2
    _error(client.get("/api/v1/documents", query_string={"since": "soon"}), 422)
    _error(client.get("/api/v1/documents", query_string={"limit": 0}), 422)


def test_writing_a_document_needs_the_token(token_client):
    assert _error(token_client.post("/api/v1/documents", json=dict(FIELDS, text=TEXT)), 401)
    resp = token_client.post("/api/v1/documents", json=dict(FIELDS, text=TEXT),
                             headers={"Authorization": "Bearer s3cret"})
    assert resp.status_code == 201
    assert token_client.get(f"/api/v1/documents/{resp.get_json()['document']['id']}").status_code == 200


def test_statements_document_form_goes_through_the_same_path(client):
    resp = client.post("/api/v1/statements", json={"document": dict(FIELDS, text=TEXT)})
    assert resp.status_code == 201
    ids = resp.get_json()["ids"]
    listed = client.get("/api/v1/documents").get_json()["documents"]
    assert len(listed) == 1
    doc = client.get(f"/api/v1/documents/{listed[0]['id']}").get_json()["document"]
    assert [p["statement_id"] for p in doc["paragraphs"] if p["statement_id"]] == ids


def test_retagging_keeps_documents_and_their_statements_as_tag_gives_them(client, trained):
    doc = _post(client).get_json()["document"]
    single = client.post("/api/v1/statements", json={"statements": [
        {"text": "Care workers need a national pay floor and a career path.", "organisation": "Harrow Vale ICB"}]})
    sid = single.get_json()["ids"][0]
    # Scramble what is stored, as an older model would have left it, then re-tag with the active model.
    trained.store.retag([(p["statement_id"], {}) for p in doc["paragraphs"] if p["statement_id"]] + [(sid, {})],
                        {}, "old")
    trained.store.retag_document(doc["id"], {p["index"]: [] for p in doc["paragraphs"]})
    assert trained.retag() == len([p for p in doc["paragraphs"] if p["statement_id"]]) + 1
    again = client.get(f"/api/v1/documents/{doc['id']}").get_json()["document"]
    assert [p["themes"] for p in again["paragraphs"]] == [p["themes"] for p in doc["paragraphs"]]
    for p in again["paragraphs"]:
        if p["statement_id"]:
            assert client.get(f"/api/v1/statements/{p['statement_id']}").get_json()["themes"] == p["themes"]
    alone = client.get(f"/api/v1/statements/{sid}").get_json()
    tagged = client.post("/api/v1/tag", json={"paragraphs": [alone["text"]]}).get_json()["paragraphs"][0]
    assert alone["themes"] == [{"id": t["id"], "score": t["score"]} for t in tagged["themes"]]
    shown = client.get(f"/api/v1/documents/{alone['document_id']}").get_json()["document"]["paragraphs"]
    assert shown[0]["themes"] == alone["themes"] and shown[0]["statement_id"] == sid


def test_search_hits_can_carry_their_neighbouring_paragraphs(client):
    doc = _post(client).get_json()["document"]
    hits = client.get("/api/v1/search", query_string={"q": "one waiting list for care at home", "k": 3,
                                                      "context": "true"}).get_json()["results"]
    hit = next(h for h in hits if h["text"] == "share one waiting list for care at home")
    assert hit["context"]["before"] == {"index": hit["paragraph_index"] - 1, "kind": "body",
                                        "text": "The new team will:"}
    assert hit["context"]["after"]["text"] == "fund forty step-down beds from the pooled budget"
    assert doc["paragraphs"][hit["paragraph_index"]]["statement_id"] == hit["id"]
    plain = client.get("/api/v1/search", query_string={"q": "waiting list", "k": 3}).get_json()["results"]
    assert all("context" not in h for h in plain)
    assert client.get("/api/v1/search", query_string={"q": "x", "context": "maybe"}).status_code == 422


def test_a_furniture_only_record_in_a_file_does_not_stop_the_rest(trained, tmp_path):
    import json

    rows = [{"text": "The council and the ICB will pool budgets for reablement.", "organisation": "A"},
            {"text": "Media enquiries: call the press office on 020 7946 0318.", "organisation": "A"},
            {"text": "Care workers need a national pay floor.", "organisation": "B"}]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = trained.ingest_paths([path], {})
    assert not report.skipped and report.documents == 3 and report.added == 2
    assert len(trained.store.document_ids()) == 3


def test_documents_tagged_together_get_the_themes_each_gets_alone(trained):
    from classifier.text.readers import Document
    from classifier.text.structure import structure

    docs = [Document(TEXT, "Wexcombe County Council", title="Discharge"),
            Document("Care homes need fair fees.\n\nThe council will pool budgets with the ICB.", "B", title="Fees"),
            Document("ENDS", "C"),
            Document(TEXT.replace("forty", "fifty"), "D", title="The new team will:")]
    scorer = trained.scorer()
    together = scorer.tag_documents([(structure(d.text), d.title, None) for d in docs])
    for d, joint in zip(docs, together):
        alone = scorer.tag_document(structure(d.text), d.title)
        assert [p.kind for p in joint.paragraphs] == [p.kind for p in alone.paragraphs]
        for a, b in zip(joint.paragraphs, alone.paragraphs):
            assert [t.id for t in a.themes] == [t.id for t in b.themes]
            assert all(abs(a.scores[t] - b.scores[t]) <= 1e-4 for t in b.scores)


def test_a_paragraph_cut_by_a_page_break_is_read_whole_when_stored_tagged_and_retagged(client, trained,
                                                                                      monkeypatch):
    first, second = ("The county council and the hospital trust will fund forty step-down beds from the pooled "
                     "budget, and the"), "new joint team will arrange home care in one conversation."
    text = f"{first}\n\n2\n\n{second}\n\nThe board will review the plan in May."
    read = []
    scorer_type = type(trained.scorer())
    score_documents = scorer_type.score_documents
    monkeypatch.setattr(scorer_type, "score_documents",
                        lambda self, texts, *args: read.extend(texts) or score_documents(self, texts, *args))
    doc = client.post("/api/v1/documents", json=dict(FIELDS, text=text)).get_json()["document"]
    halves = [p for p in doc["paragraphs"] if p["text"] in (first, second)]
    assert len(halves) == 2 and all(p["statement_id"] for p in halves)
    assert read.count(f"{first} {second}") == 2 and first not in read and second not in read
    # both halves are searchable by the whole paragraph's meaning: one vector, the whole's
    vectors = [v for _, vecs in trained.store.vectors([p["statement_id"] for p in halves]) for v in vecs]
    assert len(vectors) == 2 and (vectors[0] == vectors[1]).all()
    read.clear()
    tagged = client.post("/api/v1/tag", json={"text": text, "title": FIELDS["title"]}).get_json()
    assert read.count(f"{first} {second}") == 2
    assert [p["themes"] for p in doc["paragraphs"]] == [[{"id": t["id"], "score": t["score"]} for t in p["themes"]]
                                                         for p in tagged["paragraphs"]]
    read.clear()
    trained.retag()
    assert read.count(f"{first} {second}") == 2 and first not in read


def test_hidden_characters_and_ligatures_change_no_answer(client):
    # A paste from a web page (soft hyphens, zero-width spaces) or a PDF (ligatures) is tagged, stored and
    # found as the text a reader sees; the document keeps the text as it came.
    dirty = (TEXT.replace("discharge teams", "dis\u00adcharge teams").replace("conversation.", "conversation.\u200b")
             .replace("fund forty", "\ufb02exibly fund forty").replace("financ", "\ufb01nanc"))
    clean = dirty.replace("\u00ad", "").replace("\u200b", "").replace("\ufb02", "fl").replace("\ufb01", "fi")
    as_tagged = [client.post("/api/v1/tag", json={"text": t, "title": FIELDS["title"]}).get_json()["paragraphs"]
                 for t in (dirty, clean)]
    assert [(p["kind"], p["text"], p["themes"]) for p in as_tagged[0]] == \
        [(p["kind"], p["text"], p["themes"]) for p in as_tagged[1]]
    assert any("flexibly fund forty" in p["text"] for p in as_tagged[0])
    doc = client.post("/api/v1/documents", json=dict(FIELDS, text=dirty)).get_json()["document"]
    assert [p["text"] for p in doc["paragraphs"]] == [p["text"] for p in as_tagged[1]]
    for p in doc["paragraphs"]:  # offsets cut the text as it came
        assert rejoin_lines(plain(dirty[p["start"]:p["end"]])).endswith(p["text"])
    one = [client.post("/api/v1/tag", json={"paragraphs": [t]}).get_json()["paragraphs"][0]["scores"]
           for t in ("Councils need a \ufb01nancial settle\u00adment for care.", "Councils need a financial settlement for care.")]
    assert one[0] == one[1]
    # nothing but hidden characters is nothing to tag: a clear 4xx, as for a blank text
    _error(client.post("/api/v1/tag", json={"text": "\u00ad\u200b\ufeff"}), 422)


ARTICLE = "\n\n".join([
    "Wexcombe's integrated care board has cut its contribution to the joint discharge fund by four million pounds, "
    "and the county council says it was not consulted before the board took the decision in private last week.",
    "The fund pays for step-down beds and for home care packages that let patients leave hospital as soon as they "
    "are well enough, and council officers say delays on the wards will grow over the winter as a result.",
    "The board said the saving was needed to meet its running-cost target and that it would review the position "
    "with the council in the spring, once the figures for the first quarter of the year were known.",
]) + ("\n\n3 comments\n\nMargaret T | 17 March 2027, 8:02am\n\n"
      "Zebedee here: the care workforce needs better pay, a career path and a national recruitment campaign to "
      "fill vacancies.\n\nKen B | 17 March 2027, 11:40am\n\nAs usual nobody asked the care homes what they think.")


def test_readers_comments_are_tagged_on_their_own_and_never_searchable(client, trained):
    from classifier.text.structure import structure

    doc = client.post("/api/v1/documents", json={"text": ARTICLE, "organisation": "Wexcombe Post",
                                                 "title": "ICB cuts discharge fund"}).get_json()["document"]
    comments = [p for p in doc["paragraphs"] if p["kind"] == "comment"]
    assert [p["text"][:7] for p in comments] == ["Zebedee", "As usua"]
    assert all(p["statement_id"] is None for p in comments)
    assert [p["kind"] for p in doc["paragraphs"] if p["text"].startswith(("Margaret T", "3 comments"))] == \
        ["boilerplate", "boilerplate"]
    # /tag gives the comments the same themes, and a comment's scores are its own: the same as the comment
    # sent as a document by itself, whatever the article around it says
    tagged = client.post("/api/v1/tag", json={"text": ARTICLE, "title": "ICB cuts discharge fund"}).get_json()
    by_index = {p["index"]: p for p in tagged["paragraphs"]}
    alone = trained.scorer().tag_document(structure(comments[0]["text"])).paragraphs[0]
    shown = by_index[comments[0]["index"]]
    assert shown["kind"] == "comment" and shown["scores"] == alone.scores
    assert [{"id": t["id"], "score": t["score"]} for t in shown["themes"]] == comments[0]["themes"]
    # the document's summary is the article's, not its readers'
    assert [t["id"] for t in shown["themes"]] == ["workforce"]
    summarised = {i for t in tagged["document"]["themes"] for i in t["paragraphs"]}
    assert not summarised & {p["index"] for p in comments}
    assert "workforce" not in [t["id"] for t in tagged["document"]["themes"]]
    hits = client.get("/api/v1/search", query_string={"q": "Zebedee", "mode": "keyword", "k": 10}).get_json()
    assert hits["results"] == []
    page = client.get(f"/documents/{doc['id']}").get_data(as_text=True)
    assert page.count('class="kind-comment"') == 2 and page.count("comment · not searchable") == 2
    # re-tagging keeps the comments' themes where they were, still without statements
    trained.store.retag_document(doc["id"], {p["index"]: [] for p in doc["paragraphs"]})
    trained.retag()
    again = client.get(f"/api/v1/documents/{doc['id']}").get_json()["document"]
    assert [(p["kind"], p["themes"], p["statement_id"]) for p in again["paragraphs"]] == \
        [(p["kind"], p["themes"], p["statement_id"]) for p in doc["paragraphs"]]
