"""One card per job: status, progress, elapsed time, cancel, error, and the video.

Job observers fire on the worker thread; they only set widget traits, under a
per-card lock so two changes arriving together cannot interleave.
"""
from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from .. import catalog
from .. import display as _display

TERMINAL = catalog.JOB_ENDED
#: Videos up to this size are sent to the card as bytes (works in every frontend);
#: larger ones are linked from the file.
MAX_WIDGET_BYTES = 64 * 1024 * 1024
_WATCHED = ["status", "progress", "elapsed", "error", "video_path", "task_id", "tokens"]


class JobCard(widgets.VBox):
    """A live view of one `Job`."""

    def __init__(self, job: Any, *, title: str = "", embed: bool = False) -> None:
        self.job = job
        self._embed = embed
        self._lock = threading.Lock()
        self.title = widgets.HTML(f"<b>{html.escape(title or job.name or 'job')}</b>")
        self.status = widgets.HTML()
        self.progress = widgets.IntProgress(min=0, max=100, value=0,
                                            layout=widgets.Layout(width="160px"))
        self.elapsed = widgets.Label()
        self.cancel = widgets.Button(description="Cancel", icon="stop",
                                     tooltip="cancel a queued task (ark, byteplus, emulator)",
                                     layout=widgets.Layout(width="90px"))
        self.error = widgets.HTML()
        self.video = widgets.Box()
        self.cancel.on_click(self._on_cancel)
        row = widgets.HBox([self.status, self.progress, self.elapsed, self.cancel],
                           layout=widgets.Layout(align_items="center", grid_gap="8px"))
        parts = [self.title, row, self.error, self.video]
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

    def _on_cancel(self, _button: Any) -> None:
        try:
            self.job.cancel()
        except Exception as exc:  # e.g. a running task or a provider without cancel
            self.error.value = f'<span style="color:#c62828">{html.escape(str(exc))}</span>'

    def refresh(self) -> None:
        """Copy the job's state into the widgets (safe from any thread)."""
        with self._lock:
            job = self.job
            status = job.status or "pending"
            colour = _display._STATUS_COLOUR.get(status, "#1565c0")
            extra = f" · task {html.escape(job.task_id)}" if job.task_id else ""
            if job.tokens is not None:
                extra += f" · {job.tokens} tokens"
            if getattr(job, "reused", False):
                extra += " · reused"
            self.status.value = (f'<span class="seedance-status" data-status="{status}" '
                                 f'style="color:{colour};font-weight:bold">{status}</span>'
                                 f'<span style="font-size:85%">{extra}</span>')
            if status == "succeeded":
                self.progress.value = 100
            elif job.progress is not None:
                self.progress.value = max(0, min(100, int(job.progress)))
            self.progress.bar_style = {"succeeded": "success", "failed": "danger",
                                       "rejected": "danger", "expired": "danger"}.get(status, "")
            self.elapsed.value = f"{float(job.elapsed or 0):.0f} s"
            self.cancel.disabled = status in TERMINAL
            if job.error:
                self.error.value = (f'<pre style="color:#c62828;white-space:pre-wrap;margin:0">'
                                    f"{html.escape(str(job.error))}</pre>")
            if status == "succeeded" and job.video_path and job.video_path != self._shown_video:
                path = Path(job.video_path)
                if path.exists():
                    self._shown_video = job.video_path
                    self.video.children = [self._video_widget(path)]

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
