"""Checks on create bodies per route (reference §2, §5, §10.4).

Errors are raised as `EmuError` with Ark codes; the AceData route turns them
into `bad_request` (see app.py). JSON null means "not given".
"""
from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .. import catalog
from .envelopes import EmuError

# route prefix -> (dialects whose wire ids it accepts, dialect used for capabilities)
_ROUTE_DIALECTS = {"ark": (("ark", "byteplus"), "ark"), "volc": (("comet-volc",), "comet-volc"),
                   "ace": (("acedata",), "acedata")}


@dataclass
class Params:
    family: str
    model: str  # as sent
    prompt: str
    mode: str
    resolution: str
    ratio: str  # resolved, never "adaptive"
    duration: Optional[int]  # None when frames is set
    frames: Optional[int]
    seed: Optional[int]  # None or -1 -> random later
    generate_audio: bool
    return_last_frame: bool = False
    camera_fixed: Optional[bool] = None
    watermark: bool = False
    service_tier: str = "default"
    execution_expires_after: int = catalog.EXPIRES_DEFAULT
    callback_url: Optional[str] = None
    wants_async: bool = True
    first_image: Optional[bytes] = None
    last_image: Optional[bytes] = None


def _bad(param: str, message: str) -> EmuError:
    return EmuError(400, "InvalidParameter", message, param)


def _missing(param: str) -> EmuError:
    return EmuError(400, "MissingParameter", f"the parameter `{param}` is required", param)


def _given(body: Mapping[str, Any], key: str) -> Any:
    return body.get(key)  # None covers both absent and JSON null


def _int(body: Mapping[str, Any], key: str) -> Optional[int]:
    value = _given(body, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key, f"`{key}` must be an integer, got {value!r}")
    return value


def _bool(body: Mapping[str, Any], key: str) -> Optional[bool]:
    value = _given(body, key)
    if value is not None and not isinstance(value, bool):
        raise _bad(key, f"`{key}` must be a boolean, got {value!r}")
    return value


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
    except (UnidentifiedImageError, OSError):
        raise _bad(param, "the image cannot be decoded") from None


def closest_ratio(size: Optional[tuple[int, int]]) -> str:
    if not size:
        return "16:9"
    r_img = size[0] / size[1]

    def dist(ratio: str) -> float:
        a, b = ratio.split(":")
        return abs(math.log(r_img / (int(a) / int(b))))

    return min(catalog.FIXED_RATIOS, key=dist)


def resolve_family(prefix: str, model: Any, endpoints: Mapping[str, str]) -> str:
    if model is None or model == "":
        raise _missing("model")
    if not isinstance(model, str):
        raise _bad("model", "`model` must be a string")
    dialects, _ = _ROUTE_DIALECTS[prefix]
    if prefix == "ark" and model in endpoints:
        return endpoints[model]
    for dialect in dialects:
        for family, wire in catalog.WIRE_IDS[dialect].items():
            if wire == model:
                return family
    raise EmuError(404, "InvalidEndpointOrModel.NotFound",
                   f"The model or endpoint {model} does not exist or you do not have access to it.",
                   "model")


def _content(items: Any, caps: catalog.Capabilities) -> tuple[str, list, int, int]:
    """(prompt, [(role, url)], n_videos, n_audios)."""
    if items is None:
        raise _missing("content")
    if not isinstance(items, list) or not items:
        raise _bad("content", "`content` must be a non-empty list")
    texts: list[str] = []
    images: list[tuple[str, str]] = []
    videos = audios = 0
    for item in items:
        if not isinstance(item, dict):
            raise _bad("content", "every content item must be an object")
        kind = item.get("type")
        if kind == "text":
            if not isinstance(item.get("text"), str):
                raise _bad("content.text", "a text item needs a string `text`")
            texts.append(item["text"])
        elif kind == "image_url":
            obj = item.get("image_url")
            if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
                raise _bad("content.image_url", "`image_url` must be an object {\"url\": ...}")
            role = item.get("role") or "first_frame"
            if role not in catalog.IMAGE_ROLES:
                raise _bad("content.role", f"unknown image role {role!r}")
            if obj["url"].startswith("asset://"):
                raise _bad("content.image_url", "asset:// ids are not supported by the emulator")
            images.append((role, obj["url"]))
        elif kind in ("video_url", "audio_url"):
            obj = item.get(kind)
            if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
                raise _bad(f"content.{kind}", f"`{kind}` must be an object {{\"url\": ...}}")
            if kind == "video_url":
                videos += 1
            else:
                audios += 1
        elif kind == "draft_task":
            raise _bad("content", "draft_task items are not supported")
        else:
            raise _bad("content.type", f"unknown content type {kind!r}")
    if len(texts) > 1:
        raise _bad("content", "at most one text item is allowed")
    return (texts[0] if texts else ""), images, videos, audios


