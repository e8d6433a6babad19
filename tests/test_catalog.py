"""The model catalog against the reference tables (§2.1-§2.3, §9, §10.5)."""
from __future__ import annotations

import pytest

from seedance_nb import catalog

ARK_JSON_DIALECTS = ("ark", "byteplus", "comet-volc", "acedata")

# §2.2 matrix, one row per family: modes, resolutions, default res, duration, -1, frames,
# camera_fixed, audio, flex.
MATRIX = {
    "1.0-pro": (("t2v", "first", "first+last"), ("480p", "720p", "1080p"), "1080p", (2, 12),
                False, True, True, False, True),
    "1.0-pro-fast": (("t2v", "first"), ("480p", "720p", "1080p"), "1080p", (2, 12), False, True,
                     True, False, True),
    "1.0-lite-t2v": (("t2v",), ("480p", "720p", "1080p"), "720p", (2, 12), False, True, True,
                     False, True),
    "1.0-lite-i2v": (("first", "first+last", "ref"), ("480p", "720p", "1080p"), "720p", (2, 12),
                     False, True, True, False, True),
    "1.5-pro": (("t2v", "first", "first+last"), ("480p", "720p", "1080p"), "720p", (4, 12), True,
                False, True, True, True),
    "2.0": (("t2v", "first", "first+last", "ref"), ("480p", "720p", "1080p", "4k"), "720p",
            (4, 15), True, False, False, True, False),
    "2.0-fast": (("t2v", "first", "first+last", "ref"), ("480p", "720p"), "720p", (4, 15), True,
                 False, False, True, False),
    "2.0-mini": (("t2v", "first", "first+last", "ref"), ("480p", "720p"), "720p", (4, 15), True,
                 False, False, True, False),
    "2.5": (("t2v", "first", "first+last", "ref", "edit", "extend", "final"),
            ("480p", "720p", "1080p"), "720p", (4, 30), True, False, False, True, False),
}
# §2.1: which Ark-JSON dialects offer a family at all
NOT_OFFERED = {("2.0-mini", "comet-volc"), ("2.5", "comet-volc"),
               ("1.0-lite-t2v", "comet-volc"), ("1.0-lite-i2v", "comet-volc")}
DRAFT_FIELDS = ("draft", "draft_task_id", "task_type", "output_format")


@pytest.mark.parametrize("dialect", ARK_JSON_DIALECTS)
@pytest.mark.parametrize("family", list(MATRIX))
def test_ark_json_matrix(family: str, dialect: str) -> None:
    caps = catalog.capabilities(family, dialect)
    if (family, dialect) in NOT_OFFERED:
        assert caps is None
        return
    modes, res, default_res, (dmin, dmax), auto, frames, cf, audio, flex = MATRIX[family]
    if dialect == "acedata":
        flex = False  # AceDataCloud removed flex (§2.2)
    assert caps.modes == modes
    assert caps.resolutions == res
    assert caps.default_resolution == default_res
    assert (caps.duration_min, caps.duration_max, caps.duration_auto) == (dmin, dmax, auto)
    assert (caps.frames, caps.camera_fixed, caps.audio, caps.flex) == (frames, cf, audio, flex)
    assert caps.camera_fixed_in_ref is False
    expected = () if family == "2.5" else DRAFT_FIELDS
    if dialect == "acedata":
        expected += ("service_tier",)
        if family.startswith("2."):
            expected += ("return_last_frame",)
    assert caps.unsupported_fields == expected


def test_two_five_specifics() -> None:
    caps = catalog.capabilities("2.5", "byteplus")
    assert caps.model == "dreamina-seedance-2-5-260628"
    assert caps.default_duration == -1 and caps.draft and caps.output_formats == ("mp4", "mov")
    assert caps.adaptive_only_modes == ("first", "first+last", "edit", "extend")
    assert (caps.ref_images, caps.ref_videos, caps.ref_audios, caps.ref_total) == ((0, 30), 10, 10, 50)
    assert caps.audio_alone
    two = catalog.capabilities("2.0", "ark")
    assert two.ref_total == 12 and not two.audio_alone and two.default_duration == 5
    assert catalog.capabilities("2.0", "acedata").ref_total == 15


# --- §2.4 life cycle ---------------------------------------------------------------------

