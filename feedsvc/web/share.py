"""HTTP for "Suggest To A Friend": the form, the JSON API, the confirmation and
click-through, and one-click unsubscribe. Nothing here is cached by anyone.

    GET  api/shares/token?release=ID     -> 200 {"token", "min_fill_seconds", "expires_in"}
    POST api/shares   (application/json) -> 202 {"id"}
    GET  api/openapi.json                -> the API described (OpenAPI 3.1)
    GET  releases/ID/share               -> the form on a page of its own
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
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, urlsplit

from feedsvc import layout
from feedsvc.config import ShareSettings, SiteSettings
from feedsvc.publishing.pages import Pages, security_headers
from feedsvc.sharing.desk import Reason, ShareDesk, ShareRefused
from feedsvc.sharing.requests import ShareInvalid, parse
from feedsvc.store.outage import OUTAGES, is_unreachable
from feedsvc.web.asgi import Answer, Receive, Scope, Send, TooLarge, header, read_body, respond
from feedsvc.web.clients import Clients
from feedsvc.web.refusals import INVALID_STATUS, REFUSED_STATUS, retry_after

MAX_BODY = 16 * 1024
# The access log's and /metrics' labels of these routes, from the URL layout.
_SHARES = layout.Api("shares").route
_TOKEN = layout.Api("shares/token").route
_OPENAPI = layout.Api("openapi.json").route
_FORM = layout.ShareForm.route
_SENT = layout.ShareSent.route
_CLICK = layout.Click.route
_NO_SUCH_API = layout.Api("").route  # one label for every path under api/ not answered
_SECURITY = [(b"cache-control", b"no-store"), *security_headers(b"'self'")]


class ShareRoutes:
    def __init__(
        self,
        desk: ShareDesk,
        pages: Pages,
        clients: Clients,
        *,
        rules: ShareSettings,
        site: SiteSettings,
    ) -> None:
        self.rules = rules
        self.desk = desk
        self.pages = pages
        self.base_path = site.base_path
        self.clients = clients  # the limits and tokens key on the address it decides
        self.origin = site_origin(site.base_url)
        self._form = pages.env.get_template("share.html")
        self._sent = pages.env.get_template("share_sent.html")
        self._unsubscribe = pages.env.get_template("unsubscribe.html")
        self._openapi = files("feedsvc").joinpath("static/openapi.json").read_bytes()

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, method: str, rel: str
    ) -> Answer | None:
        """Answer a share route, or None when `rel` is not one."""
        reading = method in ("GET", "HEAD")
        match layout.parse(rel):
            case layout.Api("shares") if method == "POST":
                if (why := self._cross_site(scope)) is not None:
                    return await self._json(send, 403, {"error": why}, _SHARES)
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
                return await self._not_allowed(send, b"POST")
            case layout.Api("shares/token"):
                return await self._not_allowed(send, b"GET, HEAD")
            case layout.Api():
                return await self._json(send, 404, {"error": "no such API"}, _NO_SUCH_API)
            case layout.Unsubscribe():
                return await self._unsubscribe_route(scope, receive, send, method)
            case layout.ShareForm(release_id):
                if method == "POST":
                    if (why := self._cross_site(scope)) is not None:
                        return await self._html(send, 403, self._problem(why), _FORM)
                    return await self._form_share(scope, receive, send, release_id)
                if reading:
                    return await self._form_page(scope, send, method, release_id)
                return await self._not_allowed(send, b"GET, HEAD, POST")
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
            return await self._json(
                send, 400, _error("release is missing", {"release": "missing"}), _TOKEN
            )
        loop = asyncio.get_running_loop()
        token = await loop.run_in_executor(None, self.desk.token, release, self._client(scope))
        if token is None:
            return await self._json(send, 404, {"error": "no such release"}, _TOKEN)
        rules = self.rules
        body = {
            "token": token,
            "min_fill_seconds": rules.min_fill_seconds,
            "expires_in": rules.token_max_age_seconds,
        }
        return await self._json(send, 200, body, _TOKEN, method)

    async def _api_share(self, scope: Scope, receive: Receive, send: Send) -> Answer:
        route = _SHARES
        ctype = header(scope, b"content-type").split(";")[0].strip().lower()
        if ctype != "application/json":
            return await self._json(send, 415, {"error": "send application/json"}, route)
        try:
            raw = await read_body(scope, receive, MAX_BODY)
        except TooLarge:
            return await self._json(send, 413, {"error": f"at most {MAX_BODY} bytes"}, route)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            return await self._json(send, 400, {"error": f"not valid JSON: {e}"}, route)
        except RecursionError:  # 15,000 '[' fit in the body limit (issue 11)
            return await self._json(
                send, 400, {"error": "not valid JSON: nested too deeply"}, route
            )
        if not isinstance(data, dict):
            return await self._json(send, 400, {"error": "send a JSON object"}, route)
        try:
            request = parse(data, self.rules)
            receipt = await asyncio.wrap_future(self.desk.submit(request, self._client(scope)))
        except ShareInvalid as e:
            status = INVALID_STATUS[e.kind]
            return await self._json(send, status, _error("check the fields", e.fields), route)
        except ShareRefused as e:
            status = REFUSED_STATUS[e.reason]
            body = {"error": str(e)} if e.field is None else _error(str(e), {e.field: str(e)})
            return await self._json(send, status, body, route, headers=retry_after(e))
        except Exception as e:  # the database is locked or down: nothing was stored
            _not_stored(e)
            return await self._json(send, 503, {"error": _UNAVAILABLE}, route, headers=_LATER)
        return await self._json(send, 202, {"id": receipt.id}, route)

    # -- the form ------------------------------------------------------------------------------

    async def _form_page(self, scope: Scope, send: Send, method: str, release_id: str) -> Answer:
        page = await self._render_form(scope, release_id, {}, {}, None)
        if page is None:
            return await self._html(send, 404, self._missing(), _FORM, method)
        return await self._html(send, 200, page, _FORM, method)

    async def _form_share(
        self, scope: Scope, receive: Receive, send: Send, release_id: str
    ) -> Answer:
        route = _FORM
        ctype = header(scope, b"content-type").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return await self._html(send, 415, self._problem("Send the form from its page."), route)
        try:
            raw = await read_body(scope, receive, MAX_BODY)
        except TooLarge:
            return await self._html(
                send, 413, self._problem("That is more than a form holds."), route
            )
        try:
            fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
        except (UnicodeDecodeError, ValueError):
            return await self._html(send, 400, self._problem("The form arrived garbled."), route)
        values: dict[str, Any] = {k: v[0] for k, v in fields.items() if k != "to"}
        values["to"] = fields.get("to", [])
        values["release"] = release_id
        try:
            request = parse(values, self.rules)
            receipt = await asyncio.wrap_future(self.desk.submit(request, self._client(scope)))
        except ShareInvalid as e:
            if set(e.fields) == {"token"}:  # no JavaScript: the form again, with a token
                return await self._form_again(scope, send, release_id, values, {}, _AGAIN, 200)
            errors: dict[str, Any] = dict(e.fields)
            errors["to@"] = e.at.get("to", 0)  # which of the address inputs is wrong
            status = INVALID_STATUS[e.kind]
            return await self._form_again(scope, send, release_id, values, errors, None, status)
        except ShareRefused as e:
            status = REFUSED_STATUS[e.reason]
            if e.reason is Reason.UNKNOWN_RELEASE:
                return await self._html(send, status, self._missing(), route)
            # A bad token: the form again, with a fresh one (as when no token was sent).
            notice = {Reason.LIMITED: _LIMITED, Reason.UNSENDABLE: str(e)}.get(e.reason, _AGAIN)
            extra = retry_after(e)
            return await self._form_again(
                scope, send, release_id, values, {}, notice, status, extra
            )
        except Exception as e:  # the database is locked or down: nothing was stored
            _not_stored(e)
            page = self._problem(_UNAVAILABLE.capitalize() + ".")
            return await self._html(send, 503, page, route, headers=_LATER)
        location = self.base_path + layout.share_sent(receipt.id)
        headers = [(b"location", location.encode()), (b"content-length", b"0")]
        return await respond(send, 303, headers, b"", "POST", route)

    async def _form_again(
        self,
        scope: Scope,
        send: Send,
        release_id: str,
        values: dict[str, Any],
        errors: dict[str, str],
        notice: str | None,
        status: int,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> Answer:
        page = await self._render_form(scope, release_id, values, errors, notice)
        if page is None:
            return await self._html(send, 404, self._missing(), _FORM)
        return await self._html(send, status, page, _FORM, headers=extra)

    async def _render_form(
        self,
        scope: Scope,
        release_id: str,
        values: dict[str, Any],
        errors: dict[str, str],
        notice: str | None,
    ) -> bytes | None:
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, self.desk.form, release_id, self._client(scope))
        if found is None:
            return None
        stored, token = found
        return self._form.render(
            **self.pages.base,
            r=stored.release,
            rules=self.rules,
            values=values,
            errors=errors,
            token=token,
            notice=notice,
        ).encode()

    async def _sent_page(self, send: Send, method: str, share_id: str) -> Answer:
        loop = asyncio.get_running_loop()
        found = await loop.run_in_executor(None, self.desk.sent, share_id)
        if found is None:
            return await self._html(send, 404, self._missing(), _SENT, method)
        stored, count = found
        page = self._sent.render(**self.pages.base, r=stored.release, count=count).encode()
        return await self._html(send, 200, page, _SENT, method)

    async def _click(self, send: Send, method: str, share_id: str) -> Answer:
        loop = asyncio.get_running_loop()
        release_id = await loop.run_in_executor(None, self.desk.click, share_id)
        if release_id is None:
            return await self._html(send, 404, self._missing(), _CLICK, method)
        self.desk.count("clicked")
        location = self.base_path + layout.release(release_id)
        headers = [(b"location", location.encode()), (b"content-length", b"0"), *_SECURITY]
        return await respond(send, 303, headers, b"", method, _CLICK)

    # -- unsubscribe ---------------------------------------------------------------------------

    async def _unsubscribe_route(
        self, scope: Scope, receive: Receive, send: Send, method: str
    ) -> Answer:
        route = layout.Unsubscribe.route
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        token = (query.get("t") or [""])[0]
        if method in ("GET", "HEAD"):
            # A GET never unsubscribes: link checkers and mail scanners open every link.
            state = "ask" if self.desk.unsubscribe_token_ok(token) else "bad"
            page = self._unsubscribe.render(**self.pages.base, state=state, token=token).encode()
            return await self._html(send, 200 if state == "ask" else 400, page, route, method)
        if method != "POST":
            return await self._not_allowed(send, b"GET, HEAD, POST")
        try:
            await read_body(scope, receive, MAX_BODY)
        except TooLarge:
            return await self._html(send, 413, self._problem("Too much."), route)
        loop = asyncio.get_running_loop()
        done = await loop.run_in_executor(None, self.desk.unsubscribe, token)
        page = self._unsubscribe.render(
            **self.pages.base, state="done" if done else "bad", token=""
        ).encode()
        return await self._html(send, 200 if done else 400, page, route)

    # -- helpers ---------------------------------------------------------------------------------

    def _client(self, scope: Scope) -> str:
        return self.clients.address(scope)

    def _cross_site(self, scope: Scope) -> str | None:
        """Why a share post is refused as coming from another site, or None.

        Browsers say where a request comes from: `Origin` on every POST, and
        `Sec-Fetch-Site`. A page elsewhere must not make its visitors' browsers send
        shares, each from the visitor's own address (issue 11). A request without either
        header is not from a browser page (curl, a mail client, the operator) and is left
        to the token and the limits."""
        origin = header(scope, b"origin")
        fetch_site = header(scope, b"sec-fetch-site").lower()
        if origin == "null" and fetch_site == "same-origin":
            origin = ""  # a page of ours under a strict referrer policy (Fetch 3.2.5)
        if origin and origin.rstrip("/").lower() != self.origin:
            return f"shares are accepted only from pages of {self.origin}, not from {origin[:100]}"
        if fetch_site == "cross-site":
            return f"shares are accepted only from pages of {self.origin}, not from another site"
        return None

    def _missing(self) -> bytes:
        return self._problem("There is no such release.")

    def _problem(self, text: str) -> bytes:
        page = self._unsubscribe.environment.from_string(
            '{% extends "base.html" %}{% block main %}<p role="alert">{{ text }}</p>{% endblock %}'
        )
        return page.render(**self.pages.base, text=text).encode()

    async def _html(
        self,
        send: Send,
        status: int,
        body: bytes,
        route: str,
        method: str = "GET",
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> Answer:
        out = [(b"content-type", b"text/html; charset=utf-8"), *_SECURITY, *(headers or [])]
        out.append((b"content-length", str(len(body)).encode()))
        return await respond(send, status, out, body, method, route)

    async def _json(
        self,
        send: Send,
        status: int,
        data: Any,
        route: str,
        method: str = "GET",
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> Answer:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        out = [(b"content-type", b"application/json"), *_SECURITY, *(headers or [])]
        out.append((b"content-length", str(len(body)).encode()))
        return await respond(send, status, out, body, method, route)

    async def _not_allowed(self, send: Send, allow: bytes) -> Answer:
        body = b"method not allowed\n"
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"allow", allow)]
        headers.append((b"content-length", str(len(body)).encode()))
        return await respond(send, 405, headers, body, "POST", "other")


_UNAVAILABLE = "the suggestion could not be stored just now: please try again in a moment"
_LATER = [(b"retry-after", b"5")]
log = logging.getLogger("feedsvc.share")
_LIMITED = "Too many suggestions have been sent from here for now. Please try again later."
_AGAIN = "To keep this form from being used for spam, please check it and press Send again."


def site_origin(base_url: str) -> str:
    """scheme://host[:port] of the site, as a browser writes it in Origin (RFC 6454):
    lower case, no default port."""
    parts = urlsplit(base_url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _not_stored(error: Exception) -> None:
    if is_unreachable(error):
        OUTAGES.failed(error, "answering 503")
    else:
        log.exception("a share could not be stored")


def _error(message: str, fields: dict[str, str]) -> dict[str, Any]:
    return {"error": message, "fields": dict(fields)}
