"""feedsvc subscribers | alerts: the operator's side of email alerts (issue 16).

The operator is the data controller, but terminals and logs leak: addresses are shown
masked (privacy.masked) unless `--addresses` asks for them. Every command that finds a
person takes their address and looks it up by its keyed hash, as the form does."""

from __future__ import annotations

import argparse
import dataclasses
import json
import secrets
import sys
from typing import Any

from feedsvc.alerts import FORM_VERSION
from feedsvc.alerts.roster import (
    ImportContext,
    Refused,
    checked_address,
    checked_basis,
    checked_language,
    checked_sections,
    read_roster,
)
from feedsvc.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    display,
)
from feedsvc.clock import SystemClock
from feedsvc.config import AlertSettings, Settings
from feedsvc.languages import Languages
from feedsvc.privacy import masked
from feedsvc.sharing.keys import Signer, address_hash, ip_hash, load_key
from feedsvc.store import Store, alert_admin, open_store
from feedsvc.store.subscribers import Subscriber

OPERATOR = "operator"  # the "client" of a request made here: its own limits' bucket
NO_LIMIT = 10**9


def _refused(option: str, e: Refused) -> int:
    print(f"feedsvc: {option}: {e}", file=sys.stderr)
    return EXIT_USAGE


def _address(text: str) -> str | None:
    try:
        return checked_address(text)
    except Refused as e:
        _refused("EMAIL", e)
        return None


def _signer(settings: Settings) -> Signer:
    return Signer(load_key(settings))


def _find(store: Store, settings: Settings, text: str) -> tuple[str, str | None] | None:
    """(the address hash, the subscriber id if one is stored), None for a bad address."""
    address = _address(text)
    if address is None:
        return None
    hashed = address_hash(_signer(settings), address)
    kept = store.subscribers.export(hashed)
    return hashed, None if kept is None else str(kept["id"])


def _line(sub: Subscriber, show: bool) -> str:
    address = sub.address if show or sub.address is None else masked(sub.address)
    sections = " ".join(sub.sections) if sub.sections is not None else "(all)"
    return (
        f"{sub.id}  {sub.status:<12}  {sub.frequency:<9}  {sub.language or '-':<6}  "
        f"{sub.created_at:%Y-%m-%d %H:%M}Z  {address or '(left)'}  {sections}"
    )


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        found = store.subscribers.list(args.status, args.limit)
    for sub in found:
        if args.json:
            kept = dataclasses.asdict(sub)
            if not args.addresses and sub.address is not None:
                kept["address"] = masked(sub.address)
            print(json.dumps(kept, default=str, ensure_ascii=False))
        else:
            print(_line(sub, args.addresses))
    if not found and not args.json:
        print("no subscribers" + (f" {args.status}" if args.status else ""))
    return EXIT_OK


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    address = _address(args.email)
    if address is None:
        return EXIT_USAGE
    languages = Languages(settings.site, settings.languages)
    checks = (
        ("--section", lambda: checked_sections(args.section, settings.alerts)),
        ("--language", lambda: checked_language(args.language or "", languages)),
        ("--confirmed", lambda: None if args.confirmed is None else checked_basis(args.confirmed)),
    )
    given: list[Any] = []
    for option, check in checks:
        try:
            given.append(check())
        except Refused as e:
            return _refused(option, e)
    sections, language, basis = given
    now, signer = SystemClock().now(), _signer(settings)
    hashed = address_hash(signer, address)
    with open_store(settings) as store:
        if basis is not None:
            sid, outcome = alert_admin.add_confirmed(
                store.engine, hashed, address, args.frequency, sections, language, now, basis
            )
            said = {"added": "confirmed (no email sent)"}.get(
                outcome, f"{outcome} already: left as it is"
            )
            print(f"subscriber {sid}: {said}")
            return EXIT_OK
        refused = store.alerts.request(
            address_hash=hashed,
            address=address,
            frequency=args.frequency,
            sections=sections,
            language=language,
            network=OPERATOR,
            ip_hash=ip_hash(signer, OPERATOR),
            nonce=secrets.token_hex(16),  # used_tokens.nonce is String(32)
            now=now,
            rules=_unlimited(settings.alerts),
            form_version=FORM_VERSION,
        )
        kept = store.subscribers.export(hashed)
    if refused is not None or kept is None:
        print(f"feedsvc: not subscribed ({refused})", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"subscriber {kept['id']}: {kept['status']}; {_QUEUED[kept['status']]}")
    return EXIT_OK


