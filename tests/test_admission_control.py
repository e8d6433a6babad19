"""Admission control (jobs/admission.py): creates go out only as the account's budget
frees, across every process sharing the ledger; 429s teach the budget; waiting work
survives a crash (§8, §10.8)."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from seedance_nb import jobs
from seedance_nb.emulator import Emulator
from seedance_nb.errors import SeedanceConfigError
from seedance_nb.ledger import SCHEMA_VERSION, Ledger

from _admission_helpers import SMALL, child_cmd, count_commits
from _client_helpers import isolated_jobs

pytestmark = pytest.mark.timeout(120)
FAST = dict(port=0, in_process=True, render_module="_emulator_helpers")


def _submit(emu, prompt, **kw):
    return jobs.submit(f"{prompt} [no-render]", base_url=emu.base_url, api_key=emu.token,
                       **{**SMALL, **kw})


def _settle(batch, timeout=60):
    jobs.wait_all(batch, timeout=timeout)
    return sorted({j.status for j in batch})


def _creates(emu) -> int:
    return emu.stats()["creates"]["ark"]


def _refused(emu) -> int:
    return sum(emu.stats()["refused"].values())


# --- (a) one process, a queue cap of 2 --------------------------------------------------

def test_forty_jobs_against_a_queue_cap_of_two_all_finish_without_a_429(tmp_path):
    with Emulator(speed=100, run_seconds=20, max_queued=2, **FAST) as emu, \
            isolated_jobs(tmp_path) as mgr:
        batch = [_submit(emu, f"capped {i}", limits={"queued": 2}) for i in range(40)]
        assert _settle(batch) == ["succeeded"]
        assert _creates(emu) == 40 and len({j.task_id for j in batch}) == 40
        assert emu.stats()["max_queued"] <= 2
        assert _refused(emu) == 0 and mgr.admission.rate_limited == 0
        assert mgr.admission.creates_sent == 40
        assert mgr.admission.held > 0  # the cap really held jobs back
        assert {r["status"] for r in mgr.ledger().rows()} == {"succeeded"}


def test_an_unconfigured_client_learns_the_queue_cap_from_one_429(tmp_path):
    """Default budget (120): the gateway's QuotaExceeded teaches the real cap at once."""
    # the gateway runs one at a time (0.1 s each), so the rest really queue there
    with Emulator(speed=100, run_seconds=10, max_queued=2, concurrency={"1.0-pro-fast": 1},
                  **FAST) as emu, isolated_jobs(tmp_path) as mgr:
        batch = [_submit(emu, f"learn {i}") for i in range(12)]
        assert _settle(batch) == ["succeeded"]
        assert _creates(emu) == 12
        # 429s received: one teaches the cap; a few more when the ledger's view lagged
        # behind the gateway (rows still "queued" that already run), never one per job
        assert 1 <= mgr.admission.rate_limited == emu.stats()["refused"]["queued"] <= 4
        [learned] = [v for k, v in mgr.admission.learned.items() if len(k) == 2]
        assert learned["queued"] <= 5  # down from 120 (to what the ledger saw in flight)
        assert not any(j.status == "rejected" for j in batch)


def test_an_rpm_429_teaches_the_rate_and_its_window(tmp_path):
    # speed 60: the emulator's RPM window is 1 s; 3 creates a window pass
    with Emulator(speed=60, run_seconds=1, rpm={"1.0-pro-fast": 3}, **FAST) as emu, \
            isolated_jobs(tmp_path) as mgr:
        t0 = time.monotonic()
        batch = [_submit(emu, f"rate {i}") for i in range(9)]
        assert _settle(batch) == ["succeeded"]
        assert _creates(emu) == 9
        assert emu.stats()["refused"]["rpm"] == mgr.admission.rate_limited <= 3
        [learned] = [v for k, v in mgr.admission.learned.items() if len(k) == 3]
        assert learned["rpm"] <= 3 and learned["window_s"] < 5  # not 60 s: Retry-After said
        assert time.monotonic() - t0 < 30


