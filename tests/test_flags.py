"""Inline flags (reference §4): recognition, prompt building, value syntax, message shapes."""
from __future__ import annotations

import pytest

from seedance_nb import SeedanceFlagError, SeedanceValidationError, build_request
from seedance_nb.flags import FLAG_NAMES, all_flags_text, levenshtein, parse_flags, suggest


def problems_of(text: str, **kw) -> list[str]:
    kw.setdefault("provider", "ark")
    with pytest.raises(SeedanceFlagError) as err:
        build_request(text, **kw)
    return err.value.problems


# --- rule 1, 2, 7: tokens, flag names, prose survives --------------------------------------

PROSE = [
    "A fox — running — through snow",
    "a--b and c--d",
    "--Rs 720p stays because it has a capital",
    "--rs, is followed by a comma so it is prose",
    "--4k is not a flag name",
    "-- and --- are prose",
    "\"quoted --rs\" is prose? no: see below",
    "line one\nline two\n\n  indented line",
    "一只狐狸在雪中奔跑 🦊❄️ with emoji",
    "tabs\tstay\tput",
    "'single' and \"double\" quotes",
    "a–b en dash, a—b em dash, a‐b hyphen",
]


@pytest.mark.parametrize("text", [t for t in PROSE if "quoted" not in t])
def test_prose_without_flags_is_unchanged(text: str) -> None:
    parsed = parse_flags(text)
    assert parsed.prompt == text.strip()
    assert parsed.flags == {} and parsed.problems == () and parsed.warnings == ()


def test_quoted_flag_token_is_not_a_flag() -> None:
    # The token is `"--rs` (with the quote), which is not `--[a-z]+`.
    parsed = parse_flags('say "--rs 720p" please')
    assert parsed.prompt == 'say "--rs 720p" please' and parsed.flags == {}


@pytest.mark.parametrize("text, prompt", [
    ("A fox in snow --rs 720p", "A fox in snow"),
    ("--rs 720p A fox in snow", "A fox in snow"),
    ("A fox --rs 720p in snow", "A fox in snow"),
    ("A  fox --rs 720p  in snow", "A  fox  in snow"),
    ("A fox\n--rs 720p\nin snow", "A fox\nin snow"),
    ("A fox\n\n--rs 720p --dur 5\n\nin snow", "A fox\n\nin snow"),
    ("--rs 720p\n\nA fox", "A fox"),
    ("--rs 720p --dur 5 A fox", "A fox"),
    ("  A fox\t--seed 42\t", "A fox"),
    ("一只狐狸 --rs 720p 🦊 在雪中", "一只狐狸 🦊 在雪中"),
    ("A fox — --wm true — in snow", "A fox — — in snow"),
    ("A fox --seed 1\n", "A fox"),
])
def test_flags_are_removed_with_the_whitespace_before(text: str, prompt: str) -> None:
    assert parse_flags(text).prompt == prompt


def test_values_are_parsed_by_field_with_the_flag_as_typed() -> None:
    parsed = parse_flags("x --resolution 1080P --rt ADAPTIVE --dur -1 --cf TRUE --wm false "
                         "--seed 0 --framespersecond 24")
    assert parsed.values == {"resolution": "1080p", "ratio": "adaptive", "duration": -1,
                             "camera_fixed": True, "watermark": False, "seed": 0, "fps": 24}
    assert parsed.flags["resolution"].label == "--resolution 1080P"
    assert parsed.flags["fps"].flag == "--framespersecond"


@pytest.mark.parametrize("flag, field", sorted(FLAG_NAMES.items()))
def test_every_short_and_long_spelling_is_recognised(flag: str, field: str) -> None:
    value = {"resolution": "720p", "ratio": "16:9", "camera_fixed": "true",
             "watermark": "true"}.get(field, "24")
    parsed = parse_flags(f"x --{flag} {value}")
    assert list(parsed.flags) == [field] and parsed.problems == ()


# --- rule 3: `=` form; rule 5: missing value ---------------------------------------------

def test_equals_form_is_an_error() -> None:
    assert problems_of("A fox --rs=720p") == ["--rs=720p: write the value after a space: --rs 720p"]


def test_equals_form_with_empty_value() -> None:
    assert problems_of("A fox --dur=") == ["--dur=: write the value after a space: --dur <value>"]


def test_missing_value_at_end() -> None:
    assert problems_of("A fox --seed") == [
        "--seed: missing value; expected an integer from -1 to 4294967295"]


def test_missing_value_when_next_token_is_a_flag() -> None:
    assert problems_of("A fox --wm --dur 5") == ["--wm: missing value; expected true or false"]


def test_missing_value_when_next_token_is_an_equals_flag() -> None:
    probs = problems_of("A fox --rs --dur=5")
    assert probs == ["--rs: missing value; expected one of 480p, 720p, 1080p, 4k",
                     "--dur=5: write the value after a space: --dur 5"]


def test_negative_number_is_a_value_not_a_flag() -> None:
    assert parse_flags("x --seed -1").values == {"seed": -1}


