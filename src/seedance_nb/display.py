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
# JupyterLab's theme variables (dark themes look native), with light-theme fallbacks
# for Notebook 7, VS Code, nbviewer and exports.
_MUTED = "var(--jp-ui-font-color2, #616161)"
_BORDER = "var(--jp-border-color2, #e0e0e0)"
_WELL = "var(--jp-layout-color2, #eeeeee)"  # behind videos and unfinished tiles
_ACCENT = "var(--jp-brand-color1, #1565c0)"
_ERROR = "var(--jp-error-color1, #c62828)"
_STATUS_COLOUR = {"succeeded": "var(--jp-success-color1, #2e7d32)", "failed": _ERROR,
                  "rejected": _ERROR, "expired": _ERROR, "cancelled": _MUTED,
                  "unknown": "var(--jp-warn-color1, #ef6c00)"}
#: Gallery tiles: every tile this wide; the picture box's height comes from the ratios.
TILE_WIDTH = 320


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
            src = _data_url(shown, "video/mp4")
        else:
            note = (f"not embedded: {size / 1e6:.1f} MB is over the "
                    f"{max_embed_bytes / 1e6:.0f} MB embed limit; the video is served from the file")
    still = poster_png(path) if poster and path.is_file() else None
    poster_attr = ""
    if still is not None:
        url = (_data_url(still, "image/png") if poster == "data" or embed
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
             f'<div style="font-size:85%;color:{_MUTED}{_ONE_LINE if box else ""}">', link]
    if caption:
        parts.append(f" · {html.escape(caption)}")
    if badge:
        parts.append(f" {badge}")
    if note:
        parts.append(f'<br><em>{html.escape(note)}</em>')
    parts.append("</div></div>")
    return "".join(parts)


_ONE_LINE = ";white-space:nowrap;overflow:hidden;text-overflow:ellipsis"


def _media_style(width: Optional[int], box: Optional[tuple[int, int]]) -> str:
    if box is not None:  # every tile the same box, the picture fitted inside
        return (f' style="display:block;width:{box[0]}px;height:{box[1]}px;'
                f'object-fit:contain;background:{_WELL}"')
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
            src = _data_url(frame, "image/png")
        parts.append(f'<img src="{html.escape(src, quote=True)}" alt="last frame of '
                     f'{html.escape(path.name)}"{style}>')
        why += "; showing the last frame"
    parts += [f'<div style="font-size:85%;color:{_MUTED}">',
              _link(path, base_dir, f"download {path.name}")]
    if caption:
        parts.append(f" · {html.escape(caption)}")
    if badge:
        parts.append(f" {badge}")
    parts.append(f'<br><em>{html.escape(why)}</em></div></div>')
    return "".join(parts)


# --- estimates ---------------------------------------------------------------------

_SYMBOL = {"USD": "$", "CNY": "¥", "EUR": "€"}


def _money(amount: float, currency: str) -> str:
    sym = _SYMBOL.get(currency)
    return f"{sym}{amount:.2f}" if sym else f"{amount:.2f} {currency}".strip()


def _short_tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return f"{n:,}"


def _estimate_of(request: Any) -> Any:
    est = getattr(request, "estimate", None)
    if not callable(est):
        return None
    try:
        return est()
    except Exception:  # an estimate is a nicety; never let it break the display
        return None


def _settings_of(request: Any) -> dict[str, str]:
    """family, resolution, ratio and length as shown (the model's defaults filled in)."""
    caps = None
    try:
        caps = catalog.capabilities(request.family, request.dialect)
    except Exception:
        pass
    out = {"family": getattr(request, "family", None) or getattr(request, "model", "")}
    res = getattr(request, "resolution", None) or getattr(caps, "default_resolution", None)
    if getattr(request, "draft", False):
        res = f"{catalog.DRAFT_RESOLUTION} draft"
    elif getattr(request, "mode", None) == "final":
        res = f"{catalog.FINAL_RESOLUTION} final"
    ratio = getattr(request, "ratio", None)
    if ratio is None and caps is not None:
        try:
            ratio = caps.default_ratio(getattr(request, "mode", None))
        except Exception:
            ratio = None
    frames = getattr(request, "frames", None)
    seconds = getattr(request, "duration", None)
    if seconds is None and frames is None:
        seconds = getattr(caps, "default_duration", None)
    if frames is not None:
        length = f"{frames} frames"
    elif seconds == -1:
        length = "auto length"
    else:
        length = f"{seconds} s" if seconds is not None else ""
    out.update(resolution=res or "", ratio=ratio or "", length=length)
    return out


