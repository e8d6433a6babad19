"""Test images made with Pillow, and provider combinations, for the request/images tests."""
from __future__ import annotations

import io
import struct
from pathlib import Path

from seedance_nb import catalog

PIL_NAMES = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "bmp": "BMP", "tiff": "TIFF",
             "gif": "GIF"}


def image_bytes(size: tuple[int, int] = (640, 480), fmt: str = "png", mode: str = "RGB") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, color=0 if mode == "1" else None).save(buf, PIL_NAMES[fmt])
    return buf.getvalue()


def make_image(directory: Path, name: str, size: tuple[int, int] = (640, 480),
               fmt: str = "png", mode: str = "RGB") -> str:
    """Write an image file and return its path as a string."""
    path = directory / name
    path.write_bytes(image_bytes(size, fmt, mode))
    return str(path)


def heif_bytes(brand: bytes = b"heic", size: tuple[int, int] | None = (1024, 768),
               compatible: tuple[bytes, ...] = (b"mif1", b"heic")) -> bytes:
    """A minimal ISO-BMFF file: ftyp box, then a meta box holding one `ispe` property."""
    ftyp_body = brand + b"\0\0\0\0" + b"".join(compatible)
    ftyp = struct.pack(">I", 8 + len(ftyp_body)) + b"ftyp" + ftyp_body
    meta = b""
    if size is not None:
        ispe = struct.pack(">I", 20) + b"ispe" + b"\0\0\0\0" + struct.pack(">II", *size)
        meta = struct.pack(">I", 12 + len(ispe)) + b"meta" + b"\0\0\0\0" + ispe
    return ftyp + meta + b"\0" * 64


#: (provider, emulate) for every real provider and the emulator emulating each dialect.
ALL_COMBOS = [(p, None) for p in catalog.DIALECTS] + [("emulator", d) for d in catalog.DIALECTS]
ARK_JSON = [c for c in ALL_COMBOS if (c[1] or c[0]) != "comet"]
COMET = [("comet", None), ("emulator", "comet")]


def combo_id(combo: tuple[str, str | None]) -> str:
    return combo[0] if combo[1] is None else f"emulator-{combo[1]}"


def where(combo: tuple[str, str | None]) -> str:
    """How messages name the provider."""
    return combo[0] if combo[1] is None else f"emulator ({combo[1]})"


def dialect(combo: tuple[str, str | None]) -> str:
    return combo[1] or combo[0]
