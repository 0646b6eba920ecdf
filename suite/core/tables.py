"""Tables that users bring: .csv, .tsv, .jsonl or .ndjson (optionally gzipped), read as UTF-8.

Every domain reads its tabular inputs through :func:`iter_table`, so every domain
reports a bad table the same way: one line naming the file, the line and the problem.
A table the suite writes for itself (an aligned corpus, a cache) goes through :func:`write_tsv`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from suite.core import paths
from suite.core.errors import DataError

TABLE_KINDS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def _table_kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if not suffixes or suffixes[-1] not in TABLE_KINDS:
        raise DataError(f"{path}: unknown format '{''.join(path.suffixes) or path.name}'; expected "
                        f"{', '.join(TABLE_KINDS)} (optionally .gz)")
    return TABLE_KINDS[suffixes[-1]]


def iter_table(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for each row of a .csv, .tsv, .jsonl or .ndjson file (optionally .gz), read as UTF-8.

    Raises:
        DataError: unknown format, not a regular file (a FIFO would block), text that is not UTF-8 (naming
            line and byte offset), a line that is not a JSON object, or broken CSV/gzip.
    """
    kind, number = _table_kind(path), 0
    paths.refuse_special(path, what="table")
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            if kind == "jsonl":
                for number, line in enumerate(handle, 1):
                    if line.strip():
                        yield number, _json_row(line, path, number)
                return
            csv.field_size_limit(2 ** 31 - 1)     # whole e-mails exceed the default 128 KiB per field
            reader = csv.DictReader(handle, delimiter="\t" if kind == "tsv" else ",")
            for row in reader:
                number = reader.line_num
                yield number, {k: v for k, v in row.items() if isinstance(k, str)}
    except UnicodeDecodeError:
        raise DataError(utf8_error(path)) from None
    except csv.Error as error:
        raise DataError(f"{path}:{number + 1}: not valid CSV ({error})") from None
    except (OSError, EOFError, zlib.error) as error:       # zlib.error: damaged gzip data
        raise DataError(f"{path}: cannot be read ({error})") from None


def write_tsv(path: Path, header: list[str], rows: Iterable[Iterable]) -> Path:
    """``rows`` under ``header`` as a UTF-8 .tsv that :func:`iter_table` reads back (tabs and line breaks inside a
    field quoted), written through a temporary file and a rename: a reader never sees half a table."""
    from suite.core.runs import atomic_write_text

    text = io.StringIO()
    writer = csv.writer(text, delimiter="\t", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_text(path, text.getvalue())


def utf8_error(path: Path) -> str:
    """A one-line message naming the line and byte offset where ``path`` stops being UTF-8."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, zlib.error) as error:
        return f"{path}: not UTF-8 text, and cannot be read whole ({error})"
    try:
        data.decode("utf-8")
        return f"{path}: not UTF-8 text"
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        where = " of the uncompressed data" if opener is gzip.open else ""
        return (f"{path}: not UTF-8 text at line {line}, byte offset {error.start}{where} "
                f"(byte 0x{data[error.start]:02x}); save the file as UTF-8")


def _json_row(line: str, path: Path, number: int) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{number}: not valid JSON ({error.msg})") from None
    if not isinstance(row, dict):
        raise DataError(f"{path}:{number}: expected one JSON object per line, got {type(row).__name__}")
    return row
