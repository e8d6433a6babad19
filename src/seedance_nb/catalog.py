"""Models, providers and limits as data (reference §1, §2, §9, §10.5).

Everything that knows what a model can do reads it from here. Nothing in this
module does I/O or imports anything heavy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from . import families as _families

# --- providers and dialects (§1) -------------------------------------------

#: Wire dialects a gateway can speak; the emulator can speak any of them.
DIALECTS = ("ark", "byteplus", "comet", "comet-volc", "acedata")
PROVIDERS = DIALECTS + ("emulator",)


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    service: str
    base_url: str
    key_envs: tuple[str, ...]


PROVIDER_INFO: Mapping[str, ProviderInfo] = {
    "ark": ProviderInfo("ark", "Volcengine Ark", "https://ark.cn-beijing.volces.com/api/v3",
                        ("ARK_API_KEY",)),
    "byteplus": ProviderInfo("byteplus", "BytePlus ModelArk",
                             "https://ark.ap-southeast.bytepluses.com/api/v3",
                             ("BYTEPLUS_API_KEY", "ARK_API_KEY")),
    "comet": ProviderInfo("comet", "CometAPI /v1/videos", "https://api.cometapi.com",
                          ("COMETAPI_KEY",)),
    "comet-volc": ProviderInfo("comet-volc", "CometAPI /volc/v3", "https://api.cometapi.com",
                               ("COMETAPI_KEY",)),
    "acedata": ProviderInfo("acedata", "AceDataCloud", "https://api.acedata.cloud",
                            ("ACEDATACLOUD_API_TOKEN",)),
    "emulator": ProviderInfo("emulator", "seedance-nb offline emulator", "http://127.0.0.1:8765",
                             ("SEEDANCE_EMULATOR_TOKEN",)),
}
EMULATOR_URL_ENV = "SEEDANCE_EMULATOR_URL"
EMULATOR_DEFAULT_TOKEN = "sk-emulator"

#: Path prefix each dialect's routes live under, relative to the base URL.
#: Real Ark/BytePlus base URLs already end in /api/v3; the emulator's do not.
EMULATOR_PREFIX = {"ark": "/api/v3", "byteplus": "/api/v3", "comet": "",
                   "comet-volc": "", "acedata": ""}

# --- models (§2.1, §2.4) ---------------------------------------------------------

DEFAULT_FAMILY = "2.0-fast"  # live on every provider, comet included (§2.1)

RATIOS, FIXED_RATIOS, MODES = _families.RATIOS, _families.FIXED_RATIOS, _families.MODES
IMAGE_FORMATS, HEIF_FORMATS = _families.IMAGE_FORMATS, _families.HEIF_FORMATS
OUTPUT_FORMATS = _families.OUTPUT_FORMATS
FamilySpec, Lifecycle, Price, CometSpec = (_families.FamilySpec, _families.Lifecycle,
                                           _families.Price, _families.CometSpec)
RESOLUTIONS = ("480p", "720p", "1080p", "4k")
IMAGE_ROLES = ("first_frame", "last_frame", "reference_image")
COMET_IMAGE_FORMATS = ("jpeg", "png", "webp")

SEED_MIN, SEED_MAX = -1, 4294967295
FRAMES_MIN, FRAMES_MAX = 29, 289  # and frames % 4 == 1 (25 + 4n)
FPS = 24
DEFAULT_DURATION = 5
SERVICE_TIERS = ("default", "flex")
EXPIRES_MIN, EXPIRES_MAX, EXPIRES_DEFAULT = 3600, 259200, 172800
COMET_TASK_LIMIT_S = 172800
DRAFT_VALID_S = 7 * 86400  # a 2.5 draft can become a final for 7 days (§3)
DRAFT_RESOLUTION, FINAL_RESOLUTION = "480p", "1080p"
TASK_TYPES = ("auto", "reference", "edit", "extend")

# Rebuilt by install_specs(); read them as catalog.FAMILIES / catalog.WIRE_IDS.
SPECS: dict[str, FamilySpec] = {}
FAMILIES: tuple[str, ...] = ()
#: dialect -> family -> wire id. A family missing from a dialect is not offered there.
WIRE_IDS: dict[str, dict[str, str]] = {}


@dataclass(frozen=True)
class Capabilities:
    """What one model family can do on one dialect."""

    family: str
    dialect: str
    model: str  # wire id
    modes: tuple[str, ...]
    resolutions: tuple[str, ...]
    ref_resolutions: tuple[str, ...]  # resolutions allowed in ref mode
    default_resolution: str
    duration_min: int
    duration_max: int
    duration_auto: bool  # -1 allowed
    frames: bool
    camera_fixed: bool
    camera_fixed_in_ref: bool
    audio: bool
    flex: bool
    ratios: tuple[str, ...]
    adaptive_modes: tuple[str, ...]  # modes in which ratio "adaptive" is allowed
    ref_images: tuple[int, int]  # min, max reference images in ref mode
    ref_videos: int
    ref_audios: int
    image_formats: tuple[str, ...]
    max_images: int  # images accepted in total (comet: 1)
    # Fields that do not exist on this dialect at all; setting any is an error.
    unsupported_fields: tuple[str, ...] = ()
    status: Lifecycle = _families.LIVE
    default_duration: int = DEFAULT_DURATION  # -1: the model picks
    draft: bool = False
    output_formats: tuple[str, ...] = ("mp4",)
    adaptive_only_modes: tuple[str, ...] = ()  # 2.5 frame/edit/extend: adaptive only
    ref_total: int = 0  # images + videos + audios in ref mode
    audio_alone: bool = False
    default_ratios: Mapping[str, str] = field(default_factory=dict)
    typical_seconds: float = 60.0

    def default_ratio(self, mode: Optional[str]) -> str:
        return self.default_ratios.get(mode or "t2v", "16:9")

    def resolutions_for(self, mode: Optional[str]) -> tuple[str, ...]:
        return self.ref_resolutions if mode == "ref" else self.resolutions

    def duration_text(self) -> str:
        text = f"{self.duration_min}-{self.duration_max}"
        return text + " or -1" if self.duration_auto else text

    @property
    def live(self) -> bool:
        return self.status.live


_COMET_UNSUPPORTED = ("frames", "seed", "camera_fixed", "watermark", "generate_audio",
                      "return_last_frame", "service_tier", "execution_expires_after",
                      "callback_url", "ref_videos", "ref_audios", "blocking", "draft",
                      "draft_task_id", "task_type", "output_format")
_DRAFT_FIELDS = ("draft", "draft_task_id", "task_type", "output_format")


def _ark_caps(spec: FamilySpec, dialect: str) -> Capabilities:
    unsupported: tuple[str, ...] = () if spec.draft else _DRAFT_FIELDS
    flex = spec.flex
    if dialect == "acedata":
        # AceDataCloud takes no service_tier, and no return_last_frame for 2.x (§2.2).
        unsupported += ("service_tier",) + (("return_last_frame",) if spec.ref_videos else ())
        flex = False
    res = spec.resolutions_by_dialect.get(dialect, spec.resolutions)
    max_images = max(spec.ref_images[1], 2 if "first+last" in spec.modes else 1)
    return Capabilities(
        family=spec.key, dialect=dialect, model=spec.ids[dialect], modes=spec.modes,
        resolutions=res, ref_resolutions=spec.ref_resolutions or res,
        default_resolution=spec.default_resolution,
        duration_min=spec.durations[0], duration_max=spec.durations[1],
        duration_auto=spec.duration_auto, frames=spec.frames,
        camera_fixed=spec.camera_fixed, camera_fixed_in_ref=spec.camera_fixed_in_ref,
        audio=spec.audio, flex=flex, ratios=getattr(spec, "ratios", RATIOS), adaptive_modes=spec.adaptive_modes,
        ref_images=spec.ref_images, ref_videos=spec.ref_videos, ref_audios=spec.ref_audios,
        image_formats=spec.image_formats, max_images=max_images,
        unsupported_fields=unsupported, status=lifecycle(spec.key, dialect),
        default_duration=spec.default_duration, draft=spec.draft,
        output_formats=spec.output_formats, adaptive_only_modes=spec.adaptive_only_modes,
        ref_total=spec.ref_total_by_dialect.get(dialect, spec.ref_total),
        audio_alone=spec.audio_alone, default_ratios=dict(spec.default_ratio),
        typical_seconds=spec.typical_seconds,
    )


def _comet_caps(spec: FamilySpec) -> Capabilities:
    comet = spec.comet
    assert comet is not None
    return Capabilities(
        family=spec.key, dialect="comet", model=spec.ids["comet"],
        modes=("t2v", "first", "ref") if comet.image else ("t2v",),
        resolutions=comet.resolutions, ref_resolutions=comet.resolutions,
        default_resolution="720p", duration_min=comet.seconds[0],
        duration_max=comet.seconds[1], duration_auto=False,
        frames=False, camera_fixed=False, camera_fixed_in_ref=False, audio=False, flex=False,
        ratios=FIXED_RATIOS, adaptive_modes=(), ref_images=(1, 1), ref_videos=0, ref_audios=0,
        image_formats=COMET_IMAGE_FORMATS, max_images=1 if comet.image else 0,
        unsupported_fields=_COMET_UNSUPPORTED, status=lifecycle(spec.key, "comet"),
        default_duration=DEFAULT_DURATION, ref_total=1 if comet.image else 0,
        default_ratios={}, typical_seconds=spec.typical_seconds,
    )


_CAPS: dict[tuple[str, str], Capabilities] = {}
_ALIASES: dict[tuple[str, str], str] = {}  # (dialect, alias) -> family


def install_specs(specs: Iterable[FamilySpec]) -> None:
    """Make `specs` the catalog (built-ins plus a catalog file's families, §2.5)."""
    global FAMILIES
    new = {s.key: s for s in specs}
    ids: dict[str, dict[str, str]] = {d: {} for d in DIALECTS}
    caps: dict[tuple[str, str], Capabilities] = {}
    aliases: dict[tuple[str, str], str] = {}
    SPECS.clear()
    SPECS.update(new)
    for spec in new.values():
        for dialect, wire in spec.ids.items():
            ids[dialect][spec.key] = wire
            if dialect == "comet" and spec.comet is None:
                continue
            caps[(spec.key, dialect)] = (_comet_caps(spec) if dialect == "comet"
                                         else _ark_caps(spec, dialect))
        for alias, dialect in spec.aliases.items():
            aliases[(dialect, alias)] = spec.key
    FAMILIES = tuple(new)
    WIRE_IDS.clear()
    WIRE_IDS.update(ids)
    _CAPS.clear()
    _CAPS.update(caps)
    _ALIASES.clear()
    _ALIASES.update(aliases)


def builtin_specs() -> tuple[FamilySpec, ...]:
    return _families.BUILTIN


def lifecycle(family: str, dialect: str) -> Lifecycle:
    spec = SPECS.get(family)
    if spec is None:
        return _families.LIVE
    return spec.provider_status.get(dialect, spec.status)


def capabilities(family: str, dialect: str) -> Optional[Capabilities]:
    """Capabilities of `family` on `dialect`, or None if the dialect does not offer it."""
    return _CAPS.get((family, dialect))


def families_for(dialect: str, *, live_only: bool = False) -> tuple[str, ...]:
    return tuple(f for f in WIRE_IDS[dialect]
                 if not live_only or lifecycle(f, dialect).live)


def dialect_of(provider: str, emulate: str = "ark") -> str:
    """The wire dialect a provider speaks (the emulator speaks `emulate`)."""
    if provider == "emulator":
        return emulate
    return provider


def family_of_wire_id(model: str) -> dict[str, str]:
    """{dialect: family} for every dialect that knows `model` as a wire id."""
    return {d: f for d, ids in WIRE_IDS.items() for f, w in ids.items() if w == model}


def retired_problem(family: str, dialect: str) -> Optional[str]:
    """The one-line refusal for sending a request to a retired model, or None (§2.4)."""
    life = lifecycle(family, dialect)
    if life.live:
        return None
    wire = WIRE_IDS.get(dialect, {}).get(family, family)
    use = [r for r in (life.replacement, DEFAULT_FAMILY)
           if r and r in WIRE_IDS.get(dialect, {}) and lifecycle(r, dialect).live]
    hint = f"; use {' or '.join(dict.fromkeys(use))}" if use else ""
    when = f" on {life.retired_on}" if life.retired_on else ""
    return f"model {family}: retired{when} ({dialect} no longer serves {wire}){hint}"


def resolve_model(name: Optional[str], dialect: str,
                  endpoints: Optional[Mapping[str, str]] = None) -> tuple[str, str]:
    """Return (family, wire id) for a user's model name on `dialect`.

    Retired families resolve too (old ledger rows must still validate and be reused);
    `retired_problem` refuses them before anything is sent. Raises ValueError with a
    one-line message a user can act on.
    """
    if not name:
        name = DEFAULT_FAMILY
    ids = WIRE_IDS[dialect]
    if name in SPECS:
        if name not in ids:
            offered = ", ".join(families_for(dialect, live_only=True))
            raise ValueError(f"model {name} is not offered on {dialect}; offered: {offered}")
        return name, ids[name]
    if name.startswith("ep-"):
        fam = (endpoints or {}).get(name)
        if dialect not in ("ark", "byteplus") or fam is None:
            raise ValueError(f"endpoint id {name} is not mapped to a model family; "
                             f"configure endpoints={{'{name}': '<family>'}} (ark and byteplus only)")
        if fam not in ids:
            raise ValueError(f"endpoint {name} maps to unknown family {fam!r}")
        return fam, name
    alias = _ALIASES.get((dialect, name))
    if alias is not None:
        return alias, ids[alias]
    for fam, wire in ids.items():
        if wire == name:
            return fam, wire
    elsewhere = family_of_wire_id(name)
    if elsewhere:
        fam = next(iter(elsewhere.values()))
        if fam in ids:
            raise ValueError(f"model {name} is a {'/'.join(elsewhere)} id; on {dialect} use "
                             f"{ids[fam]} (or the family key {fam})")
        raise ValueError(f"model {name} ({fam}) is not offered on {dialect}")
    live = ", ".join(f for f in FAMILIES if lifecycle(f, dialect).live and f in ids)
    raise ValueError(f"unknown model {name!r}; use a family key ({live}) "
                     f"or a {dialect} wire id")


install_specs(_families.BUILTIN)


# --- geometry, tokens, prices (§9, §10.5) -------------------------------------------

_RATIO_ORDER = FIXED_RATIOS  # column order of the pixel tables
_PIXELS_1_0 = {
    "480p": ((864, 480), (736, 544), (640, 640), (544, 736), (480, 864), (960, 416)),
    "720p": ((1248, 704), (1120, 832), (960, 960), (832, 1120), (704, 1248), (1504, 640)),
    "1080p": ((1920, 1088), (1664, 1248), (1440, 1440), (1248, 1664), (1088, 1920), (2176, 928)),
}
_PIXELS_NEW = {
    "480p": ((864, 496), (752, 560), (640, 640), (560, 752), (496, 864), (992, 432)),
    "720p": ((1280, 720), (1112, 834), (960, 960), (834, 1112), (720, 1280), (1470, 630)),
    "1080p": ((1920, 1080), (1664, 1248), (1440, 1440), (1248, 1664), (1080, 1920), (2206, 946)),
    "4k": ((3840, 2160), (3328, 2496), (2880, 2880), (2496, 3328), (2160, 3840), (4412, 1892)),
}


def pixel_size(family: str, resolution: str, ratio: str) -> tuple[int, int]:
    """Output (width, height). `ratio` must be a fixed ratio, not "adaptive"."""
    spec = SPECS.get(family)
    table = _PIXELS_1_0 if spec is not None and spec.pixel_table == "1.0" else _PIXELS_NEW
    return table[resolution][_RATIO_ORDER.index(ratio)]


def frame_count(duration: Optional[int], frames: Optional[int] = None) -> int:
    """Frames in the output: `frames` if set, else 24 * duration + 1."""
    if frames is not None:
        return frames
    return FPS * (DEFAULT_DURATION if duration in (None, -1) else duration) + 1


def video_tokens(width: int, height: int, n_frames: int) -> int:
    return width * height * n_frames // 1024


def typical_seconds(family: str, resolution: Optional[str] = None,
                    duration: Optional[float] = None, frames: Optional[int] = None,
                    ratio: Optional[str] = None) -> Optional[float]:
    """Typical seconds from create to success for one video (a progress hint), or None
    for a family or resolution the catalog does not know.

    Rule: the family's `typical_seconds` (720p, 5 s) times the output's pixels over the
    same ratio's 720p pixels, times its frames (`frames`, else 24 x duration + 1) over a
    5 s video's 121: generation time taken as proportional to the video's tokens (§9).
    Unset or -1 duration counts as 5 s; unset resolution is the family's default; unset
    or "adaptive" ratio counts as 16:9.
    """
    spec = SPECS.get(family)
    if spec is None:
        return None
    res = resolution or spec.default_resolution
    shape = ratio if ratio in FIXED_RATIOS else "16:9"
    try:
        width, height = pixel_size(family, res, shape)
        base_w, base_h = pixel_size(family, "720p", shape)
    except (KeyError, ValueError):  # a resolution the pixel tables lack: no hint
        return None
    seconds = None if duration is None or duration <= 0 else round(duration)
    scale = (width * height) / (base_w * base_h) * frame_count(seconds, frames) \
        / frame_count(DEFAULT_DURATION)
    return float(spec.typical_seconds) * scale


FLEX_FACTOR = 0.5
#: whose list price an estimate shows, labelled as a reference on resellers (§9)
PRICE_SOURCE = {"ark": "ark", "byteplus": "byteplus", "comet": "byteplus",
                "acedata": "byteplus", "comet-volc": "ark"}


@dataclass(frozen=True)
class Quote:
    per_million: float
    currency: str
    reference: Optional[str] = None  # e.g. "byteplus list price" when a reseller bills


def list_price(dialect: str, family: str, resolution: Optional[str] = None, *,
               video_input: bool = False, tier: Optional[str] = None) -> Optional[Quote]:
    """The price per million tokens an estimate uses, or None where none is known."""
    source = PRICE_SOURCE.get(dialect, dialect)
    spec = SPECS.get(family)
    price = spec.prices.get(source) if spec is not None else None
    if price is None:
        return None
    rate = price.rate(resolution, video_input)
    if tier == "flex":
        rate *= FLEX_FACTOR
    reference = f"{source} list price" if source != dialect else None
    return Quote(rate, price.currency, reference)


def price_per_million(dialect: str, family: str, tier: Optional[str] = None) -> Optional[float]:
    """The gateway's own list price (no reseller reference), or None."""
    quote = list_price(dialect, family, tier=tier)
    return quote.per_million if quote is not None and quote.reference is None else None


# --- status words (§6.4) ------------------------------------------------------------

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "expired"})

