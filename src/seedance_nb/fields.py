"""The one specification of every request setting (reference §3, §4.2).

`FIELDS` is the table. Everything that reads a setting derives from it:
- `flags.py`: inline flags (`Field.flags`, §4.2) and their value syntax (`Field.parse`);
- `magic_line.py`: the `%%seedance` line options (`Field.options`), their help and
  `--sweep` names (`sweep_names()`);
- `request.py`: Python keyword values (`Field.coerce`) and unknown-keyword suggestions;
- `controls(caps, mode)`: one `Control` per setting for a form (kind, choices or range,
  the model's default, help text); the panel's form (`ui/form.py`) is built from it.

Parsing here is syntax only; checks that need the model, provider or mode live in
request.py. Nothing here does I/O.
"""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Optional

from . import catalog

_INT = re.compile(r"-?[0-9]+\Z")
_TEXT_ID = re.compile(r"\S+\Z")

#: kind -> what a widget shows: "choice" (dropdown), "int", "bool" (checkbox), "text", "list"
_WIDGET = {"resolution": "choice", "ratio": "choice", "choice": "choice", "int": "int",
           "bool": "bool", "url": "text", "id": "text", "media": "list"}


@dataclass(frozen=True)
class Field:
    """One settable field of the normalized request (§3)."""

    name: str  # VideoRequest attribute and Python keyword
    kind: str  # resolution | ratio | choice | int | bool | url | id | media
    help: str
    #: inline flag spellings without "--", short first (§4.2); () = not an inline flag
    flags: tuple[str, ...] = ()
    #: %%seedance line option spellings, preferred first; () = Python only
    options: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    range: Optional[tuple[int, int]] = None  # static bounds of an int (model bounds: caps)
    expected: str = ""  # "expected ..." after a missing or malformed value
    #: line option without a value: the value it stores (e.g. --draft -> True)
    const: Any = None
    sweep: bool = True  # may be swept with --sweep NAME=V1,V2
    dest: Optional[str] = None  # argparse dest when it differs from `name`
    metavar: str = "VALUE"
    #: short names only the magic knows (e.g. "audio" for generate_audio)
    extra_names: tuple[str, ...] = ()

    @property
    def flag(self) -> Optional[str]:
        """The short inline flag, e.g. "--dur", or None."""
        return "--" + self.flags[0] if self.flags else None

    @property
    def widget(self) -> str:
        return _WIDGET[self.kind]

    # -- text values: inline flags, line options, sweep values ---------------------------
    def parse(self, raw: str) -> tuple[Any, Optional[str]]:
        """(value, None) or (None, reason) for a value typed as text."""
        return _TEXT_PARSERS[self.kind](self, raw)

    # -- Python values -------------------------------------------------------------------
    def coerce(self, raw: Any) -> tuple[Any, Optional[str]]:
        """(value, None) or (None, reason) for a value given as a Python keyword."""
        return _PY_PARSERS[self.kind](self, raw)


def _choices_text(choices: tuple[str, ...]) -> str:
    return ", ".join(choices)


# --- text parsers ---------------------------------------------------------------------

