"""E-mail parsing for the spam domain: raw RFC 822 bytes -> subject, plain-text body, safe headers.

HTML is reduced to visible text, charsets are decoded (with fallbacks for the labels
that are often wrong), and parsing never raises: a broken message still yields
whatever text it holds. Bytes that do not decode become replacement characters, and a
multipart part whose boundary is missing or wrong is read as text; either marks the
message ``damaged``, which the readers count and report. Only a few sender headers are
kept, never the tagging headers that spam filters add, which would leak the label.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import re
from dataclasses import dataclass
from email.header import decode_header
from email.parser import BytesHeaderParser
from html.parser import HTMLParser

SAFE_HEADERS = ("From", "Reply-To", "To", "Date", "X-Mailer")   # never X-Spam-*, X-Virus-*, Received bodies
_HEADER_MAX = 200                                               # characters kept per header value
_WESTERN = {None, "ascii", "iso8859-1", "cp1252"}               # labels that are often wrong: try UTF-8 first
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "euc_kr": "cp949", "iso8859-1": "cp1252"}
_SPACES = re.compile(r"[^\S\n]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\ufeff]")
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]{60,}={0,2}")
_MIME_LINES = re.compile(r"^(?:--\S*|content-[\w-]+:.*)$", re.IGNORECASE | re.MULTILINE)  # of unsplit parts
_HTML_START = re.compile(r"<html[\s>]|<body[\s>]|<!doctype\s+html", re.IGNORECASE)
_TEXT_FILES = (".txt", ".htm", ".html")
_BLOCK_TAGS = {"br", "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
               "blockquote", "pre", "hr", "title"}


# -- e-mail parsing -------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedEmail:
    subject: str
    body: str
    headers: str  # "Name: value" lines of SAFE_HEADERS, Content-Type and the Received count
    damaged: bool = False  # bytes that did not decode (replacement characters), or a broken MIME structure

    def text(self, *, include_headers: bool = False) -> str:
        return compose(self.subject, self.body, self.headers, include_headers=include_headers)


def parse_email(raw: str | bytes) -> ParsedEmail:
    """Subject, plain-text body and safe headers of one RFC 822 message; never raises.

    The body keeps the text/plain parts that are not attachments; when they hold no text,
    the text/html parts reduced to visible text; failing that, text attachments. Parts are
    walked with ``policy.default``, falling back to ``compat32``, then to the raw text.
    Charsets are decoded robustly (see :func:`decode_bytes`); whitespace is collapsed and
    undecoded base64 lines dropped. Headers come from a lenient header-only parse, with
    encoded words decoded and raw 8-bit bytes read in the body's charset. A multipart part
    whose boundary is missing or wrong is read as plain text without its MIME lines. The
    result is ``damaged`` where bytes had to be replaced or the structure was broken.

    Args:
        raw: the message as bytes (best) or as already-decoded text.
    """
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else bytes(raw)
    body, charsets, damage = None, [], []
    for policy in (email.policy.default, email.policy.compat32):
        try:
            body = _body(email.message_from_bytes(data, policy=policy), charsets, damage)
            break
        except Exception:  # noqa: BLE001 - try the lenient policy, then the raw text
            charsets.clear()
            damage.clear()
    if body is None:                   # no policy could walk it: its raw text
        text, replaced = _decode(data)
        body, damage = _clean(text), ["unparsed"] + (["replaced"] if replaced else [])
    subject = headers = ""
    try:
        head = BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
        hint = head.get_content_charset() or next(iter(charsets), None)   # for raw 8-bit header bytes
        subject = _header_text(head.get("Subject"), hint, damage)
        headers = _safe_headers(head, hint, damage)
    except Exception:  # noqa: BLE001 - headers malformed beyond repair: keep what was read
        damage.append("headers")
    return ParsedEmail(_squash(subject), body, headers, damaged=bool(damage))


def _body(message, charsets: list[str], damage: list[str]) -> str:
    """Inline text/plain parts; else inline text/html as text; else text attachments (.txt/.htm). A multipart
    part that was never split (its boundary missing or wrong) counts as plain text; ``damage`` says why a part
    was not read cleanly."""
    tiers: dict[str, list[str]] = {"plain": [], "html": [], "attached": []}
    for part in message.walk():
        kind, name = part.get_content_type(), (part.get_filename() or "").lower()
        unsplit = kind.startswith("multipart/") and not part.is_multipart()
        if part.is_multipart() or not (unsplit or kind in ("text/plain", "text/html") or name.endswith(_TEXT_FILES)):
            continue
        charsets += [part.get_content_charset()] if part.get_content_charset() else []
        text, replaced = _decode(part.get_payload(decode=True) or b"", None if unsplit else part.get_content_charset())
        damage += ["replaced"] * replaced + ["unsplit"] * unsplit
        text = _MIME_LINES.sub("", text) if unsplit else text
        is_html = kind == "text/html" or name.endswith((".htm", ".html")) or _HTML_START.search(text[:2000])
        tier = "attached" if name or part.get_content_disposition() == "attachment" else \
            "html" if kind == "text/html" else "plain"
        tiers[tier].append(html_to_text(text) if is_html else _clean(text))
    chosen = next((texts for texts in tiers.values() if any(texts)), [])
    return "\n\n".join(t for t in chosen if t)


def _safe_headers(head, hint: str | None, damage: list[str]) -> str:
    lines = [f"{name}: {_header_text(head.get(name), hint, damage)[:_HEADER_MAX]}" for name in SAFE_HEADERS
             if head.get(name)]
    kind, charset = head.get_content_type(), head.get_content_charset()
    lines.append(f"Content-Type: {kind}" + (f"; charset={charset}" if charset else ""))
    lines.append(f"Received-Count: {len(head.get_all('Received') or [])}")
    return "\n".join(lines)


def _header_text(value, hint: str | None = None, damage: list[str] | None = None) -> str:
    """Decode a raw header value: encoded words, and raw 8-bit bytes as the ``hint`` charset (the body's);
    a value whose bytes had to be replaced adds to ``damage``."""
    if value is None:
        return ""
    try:
        chunks = decode_header(value)
    except Exception:  # noqa: BLE001 - broken encoded word: keep the raw text
        chunks = [(str(value), None)]
    out = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        if charset in (None, "unknown-8bit"):   # no encoded word: ASCII, or raw 8-bit bytes in the body's charset
            charset = "ascii" if chunk.isascii() else hint
        text, replaced = _decode(chunk, charset)
        out.append(text)
        if replaced and damage is not None:
            damage.append("header")
    return _squash("".join(out))


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode text bytes, trusting the declared charset only as far as it deserves.

    Missing, unknown or Western (ASCII, Latin-1, Windows-1252) labels: UTF-8 if the bytes
    are valid UTF-8, else Windows-1252, else Latin-1 (never fails). Any other known
    charset: that charset, else UTF-8, else that charset with replacement characters.
    GB2312/GBK are read as GB18030, EUC-KR as CP949 (their supersets, as mailers meant).
    """
    return _decode(data, charset)[0]


def _decode(data: bytes, charset: str | None = None) -> tuple[str, bool]:
    """:func:`decode_bytes`, and whether any byte had to become a replacement character."""
    try:
        codec = codecs.lookup(str(charset).strip().strip("\"'").lower()).name if charset else None
    except (LookupError, ValueError, TypeError):   # an unknown or malformed charset name
        codec = None
    codec = _SUPERSETS.get(codec, codec)
    order = ("utf-8", "cp1252", "latin-1") if codec in _WESTERN else (codec, "utf-8")
    for name in order:
        try:
            return data.decode(name), False
        except (UnicodeError, LookupError):   # LookupError: a codec that is not a text encoding
            continue
    try:
        return data.decode(codec, errors="replace"), True
    except (UnicodeError, LookupError):
        return data.decode("latin-1"), False


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)   # entities are unescaped; comments never reach handle_data
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "img" and not self.skip:   # alt text shows where images are blocked
            self.parts.append(" " + next((v for k, v in attrs if k == "alt" and v), "") + " ")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:   # source line breaks are just spaces; lines come from block elements
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """Visible text of an HTML document: script, style and comments dropped, entities decoded, img alt kept.

    Block elements (p, div, br, tr, li, headings...) become line breaks; whitespace is
    collapsed within lines and runs of blank lines shrink to one.
    """
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient; keep whatever it collected
        pass
    return _clean("".join(extractor.parts))


def _clean(text: str) -> str:
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if not _BASE64_LINE.fullmatch(line))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", _CONTROL.sub("", text)).strip()


def compose(subject: str, body: str, headers: str = "", *, include_headers: bool = False) -> str:
    """The model's input text for one message: [headers, blank line,] subject, blank line, body."""
    text = f"{subject}\n\n{body}".strip()
    return f"{headers}\n\n{text}" if include_headers and headers else text
