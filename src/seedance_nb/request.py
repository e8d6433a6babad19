"""The validated, immutable, provider-neutral request (reference §3, §9).

CONTRACT (shared by every module; keep field names stable):
- `ImageInput` and `VideoRequest` are frozen dataclasses.
- `VideoRequest` holds only validated values; unset optional fields are None.
- `build_request(...)` is the only public way to make one.

Round trip: for a valid request `r` with `d = r.to_dict()`,
    build_request(d.pop("prompt"), provider=d.pop("provider"), model=d.pop("model"),
                  images=[(i["source"], i["role"]) for i in d.pop("images", [])], **d) == r
(`d` carries `emulate` for the emulator provider). It holds as long as the image
files are unchanged, an `ep-` model gets the same `endpoints=`, and the prompt has
no token that looks like a flag again once its `\\--` escape is removed.
"""
from __future__ import annotations

import math
import operator
import warnings as _warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from . import catalog, config
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


#: Settable fields of §3 besides model, prompt and images, in table order.
FIELDS = ("ref_videos", "ref_audios", "resolution", "ratio", "duration", "frames", "fps",
          "seed", "camera_fixed", "watermark", "generate_audio", "return_last_frame",
          "service_tier", "execution_expires_after", "callback_url", "blocking")
_SCALARS = FIELDS[2:]
_BOOLS = ("camera_fixed", "watermark", "generate_audio", "return_last_frame", "blocking")
_INTS = ("duration", "frames", "fps", "seed", "execution_expires_after")
#: Gateway features this version rejects before sending (§2.2 notes).
NOT_SUPPORTED = ("draft", "tools", "priority", "safety_identifier")


@dataclass(frozen=True)
class Estimate:
    """Tokens and, where a price is known, cost (§9). A range when the model picks the length."""

    tokens_min: int
    tokens_max: int
    cost_min: Optional[float]
    cost_max: Optional[float]
    currency: str = "CNY"
    text: str = ""

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class VideoRequest:
    provider: str  # ark | byteplus | comet | comet-volc | acedata | emulator
    dialect: str  # wire dialect actually spoken (the emulator's `emulate` setting)
    family: str  # catalog family key, e.g. "1.5-pro"
    model: str  # wire id sent to the gateway
    prompt: str  # flags removed; may be "" in image modes
    mode: str  # t2v | first | first+last | ref
    images: tuple[ImageInput, ...] = ()
    ref_videos: tuple[str, ...] = ()
    ref_audios: tuple[str, ...] = ()
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

    def fingerprint(self) -> str:
        """Hex sha256 of what makes two requests the same video (no bytes, no warnings)."""
        import hashlib
        import json

        doc: dict[str, Any] = {"provider": self.provider, "dialect": self.dialect,
                               "model": self.model, "prompt": self.prompt, "mode": self.mode,
                               "images": [[i.role, i.sha256 or i.source] for i in self.images]}
        for name in FIELDS:
            value = getattr(self, name)
            if value is not None and value != ():
                doc[name] = list(value) if isinstance(value, tuple) else value
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def estimate(self) -> Estimate:
        return _estimate(self)

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
                parts.append(f"{name}={list(value) if isinstance(value, tuple) else value!r}")
        return "VideoRequest(" + ", ".join(parts) + ")"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- building and validating --------------------------------------------------------


@dataclass
class _Given:
    value: Any
    label: str  # "--rs 720P" for a flag, "resolution='720P'" for a keyword
    flag: bool


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.any_flag = False

    def add(self, line: str, flag: bool = False) -> None:
        self.lines.append(line)
        self.any_flag = self.any_flag or flag


_warned_once: set[str] = set()


