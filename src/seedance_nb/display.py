"""Rich output for videos and jobs: the <video> HTML, placeholders and galleries.

The HTML is an ordinary saved output: a `<video src=...>` element (no `<source>`,
which JupyterLab's sanitizer strips) pointing at the file relative to the kernel's
working directory (the notebook's folder in Lab and Notebook 7), or a base64
`data:` URL when embedding. Nothing here imports anything heavy.
"""
from __future__ import annotations

import base64
import html
import os
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional
from urllib.parse import quote

from . import catalog

#: Videos larger than this are never embedded as base64 (notebooks would balloon).
MAX_EMBED_BYTES = 20 * 1024 * 1024

_TERMINAL = catalog.JOB_ENDED
_STATUS_COLOUR = {"succeeded": "#2e7d32", "failed": "#c62828", "rejected": "#c62828",
                  "cancelled": "#6d6d6d", "expired": "#c62828", "unknown": "#ef6c00"}


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


def _data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _link(path: Path, base_dir: str | os.PathLike | None, text: str) -> str:
    rel = video_src(path, base_dir)
    return (f'<a href="{html.escape(rel, quote=True)}" download="{html.escape(path.name)}" '
            f'target="_blank">{html.escape(text)}</a>')


def last_frame_for(path: str | os.PathLike) -> Optional[Path]:
    """The `<provider>-<id>-last.png` saved next to a result, if there is one."""
    path = Path(path)
    candidate = path.with_name(path.stem + "-last.png")
    return candidate if candidate.is_file() else None


def video_html(path: str | os.PathLike, *, embed: bool = False,
               base_dir: str | os.PathLike | None = None,
               max_embed_bytes: int = MAX_EMBED_BYTES, width: Optional[int] = 480,
               caption: str = "", last_frame: str | os.PathLike | None = None,
               make_preview: bool = True) -> str:
    """HTML showing a local video: `<video src=... controls playsinline>` and a download link.

    With `embed`, the file becomes a base64 `data:` URL unless it is bigger than
    `max_embed_bytes`; then it stays file-backed and a note says why. A file browsers
    cannot play (MOV, yuv444p, H.265) is shown through its H.264 preview (§8 Previews,
    made with PyAV if needed) with a link to the original; without a preview the last
    frame (or just a link) is shown, with one line saying why.
    """
    from . import preview as _preview

    path = Path(path)
    pv = (_preview.preview_for(path, make=make_preview) if path.is_file()
          else _preview.Preview(None, False))
    # max-height: a 9:16 clip stays as tall as a 16:9 one is wide (the picture keeps its
    # aspect inside the box) instead of filling the viewport
    style = (f' style="max-width:100%;width:{width}px;max-height:{width}px"' if width
             else ' style="max-width:100%;max-height:80vh"')
    if pv.needed and pv.path is None:
        return _unplayable_html(path, pv.note, last_frame, embed=embed, base_dir=base_dir,
                                max_embed_bytes=max_embed_bytes, style=style, caption=caption)
    shown = pv.path or path
    note = ""
    src = video_src(shown, base_dir)
    if embed:
        size = shown.stat().st_size
        if size <= max_embed_bytes:
            src = _data_url(shown, "video/mp4")
        else:
            note = (f"not embedded: {size / 1e6:.1f} MB is over the "
                    f"{max_embed_bytes / 1e6:.0f} MB embed limit; the video is served from the file")
    if pv.path is not None:
        link = "original: " + _link(path, base_dir, path.name) + ", for editing software"
    else:
        link = _link(path, base_dir, f"download {path.name}")
    parts = ['<div class="seedance-video">',
             f'<video src="{html.escape(src, quote=True)}" controls playsinline preload="auto"'
             f'{style}></video>',
             '<div style="font-size:85%">', link]
    if caption:
        parts.append(f" · {html.escape(caption)}")
    if note:
        parts.append(f'<br><em>{html.escape(note)}</em>')
    parts.append("</div></div>")
    return "".join(parts)


