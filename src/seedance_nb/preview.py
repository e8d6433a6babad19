"""Browser-playable previews of results browsers cannot play (reference §8 Previews).

A 2.5 `output_format mov` result is H.264 High 4:4:4 (yuv444p) with PCM audio in a
MOV container, meant for editing software; browsers play only H.264 yuv420p (with
AAC audio) in MP4 reliably. `make_preview` writes `<stem>.preview.mp4` next to
such a file with PyAV, once; `preview_for` also says, in one line, why there is
no preview when there cannot be one.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

log = logging.getLogger("seedance_nb")

SUFFIX = ".preview.mp4"
PLAYABLE_VIDEO = ("h264",)
PLAYABLE_PIX_FMTS = ("yuv420p", "yuvj420p")
PLAYABLE_AUDIO = ("aac", "mp3", "opus")
_QT_BRAND = b"qt  "
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class Preview:
    """What a notebook should show for a result file."""

    path: Optional[Path]  # the preview to play, or None
    needed: bool  # the original is not playable in browsers
    note: str = ""  # one line: why the original is not shown / why there is no preview


def preview_path(path: str | os.PathLike) -> Path:
    """`<dir>/<stem>.preview.mp4` for `<dir>/<stem>.<ext>`."""
    path = Path(path)
    return path.with_name(path.stem + SUFFIX)


def is_preview(path: str | os.PathLike) -> bool:
    return Path(path).name.endswith(SUFFIX)


def _is_mov(path: Path) -> bool:
    """A QuickTime container: a `.mov` name or the `qt  ` brand in its ftyp box."""
    if path.suffix.lower() == ".mov":
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp" and head[8:12] == _QT_BRAND


def _av() -> Any:
    try:
        import av
    except ImportError:
        return None
    return av


_probed: dict[tuple[str, int, int], Optional[str]] = {}  # (path, mtime_ns, size) -> reason


def why_not_playable(path: str | os.PathLike) -> Optional[str]:
    """Why browsers cannot play `path`, e.g. "MOV container, yuv444p", or None when they can.

    Needs PyAV to look inside; without it only the container is judged. Answers are
    cached per file version, because a gallery re-renders on every status change.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return None
    key = (os.path.abspath(path), st.st_mtime_ns, st.st_size)
    if key not in _probed:
        if len(_probed) > 1024:
            _probed.clear()
        _probed[key] = _why_not_playable(path)
    return _probed[key]


def _why_not_playable(path: Path) -> Optional[str]:
    from .mp4_probe import plainly_playable

    if plainly_playable(path):  # the common case, without opening the file with PyAV
        return None
    reasons = []
    if _is_mov(path):
        reasons.append("MOV container")
    av = _av()
    if av is None:
        return ", ".join(reasons) or None
    try:
        with av.open(str(path)) as container:
            if not _is_mov(path) and "mp4" not in container.format.name:
                reasons.append(f"{container.format.name} container")
            video = next(iter(container.streams.video), None)
            if video is not None:
                codec = video.codec_context.name
                pix = video.codec_context.pix_fmt or ""
                if codec not in PLAYABLE_VIDEO:
                    reasons.append(f"{codec.upper() if codec == 'hevc' else codec} video")
                if pix and pix not in PLAYABLE_PIX_FMTS:
                    reasons.append(pix)
            for audio in container.streams.audio:
                if audio.codec_context.name not in PLAYABLE_AUDIO:
                    reasons.append(f"{audio.codec_context.name} audio")
                    break
    except (OSError, ValueError, av.FFmpegError) as exc:
        log.debug("cannot probe %s: %s", path, exc)
        return ", ".join(reasons) or None
    return ", ".join(reasons) or None


def _valid_preview(path: Path, source: Path) -> bool:
    """An existing preview is reused if it is newer than its source and decodes as H.264."""
    if not path.is_file() or path.stat().st_mtime < source.stat().st_mtime:
        return False
    av = _av()
    try:
        with av.open(str(path)) as container:
            video = next(iter(container.streams.video), None)
            return (video is not None and video.codec_context.name in PLAYABLE_VIDEO
                    and video.codec_context.pix_fmt in PLAYABLE_PIX_FMTS
                    and (video.frames or 0) > 0)
    except (OSError, ValueError, av.FFmpegError):
        return False


