"""The search page and its OpenSearch description in the URL layout (issue 17 item 1)."""

from __future__ import annotations

from feedsvc import layout
from feedsvc.layout import Localized, OpenSearch, Search


def test_built_and_parsed_in_every_language() -> None:
    for target, rel in (
        (Search(), "search"),
        (OpenSearch(), "opensearch.xml"),
        (Localized("zh", Search()), "zh/search"),
        (Localized("zh", OpenSearch()), "zh/opensearch.xml"),
    ):
        assert layout.path(target) == rel
        assert layout.parse(rel, {"zh"}) == target
    assert layout.route_of("zh/search", {"zh"}) == "/{lang}/search"
    assert layout.route_of("opensearch.xml") == "/opensearch.xml"
    assert layout.parse("search/") is None and layout.parse("search/x") is None


def test_the_query_is_encoded_and_empty_filters_left_out() -> None:
    assert layout.search() == "search"
    built = layout.search('a "b" &c=d', section=None, year=2024, page=2)
    assert built == "search?q=a+%22b%22+%26c%3Dd&year=2024&page=2"
