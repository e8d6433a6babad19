"""Checks on create bodies per route (reference §2, §3, §5, §10.4).

Errors are raised as `EmuError` with Ark codes; the AceData route turns them
into `bad_request` (see app.py). JSON null means "not given". What a model can do
comes from `catalog.capabilities`; nothing here restates a family's limits.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Optional

from .. import catalog
from .envelopes import EmuError

# route prefix -> (dialects whose wire ids it accepts, dialect used for capabilities)
_ROUTE_DIALECTS = {"ark": (("ark", "byteplus"), "ark"), "volc": (("comet-volc",), "comet-volc"),
                   "ace": (("acedata",), "acedata")}
#: what an unset or -1 duration renders when the model picks (2.5): Volcengine picked 10 s
AUTO_DURATION_S = 10
EDIT_DURATION_S = 5  # the real edit keeps the source's length, which is never fetched
REF_VIDEO_S = 5  # seconds billed per reference video (never fetched, §10.5)
_CONSTRAINT = "InvalidParameter.TaskTypeConstraint"
#: Capabilities.unsupported_fields name -> wire key
_WIRE_KEYS = {"draft": "draft", "task_type": "omni_reference_task_type",
              "output_format": "output_format", "return_last_frame": "return_last_frame",
              "service_tier": "service_tier"}
#: a final's scene comes from its draft; these keys may not be given with it
#: AceDataCloud's SDK sends these on every create (ratio defaults to 16:9 there); on a
#: final they are ignored, the draft's values stand
_ACE_SDK_KEYS = ("generate_audio", "ratio")
_SCENE_KEYS = ("duration", "frames", "ratio", "seed", "camera_fixed", "camerafixed",
               "generate_audio", "output_format", "draft", "omni_reference_task_type")


@dataclass
class Params:
    family: str
    model: str  # as sent
    prompt: str
    mode: str
    resolution: str
    ratio: str  # reported; never "adaptive"
    duration: Optional[int]  # rendered seconds; None when frames is set
    frames: Optional[int]
    seed: Optional[int]  # None or -1 -> random later
    generate_audio: bool
    width: int = 0
    height: int = 0
    return_last_frame: bool = False
    camera_fixed: Optional[bool] = None
    watermark: bool = False
    service_tier: str = "default"
    execution_expires_after: int = catalog.EXPIRES_DEFAULT
    callback_url: Optional[str] = None
    wants_async: bool = True
    first_image: Optional[bytes] = None
    last_image: Optional[bytes] = None
    aspect: Optional[float] = None  # image aspect kept by own-aspect adaptive geometry
    ref_videos: int = 0
    ref_audios: int = 0
    task_type: Optional[str] = None
    draft: bool = False
    draft_task_id: Optional[str] = None
    output_format: str = "mp4"
    audio_field: bool = False  # the task object reports generate_audio (2.x)
    draft_fields: bool = False  # ... and draft / output_format (2.5)


def _bad(param: str, message: str, code: str = "InvalidParameter") -> EmuError:
    return EmuError(400, code, message, param)


def _missing(param: str) -> EmuError:
    return EmuError(400, "MissingParameter", f"the parameter `{param}` is required", param)


def _given(body: Mapping[str, Any], key: str) -> Any:
    return body.get(key)  # None covers both absent and JSON null


def _int(body: Mapping[str, Any], key: str) -> Optional[int]:
    value = _given(body, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key, f"`{key}` must be an integer, got {_short(value)}")
    return value


def _bool(body: Mapping[str, Any], key: str) -> Optional[bool]:
    value = _given(body, key)
    if value is not None and not isinstance(value, bool):
        raise _bad(key, f"`{key}` must be a boolean, got {_short(value)}")
    return value


def _str(body: Mapping[str, Any], key: str) -> Optional[str]:
    value = _given(body, key)
    if value is not None and not isinstance(value, str):
        raise _bad(key, f"`{key}` must be a string, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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


def resolve_family(prefix: str, model: Any, endpoints: Mapping[str, str]) -> tuple[str, str]:
    """(family, model id the task reports) for `model` on this route; retired or unknown
    models are not found. An alias reports its dated id."""
    if model is None or model == "":
        raise _missing("model")
    if not isinstance(model, str):
        raise _bad("model", "`model` must be a string")
    dialects, _ = _ROUTE_DIALECTS[prefix]
    found: Optional[tuple[str, str]] = None
    if prefix == "ark" and model in endpoints:
        found = endpoints[model], "ark"
    for dialect in dialects:
        if found:
            break
        family = catalog.family_of_wire_id(model).get(dialect)
        if family is None:
            family = _alias(dialect, model)
        if family is not None:
            found = family, dialect
    if found is None or not catalog.lifecycle(*found).live:
        raise not_found_model(model)
    family, dialect = found
    return family, model if model in endpoints else catalog.WIRE_IDS[dialect][family]


def _alias(dialect: str, model: str) -> Optional[str]:
    """The family of an accepted alias (e.g. byteplus `dreamina-seedance-2-0-mini`)."""
    for spec in catalog.SPECS.values():
        if spec.aliases.get(model) == dialect and dialect in spec.ids:
            return spec.key
    return None


def not_found_model(model: str) -> EmuError:
    return EmuError(404, "InvalidEndpointOrModel.NotFound",
                    f"The model or endpoint {model} does not exist or you do not have access "
                    f"to it.", "model")


@dataclass
class _Content:
    prompt: str
    images: list  # [(role, url)]
    videos: int
    audios: int
    drafts: list  # draft_task ids


def _content(items: Any) -> _Content:
    if items is None:
        raise _missing("content")
    if not isinstance(items, list) or not items:
        raise _bad("content", "`content` must be a non-empty list")
    out = _Content("", [], 0, 0, [])
    texts: list[str] = []
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
                raise _bad("content.role", f"unknown image role {_short(role)}")
            if obj["url"].startswith("asset://"):
                raise _bad("content.image_url", "asset:// ids are not supported by the emulator")
            out.images.append((role, obj["url"]))
        elif kind in ("video_url", "audio_url"):
            obj = item.get(kind)
            if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
                raise _bad(f"content.{kind}", f"`{kind}` must be an object {{\"url\": ...}}")
            if kind == "video_url":
                out.videos += 1
            else:
                out.audios += 1
        elif kind == "draft_task":
            obj = item.get("draft_task")
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
                raise _bad("content.draft_task", "`draft_task` must be an object {\"id\": ...}")
            out.drafts.append(obj["id"])
        else:
            raise _bad("content.type", f"unknown content type {_short(kind)}")
    if len(texts) > 1:
        raise _bad("content", "at most one text item is allowed")
    out.prompt = texts[0] if texts else ""
    return out


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


#: (prefix, token-scoped draft id) -> the draft's store task, or None if unusable
DraftLookup = Callable[[str], Any]


def check_json(prefix: str, body: Any, endpoints: Mapping[str, str],
               find_draft: Optional[DraftLookup] = None) -> Params:
    """Validate an Ark-JSON (or AceData) create body for route `prefix`."""
    if not isinstance(body, dict):
        raise _bad("body", "the request body must be a JSON object")
    family, model = resolve_family(prefix, _given(body, "model"), endpoints)
    dialect = _ROUTE_DIALECTS[prefix][1]
    caps = catalog.capabilities(family, dialect)
    if caps is None:  # e.g. an endpoint mapped to a family this route lacks
        raise not_found_model(model)
    content = _content(_given(body, "content"))
    if content.drafts:
        params = _final(prefix, body, caps, content, find_draft)
    else:
        params = _generation(prefix, body, caps, content)
    params.model = model
    return params


def _unsupported(prefix: str, body: Mapping[str, Any], caps: catalog.Capabilities) -> None:
    for name, key in _WIRE_KEYS.items():
        value = _given(body, key)
        if name not in caps.unsupported_fields or value is None or value is False:
            continue  # false is a no-op (AceDataCloud's SDK always sends return_last_frame)
        if prefix == "ace" and name == "service_tier" and value == "default":
            continue
        raise _bad(key, f"`{key}` is not supported by {caps.model}")


def _task_type(body: Mapping[str, Any], mode: str, videos: int) -> tuple[Optional[str], str]:
    """(task_type, mode). edit/extend conflicts are refused at once (§10.4)."""
    task_type = _str(body, "omni_reference_task_type")
    if task_type is None:
        return None, mode
    if task_type not in catalog.TASK_TYPES:
        raise _bad("omni_reference_task_type", f"omni_reference_task_type must be one of "
                                               f"{', '.join(catalog.TASK_TYPES)}")
    if task_type not in ("edit", "extend"):
        return task_type, mode
    if not videos:
        raise _bad("content", f"task type {task_type} needs at least one reference video",
                   _CONSTRAINT)
    if mode != "ref":
        raise _bad("content", f"task type {task_type} takes reference media only", _CONSTRAINT)
    ratio = _given(body, "ratio")
    if ratio is not None and ratio != "adaptive":
        raise _bad("ratio", f"task type {task_type} needs ratio adaptive, got {_short(ratio)}",
                   _CONSTRAINT)
    duration = _given(body, "duration")
    if task_type == "edit" and duration is not None and duration != -1:
        raise _bad("duration", f"task type edit keeps the source's length: duration must be -1, "
                               f"got {_short(duration)}", _CONSTRAINT)
    return task_type, task_type


def _generation(prefix: str, body: Mapping[str, Any], caps: catalog.Capabilities,
                content: _Content) -> Params:
    _unsupported(prefix, body, caps)
    prompt, images, videos, audios = content.prompt, content.images, content.videos, content.audios
    mode = _mode(images, videos, audios)
    task_type, mode = _task_type(body, mode, videos)
    if mode not in caps.modes:
        raise _bad("content", f"{caps.model} does not support {mode} mode "
                              f"(supported: {', '.join(m for m in caps.modes if m != 'final')})")
    if mode == "t2v" and not prompt.strip():
        raise _missing("content.text")
    if mode in ("ref", "edit", "extend"):
        n_img = len(images)
        lo, hi = caps.ref_images
        total = n_img + videos + audios
        if (not lo <= n_img <= hi or videos > caps.ref_videos or audios > caps.ref_audios
                or (caps.ref_total and total > caps.ref_total)):
            raise _bad("content", f"reference media for {caps.model}: {lo}-{hi} images, up to "
                                  f"{caps.ref_videos} videos and {caps.ref_audios} audio clips, "
                                  f"{caps.ref_total or hi} in all")
        if audios and not n_img and not videos and not caps.audio_alone:
            raise _bad("content", f"audio cannot be the only reference for {caps.model}")

    datas: list[Optional[bytes]] = []
    for role, url in images:
        datas.append(decode_data_url(url) if url.startswith("data:") else None)
    first_size = image_size(datas[0]) if datas and datas[0] else None
    for data in datas[1:]:
        if data:
            image_size(data)

    draft = bool(_bool(body, "draft"))
    resolution = _str(body, "resolution")
    if draft:
        if resolution not in (None, catalog.DRAFT_RESOLUTION):
            raise _bad("resolution", f"a draft renders {catalog.DRAFT_RESOLUTION}; "
                                     f"got resolution {resolution!r}")
        for key in ("return_last_frame", "output_format"):
            if _given(body, key) not in (None, False):
                raise _bad(key, f"a draft cannot set `{key}`")
        if task_type in ("edit", "extend"):
            raise _bad("omni_reference_task_type", f"a draft cannot be an {task_type} task")
        resolution = catalog.DRAFT_RESOLUTION
    resolution = resolution or caps.default_resolution
    if resolution not in caps.resolutions_for(mode):
        raise _bad("resolution", f"resolution {resolution!r} is not supported by {caps.model} "
                                 f"in {mode} mode")
    ratio = _str(body, "ratio") or caps.default_ratio(mode)
    if ratio not in caps.ratios:
        raise _bad("ratio", f"ratio {ratio!r} is not supported")
    if mode in caps.adaptive_only_modes and ratio != "adaptive":
        raise _bad("ratio", f"{caps.model} takes only ratio adaptive in {mode} mode, got {ratio!r}")
    aspect = None
    if ratio == "adaptive":
        if mode not in caps.adaptive_modes:
            raise _bad("ratio", f"ratio adaptive is not supported by {caps.model} in {mode} mode")
        ratio = closest_ratio(first_size)
        if first_size and _own_aspect(caps):
            aspect = first_size[0] / first_size[1]
    width, height = (own_aspect_size(caps.family, resolution, aspect) if aspect
                     else catalog.pixel_size(caps.family, resolution, ratio))

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
        if duration is not None and (
                duration == -1 and not caps.duration_auto or
                duration != -1 and not caps.duration_min <= duration <= caps.duration_max):
            raise _bad("duration", f"duration must be {caps.duration_text()} for {caps.model}, "
                                   f"got {duration}")
        if duration is None:
            duration = caps.default_duration
        if mode == "edit":
            duration = EDIT_DURATION_S
        elif duration == -1:  # the real model picks
            duration = AUTO_DURATION_S if caps.default_duration == -1 else catalog.DEFAULT_DURATION

    output_format = _str(body, "output_format") or "mp4"
    if output_format not in caps.output_formats:
        raise _bad("output_format", f"output_format must be one of "
                                    f"{', '.join(caps.output_formats)} for {caps.model}")
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
        if prefix == "ace" and audio is False:
            audio = None  # AceDataCloud's own SDK always sends it: a no-op
        else:
            raise _bad("generate_audio", f"`generate_audio` is not supported by {caps.model}")
    if audio is None:
        audio = caps.audio and prefix != "ace"
    tier = _str(body, "service_tier") or "default"
    if tier not in catalog.SERVICE_TIERS:
        raise _bad("service_tier", f"service_tier must be default or flex, got {tier!r}")
    if tier == "flex" and not caps.flex:
        raise _bad("service_tier", f"the flex tier is not offered for {caps.model}")
    common = _common(prefix, body)
    last = datas[1] if mode == "first+last" else None
    return Params(
        family=caps.family, model=body["model"], prompt=prompt, mode=mode,
        resolution=resolution, ratio=ratio, duration=duration, frames=frames, seed=seed,
        generate_audio=audio, width=width, height=height,
        return_last_frame=bool(_bool(body, "return_last_frame")), camera_fixed=camera_fixed,
        service_tier=tier, first_image=datas[0] if mode in ("first", "first+last") else None,
        last_image=last, aspect=aspect, ref_videos=videos, ref_audios=audios,
        task_type=task_type, draft=draft, output_format=output_format,
        audio_field=caps.audio, draft_fields=caps.draft, **common)


def _common(prefix: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Fields every create takes, drafts' finals included."""
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
        wants_async = bool(_bool(body, "async")) or callback is not None
    return dict(watermark=bool(_bool(body, "watermark")), execution_expires_after=expires,
                callback_url=callback, wants_async=wants_async)


