"""Files that ship with the suite: bundled recipes and data sets, and the user cache for data that cannot ship.

The repository keeps them at its top, ``recipes/`` and ``datasets/``, where people edit them; a wheel
carries them inside the package as ``suite/recipes`` and ``suite/datasets`` (pyproject.toml maps them in).
An editable install (``pip install -e .``) reads the repository's own folders, an installed wheel its
copies: the same names either way, from any working directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from suite.core import paths
from suite.core.errors import RecipeError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
"""The ``suite`` package's folder."""
IMPORT_ROOT = PACKAGE_DIR.parent
"""The folder ``suite`` is imported from (the repository, or site-packages): what a child process needs on its
path to import the same suite."""


def _bundled(name: str) -> Path:
    inside = PACKAGE_DIR / name                    # an installed wheel
    return inside if inside.is_dir() else IMPORT_ROOT / name


RECIPES_DIR = _bundled("recipes")
DATASETS_DIR = _bundled("datasets")
CACHE_ENV = "SUITE_CACHE"
# folders of recipes/ that hold other YAML: benchmark plans (suite bench --plan), accelerate launch configs
NOT_RECIPES = ("bench", "accelerate")


def cache_dir() -> Path:
    """Where data fetched or generated at run time lives: ``$SUITE_CACHE``, else ``$XDG_CACHE_HOME/suite``, else
    ``~/.cache/suite`` (never inside the installed package).

    Raises:
        SuiteError: the place names a file, or a special file, or a folder on a pseudo file system.
    """
    if os.environ.get(CACHE_ENV):
        return paths.writable_folder(os.environ[CACHE_ENV], what=f"${CACHE_ENV}")
    return paths.writable_folder(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "suite",
                                 what="the user cache ($XDG_CACHE_HOME/suite or ~/.cache/suite)")


def bundled_recipes(*, with_domains: bool = True) -> dict[str, Path]:
    """Bundled recipes by name, e.g. ``{"spam/default": Path(...)}``: the suite's own, then those of every domain
    that ships its own (:class:`suite.core.registry.ShipsRecipes`; ``with_domains=False`` skips loading them)."""
    out = {}
    if RECIPES_DIR.is_dir():
        out = {f"{p.parent.name}/{p.stem}": p for p in sorted(RECIPES_DIR.glob("*/*.yaml"))
               if p.parent.name not in NOT_RECIPES}
    if with_domains:
        from suite.core import registry

        for domain in registry.list_domains().values():
            if isinstance(domain, registry.ShipsRecipes):
                for path in sorted(Path(domain.recipes_dir).glob("*.yaml")):
                    out.setdefault(f"{domain.name}/{path.stem}", path)
    return out


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
    for bundled in (bundled_recipes(with_domains=False), bundled_recipes()):   # another package's domains last
        for candidate in (name, f"{name}/default"):
            if candidate in bundled:
                return bundled[candidate]
    names = ", ".join(bundled) or "none found"
    raise RecipeError(f"{recipe}: no such recipe file or bundled recipe (bundled: {names})")
