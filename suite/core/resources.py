"""Files that ship beside the package: bundled recipes and data sets.

The suite is installed from its source tree (``pip install -e .``), so ``recipes/`` and
``datasets/`` sit next to the ``suite`` package.
"""

from __future__ import annotations

from pathlib import Path

from suite.core import paths
from suite.core.errors import RecipeError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RECIPES_DIR = PROJECT_ROOT / "recipes"
DATASETS_DIR = PROJECT_ROOT / "datasets"
# folders of recipes/ that hold other YAML: benchmark plans (suite bench --plan), accelerate launch configs
NOT_RECIPES = ("bench", "accelerate")


def bundled_recipes() -> dict[str, Path]:
    """Bundled recipes by name, e.g. ``{"spam/default": Path(...)}``."""
    if not RECIPES_DIR.is_dir():
        return {}
    return {f"{p.parent.name}/{p.stem}": p for p in sorted(RECIPES_DIR.glob("*/*.yaml"))
            if p.parent.name not in NOT_RECIPES}


def bundled_datasets() -> dict[str, Path]:
    """Data set folders under ``datasets/`` (each has a README.md), by name."""
    if not DATASETS_DIR.is_dir():
        return {}
    return {p.name: p for p in sorted(DATASETS_DIR.iterdir()) if (p / "README.md").is_file()}


def find_recipe(recipe: str | Path) -> Path:
    """Resolve a recipe path or bundled name (``spam``, ``spam/tiny``) to a file.

    Raises:
        RecipeError: neither a file nor a bundled recipe, naming the bundled ones.
    """
    path = paths.check(recipe, what="recipe").expanduser()
    if path.is_file():
        return path
    if path.exists():
        raise RecipeError(f"{path}: is a folder, expected a recipe YAML file")
    name = str(recipe).removesuffix(".yaml")
    bundled = bundled_recipes()
    for candidate in (name, f"{name}/default"):
        if candidate in bundled:
            return bundled[candidate]
    names = ", ".join(bundled) or "none found"
    raise RecipeError(f"{recipe}: no such recipe file or bundled recipe (bundled: {names})")
