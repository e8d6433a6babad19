"""The 2.5 rules of an Ark-JSON create: edit/extend task types and a draft's final.

A final (`draft_task` content) renders its draft's scene at 1080p as a new task; the
scene's keys may not be given with it (§3, §10.4). Drafts themselves are checked with
the other fields in validate_ark.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Mapping, Optional

from .. import catalog
from .geometry import own_aspect_size
from .params import Params, _Content, _bad, _bool, _common, _given, _short, _str

_CONSTRAINT = "InvalidParameter.TaskTypeConstraint"
#: AceDataCloud's SDK sends these on every create (ratio defaults to 16:9 there); on a
#: final they are ignored, the draft's values stand
_ACE_SDK_KEYS = ("generate_audio", "ratio")
#: a final's scene comes from its draft; these keys may not be given with it
_SCENE_KEYS = ("duration", "frames", "ratio", "seed", "camera_fixed", "camerafixed",
               "generate_audio", "output_format", "draft", "omni_reference_task_type")

#: (prefix, token-scoped draft id) -> the draft's store task, or None if unusable
DraftLookup = Callable[[str], Any]


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
