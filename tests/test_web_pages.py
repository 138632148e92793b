"""The documents, labels and models pages as the server renders them (no browser needed)."""

import pytest

DOC = ("Wexcombe joins up hospital discharge\n\nThe county council and the hospital trust have merged their "
       "discharge teams so that people leave hospital with care at home arranged.\n\nThe new team will:\n\n"
       "- share one waiting list for care at home\n- fund forty step-down beds\n\nENDS\n")


def test_a_document_page_shows_every_paragraph_with_its_kind_and_anchor(client):
    doc = client.post("/api/v1/documents", json={"text": DOC, "organisation": "Wexcombe County Council",
                                                 "title": "Discharge"}).get_json()["document"]
    html = client.get(f"/documents/{doc['id']}").get_data(as_text=True)
    for p in doc["paragraphs"]:
        assert f'id="p{p["index"]}"' in html and f'class="kind-{p["kind"]}"' in html
    assert "not tagged" in html  # ENDS is shown, as boilerplate
    assert "share one waiting list for care at home" in html
    listing = client.get("/documents").get_data(as_text=True)
    assert f'/documents/{doc["id"]}' in listing and "1 document(s)" in listing


def test_unknown_document_and_model_are_404_pages(client):
    for path in ("/documents/0123456789abcdef", "/models/20000101-000000-00000000", "/models/not-a-version"):
        resp = client.get(path)
        assert resp.status_code == 404 and "Not found" in resp.get_data(as_text=True)


def test_the_labels_page_lists_labels_per_statement(client):
    ids = client.post("/api/v1/statements", json={"statements": [{"text": "Care workers need a pay floor."}]}
                      ).get_json()["ids"]
    client.post("/api/v1/labels", json={"name": "R. Analyst", "examples": [
        {"text": "Care workers need a pay floor.", "themes": ["workforce"], "statement_id": ids[0]}]})
    page = client.get(f"/labels?statement_id={ids[0]}").get_data(as_text=True)
    assert "R. Analyst" in page and "Workforce" in page and f"statement {ids[0]}" in page
    assert "No labels." in client.get("/labels?statement_id=999").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/documents?offset=abc", "/labels?statement_id=x&offset=-5", "/documents?offset=-1"])
def test_odd_page_numbers_fall_back_instead_of_failing(client, path):
    assert client.get(path).status_code == 200
