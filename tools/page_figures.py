"""The served page's figures: its weight, where its requests go, and how long a submit takes to answer.

For each run folder given, ``suite serve`` starts in a process of its own on a free localhost port, and a
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by Selenium) loads its page and
submits one input the way a person does; the page itself measures from the submit to the drawn answer
(``#answer[data-ms]``). For a translation run it also fills a ``.po`` of ``--po-entries`` untranslated
strings through the page (read, translated a chunk at a time with the progress bar, filled, offered for
download). Page weight is what the browser received for the page and everything it loaded (the Resource
Timing API's transfer sizes); every address it loaded is checked to be this server's.

Command line (on a quiet machine; set OMP_NUM_THREADS to the cores the server may use)::

    python tools/page_figures.py runs/spam-tiny runs/translation-tiny runs/diagnostics-tiny \
        runs/recommendation-tiny --repeats 5 --po-entries 300
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class Server:
    """``python -m suite serve RUN --port 0`` in a process of its own; ``url`` once it answers /health."""

    def __init__(self, run_dir: Path):
        self.process = subprocess.Popen([sys.executable, "-m", "suite", "serve", str(run_dir), "--port", "0",
                                         "--log-level", "warning"], stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        found = re.search(r"on (http://\S+?),", line)
        if not found:
            self.process.kill()
            raise RuntimeError(f"suite serve {run_dir} did not start: {line.strip()}")
        self.url = found.group(1)
        deadline = time.monotonic() + 300
        while httpx.get(self.url + "/health", timeout=10).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{run_dir}: the model did not load in 300 s")
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def page_weight(driver, url: str) -> dict:
    """KB received for the page and what it loaded (plots apart), and the addresses that were not ``url``'s."""
    driver.get(url + "/")
    time.sleep(1.0)                                   # lazy plots and the forms' scripts
    entries = driver.execute_script(
        "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]"
        ".map(e => [e.name, e.transferSize || e.encodedBodySize || 0])")
    outside = [name for name, _ in entries if not name.startswith((url, "data:", "blob:"))]
    plots = sum(size for name, size in entries if "/plots/" in name)
    return {"page_kb": (sum(size for _, size in entries) - plots) / 1024, "plots_kb": plots / 1024,
            "requests": len(entries), "outside": outside}


def submit_ms(driver, url: str, fill) -> float:
    """Load the page, ``fill`` its form, submit, and return the page's own submit-to-answer time (ms)."""
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    while "ready" not in driver.find_element(By.ID, "health").text:
        time.sleep(0.05)
    fill(driver)
    driver.execute_script("document.querySelector('#form form').requestSubmit()")
    deadline = time.monotonic() + 900
    while not driver.find_element(By.ID, "answer").get_attribute("data-done"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}: no answer in 900 s")
        time.sleep(0.02)
    error = driver.find_element(By.ID, "error").text
    if error:
        raise RuntimeError(f"{url}: the page showed an error: {error}")
    return float(driver.find_element(By.ID, "answer").get_attribute("data-ms"))


def one_input(domain: str, url: str, folder: Path):
    """How to fill the form with one input of ``domain``."""
    from selenium.webdriver.common.by import By

    if domain == "spam":
        return lambda d: d.find_element(By.ID, "mail-text").send_keys("WIN a FREE cruise!!! Reply now")
    if domain == "translation":
        return lambda d: d.find_element(By.ID, "strings").send_keys("Delete %(name)s?")
    if domain == "diagnostics":
        import numpy as np
        from PIL import Image

        image = folder / "scan.png"
        buffer = io.BytesIO()
        Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(buffer, "PNG")
        image.write_bytes(buffer.getvalue())
        return lambda d: d.find_element(By.ID, "images").send_keys(str(image))
    if domain == "recommendation":
        user = httpx.get(url + "/suggest", params={"field": "users", "q": "", "limit": 1}, timeout=30).json()[0]
        return lambda d: d.find_element(By.ID, "user").send_keys(user["value"])
    raise ValueError(f"no input for domain {domain}")


def po_file(folder: Path, entries: int) -> Path:
    """A catalog of ``entries`` distinct untranslated interface strings."""
    verbs = ["Delete", "Open", "Save", "Rename", "Copy", "Move", "Print", "Share", "Close", "Export"]
    things = ["file", "folder", "%(name)s", "the selected items", "{0} pages", "this photo", "the document",
              "all tabs", "%d messages", "the archive"]
    body = ['msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: pt\\n"\n']
    for i in range(entries):
        body.append(f'\nmsgid "{verbs[i % 10]} {things[(i // 10) % 10]} ({i // 100 + 1})?"\nmsgstr ""\n')
    path = folder / f"app-{entries}.po"
    path.write_text("".join(body), encoding="utf-8")
    return path


def screenshot(driver, path: Path) -> None:
    """The whole page as it stands (the window made as tall as the page), at a laptop's width."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height + 100, 2400))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def measure(run_dir: Path, *, repeats: int, po_entries: int, driver, folder: Path,
            screenshots: Path | None = None) -> dict:
    domain = json.loads((run_dir / "metrics.json").read_text())["domain"]
    server = Server(run_dir)
    try:
        weight = page_weight(driver, server.url)
        fill = one_input(domain, server.url, folder)
        submit_ms(driver, server.url, fill)                                  # warm-up
        times = [submit_ms(driver, server.url, fill) for _ in range(repeats)]
        if screenshots is not None:
            screenshot(driver, screenshots / f"page-{domain}.png")
        row = {"run": run_dir.name, "domain": domain, **weight, "submit_ms": statistics.median(times),
               "submit_ms_all": times}
        if domain == "translation" and po_entries:
            from selenium.webdriver.common.by import By

            catalog = po_file(folder, po_entries)
            row["po_entries"] = po_entries
            row["po_round_trip_s"] = submit_ms(driver, server.url, lambda d: d.find_element(By.ID, "po-file")
                                               .send_keys(str(catalog))) / 1000
        return row
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="finished run folders (one per domain)")
    parser.add_argument("--repeats", type=int, default=5, help="submits timed per run (the median is shown)")
    parser.add_argument("--po-entries", type=int, default=300, help="entries of the .po filled through the page "
                                                                    "(translation runs; 0: none)")
    parser.add_argument("--screenshots", type=Path, help="save each page, answer shown, as DIR/page-<domain>.png")
    args = parser.parse_args(argv)
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    driver = browser()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for run_dir in args.runs:
                rows.append(measure(run_dir, repeats=args.repeats, po_entries=args.po_entries, driver=driver,
                                    folder=Path(folder), screenshots=args.screenshots))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    finally:
        driver.quit()
    print("| run | page KB (plots KB) | requests, none outside localhost | submit to answer, ms (median) | "
          ".po round trip |\n|---|---|---|---|---|")
    for r in rows:
        po = f"{r['po_entries']} entries: {r['po_round_trip_s']:.1f} s" if "po_round_trip_s" in r else "–"
        outside = "yes" if not r["outside"] else f"NO: {', '.join(r['outside'][:3])}"
        print(f"| {r['run']} | {r['page_kb']:.1f} ({r['plots_kb']:.1f}) | {r['requests']}, {outside} | "
              f"{r['submit_ms']:.0f} | {po} |")
    return 0 if all(not r["outside"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
