"""The page ``suite serve`` answers at ``/``: its card, its file routes, and each domain's form in a real browser.

The browser tests drive Debian's Chromium through Selenium (one browser for the module, one server per domain's
tiny run) and compare what the page shows with what ``suite predict`` prints for the same input. Without a
browser they skip, naming the install command. ``SUITE_PAGE_SCREENSHOTS=docs/serving`` makes them save a
screenshot of each domain's page there (what docs/serving.md shows).
"""

import base64
import io
import json
import os
import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from live_server import LiveServer

from suite import cli

pytestmark = pytest.mark.slow    # trains the tiny runs and starts servers: not in the fast lane

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
INSTALL = "apt-get install chromium chromium-driver; pip install selenium (the test extra)"
SCREENSHOTS = os.environ.get("SUITE_PAGE_SCREENSHOTS")
PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: pt\\n"

msgid "Delete %(name)s?"
msgstr ""

msgid "_Open"
msgstr ""

msgid "Save changes"
msgstr "Guardar alterações"
"""


@pytest.fixture(scope="module")
def live(serve_runs):
    """``live(domain)``: a started server for that domain's tiny run, shared by the module's tests."""
    servers = {}

    def get(domain):
        if domain not in servers:
            servers[domain] = LiveServer(serve_runs[domain]).start()
        return servers[domain]

    yield get
    for server in servers.values():
        server.stop()


def suite_predict(capsys, *argv) -> list[dict]:
    """What ``suite predict ARGV`` prints, one JSON object per line."""
    capsys.readouterr()
    assert cli.main(["predict", *map(str, argv)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def png_bytes(seed=0) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(seed).random((40, 40, 3)) * 255).astype(np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


# -- the card and the routes the forms use (no browser needed) ---------------------------------
def test_the_page_shows_the_runs_card_with_its_table_operating_point_and_plots(live, serve_runs):
    server = live("spam")
    metrics = json.loads((serve_runs["spam"] / "metrics.json").read_text())
    page = httpx.get(server.url + "/", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for system in metrics["models"]:
        assert f"<th scope='row'>{system}</th>" in page.text
    assert "<tr class='served'><td>tuned</td><th scope='row'>tuned</th>" in page.text
    test_point = metrics["operating_point"]["test"]
    assert f"false positives {test_point['false_positives']} of {test_point['negatives']} negatives" in page.text
    plots = sorted(p.name for p in (serve_runs["spam"] / "plots").glob("*.png"))
    assert plots and all(f"src='plots/{name}'" in page.text for name in plots)
    image = httpx.get(f"{server.url}/plots/{plots[0]}", timeout=30)
    assert image.status_code == 200 and image.content == (serve_runs["spam"] / "plots" / plots[0]).read_bytes()
    assert httpx.get(f"{server.url}/plots/..%2Fmetrics.json", timeout=30).status_code == 404
    assert httpx.get(f"{server.url}/static/page.html", timeout=30).status_code == 404


def test_docs_is_a_plain_listing_that_needs_no_other_server(live):
    server = live("spam")
    docs = httpx.get(server.url + "/docs", timeout=30)
    assert docs.status_code == 200 and "<code>POST /predict</code>" in docs.text and "<code>texts</code>" in docs.text
    assert "http" not in docs.text.replace(server.url, "")
    assert httpx.get(server.url + "/redoc", timeout=30).status_code == 404


def test_a_po_file_through_inputs_predict_and_output_is_what_suite_predict_writes(live, serve_runs, tmp_path,
                                                                                  capsys):
    server, run = live("translation"), serve_runs["translation"]
    source = tmp_path / "app.po"
    source.write_text(PO, encoding="utf-8")
    inputs = httpx.post(f"{server.url}/inputs", params={"name": "app.po"}, content=source.read_bytes(), timeout=60)
    assert inputs.status_code == 200, inputs.text
    predictions = httpx.post(f"{server.url}/predict", json={"texts": inputs.json()["inputs"]}, timeout=120).json()
    filled = httpx.post(f"{server.url}/output", timeout=120, json={
        "name": "app.po", "content": base64.b64encode(source.read_bytes()).decode(), **predictions})
    assert filled.status_code == 200, filled.text
    assert "2 untranslated entries filled" in filled.headers["x-suite-summary"]
    assert "/tmp" not in filled.headers["x-suite-summary"]
    suite_predict(capsys, run, "--input", source, "--output", tmp_path / "cli.po")
    assert filled.content.decode() == (tmp_path / "cli.po").read_text(encoding="utf-8")
    assert 'msgstr "Guardar alterações"' in filled.content.decode()          # what a person wrote is kept


@pytest.mark.parametrize("domain, name, content, status, line", [
    ("spam", "scan.png", png_bytes(), 422, "scan.png: a spam model takes .eml, .mbox, .txt files here, not '.png'"),
    ("translation", "broken.po", b'msgid "a"\nmsgstr "b" "c\n', 422, "broken.po: not a valid gettext catalog"),
    ("translation", "empty.po", b"", 422, "empty.po: holds no inputs"),
    ("translation", "../app.po", b"", 422, "expected a plain file name"),
    ("diagnostics", "scan.png", png_bytes(), 422, "a diagnostics model reads no files here"),
    ("spam", "big.eml", b"x" * 2_000_001, 413, "request body too large: the limit is 1000000 bytes")],
    ids=["wrong-suffix", "broken-po", "empty-po", "path-in-name", "domain-reads-no-files", "too-large"])
def test_a_file_the_model_cannot_read_is_refused_with_one_line_and_the_server_keeps_serving(
        live, domain, name, content, status, line):
    server = live(domain)
    answer = httpx.post(f"{server.url}/inputs", params={"name": name}, content=content, timeout=60)
    assert answer.status_code == status and line in answer.json()["detail"], answer.text
    assert "\n" not in answer.json()["detail"] and "/tmp" not in answer.json()["detail"]
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200


def test_output_refuses_predictions_of_the_wrong_shape(live):
    server = live("translation")
    answer = httpx.post(f"{server.url}/output", timeout=60, json={
        "name": "app.po", "content": base64.b64encode(PO.encode()).decode(), "predictions": [{"source": "x"}]})
    assert answer.status_code == 422 and answer.json()["detail"].startswith("predictions[0].translation:")


def test_suggestions_are_known_users_and_catalogue_titles(live, predictors):
    server, predictor = live("recommendation"), predictors("recommendation")
    user = next(iter(predictor.histories))
    users = httpx.get(f"{server.url}/suggest", params={"field": "users", "q": user[:1]}, timeout=30).json()
    assert users and all(u["value"].startswith(user[:1]) and u["value"] in predictor.histories for u in users)
    word = predictor.item_texts[0].split()[0]
    items = httpx.get(f"{server.url}/suggest", params={"field": "items", "q": word, "limit": 5}, timeout=30).json()
    assert 1 <= len(items) <= 5 and all(word.casefold() in i["label"].casefold() for i in items)
    assert all(predictor.item_texts[predictor.item_ids.index(i["value"])] == i["label"] for i in items)
    wrong = httpx.get(f"{server.url}/suggest", params={"field": "passwords"}, timeout=30)
    assert wrong.status_code == 422 and wrong.json()["detail"] == "field 'passwords': expected one of users, items"


# -- each domain's form in a real browser ------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; skipped, naming the install command, where there is none."""
    webdriver = pytest.importorskip("selenium.webdriver", reason=f"no Selenium: {INSTALL}")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip(f"no browser at {CHROMIUM} and {CHROMEDRIVER}: {INSTALL}")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


