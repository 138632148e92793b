"""The web page in a real headless Chromium (Debian's chromium + chromedriver), driven by Selenium."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import call

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium and chromedriver are needed (make test installs them: apt-get install chromium "
                    "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1366,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    # Every page records the Content-Security-Policy violations it meets, from before its first script runs.
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.cspViolations = [];
        document.addEventListener("securitypolicyviolation", (e) => window.cspViolations.push(
            `${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
    """})
    yield driver
    driver.quit()


def test_tag_and_search_from_the_page_with_the_keyboard(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    port, _ = live_server
    assert call(port, "POST", "/api/v1/statements", {"statements": [
        {"text": "Care staff vacancies keep rising and pay must improve. Recruitment is our biggest risk.",
         "organisation": "Wexcombe County Council", "date": "2019-04-01", "title": "Workforce"},
        {"text": "Delayed discharge from hospital beds rose this winter.", "organisation": "Harrow Vale ICB",
         "date": "2021-01-05", "title": "Winter"}]}, {"Authorization": "Bearer tok"})[0] == 201
    wait = WebDriverWait(browser, 20)
    browser.get(f"http://127.0.0.1:{port}/")

    # every form field has a label
    for field in browser.find_elements(By.CSS_SELECTOR, "textarea, input, select"):
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']"), field.get_attribute("id")

    text = browser.find_element(By.ID, "tag-text")
    text.click()
    text.send_keys("Staff recruitment, vacancies and pay for carers.")
    text.send_keys(Keys.ENTER, Keys.ENTER, "Delayed discharge from hospital beds this winter.")
    text.send_keys(Keys.TAB)  # keyboard only: tab to the button and press Enter
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.ID, "tag-status"), "paragraph(s) tagged"))
    items = browser.find_elements(By.CSS_SELECTOR, "#tag-results > li")
    assert len(items) == 2
    assert "Workforce" in items[0].text and "Hospital discharge" in items[1].text
    assert browser.find_elements(By.CSS_SELECTOR, "#tag-summary .chip")

    q = browser.find_element(By.ID, "search-q")
    q.send_keys("vacancies pay")
    Select(browser.find_element(By.ID, "search-mode")).select_by_value("keyword")
    browser.find_element(By.ID, "search-org").send_keys("Wexcombe County Council")
    q.send_keys(Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "result(s)"))
    results = browser.find_elements(By.CSS_SELECTOR, "#search-results > li")
    assert len(results) == 1 and "Wexcombe County Council" in results[0].text
    assert results[0].find_element(By.TAG_NAME, "mark").text.startswith("Care staff vacancies")

    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "web-page.png"))
    assert (ARTIFACTS / "web-page.png").stat().st_size > 10_000


def test_errors_are_shown_not_thrown(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    port, _ = live_server
    browser.get(f"http://127.0.0.1:{port}/")
    browser.find_element(By.ID, "search-q").send_keys("x")
    browser.find_element(By.ID, "search-since").send_keys("01022022")
    browser.find_element(By.ID, "search-until").send_keys("01012020")
    browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "search-status"), "since is after until"))
    assert "error" in browser.find_element(By.ID, "search-status").get_attribute("class")


def test_review_view_posts_answers_as_labels(live_server, browser, trained):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    port, _ = live_server
    call(port, "POST", "/api/v1/statements", {"statements": [
        {"text": "Staff pay and vacancies in home care.", "organisation": "A"},
        {"text": "Delayed discharge from beds this winter.", "organisation": "B"}]}, {"Authorization": "Bearer tok"})
    wait = WebDriverWait(browser, 20)
    browser.get(f"http://127.0.0.1:{port}/")
    browser.find_element(By.ID, "review-token").send_keys("tok")
    n = browser.find_element(By.ID, "review-n")
    n.clear()
    n.send_keys("1")
    browser.find_element(By.CSS_SELECTOR, "#review-form button").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "review-status"), "statement(s) to review"))
    item = browser.find_element(By.CSS_SELECTOR, "#review-results > li")
    for chip in item.find_elements(By.CSS_SELECTOR, "button.chip[aria-pressed='true']"):
        chip.click()  # reject every current theme
    Select(item.find_element(By.TAG_NAME, "select")).select_by_value("wider_determinants")
    item.find_element(By.XPATH, ".//button[text()='Add theme']").click()
    item.find_element(By.CSS_SELECTOR, "button.save").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#review-results > li .saved"), "Saved"))
    browser.save_screenshot(str(ARTIFACTS / "review-view.png"))
    labels = trained.store.labels()
    assert len(labels) == 1 and labels[0]["themes"] == ["wider_determinants"]
    assert labels[0]["statement_id"] == int(item.get_attribute("data-statement"))


def csp_violations(browser) -> list[str]:
    """The page's CSP violations so far, and the console's CSP messages."""
    seen = list(browser.execute_script("return window.cspViolations"))
    return seen + [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]


def test_page_and_docs_run_under_the_csp_without_violations(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    port, _ = live_server
    wait = WebDriverWait(browser, 20)
    browser.get(f"http://127.0.0.1:{port}/")
    browser.find_element(By.ID, "tag-text").send_keys("Staff recruitment, vacancies and pay for carers.")
    browser.find_element(By.CSS_SELECTOR, "#tag-form button").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#tag-results .chip")))
    chip = browser.find_element(By.CSS_SELECTOR, "#tag-results .chip")
    assert chip.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"  # coloured despite the CSP
    assert csp_violations(browser) == []

    browser.get(f"http://127.0.0.1:{port}/api/v1/docs")
    operation = "#operations-tagging-tag"  # Swagger UI's id for the operation: tag, then operationId
    wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"{operation} .opblock-summary-control"))).click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"{operation} .responses-wrapper")))
    assert "Workforce" in browser.find_element(By.CSS_SELECTOR, operation).text  # the response example
    assert csp_violations(browser) == []

    # The policy is in force: an injected inline script is refused and reported.
    browser.execute_script("""const s = document.createElement("script");
        s.textContent = "window.injected = true;"; document.body.append(s);""")
    assert browser.execute_script("return window.injected") is None
    assert any("script-src" in v for v in browser.execute_script("return window.cspViolations"))


def test_docs_page_renders_every_operation_from_the_local_bundle(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    port, _ = live_server
    spec = call(port, "GET", "/api/v1/openapi.json")[1]
    browser.get(f"http://127.0.0.1:{port}/api/v1/docs")
    WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".opblock")))
    shown = {(b.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.lower(),
              b.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"))
             for b in browser.find_elements(By.CSS_SELECTOR, ".opblock")}
    assert shown == {(m, path) for path, ops in spec["paths"].items() for m in ops}
    # Every script and stylesheet came from this server: nothing from a CDN.
    loaded = browser.execute_script("return performance.getEntriesByType('resource').map(r => r.name)")
    assert loaded and all(url.startswith(f"http://127.0.0.1:{port}/") for url in loaded), loaded
    assert any(url.endswith("/swagger-ui-bundle.js") for url in loaded)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "api-docs.png"))