def preview_for(path: str | os.PathLike, *, make: bool = True) -> Preview:
    """The preview to show for a result (made if needed and `make`), with a one-line note."""
    path = Path(path)
    if is_preview(path) or not path.is_file():
        return Preview(None, False)
    reason = why_not_playable(path)
    if not reason:
        return Preview(None, False)
    target = preview_path(path)
    kind = "MOV (H.264 4:4:4, PCM audio)" if _is_mov(path) else reason
    if _av() is None:
        return Preview(None, True, f"browsers cannot play {path.name} ({reason}) and there is "
                                   f"no preview: PyAV is not installed (pip install av)")
    with _lock_for(target):
        if _valid_preview(target, path):
            return Preview(target, True, f"original: {path.name}, {kind}, for editing software")
        if not make:
            return Preview(None, True, f"browsers cannot play {path.name} ({reason}); "
                                       f"no preview was made")
        try:
            _transcode(path, target)
        except Exception as exc:  # a broken source must not break the display
            log.warning("could not make a preview of %s: %s", path, exc)
            return Preview(None, True, f"browsers cannot play {path.name} ({reason}) and the "
                                       f"preview failed: {str(exc)[:160]}")
    return Preview(target, True, f"original: {path.name}, {kind}, for editing software")


def make_preview(path: str | os.PathLike) -> Optional[Path]:
    """An H.264 yuv420p MP4 next to `path` if browsers cannot play it, else None.

    Idempotent: a valid existing `<stem>.preview.mp4` is reused. Without PyAV (or if
    the file cannot be converted) it returns None and logs one line saying why.
    """
    result = preview_for(path)
    if result.needed and result.path is None:
        log.warning("%s", result.note)
    return result.path


def _lock_for(target: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(target), threading.Lock())


def _transcode(source: Path, target: Path) -> None:
    """Video to H.264 yuv420p (even size), audio to AAC; written to a temp file, then renamed."""
    import av

    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        with av.open(str(source)) as src, av.open(str(tmp), "w", format="mp4",
                                                  options={"movflags": "+faststart"}) as out:
            vin = next(iter(src.streams.video), None)
            if vin is None:
                raise ValueError("no video stream")
            ain = next(iter(src.streams.audio), None)
            vin.thread_type = "AUTO"
            rate = vin.average_rate or vin.guessed_rate or Fraction(24)
            vout = out.add_stream("libx264", rate=rate)
            vout.width = vin.codec_context.width - vin.codec_context.width % 2
            vout.height = vin.codec_context.height - vin.codec_context.height % 2
            vout.pix_fmt = "yuv420p"
            vout.options = {"crf": "20", "preset": "veryfast"}
            vout.codec_context.time_base = Fraction(1, 1) / Fraction(rate)
            aout = resampler = None
            if ain is not None:
                sample_rate = ain.codec_context.sample_rate or 48000
                layout = ain.codec_context.layout.name if ain.codec_context.layout else "stereo"
                aout = out.add_stream("aac", rate=sample_rate)
                aout.layout = layout
                resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate,
                                              frame_size=aout.codec_context.frame_size or 1024)
            streams = [s for s in (vin, ain) if s is not None]
            n = 0
            for packet in src.demux(*streams):
                for frame in packet.decode():
                    if packet.stream is vin:
                        img = frame.reformat(width=vout.width, height=vout.height,
                                             format="yuv420p")
                        img.pts, img.time_base = n, vout.codec_context.time_base
                        n += 1
                        out.mux(vout.encode(img))
                    else:
                        for chunk in resampler.resample(frame):
                            out.mux(aout.encode(chunk))
            out.mux(vout.encode(None))
            if aout is not None:
                for chunk in resampler.resample(None):
                    out.mux(aout.encode(chunk))
                out.mux(aout.encode(None))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
