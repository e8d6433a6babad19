"""The control panel: a form whose choices follow the provider and model, and job cards.

Choices come from `catalog.capabilities`, so an invalid combination cannot be
picked; a control that does not apply is disabled and its tooltip says why.
Callbacks only validate and enqueue (they may run off the main thread in
JupyterLab 4.4+ with ipykernel 7); job observers only set widget traits.
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
from .cards import JobCard

_W = {"description_width": "110px"}


def _provider_label(name: str) -> str:
    return f"{name} ({catalog.PROVIDER_INFO[name].service})"


class Panel(widgets.VBox):
    """`seedance_nb.Panel()`: generate videos from a form; one card per job below."""

    def __init__(self, *, provider: Optional[str] = None, model: Optional[str] = None) -> None:
        from ..config import default_emulate, default_provider, defaults

        _enable_colab_widgets()
        self._lock = threading.RLock()
        self._busy = False  # set while options are rewritten, so events do not cascade
        self.jobs: list[Any] = []
        self.cards: list[JobCard] = []
        self._uploads: dict[str, Optional[str]] = {"first_frame": None, "last_frame": None}
        p = provider or defaults.provider or default_provider()
        if p not in catalog.PROVIDERS:
            p = "emulator"
        lay = widgets.Layout(width="420px")
        self.prompt = widgets.Textarea(placeholder="Describe the video…", description="Prompt",
                                       style=_W, layout=widgets.Layout(width="620px",
                                                                       height="70px"))
        self.provider = widgets.Dropdown(options=[(_provider_label(n), n) for n in catalog.PROVIDERS],
                                         value=p, description="Provider", style=_W, layout=lay)
        emulate = defaults.emulate or default_emulate()
        self.emulate = widgets.Dropdown(options=list(catalog.DIALECTS),
                                        value=emulate if emulate in catalog.DIALECTS else "ark",
                                        description="Emulates", style=_W, layout=lay,
                                        tooltip="wire dialect the emulator speaks")
        self.model = widgets.Dropdown(description="Model", style=_W, layout=lay)
        self.resolution = widgets.Dropdown(description="Resolution", style=_W)
        self.ratio = widgets.Dropdown(description="Ratio", style=_W)
        self.duration = widgets.Dropdown(description="Duration (s)", style=_W)
        self.seed = widgets.IntText(value=-1, description="Seed", style=_W,
                                    tooltip="-1 = random")
        self.camera_fixed = widgets.Checkbox(value=False, description="Camera fixed", indent=False)
        self.watermark = widgets.Checkbox(value=False, description="Watermark", indent=False)
        self.audio = widgets.Checkbox(value=False, description="Audio", indent=False)
        self.return_last_frame = widgets.Checkbox(value=False, description="Return last frame",
                                                  indent=False)
        self.draft = widgets.Checkbox(value=False, description="Draft (480p preview)",
                                      indent=False, tooltip="a cheap 2.5 draft; its card then "
                                      "offers the 1080p final")
        self.first_frame = widgets.FileUpload(accept="image/*", multiple=False,
                                              description="First frame")
        self.last_frame = widgets.FileUpload(accept="image/*", multiple=False,
                                             description="Last frame")
        self.clear_images = widgets.Button(description="Clear images", icon="times")
        self.notes = widgets.HTML()
        self.estimate = widgets.HTML()
        self.problems = widgets.HTML()
        self.generate = widgets.Button(description="Generate", button_style="primary",
                                       icon="play")
        self.generate.add_class("seedance-generate")
        self.cards_box = widgets.VBox()
        self._initial_model = model or defaults.model
        form = widgets.VBox([
            self.prompt,
            widgets.HBox([self.provider, self.emulate]),
            self.model,
            widgets.HBox([self.resolution, self.ratio, self.duration]),
            widgets.HBox([self.seed, self.camera_fixed, self.watermark, self.audio,
                          self.return_last_frame, self.draft]),
            widgets.HBox([self.first_frame, self.last_frame, self.clear_images]),
            self.notes, self.estimate, self.problems, self.generate,
        ])
        super().__init__([form, self.cards_box])
        self.add_class("seedance-panel")
        self._refresh_models()
        for w in (self.provider, self.emulate):
            w.observe(self._on_provider, names="value")
        self.model.observe(self._on_model, names="value")
        for w in (self.prompt, self.resolution, self.ratio, self.duration, self.seed,
                  self.camera_fixed, self.watermark, self.audio, self.return_last_frame, self.draft):
            w.observe(self._on_field, names="value")
        for w, role in ((self.first_frame, "first_frame"), (self.last_frame, "last_frame")):
            w.observe(lambda ch, role=role: self._on_upload(role, ch), names="value")
        self.clear_images.on_click(self._on_clear)
        self.generate.on_click(self._on_generate)

    # -- state ---------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return catalog.dialect_of(self.provider.value, self.emulate.value)

    @property
    def caps(self) -> catalog.Capabilities:
        caps = catalog.capabilities(self.model.value, self.dialect)
        assert caps is not None  # the model list only offers what the dialect has
        return caps

    @property
    def mode(self) -> str:
        """The mode the uploads give, limited to what the model takes."""
        return _mode(self._usable_images())

    def _usable_images(self) -> list[tuple[str, str]]:
        caps = self.caps
        first, last = self._uploads["first_frame"], self._uploads["last_frame"]
        if first and "first" not in caps.modes and "first+last" not in caps.modes:
            first = None
        if last and (not first or "first+last" not in caps.modes):
            last = None
        return [(p, role) for p, role in ((first, "first_frame"), (last, "last_frame")) if p]

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
        name = f"{caps.model} on {self.dialect}"
        self._set_options(self.resolution, list(caps.resolutions_for(mode)),
                          caps.default_resolution)
        self.resolution.tooltip = f"resolutions of {name}"
        ratios = [r for r in caps.ratios if r != "adaptive" or mode in caps.adaptive_modes]
        self._set_options(self.ratio, ratios, caps.default_ratio(mode))
        self.ratio.tooltip = ("adaptive: only with a first frame on 1.0 models"
                              if "adaptive" not in ratios and "adaptive" in caps.ratios else "")
        durations = [(f"{d}", d) for d in range(caps.duration_min, caps.duration_max + 1)]
        if caps.duration_auto:
            durations.append(("auto (-1)", -1))
        self._set_options(self.duration, durations, caps.default_duration)
        unsupported = set(caps.unsupported_fields)
        why_route = f"not available on {self.dialect}'s route"
        self._enable(self.seed, "seed" not in unsupported, why_route, hide=True)
        self._enable(self.watermark, "watermark" not in unsupported, why_route, hide=True)
        self._enable(self.return_last_frame, "return_last_frame" not in unsupported, why_route,
                     hide=True)
        if "camera_fixed" in unsupported:
            self._enable(self.camera_fixed, False, why_route, hide=True)
        elif not caps.camera_fixed:
            self._enable(self.camera_fixed, False, f"{caps.model} has no fixed-camera setting")
        else:
            self._enable(self.camera_fixed, mode != "ref", "not in reference-image mode")
        if "generate_audio" in unsupported:
            self._enable(self.audio, False, why_route, hide=True)
        else:
            self._enable(self.audio, caps.audio, f"{caps.model} makes no audio")
        self._enable(self.draft, caps.draft, f"{caps.model} has no draft mode (2.5 only)",
                     hide=True)
        can_first = "first" in caps.modes
        self._enable(self.first_frame, can_first,
                     f"{caps.model} on {self.dialect} takes no first-frame image")
        can_last = "first+last" in caps.modes
        self._enable(self.last_frame, can_last and bool(self._uploads["first_frame"]),
                     f"{caps.model} on {self.dialect} takes no last frame" if not can_last
                     else "upload a first frame first")
        notes = []
        hidden = [f for f in ("seed", "watermark", "camera_fixed", "generate_audio",
                              "return_last_frame") if f in unsupported]
        if hidden:
            notes.append(f"{self.dialect} does not take: {', '.join(hidden)}")
        if "t2v" not in caps.modes:
            notes.append(f"{caps.family} needs a first-frame image")
        self.notes.value = ('<div style="font-size:85%;color:#555">' +
                            "<br>".join(html.escape(n) for n in notes) + "</div>") if notes else ""

    @staticmethod
    def _enable(w: widgets.Widget, ok: bool, why: str, hide: bool = False) -> None:
        w.disabled = not ok
        w.tooltip = "" if ok else why
        w.layout.display = "none" if (hide and not ok) else ""
        if not ok and isinstance(w, widgets.Checkbox):
            w.value = False

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
        if files:
            self._uploads[role] = self._save_upload(files[0])
        if role == "first_frame" and not files:
            self._uploads["last_frame"] = None
        self._on_model(None)

    def _on_clear(self, _b: Any) -> None:
        self._uploads = {"first_frame": None, "last_frame": None}
        self.first_frame.value = ()
        self.last_frame.value = ()
        self._on_model(None)

    @staticmethod
    def _save_upload(item: Any) -> str:
        """Keep an uploaded image in the output folder, named by content."""
        from ..config import defaults

        data = bytes(item["content"])
        name = re.sub(r"[^A-Za-z0-9._-]", "_", item.get("name") or "image")[-60:]
        folder = Path(defaults.output_dir or "seedance-output") / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"
        if not dest.exists():
            dest.write_bytes(data)
        return str(dest)

    # -- requests ------------------------------------------------------------------------

    def request_kwargs(self) -> dict[str, Any]:
        """The form as keyword arguments for build_request / submit."""
        caps = self.caps
        unsupported = set(caps.unsupported_fields)
        kw: dict[str, Any] = {"provider": self.provider.value, "model": self.model.value,
                              "resolution": self.resolution.value, "ratio": self.ratio.value,
                              "duration": self.duration.value}
        if "seed" not in unsupported and self.seed.value != -1:
            kw["seed"] = self.seed.value
        if not self.camera_fixed.disabled and self.camera_fixed.value:
            kw["camera_fixed"] = True
        if "watermark" not in unsupported and self.watermark.value:
            kw["watermark"] = True
        if caps.audio and "generate_audio" not in unsupported:
            kw["generate_audio"] = bool(self.audio.value)
        if "return_last_frame" not in unsupported and self.return_last_frame.value:
            kw["return_last_frame"] = True
        if caps.draft and self.draft.value:  # a draft is 480p and returns no last frame (§3)
            kw.update(draft=True, resolution="480p")
            kw.pop("return_last_frame", None)
        images = self._usable_images()
        if images:
            kw["images"] = images
        # Inline flags typed in the prompt win over the form (the form is the default).
        from ..flags import parse_flags

        for name in parse_flags(self.prompt.value).flags:
            kw.pop(name, None)
        if "frames" in kw or "frames" in parse_flags(self.prompt.value).flags:
            kw.pop("duration", None)
        return kw

    def build(self) -> Any:
        from ..request import build_request

        kw = self.request_kwargs()
        if kw["provider"] == "emulator":
            kw["emulate"] = self.emulate.value
        return build_request(self.prompt.value, **kw)

    def _update_estimate(self) -> None:
        from .. import display as _display
        from ..errors import SeedanceError

        try:
            req = self.build()
        except SeedanceError as exc:
            self.estimate.value = ""
            if self.prompt.value.strip() or self.mode != "t2v":
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

    def _on_generate(self, _b: Any = None) -> Optional[Any]:
        """Validate and enqueue; never wait."""
        from .. import display as _display
        from .. import jobs as _jobs
        from ..errors import SeedanceError

        try:
            self.build()
            kw = self.request_kwargs()
            if kw["provider"] == "emulator":
                from ..config import defaults

                defaults.emulate = self.emulate.value
            magics = sys.modules.get("seedance_nb.magics")
            key = magics.configured_api_key() if magics is not None else None
            if key and kw["provider"] != "emulator":
                kw["api_key"] = key
            job = _jobs.submit(self.prompt.value, **kw)
        except SeedanceError as exc:
            self.problems.value = _problems_html(exc)
            return None
        self.problems.value = ""
        card = JobCard(job, title=self.prompt.value.strip()[:80] or "(image only)",
                       embed=_display.should_embed())
        with self._lock:
            self.jobs.append(job)
            self.cards.append(card)
            self.cards_box.children = (card, *self.cards_box.children)
        return job


def _enable_colab_widgets() -> None:
    """Colab renders ipywidgets 8 only through its custom widget manager."""
    if "google.colab" not in sys.modules:
        return
    try:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()
    except Exception:  # an older Colab runtime: the panel may not render, nothing else breaks
        pass


def _mode(images: list[tuple[str, str]]) -> str:
    roles = [r for _, r in images]
    if "last_frame" in roles:
        return "first+last"
    return "first" if roles else "t2v"


def _problems_html(exc: BaseException) -> str:
    problems = getattr(exc, "problems", None) or [str(exc)]
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return f'<ul class="seedance-problems" style="color:#c62828;margin:0">{items}</ul>'