def estimate_line(requests: Iterable[Any]) -> str:
    """ONE line for a cell: "4 videos · 2.0-fast 720p 5 s · ~436k tokens · ~$2.44".

    Settings every request shares are named (the swept ones are in the tile titles);
    tokens and cost are totals; the emulator is "free on the emulator".
    """
    reqs = [r for r in requests if r is not None]
    if not reqs:
        return ""
    bits = [f"{len(reqs)} video" + ("" if len(reqs) == 1 else "s")]
    shown = [_settings_of(r) for r in reqs]
    common = [shown[0][k] for k in ("family", "resolution", "ratio", "length")
              if shown[0][k] and all(s[k] == shown[0][k] for s in shown)]
    if common:
        bits.append(" ".join(common))
    ests = [_estimate_of(r) for r in reqs]
    if all(e is not None and hasattr(e, "tokens_min") for e in ests):
        lo = sum(e.tokens_min for e in ests)
        hi = sum(e.tokens_max for e in ests)
        tokens = (f"~{_short_tokens(lo)}" if lo == hi
                  else f"~{_short_tokens(lo)}-{_short_tokens(hi)}") + " tokens"
        if any(e.input_unknown for e in ests):
            tokens += " + the input video's length"
        bits.append(tokens)
        currencies = {e.currency for e in ests}
        if all(getattr(r, "provider", "") == "emulator" for r in reqs):
            bits.append("free on the emulator")
        elif all(e.cost_min is not None for e in ests) and len(currencies) == 1:
            cur = currencies.pop()
            c_lo, c_hi = sum(e.cost_min for e in ests), sum(e.cost_max for e in ests)
            money = "~" + _money(c_lo, cur) + ("" if c_hi == c_lo else "-" + _money(c_hi, cur))
            refs = {e.reference for e in ests if e.reference}
            if len(refs) == 1:
                money += f" ({refs.pop()})"
            bits.append(money)
        else:
            bits.append("no known price: tokens only")
    return " · ".join(bits)


def estimate_text(request: Any) -> str:
    """A short token/cost estimate for a VideoRequest, or "" if it has none."""
    return format_estimate(_estimate_of(request))


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


# --- jobs --------------------------------------------------------------------------


def _get(job: Any, name: str, default: Any = None) -> Any:
    return getattr(job, name, default)


def _caption_bits(job: Any) -> list[str]:
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
    return bits


def _short_caption(job: Any) -> str:
    """Under one video: "2.0-fast · seed 3 · 108,900 tokens · task cgt-…" (the family,
    not the wire id; the text/plain fallback keeps the full `job_caption`)."""
    req, task = _get(job, "request"), _get(job, "task")
    bits = [getattr(req, "family", None) or getattr(task, "model", None) or ""]
    seed = getattr(task, "seed", None)
    seed = getattr(req, "seed", None) if seed is None else seed
    if seed is not None:
        bits.append(f"seed {seed}")
    if _get(job, "tokens") is not None:
        bits.append(f"{job.tokens:,} tokens")
    if _get(job, "task_id"):
        bits.append(f"task {job.task_id}")
    return " · ".join(b for b in bits if b)


def job_caption(job: Any) -> str:
    """One line: task id, model, seed, tokens (what the text/plain fallback shows)."""
    bits = _caption_bits(job)
    if _get(job, "reused"):
        bits.append("reused")
    return ", ".join(bits)


def badge_text(job: Any) -> str:
    """"reused · no charge · from task …" for a result answered from the ledger."""
    task = _get(job, "task_id")
    if _get(job, "reused"):
        return "reused · no charge · " + (f"from task {task}" if task else "an earlier result")
    if _get(job, "joined"):
        return "joined · no second charge · " + (f"task {task}" if task else "already sent")
    return ""


def job_badge(job: Any) -> str:
    text = badge_text(job)
    if not text:
        return ""
    return (f'<span class="seedance-badge" style="display:inline-block;padding:0 6px;'
            f'border:1px solid {_ACCENT};border-radius:8px;color:{_ACCENT};'
            f'font-size:90%;white-space:nowrap">{html.escape(text)}</span>')


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
    if badge_text(job):
        lines.append(badge_text(job))
    if _get(job, "video_path"):
        lines.append(f"video: {job.video_path}")
    if _get(job, "last_frame_path"):
        lines.append(f"last frame: {job.last_frame_path}")
    if _get(job, "error"):
        lines.append(f"error: {job.error}")
    return "\n".join(lines)


