"""No API reply can stall or exhaust the client (reference §8 Bounds).

Every test runs inside `socket_guard`: nothing leaves loopback, DNS included.
Deadlines are 1 s here instead of 60 s; retry sleeps are recorded, never slept.
"""
from __future__ import annotations

import json
import socket
import time
import tracemalloc

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedance_nb.config import ClientSettings
from seedance_nb.errors import BadReply, CreateOutcomeUnknown, ServerError
from seedance_nb.http import Transport
from seedance_nb.providers import get_dialect
from seedance_nb.providers.base import HttpCall

from hostile import (GATEWAY_HOST, Hostile, Sleeps, endless_chunked, gzip_bomb, json_text,
                     lie_length, rate_limited, reply, sequence, socket_guard, stall, trickle)

KEY = "sk-bounds-test-key-0123456789"
PATH = "/api/v3/contents/generations/tasks/cgt-1"
CREATE = "/api/v3/contents/generations/tasks"
TASK = '{"id": "cgt-1", "model": "m", "status": "running", "created_at": 1, "duration": 5}'
MIB = 1 << 20


@pytest.fixture
def gw():
    with socket_guard(), Hostile() as server:
        yield server


def transport(root: str, provider: str = "ark", deadline: float = 1.0,
              sleeps: Sleeps | None = None) -> Transport:
    base = root + ("/api/v3" if provider == "ark" else "")
    settings = ClientSettings(provider=provider, dialect=provider, api_key=KEY, base_url=base)
    return Transport(settings, get_dialect(provider), sleep=sleeps if sleeps is not None
                     else Sleeps(), reply_deadline=deadline)


def poll(t: Transport, task_id: str = "cgt-1"):
    call = t.dialect.get_call(task_id)
    resp = t.send(call)
    return t.dialect.parse_task(resp.status_code, dict(resp.headers), resp.content)


def create_call(timeout: float | None = None) -> HttpCall:
    return HttpCall("POST", "/contents/generations/tasks", is_create=True, timeout=timeout,
                    json={"model": "doubao-seedance-1-0-pro-250528",
                          "content": [{"type": "text", "text": "a fox"}]})


# --- numbers and text the client refuses ---------------------------------------------------

@pytest.mark.parametrize("field, code", [
    ('"duration": NaN', "BadNumber"), ('"duration": Infinity', "BadNumber"),
    ('"seed": -Infinity', "BadNumber"), ('"duration": 1e400', "BadNumber"),
    ('"seed": 99999999999999999999', "BadNumber"), ('"seed": -9223372036854775809', "BadNumber"),
])
def test_poll_reply_with_a_refused_number_is_a_bad_reply_with_snippet(gw, field, code):
    text = '{"id": "cgt-1", "status": "running", ' + field + '}'
    gw.route(PATH, json_text(text))
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url))
    exc = info.value
    assert exc.code == code and not exc.retryable and exc.http_status == 200
    assert exc.snippet == text[:200] and exc.provider == "ark"
    assert "unreadable reply" in str(exc)


def test_64_bit_integers_at_the_edges_are_accepted(gw):
    gw.route(PATH, json_text('{"id": "cgt-1", "status": "running", "seed": 9223372036854775807,'
                             ' "created_at": -9223372036854775808}'))
    assert poll(transport(gw.url)).seed == 2 ** 63 - 1


@pytest.mark.parametrize("body", [b"<html><body>502 Bad Gateway</body></html>", b"",
                                  b"\xff\xfe\x00garbage", b'{"id": "cgt-1", "status": '])
def test_non_json_2xx_is_bad_json_with_the_first_200_chars(gw, body):
    gw.route(PATH, reply(200, body * 50 if body else body, {"Content-Type": "text/html"}))
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url))
    assert info.value.code == "BadJSON" and len(info.value.snippet) <= 200
    if body.startswith(b"<html>"):
        assert info.value.snippet.startswith("<html><body>502")


def test_resp_json_is_strict_too(gw):
    gw.route(PATH, json_text('{"id": "cgt-1", "duration": NaN}'))
    resp = transport(gw.url).send(HttpCall("GET", "/contents/generations/tasks/cgt-1"))
    with pytest.raises(BadReply, match="NaN"):
        resp.json()


