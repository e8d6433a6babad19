"""Transport retry rules (reference §8) against a scripted loopback server."""
from __future__ import annotations

import logging
import time

import pytest

from seedance_nb import __version__
from seedance_nb.config import ClientSettings
from seedance_nb.errors import (AuthError, CreateOutcomeUnknown, RateLimitError,
                                SeedanceAPIError, ServerError, TaskNotFound)
from seedance_nb.http import Transport, create_delay, read_delay
from seedance_nb.providers import get_dialect
from seedance_nb.providers.base import HttpCall

from _client_helpers import RESET, Sleeps, refused_url, reply, scripted_server, sleep_then

KEY = "sk-test-secret-value-0123456789"
ARK_ERR = {"error": {"code": "InternalServiceError", "message": "boom Request id: r1",
                     "type": "ServerError"}}
GET = HttpCall("GET", "/contents/generations/tasks/cgt-1")


def transport(root: str, provider: str = "ark", sleeps: Sleeps | None = None) -> Transport:
    dialect = {"ark": "ark", "comet": "comet", "acedata": "acedata"}[provider]
    base = root + ("/api/v3" if provider == "ark" else "")
    settings = ClientSettings(provider=provider, dialect=dialect, api_key=KEY, base_url=base)
    return Transport(settings, get_dialect(provider), sleep=sleeps if sleeps is not None else Sleeps())


def create_call(model: str = "doubao-seedance-1-0-pro-250528") -> HttpCall:
    return HttpCall("POST", "/contents/generations/tasks", json={"model": model, "content": [
        {"type": "text", "text": "a fox"}]}, is_create=True)


TASK = {"id": "cgt-1", "model": "m", "status": "running", "created_at": 1}


# --- reads ---------------------------------------------------------------------------

def test_read_retries_5xx_with_capped_exponential_backoff():
    sleeps = Sleeps()
    with scripted_server(reply(500, ARK_ERR), reply(503, ARK_ERR), reply(524, "x"),
                         reply(200, TASK)) as (root, script):
        resp = transport(root, sleeps=sleeps).send(GET)
    assert resp.status_code == 200 and len(script.seen) == 4
    assert len(sleeps) == 3
    for n, delay in enumerate(sleeps):
        assert min(30, 2 ** n) * 0.5 <= delay <= min(30, 2 ** n)


def test_read_gives_up_after_five_attempts():
    sleeps = Sleeps()
    with scripted_server(reply(502, ARK_ERR)) as (root, script):
        with pytest.raises(ServerError) as info:
            transport(root, sleeps=sleeps).send(GET)
    assert len(script.seen) == 5 and len(sleeps) == 4
    assert info.value.http_status == 502


def test_read_honours_retry_after_when_larger():
    sleeps = Sleeps()
    with scripted_server(reply(429, {"error": {"code": "ServerOverloaded", "message": "m"}},
                               {"Retry-After": "7"}), reply(200, TASK)) as (root, _):
        transport(root, sleeps=sleeps).send(GET)
    assert sleeps == [7.0]


def test_read_retry_after_over_120s_is_left_to_next_poll():
    sleeps = Sleeps()
    with scripted_server(reply(429, {"error": {"code": "x", "message": "m"}},
                               {"Retry-After": "300"})) as (root, script):
        with pytest.raises(RateLimitError):
            transport(root, sleeps=sleeps).send(GET)
    assert len(script.seen) == 1 and sleeps == []


def test_x_should_retry_false_disables_retry():
    with scripted_server(reply(503, ARK_ERR, {"x-should-retry": "false"})) as (root, script):
        with pytest.raises(ServerError):
            transport(root).send(GET)
    assert len(script.seen) == 1


def test_read_404_not_retried_and_is_task_not_found():
    body = {"error": {"code": "NotFound.TaskId", "message": "no such task"}}
    with scripted_server(reply(404, body)) as (root, script):
        with pytest.raises(TaskNotFound):
            transport(root).send(GET)
    assert len(script.seen) == 1


def test_read_retries_connection_reset():
    sleeps = Sleeps()
    with scripted_server(RESET, reply(200, TASK)) as (root, script):
        resp = transport(root, sleeps=sleeps).send(GET)
    assert resp.json()["id"] == "cgt-1" and len(script.seen) == 2 and len(sleeps) == 1


