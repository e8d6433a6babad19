"""The Ark-JSON (and AceData) rules for a new video: content items and mode, then every
field against the family's capabilities (`catalog.capabilities`; nothing here restates
a family's limits). The 2.5 task types come from validate_v25.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from .. import catalog
from .geometry import _own_aspect, closest_ratio, decode_data_url, image_size, own_aspect_size
from .params import Params, _Content, _bad, _bool, _common, _given, _int, _missing, _short, _str
from .validate_v25 import _task_type

#: what an unset or -1 duration renders when the model picks (2.5): Volcengine picked 10 s
AUTO_DURATION_S = 10
EDIT_DURATION_S = 5  # the real edit keeps the source's length, which is never fetched
#: Capabilities.unsupported_fields name -> wire key
_WIRE_KEYS = {"draft": "draft", "task_type": "omni_reference_task_type",
              "output_format": "output_format", "return_last_frame": "return_last_frame",
              "service_tier": "service_tier"}


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


def _unsupported(prefix: str, body: Mapping[str, Any], caps: catalog.Capabilities) -> None:
    for name, key in _WIRE_KEYS.items():
        value = _given(body, key)
        if name not in caps.unsupported_fields or value is None or value is False:
            continue  # false is a no-op (AceDataCloud's SDK always sends return_last_frame)
        if prefix == "ace" and name == "service_tier" and value == "default":
            continue
        raise _bad(key, f"`{key}` is not supported by {caps.model}")


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