# The client's job life cycle: the six gateway words plus our own. This is the one
# vocabulary the ledger's SQL, the jobs, the display, the panel and the magic use.
#: waiting: recorded, held back by the account's budget (queued cap, RPM, concurrency),
#: nothing sent yet (jobs/admission.py); pending: admitted and sent, create not answered
#: yet; unknown: create outcome lost (never resubmitted); rejected: the gateway refused
#: the create (not billed); dismissed: the user closed an unknown row.
JOB_STATUSES = ("waiting", "pending") + STATUSES + ("unknown", "rejected", "dismissed")
#: Nothing can change these any more.
JOB_FINAL = TERMINAL | {"rejected", "dismissed"}
#: Nothing more happens without the user: final, or an unknown outcome awaiting adopt/dismiss.
JOB_ENDED = JOB_FINAL | {"unknown"}
#: Work in flight: a fingerprint match on one of these is joined, not resent.
JOB_ACTIVE = frozenset({"waiting", "pending", "queued", "running"})
STATUS_WORDS: Mapping[str, str] = {
    **{w: "queued" for w in ("queued", "submitted", "pending")},
    **{w: "running" for w in ("running", "in_progress", "processing")},
    **{w: "succeeded" for w in ("succeeded", "success", "completed", "succeed", "complete",
                                 "finished")},
    **{w: "failed" for w in ("failed", "error", "failure", "rejected")},
    **{w: "cancelled" for w in ("cancelled", "canceled")},
    "expired": "expired",
}


