"""A `--wait` cell against the emulator, as a notebook user gets it: one display updated
in place (no status lines), the video with its poster PNG, the reused badge on a re-run,
and a sweep's gallery with one estimate line and a contact sheet."""
from __future__ import annotations

import base64
import io

import pytest
from IPython.utils.capture import capture_output
from PIL import Image

from seedance_nb.config import settings
from seedance_nb.emulator import Emulator

from _magic_helpers import make_shell

# a silent 2 s 480p model: renders stay small on a shared machine
LINE = "--wait --model 1.0-pro-fast --rs 480p"


@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0, speed=100, run_seconds=1) as emu:
        yield emu


@pytest.fixture
def shell(emulator, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emulator.base_url)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    settings.reset()
    settings.output_dir = str(tmp_path / "seedance-output")
    settings.poll_interval = 0.2
    yield make_shell()
    settings.reset()


def _image(data: str) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(data)))
    img.load()
    return img


def test_waited_cell_is_one_display_updated_in_place_ending_with_video_and_poster(shell):
    with capture_output() as cap:
        shell.run_cell_magic("seedance", f"{LINE} --name boat", "a paper boat --dur 2 --seed 3")
    job = shell.user_ns["_seedance_job"]
    assert job.status == "succeeded"
    assert "[seedance]" not in cap.stdout  # no queued/running/succeeded lines
    first, *updates = cap.outputs
    assert not first.update and updates and all(o.update for o in updates)
    final = cap.outputs[-1].data
    assert "<video" in final["text/html"] and "boat" in final["text/plain"]
    still = _image(final["image/png"])
    assert still.format == "PNG" and 0 < still.width <= 640

    with capture_output() as cap:  # the same cell again: answered from the ledger
        shell.run_cell_magic("seedance", f"{LINE} --name boat", "a paper boat --dur 2 --seed 3")
    again = shell.user_ns["_seedance_job"]
    assert again.reused
    html = cap.outputs[-1].data["text/html"]
    assert f"reused · no charge · from task {job.task_id}" in html
    assert "[seedance]" not in cap.stdout


def test_waited_sweep_is_a_gallery_with_one_estimate_line_and_a_contact_sheet(shell):
    with capture_output() as cap:
        shell.run_cell_magic("seedance", f"{LINE} --sweep rt=16:9,9:16", "koi --dur 2")
    jobs = shell.user_ns["_seedance_jobs"]
    assert [j.status for j in jobs] == ["succeeded", "succeeded"]
    assert "[seedance]" not in cap.stdout
    final = cap.outputs[-1].data
    html = final["text/html"]
    assert html.count("<video") == 2
    assert ">rt=16:9</div>" in html and ">rt=9:16</div>" in html
    assert html.count("free on the emulator") == 1
    assert "2 videos · 1.0-pro-fast 480p 2 s · ~40k tokens · free on the emulator" in html
    sheet = _image(final["image/png"])
    assert sheet.width == 640 and sheet.height < sheet.width  # one row of two tiles