def _status_bits(job: Any) -> list[str]:
    status = _get(job, "status", "pending")
    colour = _STATUS_COLOUR.get(status, _ACCENT)
    bits = [f'<b style="color:{colour}">{html.escape(status)}</b>']
    prog = _get(job, "progress")
    if prog is not None and status not in _TERMINAL:
        bits.append(f"{int(prog)}%")
    elapsed = _get(job, "elapsed")
    if elapsed:
        bits.append(f"{float(elapsed):.0f} s")
    return bits


def _status_html(job: Any, estimate: bool = True) -> str:
    status = _get(job, "status", "pending")
    name = _get(job, "name")
    bits = _status_bits(job)
    cap = ", ".join(_caption_bits(job))
    if cap:
        bits.append(html.escape(cap))
    if estimate and status not in _TERMINAL:
        est = estimate_line([_get(job, "request")])
        if est:
            bits.append(html.escape(est))
    badge = job_badge(job)
    if badge:
        bits.append(badge)
    title = f"<b>{html.escape(name)}</b> · " if name else ""
    return f'<div style="font-family:monospace;font-size:90%">{title}{" · ".join(bits)}</div>'


def _finished_video(job: Any) -> Optional[str]:
    video = _get(job, "video_path")
    if _get(job, "status") == "succeeded" and video and Path(video).exists():
        return video
    return None


def job_html(job: Any, *, embed: bool = False, base_dir: str | os.PathLike | None = None,
             max_embed_bytes: int = MAX_EMBED_BYTES, width: Optional[int] = 480,
             box: Optional[tuple[int, int]] = None, estimate: bool = True,
             poster: str = "data") -> str:
    """A job in any state: its video when done, else a status line (with the estimate
    unless `estimate` is False) and the error. `box`, `poster`: see `video_html`."""
    video = _finished_video(job)
    if video:
        # a tile's title and the grid's line say the rest: its caption is the tokens
        caption = (f"{job.tokens:,} tokens" if box and _get(job, "tokens") is not None
                   else "" if box else _short_caption(job))
        return video_html(video, embed=embed, base_dir=base_dir, max_embed_bytes=max_embed_bytes,
                          width=width, caption=caption,
                          last_frame=_get(job, "last_frame_path"), box=box,
                          badge=job_badge(job), poster=poster)
    if box is not None:
        return _tile_status(job, box)
    out = _status_html(job, estimate=estimate)
    if _get(job, "error"):
        out += (f'<pre style="color:{_ERROR};white-space:pre-wrap">'
                f"{html.escape(str(job.error))}</pre>")
    return out


def _tile_status(job: Any, box: tuple[int, int]) -> str:
    """An unfinished or failed tile: the same box as a video, the status inside it."""
    error = str(_get(job, "error") or "")
    inner = " · ".join(_status_bits(job))
    if error:
        short = error if len(error) <= 160 else error[:159] + "…"
        inner += (f'<div style="color:{_ERROR};font-size:85%;margin-top:4px;'
                  f'overflow:hidden" title="{html.escape(error, quote=True)}">'
                  f"{html.escape(short)}</div>")
    caption = ", ".join(_caption_bits(job))
    return (f'<div style="box-sizing:border-box;width:{box[0]}px;height:{box[1]}px;'
            f'background:{_WELL};display:flex;flex-direction:column;align-items:center;'
            f'justify-content:center;text-align:center;padding:8px;overflow:hidden">'
            f"{inner}</div>"
            f'<div style="font-size:85%;color:{_MUTED}{_ONE_LINE}">'
            f"{html.escape(caption) or '&nbsp;'} {job_badge(job)}</div>")


def _png_b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def job_bundle(job: Any, *, embed: bool = False, base_dir: str | os.PathLike | None = None,
               max_embed_bytes: int = MAX_EMBED_BYTES) -> dict[str, str]:
    """{text/html, text/plain} for a job in any state, plus an image/png still of the
    video once it is done (what GitHub, nbviewer and exports show)."""
    bundle = {"text/html": job_html(job, embed=embed, base_dir=base_dir,
                                    max_embed_bytes=max_embed_bytes),
              "text/plain": job_text(job, base_dir=base_dir)}
    video = _finished_video(job)
    still = poster_png(video) if video else None
    if still is not None:
        bundle["image/png"] = _png_b64(still.read_bytes())
    return bundle


