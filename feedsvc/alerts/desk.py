"""The subscribe desk (issue 16): a checked subscribe request in, one pending subscription
and its confirmation email (queued by store.alerts.request) out; and the signed links of
the emails: confirm, manage, leave.

Form tokens are the share desk's (sharing/desk.py): a signed "subscribe" payload of the
issue time, a nonce and the client's network, refused before alerts.min_fill_seconds,
after alerts.token_max_age_seconds, from another network, or a second time (its nonce is
spent in the transaction that takes the request). A refused token of any kind and a bad
signature are one refusal, so a bot learns nothing about which check it failed; the
honeypot is answered as a taken request (and nothing is stored or sent).

A request taken is answered alike whatever the address (issue 16: no way to learn who
subscribes): the store does the same work for a new, pending, confirmed or suspended
address in one transaction, and the desk says nothing but "taken"."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Sequence

from feedsvc.alerts import FORM_VERSION
from feedsvc.alerts.requests import Invalid, SubscribeInvalid, SubscribeRequest
from feedsvc.alerts.tokens import confirmed_id, manage_token, managed_id
from feedsvc.clock import Clock
from feedsvc.config import AlertSettings, SiteSettings
from feedsvc.i18n import N_
from feedsvc.languages import Languages
from feedsvc.model import FOLLOWED_TAG, followed_tag
from feedsvc.sharing.keys import Signer, address_hash, ip_hash, network_of
from feedsvc.sharing.outcomes import EXPIRED, Reason, ShareRefused
from feedsvc.store import Store
from feedsvc.store.subscribers import Subscriber

TOO_MANY = N_("too many subscribe requests for now: try again later")
# How long a client waits after a limit: the per-client window is an hour; the overall
# limit frees sooner as the hour rolls on.
_RETRY = {"client": 3600, "global": 300}


class SubscribeDesk:
    def __init__(
        self,
        store: Store,
        signer: Signer,
        clock: Clock,
        *,
        rules: AlertSettings,
        site: SiteSettings,
        languages: Languages | None = None,
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.rules = rules
        self.site = site  # the links' base (web/ builds them with the URL layout)
        self.languages = languages  # the configured languages (web/ checks tags with them)
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {}  # outcome -> how many, for /metrics

    # -- the form ----------------------------------------------------------------------------

    def token(self, client_ip: str) -> str:
        """A fresh form token, good only from the network that asked for it (issue 11:
        tokens harvested by one machine were spent by the browsers of many)."""
        issued = int(self.clock.now().timestamp() * 1000)  # ms: min_fill is in fractions
        payload = f"{issued}|{secrets.token_hex(8)}|{self._network(client_ip)}"
        return self.signer.sign("subscribe", payload)

    def _network(self, client_ip: str) -> str:
        # A keyed hash: the token shows its bearer nothing about the network.
        return self.signer.digest("network", network_of(client_ip))[:16]

    def _nonce(self, token: str, client_ip: str) -> str | None:
        payload = self.signer.unsign("subscribe", token)
        if payload is None:
            return None
        parts = payload.split("|")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        if not hmac.compare_digest(parts[2], self._network(client_ip)):
            return None  # fetched from another network: refused like an expired token
        age = self.clock.now().timestamp() - int(parts[0]) / 1000
        if not self.rules.min_fill_seconds <= age <= self.rules.token_max_age_seconds:
            return None
        return parts[1]

    def sections(self, scope: str | None) -> list[tuple[str, str]]:
        """(slug, name) of the sections a subscriber of that language can follow."""
        return self.store.releases.in_language(scope).sections()

    def followed(self, scope: str | None, chosen: Sequence[str] | None) -> list[tuple[str, str]]:
        """What a subscriber's manage page offers: every section of the language, then
        the tags they follow ("tag:<slug>", name) (issue 17; a site may have thousands of
        tags, so the others are followed from their tag's page)."""
        tags = sorted(t for c in chosen or () if (t := followed_tag(c)) is not None)
        named = self.store.releases.in_language(scope).tags(tags) if tags else []
        return self.sections(scope) + [(FOLLOWED_TAG + slug, name) for slug, name, _ in named]

    def _check_sections(self, scope: str | None, sections: tuple[str, ...] | None) -> None:
        """Only sections and tags the language has (a release of it was published there):
        a slug the site never had would follow nothing, silently."""
        if sections is None:
            return
        tags = {t for s in sections if (t := followed_tag(s)) is not None}
        known = {slug for slug, _ in self.sections(scope)}
        if tags:
            reads = self.store.releases.in_language(scope)
            known |= {FOLLOWED_TAG + slug for slug, _, _ in reads.tags(tags)}
        unknown = [s for s in sections if s not in known]
        if unknown:
            problem = N_("no such section in this language: %(slugs)s", slugs=", ".join(unknown))
            raise SubscribeInvalid(Invalid.UNACCEPTABLE, {"sections": problem})

    def submit(self, request: SubscribeRequest, client_ip: str) -> None:
        """Take a request (`request.language`: the scope, None for the site's own); raise
        SubscribeInvalid for a section the language does not have, ShareRefused for a
        refused token (Reason.BAD_TOKEN) or a limit (Reason.LIMITED, retry_after)."""
        try:
            self._check_sections(request.language, request.sections)
        except SubscribeInvalid:
            self.count("refused_sections")
            raise
        nonce = self._nonce(request.token, client_ip)
        if nonce is None:
            self.count("refused_token")
            raise ShareRefused(Reason.BAD_TOKEN, EXPIRED)
        now = self.clock.now()
        refusal = self.store.alerts.request(
            address_hash=address_hash(self.signer, request.email),
            address=request.email,
            frequency=request.frequency,
            sections=request.sections,
            language=request.language,
            network=network_of(client_ip),
            ip_hash=ip_hash(self.signer, client_ip),
            nonce=nonce,
            now=now,
            rules=self.rules,
            form_version=FORM_VERSION,
            trapped=request.trapped,
        )
        if refusal == "token":
            self.count("refused_token")
            raise ShareRefused(Reason.BAD_TOKEN, EXPIRED)
        if refusal is not None:
            self.count(f"refused_{refusal}")
            raise ShareRefused(Reason.LIMITED, TOO_MANY, _RETRY.get(refusal, 3600))
        self.count("trapped" if request.trapped else "accepted")

    # -- the emails' links ----------------------------------------------------------------------

    def pending(self, token: str) -> Subscriber | None:
        """The subscription a confirmation link names, while the link is good (a GET shows
        this; it never confirms: mail scanners open links)."""
        found = confirmed_id(self.signer, token, self.clock.now(), self.rules.confirm_days)
        subscriber = None if found is None else self.store.subscribers.get(found)
        return subscriber if subscriber and subscriber.status in ("pending", "confirmed") else None

    def confirm(self, token: str) -> Subscriber | None:
        """Confirm the subscription a good confirmation link names (again: no harm)."""
        now = self.clock.now()
        found = confirmed_id(self.signer, token, now, self.rules.confirm_days)
        if found is None or not self.store.subscribers.confirm(found, now):
            return None
        self.count("confirmed")
        return self.store.subscribers.get(found)

    def manage(self, token: str) -> Subscriber | None:
        """The subscription a manage link names, unless it has left."""
        found = managed_id(self.signer, token)
        subscriber = None if found is None else self.store.subscribers.get(found)
        return None if subscriber is None or subscriber.status == "unsubscribed" else subscriber

    def change(
        self, token: str, frequency: str, sections: tuple[str, ...] | None
    ) -> Subscriber | None:
        """How often, and what to follow; None for a link that names no live subscription.
        The sections are checked as a subscribe request's (SubscribeInvalid)."""
        subscriber = self.manage(token)
        if subscriber is None:
            return None
        self._check_sections(subscriber.language, sections)
        if not self.store.subscribers.change(subscriber.id, frequency, sections, self.clock.now()):
            return None
        self.count("changed")
        return self.store.subscribers.get(subscriber.id)

    def leave(self, token: str) -> bool:
        """Unsubscribe (the manage page, RFC 8058 one-click): True for a good link, also
        when it has left already (a second click is answered as the first)."""
        found = managed_id(self.signer, token)
        if found is None or self.store.subscribers.get(found) is None:
            return False
        if self.store.subscribers.unsubscribe(found, self.clock.now()):
            self.count("left")
        return True

    def manage_token(self, subscriber: Subscriber) -> str:
        return manage_token(self.signer, subscriber.id)

    def count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1
