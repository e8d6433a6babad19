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

The checks `build_request` runs live in checks.py (settings) and inputs.py (images,
reference media, mode); the token and price estimate in estimate.py.
"""
from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from . import catalog
from .client import default_emulate, default_provider
from . import fields as _fields
from .checks import (Given, Problems, check_fields, check_modes, check_ranges, fill,
                     merge_keywords)
from .checks import short as _short
from .errors import SeedanceConfigError, SeedanceFlagError, SeedanceValidationError
from .estimate import Estimate
from .estimate import estimate as _estimate
from .flags import parse_flags
from .inputs import check_body_size, check_media, check_sources, image_items, infer_mode


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


# --- building and validating --------------------------------------------------------


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
    provider = provider or default_provider()
    if provider not in catalog.PROVIDERS:
        raise SeedanceConfigError(f"unknown provider {provider!r}; choose one of "
                                  f"{', '.join(catalog.PROVIDERS)}")
    dialect = provider
    if provider == "emulator":
        emulate = emulate or default_emulate()
        if emulate not in catalog.DIALECTS:
            raise SeedanceConfigError(f"unknown emulate setting {emulate!r}; choose one of "
                                      f"{', '.join(catalog.DIALECTS)}")
        dialect = catalog.dialect_of(provider, emulate)
    where = provider if provider != "emulator" else f"emulator ({dialect})"
    if not isinstance(text, str):
        raise SeedanceValidationError([f"prompt must be a string, not {type(text).__name__}"])

    problems = Problems()
    bad_text = _fields.unencodable(text)
    if bad_text:
        problems.add(f"prompt: {bad_text}")
    parsed = parse_flags(text)
    for line in parsed.problems:
        problems.add(line, flag=True)
    given = {name: Given(fv.value, fv.label, True) for name, fv in parsed.flags.items()}
    merge_keywords(fields, given, problems, typed_as or {})

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
    items = image_items(images, problems)
    images_ok = len(problems.lines) == before
    # Media a model does not take is reported as unsupported and does not set the mode.
    n_videos, n_audios = (len(given[n].value) if n in given and (
        caps is None or _fields.supported(n, caps) is None) else 0
        for n in ("ref_videos", "ref_audios"))
    mode = (infer_mode([role for _, role in items], n_videos, n_audios, given, caps, problems)
            if images_ok else None)  # roles unclear: skip the checks that depend on the mode
    warns: list[str] = list(parsed.warnings)
    audio_files: list[tuple[str, str, bytes, str]] = []
    if caps is not None:
        fill(given, caps, mode)
        check_fields(given, caps, mode, where, dialect, problems)
        check_modes(given, caps, mode, parsed.prompt, bool(items), where, problems)
        check_media(len(items), n_videos, n_audios, caps, mode, where, problems)
        audio_files = check_sources(given, caps, problems, warns, provider != "emulator")
        if dialect == "comet" and mode == "first":
            warns.append("comet: CometAPI treats a single image as a reference (task type "
                         "r2v), so the first frame may not open the video exactly")
        if (caps.default_duration == -1 and dialect != "comet" and mode not in ("final", "edit")
                and "duration" not in given and "frames" not in given):
            warns.append(f"{family}: no duration given, so the model picks one of up to "
                         f"{caps.duration_max} s (often 10 s, about twice the cost of 5 s); "
                         f"give --dur N (duration=N) to fix the length")
    else:
        check_ranges(given, (), problems)

    loaded = _load_images(items, dialect, family or None, caps, provider != "emulator",
                          problems, warns)
    if not parsed.prompt and mode == "t2v" and fields.get("draft_task_id") is None:
        problems.add("prompt: empty after removing flags; text-to-video needs a prompt "
                     "(or give an image)")
    if (loaded or audio_files) and caps is not None:
        check_body_size(loaded, parsed.prompt, dialect, problems, audio_files)

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


def _load_images(items: list[tuple[str, str]], dialect: str, family: Optional[str],
                 caps: Optional[catalog.Capabilities], real_provider: bool, problems: Problems,
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
