"""Images and frame sizes: data URLs decoded, images measured, and the ratio and W×H a
task renders (snapped to the table, or the image's own aspect on 2.5, §2.2, §10.4).
"""
from __future__ import annotations

import base64
import binascii
import io
import math
from typing import Optional

from .. import catalog
from .params import _bad


def decode_data_url(url: str, param: str = "image_url") -> bytes:
    head, _, data = url.partition(",")
    if not head.startswith("data:") or ";base64" not in head:
        raise _bad(param, "image data URLs must look like data:image/<fmt>;base64,<data>")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(param, "image data URL is not valid base64") from None


def image_size(data: bytes, param: str = "image_url") -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise _bad(param, "the image cannot be decoded") from None


def closest_ratio(size: Optional[tuple[int, int]]) -> str:
    if not size:
        return "16:9"
    r_img = size[0] / size[1]

    def dist(ratio: str) -> float:
        a, b = ratio.split(":")
        return abs(math.log(r_img / (int(a) / int(b))))

    return min(catalog.FIXED_RATIOS, key=dist)


def own_aspect_size(family: str, resolution: str, aspect: float) -> tuple[int, int]:
    """W×H with the image's aspect ratio and about the 16:9 pixel count (§2.2, 2.5).

    Sides are multiples of 8 (as in the table's 1080 rows); the aspect is held to the
    image limits (0.4, 2.5) of §5.4.
    """
    w16, h16 = catalog.pixel_size(family, resolution, "16:9")
    aspect = min(2.5, max(0.4, aspect))
    height = math.sqrt(w16 * h16 / aspect)

    def eight(x: float) -> int:
        return max(8, int(round(x / 8)) * 8)

    return eight(height * aspect), eight(height)


def _own_aspect(caps: catalog.Capabilities) -> bool:
    """Families whose frame tasks take only `adaptive` keep the image's own aspect
    ratio (2.5, §2.2); the others snap to the closest table ratio (§10.4)."""
    return bool(caps.adaptive_only_modes)
