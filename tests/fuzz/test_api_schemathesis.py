"""Schemathesis against a live `feedsvc serve`, with the OpenAPI description the service itself
serves (`/api/openapi.json`): no 5xx, and every answer as described - its status, content
type, headers and body.

Two services: one whose share limits are out of reach, so the fuzzer gets past them to the
accepted shares; one with tight limits, where the fuzzer soon meets 429 and its
Retry-After, which must be described too (the default limits' 429 is checked on its own,
below: how many of the fuzzer's random requests are accepted is luck). Most share requests carry a fresh token for the
seed release (the fuzzer cannot make one), the rest whatever the fuzzer wrote.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import BaseSchema, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import SEED, SEED_ID
from tests.fuzz import fuzz
from tests.web.conftest import Server, wait_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
OUT_OF_REACH = 10**9
SHARE = {
    "roomy": {
        "min_fill_seconds": 0,
        "per_ip_per_hour": OUT_OF_REACH,
        "per_recipient_per_day": OUT_OF_REACH,
        "per_sender_per_day": OUT_OF_REACH,
        "global_per_hour": OUT_OF_REACH,
    },
    # Three an hour: a CI run's fuzzing once had 10 shares accepted, the default limit
    # exactly, and never met the 11th's 429.
    "tight limits": {"min_fill_seconds": 0, "per_ip_per_hour": 3},
}
DEFAULT_SHARE_LIMITS = {"min_fill_seconds": 0}
# The subscribe form's (issue 16), alike: its API is fuzzed beside the share API.
ALERTS = {
    "roomy": {
        "min_fill_seconds": 0,
        "per_ip_per_hour": OUT_OF_REACH,
        "per_address_per_day": OUT_OF_REACH,
        "global_per_hour": OUT_OF_REACH,
    },
    # Fewer subscribe requests reach the store than shares (most drawn are invalid): a
    # lower limit than the default 10 an hour, so the fuzzer meets it too.
    "tight limits": {"min_fill_seconds": 0, "per_ip_per_hour": 3},
}
SHARES, SUBSCRIPTIONS = "/api/shares", "/api/subscriptions"
# Statuses answered, per service and API, for the test that follows the fuzzing.
seen: dict[str, dict[str, Counter[int]]] = {
    name: {SHARES: Counter(), SUBSCRIPTIONS: Counter()} for name in SHARE
}


def start(root: Any, share: dict[str, Any], alerts: dict[str, Any]) -> Server:
    server = Server(root, {"share": share, "alerts": alerts})
    shutil.copy(SEED, server.items / SEED.name)
    server.start(
        ready=lambda s: wait_for(
            lambda: s.get(f"/releases/{SEED_ID}/").status_code == 200, 10, what="seed published"
        )
    )
    return server


@dataclass
class Service:
    name: str  # a key of SHARE
    server: Server


@pytest.fixture(scope="module", params=list(SHARE))
def service(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Service]:
    server = start(tmp_path_factory.mktemp("api"), SHARE[request.param], ALERTS[request.param])
    yield Service(request.param, server)
    server.stop()  # and no traceback in its log: nothing failed unseen


@pytest.fixture(scope="module")
def api(service: Service) -> BaseSchema:
    return schemathesis.openapi.from_url(service.server.base + "/api/openapi.json")


def fresh_token(server: Server, api: str = SHARES) -> str:
    params = {"release": SEED_ID} if api == SHARES else {}
    r = server.http.get(server.base + api + "/token", params=params, timeout=5)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["token"]


# Schemathesis' own pytest integration (@schema.parametrize) does not run on pytest 9.2 (it
# sets Node._nodeid, which pytest 9.2 no longer has): its cases are drawn here instead.
@pytest.mark.parametrize("which", [SHARES, SUBSCRIPTIONS])  # a budget each
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@fuzz(0.5)
@given(data=st.data())
def test_api(
    service: Service, api: BaseSchema, which: str, mode: GenerationMode, data: st.DataObject
) -> None:
    operations = api.include(path_regex=f"^{which}")
    case = data.draw(operations.as_strategy(generation_mode=mode), label="case")
    # Four cases in five name the seed release, a share with a fresh token for it (or a
    # subscription with a fresh one of its own); the rest keep what the fuzzer wrote
    # (mostly a 404 or a refused token).
    seed = data.draw(st.integers(0, 4), label="seed") > 0
    if seed and case.method == "POST" and isinstance(case.body, dict):
        token = fresh_token(service.server, which)
        if which == SHARES:
            case.body.update(release=SEED_ID, token=token)
        else:
            case.body.update(token=token)
    elif seed and case.method == "GET" and isinstance(case.query, dict) and which == SHARES:
        case.query["release"] = SEED_ID
    response = case.call(session=service.server.http, timeout=10)
    seen[service.name][which][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("release", ["\x00", f"{SEED_ID}\x00", "\ufffd" * 300])
def test_a_token_for_any_release_id_is_no_server_error(
    service: Service, api: BaseSchema, release: str
) -> None:
    """What the fuzzer found on PostgreSQL (its text cannot hold NUL), kept as an example."""
    case = api["/api/shares/token"]["GET"].Case(query={"release": release})
    response = case.call(session=service.server.http, timeout=10)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ({"release": SEED_ID, "to": ["f@example.org"], "token": "t"}, "text/plain", 415),
        ({"release": SEED_ID, "to": ["f@example.org"], "message": "m" * 17_000}, None, 413),
    ],
)
def test_what_the_fuzzer_does_not_send_is_as_described(
    service: Service, api: BaseSchema, body: dict[str, Any], content_type: str | None, status: int
) -> None:
    """Another content type, and a body over 16 kB."""
    case = api["/api/shares"]["POST"].Case(body=body, media_type="application/json")
    headers = {"Content-Type": content_type} if content_type else None
    response = case.call(session=service.server.http, headers=headers, timeout=10)
    case.validate_response(response, checks=CHECKS)
    assert response.status_code == status


def test_the_fuzzing_reached_acceptance_and_the_limits() -> None:
    """The token substitution works: shares and subscriptions were accepted, and the
    tight limits met."""
    if not any(any(counts.values()) for counts in seen.values()):
        pytest.skip("test_api did not run")
    for api in (SHARES, SUBSCRIPTIONS):
        if seen["roomy"][api]:
            assert seen["roomy"][api][202] > 0, seen
        if seen["tight limits"][api]:
            assert seen["tight limits"][api][429] > 0, seen


def test_a_429_is_as_described(tmp_path: Any) -> None:
    """Past the per-address limit (10 an hour by default) the answer is 429 with Retry-After,
    as the description says; schemathesis checks it against the description."""
    server = start(tmp_path, DEFAULT_SHARE_LIMITS, ALERTS["tight limits"])
    try:
        api = schemathesis.openapi.from_url(server.base + "/api/openapi.json")
        post = api["/api/shares"]["POST"]
        statuses = []
        for n in range(12):
            body = {"release": SEED_ID, "to": [f"f{n}@example.org"], "token": fresh_token(server)}
            case = post.Case(body=body, media_type="application/json")
            response = case.call(session=server.http, timeout=10)
            case.validate_response(response, checks=CHECKS)
            statuses.append(response.status_code)
        assert statuses == [202] * 10 + [429] * 2
        assert int(response.headers["retry-after"][0]) > 0
    finally:
        server.stop()
