"""Typed recipe sections: plain dataclasses built from YAML dicts, with help text and validation.

Every recipe section in the suite is a ``@dataclass`` whose fields carry
``metadata={"help": "..."}`` and whose ``__post_init__`` raises ``ValueError`` naming
the field. This module turns nested dicts into such dataclasses (checking keys and
types) and back into plain dicts, so a recipe goes YAML in, YAML out.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from suite.core.errors import RecipeError

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def build(cls: type, values: dict | None, *, where: str, prefix: str = "") -> Any:
    """Build dataclass ``cls`` from ``values``, checking every key and type.

    Args:
        cls: the dataclass to build.
        values: a mapping from field name to value (``None`` means all defaults).
        where: the file (or other origin) named in error messages.
        prefix: the dotted path of this section inside the recipe, e.g. ``"train."``.

    Raises:
        RecipeError: an unknown key, a value of the wrong type, or a value that the
            section's own validation rejects; the message names ``where`` and the key.
    """
    values = {} if values is None else values
    if not isinstance(values, dict):
        raise RecipeError(f"{where}: '{prefix.rstrip('.')}' must be a mapping of keys to values, got {values!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in fields:
            raise RecipeError(f"{where}: unknown key '{prefix}{key}'{_suggest(key, fields)}")
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _convert(hints[name], value, where=where, key=f"{prefix}{name}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as error:
        raise RecipeError(f"{where}: {prefix}{error}") from None


def to_dict(obj: Any) -> Any:
    """Turn a (nested) recipe dataclass into plain dicts and lists, ready for YAML or JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in ordered_fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_dict(item) for key, item in obj.items()}
    return obj


def describe(cls: type, prefix: str = "") -> list[tuple[str, str, Any]]:
    """List ``(dotted key, help text, default)`` for every field of a section, recursively."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in ordered_fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            rows += describe(hints[f.name], f"{prefix}{f.name}.")
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        rows.append((f"{prefix}{f.name}", f.metadata.get("help", ""), default))
    return rows


def ordered_fields(cls_or_obj: Any) -> list:
    """A section's fields as a reader wants them: its own first, then the keyword-only ones it shares with other
    sections (a label budget's keys, inherited from :class:`suite.core.label_budget.LabelBudget`)."""
    fields = dataclasses.fields(cls_or_obj)
    return [f for f in fields if not f.kw_only] + [f for f in fields if f.kw_only]


def _suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"{hint} (known keys: {', '.join(sorted(known))})"


def _convert(hint: Any, value: Any, *, where: str, key: str) -> Any:
    """Check ``value`` against type ``hint`` and return it (ints widen to floats)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        options = get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _convert(option, value, where=where, key=key)
            except RecipeError as error:
                errors.append(error)
        raise errors[0]
    if origin is Literal:
        if value not in get_args(hint):
            choices = ", ".join(repr(c) for c in get_args(hint))
            raise RecipeError(f"{where}: {key}: expected one of {choices}, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise RecipeError(f"{where}: {key}: expected a list, got {value!r}")
        (item_hint, *_) = get_args(hint) or (Any,)
        return [_convert(item_hint, item, where=where, key=f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise RecipeError(f"{where}: {key}: expected a mapping, got {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where=where, prefix=f"{key}.")
    if hint is Any:
        return value
    return _convert_scalar(hint, value, where=where, key=key)


def _convert_scalar(hint: type, value: Any, *, where: str, key: str) -> Any:
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    elif hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads "1e-4" as a string; accept it as the number it plainly is.
            value = float(value)
        except ValueError:
            pass
    ok = isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    if not ok:
        expected = _TYPE_NAMES.get(hint, getattr(hint, "__name__", str(hint)))
        raise RecipeError(f"{where}: {key}: expected {expected}, got {_shown(value)}")
    if hint is float and not math.isfinite(value):
        raise RecipeError(f"{where}: {key}: expected a finite number, got {value!r}")
    if hint is int and abs(value) > MAX_INTEGER:
        raise RecipeError(f"{where}: {key}: expected an integer of at most {MAX_INTEGER:.0e} in size, got {value!r}")
    if hint is str and len(value) > MAX_STRING:
        raise RecipeError(f"{where}: {key}: expected at most {MAX_STRING:,} characters, got {len(value):,}")
    return value


MAX_INTEGER = 10 ** 12        # no recipe count or size is larger; a bigger one is a typo
MAX_STRING = 4096             # the longest path Linux accepts; no recipe text needs more


def _shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


SETTINGS_FILE = "suite.json"


def save_settings(folder: Path, sections: dict[str, Any], **state: Any) -> Path:
    """Write the recipe sections a predictor needs, and what it learned (a threshold), beside its weights.

    Args:
        folder: the model folder.
        sections: recipe sections by name, e.g. ``{"model": recipe.model, "data": recipe.data}``.
        **state: JSON-ready values the predictor learned or needs (``threshold=0.73``).

    Example:
        >>> save_settings(folder, {"model": recipe.model}, threshold=0.73)
        >>> load_settings(folder, {"model": SpamModelConfig})["threshold"]
        0.73
    """
    import json

    document = {**{name: to_dict(section) for name, section in sections.items()}, "state": state}
    path = Path(folder) / SETTINGS_FILE
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load_settings(folder: Path, classes: dict[str, type]) -> dict[str, Any]:
    """Read what :func:`save_settings` wrote: each section rebuilt as its dataclass, plus the state's values.

    Raises:
        RecipeError: the file is missing, unreadable or does not validate (a model folder of another kind).
    """
    import json

    path = Path(folder) / SETTINGS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RecipeError(f"{path}: not a readable model settings file ({type(error).__name__})") from None
    if not isinstance(document, dict) or not isinstance(document.get("state"), dict):
        raise RecipeError(f"{path}: not a model settings file of this version of suite; train the run again")
    built = {name: build(cls, document.get(name), where=str(path), prefix=f"{name}.")
             for name, cls in classes.items()}
    return {**document["state"], **built}
