"""The wheel a user installs carries what the suite needs at run time: every bundled recipe and data set."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from suite.core import resources

pytestmark = pytest.mark.slow    # builds a wheel: not in the fast lane
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel built from a copy of the repository (the build writes its folders beside the sources)."""
    source = tmp_path_factory.mktemp("source") / "suite"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__",
                                                                ".pytest_cache", "docs"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(source)], check=True, capture_output=True)
    return zipfile.ZipFile(next(out.glob("suite-*.whl")))


def test_the_wheel_holds_every_bundled_recipe_and_plan(wheel):
    names = set(wheel.namelist())
    recipes = [p.relative_to(ROOT / "recipes") for p in (ROOT / "recipes").rglob("*.yaml")]
    assert recipes and all(f"suite/recipes/{r.as_posix()}" in names for r in recipes)
    assert "suite/recipes/bench/demo.yaml" in names and "suite/recipes/spam/fewshot.yaml" in names


def test_the_wheel_holds_the_bundled_data_and_no_top_level_folder_but_suite(wheel):
    names = set(wheel.namelist())
    assert "suite/datasets/spamassassin/spamassassin.jsonl.gz" in names
    shipped = [p.relative_to(ROOT / "datasets").as_posix() for p in (ROOT / "datasets").rglob("*")
               if p.is_file() and not p.name.startswith(".") and p.suffix != ".npz" and "__pycache__" not in p.parts]
    assert [f for f in shipped if f"suite/datasets/{f}" not in names] == []     # e.g. the UDHR's .tsv pairs
    assert {n.split("/")[0] for n in names} <= {"suite", "suite-0.1.0.dist-info"}
    assert not any(n.startswith("suite/datasets/") and n.endswith("__init__.py") for n in names)
    modules = {n for n in names if n.endswith(".py")}
    assert {f"suite/{p.relative_to(ROOT / 'suite').as_posix()}" for p in (ROOT / "suite").rglob("*.py")} <= modules


def test_an_installed_wheel_finds_its_copies_and_a_source_tree_its_own_folders():
    assert resources.RECIPES_DIR in (resources.PACKAGE_DIR / "recipes", resources.IMPORT_ROOT / "recipes")
    assert (resources.RECIPES_DIR / "spam" / "tiny.yaml").is_file()
    assert (resources.DATASETS_DIR / "spamassassin" / "README.md").is_file()


def test_the_wheel_holds_the_served_page_and_each_domains_form(wheel):
    names = set(wheel.namelist())
    static = {f"suite/serve/static/{p.name}" for p in (ROOT / "suite" / "serve" / "static").iterdir()}
    assert {"suite/serve/static/page.html", "suite/serve/static/page.js"} <= static <= names
    assert all(f"suite/{domain}/page.js" in names for domain in ("spam", "recommendation", "translation",
                                                                 "diagnostics"))
