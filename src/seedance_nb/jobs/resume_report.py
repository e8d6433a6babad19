"""What a `resume()` found, and how it is shown: the rows it could not settle (a lost
create's candidate tasks), the rows it did not contact and why, as text and HTML."""
from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from typing import Any, Optional

# --- what a resume found ------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A listed task that may be the answer to a lost create."""

    task_id: str
    model: Optional[str]
    created_at: Optional[float]
    status: str
    resolution: Optional[str] = None
    ratio: Optional[str] = None
    duration: Optional[float] = None
    frames: Optional[int] = None
    seed: Optional[int] = None
    prompt_matches: Optional[bool] = None  # None: the listing does not carry the prompt

    def settings_text(self) -> str:
        length = (f"{self.frames} frames" if self.frames is not None else
                  f"{self.duration:g} s" if self.duration is not None else None)
        parts = [self.resolution, self.ratio, length,
                 f"seed {self.seed}" if self.seed is not None else None]
        return " ".join(p for p in parts if p) or "settings not listed"


@dataclass
class Unresolved:
    """A row whose create outcome is unknown, with the tasks that could be it."""

    row: dict
    candidates: list[Candidate] = field(default_factory=list)
    note: str = ""  # why there are no candidates (cannot list, not contacted, list failed)


@dataclass
class Skipped:
    """A row that was not contacted, and why."""

    row: dict
    reason: str


@dataclass
class ResumeReport:
    unresolved: list[Unresolved] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.unresolved or self.skipped)

    def __str__(self) -> str:
        return _report_text(self)

    def __repr__(self) -> str:
        return _report_text(self)

    def _repr_html_(self) -> str:
        return _report_html(self)


class Resumed(list):
    """The Jobs a resume reattached (a plain list), plus `.report`: the rows it could
    not finish on its own (unknown outcomes with their candidates, rows not contacted)."""

    def __init__(self, jobs: Any = (), report: Optional[ResumeReport] = None) -> None:
        super().__init__(jobs)
        self.report = report or ResumeReport()

    @property
    def unresolved(self) -> list[Unresolved]:
        return self.report.unresolved

    @property
    def skipped(self) -> list[Skipped]:
        return self.report.skipped


# --- public functions ---------------------------------------------------------------------

def _clock(ts: Optional[float]) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "an unknown time"


def _prompt_of(row: dict, limit: int = 60) -> str:
    prompt = str((row.get("request") or {}).get("prompt") or "")
    return prompt if len(prompt) <= limit else prompt[:limit - 1] + "…"


def _row_line(row: dict) -> str:
    return (f"row {row['id']}  {row['provider']}  {row.get('model') or '?'}  sent "
            f"{_clock(row.get('sent_at'))}  prompt {_prompt_of(row)!r}")


def _candidate_line(c: Candidate) -> str:
    match = {True: "  [prompt matches]", None: ""}.get(c.prompt_matches, "")
    return (f"{c.task_id}  {c.model or '?'}  created {_clock(c.created_at)}  {c.status}  "
            f"{c.settings_text()}{match}")


def _report_text(report: ResumeReport) -> str:
    lines: list[str] = []
    if report.unresolved:
        lines.append(f"seedance: {len(report.unresolved)} create(s) were sent but their answer "
                     f"was lost: the task may exist and be billed. Nothing was adopted "
                     f"automatically; settle each one:")
        for item in report.unresolved:
            rid = item.row["id"]
            lines.append("  " + _row_line(item.row))
            if item.candidates:
                lines.append(f"    tasks that could be it (model {item.row.get('model')}, "
                             f"created around that time, not in the ledger):")
                lines += ["      " + _candidate_line(c) for c in item.candidates]
            if item.note:
                lines.append(f"    {item.note}")
            example = item.candidates[0].task_id if item.candidates else "TASK_ID"
            lines.append(f"    adopt:   seedance_nb.adopt({rid}, {example!r})   or   "
                         f"%seedance adopt {rid} {example}")
            lines.append(f"    dismiss: seedance_nb.dismiss({rid})   or   %seedance dismiss {rid}")
    if report.skipped:
        lines.append(f"seedance: {len(report.skipped)} unfinished row(s) were not contacted:")
        for item in report.skipped:
            lines.append(f"  row {item.row['id']}  {item.row['provider']}: {item.reason}")
    return "\n".join(lines)


def _report_html(report: ResumeReport) -> str:
    esc = html.escape
    parts: list[str] = []
    if report.unresolved:
        parts.append("<p><b>Create sent, answer lost</b>: the task may exist and be billed. "
                     "Nothing was adopted automatically; settle each one.</p>")
        for item in report.unresolved:
            rid = item.row["id"]
            parts.append(f"<p><code>{esc(_row_line(item.row))}</code></p>")
            if item.candidates:
                head = "".join(f"<th>{h}</th>" for h in ("task", "model", "created", "status",
                                                          "settings", "prompt"))
                body = "".join(
                    "<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in (
                        c.task_id, c.model or "?", _clock(c.created_at), c.status,
                        c.settings_text(), {True: "matches", False: "differs"}.get(
                            c.prompt_matches, "not listed"))) + "</tr>"
                    for c in item.candidates)
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                             f"</table>")
            if item.note:
                parts.append(f"<p>{esc(item.note)}</p>")
            example = item.candidates[0].task_id if item.candidates else "TASK_ID"
            parts.append(f"<p><code>%seedance adopt {rid} {esc(example)}</code> or "
                         f"<code>%seedance dismiss {rid}</code> (Python: "
                         f"<code>seedance_nb.adopt({rid}, {esc(repr(example))})</code>, "
                         f"<code>seedance_nb.dismiss({rid})</code>)</p>")
    if report.skipped:
        parts.append("<p><b>Not contacted</b>:</p><ul>" + "".join(
            f"<li>row {item.row['id']} ({esc(item.row['provider'])}): {esc(item.reason)}</li>"
            for item in report.skipped) + "</ul>")
    return "<div class='seedance-resume'>" + "".join(parts) + "</div>"


def _show(report: ResumeReport) -> None:
    """HTML and text in IPython (the notebook picks HTML), plain text elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None  # type: ignore[assignment]
    if get_ipython is not None and get_ipython() is not None:
        from IPython.display import display

        display(report)
    else:
        print(_report_text(report), flush=True)
