"""HTTP for email alerts (issue 16): the subscribe form and JSON API, and the pages the
emails' signed links lead to. Nothing here is cached by anyone.

    GET  api/subscriptions/token[?language=TAG] -> 200 {"token", "min_fill_seconds", "expires_in"}
    POST api/subscriptions (application/json)   -> 202 {"status"}, whatever the address
    GET  alerts/             (zh/alerts/ ...)   -> the subscribe page, in the path's language
    POST alerts/             (form)             -> 303 alerts/?sent=1 | the form again
    GET  alerts/confirm?t=   -> a Confirm button (a GET never confirms: mail scanners open
                                links);  POST confirms -> "you are subscribed", manage link
    GET  alerts/manage?t=    -> how often, what to follow, or leave;  POST saves
    GET  alerts/unsubscribe?t= -> a button;  POST unsubscribes (RFC 8058 one-click: the body
                                is List-Unsubscribe=One-Click; no cookie, no page needed)

The guards are the share form's (web/share.py): a cross-site POST is refused (web/origin.py),
bodies are bounded, the database out of reach is a 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib.resources import files
from typing import Any, TypeVar
from urllib.parse import parse_qs

from feedsvc import layout
from feedsvc.alerts.desk import SubscribeDesk
from feedsvc.alerts.requests import FREQUENCIES, SubscribeRequest, parse
from feedsvc.config import AlertSettings, LanguageSettings, SiteSettings
from feedsvc.i18n import N_
from feedsvc.languages import Language, Languages
from feedsvc.publishing.pages import Pages
from feedsvc.sharing.outcomes import Reason, ShareRefused
from feedsvc.sharing.requests import Invalid, ShareInvalid
from feedsvc.store.outage import OUTAGES, is_unreachable
from feedsvc.web import answers
from feedsvc.web.alert_pages import AlertPages
from feedsvc.web.answers import LATER, PRIVATE
from feedsvc.web.asgi import Answer, Receive, Scope, Send, TooLarge, header, read_body, respond
from feedsvc.web.clients import Clients
from feedsvc.web.origin import cross_site, site_origin
from feedsvc.web.refusals import (
    GARBLED,
    INVALID_STATUS,
    NO_LANGUAGE,
    NOT_FROM_PAGE,
    REFUSED_STATUS,
    TOO_MUCH_FORM,
    retry_after,
)

MAX_BODY = 16 * 1024
_API = layout.Api("subscriptions").route
_TOKEN = layout.Api("subscriptions/token").route
AGAIN = N_("To keep this form from being used for spam, please check it and press Subscribe again.")
LIMITED = N_("Too many subscribe requests have been sent from here for now. Please try later.")
UNAVAILABLE = N_("The request could not be stored just now: please try again in a moment.")
T = TypeVar("T")
log = logging.getLogger("feedsvc.alerts")


class AlertRoutes:
    def __init__(
        self,
        desk: SubscribeDesk,
        pages: Pages,
        clients: Clients,
        *,
        rules: AlertSettings,
        site: SiteSettings,
        languages: Mapping[str, LanguageSettings] | None = None,
        openapi: bool = False,
    ) -> None:
        self.desk = desk
        # The API's description, when the share routes (which serve it) are off.
        self._openapi = (
            files("feedsvc").joinpath("static/openapi.json").read_bytes() if openapi else None
        )
        self.rules = rules
        self.languages = Languages(site, languages)
        self.said = AlertPages(pages, self.languages, rules)
        self.clients = clients  # the limits and tokens key on the address it decides
        self.origin = site_origin(site.base_url)

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        """Answer an alerts route, or None when `rel` is not one."""
        tag, target = layout.split(layout.parse(rel, self.languages.prefixed))
        reading = method in ("GET", "HEAD")
        match target:
            case layout.Api("subscriptions"):
                if method != "POST":
                    return await answers.not_allowed(send, b"POST")
                if cross_site(scope, self.origin) is not None:
                    why = f"subscribe requests are accepted only from pages of {self.origin}"
                    return await answers.json_answer(send, 403, _error(why, {}), _API)
                return await self._api_subscribe(scope, receive, send)
            case layout.Api("subscriptions/token"):
                if not reading:
                    return await answers.not_allowed(send, b"GET, HEAD")
                return await self._api_token(scope, send, method)
            case layout.Api("openapi.json") if reading and self._openapi is not None:
                headers = [
                    (b"content-type", b"application/json"),
                    (b"cache-control", b"public, max-age=3600"),
                ]
                route = layout.Api("openapi.json").route
                return await respond(send, 200, headers, self._openapi, method, route)
            case layout.AlertPage(page):
                # Only ever a configured language: the tag in the path is never echoed as sent.
                language = self.languages.get(tag) or self.languages.default
                if not reading and method != "POST":
                    return await answers.not_allowed(send, b"GET, HEAD, POST")
                return await self._page(scope, receive, send, method, page, language)
        return None

    # -- the JSON API ----------------------------------------------------------------------------

    async def _api_token(self, scope: Scope, send: Send, method: str) -> Answer:
        tag = _query(scope, "language") or None
        if self.said.language(tag) is None:
            return await answers.json_answer(
                send, 400, _error("check the fields", {"language": NO_LANGUAGE}), _TOKEN
            )
        token = self.desk.token(self.clients.address(scope))
        body = {
            "token": token,
            "min_fill_seconds": self.rules.min_fill_seconds,
            "expires_in": self.rules.token_max_age_seconds,
        }
        return await answers.json_answer(send, 200, body, _TOKEN, method)

    async def _api_subscribe(self, scope: Scope, receive: Receive, send: Send) -> Answer:
        route = _API
        ctype = header(scope, b"content-type").split(";")[0].strip().lower()
        if ctype != "application/json":
            return await answers.json_answer(send, 415, _error("send application/json", {}), route)
        try:
            data = json.loads(await read_body(scope, receive, MAX_BODY))
        except TooLarge:
            return await answers.json_answer(
                send, 413, _error(f"at most {MAX_BODY} bytes", {}), route
            )
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            return await answers.json_answer(
                send, 400, _error(f"not valid JSON: {type(e).__name__}", {}), route
            )
        if not isinstance(data, dict):
            return await answers.json_answer(send, 400, _error("send a JSON object", {}), route)
        try:
            request = self._in_language(parse(data, self.rules))
            await self._run(self.desk.submit, request, self.clients.address(scope))
        except ShareInvalid as e:
            body = _error("check the fields", e.fields)
            return await answers.json_answer(send, INVALID_STATUS[e.kind], body, route)
        except ShareRefused as e:
            fields = {"token": str(e)} if e.reason is Reason.BAD_TOKEN else {}
            status, extra = REFUSED_STATUS[e.reason], retry_after(e)
            return await answers.json_answer(
                send, status, _error(str(e), fields), route, headers=extra
            )
        except Exception as e:  # the database is locked or down: nothing was stored
            _not_stored(e)
            body = _error("the request could not be stored just now: try again in a moment", {})
            return await answers.json_answer(send, 503, body, route, headers=LATER)
        # The same answer whatever the address (issue 16: no way to learn who subscribes).
        return await answers.json_answer(send, 202, {"status": "check your inbox"}, route)

    def _in_language(self, request: SubscribeRequest) -> SubscribeRequest:
        """`language` a configured tag's scope: a tag the site does not publish in is a
        field error, never passed on (issue 15)."""
        language = self.said.language(request.language)
        if language is None:
            raise ShareInvalid(Invalid.UNACCEPTABLE, {"language": NO_LANGUAGE})
        return replace(request, language=language.scope)

    # -- the pages ---------------------------------------------------------------------------------

    async def _page(
        self, scope: Scope, receive: Receive, send: Send, method: str, page: str, lang: Language
    ) -> Answer:
        route = layout.AlertPage(page).route
        body = b""
        if method == "POST":
            # One-click unsubscribe is posted by mail providers' servers (RFC 8058), and its
            # token is the guard; every other form only from the site's own pages.
            if page != "unsubscribe" and cross_site(scope, self.origin) is not None:
                why = N_("this form is accepted only from pages of %(site)s", site=self.origin)
                return await answers.html(send, 403, self.said.problem(lang, why), route)
            try:
                body = await read_body(scope, receive, MAX_BODY)
            except TooLarge:
                return await answers.html(send, 413, self.said.problem(lang, TOO_MUCH_FORM), route)
        token = _query(scope, "t")
        if page == "":
            if method == "POST":
                return await self._subscribe_post(scope, send, body, lang)
            sent = _query(scope, "sent") == "1"
            html = await self._subscribe_page(scope, lang, {}, {}, None, sent)
            return await answers.html(send, 200, html, route, method)
        if page == "manage":
            return await self._manage(send, method, token, body, lang)
        if page == "confirm":
            return await self._confirm(send, method, token, lang)
        return await self._unsubscribe(send, method, token, lang)

    async def _confirm(self, send: Send, method: str, token: str, lang: Language) -> Answer:
        route = layout.AlertPage("confirm").route
        if method == "POST":
            found = await self._run(self.desk.confirm, token)
            manage = None if found is None else self.desk.manage_token(found)
            html = self.said.confirm(lang, "bad" if found is None else "done", "", manage)
            return await answers.html(send, 400 if found is None else 200, html, route)
        ok = await self._run(self.desk.pending, token) is not None
        html = self.said.confirm(lang, "ask" if ok else "bad", token)
        return await answers.html(send, 200 if ok else 400, html, route, method)

    async def _unsubscribe(self, send: Send, method: str, token: str, lang: Language) -> Answer:
        route = layout.AlertPage("unsubscribe").route
        if method == "POST":  # RFC 8058 one-click: whatever else the body says
            done = await self._run(self.desk.leave, token)
            html = self.said.unsubscribe(lang, "done" if done else "bad", "")
            return await answers.html(send, 200 if done else 400, html, route)
        ok = await self._run(self.desk.manage, token) is not None
        html = self.said.unsubscribe(lang, "ask" if ok else "bad", token)
        return await answers.html(send, 200 if ok else 400, html, route, method)

    async def _subscribe_page(
        self,
        scope: Scope,
        lang: Language,
        values: Mapping[str, Any],
        errors: Mapping[str, Any],
        notice: str | None,
        sent: bool = False,
    ) -> bytes:
        sections = await self._run(self.desk.sections, lang.scope)
        token = "" if sent else self.desk.token(self.clients.address(scope))
        return self.said.subscribe(lang, sections, token, values, errors, notice, sent)

    async def _subscribe_post(
        self, scope: Scope, send: Send, body: bytes, lang: Language
    ) -> Answer:
        route = layout.AlertPage("").route
        if header(scope, b"content-type").split(";")[0].strip().lower() != (
            "application/x-www-form-urlencoded"
        ):
            return await answers.html(send, 415, self.said.problem(lang, NOT_FROM_PAGE), route)
        values = _form(body, self.rules)
        if values is None:
            return await answers.html(send, 400, self.said.problem(lang, GARBLED), route)
        values["language"] = lang.tag  # the language of the path, whatever the body says
        try:
            request = self._in_language(parse(values, self.rules))
            await self._run(self.desk.submit, request, self.clients.address(scope))
        except ShareInvalid as e:
            if set(e.fields) == {"token"}:  # no JavaScript: the form again, with a token
                return await self._again(scope, send, lang, values, {}, AGAIN, 200)
            return await self._again(
                scope, send, lang, values, e.fields, None, INVALID_STATUS[e.kind]
            )
        except ShareRefused as e:
            notice = LIMITED if e.reason is Reason.LIMITED else AGAIN
            status = REFUSED_STATUS[e.reason]
            return await self._again(scope, send, lang, values, {}, notice, status, retry_after(e))
        except Exception as e:  # the database is locked or down: nothing was stored
            _not_stored(e)
            return await answers.html(
                send, 503, self.said.problem(lang, UNAVAILABLE), route, headers=LATER
            )
        location = lang.site.base_path + layout.alerts() + "?sent=1"
        headers = [(b"location", location.encode()), (b"content-length", b"0"), *PRIVATE]
        return await respond(send, 303, headers, b"", "POST", route)

    async def _again(
        self,
        scope: Scope,
        send: Send,
        lang: Language,
        values: Mapping[str, Any],
        errors: Mapping[str, Any],
        notice: str | None,
        status: int,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> Answer:
        html = await self._subscribe_page(scope, lang, values, errors, notice)
        return await answers.html(send, status, html, layout.AlertPage("").route, headers=extra)

    async def _manage(
        self, send: Send, method: str, token: str, body: bytes, lang: Language
    ) -> Answer:
        route = layout.AlertPage("manage").route
        subscriber = await self._run(self.desk.manage, token)
        if subscriber is None:
            html = self.said.manage(lang, None, token, ())
            return await answers.html(send, 400, html, route, method)
        # The sections, and the tags they follow (issue 17).
        sections = await self._run(self.desk.followed, subscriber.language, subscriber.sections)
        if method != "POST":
            html = self.said.manage(lang, subscriber, token, sections)
            return await answers.html(send, 200, html, route, method)
        values = _form(body, self.rules) or {}
        frequency = values.get("frequency") or subscriber.frequency
        chosen = tuple(sorted({s for s in values.get("sections", []) if s})) or None
        errors: dict[str, Any] = {}
        if frequency not in FREQUENCIES:
            errors["frequency"] = N_("choose immediate, daily or weekly")
        else:
            try:
                changed = await self._run(self.desk.change, token, frequency, chosen)
                subscriber = changed or subscriber
            except ShareInvalid as e:
                errors = dict(e.fields)
        status = 422 if errors else 200
        html = self.said.manage(lang, subscriber, token, sections, errors, saved=not errors)
        return await answers.html(send, status, html, route)

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        """The desk asks the database: off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, call, *args)


def _form(body: bytes, rules: AlertSettings) -> dict[str, Any] | None:
    """A form's fields (`sections` a list, every other field its first value); None for a
    body that is no form."""
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=2 * rules.max_sections + 10
        )
    except (UnicodeDecodeError, ValueError):
        return None
    values: dict[str, Any] = {k: v[0] for k, v in fields.items() if k != "sections"}
    values["sections"] = fields.get("sections", [])
    return values


def _query(scope: Scope, name: str) -> str:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get(name) or [""])[0]


def _not_stored(error: Exception) -> None:
    if is_unreachable(error):
        OUTAGES.failed(error, "answering 503")
    else:
        log.exception("a subscribe request could not be stored")


def _error(message: str, fields: Mapping[str, str]) -> dict[str, Any]:
    return {"error": str(message), "fields": {k: str(v) for k, v in fields.items()}}
