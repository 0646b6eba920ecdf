"""Spam data: e-mail parsing, readers for every supported source, deduplication and the split.

Orientation: every example is a :class:`Message` whose ``text`` is the subject, a blank
line and the plain-text body (optionally preceded by a block of safe headers), with
``label`` 1 for spam and 0 for ham.

Sources (the recipe's ``data.source``):

- ``spamassassin``: the bundled SpamAssassin public corpus (``datasets/spamassassin``);
- a ``.csv``/``.tsv``/``.jsonl``/``.ndjson`` file (optionally ``.gz``) with a text and a label column;
- a folder whose subfolders are named for their class (``spam/``, ``ham/``, ``easy_ham/``,
  ``spam_2/``...) holding one e-mail per file (``.eml`` or no suffix) and/or ``.mbox`` files.

Every source must be a regular file or a folder of them (:mod:`suite.core.paths`). E-mails are read as the
bytes they are (an mbox's messages as stored, never re-serialised), and no damage stops a read: a message
whose bytes do not decode, or whose MIME structure is broken, is read as well as it can be and counted
(``damaged_mails`` in the data summary; a note on stderr for ``suite predict``).
"""

from __future__ import annotations

import dataclasses
import mailbox
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from suite.core import label_budget, paths, resources
from suite.core.errors import DataError
from suite.core.inputs import Inputs
from suite.core.tables import iter_table
from suite.spam.config import BUNDLED_NAME, SpamDataConfig, label_key
from suite.spam.mail import ParsedEmail, parse_email

CORPUS_FILE = Path("spamassassin") / "spamassassin.jsonl.gz"



@dataclass(frozen=True)
class Message:
    text: str
    label: int  # 1 spam, 0 ham
    # what deduplication compares: the text without its header block (headers differ between copies)
    dedup_key: str | None = field(default=None, compare=False, repr=False)
    damaged: bool = field(default=False, compare=False, repr=False)   # an e-mail read with replacements


@dataclass
class Splits:
    """The three splits, and what deduplication removed before splitting."""

    train: list[Message]
    validation: list[Message]
    test: list[Message]
    duplicates_removed: int = 0     # exact repeats of a text with the same label (first copy kept)
    conflicting_removed: int = 0    # every copy of a text seen with both labels
    empty_removed: int = 0          # messages with no text at all
    damaged_mails: int = 0          # e-mails read with replacement characters or a broken MIME structure

    def summary(self) -> dict:
        parts = {"train": self.train, "validation": self.validation, "test": self.test}
        return {**{name: len(part) for name, part in parts.items()},
                **{f"spam_{name}": sum(m.label for m in part) for name, part in parts.items()},
                "duplicates_removed": self.duplicates_removed, "conflicting_removed": self.conflicting_removed,
                "empty_removed": self.empty_removed, "damaged_mails": self.damaged_mails}


def texts_of(messages: list[Message]) -> list[str]:
    """The texts of ``messages``, in order."""
    return [m.text for m in messages]


def labels_of(messages: list[Message]) -> np.ndarray:
    """The labels of ``messages`` (1 spam, 0 ham), in order."""
    return np.array([m.label for m in messages], dtype=np.int64)


def prepare(cfg: SpamDataConfig) -> Splits:
    """Read ``cfg.source``, deduplicate and split it (see :func:`split_messages`)."""
    return split_messages(load_messages(cfg), cfg)


def with_test_data(cfg: SpamDataConfig, splits: Splits, source: str) -> Splits:
    """``splits`` with every message of ``source`` as the test split (read like ``data.source``).

    Raises:
        DataError: unreadable data, or fewer than two messages of either class.
    """
    other = dataclasses.replace(cfg, source=source, max_examples=None)
    test = load_messages(other)
    require_both_classes([m.label for m in test], where=source)
    return dataclasses.replace(splits, test=test)


# -- reading sources ------------------------------------------------------------------------
def bundled_corpus_path() -> Path:
    """The bundled SpamAssassin corpus (``datasets/spamassassin`` beside the package).

    Raises:
        DataError: the file is missing (rebuild it with ``datasets/spamassassin/prepare``).
    """
    path = resources.DATASETS_DIR / CORPUS_FILE
    if not path.is_file():
        raise DataError(f"data.source: the bundled corpus {path} is missing; run datasets/spamassassin/prepare")
    return path