# --- time ------------------------------------------------------------------------------------

def test_a_body_trickling_one_byte_at_a_time_ends_at_the_deadline(gw):
    gw.route(PATH, trickle(TASK, interval=0.2))
    t0 = time.monotonic()
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url, deadline=1.0))
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 2.0, elapsed
    assert info.value.code == "ReplyTimeout" and info.value.retryable
    assert info.value.snippet and TASK.startswith(info.value.snippet)  # what did arrive
    assert gw.hits(PATH) == 1, "a trickling gateway is not asked again in the same call"


def test_headers_trickling_one_byte_at_a_time_end_at_the_deadline(gw):
    gw.route(PATH, trickle(TASK, interval=0.1, head_too=True))
    t0 = time.monotonic()
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url, deadline=1.0))
    assert time.monotonic() - t0 < 2.0
    assert info.value.code == "ReplyTimeout"


def test_a_silent_server_ends_at_the_deadline_not_the_60s_read_timeout(gw):
    gw.route(PATH, stall(30))
    t0 = time.monotonic()
    with pytest.raises(BadReply, match="deadline"):
        poll(transport(gw.url, deadline=1.0))
    assert time.monotonic() - t0 < 2.0


def test_a_blocking_create_waits_its_own_deadline(gw):
    # The call's timeout (a blocking acedata create passes the job's wait deadline) is
    # its reply deadline: a reply slower than the transport's default still arrives.
    gw.route(CREATE, trickle('{"id": "cgt-slow"}', interval=0.08))
    t = transport(gw.url, deadline=0.5)
    assert t.create(create_call(timeout=5.0)).task_id == "cgt-slow"


def test_a_trickling_create_reply_is_outcome_unknown_sent_once(gw):
    # then the orphan listing (same path, GET) answers at once
    gw.route(CREATE, sequence(trickle('{"id": "cgt-late"}', interval=0.3),
                              json_text('{"items": []}')))
    with pytest.raises(CreateOutcomeUnknown) as info:
        transport(gw.url, deadline=1.0).create(create_call())
    assert info.value.code == "ReplyTimeout"
    assert sum(1 for r in gw.seen if r.method == "POST") == 1


# --- size ------------------------------------------------------------------------------------

def test_an_endless_chunked_body_is_too_large_not_endless(gw):
    gw.route(PATH, endless_chunked())
    t0 = time.monotonic()
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url, deadline=10.0))
    assert info.value.code == "ReplyTooLarge" and "16 MiB" in str(info.value)
    assert time.monotonic() - t0 < 5.0


def test_a_gzip_bomb_is_refused_with_small_memory(gw):
    gw.route(PATH, gzip_bomb(200 * MIB))
    t = transport(gw.url, deadline=10.0)
    tracemalloc.start()
    try:
        with pytest.raises(BadReply) as info:
            poll(t)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "ReplyTooLarge"
    assert peak < 64 * MIB, f"peak {peak / MIB:.0f} MiB"


def test_a_content_length_over_the_cap_is_refused_before_reading(gw):
    gw.route(PATH, lie_length(TASK, 17 * MIB))
    t0 = time.monotonic()
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url, deadline=10.0))
    assert info.value.code == "ReplyTooLarge" and time.monotonic() - t0 < 1.0


def test_a_body_shorter_than_its_content_length_is_a_transport_error(gw):
    gw.route(PATH, lie_length(TASK, len(TASK) + 100))
    sleeps = Sleeps()
    with pytest.raises(ServerError) as info:
        poll(transport(gw.url, sleeps=sleeps))
    assert info.value.code == "ConnectionError" and "cut short" in str(info.value)
    assert gw.hits(PATH) == 5 and len(sleeps) == 4  # retried like a reset


def test_a_short_body_then_a_good_one_is_read(gw):
    gw.route(PATH, sequence(lie_length(TASK, len(TASK) + 100), json_text(TASK)))
    assert poll(transport(gw.url)).id == "cgt-1"


