"""Unit tests of the SQLite ledger (write-ahead steps, reuse, resume lists, history)."""
from __future__ import annotations

import base64
import csv
import hashlib
import json
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
from types import SimpleNamespace

import pytest

from seedance_nb import config
from seedance_nb.errors import SeedanceConfigError, SeedanceError, register_secret
from seedance_nb.ledger import SCHEMA_VERSION, Ledger, export_history, history
from seedance_nb.providers.base import Task

from _ledger_helpers import add_row, claim_once, open_fresh_ledgers, sample_request, write_rows

FAKE_KEY = "sk-ledgertest0123456789abcdef"


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "out" / "ledger.sqlite") as led:
        yield led


def _task(status, **kw):
    return Task(id=kw.pop("id", "cgt-1"), provider="emulator", status=status, **kw)


# --- file handling --------------------------------------------------------------------

def test_file_is_created_in_wal_mode_with_a_schema_version(tmp_path):
    path = tmp_path / "nested" / "ledger.sqlite"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_the_send_and_the_task_id_are_synced_to_disk_and_polled_state_is_not(ledger):
    # Power-cut durability where money is at stake: the commit that marks a create as
    # sent and the one that records its task id run with synchronous=FULL; the intent,
    # polled status, claims and file records (redone by the next poll or download) run
    # with NORMAL, and a later FULL commit carries them to disk.
    statements: list[str] = []
    ledger._connect().set_trace_callback(statements.append)
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_created(row, "cgt-1")
    ledger.record_task(row, _task("succeeded", video_url="https://x.test/v.mp4"))
    ledger.claim_download(row, "video", "me")
    ledger.record_file(row, "video", __file__, "aa", 1)
    level, levels = "FULL", []
    for sql in statements:
        if sql.startswith("PRAGMA synchronous"):
            level = sql.split("=")[1].strip()
        elif sql.split()[0] in ("INSERT", "UPDATE"):
            levels.append(level)
    steps = ["intent", "sent", "task id", "status", "claim", "file"]
    assert dict(zip(steps, levels)) == {"intent": "NORMAL", "sent": "FULL", "task id": "FULL",
                                        "status": "NORMAL", "claim": "NORMAL", "file": "NORMAL"}
    assert len(levels) == len(steps)


def test_corrupt_file_is_a_config_error_naming_the_path_and_left_untouched(tmp_path):
    path = tmp_path / "ledger.sqlite"
    junk = b"this is not a database at all\n" * 200
    path.write_bytes(junk)
    with pytest.raises(SeedanceConfigError) as info:
        Ledger(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == junk


def test_newer_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "ledger.sqlite"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SeedanceConfigError, match="newer seedance-nb"):
        Ledger(path)


def test_another_applications_database_is_not_touched(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SeedanceConfigError, match="not a seedance-nb ledger"):
        Ledger(path)
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["invoices"]
    conn.close()


def test_rows_survive_reopening(tmp_path):
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as first:
        row = add_row(first)
        first.mark_sending(row)
    with Ledger(path) as second:
        assert second.get(row)["sent_at"] is not None


# --- the write-ahead steps -------------------------------------------------------------

def test_intent_records_the_request_before_anything_is_sent(ledger):
    row = add_row(ledger, name="fox", estimate={"tokens": 103818, "cost": 1.56, "currency": "CNY"})
    rec = ledger.get(row)
    assert rec["status"] == "pending"
    assert rec["sent_at"] is None and rec["task_id"] is None
    assert rec["request"]["prompt"] == "a red fox"
    assert rec["request"]["duration"] == 5
    assert rec["name"] == "fox"
    assert (rec["estimate_tokens"], rec["estimate_cost"]) == (103818, 1.56)
    assert abs(rec["created_at"] - time.time()) < 60
    assert [r["id"] for r in ledger.unsent()] == [row]
    assert ledger.inflight() == []


def test_estimate_object_with_a_token_range_stores_the_upper_bound(ledger):
    estimate = SimpleNamespace(tokens=None, tokens_max=None, max_tokens=None,
                               total_tokens=None, cost=None, currency=None)
    estimate.tokens = (40000, 200000)
    row = add_row(ledger, estimate=estimate)
    assert ledger.get(row)["estimate_tokens"] == 200000
    assert ledger.get(row)["estimate_cost"] is None


