"""Header values of alert emails that the email channel's allow-list takes as they are
(printable ASCII, one line): the list's id (RFC 2919) and one-line subjects."""

from __future__ import annotations

import base64
import re

# C0 and C1 controls, and the line and paragraph separators some mail software splits on:
# in a subject they would end the header (issue 11); they become spaces.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# RFC 5322 atext and spaces: a phrase written as it is.
_PLAIN_PHRASE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")
_MAX_PHRASE = 100  # characters of the site's title kept in the list's name
_WORD_BYTES = 45  # base64 of 45 bytes is 60 characters: an encoded word within 75 (RFC 2047)


def one_line(text: str) -> str:
    """`text` on one line: breaks and controls become spaces, runs of spaces one."""
    return " ".join(_BREAKS.sub(" ", text).split())


def list_id(title: str, domain: str) -> str:
    """`<title> alerts <domain>` (RFC 2919 section 3): the title as a plain phrase, a
    quoted string, or RFC 2047 encoded words when it is not ASCII."""
    name = one_line(f"{title[:_MAX_PHRASE]} alerts")
    if _PLAIN_PHRASE.fullmatch(name):
        phrase = name
    elif name.isascii():
        phrase = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        phrase = " ".join(_encoded_words(name))
    return f"{phrase} <{domain}>"


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 "B" words of at most 75 characters, never splitting a character."""
    words, chunk = [], b""
    for char in text:
        data = char.encode("utf-8")
        if len(chunk) + len(data) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words]
