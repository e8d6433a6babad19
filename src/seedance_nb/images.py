"""Image inputs: load, detect the format and check them (reference §5.4).

Pillow and requests are imported inside functions so importing the package
stays cheap. Messages name the image (data URLs abbreviated) and the rule.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import os
import struct
import time
from typing import Optional
from urllib.parse import unquote_to_bytes, urlsplit

from . import catalog
from .errors import SeedanceValidationError
from .request import ImageInput

MAX_BYTES = catalog.MAX_IMAGE_BYTES
MIN_SIDE, MAX_SIDE = 300, 6000  # exclusive
MIN_ASPECT, MAX_ASPECT = 0.4, 2.5  # exclusive
DOWNLOAD_TIMEOUT_S = 30.0

_PIL_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp", "BMP": "bmp",
                "TIFF": "tiff", "GIF": "gif"}
# ISO-BMFF `ftyp` brands: HEIC (HEVC-coded) and generic HEIF image files.
_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1", b"heif"}


def describe(source: str) -> str:
    """The image's name in messages: data URLs are abbreviated."""
    if source.startswith("data:") and len(source) > 40:
        return repr(source[:32] + f"…({len(source)} chars)")
    return repr(source)


def is_remote(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def private_host_warning(url: str) -> Optional[str]:
    """A warning when a gateway could not fetch `url` (localhost or a private address)."""
    host = (urlsplit(url).hostname or "").lower()
    private = host == "localhost" or host.endswith((".localhost", ".local"))
    if not private:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        private = ip is not None and (ip.is_private or ip.is_loopback or ip.is_link_local)
    if private:
        return (f"{url}: {host} is a local or private address; the gateway cannot fetch it "
                f"(use a public URL or a local file)")
    return None


def load_image(source: str | os.PathLike, role: str, *, dialect: str, family: Optional[str],
               real_provider: bool = True, fetch: Optional[bool] = None) -> ImageInput:
    """Load and check one image; raise SeedanceValidationError listing every problem.

    http(s) URLs are neither fetched nor checked, except when `fetch` is true
    (default: only for the comet dialect, which must upload the bytes itself).
    The returned ImageInput's `warnings` say when a real gateway cannot reach a URL.
    """
    source = os.fspath(source)
    if not isinstance(source, str):
        raise SeedanceValidationError([f"image {source!r}: give a path or URL as a string"])
    name = describe(source)
    if fetch is None:
        fetch = dialect == "comet"
    if is_remote(source):
        if not fetch:
            warn = private_host_warning(source) if real_provider else None
            return ImageInput(source, role, warnings=(f"image {warn}",) if warn else ())
        data = _download(source, name)
    elif source.startswith("data:"):
        data = _decode_data_url(source, name)
    elif "://" in source:
        scheme = source.split("://", 1)[0]
        if scheme.lower() == "asset":
            raise SeedanceValidationError(
                [f"image {name}: asset:// ids are not supported in this version"])
        raise SeedanceValidationError(
            [f"image {name}: only local paths, http(s) URLs and data: URLs are accepted"])
    else:
        data = _read_file(source, name)
    fmt, width, height = _inspect(data, name)
    problems = check_image(name, fmt, width, height, len(data), dialect=dialect, family=family)
    if problems:
        raise SeedanceValidationError(problems)
    return ImageInput(source, role, data=data, format=fmt, width=width, height=height,
                      sha256=hashlib.sha256(data).hexdigest())


def allowed_formats(dialect: str, family: Optional[str]) -> tuple[str, ...]:
    caps = catalog.capabilities(family, dialect) if family else None
    if caps is not None:
        return caps.image_formats
    return catalog.COMET_IMAGE_FORMATS if dialect == "comet" else catalog.IMAGE_FORMATS


def check_image(name: str, fmt: str, width: Optional[int], height: Optional[int], size: int,
                *, dialect: str, family: Optional[str]) -> list[str]:
    """Every §5.4 rule the image breaks, one line each."""
    problems = []
    allowed = allowed_formats(dialect, family)
    if fmt not in allowed:
        caps = catalog.capabilities(family, dialect) if family else None
        where = f"{caps.model} on {dialect}" if caps else dialect
        problems.append(f"image {name}: format {fmt} is not accepted by {where}; "
                        f"allowed: {', '.join(allowed)}")
    if size >= MAX_BYTES:
        problems.append(f"image {name}: {size / 2**20:.1f} MB; must be under 30 MB")
    if width is not None and height is not None:
        for side, px in (("width", width), ("height", height)):
            if not MIN_SIDE < px < MAX_SIDE:
                problems.append(f"image {name}: {side} {px} px; each side must be strictly "
                                f"between {MIN_SIDE} and {MAX_SIDE} px")
        aspect = width / height if height else float("inf")
        if not MIN_ASPECT < aspect < MAX_ASPECT:
            problems.append(f"image {name}: aspect ratio {aspect:.3g} ({width}x{height}); "
                            f"width/height must be strictly between {MIN_ASPECT} and "
                            f"{MAX_ASPECT}")
    return problems


def _read_file(path: str, name: str) -> bytes:
    full = os.path.expanduser(path)
    try:
        size = os.stat(full).st_size
        if not os.path.isfile(full):
            raise SeedanceValidationError([f"image {name}: not a file"])
        if size >= MAX_BYTES:  # refuse before reading a huge file into memory
            raise SeedanceValidationError(
                [f"image {name}: {size / 2**20:.1f} MB; must be under 30 MB"])
        with open(full, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        hint = ""
        if path == "None":  # `--image {job.last_frame_path}` before it existed
            hint = ("; a job's last_frame_path is None until it has finished: wait for it "
                    "first (job.wait() or await job)")
        raise SeedanceValidationError([f"image {name}: file not found{hint}"]) from None
    except OSError as exc:
        raise SeedanceValidationError([f"image {name}: cannot read: {exc.strerror}"]) from None


def _decode_data_url(url: str, name: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep:
        raise SeedanceValidationError([f"image {name}: bad data URL (no comma)"])
    if len(payload) * 3 // 4 >= MAX_BYTES + 3:
        raise SeedanceValidationError(
            [f"image {name}: {len(payload) * 3 / 4 / 2**20:.1f} MB; must be under 30 MB"])
    if head.lower().endswith(";base64"):
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise SeedanceValidationError([f"image {name}: bad base64 in data URL"]) from None
    return unquote_to_bytes(payload)


def _download(url: str, name: str) -> bytes:
    import requests

    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_S
    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT_S) as resp:
            if resp.status_code != 200:
                raise SeedanceValidationError(
                    [f"image {name}: download failed: HTTP {resp.status_code}"])
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) >= MAX_BYTES:
                raise SeedanceValidationError(
                    [f"image {name}: {int(declared) / 2**20:.1f} MB; must be under 30 MB"])
            chunks, total = [], 0
            for chunk in resp.iter_content(65536):
                total += len(chunk)
                if total >= MAX_BYTES:
                    raise SeedanceValidationError(
                        [f"image {name}: more than 30 MB; must be under 30 MB"])
                if time.monotonic() > deadline:
                    raise SeedanceValidationError(
                        [f"image {name}: download took longer than {DOWNLOAD_TIMEOUT_S:.0f} s"])
                chunks.append(chunk)
            return b"".join(chunks)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise SeedanceValidationError([f"image {name}: download failed: {reason}"]) from None


def _inspect(data: bytes, name: str) -> tuple[str, Optional[int], Optional[int]]:
    """(format, width, height) from the bytes; never trusts a file extension."""
    heif = _heif_kind(data)
    if heif:
        width, height = _heif_size(data)
        if width is None:
            raise SeedanceValidationError(
                [f"image {name}: {heif} file without a readable size (no ispe box)"])
        return heif, width, height
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as img:
            pil_format = img.format or ""
            width, height = img.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError,
            SyntaxError):
        raise SeedanceValidationError(
            [f"image {name}: not a readable image; allowed formats: "
             f"{', '.join(catalog.IMAGE_FORMATS + catalog.HEIF_FORMATS)}"]) from None
    fmt = _PIL_FORMATS.get(pil_format, pil_format.lower() or "unknown")
    if MIN_SIDE < width < MAX_SIDE and MIN_SIDE < height < MAX_SIDE:
        _decode_fully(data, name, fmt)  # a size check failure is reported as such instead
    return fmt, width, height


