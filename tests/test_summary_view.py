"""The summary of many jobs in a given state (FakeJob, no engine): counts, tokens and cost,
the ETA, the CSS-paged HTML, the live widget's pages, and the hand-over from the widget
to the saved HTML once every job has settled."""
from __future__ import annotations

import re
import threading

import pytest

from seedance_nb import catalog
from seedance_nb import display_gallery as dg
from seedance_nb import display_summary as ds
from seedance_nb.request import build_request
from seedance_nb.ui.summary import SummaryOutput, jobs_list_bundle, jobs_summary_bundle, note_group
from seedance_nb.ui.summary_view import SummaryView

from _magic_helpers import FakeJob, make_mp4


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def request(seed: int = 1):
    return build_request(f"a kite --seed {seed}", provider="emulator", model="1.0-pro-fast",
                         resolution="480p", duration=2)


def finished(job, path, tokens=1000):
    job.video_path = str(path)
    job.tokens = tokens
    job.task_id = f"cgt-{job.ledger_id}"
    job.status = "succeeded"


@pytest.fixture
def clips(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clip = make_mp4(tmp_path / "out" / "clip.mp4", frames=2)
    return [clip.with_name(f"c{i}.mp4") for i in range(30)], clip


def many(n, clips):
    paths, clip = clips
    for p in paths[:n]:
        if not p.exists():
            p.write_bytes(clip.read_bytes())
    return [FakeJob("a kite", request=request(i + 1)) for i in range(n)], paths


def test_counts_cover_every_status_and_waiting_is_shown():
    jobs = [FakeJob() for _ in range(8)]
    for job, status in zip(jobs, ["waiting", "pending", "queued", "running", "failed",
                                  "rejected", "cancelled", "unknown"]):
        job.status = status
    counts = ds.Tally(jobs).observe()
    assert counts == {"done": 0, "running": 1, "queued": 2, "waiting": 1, "failed": 2,
                      "cancelled": 1, "unknown": 1}
    line = ds.status_line(ds.Tally(jobs))
    assert line == ("0 done · 1 running · 2 queued · 1 waiting · 2 failed · 1 cancelled · "
                    "1 unknown")


def test_waiting_count_hidden_where_the_client_has_no_such_status(monkeypatch):
    monkeypatch.setattr(catalog, "JOB_STATUSES", tuple(s for s in catalog.JOB_STATUSES
                                                       if s != "waiting"))
    jobs = [FakeJob() for _ in range(2)]
    assert ds.status_line(ds.Tally(jobs)) == "0 done · 0 running · 2 queued · 0 failed"
    jobs[0].status = "waiting"  # a job in it still counts
    assert "1 waiting" in ds.status_line(ds.Tally(jobs))


def test_a_success_counts_as_done_once_its_file_is_here(tmp_path):
    job = FakeJob()
    job.status = "succeeded"
    assert ds.bucket(job) == "running"  # downloading
    job.video_path = str(tmp_path / "a.mp4")
    assert ds.bucket(job) == "done"
    other = FakeJob()
    other.status, other.error = "succeeded", "download failed: 403"
    assert ds.bucket(other) == "failed"


def test_eta_unknown_until_one_finishes_then_from_durations(clips):
    jobs, paths = many(4, clips)
    clock = Clock()
    tally = ds.Tally(jobs, clock=clock)
    tally.observe()
    assert "ETA unknown" in ds.time_line(tally)
    clock.now = 1.0
    jobs[0].status = jobs[1].status = "running"
    tally.observe()
    clock.now = 11.0
    finished(jobs[0], paths[0])
    # job 1 has run as long as job 0 took; two queued jobs of 10 s each on two slots
    assert tally.eta() == pytest.approx(10.0)
    assert "ETA ≈ 10 s" in ds.time_line(tally)
    for i in (1, 2, 3):
        finished(jobs[i], paths[i])
    clock.now = 25.0
    assert ds.time_line(tally) == "finished in 25 s"


def test_tokens_and_cost_so_far_skip_reused_results(clips):
    jobs, paths = many(3, clips)
    finished(jobs[0], paths[0], tokens=20_000)
    finished(jobs[1], paths[1], tokens=20_000)
    jobs[1].reused = True  # not billed again
    est = jobs[0].request.estimate()
    tokens, cost, planned, free = ds.Tally(jobs).money()
    assert tokens == 20_000 and planned == 2 * est.tokens_max and free
    assert cost == {est.currency: pytest.approx(20_000 * est.cost_max / est.tokens_max)}
    assert "20,000 tokens so far" in ds.money_line(ds.Tally(jobs))


def test_static_gallery_pages_twelve_equal_tiles(clips):
    jobs, paths = many(26, clips)
    for i in range(25):
        finished(jobs[i], paths[i])
    jobs[25].status, jobs[25].error = "failed", "OutputVideoSensitiveContentDetected: no"
    tally = ds.Tally(jobs)
    bundle = dg.summary_bundle(tally, title="sweep", fields=["seed"], page=1)
    html = bundle["text/html"]
    assert html.count("<video") == 25 and html.count('class="seedance-tile"') == 25
    # three pages, the asked-for one checked; each page names its range
    radios = re.findall(r'<input type="radio"[^>]*>', html)
    assert len(radios) == 3 and [" checked" in r for r in radios] == [False, True, False]
    assert "page 3 of 3 · video 25 of 25" in html
    # equal tiles: one picture box for all
    assert len(set(re.findall(r"width:(\d+)px;height:(\d+)px;object-fit", html))) == 1
    assert "seed=26: failed: OutputVideoSensitiveContentDetected" in html
    assert ">25 done<" in html and ">1 failed<" in html
    assert bundle["text/plain"].startswith("sweep: 25 done · 0 running")


def test_no_video_yet_says_so(clips):
    jobs, _ = many(10, clips)
    html = dg.summary_bundle(ds.Tally(jobs), title="sweep")["text/html"]
    assert "no video finished yet" in html and "<video" not in html
    assert "ETA unknown" in html


def test_widget_pages_with_prev_and_next(clips):
    jobs, paths = many(20, clips)
    view = SummaryView(ds.Tally(jobs), title="sweep", fields=["seed"])
    assert view.page_label.value == "no video finished yet"
    assert view.prev.disabled and view.next.disabled
    for i in range(14):
        finished(jobs[i], paths[i])
    view.refresh()
    shown = [t for t in view.tiles if t.value]
    assert len(shown) == 12 and all(t.layout.display is None for t in shown)
    assert view.page_label.value == "page 1 of 2 · videos 1–12 of 14"
    assert view.prev.disabled and not view.next.disabled
    view.next.click()
    assert view.page_label.value == "page 2 of 2 · videos 13–14 of 14"
    assert [t.value != "" for t in view.tiles] == [True] * 2 + [False] * 10
    assert all(t.layout.display == "none" for t in view.tiles[2:])
    assert "seed=13" in view.tiles[0].value and view.next.disabled
    view.prev.click()
    assert "seed=1<" in view.tiles[0].value
    assert ">14 done<" in view.head.value and ">6 running<" not in view.head.value


class Handle:
    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update(self, data, raw=False):
        self.updates.append(data)


def test_live_output_hands_over_to_saved_html_when_settled(clips, monkeypatch, capsys):
    jobs, paths = many(10, clips)
    shown = []
    monkeypatch.setattr("IPython.display.display",
                        lambda data, raw=False, display_id=False: shown.append(data) or Handle())
    out = SummaryOutput(jobs, title="sweep", live=True).show()
    assert len(shown) == 1 and "application/vnd.jupyter.widget-view+json" in shown[0]
    assert shown[0]["application/vnd.jupyter.widget-view+json"]["model_id"] == out.view.model_id
    out.follow()
    # the jobs end on other threads (as on lanes): only traits and the handle change
    threads = [threading.Thread(target=finished, args=(j, p)) for j, p in zip(jobs, paths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out.view.page_label.value == "page 1 of 1 · videos 1–10 of 10"
    final = out.handle.updates[-1]
    assert list(final) == ["text/html", "text/plain"]  # no widget: it stays after a reload
    assert final["text/html"].count("<video") == 10 and ">10 done<" in final["text/html"]
    jobs[0].progress = 50  # nothing more is sent once settled
    assert len(out.handle.updates) == 1
    assert all(out.refresh not in j._trait_notifiers.get("status", {}).get("change", [])
               for j in jobs)  # the jobs let go of the output and its widget
    assert capsys.readouterr().out == ""  # nothing printed from the job threads


def test_jobs_tables_group_by_cell(clips):
    jobs, paths = many(12, clips)
    note_group(jobs[:10], "In [3]: sweep of 10 over seed: a kite")
    for i in range(9):
        finished(jobs[i], paths[i])
    summary = jobs_summary_bundle(jobs)
    assert "12 jobs in this kernel: 9 done · 0 running · 3 queued" in summary["text/html"]
    assert summary["text/plain"].splitlines()[1:] == [
        "In [3]: sweep of 10 over seed: a kite: 10 videos, 9 done · 0 running · 1 queued · "
        "0 waiting · 0 failed, 9,000 tokens",
        "other jobs (submit(), panel, resume): 2 videos, 0 done · 0 running · 2 queued · "
        "0 waiting · 0 failed, 0 tokens"]
    full = jobs_list_bundle(jobs)
    assert full["text/html"].count("<tr>") == 13 and "out/c0.mp4" in full["text/html"]


def test_live_clock_moves_without_job_events(clips, monkeypatch):
    import time

    from seedance_nb.ui import summary

    jobs, _ = many(10, clips)
    monkeypatch.setattr("IPython.display.display",
                        lambda data, raw=False, display_id=False: Handle())
    monkeypatch.setattr(summary, "TICK_S", 0.02)
    out = SummaryOutput(jobs, title="sweep", live=True).show()
    clock = Clock()
    out.tally._clock = clock
    out.follow()
    clock.now = out.tally.started_at + 75
    deadline = time.monotonic() + 5
    while "1 min 15 s elapsed" not in out.view.head.value and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "1 min 15 s elapsed · ETA unknown" in out.view.head.value
    out._final = True  # ends the ticking thread


def test_embedded_videos_are_sent_once_with_the_final_state(clips, monkeypatch):
    jobs, paths = many(10, clips)
    handle = Handle()
    monkeypatch.setattr("IPython.display.display",
                        lambda data, raw=False, display_id=False: handle)
    out = SummaryOutput(jobs, title="sweep", embed=True).show()
    for i in range(9):
        finished(jobs[i], paths[i])
        out.refresh()
    assert len(handle.updates) == 9
    assert all("data:video/mp4" not in u["text/html"] for u in handle.updates)
    assert "embedded in this output once every job has ended" in handle.updates[-1]["text/html"]
    finished(jobs[9], paths[9])
    out.refresh()
    assert handle.updates[-1]["text/html"].count('<video src="data:video/mp4;base64,') == 10