class Page:
    """The page of one server in the browser: fill, submit, wait for the answer or the error line."""

    def __init__(self, driver, url):
        from selenium.webdriver.common.by import By

        self.driver, self.url, self.by = driver, url, By
        self.reload()

    def reload(self):
        """Open the page afresh; wait until the model says it is ready and the domain's form is built."""
        self.driver.get(self.url + "/")
        self.wait(lambda: "ready" in self.text("health"), "the model to load")
        self.wait(lambda: self.driver.find_elements(self.by.CSS_SELECTOR, "#form form"), "the form")

    def find(self, css):
        return self.driver.find_element(self.by.CSS_SELECTOR, css)

    def text(self, element_id):
        return self.driver.find_element(self.by.ID, element_id).text

    def wait(self, condition, what, timeout=120):
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"the page did not show {what}"
            time.sleep(0.05)

    def submit(self):
        """Submit the form (Enter on its button: the keyboard's way) and wait until the answer or error is shown."""
        from selenium.webdriver.common.keys import Keys

        done = int(self.find("#answer").get_attribute("data-done") or 0)
        self.find("#form button[type=submit]").send_keys(Keys.ENTER)
        self.wait(lambda: int(self.find("#answer").get_attribute("data-done") or 0) > done, "an answer")
        return self.text("error")

    def upload(self, css, path):
        """Choose ``path`` in a file field (in place of what it held)."""
        field = self.find(css)
        self.driver.execute_script("arguments[0].value = ''", field)
        field.send_keys(str(path))

    def requests_outside(self):
        """Addresses of everything the page loaded that is not this server."""
        names = self.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        return [n for n in names if not (n.startswith(self.url) or n.startswith("data:") or n.startswith("blob:"))]

    def unlabelled_controls(self):
        return self.driver.execute_script(
            "return [...document.querySelectorAll('input, textarea, select')].filter(e => e.type !== 'radio' && "
            "!e.labels.length && !e.getAttribute('aria-label')).map(e => e.id || e.name)")

    def screenshot(self, domain):
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            height = self.driver.execute_script("return document.documentElement.scrollHeight")
            self.driver.set_window_size(1280, min(height + 100, 2400))
            self.driver.save_screenshot(str(Path(SCREENSHOTS) / f"page-{domain}.png"))
            self.driver.set_window_size(1280, 1000)