def _unlimited(rules: AlertSettings) -> AlertSettings:
    """The form's own path (one transaction: pending, its confirmation email queued), with
    the operator's requests outside the form's limits (they guard against strangers)."""
    return dataclasses.replace(
        rules, per_ip_per_hour=NO_LIMIT, per_address_per_day=NO_LIMIT, global_per_hour=NO_LIMIT
    )


_QUEUED = {
    "pending": "a confirmation email is queued (sent by the running service, or by "
    "`feedsvc outbox dispatch`)",
    "confirmed": "an email with their manage link is queued",
    "suspended": "nothing is sent (suspended after bounces)",
}


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        found = _find(store, settings, args.email)
        if found is None:
            return EXIT_USAGE
        _, sid = found
        left = sid is not None and store.subscribers.unsubscribe(sid, SystemClock().now())
    if sid is None:
        print("feedsvc: no subscriber has that address", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"subscriber {sid}: " + ("unsubscribed" if left else "had left already"))
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        found = _find(store, settings, args.email)
        if found is None:
            return EXIT_USAGE
        hashed, sid = found
        kept = store.subscribers.export(hashed)
        emails = alert_admin.deliveries_of(store.engine, sid) if sid else []
    if kept is None:
        print("feedsvc: nothing is kept about that address", file=sys.stderr)
        return EXIT_PROBLEMS
    print(json.dumps(kept | {"emails": emails}, indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    with open_store(settings) as store:
        found = _find(store, settings, args.email)
        if found is None:
            return EXIT_USAGE
        hashed, _ = found
        was, emails = alert_admin.erase_person(store.engine, hashed)
    if not was:
        print("no subscriber had that address; its subscribe requests (if any) are erased")
        return EXIT_OK
    named = sum(emails.values())
    detail = ", ".join(f"{n} {status}" for status, n in sorted(emails.items()))
    print(
        f"erased: the subscriber and {named} alert email{'s' if named != 1 else ''} naming them"
        + (f" ({detail}; the pending ones will not be sent)" if named else "")
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    shown = display(args.file)
    if not args.file.is_file():
        print(f"feedsvc: {shown}: no such file", file=sys.stderr)
        return EXIT_USAGE
    now = SystemClock().now()
    try:
        basis = None if args.confirmed is None else checked_basis(args.confirmed)
        context = ImportContext(
            _signer(settings),
            Languages(settings.site, settings.languages),
            settings.alerts,
            now,
            basis,
        )
        roster = read_roster(args.file, shown, context)
    except Refused as e:
        print(f"feedsvc: {e}", file=sys.stderr)
        return EXIT_USAGE
    except UnicodeDecodeError as e:
        print(f"feedsvc: {shown}: not UTF-8 text ({e.reason} at byte {e.start})", file=sys.stderr)
        return EXIT_USAGE
    for problem in roster.problems:
        print(f"feedsvc: {problem}", file=sys.stderr)
    with open_store(settings) as store:
        there = alert_admin.known_hashes(store.engine, [r.address_hash for r in roster.rows])
        new = [r for r in roster.rows if r.address_hash not in there]
        added = alert_admin.import_subscribers(store.engine, new, now)
    kept = len(roster.rows) - added + roster.repeated
    print(
        f"{added} imported, {kept} already there (left as they are), {len(roster.problems)} refused"
    )
    return EXIT_PROBLEMS if roster.problems else EXIT_OK


def cmd_digest(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.alerts.digests import DIGEST_FREQUENCIES, run_digest

    now = args.now or SystemClock().now()
    with open_store(settings) as store:
        for frequency in args.frequency or DIGEST_FREQUENCIES:
            run = run_digest(store, frequency, now, settings.alerts, settings.site.tz)
            what = "queued before: nothing done" if run.already else f"{run.queued} queued"
            print(
                f"{frequency} digests for {run.period} (up to {run.until:%Y-%m-%d %H:%M}Z): {what}"
            )
    return EXIT_OK
