"""The models view (issue 14.7): versions with their headline figures, each version's evaluation per theme against
the version it was gated against and the TF-IDF baseline, the context stage, train / activate / roll back.

Server-rendered pages through the Flask test client; the page's buttons in headless Chromium (marked browser,
screenshots under test-artifacts/)."""

import hashlib
import json
import shutil
import time

import pytest
from lxml import html as lxml_html

from classifier.model.registry import Registry
from classifier.model.report import model_report, rollback_target, summaries
from tests.conftest import call
from tests.fakes import FAKE_EMBEDDER
from tests.test_web import ARTIFACTS, browser, csp_violations  # noqa: F401  (browser is a fixture)

AUTH = {"Authorization": "Bearer tok"}


# -- helpers --------------------------------------------------------------------------------------------------
def add_version(registry: Registry, source: str, version: str, report: dict | None = None, metrics: dict | None = None,
                created: str | None = None, test_sha256: str | None = None) -> str:
    """A copy of ``source`` saved as ``version``, with parts of its report and manifest replaced; the manifest's
    hash of report.json is kept right so that the copy still verifies and can be activated."""
    root = registry.root
    shutil.copytree(root / source, root / version)
    rep = json.loads((root / version / "report.json").read_text())
    rep.update(report or {}, version=version)
    (root / version / "report.json").write_text(json.dumps(rep))
    man = json.loads((root / version / "manifest.json").read_text())
    man["version"] = version
    man["metrics"] = {**man.get("metrics", {}), **(metrics or {})}
    if created:
        man["created"] = created
    if test_sha256:
        man["training_data"]["test_sha256"] = test_sha256
    man["files"]["report.json"] = hashlib.sha256((root / version / "report.json").read_bytes()).hexdigest()
    (root / version / "manifest.json").write_text(json.dumps(man))
    return version


def newer(version: str, n: int) -> str:
    """A version name that sorts (is created) after ``version``."""
    return f"{version[:-8]}ffffff{n:02x}"


def page(client, path: str):
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return lxml_html.fromstring(resp.get_data(as_text=True))


def cells(row) -> list[str]:
    return [" ".join(td.text_content().split()) for td in row.xpath("./td")]


def classes(row) -> list[str]:
    return [(td.xpath("./span/@class") or [""])[0] for td in row.xpath("./td")]


def frozen_test(base: dict, precision: float, recall: float, f1: float) -> dict:
    """``base``'s frozen-test section with the same figures for every theme."""
    section = dict(base["test"])
    section["per_theme"] = [dict(r, precision=precision, recall=recall, f1=f1) for r in section["per_theme"]]
    return section



@pytest.fixture
def tclient(trained):
    from service import create_app

    s = trained.settings
    app = create_app({"TESTING": True, "DATA_DIR": s.data_dir, "MODELS_DIR": s.models_dir,
                      "TRAINING_DATA_DIR": s.training_data_dir, "EMBEDDING_MODEL": FAKE_EMBEDDER, "API_TOKEN": "tok",
                      "EMBEDDER": trained.embedder})
    return app.test_client()


# -- the versions list ----------------------------------------------------------------------------------------
def test_the_list_shows_every_version_newest_first_with_micro_and_macro_f1_for_test_and_cv(client, trained):
    reg = trained.registry
    first = reg.active_version()
    second = add_version(reg, first, newer(first, 1), report={"decision": "saved"},
                         metrics={"test": {"micro_f1": 0.6543, "macro_f1": 0.6211},
                                  "cv": {"micro_f1": 0.7777, "macro_f1": 0.7012},
                                  "baseline_test": {"micro_f1": 0.5432, "macro_f1": 0.5}})
    doc = page(client, "/models")
    rows = doc.xpath("//table[@id='models-table']/tbody/tr")
    assert [r.get("data-version") for r in rows] == [second, first]
    assert cells(rows[0])[1:6] == ["0.654", "0.621", "0.543", "0.778", "0.701"]
    assert doc.xpath(f"//tr[@data-version='{second}']/td[@class='gate']")[0].text_content() == "saved"
    metrics = reg.manifest(first)["metrics"]
    assert cells(rows[1])[1] == f"{metrics['test']['micro_f1']:.3f}"
    assert cells(rows[1])[4] == f"{metrics['cv']['micro_f1']:.3f}"
    # the active marker, and Activate only on the version that is not active
    assert rows[1].get("class") == "active" and "active" in rows[1].xpath("./th/span[@class='badge']/text()")
    assert not rows[0].xpath(".//span[@class='badge']")
    assert doc.xpath("//button[@class='activate']/@data-version") == [second]
    assert doc.xpath(f"//tr[@data-version='{second}']/th/a/@href") == [f"/models/{second}"]
    assert doc.xpath("//a[@href='/models']/text()") == ["Models"]  # in the page navigation


