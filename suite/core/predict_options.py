"""Options of ``suite predict`` that belong to one domain, declared by it (:class:`suite.core.registry.TakesOptions`).

The command line reads the general options first; once it knows the run's domain, it reads what is left of the
command line against that domain's :class:`PredictOption` list. The core and the CLI name no domain's options::

    predict_options = (PredictOption("--k", "items per input (default 10)", keyword="k", kind="integer",
                                     bounds=(1, 10_000)),)

An option either becomes a keyword of the predictor's ``predict`` (``keyword``) or, repeated, adds inline inputs
(``input_prefix``: ``--user u1`` is the input ``user:u1``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from suite.core import paths
from suite.core.errors import SuiteError

KINDS = ("text", "integer", "folder")


@dataclass(frozen=True)
class PredictOption:
    """One option a domain's predictions take on the command line.

    Attributes:
        flag: the option as typed, e.g. ``"--k"``.
        help: what it does, for ``suite predict RUN --help``.
        keyword: the keyword of ``predictor.predict`` its value becomes (None with ``input_prefix``).
        kind: ``text``, ``integer`` (checked against ``bounds``) or ``folder`` (a path that is not a file; made
            by the predictor).
        bounds: the integers accepted, both ends included.
        input_prefix: the option repeats, and each value becomes the inline input ``<prefix><value>``.
        metavar: the value's name in help text.
    """

    flag: str
    help: str
    keyword: str | None = None
    kind: str = "text"
    bounds: tuple[int, int] | None = None
    input_prefix: str | None = None
    metavar: str | None = None

    def __post_init__(self):
        if not self.flag.startswith("--") or self.kind not in KINDS or (self.keyword is None) == (
                self.input_prefix is None):
            raise ValueError(f"PredictOption {self.flag}: a --flag, a kind of {KINDS}, and either a keyword or an "
                             "input_prefix")

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")


class _OneLineParser(argparse.ArgumentParser):
    """A parser whose mistakes are one-line errors of the suite (exit status 2), not argparse's usage text."""

    def error(self, message: str):
        raise SuiteError(message)


def declared_by(domain) -> tuple[PredictOption, ...]:
    """The options ``domain`` declares (:class:`suite.core.registry.TakesOptions`); none where it declares none."""
    from suite.core import registry

    return tuple(domain.predict_options) if isinstance(domain, registry.TakesOptions) else ()


def parser(options: tuple[PredictOption, ...], prog: str = "suite predict RUN") -> argparse.ArgumentParser:
    """The parser of one domain's options; the leftover positional words go to ``inputs``."""
    out = _OneLineParser(prog=prog, add_help=False, allow_abbrev=False)
    for option in options:
        out.add_argument(option.flag, dest=option.dest, help=option.help, metavar=option.metavar,
                         type=int if option.kind == "integer" else str,
                         action="append" if option.input_prefix else "store",
                         default=[] if option.input_prefix else None)
    out.add_argument("inputs", nargs="*", help=argparse.SUPPRESS)
    return out


def read(domain_name: str, options: tuple[PredictOption, ...], words: list[str]) -> tuple[dict, list[str]]:
    """The predict keywords and the extra inline inputs that ``words`` (what the general options left) ask for.

    Raises:
        SuiteError: an option the domain does not take, or a value out of bounds, one line.
    """
    parsed, unknown = parser(options).parse_known_args(words)
    flags = [word.split("=", 1)[0] for word in unknown if word.startswith("-")]
    if flags:
        raise SuiteError(f"{flags[0]}: a {domain_name} model does not take it")
    if unknown:
        raise SuiteError(f"predict: cannot read {' '.join(unknown)}")
    keywords, inline = {}, list(parsed.inputs)
    for option in options:
        value = getattr(parsed, option.dest)
        if option.input_prefix:
            inline += [f"{option.input_prefix}{item}" for item in value]
        elif value is not None:
            keywords[option.keyword] = _checked(option, value)
    return keywords, inline


def _checked(option: PredictOption, value):
    if option.kind == "integer" and option.bounds and not option.bounds[0] <= value <= option.bounds[1]:
        raise SuiteError(f"{option.flag}: expected an integer from {option.bounds[0]} to {option.bounds[1]}, "
                         f"got {value}")
    if option.kind == "folder":
        folder = paths.check(value, what=option.flag)
        if folder.exists() and not folder.is_dir():
            raise SuiteError(f"{option.flag} {folder}: a file, not a folder; name a folder")
        return Path(folder)
    return value