def normalize_status(word: object) -> Optional[str]:
    """Map a gateway status word to a normalized status, or None if unknown."""
    if not isinstance(word, str):
        return None
    return STATUS_WORDS.get(word.strip().casefold())


# --- transport and polling defaults (§8) ------------------------------------------

POLL_INTERVAL_S = 15.0
POLL_FLOOR_REAL_S = 5.0
POLL_FLOOR_EMULATOR_S = 0.1
WAIT_DEADLINE_S = 3600.0
URL_LIFETIME_S = 86400
CONNECT_TIMEOUT_S, READ_TIMEOUT_S, WRITE_TIMEOUT_S = 10.0, 60.0, 120.0
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 524})  # transient for reads
RETRY_AFTER_CAP_S = 120.0  # a longer Retry-After is left to the next poll cycle
# Bounds (§8): no reply can stall or exhaust the client.
MAX_REPLY_BYTES = 16 * 1024 * 1024  # API reply body, after decompression
REPLY_DEADLINE_S = 60.0  # total time for one API reply, headers and body
DOWNLOAD_STALL_S = 60.0  # a download with no byte for this long is cut
MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3
MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


# --- account budgets (§10.8) ----------------------------------------------------------------
#: Queued tasks per account (BytePlus documents 120; used for every gateway by default).
QUEUED_CAP = 120
RPM_WINDOW_S = 60.0  # RPM is a sliding window of this many seconds


def rate_limits(family: str) -> tuple[int, int]:
    """(creates per minute, running tasks) per account for a family (§10.8)."""
    return (300, 5) if family.startswith("1.0-lite") else (600, 10)
