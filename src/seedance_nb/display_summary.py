"""One view for many jobs: counts, tokens and cost so far, an ETA and a paged gallery.

A sweep of more than `THRESHOLD` videos (or `wait_all` of that many jobs) is shown as
one summary instead of one tile per video. This module is the part without widgets:
`Tally` (counts, tokens, cost, ETA from what it has seen) and the HTML/text of the
summary's head; display_gallery.py pages the videos under it and assembles the output.
`ui/summary.py` shows it, keeps it live and waits; `ui/summary_view.py` is the widget.
"""
from __future__ import annotations

import html
import threading
import time
from typing import Any, Optional, Sequence

from . import catalog
from . import display as _display
from .display_status import is_draft

#: Up to this many videos keep one tile each; more get the summary.
THRESHOLD = 8
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


#: Under a summary of 2.5 drafts: a big sweep has no button per video (cards have one).
FINAL_HINT = ("drafts: %seedance final TASK_ID renders one at 1080p, a new billed task "
              "(the command is under each video)")


def has_drafts(tally: Tally) -> bool:
    return any(is_draft(job) for job in tally.jobs)


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
    if has_drafts(tally):
        parts.append(f'<div class="seedance-final-hint" style="font-size:85%">'
                     f"{html.escape(FINAL_HINT)}</div>")
    parts.append("</div>")
    return "".join(parts)


def summary_text(tally: Tally, title: str, fields: Sequence[str] = ()) -> str:
    lines = [f"{title}: {status_line(tally)}", money_line(tally), time_line(tally)]
    failed = failures(tally, fields)
    lines += failed[:MAX_FAILURES_LISTED]
    if len(failed) > MAX_FAILURES_LISTED:
        lines.append(f"... and {len(failed) - MAX_FAILURES_LISTED} more")
    if has_drafts(tally):
        lines.append(FINAL_HINT)
    return "\n".join(lines)
