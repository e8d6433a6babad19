"""The one field table (fields.py) and everything derived from it."""
from __future__ import annotations

import pytest

from seedance_nb import catalog, fields, flags, magics
from seedance_nb.request import FIELDS as REQUEST_FIELDS, VideoRequest


def test_every_request_field_is_in_the_table_in_reference_order() -> None:
    assert REQUEST_FIELDS == fields.NAMES
    attrs = [f for f in VideoRequest.__dataclass_fields__ if f in fields.BY_NAME]
    assert attrs == list(fields.NAMES)  # the dataclass follows §3's order too
    for f in fields.FIELDS:
        assert f.help and f.kind in ("resolution", "ratio", "choice", "int", "bool", "url", "id",
                                     "media")


def test_inline_flags_are_the_section_4_2_table() -> None:
    assert flags.FLAG_TABLE == (
        ("resolution", ("rs", "resolution"), "resolution"), ("ratio", ("rt", "ratio"), "ratio"),
        ("duration", ("dur", "duration"), "int"), ("frames", ("frames",), "int"),
        ("fps", ("fps", "framespersecond", "framepersecond"), "int"),
        ("seed", ("seed",), "int"), ("camera_fixed", ("cf", "camerafixed"), "bool"),
        ("watermark", ("wm", "watermark"), "bool"))
    assert flags.SHORT_FLAG["duration"] == "--dur"


def test_line_options_and_help_come_from_the_table() -> None:
    strings = {s for a in magics._PARSER._actions for s in a.option_strings}
    help_text = magics._PARSER.format_help()
    for f in fields.FIELDS:
        assert set(f.options) <= strings
        if f.options:
            assert f.options[0] in help_text
    assert set(fields.SHORTCUTS) <= strings
    assert "blocking" not in help_text  # Python only (§5.3)


def test_sweep_names_cover_every_sweepable_field() -> None:
    names = fields.sweep_names()
    for f in fields.FIELDS:
        if f.sweep:
            assert names[f.name] == f.name
            for spelling in f.flags:
                assert names[spelling] == f.name
    assert names["rs"] == "resolution" and names["audio"] == "generate_audio"
    assert names["format"] == "output_format" and names["model"] == "model"
    assert "draft_task_id" not in names and "ref_videos" not in names


@pytest.mark.parametrize("name, raw, value, reason", [
    ("resolution", "1080P", "1080p", None),
    ("resolution", "2k", None, "not a resolution; allowed: 480p, 720p, 1080p, 4k"),
    ("ratio", "ADAPTIVE", "adaptive", None),
    ("ratio", "9:21", None, "not a ratio; allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive"),
    ("duration", "-1", -1, None),
    ("duration", "+5", None, "not an integer; expected an integer number of seconds (-1: the "
                             "model chooses)"),
    ("watermark", "TRUE", True, None),
    ("watermark", "1", None, "not a boolean; allowed: true, false"),
    ("task_type", "Edit", "edit", None),
    ("task_type", "cut", None, "not a task type; allowed: auto, reference, edit, extend"),
    ("output_format", "mov", "mov", None),
    ("output_format", "avi", None, "not an output format; allowed: mp4, mov"),
    ("service_tier", "FLEX", "flex", None),
    ("callback_url", "https://h.example.com/x", "https://h.example.com/x", None),
    ("callback_url", "h.example.com", None, "not an absolute http(s) URL"),
    ("draft_task_id", "cgt-1", "cgt-1", None),
    ("ref_videos", "https://e.example.com/v.mp4", ("https://e.example.com/v.mp4",), None),
])
def test_text_values_parse_from_one_place(name, raw, value, reason) -> None:
    assert fields.BY_NAME[name].parse(raw) == (value, reason)


@pytest.mark.parametrize("name, raw, value, reason", [
    ("duration", True, None, "not an integer"),
    ("duration", 5.0, None, "not an integer"),
    ("draft", "true", None, "not a boolean; allowed: True, False"),
    ("resolution", 720, None, "not a string (int)"),
    ("ref_audios", "a.wav", ("a.wav",), None),
    ("ref_audios", [], None, None),
    ("ref_videos", 5, None, "give a source or a list of sources (http(s) URLs or asset:// ids)"),
    ("task_type", "\ud800", None, "character 1 (U+D800) is a lone surrogate that cannot be "
                                  "sent; remove it or fix the text's encoding"),
])
def test_python_values_coerce_from_one_place(name, raw, value, reason) -> None:
    assert fields.BY_NAME[name].coerce(raw) == (value, reason)


def _controls(family: str, dialect: str, mode: str) -> dict:
    caps = catalog.capabilities(family, dialect)
    return {c.name: c for c in fields.controls(caps, mode)}


def test_controls_follow_the_model_and_mode() -> None:
    first = _controls("2.5", "ark", "first")
    assert first["ratio"].choices == ("adaptive",) and first["ratio"].default == "adaptive"
    assert first["duration"].default == -1 and first["duration"].range == (4, 30)
    assert -1 in first["duration"].choices
    assert first["draft"].enabled and first["output_format"].choices == ("mp4", "mov")
    assert first["frames"].enabled is False and "no frames setting" in first["frames"].why
    fast = _controls("2.0-fast", "ark", "t2v")
    assert fast["resolution"].choices == ("480p", "720p") and fast["resolution"].default == "720p"
    assert fast["duration"].default == 5 and fast["draft"].enabled is False
    assert fast["generate_audio"].default is True
    assert _controls("2.0-fast", "acedata", "t2v")["generate_audio"].default is False
    comet = _controls("2.0", "comet", "t2v")
    assert not comet["seed"].enabled and "adaptive" not in comet["ratio"].choices
    assert not comet["blocking"].enabled


def test_controls_of_a_final_allow_only_what_a_final_takes() -> None:
    final = _controls("2.5", "byteplus", "final")
    enabled = {name for name, c in final.items() if c.enabled}
    assert enabled == {"draft_task_id", "resolution", "watermark", "callback_url"}
    assert final["resolution"].default == "1080p"
    assert final["seed"].why == "a final takes it from its draft"
