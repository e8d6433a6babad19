"""One view for a big sweep, end to end in a real InteractiveShell against the emulator:
a 24-video `%%seedance --sweep` shows one summary (not 24 placeholders) with the right
counts and a paged gallery; `wait_all` of many jobs shows one summary; `%seedance jobs`
summarizes by cell, `--all` lists every job."""
from __future__ import annotations

import re

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from seedance_nb import jobs as _jobs
from seedance_nb.display_summary import THRESHOLD

from _emulator_helpers import NO_RENDER
from _magic_helpers import make_shell, real_engine

pytestmark = pytest.mark.timeout(90)

SWEEP_24 = ("--model 1.0-pro-fast --rs 480p --dur 2 --sweep seed=1,2,3,4,5,6 "
            "--sweep rt=16:9,9:16,1:1,4:3")


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    # the stand-in renderer: prompts with NO_RENDER make 1-frame clips (24 renders stay cheap)
    with real_engine(tmp_path, monkeypatch, run_seconds=0.5,
                     render_module="_emulator_helpers") as eng:
        sh = make_shell()  # real_engine reset the settings: wait and embed "auto"
        sh.engine = eng
        yield sh


def lantern(seed: int):
    return _jobs.submit(f"a lantern {NO_RENDER}", model="1.0-pro-fast", resolution="480p",
                        duration=2, seed=seed)


def display_ids(cap) -> list[str]:
    return [(o.transient or {}).get("display_id") for o in cap.outputs]


def final_html(cap) -> str:
    return cap.outputs[-1].data["text/html"]


def test_a_24_video_sweep_is_one_summary_with_pages(shell, tmp_path):
    with capture_output() as cap:
        shell.run_cell_magic("seedance", SWEEP_24, f"koi in a pond {NO_RENDER}")
    jobs = shell.user_ns["_seedance_jobs"]
    assert len(jobs) == 24 and all(j.status == "succeeded" for j in jobs)
    # one output: the first display and then only updates of that same display id
    ids = display_ids(cap)
    assert len(set(ids)) == 1 and ids[0] is not None
    assert not cap.outputs[0].update and all(o.update for o in cap.outputs[1:])
    html = final_html(cap)
    assert 'data-kind="done"' in html and ">24 done<" in html and ">0 failed<" in html
    assert 'class="seedance-eta">finished in' in html and "ETA " not in html
    # 24 finished videos, 12 to a page: two pages, one radio (page) checked
    assert html.count("<video") == 24
    assert html.count('class="seedance-page-radio"') == 2 and html.count(" checked>") == 1
    assert "page 1 of 2 · videos 1–12 of 24" in html and "page 2 of 2 · videos 13–24" in html
    # prev and next above and below each page, greyed where there is no such page
    assert html.count('class="seedance-next"') == 2 and html.count('class="seedance-prev"') == 2
    assert html.count("seedance-next-off") == 2 and html.count("seedance-prev-off") == 2
    srcs = re.findall(r'<video src="([^"]+)"', html)
    assert all((tmp_path / s).is_file() for s in srcs)  # file-backed, relative to the cwd
    assert "seed=1 · rt=16:9" in html and "seed=6 · rt=4:3" in html
    plain = cap.outputs[-1].data["text/plain"]
    assert plain.splitlines()[0].endswith(
        "24 done · 0 running · 0 queued · 0 waiting · 0 failed")
    # no line per job printed while waiting: the output itself is the progress
    assert "[seedance]" not in cap.stdout


def test_a_small_sweep_keeps_a_tile_per_video(shell):
    assert THRESHOLD == 8
    with capture_output() as cap:
        shell.run_cell_magic("seedance", "--model 1.0-pro-fast --rs 480p --dur 2 "
                             "--sweep seed=1,2,3,4,5,6,7,8", f"koi in a pond {NO_RENDER}")
    html = final_html(cap)
    assert "seedance-summary" not in html and html.count("<video") == 8


