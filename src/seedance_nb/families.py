"""The model families as data (reference §2.1, §2.2, §2.3, §9): one `FamilySpec` each.

`catalog` derives per-dialect capabilities from these specs; a catalog file (§2.5) makes
new specs with `dataclasses.replace(like_spec, ...)`. Nothing here does I/O.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Optional

RATIOS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "adaptive")
FIXED_RATIOS = RATIOS[:-1]
#: Every mode a request can be in (§2.2, §3). edit/extend need reference videos (2.5);
#: final turns a 2.5 draft into its 1080p video.
MODES = ("t2v", "first", "first+last", "ref", "edit", "extend", "final")
IMAGE_FORMATS = ("jpeg", "png", "webp", "bmp", "tiff", "gif")
HEIF_FORMATS = ("heic", "heif")
OUTPUT_FORMATS = ("mp4", "mov")


@dataclass(frozen=True)
class Lifecycle:
    """`live`, or `retired` on a date with a suggested replacement family (§2.4)."""

    status: str = "live"
    retired_on: Optional[str] = None
    replacement: Optional[str] = None

    @property
    def live(self) -> bool:
        return self.status == "live"


LIVE = Lifecycle()


@dataclass(frozen=True)
class Price:
    """List price per million tokens (§9): without / with video input, per resolution."""

    currency: str
    per_million: float
    per_million_video_input: Optional[float] = None
    #: resolution -> (per_million, per_million_video_input) where it differs
    by_resolution: Mapping[str, tuple[float, Optional[float]]] = field(default_factory=dict)

    def rate(self, resolution: Optional[str] = None, video_input: bool = False) -> float:
        plain, with_video = self.by_resolution.get(resolution or "",
                                                   (self.per_million, self.per_million_video_input))
        return with_video if video_input and with_video is not None else plain


@dataclass(frozen=True)
class CometSpec:
    """What CometAPI's `/v1/videos` route offers for a family (§2.3)."""

    seconds: tuple[int, int]
    resolutions: tuple[str, ...]
    image: bool = True  # one input_reference


@dataclass(frozen=True)
class FamilySpec:
    key: str
    #: dialect -> wire id; a dialect left out does not offer the family
    ids: Mapping[str, str]
    modes: tuple[str, ...]
    resolutions: tuple[str, ...]
    default_resolution: str
    durations: tuple[int, int]
    duration_auto: bool  # -1 allowed
    default_duration: int = 5  # -1: the model picks (2.5)
    status: Lifecycle = LIVE
    #: dialect -> Lifecycle where a provider retired the family on its own date
    provider_status: Mapping[str, Lifecycle] = field(default_factory=dict)
    ref_resolutions: Optional[tuple[str, ...]] = None  # None: as `resolutions`
    frames: bool = False
    camera_fixed: bool = False
    camera_fixed_in_ref: bool = False
    audio: bool = False
    flex: bool = False
    draft: bool = False
    output_formats: tuple[str, ...] = ("mp4",)
    adaptive_modes: tuple[str, ...] = ()  # modes in which ratio "adaptive" is allowed
    adaptive_only_modes: tuple[str, ...] = ()  # modes that take no other ratio (2.5)
    default_ratio: Mapping[str, str] = field(default_factory=lambda: {"t2v": "16:9"})
    ref_images: tuple[int, int] = (0, 0)
    ref_videos: int = 0
    ref_audios: int = 0
    ref_total: int = 0
    #: dialect -> ref_total where a gateway differs (acedata takes 15 for 2.0)
    ref_total_by_dialect: Mapping[str, int] = field(default_factory=dict)
    audio_alone: bool = False  # a ref task may have only audio references
    image_formats: tuple[str, ...] = IMAGE_FORMATS
    pixel_table: str = "new"  # "1.0" or "new" (§10.5)
    comet: Optional[CometSpec] = None
    #: "ark" (CNY) and "byteplus" (USD) list prices
    prices: Mapping[str, Price] = field(default_factory=dict)
    #: dialect -> resolutions where a gateway differs
    resolutions_by_dialect: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: byteplus inputs accepted for this family and sent as the dated id
    aliases: Mapping[str, str] = field(default_factory=dict)
    #: typical seconds from create to success at 720p for a 5 s video (progress hint)
    typical_seconds: float = 60.0


