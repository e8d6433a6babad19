"""Property-based tests (hypothesis) for flags and requests."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from _test_images_helpers import ALL_COMBOS, dialect
from seedance_nb import SeedanceFlagError, SeedanceValidationError, build_request, catalog
from seedance_nb.fields import line_option_names
from seedance_nb.flags import FLAG_NAMES, parse_flags

SETTINGS = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

_WS = st.sampled_from([" ", "  ", "\n", "\t", " \n ", "\u3000", "\xa0", "\x1f", "\u2003"])
_NAMES = sorted(FLAG_NAMES) + ["resolutoin", "foo", "r", "quality", "x", "durationn", "cfg"]
_VALUES = ["720p", "1080P", "4k", "2k", "16:9", "9:21", "adaptive", "ADAPTIVE", "5", "-1", "+5",
           "5.0", "1_0", "121", "120", "24", "30", "true", "False", "yes", "4294967296", "—",
           "", "--", "\\--rs", "一", "🦊"]


@st.composite
def flag_tokens(draw) -> str:
    kind = draw(st.integers(0, 5))
    name = draw(st.sampled_from(_NAMES))
    if kind == 0:
        return f"--{name}"
    if kind == 1:
        return f"--{name}={draw(st.sampled_from(_VALUES))}"
    if kind == 2:
        return f"\\--{name}"
    if kind == 3:
        return draw(st.sampled_from(["--", "---", "a--b", "--Rs", "--rs,", "--4k", "—",
                                     "\"--rs", "--last-frame", "--model", "--draft",
                                     "--ref-video"]))
    if kind == 4:
        return draw(st.sampled_from(_VALUES)) or "x"
    return draw(st.text(min_size=1, max_size=8))


flaggy_text = st.lists(st.tuples(flag_tokens(), _WS), max_size=14).map(
    lambda parts: "".join(tok + ws for tok, ws in parts))


def _no_flag_tokens(text: str) -> bool:
    return not any(tok.startswith("--") and re.fullmatch(r"--[a-z]+(=\S*)?", tok)
                   or tok.startswith("\\--") for tok in text.split())


@pytest.mark.filterwarnings("ignore::UserWarning")
@SETTINGS
@given(text=st.one_of(flaggy_text, st.text()), combo=st.sampled_from(ALL_COMBOS),
       family=st.sampled_from(catalog.FAMILIES + ("sora", None)),
       images=st.sampled_from([(), ["https://e.example.com/a.png"],
                               [("https://e.example.com/a.png", "reference_image")]]),
       extra=st.dictionaries(st.sampled_from(["resolution", "seed", "duration", "watermark",
                                              "draft", "ratio", "blocking", "fps", "task_type",
                                              "output_format", "draft_task_id", "ref_videos",
                                              "ref_audios"]),
                             st.one_of(st.none(), st.booleans(), st.integers(-3, 300),
                                       st.sampled_from(["720p", "16:9", "x", "edit", "extend",
                                                        "mov", "cgt-1", "asset://a1", "\ud800",
                                                        "https://e.example.com/v.mp4"])),
                             max_size=4))
def test_arbitrary_text_raises_only_our_two_errors(text, combo, family, images, extra) -> None:
    provider, emulate = combo
    if dialect(combo) == "comet":
        images = ()  # comet would try to download the URL
    try:
        req = build_request(text, provider=provider, emulate=emulate, model=family,
                            images=images, **extra)
    except (SeedanceFlagError, SeedanceValidationError) as err:
        assert err.problems and all("\n" not in line for line in err.problems)
        return
    assert req.prompt == req.prompt.strip()
    assert req.estimate().tokens_min > 0


@SETTINGS
@given(text=st.text())
def test_text_without_flag_tokens_comes_back_trimmed(text: str) -> None:
    assume(_no_flag_tokens(text))
    parsed = parse_flags(text)
    assert parsed.prompt == text.strip()
    assert parsed.flags == {} and parsed.problems == ()
    # Only a misplaced line option (prose by rule 2, e.g. --last-frame) earns a warning.
    misplaced = [t for t in text.split() if t in line_option_names()]
    assert len(parsed.warnings) == len(set(misplaced))


@SETTINGS
@given(prose=st.lists(st.text(min_size=1).filter(lambda t: t.split() == [t]), max_size=6),
       ws=st.lists(_WS, min_size=8, max_size=8))
def test_flags_between_prose_tokens_leave_the_prose(prose, ws) -> None:
    assume(_no_flag_tokens(" ".join(prose)))
    words = list(prose)
    text = ws[0].join(words[:1] + ["--seed", "7"] + words[1:]) + ws[1] + "--wm" + ws[2] + "true"
    parsed = parse_flags(text)
    assert parsed.values == {"seed": 7, "watermark": True}
    assert parsed.prompt.split() == words


@SETTINGS
@given(text=st.text())
def test_tokens_follow_str_split(text: str) -> None:
    from seedance_nb.flags import _TOKEN

    assert [m.group() for m in _TOKEN.finditer(text)] == text.split()


@st.composite
def valid_requests(draw):
    provider, emulate = draw(st.sampled_from(ALL_COMBOS))
    dia = dialect((provider, emulate))
    family = draw(st.sampled_from(catalog.families_for(dia)))
    caps = catalog.capabilities(family, dia)
    mode = draw(st.sampled_from([m for m in caps.modes if m in ("t2v", "first")]))
    images = ["https://e.example.com/a.png"] if mode == "first" and dia != "comet" else []
    if mode == "first" and not images:
        mode = "t2v" if "t2v" in caps.modes else None
    assume(mode is not None)
    fields: dict = {}
    if draw(st.booleans()):
        fields["resolution"] = draw(st.sampled_from(caps.resolutions_for(mode)))
    ratios = [r for r in caps.ratios if r != "adaptive" or mode in caps.adaptive_modes]
    if mode in caps.adaptive_only_modes:  # 2.5 frame tasks keep the image's shape (§2.2)
        ratios = ["adaptive"]
    if draw(st.booleans()):
        fields["ratio"] = draw(st.sampled_from(ratios))
    if caps.frames and draw(st.booleans()):
        fields["frames"] = draw(st.sampled_from([29, 121, 289]))
    elif draw(st.booleans()):
        lengths = list(range(caps.duration_min, caps.duration_max + 1))
        fields["duration"] = draw(st.sampled_from(lengths + [-1] * caps.duration_auto))
    optional = {"seed": st.integers(catalog.SEED_MIN, catalog.SEED_MAX),
                "watermark": st.booleans(), "return_last_frame": st.booleans(),
                "execution_expires_after": st.integers(3600, 259200),
                "callback_url": st.just("https://hooks.example.com/x"),
                "fps": st.just(24)}
    if caps.camera_fixed:
        optional["camera_fixed"] = st.booleans()
    if caps.audio:
        optional["generate_audio"] = st.booleans()
    if len(caps.output_formats) > 1:
        optional["output_format"] = st.sampled_from(caps.output_formats)
    optional["service_tier"] = st.sampled_from(["default", "flex"] if caps.flex else ["default"])
    for name, strategy in optional.items():
        if name not in caps.unsupported_fields and draw(st.booleans()):
            fields[name] = draw(strategy)
    words = draw(st.lists(st.sampled_from(["fox", "雪", "🦊", "a--b", "—", "\"q\"", "x\ny"]),
                          min_size=1, max_size=5))
    # Put some settings inline as flags, the rest as keywords.
    inline = {"resolution": "--rs", "ratio": "--rt", "duration": "--dur", "seed": "--seed",
              "frames": "--frames", "watermark": "--wm"}
    text = " ".join(words)
    for name in list(fields):
        if name in inline and draw(st.booleans()):
            value = fields.pop(name)
            text += f" {inline[name]} {str(value).lower() if isinstance(value, bool) else value}"
    return provider, emulate, family, text, images, fields


@SETTINGS
@given(spec=valid_requests())
def test_valid_requests_round_trip_through_to_dict(spec) -> None:
    provider, emulate, family, text, images, fields = spec
    original = build_request(text, provider=provider, emulate=emulate, model=family,
                             images=images, **fields)
    d = original.to_dict()
    assert all(value is not None for value in d.values())
    again = build_request(d.pop("prompt"), provider=d.pop("provider"), model=d.pop("model"),
                          images=[(i["source"], i["role"]) for i in d.pop("images", [])], **d)
    assert again == original
    assert again.fingerprint() == original.fingerprint()


_PLAIN = st.from_regex(r"[A-Za-z0-9_.~-]{0,12}", fullmatch=True)


@SETTINGS
@given(st.lists(st.tuples(st.one_of(st.text(max_size=8), _PLAIN),
                          st.one_of(st.text(max_size=12), _PLAIN)), max_size=6))
def test_query_strings_are_what_urlencode_writes(pairs) -> None:
    # the fast path for task ids must send the same URL as urlencode for any text
    from urllib.parse import urlencode

    from seedance_nb.http_send import _query

    assert _query(pairs) == urlencode(pairs)
