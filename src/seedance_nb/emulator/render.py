"""The emulator's video renderer (reference §10.5).

Every clip is a pure function of its `RenderSpec`: frame i is computed from the spec
and i alone, so the PNG last frame can be made without encoding the video and two
renders of one spec decode to the same pictures. Frames are built with numpy slicing
and uint16 blends on precomputed layers (background strip, shape sprites, text
overlay); nothing loops over pixels in Python.
"""
from __future__ import annotations

import hashlib
import io
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

AUDIO_RATE = 48000
#: container -> (muxer, pixel format, audio encoders to try)
CONTAINERS = {"mp4": ("mp4", "yuv420p", ("aac", "libopus")),
              "mov": ("mov", "yuv444p", ("pcm_s16le",))}
_CRF = "20"
_THREADS = "1"  # fixed (x264 output depends on it); one core leaves room for parallel renders
_FADE = 0.15    # share of the clip over which overlays fade in or out around images


@dataclass(frozen=True)
class RenderSpec:
    width: int
    height: int
    frames: int
    seed: int
    prompt: str
    first_image: bytes | None = None
    last_image: bytes | None = None
    audio: bool = False
    fps: int = 24
    watermark: bool = False  # video only; the PNG last frame never has it (§10.5)
    #: "mp4": H.264 yuv420p, AAC; "mov": H.264 High 4:4:4 (yuv444p), PCM (2.5 output_format)
    container: str = "mp4"

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"video size must be positive and even, got {self.width}x{self.height}")
        if self.frames < 1:
            raise ValueError(f"frames must be at least 1, got {self.frames}")
        if self.fps < 1:
            raise ValueError(f"fps must be at least 1, got {self.fps}")
        if self.container not in CONTAINERS:
            raise ValueError(f"container must be one of {', '.join(CONTAINERS)}, "
                             f"got {self.container!r}")


def render_video(path: str | os.PathLike, spec: RenderSpec) -> None:
    """Write an H.264 MP4 (yuv420p, faststart) of exactly spec.frames frames at spec.fps,
    or with `container="mov"` a MOV (yuv444p, PCM audio) for editing software.

    The file appears at `path` only when complete (written beside it, then renamed).
    """
    path = Path(path)
    scene = _Scene(spec)
    tmp = _temp_beside(path)
    try:
        muxer, pix_fmt, audio_codecs = CONTAINERS[spec.container]
        with av.open(str(tmp), mode="w", format=muxer,
                     options={"movflags": "+faststart"}) as container:
            container.metadata.clear()
            video = container.add_stream("libx264", rate=spec.fps)
            video.width, video.height = spec.width, spec.height
            video.pix_fmt = pix_fmt
            video.options = {"preset": "ultrafast", "crf": _CRF, "threads": _THREADS}
            audio = _add_audio_stream(container, audio_codecs) if spec.audio else None
            for i in range(spec.frames):
                frame = av.VideoFrame.from_ndarray(scene.frame(i, watermark=spec.watermark),
                                                   format="rgb24")
                frame.pts = i
                container.mux(video.encode(frame))
            container.mux(video.encode())
            if audio is not None:
                _encode_tone(container, audio, spec)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def render_last_frame_png(path: str | os.PathLike, spec: RenderSpec) -> None:
    """Write the video's final frame (without watermark) as a W×H PNG."""
    path = Path(path)
    img = Image.fromarray(_Scene(spec).frame(spec.frames - 1, watermark=False), "RGB")
    tmp = _temp_beside(path)
    try:
        img.save(tmp, format="PNG")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _temp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.part")


# --- the picture ---------------------------------------------------------------------

