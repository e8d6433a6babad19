"""Error envelopes (§7), status words (§6.4), URL expiry and key hygiene for every dialect."""
from __future__ import annotations

import dataclasses
import json
import time
from email.utils import formatdate

import pytest

from _test_providers_helpers import body, local, req
from seedance_nb.errors import (AuthError, ModelNotAvailable, ModerationError, QuotaError,
                                RateLimitError,
                                SeedanceAPIError, ServerError, TaskNotFound, register_secret)
from seedance_nb.providers import HttpCall, get_dialect, url_expiry

ARK_RID = "20251121160900ABCDEF"


def ark_err(code, message="bad", param="", type_="BadRequest"):
    return {"error": {"code": code, "message": f"{message} Request id: {ARK_RID}",
                      "param": param, "type": type_}}


def comet_err(code="", message="bad"):
    return {"error": {"code": code, "message": f"{message} (request id: c-77)",
                      "type": "comet_api_error", "param": ""}}


def ace_err(code, message="bad"):
    return {"success": False, "error": {"code": code, "message": message}, "trace_id": "tr-1"}


# (provider, http status, reply, exception class, code, request id, retryable)
CASES = [
    ("ark", 400, ark_err("InvalidParameter", param="duration"), SeedanceAPIError,
     "InvalidParameter", ARK_RID, False),
    ("ark", 400, ark_err("MissingParameter.prompt"), SeedanceAPIError, "MissingParameter.prompt",
     ARK_RID, False),
    ("ark", 400, ark_err("InputTextSensitiveContentDetected"), ModerationError,
     "InputTextSensitiveContentDetected", ARK_RID, False),
    ("ark", 400, ark_err("SensitiveContentDetected.SevereViolation"), ModerationError,
     "SensitiveContentDetected.SevereViolation", ARK_RID, False),
    ("byteplus", 400, ark_err("OutputVideoSensitiveContentDetected"), ModerationError,
     "OutputVideoSensitiveContentDetected", ARK_RID, False),
    ("ark", 401, ark_err("AuthenticationError", type_="Unauthorized"), AuthError,
     "AuthenticationError", ARK_RID, False),
    ("ark", 401, ark_err("InvalidAccountStatus"), AuthError, "InvalidAccountStatus", ARK_RID,
     False),
    ("ark", 403, ark_err("AccessDenied"), AuthError, "AccessDenied", ARK_RID, False),
    ("byteplus", 403, ark_err("OperationDenied.ServiceNotOpen"), AuthError,
     "OperationDenied.ServiceNotOpen", ARK_RID, False),
    ("ark", 403, ark_err("AccountOverdueError"), QuotaError, "AccountOverdueError", ARK_RID,
     False),
    ("ark", 403, ark_err("OperationDenied.ServiceOverdue"), QuotaError,
     "OperationDenied.ServiceOverdue", ARK_RID, False),
    ("ark", 404, ark_err("NotFound.TaskId"), TaskNotFound, "NotFound.TaskId", ARK_RID, False),
    ("emulator", 404, ark_err("NotFound"), TaskNotFound, "NotFound", ARK_RID, False),
    ("ark", 404, ark_err("InvalidEndpointOrModel.NotFound"), ModelNotAvailable,
     "InvalidEndpointOrModel.NotFound", ARK_RID, False),
    ("byteplus", 404, ark_err("ModelNotOpen"), ModelNotAvailable, "ModelNotOpen", ARK_RID, False),
    ("comet-volc", 404, comet_err("InvalidEndpointOrModel.NotFound"), ModelNotAvailable,
     "InvalidEndpointOrModel.NotFound", "c-77", False),
    ("comet", 400, comet_err("", "model seedance-1-5-pro is not supported"), ModelNotAvailable,
     "", "c-77", False),
    ("acedata", 400, ace_err("bad_request", "model doubao-seedance-1-5-pro-251215 does not exist"),
     ModelNotAvailable, "bad_request", "tr-1", False),
    ("acedata", 400, ace_err("bad_request", "duration must be 4-15"), SeedanceAPIError,
     "bad_request", "tr-1", False),
    ("ark", 429, ark_err("ModelAccountRpmRateLimitExceeded"), RateLimitError,
     "ModelAccountRpmRateLimitExceeded", ARK_RID, True),
    ("ark", 429, ark_err("QuotaExceeded"), RateLimitError, "QuotaExceeded", ARK_RID, True),
    ("ark", 500, ark_err("InternalServiceError"), ServerError, "InternalServiceError", ARK_RID,
     True),
    ("ark", 408, ark_err("RequestTimeout"), SeedanceAPIError, "RequestTimeout", ARK_RID, True),
    ("comet", 400, comet_err("", "model name is required"), SeedanceAPIError, "", "c-77", False),
    ("comet", 400, comet_err("InvalidParameter"), SeedanceAPIError, "InvalidParameter", "c-77",
     False),
    ("comet", 400, comet_err("task_not_exist"), TaskNotFound, "task_not_exist", "c-77", False),
    ("comet", 400, {"code": "fail", "message": "task_not_exist"}, TaskNotFound, "fail", "",
     False),
    ("comet", 401, comet_err("", "invalid token"), AuthError, "", "c-77", False),
    ("comet", 429, comet_err("rate_limit_exceeded"), RateLimitError, "rate_limit_exceeded",
     "c-77", True),
    ("comet", 500, comet_err("invalid_request"), SeedanceAPIError, "invalid_request", "c-77",
     False),
    ("comet", 500, comet_err("upstream_error"), ServerError, "upstream_error", "c-77", True),
    ("comet", 524, comet_err(""), ServerError, "", "c-77", True),
    ("comet-volc", 400, comet_err("InputTextSensitiveContentDetected"), ModerationError,
     "InputTextSensitiveContentDetected", "c-77", False),
    ("comet-volc", 500, comet_err("invalid_request"), SeedanceAPIError, "invalid_request",
     "c-77", False),
    ("comet-volc", 400, comet_err("task_not_exist"), TaskNotFound, "task_not_exist", "c-77",
     False),
    ("acedata", 401, ace_err("invalid_token"), AuthError, "invalid_token", "tr-1", False),
    ("acedata", 400, ace_err("token_mismatched"), AuthError, "token_mismatched", "tr-1", False),
    ("acedata", 401, ace_err("token_expired"), AuthError, "token_expired", "tr-1", False),
    ("acedata", 401, ace_err("no_token"), AuthError, "no_token", "tr-1", False),
    ("acedata", 403, ace_err("disabled"), AuthError, "disabled", "tr-1", False),
    ("acedata", 400, ace_err("used_up"), QuotaError, "used_up", "tr-1", False),
    ("acedata", 402, ace_err("payment_required"), QuotaError, "payment_required", "tr-1", False),
    ("acedata", 403, ace_err("forbidden", "content blocked"), ModerationError, "forbidden",
     "tr-1", False),
    ("acedata", 404, ace_err("not_found"), TaskNotFound, "not_found", "tr-1", False),
    ("acedata", 400, ace_err("not_found"), TaskNotFound, "not_found", "tr-1", False),
    ("acedata", 429, ace_err("too_many_requests"), RateLimitError, "too_many_requests", "tr-1",
     True),
    ("acedata", 500, ace_err("api_error"), ServerError, "api_error", "tr-1", True),
    ("acedata", 400, ace_err("bad_request"), SeedanceAPIError, "bad_request", "tr-1", False),
    ("acedata", 400, ace_err("api_not_implemented"), SeedanceAPIError, "api_not_implemented",
     "tr-1", False),
    ("acedata", 400, {"success": False, "error": "prompt too long", "trace_id": "tr-2"},
     SeedanceAPIError, "", "tr-2", False),
]


