"""A tiny MOV like a 2.5 `output_format mov` result: H.264 yuv444p video and PCM audio."""
from __future__ import annotations

from pathlib import Path

FRAMES = 12
SIZE = 64
SAMPLE_RATE = 48000


def make_mov(path: Path, frames: int = FRAMES, size: int = SIZE, audio: bool = True) -> Path:
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="mov") as out:
        video = out.add_stream("libx264", rate=24)
        video.width = video.height = size
        video.pix_fmt = "yuv444p"
        sound = None
        if audio:
            sound = out.add_stream("pcm_s16le", rate=SAMPLE_RATE)
            sound.layout = "stereo"
        for i in range(frames):
            img = np.zeros((size, size, 3), dtype=np.uint8)
            img[:, : size * (i + 1) // frames] = (255, 0, 0)  # a bar that grows
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        if sound is not None:
            samples = SAMPLE_RATE * frames // 24
            t = np.arange(samples) / SAMPLE_RATE
            tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
            data = np.stack([tone, tone], axis=1).reshape(1, -1)  # packed s16 stereo
            chunk = 4800
            for start in range(0, samples, chunk):
                part = data[:, start * 2:(start + chunk) * 2]
                frame = av.AudioFrame.from_ndarray(part, format="s16", layout="stereo")
                frame.sample_rate = SAMPLE_RATE
                for packet in sound.encode(frame):
                    out.mux(packet)
            out.mux(sound.encode(None))
        out.mux(video.encode(None))
    return path


def probe(path: Path) -> dict:
    """Codec, pixel format, decoded frame count and audio codec/duration of a file."""
    import av

    with av.open(str(path)) as container:
        v = container.streams.video[0]
        a = next(iter(container.streams.audio), None)
        info = {"format": container.format.name, "video": v.codec_context.name,
                "pix_fmt": v.codec_context.pix_fmt, "size": (v.width, v.height),
                "audio": a.codec_context.name if a is not None else None}
        frames = samples = 0
        for packet in container.demux():
            for frame in packet.decode():
                if packet.stream.type == "video":
                    frames += 1
                else:
                    samples += frame.samples
        info["frames"] = frames
        info["audio_seconds"] = samples / a.codec_context.sample_rate if a is not None else 0
    return info
