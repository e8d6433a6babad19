"""The video HTML: file-backed <video src> (no <source>), base64 on request, size cap."""
from __future__ import annotations

import base64
import re
import sys
import types

from seedance_nb import display
from seedance_nb.request import build_request

from _magic_helpers import FakeJob, make_mp4


def test_file_backed_relative_to_notebook_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    video = make_mp4(tmp_path / "seedance-output" / "emulator-cgt 1.mp4")
    html = display.video_html(video)
    assert '<video src="seedance-output/emulator-cgt%201.mp4"' in html
    assert "controls" in html and "playsinline" in html
    assert "<source" not in html
    assert 'download="emulator-cgt 1.mp4"' in html


def test_base_dir_sets_the_relative_root(tmp_path):
    video = make_mp4(tmp_path / "out" / "a.mp4")
    html = display.video_html(video, base_dir=tmp_path / "nb")
    assert 'src="../out/a.mp4"' in html


def test_embed_makes_a_data_url_of_the_file(tmp_path):
    video = make_mp4(tmp_path / "a.mp4")
    html = display.video_html(video, embed=True)
    src = re.search(r'<video src="([^"]+)"', html).group(1)
    assert src.startswith("data:video/mp4;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == video.read_bytes()


def test_embed_over_the_cap_stays_file_backed_with_a_note(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    video = make_mp4(tmp_path / "a.mp4")
    html = display.video_html(video, embed=True, max_embed_bytes=100)
    assert '<video src="a.mp4"' in html and 'src="data:' not in html  # (the poster is small)
    assert "embed limit" in html


def test_embed_policy_follows_colab(monkeypatch):
    assert not display.should_embed("auto")
    assert display.should_embed("always") and not display.should_embed("never")
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert display.should_embed("auto")


def test_finished_job_bundle_has_video_and_plain_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    req = build_request("a cat --seed 5", provider="emulator")
    job = FakeJob("a cat", request=req)
    job.task_id = "cgt-20250101000000-abcde"
    job.tokens = 108900
    bundle = display.job_bundle(job)
    assert "<video" not in bundle["text/html"]  # not done yet: a status line
    assert "pending" in bundle["text/plain"]
    assert "tokens" in bundle["text/html"]  # the estimate
    job.video_path = str(make_mp4(tmp_path / "seedance-output" / "v.mp4"))
    job.status = "succeeded"
    bundle = display.job_bundle(job)
    assert '<video src="seedance-output/v.mp4"' in bundle["text/html"]
    plain = bundle["text/plain"]
    for part in ("seedance-output/v.mp4", "cgt-20250101000000-abcde", req.model, "seed 5",
                 "108900 tokens"):
        assert part in plain


def test_failed_job_shows_its_error():
    job = FakeJob("x")
    job.status = "failed"
    job.error = "OutputVideoSensitiveContentDetected"
    bundle = display.job_bundle(job)
    assert "OutputVideoSensitiveContentDetected" in bundle["text/html"]
    assert "failed" in bundle["text/plain"]


def test_gallery_labels_each_tile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    jobs = []
    for seed in (1, 2):
        job = FakeJob("k", request=build_request("k", provider="emulator", seed=seed))
        job.status = "succeeded"
        job.video_path = str(make_mp4(tmp_path / f"{seed}.mp4"))
        jobs.append(job)
    bundle = display.gallery_bundle(jobs, fields=["seed"])
    assert bundle["text/html"].count("<video") == 2
    assert "seed=1" in bundle["text/html"] and "seed=2" in bundle["text/plain"]
    assert "2 of 2 ended" in bundle["text/plain"]


def test_dry_run_bundle_shows_estimate():
    req = build_request("a cat", provider="emulator", model="1.0-pro", resolution="720p",
                        ratio="16:9", duration=5)
    bundle = display.request_bundle(req)
    assert "103,818 tokens" in bundle["text/plain"]  # §9 worked example
    assert "nothing sent" in bundle["text/html"]


# --- previews of results browsers cannot play (§8 Previews) ----------------------------


def _mov(tmp_path, name="emulator-cgt-20261201000000-mov01.mov"):
    from seedance_nb import preview
    from _preview_helpers import make_mov

    preview._probed.clear()
    return make_mov(tmp_path / "seedance-output" / name)


def test_mov_result_plays_its_preview_and_links_the_original(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mov = _mov(tmp_path)
    html = display.video_html(mov)
    assert ('<video src="seedance-output/emulator-cgt-20261201000000-mov01.preview.mp4"'
            in html)
    assert ('original: <a href="seedance-output/emulator-cgt-20261201000000-mov01.mov" '
            'download="emulator-cgt-20261201000000-mov01.mov"' in html)
    assert "for editing software" in html
    assert (tmp_path / "seedance-output" / "emulator-cgt-20261201000000-mov01.preview.mp4").exists()


def test_embedded_mov_result_embeds_the_preview(tmp_path):
    mov = _mov(tmp_path)
    html = display.video_html(mov, embed=True)
    src = re.search(r'<video src="([^"]+)"', html).group(1)
    data = base64.b64decode(src.split(",", 1)[1])
    assert data == (mov.with_name(mov.stem + ".preview.mp4")).read_bytes()
    assert "original: <a" in html


def test_finished_mov_job_shows_the_preview(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = FakeJob("x")
    job.video_path = str(_mov(tmp_path, "ark-t1.mov"))
    job.status = "succeeded"
    html = display.job_bundle(job)["text/html"]
    assert '<video src="seedance-output/ark-t1.preview.mp4"' in html
    assert 'href="seedance-output/ark-t1.mov"' in html


def test_without_pyav_the_last_frame_is_shown_with_one_line_why(tmp_path, monkeypatch):
    from seedance_nb import preview

    monkeypatch.chdir(tmp_path)
    mov = _mov(tmp_path, "ark-t2.mov")
    monkeypatch.setattr(preview, "_av", lambda: None)
    preview._probed.clear()
    html = display.video_html(mov)  # no last frame: a link and the reason
    assert "<video" not in html and "<img" not in html
    assert 'href="seedance-output/ark-t2.mov"' in html
    assert "PyAV is not installed" in html
    frame = tmp_path / "seedance-output" / "ark-t2-last.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n")
    job = FakeJob("x")
    job.video_path, job.last_frame_path, job.status = str(mov), str(frame), "succeeded"
    html = display.job_bundle(job)["text/html"]
    assert '<img src="seedance-output/ark-t2-last.png"' in html
    why = re.search(r"<em>([^<]*)</em>", html).group(1)
    assert "PyAV is not installed" in why and "showing the last frame" in why
    assert not (tmp_path / "seedance-output" / "ark-t2.preview.mp4").exists()
