"""One card per job: status, live progress, cancel, notices, error, and the video.

While a job is active the card shows a clock that ticks in the browser (CSS, see
`seedance_nb.live`), a bar that slides until the gateway reports a percentage, and
the typical duration for the model and resolution. Cancel is disabled, with the
reason as its tooltip, where the gateway cannot cancel the task now (§10.6).

Job observers fire on the worker thread; they only set widget traits, under a
per-card lock so two changes arriving together cannot interleave. A Cancel click
runs on its own thread: it waits for the gateway's answer, which must not hold the
kernel's message loop.
"""
from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any, Optional

import ipywidgets as widgets

from .. import catalog
from .. import display as _display
from .. import live

TERMINAL = catalog.JOB_ENDED
#: Videos up to this size are sent to the card as bytes (works in every frontend);
#: larger ones are linked from the file.
MAX_WIDGET_BYTES = 64 * 1024 * 1024
_WATCHED = ["status", "progress", "elapsed", "error", "video_path", "task_id", "tokens",
            "warning"]
#: JupyterLab's theme colours, so dark themes look native; fallbacks elsewhere.
_COLOUR = {"succeeded": "var(--jp-success-color1, #2e7d32)",
           "failed": "var(--jp-error-color1, #c62828)",
           "rejected": "var(--jp-error-color1, #c62828)",
           "expired": "var(--jp-error-color1, #c62828)",
           "cancelled": "var(--jp-ui-font-color2, #6d6d6d)",
           "unknown": "var(--jp-warn-color1, #ef6c00)"}
_ACTIVE_COLOUR = "var(--jp-brand-color1, #1565c0)"
_MUTED = "var(--jp-ui-font-color2, #616161)"
_WARN = "var(--jp-warn-color1, #ef6c00)"


def cancel_block(job: Any) -> Optional[str]:
    """Why Cancel is off for this job now (the button's tooltip), or None."""
    status = job.status or "pending"
    if status in TERMINAL:
        return f"the job has ended ({status})"
    if getattr(job, "settings", None) is None:  # not a live Job: let cancel() decide
        return None
    from ..jobs.actions import cancel_unavailable

    return cancel_unavailable(job)