def test_full_lifecycle_sent_created_polled_downloaded(ledger, tmp_path):
    row = add_row(ledger)
    ledger.mark_sending(row)
    rec = ledger.get(row)
    assert rec["status"] == "pending" and rec["sent_at"] is not None
    assert [r["id"] for r in ledger.inflight()] == [row]  # sent, no id yet
    assert ledger.unsent() == []

    ledger.record_created(row, "cgt-1")
    assert ledger.get(row)["status"] == "queued"
    assert ledger.find_by_task("emulator", "cgt-1")["id"] == row

    ledger.record_task(row, _task("running", progress=40))
    rec = ledger.get(row)
    assert (rec["status"], rec["progress"]) == ("running", 40)
    assert rec["started_at"] is not None and rec["finished_at"] is None

    ledger.record_task(row, _task("succeeded", tokens=103818, seed=1234,
                                  video_url="http://h/files/cgt-1.mp4?sig=1",
                                  url_expires_at=time.time() + 3600))
    rec = ledger.get(row)
    assert rec["status"] == "succeeded" and rec["finished_at"] is not None
    assert (rec["tokens"], rec["seed"]) == (103818, 1234)
    assert rec["video_url"].endswith("sig=1")
    # Succeeded but the file is not recorded yet: a resume must still download it.
    assert [r["id"] for r in ledger.inflight()] == [row]

    video = tmp_path / "emulator-cgt-1.mp4"
    video.write_bytes(b"mp4")
    ledger.record_file(row, "video", video, hashlib.sha256(b"mp4").hexdigest(), 3)
    rec = ledger.get(row)
    assert rec["video_path"] == str(video) and rec["video_size"] == 3
    assert ledger.inflight() == []
    assert ledger.find_reusable("fp-1")["id"] == row


def test_requested_last_frame_keeps_the_row_in_flight_until_both_files_exist(ledger, tmp_path):
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_created(row, "cgt-1")
    ledger.record_task(row, _task("succeeded", video_url="http://h/v.mp4",
                                  last_frame_url="http://h/v-last.png"))
    ledger.record_file(row, "video", tmp_path / "v.mp4", "aa", 1)
    assert [r["id"] for r in ledger.inflight()] == [row]
    ledger.record_file(row, "last_frame", tmp_path / "v-last.png", "bb", 1)
    assert ledger.inflight() == []
    assert ledger.get(row)["last_frame_sha256"] == "bb"


def test_outcome_unknown_stays_in_flight_and_reconciliation_clears_it(ledger):
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_outcome_unknown(row, "read timeout after the create was sent")
    rec = ledger.get(row)
    assert rec["status"] == "unknown"
    assert rec["error_code"] == "CreateOutcomeUnknown"
    assert [r["id"] for r in ledger.inflight()] == [row]

    ledger.record_created(row, "cgt-found")  # matched in the Ark list
    rec = ledger.get(row)
    assert (rec["status"], rec["task_id"]) == ("queued", "cgt-found")
    assert rec["error_code"] is None and rec["error_message"] is None


def test_refused_create_is_rejected_final_and_never_reused(ledger):
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_create_failed(row, "InputTextSensitiveContentDetected", "blocked")
    rec = ledger.get(row)
    assert rec["status"] == "rejected" and rec["finished_at"] is not None
    assert rec["error_code"] == "InputTextSensitiveContentDetected"
    assert ledger.inflight() == [] and ledger.unsent() == []
    assert ledger.find_reusable("fp-1") is None


def test_failed_task_records_its_error(ledger):
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_created(row, "cgt-1")
    ledger.record_task(row, _task("failed", error={
        "code": "OutputVideoSensitiveContentDetected.PolicyViolation", "message": "policy"}))
    rec = ledger.get(row)
    assert rec["status"] == "failed"
    assert rec["error_code"] == "OutputVideoSensitiveContentDetected.PolicyViolation"
    assert ledger.inflight() == []


