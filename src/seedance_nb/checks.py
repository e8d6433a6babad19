"""Checks of a request's settings (reference §3, §4): keywords, field values per model,
the 2.5 task/draft/final rules and the ranges that hold for every model.

`build_request` (request.py) collects each setting as a `Given` and every problem in
one `Problems`, so a user sees all that is wrong at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from . import catalog
from . import fields as _fields
from .flags import suggest


def short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass
class Given:
    value: Any
    label: str  # "--rs 720P" for a flag or line option, "resolution='720P'" for a keyword
    flag: bool  # an inline flag (SeedanceFlagError)
    filled: bool = False  # chosen by the client (§3), not by the user


class Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.any_flag = False

    def add(self, line: str, flag: bool = False) -> None:
        self.lines.append(line)
        self.any_flag = self.any_flag or flag


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def merge_keywords(fields: Mapping[str, Any], given: dict[str, Given],
                    problems: Problems, typed_as: Mapping[str, str]) -> None:
    for name, raw in fields.items():
        if raw is None:
            continue
        typed = typed_as.get(name)
        label = (typed.replace("{}", _show(raw)) if typed else f"{name}={raw!r}")
        if name in _fields.NOT_SUPPORTED:
            problems.add(f"{label}: {name} is not supported in this version")
            continue
        spec = _fields.BY_NAME.get(name)
        if spec is None:
            guess = suggest(name, _fields.NAMES + ("model", "provider", "images", "emulate",
                                            "endpoints"))
            hint = (f"did you mean {guess}?" if guess
                    else "known fields: " + ", ".join(_fields.NAMES))
            if name == "prompt":
                hint = "pass the prompt as the first argument"
            problems.add(f"{label}: unknown field; {hint}")
            continue
        if name in given:
            problems.add(f"{given[name].label}: duplicate of {label}; give each setting once",
                         flag=True)
            continue
        value, reason = spec.coerce(raw)
        if reason:
            problems.add(f"{label}: {reason}")
        elif value is not None:
            given[name] = Given(value, label, False)


def fill(given: dict[str, Given], caps: catalog.Capabilities, mode: Optional[str]) -> None:
    """The values the client chooses itself (§3); they then count as given."""
    if mode in caps.adaptive_only_modes and "ratio" not in given:
        given["ratio"] = Given("adaptive", "ratio='adaptive'", False, filled=True)
    if mode == "edit" and "duration" not in given and "frames" not in given:
        given["duration"] = Given(-1, "duration=-1", False, filled=True)
    if mode == "final" and "resolution" not in given:
        given["resolution"] = Given(catalog.FINAL_RESOLUTION, "resolution='1080p'", False,
                                     filled=True)

_TWO_FIVE_ONLY = ("task_type", "draft", "draft_task_id", "output_format")


def check_fields(given: dict[str, Given], caps: catalog.Capabilities, mode: Optional[str],
                  where: str, dialect: str, problems: Problems) -> None:
    model = caps.model
    dur, frames = given.get("duration"), given.get("frames")
    if dur and frames and not dur.filled:
        problems.add(f"{dur.label} and {frames.label}: give only one of them",
                     dur.flag or frames.flag)
    for name, g in given.items():
        v, label, add = g.value, g.label, g.flag
        if g.filled or (mode == "final" and name not in _fields.FINAL_FIELDS):
            continue  # a final's extra settings are refused in check_modes
        if name in caps.unsupported_fields:
            hint = ""
            if name == "frames":
                hint = f"; use {'--dur' if g.flag else 'duration'} ({caps.duration_text()})"
            elif name in _TWO_FIVE_ONLY:
                hint = " (2.5 only)" if dialect != "comet" else ""
            problems.add(f"{label}: not supported by {model} on {where}{hint}", add)
        elif name == "resolution":
            allowed = caps.resolutions_for(mode) if mode else caps.resolutions
            if mode == "final":
                if v != catalog.FINAL_RESOLUTION:
                    problems.add(f"{label}: a final is always {catalog.FINAL_RESOLUTION}; "
                                 f"allowed: {catalog.FINAL_RESOLUTION}", add)
            elif v not in allowed:
                in_mode = " in ref mode" if mode == "ref" and allowed != caps.resolutions else ""
                problems.add(f"{label}: not allowed for {model} on {where}{in_mode}; "
                             f"allowed: {', '.join(allowed)}", add)
        elif name == "ratio":
            fixed = ", ".join(r for r in caps.ratios if r != "adaptive")
            if v not in caps.ratios:
                problems.add(f"{label}: not allowed for {model} on {where}; allowed: "
                             f"{', '.join(caps.ratios)}", add)
            elif mode in caps.adaptive_only_modes and v != "adaptive":
                problems.add(f"{label}: not allowed for {model} on {where} in {mode} mode "
                             f"(it keeps the input's aspect ratio); allowed: adaptive", add)
            elif v == "adaptive" and mode and mode not in caps.adaptive_modes:
                problems.add(f"{label}: not allowed for {model} on {where} in {mode} mode "
                             f"(adaptive needs a first frame); allowed: {fixed}", add)
        elif name == "duration":
            _check_duration(g, caps, mode, where, problems)
        elif name == "frames" and not dur:
            if not caps.frames:
                use = "--dur" if g.flag else "duration"
                problems.add(f"{label}: not supported by {model} on {where}; use {use} "
                             f"({caps.duration_text()})", add)
            elif not _frames_ok(v):
                problems.add(f"{label}: {_frames_hint(v)}", add)
        elif name == "camera_fixed":
            if not caps.camera_fixed:
                problems.add(f"{label}: not supported by {model} on {where}", add)
            elif mode == "ref" and not caps.camera_fixed_in_ref:
                problems.add(f"{label}: not allowed in ref mode for {model} on {where}", add)
        elif name == "generate_audio" and not caps.audio:
            problems.add(f"{label}: not supported by {model} on {where} (audio needs a 2.x "
                         f"family)", add)
        elif name == "service_tier" and v == "flex" and not caps.flex:
            problems.add(f"{label}: not allowed for {model} on {where}; allowed: default", add)
        elif name == "output_format" and v not in caps.output_formats:
            problems.add(f"{label}: not allowed for {model} on {where}; allowed: "
                         f"{', '.join(caps.output_formats)}", add)
        elif name == "draft" and not caps.draft:
            problems.add(f"{label}: not supported by {model} on {where} (2.5 only)", add)
        elif name == "blocking":
            if dialect != "acedata":
                problems.add(f"{label}: only for acedata, not {where}", add)
            elif v and "callback_url" in given:
                problems.add(f"{label} and {given['callback_url'].label}: give only one of "
                             f"them (a callback makes AceDataCloud reply at once)", add)
        elif name in ("ref_videos", "ref_audios"):
            limit = caps.ref_videos if name == "ref_videos" else caps.ref_audios
            if limit == 0:
                problems.add(f"{label}: not supported by {model} on {where} (2.x families "
                             f"only)")
            elif len(v) > limit:
                problems.add(f"{name}: {len(v)} given; at most {limit}")
    check_ranges(given, caps.unsupported_fields, problems)


def _check_duration(g: Given, caps: catalog.Capabilities, mode: Optional[str], where: str,
                    problems: Problems) -> None:
    v, label, model = g.value, g.label, caps.model
    if mode == "edit" and v != -1:
        problems.add(f"{label}: not allowed for {model} on {where} in edit mode (the edit "
                     f"keeps the input's length); allowed: -1", g.flag)
    elif mode == "extend" and v == -1:
        problems.add(f"{label}: not allowed for {model} on {where} in extend mode; allowed: "
                     f"{caps.duration_min}-{caps.duration_max}", g.flag)
    elif not (caps.duration_auto if v == -1 else caps.duration_min <= v <= caps.duration_max):
        problems.add(f"{label}: not allowed for {model} on {where}; allowed: "
                     f"{caps.duration_text()}", g.flag)


def check_modes(given: dict[str, Given], caps: catalog.Capabilities, mode: Optional[str],
                 prompt: str, has_images: bool, where: str, problems: Problems) -> None:
    """The 2.5 rules of §3: task types, draft and final."""
    task = given.get("task_type")
    if mode == "extend" and "duration" not in given and "frames" not in given:
        problems.add(f"{task.label if task else 'task_type'}: an extend needs a duration; give "
                     f"{caps.duration_min}-{caps.duration_max} s (-1 is not allowed)")
    if task and task.value in ("auto", "reference") and mode not in (None, "ref") \
            and "task_type" not in caps.unsupported_fields:
        problems.add(f"{task.label}: only for reference media (ref mode, not {mode})", task.flag)
    draft = given.get("draft")
    if draft and draft.value and mode != "final":
        res = given.get("resolution")
        if res and res.value != catalog.DRAFT_RESOLUTION:
            problems.add(f"{res.label}: not allowed with {draft.label} (a draft is "
                         f"{catalog.DRAFT_RESOLUTION}); allowed: {catalog.DRAFT_RESOLUTION}",
                         res.flag)
        for name in ("return_last_frame", "output_format", "service_tier"):
            other = given.get(name)
            if other:
                problems.add(f"{draft.label} and {other.label}: give only one of them (a draft "
                             f"takes no {name.replace('_', ' ')})", other.flag)
        if mode in ("edit", "extend") and task:
            problems.add(f"{draft.label} and {task.label}: give only one of them (a draft "
                         f"cannot {mode} a video)", task.flag)
    if mode != "final":
        return
    draft_id = given["draft_task_id"].value
    for name, g in given.items():
        if name not in _fields.FINAL_FIELDS and not g.filled:
            problems.add(f"{g.label}: a final takes it from draft {draft_id}; remove it",
                         g.flag)
    if prompt:
        problems.add(f"prompt: a final takes its prompt from draft {draft_id}; give none")
    if has_images:
        problems.add(f"images: a final takes its media from draft {draft_id}; give none")


def check_ranges(given: dict[str, Given], skip: tuple[str, ...], problems: Problems) -> None:
    """Limits that hold for every model (checked even when the model is unknown)."""
    for name in ("fps", "seed", "execution_expires_after"):
        g = given.get(name)
        if g is not None and name not in skip:
            _check_range(name, g, problems)


def _check_range(name: str, g: Given, problems: Problems) -> None:
    v = g.value
    if name == "fps" and v != catalog.FPS:
        problems.add(f"{g.label}: only 24 is allowed", g.flag)
    elif name == "seed" and not catalog.SEED_MIN <= v <= catalog.SEED_MAX:
        problems.add(f"{g.label}: out of range; allowed: {catalog.SEED_MIN} to "
                     f"{catalog.SEED_MAX}", g.flag)
    elif name == "execution_expires_after" and not (
            catalog.EXPIRES_MIN <= v <= catalog.EXPIRES_MAX):
        problems.add(f"{g.label}: out of range; allowed: {catalog.EXPIRES_MIN} to "
                     f"{catalog.EXPIRES_MAX} seconds", g.flag)


def _frames_ok(n: int) -> bool:
    return catalog.FRAMES_MIN <= n <= catalog.FRAMES_MAX and n % 4 == 1


def _frames_hint(n: int) -> str:
    lo, hi = catalog.FRAMES_MIN, catalog.FRAMES_MAX
    if n <= lo:
        near = (lo, lo + 4)
    elif n >= hi:
        near = (hi - 4, hi)
    else:
        below = n - (n - 1) % 4
        near = (below, below + 4)
    return f"must be 25+4n between {lo} and {hi} (e.g. {near[0]}, {near[1]})"

