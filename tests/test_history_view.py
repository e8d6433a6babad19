"""`history()` and `%seedance history`: short by default, this session's tasks, the whole
ledger with all=True / --all, every column with full=True / --full."""
from __future__ import annotations

import time

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from seedance_nb.config import settings
from seedance_nb.history_view import History, when_text
from seedance_nb.ledger import Ledger, history
from seedance_nb.providers.base import Task

from _ledger_helpers import add_row
from _magic_helpers import make_mp4, make_shell, real_engine


def _done(led, row, tmp_path, tokens=103818):
    led.mark_sending(row)
    led.record_created(row, f"cgt-{row}")
    led.record_task(row, Task(id=f"cgt-{row}", provider="emulator", status="succeeded",
                              tokens=tokens, seed=99))
    video = make_mp4(tmp_path / "seedance-output" / f"emulator-cgt-{row}.mp4")
    led.record_file(row, "video", video, "ab" * 32, video.stat().st_size)


@pytest.fixture
def ledger_path(tmp_path, monkeypatch):
    """A ledger with two rows of this session and one written by another kernel."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "seedance-output" / "ledger.sqlite"
    with Ledger(path) as led:
        mine = add_row(led, name="fox", estimate={"tokens": 103818, "cost": 0.58,
                                                 "currency": "USD"})
        _done(led, mine, tmp_path)
        add_row(led, fingerprint="fp-2", prompt="a blue whale " * 10,  # still pending
                estimate={"tokens": 103818, "cost": 0.58, "currency": "USD"})
        other = add_row(led, fingerprint="fp-3", prompt="an old kernel's task",
                        owner="elsewhere:1")
        _done(led, other, tmp_path)
    return path


def test_default_view_is_short_and_scoped_to_this_session(ledger_path, tmp_path):
    view = history(ledger_path)
    assert isinstance(view, History) and [r["#"] for r in view] == ["2", "1"]
    text, html = repr(view), view._repr_html_()
    assert "3 in seedance-output/ledger.sqlite: history(all=True)" in text
    fox = view[1]
    assert (fox["name"], fox["prompt"], fox["model"], fox["status"]) == (
        "fox", "a red fox", "1.0-pro", "succeeded")
    assert fox["settings"] == "720p 16:9 5 s seed 99"
    assert (fox["tokens"], fox["cost"], fox["when"]) == ("103,818", "free (emulator)", "just now")
    assert fox["file"] == "seedance-output/emulator-cgt-1.mp4"
    assert '<a href="seedance-output/emulator-cgt-1.mp4"' in html
    assert view[0]["prompt"].endswith("…") and len(view[0]["prompt"]) == 48
    assert view[0]["tokens"] == "~103,818" and view[0]["file"] == ""
    for noise in ("None", "nan", "NaN", "abab", "fp-1", str(tmp_path)):
        assert noise not in text and noise not in html, noise


def test_all_and_full(ledger_path):
    everything = history(ledger_path, all=True)
    assert [r["#"] for r in everything] == ["3", "2", "1"]
    assert "an old kernel's task" in repr(everything)
    assert repr(everything).startswith("3 tasks in seedance-output/ledger.sqlite")
    frame = history(ledger_path, full=True)
    assert sorted(frame["id"]) == [1, 2]
    assert {"fingerprint", "video_sha256", "total_s", "video_path"} <= set(frame.columns)
    assert len(history(ledger_path, all=True, full=True)) == 3


def test_cost_of_a_priced_provider_and_an_unbilled_failure(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as led:
        priced = led.record_intent(fingerprint="p", provider="byteplus", dialect="ark",
                                   model="seedance-2-0-fast", base_url="https://x/api/v3",
                                   request={"prompt": "p", "resolution": "720p"},
                                   estimate={"tokens": 100000, "cost": 0.56, "currency": "USD"})
        led.mark_sending(priced)
        led.record_created(priced, "cgt-p")
        led.record_task(priced, Task(id="cgt-p", provider="byteplus", status="succeeded",
                                     tokens=50000))
        failed = add_row(led, fingerprint="f")
        led.mark_sending(failed)
        led.record_created(failed, "cgt-f")
        led.record_task(failed, Task(id="cgt-f", provider="emulator", status="failed"))
    rows = {r["#"]: r for r in history(path)}
    assert rows[str(priced)]["cost"] == "$0.28"  # the estimate's price for the real tokens
    assert rows[str(failed)]["cost"] == "not billed" and rows[str(failed)]["tokens"] == ""


def test_when_is_relative_then_a_short_local_time():
    now = time.mktime((2026, 12, 1, 15, 0, 0, 0, 0, -1))
    assert when_text(now - 20, now) == "just now"
    assert when_text(now - 5 * 60, now) == "5 min ago"
    assert when_text(now - 2 * 3600, now) == "2 h ago"
    assert when_text(now - 10 * 3600, now) == "05:00"
    assert when_text(now - 24 * 3600, now) == "yesterday 15:00"
    assert when_text(now - 20 * 86400, now) == "Nov 11 15:00"
    assert when_text(now - 400 * 86400, now) == "2025-10-27"


def test_empty_session_points_at_the_rest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as led:
        add_row(led, owner="elsewhere:1")
    assert repr(history(path)) == ("0 tasks from this session; 1 in ledger.sqlite: "
                                   "history(all=True) or %seedance history --all shows them")


def test_magic_history_views_after_a_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings.reset()
    shell = make_shell()
    with real_engine(tmp_path, monkeypatch) as engine:
        with Ledger(settings.ledger_file()) as led:  # a task of an earlier kernel
            add_row(led, fingerprint="old", prompt="yesterday's task", owner="elsewhere:1")
        with capture_output():
            shell.run_cell_magic("seedance", "--wait --model 1.0-pro-fast --rs 480p "
                                 "--name lamp", "a paper lamp --dur 2")
        assert engine.creates() == 1
        short = shell.run_line_magic("seedance", "history")
        assert [r["name"] for r in short] == ["lamp"] and short[0]["status"] == "succeeded"
        everything = shell.run_line_magic("seedance", "history --all")
        assert [r["prompt"] for r in everything] == ["a paper lamp", "yesterday's task"]
        full = shell.run_line_magic("seedance", "history --full")
        assert list(full["name"]) == ["lamp"] and "fingerprint" in full.columns
        with pytest.raises(UsageError, match="--all"):
            shell.run_line_magic("seedance", "history --everything")
    settings.reset()


def test_a_result_reused_by_this_kernel_is_in_its_history(tmp_path, monkeypatch):
    import sqlite3

    monkeypatch.chdir(tmp_path)
    settings.reset()
    shell = make_shell()
    cell = ("--wait --model 1.0-pro-fast --rs 480p", "a paper crane --dur 2")
    with real_engine(tmp_path, monkeypatch):
        with capture_output():
            shell.run_cell_magic("seedance", *cell)
        ledger = settings.ledger_file()
    conn = sqlite3.connect(ledger)  # as if an earlier kernel had made it
    conn.execute("UPDATE tasks SET owner = 'elsewhere:1'")
    conn.commit()
    conn.close()
    with real_engine(tmp_path, monkeypatch) as engine:  # a new kernel's jobs, same ledger
        assert len(shell.run_line_magic("seedance", "history")) == 0
        with capture_output():
            shell.run_cell_magic("seedance", *cell)
        assert shell.user_ns["_seedance_job"].reused and engine.creates() == 0
        [row] = shell.run_line_magic("seedance", "history")
        assert row["prompt"] == "a paper crane" and row["status"] == "succeeded"
    settings.reset()


def test_after_a_restart_the_default_view_still_shows_this_notebooks_tasks(tmp_path, monkeypatch):
    import sqlite3

    monkeypatch.chdir(tmp_path)
    settings.reset()
    shell = make_shell()
    shell.user_ns["__session__"] = str(tmp_path / "sweep.ipynb")  # as Jupyter sets it
    try:
        with real_engine(tmp_path, monkeypatch):
            with capture_output():
                shell.run_cell_magic("seedance", "--wait --model 1.0-pro-fast --rs 480p",
                                     "a paper heron --dur 2")
            ledger = settings.ledger_file()
        conn = sqlite3.connect(ledger)  # the kernel that made it is gone
        [(notebook,)] = conn.execute("SELECT notebook FROM tasks").fetchall()
        conn.execute("UPDATE tasks SET owner = 'elsewhere:1'")
        conn.commit()
        conn.close()
        assert notebook == str(tmp_path / "sweep.ipynb")
        with real_engine(tmp_path, monkeypatch):  # a new kernel on the same notebook
            [row] = shell.run_line_magic("seedance", "history")
            assert row["prompt"] == "a paper heron"
            shell.user_ns["__session__"] = str(tmp_path / "other.ipynb")
            assert len(shell.run_line_magic("seedance", "history")) == 0
            assert len(shell.run_line_magic("seedance", "history --all")) == 1
    finally:
        shell.user_ns.pop("__session__", None)
        settings.reset()