def test_wait_all_of_many_jobs_shows_one_summary(shell, monkeypatch):
    from seedance_nb.ui import summary

    monkeypatch.setattr(summary, "in_kernel", lambda shell: True)  # as in Jupyter
    with capture_output() as cap:
        jobs = [lantern(s) for s in range(1, 11)]
        done = _jobs.wait_all(jobs)
    assert done == jobs and all(j.status == "succeeded" for j in jobs)
    outputs = cap.outputs
    assert all("seedance-summary" in o.data["text/html"] for o in outputs)
    assert len(set(display_ids(cap))) == 1 and not outputs[0].update
    html = final_html(cap)
    assert "wait_all: 10 jobs" in html and ">10 done<" in html and html.count("<video") == 10
    assert "page 1 of 1" in html


def test_wait_all_shows_nothing_for_a_few_jobs_or_outside_a_kernel(shell, monkeypatch):
    from seedance_nb.ui import summary

    with capture_output() as cap:  # a terminal or bare IPython: as before, nothing
        _jobs.wait_all([lantern(s) for s in range(1, 11)])
    assert cap.outputs == []
    monkeypatch.setattr(summary, "in_kernel", lambda shell: True)
    with capture_output() as cap:
        jobs = [lantern(s) for s in (11, 12)]
        _jobs.wait_all(jobs)
    assert cap.outputs == [] and all(j.status == "succeeded" for j in jobs)
    with capture_output() as cap:  # asked for: shown for two
        _jobs.wait_all(jobs, summary=True)
    assert len(cap.outputs) == 1 and ">2 done<" in final_html(cap)


def test_jobs_summarizes_by_cell_and_all_lists_every_job(shell):
    with capture_output():
        shell.run_cell_magic("seedance", SWEEP_24, f"koi in a pond {NO_RENDER}")
        shell.run_cell_magic("seedance", "--model 1.0-pro-fast --rs 480p --dur 2",
                             f"a red kite {NO_RENDER} --seed 9")
    with capture_output() as cap:
        shell.run_line_magic("seedance", "jobs")
    html = final_html(cap)
    assert "25 jobs in this kernel: 25 done" in html
    assert html.count("<video") == 25 and "page 3 of 3 · video 25 of 25" in html
    assert "seed=6 · rt=4:3</div>" in html  # a sweep's tiles keep their swept values
    rows = re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td><td>(\d+)</td>", html)
    assert [(n, done) for _label, n, done in rows] == [("24", "24"), ("1", "1")]
    assert "sweep of 24 over seed, ratio: koi in a pond" in rows[0][0]
    assert "1 video: a red kite" in rows[1][0]
    with capture_output() as cap:
        shell.run_line_magic("seedance", "jobs --all")
    full = final_html(cap)
    assert full.count("<tr>") == 26  # a header and one row per job
    tasks = {j.task_id for j in shell.user_ns["_seedance_jobs"]}
    assert all(t in full for t in tasks)
    with pytest.raises(UsageError, match=r"%seedance jobs \[--all\]"):
        shell.run_line_magic("seedance", "jobs --everything")


def test_live_frontend_sweep_shows_the_widget_then_the_saved_summary(shell, monkeypatch):
    import time

    from seedance_nb import magics

    monkeypatch.setattr(magics, "live_frontend", lambda shell: True)
    with capture_output() as cap:
        shell.run_cell_magic("seedance", "--no-wait " + SWEEP_24.replace("6 --", "6,7 --"),
                             f"a heron {NO_RENDER}")
        jobs = shell.user_ns["_seedance_jobs"]
        assert len(jobs) == 28 and not all(j.done for j in jobs)  # the cell returned at once
        first = cap.outputs[0].data
        assert "application/vnd.jupyter.widget-view+json" in first
        _jobs.wait_all(jobs, summary=False)
        deadline = time.monotonic() + 20
        while "text/html" not in cap.outputs[-1].data and time.monotonic() < deadline:
            time.sleep(0.05)
    last = cap.outputs[-1]
    assert last.update and list(last.data) == ["text/html", "text/plain"]
    assert ">28 done<" in last.data["text/html"] and len(set(display_ids(cap))) == 1
    # nothing printed but the once-per-process emulator notice (main thread, at submit)
    assert cap.stdout.replace(_jobs.EMULATOR_NOTICE + "\n", "") == ""


