"""Files that suite wrote itself, read back: a damaged one is one line naming the file and what was expected.

A run's ``metrics.json``, its ``calibrations/*.json``, a saved hybrid's settings, a model folder's weights:
a disk that filled up, a copy cut short or a hand edit can damage any of them. :func:`read_json` and
:func:`check_weights` say so in one :class:`~suite.core.errors.RunError` before anything else reads them,
instead of a ``JSONDecodeError`` or ``SafetensorError`` traceback from deep inside a load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suite.core import paths
from suite.core.errors import RunError, brief

WEIGHTS_SUFFIX = ".safetensors"


def read_json(path: str | Path, *, what: str, kind: type = dict) -> Any:
    """The JSON value of ``path``, a file suite wrote as ``what``.

    Args:
        path: the file.
        what: what suite wrote there, for the message (e.g. ``"a calibration record (suite calibrate)"``).
        kind: the type the whole document must have (``dict`` unless said otherwise).

    Raises:
        RunError: the file is missing, special, unreadable, not UTF-8, not JSON, or not a ``kind``; one line
            naming it and ``what``.

    Example:
        >>> read_json(run / "metrics.json", what="the run's metrics (written when it finished)")["models"]
    """
    path = Path(path)
    expected = f"expected {what}"
    if paths.special(path):
        raise RunError(f"{path}: is {paths.special(path)}; {expected}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunError(f"{path}: missing; {expected}") from None
    except UnicodeDecodeError as error:
        raise RunError(f"{path}: damaged (not UTF-8 at byte {error.start}); {expected}") from None
    except json.JSONDecodeError as error:
        raise RunError(f"{path}: damaged (not valid JSON: {error.msg} at line {error.lineno}, column "
                       f"{error.colno}); {expected}") from None
    except (OSError, RecursionError) as error:      # a folder in its place, no permission; absurdly deep nesting
        raise RunError(f"{path}: cannot be read ({brief(str(error) or type(error).__name__, 80)}); "
                       f"{expected}") from None
    if not isinstance(document, kind):
        raise RunError(f"{path}: damaged (a JSON {type(document).__name__}, not a {kind.__name__}); {expected}")
    return document


def check_weights(folder: str | Path) -> None:
    """Open the header of every ``*.safetensors`` file under ``folder`` (its sub-folders too): what a load
    would read first, checked without loading a tensor.

    Raises:
        RunError: a weights file whose header does not parse, or whose tensors lie beyond its end (a copy cut
            short); one line naming it.
    """
    from safetensors import SafetensorError, safe_open

    for path in sorted(Path(folder).rglob(f"*{WEIGHTS_SUFFIX}")):
        if paths.special(path):
            raise RunError(f"{path}: is {paths.special(path)}; expected a safetensors weights file")
        try:
            with safe_open(str(path), framework="numpy"):
                pass
        except (SafetensorError, OSError) as error:
            raise RunError(f"{path}: damaged weights ({brief(str(error), 100)}); expected a safetensors file "
                           "as suite saved it; train the run again or restore the file") from None
