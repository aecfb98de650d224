"""The text search indexes and queries (issue 17 item 1), without a database."""

from __future__ import annotations

from feedsvc.search.text import index_text, query_terms


def test_html_is_stripped_and_case_and_accents_folded() -> None:
    text = index_text("Café OPENS", "A summary", "<p>Body &amp; <b>more</b></p>")
    title, body = text.split("\n")
    assert title == "cafe opens"
    assert body == "a summary body more"


def test_a_chinese_run_is_indexed_as_bigrams_and_a_word_query_is_their_phrase() -> None:
    _, body = index_text("", "", "<p>中华人民共和国成立</p>").split("\n")
    assert body.split() == ["中华", "华人", "人民", "民共", "共和", "和国", "国成", "成立"]
    assert query_terms("共和国") == ["共和 和国"]
    assert query_terms("人民") == ["人民"]
    assert query_terms("国") == ["国"]


def test_arabic_diacritics_tatweel_and_alef_forms_are_folded() -> None:
    assert query_terms("أَحْمَد") == query_terms("احمد") == ["احمد"]
    assert query_terms("إمـــارات") == ["امارات"]


def test_query_syntax_is_only_words() -> None:
    assert query_terms('"a" NEAR(b, c) * -d: e & !f \'; DROP TABLE x') == [
        "a",
        "near",
        "b",
        "c",
        "d",
        "e",
        "f",
        "drop",
        "table",
        "x",
    ]
    assert query_terms("\x00 ; ' \" ") == []
