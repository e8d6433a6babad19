"""One view for many jobs: counts, tokens and cost so far, an ETA and a paged gallery.

A sweep of more than `THRESHOLD` videos (or `wait_all` of that many jobs) is shown as
one summary instead of one tile per video. This module is the part without widgets:
`Tally` (counts, tokens, cost, ETA from what it has seen), the HTML/text of the summary
and a gallery paged with radio buttons and CSS (no script, so a saved notebook keeps
working; where a sanitizer drops the CSS every page is simply shown). Tiles are made
with display.py's public pieces (`box_size`, `tile_title`, `video_html`, `job_html`).
`ui/summary.py` shows it, keeps it live and waits; `ui/summary_view.py` is the widget.
"""
from __future__ import annotations

import html
import itertools
import math
import threading
import time
from typing import Any, Optional, Sequence

from . import catalog
from . import display as _display

#: Up to this many videos keep one tile each; more get the summary.
THRESHOLD = 8
PER_PAGE = 12
TILE_WIDTH = 240  # px; narrower than display's single-sweep tiles: more to a row
#: failures listed by name under the counts (the rest are counted)
MAX_FAILURES_LISTED = 8

_FAILED = frozenset({"failed", "expired", "rejected"})
# Lab theme colours (dark themes look native) with light fallbacks elsewhere
_COLOURS = {"done": "var(--jp-success-color1,#2e7d32)",
            "running": "var(--jp-brand-color1,#1565c0)",
            "queued": "var(--jp-ui-font-color2,#616161)",
            "waiting": "var(--jp-warn-color1,#ef6c00)",
            "failed": "var(--jp-error-color1,#c62828)",
            "cancelled": "var(--jp-ui-font-color2,#616161)",
            "unknown": "var(--jp-warn-color1,#ef6c00)"}
_uids = itertools.count(1)
#: the static pager's prev/next labels look like the live view's buttons
_BUTTON = ("cursor:pointer;display:inline-block;padding:1px 10px;border-radius:2px;"
           "border:1px solid var(--jp-border-color1,#bdbdbd);"
           "background:var(--jp-layout-color2,#eeeeee)")


def use_summary(count: int) -> bool:
    """True when `count` videos are shown as one summary rather than a tile each."""
    return count > THRESHOLD


def has_waiting_status() -> bool:
    """The client's quota budget can hold jobs back ("waiting") in this version."""
    return "waiting" in catalog.JOB_STATUSES


def bucket(job: Any) -> str:
    """Which count a job is in: done, running, queued, waiting, failed, cancelled, unknown."""
    status = getattr(job, "status", "pending") or "pending"
    if status == "succeeded":
        if getattr(job, "video_path", None):
            return "done"
        return "failed" if getattr(job, "error", "") else "running"  # still downloading
    if status in ("queued", "pending"):
        return "queued"
    if status in ("running", "waiting"):
        return status
    if status in _FAILED:
        return "failed"
    if status in ("cancelled", "dismissed"):
        return "cancelled"
    if status == "unknown":
        return "unknown"
    return "failed" if status in catalog.JOB_ENDED else "running"


def is_settled(job: Any) -> bool:
    """Nothing more will happen to the job's counts (a success counts once its file is here)."""
    return bucket(job) not in ("running", "queued", "waiting")


def _billed(job: Any) -> bool:
    # a reused result is not billed again; a joined job shares its leader's task
    return not getattr(job, "reused", False) and not getattr(job, "joined", False)


