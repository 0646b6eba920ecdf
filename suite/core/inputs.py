"""What ``suite predict`` reads, each input with where it came from, so that every output row keeps its place.

A domain's ``read_inputs`` returns :class:`Inputs`: the values its predictor takes, and an id per value saying
where it came from (the same forms in every domain):

- ``FILE:LINE``: a line of a text file, a row of a table, an entry of a ``.po`` catalog (its first line);
- ``FILE``: a file that holds one input (an e-mail, an image);
- ``FILE#N``: the N-th message of an mbox file, the N-th string of a ``.mo`` catalog;
- ``inline N``: the N-th input given on the command line.

``suite predict`` writes each prediction as a row that starts with ``input_id``, and, where the predictor
reports inputs longer than it reads (:class:`suite.core.registry.ReportsTruncation`), ``truncated``. Lines
that hold nothing are skipped and counted; what was skipped, damaged or cut is said in one line each on
stderr (:attr:`Inputs.notes`), never silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suite.core import paths
from suite.core.errors import DataError

ID_KEY = "input_id"
TRUNCATED_KEY = "truncated"


@dataclass
class Inputs:
    """Inputs for a predictor, in order, with one id each and the notes to print about them.

    Attributes:
        values: what the predictor's ``predict`` takes.
        ids: where each value came from (see the module docstring), as long as ``values``.
        notes: one line each: what was skipped or read with damage.
    """

    values: list[Any]
    ids: list[str]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        if len(self.values) != len(self.ids):
            raise ValueError(f"Inputs: {len(self.values)} values but {len(self.ids)} ids")

    def __len__(self) -> int:
        return len(self.values)

    @classmethod
    def inline(cls, values: list[Any]) -> Inputs:
        """Inputs given on the command line: ``inline 1``, ``inline 2``..."""
        return cls(list(values), [f"inline {n}" for n in range(1, len(values) + 1)])

    @classmethod
    def of(cls, read: Inputs | list[Any], path: Path | None) -> Inputs:
        """``read`` as :class:`Inputs`: a domain that returns a plain list gets ids by position (``FILE#N``, or
        ``inline N`` without a file)."""
        if isinstance(read, Inputs):
            return read
        values = list(read)
        return cls.inline(values) if path is None else cls(values, [f"{path}#{n}" for n in range(1, len(values) + 1)])

    @classmethod
    def lines(cls, path: Path) -> Inputs:
        """One input per line of the UTF-8 text file ``path`` (ids ``FILE:LINE``); blank lines are skipped and
        counted in a note.

        Raises:
            DataError: not a regular file, or not UTF-8 (naming the line and byte).
        """
        from suite.core.tables import utf8_error

        path = paths.refuse_special(path, what="--input")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError(utf8_error(path)) from None
        numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1)]
        kept = [(n, line) for n, line in numbered if line.strip()]
        blank = len(numbered) - len(kept)
        notes = [f"{path}: {blank} blank line{'s' * (blank != 1)} skipped (each row's input_id names its line)"] \
            if blank else []
        return cls([line for _, line in kept], [f"{path}:{n}" for n, _ in kept], notes)


def rows(predictions: list[dict], inputs: Inputs, truncated: list[bool] | None = None) -> list[dict]:
    """Each prediction as an output row: ``input_id`` first, then the prediction, then ``truncated`` where the
    predictor reports it.

    Raises:
        RuntimeError: the predictor gave another number of predictions than it had inputs (a bug).
    """
    if len(predictions) != len(inputs) or (truncated is not None and len(truncated) != len(inputs)):
        raise RuntimeError(f"{len(predictions)} predictions for {len(inputs)} inputs")
    flags = truncated if truncated is not None else [None] * len(inputs)
    return [{ID_KEY: where, **prediction, **({} if cut is None else {TRUNCATED_KEY: bool(cut)})}
            for where, prediction, cut in zip(inputs.ids, predictions, flags)]


def truncation(predictor: Any, values: list[Any]) -> tuple[list[bool] | None, str | None]:
    """Which of ``values`` the predictor cuts to its limit, and the note that counts them (None, None: the
    predictor does not report truncation)."""
    from suite.core import registry

    if not isinstance(predictor, registry.ReportsTruncation):
        return None, None
    cut = [bool(flag) for flag in predictor.truncated(values)]
    count = sum(cut)
    note = (f"{count} of {len(cut)} inputs were longer than the model reads ({predictor.input_limit}) and were "
            f"cut to it; their rows say {TRUNCATED_KEY}: true") if count else None
    return cut, note
