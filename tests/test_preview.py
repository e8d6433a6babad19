"""Browser-playable previews of MOV / yuv444p / H.265 results (reference §8 Previews)."""
from __future__ import annotations

import logging
import os

import pytest

from seedance_nb import preview

from _magic_helpers import make_mp4
from _preview_helpers import FRAMES, make_mov, probe


@pytest.fixture(autouse=True)
def fresh_probe_cache():
    preview._probed.clear()
    yield
    preview._probed.clear()


def test_mov_444_pcm_gets_an_h264_420_aac_mp4_preview(tmp_path):
    source = make_mov(tmp_path / "ark-cgt-20261201000000-abcde.mov")
    assert probe(source)["pix_fmt"] == "yuv444p"
    out = preview.make_preview(source)
    assert out == tmp_path / "ark-cgt-20261201000000-abcde.preview.mp4"
    info = probe(out)
    assert (info["video"], info["pix_fmt"], info["size"]) == ("h264", "yuv420p", (64, 64))
    assert info["frames"] == FRAMES
    assert info["audio"] == "aac" and info["audio_seconds"] == pytest.approx(0.5, abs=0.05)
    assert out.read_bytes()[8:12] != b"qt  "  # an MP4 brand, not QuickTime
    assert preview.why_not_playable(out) is None
    assert source.exists()  # the original is kept for editing software
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_preview_is_reused_and_remade_when_broken_or_stale(tmp_path):
    source = make_mov(tmp_path / "ark-t1.mov")
    out = preview.make_preview(source)
    stamp = out.stat().st_mtime_ns
    assert preview.make_preview(source) == out
    assert out.stat().st_mtime_ns == stamp  # reused, not rewritten
    out.write_bytes(b"\0\0\0\x18ftypisom broken")  # e.g. a copy cut short
    assert preview.make_preview(source) == out and probe(out)["frames"] == FRAMES
    os.utime(out, ns=(source.stat().st_mtime_ns - 10**9,) * 2)  # older than the source
    stamp = out.stat().st_mtime_ns
    assert preview.make_preview(source) == out and out.stat().st_mtime_ns != stamp


def test_a_playable_mp4_needs_no_preview(tmp_path):
    source = make_mp4(tmp_path / "ark-t2.mp4")
    assert preview.why_not_playable(source) is None
    assert preview.make_preview(source) is None
    assert not preview.preview_path(source).exists()


def test_hevc_mp4_gets_a_preview(tmp_path):
    import av
    import numpy as np

    source = tmp_path / "byteplus-t3.mp4"
    with av.open(str(source), "w") as out:
        stream = out.add_stream("libx265", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.options = {"x265-params": "log-level=none"}
        for i in range(6):
            img = np.full((64, 64, 3), i * 40, dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        out.mux(stream.encode(None))
    assert "HEVC" in preview.why_not_playable(source)
    info = probe(preview.make_preview(source))
    assert (info["video"], info["pix_fmt"], info["frames"], info["audio"]) == (
        "h264", "yuv420p", 6, None)


def test_odd_sizes_are_made_even_for_yuv420p(tmp_path):
    source = make_mov(tmp_path / "ark-t4.mov", size=65, audio=False)
    info = probe(preview.make_preview(source))
    assert info["size"] == (64, 64) and info["frames"] == FRAMES and info["audio"] is None


def test_without_pyav_there_is_no_preview_and_one_line_says_why(tmp_path, monkeypatch, caplog):
    source = make_mov(tmp_path / "ark-t5.mov")
    monkeypatch.setattr(preview, "_av", lambda: None)
    with caplog.at_level(logging.WARNING, logger="seedance_nb"):
        assert preview.make_preview(source) is None
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "PyAV is not installed" in lines[0] and "\n" not in lines[0]
    assert "ark-t5.mov" in lines[0]
    assert not preview.preview_path(source).exists()


def test_a_file_that_is_not_a_video_gets_a_one_line_failure(tmp_path):
    bad = tmp_path / "ark-t6.mov"
    bad.write_bytes(b"\0\0\0\x14ftypqt  \0\0\0\0qt  " + b"x" * 100)
    result = preview.preview_for(bad)
    assert result.needed and result.path is None
    assert "preview failed" in result.note and "\n" not in result.note
