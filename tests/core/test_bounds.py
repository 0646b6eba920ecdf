"""Every numeric recipe value has declared bounds; the core enforces them, and the products they make, before
anything loads; YAML that hides a second key or an alias bomb is refused."""

import dataclasses
import time
import typing

import pytest

from suite.core import config, memory, registry, yaml_text
from suite.core.errors import RecipeError
from suite.core.recipe import LoraConfig, TrainConfig, _Scalars, load_recipe

DOMAINS = ("spam", "recommendation", "translation", "diagnostics")


def sections():
    """(name, dataclass) of every recipe section of every domain, nested sections included."""
    found = [("train", TrainConfig), ("lora", LoraConfig), ("recipe", _Scalars)]
    for name in DOMAINS:
        domain = registry.get_domain(name)
        found += [(f"{name}.data", domain.data_config), (f"{name}.model", domain.model_config),
                  (f"{name}.evaluation", domain.eval_config)]
    out = []
    while found:
        name, cls = found.pop()
        out.append((name, cls))
        hints = typing.get_type_hints(cls)
        found += [(f"{name}.{f.name}", hints[f.name]) for f in dataclasses.fields(cls)
                  if dataclasses.is_dataclass(hints[f.name])]
    return out


def holds_numbers(hint) -> bool:
    return hint in (int, float) or any(holds_numbers(arg) for arg in typing.get_args(hint))


NUMERIC = [pytest.param(cls, f, id=f"{name}.{f.name}") for name, cls in sections()
           for f in dataclasses.fields(cls) if holds_numbers(typing.get_type_hints(cls)[f.name])]


def test_the_recipes_have_many_numeric_fields():
    assert len(NUMERIC) > 100


@pytest.mark.parametrize("cls, f", NUMERIC)
def test_every_numeric_field_declares_bounds_that_hold_its_default(cls, f):
    bounds = config.bounds_of(f)
    assert bounds is not None, f"{cls.__name__}.{f.name} declares no bounds"
    assert bounds.high < 10 ** 12 and bounds.low > -10 ** 12
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    for value in default if isinstance(default, list) else [default]:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert bounds.admits(value), (f.name, value)


@pytest.mark.parametrize("override, message", [
    ("train.num_workers=-1", "train.num_workers: expected an integer from 0 to 256, got -1"),
    ("lora.r=1000000", "lora.r: expected an integer from 1 to 4,096"),
    ("train.max_steps=0", "train.max_steps: expected -1, or an integer from 1 to 10**9"),
    ("train.learning_rate=0", "train.learning_rate: expected a number in (0, 1]"),
    ("model.max_length=1000000", "model.max_length: expected an integer from 8 to 8,192"),
    ("evaluation.threshold_table=[0.5,1.5]", "expected a list of numbers each a number in (0, 1), got [0.5, 1.5]"),
    (f"evaluation.hybrid_weights=[{','.join(['0.5'] * 200)}]", "expected at most 101 numbers, got 200"),
])
def test_values_out_of_bounds_are_refused_naming_key_and_range(override, message):
    with pytest.raises(RecipeError) as error:
        load_recipe("spam/tiny", [override])
    assert message in str(error.value)


def test_bounds_admit_their_special_values_and_describe_themselves():
    steps = config.between(1, 10 ** 9, special=(-1,))
    assert steps.admits(-1) and steps.admits(1) and not steps.admits(0)
    share = config.between(0, 1, low_open=True, high_open=True)
    assert not share.admits(0) and share.admits(0.5) and not share.admits(1)
    assert share.describe(float) == "a number in (0, 1)"
    assert config.between(0, 10, low_open=True).describe(int) == "an integer from 1 to 10"


def test_suite_recipe_shows_each_fields_bounds(capsys):
    from suite.cli import main

    assert main(["recipe", "spam/tiny"]) == 0
    out = capsys.readouterr().out
    assert "train.batch_size: 8" in out or "batch_size:" in out
    assert "[an integer from 1 to 65,536]" in out and "[a number in (0, 1)]" in out


def test_a_key_given_twice_is_refused_with_both_lines(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text("domain: spam\nname: x\ntrain: {epochs: 1}\nseed: 0\ntrain: {batch_size: 4}\n")
    with pytest.raises(RecipeError, match=r"line 5, column 1: key 'train' is given twice \(first at line 3\)"):
        load_recipe(path)


def test_an_alias_bomb_is_refused_at_once_and_its_value_never_printed_whole(tmp_path):
    rows = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, previous in zip("bcdefgh", "abcdefg"):
        rows.append(f"{name}: &{name} [{', '.join(['*' + previous] * 10)}]")     # 10**8 leaves in all
    path = tmp_path / "bomb.yaml"
    path.write_text("domain: spam\nname: x\n" + "\n".join(rows) + "\ndescription: *h\n")
    start = time.monotonic()
    with pytest.raises(RecipeError, match="alias bomb"):
        load_recipe(path)
    assert time.monotonic() - start < 5


def test_aliases_that_stay_small_still_work():
    assert yaml_text.load("a: &x {k: 1}\nb: *x\n") == {"a": {"k": 1}, "b": {"k": 1}}


def test_a_huge_wrong_value_is_shown_short():
    huge = [[i] * 1000 for i in range(1000)]
    assert len(config.shown(huge)) <= 80


@pytest.mark.parametrize("recipe, overrides, keys", [
    ("spam/tiny", ["train.batch_size=4096", "model.max_length=8192"], "train.batch_size or model.max_length"),
    ("diagnostics/tiny", ["data.synthetic.n_train=1000000", "data.synthetic.image_size=1024"],
     "data.synthetic.image_size"),
    ("translation/tiny", ["model.generation_batch_size=60000", "model.num_beams=64"], "model.num_beams"),
])
def test_products_that_cannot_fit_are_refused_naming_the_keys(recipe, overrides, keys):
    loaded = load_recipe(recipe, overrides)
    with pytest.raises(RecipeError, match=f"more than the 16.0 GiB this machine has free; lower .*{keys}"):
        memory.check(registry.get_domain(loaded.domain), loaded, available=16 * 2 ** 30)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_bundled_recipe_fits_in_8_gib(domain):
    from suite.core import resources

    for name in resources.bundled_recipes():
        if name.startswith(f"{domain}/"):
            loaded = load_recipe(name)
            memory.check(registry.get_domain(domain), loaded, available=8 * 2 ** 30)
