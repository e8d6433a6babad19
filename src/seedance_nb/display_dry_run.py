"""What `%%seedance --dry-run` shows: the validated request(s) and the estimate, one output."""
from __future__ import annotations

import html
from typing import Any, Iterable

from .display_estimate import (estimate_line, estimate_of, estimate_text, settings_of,
                               short_name, tokens_text)
from .display_video import BORDER


def _request_data(request: Any) -> dict[str, Any]:
    to_dict = getattr(request, "to_dict", None)
    try:
        data = to_dict() if callable(to_dict) else dict(vars(request))
    except Exception:
        data = {k: getattr(request, k) for k in ("provider", "model", "prompt", "mode")
                if hasattr(request, k)}
    return {k: v for k, v in data.items() if v not in (None, (), [], {})}


class DryRun:
    """What `%%seedance --dry-run` shows: ONE output (HTML, and a readable text repr).

    `requests` are the validated requests (one per sweep combination); nothing was sent.
    """

    def __init__(self, requests: Iterable[Any], fields: Iterable[str] = ()) -> None:
        self.requests = list(requests)
        self.fields = list(fields)

    @property
    def request(self) -> Any:
        return self.requests[0] if self.requests else None

    def _warnings(self) -> list[str]:
        seen: dict[str, None] = {}
        for req in self.requests:
            for w in getattr(req, "warnings", ()) or ():
                seen.setdefault(str(w))
        return list(seen)

    def _titles(self) -> list[str]:
        return [" · ".join(f"{short_name(f)}={getattr(r, f, None) if f != 'model' else r.family}"
                           for f in self.fields) for r in self.requests]

    def _repr_html_(self) -> str:
        head = "<b>dry run</b>: nothing sent"
        est = estimate_line(self.requests)
        if est:
            head += " · " + html.escape(est)
        cell = f'style="padding:1px 8px;border-bottom:1px solid {BORDER};text-align:left"'
        if len(self.requests) == 1:
            data = _request_data(self.request)
            rows = "".join(f"<tr><td {cell}><code>{html.escape(str(k))}</code></td>"
                           f"<td {cell}>{html.escape(str(v))}</td></tr>" for k, v in data.items())
            full = estimate_text(self.request)
            if full:
                rows += (f"<tr><td {cell}><code>estimate</code></td>"
                         f"<td {cell}>{html.escape(full)}</td></tr>")
        else:
            rows = f"<tr><th {cell}>video</th><th {cell}>settings</th><th {cell}>tokens</th></tr>"
            for title, req in zip(self._titles(), self.requests):
                shown = settings_of(req)
                rows += (f"<tr><td {cell}>{html.escape(title)}</td><td {cell}>"
                         f"{html.escape(' '.join(v for v in shown.values() if v))}</td>"
                         f"<td {cell}>{tokens_text(estimate_of(req))}</td></tr>")
        warnings = "".join(f'<div style="color:var(--jp-warn-color1, #ef6c00)">warning: '
                           f"{html.escape(w)}</div>" for w in self._warnings())
        return (f'<div class="seedance-dry-run"><div>{head}</div>'
                f'<table style="font-size:90%;border-collapse:collapse">{rows}</table>'
                f"{warnings}</div>")

    def __repr__(self) -> str:
        est = estimate_line(self.requests)
        lines = ["dry run: nothing sent" + (f"; {est}" if est else "")]
        if len(self.requests) == 1:
            lines += [f"  {k}: {v}" for k, v in _request_data(self.request).items()]
            full = estimate_text(self.request)
            if full:
                lines.append(f"  estimate: {full}")
        else:
            for title, req in zip(self._titles(), self.requests):
                lines.append(f"  {title}: " + " ".join(v for v in settings_of(req).values() if v))
        lines += [f"warning: {w}" for w in self._warnings()]
        return "\n".join(lines)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/html": self._repr_html_(), "text/plain": repr(self)}


def request_bundle(request: Any, fields: Iterable[str] = ()) -> dict[str, str]:
    """Dry-run view of one request or a list of them (a sweep): one bundle."""
    requests = list(request) if isinstance(request, (list, tuple)) else [request]
    return DryRun(requests, fields)._repr_mimebundle_()
