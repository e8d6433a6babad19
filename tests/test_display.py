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
    assert '<video src="a.mp4"' in html and "data:" not in html
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
    assert "2 finished" in bundle["text/plain"]


def test_dry_run_bundle_shows_estimate():
    req = build_request("a cat", provider="emulator", model="1.0-pro", resolution="720p",
                        ratio="16:9", duration=5)
    bundle = display.request_bundle(req)
    assert "103,818 tokens" in bundle["text/plain"]  # §9 worked example
    assert "nothing sent" in bundle["text/html"]
