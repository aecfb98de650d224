"""What search indexes and what a query asks, made alike (issue 17 item 1).

Neither SQLite's unicode61 tokenizer nor PostgreSQL's 'simple' configuration splits
Chinese or Japanese into words, folds Arabic spelling variants, or strips accents the same
way. So the text is normalized here, once, and both databases only split it at spaces:
HTML stripped, NFKC, case folded, Latin/Greek/Cyrillic accents and Arabic diacritics,
tatweel and alef forms folded; a run of CJK ideographs, kana or hangul written as its
overlapping character pairs (bigrams: a two-character word in the middle of a sentence is
one of them; a lone character stays itself), other text as words. A query goes through the
same steps: a Chinese word of several characters becomes the phrase of its bigrams.

The stored form is two lines, the title's terms then the summary's and body's, so the
databases can rank a title match above a body-only one.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["MAX_TERMS", "index_text", "query_terms", "terms"]

MAX_TERMS = 32  # a query's terms beyond this add nothing but work

_TAG = re.compile(r"<[^>]*>")
# Latin, Greek, Cyrillic combining accents (after NFD), Arabic harakat, dagger alef,
# Quranic marks, and tatweel: none of them changes which word it is.
_MARKS = re.compile("[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# After NFD the hamza and madda of أ إ آ are marks, dropped above; alef wasla is a letter.
_ALEF = re.compile("[\u0622\u0623\u0625\u0671]")  # -> \u0627 (a regex: str.translate
# with a dict costs a lookup a character, most of a release's indexing)
# Scripts written without spaces between words: CJK ideographs (and extension A,
# compatibility), hiragana, katakana, bopomofo, hangul syllables.
_CJK = "\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
# A word: letters and digits (not '_'), and the vowel signs of Indic and Thai scripts,
# which are marks but part of their word; found between the CJK runs (split off first, so
# no per-character look-ahead: issue 17's first import made this per release's cost).
_CJK_RUN = re.compile(f"([{_CJK}]+)")
_WORD = re.compile("[\\w\u0900-\u0dff\u0e00-\u0eff]+")  # in text whose '_' are spaces
_ASCII_WORD = re.compile("[a-z0-9]+")  # a word once ASCII text is lower-cased


def _normalize(text: str) -> str:
    if text.isascii():  # NFKC leaves ASCII as it is, and casefold is lower()
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii():
        return text
    # NFD so accents are marks of their own, dropped, then composed again for hangul etc.
    text = _MARKS.sub("", unicodedata.normalize("NFD", text))
    return _ALEF.sub("\u0627", unicodedata.normalize("NFC", text))


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def terms(text: str) -> list[list[str]]:
    """Plain `text` as groups of index tokens: a word is a group of one, a CJK run the
    group of its bigrams (a phrase when asked for)."""
    text = _normalize(text)
    if text.isascii():
        return [[word] for word in _ASCII_WORD.findall(text)]
    found: list[list[str]] = []
    text = text.replace("_", " ")  # '_' is no letter (\w has it)
    for i, part in enumerate(_CJK_RUN.split(text)):  # text, run, text, run ... text
        if i % 2:
            found.append(_bigrams(part))
        else:
            found.extend([word] for word in _WORD.findall(part))
    return found


def _tokens(text: str) -> list[str]:
    """terms(text), flat: what the index stores."""
    text = _normalize(text)
    if text.isascii():
        return _ASCII_WORD.findall(text)
    found: list[str] = []
    for i, part in enumerate(_CJK_RUN.split(text.replace("_", " "))):
        found.extend(_bigrams(part) if i % 2 else _WORD.findall(part))
    return found


class _PieceTokens(dict[str, str]):
    """A whitespace-separated piece of text -> its tokens joined by spaces ('' for none),
    made on first sight and kept: prose says the same few thousand words again and again,
    which a first import tokenized anew in every release (issue 18). At most PIECES_KEPT
    (~4 MiB); a text of ever new words starts it over."""

    def __missing__(self, piece: str) -> str:
        if len(self) >= PIECES_KEPT:
            self.clear()
        joined = self[piece] = " ".join(_tokens(piece))
        return joined


PIECES_KEPT = 1 << 14
_PIECES = _PieceTokens()


def _joined_tokens(text: str) -> str:
    """`" ".join(_tokens(text))`, made a piece at a time: no token, CJK run or
    normalization step spans whitespace, so the pieces' tokens are the text's. Split,
    looked up, filtered and joined in C: a remembered word costs a dict lookup, not a
    Python call (issue 18)."""
    return " ".join(filter(None, map(_PIECES.__getitem__, text.split())))


def _plain(html_text: str) -> str:
    return html.unescape(_TAG.sub(" ", html_text))


def index_text(title: str, summary: str, body_html: str) -> str:
    """The stored search text of a release: the title's tokens, a newline, the summary's
    and body's tokens, each separated by one space."""
    body = f"{summary} {_plain(body_html)}"
    return " ".join(_tokens(title)) + "\n" + _joined_tokens(body)


def query_terms(q: str) -> list[str]:
    """What a release must contain, each a space-separated phrase of index tokens (one
    token for a word): all of them, in any order. Never query syntax: the store quotes
    each (FTS5) or hands it to phraseto_tsquery (PostgreSQL) as a bound value."""
    seen: dict[str, None] = {}
    for group in terms(q):
        seen.setdefault(" ".join(group))
    return list(seen)[:MAX_TERMS]
