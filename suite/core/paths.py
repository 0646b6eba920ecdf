"""File names users give: refused in one line when no file system could hold them, before anything runs.

Linux refuses a file or folder name longer than 255 bytes and a path longer than 4096 bytes
with ``OSError: File name too long``, wherever the name is first used. Recipes and command-line
arguments go through :func:`check` first, so the user reads which setting is wrong instead.
"""

from __future__ import annotations

import os
from pathlib import Path

from suite.core.errors import SuiteError

NAME_MAX = 255          # bytes in one file or folder name
PATH_MAX = 4096         # bytes in a whole path
# recipe keys that hold a path (the last part of a dotted key, or its suffix)
PATH_KEYS = ("source", "items", "glossary", "name", "runs_dir", "cache_dir")
PATH_SUFFIXES = ("_dir", "_path", "_file")


def problem(value: str | os.PathLike) -> str | None:
    """Why ``value`` cannot name a file here (None: it can)."""
    text = os.fspath(value)
    encoded = os.fsencode(text)
    if len(encoded) > PATH_MAX:
        return f"a path of {len(encoded):,} bytes (the most a path can have is {PATH_MAX:,})"
    longest = max((len(os.fsencode(part)) for part in Path(text).parts), default=0)
    if longest > NAME_MAX:
        return f"a file or folder name of {longest:,} bytes (the most a name can have is {NAME_MAX})"
    if "\x00" in text:
        return "a name holding a NUL character"
    return None


def check(value: str | os.PathLike, *, what: str) -> Path:
    """``Path(value)``, or one line saying why no file system holds it.

    Raises:
        SuiteError: ``value`` is too long, or holds a NUL character; the message starts with ``what``.
    """
    reason = problem(value)
    if reason:
        raise SuiteError(f"{what}: {shorten(os.fspath(value))} is {reason}")
    return Path(value)


def is_path_key(key: str) -> bool:
    """Whether dotted recipe key ``key`` holds a file or folder name."""
    leaf = key.rsplit(".", 1)[-1]
    return leaf in PATH_KEYS or leaf.endswith(PATH_SUFFIXES)


def shorten(text: str, limit: int = 120) -> str:
    """``text`` on one line, cut in the middle when longer than ``limit``, so that an error line stays readable."""
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit // 2] + "…" + text[-limit // 3:]
