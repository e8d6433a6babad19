"""The emulator's renderer: real, decodable, deterministic H.264 clips (reference §10.5)."""
from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageOps

from seedance_nb.emulator.render import RenderSpec, render_last_frame_png, render_video

W, H, N = 864, 480, 29
PROMPT = "A red fox runs through a snowy forest at dawn, cinematic light"


def picture(size: tuple[int, int], base: tuple[int, int, int], fmt: str = "PNG") -> bytes:
    """A test picture with stripes and a disc, so misplacement or scaling shows up."""
    im = Image.new("RGB", size, base)
    draw = ImageDraw.Draw(im)
    for x in range(0, size[0], 80):
        draw.rectangle([x, 0, x + 39, size[1]], fill=(255 - base[0], base[1], 200))
    draw.ellipse([size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4], fill=(250, 240, 20))
    buf = io.BytesIO()
    im.save(buf, fmt)
    return buf.getvalue()


def fitted(data: bytes, w: int = W, h: int = H) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(ImageOps.fit(im.convert("RGB"), (w, h)), dtype=np.int16)


def decode(path: Path) -> dict:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        info = {
            "codec": v.codec_context.name, "pix_fmt": v.codec_context.pix_fmt,
            "width": v.codec_context.width, "height": v.codec_context.height,
            "rate": v.average_rate, "audio": [a.codec_context.name for a in c.streams.audio],
            "duration": float(v.duration * v.time_base),
        }
        if c.streams.audio:
            a = c.streams.audio[0]
            info["audio_duration"] = float(a.duration * a.time_base)
        info["frames"] = [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(v)]
    return info


def mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.fixture(scope="module")
def t2v(tmp_path_factory):
    path = tmp_path_factory.mktemp("render") / "t2v.mp4"
    spec = RenderSpec(W, H, N, seed=42, prompt=PROMPT)
    render_video(path, spec)
    return spec, path, decode(path)


def test_text_to_video_is_h264_yuv420p_at_exact_size_rate_and_frame_count(t2v):
    _, path, info = t2v
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert (info["width"], info["height"]) == (W, H)
    assert info["rate"] == Fraction(24)
    assert len(info["frames"]) == N
    assert info["duration"] == pytest.approx(N / 24, abs=1 / 24)
    assert info["audio"] == []
    data = path.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat"), "faststart: index must precede the media data"


