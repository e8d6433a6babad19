"""The panel after a kernel restart (cards rebuilt from the ledger, unfinished jobs
resumed) and where widgets cannot render (readable text/plain and text/html)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from seedance_nb.config import settings
from seedance_nb.ui import Panel
from seedance_nb.ui.restore import PastJob

from _magic_helpers import make_shell, real_engine


@pytest.fixture(autouse=True)
def _clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings.reset()
    yield
    settings.reset()


def _restart() -> None:
    """What a kernel restart leaves: no live jobs, a new manager, the same folder."""
    from seedance_nb import jobs

    old = jobs.manager()
    old.stop()
    jobs.set_manager(jobs.JobManager())


def _until(predicate, timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_a_new_panel_shows_this_folders_recent_jobs_and_resumes_unfinished_ones(
        tmp_path, monkeypatch):
    from seedance_nb import jobs
    from seedance_nb.jobs import Job

    # a task runs half a real second, so one is still running at the "restart"
    with real_engine(tmp_path, monkeypatch, speed=4, run_seconds=2) as engine:
        panel = Panel(provider="emulator")
        panel.model.value = "1.0-pro-fast"
        panel.resolution.value = "480p"
        panel.duration.value = 2
        panel.prompt.value = "a finished kite"
        done = panel._on_generate().wait(30)
        panel.prompt.value = "a running hare"
        running = panel._on_generate()
        engine.wait_sent([running])
        assert not running.done
        _restart()
        try:
            shell = make_shell()
            again = shell.run_line_magic("seedance", "panel")
            titles = [c.panel_title for c in again.cards_box.children]
            assert titles == ["a running hare", "a finished kite"]  # newest first
            resumed, past = [c.job for c in again.cards_box.children]
            assert isinstance(resumed, Job) and resumed is not running  # a new Job
            assert resumed.ledger_id == running.ledger_id
            assert isinstance(past, PastJob) and past.status == "succeeded"
            assert past.video_path == done.video_path
            past_card = again.cards_box.children[1]
            assert 'data-status="succeeded"' in past_card.status.value
            assert len(past_card.video.children) == 1  # its video, from the file
            assert past_card.cancel.disabled
            resumed.wait(30)
            card = again.cards_box.children[0]
            _until(lambda: 'data-status="succeeded"' in card.status.value)
            assert engine.creates() == 2  # resumed, not sent again
            assert "2 recent jobs from the ledger" in again.restored.value
            # the same panel opened again in this kernel reuses the live jobs
            third = Panel(provider="emulator")
            assert [c.job for c in third.cards_box.children][0] is resumed
        finally:
            jobs.manager().stop()


def test_a_recorded_draft_still_offers_its_final_after_a_restart(tmp_path, monkeypatch):
    from seedance_nb import jobs

    from _emulator_helpers import NO_RENDER

    with real_engine(tmp_path, monkeypatch, render_module="_emulator_helpers") as engine:
        draft = jobs.submit(f"a koi pond {NO_RENDER}", provider="emulator", model="2.5",
                            draft=True, duration=4).wait(60)
        _restart()
        try:
            panel = Panel(provider="emulator")
            [card] = panel.cards_box.children
            assert isinstance(card.job, PastJob) and card.job.task_id == draft.task_id
            assert not card.final.button.disabled  # the draft succeeded, 7 days left
            card.final.button.click()
            final = card.final.final_job.wait(60)
            assert final.request.mode == "final" and final.request.resolution == "1080p"
            assert engine.wire()[-1].draft_task_id == draft.task_id
            assert engine.creates() == 2
        finally:
            jobs.manager().stop()


def test_a_folder_without_a_ledger_shows_no_cards_and_creates_no_file(tmp_path):
    settings.output_dir = str(tmp_path / "fresh")
    panel = Panel(provider="emulator")
    assert panel.cards_box.children == () and panel.restored.value == ""
    assert not (tmp_path / "fresh").exists()


def test_recent_rows_are_limited(tmp_path, monkeypatch):
    with real_engine(tmp_path, monkeypatch) as engine:
        kw = dict(provider="emulator", model="1.0-pro-fast", resolution="480p", duration=2)
        from seedance_nb import jobs

        made = [jobs.submit(f"clip {i}", **kw) for i in range(4)]
        for job in made:
            job.wait(30)
        panel = Panel(provider="emulator", recent=3)
        assert [c.panel_title for c in panel.cards_box.children] == ["clip 3", "clip 2",
                                                                     "clip 1"]
        assert Panel(provider="emulator", recent=0).cards_box.children == ()
        assert engine.creates() == 4


def test_text_fallback_describes_the_form_and_the_jobs():
    panel = Panel(provider="emulator")
    panel.model.value = "2.0-fast"
    panel.prompt.value = "a paper boat --rs 480p"
    panel.duration.value = 4
    panel.audio.value = False
    bundle = panel._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.model_id
    text = bundle["text/plain"]
    assert "Panel(children" not in text and repr(panel) == text
    assert text.splitlines()[:5] == [
        "Seedance panel (interactive in Jupyter with ipywidgets)",
        "provider: emulator (emulating ark)",
        "model: 2.0-fast (doubao-seedance-2-0-fast-260128)",
        "prompt: a paper boat --rs 480p",
        "settings: Duration (s) 4, Audio off"]
    assert text.endswith("jobs: none yet")
    assert "<li>settings: Duration (s) 4, Audio off</li>" in bundle["text/html"]


def test_headless_notebook_saves_readable_text(tmp_path):
    """nbclient (no widget frontend): the saved output of `%seedance panel` reads as text."""
    import nbformat

    from seedance_nb import quickstart

    cells = ["%load_ext seedance_nb",
             "%seedance panel",
             "from seedance_nb.ui import Panel\np = Panel(provider='emulator')\n"
             "p.prompt.value = 'a kite {x}'\np.resolution.value = '480p'\np"]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    src = tmp_path / "panel.ipynb"
    nbformat.write(book, src)
    out = quickstart.run(src, tmp_path / "run", timeout=60, env=quickstart.kernel_env())
    saved = nbformat.read(out, as_version=4)
    for cell in saved.cells[1:]:
        [output] = [o for o in cell.outputs if o.output_type == "execute_result"]
        text = output.data["text/plain"]
        assert text.startswith("Seedance panel") and "Panel(children" not in text
        assert "<b>Seedance panel</b>" in output.data["text/html"]
    last = saved.cells[2].outputs[0].data["text/plain"]
    assert "prompt: a kite {x}" in last and "settings: Resolution 480p" in last
    assert not Path(tmp_path / "run" / "seedance-output").exists()
