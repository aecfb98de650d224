"""A share request as people and programs send it (a form or JSON), checked field by field.

Every problem names its field, and says which kind it is: malformed input (wrong types,
control characters, unknown or missing fields), or well-formed input that is not acceptable
(an invalid address, too many recipients, a message too long). web/ answers them 400 and
422 (issue 13: no HTTP below web/).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from email_validator import EmailNotValidError, validate_email

from feedsvc.config import ShareSettings
from feedsvc.i18n import N_
from feedsvc.sharing.keys import canonical_address
from feedsvc.sharing.links import carries_link

# `language` (issue 15): the release in that language of the site (web/ checks the tag).
FIELDS = ("release", "language", "to", "from_name", "from_email", "message", "token", "website")
NAME_MAX_CHARS = 64
ADDRESS_MAX_CHARS = 254  # RFC 5321 4.5.3.1.3, as a path
_BREAKS = {"\r", "\n", "\x00"}
# What no header may hold (the email channel refuses them too): controls, format characters
# (bidi overrides), and the Unicode line and paragraph separators. A message's own line
# breaks and tabs are allowed. And lone surrogates: JSON may carry "\ud800", which is no
# text that UTF-8 (the database, the email) can hold.
_FORBIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _forbidden(c: str, lines: bool) -> bool:
    if lines and c in "\n\r\t":
        return False
    return unicodedata.category(c) in _FORBIDDEN


class Invalid(enum.Enum):
    """What kind of wrong a request is (every field found wrong is of that kind)."""

    MALFORMED = "malformed"  # not a share request as sent: types, characters, fields
    UNACCEPTABLE = "unacceptable"  # well-formed, but not a share we accept


class ShareInvalid(Exception):
    """`kind`: which kind of wrong; `fields`: field -> what is wrong; `at`: for a list field
    (to), which item (0-based, counting blank items too, as a form's inputs are counted)."""

    def __init__(self, kind: Invalid, fields: dict[str, str], at: dict[str, int] | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.kind = kind
        self.fields = fields
        self.at = at or {}


@dataclass(frozen=True)
class ShareRequest:
    release: str
    to: tuple[str, ...]  # normalised addresses, no duplicates
    from_name: str | None
    from_email: str | None
    message: str | None  # plain text, LF line ends
    token: str
    trapped: bool  # the honeypot field was filled in: a bot
    # Issue 15: as sent, until web/ makes it the configured tag of a language other than
    # the site's own (model.scoped), or None for the site's own.
    language: str | None = None


def parse(raw: Mapping[str, Any], rules: ShareSettings) -> ShareRequest:
    """Check a request; raise ShareInvalid naming every field that is wrong."""
    draft, recipients = _well_formed(raw)
    return _acceptable(draft, recipients, rules)


def _well_formed(raw: Mapping[str, Any]) -> tuple[ShareRequest, list[tuple[int, str]]]:
    """The request as sent (from_email and message not yet normalised, `to` empty) and its
    recipients with their positions; ShareInvalid(MALFORMED) naming every field it cannot be."""
    bad: dict[str, str] = {}
    unknown = sorted(set(raw) - set(FIELDS))
    for name in unknown:
        bad[name] = N_("unknown field")
    release = _text(raw, "release", bad)
    language = _text(raw, "language", bad)
    token = _text(raw, "token", bad)
    from_name = _text(raw, "from_name", bad)
    from_email = _text(raw, "from_email", bad)
    message = _text(raw, "message", bad, lines=True)
    recipients = _targets(raw, bad)
    if release is None and "release" not in bad:
        bad["release"] = N_("missing")
    if token is None and "token" not in bad:
        bad["token"] = N_("missing: fetch one from /api/shares/token")
    if bad:
        raise ShareInvalid(Invalid.MALFORMED, bad)
    draft = ShareRequest(
        release=release,  # type: ignore[arg-type]  # not None: checked above
        to=(),
        from_name=from_name,
        from_email=from_email,
        message=message,
        token=token,  # type: ignore[arg-type]
        trapped=bool(raw.get("website")),
        language=language,
    )
    return draft, recipients


def _targets(raw: Mapping[str, Any], bad: dict[str, str]) -> list[tuple[int, str]]:
    """The `to` field: its addresses with their positions (a form's blank inputs are
    counted, not kept); what is wrong with it into `bad`."""
    targets = raw.get("to")
    if isinstance(targets, str):
        targets = [targets]
    if targets is None:
        bad["to"] = N_("give at least one email address")
    elif not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        bad["to"] = N_("must be a list of email addresses")
    elif any(c in t for t in targets for c in _BREAKS):
        bad["to"] = N_("must not contain line breaks or NUL characters")
    else:
        recipients = [(n, t.strip()) for n, t in enumerate(targets) if t.strip()]
        if not recipients:
            bad["to"] = N_("give at least one email address")
        return recipients
    return []


def _text(
    raw: Mapping[str, Any], name: str, bad: dict[str, str], *, lines: bool = False
) -> str | None:
    """A text field, stripped (None when absent or blank); what is wrong with it into `bad`."""
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        bad[name] = N_("must be a string")
        return None
    if "\x00" in value or (not lines and ("\r" in value or "\n" in value)):
        bad[name] = N_("must not contain line breaks or NUL characters")
        return None
    if not value.isprintable() and any(_forbidden(c, lines) for c in value):
        bad[name] = N_("must not contain control characters or line separators")
        return None
    return value.strip() or None


def _acceptable(
    draft: ShareRequest, recipients: list[tuple[int, str]], rules: ShareSettings
) -> ShareRequest:
    """The request normalised; ShareInvalid(UNACCEPTABLE) naming every field it cannot be."""
    wrong: dict[str, str] = {}
    at: dict[str, int] = {}
    to = _recipients(recipients, rules, wrong, at)
    from_email = None
    if draft.from_email is not None:
        checked = _address(draft.from_email)
        if isinstance(checked, Problem):
            wrong["from_email"] = checked.problem
        else:
            from_email = checked
    if draft.from_name is not None and (problem := _name_problem(draft.from_name)):
        wrong["from_name"] = problem
    message = draft.message
    if message is not None:
        message = message.replace("\r\n", "\n").replace("\r", "\n")
        if len(message) > rules.message_max_chars:
            wrong["message"] = N_(
                "Use at most %(count)d characters.", count=rules.message_max_chars
            )
    if wrong:
        raise ShareInvalid(Invalid.UNACCEPTABLE, wrong, at)
    return replace(draft, to=to, from_email=from_email, message=message)


def _recipients(
    recipients: list[tuple[int, str]],
    rules: ShareSettings,
    wrong: dict[str, str],
    at: dict[str, int],
) -> tuple[str, ...]:
    """The `to` addresses normalised, one a mailbox; the first wrong one into `wrong` and
    its position into `at`."""
    if len(recipients) > rules.max_recipients:
        wrong["to"] = N_("Give at most %(count)d addresses.", count=rules.max_recipients)
        return ()
    normalised: list[str] = []
    mailboxes: set[str] = set()
    for position, address in recipients:
        checked = _address(address)
        if isinstance(checked, Problem):
            wrong["to"] = checked.problem
            at["to"] = position
            break
        # victim@ and victim+1@ are one mailbox: one email, counted once.
        mailbox = canonical_address(checked) if len(recipients) > 1 else ""
        if mailbox not in mailboxes:
            mailboxes.add(mailbox)
            normalised.append(checked)
    return tuple(normalised)


def _name_problem(name: str) -> str | None:
    if len(name) > NAME_MAX_CHARS:
        return N_("Use at most %(count)d characters.", count=NAME_MAX_CHARS)
    if carries_link(name):
        # The name stands in From, the subject and both bodies of an email to a stranger:
        # no link may ride in it (issue 11).
        return N_("Give your name only, without a web or email address.")
    return None


@dataclass(frozen=True)
class Problem:
    problem: str  # why a text is not an email address


def _address(text: str) -> str | Problem:
    """The normalised address, or why it is not one."""
    if len(text) > ADDRESS_MAX_CHARS:
        return Problem(
            N_("%(address)s is longer than an email address can be.", address=_shorten(text))
        )
    try:
        # No DNS in the request path: deliverability is the SMTP server's to judge.
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as e:
        # email_validator says why in English; the sentence before it is translated.
        return Problem(
            N_(
                "%(address)s is not an email address. %(detail)s",
                address=_shorten(text),
                detail=str(e),
            )
        )
    # The ASCII form (Punycode domain): what SMTP without SMTPUTF8 carries. A local part
    # that is not ASCII was refused above (allow_smtputf8=False).
    return checked.ascii_email or checked.normalized


def _shorten(text: str) -> str:
    return "“" + (text if len(text) <= 40 else text[:39] + "…") + "”"