def test_a_stale_poll_never_turns_a_finished_task_back_to_running(ledger):
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_created(row, "cgt-1")
    ledger.record_task(row, _task("succeeded", tokens=5, video_url="http://h/v.mp4"))
    ledger.record_task(row, _task("running", progress=90))  # another kernel's older read
    rec = ledger.get(row)
    assert rec["status"] == "succeeded"
    assert (rec["tokens"], rec["video_url"]) == (5, "http://h/v.mp4")


def test_record_task_accepts_a_dict(ledger):
    row = add_row(ledger)
    ledger.mark_sending(row)
    ledger.record_task(row, {"id": "cgt-9", "status": "queued", "progress": 0})
    rec = ledger.get(row)
    assert (rec["status"], rec["task_id"]) == ("queued", "cgt-9")


def test_the_same_task_id_cannot_belong_to_two_rows(ledger):
    first, second = add_row(ledger), add_row(ledger)
    ledger.record_created(first, "cgt-1")
    ledger.record_created(first, "cgt-1")  # idempotent on its own row
    with pytest.raises(SeedanceError, match="already recorded"):
        ledger.record_created(second, "cgt-1")
    assert ledger.task_ids("emulator") == {"cgt-1"}


def test_writes_to_a_missing_row_are_errors(ledger):
    with pytest.raises(SeedanceError, match="no row 42"):
        ledger.mark_sending(42)


# --- reuse and resume lists ------------------------------------------------------------

def test_find_reusable_returns_the_newest_success_for_that_fingerprint(ledger):
    rows = []
    for status in ("succeeded", "succeeded", "failed"):
        row = add_row(ledger)
        ledger.mark_sending(row)
        ledger.record_created(row, f"cgt-{row}")
        ledger.record_task(row, _task(status, id=f"cgt-{row}"))
        rows.append(row)
    other = add_row(ledger, fingerprint="fp-other")
    assert ledger.find_reusable("fp-1")["id"] == rows[1]
    assert ledger.find_reusable("fp-other") is None
    assert ledger.find_reusable("fp-missing") is None
    assert ledger.get(other)["status"] == "pending"


def test_inflight_and_unsent_split_what_left_the_machine(ledger):
    never_sent = add_row(ledger)
    sent_no_id = add_row(ledger)
    ledger.mark_sending(sent_no_id)
    unknown = add_row(ledger)
    ledger.mark_sending(unknown)
    ledger.record_outcome_unknown(unknown, "reset")
    running = add_row(ledger)
    ledger.mark_sending(running)
    ledger.record_created(running, "cgt-r")
    ledger.record_task(running, _task("running", id="cgt-r"))
    expired_url = add_row(ledger)
    ledger.mark_sending(expired_url)
    ledger.record_created(expired_url, "cgt-e")
    ledger.record_task(expired_url, _task("succeeded", id="cgt-e", video_url="http://h/e.mp4",
                                          url_expires_at=time.time() - 10))
    cancelled = add_row(ledger)
    ledger.mark_sending(cancelled)
    ledger.record_created(cancelled, "cgt-c")
    ledger.record_task(cancelled, _task("cancelled", id="cgt-c"))

    assert [r["id"] for r in ledger.inflight()] == [sent_no_id, unknown, running]
    assert [r["id"] for r in ledger.unsent()] == [never_sent]


# --- download claims -------------------------------------------------------------------

def test_claim_download_is_exclusive_until_released_expired_or_recorded(ledger, tmp_path):
    row = add_row(ledger)
    assert ledger.claim_download(row, "video", "kernel-a")
    assert ledger.claim_download(row, "video", "kernel-a")  # the holder may renew
    assert not ledger.claim_download(row, "video", "kernel-b")
    assert ledger.claim_download(row, "last_frame", "kernel-b")  # separate file
    ledger.release_claim(row, "video", "kernel-a")
    assert ledger.claim_download(row, "video", "kernel-b", ttl_s=0.05)
    time.sleep(0.1)
    assert ledger.claim_download(row, "video", "kernel-c")  # b's claim went stale

    video = tmp_path / "v.mp4"
    video.write_bytes(b"x")
    ledger.record_file(row, "video", video, "aa", 1)
    assert not ledger.claim_download(row, "video", "kernel-d")  # already on disk
    video.unlink()
    assert ledger.claim_download(row, "video", "kernel-d")  # gone: may fetch again
    with pytest.raises(ValueError):
        ledger.claim_download(row, "audio", "kernel-d")


