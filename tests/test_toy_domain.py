"""A domain from a distribution of its own works with the suite untouched: ``suite list``, ``train``, ``predict``
and ``serve`` on it.

The domain is ``tests/toy_distribution/toydomain`` (is a number positive? read its docstring). The test copies
it into a temporary folder beside a ``toydomain-0.1.dist-info`` whose ``entry_points.txt`` registers it under
``suite.domains``, as ``pip install`` would, and runs every command in a child process with that folder on
``PYTHONPATH``: the suite finds the toy the one way it finds any domain, through the entry points.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from suite.core import resources

pytestmark = pytest.mark.slow    # child processes that import torch, train and serve: about a minute in all

ROOT = resources.IMPORT_ROOT             # where the suite under test is imported from: the repository, or site-packages
PACKAGE = Path(__file__).resolve().parent / "toy_distribution" / "toydomain"
NUMBERS = ["3.5", "-2.5", "0.5"]


def install(site: Path) -> None:
    """What pip would leave in site-packages: the package, and the metadata naming its entry point."""
    shutil.copytree(PACKAGE, site / "toydomain", ignore=shutil.ignore_patterns("__pycache__"))
    info = site / "toydomain-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toydomain\nVersion: 0.1\nRequires-Dist: suite\n")
    (info / "entry_points.txt").write_text("[suite.domains]\ntoy = toydomain.hooks:DOMAIN\n")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """``toy.run(*args)``: ``python -m suite *args`` with the toy installed, in a folder of its own."""
    site, work = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("work")
    install(site)
    path = os.pathsep.join([str(site), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}

    class Toy:
        folder = work

        @staticmethod
        def start(*args, **kwargs):
            return subprocess.Popen([sys.executable, "-m", "suite", *args], cwd=work, env=env, **kwargs)

        @staticmethod
        def run(*args):
            return subprocess.run([sys.executable, "-m", "suite", *args], cwd=work, env=env, capture_output=True,
                                  text=True, timeout=300)

    return Toy


@pytest.fixture(scope="module")
def toy_run(toy):
    """The run folder of ``suite train toy/default``."""
    runs = toy.folder / "runs"
    result = toy.run("train", "toy/default", f"output.runs_dir={runs}")
    assert result.returncode == 0, result.stderr[-3000:]
    (run,) = runs.iterdir()
    assert result.stdout.startswith(f"run: {run}")
    return run


def test_suite_lists_the_toy_its_recipe_and_its_model(toy):
    result = toy.run("list")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  toy +Is a number positive\?", result.stdout, re.M), result.stdout
    assert re.search(r"^  toy/default +Is a number positive\?", result.stdout, re.M), result.stdout
    assert re.search(r"^  bundled:toy-linear +the toy's linear layer.*\[installed\]$", result.stdout, re.M)
    assert "unavailable" not in result.stdout


def test_suite_trains_the_toy_with_its_baseline(toy_run):
    metrics = json.loads((toy_run / "metrics.json").read_text())
    assert metrics["domain"] == "toy" and metrics["recipe"] == "default" and metrics["primary_metric"] == "accuracy"
    assert set(metrics["models"]) == {"tuned", "baseline:majority"}
    assert metrics["models"]["tuned"]["accuracy"] >= 0.9 > metrics["models"]["baseline:majority"]["accuracy"]
    assert metrics["training"]["pretrained"] is False and metrics["training"]["steps"] == 24
    assert (toy_run / "model" / "toy.pt").is_file()


def test_predict_takes_the_toys_option_and_serve_answers_alike(toy, toy_run):
    log = toy.folder / "serve.log"
    with log.open("w") as stderr:
        server = toy.start("serve", str(toy_run), "--port", "0", stderr=stderr)
    try:
        predicted = toy.run("predict", str(toy_run), *NUMBERS, "--decimals", "1")     # while the server starts
        assert predicted.returncode == 0, predicted.stderr
        rounded = [json.loads(line) for line in predicted.stdout.splitlines()]
        assert [row.pop("input_id") for row in rounded] == [f"inline {n}" for n in range(1, len(NUMBERS) + 1)]
        assert [row["number"] for row in rounded] == [float(n) for n in NUMBERS]
        assert [row["label"] for row in rounded[:2]] == ["positive", "negative"]

        url = wait_until_serving(server, log)
        full = httpx.post(f"{url}/predict", json={"numbers": [float(n) for n in NUMBERS]}, timeout=60)
        assert full.status_code == 200, full.text
        full = full.json()["predictions"]
        assert [dict(row, probability=round(row["probability"], 1)) for row in full] == rounded
        assert any(row["probability"] != round(row["probability"], 1) for row in full)    # --decimals did round
        same = httpx.post(f"{url}/predict", json={"numbers": [float(n) for n in NUMBERS], "decimals": 1}, timeout=60)
        assert same.json()["predictions"] == rounded
        assert httpx.post(f"{url}/predict", json={"numbers": []}, timeout=60).status_code == 422
    finally:
        server.terminate()
        server.wait(timeout=60)


def wait_until_serving(server: subprocess.Popen, log: Path, timeout: float = 120) -> str:
    """The address ``suite serve --port 0`` says it listens on, once ``/health`` answers 200 there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, f"suite serve exited with {server.returncode}: {log.read_text()[-2000:]}"
        found = re.search(r"serving \S+ on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            try:
                if httpx.get(f"{found.group(1)}/health", timeout=5).status_code == 200:
                    return found.group(1)
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    raise AssertionError(f"suite serve did not become healthy in {timeout} s: {log.read_text()[-2000:]}")
