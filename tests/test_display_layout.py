"""What a cell's output looks like: equal gallery tiles, one estimate line per cell,
titles, the reused badge, theme colours, one dry-run output, and the poster PNG that
saved notebooks show (a still for one video, a contact sheet for a gallery)."""
from __future__ import annotations

import base64
import io
import re

import pytest
from IPython.utils.capture import capture_output
from PIL import Image

from seedance_nb import display, posters
from seedance_nb.request import build_request

from _magic_helpers import FakeJob, make_mp4, make_shell

VIDEO_STYLE = re.compile(r'<video [^>]*style="([^"]+)"')


def _job(tmp_path, name, ratio, seed, *, done=True, size=(64, 36), frames=12):
    req = build_request("koi in a pond", provider="emulator", model="2.0-fast",
                        resolution="720p", ratio=ratio, duration=5, seed=seed)
    job = FakeJob("koi", request=req)
    job.task_id = f"cgt-2026120100000{seed}-{name}"
    if done:
        job.video_path = str(make_mp4(tmp_path / "seedance-output" / f"{name}.mp4",
                                      frames=frames, size=size))
        job.tokens = 108900
        job.status = "succeeded"
    return job


def _png(bundle) -> Image.Image:
    img = Image.open(io.BytesIO(base64.b64decode(bundle["image/png"])))
    img.load()
    return img


def _tiles_in_first_row(sheet: Image.Image) -> int:
    """Runs of non-background pixels across the first row of boxes."""
    rgb = sheet.convert("RGB")
    y = 4 + 20  # inside the first row's boxes (gap 4)
    runs, inside = 0, False
    for x in range(rgb.width):
        r, g, b = rgb.getpixel((x, y))
        background = all(abs(c - 32) <= 6 for c in (r, g, b))
        if not background and not inside:
            runs += 1
        inside = not background
    return runs


# --- galleries -----------------------------------------------------------------------