def _unplayable_html(path: Path, why: str, last_frame: str | os.PathLike | None, *,
                     embed: bool, base_dir: str | os.PathLike | None, max_embed_bytes: int,
                     style: str, caption: str) -> str:
    """No preview: the last frame if there is one, a link to the file, and why."""
    frame = Path(last_frame) if last_frame else last_frame_for(path)
    parts = ['<div class="seedance-video">']
    if frame is not None and frame.is_file():
        src = video_src(frame, base_dir)
        if embed and frame.stat().st_size <= max_embed_bytes:
            src = _data_url(frame, "image/png")
        parts.append(f'<img src="{html.escape(src, quote=True)}" alt="last frame of '
                     f'{html.escape(path.name)}"{style}>')
        why += "; showing the last frame"
    parts += ['<div style="font-size:85%">', _link(path, base_dir, f"download {path.name}")]
    if caption:
        parts.append(f" · {html.escape(caption)}")
    parts.append(f'<br><em>{html.escape(why)}</em></div></div>')
    return "".join(parts)


# --- jobs --------------------------------------------------------------------------


def _get(job: Any, name: str, default: Any = None) -> Any:
    return getattr(job, name, default)


def job_caption(job: Any) -> str:
    """One line: task id, model, seed, tokens (what the text/plain fallback shows)."""
    req = _get(job, "request")
    task = _get(job, "task")
    bits = []
    if _get(job, "task_id"):
        bits.append(f"task {job.task_id}")
    model = getattr(task, "model", None) or getattr(req, "model", None)
    if model:
        bits.append(f"model {model}")
    seed = getattr(task, "seed", None)
    if seed is None:
        seed = getattr(req, "seed", None)
    if seed is not None:
        bits.append(f"seed {seed}")
    if _get(job, "tokens") is not None:
        bits.append(f"{job.tokens} tokens")
    if _get(job, "reused"):
        bits.append("reused")
    return ", ".join(bits)


def estimate_text(request: Any) -> str:
    """A short token/cost estimate for a VideoRequest, or "" if it has none."""
    est = getattr(request, "estimate", None)
    if est is None:
        return ""
    try:
        value = est()
    except Exception:  # an estimate is a nicety; never let it break the display
        return ""
    return format_estimate(value)