def test_comet_500_invalid_request_is_not_retried():
    body = {"error": {"code": "invalid_request", "message": "bad", "type": "comet_api_error"}}
    with scripted_server(reply(500, body)) as (root, script):
        with pytest.raises(SeedanceAPIError) as info:
            transport(root, "comet").send(HttpCall("GET", "/v1/videos/task_1"))
    assert len(script.seen) == 1 and not info.value.retryable


def test_requests_carry_bearer_user_agent_and_json_type():
    with scripted_server(reply(200, {"id": "cgt-9"})) as (root, script):
        t = transport(root)
        d = get_dialect("ark")
        t.send(d.get_call("cgt-1"))
        t.create(create_call())
    get, post = script.seen
    assert get.headers["Authorization"] == f"Bearer {KEY}"
    assert get.headers["User-Agent"] == f"seedance-nb/{__version__}"
    assert post.headers["Content-Type"] == "application/json"
    assert get.headers["X-Client-Request-Id"]
    assert post.path == "/api/v3/contents/generations/tasks"


def test_read_delay_formula():
    for n in range(8):
        d = read_delay(n)
        assert min(30, 2 ** n) * 0.5 <= d <= min(30, 2 ** n)
    assert read_delay(0, 9.0) == 9.0
    assert create_delay(0, 500.0) == 120.0
    assert 1.6 <= create_delay(0) <= 2.4 and 6.4 <= create_delay(2) <= 9.6


# --- creates -------------------------------------------------------------------------

def test_create_retries_429_with_retry_after_then_succeeds():
    sleeps = Sleeps()
    rl = {"error": {"code": "ModelAccountRpmRateLimitExceeded", "message": "slow down"}}
    with scripted_server(reply(429, rl, {"Retry-After": "3"}),
                         reply(429, rl, {"retry-after-ms": "1500", "Retry-After": "9"}),
                         reply(429, rl, {"Retry-After": "999"}),
                         reply(200, {"id": "cgt-ok"})) as (root, script):
        result = transport(root, sleeps=sleeps).create(create_call())
    assert result.task_id == "cgt-ok" and len(script.seen) == 4
    assert sleeps == [3.0, 1.5, 120.0]


def test_create_429_gives_up_after_three_retries():
    sleeps = Sleeps()
    rl = {"error": {"code": "QuotaExceeded", "message": "too many"}}
    with scripted_server(reply(429, rl)) as (root, script):
        with pytest.raises(RateLimitError):
            transport(root, sleeps=sleeps).create(create_call())
    assert len(script.seen) == 4 and len(sleeps) == 3
    assert 1.6 <= sleeps[0] <= 2.4 and 3.2 <= sleeps[1] <= 4.8 and 6.4 <= sleeps[2] <= 9.6


def test_create_429_without_retry_returns_retry_after_to_scheduler():
    rl = {"error": {"code": "QuotaExceeded", "message": "too many"}}
    with scripted_server(reply(429, rl, {"Retry-After": "4"})) as (root, script):
        with pytest.raises(RateLimitError) as info:
            transport(root).create(create_call(), retry_429=False)
    assert len(script.seen) == 1 and info.value.retry_after == 4.0


def test_create_500_is_outcome_unknown_with_orphans_never_resent():
    listing = {"total": 2, "items": [
        {"id": "cgt-new", "model": "doubao-seedance-1-0-pro-250528", "status": "queued",
         "created_at": int(time.time()) + 1},
        {"id": "cgt-old", "model": "doubao-seedance-1-0-pro-250528", "status": "succeeded",
         "created_at": int(time.time()) - 3600}]}
    with scripted_server(reply(500, ARK_ERR), reply(200, listing)) as (root, script):
        with pytest.raises(CreateOutcomeUnknown) as info:
            transport(root).create(create_call())
    posts = [s for s in script.seen if s.method == "POST"]
    assert len(posts) == 1
    assert info.value.orphans == ["cgt-new"]
    listed = script.seen[1]
    assert listed.method == "GET" and "filter.model=doubao-seedance-1-0-pro-250528" in listed.query
    assert "page_size=20" in listed.query
    assert "cgt-new" in str(info.value) and "Not resubmitted" in str(info.value)


