"""Builders shared by the provider-dialect tests (VideoRequest made directly)."""
from __future__ import annotations

import json
from typing import Any

from seedance_nb import catalog
from seedance_nb.request import ImageInput, VideoRequest

PNG = b"\x89PNG\r\n\x1a\n"  # base64: iVBORw0KGgo=
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


def req(provider: str = "ark", family: str = catalog.DEFAULT_FAMILY, prompt: str = "a cat", *,
        emulate: str = "ark", **fields: Any) -> VideoRequest:
    dialect = catalog.dialect_of(provider, emulate)
    images = tuple(fields.pop("images", ()))
    roles = {i.role for i in images}
    if fields.get("ref_videos") or "reference_image" in roles:
        mode = "ref"
    elif "last_frame" in roles:
        mode = "first+last"
    elif images:
        mode = "first"
    else:
        mode = "t2v"
    return VideoRequest(provider=provider, dialect=dialect, family=family,
                        model=catalog.WIRE_IDS[dialect][family], prompt=prompt, mode=mode,
                        images=images, **fields)


def local(role: str = "first_frame", data: bytes = PNG, fmt: str = "png",
          source: str = "frame.png") -> ImageInput:
    return ImageInput(source=source, role=role, data=data, format=fmt)


def remote(url: str, role: str = "first_frame") -> ImageInput:
    return ImageInput(source=url, role=role)


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()