@pytest.mark.parametrize("family, dialect, message", [
    ("1.5-pro", "ark", "model 1.5-pro: retired on 2026-11-11 (ark no longer serves "
                       "doubao-seedance-1-5-pro-251215); use 2.0 or 2.0-fast"),
    ("1.5-pro", "comet", "model 1.5-pro: retired on 2026-11-11 (comet no longer serves "
                         "doubao-seedance-1-5-pro); use 2.0 or 2.0-fast"),
    ("1.0-lite-t2v", "byteplus", "model 1.0-lite-t2v: retired on 2026-05-13 (byteplus no longer "
                                 "serves seedance-1-0-lite-t2v-250428); use 1.0-pro-fast or 2.0-fast"),
    ("1.0-pro", "comet", "model 1.0-pro: retired on 2026-07-17 (comet no longer serves "
                         "doubao-seedance-1-0-pro); use 2.0-fast"),
])
def test_retired_families_are_refused_with_their_replacement(family, dialect, message) -> None:
    assert catalog.retired_problem(family, dialect) == message
    assert not catalog.capabilities(family, dialect).live
    # still resolvable, so old ledger rows validate and are reused (§2.4)
    assert catalog.resolve_model(family, dialect)[0] == family


@pytest.mark.parametrize("family, dialect", [
    ("1.0-pro", "ark"), ("1.0-pro", "acedata"), ("2.5", "comet"), ("2.0-fast", "comet"),
    ("2.0-mini", "byteplus"),
])
def test_live_families_are_not_refused(family, dialect) -> None:
    assert catalog.retired_problem(family, dialect) is None


def test_default_family_is_live_everywhere() -> None:
    assert catalog.DEFAULT_FAMILY == "2.0-fast"
    for dialect in catalog.DIALECTS:
        assert catalog.capabilities(catalog.DEFAULT_FAMILY, dialect).live
    assert "1.5-pro" not in catalog.families_for("ark", live_only=True)
    assert "1.5-pro" in catalog.families_for("ark")


def test_unknown_model_lists_only_live_families() -> None:
    with pytest.raises(ValueError) as err:
        catalog.resolve_model("seedance-9", "ark")
    assert "2.5" in str(err.value) and "1.5-pro" not in str(err.value)


def test_lite_i2v_ref_mode_has_no_1080p_and_takes_1_to_4_images() -> None:
    caps = catalog.capabilities("1.0-lite-i2v", "ark")
    assert caps.resolutions_for("ref") == ("480p", "720p")
    assert caps.resolutions_for("first") == ("480p", "720p", "1080p")
    assert caps.ref_images == (1, 4)
    assert (caps.ref_videos, caps.ref_audios) == (0, 0)


@pytest.mark.parametrize("family", ["2.0", "2.0-fast"])
def test_two_zero_ref_limits(family: str) -> None:
    caps = catalog.capabilities(family, "byteplus")
    assert caps.ref_images == (0, 9) and caps.ref_videos == 3 and caps.ref_audios == 3


@pytest.mark.parametrize("family, mode, ratio", [
    ("1.0-pro", "t2v", "16:9"), ("1.0-pro", "first", "adaptive"),
    ("1.0-pro-fast", "first", "adaptive"), ("1.0-lite-t2v", "t2v", "16:9"),
    ("1.0-lite-i2v", "first", "adaptive"), ("1.0-lite-i2v", "ref", "16:9"),
    ("1.5-pro", "t2v", "adaptive"), ("1.5-pro", "first+last", "adaptive"),
    ("2.0", "t2v", "16:9"), ("2.0", "first", "adaptive"), ("2.0-fast", "ref", "adaptive"),
    ("2.5", "t2v", "16:9"), ("2.5", "edit", "adaptive"), ("2.5", "extend", "adaptive"),
])
def test_default_ratio(family: str, mode: str, ratio: str) -> None:
    assert catalog.capabilities(family, "ark").default_ratio(mode) == ratio


@pytest.mark.parametrize("family, adaptive_modes", [
    ("1.0-pro", ("first", "first+last")), ("1.0-lite-t2v", ("first", "first+last")),
    ("1.5-pro", ("t2v", "first", "first+last")), ("2.0", ("t2v", "first", "first+last", "ref")),
    ("2.5", ("t2v", "first", "first+last", "ref", "edit", "extend")),
])
def test_adaptive_modes(family: str, adaptive_modes: tuple) -> None:
    assert catalog.capabilities(family, "ark").adaptive_modes == adaptive_modes