def test_claim_download_across_processes_has_exactly_one_winner(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    with Ledger(path) as led:
        row = add_row(led)
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=claim_once, args=(path, row, f"k{i}", start, results))
             for i in range(6)]
    for p in procs:
        p.start()
    time.sleep(0.3)
    start.set()
    outcome = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert sum(won for _, won in outcome) == 1


# --- concurrency -----------------------------------------------------------------------

def test_processes_opening_a_new_ledger_at_the_same_moment_all_get_it(tmp_path):
    # Two kernels started together on a fresh ledger: one turns on WAL while the other
    # reads the header, and SQLite refuses the switch at once ("database is locked")
    # instead of waiting; that refusal used to end the second kernel's submit.
    paths = [str(tmp_path / f"ledger-{i}.sqlite") for i in range(100)]
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=open_fresh_ledgers, args=(paths, barrier, results))
             for _ in range(4)]
    for p in procs:
        p.start()
    failures = [f for _ in procs for f in results.get(timeout=120)]
    for p in procs:
        p.join(timeout=60)
    assert failures == []
    for path in paths:
        with Ledger(path) as led:
            assert led.rows() == []


def test_two_processes_writing_200_rows_each_lose_nothing(tmp_path):
    path = str(tmp_path / "ledger.sqlite")
    Ledger(path).close()
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=write_rows, args=(path, tag, 200, start)) for tag in "ab"]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0]
    with Ledger(path) as led:
        rows = led.rows()
    assert len(rows) == 400
    assert len({r["task_id"] for r in rows}) == 400
    assert all(r["status"] == "queued" and r["sent_at"] for r in rows)


def test_a_worker_thread_and_the_main_thread_share_one_ledger(ledger):
    errors = []

    def worker():
        try:
            for i in range(50):
                row = add_row(ledger, fingerprint=f"t-{i}")
                ledger.record_created(row, f"thread-{i}")
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    for i in range(50):
        row = add_row(ledger, fingerprint=f"m-{i}")
        ledger.record_created(row, f"main-{i}")
    thread.join()
    assert errors == []
    assert len(ledger.rows()) == 100


# --- secrets ---------------------------------------------------------------------------

def test_no_key_or_image_bytes_ever_reach_the_file(tmp_path):
    register_secret(FAKE_KEY)  # as config.resolve_client does for every key it hands out
    path = tmp_path / "ledger.sqlite"
    image = b"\x89PNG\r\n\x1a\n" + b"IMAGEBYTES" * 50
    data_url = "data:image/png;base64," + base64.b64encode(image).decode()
    digest = hashlib.sha256(image).hexdigest()
    request = sample_request(
        "a fox",
        images=[{"source": data_url, "role": "first_frame", "format": "png", "data": image,
                 "width": 8, "height": 8, "sha256": digest}],
        api_key=FAKE_KEY, headers={"Authorization": f"Bearer {FAKE_KEY}"},
        settings={"provider": "ark", "api_key": FAKE_KEY}, callback_url="https://cb.example/x")
    with Ledger(path) as led:
        row = led.record_intent(
            fingerprint="fp", provider="ark", dialect="ark", model="m",
            base_url=f"https://user:{FAKE_KEY}@ark.example/api/v3?key={FAKE_KEY}", request=request)
        led.record_outcome_unknown(row, f"reset; sent with Bearer {FAKE_KEY}")
        rec = led.get(row)
    assert rec["base_url"] == "https://ark.example/api/v3"
    assert rec["request"]["images"][0]["source"] == f"data:png;sha256={digest}"
    assert rec["request"]["images"][0]["sha256"] == digest
    assert rec["request"]["callback_url"] == "https://cb.example/x"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert FAKE_KEY.encode() not in raw
    assert b"IMAGEBYTES" not in raw and base64.b64encode(image)[:40] not in raw


# --- history ---------------------------------------------------------------------------

