"""A process killed at each write-ahead step loses nothing: resume() finishes the
job without sending the create again (ledger write-ahead, §8)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from seedance_nb import jobs
from seedance_nb.emulator import Emulator

from _client_helpers import decodes, isolated_jobs, pick_model

pytestmark = pytest.mark.timeout(120)

CHILD = textwrap.dedent("""
    import sys
    from seedance_nb import jobs
    from seedance_nb.config import settings
    url, token, out, model = sys.argv[1:5]
    settings.output_dir = out
    settings.poll_interval = 0.1
    job = jobs.submit("crash test clip", provider="emulator", emulate="ark", base_url=url,
                      api_key=token, model=model, resolution="480p", duration=2)
    job.wait(30)
    print("no crash", job.status)
""")


@pytest.fixture(scope="module")
def emu():
    with Emulator(port=0, speed=100, run_seconds=1) as server:  # a separate process
        yield server


def _crash(emu, tmp_path, point: str, model: str) -> int:
    env = dict(os.environ, SEEDANCE_NB_CRASH_AT=point)
    proc = subprocess.run([sys.executable, "-c", CHILD, emu.base_url, emu.token,
                           str(tmp_path / "out"), model], env=env, capture_output=True,
                          text=True, timeout=60)
    return proc.returncode


def _creates(emu) -> int:
    return sum(emu.stats()["creates"].values())


def test_crash_after_intent_nothing_sent(emu, tmp_path):
    before = _creates(emu)
    assert _crash(emu, tmp_path, "after_intent", "1.0-pro") == 97
    assert _creates(emu) == before
    with isolated_jobs(tmp_path) as mgr:
        led = mgr.ledger()
        (row,) = led.rows()
        # recorded, never sent: it waits in the ledger and resume() sends it, once
        assert row["status"] == "waiting" and row["sent_at"] is None
        (job,) = jobs.resume(api_key=emu.token, base_url=row["base_url"])
        job.wait(60)
        assert job.status == "succeeded" and _creates(emu) == before + 1
        assert jobs.resume(api_key=emu.token, base_url=row["base_url"]) == []


@pytest.mark.parametrize("point,model", [("after_send", "1.0-pro-fast"),
                                         ("after_id", "1.0-pro-fast")])
def test_crash_after_sending_is_resumed_without_resending(emu, tmp_path, point, model):
    before = _creates(emu)
    assert _crash(emu, tmp_path, point, model) == 97
    assert _creates(emu) == before + 1
    with isolated_jobs(tmp_path) as mgr:
        (row,) = mgr.ledger().rows()
        assert row["sent_at"] is not None
        assert (row["task_id"] is None) == (point == "after_send")
        if point == "after_send":
            # The id never reached the ledger: resume() shows the candidates and the
            # user adopts one (seedance_nb.adopt); it never adopts nor resends on its own.
            assert jobs.resume(api_key=emu.token, base_url=row["base_url"]) == []
            assert mgr.ledger().get(row["id"])["status"] == "unknown"
            jobs.adopt(row["id"], _only_task(emu))  # the task the crashed child made
        (job,) = jobs.resume(api_key=emu.token, base_url=row["base_url"])
        job.wait(30)
        assert job.status == "succeeded" and decodes(job.video_path) > 0
        assert mgr.ledger().get(row["id"])["video_path"] == job.video_path
    assert _creates(emu) == before + 1  # never resubmitted


def _only_task(emu) -> str:
    """The id of the newest task on the emulator (what the user reads off resume()'s
    candidate list)."""
    from seedance_nb.config import resolve_client
    from seedance_nb.http import Transport
    from seedance_nb.providers import get_dialect

    settings = resolve_client("emulator", emu.token, emu.base_url, "ark")
    dialect = get_dialect("emulator", "ark")
    transport = Transport(settings, dialect)
    try:
        resp = transport.send(dialect.list_recent_call("doubao-seedance-1-0-pro-fast-251015", 20))
        tasks = dialect.parse_batch(resp.status_code, dict(resp.headers), resp.content)
    finally:
        transport.close()
    return max(tasks, key=lambda t: t.created_at or 0).id


def test_unknown_outcome_is_adopted_not_resent_on_ark(emu, tmp_path):
    """A create whose reply was a 500: its orphan is shown, adopted by the user, resumed."""
    before = _creates(emu)
    with isolated_jobs(tmp_path):
        job = jobs.submit("lost reply [emu:500]", provider="emulator", emulate="ark",
                          base_url=emu.base_url, api_key=emu.token, model="1.0-pro-fast",
                          resolution="480p", duration=2)
        with pytest.raises(Exception):
            job.wait(30)
        assert job.status == "unknown"
        led = job.ledger
        orphan = _only_task(emu)  # the newest task (the emulator is shared by this module)
        assert orphan in job.exception.orphans  # ark lists recent tasks: it is named
        where = job.settings.base_url
        assert jobs.resume(api_key=emu.token, base_url=where) == []  # never adopted
        assert led.get(job.ledger_id)["status"] == "unknown"
        jobs.adopt(job.ledger_id, orphan)
        (resumed,) = jobs.resume(api_key=emu.token, base_url=where)
        resumed.wait(30)
        assert resumed.status == "succeeded" and decodes(resumed.video_path) > 0
        row = led.get(job.ledger_id)
        assert row["task_id"] == resumed.task_id and row["status"] == "succeeded"
    assert _creates(emu) == before + 1


@pytest.mark.parametrize("emulate", ["comet", "acedata"])
def test_unknown_outcome_reported_plainly_where_no_listing(tmp_path, emulate, capsys):
    with Emulator(port=0, speed=100, in_process=True, run_seconds=1) as server, \
            isolated_jobs(tmp_path):
        model, seconds = pick_model(emulate, "t2v")
        job = jobs.submit("lost reply [emu:500]", provider="emulator", emulate=emulate,
                          base_url=server.base_url, api_key=server.token, model=model,
                          resolution="480p", duration=seconds)
        with pytest.raises(Exception):
            job.wait(30)
        assert job.status == "unknown"
        assert jobs.resume(api_key=server.token, base_url=job.settings.base_url) == []
        assert "cannot list" in capsys.readouterr().out
        assert job.ledger.get(job.ledger_id)["status"] == "unknown"
        assert sum(server.stats()["creates"].values()) == 1  # never resubmitted
