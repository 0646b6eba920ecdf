"""Mail parsing survives any damage: every mail of the bundled corpus reads back, and damaged mail is read as well
as it can be, never raising, and counted (``damaged_mails``; a note for ``suite predict``)."""

import pytest

from suite.core.tables import iter_table
from suite.spam.config import SpamDataConfig
from suite.spam.data import bundled_corpus_path, load_messages, read_texts, split_messages
from suite.spam.mail import compose, parse_email

MBOX_FROM = b"From sender@example.com Mon Jan  1 00:00:00 2024\n"

# name: (raw message, a text its body or subject must keep, whether it counts as damaged)
DAMAGED = {
    "multipart without a boundary, 8-bit bytes": (
        b"Subject: caf\xe9 offer\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\n--xyz\n"
        b"Content-Type: text/plain\n\ncaf\xe9 cr\xe8me for you\n--xyz--\n", "café crème for you", True),
    "multipart whose parts use another boundary": (
        b"Subject: hi\nContent-Type: multipart/alternative; boundary=AAA\n\n--BBB\nContent-Type: text/plain\n\n"
        b"hello there\n--BBB--\n", "hello there", True),
    "nested multipart, inner boundary missing": (
        b"Subject: nest\nContent-Type: multipart/mixed; boundary=OUT\n\n--OUT\nContent-Type: multipart/alternative"
        b"\n\n--IN\nContent-Type: text/plain\n\ninner words\n--IN--\n--OUT--\n", "inner words", True),
    "closing boundary missing": (
        b"Subject: hi\nContent-Type: multipart/alternative; boundary=AAA\n\n--AAA\nContent-Type: text/plain\n\n"
        b"no end in sight\n", "no end in sight", False),
    "bytes that are not the declared charset": (
        b"Subject: jp\nContent-Type: text/plain; charset=shift_jis\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"=82=A0=FF=FF tail words\n", "\ufffd\ufffd tail words", True),
    "raw 8-bit header, undecodable in the body's charset": (
        b"Subject: \x82\xa0\xff\xff sale\nContent-Type: text/plain; charset=shift_jis\n\nbody text\n",
        "\ufffd", True),
    "broken encoded word": (b"Subject: =?utf-8?b?!!!?= price\n\nplain body\n", "plain body", False),
    "unknown charset": (b"Subject: x\nContent-Type: text/plain; charset=no-such-set\n\nna\xefve\n", "naïve", False),
    "base64 cut off mid-way": (
        b"Subject: b64\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\naGVsbG8gd29y",
        "hello wor", False),
    "cut inside the headers": (b"Subject: cut here\nFrom: a@b\nContent-Ty", "cut here", False),
    "multipart with no parts at all": (
        b"Subject: empty parts\nContent-Type: multipart/mixed; boundary=Q\n\n--Q--\n", "empty parts", True),
    "NUL and control bytes": (b"Subject: \x00nul\x01\n\nbody\x00 with\x07 controls\n", "body with controls", False),
    "no body": (b"Subject: only a subject\n", "only a subject", False),
    "a header line of 100,000 characters": (b"Subject: long\nX-Long: " + b"x" * 100_000 + b"\n\nshort body\n",
                                            "short body", False),
    "not an e-mail at all": (bytes(range(256)), "0123456789", False),      # read as Latin-1 text: no bytes lost
}


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_mail_is_read_and_flagged(name):
    raw, kept, damaged = DAMAGED[name]
    parsed = parse_email(raw)
    assert kept in parsed.subject + "\n" + parsed.body
    assert parsed.damaged is damaged


def test_damaged_mbox_trains_and_predicts_with_the_count(tmp_path):
    """The issue's case: an mbox holding a multipart message without a boundary and 8-bit bytes, in a spam/ham
    folder (train) and as --input (predict); today both read it, and say how many mails were damaged."""
    spam, ham = tmp_path / "spam", tmp_path / "ham"
    spam.mkdir()
    ham.mkdir()
    (spam / "box.mbox").write_bytes(b"".join(MBOX_FROM + raw + b"\n" for raw, _, _ in DAMAGED.values()))
    for i in range(20):
        (ham / f"{i}.eml").write_bytes(f"Subject: lunch {i}\n\nsee you at noon {i}\n".encode())
    messages = load_messages(SpamDataConfig(source=str(tmp_path)))
    expected = sum(damaged for _, _, damaged in DAMAGED.values())
    assert len(messages) == len(DAMAGED) + 20 and sum(m.damaged for m in messages) == expected
    splits = split_messages(messages, SpamDataConfig(source=str(tmp_path), test_size=0.3, validation_size=0.4))
    assert splits.summary()["damaged_mails"] == expected
    read = read_texts(spam / "box.mbox")
    assert read.ids == [f"{spam / 'box.mbox'}#{n}" for n in range(1, len(DAMAGED) + 1)]
    assert read.notes == [f"{spam / 'box.mbox'}: {expected} of {len(DAMAGED)} e-mails were damaged (undecodable "
                          "bytes or a broken MIME structure) and were read with replacement characters where needed"]


def _corpus() -> list[dict]:
    return [row for _, row in iter_table(bundled_corpus_path())]


def _as_mail(row: dict) -> bytes:
    """A corpus record as the RFC 822 message it was parsed from: its safe headers, subject and body (UTF-8)."""
    head = "".join(f"{line}\n" for line in row["headers"].splitlines()
                   if not line.startswith(("Content-Type:", "Received-Count:")))
    return (f"{head}Subject: {row['subject']}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: 8bit\n\n{row['body']}\n").encode()


@pytest.mark.slow
def test_every_corpus_mail_reads_back_through_the_folder_reader(tmp_path):
    """All 6,046 mails of the bundled SpamAssassin corpus, one .eml file each in spam/ and ham/, come back from
    the folder reader with their subject and body, none damaged."""
    rows = _corpus()
    for i, row in enumerate(rows):
        folder = tmp_path / row["label"]
        folder.mkdir(exist_ok=True)
        (folder / f"{i:05d}.eml").write_bytes(_as_mail(row))
    messages = load_messages(SpamDataConfig(source=str(tmp_path)))
    by_label = {"spam": [r for r in rows if r["label"] == "spam"], "ham": [r for r in rows if r["label"] == "ham"]}
    expected = [compose(r["subject"], r["body"]) for r in by_label["ham"] + by_label["spam"]]   # ham/ sorts first
    assert len(messages) == len(rows) == 6046
    assert [m.text for m in messages] == expected
    assert not any(m.damaged for m in messages)


@pytest.mark.slow
def test_damaged_copies_of_corpus_mails_never_raise():
    """Every 10th corpus mail, damaged three ways: its boundary gone with Latin-1 bytes, cut at half its bytes,
    and bytes invalid in a declared charset. Each parses; the first and last kinds are counted as damaged."""
    rows = _corpus()[::10]
    for row in rows:
        body = row["body"].encode("latin-1", "replace")
        unsplit = (b"Subject: s\nContent-Type: multipart/mixed\n\n--gone\nContent-Type: text/plain\n\n" + body +
                   b"\n--gone--\n")
        assert parse_email(unsplit).damaged
        whole = _as_mail(row)
        parse_email(whole[:len(whole) // 2])
        wrong = whole.replace(b"charset=utf-8", b"charset=shift_jis").replace(b"\n\n", b"\n\n\xff\xfe ", 1)
        assert "\ufffd" in parse_email(wrong).body and parse_email(wrong).damaged
