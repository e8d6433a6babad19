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

import html
import sys
import threading
from typing import Any, Optional

import ipywidgets as widgets

from .. import catalog
from .. import fields as _fields
from .cards import JobCard
from .form import MAIN, MEDIA, STYLE, Form, notes_html
from .images import Images
from .panel_actions import PanelActions, _problems_html, _settings

_W = STYLE
#: 2.5-only settings: hidden on other models, but not a gap of the route
_MODEL_LEVEL = ("draft", "draft_task_id", "task_type", "output_format")


def _provider_label(name: str) -> str:
    return f"{name} ({catalog.PROVIDER_INFO[name].service})"


class Panel(PanelActions, widgets.VBox):
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
        self.images = Images(lambda: _settings().output_dir)
        im = self.images
        self.first_frame, self.last_frame, self.ref_upload = (im.first_frame, im.last_frame,
                                                              im.ref_upload)
        self.first_frame_src, self.last_frame_src = im.first_frame_src, im.last_frame_src
        self.ref_images, self.clear_images = im.ref_images, im.clear
        self.name = widgets.Text(description="Name", style=_W, placeholder="a label kept in "
                                 "the history", layout=widgets.Layout(width="420px"))
        self.new = widgets.Checkbox(value=False, description="New (never reuse an identical "
                                    "video)", indent=True, style=_W,
                                    layout=widgets.Layout(width="auto"))
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
        images = widgets.VBox([im.box, *[fw[n] for n in MEDIA]])
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
        for w in (*fw.values(), *im.sources):
            w.observe(self._on_model, names="value")  # may change the mode: refresh choices
        self.prompt.observe(self._on_field, names="value")
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
        return self.images.usable(self.caps)

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
        self.images.refresh(caps, self.dialect, self._enable)
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

    def _on_clear(self, _b: Any) -> None:
        with self._lock:
            self._busy = True
            try:
                self.images.clear_all()
            finally:
                self._busy = False
        self._on_model(None)

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
