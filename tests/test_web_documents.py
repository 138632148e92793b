"""Documents and labels on the page, in headless Chromium (issues 12.6 and 14.7; models: test_web_models.py). Screenshots go to
test-artifacts/."""

import pytest

from tests.conftest import call
from tests.test_web import ARTIFACTS, browser  # noqa: F401  (browser is a fixture)

TOKEN = {"Authorization": "Bearer tok"}
DOC = ("Brackenfold joins up reablement\n\nThe district council and the community trust will run one reablement "
       "service, so that people leaving hospital are helped to regain their independence at home.\n\n"
       "The partners will:\n\n- share one assessment for home care\n- fund discharge beds on delayed wards from "
       "the pooled budget and a grant\n\nMedia enquiries: press@brackenfold.example\n")


def _wait(browser):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 30)


def _clean(browser, expected=()):
    """No CSP violation and no console error but the ``expected`` ones (a refused request the test made)."""
    # the console log is read once: reading it empties it
    log = [e for e in browser.get_log("browser") if not any(x in e["message"] for x in expected)]
    assert list(browser.execute_script("return window.cspViolations")) == []
    assert [e["message"] for e in log if "Content Security Policy" in e["message"]] == []
    assert [e["message"] for e in log if e["level"] == "SEVERE"] == []


@pytest.mark.browser
def test_paste_tag_add_and_open_a_document(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/documents")
    for field in browser.find_elements(By.CSS_SELECTOR, "main textarea, main input"):
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']")
    browser.find_element(By.ID, "doc-text").send_keys(DOC)
    browser.find_element(By.ID, "doc-organisation").send_keys("Brackenfold District Council")
    browser.find_element(By.ID, "doc-title").send_keys("Brackenfold joins up reablement")
    browser.find_element(By.ID, "doc-tag").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "doc-status"), "nothing was stored"))
    kinds = [li.get_attribute("class") for li in browser.find_elements(By.CSS_SELECTOR, "#doc-preview > li")]
    assert "kind-list_item" in kinds and "kind-boilerplate" in kinds
    labels = {t["id"]: t["label"] for t in call(port, "GET", "/api/v1/themes")[1]["themes"]}
    preview_chips = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#doc-preview .chip")]
    assert preview_chips and all(any(c.startswith(label) for label in labels.values()) for c in preview_chips)
    assert call(port, "GET", "/api/v1/documents")[1]["total"] == 0

    # without the token the server refuses, and the page says why
    browser.find_element(By.ID, "doc-add").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "doc-status"), "Bearer"))
    browser.find_element(By.ID, "doc-token").send_keys("tok")
    browser.find_element(By.ID, "doc-add").click()
    wait.until(EC.url_contains("/documents/"))
    wait.until(EC.presence_of_element_located((By.ID, "paragraphs")))
    stored = call(port, "GET", "/api/v1/documents")[1]["documents"]
    assert len(stored) == 1 and browser.current_url.endswith(f"/documents/{stored[0]['id']}")
    items = browser.find_elements(By.CSS_SELECTOR, "#paragraphs > li")
    doc = call(port, "GET", f"/api/v1/documents/{stored[0]['id']}")[1]["document"]
    assert [li.get_attribute("id") for li in items] == [f"p{p['index']}" for p in doc["paragraphs"]]
    for li, p in zip(items, doc["paragraphs"]):
        assert p["text"] in li.text and li.get_attribute("class") == f"kind-{p['kind']}"
        chips = [c.text for c in li.find_elements(By.CSS_SELECTOR, ".chip")]
        assert chips == [f"{labels[t['id']]} {t['score']:.2f}" for t in p["themes"]]  # codebook labels, scores
        links = [a.get_attribute("href") for a in li.find_elements(By.CSS_SELECTOR, "a[href*='statement_id=']")]
        assert links == ([f"http://127.0.0.1:{port}/labels?statement_id={p['statement_id']}"]
                         if p["statement_id"] else [])
    assert any(p["themes"] for p in doc["paragraphs"])
    boilerplate = browser.find_element(By.CSS_SELECTOR, "#paragraphs > li.kind-boilerplate")
    assert "not tagged" in boilerplate.text.lower() and not boilerplate.find_elements(By.CSS_SELECTOR, ".chip")
    assert boilerplate.value_of_css_property("background-color") == "rgba(243, 244, 246, 1)"  # muted
    browser.set_window_size(1366, 1400)  # the whole short document in the screenshot
    browser.save_screenshot(str(ARTIFACTS / "document-view.png"))
    _clean(browser, expected=("status of 401",))