def test_picture_moves_and_is_not_flat(t2v):
    frames = t2v[2]["frames"]
    assert mad(frames[0], frames[N // 2]) > 10
    assert mad(frames[N // 2], frames[-1]) > 10
    assert frames[0].std() > 20


def test_same_spec_gives_identical_file_and_seed_or_prompt_change_it(t2v, tmp_path):
    spec, path, info = t2v
    again = tmp_path / "again.mp4"
    render_video(again, spec)
    assert again.read_bytes() == path.read_bytes()

    other_seed = tmp_path / "seed.mp4"
    render_video(other_seed, RenderSpec(W, H, N, seed=43, prompt=PROMPT))
    assert mad(decode(other_seed)["frames"][5], info["frames"][5]) > 5

    # the palette follows the prompt: mean colours differ clearly
    other_prompt = tmp_path / "prompt.mp4"
    render_video(other_prompt, RenderSpec(W, H, N, seed=42, prompt="a calm blue lake"))
    a = decode(other_prompt)["frames"][0].reshape(-1, 3).mean(axis=0)
    b = info["frames"][0].reshape(-1, 3).mean(axis=0)
    assert np.abs(a - b).max() > 15


def test_no_temporary_file_is_left_beside_the_video(t2v):
    _, path, _ = t2v
    assert sorted(p.name for p in path.parent.iterdir()) == ["t2v.mp4"]


def test_image_to_video_starts_on_the_first_image_then_moves_away(tmp_path):
    first = picture((1000, 700), (200, 30, 30))  # other aspect ratio: scaled and centre-cropped
    path = tmp_path / "i2v.mp4"
    render_video(path, RenderSpec(W, H, N, seed=1, prompt=PROMPT, first_image=first))
    frames = decode(path)["frames"]
    target = fitted(first)
    assert mad(frames[0], target) < 8
    assert mad(frames[N // 2], target) > 25
    assert mad(frames[-1], target) > 25


def test_first_and_last_image_video_ends_on_the_last_image(tmp_path):
    first = picture((1000, 700), (200, 30, 30))
    last = picture((600, 900), (20, 60, 200), fmt="JPEG")
    path = tmp_path / "fl.mp4"
    png = tmp_path / "fl-last.png"
    spec = RenderSpec(W, H, N, seed=1, prompt=PROMPT, first_image=first, last_image=last)
    render_video(path, spec)
    render_last_frame_png(png, spec)
    frames = decode(path)["frames"]
    assert mad(frames[0], fitted(first)) < 8
    assert mad(frames[-1], fitted(last)) < 8
    assert mad(frames[N // 2], fitted(last)) > 15  # the crossfade is gradual
    assert mad(np.asarray(Image.open(png)), fitted(last)) < 3


def test_transparent_first_image_is_accepted(tmp_path):
    im = Image.new("RGBA", (300, 200), (0, 200, 0, 128))
    buf = io.BytesIO()
    im.save(buf, "PNG")
    path = tmp_path / "rgba.mp4"
    render_video(path, RenderSpec(W, H, 3, seed=1, prompt="x", first_image=buf.getvalue()))
    assert len(decode(path)["frames"]) == 3


def test_audio_track_only_when_asked_and_as_long_as_the_video(t2v, tmp_path):
    assert t2v[2]["audio"] == []
    path = tmp_path / "audio.mp4"
    render_video(path, RenderSpec(W, H, N, seed=42, prompt=PROMPT, audio=True))
    info = decode(path)
    assert info["audio"] in (["aac"], ["opus"])
    assert info["audio_duration"] == pytest.approx(N / 24, abs=0.05)
    assert len(info["frames"]) == N
    with av.open(str(path)) as c:
        samples = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
    peak = float(np.abs(samples).max())
    assert 0.01 < peak < 0.3, "a quiet but audible tone"


def test_png_last_frame_matches_the_video_and_has_no_watermark(tmp_path):
    spec = RenderSpec(W, H, N, seed=9, prompt=PROMPT, watermark=True)
    video, png = tmp_path / "w.mp4", tmp_path / "w-last.png"
    render_video(video, spec)
    render_last_frame_png(png, spec)
    last = decode(video)["frames"][-1]
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (W, H) and im.mode == "RGB"
        still = np.asarray(im)
    assert mad(last, still) < 4
    # the watermark sits in the top-right corner of the video only
    corner = (slice(0, H // 10), slice(W * 3 // 4, W))
    assert mad(last[corner], still[corner]) > 2 * mad(last, still)
    plain = tmp_path / "plain.mp4"
    render_video(plain, RenderSpec(W, H, N, seed=9, prompt=PROMPT))
    assert mad(decode(plain)["frames"][-1][corner], still[corner]) < 4


def test_1080p_exact_size(tmp_path):
    path = tmp_path / "hd.mp4"
    render_video(path, RenderSpec(1920, 1080, 13, seed=3, prompt=PROMPT, audio=True))
    info = decode(path)
    assert (info["width"], info["height"], len(info["frames"])) == (1920, 1080, 13)
    assert info["frames"][0].shape == (1080, 1920, 3)


@pytest.mark.parametrize("kwargs, word", [
    (dict(width=865, height=480), "even"),
    (dict(width=864, height=0), "even"),
    (dict(frames=0), "frames"),
    (dict(fps=0), "fps"),
    (dict(container="webm"), "container"),
])
def test_bad_spec_is_refused_with_a_clear_message(kwargs, word):
    base = dict(width=W, height=H, frames=N, seed=0, prompt="p")
    with pytest.raises(ValueError, match=word):
        RenderSpec(**{**base, **kwargs})


def test_unreadable_image_leaves_no_file(tmp_path):
    path = tmp_path / "bad.mp4"
    with pytest.raises(Exception):
        render_video(path, RenderSpec(W, H, N, seed=0, prompt="p", first_image=b"not an image"))
    assert list(tmp_path.iterdir()) == []


def test_single_frame_clip(tmp_path):
    path = tmp_path / "one.mp4"
    render_video(path, RenderSpec(W, H, 1, seed=0, prompt="p"))
    assert len(decode(path)["frames"]) == 1


def test_mov_is_quicktime_h264_444_with_pcm_and_the_same_picture(t2v, tmp_path):
    path = tmp_path / "edit.mov"
    render_video(path, RenderSpec(W, H, N, seed=42, prompt=PROMPT, audio=True, container="mov"))
    assert path.read_bytes()[4:12] == b"ftypqt  "  # QuickTime brand, not MP4
    info = decode(path)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv444p"
    assert info["audio"] == ["pcm_s16le"]
    assert info["audio_duration"] == pytest.approx(N / 24, abs=0.05)
    assert (info["width"], info["height"], len(info["frames"])) == (W, H, N)
    # the same scene as the MP4 of this spec, only with full chroma
    assert mad(info["frames"][N // 2], t2v[2]["frames"][N // 2]) < 4
    with av.open(str(path)) as c:
        assert "High 4:4:4" in (c.streams.video[0].codec_context.profile or "")