def test_the_list_and_nav_work_with_no_model_at_all(client, trained):
    for v in trained.registry.versions():
        shutil.rmtree(trained.registry.root / v)
    doc = page(client, "/models")
    assert "No model versions yet" in doc.text_content() and not doc.xpath("//button[@id='rollback']")


# -- one version's evaluation ---------------------------------------------------------------------------------
def test_a_version_is_shown_per_theme_beside_the_version_it_was_gated_against(client, trained):
    reg = trained.registry
    first = reg.active_version()
    base = reg.report(first)
    themes = [r["theme"] for r in base["test"]["per_theme"]]
    # The gate recorded this candidate's differences from ``first``: precision up, recall and F1 down.
    comparison = {"active_version": first, "per_theme": {t: {"precision": 0.05, "recall": -0.1, "f1": -0.02}
                                                         for t in themes},
                  "active": {"micro_f1": 0.81, "macro_f1": 0.8}, "candidate": {"micro_f1": 0.79, "macro_f1": 0.78},
                  "micro_f1_delta": -0.02, "macro_f1_delta": -0.02,
                  "cross_validation": {"active": {"micro_f1": 0.9}, "candidate": {"micro_f1": 0.91}}}
    second = add_version(reg, first, newer(first, 1), report={
        "decision": "rejected", "comparison": comparison, "test": frozen_test(base, 0.8, 0.7, 0.7467)})
    doc = page(client, f"/models/{second}")
    labels = {t.id: t.label for t in trained.codebook.themes}

    gate = doc.xpath("//table[contains(@class, 'gate')]")[0]
    assert gate.get("data-against") == first
    rows = gate.xpath("./tbody/tr")
    assert [r.get("data-theme") for r in rows] == themes
    for row, theme in zip(rows, themes):
        assert row.xpath("./th")[0].text_content() == labels[theme]
        assert cells(row)[1:] == ["0.800", "0.700", "0.747", "0.750", "0.800", "0.767", "+0.050", "-0.100", "-0.020"]
        assert classes(row)[7:] == ["better", "worse", "worse"]
    foot = [cells(r) for r in gate.xpath("./tfoot/tr")]
    assert "0.790" in foot[0] and "0.810" in foot[0] and "-0.020" in foot[0]
    text = " ".join(doc.text_content().split())
    assert "rejected by the evaluation gate" in text
    assert f"Against {first}, the version active when this one was trained" in text
    assert "micro-F1 0.810 → 0.790" in text and "0.900 → 0.910" in text

    # the same figures beside the TF-IDF baseline trained in the same run, for the test set and for CV
    for name, section in (("frozen test set", "test"), ("5-fold cross-validation", "cv")):
        table = doc.xpath(f"//table[@data-evaluation='{name}']")[0]
        rep = reg.report(second)
        baseline = {r["theme"]: r for r in rep[f"baseline_{section}"]["per_theme"]}
        for r in rep[section]["per_theme"]:
            row = table.xpath(f"./tbody/tr[@data-theme='{r['theme']}']")[0]
            b = baseline[r["theme"]]
            figures = [f"{x:.3f}" for x in (r["precision"], r["recall"], r["f1"], b["precision"], b["recall"], b["f1"])]
            assert cells(row)[:7] == [str(r["support"]), *figures]


def test_without_a_recorded_gate_a_version_is_set_beside_the_active_one(client, trained):
    reg = trained.registry
    first = reg.active_version()
    base = reg.report(first)
    older = add_version(reg, first, "19990101-000000-0000000a", created="1999-01-01T00:00:00+00:00",
                        test_sha256="0" * 64, report={"comparison": None, "decision": "activated",
                                                      "test": frozen_test(base, 0.5, 0.6, 0.5455)})
    doc = page(client, f"/models/{older}")
    gate = doc.xpath("//table[contains(@class, 'gate')]")[0]
    assert gate.get("data-against") == first
    mine = {r["theme"]: r for r in base["test"]["per_theme"]}
    for row in gate.xpath("./tbody/tr"):
        other = mine[row.get("data-theme")]
        assert cells(row)[4:7] == [f"{other['precision']:.3f}", f"{other['recall']:.3f}", f"{other['f1']:.3f}"]
        assert cells(row)[9] == f"{0.5455 - other['f1']:+.3f}"
    text = " ".join(doc.text_content().split())
    assert "Nothing was recorded when this version was trained" in text and "different frozen test sets" in text
    # the active version itself, with nothing recorded, has nothing to be set beside
    first_page = " ".join(page(client, f"/models/{first}").text_content().split())
    assert "No other version to compare it with" in first_page


