"""The big-sweep summary's gallery: one tile per finished video, paged with radio buttons
and CSS (no script, so a saved notebook keeps working; where a sanitizer drops the CSS
every page is simply shown), and `summary_bundle`, the whole output (display_summary's
head over this gallery). Tiles are made with display.py's public pieces (`box_size`,
`tile_title`, `video_html`, `job_html`).
"""
from __future__ import annotations

import html
import itertools
import math
import time
from typing import Any, Optional, Sequence

from . import display as _display
from .display_status import is_draft
from .display_summary import Tally, bucket, head_html, summary_text, title_of

PER_PAGE = 12
TILE_WIDTH = 240  # px; narrower than display's single-sweep tiles: more to a row
_uids = itertools.count(1)
#: the static pager's prev/next labels look like the live view's buttons
_BUTTON = ("cursor:pointer;display:inline-block;padding:1px 10px;border-radius:2px;"
           "border:1px solid var(--jp-border-color1,#bdbdbd);"
           "background:var(--jp-layout-color2,#eeeeee)")


def finished_videos(jobs: Sequence[Any]) -> list[int]:
    """Indexes of the jobs whose video is here, in the jobs' order."""
    return [i for i, j in enumerate(jobs) if bucket(j) == "done"]


def page_count(n_videos: int, per_page: int = PER_PAGE) -> int:
    return max(1, math.ceil(n_videos / per_page))


def tile_box(jobs: Sequence[Any]) -> tuple[int, int]:
    """The one picture box every tile of these jobs uses (display.box_size)."""
    return _display.box_size(jobs, width=TILE_WIDTH)


def tile_html(job: Any, box: tuple[int, int], fields: Optional[Sequence[str]] = (), *,
              embed: bool = False) -> str:
    """One gallery tile: the title (swept values) over the video, fitted in `box`."""
    title = title_of(job, fields)
    video = getattr(job, "video_path", None)
    if bucket(job) == "done" and video:
        # no poster still per tile: a summary may hold hundreds, each re-sent on updates
        body = _display.video_html(video, embed=embed, box=box, poster=False,
                                   caption=_display.job_caption(job),
                                   last_frame=getattr(job, "last_frame_path", None),
                                   badge=_display.job_badge(job) if getattr(job, "joined", False)
                                   else "")
        if is_draft(job) and getattr(job, "task_id", None):
            body += (f'<div class="seedance-final-hint" style="font-size:80%;margin-top:2px;'
                     f'word-break:break-all">'
                     f"<code>%seedance final {html.escape(str(job.task_id))}</code></div>")
    else:
        body = _display.job_html(job, embed=embed, box=box)
    return (f'<div class="seedance-tile" style="display:inline-block;vertical-align:top;'
            f'width:{box[0]}px;margin:0 8px 8px 0">'
            f'<div style="font-size:85%;font-weight:bold;white-space:nowrap;overflow:hidden;'
            f'text-overflow:ellipsis" title="{html.escape(title, quote=True)}">'
            f"{html.escape(title)}</div>{body}</div>")


def page_range_text(page: int, n_videos: int, per_page: int = PER_PAGE) -> str:
    pages = page_count(n_videos, per_page)
    if not n_videos:
        return "no video finished yet"
    first = page * per_page + 1
    last = min(n_videos, first + per_page - 1)
    span = f"video {first}" if first == last else f"videos {first}–{last}"
    return f"page {page + 1} of {pages} · {span} of {n_videos}"


def cached_tile(cache: dict, job: Any, box: tuple[int, int], fields: Optional[Sequence[str]],
                embed: bool) -> str:
    """`tile_html`, remembered per job until its video, tokens or task id change."""
    key = (getattr(job, "video_path", None), getattr(job, "tokens", None),
           getattr(job, "task_id", None), box)
    hit = cache.get(id(job))
    if hit is None or hit[0] != key:
        hit = (key, tile_html(job, box, fields, embed=embed))
        cache[id(job)] = hit
    return hit[1]


def _turn(uid: str, to: int, pages: int, kind: str) -> str:
    """A prev/next "button": a label for page `to`'s radio, greyed where there is none
    (both are always there, so the page label does not move)."""
    text = "‹ prev" if kind == "prev" else "next ›"
    if 0 <= to < pages:
        return f'<label for="{uid}-p{to}" class="seedance-{kind}" style="{_BUTTON}">{text}</label>'
    return (f'<span class="seedance-{kind}-off" style="{_BUTTON};opacity:.4;cursor:default">'
            f"{text}</span>")


def gallery_html(jobs: Sequence[Any], fields: Optional[Sequence[str]] = (), *,
                 page: int = 0, per_page: int = PER_PAGE, embed: bool = False,
                 cache: Optional[dict] = None) -> str:
    """Every finished video, `per_page` to a page, paged by radio buttons and CSS:
    one page shows at a time (the `page`th first), "‹ prev" / "next ›" switch pages."""
    done = finished_videos(jobs)
    if not done:
        return '<div class="seedance-gallery" style="font-size:90%">no video finished yet</div>'
    pages = page_count(len(done), per_page)
    page = min(max(0, page), pages - 1)
    box = tile_box(jobs)
    uid = f"seedance-sum-{next(_uids)}-{int(time.time() * 1000) % 100000}"
    css = [f"#{uid} .seedance-page-radio{{display:none}}",
           f"#{uid} .seedance-page{{display:none}}"]
    radios, bodies = [], []
    for p in range(pages):
        css.append(f"#{uid}-p{p}:checked ~ .seedance-pages .seedance-page-{p}{{display:block}}")
        radios.append(f'<input type="radio" class="seedance-page-radio" name="{uid}" '
                      f'id="{uid}-p{p}"{" checked" if p == page else ""}>')
        label = (f'<span class="seedance-page-label">'
                 f"{html.escape(page_range_text(p, len(done), per_page))}</span>")
        nav = (f'<div style="font-size:90%;margin:4px 0;display:flex;gap:8px;'
               f'align-items:center">{_turn(uid, p - 1, pages, "prev")}{label}'
               f'{_turn(uid, p + 1, pages, "next")}</div>')
        cache = {} if cache is None else cache
        tiles = "".join(cached_tile(cache, jobs[i], box, fields, embed)
                        for i in done[p * per_page:(p + 1) * per_page])
        bodies.append(f'<div class="seedance-page seedance-page-{p}" data-page="{p + 1}">'
                      f"{nav}<div>{tiles}</div>{nav}</div>")
    return (f'<div class="seedance-gallery" id="{uid}"><style>{"".join(css)}</style>'
            f'{"".join(radios)}<div class="seedance-pages">{"".join(bodies)}</div></div>')


def summary_bundle(tally: Tally, *, title: str, fields: Sequence[str] = (),
                   page: int = 0, per_page: int = PER_PAGE, embed: bool = False,
                   cache: Optional[dict] = None, gallery: bool = True) -> dict[str, str]:
    """{text/html, text/plain}: the summary and its paged gallery (a saved output).
    Without `gallery`, a line saying the videos come at the end stands in for it."""
    if gallery:
        gallery = gallery_html(tally.jobs, fields, page=page, per_page=per_page, embed=embed,
                               cache=cache)
    else:
        gallery = ('<div class="seedance-gallery" style="font-size:90%">the videos are '
                   "embedded in this output once every job has ended</div>")
    body = f'<div class="seedance-summary">{head_html(tally, title, fields)}{gallery}</div>'
    return {"text/html": body, "text/plain": summary_text(tally, title, fields)}