# §2.3: comet /v1/videos
COMET = {
    "2.5": (("t2v", "first", "ref"), ("480p", "720p", "1080p"), (4, 30), 1),
    "2.0": (("t2v", "first", "ref"), ("480p", "720p"), (4, 15), 1),
    "2.0-fast": (("t2v", "first", "ref"), ("480p", "720p"), (4, 15), 1),
    "1.5-pro": (("t2v",), ("480p", "720p", "1080p"), (4, 12), 0),
    "1.0-pro": (("t2v",), ("480p", "720p", "1080p"), (2, 10), 0),
}


@pytest.mark.parametrize("family", list(COMET))
def test_comet_matrix(family: str) -> None:
    caps = catalog.capabilities(family, "comet")
    modes, res, (dmin, dmax), max_images = COMET[family]
    assert caps.modes == modes and caps.resolutions == res
    assert (caps.duration_min, caps.duration_max, caps.duration_auto) == (dmin, dmax, False)
    assert caps.max_images == max_images
    assert caps.ratios == ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
    assert caps.image_formats == ("jpeg", "png", "webp")
    assert caps.default_ratio("t2v") == "16:9" and caps.default_resolution == "720p"
    for name in ("frames", "seed", "camera_fixed", "watermark", "generate_audio",
                 "return_last_frame", "service_tier", "execution_expires_after",
                 "callback_url", "draft", "task_type", "output_format", "ref_videos"):
        assert name in caps.unsupported_fields


@pytest.mark.parametrize("family", ["1.0-pro-fast", "1.0-lite-t2v", "1.0-lite-i2v", "2.0-mini"])
def test_comet_does_not_offer(family: str) -> None:
    assert catalog.capabilities(family, "comet") is None


def test_heic_for_the_2x_families_and_1_5_pro_only() -> None:
    assert "heic" in catalog.capabilities("1.5-pro", "ark").image_formats
    assert "heif" in catalog.capabilities("2.0", "acedata").image_formats
    assert "heic" in catalog.capabilities("2.5", "byteplus").image_formats
    assert "heic" not in catalog.capabilities("1.0-pro", "ark").image_formats
    assert "heic" not in catalog.capabilities("2.5", "comet").image_formats


# --- §2.1 model names -------------------------------------------------------------------

@pytest.mark.parametrize("name, dialect, expected", [
    (None, "ark", ("2.0-fast", "doubao-seedance-2-0-fast-260128")),
    (None, "comet", ("2.0-fast", "doubao-seedance-2-0-fast")),
    ("2.5", "comet", ("2.5", "seedance-2-5")),
    ("2.0-mini", "ark", ("2.0-mini", "doubao-seedance-2-0-mini-260615")),
    ("dreamina-seedance-2-0-mini", "byteplus", ("2.0-mini", "dreamina-seedance-2-0-mini-260615")),
    ("1.5-pro", "ark", ("1.5-pro", "doubao-seedance-1-5-pro-251215")),
    ("1.0-pro", "byteplus", ("1.0-pro", "seedance-1-0-pro-250528")),
    ("2.0", "byteplus", ("2.0", "dreamina-seedance-2-0-260128")),
    ("2.0-fast", "comet", ("2.0-fast", "doubao-seedance-2-0-fast")),
    ("doubao-seedance-1-0-lite-i2v-250428", "ark",
     ("1.0-lite-i2v", "doubao-seedance-1-0-lite-i2v-250428")),
    ("2.0-mini", "acedata", ("2.0-mini", "doubao-seedance-2-0-mini-260615")),
    ("doubao-seedance-1-5-pro", "comet", ("1.5-pro", "doubao-seedance-1-5-pro")),
])
def test_resolve_model_accepts(name, dialect, expected) -> None:
    assert catalog.resolve_model(name, dialect) == expected