def test_the_context_stage_is_shown_for_documents_registers_and_kinds(client, trained):
    reg = trained.registry
    first = reg.active_version()

    def row(micro_alone, micro_ctx, tagged_alone, tagged_ctx, n):
        return {"context": {"micro_f1": micro_ctx, "macro_f1": micro_ctx, "themeless_tagged": tagged_ctx, "n": n},
                "context_free": {"micro_f1": micro_alone, "macro_f1": micro_alone, "themeless_tagged": tagged_alone,
                                 "n": n}}

    def section(micro, kept_untagged, n):
        return {"name": "x", "n_examples": n, "per_theme": [], "micro_f1": micro, "macro_f1": micro,
                "themeless_kept_untagged": kept_untagged}

    docs = {"context": {"micro_f1": 0.9, "macro_f1": 0.88, "n_examples": 12},
            "context_free": {"micro_f1": 0.85, "macro_f1": 0.84, "n_examples": 12}}
    context = {"kept": True, "cv": {
        "context": section(0.82, 0.9, 200), "context_free": section(0.8, 0.8, 200),
        "breakdown": {"document_level": docs,
                      "register": {"press_releases": row(0.7, 0.75, 0.2, 0.1, 120),
                                   "board_papers": row(0.8, 0.78, 0.1, 0.15, 80)},
                      "kind": {"heading": row(0.6, 0.7, 0.3, 0.2, 40), "body": row(0.85, 0.85, 0.1, 0.1, 160)}}}}
    second = add_version(reg, first, newer(first, 1), report={"context": context})
    doc = page(client, f"/models/{second}")
    table = doc.xpath("//table[contains(@class, 'context')]")[0]
    overall = table.xpath(".//tr[@data-key='all paragraphs']")[0]
    assert cells(overall) == ["200", "0.800", "0.820", "+0.020", "0.800", "0.820", "20.0%", "10.0%", "-10.0 pt"]
    assert classes(overall)[3] == "better" and classes(overall)[8] == "better"  # fewer themeless paragraphs tagged
    assert cells(table.xpath(".//tr[@data-key='documents']")[0])[:3] == ["12", "0.850", "0.900"]
    board = table.xpath("./tbody[@data-axis='register']/tr[@data-key='board_papers']")[0]
    assert cells(board)[1:3] == ["0.800", "0.780"] and classes(board)[3] == "worse" and classes(board)[8] == "worse"
    assert table.xpath("./tbody[@data-axis='kind']/tr[@data-key='heading']")
    assert "It was kept" in doc.text_content()


@pytest.mark.parametrize("path", ["/models/20000101-000000-00000000", "/models/not-a-version", "/models/ACTIVE",
                                  "/models/.."])
