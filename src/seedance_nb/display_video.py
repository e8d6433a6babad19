"""One video as HTML: the `<video>` element, its poster still, the download link, and
the last-frame fallback for a file browsers cannot play.

The HTML is an ordinary saved output: a `<video src=...>` element (no `<source>`,
which JupyterLab's sanitizer strips) pointing at the file relative to the kernel's
working directory (the notebook's folder in Lab and Notebook 7), or a base64
`data:` URL when embedding. The colours below are shared by the display modules.
"""
from __future__ import annotations

import base64
import html
import os
import sys
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from . import catalog

#: Videos larger than this are never embedded as base64 (notebooks would balloon).
MAX_EMBED_BYTES = 20 * 1024 * 1024

# JupyterLab's theme variables (dark themes look native), with light-theme fallbacks
# for Notebook 7, VS Code, nbviewer and exports.
MUTED = "var(--jp-ui-font-color2, #616161)"
BORDER = "var(--jp-border-color2, #e0e0e0)"
WELL = "var(--jp-layout-color2, #eeeeee)"  # behind videos and unfinished tiles
ACCENT = "var(--jp-brand-color1, #1565c0)"
ERROR = "var(--jp-error-color1, #c62828)"
STATUS_COLOUR = {"succeeded": "var(--jp-success-color1, #2e7d32)", "failed": ERROR,
                 "rejected": ERROR, "expired": ERROR, "cancelled": MUTED,
                 "unknown": "var(--jp-warn-color1, #ef6c00)"}
#: CSS for a line cut with "…" instead of wrapping (tile titles and captions).
ONE_LINE = ";white-space:nowrap;overflow:hidden;text-overflow:ellipsis"
ENDED = catalog.JOB_ENDED


def is_colab() -> bool:
    """True inside Google Colab, where the kernel's files are not served to the page."""
    return "google.colab" in sys.modules


def should_embed(policy: str = "auto") -> bool:
    """Resolve an embed policy ("auto" | "always" | "never") for this frontend."""
    if policy == "always":
        return True
    if policy == "never":
        return False
    return is_colab()


