"""The token and price estimate of a request (reference §9): `Estimate` and `estimate`."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from . import catalog

if TYPE_CHECKING:
    from .request import VideoRequest


@dataclass(frozen=True)
class Estimate:
    """Tokens and, where a price is known, cost (§9). A range when the model picks the length."""

    tokens_min: int
    tokens_max: int
    cost_min: Optional[float]
    cost_max: Optional[float]
    currency: str = ""  # from the price quote ("CNY", "USD"); "" when no price is known
    text: str = ""
    reference: Optional[str] = None  # e.g. "byteplus list price" on a reseller
    input_unknown: bool = False  # reference videos of unknown length are not counted

    def __str__(self) -> str:
        return self.text


def _closest_ratio(width: int, height: int) -> str:
    aspect = width / height
    return min(catalog.FIXED_RATIOS, key=lambda r: abs(math.log(aspect / _ratio_value(r))))


def _ratio_value(ratio: str) -> float:
    w, h = ratio.split(":")
    return int(w) / int(h)


def estimate(req: VideoRequest, input_seconds: Optional[float] = None) -> Estimate:
    caps = catalog.capabilities(req.family, req.dialect)
    assert caps is not None  # a built request always has capabilities
    if req.mode == "final":
        resolution = catalog.FINAL_RESOLUTION  # finals are billed at 1080p, drafts at 480p
    elif req.draft:
        resolution = catalog.DRAFT_RESOLUTION
    else:
        resolution = req.resolution or caps.default_resolution
    ratio = req.ratio or caps.default_ratio(req.mode)
    ratio_note = ""
    if ratio == "adaptive":
        sized = next((i for i in req.images if i.width and i.height), None)
        if caps.adaptive_only_modes:  # 2.5 keeps the input's shape at the 16:9 pixel count
            ratio, ratio_note = "16:9", " (adaptive: the 16:9 pixel count)"
        elif sized is not None:
            ratio, ratio_note = _closest_ratio(sized.width, sized.height), " (from the image)"
        else:
            ratio, ratio_note = "16:9", " (assumed)"
    width, height = catalog.pixel_size(req.family, resolution, ratio)
    video_input = bool(req.ref_videos)

    def tokens(seconds: int) -> int:
        if video_input:  # input + output seconds, 24 frames each, no extra frame (§9)
            total = seconds + (input_seconds or 0)
            return int(total * width * height * catalog.FPS) // 1024
        return catalog.video_tokens(width, height, catalog.frame_count(seconds))

    picks = req.duration == -1 or (req.duration is None and req.frames is None
                                   and caps.default_duration == -1)
    if req.frames is not None:
        lo = hi = catalog.video_tokens(width, height, req.frames)
        length = f"{req.frames} frames"
    elif req.mode == "final":
        lo, hi = tokens(caps.duration_min), tokens(caps.duration_max)
        length = f"the draft's length, {caps.duration_min}-{caps.duration_max} s"
    elif picks:
        lo, hi = tokens(caps.duration_min), tokens(caps.duration_max)
        length = f"{caps.duration_min}-{caps.duration_max} s, the model chooses"
    else:
        seconds = req.duration or caps.default_duration
        lo = hi = tokens(seconds)
        length = f"{seconds} s"
    if video_input:
        length += (f" + {input_seconds:g} s of input video" if input_seconds
                   else ", plus the input video's length")
    quote = catalog.list_price(req.dialect, req.family, resolution, video_input=video_input,
                               tier=req.service_tier)
    cost_lo = cost_hi = None
    if quote is not None:
        cost_lo, cost_hi = lo * quote.per_million / 1e6, hi * quote.per_million / 1e6
    amount = f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"
    kind = " draft" if req.draft else " final" if req.mode == "final" else ""
    text = f"{amount} tokens ({resolution}{kind} {ratio}{ratio_note}, {width}x{height}, {length})"
    if quote is None:
        money = f"no known price for {req.model} on {req.dialect}: tokens only"
    else:
        money = f"≈ {cost_lo:.2f}" if lo == hi else f"≈ {cost_lo:.2f}-{cost_hi:.2f}"
        money += f" {quote.currency}"
        if quote.reference:
            money += f" ({quote.reference})"
        if req.service_tier == "flex":
            money += " on the flex tier (half price)"
    if req.provider == "emulator":
        text += f"; free on the emulator ({req.dialect}: {money})"
    else:
        text += f"; {money}"
    return Estimate(lo, hi, cost_lo, cost_hi, quote.currency if quote else "", text,
                    quote.reference if quote else None, video_input and not input_seconds)
