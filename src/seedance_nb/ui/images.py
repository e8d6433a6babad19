"""The panel's images by role: first frame, last frame and reference images.

Each role has a source field (a path, an http(s) URL or asset://ID, as the magic's
`--image`, `--last-frame` and `--ref` take) and an upload button; an upload is kept in
`<output_dir>/uploads/` (named by content) and its path goes into the field, so the
"Copy as %%seedance cell" text can name it.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Callable

import ipywidgets as widgets

from .. import catalog
from .form import STYLE


class Images:
    """The image widgets of a panel; `usable(caps)` the (source, role) pairs to send."""

    def __init__(self, output_dir: Callable[[], str]) -> None:
        self._output_dir = output_dir
        self.first_frame = widgets.FileUpload(accept="image/*", multiple=False,
                                              description="First frame")
        self.last_frame = widgets.FileUpload(accept="image/*", multiple=False,
                                             description="Last frame")
        self.ref_upload = widgets.FileUpload(accept="image/*", multiple=True,
                                             description="Reference images")
        src = dict(style=STYLE, placeholder="path, http(s) URL or asset://ID",
                   layout=widgets.Layout(width="520px"))
        self.first_frame_src = widgets.Text(description="First frame", **src)
        self.last_frame_src = widgets.Text(description="Last frame", **src)
        self.ref_images = widgets.Textarea(
            description="Reference images", style=STYLE,
            placeholder="one per line: path, http(s) URL or asset://ID (2.x models)",
            layout=widgets.Layout(width="620px", height="48px"))
        self.clear = widgets.Button(description="Clear images", icon="times")
        for w, role in ((self.first_frame, "first_frame"), (self.last_frame, "last_frame"),
                        (self.ref_upload, "reference_image")):
            w.observe(lambda ch, role=role: self._on_upload(role, ch), names="value")
        self.sources = (self.first_frame_src, self.last_frame_src, self.ref_images)
        self.box = widgets.VBox([
            widgets.HBox([self.first_frame, self.last_frame, self.ref_upload, self.clear]),
            *self.sources])

    def usable(self, caps: catalog.Capabilities) -> list[tuple[str, str]]:
        """(source, role) of the images the model takes (the others are left out)."""
        first, last = self.first_frame_src.value.strip(), self.last_frame_src.value.strip()
        if first and "first" not in caps.modes and "first+last" not in caps.modes:
            first = ""
        if last and (not first or "first+last" not in caps.modes):
            last = ""
        out = [(p, role) for p, role in ((first, "first_frame"), (last, "last_frame")) if p]
        if _takes_refs(caps):
            out += [(s.strip(), "reference_image") for s in self.ref_images.value.splitlines()
                    if s.strip()]
        return out

    def refresh(self, caps: catalog.Capabilities, dialect: str,
                enable: Callable[..., None]) -> None:
        where = f"{caps.model} on {dialect}"
        enable(self.first_frame, "first" in caps.modes, f"{where} takes no first-frame image")
        can_last = "first+last" in caps.modes
        enable(self.last_frame, can_last and bool(self.first_frame_src.value.strip()),
               f"{where} takes no last frame" if not can_last else "upload a first frame first")
        refs = _takes_refs(caps)
        for w in (self.ref_upload, self.ref_images):
            enable(w, refs, f"{where} takes no reference images", hide=not refs)

    def clear_all(self) -> None:
        for w in self.sources:
            w.value = ""
        for up in (self.first_frame, self.last_frame, self.ref_upload):
            up.value = ()

    def _on_upload(self, role: str, change: Any) -> None:
        paths = [self.save(f) for f in change["new"]]
        if role == "reference_image":
            if paths:
                known = [k for k in self.ref_images.value.splitlines() if k.strip()]
                self.ref_images.value = "\n".join(known + [p for p in paths if p not in known])
            return
        target = self.first_frame_src if role == "first_frame" else self.last_frame_src
        if paths:
            target.value = paths[0]
        elif role == "first_frame":  # the first frame removed: a last frame alone is no mode
            self.first_frame_src.value = ""
            self.last_frame_src.value = ""

    def save(self, item: Any) -> str:
        """Keep an uploaded image in the output folder, named by content."""
        data = bytes(item["content"])
        name = re.sub(r"[^A-Za-z0-9._-]", "_", item.get("name") or "image")[-60:]
        folder = Path(self._output_dir() or "seedance-output") / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{hashlib.sha256(data).hexdigest()[:16]}-{name}"
        if not dest.exists():
            dest.write_bytes(data)
        return str(dest)


def _takes_refs(caps: catalog.Capabilities) -> bool:
    return "ref" in caps.modes and caps.ref_images[1] > 0
