"""Cancel and delete (§10.6): the card's Cancel button, `%seedance cancel`, `%seedance
delete` and `Job.delete()`, through a real InteractiveShell and an in-process emulator.

The emulator's test markers (§10.10) shape the cases: `[emu:stall]` keeps a task
running; with one concurrency slot per family, a second task stays queued behind it.
"""
from __future__ import annotations

import time

import pytest
import requests
from IPython.core.error import UsageError

from seedance_nb import jobs
from seedance_nb.config import settings
from seedance_nb.errors import SeedanceError, TaskFailed
from seedance_nb.ui import JobCard

from _magic_helpers import make_shell, real_engine

pytestmark = pytest.mark.timeout(90)
FAMILY = "1.0-pro-fast"
KW = dict(provider="emulator", model=FAMILY, resolution="480p", duration=2)
ARK_TASKS = "/api/v3/contents/generations/tasks"


@pytest.fixture(scope="module")
def shell():
    return make_shell()


@pytest.fixture(autouse=True)
def _clean(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def engine(tmp_path, monkeypatch):
    # one running task per family: a stalled task holds the slot, the next one queues
    with real_engine(tmp_path, monkeypatch, concurrency={FAMILY: 1}) as eng:
        yield eng


def _until(cond, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def _deletes(engine) -> int:
    """DELETE requests the emulator received (every route)."""
    return sum(n for route, n in engine.emu.stats()["requests"].items()
               if route.startswith("DELETE"))


def _gateway_read(engine, task_id: str) -> requests.Response:
    """GET the task at the emulator's Ark route, as any client would."""
    return requests.get(f"{engine.emu.base_url}{ARK_TASKS}/{task_id}", timeout=10,
                        headers={"Authorization": f"Bearer {engine.emu.token}"})


def _gateway_get(engine, task_id: str) -> int:
    return _gateway_read(engine, task_id).status_code


def _lines(capsys) -> list[str]:
    return capsys.readouterr().out.splitlines()


def _running_and_queued(name: str = "fox"):
    hare = jobs.submit("a stalled hare [emu:stall]", name="hare", **KW)
    _until(lambda: hare.status == "running")
    fox = jobs.submit("a fox waits its turn", name=name, **KW)
    _until(lambda: fox.status == "queued")
    return hare, fox


# --- %seedance cancel ------------------------------------------------------------------


def test_cancel_prints_one_line_for_a_queued_task_and_ends_neutral(shell, engine, capsys):
    hare, fox = _running_and_queued()
    card = JobCard(fox)
    capsys.readouterr()
    shell.run_line_magic("seedance", "cancel fox")
    assert _lines(capsys) == [f"cancelled job fox (task {fox.task_id})"]
    with pytest.raises(TaskFailed):  # wait() still says the task did not succeed
        fox.wait(30)
    assert fox.status == "cancelled" and fox.error == ""  # the user's own cancel: no error
    assert 'data-status="cancelled"' in card.status.value
    assert "jp-ui-font-color2" in card.status.value  # grey, not the error colour
    assert "Cancelled at your request." in card.notice.value and card.error.value == ""
    assert card.cancel.disabled


def test_cancel_prints_one_line_for_a_running_task_and_sends_nothing(shell, engine, capsys):
    hare, _fox = _running_and_queued()
    capsys.readouterr()
    shell.run_line_magic("seedance", "cancel hare")
    assert _lines(capsys) == [
        "job hare cannot be cancelled: the task is already running; the emulator "
        "(ark dialect) cancels only queued tasks"]
    # no DELETE: the gateway would refuse it, or, had the task just succeeded, delete it
    assert _deletes(engine) == 0 and hare.status == "running" and not hare.done
    assert "cancel refused" in hare.warning


def test_cancel_prints_one_line_when_the_gateway_refuses(shell, tmp_path, monkeypatch, capsys):
    # the client still says queued (its first status read is a minute away) while the
    # gateway already runs the task: the DELETE goes out and is refused with 409
    monkeypatch.setattr(jobs.scheduler, "FIRST_CHECK_S", 60.0)
    with real_engine(tmp_path, monkeypatch) as engine:
        settings.poll_interval = 60.0
        job = jobs.submit("a stalled hare [emu:stall]", name="hare", **KW)
        engine.wait_sent([job])
        _until(lambda: _gateway_read(engine, job.task_id).json()["status"] == "running")
        capsys.readouterr()
        shell.run_line_magic("seedance", "cancel hare")
        assert _lines(capsys) == [
            "job hare cannot be cancelled: the task is already running; the emulator "
            "(ark dialect) cancels only queued tasks"]
        assert _deletes(engine) == 1 and "cancel refused" in job.warning


@pytest.mark.parametrize("emulate", ["comet", "acedata"])
def test_cancel_where_the_gateway_has_no_route_sends_nothing(shell, engine, capsys, emulate):
    job = jobs.submit("a slow river [emu:stall]", name="river", emulate=emulate,
                      **{**KW, "model": "2.0-fast", "duration": 4})
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("seedance", "cancel river")
    assert str(info.value) == (f"job river cannot be cancelled: the emulator ({emulate} "
                               f"dialect) has no cancel route: the task runs to the end")
    assert _lines(capsys) == [] and _deletes(engine) == 0 and not job.done


# --- the card's Cancel button ----------------------------------------------------------


@pytest.mark.parametrize("emulate", ["comet", "acedata"])
def test_card_cancel_is_off_with_the_reason_where_the_gateway_cannot(engine, emulate):
    job = jobs.submit("a slow river [emu:stall]", emulate=emulate,
                      **{**KW, "model": "2.0-fast", "duration": 4})
    card = JobCard(job)
    assert card.cancel.disabled
    assert card.cancel.tooltip == (f"Cannot cancel: the emulator ({emulate} dialect) has no "
                                   f"cancel route: the task runs to the end")
    assert "Cancel is off: the emulator" in card.notice.value


def test_card_cancel_turns_off_when_an_ark_task_runs(engine):
    hare = jobs.submit("a stalled hare [emu:stall]", **KW)
    card = JobCard(hare)
    assert not card.cancel.disabled  # pending or queued: ark can cancel it
    _until(lambda: hare.status == "running")
    assert card.cancel.disabled
    assert card.cancel.tooltip == ("Cannot cancel: the emulator (ark dialect) cancels only "
                                   "queued tasks; this one is running and runs to the end")


def test_card_shows_the_gateways_refusal_in_plain_words(tmp_path, monkeypatch):
    # The card still says queued (its first poll is a minute away) while the gateway
    # already runs the task: the click's DELETE is refused with 409.
    monkeypatch.setattr(jobs.scheduler, "FIRST_CHECK_S", 60.0)
    with real_engine(tmp_path, monkeypatch) as engine:
        settings.poll_interval = 60.0
        job = jobs.submit("a stalled hare [emu:stall]", **KW)
        engine.wait_sent([job])
        _until(lambda: _gateway_read(engine, job.task_id).json()["status"] == "running")
        card = JobCard(job)
        assert job.status == "queued" and not card.cancel.disabled
        card.cancel.click()
        _until(lambda: "Could not cancel" in card.notice.value)
        assert ("Could not cancel: the task is already running; the emulator (ark dialect) "
                "cancels only queued tasks") in card.notice.value
        # the refusal makes the client read the task at once: the card catches up
        _until(lambda: job.status == "running")
        assert card.cancel.disabled and card.cancel.description == "Cancel"
        assert "cancels only queued tasks" in card.cancel.tooltip


# --- delete ----------------------------------------------------------------------------


def test_delete_magic_removes_a_finished_task_at_the_gateway(shell, engine, capsys):
    job = jobs.submit("a lighthouse", name="light", **KW).wait(60)
    assert _gateway_get(engine, job.task_id) == 200
    capsys.readouterr()
    shell.run_line_magic("seedance", "delete light")
    assert _lines(capsys) == [
        f"deleted job light (task {job.task_id}) at the emulator (ark dialect): its record "
        f"and files there are gone; the local file {job.video_path} and the ledger row are "
        f"kept"]
    assert _gateway_get(engine, job.task_id) == 404
    import os

    assert os.path.isfile(job.video_path)
    row = job.ledger.get(job.ledger_id)
    assert row["status"] == "succeeded" and row["url_expires_at"] <= time.time()


def test_job_delete_on_the_emulator_then_the_gateway_says_404(engine):
    failed = jobs.submit("a storm [emu:fail]", **KW)
    with pytest.raises(TaskFailed):
        failed.wait(60)
    outcome = failed.delete()
    assert outcome.ok and outcome.task_id == failed.task_id
    assert outcome.reason == "its record and files there are gone; the ledger row is kept"
    assert failed.deleted_at_gateway is not None
    assert _gateway_get(engine, failed.task_id) == 404


def test_delete_is_refused_for_a_running_task_and_sends_nothing(shell, engine):
    hare = jobs.submit("a stalled hare [emu:stall]", name="hare", **KW)
    _until(lambda: hare.status == "running")
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("seedance", "delete hare")
    assert str(info.value) == ("job hare cannot be deleted: it is still running; delete is "
                               "for finished tasks (succeeded, failed or expired); cancel a "
                               "queued one instead")
    with pytest.raises(SeedanceError, match="it is still running"):
        hare.delete()
    assert _deletes(engine) == 0


@pytest.mark.parametrize("emulate", ["comet", "acedata", "comet-volc"])
def test_delete_where_the_gateway_has_no_route_sends_nothing(shell, engine, emulate):
    model = "2.0-fast" if emulate != "comet-volc" else FAMILY
    job = jobs.submit("a short clip", name="clip", emulate=emulate,
                      **{**KW, "model": model, "duration": 4 if model == "2.0-fast" else 2})
    job.wait(60)
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("seedance", "delete clip")
    assert str(info.value) == (f"job clip cannot be deleted: the emulator ({emulate} dialect) "
                               f"has no route to delete a task; nothing was sent")
    with pytest.raises(SeedanceError, match="no route to delete"):
        job.delete()
    assert _deletes(engine) == 0