def test_a_queue_cap_one_kernel_learned_spares_the_next_kernel_its_429(tmp_path):
    """Kernel one is told QuotaExceeded and learns the cap; kernel two, on the same
    ledger and account, admits under that cap from its first create."""
    with Emulator(speed=100, run_seconds=10, max_queued=2, concurrency={"1.0-pro-fast": 1},
                  **FAST) as emu, isolated_jobs(tmp_path) as first:
        assert _settle([_submit(emu, f"learn {i}") for i in range(8)]) == ["succeeded"]
        assert first.admission.rate_limited >= 1
        second = jobs.JobManager()  # a fresh manager: nothing learned in memory
        jobs.set_manager(second)
        try:
            batch = [_submit(emu, f"told {i}") for i in range(8)]
            assert _settle(batch) == ["succeeded"]
            assert second.admission.rate_limited == 0 and second.admission.held > 0
            assert second.admission.learned == {}  # held by what the ledger said
        finally:
            second.stop()
            jobs.set_manager(first)


def test_concurrency_and_queue_limits_together(tmp_path):
    """The gateway runs one at a time and queues one: in flight stays at two."""
    with Emulator(speed=100, run_seconds=20, max_queued=1,
                  concurrency={"1.0-pro-fast": 1}, **FAST) as emu, \
            isolated_jobs(tmp_path) as mgr:
        batch = [_submit(emu, f"one by one {i}", limits={"queued": 1, "concurrency": 1})
                 for i in range(8)]
        assert _settle(batch) == ["succeeded"]
        assert _creates(emu) == 8 and _refused(emu) == 0
        assert emu.stats()["max_queued"] == 1
        assert mgr.admission.rate_limited == 0


def test_a_full_budget_holds_only_its_own_gateway(tmp_path):
    """A gateway whose queue is full does not delay another gateway's creates."""
    with Emulator(speed=100, run_seconds=20, max_queued=1, **FAST) as slow, \
            Emulator(speed=100, run_seconds=20, **FAST) as free, isolated_jobs(tmp_path):
        held = [_submit(slow, f"held {i}", limits={"queued": 1}) for i in range(6)]
        t0 = time.monotonic()
        other = _submit(free, "not held")
        other.wait(20)
        assert other.status == "succeeded"
        assert time.monotonic() - t0 < 5
        assert _settle(held) == ["succeeded"]


# --- (b) two processes, one ledger, one account ----------------------------------------

