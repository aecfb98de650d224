"""Subscribers as the operator gives them (issue 16): one address and its choices checked
for `feedsvc subscribers add`, or a CSV file of them for `feedsvc subscribers import`.

An import needs a consent for each row: the row's own `consent` column (when it was
given, or "yes"), or the basis the operator states for the whole file (`--confirmed`);
a row with neither is refused, never guessed. Bad rows are reported with file:line and
why; the others are imported."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from email_validator import EmailNotValidError, validate_email

from feedsvc.config import AlertSettings
from feedsvc.languages import Languages
from feedsvc.model import followed_tag, slugify
from feedsvc.sharing.keys import Signer, address_hash
from feedsvc.store.alert_admin import NewSubscriber
from feedsvc.store.subscribers import FREQUENCIES

ADDRESS_MAX_CHARS = 254  # RFC 5321 §4.5.3.1.3: a path is at most 256 octets with <>
COLUMNS = ("email", "frequency", "sections", "language", "consent")
MAX_ROW_CHARS = 10_000  # a row longer than this is no subscriber


class Refused(ValueError):
    """A value the operator gave that is not one: the message says why."""


def checked_address(text: str) -> str:
    """The address as it will be mailed (the ASCII form of its domain), or Refused."""
    text = text.strip()
    if len(text) > ADDRESS_MAX_CHARS:
        raise Refused(f"longer than an email address can be ({ADDRESS_MAX_CHARS} characters)")
    try:
        # No DNS: deliverability is the relay's to judge. No SMTPUTF8, as the share form:
        # the address goes into RCPT TO and a To header unchanged. The validator refuses
        # CR, LF and every other character that could start a header (injection).
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as e:
        raise Refused(f"{text!r} is not an email address: {e}") from None
    return checked.ascii_email or checked.normalized


def checked_frequency(text: str) -> str:
    value = text.strip().lower() or "immediate"
    if value not in FREQUENCIES:
        raise Refused(f"{text!r}: expected one of {', '.join(FREQUENCIES)}")
    return value


def checked_sections(slugs: Sequence[str], rules: AlertSettings) -> tuple[str, ...] | None:
    """Section slugs and "tag:<slug>" (issue 17) (none: every section), each as the site
    writes slugs."""
    kept = tuple(dict.fromkeys(s.strip() for s in slugs if s.strip()))
    if not kept:
        return None
    if len(kept) > rules.max_sections:
        raise Refused(f"{len(kept)} sections; alerts.max_sections is {rules.max_sections}")
    for entry in kept:
        slug = followed_tag(entry) or entry
        if slugify(slug) != slug:
            raise Refused(
                f"{slug!r} is not a section slug (the site would write {slugify(slug)!r})"
            )
    return kept


def checked_language(tag: str, languages: Languages) -> str | None:
    """The store's scope of a language of the site (None: the site's own)."""
    if not tag.strip():
        return None
    found = languages.get(tag.strip())
    if found is None:
        raise Refused(f"{tag!r} is not a language of the site ({', '.join(languages.tags)})")
    return found.scope


def checked_basis(text: str) -> str:
    basis = " ".join(text.split())
    if not basis:
        raise Refused("say on what basis these addresses agreed to be mailed")
    if len(basis) > BASIS_CHARS:
        raise Refused(f"at most {BASIS_CHARS} characters; say it shorter")
    return basis


BASIS_CHARS = 500  # the consent record's note (subscribers.consent_note): a sentence


def consent_moment(text: str, now: dt.datetime) -> dt.datetime:
    """The consent column: "yes" (given, when unknown: the import is the moment we learn
    of it) or when it was given, an ISO date or time (one without a zone is UTC)."""
    if text.strip().lower() == "yes":
        return now
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise Refused(f"{text!r}: expected 'yes' or when consent was given (ISO 8601)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if moment > now:
        raise Refused(f"{text!r} is in the future")
    return moment.astimezone(dt.UTC)


@dataclass
class Roster:
    rows: list[NewSubscriber] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "file:line: why"
    repeated: int = 0  # rows of an address an earlier row of the file already gave


@dataclass(frozen=True)
class ImportContext:
    signer: Signer
    languages: Languages
    rules: AlertSettings
    now: dt.datetime
    basis: str | None  # --confirmed: the basis of rows without a consent of their own


def read_roster(path: Path, shown: str, context: ImportContext) -> Roster:
    """Every row of the CSV file, checked; `shown` names the file in the problems."""
    roster, seen = Roster(), set[str]()
    with open(path, encoding="utf-8-sig", newline="") as file:
        for line, values in _records(file, shown):
            try:
                row = _subscriber(values, context)
            except Refused as e:
                roster.problems.append(f"{shown}:{line}: {e}")
                continue
            if row.address_hash in seen:
                roster.repeated += 1
                continue
            seen.add(row.address_hash)
            roster.rows.append(row)
    return roster


def _records(file: TextIO, shown: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, the row's columns) of each data row; the header names the columns (a bad
    header refuses the whole file: no row could be read right)."""
    reader = csv.reader(file)
    header = next(reader, None)
    if header is None:
        return
    names = [name.strip().lower() for name in header]
    expected = f"expected a header of {', '.join(COLUMNS)} (email required)"
    if "email" not in names:
        raise Refused(f"{shown}:1: no 'email' column; {expected}")
    odd = [n for n in names if n not in COLUMNS] + [n for n in set(names) if names.count(n) > 1]
    if odd:
        raise Refused(f"{shown}:1: unknown or repeated column(s) {', '.join(odd)}; {expected}")
    while True:
        line = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield line, {"": f"not CSV: {e}"}
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names) or sum(map(len, values)) > MAX_ROW_CHARS:
            yield line, {"": f"{len(values)} columns, the header has {len(names)}"}
            continue
        yield line, dict(zip(names, values, strict=True))


def _subscriber(values: dict[str, str], context: ImportContext) -> NewSubscriber:
    if "" in values:
        raise Refused(values[""])
    address = checked_address(values.get("email", ""))
    consent = values.get("consent", "").strip()
    if consent:
        consent_at = consent_moment(consent, context.now)
        basis, form = "import-consent-column", "csv consent column"
    elif context.basis is not None:
        consent_at, basis, form = context.now, "operator-confirmed", context.basis
    else:
        raise Refused("no consent: give the consent column, or --confirmed BASIS for the file")
    return NewSubscriber(
        address_hash=address_hash(context.signer, address),
        address=address,
        frequency=checked_frequency(values.get("frequency", "")),
        sections=checked_sections(values.get("sections", "").split(), context.rules),
        language=checked_language(values.get("language", ""), context.languages),
        consent_at=consent_at,
        consent_basis=basis,
        consent_form=form,
    )