def _t_int(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    if _INT.match(raw):
        return int(raw), None
    return None, "not an integer; " + f.expected


def _t_bool(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    low = raw.lower()
    if low == "true":
        return True, None
    if low == "false":
        return False, None
    return None, "not a boolean; allowed: true, false"


def _t_choice(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    low = raw.lower()
    if low in f.choices:
        return low, None
    what = f.name.replace("_", " ")
    article = "an" if what[0] in "aeiou" else "a"
    return None, f"not {article} {what}; allowed: {_choices_text(f.choices)}"


def _t_ratio(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    if raw in catalog.FIXED_RATIOS:
        return raw, None
    if raw.lower() == "adaptive":
        return "adaptive", None
    return None, "not a ratio; allowed: " + _choices_text(catalog.RATIOS)


def _t_url(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    if is_http_url(raw):
        return raw, None
    return None, "not an absolute http(s) URL"


def _t_id(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    if _TEXT_ID.match(raw):
        return raw, None
    return None, "not a task id (one word, e.g. cgt-20261201101500-k3v9x)"


def _t_media(f: Field, raw: str) -> tuple[Any, Optional[str]]:
    return (raw,), None  # sources are checked with the model known (request.py)


_TEXT_PARSERS: dict[str, Callable[[Field, str], tuple[Any, Optional[str]]]] = {
    "int": _t_int, "bool": _t_bool, "resolution": _t_choice, "choice": _t_choice,
    "ratio": _t_ratio, "url": _t_url, "id": _t_id, "media": _t_media,
}


# --- Python parsers -----------------------------------------------------------------------

def _p_int(f: Field, raw: Any) -> tuple[Any, Optional[str]]:
    if isinstance(raw, bool):
        return None, "not an integer"
    try:
        return operator.index(raw), None
    except TypeError:
        return None, "not an integer"


def _p_bool(f: Field, raw: Any) -> tuple[Any, Optional[str]]:
    if isinstance(raw, bool):
        return raw, None
    return None, "not a boolean; allowed: True, False"


def _p_str(f: Field, raw: Any) -> tuple[Any, Optional[str]]:
    if not isinstance(raw, str):
        return None, f"not a string ({type(raw).__name__})"
    problem = unencodable(raw)
    if problem:
        return None, problem
    return f.parse(raw)


def _p_media(f: Field, raw: Any) -> tuple[Any, Optional[str]]:
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(s, str) for s in items):
        return None, f"give a source or a list of sources ({f.expected})"
    for source in items:
        problem = unencodable(source)
        if problem:
            return None, problem
    return (tuple(items) or None), None


_PY_PARSERS: dict[str, Callable[[Field, Any], tuple[Any, Optional[str]]]] = {
    "int": _p_int, "bool": _p_bool, "resolution": _p_str, "choice": _p_str, "ratio": _p_str,
    "url": _p_str, "id": _p_str, "media": _p_media,
}


def is_http_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def unencodable(text: str) -> Optional[str]:
    """A reason when `text` cannot be sent as UTF-8 (a lone surrogate), else None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        return (f"character {exc.start + 1} (U+{ord(bad):04X}) is a lone surrogate that "
                f"cannot be sent; remove it or fix the text's encoding")
    return None


# --- the table (§3 order; the inline flags in §4.2 order among them) -----------------------

_RES = catalog.RESOLUTIONS
FIELDS: tuple[Field, ...] = (
    Field("ref_videos", "media", "reference video: http(s) URL or asset://ID (2.x models; "
          "repeatable)", options=("--ref-video",), dest="ref_video", sweep=False,
          expected="http(s) URLs or asset:// ids", metavar="URL"),
    Field("ref_audios", "media", "reference audio: http(s) URL, local .wav/.mp3, data: URL or "
          "asset://ID (2.x models; repeatable)", options=("--ref-audio",), dest="ref_audio",
          sweep=False, expected="http(s) URLs, .wav/.mp3 files, data: URLs or asset:// ids",
          metavar="URL|PATH"),
    Field("task_type", "choice", "2.5 reference task: auto, reference, edit or extend "
          "(edit/extend need --ref-video)", options=("--task-type",),
          choices=catalog.TASK_TYPES, metavar="TYPE",
          expected="expected one of " + _choices_text(catalog.TASK_TYPES)),
    Field("draft", "bool", "2.5: a cheap 480p draft; its task id can become the final video",
          options=("--draft",), const=True),
    Field("draft_task_id", "id", "2.5: make the 1080p final of this draft task (no prompt "
          "needed)", options=("--final", "--draft-task-id"), sweep=False, metavar="TASK_ID",
          expected="expected the draft's task id"),
    Field("output_format", "choice", "2.5: mp4 (default) or mov (for editing software)",
          options=("--format", "--output-format"), choices=catalog.OUTPUT_FORMATS,
          metavar="mp4|mov", expected="expected mp4 or mov"),
    Field("resolution", "resolution", "480p, 720p, 1080p or 4k, as the model allows",
          flags=("rs", "resolution"), options=("--resolution", "--rs"), choices=_RES,
          metavar="RES", expected="expected one of " + _choices_text(_RES)),
    Field("ratio", "ratio", "16:9, 4:3, 1:1, 3:4, 9:16, 21:9 or adaptive",
          flags=("rt", "ratio"), options=("--ratio", "--rt"), choices=catalog.RATIOS,
          metavar="RATIO", expected="expected one of " + _choices_text(catalog.RATIOS)),
    Field("duration", "int", "seconds; -1 lets the model choose (1.5-pro, 2.x)",
          flags=("dur", "duration"), options=("--duration", "--dur"), metavar="N",
          expected="expected an integer number of seconds (-1: the model chooses)"),
    Field("frames", "int", "frame count 25+4n in 29..289 (1.0 models; instead of --duration)",
          flags=("frames",), options=("--frames",), metavar="N",
          range=(catalog.FRAMES_MIN, catalog.FRAMES_MAX),
          expected="expected an integer 25+4n between 29 and 289"),
    Field("fps", "int", "24 only", flags=("fps", "framespersecond", "framepersecond"),
          options=("--fps", "--framespersecond", "--framepersecond"), metavar="N",
          range=(catalog.FPS, catalog.FPS), expected="expected 24"),
    Field("seed", "int", "-1 (random) to 4294967295", flags=("seed",), options=("--seed",),
          metavar="N", range=(catalog.SEED_MIN, catalog.SEED_MAX),
          expected=f"expected an integer from {catalog.SEED_MIN} to {catalog.SEED_MAX}"),
    Field("camera_fixed", "bool", "keep the camera still (1.0 models)", flags=("cf", "camerafixed"),
          options=("--camera-fixed", "--camerafixed", "--cf"), metavar="true|false",
          expected="expected true or false"),
    Field("watermark", "bool", "add the provider's watermark", flags=("wm", "watermark"),
          options=("--watermark", "--wm"), metavar="true|false",
          expected="expected true or false"),
    Field("generate_audio", "bool", "generate audio (1.5-pro and the 2.x models)",
          options=("--audio",), const=True, extra_names=("audio",)),
    Field("return_last_frame", "bool", "also fetch the last frame as a PNG (for chaining clips)",
          options=("--return-last-frame",), const=True),
    Field("service_tier", "choice", "default or flex (half price, hours of queueing; 1.0 models)",
          options=("--tier", "--service-tier"), choices=catalog.SERVICE_TIERS, metavar="TIER",
          expected="expected default or flex", extra_names=("tier",)),
    Field("execution_expires_after", "int", "seconds before an unfinished task expires "
          "(3600..259200)", options=("--expires", "--execution-expires-after"), metavar="N",
          range=(catalog.EXPIRES_MIN, catalog.EXPIRES_MAX),
          expected=f"expected seconds from {catalog.EXPIRES_MIN} to {catalog.EXPIRES_MAX}"),
    Field("callback_url", "url", "the gateway POSTs status changes here",
          options=("--callback-url",), metavar="URL", expected="expected an http(s) URL"),
    Field("blocking", "bool", "acedata only: hold the create until the video is done "
          "(Python API only)", sweep=False),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
#: field names in §3 order (besides model, prompt and images)
NAMES: tuple[str, ...] = tuple(BY_NAME)
#: inline flag spelling (without "--") -> Field
BY_FLAG: dict[str, Field] = {s: f for f in FIELDS for s in f.flags}
#: every inline spelling, table order (short before long), for suggestions
FLAG_SPELLINGS: tuple[str, ...] = tuple(BY_FLAG)
#: line option -> no-value line options that set a field to a fixed value
#: (the magic's --no-audio, --edit, --extend)
SHORTCUTS: dict[str, tuple[str, Any]] = {
    "--no-audio": ("generate_audio", False),
    "--edit": ("task_type", "edit"),
    "--extend": ("task_type", "extend"),
}
#: Features of the gateways this version refuses before sending (§2.2 notes).
NOT_SUPPORTED = ("tools", "priority", "safety_identifier", "human_face_mode")

#: The magic's own line options (not request fields) -> how to give it from Python.
MAGIC_ONLY_OPTIONS: dict[str, str] = {
    "--provider": "provider=", "--model": "model=", "--image": "images=",
    "--first-frame": "images=", "--last-frame": "images=", "--ref": "images=",
    "--wait": "", "--no-wait": "", "--name": "name=", "--new": "new=True", "--embed": "",
    "--dry-run": "", "--sweep": "",
}


def no_value_options() -> frozenset[str]:
    """Line options that take no value (--draft, --edit, --wait, ...)."""
    out = {o for f in FIELDS if f.const is not None for o in f.options}
    return frozenset(out | set(SHORTCUTS) | {"--wait", "--no-wait", "--new", "--embed",
                                              "--dry-run"})


def line_option_names() -> dict[str, str]:
    """Every %%seedance line option -> its Python spelling ("" when there is none)."""
    out = dict(MAGIC_ONLY_OPTIONS)
    for f in FIELDS:
        for opt in f.options:
            out.setdefault(opt, f"{f.name}=")
    for opt, (name, _) in SHORTCUTS.items():
        out.setdefault(opt, f"{name}=")
    return out


def sweep_names() -> dict[str, str]:
    """Name accepted in --sweep NAME=... -> field ("model" too)."""
    out: dict[str, str] = {"model": "model"}
    for f in FIELDS:
        if not f.sweep:
            continue
        names = (f.name, f.name.replace("_", "-")) + f.flags + f.extra_names
        names += tuple(o[2:] for o in f.options)
        for n in names:
            out.setdefault(n, f.name)
    return out


# --- what a panel widget needs ----------------------------------------------------------------

@dataclass(frozen=True)
class Control:
    """One setting as a form control for a model on a dialect in a mode."""

    name: str
    widget: str  # choice | int | bool | text | list
    help: str
    choices: tuple[Any, ...] = ()  # for "choice"; ints for duration
    range: Optional[tuple[int, int]] = None  # for "int"
    default: Any = None  # what the gateway uses when the setting is left unset
    enabled: bool = True
    why: str = ""  # why it is disabled


def supported(name: str, caps: "catalog.Capabilities") -> Optional[str]:
    """None when `caps` accepts the setting at all, else why not (one phrase)."""
    where = f"{caps.model} on {caps.dialect}"
    if name in caps.unsupported_fields:
        return f"not available for {where}"
    need = {"frames": caps.frames, "camera_fixed": caps.camera_fixed,
            "generate_audio": caps.audio, "draft": caps.draft,
            "draft_task_id": "final" in caps.modes,
            "task_type": "edit" in caps.modes or "extend" in caps.modes,
            "output_format": len(caps.output_formats) > 1,
            "ref_videos": caps.ref_videos > 0, "ref_audios": caps.ref_audios > 0,
            "blocking": caps.dialect == "acedata"}
    if not need.get(name, True):
        return f"{where} has no {name.replace('_', ' ')} setting"
    return None


def controls(caps: "catalog.Capabilities", mode: Optional[str] = None) -> list[Control]:
    """One Control per field for this model, dialect and mode (the panel's form)."""
    out = []
    for f in FIELDS:
        why = supported(f.name, caps)
        choices: tuple[Any, ...] = f.choices
        rng = f.range
        default: Any = None
        if f.name == "resolution":
            choices = caps.resolutions_for(mode)
            default = catalog.FINAL_RESOLUTION if mode == "final" else caps.default_resolution
        elif f.name == "ratio":
            only = mode in caps.adaptive_only_modes
            choices = ("adaptive",) if only else tuple(
                r for r in caps.ratios if r != "adaptive" or (mode or "t2v") in caps.adaptive_modes)
            default = caps.default_ratio(mode)
        elif f.name == "duration":
            rng = (caps.duration_min, caps.duration_max)
            choices = tuple(range(caps.duration_min, caps.duration_max + 1))
            choices += (-1,) if caps.duration_auto else ()
            default = -1 if mode == "edit" else caps.default_duration
        elif f.name == "output_format":
            choices, default = caps.output_formats, caps.output_formats[0]
        elif f.name == "service_tier":
            choices = catalog.SERVICE_TIERS if caps.flex else ("default",)
            default = "default"
        elif f.name == "task_type":
            choices = tuple(t for t in f.choices if t in ("auto", "reference") or t in caps.modes)
            default = "auto"
        elif f.name in ("seed",):
            default = -1
        elif f.name == "execution_expires_after":
            default = catalog.EXPIRES_DEFAULT
        elif f.name == "fps":
            default = catalog.FPS
        elif f.widget == "bool":
            default = f.name == "generate_audio" and caps.audio and caps.dialect != "acedata"
        if why is None and mode == "final" and f.name not in FINAL_FIELDS:
            why = "a final takes it from its draft"
        out.append(Control(f.name, f.widget, f.help, tuple(choices), rng, default,
                           why is None, why or ""))
    return out


#: The only settings a final (draft_task_id) may carry besides the model (§3).
FINAL_FIELDS = ("draft_task_id", "resolution", "watermark", "callback_url", "blocking")