def api_error(server, path, **request) -> str:
    answer = httpx.post(f"{server.url}/{path}", timeout=60, **request)
    assert 400 <= answer.status_code < 500
    return answer.json()["detail"]


def test_spam_form_answers_what_suite_predict_prints(browser, live, serve_runs, tmp_path, capsys):
    server, run = live("spam"), serve_runs["spam"]
    page = Page(browser, server.url)
    assert not page.unlabelled_controls()
    text = "WIN a FREE cruise!!! Reply now to claim your prize"
    page.find("#mail-text").send_keys(text)
    assert page.submit() == ""
    [expected] = suite_predict(capsys, run, text)
    row = page.find("#answer tbody tr").text
    assert f"{expected['spam_probability']:.4f} {expected['label']} {expected['threshold']:.4f}" in row
    assert "false-positive rate was" in page.text("fpr-line") and "95% CI" in page.text("fpr-line")
    page.screenshot("spam")
    mail = tmp_path / "offer.eml"
    mail.write_bytes(b"From: a@example.org\nSubject: Cheap meds\n\nBuy cheap meds now, no prescription needed\n")
    page.upload("#mail-file", mail)
    assert page.submit() == ""
    [expected] = suite_predict(capsys, run, "--input", mail)
    assert f"{expected['spam_probability']:.4f} {expected['label']}" in page.find("#answer tbody tr").text
    assert page.requests_outside() == []


def test_spam_form_shows_the_apis_line_for_a_wrong_file_a_50_mb_file_and_a_second_submit(browser, live, tmp_path):
    server = live("spam")
    page = Page(browser, server.url)
    scan = tmp_path / "scan.png"
    scan.write_bytes(png_bytes())
    page.upload("#mail-file", scan)
    assert page.submit() == api_error(server, "inputs", params={"name": "scan.png"}, content=scan.read_bytes())
    big = tmp_path / "big.eml"
    big.write_bytes(b"x" * 50_000_000)
    page.reload()
    page.upload("#mail-file", big)
    assert page.submit() == "request body too large: the limit is 1000000 bytes"
    page.reload()
    page.find("#mail-text").send_keys("Minutes of Tuesday's meeting attached")
    before = httpx.get(f"{server.url}/stats", timeout=30).json()["requests"]
    page.driver.execute_script("const f = document.querySelector('#form form'); f.requestSubmit(); f.requestSubmit();")
    page.wait(lambda: page.find("#answer").get_attribute("data-done") == "1", "the first submit's answer")
    assert page.text("error") == "the previous request is still running; its answer comes first"
    assert len(page.driver.find_elements(page.by.CSS_SELECTOR, "#answer tbody tr")) == 1
    assert httpx.get(f"{server.url}/stats", timeout=30).json()["requests"] == before + 1
    assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200