def build_request(text: str = "", *, provider: Optional[str] = None, model: Optional[str] = None,
                  images: Any = (), emulate: Optional[str] = None,
                  endpoints: Optional[Mapping[str, str]] = None, **fields: Any) -> VideoRequest:
    """Parse inline flags out of `text`, merge keyword `fields`, validate (§2-§4, §5.4).

    Raises SeedanceFlagError when any problem comes from an inline flag (its
    `.problems` then lists every problem of the request), else
    SeedanceValidationError; SeedanceConfigError for an unknown provider.
    """
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

    parsed = parse_flags(text)
    problems = _Problems()
    for line in parsed.problems:
        problems.add(line, flag=True)
    given = {name: _Given(fv.value, fv.label, True) for name, fv in parsed.flags.items()}
    _merge_keywords(fields, given, problems)

    caps: Optional[catalog.Capabilities] = None
    family = model_id = ""
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
    refs_v = given.get("ref_videos")
    refs_a = given.get("ref_audios")
    n_videos = len(refs_v.value) if refs_v else 0
    n_audios = len(refs_a.value) if refs_a else 0
    mode = (_mode([role for _, role in items], n_videos, n_audios, problems) if images_ok
            else None)  # roles unclear: skip the checks that depend on the mode
    warns: list[str] = list(parsed.warnings)
    if caps is not None:
        _check_fields(given, caps, mode, where, dialect, problems)
        _check_media(len(items), n_videos, n_audios, caps, mode, where, problems)
        if dialect == "comet" and mode == "first":
            warns.append("comet: CometAPI treats a single image as a reference (task type "
                         "r2v), so the first frame may not open the video exactly")
    else:
        _check_ranges(given, (), problems)
    for name in ("ref_videos", "ref_audios"):
        if name in given and provider != "emulator":
            warns += _url_warnings(given[name].value)

    loaded = _load_images(items, dialect, family or None, provider != "emulator", problems, warns)
    if not parsed.prompt and mode == "t2v":
        problems.add("prompt: empty after removing flags; text-to-video needs a prompt "
                     "(or give an image)")
    if loaded and caps is not None:
        _check_body_size(loaded, parsed.prompt, dialect, problems)

    if problems.lines:
        error = SeedanceFlagError if problems.any_flag else SeedanceValidationError
        raise error(problems.lines)
    values = {name: g.value for name, g in given.items()}
    request = VideoRequest(provider=provider, dialect=dialect, family=family, model=model_id,
                           prompt=parsed.prompt, mode=mode or "t2v", images=tuple(loaded),
                           warnings=tuple(warns), **values)
    _emit(warns, dialect)
    return request


def _emit(warns: list[str], dialect: str) -> None:
    for message in warns:
        if message.startswith("comet:"):  # once per process (§2.3)
            if message in _warned_once:
                continue
            _warned_once.add(message)
        _warnings.warn(message, UserWarning, stacklevel=3)


def _merge_keywords(fields: Mapping[str, Any], given: dict[str, _Given],
                    problems: _Problems) -> None:
    for name, raw in fields.items():
        if raw is None:
            continue
        label = f"{name}={raw!r}"
        if name in NOT_SUPPORTED:
            problems.add(f"{label}: {name} is not supported in this version")
            continue
        if name not in FIELDS:
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
        value, reason = _keyword_value(name, raw)
        if reason:
            problems.add(f"{label}: {reason}")
        elif value is not None:
            given[name] = _Given(value, label, False)


def _keyword_value(name: str, raw: Any) -> tuple[Any, Optional[str]]:
    """(normalized value, None) or (None, reason) for one keyword field."""
    if name in _BOOLS:
        return (raw, None) if isinstance(raw, bool) else (None, "not a boolean; allowed: "
                                                                "True, False")
    if name in _INTS:
        if isinstance(raw, bool):
            return None, "not an integer"
        try:
            return operator.index(raw), None
        except TypeError:
            return None, "not an integer"
    if name in ("ref_videos", "ref_audios"):
        urls = [raw] if isinstance(raw, str) else raw
        if not isinstance(urls, (list, tuple)) or not all(isinstance(u, str) for u in urls):
            return None, "give a list of http(s) URLs"
        for url in urls:
            if url.lower().startswith("asset://"):
                return None, "asset:// ids are not supported in this version"
            if not _is_http_url(url):
                return None, f"{url!r} is not an http(s) URL"
        return (tuple(urls) or None), None
    if not isinstance(raw, str):
        return None, f"not a string ({type(raw).__name__})"
    if name == "resolution":
        low = raw.lower()
        if low in catalog.RESOLUTIONS:
            return low, None
        return None, "not a resolution; allowed: " + ", ".join(catalog.RESOLUTIONS)
    if name == "ratio":
        if raw in catalog.FIXED_RATIOS or raw.lower() == "adaptive":
            return (raw if raw in catalog.FIXED_RATIOS else "adaptive"), None
        return None, "not a ratio; allowed: " + ", ".join(catalog.RATIOS)
    if name == "service_tier":
        low = raw.lower()
        if low in catalog.SERVICE_TIERS:
            return low, None
        return None, "not a service tier; allowed: " + ", ".join(catalog.SERVICE_TIERS)
    # callback_url
    if _is_http_url(raw):
        return raw, None
    return None, "not an absolute http(s) URL"


