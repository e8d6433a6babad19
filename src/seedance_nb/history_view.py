"""The short history table that `history()` and `%seedance history` show.

One row per task: name, prompt (cut short), model, a settings summary, status,
tokens, cost, when (relative or short local time) and a link to the file. No
None/NaN cells, no hashes, fingerprints or absolute paths: `history(full=True)`
has those.
"""
from __future__ import annotations

import datetime as _dt
import html
import os
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from . import catalog

COLUMNS = ("#", "name", "prompt", "model", "settings", "status", "tokens", "cost", "when",
           "file")
PROMPT_CHARS = 48
_SYMBOL = {"USD": "$", "CNY": "¥", "EUR": "€"}
_UNBILLED = {"failed", "rejected", "cancelled", "expired", "dismissed"}


def _family(row: Mapping[str, Any]) -> str:
    if row.get("family"):
        return str(row["family"])
    model = row.get("model") or ""
    families = set(catalog.family_of_wire_id(model).values()) if model else set()
    return families.pop() if len(families) == 1 else model


def _settings(row: Mapping[str, Any]) -> str:
    req = row.get("request") or {}
    bits = []
    if req.get("draft"):
        bits.append("draft")
    if req.get("draft_task_id"):
        bits.append("final")
    for key in ("resolution", "ratio"):
        if req.get(key):
            bits.append(str(req[key]))
    if req.get("frames") is not None:
        bits.append(f"{req['frames']} frames")
    elif req.get("duration") is not None:
        bits.append("auto length" if req["duration"] == -1 else f"{req['duration']} s")
    seed = row.get("seed") if row.get("seed") is not None else req.get("seed")
    if seed is not None:
        bits.append(f"seed {seed}")
    images = req.get("images") or []
    if images:
        bits.append(f"{len(images)} image" + ("s" if len(images) > 1 else ""))
    if req.get("output_format") == "mov":
        bits.append("mov")
    if req.get("service_tier") == "flex":
        bits.append("flex")
    return " ".join(bits)


def _money(amount: float, currency: str) -> str:
    sym = _SYMBOL.get(currency or "")
    return f"{sym}{amount:.2f}" if sym else f"{amount:.2f} {currency or ''}".strip()


def _tokens(row: Mapping[str, Any]) -> str:
    if row.get("tokens") is not None:
        return f"{row['tokens']:,}"
    if row.get("status") in _UNBILLED or row.get("status") == "succeeded":
        return ""
    est = row.get("estimate_tokens")
    return f"~{est:,}" if est else ""


def _cost(row: Mapping[str, Any]) -> str:
    status = row.get("status")
    if status in _UNBILLED:
        return "not billed"
    if row.get("provider") == "emulator":
        return "free (emulator)"
    cost, est = row.get("estimate_cost"), row.get("estimate_tokens")
    if cost is None:
        return ""
    if status == "succeeded" and row.get("tokens") and est:
        return _money(cost * row["tokens"] / est, row.get("estimate_currency") or "")
    return "~" + _money(cost, row.get("estimate_currency") or "")


def when_text(ts: Optional[float], now: Optional[float] = None) -> str:
    """"just now", "5 min ago", "3 h ago", then a short local time."""
    if ts is None:
        return ""
    now = time.time() if now is None else now
    ago = now - ts
    if 0 <= ago < 60:
        return "just now"
    if 0 <= ago < 3600:
        return f"{ago // 60:.0f} min ago"
    if 0 <= ago < 6 * 3600:
        return f"{ago // 3600:.0f} h ago"
    at = _dt.datetime.fromtimestamp(ts)
    today = _dt.datetime.fromtimestamp(now).date()
    if at.date() == today:
        return at.strftime("%H:%M")
    if at.date() == today - _dt.timedelta(days=1):
        return at.strftime("yesterday %H:%M")
    if at.year == today.year:
        return at.strftime("%b %d %H:%M")
    return at.strftime("%Y-%m-%d")


def _relative(path: str) -> str:
    """A file as seen from the notebook's folder (the kernel's working directory)."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return Path(path).name


def short_row(row: Mapping[str, Any], now: Optional[float] = None) -> dict[str, str]:
    """One ledger row as the short table shows it (every cell a string)."""
    prompt = " ".join(str((row.get("request") or {}).get("prompt") or "").split())
    if len(prompt) > PROMPT_CHARS:
        prompt = prompt[:PROMPT_CHARS - 1] + "…"
    video = row.get("video_path")
    return {"#": str(row.get("id", "")), "name": row.get("name") or "", "prompt": prompt,
            "model": _family(row), "settings": _settings(row),
            "status": row.get("status") or "", "tokens": _tokens(row), "cost": _cost(row),
            "when": when_text(row.get("created_at"), now),
            "file": _relative(video) if video else ""}


class History(list):
    """The short history: a list of `short_row` dicts, shown as one table.

    `total` is how many tasks the ledger holds; `everything` says whether this is all
    of them (`history(all=True)`) or this session's.
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]], *, total: int = 0,
                 everything: bool = False, ledger: Optional[Path] = None,
                 now: Optional[float] = None) -> None:
        super().__init__(short_row(r, now) for r in rows)
        self.total = total
        self.everything = everything
        self.ledger = ledger

    def headline(self) -> str:
        n = len(self)
        where = "the ledger"
        if self.ledger:
            where = _relative(str(self.ledger))
            if where.startswith(".."):  # outside the notebook's folder: say where it is
                where = str(Path(self.ledger).resolve())
        tasks = f"{n} task" + ("" if n == 1 else "s")
        if self.everything:
            return f"{tasks} in {where}"
        line = f"{tasks} from this session"
        if self.total > n:
            line += (f"; {self.total} in {where}: history(all=True) or "
                     f"%seedance history --all shows them")
        return line

    def _repr_html_(self) -> str:
        cell = ("padding:2px 8px;text-align:left;vertical-align:top;"
                "border-bottom:1px solid var(--jp-border-color2, #e0e0e0)")
        head = "".join(f'<th style="{cell}">{html.escape(c)}</th>' for c in COLUMNS)
        body = []
        for row in self:
            cells = []
            for col in COLUMNS:
                value = row[col]
                if col == "file" and value:
                    from urllib.parse import quote

                    shown = html.escape(Path(value).name)
                    value_html = (f'<a href="{html.escape(quote(value.replace(os.sep, "/")), quote=True)}" '
                                  f'target="_blank">{shown}</a>')
                else:
                    value_html = html.escape(value)
                cells.append(f'<td style="{cell}">{value_html}</td>')
            body.append("<tr>" + "".join(cells) + "</tr>")
        table = (f'<table class="seedance-history" style="font-size:90%;border-collapse:collapse">'
                 f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                 if self else "")
        return (f'<div><div style="color:var(--jp-ui-font-color2, #616161);font-size:90%">'
                f"{html.escape(self.headline())}</div>{table}</div>")

    def __repr__(self) -> str:
        if not self:
            return self.headline()
        cols = [c for c in COLUMNS if c != "file" or any(r["file"] for r in self)]
        shown = [{c: (Path(r[c]).name if c == "file" else r[c]) for c in cols} for r in self]
        widths = {c: max(len(c), *(len(r[c]) for r in shown)) for c in cols}
        lines = [self.headline(), "  ".join(c.ljust(widths[c]) for c in cols).rstrip()]
        lines += ["  ".join(r[c].ljust(widths[c]) for c in cols).rstrip() for r in shown]
        return "\n".join(lines)
