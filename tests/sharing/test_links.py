"""Links in what a stranger wrote (issue 11): a name that carries one is refused, a
message's are broken so that no mail program makes them clickable."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.sharing.links import ZWSP, carries_link, defang, fold

LINKS = [
    "https://evil.example/login Claim your prize",
    "http://evil.example",
    "https:\\\\evil.example",
    "evil.example/login",
    "see evil.example",
    "mailto:x@evil.example",
    "javascript:alert(1)",
    "ａｎａ@evil.example",
    "ｗｗｗ．evil．example",
    "www.evil.example",
    "ＷＷＷ.EVIL.EXAMPLE",
    "evil。example",  # IDNA reads an ideographic full stop as a dot
    "пример.рф",
    "ana@example",
    "ftp://x",
]
NAMES = ["Ana", "Zoë Müller", "J. Smith", "Anne-Marie O'Neil", "王小明", "Dr. Ana María", "R2-D2"]


@pytest.mark.parametrize("name", LINKS)
def test_a_name_with_a_link_is_caught(name: str) -> None:
    assert carries_link(name)


@pytest.mark.parametrize("name", NAMES)
def test_a_plain_name_is_not(name: str) -> None:
    assert not carries_link(name)


# What a linkifier looks for, on the folded text: a scheme with its colon, www., a host.
LINKABLE = re.compile(
    r"[a-z][a-z0-9+.-]*:[^\s\u200b]|www\.|[^\W_]+\.[^\W\d_]{2,}",
)


@pytest.mark.parametrize("text", LINKS)
def test_a_defanged_message_has_nothing_to_link(text: str) -> None:
    out = defang(text)
    assert out.replace(ZWSP, "") == text  # the words are all there
    assert LINKABLE.search(fold(out)) is None, repr(out)


def test_plain_words_are_left_alone() -> None:
    for text in ["Worth a read, 3.14 at 10:30.", "J. Smith", "第一段，第二段"]:
        assert defang(text) == text


@given(st.text(max_size=200))
def test_defang_only_adds_invisible_spaces(text: str) -> None:
    out = defang(text)
    assert out.replace(ZWSP, "") == text.replace(ZWSP, "") or ZWSP in text
    assert len(fold(text)) == len(text)
