"""A subscribe request as people and programs send it (the form or JSON), checked field by
field (issue 16), as sharing/requests.py checks a share: every problem names its field and
is either malformed (types, characters, unknown or missing fields: 400) or unacceptable
(an invalid address, an unknown frequency, too many sections: 422).

Checked here: the form of each field. Whether a section exists in the language asked for
needs the store: the desk checks that (alerts/desk.py), and raises the same error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feedsvc import layout
from feedsvc.config import AlertSettings
from feedsvc.i18n import N_
from feedsvc.model import followed_tag
from feedsvc.sharing.requests import Invalid, Problem, ShareInvalid, _address, _text

FIELDS = ("email", "frequency", "sections", "language", "token", "website")
FREQUENCIES = ("immediate", "daily", "weekly")


class SubscribeInvalid(ShareInvalid):
    """`kind`: malformed or unacceptable; `fields`: field -> what is wrong (web/ answers it
    as it answers a share request's, web/refusals.INVALID_STATUS)."""


@dataclass(frozen=True)
class SubscribeRequest:
    email: str  # normalised (ASCII domain)
    frequency: str  # one of FREQUENCIES
    sections: tuple[str, ...] | None  # slugs, sorted, no duplicates; None follows everything
    language: str | None  # as sent, until web/ makes it a configured tag's scope
    token: str
    trapped: bool  # the honeypot field was filled in: a bot


def parse(raw: Mapping[str, Any], rules: AlertSettings) -> SubscribeRequest:
    """Check a request; raise SubscribeInvalid naming every field that is wrong."""
    bad: dict[str, str] = {}
    for name in sorted(set(raw) - set(FIELDS)):
        bad[name] = N_("unknown field")
    email = _text(raw, "email", bad)
    frequency = _text(raw, "frequency", bad)
    language = _text(raw, "language", bad)
    token = _text(raw, "token", bad)
    _text(raw, "website", bad)
    sections = _slugs(raw.get("sections"), bad)
    if email is None and "email" not in bad:
        bad["email"] = N_("give your email address")
    if token is None and "token" not in bad:
        bad["token"] = N_("missing: fetch one from /api/subscriptions/token")
    if bad:
        raise SubscribeInvalid(Invalid.MALFORMED, bad)
    wrong: dict[str, str] = {}
    checked = _address(email)  # type: ignore[arg-type]  # not None: checked above
    if isinstance(checked, Problem):
        wrong["email"] = checked.problem
    frequency = frequency or "immediate"
    if frequency not in FREQUENCIES:
        wrong["frequency"] = N_("choose immediate, daily or weekly")
    if sections is not None and len(sections) > rules.max_sections:
        wrong["sections"] = N_("Choose at most %(count)d sections.", count=rules.max_sections)
    if wrong:
        raise SubscribeInvalid(Invalid.UNACCEPTABLE, wrong)
    return SubscribeRequest(
        email=checked,  # type: ignore[arg-type]  # a str: a Problem raised above
        frequency=frequency,
        sections=sections,
        language=language,
        token=token,  # type: ignore[arg-type]
        trapped=bool(raw.get("website")),
    )


def _slugs(value: Any, bad: dict[str, str]) -> tuple[str, ...] | None:
    """`sections`: a list of section slugs (a form's one value is a list of one); absent or
    empty follows everything (None). Each must be a slug the URL layout accepts, so what a
    subscriber follows is always a section page's own name, or (issue 17) "tag:<slug>",
    a tag page's."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        bad["sections"] = N_("must be a list of section slugs")
        return None
    slugs = {v.strip() for v in value if v.strip()}
    if not all(_followable(s) for s in slugs):
        bad["sections"] = N_("must be a list of section slugs")
        return None
    return tuple(sorted(slugs)) or None


def _followable(entry: str) -> bool:
    tag = followed_tag(entry)
    if tag is not None:
        return layout.parse(layout.tag_page(tag)) == layout.TagPage(tag)
    return layout.parse(layout.section(entry)) == layout.SectionPage(entry)
