"""Reading the ledger back: `history()` (a DataFrame with pandas, else `Records`),
`export_history` (CSV or JSON) and the flattening of a row into those columns.

Times are shown as local ISO times, spans in seconds.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .errors import SeedanceConfigError
from .ledger_db import _ROW_COLUMNS, default_path

_REQUEST_FIELDS = ("prompt", "resolution", "ratio", "duration", "frames",
                   "seed", "camera_fixed", "watermark", "generate_audio", "service_tier")


def _local_time(ts: Optional[float]) -> Optional[str]:
    if ts is None:
        return None
    return _dt.datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds")


def _span(start: Optional[float], end: Optional[float]) -> Optional[float]:
    if start is None or end is None:
        return None
    return round(end - start, 3)


def _flatten(row: dict) -> dict:
    req = row["request"] or {}
    out: dict[str, Any] = {"id": row["id"], "name": row["name"], "status": row["status"],
                           "provider": row["provider"], "model": row["model"]}
    for key in _REQUEST_FIELDS:
        out[key] = req.get(key)
    out["requested_seed"] = out.pop("seed")
    out["seed"] = row["seed"] if row["seed"] is not None else out["requested_seed"]
    images = req.get("images") or []
    out["images"] = "; ".join(
        f"{i.get('role', '')}={i.get('source', '')}" for i in images if isinstance(i, Mapping))
    out.update({
        "task_id": row["task_id"],
        "created": _local_time(row["created_at"]),
        "sent": _local_time(row["sent_at"]),
        "finished": _local_time(row["finished_at"]),
        "queued_s": _span(row["sent_at"], row["started_at"]),
        "running_s": _span(row["started_at"], row["finished_at"]),
        "total_s": _span(row["sent_at"], row["finished_at"]),
        "tokens": row["tokens"],
        "estimate_tokens": row["estimate_tokens"],
        "estimate_cost": row["estimate_cost"],
        "currency": row["estimate_currency"],
        "video_path": row["video_path"],
        "video_sha256": row["video_sha256"],
        "last_frame_path": row["last_frame_path"],
        "error_code": row["error_code"],
        "error_message": row["error_message"],
        "fingerprint": row["fingerprint"],
    })
    return out


def _columns() -> list[str]:
    """The history's columns, in order (also when there are no rows)."""
    return list(_flatten({c: None for c in _ROW_COLUMNS} | {"request": {}}).keys())


def _history_rows(path: Union[str, os.PathLike, None]) -> list[dict]:
    target = Path(path).expanduser() if path is not None else default_path()
    if not target.exists():
        return []  # no ledger yet means no history; do not create a file just to read it
    from .ledger import Ledger  # ledger.py imports this module

    with Ledger(target) as ledger:
        return ledger.history()


def history(path: Union[str, os.PathLike, None] = None, *, as_frame: bool = True) -> Any:
    """Every recorded task, newest first: a pandas DataFrame if pandas is installed
    (and `as_frame`), else a list of dicts."""
    rows = _history_rows(path)
    if as_frame:
        try:
            import pandas as pd
        except ImportError:
            return Records(rows)
        return pd.DataFrame(rows, columns=_columns())
    return rows


class Records(list):
    """History rows without pandas: still a list of dicts, shown as a table in notebooks."""

    COLUMNS = ("id", "name", "status", "model", "resolution", "ratio", "duration", "seed",
               "tokens", "estimate_cost", "video_path")

    def _repr_html_(self) -> str:
        import html

        cols = [c for c in self.COLUMNS if any(c in r for r in self)]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape('' if r.get(c) is None else str(r.get(c)))}</td>"
                             for c in cols) + "</tr>" for r in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def export_history(dest: Union[str, os.PathLike], fmt: Optional[str] = None, *,
                   path: Union[str, os.PathLike, None] = None) -> Path:
    """Write the history to `dest` as CSV or JSON (`fmt`, else from the suffix); returns it."""
    dest = Path(dest).expanduser()
    fmt = (fmt or dest.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "json"):
        raise SeedanceConfigError(f"export format must be 'csv' or 'json', not {fmt!r}")
    rows = _history_rows(path)
    columns = _columns()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        if fmt == "json":
            json.dump(rows, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        else:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    os.replace(tmp, dest)
    return dest