def test_an_unknown_version_is_a_404_page(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert "Not found" in resp.get_data(as_text=True) and "text/html" in resp.content_type


@pytest.mark.parametrize("path", ["/models/..%2FACTIVE", "/models/20261205-013437-446a7f29%2F..%2F..%2Fetc"])
def test_a_path_in_place_of_a_version_is_not_found(client, path):
    assert client.get(path).status_code == 404


def test_a_folder_that_is_not_a_saved_version_is_not_shown(client, trained):
    # named like a version, but with no manifest: the registry does not list it, so neither does the page
    (trained.registry.root / "20991231-235959-abcdef01").mkdir()
    assert client.get("/models/20991231-235959-abcdef01").status_code == 404
    assert "20991231-235959-abcdef01" not in client.get("/models").get_data(as_text=True)


# -- roll back ------------------------------------------------------------------------------------------------
def test_activations_are_recorded_and_a_torn_line_is_skipped(trained):
    reg = trained.registry
    first = reg.active_version()
    second = add_version(reg, first, newer(first, 1))
    reg.activate(second)
    reg.activate(first)
    assert [a["version"] for a in reg.activations()][-3:] == [first, second, first]
    with open(reg.root / "activations.jsonl", "a") as fh:
        fh.write('{"version": "2026')  # a crash mid-write
    assert [a["version"] for a in reg.activations()][-3:] == [first, second, first]
    reg.activate(second)  # the next activation starts a line of its own
    assert [a["version"] for a in reg.activations()][-4:] == [first, second, first, second]
    assert all(a["at"] for a in reg.activations())


def test_roll_back_returns_to_the_version_active_before(tclient, trained):
    reg = trained.registry
    first = reg.active_version()
    second = add_version(reg, first, newer(first, 1))
    third = add_version(reg, first, newer(first, 2))
    assert rollback_target(reg) is None  # nothing was active before the first
    for version in (third, second):
        assert tclient.post(f"/api/v1/models/{version}/activate", headers=AUTH).status_code == 200
    # second was activated after third: a rollback goes back to third, not to what was newest or oldest
    doc = page(tclient, "/models")
    assert doc.xpath("//button[@id='rollback']/@data-version") == [third]
    assert "the version active before the current one" in doc.xpath("//p[@id='rollback-note']")[0].text_content()
    assert tclient.post(f"/api/v1/models/{third}/activate", headers=AUTH).status_code == 200
    assert rollback_target(reg).version == second  # and once more returns to where it was


def test_without_an_activation_record_roll_back_uses_what_the_reports_say(trained):
    reg = trained.registry
    first = reg.active_version()
    (reg.root / "activations.jsonl").unlink()
    older = add_version(reg, first, "19990101-000000-0000000a", report={"decision": "activated", "comparison": None})
    add_version(reg, first, "19990101-000000-0000000b", report={"decision": "rejected", "comparison": None})
    # the newest earlier version the gate activated (the rejected one is newer, but never was active)
    assert rollback_target(reg).version == older
    second = add_version(reg, first, newer(first, 1), report={"comparison": {"active_version": first, "per_theme": {}}})
    (reg.root / "ACTIVE").write_text(second + "\n")  # as an older release switched versions: no record
    target = rollback_target(reg)
    assert target.version == first and "active when" in target.reason


def test_the_list_and_the_report_read_the_registry_not_a_path(trained):
    reg = trained.registry
    first = reg.active_version()
    assert [s.version for s in summaries(reg)] == list(reversed(reg.versions()))
    from classifier.errors import NotFound

    for bad in ("../models", "ACTIVE", first + "/..", "20000101-000000-00000000"):
        with pytest.raises(NotFound):
            model_report(reg, bad, trained.codebook)


# -- train, activate, errors over HTTP (as the page's buttons call them) -----------------------------------------
def test_train_from_the_page_api_then_the_list_shows_the_new_version(tclient, trained):
    first = trained.registry.active_version()
    assert tclient.post("/api/v1/models/train", json={}).status_code == 401
    started = tclient.post("/api/v1/models/train", headers=AUTH, json={"select": False, "force": True})
    assert started.status_code == 202
    job_id = started.get_json()["job"]["id"]
    deadline = time.time() + 180
    while (job := tclient.get(f"/api/v1/jobs/{job_id}").get_json()["job"])["status"] in ("queued", "running"):
        assert time.time() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    new = job["model"]
    doc = page(tclient, "/models")
    rows = doc.xpath("//table[@id='models-table']/tbody/tr")
    assert rows[0].get("data-version") == new and rows[0].get("class") == "active"
    assert doc.xpath("//td[@class='gate']")[0].text_content() == "activated"
    assert doc.xpath("//button[@id='rollback']/@data-version") == [first]
    detail = page(tclient, f"/models/{new}")
    assert detail.xpath("//table[contains(@class, 'gate')]/@data-against") == [first]


def test_activating_without_the_token_is_refused_with_a_readable_error(tclient, trained):
    first = trained.registry.active_version()
    second = add_version(trained.registry, first, newer(first, 1))
    resp = tclient.post(f"/api/v1/models/{second}/activate")
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "unauthorized"
    assert trained.registry.active_version() == first


# -- in the browser -------------------------------------------------------------------------------------------
def _wait(driver, seconds=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds)


def _row_is_active(version):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    def check(driver):
        try:
            row = driver.find_element(By.CSS_SELECTOR, f"tr[data-version='{version}']")
            return "active" in (row.get_attribute("class") or "").split()
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    return check


def _console(driver) -> list[dict]:
    """The console since the last call (reading it empties it)."""
    return driver.get_log("browser")


def _errors(entries, allowed=()) -> list[str]:
    return [e["message"] for e in entries if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


@pytest.mark.browser
def test_models_view_activates_another_version_and_rolls_back_in_the_browser(live_server, browser, trained):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    reg = trained.registry
    first = reg.active_version()
    base = reg.report(first)
    themes = [r["theme"] for r in base["test"]["per_theme"]]
    second = add_version(reg, first, newer(first, 1), report={
        "decision": "saved", "test": frozen_test(base, 0.9, 0.85, 0.874),
        "comparison": {"active_version": first, "active": {"micro_f1": 0.8, "macro_f1": 0.8},
                       "candidate": {"micro_f1": 0.87, "macro_f1": 0.87},
                       "per_theme": {t: {"precision": 0.1, "recall": -0.15, "f1": 0.02} for t in themes}}})
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/models")
    rows = browser.find_elements(By.CSS_SELECTOR, "#models-table tbody tr")
    assert [r.get_attribute("data-version") for r in rows] == [second, first]
    assert "active" in rows[1].text and "active" not in rows[0].text.split()
    browser.save_screenshot(str(ARTIFACTS / "models-view.png"))

    # without the token the server refuses, and the page says why and what to do
    browser.find_element(By.CSS_SELECTOR, f"button.activate[data-version='{second}']").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "models-status"), "Enter the API token"))
    assert "error" in browser.find_element(By.ID, "models-status").get_attribute("class")
    assert call(port, "GET", "/api/v1/models")[1]["active"] == first
    refused = _console(browser)  # the 401 is logged by the browser as a failed load; nothing else may be
    assert _errors(refused, allowed=("401",)) == [] and any("401" in e["message"] for e in refused)

    browser.find_element(By.ID, "models-token").send_keys("tok")
    browser.find_element(By.CSS_SELECTOR, f"button.activate[data-version='{second}']").click()
    wait.until(_row_is_active(second))
    assert call(port, "GET", "/api/v1/models")[1]["active"] == second
    assert f"{second} is now the active model" in browser.find_element(By.ID, "models-status").text
    assert not browser.find_elements(By.CSS_SELECTOR, f"button.activate[data-version='{second}']")

    rollback = wait.until(EC.element_to_be_clickable((By.ID, "rollback")))
    assert rollback.get_attribute("data-version") == first  # the token stays in the tab across the reload
    rollback.click()
    wait.until(_row_is_active(first))
    assert call(port, "GET", "/api/v1/models")[1]["active"] == first

    browser.get(f"http://127.0.0.1:{port}/models/{second}")
    gate_rows = browser.find_elements(By.CSS_SELECTOR, "table.gate tbody tr")
    assert len(gate_rows) == len(themes) > 0
    f1_change = gate_rows[0].find_element(By.CSS_SELECTOR, "td.f1-delta span")
    assert f1_change.text == "+0.020" and f1_change.value_of_css_property("color") == "rgba(27, 110, 32, 1)"
    recall_change = gate_rows[0].find_elements(By.CSS_SELECTOR, "td span.worse")[0]
    assert recall_change.text == "-0.150" and recall_change.value_of_css_property("color") == "rgba(160, 25, 25, 1)"
    assert browser.find_elements(By.CSS_SELECTOR, "table.evaluation[data-evaluation='frozen test set'] tbody tr")
    browser.save_screenshot(str(ARTIFACTS / "model-detail.png"))
    assert browser.execute_script("return window.cspViolations") == []
    assert _errors(_console(browser)) == []


@pytest.mark.browser
def test_train_from_the_page_follows_the_job_and_lists_the_new_version(live_server, browser, trained):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    first = trained.registry.active_version()
    wait = _wait(browser, 180)
    browser.get(f"http://127.0.0.1:{port}/models")
    browser.find_element(By.ID, "models-token").send_keys("tok")
    browser.find_element(By.ID, "train-force").click()
    browser.find_element(By.ID, "train").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "models-status"), "Training job"))
    wait.until(EC.text_to_be_present_in_element((By.ID, "models-status"), "finished"))
    models = call(port, "GET", "/api/v1/models")[1]
    new = models["active"]
    assert new != first and f"model {new} is now the active model" in browser.find_element(By.ID, "models-status").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#models-table tbody tr")
    assert rows[0].get_attribute("data-version") == new and "active" in rows[0].get_attribute("class")
    assert browser.find_element(By.ID, "rollback").get_attribute("data-version") == first
    assert csp_violations(browser) == []