def test_gallery_of_mixed_ratios_has_equal_tiles_titles_and_one_estimate_line(tmp_path,
                                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs = [_job(tmp_path, "a", "16:9", 1), _job(tmp_path, "b", "9:16", 1, size=(36, 64)),
            _job(tmp_path, "c", "16:9", 2), _job(tmp_path, "d", "9:16", 2, done=False)]
    bundle = display.gallery_bundle(jobs, fields=["seed", "ratio"])
    html = bundle["text/html"]
    styles = VIDEO_STYLE.findall(html)
    assert len(styles) == 3 and len(set(styles)) == 1  # every video the same box
    assert "object-fit:contain" in styles[0]
    assert "width:320px;height:320px" in styles[0]  # square: a 9:16 tile fits too
    assert "width:320px;height:320px" in html.split("seed=2 · rt=9:16")[-1]  # pending tile
    for title in ("seed=1 · rt=16:9", "seed=1 · rt=9:16", "seed=2 · rt=16:9"):
        assert f">{title}</div>" in html
    # ONE estimate line for the grid, not one per tile
    assert html.count("free on the emulator") == 1
    assert "4 videos · 2.0-fast 720p 5 s · ~436k tokens · free on the emulator" in html
    assert "no known price" not in html
    assert "image/png" not in bundle  # one video still running: no contact sheet yet
    # while the display still updates, posters are linked files, not data
    assert 'poster="seedance-output/a.poster.png"' in html and "base64" not in html


def test_finished_gallery_carries_a_contact_sheet(tmp_path):
    jobs = [_job(tmp_path, "a", "16:9", 1), _job(tmp_path, "b", "9:16", 2, size=(36, 64)),
            _job(tmp_path, "c", "1:1", 3, done=False)]
    jobs[2].status, jobs[2].error = "failed", "OutputVideoSensitiveContentDetected"
    bundle = display.gallery_bundle(jobs, fields=["seed"])
    sheet = _png(bundle)
    assert sheet.format == "PNG" and sheet.width <= 640
    assert _tiles_in_first_row(sheet) == 3  # two stills and the failed tile's empty box
    assert "OutputVideoSensitiveContentDetected" in bundle["text/html"]
    assert bundle["text/html"].count('poster="data:image/png;base64,') == 2  # saved as data


def test_jobs_without_sweep_fields_are_titled_by_name_or_prompt(tmp_path):
    named = _job(tmp_path, "a", "16:9", 1)
    named.name = "boat"
    plain = _job(tmp_path, "b", "16:9", 2)
    html = display.gallery_bundle([named, plain])["text/html"]
    assert ">boat</div>" in html and ">koi in a pond</div>" in html


# --- one video -----------------------------------------------------------------------


def test_pending_video_shows_one_concise_estimate_line():
    req = build_request("a cat", provider="emulator", model="2.0-fast", resolution="720p",
                        duration=5)
    html = display.job_bundle(FakeJob("a cat", request=req))["text/html"]
    assert "1 video · 2.0-fast 720p 16:9 5 s · ~109k tokens · free on the emulator" in html
    assert "no known price" not in html and html.count("tokens") == 1


def test_estimate_line_totals_known_prices():
    reqs = [build_request("a cat", provider="byteplus", model="2.0-fast",
                          resolution="720p", duration=5, seed=s) for s in (1, 2)]
    line = display.estimate_line(reqs)
    # 2 × 108,900 tokens at the byteplus 2.0-fast price of $5.60 per million (§9)
    assert line == "2 videos · 2.0-fast 720p 16:9 5 s · ~218k tokens · ~$1.22"


def test_reused_result_has_a_visible_badge(tmp_path):
    job = _job(tmp_path, "a", "16:9", 1)
    job.reused = True
    bundle = display.job_bundle(job)
    assert "reused · no charge · from task cgt-20261201000001-a" in bundle["text/html"]
    assert 'class="seedance-badge"' in bundle["text/html"]
    assert "reused · no charge" in bundle["text/plain"]
    fresh = display.job_bundle(_job(tmp_path, "b", "16:9", 2))
    assert "no charge" not in fresh["text/html"]


def test_colours_come_from_the_jupyterlab_theme(tmp_path):
    jobs = [_job(tmp_path, "a", "16:9", 1), _job(tmp_path, "b", "16:9", 2, done=False)]
    jobs[1].status, jobs[1].error = "failed", "boom"
    jobs[0].reused = True
    html = display.gallery_bundle(jobs, fields=["seed"])["text/html"]
    colours = re.findall(r"(?:color|background|border):\s*([^;\"]+)", html)
    assert colours
    for value in colours:  # e.g. var(--jp-error-color1, #c62828): a theme value first
        assert "var(--jp-" in value and "," in value, value


def test_video_height_is_capped_with_the_aspect_kept(tmp_path):
    html = display.video_html(make_mp4(tmp_path / "tall.mp4", size=(36, 64)))
    style = VIDEO_STYLE.search(html).group(1)
    assert "max-height:480px" in style and "object-fit:contain" in style
    assert "height:" not in style.replace("max-height", "")  # no fixed height: aspect kept


# --- posters -------------------------------------------------------------------------


def test_finished_video_bundle_has_a_small_poster_cached_next_to_it(tmp_path):
    job = _job(tmp_path, "a", "16:9", 1, size=(1280, 720), frames=12)
    bundle = display.job_bundle(job)
    assert {"text/html", "text/plain", "image/png"} <= set(bundle)
    still = _png(bundle)
    assert still.width <= posters.MAX_WIDTH and still.height == round(still.width * 9 / 16)
    cached = tmp_path / "seedance-output" / "a.poster.png"
    assert cached.read_bytes() == base64.b64decode(bundle["image/png"])
    mtime = cached.stat().st_mtime_ns
    display.job_bundle(job)
    assert cached.stat().st_mtime_ns == mtime  # made once
    # the HTML's poster attribute is the same still: a saved notebook shows it unplayed
    assert f'poster="data:image/png;base64,{bundle["image/png"]}"' in bundle["text/html"]


def test_poster_is_the_middle_frame(tmp_path):
    # make_mp4 frame i is grey level 20*i: the middle of 12 frames is frame 5 or 6
    video = make_mp4(tmp_path / "grey.mp4", frames=12, size=(64, 48))
    level = Image.open(posters.poster_for(video)).convert("L").getpixel((32, 24))
    assert 90 <= level <= 130, level  # not the first (0) nor the last frame (220)


def test_poster_falls_back_to_the_last_frame_file(tmp_path):
    video = tmp_path / "broken.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64)
    Image.new("RGB", (64, 36), (200, 10, 10)).save(tmp_path / "broken-last.png")
    still = Image.open(posters.poster_for(video)).convert("RGB")
    assert still.getpixel((10, 10))[0] > 150
    (tmp_path / "broken-last.png").unlink()
    (tmp_path / "broken.poster.png").unlink()
    assert posters.poster_for(video) is None  # nothing readable: no poster, no error


def test_unfinished_video_has_no_poster():
    job = FakeJob("x")
    job.status = "running"
    assert "image/png" not in display.job_bundle(job)


# --- dry runs ------------------------------------------------------------------------


@pytest.fixture
def shell(monkeypatch, tmp_path):
    from seedance_nb.config import settings

    monkeypatch.chdir(tmp_path)
    settings.reset()
    sh = make_shell()
    yield sh
    settings.reset()


def test_dry_run_is_one_output_with_html_and_readable_text(shell):
    with capture_output() as cap:
        result = shell.run_cell("%%seedance --dry-run --provider emulator --model 2.0-fast\n"
                                "a boat --rs 720p --dur 5")
    assert cap.outputs == []  # nothing displayed besides the cell's result
    assert cap.stdout.count("dry run: nothing sent") == 1  # Out[]: the readable repr
    assert "DryRun object at" not in cap.stdout
    data, _ = shell.display_formatter.format(result.result)
    assert set(data) == {"text/html", "text/plain"}
    assert "1 video · 2.0-fast 720p 16:9 5 s · ~109k tokens · free on the emulator" in \
        data["text/html"]
    assert "<code>prompt</code>" in data["text/html"] and "a boat" in data["text/plain"]
    assert result.result.request.resolution == "720p"


def test_sweep_dry_run_is_one_table_with_grid_totals(shell):
    with capture_output() as cap:
        result = shell.run_cell("%%seedance --dry-run --provider emulator --model 2.0-fast "
                                "--sweep seed=1,2 --sweep rt=16:9,9:16\na boat --rs 720p --dur 5")
    assert cap.outputs == [] and cap.stdout.count("dry run: nothing sent") == 1
    data, _ = shell.display_formatter.format(result.result)
    html = data["text/html"]
    assert "4 videos · 2.0-fast 720p 5 s · ~436k tokens · free on the emulator" in html
    assert html.count("<tr>") == 5  # a header and one row per combination
    assert "seed=2 · rt=9:16" in html and "seed=2 · rt=9:16" in data["text/plain"]
    assert len(result.result.requests) == 4
