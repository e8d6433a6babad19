"""Malformed requests get a 4xx in the route's own envelope, never an HTML page; a bug
behind any route answers a 500 in that envelope (reference §7.1, §10.2, §10.4)."""
from __future__ import annotations

import re

import pytest

from _emulator_helpers import ARK_TASKS, VOLC_TASKS, ark_body, emulator

ROUTES = [(ARK_TASKS, "ark"), (VOLC_TASKS, "comet"), ("/seedance/videos", "ace"),
          ("/seedance/tasks", "ace")]
BODIES = {
    "truncated": b'{"model": ',
    "deep array": b"[" * 20_000 + b"]" * 20_000,
    "deep object": b'{"a":' * 9_000 + b"1" + b"}" * 9_000,
    "list": b"[1, 2]",
    "string": b'"make a video"',
    "null": b"null",
    "empty": b"",
    "latin-1": '{"model": "caf\u00e9"}'.encode("latin-1"),
    "utf-16": '{"model": "x"}'.encode("utf-16"),
    "NaN": b'{"model": "doubao-seedance-2-0-260128", "seed": NaN}',
    "huge int": b'{"seed": ' + b"9" * 5000 + b"}",
}


@pytest.fixture(scope="module")
def c():
    with emulator(max_body_bytes=64 * 1024) as client:
        yield client


def check_envelope(reply, dialect: str, status: int) -> dict:
    assert reply.status_code == status, reply.text[:300]
    assert reply.headers["Content-Type"] == "application/json"
    body = reply.json()
    if dialect == "ark":
        err = body["error"]
        assert set(err) == {"code", "message", "param", "type"}
        assert err["message"].endswith("Request id: " + reply.headers["X-Request-Id"])
    elif dialect == "comet":
        err = body["error"]
        assert err["type"] == "comet_api_error" and re.search(r"\(request id: \w+\)$",
                                                              err["message"])
    else:
        assert body["success"] is False and body["trace_id"]
        err = body["error"]
    assert "\n" not in err["message"] and "<" not in err["message"]
    return err


@pytest.mark.parametrize("path, dialect", ROUTES)
@pytest.mark.parametrize("kind", list(BODIES))
def test_malformed_json_bodies_are_4xx_in_the_envelope(c, path, dialect, kind):
    reply = c.post(path, data=BODIES[kind],
                   headers={**c.headers(), "Content-Type": "application/json"})
    err = check_envelope(reply, dialect, 400)
    expected = {"ark": "InvalidParameter", "comet": "InvalidParameter", "ace": "bad_request"}
    assert err["code"] == expected[dialect]


@pytest.mark.parametrize("path, dialect", ROUTES)
def test_oversized_bodies_are_413(c, path, dialect):
    body = ark_body("x" * 70 * 1024)
    reply = c.post(path, json=body)
    err = check_envelope(reply, dialect, 413)
    assert "larger than 65536 bytes" in err["message"]
    assert c.stats()["creates"] == {"ark": 0, "comet": 0, "volc": 0, "ace": 0}


def test_oversized_multipart_on_comet_is_413(c):
    reply = c.comet_create(image=b"\x89PNG" + b"0" * 70 * 1024)
    err = check_envelope(reply, "comet", 413)
    assert err["code"] == "invalid_request"


@pytest.mark.parametrize("kwargs", [
    {"json": {"model": "doubao-seedance-2-0", "prompt": "a lighthouse", "seconds": "4"}},
    {"data": {"model": "doubao-seedance-2-0", "prompt": "a lighthouse"}},  # urlencoded
    {},
])
def test_comet_create_must_be_multipart(c, kwargs):
    reply = c.post("/v1/videos", **kwargs)
    err = check_envelope(reply, "comet", 400)
    assert err["code"] == "invalid_request" and err["param"] == "Content-Type"
    assert "multipart/form-data" in err["message"]
    assert c.stats()["creates"]["comet"] == 0


def test_a_bug_behind_any_route_is_a_500_in_its_envelope(capfd):
    with emulator() as c:
        app = c.emu._server.app

        def boom(*args, **kwargs):
            raise RuntimeError("emulator bug")

        app.store.create = boom
        app.store.get = boom
        app.signer.check = boom
        for reply, dialect in ((c.ark_create(ark_body()), "ark"),
                               (c.ark_get("cgt-20261201000000-aaaaa"), "ark"),
                               (c.ark_create(ark_body(), VOLC_TASKS), "comet"),
                               (c.comet_create(), "comet"),
                               (c.ace_create(), "ace"),
                               (c.ace_retrieve("00000000-0000-4000-8000-000000000000"), "ace")):
            err = check_envelope(reply, dialect, 500)
            assert "RuntimeError" in err["message"]
        files = c.s.get(c.base + "/files/x.mp4?X-Tos-Date=1")
        assert files.status_code == 500 and files.headers["Content-Type"].startswith("text/plain")
        assert c.s.get(c.base + "/healthz").text == "ok"
    assert "emulator bug" in capfd.readouterr().err  # the traceback is kept for debugging