def test_an_unasked_content_encoding_is_a_bad_reply(gw):
    gw.route(PATH, reply(200, b"\x1b\x00\x00", {"Content-Encoding": "br"}))
    with pytest.raises(BadReply) as info:
        poll(transport(gw.url))
    assert info.value.code == "BadEncoding"


def test_accept_encoding_offers_only_what_the_client_can_bound(gw):
    gw.route(PATH, json_text(TASK))
    poll(transport(gw.url))
    assert gw.seen[-1].headers["Accept-Encoding"] == "gzip, deflate"


def test_an_error_status_with_a_huge_body_keeps_its_status(gw):
    gw.route(PATH, lie_length("x", 100 * MIB, status=404))
    with pytest.raises(Exception) as info:
        poll(transport(gw.url))
    assert getattr(info.value, "http_status", None) == 404
    assert not isinstance(info.value, BadReply)


# --- rate limits, the remote gateway and the guard -------------------------------------

def test_429_retry_after_is_handed_to_the_injected_sleep(gw):
    gw.route(PATH, sequence(rate_limited("3"), json_text(TASK)))
    sleeps = Sleeps()
    assert poll(transport(gw.url, sleeps=sleeps)).id == "cgt-1"
    assert sleeps == [3.0]


def test_a_remote_looking_gateway_is_reached_without_dns(gw):
    gw.route(PATH, json_text(TASK))
    assert gw.remote_url.startswith(f"http://{GATEWAY_HOST}:")
    assert poll(transport(gw.remote_url)).id == "cgt-1"
    assert gw.seen[-1].headers["Host"].startswith(GATEWAY_HOST)


def test_the_socket_guard_fails_any_attempt_to_leave_loopback():
    with pytest.raises(AssertionError, match="leave loopback"):
        with socket_guard() as guard:
            with pytest.raises(OSError):
                socket.create_connection(("192.0.2.1", 80), timeout=0.2)
            with pytest.raises(OSError):
                socket.getaddrinfo("example.com", 443)
            with pytest.raises(requests.ConnectionError):
                requests.get("http://example.org/", timeout=0.2)
    assert len(guard.violations) == 3


# --- shapes nobody foresaw -------------------------------------------------------------------

def test_a_batch_reply_of_the_wrong_shape_is_a_bad_reply_not_a_crash():
    from seedance_nb.providers._common import parse_reply

    for provider in ("ark", "acedata"):
        d = get_dialect(provider)
        with pytest.raises(BadReply) as info:
            parse_reply(d.parse_batch, 200, {}, b'{"items": true}', provider=provider)
        assert info.value.code == "BadShape" and info.value.snippet == '{"items": true}'


def test_a_signed_url_with_an_absurd_lifetime_is_read_without_crashing():
    url = "https://x/v.mp4?X-Tos-Date=20260101T000000Z&X-Tos-Expires=" + "9" * 400
    body = ('{"id": "cgt-1", "status": "succeeded", "updated_at": 1767225600, '
            '"content": {"video_url": "' + url + '"}}').encode()
    task = get_dialect("ark").parse_task(200, {}, body)
    assert task.status == "succeeded" and task.url_expires_at == 1767225600 + 86400


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 63, 2 ** 63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["succeeded", "running", "nan", "inf", "9" * 30, "2026-13-45T99:99",
                       "https://x/v.mp4?X-Tos-Date=20260101T000000Z&X-Tos-Expires=9e9"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "status", "content", "video_url", "usage", "created_at",
                         "updated_at", "duration", "seed", "error", "response", "data",
                         "items", "success", "task_id", "progress", "completed_at"]),
        inner, max_size=6),
    max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=_json, provider=st.sampled_from(["ark", "comet", "acedata"]))
def test_any_json_reply_parses_or_fails_as_an_api_error(payload, provider):
    from seedance_nb.errors import SeedanceAPIError
    from seedance_nb.providers._common import parse_reply

    d = get_dialect(provider)
    body = json.dumps(payload).encode()
    parsers = [d.parse_task, d.parse_create] + ([d.parse_batch] if d.batch_size else [])
    for parse in parsers:
        try:
            parse_reply(parse, 200, {}, body, provider=provider)
        except SeedanceAPIError:
            pass  # refused, with a message; nothing else may escape