@pytest.mark.parametrize("provider, status, reply, cls, code, rid, retryable", CASES)
def test_envelopes_map_to_exception_classes(provider, status, reply, cls, code, rid, retryable):
    exc = get_dialect(provider).parse_error(status, {}, body(reply))
    assert type(exc) is cls
    assert (exc.provider, exc.http_status, exc.code, exc.request_id, exc.retryable) == (
        provider, status, code, rid, retryable)
    assert exc.message and exc.message in str(exc)


def test_ace_bare_string_error_is_the_message():
    exc = get_dialect("acedata").parse_error(400, {}, body(
        {"success": False, "error": "prompt too long", "trace_id": "tr-2"}))
    assert exc.message == "prompt too long"
    assert str(exc) == "acedata HTTP 400: prompt too long (request id tr-2)"


def test_x_request_id_header_beats_the_message_suffix():
    exc = get_dialect("ark").parse_error(400, {"x-request-id": "hdr-1"},
                                         body(ark_err("InvalidParameter")))
    assert exc.request_id == "hdr-1"
    assert exc.message == f"bad Request id: {ARK_RID}"


def test_non_json_error_body_is_reported_verbatim_first_200_chars():
    html = "<html><body>301 Moved Permanently" + "x" * 400 + "</body></html>"
    exc = get_dialect("comet").parse_error(301, {}, html.encode())
    assert type(exc) is SeedanceAPIError and exc.message == html[:200]
    gateway = get_dialect("ark").parse_error(502, {}, b"<html>Bad Gateway</html>")
    assert type(gateway) is ServerError and gateway.message == "<html>Bad Gateway</html>"
    empty = get_dialect("acedata").parse_error(503, {}, b"")
    assert type(empty) is ServerError and empty.message == "empty reply to HTTP 503"


