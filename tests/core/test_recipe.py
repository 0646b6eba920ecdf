"""Recipe loading: YAML -> dataclasses, overrides, and one-line errors naming file and key."""

import pytest
from toy_domain import TOY

from suite.core import registry
from suite.core.errors import RecipeError
from suite.core.recipe import load_recipe


@pytest.fixture(autouse=True)
def toy_domain():
    registry.register(TOY)


def write(tmp_path, text, name="r.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_types_and_overrides(tmp_path):
    path = write(tmp_path, "domain: toy\nname: t\ndata: {share: 0.25}\ntrain: {epochs: 2}\n")
    recipe = load_recipe(path, ["train.learning_rate=1e-4", "data.columns=[a, b]", "lora.enabled=true"])
    assert recipe.data.share == 0.25 and recipe.data.columns == ["a", "b"]
    assert recipe.train.epochs == 2.0 and isinstance(recipe.train.epochs, float)
    assert recipe.train.learning_rate == pytest.approx(1e-4)
    assert recipe.lora.enabled is True and recipe.model.width == 4
    assert recipe.to_dict()["data"] == {"source": "toy", "share": 0.25, "mode": "a", "columns": ["a", "b"],
                                        "points": 400}


def test_round_trip_through_dict(tmp_path):
    recipe = load_recipe(write(tmp_path, "domain: toy\nname: t\nmodel: {width: 7}\n"))
    again = load_recipe(recipe.to_dict())
    assert again.to_dict() == recipe.to_dict()


@pytest.mark.parametrize("text, expected", [
    ("domain: toy\nname: t\ndata: {shar: 0.2}\n", "unknown key 'data.shar'; did you mean 'share'?"),
    ("domain: toy\nname: t\ntrain: {epochs: three}\n", "train.epochs: expected a number, got 'three'"),
    ("domain: toy\nname: t\ndata: {share: 2}\n", "data.share: expected a number in (0, 1), got 2"),
    ("domain: toy\nname: t\ndata: {mode: c}\n", "data.mode: expected one of 'a', 'b', got 'c'"),
    ("domain: toy\nname: t\nmodel: {width: true}\n", "model.width: expected an integer, got True"),
    ("domain: nope\nname: t\n", "unknown domain 'nope'"),
    ("name: t\n", "'domain' is required"),
    ("domain: toy\nname: t\ntrain: {batch_size: 0}\n", "train.batch_size: expected an integer from 1 to 65,536, got 0"),
    ("domain: toy\nname: t\n  bad: [\n", "malformed YAML at line"),
    ("- just\n- a list\n", "expected a mapping of recipe sections, got list"),
])
def test_bad_recipes_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(RecipeError) as error:
        load_recipe(path)
    message = str(error.value)
    assert expected in message
    assert str(path) in message and "\n" not in message


def test_missing_file_lists_bundled_recipes():
    with pytest.raises(RecipeError, match=r"no such recipe file or bundled recipe \(bundled: .*spam/tiny"):
        load_recipe("does/not/exist.yaml")


def test_non_utf8_recipe(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_bytes(b"domain: toy\nname: caf\xe9\n")
    with pytest.raises(RecipeError, match="not UTF-8"):
        load_recipe(path)


def test_bad_override_syntax(tmp_path):
    with pytest.raises(RecipeError, match="expected key=value"):
        load_recipe(write(tmp_path, "domain: toy\nname: t\n"), ["train.epochs"])
