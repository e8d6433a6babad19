"""A key a gateway echoes back never reaches the ledger, a repr, an error or a log; and
ordinary words that only look like key prefixes are never rewritten.

The gateway is `hostile.Hostile` on loopback, speaking the Ark dialect; the socket
guard proves nothing leaves the machine.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

import seedance_nb
from seedance_nb import catalog
from seedance_nb.errors import SeedanceError

from _ledger_helpers import isolated_manager
from hostile import Hostile, fake_mp4, json_text, reply, socket_guard

KEY = "sk-echoed/key+0123456789=abcdef"
ECHOES = (KEY, quote(KEY, safe=""), quote_plus(KEY), KEY.replace("/", "\\/"))
CREATE = "/api/v3/contents/generations/tasks"
SMALL = dict(model="1.0-pro-fast", resolution="480p", ratio="1:1", duration=2)


@pytest.fixture
def gw(tmp_path, monkeypatch):
    monkeypatch.setattr(catalog, "POLL_FLOOR_REAL_S", 0.05)  # poll the fake "ark" quickly
    with socket_guard(), Hostile() as server, isolated_manager(tmp_path, 0.05):
        yield server


def _task(task_id: str, status: str, **extra) -> str:
    body = {"id": task_id, "model": "doubao-seedance-1-0-pro-fast-251015", "status": status,
            "created_at": 1763741340, "updated_at": 1763741400, **extra}
    return json.dumps(body)


def _leaks(text: str) -> list[str]:
    return [e for e in ECHOES if e in text]


def _ledger_bytes(tmp_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite*"))


def _echoing_gateway(gw):
    """Three creates: one fails echoing the key (URL-encoded, after Bearer), one succeeds
    with the key echoed in its video URL, one is refused with the key in the error."""
    refuse = json_text(json.dumps({"error": {
        "code": "InvalidParameter", "message": f"request with key {KEY} is invalid",
        "param": "model", "type": "BadRequest"}}), status=400)

    def create(conn, req):  # answer each create by its prompt, whatever the order
        if b"refused clip" in req.body:
            return refuse(conn, req)
        task_id = "cgt-a" if b"failing clip" in req.body else "cgt-b"
        return json_text(_task(task_id, "queued"))(conn, req)

    gw.route(CREATE, create)
    gw.route(f"{CREATE}/cgt-a", json_text(_task("cgt-a", "failed", error={
        "code": "InternalServiceError", "message": f"upstream said Bearer {quote(KEY, safe='')}"})))
    gw.route(f"{CREATE}/cgt-b", json_text(_task("cgt-b", "succeeded", content={
        "video_url": f"{gw.remote_url}/v.mp4?token={quote_plus(KEY)}&X-Tos-Expires=86400"})))
    gw.default = json_text(json.dumps({"items": [], "total": 0}))  # batch reads: one by one


def _run_three(gw):
    _echoing_gateway(gw)
    base = gw.url + "/api/v3"
    failed = seedance_nb.submit("failing clip", provider="ark", api_key=KEY, base_url=base,
                                **SMALL)
    echoed = seedance_nb.submit("echoed url clip", provider="ark", api_key=KEY, base_url=base,
                                **SMALL)
    refused = seedance_nb.submit("refused clip", provider="ark", api_key=KEY, base_url=base,
                                 **SMALL)
    texts = []
    for job in (failed, echoed, refused):
        with pytest.raises(SeedanceError) as info:
            job.wait(20)
        texts += [str(info.value), repr(info.value), repr(job), job.error]
    assert failed.status == "failed" and refused.status == "rejected", texts
    return (failed, echoed, refused), texts


def test_a_key_echoed_in_an_error_and_a_url_is_nowhere(gw, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="seedance_nb")
    (_, _, refused), texts = _run_three(gw)
    assert "is invalid" in refused.error  # the error is still shown, minus the key
    assert gw.hits(f"{CREATE}/cgt-b") >= 1  # the echoing URL really was read
    assert _leaks("\n".join(texts)) == [], [t for t in texts if _leaks(t)]
    raw = _ledger_bytes(tmp_path)
    assert b"failing clip" in raw and b"upstream said Bearer ***" in raw
    assert [e for e in ECHOES if e.encode() in raw] == []
    logged = caplog.text + "".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert _leaks(logged) == []


def test_prompts_and_file_names_that_look_like_key_prefixes_stay_as_written(gw, tmp_path):
    prompt = "an ark-inspired boat; Bearer of good news: sk-8 crew cheers"
    gw.route(CREATE, json_text(_task("ark-inspired-1", "queued")))
    gw.route(f"{CREATE}/ark-inspired-1", json_text(_task("ark-inspired-1", "succeeded", content={
        "video_url": f"{gw.url}/files/ark-inspired-1.mp4"})))
    gw.route("/files/ark-inspired-1.mp4", reply(200, fake_mp4(), {"Content-Type": "video/mp4"}))
    gw.default = json_text(json.dumps({"items": [], "total": 0}))
    job = seedance_nb.submit(prompt, provider="ark", api_key=KEY, base_url=gw.url + "/api/v3",
                             name="Bearer of good news", **SMALL).wait(20)
    assert Path(job.video_path).name == "ark-ark-inspired-1.mp4"
    assert job.video_path in repr(job) and "***" not in repr(job)
    row = job.ledger.get(job.ledger_id)
    assert row["request"]["prompt"] == prompt and row["name"] == "Bearer of good news"
    assert (row["task_id"], row["video_path"]) == ("ark-inspired-1", job.video_path)
    assert prompt.encode() in _ledger_bytes(tmp_path)
    assert "***" not in str(seedance_nb.history(as_frame=False))


def test_repr_of_a_task_does_not_carry_an_echoed_key(gw):
    jobs, _ = _run_three(gw)
    shown = [repr(job.task) for job in jobs]
    assert _leaks("\n".join(shown)) == [], shown
