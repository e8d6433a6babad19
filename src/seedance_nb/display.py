"""Rich output for videos and jobs: what a cell, a Job and a sweep show.

The entry points are here; the pieces live in plain modules re-exported below:
`display_video` (one `<video>` with its poster and fallbacks), `display_status`
(captions, badges, status lines with live progress), `display_estimate` (estimate
lines), `display_tiles` (gallery layout, contact sheet) and `display_dry_run`.
Nothing here imports anything heavy.
"""
from __future__ import annotations

import html
import os
from typing import Any, Iterable, Optional

from . import live
from .display_dry_run import DryRun, request_bundle
from .display_estimate import estimate_line, estimate_text, format_estimate
from .display_status import (badge_text, error_html, finished_video, get, job_badge,
                             job_caption, job_text, short_caption, status_html, tile_status)
from .display_tiles import TILE_WIDTH, box_size, contact_sheet, tile_html, tile_title
from .display_video import (ENDED, MAX_EMBED_BYTES, MUTED, b64, is_colab, last_frame_for,
                            poster_png, should_embed, video_html, video_src)

__all__ = ["MAX_EMBED_BYTES", "TILE_WIDTH", "DryRun", "badge_text", "box_size",
           "estimate_line", "estimate_text", "format_estimate", "gallery_bundle", "is_colab",
           "job_badge", "job_bundle", "job_caption", "job_html", "job_text", "last_frame_for",
           "poster_png", "request_bundle", "should_embed", "tile_title", "video_html",
           "video_src"]


def job_html(job: Any, *, embed: bool = False, base_dir: str | os.PathLike | None = None,
             max_embed_bytes: int = MAX_EMBED_BYTES, width: Optional[int] = 480,
             box: Optional[tuple[int, int]] = None, estimate: bool = True,
             poster: str = "data", style: bool = True) -> str:
    """A job in any state: its video when done, else a status line (with the estimate
    unless `estimate` is False, and live progress while it runs) and the error.
    `box`, `poster`: see `video_html`; `style=False` leaves out `live.STYLE` (the
    caller's output holds it once)."""
    video = finished_video(job)
    if video:
        # a tile's title and the grid's line say the rest: its caption is the tokens
        caption = (f"{job.tokens:,} tokens" if box and get(job, "tokens") is not None
                   else "" if box else short_caption(job))
        return video_html(video, embed=embed, base_dir=base_dir, max_embed_bytes=max_embed_bytes,
                          width=width, caption=caption,
                          last_frame=get(job, "last_frame_path"), box=box,
                          badge=job_badge(job), poster=poster)
    if box is not None:
        return tile_status(job, box, style=style)
    return status_html(job, estimate=estimate, style=style) + error_html(job)


def job_bundle(job: Any, *, embed: bool = False, base_dir: str | os.PathLike | None = None,
               max_embed_bytes: int = MAX_EMBED_BYTES) -> dict[str, str]:
    """{text/html, text/plain} for a job in any state, plus an image/png still of the
    video once it is done (what GitHub, nbviewer and exports show)."""
    bundle = {"text/html": job_html(job, embed=embed, base_dir=base_dir,
                                    max_embed_bytes=max_embed_bytes),
              "text/plain": job_text(job, base_dir=base_dir)}
    video = finished_video(job)
    still = poster_png(video) if video else None
    if still is not None:
        bundle["image/png"] = b64(still.read_bytes())
    return bundle


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
    done = sum(1 for j in jobs if get(j, "status") in ENDED)
    # while tiles still change, posters are linked files (each update stays small); the
    # last render, the one a saved notebook keeps, carries them as data
    poster = "data" if done == len(jobs) else "file"
    for job, title in zip(jobs, titles):
        body = job_html(job, embed=embed, base_dir=base_dir, max_embed_bytes=max_embed_bytes,
                        box=box, poster=poster, style=False)
        tiles.append(tile_html(title, body, box))
        lines.append(f"{title}: " + job_text(job, base_dir=base_dir).replace("\n", "; "))
    est = estimate_line([get(j, "request") for j in jobs])
    head = " · ".join(b for b in (est or f"{len(jobs)} videos", f"{done} of {len(jobs)} ended")
                      if b)
    style = live.STYLE if done < len(jobs) else ""  # once, for every running tile's clock
    body = (f'{style}<div class="seedance-gallery"><div style="font-size:90%;color:{MUTED};'
            f'margin-bottom:4px">{html.escape(head)}</div>'
            f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(tiles)}</div></div>')
    bundle = {"text/html": body, "text/plain": "\n".join([head, *lines])}
    sheet = contact_sheet(jobs, titles)
    if sheet is not None:
        bundle["image/png"] = b64(sheet)
    return bundle
