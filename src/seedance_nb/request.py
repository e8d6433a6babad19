"""The validated, immutable, provider-neutral request (reference §3).

CONTRACT (shared by every module; keep field names stable):
- `ImageInput` and `VideoRequest` are frozen dataclasses.
- `VideoRequest` holds only validated values; unset optional fields are None.
- `build_request(...)` is the only public way to make one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class ImageInput:
    source: str  # as the user gave it: local path, http(s) URL or data: URL
    role: str  # first_frame | last_frame | reference_image
    # For local files and data URLs (and comet's downloaded URLs): the raw bytes,
    # the detected format (jpeg/png/...), size and sha256. None for remote URLs.
    data: Optional[bytes] = field(default=None, repr=False, compare=False)
    format: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    sha256: Optional[str] = None

    @property
    def is_remote(self) -> bool:
        return self.data is None


@dataclass(frozen=True)
class VideoRequest:
    provider: str  # ark | byteplus | comet | comet-volc | acedata | emulator
    dialect: str  # wire dialect actually spoken (the emulator's `emulate` setting)
    family: str  # catalog family key, e.g. "1.5-pro"
    model: str  # wire id sent to the gateway
    prompt: str  # flags removed; may be "" in image modes
    mode: str  # t2v | first | first+last | ref
    images: tuple[ImageInput, ...] = ()
    ref_videos: tuple[str, ...] = ()
    ref_audios: tuple[str, ...] = ()
    resolution: Optional[str] = None
    ratio: Optional[str] = None
    duration: Optional[int] = None
    frames: Optional[int] = None
    fps: Optional[int] = None
    seed: Optional[int] = None
    camera_fixed: Optional[bool] = None
    watermark: Optional[bool] = None
    generate_audio: Optional[bool] = None
    return_last_frame: Optional[bool] = None
    service_tier: Optional[str] = None
    execution_expires_after: Optional[int] = None
    callback_url: Optional[str] = None
    blocking: Optional[bool] = None
    warnings: tuple[str, ...] = field(default=(), compare=False)

    # Filled in by the foundation work: to_dict(), estimate(), fingerprint().
    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - replaced below
        raise NotImplementedError