def _mode(images: list, videos: int, audios: int) -> str:
    roles = [role for role, _ in images]
    if not roles and not videos and not audios:
        return "t2v"
    if roles == ["first_frame"] and not videos and not audios:
        return "first"
    if roles == ["first_frame", "last_frame"] and not videos and not audios:
        return "first+last"
    if all(r == "reference_image" for r in roles):
        return "ref"
    raise _bad("content", "image roles mix modes: use one first_frame, first_frame + last_frame, "
                          "or only reference_image items")


def check_json(prefix: str, body: Any, endpoints: Mapping[str, str]) -> Params:
    """Validate an Ark-JSON (or AceData) create body for route `prefix`."""
    if not isinstance(body, dict):
        raise _bad("body", "the request body must be a JSON object")
    family = resolve_family(prefix, _given(body, "model"), endpoints)
    caps = catalog.capabilities(family, _ROUTE_DIALECTS[prefix][1])
    if caps is None:  # e.g. an endpoint mapped to a family this route lacks
        raise EmuError(404, "InvalidEndpointOrModel.NotFound", f"model family {family} unknown",
                       "model")
    if _bool(body, "draft"):
        raise _bad("draft", "draft mode is not supported")
    prompt, images, videos, audios = _content(_given(body, "content"), caps)
    mode = _mode(images, videos, audios)
    if mode not in caps.modes:
        raise _bad("content", f"{caps.model} does not support {mode} mode "
                              f"(supported: {', '.join(caps.modes)})")
    if mode == "t2v" and not prompt.strip():
        raise _missing("content.text")
    if mode == "ref":
        n_img = len(images)
        lo, hi = caps.ref_images
        if not lo <= n_img <= hi or videos > caps.ref_videos or audios > caps.ref_audios:
            raise _bad("content", f"ref mode takes {lo}-{hi} images, up to {caps.ref_videos} "
                                  f"videos and {caps.ref_audios} audio clips")
        if audios and not n_img and not videos:
            raise _bad("content", "audio cannot be the only reference")

    datas: list[Optional[bytes]] = []
    for role, url in images:
        datas.append(decode_data_url(url) if url.startswith("data:") else None)
    first_size = image_size(datas[0]) if datas and datas[0] else None
    for data in datas[1:]:
        if data:
            image_size(data)

    resolution = _given(body, "resolution") or caps.default_resolution
    if resolution not in caps.resolutions_for(mode):
        raise _bad("resolution", f"resolution {resolution!r} is not supported by {caps.model} "
                                 f"in {mode} mode")
    ratio = _given(body, "ratio") or caps.default_ratio(mode)
    if ratio not in caps.ratios:
        raise _bad("ratio", f"ratio {ratio!r} is not supported")
    if ratio == "adaptive":
        if mode not in caps.adaptive_modes:
            raise _bad("ratio", f"ratio adaptive is not supported by {caps.model} in {mode} mode")
        ratio = closest_ratio(first_size)

    frames = _int(body, "frames")
    duration = _int(body, "duration")
    if frames is not None:
        if not caps.frames:
            raise _bad("frames", f"`frames` is not supported by {caps.model}")
        if not (catalog.FRAMES_MIN <= frames <= catalog.FRAMES_MAX and frames % 4 == 1):
            raise _bad("frames", f"frames must be 25+4n within [{catalog.FRAMES_MIN}, "
                                 f"{catalog.FRAMES_MAX}], got {frames}")
        duration = None
    else:
        if duration is None:
            duration = catalog.DEFAULT_DURATION
        elif duration == -1 and not caps.duration_auto or (
                duration != -1 and not caps.duration_min <= duration <= caps.duration_max):
            raise _bad("duration", f"duration must be {caps.duration_text()} for {caps.model}, "
                                   f"got {duration}")
        if duration == -1:
            duration = catalog.DEFAULT_DURATION  # the real model picks; we use 5 s

    seed = _int(body, "seed")
    if seed is not None and not catalog.SEED_MIN <= seed <= catalog.SEED_MAX:
        raise _bad("seed", f"seed must be within [{catalog.SEED_MIN}, {catalog.SEED_MAX}]")
    cf_key = "camerafixed" if prefix == "ace" else "camera_fixed"
    camera_fixed = _bool(body, cf_key)
    if camera_fixed is not None and (not caps.camera_fixed or
                                     (mode == "ref" and not caps.camera_fixed_in_ref)):
        raise _bad(cf_key, f"`{cf_key}` is not supported by {caps.model} in {mode} mode")
    audio = _bool(body, "generate_audio")
    if audio is not None and not caps.audio:
        raise _bad("generate_audio", f"`generate_audio` is not supported by {caps.model}")
    if audio is None:
        audio = caps.audio and prefix != "ace"
    tier = _given(body, "service_tier") or "default"
    if tier not in catalog.SERVICE_TIERS:
        raise _bad("service_tier", f"service_tier must be default or flex, got {tier!r}")
    if tier == "flex" and not caps.flex:
        raise _bad("service_tier", f"the flex tier is not offered for {caps.model}")
    expires = _int(body, "execution_expires_after")
    if expires is None:
        expires = catalog.EXPIRES_DEFAULT
    elif not catalog.EXPIRES_MIN <= expires <= catalog.EXPIRES_MAX:
        raise _bad("execution_expires_after", f"execution_expires_after must be within "
                                              f"[{catalog.EXPIRES_MIN}, {catalog.EXPIRES_MAX}]")
    callback = _given(body, "callback_url")
    if callback is not None and (not isinstance(callback, str)
                                 or not callback.startswith(("http://", "https://"))):
        raise _bad("callback_url", "callback_url must be an absolute http(s) URL")
    wants_async = True
    if prefix == "ace":
        flag = _bool(body, "async")
        wants_async = bool(flag) or callback is not None
    last = datas[1] if mode == "first+last" else None
    return Params(
        family=family, model=body["model"], prompt=prompt, mode=mode, resolution=resolution,
        ratio=ratio, duration=duration, frames=frames, seed=seed, generate_audio=audio,
        return_last_frame=bool(_bool(body, "return_last_frame")), camera_fixed=camera_fixed,
        watermark=bool(_bool(body, "watermark")), service_tier=tier,
        execution_expires_after=expires, callback_url=callback, wants_async=wants_async,
        first_image=datas[0] if mode in ("first", "first+last") else None, last_image=last)


