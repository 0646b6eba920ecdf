"""Every reader, fed damaged and random inputs, gives data or one SuiteError line: never another exception, never a
hang (property-based, Hypothesis).

Each reader starts from a valid sample of its format (CSV, TSV.gz, JSONL, text lines, mbox, .eml folders, .po,
.mo, image folders, .npz) and draws what a careless or hostile user could give instead: the sample cut short,
bytes flipped, inserted or deleted, random bytes, the text in another encoding, a header without the expected
columns, one line of a megabyte, and in place of the file a FIFO, a symbolic link loop or a folder. Whatever
Hypothesis finds here becomes a row of tests/test_bad_inputs.py.

The fast lane runs the ``default`` profile (tests/conftest.py: 25 examples per reader); the slow test runs more,
and ``HYPOTHESIS_PROFILE=deep`` deepens both.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suite.core.errors import SuiteError

SECONDS_PER_EXAMPLE = 30       # a read that takes longer counts as a hang


@dataclass(frozen=True)
class Reader:
    """A reader under test: the file it reads (``name`` inside a fresh folder), a valid sample, and ``read``,
    which takes the folder and reads what the user would give."""

    name: str
    valid: Callable[[], bytes]
    read: Callable[[Path], object]
    text: bool = True             # a text format: also drawn in other encodings, and with huge lines


# -- valid samples --------------------------------------------------------------------------------------------
def _spam_csv() -> bytes:
    return ("text,label\n" + "".join(f"\"message {i}, café\",{'spam' if i % 2 else 'ham'}\n"
                                     for i in range(6))).encode()


def _pairs_tsv_gz() -> bytes:
    return gzip.compress(b"source\ttarget\tcatalog\nOpen file\tAbrir arquivo\tapp\nSave\tSalvar\tapp\n")


def _interactions_jsonl() -> bytes:
    return "".join(f'{{"user": "u{u}", "item": "i{k}", "rating": 5, "timestamp": {k}}}\n'
                   for u in range(3) for k in range(3)).encode()


def _lines() -> bytes:
    return b"user:u1\n\nitems:i1|i2\nu2\n"


def _mail(subject: str, body: str) -> bytes:
    return (f"From: a@example.com\nSubject: {subject}\nContent-Type: multipart/alternative; boundary=B\n\n--B\n"
            f"Content-Type: text/plain; charset=utf-8\n\n{body}\n--B\nContent-Type: text/html\n\n<p>{body}</p>\n"
            "--B--\n").encode()


def _mbox() -> bytes:
    return b"".join(b"From x@y Mon Jan  1 00:00:00 2024\n" + _mail(f"s{i}", f"body {i} caf\u00e9") + b"\n"
                    for i in range(3))


def _po() -> bytes:
    return (b'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\nLanguage: pt_BR\\n"\n\n'
            b'#, python-format\nmsgid "Open %s"\nmsgstr "Abrir %s"\n\n'
            b'msgctxt "menu"\nmsgid "File"\nmsgstr "Arquivo"\n\n'
            b'msgid "One item"\nmsgid_plural "%d items"\nmsgstr[0] "Um item"\nmsgstr[1] "%d itens"\n')


def _mo() -> bytes:
    import polib

    with tempfile.TemporaryDirectory() as folder:
        catalog = polib.pofile(_po().decode())
        catalog.save_as_mofile(os.path.join(folder, "x.mo"))
        return Path(folder, "x.mo").read_bytes()


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _npz() -> bytes:
    rng = np.random.default_rng(0)
    arrays = {f"{part}_{kind}": rng.integers(0, 255, (6, 8, 8), dtype=np.uint8) if kind == "images" else
              np.array([[0], [1]] * 3) for part in ("train", "val", "test") for kind in ("images", "labels")}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


# -- readers --------------------------------------------------------------------------------------------------
def _spam_table(folder: Path):
    from suite.spam.data import SpamDataConfig, load_messages, read_texts

    load_messages(SpamDataConfig(source=str(folder / "mail.csv")))
    return read_texts(folder / "mail.csv")


def _translation_table(folder: Path):
    from suite.translation.config import TranslationDataConfig
    from suite.translation.data import load_pairs, read_sources

    load_pairs(TranslationDataConfig(source=str(folder / "pairs.tsv.gz")))
    return read_sources(folder / "pairs.tsv.gz")


def _interactions(folder: Path):
    from suite.recommendation.config import RecDataConfig
    from suite.recommendation.data import load_table

    (folder / "items.csv").write_text("item,title\ni0,a\ni1,b\ni2,c\n", encoding="utf-8")
    return load_table(RecDataConfig(source=str(folder / "interactions.jsonl"), items=str(folder / "items.csv")))


def _prediction_lines(folder: Path):
    from suite.recommendation.data import read_prediction_inputs

    return read_prediction_inputs(folder / "inputs.txt")


def _mail_folder(name: str) -> Callable[[Path], object]:
    """Read ``name`` as the spam/ class of a mail folder (training) and as ``--input`` (prediction)."""
    def read(folder: Path):
        from suite.spam.data import SpamDataConfig, load_messages, read_texts

        (folder / "ham").mkdir(exist_ok=True)
        (folder / "ham" / "1.eml").write_bytes(_mail("lunch", "see you"))
        load_messages(SpamDataConfig(source=str(folder)))
        return read_texts(folder / name)
    return read


def _catalog(name: str) -> Callable[[Path], object]:
    def read(folder: Path):
        from suite.translation.catalogs import read_catalog
        from suite.translation.checks import check_catalog_language
        from suite.translation.data import read_sources

        read_catalog(folder / name)
        check_catalog_language(folder / name, "pt_BR")
        return read_sources(folder / name)
    return read


def _image_folder(folder: Path):
    from suite.diagnostics.config import DiagnosticsDataConfig
    from suite.diagnostics.data import read_source
    from suite.diagnostics.images import check_image_file, list_inputs

    for label in ("normal", "lesion"):
        for i in range(4):
            path = folder / "scans" / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            if not os.path.lexists(path):
                path.write_bytes(_png())
    inputs = list_inputs(folder / "scans")
    for name in inputs.values:
        check_image_file(Path(name))
    return read_source(DiagnosticsDataConfig(source=str(folder / "scans"), on_bad_image="skip", test_size=0.25,
                                             validation_size=0.25))


def _npz_file(folder: Path):
    from suite.diagnostics.config import DiagnosticsDataConfig
    from suite.diagnostics.data import read_npz

    return read_npz(folder / "scans.npz", DiagnosticsDataConfig(source=str(folder / "scans.npz")), "drawn")


READERS = {reader.name: reader for reader in (
    Reader("mail.csv", _spam_csv, _spam_table),
    Reader("pairs.tsv.gz", _pairs_tsv_gz, _translation_table, text=False),
    Reader("interactions.jsonl", _interactions_jsonl, _interactions),
    Reader("inputs.txt", _lines, _prediction_lines),
    Reader("spam/box.mbox", _mbox, _mail_folder("spam/box.mbox")),
    Reader("spam/0001.eml", lambda: _mail("win", "claim your prize"), _mail_folder("spam")),
    Reader("app.po", _po, _catalog("app.po")),
    Reader("app.mo", _mo, _catalog("app.mo"), text=False),
    Reader("scans/lesion/0.png", _png, _image_folder, text=False),
    Reader("scans.npz", _npz, _npz_file, text=False),
)}


# -- what is drawn ----------------------------------------------------------------------------------------------
@st.composite
def damaged(draw, valid: bytes, text: bool) -> bytes:
    """``valid`` damaged one way, or random bytes, or (text formats) re-encoded, headless, or with a huge line."""
    at = draw(st.integers(0, len(valid)))
    ways = {
        "cut": lambda: valid[:at],
        "flip": lambda: valid[:at] + bytes([draw(st.integers(0, 255))]) + valid[at + 1:],
        "insert": lambda: valid[:at] + draw(st.binary(min_size=1, max_size=64)) + valid[at:],
        "delete": lambda: valid[:at] + valid[at + draw(st.integers(1, 64)):],
        "random": lambda: draw(st.binary(max_size=4096)),
        "empty": lambda: b"",
    }
    if text:
        decoded = valid.decode("utf-8")
        ways.update({
            "utf-16": lambda: decoded.encode("utf-16"),
            "latin-1": lambda: decoded.encode("latin-1", "replace") + "\n\u00e9\u00e8\n".encode("latin-1"),
            "no header": lambda: valid.split(b"\n", 1)[-1],
            "other header": lambda: draw(st.sampled_from([b"a,b\n", b"{}\n", b"\xef\xbb\xbf", b"\n\n"]))
            + valid.split(b"\n", 1)[-1],
            "huge line": lambda: valid + b"x" * 1_000_000 + b"\n",
            "drawn text": lambda: draw(st.text(max_size=400)).encode("utf-8", "surrogatepass"),
        })
    return ways[draw(st.sampled_from(sorted(ways)))]()


class Hang(BaseException):
    """A reader that gave no answer in time (a BaseException, so that no reader's ``except`` swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: int):
    """Fail, instead of waiting for ever, when the body takes longer than ``seconds``."""
    def hang(signum, frame):
        raise Hang(f"no answer in {seconds} s: the reader hangs")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_reader(reader: Reader, data: st.DataObject) -> None:
    """The property: what ``data`` draws in place of ``reader``'s file is read, or refused in one line."""
    valid = reader.valid()
    kind = data.draw(st.sampled_from(["file"] * 8 + ["fifo", "loop", "folder"]), label="kind")
    content = data.draw(damaged(valid, reader.text), label="content") if kind == "file" else b""
    with tempfile.TemporaryDirectory() as root, time_limit(SECONDS_PER_EXAMPLE):
        folder = Path(root)
        path = folder / reader.name
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "file":
            path.write_bytes(content)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "loop":
            path.symlink_to(path.name)
        else:
            path.mkdir()
        try:
            reader.read(folder)
        except SuiteError as error:
            message = str(error)
            assert message and "\n" not in message, f"not one line: {message!r}"


@pytest.mark.parametrize("name", READERS)
@given(data=st.data())
def test_reader_reads_or_refuses_in_one_line(name, data):
    check_reader(READERS[name], data)


@pytest.mark.slow
@pytest.mark.parametrize("name", READERS)
@settings(max_examples=200)
@given(data=st.data())
def test_reader_reads_or_refuses_in_one_line_deeper(name, data):
    check_reader(READERS[name], data)


def test_valid_samples_are_read():
    """The samples the damage starts from are valid: each reader reads its own without error."""
    for reader in READERS.values():
        with tempfile.TemporaryDirectory() as root:
            path = Path(root) / reader.name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(reader.valid())
            assert reader.read(Path(root)) is not None, reader.name