def _is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _check_fields(given: dict[str, _Given], caps: catalog.Capabilities, mode: Optional[str],
                  where: str, dialect: str, problems: _Problems) -> None:
    model = caps.model
    dur, frames = given.get("duration"), given.get("frames")
    if dur and frames:
        problems.add(f"{dur.label} and {frames.label}: give only one of them",
                     dur.flag or frames.flag)
    for name, g in given.items():
        v, label, add = g.value, g.label, g.flag
        if name in caps.unsupported_fields:
            hint = ""
            if name == "frames":
                hint = f"; use {'--dur' if g.flag else 'duration'} ({caps.duration_text()})"
            problems.add(f"{label}: not supported by {model} on {where}{hint}", add)
        elif name == "resolution":
            allowed = caps.resolutions_for(mode) if mode else caps.resolutions
            if v not in allowed:
                in_mode = " in ref mode" if mode == "ref" and allowed != caps.resolutions else ""
                problems.add(f"{label}: not allowed for {model} on {where}{in_mode}; "
                             f"allowed: {', '.join(allowed)}", add)
        elif name == "ratio":
            fixed = ", ".join(r for r in caps.ratios if r != "adaptive")
            if v not in caps.ratios:
                problems.add(f"{label}: not allowed for {model} on {where}; allowed: "
                             f"{', '.join(caps.ratios)}", add)
            elif v == "adaptive" and mode and mode not in caps.adaptive_modes:
                problems.add(f"{label}: not allowed for {model} on {where} in {mode} mode "
                             f"(adaptive needs a first frame); allowed: {fixed}", add)
        elif name == "duration":
            ok = (caps.duration_auto if v == -1
                  else caps.duration_min <= v <= caps.duration_max)
            if not ok:
                problems.add(f"{label}: not allowed for {model} on {where}; allowed: "
                             f"{caps.duration_text()}", add)
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
            problems.add(f"{label}: not supported by {model} on {where} (audio needs 1.5-pro "
                         f"or a 2.0 family)", add)
        elif name == "service_tier" and v == "flex" and not caps.flex:
            problems.add(f"{label}: not allowed for {model} on {where}; allowed: default", add)
        elif name == "blocking":
            if dialect != "acedata":
                problems.add(f"{label}: only for acedata, not {where}", add)
            elif v and "callback_url" in given:
                problems.add(f"{label} and {given['callback_url'].label}: give only one of "
                             f"them (a callback makes AceDataCloud reply at once)", add)
        elif name in ("ref_videos", "ref_audios"):
            limit = caps.ref_videos if name == "ref_videos" else caps.ref_audios
            if limit == 0:
                problems.add(f"{name}: not supported by {model} on {where} (2.0 families only)")
            elif len(v) > limit:
                problems.add(f"{name}: {len(v)} given; at most {limit}")
    _check_ranges(given, caps.unsupported_fields, problems)


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


_ROLES = catalog.IMAGE_ROLES


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


def _mode(roles: list[str], n_videos: int, n_audios: int,
          problems: _Problems) -> Optional[str]:
    """The mode the roles imply (§3), or None (problem added) for a mix that fits none."""
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
              "first+last": "first and last frames", "ref": "reference media"}


