"""The ledger's promises end to end: real processes, real kills, the real emulator.

Every test counts creates on the emulator (`GET /_emulator/stats`) to show that a
task is never sent twice, and checks files on disk to show none is lost.
"""
from __future__ import annotations

import hashlib
import json
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from seedance_nb.emulator import Emulator
from seedance_nb.ledger import Ledger

from _ledger_helpers import SMALL, child_cmd, child_env, wait_until

FAKE_KEY = "sk-ledgerrecovery0123456789abcdef"
# 10x speed: queued 0.2 s, running 2 s -- long enough to kill a process mid-flight.
EMU = dict(speed=10, run_seconds=20)


@pytest.fixture
def emu():
    with Emulator(in_process=True, **EMU) as server:
        yield server


def _paths(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "ledger.sqlite", tmp_path / "out"


def _rows(ledger: Path) -> list[dict]:
    if not ledger.exists():
        return []
    with Ledger(ledger) as led:
        return led.rows()


def _creates(emu: Emulator) -> int:
    return emu.stats()["creates"]["ark"]


def _file_downloads(emu: Emulator) -> int:
    return emu.stats()["requests"].get("GET /files", 0)


def _run(args: list, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


def _reports(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _assert_all_downloaded(rows: list[dict], out: Path, count: int) -> None:
    assert len(rows) == count
    assert len({r["task_id"] for r in rows}) == count
    assert all(r["status"] == "succeeded" for r in rows), [r["status"] for r in rows]
    files = sorted(out.glob("*.mp4"))
    assert len(files) == count
    assert sorted(Path(r["video_path"]) for r in rows) == files
    assert all(_sha(r["video_path"]) == r["video_sha256"] for r in rows)


def _start_submitter(ledger: Path, out: Path, prefix: str, count: int,
                     emu: Emulator) -> subprocess.Popen:
    return subprocess.Popen(child_cmd("submit", ledger, out, prefix, count, "--no-wait"),
                            env=child_env(emu), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()[-3000:] if proc.stderr else ""


def test_sigkilled_process_resumes_to_20_files_with_exactly_20_creates(tmp_path, emu):
    ledger, out = _paths(tmp_path)
    proc = _start_submitter(ledger, out, "kill", 20, emu)
    try:
        assert wait_until(lambda: sum(1 for r in _rows(ledger) if r["task_id"]) == 20, 90), \
            proc.stderr.read() if proc.poll() is not None else "creates not recorded in time"
    finally:
        _kill(proc)
    killed_with = _rows(ledger)
    assert sum(1 for r in killed_with if r["video_path"]) < 20  # it died mid-flight
    assert _creates(emu) == 20

    done = _run(child_cmd("resume", ledger, out), child_env(emu))
    assert done.returncode == 0, done.stderr
    reports = _reports(done.stdout)
    assert len(reports) == sum(1 for r in killed_with if not r["video_path"])
    assert {r["status"] for r in reports} == {"succeeded"}
    _assert_all_downloaded(_rows(ledger), out, 20)
    assert _creates(emu) == 20


@pytest.mark.parametrize("step", ["after_intent", "after_send", "after_id"])
def test_crash_at_each_submit_step_never_loses_or_resends_the_task(tmp_path, emu, step):
    ledger, out = _paths(tmp_path)
    crashed = _run(child_cmd("submit", ledger, out, "crash", 1), child_env(emu, crash_at=step))
    assert crashed.returncode == 97, crashed.stderr
    [row] = _rows(ledger)
    assert row["request"]["prompt"].startswith("crash clip 0")
    with Ledger(ledger) as led:
        unsent, inflight = led.unsent(), led.inflight()

    if step == "after_intent":
        # Recorded, never sent: nothing billed; the row waits in the ledger (issue 13) and
        # resume() sends it exactly once.
        assert _creates(emu) == 0
        assert row["sent_at"] is None and [r["id"] for r in unsent] == [row["id"]]
        assert inflight == []
        resumed = _run(child_cmd("resume", ledger, out), child_env(emu))
        assert resumed.returncode == 0, resumed.stderr
        assert [r["status"] for r in _reports(resumed.stdout)] == ["succeeded"]
        assert _creates(emu) == 1
        # Asking again reuses that paid result: no second create.
        again = _run(child_cmd("submit", ledger, out, "crash", 1), child_env(emu))
        assert again.returncode == 0, again.stderr
        assert _creates(emu) == 1
        done = [r for r in _rows(ledger) if r["status"] == "succeeded"]
        _assert_all_downloaded(done, out, 1)
        return

    assert _creates(emu) == 1
    assert row["sent_at"] is not None and [r["id"] for r in inflight] == [row["id"]]
    if step == "after_send":
        # Sent, no id: the Ark list shows the task as a candidate, but nothing is adopted
        # automatically (a list carries no prompt: it could be another client's task).
        assert row["task_id"] is None
        shown = _run(child_cmd("resume", ledger, out), child_env(emu))
        assert shown.returncode == 0, shown.stderr
        assert _reports(shown.stdout) == [] and _creates(emu) == 1
        [suggested] = re.findall(rf"seedance_nb\.adopt\({row['id']}, '([^']+)'\)", shown.stdout)
        [unknown] = _rows(ledger)
        assert (unknown["status"], unknown["task_id"]) == ("unknown", None)
        with Ledger(ledger) as led:
            led.adopt(row["id"], suggested)  # the user's decision
    else:
        assert row["task_id"]
    resumed = _run(child_cmd("resume", ledger, out), child_env(emu))
    assert resumed.returncode == 0, resumed.stderr
    assert [r["status"] for r in _reports(resumed.stdout)] == ["succeeded"]
    _assert_all_downloaded(_rows(ledger), out, 1)
    assert _creates(emu) == 1


@pytest.fixture
def slow_files_emu():
    # ~0.5 s per file: both resumers are sure to want the same file at the same time.
    with Emulator(in_process=True, fault_slow_download=500_000, **EMU) as server:
        yield server


def test_two_processes_sharing_one_ledger_submit_and_resume_without_conflicts(
        tmp_path, slow_files_emu):
    ledger, out = _paths(tmp_path)
    emu = slow_files_emu
    first = _start_submitter(ledger, out, "alpha", 6, emu)
    second = _start_submitter(ledger, out, "beta", 6, emu)
    try:
        assert wait_until(lambda: sum(1 for r in _rows(ledger) if r["task_id"]) == 12, 90)
    finally:
        _kill(first)
        _kill(second)
    pending = [r for r in _rows(ledger) if not r["video_path"]]
    assert pending  # something is left for the resumers to fight over
    fetched_before = _file_downloads(emu)

    resumers = [subprocess.Popen(child_cmd("resume", ledger, out), env=child_env(emu),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
    results = [p.communicate(timeout=180) for p in resumers]
    for proc, (_, err) in zip(resumers, results):
        assert proc.returncode == 0, err
    for stdout, _ in results:  # both see every unfinished row end well
        reports = _reports(stdout)
        assert reports and {r["status"] for r in reports} == {"succeeded"}
    _assert_all_downloaded(_rows(ledger), out, 12)
    assert _creates(emu) == 12
    assert _file_downloads(emu) - fetched_before == len(pending)  # no file fetched twice


def _claims_held(ledger: Path) -> int:
    Ledger(ledger).close()  # the child may not have made the table yet
    conn = sqlite3.connect(ledger, timeout=30)
    try:
        sql = "SELECT count(*) FROM tasks WHERE video_claim IS NOT NULL"
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def test_a_process_killed_while_downloading_does_not_block_the_resume(tmp_path, slow_files_emu):
    # Its download claim names a dead process, so the resume takes the file over at
    # once instead of waiting for the claim to go stale (300 s).
    emu = slow_files_emu
    ledger, out = _paths(tmp_path)
    proc = _start_submitter(ledger, out, "midway", 3, emu)
    try:
        assert wait_until(lambda: ledger.exists() and _claims_held(ledger) > 0, 90)
    finally:
        _kill(proc)
    started = time.monotonic()
    done = _run(child_cmd("resume", ledger, out), child_env(emu), timeout=120)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 60
    assert {r["status"] for r in _reports(done.stdout)} == {"succeeded"}
    _assert_all_downloaded(_rows(ledger), out, 3)
    assert _creates(emu) == 3


_NOTEBOOK_SETUP = """\
import os
os.environ["SEEDANCE_EMULATOR_URL"] = {url!r}
os.environ["SEEDANCE_EMULATOR_TOKEN"] = {token!r}
import seedance_nb
from seedance_nb import config
config.settings.output_dir = {out!r}
config.settings.ledger_path = {ledger!r}
config.settings.poll_interval = 0.1
"""


_MAGIC_CELL = """\
%%seedance --provider emulator --model 1.0-pro-fast --rs 480p --rt 1:1 --dur 2 --wait
a lighthouse at dusk, waves"""


def _notebook(emu: Emulator, ledger: Path, out: Path, style: str) -> nbformat.NotebookNode:
    setup = _NOTEBOOK_SETUP.format(url=emu.base_url, token=emu.token, out=str(out),
                                   ledger=str(ledger))
    if style == "magic":
        setup += "%load_ext seedance_nb\n"
        make = _MAGIC_CELL
        job = "_seedance_job"
    else:
        make = f"job = seedance_nb.generate('a lighthouse at dusk, waves', **{SMALL!r})\njob"
        job = "job"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(setup),
        nbformat.v4.new_code_cell(make),
        nbformat.v4.new_code_cell(
            f"import hashlib\njob = {job}\n"
            "print(job.status, job.video_path, "
            "hashlib.sha256(open(job.video_path, 'rb').read()).hexdigest())\n"
            "print('reused' if job.reused else 'fresh')"),
    ]
    return nb


def _execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _video_outputs(nb: nbformat.NotebookNode) -> tuple[str, str]:
    [shown] = [o["data"] for o in nb.cells[1].outputs if "text/html" in o.get("data", {})]
    printed = "".join(o.get("text", "") for o in nb.cells[2].outputs)
    return shown["text/html"], printed


@pytest.mark.parametrize("style", ["api", "magic"])
def test_rerunning_a_notebook_sends_nothing_and_shows_the_same_video(tmp_path, emu, style):
    ledger, out = _paths(tmp_path)
    path = tmp_path / "experiment.ipynb"
    nbformat.write(_notebook(emu, ledger, out, style), path)

    html_first, printed_first = _video_outputs(_execute(path))
    assert len(re.findall(r"<video[^>]*>", html_first)) == 1
    assert printed_first.splitlines()[-1] == "fresh"
    status, video, sha = printed_first.splitlines()[0].split()
    assert status == "succeeded" and _sha(video) == sha
    stats = emu.stats()
    assert stats["creates"]["ark"] == 1

    html_second, printed_second = _video_outputs(_execute(path))
    assert emu.stats()["requests"] == stats["requests"]  # zero HTTP, not just zero creates
    # The same video element (the card may add a "reused" note around it).
    assert re.findall(r"<video[^>]*>", html_second) == re.findall(r"<video[^>]*>", html_first)
    assert printed_second.splitlines() == [f"succeeded {video} {sha}", "reused"]
    assert len(_rows(ledger)) == 1


def test_no_key_reaches_the_ledger_through_the_client_path(tmp_path):
    ledger, out = _paths(tmp_path)
    with Emulator(in_process=True, token=FAKE_KEY, **EMU) as server:
        done = _run(child_cmd("submit", ledger, out, "secret", 1), child_env(server))
        assert done.returncode == 0, done.stderr
        assert server.stats()["creates"]["ark"] == 1
    [row] = _rows(ledger)
    assert row["status"] == "succeeded" and row["base_url"].startswith("http://127.0.0.1")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite*"))
    assert b"secret clip 0" in raw  # the request really is in these bytes
    assert FAKE_KEY.encode() not in raw