def _final(prefix: str, body: Mapping[str, Any], caps: catalog.Capabilities, content: _Content,
           find_draft: Optional[DraftLookup]) -> Params:
    """A `draft_task` item: the draft's scene at 1080p as a new task (§3, §10.4)."""
    if "draft_task_id" in caps.unsupported_fields or "final" not in caps.modes:
        raise _bad("content", f"draft_task items are not supported by {caps.model}")
    if (len(content.drafts) != 1 or content.images or content.videos or content.audios
            or content.prompt):
        raise _bad("content", "a draft_task item must be the only content item")
    draft_id = content.drafts[0]
    for key in _SCENE_KEYS:
        if _given(body, key) is None or (prefix == "ace" and key in _ACE_SDK_KEYS):
            continue
        raise _bad(key, f"`{key}` comes from draft {draft_id}; do not set it on the final")
    resolution = _str(body, "resolution") or catalog.FINAL_RESOLUTION
    if resolution != catalog.FINAL_RESOLUTION:
        raise _bad("resolution", f"a final renders {catalog.FINAL_RESOLUTION}; "
                                 f"got resolution {resolution!r}")
    task = find_draft(draft_id) if find_draft is not None else None
    if task is None or task.params.family != caps.family:
        raise _bad("content.draft_task", f"{draft_id} is not a succeeded {caps.model} draft "
                                         f"of this account from the last 7 days")
    tier = _str(body, "service_tier") or "default"
    if tier != "default":
        raise _bad("service_tier", f"the flex tier is not offered for {caps.model}")
    draft: Params = task.params
    width, height = (own_aspect_size(caps.family, resolution, draft.aspect) if draft.aspect
                     else catalog.pixel_size(caps.family, resolution, draft.ratio))
    return replace(
        draft, model=body["model"], mode="final", resolution=resolution, width=width,
        height=height, seed=task.seed, draft=False, draft_task_id=draft_id, ref_videos=0,
        ref_audios=0, return_last_frame=bool(_bool(body, "return_last_frame")),
        service_tier=tier, **_common(prefix, body))