def test_two_processes_sharing_a_ledger_never_exceed_the_queue_cap_together(tmp_path):
    ledger, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    # the gateway would take 100; the client's cap is 2 for both processes together
    with Emulator(speed=100, run_seconds=20, max_queued=100, **FAST) as emu:
        procs = [subprocess.Popen(child_cmd("sweep", ledger, out, emu.base_url, emu.token,
                                            name, 15, 2),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for name in ("left", "right")]
        outs = [p.communicate(timeout=100) for p in procs]
        for proc, (stdout, stderr) in zip(procs, outs):
            assert proc.returncode == 0, stderr
        reports = [json.loads(line) for stdout, _ in outs for line in stdout.splitlines()
                   if line.startswith("{")]
        assert sorted({r["status"] for r in reports if "row" in r}) == ["succeeded"]
        assert len([r for r in reports if "row" in r]) == 30
        assert _creates(emu) == 30
        assert emu.stats()["max_queued"] <= 2  # what the gateway saw, both together
        assert _refused(emu) == 0
        sent = [r["admission"]["creates_sent"] for r in reports if "admission" in r]
        assert sorted(sent) == [15, 15]


# --- (c) a crash in the middle of a sweep --------------------------------------------------

def test_a_sweep_killed_midway_is_resumed_elsewhere_each_job_once(tmp_path):
    ledger, out = tmp_path / "ledger.sqlite", tmp_path / "out"
    with Emulator(speed=100, run_seconds=30, max_queued=2, **FAST) as emu:
        proc = subprocess.Popen(child_cmd("sweep", ledger, out, emu.base_url, emu.token,
                                          "killed", 30, 2),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().startswith("submitted")
        deadline = time.monotonic() + 30
        while _creates(emu) < 6:  # some sent, most still waiting
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        sent_before = _creates(emu)
        assert sent_before < 30
        with Ledger(ledger) as led:
            statuses = [r["status"] for r in led.rows()]
        assert len(statuses) == 30 and statuses.count("waiting") > 0

        # another process (this one) resumes: waiting rows are sent, the rest polled
        with isolated_jobs(tmp_path / "resumer") as mgr:
            resumed = jobs.resume(api_key=emu.token, base_url=emu.base_url + "/api/v3",
                                  ledger_path=ledger, show=False)
            for item in resumed.unresolved:  # killed between send and answer: the user
                jobs.adopt(item.row["id"], item.candidates[0].task_id, ledger_path=ledger)
            if resumed.unresolved:
                resumed = jobs.resume(api_key=emu.token, base_url=emu.base_url + "/api/v3",
                                      ledger_path=ledger, show=False)
            assert _settle(list(resumed)) == ["succeeded"]
            rows = mgr.ledger(ledger).rows()
        assert [r["status"] for r in rows] == ["succeeded"] * 30
        assert len({r["task_id"] for r in rows}) == 30
        assert _creates(emu) == 30  # every job created exactly once, across both processes
        assert all(r["video_path"] and os.path.exists(r["video_path"]) for r in rows)


def test_a_waiting_row_of_a_dead_process_is_taken_over_by_an_identical_submit(tmp_path):
    """Submitting again what a crashed kernel left waiting sends it once, from here."""
    with Emulator(speed=100, run_seconds=1, **FAST) as emu, isolated_jobs(tmp_path) as mgr:
        led = mgr.ledger()
        first = _submit(emu, "orphan", limits={"queued": 1})
        first.wait(20)
        # a row exactly like a new one, recorded by a process that has died
        from seedance_nb.request import build_request

        req = build_request("left waiting [no-render]", provider="emulator", emulate="ark",
                            model="1.0-pro-fast", resolution="480p", duration=2)
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout.strip()
        import socket

        from seedance_nb.jobs.admission import account_of

        row = led.record_intent(fingerprint=req.fingerprint(), provider="emulator",
                                dialect="ark", model=req.model, base_url=first.settings.base_url,
                                request=req, status="waiting",
                                account=account_of(emu.token), family=req.family,
                                owner=f"{socket.gethostname()}:{dead}")
        again = _submit(emu, "left waiting")
        again.wait(20)
        assert again.ledger_id == row and again.status == "succeeded"
        assert _creates(emu) == 2 and len(led.rows()) == 2


# --- the ledger's side ------------------------------------------------------------------

def _waiting(led, n, family="1.0-pro-fast", account="acct", base="http://gw/api/v3"):
    return [led.record_intent(fingerprint=f"fp-{family}-{i}", provider="ark", dialect="ark",
                              model="m", base_url=base, request={"prompt": str(i)},
                              status="waiting", account=account, family=family)
            for i in range(n)]


def test_admit_counts_every_row_of_the_account_and_frees_slots_as_tasks_move_on(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as one, Ledger(path) as two:  # two handles, as two processes have
        a, b, c = _waiting(one, 3)
        limits = dict(queued=2, rpm=100, concurrency=10)
        assert one.admit(a, **limits) == ("admitted", 0.0)
        assert two.admit(b, **limits) == ("admitted", 0.0)
        assert one.admit(c, **limits)[0] == "queued"  # a and b hold both slots
        assert one.get(c)["status"] == "waiting" and one.get(c)["sent_at"] is None
        one.record_created(a, "cgt-a")
        assert two.admit(c, **limits)[0] == "queued"  # queued at the gateway: still held
        one.record_task(a, {"id": "cgt-a", "status": "running"})
        assert two.admit(c, **limits) == ("admitted", 0.0)
        row = two.get(c)
        assert row["status"] == "pending" and row["sent_at"] == row["admitted_at"]
        assert one.admit(c, **limits) == ("gone", 0.0)  # admitted once only
        # another account or gateway has its own budget
        [other] = _waiting(one, 1, account="acct2")
        assert one.admit(other, **limits) == ("admitted", 0.0)


def test_admit_holds_a_family_at_its_rpm_and_says_when_a_slot_frees(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        rows = _waiting(led, 4)
        for row in rows[:3]:
            assert led.admit(row, queued=10, rpm=3, concurrency=10)[0] == "admitted"
        word, wait = led.admit(rows[3], queued=10, rpm=3, concurrency=10)
        assert word == "rpm" and 55 < wait <= 60
        [lite] = _waiting(led, 1, family="1.0-lite-t2v")
        assert led.admit(lite, queued=10, rpm=3, concurrency=10)[0] == "admitted"
        word, _ = led.admit(rows[3], queued=10, rpm=3, concurrency=10, window_s=0.001)
        assert word == "admitted"


def test_a_limit_one_process_learned_holds_every_process_on_the_ledger(tmp_path):
    path = tmp_path / "ledger.sqlite"
    base, limits = "http://gw/api/v3", dict(queued=120, rpm=100, concurrency=10)
    with Ledger(path) as one, Ledger(path) as two:  # two handles, as two processes have
        a, b = _waiting(one, 2)
        [lite] = _waiting(one, 1, family="1.0-lite-t2v")
        # one process was told QuotaExceeded with 1 task queued: the account's cap is 1
        one.learn(base, "acct", None, "queued", 1, time.time() + 60)
        one.learn(base, "acct", None, "queued", 5, time.time() + 60)  # the lower one stays
        assert two.admit(a, **limits) == ("admitted", 0.0)
        assert two.admit(b, **limits)[0] == "queued"  # not 120: the other's 429 taught it
        assert two.admit(lite, **limits)[0] == "queued"  # the queued cap is account-wide
        [other] = _waiting(one, 1, account="acct2")
        assert two.admit(other, **limits)[0] == "admitted"  # another account: its own
        # an RPM learned for one family holds that family only, and only until it expires
        c, d = _waiting(two, 2, base="http://gw2/api/v3")
        [lite2] = _waiting(two, 1, family="1.0-lite-t2v", base="http://gw2/api/v3")
        one.learn("http://gw2/api/v3", "acct", "1.0-pro-fast", "rpm", 1, time.time() + 60)
        assert two.admit(c, **limits)[0] == "admitted"
        assert two.admit(d, **limits)[0] == "rpm"
        assert two.admit(lite2, **limits)[0] == "admitted"
        one.learn("http://gw2/api/v3", "acct", "1.0-pro-fast", "rpm", 1, time.time() - 1,
                  keep_min=False)
        assert two.admit(d, **limits)[0] == "admitted"


def _admit_steps(led, row, **limits) -> tuple[tuple, int]:
    """admit's answer and the SQLite VM instructions it took (counted by SQLite itself)."""
    steps = [0]

    def tick():
        steps[0] += 1
        return 0

    conn = led._connect()
    conn.set_progress_handler(tick, 10)
    try:
        return led.admit(row, **limits), steps[0] * 10
    finally:
        conn.set_progress_handler(None, 0)


def test_admitting_a_job_costs_the_same_in_a_ledger_with_a_long_history(tmp_path):
    # A notebook's ledger keeps every task it ever ran; a slot is claimed for each job of
    # a sweep, so the claim must look at the account's live rows and the last RPM
    # window only, not at the 6,000 finished tasks from last month.
    limits = dict(queued=120, rpm=1200, concurrency=20)
    with Ledger(tmp_path / "new.sqlite") as fresh, Ledger(tmp_path / "old.sqlite") as old:
        conn = old._connect()
        month_ago = time.time() - 30 * 86400
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO tasks (fingerprint, provider, dialect, model, base_url, request, "
            "status, created_at, updated_at, sent_at, admitted_at, finished_at, task_id, "
            "account, family) VALUES (?, 'ark', 'ark', 'm', 'http://gw/api/v3', '{}', "
            "'succeeded', ?, ?, ?, ?, ?, ?, 'acct', '1.0-pro-fast')",
            [(f"old-{i}", month_ago + i, month_ago + i, month_ago + i, month_ago + i,
              month_ago + i, f"cgt-old-{i}") for i in range(6000)])
        conn.execute("COMMIT")
        costs = []
        for led in (fresh, old):
            rows = _waiting(led, 3)
            answers = [_admit_steps(led, row, **limits) for row in rows]
            assert [a for a, _ in answers] == [("admitted", 0.0)] * 3
            costs.append(max(n for _, n in answers))
        assert costs[1] < 2 * costs[0] + 200, costs


def test_a_429_puts_the_row_back_to_waiting_unsent(tmp_path):
    with Ledger(tmp_path / "l.sqlite") as led:
        [row] = _waiting(led, 1)
        led.admit(row, queued=1, rpm=1, concurrency=1)
        led.requeue(row, "QuotaExceeded", "too many queued tasks")
        got = led.get(row)
        assert (got["status"], got["sent_at"], got["admitted_at"]) == ("waiting", None, None)
        assert got["error_code"] == "QuotaExceeded"
        assert [r["id"] for r in led.waiting()] == [row] == [r["id"] for r in led.unsent()]
        assert led.inflight() == []


def test_rows_of_a_dead_process_hold_no_slot(tmp_path):
    import socket

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with Ledger(tmp_path / "l.sqlite") as led:
        [gone] = [led.record_intent(fingerprint="fp-x", provider="ark", dialect="ark",
                                    model="m", base_url="http://gw/api/v3", request={},
                                    status="waiting", account="acct", family="1.0-pro-fast",
                                    owner=f"{socket.gethostname()}:{dead}")]
        led.mark_sending(gone)
        led.record_created(gone, "cgt-gone")  # queued at the gateway when its kernel died
        [mine] = _waiting(led, 1)
        assert led.admit(mine, queued=1, rpm=10, concurrency=10) == ("admitted", 0.0)
        assert led.take_over([gone]) == [gone]  # a resume drives it now: it counts again
        [more] = _waiting(led, 1, family="1.0-pro")
        assert led.admit(more, queued=2, rpm=10, concurrency=10)[0] == "queued"


def test_a_schema_2_ledger_gains_the_admission_columns_in_place(tmp_path):
    from seedance_nb import ledger as ledger_module

    path = tmp_path / "ledger.sqlite"
    conn = sqlite3.connect(path)
    old = ledger_module._SCHEMA.split("CREATE TABLE IF NOT EXISTS learned")[0]
    old = old.replace(",\n    account TEXT,\n    family TEXT,\n    admitted_at REAL", "")
    old = "\n".join(line for line in old.splitlines() if "tasks_budget" not in line
                    and "tasks_admitted" not in line)
    conn.executescript(old)
    conn.execute("INSERT INTO tasks (fingerprint, provider, request, status, created_at, "
                 "task_id) VALUES ('fp-old', 'ark', '{}', 'queued', 1.0, 'cgt-old')")
    conn.execute(f"PRAGMA application_id = {ledger_module.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Ledger(path) as led:
        [row] = led.rows()
        assert (row["task_id"], row["account"], row["admitted_at"]) == ("cgt-old", None, None)
        [new, held] = _waiting(led, 2)
        assert led.admit(new, queued=5, rpm=5, concurrency=5)[0] == "admitted"
        led.learn("http://gw/api/v3", "acct", None, "queued", 1, time.time() + 60)
        assert led.admit(held, queued=5, rpm=5, concurrency=5)[0] == "queued"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    conn.close()


def test_the_ledger_holds_a_hash_of_the_key_never_the_key(tmp_path):
    key = "sk-emulator"
    with Emulator(speed=100, run_seconds=1, **FAST) as emu, isolated_jobs(tmp_path) as mgr:
        _submit(emu, "no key here").wait(20)
        raw = (tmp_path / "out" / "ledger.sqlite").read_bytes()
        [row] = mgr.ledger().rows()
    assert key.encode() not in raw and emu.token.encode() not in raw
    assert row["account"] and row["account"] not in (key, emu.token)


# --- settings -----------------------------------------------------------------------------

@pytest.mark.parametrize("limits,message", [
    ({"queue": 3}, "unknown key 'queue'"),
    ({"queued": 0}, "queued must be a whole number >= 1"),
    ({"rpm": 2.5}, "rpm must be a whole number"),
    ([1, 2], "limits must be a dict"),
])
def test_bad_limits_are_one_line_errors_before_anything_is_recorded(tmp_path, limits, message):
    with isolated_jobs(tmp_path) as mgr:
        with pytest.raises(SeedanceConfigError, match=message) as info:
            jobs.submit("a fox", provider="emulator", limits=limits, **{
                k: v for k, v in SMALL.items() if k != "provider"})
        assert "\n" not in str(info.value)
        assert mgr.ledger().rows() == []


def test_limits_order_builtin_manager_session_submit(tmp_path, monkeypatch):
    from seedance_nb import catalog, config
    from seedance_nb.jobs.admission import Admission

    with Emulator(speed=100, run_seconds=1, **FAST) as emu, isolated_jobs(tmp_path):
        job = _submit(emu, "limits", limits={"rpm": 7})
        job.wait(20)
        adm = Admission()
        assert adm.limits_for(job).queued == catalog.QUEUED_CAP
        assert adm.limits_for(job).concurrency == catalog.rate_limits("1.0-pro-fast")[1]
        assert adm.limits_for(job).rpm == 7  # the submit's own
        adm.limits = {"queued": 50, "concurrency": 4}
        holder = config.settings
        monkeypatch.setattr(holder, "limits", {"queued": 30}, raising=False)
        got = adm.limits_for(job)
        assert (got.queued, got.concurrency, got.rpm) == (30, 4, 7)


def test_fewer_commits_per_job(tmp_path):
    """Admission and sending are one commit; a first poll that says 'queued' again and the
    download claims cost none: 7 per job with a last frame (9.5 before)."""
    with count_commits() as counted, \
            Emulator(speed=100, run_seconds=20, **FAST) as emu, isolated_jobs(tmp_path):
        batch = [_submit(emu, f"commits {i}", return_last_frame=True) for i in range(6)]
        assert _settle(batch) == ["succeeded"]
        assert all(j.last_frame_path for j in batch)
    assert counted.total <= 7 * 6, counted.by_statement


# --- waiting jobs end cleanly ---------------------------------------------------------------

def test_a_waiting_job_cancelled_is_never_sent(tmp_path):
    with Emulator(speed=100, run_seconds=1, concurrency={"1.0-pro-fast": 1}, **FAST) as emu, \
            isolated_jobs(tmp_path) as mgr:
        # two stalled tasks: one runs for ever, one stays queued: the queued slot stays full
        for i in range(2):
            _submit(emu, f"stall {i} [emu:stall]", limits={"queued": 1})
        waiting = _submit(emu, "behind", limits={"queued": 1})
        deadline = time.monotonic() + 10
        while waiting.status != "waiting":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        waiting.cancel()
        with pytest.raises(Exception, match="cancelled before it was sent"):
            waiting.wait(10)
        assert waiting.status == "cancelled"
        row = mgr.ledger().get(waiting.ledger_id)
        assert (row["status"], row["task_id"], row["sent_at"]) == ("cancelled", None, None)
        assert _creates(emu) == 2


def test_a_job_still_waiting_at_its_deadline_is_rejected_unsent(tmp_path):
    with Emulator(speed=100, run_seconds=1, concurrency={"1.0-pro-fast": 1}, **FAST) as emu, \
            isolated_jobs(tmp_path) as mgr:
        # two stalled tasks: one runs for ever, one stays queued: the queued slot stays full
        for i in range(2):
            _submit(emu, f"stall {i} [emu:stall]", limits={"queued": 1})
        late = _submit(emu, "too late", limits={"queued": 1}, timeout=1.0)
        with pytest.raises(Exception, match="nothing was created or billed"):
            late.wait(10)
        assert late.status == "rejected"
        row = mgr.ledger().get(late.ledger_id)
        assert (row["status"], row["sent_at"]) == ("rejected", None)
        assert _creates(emu) == 2