def _check_media(n_images: int, n_videos: int, n_audios: int, caps: catalog.Capabilities,
                 mode: Optional[str], where: str, problems: _Problems) -> None:
    if mode is None:
        return
    if mode not in caps.modes:
        supported = ", ".join(caps.modes)
        problems.add(f"images: {_MODE_TEXT[mode]} ({mode} mode) is not supported by "
                     f"{caps.model} on {where}; supported modes: {supported}")
        return
    if mode == "ref":
        lo, hi = caps.ref_images
        if not lo <= n_images <= hi:
            takes = f"{lo}-{hi}" if lo != hi else f"exactly {lo}"
            problems.add(f"images: {n_images} reference images; {caps.model} on {where} "
                         f"takes {takes}")
        if n_audios and not (n_images or n_videos):
            problems.add("ref_audios: audio cannot be the only reference; add a reference "
                         "image or video")
    elif n_images > caps.max_images:
        problems.add(f"images: {n_images} given; {caps.model} on {where} takes at most "
                     f"{caps.max_images}")


def _url_warnings(urls: Iterable[str]) -> list[str]:
    from .images import private_host_warning

    return [w for w in map(private_host_warning, urls) if w]


def _load_images(items: list[tuple[str, str]], dialect: str, family: Optional[str],
                 real_provider: bool, problems: _Problems, warns: list[str]) -> list[ImageInput]:
    if not items:
        return []
    from .images import load_image

    loaded = []
    for source, role in items:
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
                     problems: _Problems) -> None:
    """Estimate of the encoded body (§5.4: at most 64 MB); the dialect checks it exactly."""
    size = len(prompt.encode("utf-8")) + 2048
    for image in images:
        if image.data is None:
            size += len(image.source)
        elif dialect == "comet":
            size += len(image.data)
        else:
            size += 4 * math.ceil(len(image.data) / 3) + 32
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


def _estimate(req: VideoRequest) -> Estimate:
    caps = catalog.capabilities(req.family, req.dialect)
    assert caps is not None  # a built request always has capabilities
    resolution = req.resolution or caps.default_resolution
    ratio = req.ratio or caps.default_ratio(req.mode)
    ratio_note = ""
    if ratio == "adaptive":
        sized = next((i for i in req.images if i.width and i.height), None)
        if sized is not None:
            ratio, ratio_note = _closest_ratio(sized.width, sized.height), " (from the image)"
        else:
            ratio, ratio_note = "16:9", " (assumed)"
    width, height = catalog.pixel_size(req.family, resolution, ratio)

    def tokens(seconds: Optional[int], frames: Optional[int] = None) -> int:
        return catalog.video_tokens(width, height, catalog.frame_count(seconds, frames))

    if req.frames is not None:
        lo = hi = tokens(None, req.frames)
        length = f"{req.frames} frames"
    elif req.duration == -1:
        lo, hi = tokens(caps.duration_min), tokens(caps.duration_max)
        length = f"{caps.duration_min}-{caps.duration_max} s, the model chooses"
    else:
        seconds = req.duration or catalog.DEFAULT_DURATION
        lo = hi = tokens(seconds)
        length = f"{seconds} s"
    price = catalog.price_per_million(req.dialect, req.family, req.service_tier)
    cost_lo = cost_hi = None
    if price is not None:
        cost_lo, cost_hi = lo * price / 1e6, hi * price / 1e6
    amount = f"{lo:,}" if lo == hi else f"{lo:,}-{hi:,}"
    text = (f"{amount} tokens ({resolution} {ratio}{ratio_note}, {width}x{height}, {length})")
    if cost_lo is None:
        money = f"no known price for {req.model} on {req.dialect}: tokens only"
    else:
        money = f"≈ {cost_lo:.2f}" if lo == hi else f"≈ {cost_lo:.2f}-{cost_hi:.2f}"
        money += " CNY" + (" on the flex tier (half price)" if req.service_tier == "flex" else "")
    if req.provider == "emulator":
        text += f"; free on the emulator ({req.dialect}: {money})"
    else:
        text += f"; {money}"
    return Estimate(lo, hi, cost_lo, cost_hi, "CNY", text)
