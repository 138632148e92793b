"""The workbench on the page, in headless Chromium: paging, date order, copies, exports, organisation
suggestions, the trends view and an organisation's page. Screenshots go to test-artifacts/."""

import pytest

from tests.conftest import call
from tests.test_web import ARTIFACTS, browser, csp_violations  # noqa: F401  (browser is a fixture)

pytestmark = pytest.mark.browser
TOKEN = {"Authorization": "Bearer tok"}
SHARED = ("Councils and the NHS must agree a fully funded plan for the care workforce, with pay that keeps "
          "experienced carers and staff in the job.")


def _load(port):
    statements = [{"text": f"Care staff pay and vacancies in area {i}: recruitment of carers is hard.",
                   "organisation": ["Wexcombe County Council", "Harrow Vale ICB", "Fenbury District Council"][i % 3],
                   "date": f"{2012 + i % 12}-0{1 + i % 9}-10", "title": f"Workforce note {i}"} for i in range(24)]
    statements += [{"text": SHARED, "organisation": org, "date": date, "title": "Shared line"}
                   for org, date in [("Kestrel Vale NHS Trust", "2022-03-01"), ("Northfold Borough Council", "2020-07-15"),
                                     ("Greyharbour City Council", "2023-11-30")]]
    statements += [{"text": "Delayed discharge from hospital beds rose this winter.", "organisation": "Harrow Vale ICB",
                    "date": f"20{18 + i}-01-0{1 + i}"} for i in range(3)]
    status, body = call(port, "POST", "/api/v1/statements", {"statements": statements}, TOKEN)
    assert status == 201
    return body["ids"]


def _wait(browser):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, 20)


def test_search_pages_sorts_groups_copies_and_exports(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select

    port, _ = live_server
    _load(port)
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/")
    for field in browser.find_elements(By.CSS_SELECTOR, "textarea, input:not([type=hidden]), select"):
        assert browser.find_elements(By.CSS_SELECTOR, f"label[for='{field.get_attribute('id')}']"), field.get_attribute("id")
    browser.find_element(By.ID, "search-q").send_keys("care staff pay carers workforce plan")
    Select(browser.find_element(By.ID, "search-mode")).select_by_value("keyword")
    browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "result(s): 1–10"))
    first = [li.get_attribute("data-id") for li in browser.find_elements(By.CSS_SELECTOR, "#search-results > li")]
    assert len(first) == 10
    expected = call(port, "GET", "/api/v1/search?q=care+staff+pay+carers+workforce+plan&mode=keyword&k=20")[1]
    assert first == [str(r["id"]) for r in expected["results"][:10]]
    # the three copies are one hit, the earliest, naming the others
    grouped = [r for r in expected["results"] if r["copies"]]
    assert len(grouped) == 1 and grouped[0]["organisation"] == "Northfold Borough Council"
    assert {c["organisation"] for c in grouped[0]["copies"]} == {"Kestrel Vale NHS Trust", "Greyharbour City Council"}

    copies_shown = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "#search-results .copies")]
    browser.find_element(By.ID, "search-next").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "result(s): 11–"))
    second = [li.get_attribute("data-id") for li in browser.find_elements(By.CSS_SELECTOR, "#search-results > li")]
    assert second == [str(r["id"]) for r in expected["results"][10:20]]
    copies_shown += [p.text for p in browser.find_elements(By.CSS_SELECTOR, "#search-results .copies")]
    assert str(grouped[0]["id"]) in first + second
    assert copies_shown == ["Also published by: Kestrel Vale NHS Trust (2022-03-01); Greyharbour City Council (2023-11-30)"]
    csv_link = browser.find_element(By.ID, "export-csv").get_attribute("href")
    assert "format=csv" in csv_link and "offset=10" in csv_link
    exported = browser.execute_async_script(
        "const done = arguments[1]; fetch(arguments[0]).then(r => r.text().then(t => done([r.headers.get('content-type'), t])));",
        csv_link)
    assert exported[0] == "text/csv; charset=utf-8"
    assert exported[1].splitlines()[0] == "id,organisation,date,title,url,document_id,paragraph_index,themes,score,text,copies"
    assert [line.split(",")[0] for line in exported[1].splitlines()[1:]] == second
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "search-page-2.png"))

    browser.find_element(By.ID, "search-prev").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "result(s): 1–10"))
    Select(browser.find_element(By.ID, "search-sort")).select_by_value("date")
    browser.find_element(By.CSS_SELECTOR, "#search-form button[type=submit]").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "result(s): 1–10"))
    items = browser.find_elements(By.CSS_SELECTOR, "#search-results > li")
    assert sorted(li.get_attribute("data-id") for li in items) == sorted(first)  # the same hits, by date
    dates = [li.find_element(By.CSS_SELECTOR, ".meta").text.split(" · ")[1] for li in items]
    assert dates == sorted(dates)
    browser.save_screenshot(str(ARTIFACTS / "search-by-date.png"))
    assert csp_violations(browser) == []


