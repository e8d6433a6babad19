"""The panel's setting controls, generated from the one field table (`fields.controls`).

One widget per field the magic has a line option for. Every control has an "unset"
state (a "default (…)" entry, an empty text, an unticked box, seed -1), and only set
controls are sent: an untouched form builds the same request as a bare `%%seedance`
cell. `generate_audio` is three-way (default / on / off) because its default is on for
the 2.x models. Options follow the model and mode through `refresh(caps, mode)`.

Left out on purpose: `fps` (24 is the only value and nothing is sent) and `blocking`
(Python API only, no line option).
"""
from __future__ import annotations

import dataclasses
import html
from typing import Any

import ipywidgets as widgets

from .. import catalog
from .. import fields as _fields

STYLE = {"description_width": "130px"}
SKIP = ("fps", "blocking")
#: fields shown on the form's first rows; the rest go under "More settings"
MAIN = ("resolution", "ratio", "duration", "generate_audio")
MEDIA = ("ref_videos", "ref_audios")
#: settings a 2.5 draft cannot carry (§3); resolution is limited to 480p instead
_DRAFT_OFF = ("return_last_frame", "output_format", "service_tier")

LABELS = {"generate_audio": "Audio", "duration": "Duration (s)", "service_tier": "Tier",
          "execution_expires_after": "Expires after (s)", "callback_url": "Callback URL",
          "ref_videos": "Reference videos", "ref_audios": "Reference audios",
          "draft_task_id": "Final of draft", "output_format": "Format",
          "task_type": "Task type", "draft": "Draft (480p preview)",
          "return_last_frame": "Return last frame", "camera_fixed": "Camera fixed"}

_FRAME_STEP = 4  # 25 + 4n (§4.2)


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def _field_names() -> list[str]:
    return [f.name for f in _fields.FIELDS if f.options and f.name not in SKIP]


class Form:
    """`widgets[name]` for every field; `values()` the set ones, `shown(name)` for messages."""

    def __init__(self) -> None:
        self.widgets: dict[str, widgets.Widget] = {}
        for name in _field_names():
            self.widgets[name] = _make(name)

    # -- reading ---------------------------------------------------------------------------
    def value(self, name: str) -> Any:
        """The control's value, or None when it is unset or does not apply."""
        w = self.widgets[name]
        if w.disabled:
            return None
        v = w.value
        if isinstance(w, widgets.Checkbox):
            return True if v else None
        if name == "seed":
            return None if v == -1 else v
        if isinstance(w, widgets.Textarea):
            items = tuple(s.strip() for s in v.splitlines() if s.strip())
            return items or None
        if isinstance(w, widgets.Text):
            v = v.strip()
            if not v:
                return None
            if name == "execution_expires_after":  # typed digits; the table's parser checks
                parsed, _why = _fields.BY_NAME[name].parse(v)
                return parsed if parsed is not None else v
            return v
        return v

    def values(self) -> dict[str, Any]:
        """{field: value} of every set control, in table order."""
        out = {}
        for name in self.widgets:
            v = self.value(name)
            if v is not None:
                out[name] = v
        return out

    def shown(self, name: str, value: Any) -> str:
        """How a value reads on the form, e.g. "Resolution 720p"."""
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, tuple):
            text = ", ".join(value)
        else:
            text = str(value)
        return f"{label(name)} {text}"

    # -- following the model ---------------------------------------------------------------
    def refresh(self, caps: catalog.Capabilities, mode: str, draft: bool = False) -> list[str]:
        """Options, defaults and enabled state for `caps` in `mode`; returns hidden names."""
        hidden = []
        for ctl in _fields.controls(caps, mode):
            w = self.widgets.get(ctl.name)
            if w is None:
                continue
            ok, why = ctl.enabled, ctl.why
            if ok:
                ok, why = _mode_rule(ctl.name, caps, mode, draft)
            elif ctl.name == "camera_fixed" and not caps.camera_fixed:
                why = f"{caps.model} has no fixed-camera setting"
            elif ctl.name == "generate_audio" and not caps.audio:
                why = f"{caps.model} makes no audio"
            hide = ctl.name in caps.unsupported_fields
            if hide:
                hidden.append(ctl.name)
            if draft and ctl.name == "resolution":  # a draft is 480p (§3)
                ctl = dataclasses.replace(ctl, choices=("480p",), default="480p")
            choices = ctl.choices
            if isinstance(w, widgets.Dropdown):
                _set_options(w, _options(ctl, choices))
            elif ctl.name == "execution_expires_after":
                w.placeholder = f"default ({ctl.default})"
            _enable(w, ok, (why or ctl.help) if not ok else ctl.help, hide)
            if not ok and isinstance(w, widgets.Checkbox):
                w.value = False
        return hidden


