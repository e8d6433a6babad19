"""The validated, immutable, provider-neutral request (reference §3, §9).

CONTRACT (shared by every module; keep field names stable):
- `ImageInput` and `VideoRequest` are frozen dataclasses.
- `VideoRequest` holds only validated values; unset optional fields are None.
- `build_request(...)` is the only public way to make one. It also builds requests for
  retired models (old notebooks must validate, ledger results must be reusable);
  `check_sendable(request)` (or `request.send_problems()`) refuses those before sending.
- Values the client chooses itself (a 2.5 frame/edit/extend ratio `adaptive`, an edit's
  duration -1, a final's resolution 1080p) are stored like given ones, so they show in
  `to_dict()`, the fingerprint and on the wire.

Round trip: for a valid request `r` with `d = r.to_dict()`,
    build_request(d.pop("prompt"), provider=d.pop("provider"), model=d.pop("model"),
                  images=[(i["source"], i["role"]) for i in d.pop("images", [])], **d) == r
(`d` carries `emulate` for the emulator provider). It holds as long as the image
files are unchanged, an `ep-` model gets the same `endpoints=`, and the prompt has
no token that looks like a flag again once its `\\--` escape is removed.
"""
from __future__ import annotations

import math
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from . import catalog, config
from . import fields as _fields
from .errors import SeedanceConfigError, SeedanceFlagError, SeedanceValidationError
from .flags import parse_flags, suggest


@dataclass(frozen=True)
class ImageInput:
    source: str  # as the user gave it: local path, http(s) URL or data: URL
    role: str  # first_frame | last_frame | reference_image
    # For local files and data URLs (and comet's downloaded URLs): the raw bytes,
    # the detected format (jpeg/png/...), size and sha256. None for remote URLs.
    data: Optional[bytes] = field(default=None, repr=False, compare=False)
    format: Optional[str] = None
    width: Optional[int] = None
    height: Optional[int] = None
    sha256: Optional[str] = None
    warnings: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def is_remote(self) -> bool:
        return self.data is None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "role": self.role, "sha256": self.sha256,
                "format": self.format, "width": self.width, "height": self.height}

    def __repr__(self) -> str:
        from .images import describe

        size = f" {self.format} {self.width}x{self.height}" if self.format else " (remote)"
        return f"ImageInput({self.role} {describe(self.source)}{size})"


#: Settable fields of §3 besides model, prompt and images, in table order (fields.FIELDS).
FIELDS = _fields.NAMES
_SCALARS = tuple(n for n in FIELDS if n not in ("ref_videos", "ref_audios"))
#: Gateway features this version rejects before sending (§2.2 notes).
NOT_SUPPORTED = _fields.NOT_SUPPORTED


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


