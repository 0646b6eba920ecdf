"""Every package the suite imports is declared in pyproject.toml: a fresh install gets it, not by luck."""

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def _imported_modules() -> dict[str, str]:
    """Top-level module -> a file that imports it, over every module of the package (absolute imports only)."""
    found = {}
    for path in sorted((ROOT / "suite").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_normal(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]) for requirement in project["dependencies"]}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_third_party_import_is_a_declared_dependency():
    distributions = metadata.packages_distributions()
    missing = []
    for module, where in _imported_modules().items():
        if module in sys.stdlib_module_names or module in ("suite", "__future__"):
            continue
        provided_by = {_normal(d) for d in distributions.get(module, [module])}
        if not provided_by & _declared():
            missing.append(f"{module} ({where}; from {', '.join(sorted(provided_by))})")
    assert not missing, "imported but not declared in pyproject.toml: " + "; ".join(missing)
