"""Errors a user can fix: the command line prints them as one line and exits with status 2."""


class SuiteError(Exception):
    """Base class for every problem caused by the user's input rather than by a bug.

    The message must fit on one line and say what is wrong and, where it helps, what
    would be accepted instead.
    """


class RecipeError(SuiteError):
    """A recipe that cannot be read or does not validate (file, key, what was expected)."""


class DataError(SuiteError):
    """Data that cannot be read or cannot be used (missing file or column, empty, one class, bad encoding)."""


class ModelSourceError(SuiteError):
    """A model or weights source that cannot be resolved (unknown name, unreachable hub)."""


class RunError(SuiteError):
    """A run folder that cannot be created, resumed or loaded."""


def brief(text: str, limit: int = 160) -> str:
    """The first line of ``text``, cut at a word boundary with an ellipsis so that no message ends mid-word.

    Example:
        >>> brief("To enable repo look-ups and downloads online, set HF_HUB_OFFLINE=0.", 30)
        'To enable repo look-ups and …'
    """
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(" ,;:(") + " …"
