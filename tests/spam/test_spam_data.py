"""Spam data: e-mail parsing, readers, clear one-line errors, deduplication before a stratified split."""

import gzip
import json
from email.message import EmailMessage

import pytest

from suite.core.errors import DataError
from suite.spam.data import (
    Message,
    SpamDataConfig,
    bundled_corpus_path,
    deduplicate,
    load_messages,
    read_texts,
    split_messages,
)
from suite.spam.mail import html_to_text, parse_email


# -- parsing ----------------------------------------------------------------------------------
def multipart_email(plain: str | None = "plain part") -> bytes:
    message = EmailMessage()
    message["Subject"] = "=?utf-8?b?w5xiZXJyYXNjaHVuZyE=?= =?iso-8859-1?q?gro=DF?= deal"   # "Überraschung!groß deal"
    message["From"] = "=?iso-8859-1?q?Andr=E9?= <andre@example.com>"
    message["X-Spam-Status"] = "Yes, score=9"                  # SpamAssassin's verdict: must never come out
    message["X-Virus-Scanned"] = "clean"
    for hop in ("a", "b", "c"):
        message["Received"] = f"from {hop} by mx"
    html = ("<html><head><style>p {color: red}</style><script>track()</script></head><body>"
            "<p>Buy&nbsp;<b>now</b> &amp; save</p><!-- hidden hash buster --><img src=x alt='FREE GIFT'>"
            "<div>second\n   line</div></body></html>")
    if plain is None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(plain)
        message.add_alternative(html, subtype="html")
    message.add_attachment(b"%PDF-1.4 binary", maintype="application", subtype="pdf", filename="offer.pdf")
    return bytes(message)


def test_multipart_prefers_plain_text_and_decodes_encoded_words():
    parsed = parse_email(multipart_email())
    assert parsed.subject == "Überraschung!groß deal"          # adjacent encoded words join without a space
    assert parsed.body == "plain part"
    assert parsed.headers.splitlines() == ["From: André <andre@example.com>", "Content-Type: multipart/mixed",
                                           "Received-Count: 3"]
    assert parse_email(multipart_email()) == parse_email(multipart_email().decode("ascii"))   # str input too


def test_html_only_mail_is_reduced_to_visible_text():
    parsed = parse_email(multipart_email(plain=None))
    assert parsed.body == "Buy now & save\nFREE GIFT\nsecond line"   # no style, script or comment
    assert html_to_text("<div>a</div><div>b</div><p>c<br>d</p>") == "a\n\nb\n\nc\nd"


def test_declared_and_misdeclared_charsets_are_decoded():
    latin = (b"Subject: =?koi8-r?b?8NLJ18XU?=\nContent-Type: text/plain; charset=iso-8859-1\n\n"
             b"Caf\xe9 cr\xe8me \x93ok\x94")
    assert (parse_email(latin).subject, parse_email(latin).body) == ("Привет", "Café crème \u201cok\u201d")
    chinese = "Content-Type: text/html; charset=gb2312\nSubject: \u4e2d\u6587\n\n<p>\u94fe\u63a5</p>".encode("gbk")
    assert parse_email(chinese).body == "链接"                  # GB2312 read as its superset GB18030
    assert parse_email(chinese).subject == "中文"               # raw 8-bit header read in the body's charset
    mislabeled = "Content-Type: text/plain; charset=iso-8859-1\n\nnaïve €".encode()
    assert parse_email(mislabeled).body == "naïve €"            # valid UTF-8 wins over a Western label


def test_unknown_charset_and_garbage_never_raise():
    unknown = parse_email(b"Subject: =?x-unknown?q?hi=FF?=\nContent-Type: text/plain; charset=no-such\n\nbody \xff")
    assert (unknown.subject, unknown.body) == ("hiÿ", "body ÿ")
    assert parse_email(b"\x00\x01 not an email at all").subject == ""
    broken = parse_email(b"Subject: =?utf-8?b?!!!?=\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent")
    assert (broken.subject, broken.body) == ("", "Content")     # bad base64 and a cut multipart: no exception
    base64_leftover = parse_email(b"Subject: s\n\nhello\n" + b"QUJD" * 19 + b"\nbye")
    assert base64_leftover.body == "hello\nbye"


