"""The panel where widgets cannot render (a terminal, nbclient, a notebook viewer):
text/plain and text/html that say what the form holds and how its jobs stand."""
from __future__ import annotations

import html
from typing import Any

TITLE = "Seedance panel (interactive in Jupyter with ipywidgets)"


def summary(panel: Any) -> tuple[list[str], list[str]]:
    """(lines about the form, one line per job card)."""
    kw, conflicts = panel._kwargs()
    provider = panel.provider.value
    head = [f"provider: {provider}" +
            (f" (emulating {panel.emulate.value})" if provider == "emulator" else ""),
            f"model: {panel.model.value} ({panel.caps.model})",
            "prompt: " + (panel.prompt.value.strip() or "(empty)")]
    values = panel.form.values()
    head.append("settings: " + (", ".join(panel.form.shown(n, v) for n, v in values.items())
                                or "model defaults"))
    head += [f"{role.replace('_', ' ')}: {source}" for source, role in kw.get("images") or ()]
    head += [f"conflict: {c}" for c in conflicts]
    jobs = []
    for card in list(panel.cards_box.children):
        job = card.job
        bits = [job.status or "pending", getattr(card, "panel_title", "")]
        if job.task_id:
            bits.append(f"task {job.task_id}")
        if job.video_path:
            bits.append(str(job.video_path))
        if job.error:
            bits.append(str(job.error).splitlines()[0])
        jobs.append(" · ".join(str(b) for b in bits if b))
    return head, jobs


def panel_text(panel: Any) -> str:
    head, jobs = summary(panel)
    lines = [TITLE, *head]
    lines += (["jobs:"] + [f"  {j}" for j in jobs]) if jobs else ["jobs: none yet"]
    return "\n".join(lines)


def panel_html(panel: Any) -> str:
    head, jobs = summary(panel)
    items = "".join(f"<li>{html.escape(h)}</li>" for h in head)
    rows = "".join(f"<li>{html.escape(j)}</li>" for j in jobs) or "<li>none yet</li>"
    return (f'<div class="seedance-panel-text"><b>Seedance panel</b> (interactive in '
            f"Jupyter with ipywidgets)<ul>{items}</ul>jobs:<ul>{rows}</ul></div>")
