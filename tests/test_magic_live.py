"""%%seedance end to end in an InteractiveShell: real jobs against a test emulator."""
from __future__ import annotations

import re

import pytest
from IPython.utils.capture import capture_output

from seedance_nb.config import settings
from seedance_nb.emulator import Emulator

from _magic_helpers import make_shell

VIDEO = re.compile(r'<video src="([^"]+)"')


@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0, speed=100, run_seconds=1) as emu:  # done once rendered
        yield emu


@pytest.fixture
def shell(emulator, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emulator.base_url)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    settings.reset()
    sh = make_shell()
    settings.output_dir = str(tmp_path / "seedance-output")
    settings.poll_interval = 0.2
    yield sh
    settings.reset()


def html_of(cap) -> str:
    return "".join(o.data.get("text/html", "") for o in cap.outputs)


def test_cell_blocks_and_ends_with_the_video(shell, tmp_path):
    with capture_output() as cap:
        shell.run_cell_magic("seedance", "--rs 480p --name boat", "a paper boat --dur 4 --seed 3")
    job = shell.user_ns["_seedance_job"]
    assert job.status == "succeeded" and job.request.seed == 3
    src = VIDEO.findall(html_of(cap))[-1]  # the placeholder was updated to the video
    assert (tmp_path / src).is_file() and src.startswith("seedance-output/")
    # progress replaced the one display in place: no status lines under the video
    assert "[seedance]" not in cap.stdout
    assert all(o.update for o in cap.outputs[1:])


def test_identical_cell_reuses_the_result(shell):
    with capture_output():
        shell.run_cell_magic("seedance", "--rs 480p", "a kite --dur 4")
    first = shell.user_ns["_seedance_job"]
    with capture_output():
        shell.run_cell_magic("seedance", "--rs 480p", "a kite --dur 4")
    again = shell.user_ns["_seedance_job"]
    assert again.reused and again.task_id == first.task_id
    with capture_output():
        shell.run_cell_magic("seedance", "--rs 480p --new", "a kite --dur 4")
    assert shell.user_ns["_seedance_job"].task_id != first.task_id


def test_embed_puts_the_video_in_the_notebook(shell):
    with capture_output() as cap:
        shell.run_cell_magic("seedance", "--rs 480p --embed", "a lantern --dur 4")
    assert VIDEO.findall(html_of(cap))[-1].startswith("data:video/mp4;base64,")


def test_sweep_gallery(shell):
    with capture_output() as cap:
        # a silent 2 s model: four renders share two cores, so keep each one small
        shell.run_cell_magic("seedance", "--model 1.0-pro-fast --rs 480p --sweep seed=1,2 "
                             "--sweep rt=16:9,1:1", "koi in a pond --dur 2")
    jobs = shell.user_ns["_seedance_jobs"]
    assert [j.status for j in jobs] == ["succeeded"] * 4
    final = cap.outputs[-1].data["text/html"]
    assert final.count("<video") == 4 and "seed=2 · rt=1:1" in final
    with capture_output() as cap:
        shell.run_line_magic("seedance", "jobs")
    assert html_of(cap).count("<video") >= 4


def test_live_frontend_returns_at_once_and_the_worker_updates_the_display(shell):
    import time

    with capture_output() as cap:
        shell.run_cell_magic("seedance", "--rs 480p --no-wait", "a comet --dur 4")
        job = shell.user_ns["_seedance_job"]
        assert not job.done  # the cell did not block
        first = cap.outputs[0].data["text/html"]
        assert "<video" not in first
        job.wait(60)
        deadline = time.monotonic() + 10
        while "<video" not in cap.outputs[-1].data["text/html"] and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "<video" in cap.outputs[-1].data["text/html"]
    assert cap.stdout == ""  # nothing printed from the worker thread


def test_resume_with_nothing_to_do(shell, capsys):
    shell.run_line_magic("seedance", "resume")
    assert "nothing to resume" in capsys.readouterr().out