class JobCard(widgets.VBox):
    """A live view of one `Job`."""

    def __init__(self, job: Any, *, title: str = "", embed: bool = False) -> None:
        self.job = job
        self._embed = embed
        self._lock = threading.Lock()
        self._notice = ""  # the last cancel's outcome, in plain words
        self._notice_warn = False
        self._cancelling = False
        self.title = widgets.HTML(f"<b>{html.escape(title or job.name or 'job')}</b>")
        self.status = widgets.HTML()
        self.progress = widgets.IntProgress(min=0, max=100, value=0,
                                            layout=widgets.Layout(width="160px"))
        self.elapsed = widgets.HTML()
        self.hint = widgets.HTML()
        self.cancel = widgets.Button(description="Cancel", icon="stop",
                                     layout=widgets.Layout(width="110px"))
        self.notice = widgets.HTML()
        self.error = widgets.HTML()
        self.video = widgets.Box()
        # the clock's and the bar's CSS, once per card (a <style> applies even hidden)
        self._style = widgets.HTML(live.STYLE, layout=widgets.Layout(display="none"))
        self.cancel.on_click(self._on_cancel)
        row = widgets.HBox([self.progress, self.elapsed, self.hint, self.cancel],
                           layout=widgets.Layout(align_items="center", grid_gap="8px"))
        head = widgets.HBox([self.title, self.status],
                            layout=widgets.Layout(align_items="baseline", grid_gap="8px"))
        parts = [self._style, head, row, self.notice, self.error, self.video]
        from .finals import FinalControl, is_draft

        if is_draft(job):  # a 2.5 draft: its 1080p final is one click away (§3)
            self.final = FinalControl(job)
            parts.append(self.final)
        super().__init__(parts, layout=widgets.Layout(
            border="1px solid var(--jp-border-color2, #ddd)", padding="4px", margin="4px 0"))
        self.add_class("seedance-card")
        self._shown_video = None
        job.observe(self._on_change, names=_WATCHED)
        self.refresh()

    def _on_change(self, _change: Any) -> None:
        self.refresh()

    # --- cancel ----------------------------------------------------------------------
    def _on_cancel(self, _button: Any = None) -> None:
        with self._lock:
            if self._cancelling:
                return
            self._cancelling = True
            self.cancel.disabled = True
            self.cancel.description = "Cancelling…"
        threading.Thread(target=self._cancel_now, name="seedance-nb-card-cancel",
                         daemon=True).start()

    def _cancel_now(self) -> None:
        try:
            outcome = self.job.cancel()
        except Exception as exc:  # nothing was sent: ended, or no cancel route
            self._set_notice(f"Could not cancel: {exc}", warn=True)
        else:
            if outcome is None:  # a stand-in job's cancel returns nothing
                self._set_notice("")
            elif outcome.ok:
                self._set_notice("Cancel accepted; waiting for the gateway to report it.")
            elif outcome.ok is False:
                self._set_notice(f"Could not cancel: {outcome.reason}", warn=True)
            else:
                self._set_notice(f"Cancel sent: {outcome.reason}")
        finally:
            with self._lock:
                self._cancelling = False
                self.cancel.description = "Cancel"
            self.refresh()

    def _set_notice(self, text: str, *, warn: bool = False) -> None:
        with self._lock:
            self._notice, self._notice_warn = text, warn

    # --- state -> widgets ------------------------------------------------------------
    def refresh(self) -> None:
        """Copy the job's state into the widgets (safe from any thread)."""
        with self._lock:
            job = self.job
            status = job.status or "pending"
            active = status not in TERMINAL
            self.status.value = self._status_html(job, status)
            if status == "succeeded":
                self.progress.value = 100
            elif job.progress is not None:
                self.progress.value = max(0, min(100, int(job.progress)))
            if live.indeterminate(job):
                self.progress.add_class("seedance-indeterminate")
            else:
                self.progress.remove_class("seedance-indeterminate")
            self.progress.bar_style = {"succeeded": "success", "failed": "danger",
                                       "rejected": "danger", "expired": "danger"}.get(status, "")
            percent = f"{int(job.progress)}% · " if job.progress and active else ""
            self.elapsed.value = percent + live.clock_html(job)
            hint = live.typical_hint(job) if active else ""
            self.hint.value = (f'<span class="seedance-hint">{html.escape(hint)}</span>'
                               if hint else "")
            self._refresh_cancel(job, status)
            if job.error:
                self.error.value = (f'<pre style="color:var(--jp-error-color1, #c62828);'
                                    f'white-space:pre-wrap;margin:0">'
                                    f"{html.escape(str(job.error))}</pre>")
            if status == "succeeded" and job.video_path and job.video_path != self._shown_video:
                path = Path(job.video_path)
                if path.exists():
                    self._shown_video = job.video_path
                    self.video.children = [self._video_widget(path)]

    def _status_html(self, job: Any, status: str) -> str:
        colour = _COLOUR.get(status, _ACTIVE_COLOUR)
        extra = f" · task {html.escape(job.task_id)}" if job.task_id else ""
        if job.tokens is not None:
            extra += f" · {job.tokens} tokens"
        if getattr(job, "reused", False):
            extra += " · reused"
        return (f'<span class="seedance-status" data-status="{status}" '
                f'style="color:{colour};font-weight:bold">{status}</span>'
                f'<span style="font-size:85%">{extra}</span>')

    def _refresh_cancel(self, job: Any, status: str) -> None:
        """Button state and tooltip; the notice line under the bar."""
        why = cancel_block(job)
        if not self._cancelling:
            self.cancel.disabled = why is not None
        self.cancel.tooltip = (f"Cannot cancel: {why}" if why else
                               "Cancel this task at the gateway (possible while it is queued)")
        if status == "cancelled" and (getattr(job, "_user_cancel", False)
                                      or getattr(job, "_cancel_requested", False)):
            text, colour = "Cancelled at your request.", _MUTED
        elif self._notice:
            text, colour = self._notice, _WARN if self._notice_warn else _MUTED
        elif getattr(job, "warning", ""):  # e.g. a cancel the lane sent after the create
            text, colour = job.warning, _WARN
        elif why and status not in TERMINAL:
            text, colour = f"Cancel is off: {why}.", _MUTED
        else:
            text, colour = "", _MUTED
        self.notice.value = (f'<span class="seedance-notice" style="color:{colour};'
                             f'font-size:85%">{html.escape(text)}</span>' if text else "")

    def _video_widget(self, path: Path) -> widgets.Widget:
        caption = widgets.HTML(f'<span style="font-size:85%">{html.escape(str(path))} · '
                               f"{html.escape(_display.job_caption(self.job))}</span>")
        if path.stat().st_size <= MAX_WIDGET_BYTES:
            # Bytes over the comm: no server path to guess, works in Lab, Notebook 7,
            # VS Code and Colab alike.
            video = widgets.Video(value=path.read_bytes(), format="mp4", autoplay=False,
                                  loop=False, controls=True,
                                  layout=widgets.Layout(width="480px", max_width="100%"))
            video.add_class("seedance-video")
            return widgets.VBox([video, caption])
        return widgets.VBox([widgets.HTML(_display.video_html(path, embed=self._embed)), caption])
