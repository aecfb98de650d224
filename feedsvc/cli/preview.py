"""feedsvc preview: signed links to an embargoed release's page for accredited journalists
(issue 17 item 6).

    feedsvc preview RELEASE_ID [--language TAG] [--until ISO] [--to EMAIL ...]
    feedsvc preview revoke RELEASE_ID [--language TAG]
    feedsvc preview list
"""

from __future__ import annotations

import argparse
import sys

from feedsvc.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    local_time,
)
from feedsvc.config import Settings


def _fail(message: str) -> int:
    print(f"feedsvc: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_preview(args: argparse.Namespace, settings: Settings) -> int:
    from feedsvc.clock import SystemClock
    from feedsvc.languages import Languages
    from feedsvc.model import is_release_id
    from feedsvc.previews.desk import PreviewDesk, PreviewRefused
    from feedsvc.sharing.keys import Signer, load_key
    from feedsvc.store import open_store

    words = args.words
    if words == ["list"]:
        return _list(settings)
    action = "revoke" if words[0] == "revoke" else "issue"
    if len(words) != (2 if action == "revoke" else 1):
        return _fail("preview: give one RELEASE_ID (or `revoke RELEASE_ID`, or `list`)")
    release_id = words[-1]
    if not is_release_id(release_id):
        return _fail(f"preview: {release_id!r} is not a release id")
    if action == "revoke" and (args.to or args.until):
        return _fail("preview revoke: --to and --until are for making a link")
    language = Languages(settings.site, settings.languages).get(args.language)
    if language is None:
        return _fail(f"--language: {args.language!r} is not a language of the site")
    bad = _bad_addresses(args.to)
    if bad:
        return _fail(f"--to: {bad!r} is not an email address")
    with open_store(settings) as store:
        desk = PreviewDesk(
            store, Signer(load_key(settings)), SystemClock(), settings.site, settings.languages
        )
        try:
            if action == "revoke":
                cancelled = desk.revoke(release_id, language)
                print(
                    f"preview links of {release_id} revoked; {cancelled} waiting "
                    f"email{'s' if cancelled != 1 else ''} cancelled"
                )
                return EXIT_OK
            issued = desk.issue(release_id, language, args.until, args.to)
        except PreviewRefused as e:
            return _fail(str(e))
    print(issued.link)
    print(f"valid until {local_time(issued.expires, settings)}", file=sys.stderr)
    if args.to:
        print(
            f"{issued.queued} email{'s' if issued.queued != 1 else ''} queued "
            f"({len(args.to) - issued.queued} already sent or queued before)",
            file=sys.stderr,
        )
    return EXIT_OK


def _bad_addresses(addresses: list[str]) -> str | None:
    """The first address no email can go to (checked as the share form checks them)."""
    from email_validator import EmailNotValidError, validate_email

    for address in addresses:
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError:
            return address
    return None


def _list(settings: Settings) -> int:
    from feedsvc.store import open_store

    with open_store(settings) as store:
        waiting = store.releases.scheduled()
    if not waiting:
        print("no release is under embargo")
    for release in waiting:
        print(f"{release.id}  {local_time(release.publish_at, settings)}  {release.title}")
    return EXIT_OK