def test_failures_are_counted_and_named(shell, monkeypatch):
    from seedance_nb.ui import summary

    monkeypatch.setattr(summary, "in_kernel", lambda shell: True)
    with capture_output() as cap:
        jobs = [lantern(s) for s in range(1, 9)]
        jobs += [_jobs.submit(f"a storm [emu:fail] {NO_RENDER}", model="1.0-pro-fast",
                              resolution="480p", duration=2, seed=s, name=f"storm-{s}")
                 for s in (1, 2)]
        _jobs.wait_all(jobs)
    html, text = final_html(cap), cap.outputs[-1].data["text/plain"]
    assert ">8 done<" in html and ">2 failed<" in html and html.count("<video") == 8
    assert "storm-1: failed: " in html and "OutputVideoSensitiveContentDetected" in html
    assert "storm-2: failed: " in text


def test_resuming_many_jobs_after_a_restart_shows_one_summary(shell, monkeypatch):
    # A kernel restart while a 10-video run is out: `%seedance resume` in the new kernel
    # follows them all in one summary (counts, paged videos), not a tile each.
    from seedance_nb.config import settings

    settings.poll_interval = 600.0  # the old kernel sends the creates and never polls
    jobs = [lantern(s) for s in range(21, 31)]
    shell.engine.wait_sent(jobs)
    ids = {j.ledger_id for j in jobs}
    shell.engine.mgr.stop()  # the old kernel is gone; its tasks run on at the gateway
    settings.poll_interval = 0.1
    fresh = _jobs.JobManager()
    monkeypatch.setattr(_jobs, "_manager", fresh)
    try:
        with capture_output() as cap:
            shell.run_line_magic("seedance", "resume")
        rows = [r for r in fresh.ledger().rows() if r["id"] in ids]
        assert len(rows) == 10
        assert all(r["status"] == "succeeded" and r["video_path"] for r in rows)
        assert sum(shell.engine.emu.stats()["creates"].values()) == 10  # nothing resent
        summaries = [o for o in cap.outputs if "seedance-summary" in o.data.get("text/html", "")]
        assert summaries and len(summaries) == len(cap.outputs)
        assert len(set(display_ids(cap))) == 1
        html = final_html(cap)
        assert "resumed: 10 jobs" in html and ">10 done<" in html
        assert html.count("<video") == 10 and "page 1 of 1" in html
    finally:
        fresh.stop()


def test_a_big_draft_sweep_says_how_to_render_each_final(shell):
    """A 2.5 draft sweep past THRESHOLD has no "Render final" button per video: the
    summary says how, each finished draft's tile carries its own command, and that
    command, run as written, sends the 1080p final of that draft."""
    seeds = ",".join(str(s) for s in range(1, THRESHOLD + 2))
    with capture_output() as cap:
        shell.run_cell_magic("seedance", f"--model 2.5 --draft --dur 4 --sweep seed={seeds}",
                             f"a heron lifts off {NO_RENDER}")
    drafts = shell.user_ns["_seedance_jobs"]
    assert len(drafts) == THRESHOLD + 1 and all(j.status == "succeeded" for j in drafts)
    html, plain = final_html(cap), cap.outputs[-1].data["text/plain"]
    assert "%seedance final TASK_ID renders one at 1080p" in html
    assert "%seedance final TASK_ID renders one at 1080p" in plain
    commands = re.findall(r"<code>(%seedance final [^<]+)</code>", html)
    assert sorted(commands) == sorted(f"%seedance final {j.task_id}" for j in drafts)
    with capture_output():
        shell.run_line_magic("seedance", commands[0].split(" ", 1)[1])
    final = shell.user_ns["_seedance_job"].wait(60)
    assert final.request.mode == "final" and final.request.resolution == "1080p"
    assert final.task.draft_task_id == commands[0].rsplit(" ", 1)[1]
    sent = shell.engine.wire()
    assert sent[-1].draft_task_id == final.task.draft_task_id and not sent[-1].draft
    assert len(sent) == THRESHOLD + 2  # the drafts, then this one final


def test_a_big_sweep_of_finished_videos_offers_no_final():
    from seedance_nb.display_gallery import summary_bundle
    from seedance_nb.display_summary import Tally

    from _magic_helpers import FakeJob

    jobs = [FakeJob() for _ in range(THRESHOLD + 1)]
    bundle = summary_bundle(Tally(jobs), title="sweep")
    assert "%seedance final" not in bundle["text/html"] + bundle["text/plain"]