def test_create_reset_after_body_is_outcome_unknown():
    with scripted_server(RESET, reply(200, {"items": []})) as (root, script):
        with pytest.raises(CreateOutcomeUnknown):
            transport(root).create(create_call())
    assert [s.method for s in script.seen] == ["POST", "GET"]


def test_create_read_timeout_is_outcome_unknown():
    call = HttpCall("POST", "/contents/generations/tasks", json={"model": "m"}, is_create=True,
                    timeout=0.3)
    with scripted_server(sleep_then(1.0, reply(200, {"id": "late"})),
                         reply(200, {"items": []})) as (root, script):
        with pytest.raises(CreateOutcomeUnknown):
            transport(root).create(call)
    assert sum(1 for s in script.seen if s.method == "POST") == 1


def test_create_unreadable_200_is_outcome_unknown():
    with scripted_server(reply(200, b"<html>proxy</html>"), reply(200, {"items": []})) as (root, s):
        with pytest.raises(CreateOutcomeUnknown):
            transport(root).create(create_call())


def test_create_refused_connection_retried_then_plain_error():
    sleeps = Sleeps()
    t = transport(refused_url(), sleeps=sleeps)
    with pytest.raises(ServerError, match="nothing was sent") as info:
        t.create(create_call())
    assert not isinstance(info.value, CreateOutcomeUnknown)
    assert len(sleeps) == 3 and t.counts["create"] == 4


def test_create_400_is_a_refusal_not_retried():
    body = {"error": {"code": "InvalidParameter.duration", "message": "bad duration",
                      "param": "duration"}}
    with scripted_server(reply(400, body)) as (root, script):
        with pytest.raises(SeedanceAPIError) as info:
            transport(root).create(create_call())
    assert not isinstance(info.value, CreateOutcomeUnknown)
    assert len(script.seen) == 1 and info.value.code == "InvalidParameter.duration"


def test_delete_retried_only_like_a_create():
    sleeps = Sleeps()
    delete = HttpCall("DELETE", "/contents/generations/tasks/cgt-1")
    with scripted_server(reply(500, ARK_ERR)) as (root, script):
        with pytest.raises(ServerError):
            transport(root, sleeps=sleeps).send(delete)
    assert len(script.seen) == 1
    with scripted_server(reply(429, {"error": {"code": "x", "message": "m"}},
                               {"Retry-After": "1"}), reply(200, {})) as (root, script):
        transport(root, sleeps=sleeps).send(delete)
    assert len(script.seen) == 2


# --- no key anywhere -----------------------------------------------------------------

def test_key_never_in_errors_or_logs_after_401(caplog):
    caplog.set_level(logging.DEBUG)
    body = {"error": {"code": "AuthenticationError",
                      "message": f"The API key {KEY} is invalid. Request id: rid-1"}}
    with scripted_server(reply(401, body)) as (root, _):
        t = transport(root)
        errors = []
        for fn in (lambda: t.send(GET), lambda: t.create(create_call())):
            with pytest.raises(AuthError) as info:
                fn()
            errors.append(info.value)
    for exc in errors:
        assert exc.http_status == 401 and exc.request_id == "rid-1"
        for text in (str(exc), repr(exc), exc.message, str(exc.args)):
            assert KEY not in text
    assert KEY not in caplog.text
    assert KEY not in repr(t) and KEY not in repr(t.settings)


def test_key_not_in_connection_errors(caplog):
    caplog.set_level(logging.DEBUG)
    t = transport(refused_url(), sleeps=Sleeps())
    with pytest.raises(ServerError) as info:
        t.send(GET)
    assert KEY not in str(info.value) and KEY not in repr(info.value)
    assert KEY not in caplog.text


def test_bounded_reads_still_reuse_one_connection():
    with scripted_server(reply(200, TASK)) as (root, script):
        t = transport(root)
        for _ in range(5):
            assert t.send(GET).json()["id"] == "cgt-1"
        pools = list(t.session.adapters["http://"].poolmanager.pools._container.values())
    assert [(p.num_connections, p.num_requests) for p in pools] == [(1, 5)]
