"""HTTP for "Suggest To A Friend": the form, the JSON API, the confirmation and
click-through, and one-click unsubscribe. Nothing here is cached by anyone.

    GET  api/shares/token?release=ID     -> 200 {"token", "min_fill_seconds", "expires_in"}
    POST api/shares   (application/json) -> 202 {"id"}
    GET  api/openapi.json                -> the API described (OpenAPI 3.1)
    GET  releases/ID/share               -> the form on a page of its own (zh/releases/ID/share:
                                            the release in that language, issue 15)
    POST releases/ID/share (form)        -> 303 shares/SHARE/ | the form again, with errors
    GET  shares/SHARE/                   -> "your suggestion is on its way"
    GET  s/SHARE                         -> 303 to the release (a click-through, counted)
    GET  unsubscribe?t=TOKEN             -> a page asking to confirm
    POST unsubscribe?t=TOKEN             -> the address gets no more email (RFC 8058)
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs

from feedsvc import layout
from feedsvc.config import LanguageSettings, ShareSettings, SiteSettings
from feedsvc.i18n import Message
from feedsvc.languages import Languages
from feedsvc.model import is_release_id, scoped, unscoped
from feedsvc.publishing.pages import Pages
from feedsvc.sharing.desk import Reason, ShareDesk, ShareRefused
from feedsvc.sharing.requests import ShareInvalid, parse
from feedsvc.store.outage import OUTAGES, is_unreachable
from feedsvc.web.answers import LATER, PRIVATE, html, json_answer, not_allowed
from feedsvc.web.asgi import Answer, Receive, Scope, Send, TooLarge, header, read_body, respond
from feedsvc.web.clients import Clients
from feedsvc.web.origin import cross_site, site_origin
from feedsvc.web.refusals import (
    AGAIN,
    GARBLED,
    INVALID_STATUS,
    LIMITED,
    NO_LANGUAGE,
    NOT_FROM_PAGE,
    REFUSED_STATUS,
    TOO_MUCH,
    TOO_MUCH_FORM,
    UNAVAILABLE,
    UNAVAILABLE_API,
    retry_after,
)
from feedsvc.web.share_pages import ShareForm, SharePages

MAX_BODY = 16 * 1024
# The access log's and /metrics' labels of these routes, from the URL layout.
_SHARES = layout.Api("shares").route
_TOKEN = layout.Api("shares/token").route
_OPENAPI = layout.Api("openapi.json").route
_FORM = layout.ShareForm.route
_SENT = layout.ShareSent.route
_CLICK = layout.Click.route
_NO_SUCH_API = layout.Api("").route  # one label for every path under api/ not answered


class ShareRoutes:
    def __init__(
        self,
        desk: ShareDesk,
        pages: Pages,
        clients: Clients,
        *,
        rules: ShareSettings,
        site: SiteSettings,
        languages: Mapping[str, LanguageSettings] | None = None,
    ) -> None:
        self.rules = rules
        self.desk = desk
        self.pages = pages
        # Issue 15: the form, its errors and the confirmation in each language of the site,
        # with the one compiled environment of `pages`.
        self.languages = Languages(site, languages)
        self.said = SharePages(pages, self.languages, rules)
        self.base_path = site.base_path
        self.clients = clients  # the limits and tokens key on the address it decides
        self.origin = site_origin(site.base_url)
        self._openapi = files("feedsvc").joinpath("static/openapi.json").read_bytes()

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        """Answer a share route, or None when `rel` is not one."""
        reading = method in ("GET", "HEAD")
        tag, target = layout.split(layout.parse(rel, self.languages.prefixed))
        if tag is not None and not isinstance(target, layout.ShareForm):
            return None  # another document of a language: not a share route
        # Only ever a configured language: the tag in the path is never echoed as sent.
        language = self.languages.get(tag) or self.languages.default
        match target:
            case layout.Api("shares") if method == "POST":
                if (why := self._cross_site(scope)) is not None:
                    return await json_answer(send, 403, {"error": why}, _SHARES)
                return await self._api_share(scope, receive, send)
            case layout.Api("shares/token") if reading:
                return await self._api_token(scope, send, method)
            case layout.Api("openapi.json") if reading:
                headers = [
                    (b"content-type", b"application/json"),
                    (b"cache-control", b"public, max-age=3600"),
                ]
                return await respond(send, 200, headers, self._openapi, method, _OPENAPI)
            case layout.Api("shares"):
                return await not_allowed(send, b"POST")
            case layout.Api("shares/token"):
                return await not_allowed(send, b"GET, HEAD")
            case layout.Api():
                return await json_answer(send, 404, {"error": "no such API"}, _NO_SUCH_API)
            case layout.Unsubscribe():
                return await self._unsubscribe_route(scope, receive, send, method)
            case layout.ShareForm(release_id):
                form = ShareForm(release_id, language)
                if method == "POST":
                    if (why := self._cross_site(scope)) is not None:
                        page = self.said.problem(language, why)
                        return await html(send, 403, page, _FORM)
                    return await self._form_share(scope, receive, send, form)
                if reading:
                    return await self._form_page(scope, send, method, form)
                return await not_allowed(send, b"GET, HEAD, POST")
            case layout.ShareSent(share_id) if reading:
                return await self._sent_page(send, method, share_id)
            # Only a GET counts: a HEAD is a link checker, not a reader.
            case layout.Click(share_id) if method == "GET":
                return await self._click(send, method, share_id)
        return None

    # -- the JSON API ------------------------------------------------------------------------

    async def _api_token(self, scope: Scope, send: Send, method: str) -> Answer:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        release = (query.get("release") or [""])[0]
        if not release:
            return await json_answer(
                send, 400, _error("release is missing", {"release": "missing"}), _TOKEN
            )
        language = self.said.language((query.get("language") or [None])[0])
        if language is None:
            body = _error("check the fields", {"language": NO_LANGUAGE})
            return await json_answer(send, 400, body, _TOKEN)
        # An id, never a key spelt as one ("abc@zh"): a translation has one way in.
        key = scoped(release, language.scope) if is_release_id(release) else ""
        loop = asyncio.get_running_loop()
        token = await loop.run_in_executor(None, self.desk.token, key, self._client(scope))
        if token is None:
            return await json_answer(send, 404, {"error": "no such release"}, _TOKEN)
        rules = self.rules
        body = {
            "token": token,
            "min_fill_seconds": rules.min_fill_seconds,
            "expires_in": rules.token_max_age_seconds,
        }
        return await json_answer(send, 200, body, _TOKEN, method)

    async def _api_share(self, scope: Scope, receive: Receive, send: Send) -> Answer:
        route = _SHARES
        ctype = header(scope, b"content-type").split(";")[0].strip().lower()
        if ctype != "application/json":
            return await json_answer(send, 415, {"error": "send application/json"}, route)
        try:
            raw = await read_body(scope, receive, MAX_BODY)
        except TooLarge:
            return await json_answer(send, 413, {"error": f"at most {MAX_BODY} bytes"}, route)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            return await json_answer(send, 400, {"error": f"not valid JSON: {e}"}, route)
        except RecursionError:  # 15,000 '[' fit in the body limit (issue 11)
            return await json_answer(
                send, 400, {"error": "not valid JSON: nested too deeply"}, route
            )
        if not isinstance(data, dict):
            return await json_answer(send, 400, {"error": "send a JSON object"}, route)
        try:
            request = self.said.in_language(parse(data, self.rules))
            receipt = await asyncio.wrap_future(self.desk.submit(request, self._client(scope)))
        except ShareInvalid as e:
            status = INVALID_STATUS[e.kind]
            return await json_answer(send, status, _error("check the fields", e.fields), route)
        except ShareRefused as e:
            status = REFUSED_STATUS[e.reason]
            body = {"error": str(e)} if e.field is None else _error(str(e), {e.field: str(e)})
            return await json_answer(send, status, body, route, headers=retry_after(e))
        except Exception as e:  # the database is locked or down: nothing was stored
            _not_stored(e)
            body = {"error": UNAVAILABLE_API}
            return await json_answer(send, 503, body, route, headers=LATER)
        return await json_answer(send, 202, {"id": receipt.id}, route)

    # -- the form ------------------------------------------------------------------------------

    async def _form_page(self, scope: Scope, send: Send, method: str, form: ShareForm) -> Answer:
        page = await self._render_form(scope, form, {}, {}, None)
        if page is None:
            return await html(send, 404, self.said.missing(form.language), _FORM, method)
        return await html(send, 200, page, _FORM, method)

    async def _form_share(
        self, scope: Scope, receive: Receive, send: Send, form: ShareForm
    ) -> Answer:
        route, language = _FORM, form.language
        ctype = header(scope, b"content-type").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return await html(send, 415, self.said.problem(language, NOT_FROM_PAGE), route)
        try:
            raw = await read_body(scope, receive, MAX_BODY)
        except TooLarge:
            return await html(send, 413, self.said.problem(language, TOO_MUCH_FORM), route)
        try:
            fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            return await html(send, 400, self.said.problem(language, GARBLED), route)
        values: dict[str, Any] = {k: v[0] for k, v in fields.items() if k != "to"}
        values["to"] = fields.get("to", [])
        # The release and its language come from the path, whatever the body says.
        values["release"] = form.release_id
        values["language"] = language.scope
        try:
            request = parse(values, self.rules)
            receipt = await asyncio.wrap_future(self.desk.submit(request, self._client(scope)))
        except ShareInvalid as e:
            if set(e.fields) == {"token"}:  # no JavaScript: the form again, with a token
                return await self._form_again(scope, send, form, values, {}, AGAIN, 200)
            errors: dict[str, Any] = dict(e.fields)
            errors["to@"] = e.at.get("to", 0)  # which of the address inputs is wrong
            status = INVALID_STATUS[e.kind]
            return await self._form_again(scope, send, form, values, errors, None, status)
        except ShareRefused as e:
            status = REFUSED_STATUS[e.reason]
            if e.reason is Reason.UNKNOWN_RELEASE:
                return await html(send, status, self.said.missing(language), route)
            # A bad token: the form again, with a fresh one (as when no token was sent).
            notice = {Reason.LIMITED: LIMITED, Reason.UNSENDABLE: str(e)}.get(e.reason, AGAIN)
            extra = retry_after(e)
            return await self._form_again(scope, send, form, values, {}, notice, status, extra)
        except Exception as e:  # the database is locked or down: nothing was stored
            _not_stored(e)
            page = self.said.problem(language, UNAVAILABLE)
            return await html(send, 503, page, route, headers=LATER)
        location = self.base_path + layout.share_sent(receipt.id)
        headers = [(b"location", location.encode()), (b"content-length", b"0")]
        return await respond(send, 303, headers, b"", "POST", route)

    async def _form_again(
        self,
        scope: Scope,
        send: Send,
        form: ShareForm,
        values: dict[str, Any],
        errors: dict[str, Any],
        notice: str | None,
        status: int,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> Answer:
        page = await self._render_form(scope, form, values, errors, notice)
        if page is None:
            return await html(send, 404, self.said.missing(form.language), _FORM)
        return await html(send, status, page, _FORM, headers=extra)

    async def _render_form(
        self,
        scope: Scope,
        form: ShareForm,
        values: dict[str, Any],
        errors: dict[str, Any],
        notice: str | None,
    ) -> bytes | None:
        loop = asyncio.get_running_loop()
        key = form.key
        found = await loop.run_in_executor(None, self.desk.form, key, self._client(scope))
        if found is None:
            return None
        stored, token = found
        return self.said.form(form.language, stored, token, values, errors, notice)

    async def _sent_page(self, send: Send, method: str, share_id: str) -> Answer:
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, self.desk.sent, share_id)
        if found is None:
            return await html(send, 404, self.said.missing(), _SENT, method)
        page = self.said.sent(*found)  # in the language of the release shared (issue 15)
        return await html(send, 200, page, _SENT, method)

    async def _click(self, send: Send, method: str, share_id: str) -> Answer:
        loop = asyncio.get_running_loop()
        key = await loop.run_in_executor(None, self.desk.click, share_id)
        if key is None:
            return await html(send, 404, self.said.missing(), _CLICK, method)
        self.desk.count("clicked")
        release_id, scope = unscoped(key)
        # The release in the language shared: its page under that language's folder.
        location = self.base_path + self.said.of_scope(scope).prefix + layout.release(release_id)
        headers = [(b"location", location.encode()), (b"content-length", b"0"), *PRIVATE]
        return await respond(send, 303, headers, b"", method, _CLICK)

    # -- unsubscribe ---------------------------------------------------------------------------

    async def _unsubscribe_route(
        self, scope: Scope, receive: Receive, send: Send, method: str
    ) -> Answer:
        route = layout.Unsubscribe.route
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("t") or [""])[0]
        # The email's language (issue 15): only ever a configured one, never echoed as sent.
        said = (query.get("lang") or [""])[0]
        language = self.languages.get(said) if said else None
        if method in ("GET", "HEAD"):
            # A GET never unsubscribes: link checkers and mail scanners open every link.
            state = "ask" if self.desk.unsubscribe_token_ok(token) else "bad"
            page = self.said.unsubscribe(state, token, language)
            return await html(send, 200 if state == "ask" else 400, page, route, method)
        if method != "POST":
            return await not_allowed(send, b"GET, HEAD, POST")
        try:
            await read_body(scope, receive, MAX_BODY)
        except TooLarge:
            return await html(send, 413, self.said.problem(language, TOO_MUCH), route)
        loop = asyncio.get_running_loop()
        done = await loop.run_in_executor(None, self.desk.unsubscribe, token)
        page = self.said.unsubscribe("done" if done else "bad", "", language)
        return await html(send, 200 if done else 400, page, route)

    # -- helpers ---------------------------------------------------------------------------------

    def _client(self, scope: Scope) -> str:
        return self.clients.address(scope)

    def _cross_site(self, scope: Scope) -> Message | None:
        return cross_site(scope, self.origin)


log = logging.getLogger("feedsvc.share")


def _not_stored(error: Exception) -> None:
    if is_unreachable(error):
        OUTAGES.failed(error, "answering 503")
    else:
        log.exception("a share could not be stored")


def _error(message: str, fields: dict[str, str]) -> dict[str, Any]:
    return {"error": message, "fields": dict(fields)}
