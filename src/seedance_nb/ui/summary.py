"""One output for many jobs: showing it, keeping it live, waiting with it; `%seedance jobs`.

`SummaryOutput` is created and shown on the main thread. In a live frontend it shows
the `SummaryView` widget (prev/next pages) and, once every job has settled, replaces
it through its display handle with the static HTML (paged with CSS), so the saved
notebook keeps the result without the kernel. Elsewhere (nbclient, papermill,
terminal) the static HTML is updated through the handle. Observers on lane threads
only set widget traits or update that handle; the waiting loop (main thread) prints only
when it stops before the jobs end. Importing this module does not import ipywidgets.
"""
from __future__ import annotations

import html
import itertools
import logging
import threading
import time
from typing import Any, Optional, Sequence

from .. import display as _display
from .. import display_gallery as dg
from .. import display_summary as ds

log = logging.getLogger("seedance_nb")

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
_WATCHED = ["status", "progress", "video_path", "error", "tokens", "task_id"]
#: headless: the summary is re-sent when a count changes, else at most this often
HEADLESS_EVERY_S = 5.0
#: live widget: its clock and ETA are refreshed this often without job events
TICK_S = 2.0


class SummaryOutput:
    """The one summary output of a sweep or a `wait_all`."""

    def __init__(self, jobs: Sequence[Any], *, title: str,
                 fields: Sequence[str] = (), embed: bool = False,
                 live: bool = False, per_page: int = dg.PER_PAGE) -> None:
        self.tally = ds.Tally(jobs)
        self.title = title
        self.fields = list(fields)
        self.embed = embed
        self.live = live
        self.per_page = per_page
        self.view: Any = None
        self.handle: Any = None
        self._lock = threading.RLock()
        self._sent_key: Any = None
        self._final = False
        self._following = False
        self._tiles: dict = {}  # display_gallery.cached_tile's memory

    @property
    def jobs(self) -> list[Any]:
        return self.tally.jobs

    def settled(self) -> bool:
        return all(ds.is_settled(j) for j in self.jobs)

    def bundle(self, final: bool = True) -> dict[str, str]:
        """The static summary (the saved output), on the page the widget shows. Embedded
        videos (base64) are sent once, with the final state, not with every update."""
        page = self.view.page if self.view is not None else 0
        return dg.summary_bundle(self.tally, title=self.title, fields=self.fields, page=page,
                                 per_page=self.per_page, embed=self.embed, cache=self._tiles,
                                 gallery=final or not self.embed)

    def show(self) -> "SummaryOutput":
        """Display it (main thread: the handle is made here)."""
        from IPython.display import display

        if self.live and not self.settled():
            from .summary_view import SummaryView

            self.view = SummaryView(self.tally, title=self.title, fields=self.fields,
                                    embed=self.embed, per_page=self.per_page)
            data = {WIDGET_MIME: {"version_major": 2, "version_minor": 0,
                                  "model_id": self.view.model_id},
                    "text/plain": ds.summary_text(self.tally, self.title, self.fields)}
        else:
            self._final = self.settled()
            data = self.bundle(final=self._final)
        self._sent_key = self._key()
        self.handle = display(data, raw=True, display_id=True)
        return self

    def _key(self) -> Any:
        counts = tuple(sorted(self.tally.observe().items()))
        return counts, int(self.tally.elapsed() // HEADLESS_EVERY_S)

    def refresh(self, _change: Any = None) -> None:
        """Bring the output up to date (any thread: sets traits / updates the handle)."""
        with self._lock:
            if self._final or self.handle is None:
                return
            try:
                if self.view is not None:
                    self.view.refresh()
                if self.settled():  # the last state, saved with the notebook
                    self._final = True
                    self.handle.update(self.bundle(), raw=True)
                    self._unfollow()
                    return
                if self.view is None:
                    key = self._key()
                    if key != self._sent_key:
                        self._sent_key = key
                        self.handle.update(self.bundle(final=False), raw=True)
            except Exception:  # a display glitch must never kill a worker thread
                log.debug("summary refresh failed", exc_info=True)

    def follow(self) -> None:
        """Let the jobs' observers keep the output current (the cell has returned)."""
        with self._lock:
            self._following = True
            for job in self.jobs:
                job.observe(self.refresh, names=_WATCHED)
        self.refresh()  # a job may have ended before its observer was set
        if self.view is not None and not self._final:
            # the elapsed time and ETA move on between job events (a real gateway may
            # report nothing for minutes): a daemon thread that only sets traits
            threading.Thread(target=self._tick, name="seedance-nb-summary-tick",
                             daemon=True).start()

    def _tick(self) -> None:
        from ..config import settings

        # bounded: a job whose worker was stopped (%reload_ext) may never settle here
        end = time.monotonic() + float(settings.wait_timeout or 3600.0) + 60.0
        while not self._final and time.monotonic() < end:
            time.sleep(TICK_S)
            self.refresh()

    def _unfollow(self) -> None:
        """Settled: the jobs no longer hold on to this output (and its widget)."""
        if self._following:
            self._following = False
            for job in self.jobs:
                try:
                    job.unobserve(self.refresh, names=_WATCHED)
                except ValueError:  # never observed (a job that was settled at once)
                    pass

    def wait(self, timeout: Optional[float] = None, *, what: str = "the tasks") -> bool:
        """Block on the main thread, refreshing; True when every job settled."""
        start = time.monotonic()
        try:
            while not self.settled():
                if timeout is not None and time.monotonic() - start > timeout:
                    self.refresh()
                    print(f"[seedance] stopped waiting after {timeout:.0f} s; {what} go on: "
                          f"%seedance resume picks them up", flush=True)
                    return False
                time.sleep(0.25)
                self.refresh()
        except KeyboardInterrupt:
            print(f"[seedance] stopped waiting; {what} go on: %seedance jobs / resume",
                  flush=True)
            self.follow()  # a live frontend still gets the result
            return False
        self.refresh()  # the outcome is the output itself: nothing printed under it
        return True


def show_jobs(jobs: Sequence[Any], *, title: str, fields: Sequence[str] = (),
              embed: bool = False, live: bool = False, wait: bool = False,
              timeout: Optional[float] = None) -> SummaryOutput:
    """Show one summary for `jobs`, then wait (blocking, main thread) or follow."""
    out = SummaryOutput(jobs, title=title, fields=fields, embed=embed, live=live).show()
    if wait:
        out.wait(timeout)
    else:
        out.follow()
    return out


def in_kernel(shell: Any) -> bool:
    """A Jupyter kernel (its displays reach a notebook), not a terminal or a bare shell."""
    return type(shell).__name__ == "ZMQInteractiveShell"


def for_wait_all(jobs: Sequence[Any], show: Optional[bool]) -> Optional[SummaryOutput]:
    """The summary `wait_all` shows, or None: with `show=True` in any IPython; by default
    for more than THRESHOLD jobs in a Jupyter kernel. Only from the main thread."""
    if show is False or (show is None and not ds.use_summary(len(jobs))):
        return None
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or (show is None and not in_kernel(shell)):
        return None
    return SummaryOutput(jobs, title=f"wait_all: {len(jobs)} jobs").show()


# --- groups: which cell made which jobs (for %seedance jobs) -----------------------

_groups: dict[int, str] = {}
_group_ids = itertools.count(1)
OTHER = "other jobs (submit(), panel, resume)"


def note_group(jobs: Sequence[Any], label: str, fields: Sequence[str] = ()) -> None:
    """Remember that `jobs` came from one cell (a sweep over `fields`, or one video)."""
    gid = next(_group_ids)
    _groups[gid] = label
    for job in jobs:
        job._seedance_group = gid
        job._seedance_fields = tuple(fields)


def group_of(job: Any) -> str:
    return _groups.get(getattr(job, "_seedance_group", None), OTHER)


def _grouped(jobs: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    out: dict[str, list[Any]] = {}
    for job in jobs:
        out.setdefault(group_of(job), []).append(job)
    return list(out.items())


def jobs_summary_bundle(jobs: Sequence[Any]) -> dict[str, str]:
    """`%seedance jobs` for many jobs: one row per cell or sweep, then the finished
    videos in pages, as a sweep's summary shows them."""
    total = ds.Tally(jobs)
    counts = total.observe()
    kinds = [k for k, _ in ds.count_items(counts)]
    head = (f"{len(jobs)} jobs in this kernel: {ds.status_line(total, counts)}; "
            f"{ds.money_line(total)}. %seedance jobs --all lists every job")
    rows, lines = [], [head]
    for label, members in _grouped(jobs):
        tally = ds.Tally(members)
        c = tally.observe()
        tokens, cost, _planned, _free = tally.money()
        money = " + ".join(f"{v:.2f} {k}" for k, v in sorted(cost.items())) or "-"
        cells = [label, str(len(members)), *[str(c.get(k, 0)) for k in kinds],
                 f"{tokens:,}", money]
        rows.append("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in cells) + "</tr>")
        lines.append(f"{label}: {len(members)} videos, {ds.status_line(tally, c)}, "
                     f"{tokens:,} tokens")
    header = ["cell", "videos", *kinds, "tokens", "cost (list price)"]
    table = ('<table class="seedance-jobs" style="font-size:90%"><tr>'
             + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"
             + "".join(rows) + "</table>")
    gallery = dg.gallery_html(list(jobs), None)  # each tile titled by its own sweep
    return {"text/html": f'<div class="seedance-summary"><div>{html.escape(head)}</div>'
                         f"{table}{gallery}</div>",
            "text/plain": "\n".join(lines)}


def jobs_list_bundle(jobs: Sequence[Any]) -> dict[str, str]:
    """`%seedance jobs --all`: one row per job (status, cell, task id, tokens, file)."""
    header = ["#", "cell", "name", "status", "task id", "tokens", "video", "error"]
    rows, lines = [], []
    for n, job in enumerate(jobs, 1):
        path = getattr(job, "video_path", None)
        video = ""
        if path:
            src = _display.video_src(path)
            video = (f'<a href="{html.escape(src, quote=True)}" target="_blank">'
                     f"{html.escape(src)}</a>")
        error = str(getattr(job, "error", "") or "").splitlines()
        cells = [str(n), html.escape(group_of(job)), html.escape(job.name or ""),
                 html.escape(job.status), html.escape(job.task_id or ""),
                 "" if job.tokens is None else f"{job.tokens:,}", video,
                 html.escape(error[0][:160] if error else "")]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        lines.append(f"{n}. {job.status} {job.task_id or '-'} {job.name or ''} "
                     f"{path or ''}".rstrip())
    table = ('<table class="seedance-jobs-all" style="font-size:90%"><tr>'
             + "".join(f"<th>{h}</th>" for h in header) + "</tr>" + "".join(rows) + "</table>")
    return {"text/html": table, "text/plain": "\n".join(lines)}
