"""Spam data: readers for e-mail and tabular formats, deduplication and the split.

Orientation: every example is a :class:`Message` with ``text`` (subject, blank line,
plain-text body; optionally a header block first) and ``label`` 1 for spam, 0 for ham.

Sources (the recipe's ``data.source``):
- ``spamassassin``: the bundled SpamAssassin public corpus (datasets/spamassassin);
- a ``.csv``/``.tsv``/``.jsonl``/``.jsonl.gz`` file with a text and a label column;
- a folder with ``spam/`` and ``ham/`` subfolders holding ``.eml`` files or mbox files.
"""

from __future__ import annotations

import csv
import email
import email.policy
import gzip
import html
import json
import mailbox
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Iterator

from suite.core.errors import DataError
from suite.core.resources import DATASETS_DIR

BUNDLED = {"spamassassin": DATASETS_DIR / "spamassassin" / "spamassassin.jsonl.gz"}
SAFE_HEADERS = ("From", "Reply-To", "To", "Date", "X-Mailer", "MIME-Version", "Content-Type")


@dataclass
class SpamDataConfig:
    """The recipe's ``data`` section for spam."""

    source: str = field(default="spamassassin", metadata={
        "help": "spamassassin (bundled), a .csv/.tsv/.jsonl(.gz) file, or a folder with spam/ and ham/ "
                "subfolders of .eml or mbox files."})
    text_column: str = field(default="text", metadata={"help": "Column holding the message text (tables)."})
    label_column: str = field(default="label", metadata={"help": "Column holding the label (tables)."})
    spam_labels: list[str] = field(default_factory=lambda: ["spam", "1", "true", "yes"], metadata={
        "help": "Label values that mean spam (compared case-insensitively)."})
    ham_labels: list[str] = field(default_factory=lambda: ["ham", "0", "false", "no"], metadata={
        "help": "Label values that mean ham; any other value is an error."})
    include_headers: bool = field(default=False, metadata={
        "help": "Put a few sender headers (From, Reply-To, To, Date, X-Mailer...) before the text."})
    test_size: float = field(default=0.2, metadata={"help": "Share held out for testing (stratified)."})
    validation_size: float = field(default=0.1, metadata={
        "help": "Share of the remaining messages used to pick checkpoints and thresholds."})
    max_examples: int | None = field(default=None, metadata={
        "help": "Keep a stratified random sample of this many messages (after deduplication)."})
    seed: int = field(default=0, metadata={"help": "Seed of the split and the sample."})

    def __post_init__(self):
        for name in ("test_size", "validation_size"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"{name}: expected a number in (0, 1), got {getattr(self, name)!r}")
        if self.max_examples is not None and self.max_examples < 20:
            raise ValueError(f"max_examples: expected at least 20 or null, got {self.max_examples!r}")


@dataclass(frozen=True)
class Message:
    text: str
    label: int  # 1 spam, 0 ham


@dataclass
class Splits:
    train: list[Message]
    validation: list[Message]
    test: list[Message]
    duplicates_removed: int = 0

    def summary(self) -> dict:
        def spam(part):
            return sum(m.label for m in part)

        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test),
                "spam_train": spam(self.train), "spam_validation": spam(self.validation),
                "spam_test": spam(self.test), "duplicates_removed": self.duplicates_removed}


# -- e-mail parsing -------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedEmail:
    subject: str
    body: str
    headers: str