@dataclass(frozen=True)
class VideoRequest:
    provider: str  # ark | byteplus | comet | comet-volc | acedata | emulator
    dialect: str  # wire dialect actually spoken (the emulator's `emulate` setting)
    family: str  # catalog family key, e.g. "2.0-fast"
    model: str  # wire id sent to the gateway (or a mapped ep- endpoint id)
    prompt: str  # flags removed; may be "" in image modes and finals
    mode: str  # one of catalog.MODES: t2v | first | first+last | ref | edit | extend | final
    images: tuple[ImageInput, ...] = ()
    ref_videos: tuple[str, ...] = ()  # http(s) URLs or asset:// ids
    ref_audios: tuple[str, ...] = ()  # as given: URL, data: URL, local .wav/.mp3 or asset://
    task_type: Optional[str] = None
    draft: Optional[bool] = None
    draft_task_id: Optional[str] = None
    output_format: Optional[str] = None
    resolution: Optional[str] = None
    ratio: Optional[str] = None
    duration: Optional[int] = None
    frames: Optional[int] = None
    fps: Optional[int] = None
    seed: Optional[int] = None
    camera_fixed: Optional[bool] = None
    watermark: Optional[bool] = None
    generate_audio: Optional[bool] = None
    return_last_frame: Optional[bool] = None
    service_tier: Optional[str] = None
    execution_expires_after: Optional[int] = None
    callback_url: Optional[str] = None
    blocking: Optional[bool] = None
    warnings: tuple[str, ...] = field(default=(), compare=False)
    #: local reference audio files: (source, format, bytes, sha256); sent as data URLs
    audio_files: tuple[tuple[str, str, bytes, str], ...] = field(default=(), compare=False,
                                                                repr=False)
    #: True when no model was named and the default family was used (§2.4 notice)
    model_is_default: bool = field(default=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """§3 names only, unset fields absent; images without bytes. See the module doc."""
        out: dict[str, Any] = {"provider": self.provider}
        if self.provider == "emulator":
            out["emulate"] = self.dialect
        out["model"] = self.model
        out["prompt"] = self.prompt
        if self.images:
            out["images"] = [image.to_dict() for image in self.images]
        if self.ref_videos:
            out["ref_videos"] = list(self.ref_videos)
        if self.ref_audios:
            out["ref_audios"] = list(self.ref_audios)
        for name in _SCALARS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    def audio_url(self, source: str) -> str:
        """What goes on the wire for one reference audio: local files become data URLs."""
        import base64

        for src, fmt, data, _ in self.audio_files:
            if src == source:
                return f"data:audio/{fmt};base64,{base64.b64encode(data).decode('ascii')}"
        return source

    def fingerprint(self) -> str:
        """Hex sha256 of what makes two requests the same video (no bytes, no warnings).

        A final's is (provider, model, draft task id, resolution, watermark) (§3).
        """
        import hashlib
        import json

        doc: dict[str, Any] = {"provider": self.provider, "dialect": self.dialect,
                               "model": self.model, "mode": self.mode}
        if self.mode == "final":
            doc.update(draft_task_id=self.draft_task_id, resolution=self.resolution,
                       watermark=self.watermark)
        else:
            doc["prompt"] = self.prompt
            doc["images"] = [[i.role, i.sha256 or i.source] for i in self.images]
            local = {src: sha for src, _, _, sha in self.audio_files}
            for name in FIELDS:
                value = getattr(self, name)
                if name == "ref_audios":
                    value = tuple(local.get(v, v) for v in value)
                if value is not None and value != ():
                    doc[name] = list(value) if isinstance(value, tuple) else value
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def estimate(self, input_seconds: Optional[float] = None) -> Estimate:
        """Tokens and list price (§9). `input_seconds`: total length of the reference videos
        when known (e.g. from the ledger); otherwise the text says it is not counted."""
        return _estimate(self, input_seconds)

    def send_problems(self) -> list[str]:
        """Why this request must not be sent (§2.4: a retired model), or []."""
        problem = catalog.retired_problem(self.family, self.dialect)
        if problem is None:
            return []
        if self.model.startswith("ep-"):
            return [f"endpoint {self.model} maps to {problem}"]
        return [problem]

    def __repr__(self) -> str:
        parts = [f"provider={self.provider!r}"]
        if self.provider == "emulator":
            parts.append(f"emulate={self.dialect!r}")
        parts += [f"model={self.model!r}", f"mode={self.mode!r}", f"prompt={_short(self.prompt)!r}"]
        if self.images:
            parts.append("images=[" + ", ".join(map(repr, self.images)) + "]")
        for name in FIELDS:
            value = getattr(self, name)
            if value is not None and value != ():
                shown = [_short(v, 60) for v in value] if isinstance(value, tuple) else value
                parts.append(f"{name}={shown!r}")
        return "VideoRequest(" + ", ".join(parts) + ")"


def check_sendable(request: VideoRequest) -> None:
    """Raise SeedanceValidationError when `request` must not go on the wire (§2.4).

    The job engine calls this after its ledger reuse check: a reusable result of a
    retired model is still returned, only a new send is refused.
    """
    problems = request.send_problems()
    if problems:
        raise SeedanceValidationError(problems)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- building and validating --------------------------------------------------------


@dataclass
class _Given:
    value: Any
    label: str  # "--rs 720P" for a flag or line option, "resolution='720P'" for a keyword
    flag: bool  # an inline flag (SeedanceFlagError)
    filled: bool = False  # chosen by the client (§3), not by the user


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.any_flag = False

    def add(self, line: str, flag: bool = False) -> None:
        self.lines.append(line)
        self.any_flag = self.any_flag or flag


_warned_once: set[str] = set()
_FINAL_FAMILY = "2.5"  # the model of a final when no ledger names the draft's (§3)


_catalog_checked: list[bool] = []


def _load_catalog_file() -> None:
    """SEEDANCE_CATALOG applies to every request, once per process (§2.5)."""
    from .catalog_file import ensure_loaded

    ensure_loaded()
    _catalog_checked.append(True)


def build_request(text: str = "", *, provider: Optional[str] = None, model: Optional[str] = None,
                  images: Any = (), emulate: Optional[str] = None,
                  endpoints: Optional[Mapping[str, str]] = None,
                  typed_as: Optional[Mapping[str, str]] = None, **fields: Any) -> VideoRequest:
    """Parse inline flags out of `text`, merge keyword `fields`, validate (§2-§4, §5.4).

    `typed_as` maps a field to how the user typed it (e.g. {"resolution": "--rs 480p"}
    from the magic line; "{}" stands for the value), so messages quote the user's own
    syntax; keywords are quoted as `resolution='480p'` otherwise.

    Raises SeedanceFlagError when any problem comes from an inline flag (its
    `.problems` then lists every problem of the request), else
    SeedanceValidationError; SeedanceConfigError for an unknown provider. Retired
    models are built (old requests must still validate and be reused); call
    `check_sendable` before sending.
    """
    if not _catalog_checked:
        _load_catalog_file()
    provider = provider or config.default_provider()
    if provider not in catalog.PROVIDERS:
        raise SeedanceConfigError(f"unknown provider {provider!r}; choose one of "
                                  f"{', '.join(catalog.PROVIDERS)}")
    dialect = provider
    if provider == "emulator":
        emulate = emulate or config.default_emulate()
        if emulate not in catalog.DIALECTS:
            raise SeedanceConfigError(f"unknown emulate setting {emulate!r}; choose one of "
                                      f"{', '.join(catalog.DIALECTS)}")
        dialect = catalog.dialect_of(provider, emulate)
    where = provider if provider != "emulator" else f"emulator ({dialect})"
    if not isinstance(text, str):
        raise SeedanceValidationError([f"prompt must be a string, not {type(text).__name__}"])

    problems = _Problems()
    bad_text = _fields.unencodable(text)
    if bad_text:
        problems.add(f"prompt: {bad_text}")
    parsed = parse_flags(text)
    for line in parsed.problems:
        problems.add(line, flag=True)
    given = {name: _Given(fv.value, fv.label, True) for name, fv in parsed.flags.items()}
    _merge_keywords(fields, given, problems, typed_as or {})

    caps: Optional[catalog.Capabilities] = None
    family = model_id = ""
    model_is_default = model is None
    if model is None and "draft_task_id" in given and _FINAL_FAMILY in catalog.WIRE_IDS[dialect]:
        model = _FINAL_FAMILY
    try:
        if model is not None and not isinstance(model, str):
            raise ValueError(f"model={model!r}: give a family key or a wire id as a string")
        family, model_id = catalog.resolve_model(model, dialect, endpoints)
        caps = catalog.capabilities(family, dialect)
    except ValueError as exc:
        problems.add(str(exc))

    before = len(problems.lines)
    items = _image_items(images, problems)
    images_ok = len(problems.lines) == before
    # Media a model does not take is reported as unsupported and does not set the mode.
    n_videos, n_audios = (len(given[n].value) if n in given and (
        caps is None or _fields.supported(n, caps) is None) else 0
        for n in ("ref_videos", "ref_audios"))
    mode = (_mode([role for _, role in items], n_videos, n_audios, given, caps, problems)
            if images_ok else None)  # roles unclear: skip the checks that depend on the mode
    warns: list[str] = list(parsed.warnings)
    audio_files: list[tuple[str, str, bytes, str]] = []
    if caps is not None:
        _fill(given, caps, mode)
        _check_fields(given, caps, mode, where, dialect, problems)
        _check_modes(given, caps, mode, parsed.prompt, bool(items), where, problems)
        _check_media(len(items), n_videos, n_audios, caps, mode, where, problems)
        audio_files = _check_sources(given, caps, problems, warns, provider != "emulator")
        if dialect == "comet" and mode == "first":
            warns.append("comet: CometAPI treats a single image as a reference (task type "
                         "r2v), so the first frame may not open the video exactly")
        if (caps.default_duration == -1 and dialect != "comet" and mode not in ("final", "edit")
                and "duration" not in given and "frames" not in given):
            warns.append(f"{family}: no duration given, so the model picks one of up to "
                         f"{caps.duration_max} s (often 10 s, about twice the cost of 5 s); "
                         f"give --dur N (duration=N) to fix the length")
    else:
        _check_ranges(given, (), problems)

    loaded = _load_images(items, dialect, family or None, caps, provider != "emulator",
                          problems, warns)
    if not parsed.prompt and mode == "t2v" and fields.get("draft_task_id") is None:
        problems.add("prompt: empty after removing flags; text-to-video needs a prompt "
                     "(or give an image)")
    if (loaded or audio_files) and caps is not None:
        _check_body_size(loaded, parsed.prompt, dialect, problems, audio_files)

    if problems.lines:
        error = SeedanceFlagError if problems.any_flag else SeedanceValidationError
        raise error(problems.lines)
    values = {name: g.value for name, g in given.items()}
    request = VideoRequest(provider=provider, dialect=dialect, family=family, model=model_id,
                           prompt=parsed.prompt, mode=mode or "t2v", images=tuple(loaded),
                           warnings=tuple(warns), audio_files=tuple(audio_files),
                           model_is_default=model_is_default, **values)
    _emit(warns, family)
    return request


def _emit(warns: list[str], family: str) -> None:
    for message in warns:
        # comet's r2v note and the unset 2.5 duration: once per session (§2.2, §2.3)
        if message.startswith(("comet:", f"{family}: no duration")):
            if message in _warned_once:
                continue
            _warned_once.add(message)
        _warnings.warn(message, UserWarning, stacklevel=3)


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _merge_keywords(fields: Mapping[str, Any], given: dict[str, _Given],
                    problems: _Problems, typed_as: Mapping[str, str]) -> None:
    for name, raw in fields.items():
        if raw is None:
            continue
        typed = typed_as.get(name)
        label = (typed.replace("{}", _show(raw)) if typed else f"{name}={raw!r}")
        if name in NOT_SUPPORTED:
            problems.add(f"{label}: {name} is not supported in this version")
            continue
        spec = _fields.BY_NAME.get(name)
        if spec is None:
            guess = suggest(name, FIELDS + ("model", "provider", "images", "emulate",
                                            "endpoints"))
            hint = f"did you mean {guess}?" if guess else "known fields: " + ", ".join(FIELDS)
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
            given[name] = _Given(value, label, False)


def _fill(given: dict[str, _Given], caps: catalog.Capabilities, mode: Optional[str]) -> None:
    """The values the client chooses itself (§3); they then count as given."""
    if mode in caps.adaptive_only_modes and "ratio" not in given:
        given["ratio"] = _Given("adaptive", "ratio='adaptive'", False, filled=True)
    if mode == "edit" and "duration" not in given and "frames" not in given:
        given["duration"] = _Given(-1, "duration=-1", False, filled=True)
    if mode == "final" and "resolution" not in given:
        given["resolution"] = _Given(catalog.FINAL_RESOLUTION, "resolution='1080p'", False,
                                     filled=True)


_TWO_FIVE_ONLY = ("task_type", "draft", "draft_task_id", "output_format")


def _check_fields(given: dict[str, _Given], caps: catalog.Capabilities, mode: Optional[str],
                  where: str, dialect: str, problems: _Problems) -> None:
    model = caps.model
    dur, frames = given.get("duration"), given.get("frames")
    if dur and frames and not dur.filled:
        problems.add(f"{dur.label} and {frames.label}: give only one of them",
                     dur.flag or frames.flag)
    for name, g in given.items():
        v, label, add = g.value, g.label, g.flag
        if g.filled or (mode == "final" and name not in _fields.FINAL_FIELDS):
            continue  # a final's extra settings are refused in _check_modes
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
    _check_ranges(given, caps.unsupported_fields, problems)


def _check_duration(g: _Given, caps: catalog.Capabilities, mode: Optional[str], where: str,
                    problems: _Problems) -> None:
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


def _check_modes(given: dict[str, _Given], caps: catalog.Capabilities, mode: Optional[str],
                 prompt: str, has_images: bool, where: str, problems: _Problems) -> None:
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


_ROLES = catalog.IMAGE_ROLES


def _check_ranges(given: dict[str, _Given], skip: tuple[str, ...], problems: _Problems) -> None:
    """Limits that hold for every model (checked even when the model is unknown)."""
    for name in ("fps", "seed", "execution_expires_after"):
        g = given.get(name)
        if g is not None and name not in skip:
            _check_range(name, g, problems)


def _check_range(name: str, g: _Given, problems: _Problems) -> None:
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


def _image_items(images: Any, problems: _Problems) -> list[tuple[str, str]]:
    """(source, role) pairs: bare sources get roles by count (1: first, 2: first + last)."""
    import os

    if images is None:
        return []
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    elif (isinstance(images, tuple) and len(images) == 2 and isinstance(images[1], str)
          and images[1] in _ROLES):
        images = [images]  # one (source, role) pair given without a list around it
    items: list[Any] = list(images)
    bare = [i for i in items if isinstance(i, (str, os.PathLike))]
    if bare and len(bare) != len(items):
        problems.add("images: give a role for every image or for none, e.g. "
                     "[('a.png', 'first_frame'), ('b.png', 'last_frame')]")
        return []
    if bare:
        if len(bare) > 2:
            problems.add(f"images: {len(bare)} images without roles; give (source, role) pairs "
                         f"with roles {', '.join(_ROLES)}")
            return []
        return [(os.fspath(s), r) for s, r in zip(bare, ("first_frame", "last_frame"))]
    out = []
    for item in items:
        if (not isinstance(item, (tuple, list)) or len(item) != 2
                or not isinstance(item[0], (str, os.PathLike))):
            problems.add(f"images: {item!r} is not a source or a (source, role) pair")
            continue
        source, role = os.fspath(item[0]), item[1]
        if role not in _ROLES:
            problems.add(f"images: {role!r} is not a role; allowed: {', '.join(_ROLES)}")
            continue
        out.append((source, role))
    return out



def _mode(roles: list[str], n_videos: int, n_audios: int, given: dict[str, _Given],
          caps: Optional[catalog.Capabilities], problems: _Problems) -> Optional[str]:
    """The mode the roles, media and 2.5 settings imply (§3), or None (problem added)."""
    def usable(name: str) -> bool:  # an unsupported setting is reported, not obeyed
        return name in given and (caps is None or _fields.supported(name, caps) is None)

    if usable("draft_task_id"):
        return "final"
    task = given["task_type"] if usable("task_type") else None
    if task is not None and task.value in ("edit", "extend"):
        if not n_videos:
            problems.add(f"{task.label}: needs at least one reference video", task.flag)
            return None
        if any(r != "reference_image" for r in roles):
            problems.add(f"images: an {task.value} takes only reference images besides its "
                         f"videos, not {', '.join(r for r in roles if r != 'reference_image')}")
            return None
        return task.value
    if not roles and not (n_videos or n_audios):
        return "t2v"
    if n_videos or n_audios or "reference_image" in roles:
        if all(r == "reference_image" for r in roles):
            return "ref"
    elif roles == ["first_frame"]:
        return "first"
    elif sorted(roles) == ["first_frame", "last_frame"]:
        return "first+last"
    mix = ", ".join(roles + ["reference video"] * bool(n_videos) + ["reference audio"] *
                    bool(n_audios))
    problems.add(f"images: roles {mix} do not make a mode; give one first_frame, a first_frame "
                 f"and a last_frame, or only reference media")
    return None


_MODE_TEXT = {"t2v": "text-to-video (no image)", "first": "a first frame",
              "first+last": "first and last frames", "ref": "reference media",
              "edit": "editing a reference video", "extend": "extending a reference video",
              "final": "the final of a draft"}


def _check_media(n_images: int, n_videos: int, n_audios: int, caps: catalog.Capabilities,
                 mode: Optional[str], where: str, problems: _Problems) -> None:
    if mode is None or mode == "final":
        return
    if mode not in caps.modes:
        supported = ", ".join(m for m in caps.modes if m != "final")
        problems.add(f"images: {_MODE_TEXT[mode]} ({mode} mode) is not supported by "
                     f"{caps.model} on {where}; supported modes: {supported}")
        return
    if mode in ("ref", "edit", "extend"):
        lo, hi = caps.ref_images
        if not lo <= n_images <= hi:
            takes = f"{lo}-{hi}" if lo != hi else f"exactly {lo}"
            problems.add(f"images: {n_images} reference images; {caps.model} on {where} "
                         f"takes {takes}")
        total = n_images + n_videos + n_audios
        within = n_images <= hi and n_videos <= caps.ref_videos and n_audios <= caps.ref_audios
        if caps.ref_total and total > caps.ref_total and within:
            problems.add(f"references: {total} in all ({n_images} images, {n_videos} videos, "
                         f"{n_audios} audios); {caps.model} on {where} takes at most "
                         f"{caps.ref_total}")
        if n_audios and not (n_images or n_videos) and not caps.audio_alone:
            problems.add("ref_audios: audio cannot be the only reference; add a reference "
                         "image or video")
    elif n_images > caps.max_images:
        problems.add(f"images: {n_images} given; {caps.model} on {where} takes at most "
                     f"{caps.max_images}")


_AUDIO_FORMATS = {".wav": "wav", ".mp3": "mp3"}
_VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")


def _check_sources(given: dict[str, _Given], caps: catalog.Capabilities, problems: _Problems,
                   warns: list[str], real_provider: bool) -> list[tuple[str, str, bytes, str]]:
    """Reference video and audio sources (§3); returns the local audio files, read."""
    import hashlib
    import os

    files: list[tuple[str, str, bytes, str]] = []
    for name in ("ref_videos", "ref_audios"):
        g = given.get(name)
        if g is None or (name == "ref_videos" and not caps.ref_videos) or (
                name == "ref_audios" and not caps.ref_audios):
            continue
        for source in g.value:
            low = source.lower()
            if low.startswith("asset://"):
                if len(source) == len("asset://"):
                    problems.add(f"{g.label}: {source!r} has no asset id")
                continue
            if low.startswith(("http://", "https://")):
                if not _fields.is_http_url(source):
                    problems.add(f"{g.label}: {source!r} is not an http(s) URL")
                elif real_provider:
                    warns += _url_warnings([source])
                continue
            if name == "ref_videos":
                local = os.path.exists(source) or low.endswith(_VIDEO_SUFFIXES)
                why = ("is a local file; the gateways take videos only as http(s) URLs or "
                       "asset:// ids (upload it first)" if local
                       else "is not an http(s) URL or asset:// id")
                problems.add(f"{g.label}: {source!r} {why}")
                continue
            if low.startswith("data:"):
                if not (low.startswith("data:audio/") and ";base64," in low):
                    problems.add(f"{g.label}: {_short(source, 40)!r} is not a "
                                 f"data:audio/...;base64 URL")
                continue
            fmt = _AUDIO_FORMATS.get(os.path.splitext(low)[1])
            if fmt is None:
                problems.add(f"{g.label}: {source!r} is not an http(s) URL, data: URL, "
                             f"asset:// id or .wav/.mp3 file")
                continue
            try:
                with open(source, "rb") as fh:
                    data = fh.read(catalog.MAX_IMAGE_BYTES + 1)
            except OSError as exc:
                problems.add(f"{g.label}: cannot read {source!r} ({exc.strerror or exc})")
                continue
            if len(data) > catalog.MAX_IMAGE_BYTES:
                problems.add(f"{g.label}: {source!r} is over "
                             f"{catalog.MAX_IMAGE_BYTES // 2**20} MB")
                continue
            if _audio_format(data) != fmt:  # judged by content, like images (§5.4)
                article = "an" if fmt == "mp3" else "a"
                problems.add(f"{g.label}: {source!r} is not {article} {fmt.upper()} file (by "
                             f"its content)")
                continue
            files.append((source, fmt, data, hashlib.sha256(data).hexdigest()))
    return files


def _audio_format(data: bytes) -> Optional[str]:
    """wav or mp3 from the first bytes (RIFF/WAVE; ID3 tag or an MPEG frame sync)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _url_warnings(urls: Iterable[str]) -> list[str]:
    from .images import private_host_warning

    return [w for w in map(private_host_warning, urls) if w]


def _load_images(items: list[tuple[str, str]], dialect: str, family: Optional[str],
                 caps: Optional[catalog.Capabilities], real_provider: bool, problems: _Problems,
                 warns: list[str]) -> list[ImageInput]:
    if not items:
        return []
    from .images import load_image

    loaded = []
    for source, role in items:
        if source.lower().startswith("asset://"):
            # A platform asset (§2.2): passed through unchanged and unchecked, 2.x only.
            if caps is not None and (dialect == "comet" or not caps.ref_videos):
                problems.add(f"image {source!r}: asset:// ids need a 2.x model on an "
                             f"Ark-JSON provider, not {caps.model} on {dialect}")
            elif len(source) == len("asset://"):
                problems.add(f"image {source!r}: no asset id")
            else:
                loaded.append(ImageInput(source, role))
            continue
        try:
            image = load_image(source, role, dialect=dialect, family=family,
                               real_provider=real_provider)
        except SeedanceValidationError as exc:
            for line in exc.problems:
                problems.add(line)
            continue
        warns.extend(image.warnings)
        loaded.append(image)
    return loaded


def _check_body_size(images: list[ImageInput], prompt: str, dialect: str,
                     problems: _Problems, audio_files: Any = ()) -> None:
    """Estimate of the encoded body (§5.4: at most 64 MB); the dialect checks it exactly."""
    size = len(prompt.encode("utf-8", "replace")) + 2048
    for image in images:
        if image.data is None:
            size += len(image.source)
        elif dialect == "comet":
            size += len(image.data)
        else:
            size += 4 * math.ceil(len(image.data) / 3) + 32
    for _, _, data, _ in audio_files:
        size += 4 * math.ceil(len(data) / 3) + 32
    if size > catalog.MAX_BODY_BYTES:
        problems.add(f"images: request body would be {size / 2**20:.1f} MB after encoding; "
                     f"the limit is {catalog.MAX_BODY_BYTES // 2**20} MB: use smaller images or "
                     f"http(s) URLs")


# --- estimate (§9) ---------------------------------------------------------------------


def _closest_ratio(width: int, height: int) -> str:
    aspect = width / height
    return min(catalog.FIXED_RATIOS, key=lambda r: abs(math.log(aspect / _ratio_value(r))))


def _ratio_value(ratio: str) -> float:
    w, h = ratio.split(":")
    return int(w) / int(h)


def _estimate(req: VideoRequest, input_seconds: Optional[float] = None) -> Estimate:
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