@pytest.mark.parametrize("name, dialect, fragment", [
    ("doubao-seedance-1-0-pro-250528", "byteplus", "on byteplus use seedance-1-0-pro-250528"),
    ("seedance-1-5-pro-251215", "ark", "on ark use doubao-seedance-1-5-pro-251215"),
    ("doubao-seedance-2-0-260128", "comet", "on comet use doubao-seedance-2-0"),
    ("2.0-mini", "comet", "model 2.0-mini is not offered on comet"),
    ("2.0-mini", "comet-volc", "not offered on comet-volc"),
    ("2.5", "comet-volc", "not offered on comet-volc"),
    ("dreamina-seedance-2-0-mini", "ark", "unknown model"),
    ("1.0-lite-t2v", "comet", "not offered on comet"),
    ("seedance-3", "ark", "unknown model 'seedance-3'"),
    ("ep-20250101-abc", "ark", "endpoint id ep-20250101-abc is not mapped"),
])
def test_resolve_model_rejects(name, dialect, fragment) -> None:
    with pytest.raises(ValueError) as err:
        catalog.resolve_model(name, dialect)
    assert fragment in str(err.value)


def test_endpoint_ids_need_a_mapping_on_ark_and_byteplus_only() -> None:
    endpoints = {"ep-1": "1.0-pro"}
    assert catalog.resolve_model("ep-1", "ark", endpoints) == ("1.0-pro", "ep-1")
    assert catalog.resolve_model("ep-1", "byteplus", endpoints) == ("1.0-pro", "ep-1")
    with pytest.raises(ValueError):
        catalog.resolve_model("ep-1", "comet-volc", endpoints)


# --- §10.5 pixels, §9 tokens and prices -----------------------------------------------------

@pytest.mark.parametrize("family, res, ratio, size", [
    ("1.0-pro", "720p", "16:9", (1248, 704)), ("1.0-lite-i2v", "480p", "21:9", (960, 416)),
    ("1.0-pro-fast", "1080p", "9:16", (1088, 1920)), ("1.5-pro", "720p", "16:9", (1280, 720)),
    ("2.0", "4k", "21:9", (4412, 1892)), ("2.0-fast", "480p", "4:3", (752, 560)),
])
def test_pixel_size(family, res, ratio, size) -> None:
    assert catalog.pixel_size(family, res, ratio) == size


def test_token_examples_of_the_reference() -> None:
    w, h = catalog.pixel_size("1.0-pro", "720p", "16:9")
    assert catalog.video_tokens(w, h, catalog.frame_count(5, None)) == 103818
    w, h = catalog.pixel_size("2.0", "720p", "16:9")
    assert catalog.video_tokens(w, h, catalog.frame_count(5, None)) == 108900
    assert catalog.frame_count(None, 121) == 121 and catalog.frame_count(None, None) == 121


def test_prices() -> None:
    assert catalog.price_per_million("ark", "1.0-pro") == 15.0
    assert catalog.price_per_million("ark", "1.0-pro", "flex") == 7.5
    assert catalog.price_per_million("ark", "1.0-pro-fast") == 4.2
    assert catalog.price_per_million("ark", "1.0-lite-i2v") == 10.0
    assert catalog.price_per_million("ark", "1.5-pro") is None
    assert catalog.price_per_million("byteplus", "1.0-pro") is None
    assert catalog.price_per_million("comet", "2.0") is None  # a reseller: reference only


@pytest.mark.parametrize("dialect, family, resolution, video_input, expected", [
    ("ark", "2.5", "720p", False, (70.0, "CNY", None)),
    ("ark", "2.5", "1080p", False, (77.0, "CNY", None)),
    ("ark", "2.5", "1080p", True, (46.0, "CNY", None)),
    ("byteplus", "2.0", "4k", True, (2.40, "USD", None)),
    ("byteplus", "2.0-mini", "720p", False, (3.50, "USD", None)),
    ("comet", "2.0-fast", "720p", False, (5.60, "USD", "byteplus list price")),
    ("acedata", "2.5", "480p", True, (6.40, "USD", "byteplus list price")),
    ("comet-volc", "2.0", "1080p", False, (51.0, "CNY", "ark list price")),
])
def test_list_prices(dialect, family, resolution, video_input, expected) -> None:
    quote = catalog.list_price(dialect, family, resolution, video_input=video_input)
    assert (quote.per_million, quote.currency, quote.reference) == expected