def test_translation_form_fills_a_po_as_suite_predict_does_and_shows_progress(browser, live, serve_runs, tmp_path,
                                                                              capsys):
    server, run = live("translation"), serve_runs["translation"]
    page = Page(browser, server.url)
    assert not page.unlabelled_controls()
    entries = "".join(f'\nmsgid "Delete {i} files"\nmsgstr ""\n' for i in range(40))
    source = tmp_path / "app.po"
    source.write_text(PO + entries, encoding="utf-8")
    page.driver.execute_script(
        "window.seen = []; new MutationObserver(() => window.seen.push(document.getElementById('progress-text')"
        ".textContent)).observe(document.getElementById('progress-text'), {childList: true, characterData: true, "
        "subtree: true});")
    page.upload("#po-file", source)
    assert page.submit() == ""
    assert "0 of 43 strings translated" in page.driver.execute_script("return window.seen")
    assert "43 of 43 strings translated" in page.driver.execute_script("return window.seen")
    filled = page.driver.execute_async_script(
        "fetch(document.getElementById('download').href).then(r => r.text()).then(arguments[0])")
    suite_predict(capsys, run, "--input", source, "--output", tmp_path / "cli.po")
    assert filled == (tmp_path / "cli.po").read_text(encoding="utf-8")
    assert "42 untranslated entries filled" in page.text("summary")
    page.reload()
    page.find("#strings").send_keys("_Open")
    assert page.submit() == ""
    [expected] = suite_predict(capsys, run, "_Open")
    cells = [td.text for td in page.driver.find_elements(page.by.CSS_SELECTOR, "#answer tbody td")]
    assert cells[:2] == ["_Open", expected["translation"]]
    assert cells[3] == ("kept" if expected["accelerator_kept"] else "lost")
    page.screenshot("translation")
    empty = tmp_path / "empty.po"
    empty.write_text("", encoding="utf-8")
    page.upload("#po-file", empty)
    assert page.submit() == "empty.po: holds no inputs"
    assert page.requests_outside() == []


def test_diagnostics_form_shows_probability_decision_and_grad_cam_as_suite_predict(browser, live, serve_runs,
                                                                                   tmp_path, capsys):
    server, run = live("diagnostics"), serve_runs["diagnostics"]
    page = Page(browser, server.url)
    assert not page.unlabelled_controls()
    image = tmp_path / "scan.png"
    image.write_bytes(png_bytes(1))
    page.upload("#images", image)
    assert page.submit() == ""
    [expected] = suite_predict(capsys, run, image)
    answer = page.text("answer")
    if "probability" in expected:
        assert f"{expected['probability']:.4f}" in answer and expected["label"] in answer
    else:
        assert expected["label"] in answer
    width = page.driver.execute_script("return document.querySelector('#answer img.saliency').naturalWidth")
    assert width > 0
    page.screenshot("diagnostics")
    notes = tmp_path / "notes.png"
    notes.write_text("not an image", encoding="utf-8")
    page.upload("#images", notes)
    assert page.submit() == "images[0]: not a PNG or JPEG image"
    assert page.requests_outside() == []


def test_recommendation_form_lists_what_suite_predict_lists_with_titles(browser, live, serve_runs, predictors,
                                                                        capsys):
    server, run = live("recommendation"), serve_runs["recommendation"]
    page = Page(browser, server.url)
    assert not page.unlabelled_controls()
    user = next(iter(predictors("recommendation").histories))
    page.find("#user").send_keys(user)
    page.find("#k").clear()
    page.find("#k").send_keys("5")
    assert page.submit() == ""
    [expected] = suite_predict(capsys, run, "--user", user, "--k", "5")
    shown = page.driver.find_elements(page.by.CSS_SELECTOR, "#top-k li")
    assert [li.get_attribute("data-item") for li in shown] == [r["item"] for r in expected["recommendations"]]
    for li, r in zip(shown, expected["recommendations"]):
        assert r["text"] in li.text and ("nobody rated this" in li.text) == (not r["rated"])
    page.screenshot("recommendation")
    page.find("#user").clear()
    page.find("#user").send_keys("no-such-user")
    assert page.submit() == api_error(server, "predict", json={"users": ["no-such-user"], "k": 5})
    assert page.requests_outside() == []


def test_the_page_fits_a_phone_and_its_controls_take_the_keyboard(browser, live):
    page = Page(browser, live("recommendation").url)
    browser.set_window_size(390, 844)
    try:
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        from selenium.webdriver.common.keys import Keys

        page.find("#user").click()
        focused = [browser.switch_to.active_element.get_attribute("id")]
        for _ in range(3):
            browser.switch_to.active_element.send_keys(Keys.TAB)
            focused.append(browser.switch_to.active_element.get_attribute("id"))
        assert focused[:2] == ["user", "k"]
    finally:
        browser.set_window_size(1280, 1000)
