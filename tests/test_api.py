import io
import json

import pytest

STATEMENTS = [
    {"text": "Social care needs a workforce plan with better pay for carers and staff.",
     "organisation": "Wexcombe County Council", "date": "2015-03-01", "title": "Workforce"},
    {"text": "Delayed discharge from hospital beds rose this winter and the wards are full.",
     "organisation": "Harrow Vale ICB", "date": "2018-11-02"},
    {"text": "The budget settlement leaves a funding gap and an overspend.", "organisation": "Wexcombe County Council"},
]


def _error(resp, status, code=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_health_and_themes(client, trained):
    body = client.get("/api/v1/health").get_json()
    assert body == {"status": "ok", "model": {"version": trained.registry.active_version()}, "statements": 0}
    themes = client.get("/api/v1/themes").get_json()["themes"]
    assert len(themes) == 13 and themes[0]["id"] == "funding"


def test_tag_text_splits_and_rolls_up(client, trained):
    text = "Staff vacancies and pay for carers.\n\nDelayed discharge from beds this winter.\n\nStaff training and recruitment."
    body = client.post("/api/v1/tag", json={"text": text}).get_json()
    assert body["model"]["version"] == trained.registry.active_version()
    assert [p["index"] for p in body["paragraphs"]] == [0, 1, 2]
    for p in body["paragraphs"]:
        assert text[p["start"]:p["end"]] == p["text"]
        assert set(p["scores"]) == set(trained.scorer().theme_ids)
        assert [t["score"] for t in p["themes"]] == sorted([t["score"] for t in p["themes"]], reverse=True)
    doc = {t["id"]: t for t in body["document"]["themes"]}
    assert {0, 2} <= set(doc["workforce"]["paragraphs"]) and 1 in doc["hospital_discharge"]["paragraphs"]
    for theme_id, d in doc.items():
        tagged = [p for p in body["paragraphs"] if theme_id in [t["id"] for t in p["themes"]]]
        assert d["paragraphs"] == [p["index"] for p in tagged]
        assert d["score"] == max(t["score"] for p in tagged for t in p["themes"] if t["id"] == theme_id)
    counts = [len(d["paragraphs"]) for d in body["document"]["themes"]]
    assert counts == sorted(counts, reverse=True)


def test_tag_paragraphs_are_not_split(client):
    body = client.post("/api/v1/tag", json={"paragraphs": ["one\n\ntwo", "three"]}).get_json()
    assert [p["text"] for p in body["paragraphs"]] == ["one\n\ntwo", "three"]


def test_statements_round_trip_search_and_delete(client):
    resp = client.post("/api/v1/statements", json={"statements": STATEMENTS})
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["added"] == 3 and body["duplicates"] == 0 and len(body["ids"]) == 3
    again = client.post("/api/v1/statements", json={"statements": [STATEMENTS[2], {"text": "brand new text here"}]})
    assert again.get_json()["ids"][0] == body["ids"][2] and again.get_json()["duplicates"] == 1
    found = client.get("/api/v1/search", query_string={"q": "workforce pay carers", "k": 1}).get_json()
    assert found["results"][0]["id"] == body["ids"][0]
    assert found["model"]["version"] and found["results"][0]["themes"] is not None
    filtered = client.get("/api/v1/search", query_string=[("q", "anything"), ("organisation", "Harrow Vale ICB")]).get_json()
    assert [r["organisation"] for r in filtered["results"]] == ["Harrow Vale ICB"]
    one = client.get(f"/api/v1/statements/{body['ids'][1]}").get_json()
    assert one["organisation"] == "Harrow Vale ICB" and one["date"] == "2018-11-02"
    assert client.delete(f"/api/v1/statements/{body['ids'][1]}").status_code == 200
    _error(client.get(f"/api/v1/statements/{body['ids'][1]}"), 404, "not_found")
    orgs = client.get("/api/v1/organisations").get_json()["organisations"]
    assert orgs[0] == {"name": "Wexcombe County Council", "statements": 2, "first_date": "2015-03-01",
                       "last_date": "2015-03-01"}


def test_document_is_split_into_statements(client):
    resp = client.post("/api/v1/statements", json={"document": {
        "text": "First paragraph on staff pay.\n\nSecond paragraph on beds.", "organisation": "X", "date": "2020-01-02"}})
    assert resp.status_code == 201 and resp.get_json()["added"] == 2


@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v1/statements/abc"])
def test_unknown_paths_are_json_404(client, path):
    _error(client.get(path), 404)


def test_wrong_method_is_json_405(client):
    err = _error(client.get("/api/v1/tag"), 405)
    assert "method" in err["message"].lower()


@pytest.mark.parametrize("kwargs,status", [
    ({"data": "{not json", "content_type": "application/json"}, 400),
    ({"data": "text=hello", "content_type": "application/x-www-form-urlencoded"}, 400),
    ({"data": b"\xff\xfe{\"text\": 1}", "content_type": "application/json"}, 400),
    ({"json": ["a list"]}, 422),
    ({"json": {}}, 422),
    ({"json": {"text": ""}}, 422),
    ({"json": {"text": "   \n "}}, 422),
    ({"json": {"text": 42}}, 422),
    ({"json": {"paragraphs": []}}, 422),
    ({"json": {"paragraphs": ["ok", 3]}}, 422),
    ({"json": {"text": "a", "paragraphs": ["b"]}}, 422),
    ({"json": {"text": "nul \u0000 byte"}}, 422),
    ({"json": {"text": "bidi \u202e override"}}, 422),
    ({"data": '{"text": "lone \\ud800 surrogate"}', "content_type": "application/json"}, 422),
    ({"json": {"paragraphs": ["x"] * 501}}, 413),
    ({"json": {"paragraphs": ["x" * 20001]}}, 422),
])
def test_bad_tag_requests(client, kwargs, status):
    _error(client.post("/api/v1/tag", **kwargs), status)


def test_oversized_body_is_413_with_and_without_content_length(client):
    big = json.dumps({"text": "word " * 600_000})
    _error(client.post("/api/v1/tag", data=big, content_type="application/json"), 413)
    # A chunked upload has no Content-Length; the server reads until the limit and stops there.
    _error(client.post("/api/v1/tag", input_stream=io.BytesIO(big.encode()), content_type="application/json",
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}), 413)


