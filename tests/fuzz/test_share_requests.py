"""`sharing.requests.parse` on whatever a client can send as JSON: a ShareRequest safe to put
in email headers, or a ShareInvalid (400 or 422) naming the fields, and nothing else."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from feedsvc.channels.email import Letterhead, compose
from feedsvc.config import ShareSettings, settings_from_dict
from feedsvc.sharing.requests import (
    ADDRESS_MAX_CHARS,
    FIELDS,
    NAME_MAX_CHARS,
    Invalid,
    ShareInvalid,
    parse,
)
from feedsvc.sharing.requests import ShareRequest as Request
from tests.channels.smtp_server import make_delivery
from tests.fuzz import fuzz, mostly

RULES = ShareSettings()
MAIL = Letterhead.of(
    settings_from_dict({"site": {"id_authority": "press.example.org"}}, root=Path("."))
)

# JSON as json.loads gives it: NaN and Infinity (Python's json reads them) and lone surrogates
# ("\ud800" is valid JSON, and not text that can be stored or sent) included.
any_characters = st.characters(codec=None, exclude_categories=())
json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(any_characters, max_size=30)
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.one_of(st.sampled_from(FIELDS), st.text(max_size=12))
any_object = st.dictionaries(field_names, json_values, max_size=9)

# Characters that have smuggled headers or confused mail software, and the rest of Unicode.
HOSTILE = (
    "\r\n\x00\u2028\u2029\u0085\t\x0b\x0c\x1b\x7f\u00a0\u200b\u200e\u202e\ufeff\ufffe\ud800\udfff"
)
HOSTILE += '<>",;:@\\ '
hostile_text = st.text(st.one_of(st.sampled_from(HOSTILE), any_characters), max_size=40)
LOCALS = ["friend", "Friend.Name", "a+tag", "o'brien", "zoë", '"quoted"', "a..b", ".a", "x" * 64]
LOCALS += ["x" * 65, "a b", ""]
DOMAINS = ["example.org", "EXAMPLE.ORG", "bücher.example", "xn--bcher-kva.example", "straße.de"]
DOMAINS += [
    "例え.jp",
    "münchen.de",
    "localhost",
    "[127.0.0.1]",
    "example.org.",
    "-a.org",
    "a_b.org",
]
DOMAINS += [
    "ex\u200bample.org",
    "example",
    "a.b.c.d.e.f.g.h.example.org",
    ("a" * 63 + ".") * 4 + "org",
]


good_addresses = st.one_of(
    st.emails(),
    st.builds("{}@{}".format, st.sampled_from(LOCALS[:5]), st.sampled_from(DOMAINS[:5])),
)
bad_addresses = st.one_of(
    st.builds(
        lambda local, domain, around: around.replace("X", f"{local}@{domain}"),
        st.one_of(st.sampled_from(LOCALS), hostile_text),
        st.one_of(st.sampled_from(DOMAINS), hostile_text),
        st.sampled_from(["X", " X ", "Name <X>", "X\r\nBcc: evil@example.org", "X, o@example.org"]),
    ),
    hostile_text,
)
addresses = mostly(good_addresses, bad_addresses)
field_objects = st.fixed_dictionaries(
    {
        "release": mostly(
            st.sampled_from(["r1", " 2020-09-11-x "]), st.one_of(hostile_text, json_values)
        ),
        "to": mostly(
            st.one_of(st.lists(addresses, min_size=1, max_size=4), addresses),
            st.one_of(st.lists(json_values, max_size=2), json_values),
        ),
        "token": mostly(st.just("t.0.abc"), st.one_of(hostile_text, json_values)),
    },
    optional={
        "from_name": mostly(
            st.just("Ana Lima"), st.one_of(hostile_text, st.text(min_size=60, max_size=70))
        ),
        "from_email": mostly(good_addresses, st.one_of(bad_addresses, json_values)),
        "message": mostly(
            st.text(max_size=40),
            st.one_of(hostile_text, st.text(min_size=490, max_size=520), json_values),
        ),
        "website": st.one_of(st.just(""), hostile_text, json_values),
    },
)
objects = st.one_of(any_object, field_objects)


def one_line(text: str) -> bool:
    """No control or format characters, line separators or lone surrogates (which no
    database stores and no mail carries)."""
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in text)


def check(raw: Mapping[str, Any]) -> Request | ShareInvalid:
    try:
        request = parse(raw, RULES)
    except ShareInvalid as e:
        event(f"ShareInvalid {e.kind.value}")
        check_refusal(e, raw)
        return e
    event("ShareRequest")
    check_request(request)
    return request


def check_refusal(e: ShareInvalid, raw: Mapping[str, Any]) -> None:
    assert isinstance(e.kind, Invalid)
    assert e.fields, "a refusal names at least one field"
    unknown = set(raw) - set(FIELDS)
    for name, problem in e.fields.items():
        assert name in FIELDS or name in unknown, name
        assert isinstance(problem, str) and problem.strip()
    if e.kind is Invalid.MALFORMED:
        assert unknown <= set(e.fields)  # every unknown field named
    if "to" in e.at:
        targets = raw["to"] if isinstance(raw["to"], list) else [raw["to"]]
        assert 0 <= e.at["to"] < len(targets)
    assert set(e.at) <= set(e.fields)


def check_request(request: Request) -> None:
    for text in (request.release, request.token, request.from_name, request.from_email):
        if text is not None:
            assert text and text == text.strip() and one_line(text), text
    assert request.from_name is None or len(request.from_name) <= NAME_MAX_CHARS
    if request.message is not None:
        assert len(request.message) <= RULES.message_max_chars
        assert "\r" not in request.message and "\x00" not in request.message
        assert one_line(request.message.replace("\n", "").replace("\t", ""))
    assert 1 <= len(request.to) <= RULES.max_recipients
    assert len({a.lower() for a in request.to}) == len(request.to)
    for address in (*request.to, *filter(None, [request.from_email])):
        assert len(address) <= ADDRESS_MAX_CHARS and address.isascii(), address
        assert address.count("@") == 1 and one_line(address) and " " not in address
    # What parse accepts, the email channel sends: never a share whose emails die on compose.
    for address in request.to:
        compose(make_delivery(to=address, reply_to=request.from_email), MAIL)
    if request.from_name is not None:
        compose(make_delivery(from_name=request.from_name), MAIL)


@fuzz()
@given(raw=objects)
def test_any_json_object(raw: dict[str, Any]) -> None:
    check(raw)


@fuzz()
@given(raw=field_objects)
def test_an_accepted_request_reads_back_the_same(raw: dict[str, Any]) -> None:
    """Normalising is done once: the normalised request, sent again, comes back unchanged."""
    request = check(raw)
    if isinstance(request, Request):
        again = {
            "release": request.release,
            "to": list(request.to),
            "from_name": request.from_name,
            "from_email": request.from_email,
            "message": request.message,
            "token": request.token,
        }
        assert parse(again, RULES) == Request(**{**request.__dict__, "trapped": False})


@fuzz(0.5)
@given(
    local=st.sampled_from(["friend", "a.b", "x+y"]),
    label=st.text(
        st.characters(min_codepoint=0xC0, max_codepoint=0x24F, categories=("Ll",)),
        min_size=1,
        max_size=10,
    ),
)
def test_an_international_domain_becomes_punycode(local: str, label: str) -> None:
    result = check({"release": "r1", "token": "t", "to": [f"{local}@{label}.example"]})
    if isinstance(result, Request):
        [address] = result.to
        domain = address.split("@")[1]
        # Unless the name folds to ASCII anyway (U+01C9 is "lj"): Punycode.
        assert domain.startswith("xn--") or unicodedata.normalize("NFKC", label).isascii()


@fuzz(0.25)
@given(
    field=st.sampled_from(["release", "token", "from_name", "from_email", "message", "to"]),
    before=st.text(max_size=10),
    surrogate=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, codec=None),
    after=st.text(max_size=10),
)
def test_a_lone_surrogate_is_refused_in_any_field(
    field: str, before: str, surrogate: str, after: str
) -> None:
    """JSON may carry "\\ud800"; no database stores it and no mail carries it."""
    raw: dict[str, Any] = {"release": "r1", "to": ["friend@example.org"], "token": "t"}
    value = before + surrogate + after
    raw[field] = [value] if field == "to" else value
    result = check(raw)
    assert isinstance(result, ShareInvalid) and field in result.fields