def _finished_ledger(path, tmp_path):
    with Ledger(path) as led:
        done = add_row(led, name="fox", estimate={"tokens": 103818, "cost": 1.56,
                                                  "currency": "CNY"})
        led.mark_sending(done)
        led.record_created(done, "cgt-1")
        led.record_task(done, _task("running"))
        led.record_task(done, _task("succeeded", tokens=103818, seed=99,
                                    video_url="http://h/v.mp4"))
        led.record_file(done, "video", tmp_path / "v.mp4", "aa", 3)
        waiting = add_row(led, fingerprint="fp-2", prompt="a blue whale")
    return done, waiting


def test_history_as_list_is_newest_first_and_flattened(tmp_path):
    path = tmp_path / "ledger.sqlite"
    done, waiting = _finished_ledger(path, tmp_path)
    rows = history(path, as_frame=False)
    assert [r["id"] for r in rows] == [waiting, done]
    row = rows[1]
    assert (row["prompt"], row["resolution"], row["ratio"], row["duration"]) == \
        ("a red fox", "720p", "16:9", 5)
    assert (row["status"], row["tokens"], row["estimate_cost"]) == ("succeeded", 103818, 1.56)
    assert (row["seed"], row["requested_seed"]) == (99, 7)
    assert row["video_path"] == str(tmp_path / "v.mp4")
    assert row["total_s"] is not None and row["total_s"] >= 0
    assert rows[0]["status"] == "pending" and rows[0]["total_s"] is None


def test_history_as_dataframe(tmp_path):
    import pandas as pd

    path = tmp_path / "ledger.sqlite"
    done, _ = _finished_ledger(path, tmp_path)
    frame = history(path, full=True)
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 2
    assert frame.set_index("id").loc[done, "tokens"] == 103818
    assert {"prompt", "status", "estimate_cost", "video_path", "total_s"} <= set(frame.columns)


def test_history_without_pandas_is_a_list(tmp_path, monkeypatch):
    path = tmp_path / "ledger.sqlite"
    _finished_ledger(path, tmp_path)
    monkeypatch.setitem(sys.modules, "pandas", None)
    rows = history(path, full=True)
    assert isinstance(rows, list) and len(rows) == 2
    table = rows._repr_html_()  # still shown as a table in a notebook
    assert table.count("<tr>") == 3 and "<th>status</th>" in table
    assert "succeeded" in table


def test_history_of_a_missing_ledger_is_empty_and_creates_nothing(tmp_path):
    assert history(tmp_path / "none.sqlite", as_frame=False) == []
    assert not (tmp_path / "none.sqlite").exists()


def test_history_defaults_to_the_configured_output_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(config.settings, "ledger_path", None)
    monkeypatch.setattr(config.settings, "output_dir", str(tmp_path / "videos"))
    _finished_ledger(tmp_path / "videos" / "ledger.sqlite", tmp_path)
    assert len(history(as_frame=False)) == 2
    monkeypatch.setattr(config.settings, "ledger_path", str(tmp_path / "elsewhere.sqlite"))
    assert history(as_frame=False) == []


def test_export_csv_and_json(tmp_path):
    path = tmp_path / "ledger.sqlite"
    done, waiting = _finished_ledger(path, tmp_path)
    csv_file = export_history(tmp_path / "h.csv", path=path)
    with open(csv_file, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["id"]) for r in rows] == [waiting, done]
    assert rows[1]["prompt"] == "a red fox" and rows[1]["tokens"] == "103818"

    json_file = export_history(tmp_path / "h.out", fmt="json", path=path)
    data = json.loads(json_file.read_text(encoding="utf-8"))
    assert [r["id"] for r in data] == [waiting, done]
    assert data[1]["video_sha256"] == "aa"
    with pytest.raises(SeedanceConfigError, match="csv"):
        export_history(tmp_path / "h.xlsx", path=path)


def test_a_claim_held_by_a_dead_process_is_taken_over_at_once(ledger):
    import socket
    import subprocess

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    row = add_row(ledger)
    assert ledger.claim_download(row, "video", f"{socket.gethostname()}:{gone.pid}:abc")
    assert ledger.claim_download(row, "video", f"{socket.gethostname()}:1:def")  # took over
    # pid 1 is alive: its claim stands until released or stale
    assert not ledger.claim_download(row, "video", f"{socket.gethostname()}:{os.getpid()}:new")


