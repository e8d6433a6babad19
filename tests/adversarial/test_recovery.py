"""Resume cannot be tricked: a lost create is never matched to someone else's task, and
the key never goes to a base URL a ledger row names unless the user gave one for it.

Everything runs on loopback: the bundled emulator plays the gateway, `hostile.Hostile`
plays a foreign host, and the socket guard proves nothing else is contacted.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import seedance_nb
from seedance_nb.emulator import Emulator
from seedance_nb.errors import SeedanceError

from _ledger_helpers import create_elsewhere, isolated_manager, send_and_lose
from hostile import Hostile, reply, socket_guard

TOKEN = "sk-recoverytoken-0123456789"


@pytest.fixture
def emu(monkeypatch):
    # 10x speed: a task is done about 2 s after it is created.
    with Emulator(in_process=True, speed=10, run_seconds=20, token=TOKEN) as server:
        monkeypatch.setenv("SEEDANCE_EMULATOR_URL", server.base_url)
        monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", TOKEN)
        yield server


@pytest.fixture
def mgr(emu, tmp_path):
    with isolated_manager(tmp_path) as manager:
        yield manager


def _videos(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").glob("*.mp4"))


def _lost_create_and_a_stranger(mgr):
    """Our create was sent and its answer lost; another client of the same account (a
    colleague, another kernel) made a task of the same model a moment later. The Ark list
    shows both, without prompts."""
    led = mgr.ledger()
    row, ours = send_and_lose(led, "a paper boat on a pond")
    theirs = create_elsewhere("someone else's secret project")
    return led, row, ours, theirs


def test_a_lost_create_is_not_adopted_and_its_candidates_are_shown(mgr, emu, tmp_path, capsys):
    led, row, ours, theirs = _lost_create_and_a_stranger(mgr)
    creates = emu.stats()["creates"]["ark"]

    resumed = seedance_nb.resume()

    assert list(resumed) == []  # nothing reattached
    rec = led.get(row)
    assert (rec["status"], rec["task_id"]) == ("unknown", None)
    [item] = resumed.unresolved
    assert item.row["id"] == row
    assert {c.task_id for c in item.candidates} == {ours, theirs}
    assert all(c.model == rec["model"] and c.created_at for c in item.candidates)
    shown = capsys.readouterr().out
    assert ours in shown and theirs in shown and "Nothing was adopted" in shown
    assert f"%seedance adopt {row} " in shown and f"%seedance dismiss {row}" in shown
    assert f"seedance_nb.dismiss({row})" in shown and "480p 1:1" in shown
    page = resumed.report._repr_html_()  # what a notebook shows
    assert ours in page and theirs in page and f"%seedance dismiss {row}" in page
    assert "<table>" in page and "someone else" not in page  # listings carry no prompt
    time.sleep(2.5)  # long enough for either task to finish: still nothing downloaded
    assert _videos(tmp_path) == [] and led.get(row)["status"] == "unknown"
    assert emu.stats()["creates"]["ark"] == creates  # never resubmitted


def test_adopt_then_resume_downloads_exactly_that_task(mgr, emu, tmp_path, capsys):
    led, row, ours, theirs = _lost_create_and_a_stranger(mgr)
    seedance_nb.resume()
    capsys.readouterr()

    adopted = seedance_nb.adopt(row, ours)
    assert (adopted["status"], adopted["task_id"]) == ("queued", ours)
    [job] = seedance_nb.resume()
    job.wait(30)
    assert job.status == "succeeded" and job.task_id == ours
    assert _videos(tmp_path) == [Path(job.video_path).name]
    assert ours in job.video_path and theirs not in job.video_path
    rec = led.get(row)
    assert (rec["status"], rec["task_id"], rec["video_path"]) == ("succeeded", ours,
                                                                 job.video_path)
    with pytest.raises(SeedanceError, match="not unknown"):
        seedance_nb.adopt(row, theirs)


def test_dismiss_ends_the_repeated_report(mgr, emu, tmp_path, capsys):
    led, row, _, _ = _lost_create_and_a_stranger(mgr)
    assert [u.row["id"] for u in seedance_nb.resume().unresolved] == [row]
    assert [u.row["id"] for u in seedance_nb.resume().unresolved] == [row]  # every time
    capsys.readouterr()

    seedance_nb.dismiss(row)
    again = seedance_nb.resume()
    assert list(again) == [] and not again.report
    assert capsys.readouterr().out == ""
    assert led.get(row)["status"] == "dismissed"


def test_a_provider_that_cannot_list_is_reported_with_the_way_out(mgr, emu, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.setenv("SEEDANCE_EMULATE", "comet")
    led = mgr.ledger()
    row, task = send_and_lose(led, "a paper boat on a pond", model="2.0-fast", duration=4)
    [item] = seedance_nb.resume().unresolved
    assert item.candidates == [] and "cannot list tasks" in item.note
    shown = capsys.readouterr().out
    assert f"%seedance adopt {row} TASK_ID" in shown and f"%seedance dismiss {row}" in shown
    seedance_nb.adopt(row, task)  # an id read in the provider's console
    [job] = seedance_nb.resume()
    assert job.wait(30).status == "succeeded" and task in job.video_path


# --- the key goes only where it was configured to go ----------------------------------------

def _row_for(led, provider: str, base_url: str, task_id: str) -> int:
    from _ledger_helpers import sample_request

    row = led.record_intent(fingerprint=f"fp-{task_id}", provider=provider, dialect="ark",
                            model="doubao-seedance-1-0-pro-250528", base_url=base_url,
                            request=sample_request("a lighthouse"))
    led.mark_sending(row)
    led.record_created(row, task_id)
    return row


@pytest.mark.parametrize("provider", ["ark", "emulator"])
def test_a_row_naming_a_foreign_base_url_is_not_contacted(mgr, emu, provider, monkeypatch,
                                                          capsys):
    monkeypatch.setenv("ARK_API_KEY", TOKEN)
    with Hostile() as foreign:
        foreign.default = reply(200, b'{"id": "cgt-x", "status": "running"}',
                                {"Content-Type": "application/json"})
        led = mgr.ledger()
        row = _row_for(led, provider, foreign.url + "/api/v3", "cgt-x")  # e.g. a shared folder
        with socket_guard():
            resumed = seedance_nb.resume(api_key=TOKEN)
            time.sleep(0.5)
        assert list(resumed) == [] and foreign.seen == []
        [skipped] = resumed.skipped
        assert skipped.row["id"] == row and "not the one configured" in skipped.reason
        shown = capsys.readouterr().out
        assert foreign.url in shown and "api_keys=" in shown and TOKEN not in shown


def test_a_key_given_for_that_base_url_is_the_only_key_it_sees(mgr, emu, monkeypatch):
    monkeypatch.setenv("ARK_API_KEY", TOKEN)
    with Hostile() as foreign:
        foreign.default = reply(200, b'{"id": "cgt-y", "status": "running"}',
                                {"Content-Type": "application/json"})
        led = mgr.ledger()
        _row_for(led, "ark", foreign.url + "/api/v3", "cgt-y")
        with socket_guard():
            [job] = seedance_nb.resume(api_keys={foreign.url + "/api/v3/": "sk-for-that-host-1"},
                                       show=False)
            deadline = time.monotonic() + 10
            while not foreign.seen and time.monotonic() < deadline:
                time.sleep(0.05)
        assert job.task_id == "cgt-y"
        auth = {r.headers.get("Authorization") for r in foreign.seen}
        assert auth == {"Bearer sk-for-that-host-1"}  # never the configured key


def test_a_row_pointing_at_plain_http_elsewhere_is_refused_even_with_a_key(mgr, emu):
    led = mgr.ledger()
    row = _row_for(led, "ark", "http://gateway.example.test:9/api/v3", "cgt-z")
    with socket_guard() as guard:
        resumed = seedance_nb.resume(api_keys={"http://gateway.example.test:9/api/v3": TOKEN},
                                     show=False)
    assert list(resumed) == [] and guard.violations == []
    [skipped] = resumed.skipped
    assert skipped.row["id"] == row and "unencrypted" in skipped.reason


# --- the magic ------------------------------------------------------------------------------

def test_the_magic_lists_adopts_and_dismisses(mgr, emu, capsys):
    from IPython.core.error import UsageError

    from _magic_helpers import make_shell

    shell = make_shell()
    led = mgr.ledger()
    kept, task = send_and_lose(led, "a paper boat on a pond")
    dropped, _ = send_and_lose(led, "a kite over the dunes")
    shell.run_line_magic("seedance", "resume")
    shown = capsys.readouterr().out
    assert f"%seedance adopt {kept} " in shown and f"%seedance dismiss {dropped}" in shown
    assert "nothing to resume" not in shown

    shell.run_line_magic("seedance", f"adopt {kept} {task}")
    with pytest.raises(UsageError, match=f"already belongs to ledger row {kept}"):
        shell.run_line_magic("seedance", f"adopt {dropped} {task}")
    shell.run_line_magic("seedance", f"dismiss {dropped}")
    said = capsys.readouterr().out
    assert f"row {kept} is now task {task}" in said and f"row {dropped} dismissed" in said
    assert (led.get(kept)["status"], led.get(kept)["task_id"]) == ("queued", task)
    assert led.get(dropped)["status"] == "dismissed"
    with pytest.raises(UsageError, match="not unknown"):
        shell.run_line_magic("seedance", f"dismiss {dropped}")
    with pytest.raises(UsageError, match="adopt ROW TASK_ID"):
        shell.run_line_magic("seedance", f"adopt {kept}")


def test_a_bare_api_key_goes_only_to_its_own_provider(tmp_path, monkeypatch):
    # The key passed to resume() (e.g. %config Seedance.api_key) belongs to the configured
    # provider; a row of another provider keeps using that provider's own key.
    with Hostile() as gateway, isolated_manager(tmp_path) as manager:
        gateway.default = reply(200, b'{"id": "cgt-e", "status": "running"}',
                                {"Content-Type": "application/json"})
        monkeypatch.setenv("SEEDANCE_EMULATOR_URL", gateway.url)
        monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", "sk-emulator-own-token")
        monkeypatch.setenv("SEEDANCE_PROVIDER", "ark")
        _row_for(manager.ledger(), "emulator", gateway.url + "/api/v3", "cgt-e")
        with socket_guard():
            [job] = seedance_nb.resume(api_key="sk-ark-only-key-123", show=False)
            deadline = time.monotonic() + 10
            while not gateway.seen and time.monotonic() < deadline:
                time.sleep(0.05)
        assert job.task_id == "cgt-e"
        assert {r.headers.get("Authorization") for r in gateway.seen} == {
            "Bearer sk-emulator-own-token"}