def test_prose_token_after_a_flag_is_its_value() -> None:
    assert problems_of("A fox --rs — in snow") == [
        "--rs —: not a resolution; allowed: 480p, 720p, 1080p, 4k"]


# --- rule 4 and 8: `\--` escapes -----------------------------------------------------------

def test_escape_keeps_the_flag_text_and_warns() -> None:
    parsed = parse_flags(r"Write \--rs 720p on the sign")
    assert parsed.prompt == "Write --rs 720p on the sign"
    assert parsed.flags == {} and parsed.problems == ()
    assert parsed.warnings == ("the prompt still contains --rs (escaped with \\--); the gateway "
                               "may read it as a text command",)


def test_escape_of_an_unknown_name_does_not_warn() -> None:
    parsed = parse_flags(r"a \--foo b \--Rs c \-- d")
    assert parsed.prompt == "a --foo b --Rs c -- d" and parsed.warnings == ()


def test_only_a_leading_escape_is_removed() -> None:
    parsed = parse_flags(r"a\--b \\--rs x\--y")
    assert parsed.prompt == r"a\--b \\--rs x\--y"


def test_escape_warning_is_a_python_warning_of_build_request() -> None:
    with pytest.warns(UserWarning, match="text command"):
        req = build_request(r"A sign reading \--wm true", provider="ark")
    assert req.prompt == "A sign reading --wm true"
    assert req.warnings and "--wm" in req.warnings[0]


# --- rule 6: unknown flags ---------------------------------------------------------------

@pytest.mark.parametrize("typed, guess", [
    ("--resolutoin", "--resolution"),
    ("--rz", "--rs"),          # distance 1 to rs and rt: table order picks rs
    ("--durr", "--dur"),
    ("--frame", "--frames"),
    ("--sed", "--seed"),
    ("--watermarks", "--watermark"),
    ("--camrafixed", "--camerafixed"),
    ("--fsp", "--rs"),         # distance 2 to both fps and rs: table order picks rs
    ("--fpss", "--fps"),
])
def test_unknown_flag_suggests_the_closest_spelling(typed: str, guess: str) -> None:
    assert problems_of(f"A fox {typed} 5") == [f"{typed}: unknown flag; did you mean {guess}?"]


def test_unknown_flag_far_from_all_lists_every_flag() -> None:
    assert problems_of("A fox --quality high") == [
        "--quality: unknown flag; known flags: --rs/--resolution, --rt/--ratio, "
        "--dur/--duration, --frames, --fps/--framespersecond/--framepersecond, --seed, "
        "--cf/--camerafixed, --wm/--watermark"]
    assert all_flags_text().count("--") == 15


def test_levenshtein_and_ties() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "abc") == 3
    assert suggest("rx", ("rs", "rt")) == "rs"
    assert suggest("zzzzz", ("rs", "rt")) is None


# --- duplicates (aliases count) ---------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("A fox --rs 720p --resolution 1080p",
     "--resolution 1080p: duplicate of --rs 720p; give each setting once"),
    ("A fox --rs 720p --rs 720p", "--rs 720p: duplicate of --rs 720p; give each setting once"),
    ("A fox --fps 24 --framepersecond 24",
     "--framepersecond 24: duplicate of --fps 24; give each setting once"),
    ("A fox --wm true --watermark false",
     "--watermark false: duplicate of --wm true; give each setting once"),
    ("A fox --seed --seed 3", "--seed 3: duplicate of --seed; give each setting once"),
])
def test_duplicates(text: str, line: str) -> None:
    assert line in problems_of(text)


def test_flag_and_keyword_for_the_same_setting_is_a_duplicate() -> None:
    assert problems_of("A fox --rs 720p", resolution="1080p") == [
        "--rs 720p: duplicate of resolution='1080p'; give each setting once"]


def test_keyword_none_is_not_a_duplicate() -> None:
    assert build_request("A fox --rs 720p", provider="ark", resolution=None).resolution == "720p"


# --- value syntax ---------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("x --wm yes", "--wm yes: not a boolean; allowed: true, false"),
    ("x --wm 1", "--wm 1: not a boolean; allowed: true, false"),
    ("x --cf on", "--cf on: not a boolean; allowed: true, false"),
    ("x --dur +5", "--dur +5: not an integer; expected an integer number of seconds "
                   "(-1: the model chooses)"),
    ("x --dur 5.0", "--dur 5.0: not an integer; expected an integer number of seconds "
                    "(-1: the model chooses)"),
    ("x --seed 1_000", "--seed 1_000: not an integer; expected an integer from -1 to 4294967295"),
    ("x --seed ４２", "--seed ４２: not an integer; expected an integer from -1 to 4294967295"),
    ("x --frames 1e2", "--frames 1e2: not an integer; expected an integer 25+4n between 29 "
                       "and 289"),
    ("x --fps twenty", "--fps twenty: not an integer; expected 24"),
    ("x --rs 1080", "--rs 1080: not a resolution; allowed: 480p, 720p, 1080p, 4k"),
    ("x --rs 2k", "--rs 2k: not a resolution; allowed: 480p, 720p, 1080p, 4k"),
    ("x --rt 9:21", "--rt 9:21: not a ratio; allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive"),
    ("x --rt 16/9", "--rt 16/9: not a ratio; allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive"),
])
def test_bad_value_syntax(text: str, line: str) -> None:
    assert problems_of(text) == [line]