def test_a_request_built_by_the_client_stores_no_key(tmp_path, monkeypatch):
    from seedance_nb.config import resolve_client
    from seedance_nb.request import build_request

    monkeypatch.setenv("ARK_API_KEY", FAKE_KEY)
    settings = resolve_client("ark")
    image = tmp_path / "first.png"
    from PIL import Image

    Image.new("RGB", (640, 360), "navy").save(image)
    request = build_request("a boat --rs 480p", provider="ark", model="1.0-pro",
                            images=[(str(image), "first_frame")])
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as led:
        row = led.record_intent(fingerprint=request.fingerprint(), provider=settings.provider,
                                dialect=settings.dialect, model=request.model,
                                base_url=settings.base_url, request=request)
        rec = led.get(row)
    assert rec["request"]["prompt"] == "a boat" and rec["request"]["resolution"] == "480p"
    assert rec["request"]["images"][0]["sha256"] == hashlib.sha256(image.read_bytes()).hexdigest()
    assert rec["estimate_tokens"] > 0 and rec["estimate_cost"] > 0  # 1.0-pro has a price
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite*"))
    assert FAKE_KEY.encode() not in raw


def test_a_prompt_that_looks_like_a_data_url_is_stored_verbatim(ledger):
    text = "data:image/png;base64, a chart that grows, animated"
    row = ledger.record_intent(fingerprint="fp", provider="emulator", dialect="ark", model="m",
                               base_url=None, request=sample_request(text))
    assert ledger.get(row)["request"]["prompt"] == text


# --- adopt, dismiss, in-flight reuse (issue 10) -------------------------------------------

def _unknown_row(ledger, fingerprint="fp-u", prompt="a red fox"):
    row = add_row(ledger, fingerprint=fingerprint, prompt=prompt)
    ledger.mark_sending(row)
    ledger.record_outcome_unknown(row, "read timeout after the create was sent")
    return row


def test_adopt_turns_an_unknown_row_into_that_task(ledger):
    row = _unknown_row(ledger)
    rec = ledger.adopt(row, "cgt-mine")
    assert (rec["status"], rec["task_id"]) == ("queued", "cgt-mine")
    assert rec["error_code"] is None
    assert ledger.find_by_task("emulator", "cgt-mine")["id"] == row
    assert ledger.unresolved() == []
    assert [r["id"] for r in ledger.inflight()] == [row]  # now polled like any task


def test_adopt_refuses_a_task_another_row_holds_and_a_row_that_is_not_unknown(ledger):
    owner = add_row(ledger, fingerprint="fp-o")
    ledger.mark_sending(owner)
    ledger.record_created(owner, "cgt-taken")
    row = _unknown_row(ledger)
    with pytest.raises(SeedanceError, match=f"already belongs to ledger row {owner}"):
        ledger.adopt(row, "cgt-taken")
    assert ledger.get(row)["status"] == "unknown" and ledger.get(row)["task_id"] is None
    with pytest.raises(SeedanceError, match="is queued, not unknown"):
        ledger.adopt(owner, "cgt-other")
    with pytest.raises(SeedanceError, match="no row 999"):
        ledger.adopt(999, "cgt-x")
    assert ledger.get(owner)["task_id"] == "cgt-taken"


def test_dismiss_ends_an_unknown_row_for_good_and_says_who_and_when(ledger):
    row = _unknown_row(ledger)
    assert [r["id"] for r in ledger.unresolved()] == [row]
    rec = ledger.dismiss(row, who="alice@lab")
    assert rec["status"] == "dismissed" and rec["finished_at"] is not None
    assert rec["error_message"].startswith("dismissed by alice@lab at ")
    assert "read timeout" in rec["error_message"]  # what happened is kept
    assert ledger.unresolved() == [] and ledger.inflight() == []
    ledger.record_task(row, _task("running", id="cgt-late"))  # a stray poll changes nothing
    assert ledger.get(row)["status"] == "dismissed"
    with pytest.raises(SeedanceError, match="not unknown"):
        ledger.dismiss(row)
    with pytest.raises(SeedanceError, match="not unknown"):
        ledger.adopt(row, "cgt-late")


