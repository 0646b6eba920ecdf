"""File names users give: refused in one line when no file system could hold them, or when they name no
regular file or folder, before anything runs.

Linux refuses a file or folder name longer than 255 bytes and a path longer than 4096 bytes
with ``OSError: File name too long``, wherever the name is first used. Recipes and command-line
arguments go through :func:`check` first, so the user reads which setting is wrong instead.

Inputs must be regular files, or folders of them; outputs go into folders. A FIFO would block the
reader that opens it, and a device, a socket or a file of a pseudo file system (``/proc``, ``/sys``,
``/dev``) holds no data; :func:`special` tells them apart with ``os.stat``, which never opens the file,
and :func:`refuse_special`, :func:`regular_files` and :func:`writable_folder` refuse them in one line.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from suite.core.errors import DataError, SuiteError

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


PSEUDO_ROOTS = ("/proc", "/sys", "/dev")     # kernel views, not data (a file there reads as 0 bytes or blocks)
REAL_UNDER_PSEUDO = ("/dev/shm",)              # a tmpfs that holds ordinary files


def special(path: str | os.PathLike) -> str | None:
    """What ``path`` is when it is neither a regular file nor a folder that suite can use; None otherwise
    (also when nothing is there: the caller says "no such file").

    Never opens ``path``, so a FIFO does not block. Symbolic links are followed.

    Example:
        >>> special("/dev/null"), special("/tmp")
        ('a device', None)
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return "a symbolic link loop" if error.errno == errno.ELOOP else None
    except ValueError:                       # a NUL in the name: paths.check says so
        return None
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
             (stat.S_ISSOCK, "a socket"))
    kind = next((name for test, name in kinds if test(mode)), None)
    if kind is None and _on_pseudo_file_system(path):
        kind = f"on the pseudo file system {_pseudo_root(path)}, which holds no data"
    return kind


def _pseudo_root(path: str | os.PathLike) -> str | None:
    real = os.path.realpath(path)
    if any(real == root or real.startswith(root + "/") for root in REAL_UNDER_PSEUDO):
        return None
    return next((root for root in PSEUDO_ROOTS if real == root or real.startswith(root + "/")), None)


def _on_pseudo_file_system(path: str | os.PathLike) -> bool:
    return _pseudo_root(path) is not None


def refuse_special(path: str | os.PathLike, *, what: str) -> Path:
    """``Path(path)``, unless it is a FIFO, a device, a socket, a symbolic link loop or on a pseudo file system.

    A missing ``path`` passes (the caller knows what to say about it).

    Raises:
        DataError: one line naming ``what``, the path and what it is.
    """
    kind = special(path)
    if kind:
        raise DataError(f"{what}: {shorten(os.fspath(path))} is {kind}; expected a regular file or a folder")
    return Path(path)


def regular_files(folder: str | os.PathLike, *, what: str) -> Iterator[Path]:
    """Every regular file under ``folder``, sorted, its sub-folders walked too (symbolic links to folders are not
    followed, so a loop of folders cannot make the walk endless).

    Raises:
        DataError: a FIFO, device, socket, symbolic link loop or dangling link under ``folder``, named; a
            folder that cannot be listed.
    """
    def fail(error: OSError):
        raise DataError(f"{what}: cannot list {shorten(str(error.filename))} ({error.strerror})")

    for root, folders, files in os.walk(folder, onerror=fail):
        folders.sort()
        for name in sorted(files + [f for f in folders if os.path.islink(os.path.join(root, f))]):
            path = Path(root, name)
            if path.is_dir():                     # a link to a folder: listed by os.walk, not followed
                continue
            refuse_special(path, what=what)
            if not path.is_file():
                raise DataError(f"{what}: {shorten(str(path))} is a symbolic link to nothing; expected a regular "
                                "file")
            yield path


def writable_folder(path: str | os.PathLike, *, what: str) -> Path:
    """``Path(path)`` as a folder suite may create or write into: where it exists, a folder; where it does not,
    its nearest existing parent a folder; in either case not on a pseudo file system.

    Raises:
        SuiteError: one line naming ``what`` and the path.
    """
    path = Path(check(path, what=what)).expanduser()
    existing = next((p for p in (path, *path.parents) if os.path.lexists(p)), None)
    if existing is not None:
        kind = special(existing)
        if kind:
            raise SuiteError(f"{what} '{shorten(str(path))}': {shorten(str(existing))} is {kind}; choose a "
                             "folder on a disk")
        if not existing.is_dir():
            where = "" if existing == path else f": {shorten(str(existing))}"
            raise SuiteError(f"{what} '{shorten(str(path))}'{where} is a file, not a folder; choose another")
    return path


def is_path_key(key: str) -> bool:
    """Whether dotted recipe key ``key`` holds a file or folder name."""
    leaf = key.rsplit(".", 1)[-1]
    return leaf in PATH_KEYS or leaf.endswith(PATH_SUFFIXES)


def shorten(text: str, limit: int = 120) -> str:
    """``text`` on one line, cut in the middle when longer than ``limit``, so that an error line stays readable."""
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit // 2] + "…" + text[-limit // 3:]
