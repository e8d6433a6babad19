"""The control panel: a form whose choices follow the provider and model, and job cards.

The setting controls come from the one field table (`ui/form.py` over `fields.controls`),
so the panel has every setting the magic has and leaves unset what the user did not
choose. Inline flags in the prompt that disagree with a control are a conflict
(`ui/cell.py`). "Copy as %%seedance cell" shows the equivalent cell. Opening the panel
shows the recent jobs of this output folder (`ui/restore.py`), so cards come back after
a kernel restart. Where widgets cannot render, the panel's text/plain and text/html say
what the form holds.

Callbacks only validate and enqueue (they may run off the main thread in JupyterLab
4.4+ with ipykernel 7); job observers only set widget traits.
"""
from __future__ import annotations

import hashlib
import html
import re
import sys
import threading
from pathlib import Path
from typing import Any, Optional

import ipywidgets as widgets

from .. import catalog
from .. import fields as _fields
from .cards import JobCard
from .form import MAIN, MEDIA, STYLE, Form, notes_html

_W = STYLE
#: 2.5-only settings: hidden on other models, but not a gap of the route
_MODEL_LEVEL = ("draft", "draft_task_id", "task_type", "output_format")


def _settings() -> Any:
    """The settings object (`config.settings`; `config.defaults` until it exists)."""
    from .. import config

    found = getattr(config, "settings", None)
    return found if found is not None else config.defaults


def _provider_label(name: str) -> str:
    return f"{name} ({catalog.PROVIDER_INFO[name].service})"