@pytest.mark.parametrize("headers, expected", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": "2.5"}, 2.5),
    ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_rate_limit_retry_after(headers, expected):
    exc = get_dialect("ark").parse_error(429, headers, body(ark_err("ServerOverloaded")))
    assert isinstance(exc, RateLimitError) and exc.retry_after == expected


def test_rate_limit_retry_after_http_date():
    headers = {"Retry-After": formatdate(time.time() + 30, usegmt=True)}
    exc = get_dialect("comet").parse_error(429, headers, body(comet_err("rate_limit_exceeded")))
    assert 27 <= exc.retry_after <= 30
    past = {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert get_dialect("acedata").parse_error(429, past, b"{}").retry_after == 0.0


def test_parse_methods_raise_the_envelope_error_on_http_errors():
    d = get_dialect("ark")
    with pytest.raises(TaskNotFound):
        d.parse_task(404, {}, body(ark_err("NotFound.TaskId")))
    with pytest.raises(AuthError):
        get_dialect("acedata").parse_create(401, {}, body(ace_err("invalid_token")))
    with pytest.raises(TaskNotFound):  # Ace retrieve of an unknown id
        get_dialect("acedata").parse_task(404, {}, body(ace_err("not_found")))
    with pytest.raises(TaskNotFound):
        get_dialect("comet").parse_task(400, {}, body(comet_err("task_not_exist")))


# -- status words (§6.4): the union applies to every provider ---------------------------

WORDS = [
    ("queued", "queued"), ("SUBMITTED", "queued"), ("submitted", "queued"),
    ("pending", "queued"),
    ("running", "running"), ("IN_PROGRESS", "running"), ("in_progress", "running"),
    ("processing", "running"),
    ("succeeded", "succeeded"), ("SUCCESS", "succeeded"), ("success", "succeeded"),
    ("completed", "succeeded"), ("succeed", "succeeded"), ("complete", "succeeded"),
    ("finished", "succeeded"), (" Succeeded ", "succeeded"),
    ("failed", "failed"), ("FAILED", "failed"), ("ERROR", "failed"), ("error", "failed"),
    ("failure", "failed"), ("rejected", "failed"),
    ("cancelled", "cancelled"), ("canceled", "cancelled"),
    ("expired", "expired"),
]
PROVIDERS = [("ark", "ark"), ("byteplus", "ark"), ("comet-volc", "ark"), ("comet", "ark"),
             ("acedata", "ark"), ("emulator", "ark"), ("emulator", "byteplus"),
             ("emulator", "comet-volc"), ("emulator", "comet"), ("emulator", "acedata")]


def status_reply(dialect: str, word: str) -> dict:
    if dialect == "acedata":
        return {"id": "t-1", "response": {"success": True, "task_id": "t-1",
                                          "data": {"status": word, "video_url": "https://v"}}}
    return {"id": "t-1", "status": word}


@pytest.mark.parametrize("provider, emulate", PROVIDERS)
@pytest.mark.parametrize("word, status", WORDS)
def test_every_status_word_for_every_provider(provider, emulate, word, status):
    d = get_dialect(provider, emulate)
    task = d.parse_task(200, {}, body(status_reply(d.dialect, word)))
    assert (task.status, task.unknown_word, task.id) == (status, None, "t-1")


@pytest.mark.parametrize("provider, emulate", PROVIDERS)
def test_unknown_word_is_running_and_reported(provider, emulate):
    d = get_dialect(provider, emulate)
    task = d.parse_task(200, {}, body(status_reply(d.dialect, "Paused")))
    assert (task.status, task.unknown_word) == ("running", "Paused")


# -- url_expiry --------------------------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    ("https://t.example/v.mp4?X-Tos-Algorithm=x&X-Tos-Date=20251121T170000Z"
     "&X-Tos-Expires=86400&X-Tos-Signature=ab", 1763744400.0 + 86400),
    ("http://127.0.0.1:8765/files/a.mp4?x-tos-date=20251121T170000Z&x-tos-expires=3",
     1763744403.0),
    ("https://t.example/v.mp4?X-Tos-Date=20251121T170000Z", None),
    ("https://t.example/v.mp4?X-Tos-Expires=86400", None),
    ("https://t.example/v.mp4?X-Tos-Date=garbage&X-Tos-Expires=86400", None),
    ("https://t.example/v.mp4", None),
    ("", None),
    (None, None),
])
def test_url_expiry(url, expected):
    assert url_expiry(url) == expected


