"""The panel as a `%%seedance` cell, and its inline-flag conflicts.

`cell_text` writes the magic line (provider, model, every set control as its line
option from the field table, images, name) and the prompt as the cell body, so running
the cell builds the same VideoRequest as the panel. Braces are doubled because the magic
fills `{name}` from the notebook.

Inline flags typed in the panel's prompt (decided here, reference §3 is about the magic):
- a flag for a control left unset sets it, as in a cell;
- a flag equal to its control's value is fine: the flag carries it, the control's copy
  is dropped (so there is no duplicate, and the cell text keeps only the flag);
- a flag that differs from its control's value is a conflict, one line naming both;
  nothing is sent until one of them changes;
- `--frames` against the Duration control (or `--dur` against Frames) is a conflict too,
  since a request takes only one length.
"""
from __future__ import annotations

import html
import shlex
from typing import Any, Callable

from .. import fields as _fields

_EXCLUSIVE = {"frames": "duration", "duration": "frames"}
_ROLES = {"first_frame": "--image", "last_frame": "--last-frame", "reference_image": "--ref"}


def split_flags(prompt: str, values: dict[str, Any], shown: Callable[[str, Any], str]
                ) -> tuple[dict[str, Any], list[str]]:
    """(control values without those a flag in `prompt` carries, conflict lines)."""
    from ..flags import parse_flags

    flags = parse_flags(prompt).flags
    out, conflicts = dict(values), []
    for name, fv in flags.items():
        if name in out:
            if out[name] == fv.value:
                del out[name]
            else:
                conflicts.append(f"{fv.label} in the prompt conflicts with the form's "
                                 f"{shown(name, out[name])}; change one of them")
        other = _EXCLUSIVE.get(name)
        if other in out and other not in flags:
            conflicts.append(f"{fv.label} in the prompt and the form's "
                             f"{shown(other, out[other])}: give only one length")
    return out, conflicts


def _option_words(name: str, value: Any) -> list[str]:
    f = _fields.BY_NAME[name]
    opt = f.options[0]
    if f.kind == "media":
        return [w for v in value for w in (opt, v)]
    if f.const is not None:  # --draft, --audio, --return-last-frame
        if value == f.const:
            return [opt]
        shortcut = next((o for o, (n, v) in _fields.SHORTCUTS.items()
                         if n == name and v == value), None)
        if shortcut:  # --no-audio
            return [shortcut]
        raise ValueError(f"{name}={value!r} has no line option")
    if isinstance(value, bool):
        return [opt, "true" if value else "false"]
    return [opt, str(value)]


def cell_text(prompt: str, kw: dict[str, Any], *, name: str = "", new: bool = False) -> str:
    """The `%%seedance` cell for request keywords `kw` (provider, model, images, fields)."""
    words = ["%%seedance"]
    for key in ("provider", "model"):
        if kw.get(key):
            words += [f"--{key}", str(kw[key])]
    for source, role in kw.get("images") or ():
        words += [_ROLES[role], source]
    for f in _fields.FIELDS:
        if f.name in kw and kw[f.name] is not None:
            words += _option_words(f.name, kw[f.name])
    if name:
        words += ["--name", name]
    if new:
        words.append("--new")
    line = " ".join(words[:1] + [shlex.quote(w) for w in words[1:]])
    body = prompt.replace("{", "{{").replace("}", "}}")
    # IPython refuses a cell magic with an empty body; an empty line is an empty prompt
    return f"{line}\n{body}" if body.strip() else f"{line}\n\n"


def copy_html(text: str, first: str = "") -> str:
    """The cell in a read-only box the user can select, and a Copy button that runs in
    the browser (the kernel cannot reach the clipboard). `first`: a line to run before."""
    note = (f"<div style='font-size:85%'>run <code>{html.escape(first)}</code> first (the "
            f"emulated dialect is a setting, not a line option)</div>") if first else ""
    rows = min(12, text.count("\n") + 2)
    return (f"{note}<textarea readonly rows='{rows}' style='width:620px;font-family:monospace'"
            f">{html.escape(text)}</textarea><br>"
            "<button class='seedance-copy-js' style='margin-top:4px;padding:2px 10px;"
            "background:var(--jp-layout-color2,#eee);color:var(--jp-ui-font-color1,#000);"
            "border:1px solid var(--jp-border-color1,#bbb);border-radius:2px' onclick=\""
            "const t=this.parentNode.querySelector('textarea'); t.select(); "
            "if (navigator.clipboard) "
            "{navigator.clipboard.writeText(t.value)} else {document.execCommand('copy')}; "
            "this.textContent='Copied'\">Copy to clipboard</button>")
