"""Typed recipe sections: plain dataclasses built from YAML dicts, with help text and validation.

Every recipe section in the suite is a ``@dataclass`` whose fields carry
``metadata={"help": "..."}``; every numeric field also carries its range,
``metadata={"bounds": between(1, 65_536)}``, which :func:`build` enforces (a number with no
upper bound would reach an allocator). What no single field can say (one field against
another) the section's ``__post_init__`` checks, raising ``ValueError`` naming the field.
This module turns nested dicts into such dataclasses (checking keys, types and bounds) and
back into plain dicts, so a recipe goes YAML in, YAML out.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import reprlib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from suite.core.errors import RecipeError

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Bounds:
    """The numbers a recipe field accepts: from ``low`` to ``high`` (each end included unless open), or one of
    the ``special`` values (``-1``: off). A list of numbers holds at most ``max_items`` numbers within these
    bounds."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    special: tuple = ()
    max_items: int = 1000

    def admits(self, value: float) -> bool:
        """Whether ``value`` lies within these bounds (or is one of the special values)."""
        if value in self.special:
            return True
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self, hint: Any = float) -> str:
        """The bounds in words, e.g. ``an integer from 1 to 65,536`` or ``a number in (0, 1]``."""
        if hint is int:
            low = self.low + 1 if self.low_open else self.low
            high = self.high - 1 if self.high_open else self.high
            text = f"an integer from {_number(low)} to {_number(high)}"
        else:
            text = (f"a number in {'(' if self.low_open else '['}{_number(self.low)}, "
                    f"{_number(self.high)}{')' if self.high_open else ']'}")
        if self.special:
            text = f"{' or '.join(_number(v) for v in self.special)}, or {text}"
        return text


def between(low: float, high: float, *, low_open: bool = False, high_open: bool = False,
            special: tuple = (), max_items: int = 1000) -> Bounds:
    """The ``bounds`` of a numeric recipe field (see :class:`Bounds`), declared in its metadata::

        batch_size: int = field(default=16, metadata={"bounds": between(1, 65_536), "help": "..."})
    """
    return Bounds(low, high, low_open, high_open, special, max_items)


SEED_BOUNDS = between(0, 2 ** 32 - 1)       # what numpy's and torch's seeding accept


def bounds_of(f: dataclasses.Field) -> Bounds | None:
    """The bounds a field declares (None: a field that holds no number)."""
    return f.metadata.get("bounds")


def _number(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    value = int(value)
    if abs(value) >= 10 ** 7 and str(abs(value)).rstrip("0") == "1":
        return f"{'-' if value < 0 else ''}10**{len(str(abs(value))) - 1}"
    return f"{value:,}"


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
        raise RecipeError(f"{where}: '{prefix.rstrip('.')}' must be a mapping of keys to values, got {shown(values)}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in fields:
            raise RecipeError(f"{where}: unknown key '{prefix}{key}'{_suggest(key, fields)}")
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _convert(hints[name], value, where=where, key=f"{prefix}{name}")
        _check_bounds(fields[name], hints[name], kwargs[name], where=where, key=f"{prefix}{name}")
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as error:
        raise RecipeError(f"{where}: {prefix}{error}") from None


def _check_bounds(f: dataclasses.Field, hint: Any, value: Any, *, where: str, key: str) -> None:
    bounds = bounds_of(f)
    if bounds is None:
        return
    if isinstance(value, list) and len(value) > bounds.max_items:
        raise RecipeError(f"{where}: {key}: expected at most {bounds.max_items:,} numbers, got {len(value):,}")
    numbers = value if isinstance(value, list) else [value]
    for number in numbers:
        if isinstance(number, (int, float)) and not isinstance(number, bool) and not bounds.admits(number):
            what = "a list of numbers each " if isinstance(value, list) else ""
            raise RecipeError(f"{where}: {key}: expected {what}{bounds.describe(_number_kind(hint))}, "
                              f"got {shown(value)}")


def _number_kind(hint: Any) -> type:
    """int for a field of integers (``int``, ``int | None``, ``list[int]``), else float."""
    return int if int in (hint, *get_args(hint)) or hint == list[int] else float


def to_dict(obj: Any) -> Any:
    """Turn a (nested) recipe dataclass into plain dicts and lists, ready for YAML or JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in ordered_fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_dict(item) for key, item in obj.items()}
    return obj


def describe(cls: type, prefix: str = "") -> list[tuple[str, str, Any, str]]:
    """List ``(dotted key, help text, default, accepted values)`` for every field of a section, recursively; the
    accepted values are the field's bounds in words (``an integer from 1 to 65,536``), or "" for a field without."""
    rows = []
    hints = typing.get_type_hints(cls)
    for f in ordered_fields(cls):
        if dataclasses.is_dataclass(hints[f.name]):
            rows += describe(hints[f.name], f"{prefix}{f.name}.")
            continue
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        bounds = bounds_of(f)
        accepted = bounds.describe(_number_kind(hints[f.name])) if bounds else ""
        rows.append((f"{prefix}{f.name}", f.metadata.get("help", ""), default, accepted))
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
            raise RecipeError(f"{where}: {key}: expected one of {choices}, got {shown(value)}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise RecipeError(f"{where}: {key}: expected a list, got {shown(value)}")
        (item_hint, *_) = get_args(hint) or (Any,)
        return [_convert(item_hint, item, where=where, key=f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise RecipeError(f"{where}: {key}: expected a mapping, got {shown(value)}")
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
        raise RecipeError(f"{where}: {key}: expected {expected}, got {shown(value)}")
    if hint is float and not math.isfinite(value):
        raise RecipeError(f"{where}: {key}: expected a finite number, got {value!r}")
    if hint is int and abs(value) > MAX_INTEGER:
        raise RecipeError(f"{where}: {key}: expected an integer of at most {MAX_INTEGER:.0e} in size, got {value!r}")
    if hint is str and len(value) > MAX_STRING:
        raise RecipeError(f"{where}: {key}: expected at most {MAX_STRING:,} characters, got {len(value):,}")
    return value


MAX_INTEGER = 10 ** 12        # no recipe count or size is larger; a bigger one is a typo
MAX_STRING = 4096             # the longest path Linux accepts; no recipe text needs more


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxlist, _SHORT_REPR.maxdict = 2, 4, 4
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 60
_SHORT_REPR.maxlong = 40


def shown(value: Any) -> str:
    """``repr(value)`` for an error message: short and cheap however large ``value`` is (a YAML alias bomb of
    10**8 leaves is shown as its first few, without ever building its whole ``repr``)."""
    text = _SHORT_REPR.repr(value)
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
