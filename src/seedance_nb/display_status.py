"""A job's words: captions, badges, the text/plain line, and the status line of a job
with no video yet (the `%%seedance` placeholder and unfinished gallery tiles).

While a job has not ended its status carries `live.live_html`: a progress bar, the
percentage, a clock that ticks in the browser and the model's typical duration.
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Optional

from . import live
from .display_estimate import estimate_line
from .display_video import ACCENT, ENDED, ERROR, MUTED, ONE_LINE, STATUS_COLOUR, WELL


def get(job: Any, name: str, default: Any = None) -> Any:
    return getattr(job, name, default)


def is_draft(job: Any) -> bool:
    """A Seedance 2.5 draft: its 1080p final is a new task (reference §3)."""
    return bool(getattr(getattr(job, "request", None), "draft", None))


def caption_bits(job: Any) -> list[str]:
    """task id, model, seed, tokens: the pieces of `job_caption`."""
    req = get(job, "request")
    task = get(job, "task")
    bits = []
    if get(job, "task_id"):
        bits.append(f"task {job.task_id}")
    model = getattr(task, "model", None) or getattr(req, "model", None)
    if model:
        bits.append(f"model {model}")
    seed = getattr(task, "seed", None)
    if seed is None:
        seed = getattr(req, "seed", None)
    if seed is not None:
        bits.append(f"seed {seed}")
    if get(job, "tokens") is not None:
        bits.append(f"{job.tokens} tokens")
    return bits


def short_caption(job: Any) -> str:
    """Under one video: "2.0-fast · seed 3 · 108,900 tokens · task cgt-…" (the family,
    not the wire id; the text/plain fallback keeps the full `job_caption`)."""
    req, task = get(job, "request"), get(job, "task")
    bits = [getattr(req, "family", None) or getattr(task, "model", None) or ""]
    seed = getattr(task, "seed", None)
    seed = getattr(req, "seed", None) if seed is None else seed
    if seed is not None:
        bits.append(f"seed {seed}")
    if get(job, "tokens") is not None:
        bits.append(f"{job.tokens:,} tokens")
    if get(job, "task_id"):
        bits.append(f"task {job.task_id}")
    return " · ".join(b for b in bits if b)


def job_caption(job: Any) -> str:
    """One line: task id, model, seed, tokens (what the text/plain fallback shows)."""
    bits = caption_bits(job)
    if get(job, "reused"):
        bits.append("reused")
    return ", ".join(bits)


def badge_text(job: Any) -> str:
    """"reused · no charge · from task …" for a result answered from the ledger."""
    task = get(job, "task_id")
    if get(job, "reused"):
        return "reused · no charge · " + (f"from task {task}" if task else "an earlier result")
    if get(job, "joined"):
        return "joined · no second charge · " + (f"task {task}" if task else "already sent")
    return ""


def job_badge(job: Any) -> str:
    text = badge_text(job)
    if not text:
        return ""
    return (f'<span class="seedance-badge" style="display:inline-block;padding:0 6px;'
            f'border:1px solid {ACCENT};border-radius:8px;color:{ACCENT};'
            f'font-size:90%;white-space:nowrap">{html.escape(text)}</span>')


def job_text(job: Any, *, base_dir: Any = None) -> str:
    """The text/plain view: "[seedance] name: status 40% (task …, model …)" and paths."""
    status = get(job, "status", "pending")
    name = get(job, "name")
    head = f"[seedance] {name + ': ' if name else ''}{status}"
    prog = get(job, "progress")
    if prog is not None and status not in ENDED:
        head += f" {prog}%"
    cap = job_caption(job)
    if cap:
        head += f" ({cap})"
    lines = [head]
    if badge_text(job):
        lines.append(badge_text(job))
    if get(job, "video_path"):
        lines.append(f"video: {job.video_path}")
    if get(job, "last_frame_path"):
        lines.append(f"last frame: {job.last_frame_path}")
    if get(job, "error"):
        lines.append(f"error: {job.error}")
    return "\n".join(lines)


def finished_video(job: Any) -> Optional[str]:
    """The job's video file once it succeeded and the file is there, else None."""
    video = get(job, "video_path")
    if get(job, "status") == "succeeded" and video and Path(video).exists():
        return video
    return None


def status_bits(job: Any, *, style: bool = True) -> list[str]:
    """The coloured status word, then the live line (bar, %, ticking clock, typical
    duration) while the job runs, or the time it took once it ended. `style=False`
    leaves out live.STYLE, for an output that holds it once (a gallery)."""
    status = get(job, "status", "pending")
    colour = STATUS_COLOUR.get(status, ACCENT)
    bits = [f'<b style="color:{colour}">{html.escape(status)}</b>']
    if status not in ENDED:
        bits.append(live.live_html(job, style=style))
        return bits
    elapsed = get(job, "elapsed")
    if elapsed:
        bits.append(f"{float(elapsed):.0f} s")
    return bits


def status_html(job: Any, estimate: bool = True, *, style: bool = True) -> str:
    """One line for a job with no video: name, status, caption, estimate, badge."""
    status = get(job, "status", "pending")
    name = get(job, "name")
    bits = status_bits(job, style=style)
    cap = ", ".join(caption_bits(job))
    if cap:
        bits.append(html.escape(cap))
    if estimate and status not in ENDED:
        est = estimate_line([get(job, "request")])
        if est:
            bits.append(html.escape(est))
    badge = job_badge(job)
    if badge:
        bits.append(badge)
    title = f"<b>{html.escape(name)}</b> · " if name else ""
    return f'<div style="font-family:monospace;font-size:90%">{title}{" · ".join(bits)}</div>'


def error_html(job: Any) -> str:
    error = get(job, "error")
    if not error:
        return ""
    return f'<pre style="color:{ERROR};white-space:pre-wrap">{html.escape(str(error))}</pre>'


def tile_status(job: Any, box: tuple[int, int], *, style: bool = True) -> str:
    """An unfinished or failed tile: the same box as a video, the status inside it."""
    error = str(get(job, "error") or "")
    bits = status_bits(job, style=style)
    if get(job, "status", "pending") in ENDED:
        inner = " · ".join(bits)
    else:  # the live line under the status word: a tile is too narrow for both
        inner = bits[0] + f'<div style="margin-top:4px">{bits[1]}</div>'
    if error:
        short = error if len(error) <= 160 else error[:159] + "…"
        inner += (f'<div style="color:{ERROR};font-size:85%;margin-top:4px;'
                  f'overflow:hidden" title="{html.escape(error, quote=True)}">'
                  f"{html.escape(short)}</div>")
    caption = ", ".join(caption_bits(job))
    return (f'<div style="box-sizing:border-box;width:{box[0]}px;height:{box[1]}px;'
            f'background:{WELL};display:flex;flex-direction:column;align-items:center;'
            f'justify-content:center;text-align:center;padding:8px;overflow:hidden">'
            f"{inner}</div>"
            f'<div style="font-size:85%;color:{MUTED}{ONE_LINE}">'
            f"{html.escape(caption) or '&nbsp;'} {job_badge(job)}</div>")
