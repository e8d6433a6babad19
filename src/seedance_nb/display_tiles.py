"""Gallery layout: tile titles, the one picture box every tile shares, the tile frame,
and the contact sheet (image/png) of a finished gallery."""
from __future__ import annotations

import html
from typing import Any, Iterable, Optional

from .display_estimate import settings_of, short_name
from .display_status import finished_video, get
from .display_video import ENDED, ONE_LINE, poster_png

#: Gallery tiles: every tile this wide; the picture box's height comes from the ratios.
TILE_WIDTH = 320


def _value_of(job: Any, field: str) -> Any:
    req = get(job, "request")
    if field == "model":
        return getattr(req, "family", None) or getattr(req, "model", None)
    return getattr(req, field, None)


def tile_title(job: Any, fields: Iterable[str] = ()) -> str:
    """A tile's title: the swept values ("seed=1 · rs=720p"), else the job's name or prompt."""
    fields = list(fields)
    if fields:
        return " · ".join(f"{short_name(f)}={_value_of(job, f)}" for f in fields)
    name = get(job, "name")
    if name:
        return str(name)
    prompt = getattr(get(job, "request"), "prompt", "") or get(job, "task_id") or "video"
    return prompt if len(prompt) <= 40 else prompt[:39] + "…"


def _aspect(request: Any) -> Optional[float]:
    ratio = settings_of(request)["ratio"] if request is not None else ""
    w, sep, h = ratio.partition(":")
    if sep and w.isdigit() and h.isdigit() and int(h):
        return int(w) / int(h)
    return None


def box_size(jobs: Iterable[Any], width: int = TILE_WIDTH) -> tuple[int, int]:
    """One box for every tile: as tall as the narrowest ratio needs, at most square."""
    aspects = [a for a in (_aspect(get(j, "request")) for j in jobs) if a]
    if not aspects:
        return width, width * 9 // 16
    return width, min(width, round(width / min(aspects)))


def tile_html(title: str, body: str, box: tuple[int, int]) -> str:
    """One tile: its title on one line over the body (video or status box)."""
    return (f'<div class="seedance-tile" style="flex:0 0 auto;width:{box[0]}px">'
            f'<div style="font-size:85%;font-weight:bold{ONE_LINE}" '
            f'title="{html.escape(title, quote=True)}">{html.escape(title)}</div>'
            f"{body}</div>")


def contact_sheet(jobs: list[Any], titles: list[str]) -> Optional[bytes]:
    """The contact sheet of a finished gallery, or None (not finished, nothing to show)."""
    if not all(get(j, "status") in ENDED for j in jobs):
        return None
    tiles = []
    for job, title in zip(jobs, titles):
        video = finished_video(job)
        still = poster_png(video) if video else None
        tiles.append((still, title if still else f"{title} · {get(job, 'status')}"))
    if not any(still for still, _ in tiles):
        return None
    try:
        from . import posters

        return posters.contact_sheet(tiles)
    except Exception:  # Pillow trouble: the HTML still shows the videos
        return None