def check_comet(form: Mapping[str, str], image: Optional[bytes]) -> Params:
    """Validate a Comet multipart create (§2.3, §5.2). Unknown fields are ignored."""
    model = form.get("model") or ""
    if not model:
        raise EmuError(400, "", "model name is required")
    family = next((f for f, w in catalog.WIRE_IDS["comet"].items() if w == model), None)
    if family is None:
        raise EmuError(400, "", f"model {model} is not supported")
    caps = catalog.capabilities(family, "comet")
    prompt = form.get("prompt") or ""
    if image is not None and caps.max_images < 1:
        short = model.removeprefix("doubao-")
        raise EmuError(400, "", f"the specified task_type r2v does not support model {short}")
    if image is None and not prompt.strip():
        raise _bad("prompt", "prompt is required")
    seconds_text = form.get("seconds") or str(catalog.DEFAULT_DURATION)
    try:
        seconds = int(seconds_text)
    except ValueError:
        raise _bad("seconds", f"seconds must be an integer, got {seconds_text!r}") from None
    if not caps.duration_min <= seconds <= caps.duration_max:
        raise _bad("seconds", f"seconds must be within [{caps.duration_min}, "
                              f"{caps.duration_max}] for {model}, got {seconds}")
    ratio = form.get("size") or "16:9"
    if ratio not in caps.ratios:
        raise _bad("size", f"size {ratio!r} is not supported")
    resolution = form.get("resolution") or caps.default_resolution
    if resolution not in caps.resolutions:
        raise _bad("resolution", f"resolution {resolution!r} is not supported by {model}")
    if image is not None:
        image_size(image, "input_reference")
    # The single image is treated as a reference (CometAPI calls it r2v), so it
    # does not become the first frame.
    return Params(family=family, model=model, prompt=prompt,
                  mode="ref" if image is not None else "t2v", resolution=resolution,
                  ratio=ratio, duration=seconds, frames=None, seed=None, generate_audio=False,
                  execution_expires_after=catalog.COMET_TASK_LIMIT_S)
