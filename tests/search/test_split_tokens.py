"""index_text tokenizes a release's body a whitespace-separated piece at a time, each
piece's tokens remembered (issue 18): the stored text must be exactly what tokenizing the
whole text gives, for any text, or stored releases and queries would no longer meet."""

from __future__ import annotations

import random

import pytest

from feedsvc.search import text
from feedsvc.search.text import _joined_tokens, _tokens

# Spaces of several kinds, accents precomposed and combining (one after a space), NFKC's
# ligatures and its diaeresis that becomes a space and a mark, ß and final sigma (casefold
# differs from lower), CJK runs, Arabic with its marks and tatweel, Devanagari vowel signs.
ALPHABET = (
    "aZ _-9.é\u0301\u0308 \u00a0\u3000\t\n\u1680\u2028\u200b"
    "中文日本語한국어\u0627\u0623\u0640\u064b\u0915\u093eΣσςﬁＡ¼¨ǰᾳİß"
)


def test_the_pieces_give_the_tokens_of_the_whole_text() -> None:
    chance = random.Random(18)
    for _ in range(20_000):
        text = "".join(chance.choice(ALPHABET) for _ in range(chance.randint(0, 14)))
        assert _joined_tokens(text) == " ".join(_tokens(text)), repr(text)


def test_the_remembered_pieces_stay_bounded_and_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text of ever new words (a flood, or a corpus of numbers) starts the memory over
    rather than growing it, and every text still gets its own tokens."""
    monkeypatch.setattr(text, "PIECES_KEPT", 10)
    monkeypatch.setattr(text, "_PIECES", text._PieceTokens())
    words = [f"Word{n}é" for n in range(100)]
    for n in range(0, 100, 7):
        piece = " ".join(words[n : n + 7])
        assert _joined_tokens(piece) == " ".join(_tokens(piece))
        assert len(text._PIECES) <= 10