def test_organisations_are_suggested_as_you_type_and_several_can_be_chosen(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    port, _ = live_server
    _load(port)
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/")
    org = browser.find_element(By.ID, "search-org")
    org.send_keys("counc")
    wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#org-list option")) == 4)
    suggested = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#org-list option")]
    assert all("council" in s.lower() for s in suggested) and "Wexcombe County Council" in suggested
    org.clear()
    org.send_keys("wexcombe county council", Keys.ENTER)  # Enter adds the name, it does not send the form
    org.send_keys("Harrow Vale ICB")
    browser.find_element(By.CSS_SELECTOR, ".org-picker .add-org").click()
    chips = browser.find_elements(By.CSS_SELECTOR, "#search-form .picked li")
    assert [c.text.rstrip(" ×") for c in chips] == ["wexcombe county council", "Harrow Vale ICB"]
    browser.find_element(By.ID, "search-q").send_keys("hospital beds pay carers", Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.ID, "search-status"), "result(s)"))
    orgs = {li.find_element(By.CSS_SELECTOR, ".meta").text.split(" · ")[0]
            for li in browser.find_elements(By.CSS_SELECTOR, "#search-results > li")}
    assert orgs == {"Wexcombe County Council", "Harrow Vale ICB"}
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "organisation-picker.png"))
    chips[0].find_element(By.CSS_SELECTOR, "button.remove").click()
    assert len(browser.find_elements(By.CSS_SELECTOR, "#search-form .picked li")) == 1
    assert csp_violations(browser) == []


def test_trends_view_draws_the_counts_and_the_organisation_table(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select

    port, _ = live_server
    _load(port)
    wait = _wait(browser)
    browser.get(f"http://127.0.0.1:{port}/")
    browser.find_element(By.LINK_TEXT, "Trends").click()
    wait.until(EC.presence_of_element_located((By.ID, "trends-form")))
    Select(browser.find_element(By.ID, "trends-theme")).select_by_value("workforce")
    browser.find_element(By.ID, "trends-org").send_keys("Harrow Vale ICB")
    browser.find_element(By.CSS_SELECTOR, "#trends-form .add-org").click()
    browser.find_element(By.ID, "trends-org").send_keys("Wexcombe County Council")
    browser.find_element(By.CSS_SELECTOR, "#trends-form button[type=submit]").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "svg.chart")))
    api = call(port, "GET", "/api/v1/trends?theme=workforce&organisation=Harrow+Vale+ICB"
                            "&organisation=Wexcombe+County+Council")[1]
    bars = browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.bar")
    assert [(b.get_attribute("data-period"), int(b.get_attribute("data-count"))) for b in bars] == \
        [(p["period"], p["count"]) for p in api["series"]]
    assert api["total"] > 0 and f"{api['total']} statement(s) tagged Workforce" in browser.find_element(By.ID, "trends-status").text
    assert len(browser.find_elements(By.CSS_SELECTOR, ".picked li")) == 2  # both organisations kept
    table = browser.find_element(By.ID, "crosstab")
    names = [th.text for th in table.find_elements(By.CSS_SELECTOR, "tbody th[scope=row]")]
    assert sorted(names) == ["Harrow Vale ICB", "Wexcombe County Council"]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.set_window_size(1366, 1500)  # the chart and the table in one picture
    browser.save_screenshot(str(ARTIFACTS / "trends-view.png"))
    assert csp_violations(browser) == []

    table.find_element(By.LINK_TEXT, "Harrow Vale ICB").click()
    wait.until(EC.presence_of_element_located((By.ID, "org-table")))
    org = call(port, "GET", "/api/v1/organisations/Harrow%20Vale%20ICB")[1]
    rows = browser.find_elements(By.CSS_SELECTOR, "#org-table tbody tr")
    assert len(rows) == len(org["themes"])
    periods = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#org-table thead th")][2:]
    assert periods == org["periods"]
    first = [td.text for td in rows[0].find_elements(By.TAG_NAME, "td")]
    assert first == [str(org["themes"][0]["total"])] + [str(c) for c in org["themes"][0]["counts"]]
    browser.save_screenshot(str(ARTIFACTS / "organisation-page.png"))
    assert csp_violations(browser) == []


def test_trends_view_shows_bad_input_on_the_page(live_server, browser):
    from selenium.webdriver.common.by import By

    port, _ = live_server
    browser.get(f"http://127.0.0.1:{port}/trends?since=2020&until=2019")
    assert "since is after until" in browser.find_element(By.ID, "trends-status").text
    assert not browser.find_elements(By.CSS_SELECTOR, "svg.chart")