def _palette(prompt: str) -> np.ndarray:
    """Four vivid colours from the prompt hash (HSV with spread hues)."""
    digest = hashlib.sha256(prompt.encode("utf-8")).digest()
    base = digest[0] / 256
    colours = []
    for k in range(4):
        hue = (base + k * 0.23 + digest[k + 1] / 2048) % 1.0
        sat = 0.55 + digest[k + 5] / 640
        val = 0.55 + digest[k + 9] / 640 if k else 0.35 + digest[9] / 1024  # first one darker
        colours.append(_hsv(hue, sat, val))
    return np.array(colours, dtype=np.float32)


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return r * 255, g * 255, b * 255


def _fit(data: bytes, width: int, height: int) -> np.ndarray:
    """Decode an image, scale and centre-crop it to exactly width×height, RGB."""
    with Image.open(io.BytesIO(data)) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
            rgba = img.convert("RGBA")
            img = Image.new("RGB", rgba.size, (0, 0, 0))
            img.paste(rgba, mask=rgba.getchannel("A"))
        img = ImageOps.fit(img.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
        return np.asarray(img, dtype=np.uint8).copy()


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float,
          max_lines: int) -> list[str]:
    """Greedy wrap by measured width; words wider than a line (e.g. CJK) break anywhere."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for ch in word:
            if line and font.getlength(line + ch) > width:
                lines.append(line)
                line = ""
            line += ch
    lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and font.getlength(last + " …") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines


def _blend(dst: np.ndarray, src: np.ndarray | int, alpha: np.ndarray | int) -> None:
    """dst = dst*(1-a) + src*a in place, alpha in 0..256 (uint16 maths, no floats)."""
    out = dst.astype(np.uint16)
    out *= 256 - alpha
    out += np.asarray(src, dtype=np.uint16) * alpha
    out >>= 8
    dst[...] = out


class _Layer:
    """A sprite at (x, y): colour (h, w, 3) or (3,), alpha (h, w, 1) in 0..256, premultiplied."""

    def __init__(self, x: int, y: int, rgb: np.ndarray, alpha: np.ndarray) -> None:
        self.x, self.y = x, y
        self.rgb = rgb.astype(np.uint16)
        self.alpha = alpha.astype(np.uint16)
        self.premul = self.rgb * self.alpha
        self.inverse = 256 - self.alpha

    def paste(self, frame: np.ndarray, x: int | None = None, y: int | None = None,
              strength: float = 1.0) -> None:
        """Blend onto frame (clipped to it), with the alpha scaled by strength."""
        x = self.x if x is None else x
        y = self.y if y is None else y
        h, w = frame.shape[:2]
        sh, sw = self.alpha.shape[:2]
        x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + sw), min(h, y + sh)
        if x1 <= x0 or y1 <= y0 or strength <= 0:
            return
        win = (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x))
        if strength >= 1:
            premul, inverse = self.premul[win], self.inverse[win]
        else:
            alpha = (self.alpha[win] * strength).astype(np.uint16)
            rgb = self.rgb[win] if self.rgb.ndim == 3 else self.rgb
            premul, inverse = rgb * alpha, 256 - alpha
        dst = frame[y0:y1, x0:x1]
        out = dst.astype(np.uint16)
        out *= inverse
        out += premul
        out >>= 8
        dst[...] = out


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3 - 2 * x)


class _Scene:
    """Precomputed layers for one spec; `frame(i)` assembles frame i."""

    def __init__(self, spec: RenderSpec) -> None:
        self.spec = spec
        w, h = spec.width, spec.height
        rng = np.random.default_rng([spec.seed & 0xFFFFFFFF, spec.seed >> 32 & 0xFFFFFFFF])
        self.pal = _palette(spec.prompt)
        self.drift = (max(2, w // 3), max(2, h // 6))  # how far the background slides
        self.background = self._background(rng)
        self.shapes = self._shapes(rng)
        self.first = _fit(spec.first_image, w, h) if spec.first_image else None
        self.last = _fit(spec.last_image, w, h) if spec.last_image else None
        self.text = self._text_overlay()
        self.mark = self._watermark()
        self.unit = max(12, h // 24)

    # layers built once
    def _background(self, rng: np.random.Generator) -> np.ndarray:
        """A diagonal colour wave strip larger than the frame; frames are sliding views of it."""
        w, h = self.spec.width, self.spec.height
        dx, dy = self.drift
        k = 4  # computed on a coarse grid and scaled up: the field is smooth anyway
        y = np.arange(0, h + dy + k, k, dtype=np.float32)[:, None]
        x = np.arange(0, w + dx + k, k, dtype=np.float32)[None, :]
        scale = float(max(w, h))
        phase = rng.uniform(0, 2 * np.pi)
        u = (x * 0.8 + y * 0.6) / scale * 2 * np.pi
        v = (x * -0.5 + y * 0.9) / scale * 3 * np.pi + phase
        a = 0.5 + 0.5 * np.sin(u + phase)
        b = 0.5 + 0.5 * np.sin(v) * np.cos(u * 0.5)
        p = self.pal
        img = p[0] * (1 - a)[..., None] + p[1] * a[..., None]
        img = img * (1 - 0.5 * b)[..., None] + p[2] * (0.5 * b)[..., None]
        small = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
        big = small.resize((small.width * k, small.height * k), Image.Resampling.BILINEAR)
        return np.asarray(big)[:h + dy, :w + dx]

    def _shapes(self, rng: np.random.Generator) -> list[tuple[_Layer, tuple]]:
        """Soft discs: (sprite, Lissajous path parameters)."""
        w, h = self.spec.width, self.spec.height
        out = []
        for k in range(3):
            r = max(4, int(min(w, h) * rng.uniform(0.10, 0.18)))
            yy, xx = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float32)
            d = np.sqrt(xx * xx + yy * yy) / r
            alpha = (np.clip((1 - d) * 3, 0, 1) * 200).astype(np.uint16)[..., None]
            colour = np.clip(self.pal[3 if k == 0 else k] * 1.25 + 30, 0, 255).astype(np.uint16)
            path = (rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), rng.uniform(0, 6.3),
                    rng.uniform(0, 6.3), r)
            out.append((_Layer(0, 0, colour, alpha), path))
        return out

    def _text_overlay(self) -> _Layer:
        """The prompt in a translucent box at the bottom."""
        w, h = self.spec.width, self.spec.height
        size = max(10, h // 22)
        font = _font(size)
        margin = max(6, h // 40)
        lines = _wrap(" ".join(self.spec.prompt.split()) or "(no prompt)", font,
                      w - 4 * margin, max_lines=4)
        line_h = int(size * 1.25)
        box_w = w - 2 * margin
        box_h = line_h * len(lines) + 2 * margin
        img = Image.new("RGBA", (box_w, box_h), (0, 0, 0, 140))
        draw = ImageDraw.Draw(img)
        for n, line in enumerate(lines):
            draw.text((margin, margin + n * line_h), line, font=font, fill=(255, 255, 255, 255))
        return self._split(img, margin, h - box_h - margin)

    def _watermark(self) -> _Layer:
        w, h = self.spec.width, self.spec.height
        size = max(10, h // 30)
        font = _font(size)
        label = "AI generated"
        box = font.getbbox(label)
        img = Image.new("RGBA", (box[2] + 4, box[3] + 4), (0, 0, 0, 0))
        ImageDraw.Draw(img).text((2, 2), label, font=font, fill=(255, 255, 255, 170))
        return self._split(img, w - img.width - size // 2, max(0, size // 2))

    def _split(self, img: Image.Image, x: int, y: int) -> _Layer:
        w, h = self.spec.width, self.spec.height
        img = img.crop((0, 0, min(img.width, w - x), min(img.height, h - y)))
        arr = np.asarray(img, dtype=np.uint16)
        return _Layer(x, max(0, y), arr[..., :3], arr[..., 3:4] * 256 // 255)

    def _counter(self, i: int) -> _Layer:
        spec = self.spec
        size = self.unit
        font = _font(size)
        label = f"frame {i + 1}/{spec.frames}  seed {spec.seed}  {spec.width}x{spec.height}"
        box = font.getbbox(label)
        pad = size // 3
        img = Image.new("RGBA", (min(spec.width - 2 * pad, box[2] + 2 * pad), box[3] + 2 * pad),
                        (0, 0, 0, 120))
        ImageDraw.Draw(img).text((pad, pad), label, font=font, fill=(255, 255, 255, 255))
        return self._split(img, pad, pad)

    # per frame
    def frame(self, i: int, *, watermark: bool) -> np.ndarray:
        spec = self.spec
        w, h = spec.width, spec.height
        t = i / (spec.frames - 1) if spec.frames > 1 else 1.0
        dx, dy = self.drift
        ox, oy = int(round(t * dx)), int(round((0.5 - 0.5 * np.cos(t * np.pi * 2)) * dy))
        frame = self.background[oy:oy + h, ox:ox + w].copy()

        # Overlay strength: full for text-to-video; with images it fades in after the
        # first frame and out before a given last frame, so those frames stay clean.
        s = 1.0
        if self.first is not None:
            s = min(s, _smooth(t / _FADE))
        if self.last is not None:
            s = min(s, _smooth((1 - t) / _FADE))

        if self.first is not None:
            # The first image slides left out of the picture, revealing the scene.
            shift = int(round(_smooth(t) * w * 0.6))
            frame[:, :w - shift] = self.first[:, shift:]

        for sprite, (fx, fy, px, py, r) in self.shapes:
            cx = int((0.5 + 0.38 * np.sin(fx * t * 2 * np.pi + px)) * w)
            cy = int((0.5 + 0.36 * np.sin(fy * t * 2 * np.pi + py)) * h)
            sprite.paste(frame, cx - r, cy - r, strength=s)

        bar_w = max(2, w // 40)
        bx = int(t * (w + bar_w)) - bar_w
        lo, hi = max(0, bx), min(w, bx + bar_w)
        if hi > lo and s > 0:
            _blend(frame[:, lo:hi], 255, int(90 * s))

        if self.last is not None:
            e = _smooth((t - 0.5) / 0.5)
            if e >= 1.0:
                frame[...] = self.last
            elif e > 0:
                _blend(frame, self.last, int(round(e * 256)))

        if s > 0:
            self.text.paste(frame, strength=s)
            self._counter(i).paste(frame, strength=s)
        if watermark:
            self.mark.paste(frame)
        return frame


# --- sound ---------------------------------------------------------------------------

def _add_audio_stream(container: av.container.OutputContainer,
                      codecs: tuple[str, ...]) -> av.audio.stream.AudioStream:
    for codec in codecs:
        try:
            av.codec.Codec(codec, "w")
        except Exception:  # encoder missing from this FFmpeg build
            continue
        return container.add_stream(codec, rate=AUDIO_RATE, layout="mono")
    raise RuntimeError(f"this FFmpeg build has none of the audio encoders {', '.join(codecs)}")


def _encode_tone(container: av.container.OutputContainer,
                 stream: av.audio.stream.AudioStream, spec: RenderSpec) -> None:
    """A quiet two-note tone, pitch from the prompt, as long as the video."""
    total = round(spec.frames / spec.fps * AUDIO_RATE)
    digest = hashlib.sha256(spec.prompt.encode("utf-8")).digest()
    base = 220.0 * 2 ** (digest[20] % 12 / 12)
    n = np.arange(total, dtype=np.float64) / AUDIO_RATE
    wave = np.sin(2 * np.pi * base * n) + 0.5 * np.sin(2 * np.pi * base * 1.5 * n)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 0.5 * n)
    fade = np.minimum(1.0, np.minimum(n, n[-1] - n + 1 / AUDIO_RATE) / 0.05)
    samples = (0.08 * wave * envelope * fade).astype(np.float32)
    step = stream.codec_context.frame_size or 1024
    for start in range(0, total, step):
        chunk = samples[start:start + step][None, :]
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode())