class Tally:
    """What a summary shows, computed from the jobs. `observe()` samples when each job
    starts running and ends (for durations and the ETA); it is cheap and thread-safe."""

    def __init__(self, jobs: Sequence[Any], *, clock: Any = time.monotonic) -> None:
        self.jobs = list(jobs)
        self._clock = clock
        self.started_at = clock()
        self._lock = threading.Lock()
        self._running_since: dict[int, float] = {}
        self._ended_at: dict[int, float] = {}
        self._max_running = 0
        self._estimates: dict[int, Any] = {}
        self.finished_at: Optional[float] = None

    def observe(self) -> dict[str, int]:
        """Sample the jobs now; returns the counts."""
        now = self._clock()
        counts = dict.fromkeys(("done", "running", "queued", "waiting", "failed",
                                "cancelled", "unknown"), 0)
        with self._lock:
            for i, job in enumerate(self.jobs):
                kind = bucket(job)
                counts[kind] += 1
                if getattr(job, "status", "") == "running":
                    self._running_since.setdefault(i, now)
                if kind not in ("running", "queued", "waiting"):
                    self._ended_at.setdefault(i, now)
            self._max_running = max(self._max_running, counts["running"])
            left = counts["running"] + counts["queued"] + counts["waiting"]
            if self.finished_at is None and left == 0:
                self.finished_at = now
        return counts

    # -- durations and ETA ---------------------------------------------------------

    def durations(self) -> list[float]:
        """Seconds each finished, billed job took (seen running to seen ended, else the
        job's own elapsed time)."""
        out = []
        with self._lock:
            for i, job in enumerate(self.jobs):
                if i not in self._ended_at or not _billed(job):
                    continue
                if getattr(job, "status", "") not in ("succeeded", "failed", "expired"):
                    continue
                if i in self._running_since:
                    out.append(max(0.0, self._ended_at[i] - self._running_since[i]))
                elif getattr(job, "elapsed", 0):
                    out.append(float(job.elapsed))
        return out

    def eta(self) -> Optional[float]:
        """Seconds until every job ends, or None while no job has finished to learn from.

        The remaining work (each running job: the typical duration less its age; each
        queued or waiting job: the typical duration) spread over the most jobs seen
        running at once.
        """
        counts = self.observe()
        left = counts["running"] + counts["queued"] + counts["waiting"]
        if left == 0:
            return 0.0
        took = sorted(self.durations())
        if not took:
            return None
        typical = took[len(took) // 2]
        now = self._clock()
        work = 0.0
        with self._lock:
            for i, job in enumerate(self.jobs):
                kind = bucket(job)
                if kind == "running":
                    work += max(0.0, typical - (now - self._running_since.get(i, now)))
                elif kind in ("queued", "waiting"):
                    work += typical
            slots = max(1, self._max_running)
        return work / slots

    def elapsed(self) -> float:
        end = self.finished_at if self.finished_at is not None else self._clock()
        return max(0.0, end - self.started_at)

    # -- tokens and cost -----------------------------------------------------------

    def _estimate(self, i: int, job: Any) -> Any:
        if i not in self._estimates:
            est = None
            req = getattr(job, "request", None)
            if req is not None and hasattr(req, "estimate"):
                try:
                    est = req.estimate()
                except Exception:  # an estimate is a nicety; never break the view
                    est = None
            self._estimates[i] = est
        return self._estimates[i]

    def money(self) -> tuple[int, dict[str, float], Optional[int], bool]:
        """(tokens so far, cost so far per currency, estimated tokens of the whole set,
        whether every priced job runs on the free emulator)."""
        tokens, cost, planned, free = 0, {}, 0, True
        for i, job in enumerate(self.jobs):
            if not _billed(job):
                continue
            est = self._estimate(i, job)
            if est is not None and planned is not None:
                planned += int(est.tokens_max)
            elif est is None:
                planned = None
            if getattr(job, "provider", "emulator") != "emulator":
                free = False
            used = getattr(job, "tokens", None)
            if used is None:
                continue
            tokens += int(used)
            if est is not None and est.cost_max is not None and est.tokens_max:
                currency = est.currency or "?"
                cost[currency] = cost.get(currency, 0.0) + used * est.cost_max / est.tokens_max
        return tokens, cost, planned, free


# --- text -------------------------------------------------------------------------


def duration_text(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def count_items(counts: dict[str, int]) -> list[tuple[str, int]]:
    """The counts shown, in order: the five always (waiting only where the client
    has that status or a job is in it), cancelled and unknown when there are any."""
    shown = ["done", "running", "queued"]
    if has_waiting_status() or counts.get("waiting"):
        shown.append("waiting")
    shown.append("failed")
    shown += [k for k in ("cancelled", "unknown") if counts.get(k)]
    return [(k, counts.get(k, 0)) for k in shown]


def status_line(tally: Tally, counts: Optional[dict[str, int]] = None) -> str:
    """"24 done · 0 running · 0 queued · 0 failed" (plain text)."""
    counts = counts if counts is not None else tally.observe()
    return " · ".join(f"{n} {k}" for k, n in count_items(counts))


def money_line(tally: Tally) -> str:
    tokens, cost, planned, free = tally.money()
    text = f"{tokens:,} tokens so far"
    if cost:
        text += " · ≈ " + " + ".join(f"{v:.2f} {c}" for c, v in sorted(cost.items()))
        text += " at list price" + ("; free on the emulator" if free else "")
    if planned:
        text += f" · ≈ {planned:,} tokens planned"
    return text


def time_line(tally: Tally) -> str:
    eta = tally.eta()
    if tally.finished_at is not None:
        return f"finished in {duration_text(tally.elapsed())}"
    spent = f"{duration_text(tally.elapsed())} elapsed"
    if eta is None:
        return f"{spent} · ETA unknown (no video finished yet)"
    if eta < 5:
        return f"{spent} · ETA a few seconds"
    return f"{spent} · ETA ≈ {duration_text(eta)}"


def title_of(job: Any, fields: Optional[Sequence[str]]) -> str:
    """A tile's title from `fields`; None: the fields of the sweep the job came from."""
    if fields is None:
        fields = getattr(job, "_seedance_fields", ())
    return _display.tile_title(job, fields)


def failures(tally: Tally, fields: Optional[Sequence[str]] = ()) -> list[str]:
    """One line per failed, cancelled or unknown job: its title, status and error."""
    out = []
    for job in tally.jobs:
        if bucket(job) in ("failed", "cancelled", "unknown"):
            error = str(getattr(job, "error", "") or "").splitlines()
            out.append(f"{title_of(job, fields)}: {job.status}"
                       + (f": {error[0][:160]}" if error else ""))
    return out


def head_html(tally: Tally, title: str, fields: Sequence[str] = ()) -> str:
    """The summary's top: title, coloured counts, tokens and cost, time and ETA, failures."""
    counts = tally.observe()
    spans = " · ".join(
        f'<span class="seedance-count" data-kind="{k}" style="'
        f'{f"color:{_COLOURS[k]};font-weight:bold" if n else ""}">{n} {k}</span>'
        for k, n in count_items(counts))
    parts = [f'<div class="seedance-summary-head" style="font-size:95%;line-height:1.5">'
             f"<b>{html.escape(title)}</b> · {spans}<br>"
             f'<span style="font-size:90%">{html.escape(money_line(tally))} · '
             f'<span class="seedance-eta">{html.escape(time_line(tally))}</span></span>']
    failed = failures(tally, fields)
    if failed:
        shown = failed[:MAX_FAILURES_LISTED]
        more = len(failed) - len(shown)
        parts.append(f'<div style="color:{_COLOURS["failed"]};font-size:85%">'
                     + "<br>".join(html.escape(f) for f in shown)
                     + (f"<br>… and {more} more (%seedance jobs --all)" if more else "")
                     + "</div>")
    parts.append("</div>")
    return "".join(parts)


def summary_text(tally: Tally, title: str, fields: Sequence[str] = ()) -> str:
    lines = [f"{title}: {status_line(tally)}", money_line(tally), time_line(tally)]
    failed = failures(tally, fields)
    lines += failed[:MAX_FAILURES_LISTED]
    if len(failed) > MAX_FAILURES_LISTED:
        lines.append(f"... and {len(failed) - MAX_FAILURES_LISTED} more")
    return "\n".join(lines)


# --- the gallery -------------------------------------------------------------------


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