def check_comet(form: Mapping[str, str], image: Optional[bytes]) -> Params:
    """Validate a Comet multipart create (§2.3, §5.2). Unknown fields are ignored."""
    model = form.get("model") or ""
    if not model:
        raise EmuError(400, "", "model name is required")
    family = catalog.family_of_wire_id(model).get("comet")
    caps = catalog.capabilities(family, "comet") if family else None
    if caps is None or not catalog.lifecycle(family, "comet").live:
        raise EmuError(400, "", f"model {model} is not supported")
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
        raise _bad("seconds", f"seconds must be an integer, got {_short(seconds_text)}") from None
    if not caps.duration_min <= seconds <= caps.duration_max:
        raise _bad("seconds", f"seconds must be within [{caps.duration_min}, "
                              f"{caps.duration_max}] for {model}, got {seconds}")
    ratio = form.get("size") or "16:9"
    if ratio not in caps.ratios:
        raise _bad("size", f"size {_short(ratio)} is not supported")
    resolution = form.get("resolution") or caps.default_resolution
    if resolution not in caps.resolutions:
        raise _bad("resolution", f"resolution {_short(resolution)} is not supported by {model}")
    if image is not None:
        image_size(image, "input_reference")
    width, height = catalog.pixel_size(family, resolution, ratio)
    # The single image is treated as a reference (CometAPI calls it r2v), so it
    # does not become the first frame.
    return Params(family=family, model=model, prompt=prompt,
                  mode="ref" if image is not None else "t2v", resolution=resolution,
                  ratio=ratio, duration=seconds, frames=None, seed=None, generate_audio=False,
                  width=width, height=height,
                  execution_expires_after=catalog.COMET_TASK_LIMIT_S)
