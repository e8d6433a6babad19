"""The quick MP4 check that spares a PyAV probe per download: it may only ever say
"surely playable" for files a browser plays; everything else goes to PyAV."""
from __future__ import annotations

from pathlib import Path

import pytest

from seedance_nb import preview
from seedance_nb.mp4_probe import plainly_playable

from _preview_helpers import make_mov


def _mp4(path: Path, pix_fmt: str = "yuv420p", codec: str = "libx264", audio: str | None = "aac",
         faststart: bool = False, options: dict | None = None) -> Path:
    import av
    import numpy as np

    opts = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=opts) as out:
        video = out.add_stream(codec, rate=24, options=options or {})
        video.width = video.height = 64
        video.pix_fmt = pix_fmt
        sound = out.add_stream(audio, rate=48000) if audio else None
        for i in range(6):
            img = np.full((64, 64, 3), i * 40, dtype=np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        if sound is not None:
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32),
                                               format="fltp", layout="mono")
            frame.sample_rate = 48000
            for packet in sound.encode(frame):
                out.mux(packet)
            out.mux(sound.encode(None))
        out.mux(video.encode(None))
    return path


@pytest.mark.parametrize("faststart", [False, True])
def test_an_ordinary_h264_mp4_is_surely_playable(tmp_path, faststart):
    path = _mp4(tmp_path / "v.mp4", faststart=faststart)
    assert plainly_playable(path) is True
    assert preview.preview_for(path) == preview.Preview(None, False)


def test_a_yuv444p_mp4_is_left_to_pyav_and_gets_its_preview(tmp_path):
    path = _mp4(tmp_path / "v.mp4", pix_fmt="yuv444p")
    assert plainly_playable(path) is None
    assert "yuv444p" in preview.why_not_playable(path)
    assert preview.make_preview(path) is not None


def test_a_10_bit_mp4_is_not_called_playable(tmp_path):
    path = _mp4(tmp_path / "v.mp4", pix_fmt="yuv420p10le")
    assert plainly_playable(path) is None


def test_mov_is_never_called_playable_even_with_an_mp4_name(tmp_path):
    mov = make_mov(tmp_path / "a.mov")
    renamed = mov.rename(tmp_path / "a.mp4")
    assert plainly_playable(renamed) is None
    assert "MOV" in preview.why_not_playable(renamed)


@pytest.mark.parametrize("data", [b"", b"\x00\x00\x00\x08ftyp", b"<html>not a video</html>",
                                  b"\x00\x00\x00\x01moov" + b"\xff" * 8,
                                  b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"
                                  b"\x7f\xff\xff\xffmoov"])
def test_broken_or_foreign_files_are_left_to_pyav(tmp_path, data):
    path = tmp_path / "v.mp4"
    path.write_bytes(data)
    assert plainly_playable(path) is None


def test_a_truncated_mp4_is_left_to_pyav(tmp_path):
    path = _mp4(tmp_path / "v.mp4", faststart=False)  # moov at the end
    path.write_bytes(path.read_bytes()[:-40])
    assert plainly_playable(path) is None
