"""Draft → final in the notebook (reference §3): a "Render final (1080p)" button for a
2.5 draft, the draft's remaining validity, and the final's own card below it.

The button's callback may run on another thread (JupyterLab 4.4+ with ipykernel 7): it
only validates and submits (`job.final()` records the intent and enqueues); the final's
card then follows its job by traits like every card.
"""
from __future__ import annotations

import html
import threading
import time
from typing import Any, Optional

import ipywidgets as widgets

from .. import catalog
from ..display_status import is_draft


def _valid_until(job: Any) -> Optional[float]:
    led, row = getattr(job, "ledger", None), getattr(job, "ledger_id", None)
    rec = led.get(row) if led is not None and row is not None else None
    done = (rec or {}).get("finished_at") or (rec or {}).get("updated_at")
    return None if not done else done + catalog.DRAFT_VALID_S


def validity_text(until: Optional[float], now: Optional[float] = None) -> str:
    if until is None:
        return ""
    left = until - (now or time.time())
    if left <= 0:
        return "draft expired: a final is no longer possible"
    days, rest = divmod(int(left), 86400)
    hours = rest // 3600
    return f"final possible for {days} d {hours} h more" if days else \
        f"final possible for {hours} h {int(rest % 3600) // 60} min more"


class FinalControl(widgets.VBox):
    """The button for one draft job, and the final's card once asked for."""

    def __init__(self, job: Any, *, label: str = "") -> None:
        self.job = job
        self._lock = threading.Lock()
        self.final_job: Any = None
        text = "Render final (1080p)" + (f": {label}" if label else "")
        self.button = widgets.Button(description=text, icon="film",
                                     tooltip="the same scene at 1080p as a new task (§3)",
                                     layout=widgets.Layout(width="auto"))
        self.button.add_class("seedance-final-button")
        self.validity = widgets.HTML()
        self.note = widgets.HTML()
        self.slot = widgets.VBox()
        self.button.on_click(self._on_click)
        super().__init__([widgets.HBox([self.button, self.validity],
                                       layout=widgets.Layout(align_items="center",
                                                             grid_gap="8px")),
                          self.note, self.slot])
        job.observe(lambda _c: self.refresh(), names=["status"])
        self.refresh()

    def refresh(self) -> None:
        with self._lock:
            done = self.job.status == "succeeded"
            until = _valid_until(self.job) if done else None
            expired = until is not None and until <= time.time()
            self.button.disabled = not done or expired or self.final_job is not None
            if not done:
                self.button.tooltip = "the draft must succeed first"
            self.validity.value = (f'<span style="font-size:85%;color:var(--jp-ui-font-color2,'
                                   f'#666)">{html.escape(validity_text(until))}</span>')

    def _on_click(self, _button: Any = None) -> None:
        from ..errors import SeedanceError
        from .cards import JobCard

        try:
            final = self.job.final()
        except SeedanceError as exc:
            self.note.value = (f'<span style="color:var(--jp-error-color1,#c62828)">'
                               f'{html.escape(str(exc))}</span>')
            return
        with self._lock:
            self.final_job = final
            self.button.disabled = True
        self.slot.children = [JobCard(final, title="final (1080p)")]


def final_controls(jobs: list, labels: Optional[list[str]] = None) -> Optional[widgets.VBox]:
    """One FinalControl per draft among `jobs` (sweep tiles get their combo as label)."""
    rows = [FinalControl(job, label=(labels[i] if labels else "")) for i, job in enumerate(jobs)
            if is_draft(job)]
    return widgets.VBox(rows) if rows else None
