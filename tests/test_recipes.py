"""Every bundled recipe validates; offline ones name sources that exist on this machine."""

import pytest

from suite.core import resources, sources
from suite.core.recipe import load_recipe

RECIPES = sorted(resources.bundled_recipes())


def test_every_domain_has_tiny_and_default():
    domains = {name.split("/")[0] for name in RECIPES}
    for domain in domains:
        assert f"{domain}/tiny" in RECIPES and f"{domain}/default" in RECIPES


@pytest.mark.parametrize("name", RECIPES)
def test_bundled_recipe_validates(name):
    recipe = load_recipe(name)
    assert recipe.name == name.split("/")[1] and recipe.domain == name.split("/")[0]
    assert recipe.description.strip(), "every bundled recipe says what it is for"
    if recipe.offline:
        assert sources.resolve(recipe.model.source).exists()
    else:
        assert not sources.is_bundled(recipe.model.source), "online recipes name a hub model"