# -- keys never reach the dialects -------------------------------------------------------

KEY = "sk-livekey-0123456789abcdefXYZ"


def _all_calls(provider, emulate):
    d = get_dialect(provider, emulate)
    r = req(provider, "2.0", emulate=emulate, images=[local("first_frame")])
    calls = [d.create_call(r), d.get_call("t-1"), d.batch_call(["t-1", "t-2"]),
             d.cancel_call("t-1"), d.list_recent_call(r.model)]
    return d, [c for c in calls if c is not None]


@pytest.mark.parametrize("provider, emulate", PROVIDERS)
def test_transport_facing_calls_carry_no_key(provider, emulate, monkeypatch):
    for env in ("ARK_API_KEY", "BYTEPLUS_API_KEY", "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN",
                "SEEDANCE_EMULATOR_TOKEN"):
        monkeypatch.setenv(env, KEY)
    d, calls = _all_calls(provider, emulate)
    assert KEY not in repr(d) and KEY not in repr(vars(d))
    assert not {f.name for f in dataclasses.fields(HttpCall)} & {"api_key", "key", "auth"}
    for call in calls:
        headers = call.headers or {}
        assert set(headers) <= {"X-Client-Request-Id"}  # the transport adds Authorization
        assert KEY not in repr(call) and KEY not in json.dumps(call.json)
        assert KEY not in json.dumps(call.fields) and KEY not in json.dumps(list(call.params))


@pytest.mark.parametrize("provider, status, reply, cls, code, rid, retryable", CASES)
def test_no_error_text_contains_a_key(provider, status, reply, cls, code, rid, retryable):
    exc = get_dialect(provider).parse_error(status, {"X-Request-Id": "r"}, body(reply))
    for text in (str(exc), repr(exc), exc.message, exc.request_id, *map(str, exc.args)):
        assert KEY not in text


def test_a_key_echoed_by_a_gateway_is_redacted():
    register_secret(KEY)
    echo = ark_err("AuthenticationError", f"bad key {KEY} in Authorization: Bearer {KEY}")
    exc = get_dialect("ark").parse_error(401, {}, body(echo))
    assert KEY not in str(exc) and KEY not in repr(exc) and KEY not in exc.message
    exc2 = get_dialect("comet").parse_error(401, {}, body(comet_err("", f"key {KEY} bad")))
    assert KEY not in str(exc2) and "***" in str(exc2)


def test_error_envelope_inside_a_200_reply_is_still_an_error():
    with pytest.raises(TaskNotFound):
        get_dialect("acedata").parse_task(200, {}, body(ace_err("not_found")))
    with pytest.raises(QuotaError):
        get_dialect("acedata").parse_create(200, {}, body(ace_err("used_up")))
    with pytest.raises(SeedanceAPIError) as info:  # no code, no error status: a plain error
        get_dialect("comet").parse_create(200, {}, body(comet_err("", "model name is required")))
    assert (info.value.message, info.value.request_id) == (
        "model name is required (request id: c-77)", "c-77")


@pytest.mark.parametrize("provider", ["ark", "comet-volc", "comet", "acedata"])
@pytest.mark.parametrize("reply", [b"[]", b"{}", b'{"ok": true}', b'"text"'])
def test_a_2xx_reply_that_is_not_a_task_is_an_error(provider, reply):
    with pytest.raises(SeedanceAPIError, match="reply is not a task"):
        get_dialect(provider).parse_task(200, {}, reply)


def test_model_not_available_carries_the_hint_and_is_not_retried():
    exc = get_dialect("ark").parse_error(404, {}, body(ark_err("InvalidEndpointOrModel.NotFound")),
                                         create=True)
    assert isinstance(exc, ModelNotAvailable) and exc.retryable is False
    assert "retired or not enabled for this account" in str(exc)
    assert "seedance-nb models --check" in str(exc)


@pytest.mark.parametrize("provider", ["ark", "byteplus", "emulator"])
def test_a_404_on_a_create_is_never_task_not_found(provider):
    reply = body(ark_err("NotFound"))
    assert isinstance(get_dialect(provider).parse_error(404, {}, reply), TaskNotFound)
    on_create = get_dialect(provider).parse_error(404, {}, reply, create=True)
    assert not isinstance(on_create, TaskNotFound) and on_create.http_status == 404


def test_ace_create_reply_naming_a_model_is_model_not_available():
    reply = body(ace_err("bad_request", "model doubao-seedance-1-5-pro-251215 is offline"))
    with pytest.raises(ModelNotAvailable):
        get_dialect("acedata").parse_create(200, {}, reply)