def _short_name(field: str) -> str:
    from .fields import BY_NAME

    spec = BY_NAME.get(field)
    return spec.flags[0] if spec is not None and spec.flags else field


def _value_of(job: Any, field: str) -> Any:
    req = _get(job, "request")
    if field == "model":
        return getattr(req, "family", None) or getattr(req, "model", None)
    return getattr(req, field, None)


def tile_title(job: Any, fields: Iterable[str] = ()) -> str:
    """A tile's title: the swept values ("seed=1 · rs=720p"), else the job's name or prompt."""
    fields = list(fields)
    if fields:
        return " · ".join(f"{_short_name(f)}={_value_of(job, f)}" for f in fields)
    name = _get(job, "name")
    if name:
        return str(name)
    prompt = getattr(_get(job, "request"), "prompt", "") or _get(job, "task_id") or "video"
    return prompt if len(prompt) <= 40 else prompt[:39] + "…"


def _aspect(request: Any) -> Optional[float]:
    ratio = _settings_of(request)["ratio"] if request is not None else ""
    w, sep, h = ratio.partition(":")
    if sep and w.isdigit() and h.isdigit() and int(h):
        return int(w) / int(h)
    return None


def box_size(jobs: Iterable[Any], width: int = TILE_WIDTH) -> tuple[int, int]:
    """One box for every tile: as tall as the narrowest ratio needs, at most square."""
    aspects = [a for a in (_aspect(_get(j, "request")) for j in jobs) if a]
    if not aspects:
        return width, width * 9 // 16
    return width, min(width, round(width / min(aspects)))


def _sheet(jobs: list[Any], titles: list[str]) -> Optional[bytes]:
    """The contact sheet of a finished gallery, or None (not finished, nothing to show)."""
    if not all(_get(j, "status") in _TERMINAL for j in jobs):
        return None
    tiles = []
    for job, title in zip(jobs, titles):
        video = _finished_video(job)
        still = poster_png(video) if video else None
        tiles.append((still, title if still else f"{title} · {_get(job, 'status')}"))
    if not any(still for still, _ in tiles):
        return None
    try:
        from . import posters

        return posters.contact_sheet(tiles)
    except Exception:  # Pillow trouble: the HTML still shows the videos
        return None


def gallery_bundle(jobs: Iterable[Any], *, fields: Iterable[str] = (), embed: bool = False,
                   base_dir: str | os.PathLike | None = None,
                   max_embed_bytes: int = MAX_EMBED_BYTES) -> dict[str, str]:
    """A grid of jobs (a sweep): equal tiles titled with their swept values, ONE estimate
    line for the grid, and a contact sheet (image/png) once every job has ended."""
    jobs = list(jobs)
    fields = list(fields)
    box = box_size(jobs)
    titles = [tile_title(j, fields) for j in jobs]
    tiles, lines = [], []
    done = sum(1 for j in jobs if _get(j, "status") in _TERMINAL)
    # while tiles still change, posters are linked files (each update stays small); the
    # last render, the one a saved notebook keeps, carries them as data
    poster = "data" if done == len(jobs) else "file"
    for job, title in zip(jobs, titles):
        body = job_html(job, embed=embed, base_dir=base_dir, max_embed_bytes=max_embed_bytes,
                        box=box, poster=poster)
        tiles.append(f'<div class="seedance-tile" style="flex:0 0 auto;width:{box[0]}px">'
                     f'<div style="font-size:85%;font-weight:bold{_ONE_LINE}" '
                     f'title="{html.escape(title, quote=True)}">{html.escape(title)}</div>'
                     f"{body}</div>")
        lines.append(f"{title}: " + job_text(job, base_dir=base_dir).replace("\n", "; "))
    est = estimate_line([_get(j, "request") for j in jobs])
    head = " · ".join(b for b in (est or f"{len(jobs)} videos", f"{done} of {len(jobs)} ended")
                      if b)
    body = (f'<div class="seedance-gallery"><div style="font-size:90%;color:{_MUTED};'
            f'margin-bottom:4px">{html.escape(head)}</div>'
            f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(tiles)}</div></div>')
    bundle = {"text/html": body, "text/plain": "\n".join([head, *lines])}
    sheet = _sheet(jobs, titles)
    if sheet is not None:
        bundle["image/png"] = _png_b64(sheet)
    return bundle