def _ids(volc: str, byteplus: str, *, comet: Optional[str] = None, volc_on_comet: bool = True,
         acedata: bool = True) -> dict[str, str]:
    ids = {"ark": volc, "byteplus": byteplus}
    if acedata:
        ids["acedata"] = volc
    if volc_on_comet:
        ids["comet-volc"] = volc
    if comet:
        ids["comet"] = comet
    return ids


_ONE_ZERO_COMMON = dict(
    resolutions=("480p", "720p", "1080p"), durations=(2, 12), duration_auto=False,
    frames=True, camera_fixed=True, flex=True, pixel_table="1.0",
    adaptive_modes=("first", "first+last"),
    default_ratio={"t2v": "16:9", "first": "adaptive", "first+last": "adaptive"},
)
_TWO_ZERO_COMMON = dict(
    modes=("t2v", "first", "first+last", "ref"), default_resolution="720p",
    durations=(4, 15), duration_auto=True, audio=True,
    adaptive_modes=("t2v", "first", "first+last", "ref"),
    default_ratio={"t2v": "16:9", "first": "adaptive", "first+last": "adaptive",
                   "ref": "adaptive"},
    ref_images=(0, 9), ref_videos=3, ref_audios=3, ref_total=12,
    ref_total_by_dialect={"acedata": 15},
    image_formats=IMAGE_FORMATS + HEIF_FORMATS,
)
_RETIRED_1_5 = Lifecycle("retired", "2026-11-11", "2.0")
_RETIRED_LITE = Lifecycle("retired", "2026-05-13", "1.0-pro-fast")