def load_messages(cfg: SpamDataConfig, root: Path | None = None) -> list[Message]:
    """Read every message of ``cfg.source``, in file order.

    Args:
        cfg: the recipe's data section.
        root: folder that a relative ``cfg.source`` is relative to (default: the working folder).

    Raises:
        DataError: missing file, unknown format, missing column, non-UTF-8 text, unknown
            label value, or no messages at all; always one line.
    """
    if cfg.source in (BUNDLED_NAME, f"bundled:{BUNDLED_NAME}"):
        messages = [_email_message(ParsedEmail(r["subject"], r["body"], r["headers"]), int(r["label"] == "spam"),
                                   cfg.include_headers) for _, r in iter_table(bundled_corpus_path())]
    else:
        path = Path(root or ".") / Path(cfg.source).expanduser()
        if not path.exists():
            raise DataError(f"data.source: no such file or folder '{cfg.source}'"
                            + (f" (relative to {root})" if root else "") + f"; bundled corpus: '{BUNDLED_NAME}'")
        paths.refuse_special(path, what="data.source")
        if path.is_dir():
            messages = list(_read_folder(path, cfg))
        elif path.suffix.lower() in (".mbox", ".eml"):
            raise DataError(f"data.source: '{path}' holds one class only; put .eml/.mbox files in spam/ and ham/ "
                            f"subfolders of a folder and give the folder")
        else:
            messages = list(_read_table(path, cfg))
    if not messages:
        raise DataError(f"data.source: '{cfg.source}' holds no messages")
    return messages


def _table_rows(path: Path, columns: dict[str, str]) -> Iterator[tuple[str, dict]]:
    """("file:line", row) for each row, after checking the row has each column (recipe key -> column)."""
    for number, row in iter_table(path):
        for key, column in columns.items():
            if column not in row:
                raise DataError(f"{path}:{number}: no column '{column}' (columns: {', '.join(map(str, row))}); "
                                f"set data.{key}")
        yield f"{path}:{number}", row


def _read_table(path: Path, cfg: SpamDataConfig) -> Iterator[Message]:
    for where, row in _table_rows(path, {"text_column": cfg.text_column, "label_column": cfg.label_column}):
        text = row[cfg.text_column]
        yield Message("" if text is None else str(text), _label(row[cfg.label_column], cfg, where))


def _label(value, cfg: SpamDataConfig, where: str) -> int:
    key = label_key(value)
    if key in cfg.spam_labels:
        return 1
    if key in cfg.ham_labels:
        return 0
    raise DataError(f"{where}: unknown label {value!r}; spam labels: {', '.join(cfg.spam_labels)}; ham labels: "
                    f"{', '.join(cfg.ham_labels)} (set data.spam_labels / data.ham_labels)")


def _read_folder(path: Path, cfg: SpamDataConfig) -> Iterator[Message]:
    """Subfolders named like spam (spam, spam_2...) or ham (ham, easy_ham...) give the labels."""
    folders = sorted(p for p in path.iterdir() if p.is_dir())
    classes = [(p, 1 if "spam" in words else 0) for p in folders
               for words in [set(re.split(r"[\W_]+", p.name.lower()))] if words & {"spam", "ham"}]
    if {label for _, label in classes} != {0, 1}:
        raise DataError(f"data.source: folder '{path}' needs spam/ and ham/ subfolders of .eml or .mbox files "
                        f"(found: {', '.join(p.name + '/' for p in folders) or 'none'})")
    for folder, label in classes:
        for _, raw in read_mail_files(folder, what="data.source"):
            yield _email_message(parse_email(raw), label, cfg.include_headers)


def _email_message(parsed: ParsedEmail, label: int, include_headers: bool) -> Message:
    text = parsed.text(include_headers=include_headers)
    return Message(text, label, parsed.text() if include_headers else None, damaged=parsed.damaged)


def read_mail_files(path: Path, *, what: str) -> Iterator[tuple[str, bytes]]:
    """(id, raw bytes) of each message of a file, or of every regular file under a folder (sorted): an .mbox
    file holds many (ids ``FILE#N``, its stored bytes), any other file one (id: its path).

    Hidden files and the ``cmds`` files of the original SpamAssassin archives are skipped.

    Raises:
        DataError: a special file or symbolic link loop among them (see :func:`suite.core.paths.regular_files`),
            or an unreadable mbox, named with ``what``.
    """
    files = paths.regular_files(path, what=what) if path.is_dir() else [paths.refuse_special(path, what=what)]
    for file in files:
        if file.name.startswith(".") or file.name == "cmds":
            continue
        if file.suffix.lower() != ".mbox":
            yield str(file), file.read_bytes()
            continue
        try:
            box = mailbox.mbox(str(file), create=False)
            for number, key in enumerate(box.iterkeys(), 1):
                yield f"{file}#{number}", box.get_bytes(key)
        except (OSError, mailbox.Error) as error:
            raise DataError(f"{what}: {file}: not a readable mbox file ({error})") from None


def read_texts(path: Path, *, text_column: str = "text", include_headers: bool = False) -> Inputs:
    """Inputs for prediction: .txt (one message per line), a table's text column, .eml, .mbox or a folder; each
    with its id (:mod:`suite.core.inputs`), and a note counting damaged e-mails.

    Raises:
        DataError: missing or special file, non-UTF-8 text, unknown format or missing column.
    """
    if not path.exists():
        raise DataError(f"--input: no such file or folder '{path}'")
    paths.refuse_special(path, what="--input")
    if path.is_dir() or path.suffix.lower() in (".eml", ".mbox"):
        ids, parsed = [], []
        for where, raw in read_mail_files(path, what="--input"):
            ids.append(where)
            parsed.append(parse_email(raw))
        damaged = sum(p.damaged for p in parsed)
        notes = [f"{path}: {damaged} of {len(parsed)} e-mails were damaged (undecodable bytes or a broken MIME "
                 "structure) and were read with replacement characters where needed"] if damaged else []
        return Inputs([p.text(include_headers=include_headers) for p in parsed], ids, notes)
    if path.suffix.lower() == ".txt":
        return Inputs.lines(path)
    texts, ids = [], []
    for number, row in iter_table(path):
        if text_column not in row:
            raise DataError(f"{path}:{number}: no column '{text_column}' (columns: {', '.join(map(str, row))}); "
                            f"this model was trained with data.text_column '{text_column}'")
        texts.append("" if row[text_column] is None else str(row[text_column]))
        ids.append(f"{path}:{number}")
    return Inputs(texts, ids)