# --- dry runs ----------------------------------------------------------------------


def _request_data(request: Any) -> dict[str, Any]:
    to_dict = getattr(request, "to_dict", None)
    try:
        data = to_dict() if callable(to_dict) else dict(vars(request))
    except Exception:
        data = {k: getattr(request, k) for k in ("provider", "model", "prompt", "mode")
                if hasattr(request, k)}
    return {k: v for k, v in data.items() if v not in (None, (), [], {})}


class DryRun:
    """What `%%seedance --dry-run` shows: ONE output (HTML, and a readable text repr).

    `requests` are the validated requests (one per sweep combination); nothing was sent.
    """

    def __init__(self, requests: Iterable[Any], fields: Iterable[str] = ()) -> None:
        self.requests = list(requests)
        self.fields = list(fields)

    @property
    def request(self) -> Any:
        return self.requests[0] if self.requests else None

    def _warnings(self) -> list[str]:
        seen: dict[str, None] = {}
        for req in self.requests:
            for w in getattr(req, "warnings", ()) or ():
                seen.setdefault(str(w))
        return list(seen)

    def _titles(self) -> list[str]:
        return [" · ".join(f"{_short_name(f)}={getattr(r, f, None) if f != 'model' else r.family}"
                           for f in self.fields) for r in self.requests]

    def _repr_html_(self) -> str:
        head = "<b>dry run</b>: nothing sent"
        est = estimate_line(self.requests)
        if est:
            head += " · " + html.escape(est)
        cell = f'style="padding:1px 8px;border-bottom:1px solid {_BORDER};text-align:left"'
        if len(self.requests) == 1:
            data = _request_data(self.request)
            rows = "".join(f"<tr><td {cell}><code>{html.escape(str(k))}</code></td>"
                           f"<td {cell}>{html.escape(str(v))}</td></tr>" for k, v in data.items())
            full = estimate_text(self.request)
            if full:
                rows += (f"<tr><td {cell}><code>estimate</code></td>"
                         f"<td {cell}>{html.escape(full)}</td></tr>")
        else:
            rows = f"<tr><th {cell}>video</th><th {cell}>settings</th><th {cell}>tokens</th></tr>"
            for title, req in zip(self._titles(), self.requests):
                shown = _settings_of(req)
                est_one = _estimate_of(req)
                tokens = ""
                if est_one is not None and hasattr(est_one, "tokens_min"):
                    tokens = (f"{est_one.tokens_min:,}" if est_one.tokens_min == est_one.tokens_max
                              else f"{est_one.tokens_min:,}-{est_one.tokens_max:,}")
                rows += (f"<tr><td {cell}>{html.escape(title)}</td><td {cell}>"
                         f"{html.escape(' '.join(v for v in shown.values() if v))}</td>"
                         f"<td {cell}>{tokens}</td></tr>")
        warnings = "".join(f'<div style="color:var(--jp-warn-color1, #ef6c00)">warning: '
                           f"{html.escape(w)}</div>" for w in self._warnings())
        return (f'<div class="seedance-dry-run"><div>{head}</div>'
                f'<table style="font-size:90%;border-collapse:collapse">{rows}</table>'
                f"{warnings}</div>")

    def __repr__(self) -> str:
        est = estimate_line(self.requests)
        lines = ["dry run: nothing sent" + (f"; {est}" if est else "")]
        if len(self.requests) == 1:
            lines += [f"  {k}: {v}" for k, v in _request_data(self.request).items()]
            full = estimate_text(self.request)
            if full:
                lines.append(f"  estimate: {full}")
        else:
            for title, req in zip(self._titles(), self.requests):
                lines.append(f"  {title}: " + " ".join(v for v in _settings_of(req).values() if v))
        lines += [f"warning: {w}" for w in self._warnings()]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": repr(self)}


def request_bundle(request: Any, fields: Iterable[str] = ()) -> dict[str, str]:
    """Dry-run view of one request or a list of them (a sweep): one bundle."""
    requests = list(request) if isinstance(request, (list, tuple)) else [request]
    return DryRun(requests, fields)._repr_mimebundle_()