BUILTIN: tuple[FamilySpec, ...] = (
    FamilySpec(
        key="2.5",
        ids={"ark": "doubao-seedance-2-5-260628", "acedata": "doubao-seedance-2-5-260628",
             "byteplus": "dreamina-seedance-2-5-260628", "comet": "seedance-2-5"},
        modes=("t2v", "first", "first+last", "ref", "edit", "extend", "final"),
        resolutions=("480p", "720p", "1080p"), default_resolution="720p",
        durations=(4, 30), duration_auto=True, default_duration=-1, audio=True, draft=True,
        output_formats=OUTPUT_FORMATS,
        adaptive_modes=("t2v", "first", "first+last", "ref", "edit", "extend"),
        adaptive_only_modes=("first", "first+last", "edit", "extend"),
        default_ratio={"t2v": "16:9", "first": "adaptive", "first+last": "adaptive",
                       "ref": "adaptive", "edit": "adaptive", "extend": "adaptive"},
        ref_images=(0, 30), ref_videos=10, ref_audios=10, ref_total=50, audio_alone=True,
        image_formats=IMAGE_FORMATS + HEIF_FORMATS,
        comet=CometSpec(seconds=(4, 30), resolutions=("480p", "720p", "1080p")),
        prices={"ark": Price("CNY", 70.0, 42.0, {"1080p": (77.0, 46.0)}),
                "byteplus": Price("USD", 10.70, 6.40, {"1080p": (11.70, 7.00)})},
        typical_seconds=90.0,
    ),
    FamilySpec(
        key="2.0",
        ids=_ids("doubao-seedance-2-0-260128", "dreamina-seedance-2-0-260128",
                 comet="doubao-seedance-2-0"),
        resolutions=("480p", "720p", "1080p", "4k"),
        comet=CometSpec(seconds=(4, 15), resolutions=("480p", "720p")),
        prices={"ark": Price("CNY", 46.0, 28.0, {"1080p": (51.0, 31.0)}),
                "byteplus": Price("USD", 7.00, 4.30, {"1080p": (7.70, 4.70), "4k": (4.00, 2.40)})},
        typical_seconds=75.0,
        **_TWO_ZERO_COMMON,
    ),
    FamilySpec(
        key="2.0-fast",
        ids=_ids("doubao-seedance-2-0-fast-260128", "dreamina-seedance-2-0-fast-260128",
                 comet="doubao-seedance-2-0-fast"),
        resolutions=("480p", "720p"),
        comet=CometSpec(seconds=(4, 15), resolutions=("480p", "720p")),
        prices={"ark": Price("CNY", 37.0, 22.0), "byteplus": Price("USD", 5.60, 3.30)},
        typical_seconds=45.0,
        **_TWO_ZERO_COMMON,
    ),
    FamilySpec(
        key="2.0-mini",
        ids=_ids("doubao-seedance-2-0-mini-260615", "dreamina-seedance-2-0-mini-260615",
                 volc_on_comet=False),
        resolutions=("480p", "720p"),
        aliases={"dreamina-seedance-2-0-mini": "byteplus"},
        prices={"ark": Price("CNY", 23.0, 14.0), "byteplus": Price("USD", 3.50, 2.10)},
        typical_seconds=40.0,
        **_TWO_ZERO_COMMON,
    ),
    FamilySpec(
        key="1.0-pro",
        ids=_ids("doubao-seedance-1-0-pro-250528", "seedance-1-0-pro-250528",
                 comet="doubao-seedance-1-0-pro"),
        provider_status={"comet": Lifecycle("retired", "2026-07-17", "2.0-fast")},
        modes=("t2v", "first", "first+last"), default_resolution="1080p",
        comet=CometSpec(seconds=(2, 10), resolutions=("480p", "720p", "1080p"), image=False),
        prices={"ark": Price("CNY", 15.0)},
        typical_seconds=60.0,
        **_ONE_ZERO_COMMON,
    ),
    FamilySpec(
        key="1.0-pro-fast",
        ids=_ids("doubao-seedance-1-0-pro-fast-251015", "seedance-1-0-pro-fast-251015"),
        modes=("t2v", "first"), default_resolution="1080p",
        prices={"ark": Price("CNY", 4.2)},
        typical_seconds=30.0,
        **_ONE_ZERO_COMMON,
    ),
    FamilySpec(
        key="1.5-pro",
        ids=_ids("doubao-seedance-1-5-pro-251215", "seedance-1-5-pro-251215",
                 comet="doubao-seedance-1-5-pro"),
        status=_RETIRED_1_5,
        modes=("t2v", "first", "first+last"), resolutions=("480p", "720p", "1080p"),
        default_resolution="720p", durations=(4, 12), duration_auto=True,
        camera_fixed=True, audio=True, flex=True,
        adaptive_modes=("t2v", "first", "first+last"),
        default_ratio={"t2v": "adaptive", "first": "adaptive", "first+last": "adaptive"},
        image_formats=IMAGE_FORMATS + HEIF_FORMATS,
        comet=CometSpec(seconds=(4, 12), resolutions=("480p", "720p", "1080p"), image=False),
    ),
    FamilySpec(
        key="1.0-lite-t2v",
        ids=_ids("doubao-seedance-1-0-lite-t2v-250428", "seedance-1-0-lite-t2v-250428",
                 volc_on_comet=False),
        status=_RETIRED_LITE, modes=("t2v",), default_resolution="720p",
        prices={"ark": Price("CNY", 10.0)},
        **_ONE_ZERO_COMMON,
    ),
    FamilySpec(
        key="1.0-lite-i2v",
        ids=_ids("doubao-seedance-1-0-lite-i2v-250428", "seedance-1-0-lite-i2v-250428",
                 volc_on_comet=False),
        status=_RETIRED_LITE, modes=("first", "first+last", "ref"), default_resolution="720p",
        ref_resolutions=("480p", "720p"), ref_images=(1, 4), ref_total=4,
        prices={"ark": Price("CNY", 10.0)},
        **{**_ONE_ZERO_COMMON,
           "default_ratio": {"first": "adaptive", "first+last": "adaptive", "ref": "16:9"}},
    ),
)
