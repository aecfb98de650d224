"""The share desk: a checked request in, emails in the outbox out.

Tokens: a form token signs (release id, issue time, nonce). It is refused before
share.min_fill_seconds (a person takes longer than that to fill a form in), after
share.token_max_age_seconds, and a second time (its nonce is spent in the transaction that
stores the share). A refused token, the honeypot and a bad signature all look the same
from outside: a bot learns nothing about which check it failed.

Writes are grouped: requests arriving together are stored in one transaction by one
writer thread (a group commit, `writer.py`), and each is answered after that commit; the
email a recipient gets is rendered by `letter.py`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import re
import secrets
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any

from feedsvc import layout
from feedsvc.clock import Clock
from feedsvc.config import LanguageSettings, ShareSettings, SiteSettings, WebhookSettings
from feedsvc.model import Outgoing, Release, StoredRelease, is_release_id, scoped, unscoped
from feedsvc.sharing.keys import Signer, address_hash, ip_hash, network_of, new_id
from feedsvc.sharing.letter import Letters, Recipient
from feedsvc.sharing.outcomes import EXPIRED, NO_RELEASE, Reason, Receipt, ShareRefused, refused
from feedsvc.sharing.requests import ShareRequest
from feedsvc.sharing.writer import GroupWriter
from feedsvc.store import Store
from feedsvc.store.shares import PendingShare, Refusal

_REMEMBER_SECONDS = 2.0


def release_key(request: ShareRequest) -> str:
    """The release a request shares: its id in the language web/ checked (issue 15). A
    `release` that is no release id ("abc@zh": a key spelt as an id) names nothing, so a
    translation has one way in, its language, not two."""
    if not is_release_id(request.release):
        return ""
    return scoped(request.release, request.language)


class ShareDesk:
    def __init__(
        self,
        store: Store,
        signer: Signer,
        clock: Clock,
        *,
        rules: ShareSettings,
        site: SiteSettings,
        webhooks: tuple[WebhookSettings, ...] = (),
        languages: Mapping[str, LanguageSettings] | None = None,
    ) -> None:
        self.rules = rules
        self.site = site  # the emails' sender name and links
        self.webhooks = webhooks  # told of each share when they ask for share.created
        self.store = store
        self.shares = store.shares
        self.signer = signer
        self.clock = clock
        # Issue 15: each email in the language of the release shared (Settings.languages).
        self.letters = Letters(site, languages)
        self._writer = GroupWriter(
            lambda batch, now: self.shares.accept(batch, now, self.rules), clock.now
        )
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}  # outcome -> how many, for /metrics
        self._releases: dict[str, tuple[float, StoredRelease | None]] = {}

    # -- tokens ----------------------------------------------------------------------------

    def token(self, key: str, client_ip: str) -> str | None:
        """A fresh form token for a visible release (its key: model.scoped); None for any
        other."""
        found = self.form(key, client_ip)
        return None if found is None else found[1]

    def form(self, key: str, client_ip: str) -> tuple[StoredRelease, str] | None:
        """A visible release and a fresh token for its form, good only from the network
        that asked for it (issue 11: tokens harvested by one machine were spent by the
        browsers of many)."""
        stored = self._visible(key)
        if stored is None:
            return None
        issued = int(self.clock.now().timestamp() * 1000)  # ms: min_fill is in fractions
        payload = f"{key}|{issued}|{secrets.token_hex(8)}|{self._network(client_ip)}"
        return stored, self.signer.sign("share", payload)

    def _network(self, client_ip: str) -> str:
        # A keyed hash: the token shows its bearer nothing about the network.
        return self.signer.digest("network", network_of(client_ip))[:16]

    def sent(self, share_id: str) -> tuple[StoredRelease, int] | None:
        """The release a share was for (in the language shared), and how many addresses it
        went to."""
        found = self.shares.get(share_id)
        if found is None:
            return None
        stored = self.store.releases.get(found[0])
        return None if stored is None else (stored, found[2])

    def _nonce(self, request: ShareRequest, client_ip: str) -> str | None:
        payload = self.signer.unsign("share", request.token)
        if payload is None:
            return None
        parts = payload.rsplit("|", 3)
        if len(parts) != 4 or parts[0] != release_key(request) or not parts[1].isdigit():
            return None
        if not hmac.compare_digest(parts[3], self._network(client_ip)):
            return None  # fetched from another network: refused like an expired token
        age = self.clock.now().timestamp() - int(parts[1]) / 1000
        if not self.rules.min_fill_seconds <= age <= self.rules.token_max_age_seconds:
            return None
        return parts[2]

    # -- shares ----------------------------------------------------------------------------

    def submit(self, request: ShareRequest, client_ip: str) -> Future[Receipt]:
        """Check, compose and queue a share for the writer; the future is resolved after
        the commit (or fails with ShareRefused)."""
        done: Future[Receipt] = Future()
        nonce = self._nonce(request, client_ip)
        if nonce is None:
            self.count("refused_token")
            done.set_exception(ShareRefused(Reason.BAD_TOKEN, EXPIRED))
            return done
        stored = self._visible(release_key(request))
        if stored is None:
            self.count("refused_release")
            done.set_exception(ShareRefused(Reason.UNKNOWN_RELEASE, NO_RELEASE))
            return done
        try:
            pending = self._pending(request, stored, nonce, client_ip)
        except ShareRefused as e:
            self.count("refused_email")
            done.set_exception(e)
            return done
        if request.trapped:
            # The honeypot: stored like a share (it spends its token, counts towards the
            # limits, has a confirmation page) and answered like one; nothing is sent.
            pending = dataclasses.replace(pending, trapped=True, announcements=())
        stored_future: Future[Refusal | None] = Future()

        def settle(f: Future[Refusal | None]) -> None:
            try:
                refusal = f.result()
            except BaseException as e:  # the database failed: the share was not stored
                done.set_exception(e)
                return
            if refusal is None:
                self.count("trapped" if pending.trapped else "accepted")
                done.set_result(Receipt(pending.id, pending.release_id))
            else:
                self.count(f"refused_{refusal.limit or refusal.reason}")
                done.set_exception(refused(refusal))

        stored_future.add_done_callback(settle)
        self._writer.put(pending, stored_future)
        return done

    def share_now(self, request: ShareRequest) -> Receipt:
        """A share by an operator (`feedsvc share`): no form token and no per-client or
        overall limits; the per-recipient limit and the suppression list still hold."""
        stored = self._visible(release_key(request))
        if stored is None:
            raise ShareRefused(Reason.UNKNOWN_RELEASE, f"no published release {request.release!r}")
        pending = self._pending(request, stored, new_id(), "operator", by_operator=True)
        unlimited = 10**9
        rules = dataclasses.replace(
            self.rules,
            per_ip_per_hour=unlimited,
            per_sender_per_day=unlimited,
            global_per_hour=unlimited,
        )
        [refusal] = self.shares.accept([pending], self.clock.now(), rules)
        if refusal is not None:
            raise refused(refusal)
        self.count("accepted")
        return Receipt(pending.id, pending.release_id)

    def _pending(
        self,
        request: ShareRequest,
        stored: StoredRelease,
        nonce: str,
        client_ip: str,
        *,
        by_operator: bool = False,
    ) -> PendingShare:
        share_id = new_id()
        release = stored.release
        return PendingShare(
            id=share_id,
            # The release's key: the store checks that this language's version is visible.
            release_id=release.key,
            nonce=nonce,
            ip_hash=ip_hash(self.signer, client_ip),
            sender_name=request.from_name,
            sender_email=request.from_email,
            sender_hash=address_hash(self.signer, request.from_email)
            if request.from_email
            else None,
            message=request.message,
            emails=self._emails(share_id, request, release, by_operator),
            announcements=self._announcements(share_id, release.id, request),
        )

    def _emails(
        self, share_id: str, request: ShareRequest, release: Release, by_operator: bool
    ) -> list[tuple[str, Outgoing]]:
        """One email a recipient (keyed by the address's hash), each with its own
        unsubscribe link (sharing/letter.py); ShareRefused(UNSENDABLE) when no email can
        carry the release."""
        site = self.site
        link = site.base_url + layout.click(share_id)
        recipients = []
        for address in request.to:
            digest = address_hash(self.signer, address)
            token = self.signer.sign("unsubscribe", digest)
            # The page it leads to speaks the email's language (issue 15).
            unsubscribe = site.base_url + layout.unsubscribe(token, unscoped(release.key)[1])
            recipients.append(Recipient(address, digest, unsubscribe))
        return self.letters.compose(share_id, request, release, link, recipients, by_operator)

    def _announcements(
        self, share_id: str, release_id: str, request: ShareRequest
    ) -> list[Outgoing]:
        now = self.clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
        out = []
        for endpoint in self.webhooks:
            if "share.created" not in endpoint.events:
                continue
            data: dict[str, Any] = {
                "id": share_id,
                "release": release_id,
                "recipients": len(request.to),
            }
            if endpoint.include_recipients:
                data["to"] = list(request.to)
            body = {"type": "share.created", "timestamp": now.replace("+00:00", "Z"), "data": data}
            key = f"share.created {share_id} {endpoint.url}"
            out.append(Outgoing("webhook", endpoint.url, body, key, subject=share_id))
        return out

    def _visible(self, key: str) -> StoredRelease | None:
        """The release, if visible, remembered for a few seconds: a popular release is
        shared many times a second, and the writer checks visibility again in the
        transaction that stores the share (a withdrawal is never missed, only an edit of
        the title can lag a moment behind in an email)."""
        if not is_release_id(unscoped(key)[0]):
            return None  # no release has such an id (and PostgreSQL refuses a NUL in text)
        now = time.monotonic()
        known = self._releases.get(key)
        if known is not None and known[0] > now:
            return known[1]
        stored = self.store.releases.get(key)
        if stored is not None and (stored.seq is None or stored.withdrawn_at is not None):
            stored = None
        if len(self._releases) > 1024:
            self._releases.clear()
        self._releases[key] = (now + _REMEMBER_SECONDS, stored)
        return stored

    def totals(self) -> tuple[int, int]:
        """Shares and click-throughs stored, for /metrics."""
        return self.shares.totals()

    def erase_expired(self, now: dt.datetime) -> tuple[int, int]:
        """Erase what names a person in shares older than share.retention_days (and in
        their ended deliveries); returns (shares, deliveries) erased."""
        return self.shares.erase(
            now - dt.timedelta(days=self.rules.retention_days),
            now - dt.timedelta(seconds=self.rules.token_max_age_seconds),
        )

    def forget(self) -> None:
        """The published set changed: look releases up afresh."""
        self._releases = {}

    def count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    # -- the writer ------------------------------------------------------------------------

    def close(self) -> None:
        """Store what was accepted before, then stop the writer."""
        self._writer.close()

    # -- the recipient's side ----------------------------------------------------------------

    def click(self, share_id: str) -> str | None:
        """Count a click-through; the release it leads to, or None for no such share."""
        return self.shares.click(share_id)

    def unsubscribe(self, token: str) -> bool:
        digest = self.signer.unsign("unsubscribe", token)
        if digest is None or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return False
        self.shares.suppress(digest, self.clock.now())
        return True

    def unsubscribe_token_ok(self, token: str) -> bool:
        return self.signer.unsign("unsubscribe", token) is not None