@pytest.mark.parametrize("text, field, value", [
    ("x --wm TRUE", "watermark", True),
    ("x --cf False", "camera_fixed", False),
    ("x --rs 4K", "resolution", "4k"),
    ("x --rt Adaptive", "ratio", "adaptive"),
    ("x --dur 007", "duration", 7),
    ("x --seed -0", "seed", 0),
])
def test_good_value_syntax(text: str, field: str, value: object) -> None:
    assert parse_flags(text).values == {field: value}


# --- §4.3 message shapes that depend on the model --------------------------------------

def test_not_allowed_for_the_model() -> None:
    assert problems_of("A fox --rs 1080p", model="2.0-fast") == [
        "--rs 1080p: not allowed for doubao-seedance-2-0-fast-260128 on ark; allowed: 480p, 720p"]


def test_unsupported_setting() -> None:
    assert problems_of("A fox --frames 121", model="1.5-pro") == [
        "--frames 121: not supported by doubao-seedance-1-5-pro-251215 on ark; use --dur "
        "(4-12 or -1)"]


def test_both_length_flags() -> None:
    assert problems_of("A fox --dur 5 --frames 121", model="1.0-pro") == [
        "--dur 5 and --frames 121: give only one of them"]


def test_frames_grid() -> None:
    assert problems_of("A fox --frames 120", model="1.0-pro") == [
        "--frames 120: must be 25+4n between 29 and 289 (e.g. 117, 121)"]


def test_fps() -> None:
    assert problems_of("A fox --fps 30") == ["--fps 30: only 24 is allowed"]


def test_all_problems_are_collected_in_text_order_then_model_checks() -> None:
    probs = problems_of("A fox --rs 1080p --resolutoin 5 --rs=720p --seed --wm yes --fps 30",
                        model="2.0-fast")
    assert probs == [
        "--resolutoin: unknown flag; did you mean --resolution?",
        "--rs=720p: write the value after a space: --rs 720p",
        "--seed: missing value; expected an integer from -1 to 4294967295",
        "--wm yes: not a boolean; allowed: true, false",
        "--rs 1080p: not allowed for doubao-seedance-2-0-fast-260128 on ark; allowed: 480p, 720p",
        "--fps 30: only 24 is allowed",
    ]


def test_flag_error_carries_non_flag_problems_too() -> None:
    probs = problems_of("--rs 9000p", seed=-5)
    assert probs == ["--rs 9000p: not a resolution; allowed: 480p, 720p, 1080p, 4k",
                     "seed=-5: out of range; allowed: -1 to 4294967295",
                     "prompt: empty after removing flags; text-to-video needs a prompt "
                     "(or give an image)"]


def test_keyword_only_problems_raise_validation_error() -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request("A fox", provider="ark", model="2.0-fast", resolution="1080p")
    assert not isinstance(err.value, SeedanceFlagError)
    assert err.value.problems == ["resolution='1080p': not allowed for "
                                  "doubao-seedance-2-0-fast-260128 on ark; allowed: 480p, 720p"]
    assert str(err.value) == err.value.problems[0]


# --- line options typed in the cell body (derived from fields.FIELDS) -------------------------

@pytest.mark.parametrize("text, prompt, problem", [
    ("a fox --model 2.0-fast", "a fox",
     "--model 2.0-fast: --model is a line option: put it on the %%seedance line (in Python: "
     "model=)"),
    ("a --draft fox", "a fox",  # --draft takes no value: "fox" stays in the prompt
     "--draft: --draft is a line option: put it on the %%seedance line (in Python: draft=)"),
    ("--edit make it snow", "make it snow",
     "--edit: --edit is a line option: put it on the %%seedance line (in Python: task_type=)"),
    ("a fox --final cgt-1", "a fox",
     "--final cgt-1: --final is a line option: put it on the %%seedance line (in Python: "
     "draft_task_id=)"),
])
def test_line_options_in_the_body_are_errors_that_say_where_they_go(text, prompt, problem):
    parsed = parse_flags(text)
    assert parsed.prompt == prompt and parsed.problems == (problem,)


def test_hyphenated_line_options_stay_prose_with_a_warning():
    parsed = parse_flags("a fox --ref-video https://e.example.com/v.mp4 --rs 720p")
    assert parsed.prompt == "a fox --ref-video https://e.example.com/v.mp4"
    assert parsed.values == {"resolution": "720p"} and parsed.problems == ()
    assert parsed.warnings == (
        "the prompt contains --ref-video, which stays in the prompt text: --ref-video is a "
        "line option: put it on the %%seedance line (in Python: ref_videos=)",)
    assert parse_flags("a fox --not-an-option x").warnings == ()