# -- deduplication and split ---------------------------------------------------------------
class Deduplicated(NamedTuple):
    kept: list[Message]
    duplicates: int    # repeats of a text with the same label, beyond its first copy
    conflicting: int   # every copy of a text that appears with both labels
    empty: int         # messages whose text is blank


def deduplicate(messages: Iterable[Message]) -> Deduplicated:
    """Keep the first copy of each exact text; drop every copy of a text seen with both labels, and blanks.

    Texts compare by ``dedup_key`` where set (e-mails with headers: subject and body only).
    """
    messages = list(messages)
    labels_of: dict[str, set[int]] = {}
    for m in messages:
        labels_of.setdefault(m.dedup_key or m.text, set()).add(m.label)
    kept, seen, counts = [], set(), Counter()
    for m in messages:
        key = m.dedup_key or m.text
        if not m.text.strip():
            counts["empty"] += 1
        elif len(labels_of[key]) > 1:
            counts["conflicting"] += 1
        elif key in seen:
            counts["duplicates"] += 1
        else:
            seen.add(key)
            kept.append(m)
    return Deduplicated(kept, counts["duplicates"], counts["conflicting"], counts["empty"])


def split_messages(messages: list[Message], cfg: SpamDataConfig) -> Splits:
    """Deduplicate, optionally subsample, then split train/validation/test, stratified by label.

    Deduplication comes first, so no text is in two splits. ``max_examples`` then draws a
    stratified sample of the unique messages, which is split like the full set would be:
    test is ``test_size`` of it, validation ``validation_size`` of the rest. A ``label_budget``
    then draws that many of the training and validation messages and splits them again
    (:mod:`suite.core.label_budget`); the test split stays as it was.

    Args:
        messages: what :func:`load_messages` returned.
        cfg: the recipe's data section (sizes, ``max_examples``, seed).

    Raises:
        DataError: one class only, or a split that would be empty or hold one class.
    """
    from sklearn.model_selection import train_test_split

    unique = deduplicate(messages)
    pool = unique.kept
    require_both_classes([m.label for m in pool], where=f"data.source '{cfg.source}' (after deduplication)")
    try:
        if cfg.max_examples is not None and cfg.max_examples < len(pool):
            pool, _ = train_test_split(pool, train_size=cfg.max_examples, random_state=cfg.seed,
                                       stratify=[m.label for m in pool])
        rest, test = train_test_split(pool, test_size=cfg.test_size, random_state=cfg.seed,
                                      stratify=[m.label for m in pool])
        if cfg.label_budget is None:
            train, validation = train_test_split(rest, test_size=cfg.validation_size, random_state=cfg.seed,
                                                 stratify=[m.label for m in rest])
    except ValueError as error:
        raise DataError(f"data.source '{cfg.source}': too few messages to split ({len(pool)} after "
                        f"deduplication): {error}") from None
    if cfg.label_budget is not None:          # drawn from what train and validation would share, whatever its split
        learn, check = label_budget.draw(labels_of(rest), cfg, seed=cfg.seed, classes=2)
        train, validation = [rest[i] for i in learn], [rest[i] for i in check]
    for name, part in (("train", train), ("validation", validation), ("test", test)):
        missing = [kind for label, kind in ((0, "ham"), (1, "spam")) if label not in {m.label for m in part}]
        if missing:
            raise DataError(f"data: the {name} split ({len(part)} messages) holds no {' and no '.join(missing)}; "
                            f"use more data or change data.test_size / data.validation_size")
    return Splits(train, validation, test, unique.duplicates, unique.conflicting, unique.empty,
                  damaged_mails=sum(m.damaged for m in messages))


def require_both_classes(labels: Iterable[int], *, where: str) -> None:
    """Raise :class:`DataError` unless spam and ham are both present, at least two of each.

    Raises:
        DataError: no messages, or a class with fewer than two messages (named).
    """
    counts = Counter(labels)
    if not counts:
        raise DataError(f"{where}: no messages")
    if min(counts.get(0, 0), counts.get(1, 0)) < 2:
        only = "spam" if counts.get(1, 0) >= counts.get(0, 0) else "ham"
        raise DataError(f"{where}: only one class ({only}) is present; need at least two spam and two ham "
                        f"messages, got {counts.get(1, 0)} spam and {counts.get(0, 0)} ham")