@pytest.mark.browser
def test_upload_a_file(live_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    path = tmp_path / "reablement-update.txt"
    path.write_text(DOC)
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/documents")
    browser.find_element(By.ID, "doc-file").send_keys(str(path))
    browser.find_element(By.ID, "doc-date").send_keys("2025-06")
    browser.find_element(By.ID, "doc-token").send_keys("tok")
    browser.find_element(By.ID, "doc-tag").click()  # a .txt file is previewed in the browser
    wait.until(EC.text_to_be_present_in_element((By.ID, "doc-status"), "nothing was stored"))
    preview = browser.find_elements(By.CSS_SELECTOR, "#doc-preview > li")
    assert [li.get_attribute("class") for li in preview][:2] == ["kind-heading", "kind-body"]
    assert browser.execute_script("return arguments[0].getBoundingClientRect().top", preview[0]) < 900  # in view
    browser.save_screenshot(str(ARTIFACTS / "document-upload.png"))
    browser.find_element(By.ID, "doc-add").click()
    wait.until(EC.url_contains("/documents/"))
    wait.until(EC.presence_of_element_located((By.ID, "paragraphs")))
    assert "reablement-update" in browser.find_element(By.ID, "doc-heading").text
    assert "2025-06" in browser.find_element(By.ID, "doc-meta").text
    _clean(browser)

    # a PDF is read on the server only; one it cannot read comes back as the API's message, not a failure
    broken = tmp_path / "board-paper.pdf"
    broken.write_bytes(b"not really a PDF")
    browser.get(f"http://127.0.0.1:{port}/documents")
    assert browser.find_element(By.ID, "doc-token").get_attribute("value") == "tok"  # kept for the tab
    browser.find_element(By.ID, "doc-file").send_keys(str(broken))
    browser.find_element(By.ID, "doc-tag").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "doc-status"), "read on the server"))
    browser.find_element(By.ID, "doc-add").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "doc-status"), "board-paper.pdf: not a readable PDF"))
    assert "error" in browser.find_element(By.ID, "doc-status").get_attribute("class")
    assert browser.current_url.endswith("/documents")
    _clean(browser, expected=("status of 422",))


def test_a_document_view_links_only_a_web_address_and_an_unknown_id_is_a_404(client):
    sent = {"text": DOC, "title": "Reablement", "source_type": "press_release"}
    safe = client.post("/api/v1/documents", json=dict(sent, url="https://brackenfold.example/news/1")).get_json()
    html = client.get(f"/documents/{safe['document']['id']}").get_data(as_text=True)
    assert '<a href="https://brackenfold.example/news/1"' in html and "press release" in html
    odd = client.post("/api/v1/documents", json=dict(sent, url="javascript:alert(1)")).get_json()
    html = client.get(f"/documents/{odd['document']['id']}").get_data(as_text=True)
    assert "javascript:alert(1)" in html and 'href="javascript:' not in html
    missing = client.get("/documents/ffffffffffffffff")
    assert missing.status_code == 404 and "No document ffffffffffffffff." in missing.get_data(as_text=True)


@pytest.mark.browser
def test_a_search_hit_opens_in_its_document_with_the_paragraph_marked(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    filler = "\n\n".join(f"Paragraph {i} of the annual report describes routine business of the board." for i in range(30))
    status, body = call(port, "POST", "/api/v1/documents",
                        {"text": filler + "\n\nThe pharmacy discharge pilot cut readmissions by a fifth.",
                         "organisation": "Kestrel Vale NHS Trust", "title": "Annual report"}, TOKEN)
    assert status == 201
    target = body["document"]["paragraphs"][-1]
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/")
    browser.find_element(By.ID, "search-q").send_keys("pharmacy discharge pilot")
    browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    link = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#search-results > li:first-child a.open-document")))
    assert link.get_attribute("href").endswith(f"#p{target['index']}")
    link.click()
    wait.until(EC.presence_of_element_located((By.ID, f"p{target['index']}")))
    marked = browser.find_element(By.ID, f"p{target['index']}")
    wait.until(lambda b: marked.get_attribute("aria-current") == "true")
    in_view = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", marked)
    assert in_view and "pharmacy discharge pilot" in marked.text
    assert marked.value_of_css_property("outline-style") == "solid"
    browser.save_screenshot(str(ARTIFACTS / "search-hit-in-document.png"))
    _clean(browser)


@pytest.mark.browser
def test_labels_are_edited_and_deleted_on_the_page(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    status, body = call(port, "POST", "/api/v1/statements", {"statements": [{"text": "Care workers need a pay floor."}]},
                        TOKEN)
    sid = body["ids"][0]
    call(port, "POST", "/api/v1/labels", {"name": "First reader", "examples": [
        {"text": "Care workers need a pay floor.", "themes": ["funding"], "statement_id": sid}]}, TOKEN)
    label = call(port, "GET", f"/api/v1/labels?statement_id={sid}")[1]["labels"][0]
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/labels?statement_id={sid}")
    browser.find_element(By.ID, "labels-token").send_keys("tok")
    browser.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=themes][value=funding]").click()
    browser.find_element(By.CSS_SELECTOR, "input[name=themes][value=workforce]").click()
    name = browser.find_element(By.ID, f"name-{label['id']}")
    name.clear()
    name.send_keys("Second reader")
    browser.find_element(By.CSS_SELECTOR, "form.label-edit button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "labels-list"), "Second reader"))
    assert call(port, "GET", f"/api/v1/labels/{label['id']}")[1]["themes"] == ["workforce"]
    browser.save_screenshot(str(ARTIFACTS / "labels-view.png"))
    browser.find_element(By.CSS_SELECTOR, "details.edit summary").click()
    browser.find_element(By.CSS_SELECTOR, "button.delete").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "labels-list"), "No labels."))
    assert call(port, "GET", f"/api/v1/labels/{label['id']}")[0] == 404
    _clean(browser)