def _decode_fully(data: bytes, name: str, fmt: str) -> None:
    """Decode every pixel: a truncated or corrupt file would be refused by the gateway
    after upload (and may be billed as a failed task), so refuse it here."""
    from io import BytesIO

    from PIL import Image

    try:
        with Image.open(BytesIO(data)) as img:
            for frame in range(getattr(img, "n_frames", 1) if fmt == "gif" else 1):
                img.seek(frame)
                img.load()
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
        reason = str(exc).split("\n")[0] or type(exc).__name__
        raise SeedanceValidationError(
            [f"image {name}: the {fmt} data is truncated or corrupt and cannot be decoded "
             f"({reason})"]) from None


def _heif_kind(data: bytes) -> Optional[str]:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    box_len = struct.unpack(">I", data[:4])[0]
    brands = {data[8:12]} | {data[i:i + 4] for i in range(16, min(box_len, 256), 4)}
    if data[8:12] in _HEIC_BRANDS:
        return "heic"
    if b"avif" in brands or b"avis" in brands:
        return None  # AVIF shares the container; Pillow names it (and it is refused)
    if data[8:12] in _HEIF_BRANDS:
        return "heic" if brands & _HEIC_BRANDS else "heif"
    return None


def _heif_size(data: bytes) -> tuple[Optional[int], Optional[int]]:
    """Largest `ispe` (image spatial extents) box: the primary image, not a tile or thumbnail.

    Pillow cannot open HEIC without a plugin, so the size comes from the box itself:
    size(4) 'ispe'(4) version/flags(4) width(4) height(4).
    """
    best: tuple[Optional[int], Optional[int]] = (None, None)
    pos = data.find(b"ispe", 0, 1 << 20)
    while pos != -1:
        if pos >= 4 and pos + 16 <= len(data):
            width, height = struct.unpack(">II", data[pos + 8:pos + 16])
            if best[0] is None or width * height > best[0] * best[1]:
                best = (width, height)
        pos = data.find(b"ispe", pos + 4, 1 << 20)
    return best