@pytest.mark.parametrize("query,status", [
    ({}, 422), ({"q": ""}, 422), ({"q": "x", "k": "0"}, 422), ({"q": "x", "k": "101"}, 422), ({"q": "x", "k": "ten"}, 422),
    ({"q": "x", "mode": "fuzzy"}, 422), ({"q": "x", "theme": "nonsense"}, 422), ({"q": "x", "since": "2020-02-30"}, 422),
    ({"q": "x", "since": "2021-01-01", "until": "2020-01-01"}, 422),
])
def test_bad_search_requests(client, query, status):
    _error(client.get("/api/v1/search", query_string=query), status)


def test_writes_need_the_token_when_configured(token_client):
    payload = {"statements": STATEMENTS[:1]}
    _error(token_client.post("/api/v1/statements", json=payload), 401, "unauthorized")
    _error(token_client.post("/api/v1/statements", json=payload, headers={"Authorization": "Bearer wrong"}), 401)
    _error(token_client.post("/api/v1/statements", json=payload, headers={"Authorization": "Basic s3cret"}), 401)
    _error(token_client.delete("/api/v1/statements/1"), 401)
    ok = token_client.post("/api/v1/statements", json=payload, headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 201
    # reads stay open
    assert token_client.get("/api/v1/search", query_string={"q": "pay"}).status_code == 200
    assert token_client.post("/api/v1/tag", json={"text": "pay"}).status_code == 200


def test_openapi_lists_every_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/health", "/api/v1/tag", "/api/v1/search", "/api/v1/statements",
                 "/api/v1/statements/{statement_id}", "/api/v1/organisations", "/api/v1/themes"):
        assert path in spec["paths"], path
    assert client.get("/api/v1/docs").status_code == 200


def test_metrics_count_requests_and_report_state(client):
    client.get("/api/v1/health")
    client.get("/api/v1/nope")
    text = client.get("/api/v1/metrics").get_data(as_text=True)
    assert 'joinedup_requests_total{endpoint="/api/v1/health",method="GET",status="200"} 1.0' in text
    assert 'joinedup_errors_total{endpoint="unmatched",status="404"} 1.0' in text
    assert "joinedup_statements 0.0" in text and "joinedup_model_info{version=" in text


def test_index_page_renders(client):
    html = client.get("/").get_data(as_text=True)
    assert "<textarea" in html and 'for="tag-text"' in html and "Housing and wider determinants" in html