# -- readers ----------------------------------------------------------------------------------
def table(tmp_path, name, rows, header=("body", "kind")):
    path = tmp_path / name
    if ".csv" in name:
        lines = [",".join(header)] + [f'"{t}",{label}' for t, label in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        with (gzip.open if name.endswith(".gz") else open)(path, "wt", encoding="utf-8") as handle:
            handle.writelines(json.dumps(dict(zip(header, row))) + "\n" for row in rows)
    return path


@pytest.mark.parametrize("name, labels", [("mail.csv", ["SPAM", "ham", "1", "0"]),
                                          ("mail.jsonl", [True, "Ham", 1, 0.0]),
                                          ("mail.jsonl.gz", ["yes", "no", "spam", "false"])])
def test_tables_with_custom_columns_and_labels(tmp_path, name, labels):
    texts = ["cheap pills", "lunch at noon, room 4", "win cash\nnow", "agenda"]
    cfg = SpamDataConfig(source=str(table(tmp_path, name, list(zip(texts, labels)))), text_column="body",
                         label_column="kind")
    assert load_messages(cfg) == [Message(t, label) for t, label in zip(texts, [1, 0, 1, 0])]
    assert load_messages(SpamDataConfig(source=name, text_column="body", label_column="kind"), root=tmp_path) == \
        load_messages(cfg)                                       # a relative source is resolved against root


def test_folder_of_eml_and_mbox_files(tmp_path):
    (tmp_path / "spam_2").mkdir()
    (tmp_path / "easy_ham").mkdir()
    (tmp_path / "spam_2" / "00001.eml").write_bytes(b"Subject: WIN\n\nclaim your prize")
    (tmp_path / "spam_2" / "cmds").write_text("mv 00001 x")         # the original archives' index: skipped
    (tmp_path / "easy_ham" / "box.mbox").write_bytes(
        b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\nfirst\n\nFrom c@d Mon Jan  1 00:00:00 2024\n"
        b"Subject: two\n\nsecond\n")
    messages = load_messages(SpamDataConfig(source=str(tmp_path)))
    assert [(m.text, m.label) for m in messages] == [("one\n\nfirst", 0), ("two\n\nsecond", 0),
                                                     ("WIN\n\nclaim your prize", 1)]
    box = tmp_path / "easy_ham" / "box.mbox"
    read = read_texts(box)
    assert (read.values, read.ids) == (["one\n\nfirst", "two\n\nsecond"], [f"{box}#1", f"{box}#2"])


def write(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("setup, expected", [
    (lambda p: table(p, "m.csv", [("a", "spam")]), "m.csv:2: no column 'text' (columns: body, kind); "
                                                    "set data.text_column"),
    (lambda p: table(p, "m.jsonl", [("a", "spam")], header=("text", "y")), "m.jsonl:1: no column 'label' "
                                                                         "(columns: text, y); set data.label_column"),
    (lambda p: write(p / "m.csv", b"text,label\nok,spam\ncaf\xe9,ham\n"),
     "m.csv: not UTF-8 text at line 3, byte offset 22 (byte 0xe9); save the file as UTF-8"),
    (lambda p: write(p / "m.jsonl", b'{"text": "a", "label": "spam"}\n{oops\n'), "m.jsonl:2: not valid JSON"),
    (lambda p: table(p, "m.csv", [("a", "spam"), ("b", "maybe")], header=("text", "label")),
     "m.csv:3: unknown label 'maybe'; spam labels: spam, 1, true, yes; ham labels: ham, 0, false, no"),
    (lambda p: write(p / "m.xlsx", b"x"), "m.xlsx: unknown format '.xlsx'"),
    (lambda p: p / "absent.csv", "data.source: no such file or folder"),
    (lambda p: write(p / "m.csv", b"text,label\n"), "holds no messages"),
    (lambda p: p, "needs spam/ and ham/ subfolders"),
    (lambda p: write(p / "one.mbox", b""), "holds one class only"),
])
def test_bad_sources_raise_one_line(tmp_path, setup, expected):
    with pytest.raises(DataError) as error:
        load_messages(SpamDataConfig(source=str(setup(tmp_path))))
    assert expected in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("values, expected", [
    ({"test_size": 1.0}, "data.test_size: expected a number in (0, 1), got 1.0"),
    ({"max_examples": 5}, "data.max_examples: expected an integer from 20 to 10**9, got 5"),
    ({"ham_labels": ["ham", "SPAM"]}, "data.ham_labels: expected no value that is also in spam_labels"),
    ({"source": ""}, "data.source: expected a non-empty string, got ''"),
])
def test_config_validation_names_the_field(values, expected):
    from suite.core import config
    from suite.core.errors import RecipeError

    with pytest.raises(RecipeError) as error:
        config.build(SpamDataConfig, values, where="r.yaml", prefix="data.")
    assert expected in str(error.value)
    assert SpamDataConfig(spam_labels=["SPAM", 1, True]).spam_labels == ["spam", "1", "true"]


# -- deduplication and split ------------------------------------------------------------------
def test_one_class_empty_and_too_small_data_are_refused():
    cfg = SpamDataConfig(source="x")
    with pytest.raises(DataError, match=r"only one class \(ham\) is present.*got 0 spam and 50 ham"):
        split_messages([Message(f"m{i}", 0) for i in range(50)], cfg)
    with pytest.raises(DataError, match="too few messages to split"):
        split_messages([Message("a", 0), Message("b", 0), Message("c", 1), Message("d", 1)], cfg)
    with pytest.raises(DataError, match=r"the validation split \(3 messages\) holds no spam"):
        split_messages([Message(f"h{i}", 0) for i in range(26)] + [Message(f"s{i}", 1) for i in range(3)], cfg)


def test_duplicates_go_before_the_split_and_conflicts_are_dropped():
    messages = [Message("same", 1), Message("same", 1), Message("both", 0), Message("x", 0), Message("both", 1),
                Message("  ", 0), Message("hdr A\n\nbody", 1, dedup_key="body"), Message("hdr B\n\nbody", 1,
                                                                                      dedup_key="body")]
    kept, duplicates, conflicting, empty = deduplicate(messages)
    assert kept == [Message("same", 1), Message("x", 0), Message("hdr A\n\nbody", 1)]
    assert (duplicates, conflicting, empty) == (2, 2, 1)
    many = [Message(f"text {i % 40}", int(i % 40 < 15)) for i in range(400)]   # every text ten times
    splits = split_messages(many, SpamDataConfig(source="x"))
    assert splits.duplicates_removed == 360 and len(splits.train) + len(splits.validation) + len(splits.test) == 40
    assert not {m.text for m in splits.train} & {m.text for m in splits.test}


def test_max_examples_is_a_stratified_sample_of_unique_messages():
    messages = [Message(f"ham {i}", 0) for i in range(700)] + [Message(f"spam {i}", 1) for i in range(300)]
    splits = split_messages(messages + messages[:50], SpamDataConfig(source="x", max_examples=200, seed=3))
    parts = splits.train + splits.validation + splits.test
    assert len(parts) == 200 and sum(m.label for m in parts) == 60 and len({m.text for m in parts}) == 200
    assert (len(splits.test), len(splits.validation), splits.duplicates_removed) == (40, 16, 50)
    again = split_messages(messages, SpamDataConfig(source="x", max_examples=200, seed=3))
    assert again.test == splits.test                               # same seed, same split


@pytest.fixture(scope="module")
def corpus():
    return load_messages(SpamDataConfig())


def test_bundled_corpus_counts_and_no_label_leaking_headers(corpus):
    assert len(corpus) == 6046 and sum(m.label for m in corpus) == 1896
    with gzip.open(bundled_corpus_path(), "rt", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle]
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert {r["id"].split("/")[0] for r in records} == {"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}
    names = {line.split(":")[0] for r in records for line in r["headers"].splitlines()}
    assert names <= {"From", "Reply-To", "To", "Date", "X-Mailer", "Content-Type", "Received-Count"}
    assert sum("\ufffd" in r["subject"] + r["body"] for r in records) <= 5   # charsets decoded, not replaced


def test_bundled_corpus_split_is_deduplicated_and_stratified(corpus):
    kept, duplicates, conflicting, empty = deduplicate(corpus)
    assert (len(kept), sum(m.label for m in kept), duplicates, conflicting, empty) == (5916, 1808, 130, 0, 0)
    splits = split_messages(corpus, SpamDataConfig())
    texts = [{m.text for m in part} for part in (splits.train, splits.validation, splits.test)]
    assert not (texts[0] & texts[2]) and not (texts[0] & texts[1]) and not (texts[1] & texts[2])
    assert sum(map(len, texts)) == 5916 and splits.duplicates_removed == 130
    assert len(splits.test) == 1184 and len(splits.validation) == 474
    share = {name: sum(m.label for m in part) / len(part) for name, part in
             (("train", splits.train), ("validation", splits.validation), ("test", splits.test))}
    assert abs(share["train"] - share["test"]) < 0.01 and abs(share["train"] - share["validation"]) < 0.01
    with_headers = load_messages(SpamDataConfig(include_headers=True))
    assert with_headers[0].text.startswith("From: ") and deduplicate(with_headers).duplicates == 130
