"""Share requests are checked field by field: malformed is 400, unacceptable is 422."""

from __future__ import annotations

import pytest

from feedsvc.config import ShareSettings
from feedsvc.sharing.requests import Invalid, ShareInvalid, parse

RULES = ShareSettings()
GOOD = {"release": "r1", "to": ["friend@example.org"], "token": "t"}


def refused(**changes: object) -> ShareInvalid:
    raw = {**GOOD, **changes}
    with pytest.raises(ShareInvalid) as caught:
        parse({k: v for k, v in raw.items() if v is not ...}, RULES)
    return caught.value


def test_a_good_request_is_normalised() -> None:
    request = parse(
        {
            **GOOD,
            "to": [" Friend@Example.ORG ", "friend@example.org", "other@example.org", ""],
            "from_name": "  Ana Lima ",
            "from_email": "ana@example.net",
            "message": "Line one\r\nLine two",
        },
        RULES,
    )
    assert request.to == ("Friend@example.org", "other@example.org")
    assert request.from_name == "Ana Lima"
    assert request.message == "Line one\nLine two"
    assert not request.trapped


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("to", ["friend@example.org\r\nBcc: evil@example.org"]),
        ("to", "friend@example.org\nBcc: evil@example.org"),
        ("from_name", "Ana\r\nBcc: evil@example.org"),
        ("from_email", "ana@example.net\nBcc: x@example.org"),
        ("from_name", "Ana\x00"),
        ("message", "hello\x00"),
        ("release", "r1\nX"),
        ("token", "t\r\n"),
    ],
)
def test_line_breaks_and_nul_are_a_400_naming_the_field(field: str, value: object) -> None:
    e = refused(**{field: value})
    assert e.kind is Invalid.MALFORMED and field in e.fields


def test_a_message_may_have_line_breaks_but_no_other_controls() -> None:
    assert parse({**GOOD, "message": "a\nb"}, RULES).message == "a\nb"
    assert refused(message="a\x1bb").fields == {
        "message": "must not contain control characters or line separators"
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": 3}, "to"),
        ({"to": [1]}, "to"),
        ({"to": ...}, "to"),
        ({"to": []}, "to"),
        ({"release": ...}, "release"),
        ({"token": ...}, "token"),
        ({"from_name": 7}, "from_name"),
        ({"bcc": "x@example.org"}, "bcc"),
    ],
)
def test_malformed_fields_are_a_400(changes: dict, field: str) -> None:
    e = refused(**changes)
    assert e.kind is Invalid.MALFORMED and field in e.fields


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": ["not an address"]}, "to"),
        ({"to": ["a@b"]}, "to"),
        ({"to": ["x" * 250 + "@example.org"]}, "to"),
        ({"to": [f"f{n}@example.org" for n in range(4)]}, "to"),
        ({"from_email": "ana@"}, "from_email"),
        ({"from_name": "A" * 65}, "from_name"),
        ({"message": "m" * 501}, "message"),
    ],
)
def test_unacceptable_values_are_a_422_naming_the_field(changes: dict, field: str) -> None:
    e = refused(**changes)
    assert e.kind is Invalid.UNACCEPTABLE and list(e.fields) == [field]


def test_the_honeypot_is_noticed_not_refused() -> None:
    assert parse({**GOOD, "website": "http://spam.example"}, RULES).trapped


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\u202e"])
def test_unicode_line_separators_and_bidi_overrides_are_refused(separator: str) -> None:
    e = refused(from_name=f"Ana{separator}Bcc: x@example.org")
    assert e.kind is Invalid.MALFORMED and "from_name" in e.fields


def test_an_international_domain_is_kept_in_its_ascii_form() -> None:
    request = parse(
        {**GOOD, "to": ["friend@bücher.example"], "from_email": "ana@bücher.example"}, RULES
    )
    assert request.to == ("friend@xn--bcher-kva.example",)
    assert request.from_email == "ana@xn--bcher-kva.example"
    assert (
        refused(to=["zoë@example.org"]).kind is Invalid.UNACCEPTABLE
    )  # no SMTPUTF8: refused, not lost