def test_hostile_barrage_leaves_data_intact(client):
    ids = client.post("/api/v1/statements", json={"statements": STATEMENTS}).get_json()["ids"]
    before = [client.get(f"/api/v1/statements/{i}").get_json() for i in ids]
    bad = [
        ("post", "/api/v1/statements", {"json": {"statements": [{"text": "x", "date": "2020-99-01"}]}}),
        ("post", "/api/v1/statements", {"json": {"statements": [{"text": "ok"}, {"text": ""}]}}),
        ("post", "/api/v1/statements", {"json": {"statements": "nope"}}),
        ("post", "/api/v1/statements", {"json": {"document": {"text": "\u0000"}}}),
        ("post", "/api/v1/statements", {"data": "[", "content_type": "application/json"}),
        ("delete", "/api/v1/statements/999999", {}),
        ("delete", "/api/v1/statements/-1", {}),
        ("put", "/api/v1/statements/1", {"json": {}}),
        ("get", "/api/v1/search", {"query_string": {"q": "\u202e"}}),
        ("get", "/api/v1/search", {"query_string": {"q": "x" * 5000}}),
    ]
    for method, path, kwargs in bad:
        resp = getattr(client, method)(path, **kwargs)
        assert 400 <= resp.status_code < 500, (method, path, resp.status_code)
        assert "error" in resp.get_json()
    after = [client.get(f"/api/v1/statements/{i}").get_json() for i in ids]
    assert after == before
    assert client.get("/api/v1/health").get_json()["statements"] == 3