def parse_email(raw: str | bytes) -> ParsedEmail:
    """Subject, plain-text body (HTML reduced to text) and a few safe headers; never raises.

    Multipart messages keep their text/plain parts, or their HTML parts as text when
    there is no plain part; charsets are decoded, unknown ones as UTF-8 with replacement.
    """
    try:
        message = (email.message_from_bytes if isinstance(raw, bytes) else email.message_from_string)(
            raw, policy=email.policy.default)
        subject = str(message.get("Subject", "") or "")
    except Exception:  # noqa: BLE001 - a broken header: fall back to the lenient parser
        message = (email.message_from_bytes if isinstance(raw, bytes) else email.message_from_string)(raw)
        subject = str(message.get("Subject", "") or "")
    plain, markup = [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if kind in ("text/plain", "text/html") and not part.get_filename():
            (plain if kind == "text/plain" else markup).append(_decode_part(part))
    body = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(html_to_text(m) for m in markup)
    headers = "\n".join(f"{name}: {_safe_header(message, name)}" for name in SAFE_HEADERS if message.get(name))
    return ParsedEmail(_squash(subject), body.strip(), headers)


def _safe_header(message, name: str) -> str:
    try:
        return _squash(str(message.get(name)))
    except Exception:  # noqa: BLE001 - undecodable header value
        return ""


def _decode_part(part) -> str:
    payload = part.get_payload(decode=True) or b""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # unknown charset name
        return payload.decode("utf-8", errors="replace")


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in ("br", "p", "div", "tr", "li", "h1", "h2", "h3"):
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document: scripts and styles dropped, entities decoded."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
        text = "".join(extractor.parts)
    except Exception:  # noqa: BLE001 - hopeless markup: strip tags crudely
        text = html.unescape(re.sub(r"<[^>]+>", " ", markup))
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def compose(subject: str, body: str, headers: str = "", *, include_headers: bool = False) -> str:
    """The model's input text for one message."""
    text = f"{subject}\n\n{body}".strip()
    return f"{headers}\n\n{text}" if include_headers and headers else text


# -- reading sources ------------------------------------------------------------------------
def load_messages(cfg: SpamDataConfig) -> list[Message]:
    """Read every message of ``cfg.source``.

    Raises:
        DataError: missing file, unknown format, missing column, non-UTF-8 text,
            unknown label value, or no messages at all.
    """
    if cfg.source in BUNDLED:
        messages = list(_read_bundled(BUNDLED[cfg.source], cfg))
    else:
        path = Path(cfg.source).expanduser()
        if not path.exists():
            raise DataError(f"data.source: no such file or folder '{cfg.source}' "
                            f"(bundled data sets: {', '.join(BUNDLED)})")
        messages = list(_read_folder(path, cfg) if path.is_dir() else _read_table(path, cfg))
    if not messages:
        raise DataError(f"data.source: '{cfg.source}' holds no messages")
    return messages


def _read_bundled(path: Path, cfg: SpamDataConfig) -> Iterator[Message]:
    if not path.is_file():
        raise DataError(f"data.source: the bundled corpus {path} is missing; run datasets/spamassassin/prepare")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            text = compose(record["subject"], record["body"], record["headers"], include_headers=cfg.include_headers)
            yield Message(text, 1 if record["label"] == "spam" else 0)


def iter_table(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each row of a .csv, .tsv, .jsonl or .jsonl.gz file, as UTF-8."""
    name = path.name.lower()
    if not name.endswith((".csv", ".tsv", ".jsonl", ".jsonl.gz", ".ndjson")):
        raise DataError(f"{path}: unknown format; expected .csv, .tsv, .jsonl or .jsonl.gz")
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            if name.endswith((".csv", ".tsv")):
                reader = csv.DictReader(handle, delimiter="\t" if name.endswith(".tsv") else ",")
                for row in reader:
                    yield reader.line_num, row
            else:
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        yield number, _json_row(line, path, number)
    except UnicodeDecodeError as error:
        raise DataError(f"{path}: not UTF-8 text (byte {error.start} of a line: {error.reason})") from None


def _json_row(line: str, path: Path, number: int) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    if not isinstance(row, dict):
        raise DataError(f"{path}:{number}: expected a JSON object per line")
    return row


def _read_table(path: Path, cfg: SpamDataConfig) -> Iterator[Message]:
    for number, row in iter_table(path):
        for column in (cfg.text_column, cfg.label_column):
            if column not in row:
                raise DataError(f"{path}: no column '{column}' (columns: {', '.join(map(str, row))}); "
                                f"set data.text_column / data.label_column")
        yield Message(str(row[cfg.text_column] or ""), _label(row[cfg.label_column], cfg, f"{path}:{number}"))


def _label(value, cfg: SpamDataConfig, where: str) -> int:
    key = str(value).strip().lower()
    if key in (v.lower() for v in cfg.spam_labels):
        return 1
    if key in (v.lower() for v in cfg.ham_labels):
        return 0
    raise DataError(f"{where}: label {value!r} is neither spam ({', '.join(cfg.spam_labels)}) "
                    f"nor ham ({', '.join(cfg.ham_labels)}); set data.spam_labels / data.ham_labels")


def _read_folder(path: Path, cfg: SpamDataConfig) -> Iterator[Message]:
    present = {p.name.lower(): p for p in path.iterdir() if p.is_dir()}
    if not {"spam", "ham"} <= set(present):
        raise DataError(f"{path}: a data folder needs spam/ and ham/ subfolders of .eml or mbox files")
    for name, label in (("ham", 0), ("spam", 1)):
        for raw in read_mail_files(present[name]):
            parsed = parse_email(raw)
            yield Message(compose(parsed.subject, parsed.body, parsed.headers,
                                  include_headers=cfg.include_headers), label)


def read_mail_files(folder: Path) -> Iterator[bytes]:
    """Raw messages from every file under ``folder``: .mbox files hold many, others one."""
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if file.suffix.lower() == ".mbox":
            yield from (m.as_bytes() for m in mailbox.mbox(str(file), create=False))
        else:
            yield file.read_bytes()


def read_texts(path: Path, *, text_column: str = "text", include_headers: bool = False) -> list[str]:
    """Inputs for prediction: .txt (one message per line), a table's text column, .eml, mbox or a folder."""
    if not path.exists():
        raise DataError(f"--input: no such file or folder '{path}'")
    if path.is_dir() or path.suffix.lower() in (".eml", ".mbox"):
        raws = read_mail_files(path) if path.is_dir() else (
            (m.as_bytes() for m in mailbox.mbox(str(path), create=False)) if path.suffix.lower() == ".mbox"
            else [path.read_bytes()])
        return [compose(p.subject, p.body, p.headers, include_headers=include_headers)
                for p in map(parse_email, raws)]
    if path.suffix.lower() == ".txt":
        try:
            return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError as error:
            raise DataError(f"{path}: not UTF-8 text (byte {error.start})") from None
    texts = []
    for number, row in iter_table(path):
        if text_column not in row:
            raise DataError(f"{path}: no column '{text_column}' (columns: {', '.join(map(str, row))})")
        texts.append(str(row[text_column] or ""))
    return texts


# -- deduplication and split ---------------------------------------------------------------
def deduplicate(messages: Iterable[Message]) -> tuple[list[Message], int]:
    """Drop exact repeats of a text (keeping the first); a text seen with both labels is dropped entirely."""
    messages = list(messages)
    labels_of: dict[str, set[int]] = {}
    for m in messages:
        labels_of.setdefault(m.text, set()).add(m.label)
    kept, seen = [], set()
    for m in messages:
        if m.text in seen or len(labels_of[m.text]) > 1 or not m.text.strip():
            continue
        seen.add(m.text)
        kept.append(m)
    return kept, len(messages) - len(kept)


def split_messages(messages: list[Message], cfg: SpamDataConfig) -> Splits:
    """Deduplicate, optionally subsample, then split train/validation/test, stratified by label.

    Deduplication comes first, so no text is in two splits.

    Raises:
        DataError: only one class, or a split too small to hold both classes.
    """
    from sklearn.model_selection import train_test_split

    unique, removed = deduplicate(messages)
    require_both_classes([m.label for m in unique], where=f"data.source '{cfg.source}'")
    if cfg.max_examples and cfg.max_examples < len(unique):
        unique, _ = train_test_split(unique, train_size=cfg.max_examples, random_state=cfg.seed,
                                     stratify=[m.label for m in unique])
    try:
        rest, test = train_test_split(unique, test_size=cfg.test_size, random_state=cfg.seed,
                                      stratify=[m.label for m in unique])
        train, validation = train_test_split(rest, test_size=cfg.validation_size, random_state=cfg.seed,
                                             stratify=[m.label for m in rest])
    except ValueError as error:
        raise DataError(f"data.source '{cfg.source}': too few messages to split "
                        f"({len(unique)} after deduplication): {error}") from None
    return Splits(train, validation, test, removed)


def require_both_classes(labels: Iterable[int], *, where: str) -> None:
    """Raise :class:`DataError` unless both spam and ham are present (at least two of each)."""
    counts = Counter(labels)
    if not counts:
        raise DataError(f"{where}: no messages")
    if min(counts.get(0, 0), counts.get(1, 0)) < 2:
        only = "spam" if counts.get(1, 0) >= counts.get(0, 0) else "ham"
        raise DataError(f"{where}: only one class ({only}) has enough messages; need spam and ham, "
                        f"got {counts.get(1, 0)} spam and {counts.get(0, 0)} ham")

