"""Safety: recipes are plain data, weights load without pickle code, remote model code is opt-in and announced,
and nothing a recipe names writes outside its run folder."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from suite.cli import main
from suite.core import registry
from suite.core.errors import RecipeError
from suite.core.recipe import load_recipe

SUITE = Path(__file__).resolve().parents[1] / "suite"


def test_yaml_tags_that_would_run_code_are_refused(tmp_path, capsys):
    marker = tmp_path / "pwned"
    recipe = tmp_path / "evil.yaml"
    recipe.write_text(f'domain: spam\nname: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8")
    with pytest.raises(RecipeError, match="malformed YAML"):
        load_recipe(recipe)
    assert main(["train", str(recipe)]) == 2 and "malformed YAML" in capsys.readouterr().err
    assert not marker.exists()


def _calls(name: str):
    """(file, call node) for every call of ``<something>.<name>(...)`` in the suite's source."""
    for path in SUITE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                yield path, node


def test_every_torch_load_is_weights_only_and_every_yaml_load_is_safe():
    loads = [(path, node) for path, node in _calls("load") if ast.unparse(node.func.value) == "torch"]
    assert loads                                  # the scan does see the suite's torch.load calls
    for path, node in loads:
        keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
        assert keywords.get("weights_only") == "True", f"{path}:{node.lineno}"
    assert not [f"{p}:{n.lineno}" for p, n in _calls("load") if ast.unparse(n.func.value) == "yaml"]
    assert not [f"{p}:{n.lineno}" for p, n in _calls("unsafe_load")]
    numpy_loads = [(p, n) for p, n in _calls("load") if ast.unparse(n.func.value) in ("np", "numpy")]
    for path, node in numpy_loads:
        assert "allow_pickle" not in {k.arg for k in node.keywords} or \
            any(k.arg == "allow_pickle" and ast.unparse(k.value) == "False" for k in node.keywords), path


@pytest.mark.parametrize("domain", ["spam", "recommendation", "diagnostics"])
def test_remote_code_is_off_unless_a_recipe_turns_it_on(domain):
    recipe = load_recipe(f"{domain}/tiny")
    assert recipe.model.trust_remote_code is False
    fields = {f.name for f in dataclasses.fields(registry.get_domain(domain).model_config)}
    assert "trust_remote_code" in fields


def test_turning_remote_code_on_warns_once(tmp_path, capsys, monkeypatch):
    from suite.core import pipeline

    monkeypatch.setattr(pipeline, "_warned_remote_code", set())
    runs = tmp_path / "runs"
    (runs / "taken").mkdir(parents=True)        # stop right after the warning, before any model loads
    argv = ["train", "spam/tiny", "model.trust_remote_code=true", f"output.runs_dir={runs}", "output.name=taken"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("warning: model.trust_remote_code is on") and "bundled:minilm" in err[0]
    assert err[1].startswith("error: ") and "already exists" in err[1]
    assert main(argv) == 2
    assert "warning" not in capsys.readouterr().err                # once per source and process
    assert main(argv[:2] + argv[3:]) == 2
    assert "warning" not in capsys.readouterr().err                # off: no warning


@pytest.mark.parametrize("name", ["../escaped", "/tmp/escaped", "..", ".", "a/b", ""])
def test_a_run_name_cannot_leave_the_runs_folder(name):
    with pytest.raises(RecipeError, match="output.name"):
        load_recipe("spam/tiny", [f"output.name={name}"] if name else {"output.name": ""})