def test_find_active_returns_the_newest_row_still_in_flight(ledger):
    assert ledger.find_active("fp-a") is None
    first = add_row(ledger, fingerprint="fp-a")
    assert ledger.find_active("fp-a")["id"] == first  # pending counts: joined, not resent
    ledger.mark_sending(first)
    ledger.record_created(first, "cgt-a1")
    second = add_row(ledger, fingerprint="fp-a")
    ledger.record_create_failed(second, "InvalidParameter", "bad")
    assert ledger.find_active("fp-a")["id"] == first
    ledger.record_task(first, _task("running", id="cgt-a1"))
    assert ledger.find_active("fp-a")["id"] == first
    ledger.record_task(first, _task("succeeded", id="cgt-a1"))
    assert ledger.find_active("fp-a") is None
    _unknown_row(ledger, fingerprint="fp-a")  # unknown is not in flight: never joined
    assert ledger.find_active("fp-a") is None
    assert ledger.find_active("fp-other") is None


# --- files that are not ours are only ever read -------------------------------------------

def _snapshot(path):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    siblings = sorted(p.name for p in path.parent.iterdir())
    return path.read_bytes(), mode, siblings


@pytest.mark.parametrize("kind", ["other tables", "other application id", "newer schema"])
def test_a_file_that_is_not_our_ledger_is_refused_without_any_write(tmp_path, kind):
    path = tmp_path / "notebook.sqlite"
    conn = sqlite3.connect(path)
    if kind == "other tables":
        conn.execute("CREATE TABLE invoices (id INTEGER, amount REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    elif kind == "other application id":
        conn.execute("PRAGMA application_id = 1234")
        conn.execute("CREATE TABLE tasks (id INTEGER)")
    else:
        conn.execute("PRAGMA application_id = 1397050946")  # ours ("SDNB")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        conn.execute("CREATE TABLE tasks (id INTEGER, future TEXT)")
    conn.commit()
    conn.close()
    before = _snapshot(path)
    assert before[1] == "delete"  # a rollback-journal file, as most applications use
    with pytest.raises(SeedanceConfigError, match="left untouched") as info:
        Ledger(path)
    assert str(path) in str(info.value)
    assert _snapshot(path) == before  # same bytes, same journal mode, no -wal/-shm files
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_a_pending_row_of_a_dead_process_is_not_in_flight_for_others(ledger):
    import socket
    import subprocess

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = f"{socket.gethostname()}:{gone.stdout.strip()}"
    live = add_row(ledger, fingerprint="fp-d")
    assert ledger.get(live)["owner"] == f"{socket.gethostname()}:{os.getpid()}"
    orphan = ledger.record_intent(fingerprint="fp-d", provider="emulator", dialect="ark",
                                  model="m", base_url=None, request=sample_request(),
                                  owner=dead)
    assert ledger.find_active("fp-d")["id"] == live  # the newer, dead one is skipped
    ledger.mark_sending(orphan)
    assert ledger.find_active("fp-d")["id"] == live  # sent, never answered: resume's job
    other_host = ledger.record_intent(fingerprint="fp-d", provider="emulator", dialect="ark",
                                      model="m", base_url=None, request=sample_request(),
                                      owner="another-host:1")
    assert ledger.find_active("fp-d")["id"] == other_host  # cannot tell: assumed alive


def test_a_schema_1_ledger_is_upgraded_in_place_keeping_its_rows(tmp_path):
    from seedance_nb import ledger as ledger_module

    path = tmp_path / "ledger.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(ledger_module._SCHEMA.replace(",\n    owner TEXT", ""))
    conn.execute("INSERT INTO tasks (fingerprint, provider, request, status, created_at, task_id)"
                 " VALUES ('fp-old', 'ark', '{}', 'running', 1.0, 'cgt-old')")
    conn.execute(f"PRAGMA application_id = {ledger_module.APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Ledger(path) as led:
        [old] = led.rows()
        assert (old["task_id"], old["status"], old["owner"]) == ("cgt-old", "running", None)
        assert led.find_active("fp-old")["id"] == old["id"]
        assert led.get(add_row(led))["owner"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    conn.close()