def format_estimate(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    if isinstance(value, Mapping):
        tokens = value.get("tokens") or value.get("tokens_max")
        cost = value.get("cost")
        out = f"~{tokens} tokens" if tokens is not None else ""
        if cost is not None:
            out += f", ~{cost:.2f} {value.get('currency', 'CNY')}"
        return out
    return str(value)


def job_text(job: Any, *, base_dir: str | os.PathLike | None = None) -> str:
    status = _get(job, "status", "pending")
    name = _get(job, "name")
    head = f"[seedance] {name + ': ' if name else ''}{status}"
    prog = _get(job, "progress")
    if prog is not None and status not in _TERMINAL:
        head += f" {prog}%"
    cap = job_caption(job)
    if cap:
        head += f" ({cap})"
    lines = [head]
    if _get(job, "video_path"):
        lines.append(f"video: {job.video_path}")
    if _get(job, "last_frame_path"):
        lines.append(f"last frame: {job.last_frame_path}")
    if _get(job, "error"):
        lines.append(f"error: {job.error}")
    return "\n".join(lines)


def _status_html(job: Any) -> str:
    status = _get(job, "status", "pending")
    colour = _STATUS_COLOUR.get(status, "#1565c0")
    name = _get(job, "name")
    prog = _get(job, "progress")
    bits = [f'<b style="color:{colour}">{html.escape(status)}</b>']
    if prog is not None and status not in _TERMINAL:
        bits.append(f"{int(prog)}%")
    elapsed = _get(job, "elapsed")
    if elapsed:
        bits.append(f"{float(elapsed):.0f} s")
    cap = job_caption(job)
    if cap:
        bits.append(html.escape(cap))
    if status not in _TERMINAL:
        est = estimate_text(_get(job, "request"))
        if est:
            bits.append(html.escape(est))
    title = f"<b>{html.escape(name)}</b> · " if name else ""
    return f'<div style="font-family:monospace;font-size:90%">{title}{" · ".join(bits)}</div>'


def job_html(job: Any, *, embed: bool = False, base_dir: str | os.PathLike | None = None,
             max_embed_bytes: int = MAX_EMBED_BYTES, width: Optional[int] = 480) -> str:
    status = _get(job, "status", "pending")
    video = _get(job, "video_path")
    if status == "succeeded" and video and Path(video).exists():
        return video_html(video, embed=embed, base_dir=base_dir, max_embed_bytes=max_embed_bytes,
                          width=width, caption=job_caption(job),
                          last_frame=_get(job, "last_frame_path"))
    out = _status_html(job)
    if _get(job, "error"):
        out += (f'<pre style="color:#c62828;white-space:pre-wrap">'
                f"{html.escape(str(job.error))}</pre>")
    return out


def job_bundle(job: Any, *, embed: bool = False, base_dir: str | os.PathLike | None = None,
               max_embed_bytes: int = MAX_EMBED_BYTES) -> dict[str, str]:
    """{text/html, text/plain} for a job in any state."""
    return {"text/html": job_html(job, embed=embed, base_dir=base_dir,
                                  max_embed_bytes=max_embed_bytes),
            "text/plain": job_text(job, base_dir=base_dir)}


def _sweep_label(job: Any, fields: Iterable[str]) -> str:
    req = _get(job, "request")
    parts = []
    for f in fields:
        value = getattr(req, f, None)
        if f == "model":
            value = getattr(req, "family", None) or value
        parts.append(f"{f}={value}")
    return ", ".join(parts)


def gallery_bundle(jobs: Iterable[Any], *, fields: Iterable[str] = (), embed: bool = False,
                   base_dir: str | os.PathLike | None = None,
                   max_embed_bytes: int = MAX_EMBED_BYTES) -> dict[str, str]:
    """A grid of jobs (a sweep): each tile labelled with its swept values."""
    jobs = list(jobs)
    fields = list(fields)
    tiles, lines = [], []
    done = sum(1 for j in jobs if _get(j, "status") in _TERMINAL)
    for job in jobs:
        label = _sweep_label(job, fields)
        tiles.append(f'<div style="flex:0 0 auto;width:320px">'
                     f'<div style="font-size:85%;font-weight:bold">{html.escape(label)}</div>'
                     f"{job_html(job, embed=embed, base_dir=base_dir, max_embed_bytes=max_embed_bytes, width=320)}"
                     f"</div>")
        lines.append(f"{label}: " + job_text(job, base_dir=base_dir).replace("\n", "; "))
    head = f"sweep: {len(jobs)} videos, {done} finished"
    body = (f'<div class="seedance-gallery"><div style="font-size:90%">{html.escape(head)}</div>'
            f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(tiles)}</div></div>')
    return {"text/html": body, "text/plain": "\n".join([head, *lines])}


def request_bundle(request: Any) -> dict[str, str]:
    """Dry-run view: the validated request and its estimate."""
    to_dict = getattr(request, "to_dict", None)
    try:
        data = to_dict() if callable(to_dict) else dict(vars(request))
    except Exception:
        data = {k: getattr(request, k) for k in ("provider", "model", "prompt", "mode")
                if hasattr(request, k)}
    rows = "".join(f"<tr><td><code>{html.escape(str(k))}</code></td>"
                   f"<td>{html.escape(str(v))}</td></tr>"
                   for k, v in data.items() if v not in (None, (), [], {}))
    est = estimate_text(request)
    warnings = list(getattr(request, "warnings", ()) or ())
    html_out = ('<div><b>dry run</b>: nothing sent'
                + (f" · estimate: {html.escape(est)}" if est else "")
                + f'<table style="font-size:90%">{rows}</table>'
                + "".join(f'<div style="color:#ef6c00">warning: {html.escape(w)}</div>'
                          for w in warnings) + "</div>")
    text = ("dry run: nothing sent" + (f"; estimate: {est}" if est else "") + "\n"
            + "\n".join(f"  {k}: {v}" for k, v in data.items() if v not in (None, (), [], {}))
            + "".join(f"\nwarning: {w}" for w in warnings))
    return {"text/html": html_out, "text/plain": text}