def test_ids_beyond_sqlite_range_are_422_naming_the_field(client):
    # issue 15.5: 10**29 reached the SQLite bind and came back as a 500 (OverflowError)
    for sid in (10 ** 29, 2 ** 63, 0, -1, True, "7"):
        err = _error(client.post("/api/v1/labels", json={"examples": [{"text": "Care staff pay", "themes": [],
                                                                          "statement_id": sid}]}), 422, "invalid_input")
        assert "examples[0].statement_id" in err["message"]
    assert client.post("/api/v1/labels", json={"examples": [{"text": "Care staff pay", "themes": [],
                                                             "statement_id": 2 ** 63 - 1}]}).status_code == 201
    for path in (f"/api/v1/statements/{10 ** 29}", f"/api/v1/jobs/{10 ** 29}", f"/api/v1/statements/{2 ** 63}"):
        _error(client.get(path), 404, "not_found")
    _error(client.delete(f"/api/v1/statements/{10 ** 29}"), 404, "not_found")
    for path, name in (("/api/v1/search?q=x&k=", "k"), ("/api/v1/review?n=", "n")):
        for value in (str(10 ** 29), "9" * 5000, "-5"):
            err = _error(client.get(path + value), 422, "invalid_input")
            assert f"'{name}'" in err["message"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_json_in_other_encodings_is_400(client, encoding):
    # issue 15.12: json.loads on bytes detects UTF-16/32 and accepted them; the README promises 400
    body = json.dumps({"text": "Staff pay for carers."}).encode(encoding)
    _error(client.post("/api/v1/tag", data=body, content_type="application/json"), 400, "malformed_request")


def test_json_declaring_another_charset_is_400(client):
    body = json.dumps({"text": "Staff pay for carers."}).encode()
    _error(client.post("/api/v1/tag", data=body, content_type="application/json; charset=latin-1"), 400)
    assert client.post("/api/v1/tag", data=body, content_type="application/json; charset=UTF-8").status_code == 200


@pytest.mark.parametrize("header", ["Bearer  s3cret", "Bearer s3cret ", "Bearer  s3cret  ", "Bearer\ts3cret",
                                    "Bearer s3cret\t", "Bearers3cret", "Bearer", "s3cret", "Bearer s3cre",
                                    "Bearer s3cretx", "Bearer \u00e9s3cret"])
def test_token_must_be_exactly_bearer_space_token(token_client, header):
    # issue 15.12: surrounding spaces were stripped before the comparison
    resp = token_client.post("/api/v1/statements", json={"statements": STATEMENTS[:1]},
                             headers={"Authorization": header})
    _error(resp, 401, "unauthorized")


@pytest.mark.parametrize("header", ["Bearer s3cret", "bearer s3cret", "BEARER s3cret"])
def test_the_bearer_scheme_is_case_insensitive(token_client, header):
    resp = token_client.post("/api/v1/statements", json={"statements": STATEMENTS[:1]},
                             headers={"Authorization": header})
    assert resp.status_code == 201


def test_review_queue_leaves_out_statements_with_a_label(client):
    # issue 15.11: labelling a statement from the queue did not take it off the queue
    ids = client.post("/api/v1/statements", json={"statements": STATEMENTS}).get_json()["ids"]
    offered = [s["id"] for s in client.get("/api/v1/review", query_string={"n": 10}).get_json()["statements"]]
    assert sorted(offered) == sorted(ids)
    first = client.get(f"/api/v1/statements/{offered[0]}").get_json()
    assert client.post("/api/v1/labels", json={"examples": [
        {"text": first["text"], "themes": ["workforce"], "statement_id": offered[0]}]}).status_code == 201
    again = [s["id"] for s in client.get("/api/v1/review", query_string={"n": 10}).get_json()["statements"]]
    assert again == offered[1:]


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_search_organisation_filter_ignores_case(client, mode):
    client.post("/api/v1/statements", json={"statements": [
        {"text": "Staff pay for carers is rising again.", "organisation": "Defect Council\u200e"},
        {"text": "Staff pay for carers is falling.", "organisation": "Another Council"}]})
    for asked in ("defect council", "DEFECT COUNCIL", "Defect  Council"):
        found = client.get("/api/v1/search", query_string={"q": "staff pay", "organisation": asked, "mode": mode})
        assert [r["organisation"] for r in found.get_json()["results"]] == ["Defect Council\u200e"], asked


def _corrupt_active_model(trained):
    tagger = trained.settings.models_dir / trained.registry.active_version() / "tagger.joblib"
    tagger.write_bytes(tagger.read_bytes()[:-16] + b"0" * 16)


def test_health_is_503_when_the_active_model_fails_its_checks(client, trained):
    # issue 15.10: /health said "ok" while every tag and search was a 503
    _corrupt_active_model(trained)
    err = _error(client.get("/api/v1/health"), 503, "model_unavailable")
    assert "tagger.joblib" in err["message"]
    _error(client.post("/api/v1/tag", json={"text": "Staff pay."}), 503, "model_unavailable")


def test_health_names_the_model_being_served_not_the_pointer(client, trained):
    from classifier.model.training import train

    served = client.get("/api/v1/health").get_json()["model"]["version"]
    s = trained.settings
    new = train(trained.codebook, trained.embedder, trained.registry, s.training_data_dir / "documents", None,
                seed=5, activate=False).version
    (s.models_dir / new / "tagger.joblib").write_bytes(b"not a model")
    (s.models_dir / "ACTIVE").write_text(new)  # a pointer naming a version that fails its checks
    _error(client.get("/api/v1/health"), 503, "model_unavailable")
    (s.models_dir / "ACTIVE").write_text(served)
    assert client.get("/api/v1/health").get_json()["model"]["version"] == served


@pytest.mark.parametrize("document,field", [
    ({"text": "Staff pay for carers.", "organisation": "Defect\u0000 Council"}, "organisation"),
    ({"text": "Staff pay for carers.", "organisation": "\u202eDefect Council"}, "organisation"),
    ({"text": "Staff pay for carers.", "title": "A title with NUL \u0000"}, "title"),
    ({"text": "Staff pay for carers.", "title": "\u202eeltit"}, "title"),
    ({"text": "Staff pay for carers.", "url": "https://example.org/\u2066"}, "url"),
    ({"text": "Staff pay for carers.", "organisation": "O" * 500_000}, "organisation"),
    ({"text": "Staff pay for carers.", "title": "T" * 2001}, "title"),
    ({"text": "Short one.\n\n" + "word " * 6000}, "paragraphs[1]"),
    ({"text": "x" * 1_900_000}, "paragraphs[0]"),
])
def test_document_form_applies_the_text_policy_and_limits(client, document, field):
    # issue 15.4: all of these were stored (201) through the document form
    err = _error(client.post("/api/v1/statements", json={"document": document}), 422, "invalid_input")
    assert err["message"].startswith("document: ") and f"'{field}'" in err["message"]
    assert err["details"]["field"] == f"document.{field}"
    assert client.get("/api/v1/health").get_json()["statements"] == 0
    assert client.get("/api/v1/organisations").get_json()["organisations"] == []


@pytest.mark.parametrize("statement,field", [
    ({"text": "Staff pay.", "organisation": "O" * 2001}, "organisation"),
    ({"text": "Staff pay.", "title": "\u202e"}, "title"),
    ({"text": "x" * 20_001}, "text"),
])
def test_statement_form_uses_the_same_checks(client, statement, field):
    err = _error(client.post("/api/v1/statements", json={"statements": [{"text": "fine"}, statement]}), 422)
    assert err["message"].startswith("statements[1]: ") and err["details"]["field"] == f"statements[1].{field}"
    assert client.get("/api/v1/health").get_json()["statements"] == 0


def test_metadata_at_the_limits_is_stored(client):
    doc = {"text": "Staff pay for carers.\n\n" + "y" * 20_000, "organisation": "O" * 2000, "title": "T" * 2000}
    assert client.post("/api/v1/statements", json={"document": doc}).status_code == 201
