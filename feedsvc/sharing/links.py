"""What a mail program would turn into a link, in text a stranger wrote.

A share email carries the sharer's name and message to someone who did not ask for it, so
neither may carry a working link (issue 11): a name that holds a web or email address is
refused, and a message's would-be links are broken with a zero-width space, which keeps
the text readable and the link dead.

Detection runs on a folded copy of the text, one character for one, so that positions
found there are positions in the original: NFKC turns full-width forms into ASCII
(`ｗｗｗ．evil．example` is `www.evil.example`), and the ideographic full stops that
IDNA reads as dots count as dots.
"""

from __future__ import annotations

import re
import unicodedata

ZWSP = "\u200b"
_DOTS = {"\u3002": ".", "\uff0e": ".", "\uff61": "."}  # IDNA's label separators
# A scheme (https:, mailto:, javascript:, https:\\ ...): a word, a colon, then no space.
_SCHEME = re.compile(r"(?<![^\W_])[a-z][a-z0-9+.-]{1,31}:(?=[^\s:])")
# A host name: labels of letters and digits (any script) joined by dots, the last one of
# two letters or more: evil.example, evil.example/login, пример.рф.
_LABEL = r"[^\W_](?:[^\W_]|-)*"
_HOST = re.compile(rf"(?<![^\W_-])(?:{_LABEL}\.)+(?!\d+(?:[^\w.-]|$))[^\W\d_]{{2,63}}(?![^\W_])")
_WWW = re.compile(r"www\.")


def fold(text: str) -> str:
    """The text as a link detector reads it, with the same length as `text`."""
    if text.isascii():
        return text.lower()
    out = []
    for c in text:
        if c.isascii():
            out.append(c)
            continue
        c = _DOTS.get(c, c)
        folded = unicodedata.normalize("NFKC", c)
        out.append(folded if len(folded) == 1 else c)
    return "".join(out).lower()


def carries_link(text: str) -> bool:
    """Whether a name holds a web or email address, a scheme, or a host name."""
    folded = fold(text)
    return (
        "@" in folded
        or _SCHEME.search(folded) is not None
        or _WWW.search(folded) is not None
        or _HOST.search(folded) is not None
    )


def defang(text: str) -> str:
    """The text with a zero-width space after every colon of a scheme, inside every
    'www.', and after every dot of a host name: nothing a mail program links."""
    folded = fold(text)
    cuts: set[int] = set()  # positions a ZWSP goes before
    cuts.update(m.end() for m in _SCHEME.finditer(folded))
    cuts.update(m.start() + 1 for m in _WWW.finditer(folded))
    for m in _HOST.finditer(folded):
        cuts.update(m.start() + i + 1 for i, c in enumerate(m.group()) if c == ".")
    if not cuts:
        return text
    pieces, last = [], 0
    for at in sorted(cuts):
        pieces += [text[last:at], ZWSP]
        last = at
    pieces.append(text[last:])
    return "".join(pieces)