class Panel(widgets.VBox):
    """`seedance_nb.Panel()`: generate videos from a form; one card per job below.

    `recent`: how many of this folder's latest ledger rows to show as cards (0: none).
    """

    def __init__(self, *, provider: Optional[str] = None, model: Optional[str] = None,
                 recent: Optional[int] = None) -> None:
        from ..config import default_emulate, default_provider
        from .restore import RECENT

        _enable_colab_widgets()
        settings = _settings()
        self._lock = threading.RLock()
        self._busy = False  # set while options are rewritten, so events do not cascade
        self.jobs: list[Any] = []
        self.cards: list[JobCard] = []
        p = provider or settings.provider or default_provider()
        if p not in catalog.PROVIDERS:
            p = "emulator"
        lay = widgets.Layout(width="420px")
        self.prompt = widgets.Textarea(placeholder="Describe the video…", description="Prompt",
                                       style=_W, layout=widgets.Layout(width="620px",
                                                                       height="70px"))
        self.prompt.add_class("seedance-prompt")
        self.provider = widgets.Dropdown(options=[(_provider_label(n), n) for n in catalog.PROVIDERS],
                                         value=p, description="Provider", style=_W, layout=lay)
        emulate = settings.emulate or default_emulate()
        self.emulate = widgets.Dropdown(options=list(catalog.DIALECTS),
                                        value=emulate if emulate in catalog.DIALECTS else "ark",
                                        description="Emulates", style=_W, layout=lay,
                                        tooltip="wire dialect the emulator speaks")
        self.model = widgets.Dropdown(description="Model", style=_W, layout=lay)
        self.form = Form()
        for name, w in self.form.widgets.items():  # panel.resolution, panel.seed, ...
            setattr(self, name, w)
        self.audio = self.form.widgets["generate_audio"]
        self.first_frame = widgets.FileUpload(accept="image/*", multiple=False,
                                              description="First frame")
        self.last_frame = widgets.FileUpload(accept="image/*", multiple=False,
                                             description="Last frame")
        self.ref_upload = widgets.FileUpload(accept="image/*", multiple=True,
                                             description="Reference images")
        src = dict(style=_W, placeholder="path, http(s) URL or asset://ID",
                   layout=widgets.Layout(width="520px"))
        self.first_frame_src = widgets.Text(description="First frame", **src)
        self.last_frame_src = widgets.Text(description="Last frame", **src)
        self.ref_images = widgets.Textarea(
            description="Reference images", style=_W,
            placeholder="one per line: path, http(s) URL or asset://ID (2.x models)",
            layout=widgets.Layout(width="620px", height="48px"))
        self.clear_images = widgets.Button(description="Clear images", icon="times")
        self.name = widgets.Text(description="Name", style=_W, placeholder="a label kept in "
                                 "the history", layout=widgets.Layout(width="420px"))
        self.new = widgets.Checkbox(value=False, description="New (never reuse an identical "
                                    "video)", indent=False)
        self.notes = widgets.HTML()
        self.estimate = widgets.HTML()
        self.problems = widgets.HTML()
        self.generate = widgets.Button(description="Generate", button_style="primary",
                                       icon="play")
        self.generate.add_class("seedance-generate")
        self.copy = widgets.Button(description="Copy as %%seedance cell", icon="copy",
                                   layout=widgets.Layout(width="auto"),
                                   tooltip="show the equivalent magic cell to copy")
        self.copy.add_class("seedance-copy-button")
        self.copy_out = widgets.HTML()
        self.copy_out.add_class("seedance-copy")
        self.cell = ""  # the last "Copy as cell" text
        self.restored = widgets.HTML()
        self.cards_box = widgets.VBox()
        self.cards_box.add_class("seedance-cards")
        self._initial_model = model or settings.model
        fw = self.form.widgets
        images = widgets.VBox([
            widgets.HBox([self.first_frame, self.last_frame, self.ref_upload, self.clear_images]),
            self.first_frame_src, self.last_frame_src, self.ref_images,
            *[fw[n] for n in MEDIA]])
        more = widgets.VBox([fw[n] for n in fw if n not in MAIN and n not in MEDIA] +
                            [self.name, self.new])
        self.sections = widgets.Accordion(children=[images, more],
                                          titles=("Images and references", "More settings"))
        form = widgets.VBox([
            self.prompt,
            widgets.HBox([self.provider, self.emulate]),
            self.model,
            widgets.HBox([fw["resolution"], fw["ratio"]]),
            widgets.HBox([fw["duration"], fw["generate_audio"]]),
            self.sections,
            self.notes, self.estimate, self.problems,
            widgets.HBox([self.generate, self.copy]), self.copy_out,
        ])
        super().__init__([form, self.restored, self.cards_box])
        self.add_class("seedance-panel")
        self._refresh_models()
        for w in (self.provider, self.emulate):
            w.observe(self._on_provider, names="value")
        self.model.observe(self._on_model, names="value")
        for w in (*fw.values(), self.first_frame_src, self.last_frame_src, self.ref_images):
            w.observe(self._on_model, names="value")  # may change the mode: refresh choices
        self.prompt.observe(self._on_field, names="value")
        for w, role in ((self.first_frame, "first_frame"), (self.last_frame, "last_frame"),
                        (self.ref_upload, "reference_image")):
            w.observe(lambda ch, role=role: self._on_upload(role, ch), names="value")
        self.clear_images.on_click(self._on_clear)
        self.generate.on_click(self._on_generate)
        self.copy.on_click(self._on_copy)
        self._restore(RECENT if recent is None else recent)

    # -- state ---------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return catalog.dialect_of(self.provider.value, self.emulate.value)

    @property
    def caps(self) -> catalog.Capabilities:
        caps = catalog.capabilities(self.model.value, self.dialect)
        assert caps is not None  # the model list only offers what the dialect has
        return caps

    def choices(self, name: str) -> list[Any]:
        """The values a setting's dropdown offers now (besides "default")."""
        from .form import choices

        return choices(self.form.widgets[name])

    def _raw(self, name: str) -> Any:
        """A field's typed value when the model takes that setting at all, else None."""
        if _fields.supported(name, self.caps) is not None:
            return None
        w = self.form.widgets[name]
        v = w.value
        return v.strip() if isinstance(v, str) else v

    @property
    def mode(self) -> str:
        """The mode the images, references and 2.5 settings give (§3)."""
        if self._raw("draft_task_id"):
            return "final"
        task = self._raw("task_type")
        if task in ("edit", "extend") and self._raw("ref_videos"):
            return task
        roles = [r for _, r in self._usable_images()]
        if "reference_image" in roles or self._raw("ref_videos") or self._raw("ref_audios"):
            return "ref"
        return _mode(roles)

    def _usable_images(self) -> list[tuple[str, str]]:
        """(source, role) of the images the model takes (the others are left out)."""
        caps = self.caps
        first, last = self.first_frame_src.value.strip(), self.last_frame_src.value.strip()
        if first and "first" not in caps.modes and "first+last" not in caps.modes:
            first = ""
        if last and (not first or "first+last" not in caps.modes):
            last = ""
        out = [(p, role) for p, role in ((first, "first_frame"), (last, "last_frame")) if p]
        if "ref" in caps.modes and caps.ref_images[1] > 0:
            out += [(s.strip(), "reference_image") for s in self.ref_images.value.splitlines()
                    if s.strip()]
        return out

    # -- option updates ------------------------------------------------------------------

    @staticmethod
    def _set_options(dd: widgets.Dropdown, options: list, preferred: Any) -> None:
        values = [o[1] if isinstance(o, tuple) else o for o in options]
        keep = dd.value if dd.value in values else preferred
        dd.options = options
        dd.value = keep if keep in values else values[0]

    def _refresh_models(self) -> None:
        with self._lock:
            self._busy = True
            try:
                self.emulate.layout.display = "" if self.provider.value == "emulator" else "none"
                # retired families stay in the catalog for old rows, not in the form (§2.4)
                ids = {fam: wire for fam, wire in catalog.WIRE_IDS[self.dialect].items()
                       if catalog.lifecycle(fam, self.dialect).live}
                options = [(f"{fam} ({wire})", fam) for fam, wire in ids.items()]
                preferred = self._initial_model if self._initial_model in ids else catalog.DEFAULT_FAMILY
                self._set_options(self.model, options, preferred)
                self._refresh_fields()
            finally:
                self._busy = False
        self._update_estimate()

    def _refresh_fields(self) -> None:
        caps, mode = self.caps, self.mode
        draft = bool(self._raw("draft")) and mode != "final"
        hidden = self.form.refresh(caps, mode, draft)
        self.resolution.tooltip = f"resolutions of {caps.model} on {self.dialect}"
        if "adaptive" in caps.ratios and "adaptive" not in self.choices("ratio"):
            self.ratio.tooltip = "adaptive: only with a first frame on 1.0 models"
        can_first = "first" in caps.modes
        self._enable(self.first_frame, can_first,
                     f"{caps.model} on {self.dialect} takes no first-frame image")
        can_last = "first+last" in caps.modes
        self._enable(self.last_frame, can_last and bool(self.first_frame_src.value.strip()),
                     f"{caps.model} on {self.dialect} takes no last frame" if not can_last
                     else "upload a first frame first")
        can_ref = "ref" in caps.modes and caps.ref_images[1] > 0
        why_ref = f"{caps.model} on {self.dialect} takes no reference images"
        self._enable(self.ref_upload, can_ref, why_ref, hide=not can_ref)
        self._enable(self.ref_images, can_ref, why_ref, hide=not can_ref)
        notes = []
        route = [n for n in hidden if n not in _MODEL_LEVEL]
        if route:
            notes.append(f"{self.dialect} does not take: "
                         f"{', '.join(n.replace('_', ' ') for n in route)}")
        if "t2v" not in caps.modes:
            notes.append(f"{caps.family} needs a first-frame image")
        if mode == "final":
            notes.append("a final takes its prompt, media and length from its draft")
        self.notes.value = notes_html(notes)

    @staticmethod
    def _enable(w: widgets.Widget, ok: bool, why: str, hide: bool = False) -> None:
        w.disabled = not ok
        w.tooltip = "" if ok else why
        w.layout.display = "none" if (hide and not ok) else ""

    def _on_provider(self, _change: Any) -> None:
        if self._busy:
            return
        self._refresh_models()

    def _on_model(self, _change: Any) -> None:
        if self._busy:
            return
        with self._lock:
            self._busy = True
            try:
                self._refresh_fields()
            finally:
                self._busy = False
        self._update_estimate()

    def _on_field(self, _change: Any) -> None:
        if not self._busy:
            self._update_estimate()

    def _on_upload(self, role: str, change: Any) -> None:
        files = change["new"]
        paths = [self._save_upload(f) for f in files]
        if role == "reference_image":
            if paths:
                known = self.ref_images.value.splitlines()
                self.ref_images.value = "\n".join([*[k for k in known if k.strip()],
                                                   *[p for p in paths if p not in known]])
            return
        target = self.first_frame_src if role == "first_frame" else self.last_frame_src
        if paths:
            target.value = paths[0]
        elif role == "first_frame":  # the first frame removed: a last frame alone is no mode
            self.first_frame_src.value = ""
            self.last_frame_src.value = ""

    def _on_clear(self, _b: Any) -> None:
        with self._lock:
            self._busy = True
            try:
                for w in (self.first_frame_src, self.last_frame_src, self.ref_images):
                    w.value = ""
                for up in (self.first_frame, self.last_frame, self.ref_upload):
                    up.value = ()
            finally:
                self._busy = False
        self._on_model(None)

    @staticmethod
    def _save_upload(item: Any) -> str:
        """Keep an uploaded image in the output folder, named by content."""
        data = bytes(item["content"])
        name = re.sub(r"[^A-Za-z0-9._-]", "_", item.get("name") or "image")[-60:]
        folder = Path(_settings().output_dir or "seedance-output") / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"
        if not dest.exists():
            dest.write_bytes(data)
        return str(dest)

    # -- requests ------------------------------------------------------------------------

    def _kwargs(self) -> tuple[dict[str, Any], list[str]]:
        """(the form as build_request keywords, conflicts with the prompt's flags)."""
        from .cell import split_flags

        values, conflicts = split_flags(self.prompt.value, self.form.values(), self.form.shown)
        kw: dict[str, Any] = {"provider": self.provider.value, "model": self.model.value,
                              **values}
        images = self._usable_images()
        if images and self.mode not in ("final",):
            kw["images"] = images
        return kw, conflicts

    def request_kwargs(self) -> dict[str, Any]:
        """The form as keyword arguments for build_request / submit (set controls only;
        a control an inline flag of the prompt also gives is left to the flag)."""
        return self._kwargs()[0]

    @property
    def conflicts(self) -> list[str]:
        """One line per inline flag that disagrees with a control."""
        return self._kwargs()[1]

    def build(self) -> Any:
        from ..errors import SeedanceValidationError
        from ..request import build_request

        kw, conflicts = self._kwargs()
        if conflicts:
            raise SeedanceValidationError(conflicts)
        if kw["provider"] == "emulator":
            kw["emulate"] = self.emulate.value
        return build_request(self.prompt.value, **kw)

    def cell_text(self) -> str:
        """The `%%seedance` cell that builds the same request as this form."""
        from .cell import cell_text

        return cell_text(self.prompt.value, self.request_kwargs(),
                         name=self.name.value.strip(), new=self.new.value)

    def _update_estimate(self) -> None:
        from .. import display as _display
        from ..errors import SeedanceError

        try:
            req = self.build()
        except SeedanceError as exc:
            self.estimate.value = ""
            if self.prompt.value.strip() or self.mode != "t2v" or self.conflicts:
                self.problems.value = _problems_html(exc)
            else:
                self.problems.value = ""
            return
        except Exception:  # the request module may still be loading in a fresh kernel
            return
        self.problems.value = ""
        est = _display.estimate_text(req)
        self.estimate.value = (f'<span class="seedance-estimate">estimate: '
                               f"{html.escape(est)}</span>" if est else "")

    def _on_copy(self, _b: Any = None) -> str:
        """Show the equivalent cell in a read-only box (and a browser-side Copy button)."""
        from ..errors import SeedanceError

        try:
            self.build()
        except SeedanceError as exc:
            self.problems.value = _problems_html(exc)
            self.copy_out.value = ""
            self.cell = ""
            return ""
        self.cell = text = self.cell_text()
        note = ""
        emulate = _settings().emulate or "ark"
        if self.provider.value == "emulator" and self.emulate.value != emulate:
            note = (f"<div style='font-size:85%'>run <code>%config Seedance.emulate = "
                    f"'{html.escape(self.emulate.value)}'</code> first</div>")
        rows = min(12, text.count("\n") + 2)
        self.copy_out.value = (
            f"{note}<textarea readonly rows='{rows}' style='width:620px;font-family:monospace'"
            f">{html.escape(text)}</textarea><br>"
            "<button class='seedance-copy-js' onclick=\"const t=this.parentNode"
            ".querySelector('textarea'); t.select(); if (navigator.clipboard) "
            "{navigator.clipboard.writeText(t.value)} else {document.execCommand('copy')}; "
            "this.textContent='Copied'\">Copy to clipboard</button>")
        return text

    def _on_generate(self, _b: Any = None) -> Optional[Any]:
        """Validate and enqueue; never wait."""
        from .. import display as _display
        from .. import jobs as _jobs
        from ..errors import SeedanceError

        try:
            self.build()
            kw = self.request_kwargs()
            if kw["provider"] == "emulator":
                kw["emulate"] = self.emulate.value
            key = _api_key()
            if key and kw["provider"] != "emulator":
                kw["api_key"] = key
            job = _jobs.submit(self.prompt.value, name=self.name.value.strip() or None,
                               new=self.new.value, **kw)
        except SeedanceError as exc:
            self.problems.value = _problems_html(exc)
            return None
        self.problems.value = ""
        self._add_card(job, self.prompt.value.strip()[:80] or "(image only)",
                       embed=_display.should_embed())
        return job

    def _add_card(self, job: Any, title: str, *, embed: bool = False) -> JobCard:
        """A card at the top of the list (`jobs`/`cards` stay oldest first)."""
        card = JobCard(job, title=title, embed=embed)
        card.panel_title = title
        with self._lock:
            self.jobs.append(job)
            self.cards.append(card)
            self.cards_box.children = (card, *self.cards_box.children)
        return card

    # -- after a restart -----------------------------------------------------------------

    def _restore(self, limit: int) -> None:
        """Cards for this folder's last `limit` ledger rows (newest first)."""
        from ..errors import SeedanceError
        from .restore import recent

        try:
            found, note = recent(limit, api_key=_api_key())
        except (SeedanceError, OSError) as exc:  # a foreign or newer ledger file
            self.restored.value = notes_html([f"earlier jobs not shown: {exc}"])
            return
        for job, title in reversed(found):  # oldest first: each newer one goes above it
            self._add_card(job, title)
        if found:
            head = f"{len(found)} recent job(s) of {_settings().output_dir}"
            self.restored.value = notes_html([head] + ([note] if note else []))

    # -- where widgets cannot render ------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = super()._repr_mimebundle_(**kwargs) or {}
        data["text/plain"] = self.text()
        data["text/html"] = self.html()
        return data

    def _summary(self) -> tuple[list[str], list[str]]:
        kw, conflicts = self._kwargs()
        head = [f"provider: {self.provider.value}" +
                (f" (emulating {self.emulate.value})" if self.provider.value == "emulator" else ""),
                f"model: {self.model.value} ({self.caps.model})"]
        head.append("prompt: " + (self.prompt.value.strip() or "(empty)"))
        values = self.form.values()
        head.append("settings: " + (", ".join(self.form.shown(n, v) for n, v in values.items())
                                    or "model defaults"))
        for source, role in kw.get("images") or ():
            head.append(f"{role.replace('_', ' ')}: {source}")
        head += [f"conflict: {c}" for c in conflicts]
        jobs = []
        for card in list(self.cards_box.children):
            job = card.job
            bits = [job.status or "pending", getattr(card, "panel_title", "")]
            if job.task_id:
                bits.append(f"task {job.task_id}")
            if job.video_path:
                bits.append(str(job.video_path))
            if job.error:
                bits.append(str(job.error).splitlines()[0])
            jobs.append(" · ".join(str(b) for b in bits if b))
        return head, jobs

    def text(self) -> str:
        """The panel as plain text (a terminal, a notebook saved without widget state)."""
        head, jobs = self._summary()
        lines = ["Seedance panel (interactive in Jupyter with ipywidgets)", *head]
        lines += (["jobs:"] + [f"  {j}" for j in jobs]) if jobs else ["jobs: none yet"]
        return "\n".join(lines)

    def html(self) -> str:
        head, jobs = self._summary()
        items = "".join(f"<li>{html.escape(h)}</li>" for h in head)
        rows = "".join(f"<li>{html.escape(j)}</li>" for j in jobs) or "<li>none yet</li>"
        return (f'<div class="seedance-panel-text"><b>Seedance panel</b> (interactive in '
                f"Jupyter with ipywidgets)<ul>{items}</ul>jobs:<ul>{rows}</ul></div>")

    def __repr__(self) -> str:
        return self.text()


def _api_key() -> Optional[str]:
    """The configured key (settings; `%config Seedance.api_key` until settings has it)."""
    key = getattr(_settings(), "api_key", None)
    return str.__str__(key) if key else None


def _enable_colab_widgets() -> None:
    """Colab renders ipywidgets 8 only through its custom widget manager."""
    if "google.colab" not in sys.modules:
        return
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception:  # an older Colab runtime: the panel may not render, nothing else breaks
        pass


def _mode(roles: list[str]) -> str:
    if "last_frame" in roles:
        return "first+last"
    return "first" if roles else "t2v"


def _problems_html(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None) or [str(exc)]
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return f'<ul class="seedance-problems" style="color:#c62828;margin:0">{items}</ul>'
