"""Models, providers and limits as data (reference §1, §2, §9, §10.5).

Everything that knows what a model can do reads it from here. Nothing in this
module does I/O or imports anything heavy.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional

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

# --- models (§2.1) ------------------------------------------------------------

FAMILIES = ("1.0-pro", "1.0-pro-fast", "1.0-lite-t2v", "1.0-lite-i2v",
            "1.5-pro", "2.0", "2.0-fast", "2.0-mini")
DEFAULT_FAMILY = "1.5-pro"

_VOLC = {
    "1.0-pro": "doubao-seedance-1-0-pro-250528",
    "1.0-pro-fast": "doubao-seedance-1-0-pro-fast-251015",
    "1.0-lite-t2v": "doubao-seedance-1-0-lite-t2v-250428",
    "1.0-lite-i2v": "doubao-seedance-1-0-lite-i2v-250428",
    "1.5-pro": "doubao-seedance-1-5-pro-251215",
    "2.0": "doubao-seedance-2-0-260128",
    "2.0-fast": "doubao-seedance-2-0-fast-260128",
}
_BYTEPLUS = {
    "1.0-pro": "seedance-1-0-pro-250528",
    "1.0-pro-fast": "seedance-1-0-pro-fast-251015",
    "1.0-lite-t2v": "seedance-1-0-lite-t2v-250428",
    "1.0-lite-i2v": "seedance-1-0-lite-i2v-250428",
    "1.5-pro": "seedance-1-5-pro-251215",
    "2.0": "dreamina-seedance-2-0-260128",
    "2.0-fast": "dreamina-seedance-2-0-fast-260128",
}
_COMET = {
    "1.0-pro": "doubao-seedance-1-0-pro",
    "1.5-pro": "doubao-seedance-1-5-pro",
    "2.0": "doubao-seedance-2-0",
    "2.0-fast": "doubao-seedance-2-0-fast",
}

#: dialect -> family -> wire id. A family missing from a dialect is not offered there.
WIRE_IDS: Mapping[str, Mapping[str, str]] = {
    "ark": _VOLC,
    "comet-volc": _VOLC,
    "acedata": {**_VOLC, "2.0-mini": "doubao-seedance-2-0-mini-260615"},
    "byteplus": _BYTEPLUS,
    "comet": _COMET,
}

# --- capabilities (§2.2, §2.3) ----------------------------------------------------

RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
FIXED_RATIOS = RATIOS[:-1]
RESOLUTIONS = ("480p", "720p", "1080p", "4k")
MODES = ("t2v", "first", "first+last", "ref")
IMAGE_ROLES = ("first_frame", "last_frame", "reference_image")
IMAGE_FORMATS = ("jpeg", "png", "webp", "bmp", "tiff", "gif")
HEIF_FORMATS = ("heic", "heif")
COMET_IMAGE_FORMATS = ("jpeg", "png", "webp")

SEED_MIN, SEED_MAX = -1, 4294967295
FRAMES_MIN, FRAMES_MAX = 29, 289  # and frames % 4 == 1 (25 + 4n)
FPS = 24
DEFAULT_DURATION = 5
SERVICE_TIERS = ("default", "flex")
EXPIRES_MIN, EXPIRES_MAX, EXPIRES_DEFAULT = 3600, 259200, 172800
COMET_TASK_LIMIT_S = 172800


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

    def default_ratio(self, mode: str) -> str:
        if self.dialect == "comet":
            return "16:9"
        if self.family in ("1.5-pro",):
            return "adaptive"
        if self.family == "1.0-lite-t2v":
            return "16:9"
        if self.family == "1.0-lite-i2v":
            return "16:9" if mode == "ref" else "adaptive"
        return "16:9" if mode == "t2v" else "adaptive"

    def resolutions_for(self, mode: str) -> tuple[str, ...]:
        return self.ref_resolutions if mode == "ref" else self.resolutions

    def duration_text(self) -> str:
        text = f"{self.duration_min}-{self.duration_max}"
        return text + " or -1" if self.duration_auto else text


_COMET_UNSUPPORTED = ("frames", "seed", "camera_fixed", "watermark", "generate_audio",
                      "return_last_frame", "service_tier", "execution_expires_after",
                      "callback_url", "ref_videos", "ref_audios", "blocking")
_ONE_ZERO = ("1.0-pro", "1.0-pro-fast", "1.0-lite-t2v", "1.0-lite-i2v")
_TWO_ZERO = ("2.0", "2.0-fast", "2.0-mini")


def _ark_caps(family: str, dialect: str) -> Capabilities:
    one_zero = family in _ONE_ZERO
    two_zero = family in _TWO_ZERO
    if family in ("1.0-pro",):
        modes = ("t2v", "first", "first+last")
    elif family == "1.0-pro-fast":
        modes = ("t2v", "first")
    elif family == "1.0-lite-t2v":
        modes = ("t2v",)
    elif family == "1.0-lite-i2v":
        modes = ("first", "first+last", "ref")
    else:
        modes = MODES if two_zero else ("t2v", "first", "first+last")
    if family in ("2.0-fast", "2.0-mini"):
        res = ("480p", "720p")
    elif family == "2.0" and dialect == "acedata":
        res = ("480p", "720p", "1080p", "4k")
    else:
        res = ("480p", "720p", "1080p")
    ref_res = ("480p", "720p") if family == "1.0-lite-i2v" else res
    default_res = "1080p" if family in ("1.0-pro", "1.0-pro-fast") else "720p"
    if one_zero:
        dmin, dmax, auto = 2, 12, False
    elif family == "1.5-pro":
        dmin, dmax, auto = 4, 12, True
    else:
        dmin, dmax, auto = 4, 15, True
    fmts = IMAGE_FORMATS + (HEIF_FORMATS if family == "1.5-pro" else ())
    return Capabilities(
        family=family, dialect=dialect, model=WIRE_IDS[dialect][family], modes=modes,
        resolutions=res, ref_resolutions=ref_res, default_resolution=default_res,
        duration_min=dmin, duration_max=dmax, duration_auto=auto,
        frames=one_zero, camera_fixed=not two_zero,
        camera_fixed_in_ref=False, audio=not one_zero, flex=not two_zero,
        ratios=RATIOS,
        adaptive_modes=("first", "first+last") if one_zero else MODES,
        ref_images=(1, 4) if family == "1.0-lite-i2v" else (0, 9),
        ref_videos=3 if two_zero else 0, ref_audios=3 if two_zero else 0,
        image_formats=fmts, max_images=4 if family == "1.0-lite-i2v" else (9 if two_zero else 2),
    )


def _comet_caps(family: str) -> Capabilities:
    two_zero = family in _TWO_ZERO
    res = ("480p", "720p") if two_zero else ("480p", "720p", "1080p")
    dmin, dmax = {"2.0": (4, 15), "2.0-fast": (4, 15), "1.5-pro": (4, 12), "1.0-pro": (2, 10)}[family]
    return Capabilities(
        family=family, dialect="comet", model=WIRE_IDS["comet"][family],
        modes=("t2v", "first", "ref") if two_zero else ("t2v",),
        resolutions=res, ref_resolutions=res, default_resolution="720p",
        duration_min=dmin, duration_max=dmax, duration_auto=False,
        frames=False, camera_fixed=False, camera_fixed_in_ref=False, audio=False, flex=False,
        ratios=FIXED_RATIOS, adaptive_modes=(), ref_images=(1, 1), ref_videos=0, ref_audios=0,
        image_formats=COMET_IMAGE_FORMATS, max_images=1 if two_zero else 0,
        unsupported_fields=_COMET_UNSUPPORTED,
    )


_CAPS: dict[tuple[str, str], Capabilities] = {}
for _dialect, _ids in WIRE_IDS.items():
    for _family in _ids:
        _CAPS[(_family, _dialect)] = (_comet_caps(_family) if _dialect == "comet"
                                      else _ark_caps(_family, _dialect))


def capabilities(family: str, dialect: str) -> Optional[Capabilities]:
    """Capabilities of `family` on `dialect`, or None if the dialect does not offer it."""
    return _CAPS.get((family, dialect))


def families_for(dialect: str) -> tuple[str, ...]:
    return tuple(WIRE_IDS[dialect])


def dialect_of(provider: str, emulate: str = "ark") -> str:
    """The wire dialect a provider speaks (the emulator speaks `emulate`)."""
    if provider == "emulator":
        return emulate
    return provider


def family_of_wire_id(model: str) -> dict[str, str]:
    """{dialect: family} for every dialect that knows `model` as a wire id."""
    return {d: f for d, ids in WIRE_IDS.items() for f, w in ids.items() if w == model}


def resolve_model(name: Optional[str], dialect: str,
                  endpoints: Optional[Mapping[str, str]] = None) -> tuple[str, str]:
    """Return (family, wire id) for a user's model name on `dialect`.

    Raises ValueError with a one-line message a user can act on.
    """
    if not name:
        name = DEFAULT_FAMILY
    ids = WIRE_IDS[dialect]
    if name in FAMILIES:
        if name not in ids:
            offered = ", ".join(ids)
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
    raise ValueError(f"unknown model {name!r}; use a family key ({', '.join(FAMILIES)}) "
                     f"or a {dialect} wire id")


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
    table = _PIXELS_1_0 if family in _ONE_ZERO else _PIXELS_NEW
    return table[resolution][_RATIO_ORDER.index(ratio)]


def frame_count(duration: Optional[int], frames: Optional[int]) -> int:
    """Frames in the output: `frames` if set, else 24 * duration + 1."""
    if frames is not None:
        return frames
    return FPS * (DEFAULT_DURATION if duration in (None, -1) else duration) + 1


def video_tokens(width: int, height: int, n_frames: int) -> int:
    return width * height * n_frames // 1024


#: (dialect, family) -> CNY per million tokens, online inference, default tier.
PRICES_CNY_PER_M: Mapping[tuple[str, str], float] = {
    ("ark", "1.0-pro"): 15.0,
    ("ark", "1.0-pro-fast"): 4.2,
    ("ark", "1.0-lite-t2v"): 10.0,
    ("ark", "1.0-lite-i2v"): 10.0,
}
FLEX_FACTOR = 0.5


def price_per_million(dialect: str, family: str, tier: Optional[str] = None) -> Optional[float]:
    base = PRICES_CNY_PER_M.get((dialect, family))
    if base is None:
        return None
    return base * FLEX_FACTOR if tier == "flex" else base


# --- status words (§6.4) ------------------------------------------------------------

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
TERMINAL = frozenset({"succeeded", "failed", "cancelled", "expired"})
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
MAX_IMAGE_BYTES = 30 * 1024 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024