def _mode_rule(name: str, caps: catalog.Capabilities, mode: str, draft: bool
               ) -> tuple[bool, str]:
    if name == "camera_fixed" and mode == "ref" and not caps.camera_fixed_in_ref:
        return False, "not in reference-image mode"
    if name == "service_tier" and not caps.flex:
        return False, f"{caps.model} has no flex tier (1.0 models only)"
    if draft and name in _DRAFT_OFF:
        return False, "a draft cannot set it (§3)"
    return True, ""


def _make(name: str) -> widgets.Widget:
    f = _fields.BY_NAME[name]
    desc, tip = label(name), f.help
    if name == "generate_audio":
        return widgets.Dropdown(options=[("default", None), ("on", True), ("off", False)],
                                index=0, description=desc, style=STYLE, tooltip=tip)
    if f.widget == "choice" or name in ("duration", "frames"):
        return widgets.Dropdown(options=[("default", None)], index=0, description=desc,
                                style=STYLE, tooltip=tip)
    if name == "seed":
        return widgets.IntText(value=-1, description="Seed", style=STYLE,
                               tooltip="-1 = random (the default: nothing is sent)")
    if f.widget == "bool":
        return widgets.Checkbox(value=False, description=desc, indent=True, style=STYLE,
                                tooltip=tip, layout=widgets.Layout(width="auto"))
    if f.widget == "list":
        return widgets.Textarea(placeholder="one per line: " + f.expected, description=desc,
                                style=STYLE, tooltip=tip,
                                layout=widgets.Layout(width="620px", height="48px"))
    return widgets.Text(placeholder=f.metavar, description=desc, style=STYLE, tooltip=tip,
                        layout=widgets.Layout(width="420px"))


def _options(ctl: _fields.Control, choices: tuple) -> list[tuple[str, Any]]:
    if ctl.name == "frames":
        lo, hi = ctl.range or (catalog.FRAMES_MIN, catalog.FRAMES_MAX)
        choices = tuple(range(lo, hi + 1, _FRAME_STEP))
    default = ctl.default
    if ctl.name == "generate_audio":
        first = f"default ({'on' if default else 'off'})"
        return [(first, None), ("on", True), ("off", False)]
    shown = "auto" if default == -1 else default
    first = "default" if default in (None, "default") else f"default ({shown})"
    out: list[tuple[str, Any]] = [(first, None)]
    out += [("auto (-1)" if c == -1 else str(c), c) for c in choices]
    return out


def _set_options(dd: widgets.Dropdown, options: list[tuple[str, Any]]) -> None:
    """New options; the user's choice stays if still offered, else back to the default."""
    values = [v for _, v in options]
    keep = dd.value if dd.value in values else None
    if list(dd.options) != options:
        dd.options = options
    unset(dd) if keep is None else setattr(dd, "value", keep)


def unset(dd: widgets.Dropdown) -> None:
    """Select the "default" entry (its value is None, which ipywidgets reads as "no
    selection" when assigned to `value`, so select it by index)."""
    dd.index = 0


def choices(dd: widgets.Dropdown) -> list[Any]:
    """The values a dropdown offers besides its "default" entry."""
    return [v for _, v in dd.options if v is not None]


def _enable(w: widgets.Widget, ok: bool, tip: str, hide: bool) -> None:
    w.disabled = not ok
    w.tooltip = tip
    w.layout.display = "none" if hide else ""


def notes_html(notes: list[str]) -> str:
    if not notes:
        return ""
    return ('<div style="font-size:85%;color:var(--jp-ui-font-color2,#555)">' +
            "<br>".join(html.escape(n) for n in notes) + "</div>")