def video_src(path: str | os.PathLike, base_dir: str | os.PathLike | None = None) -> str:
    """URL for a local file as seen from the notebook: relative to `base_dir` (cwd)."""
    path = Path(path).resolve()
    base = Path(base_dir if base_dir is not None else os.getcwd()).resolve()
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # another drive on Windows: no relative path exists
        return path.as_uri()
    return quote(rel.replace(os.sep, "/"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + b64(path.read_bytes())


def _link(path: Path, base_dir: str | os.PathLike | None, text: str) -> str:
    rel = video_src(path, base_dir)
    return (f'<a href="{html.escape(rel, quote=True)}" download="{html.escape(path.name)}" '
            f'title="{html.escape(path.name, quote=True)}" '
            f'target="_blank">{html.escape(text)}</a>')


def last_frame_for(path: str | os.PathLike) -> Optional[Path]:
    """The `<provider>-<id>-last.png` saved next to a result, if there is one."""
    path = Path(path)
    candidate = path.with_name(path.stem + "-last.png")
    return candidate if candidate.is_file() else None


def poster_png(path: str | os.PathLike) -> Optional[Path]:
    """The cached still of a finished video (`posters.poster_for`), None if there is none."""
    try:
        from . import posters

        return posters.poster_for(path)
    except Exception:  # Pillow/PyAV trouble must never break the display
        return None


def video_html(path: str | os.PathLike, *, embed: bool = False,
               base_dir: str | os.PathLike | None = None,
               max_embed_bytes: int = MAX_EMBED_BYTES, width: Optional[int] = 480,
               caption: str = "", last_frame: str | os.PathLike | None = None,
               make_preview: bool = True, box: Optional[tuple[int, int]] = None,
               badge: str = "", poster: str = "data") -> str:
    """HTML showing a local video: `<video src=... controls playsinline>` and a download link.

    With `embed`, the file becomes a base64 `data:` URL unless it is bigger than
    `max_embed_bytes`; then it stays file-backed and a note says why. A file browsers
    cannot play (MOV, yuv444p, H.265) is shown through its H.264 preview (§8 Previews,
    made with PyAV if needed) with a link to the original; without a preview the last
    frame (or just a link) is shown, with one line saying why.

    The video is at most `width` px wide and tall, its aspect kept; `box` (w, h) fits
    it inside a fixed box instead (gallery tiles). `poster` "data" adds a small still
    as a `data:` URL, so a saved notebook shows the frame where the file is not served;
    "file" links the cached still instead (cheap while a display is still updating);
    "" adds none.
    `badge` is HTML put after the caption (e.g. "reused · no charge").
    """
    from . import preview as _preview

    path = Path(path)
    pv = (_preview.preview_for(path, make=make_preview) if path.is_file()
          else _preview.Preview(None, False))
    style = _media_style(width, box)
    if pv.needed and pv.path is None:
        return _unplayable_html(path, pv.note, last_frame, embed=embed, base_dir=base_dir,
                                max_embed_bytes=max_embed_bytes, style=style, caption=caption,
                                badge=badge)
    shown = pv.path or path
    note = ""
    src = video_src(shown, base_dir)
    if embed:
        size = shown.stat().st_size
        if size <= max_embed_bytes:
            src = data_url(shown, "video/mp4")
        else:
            note = (f"not embedded: {size / 1e6:.1f} MB is over the "
                    f"{max_embed_bytes / 1e6:.0f} MB embed limit; the video is served from the file")
    still = poster_png(path) if poster and path.is_file() else None
    poster_attr = ""
    if still is not None:
        url = (data_url(still, "image/png") if poster == "data" or embed
               else video_src(still, base_dir))
        poster_attr = f' poster="{html.escape(url, quote=True)}"'

    if pv.path is not None:
        link = ("original: " + _link(path, base_dir, "mov" if box else path.name)
                + ("" if box else ", for editing software"))
    else:  # a tile is narrow: "download" (the file name is the link's tooltip)
        link = _link(path, base_dir, "download" if box else f"download {path.name}")
    parts = ['<div class="seedance-video">',
             f'<video src="{html.escape(src, quote=True)}" controls playsinline preload="metadata"'
             f'{poster_attr}{style}></video>',
             f'<div style="font-size:85%;color:{MUTED}{ONE_LINE if box else ""}">', link]
    if caption:
        parts.append(f" · {html.escape(caption)}")
    if badge:
        parts.append(f" {badge}")
    if note:
        parts.append(f'<br><em>{html.escape(note)}</em>')
    parts.append("</div></div>")
    return "".join(parts)


def _media_style(width: Optional[int], box: Optional[tuple[int, int]]) -> str:
    if box is not None:  # every tile the same box, the picture fitted inside
        return (f' style="display:block;width:{box[0]}px;height:{box[1]}px;'
                f'object-fit:contain;background:{WELL}"')
    if width:
        # capped both ways with the aspect kept: a 9:16 clip is no taller than a 16:9
        # one is wide, instead of filling the viewport
        return (f' style="display:block;max-width:100%;max-width:min(100%,{width}px);'
                f'max-height:{width}px;object-fit:contain"')
    return ' style="display:block;max-width:100%;max-height:80vh;object-fit:contain"'


def _unplayable_html(path: Path, why: str, last_frame: str | os.PathLike | None, *,
                     embed: bool, base_dir: str | os.PathLike | None, max_embed_bytes: int,
                     style: str, caption: str, badge: str = "") -> str:
    """No preview: the last frame if there is one, a link to the file, and why."""
    frame = Path(last_frame) if last_frame else last_frame_for(path)
    parts = ['<div class="seedance-video">']
    if frame is not None and frame.is_file():
        src = video_src(frame, base_dir)
        if embed and frame.stat().st_size <= max_embed_bytes:
            src = data_url(frame, "image/png")
        parts.append(f'<img src="{html.escape(src, quote=True)}" alt="last frame of '
                     f'{html.escape(path.name)}"{style}>')
        why += "; showing the last frame"
    parts += [f'<div style="font-size:85%;color:{MUTED}">',
              _link(path, base_dir, f"download {path.name}")]
    if caption:
        parts.append(f" · {html.escape(caption)}")
    if badge:
        parts.append(f" {badge}")
    parts.append(f'<br><em>{html.escape(why)}</em></div></div>')
    return "".join(parts)
