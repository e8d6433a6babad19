"""Reading the ledger back: `history()`, `export_history` (CSV or JSON) and the
flattening of a row into those columns.

`history()` is short by default: this session's tasks (see `in_scope`) as a `History`
table (name, prompt, model, settings, status, tokens/cost, when, file). `all=True`
widens it to every task in the ledger (the output folder), `full=True` gives every
column (a DataFrame with pandas, else `Records`). Times are local, spans in seconds.
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


def _raw_rows(path: Union[str, os.PathLike, None]) -> list[dict]:
    """The ledger's rows as stored, newest first."""
    target = Path(path).expanduser() if path is not None else _configured_ledger()
    if not target.exists():
        return []  # no ledger yet means no history; do not create a file just to read it
    from .ledger import Ledger  # ledger.py imports this module

    with Ledger(target) as ledger:
        return ledger.rows()[::-1]


def _history_rows(path: Union[str, os.PathLike, None]) -> list[dict]:
    return [_flatten(r) for r in _raw_rows(path)]


def _configured_ledger() -> Path:
    """The ledger the settings name (history() is a user entry point: no path given)."""
    try:
        from .config import settings

        return Path(settings.ledger_file())
    except (ImportError, AttributeError):  # older config without `settings`
        return default_path()


def history(path: Union[str, os.PathLike, None] = None, *, all: bool = False,
            full: bool = False, as_frame: Optional[bool] = None) -> Any:
    """The recorded tasks, newest first.

    By default a short `History` table of this notebook's tasks (`in_scope`): name,
    prompt, model, settings, status, tokens/cost, when and a link to the file.
    `all=True`: every task in the ledger (everything this output folder holds).
    `full=True`: every column, as a pandas DataFrame (a `Records` list without pandas).
    `as_frame=False`: the full rows as a list of dicts; `as_frame=True`: as a DataFrame.
    """
    ledger = Path(path).expanduser() if path is not None else _configured_ledger()
    every = _raw_rows(ledger)
    if all:
        raw = every
    else:
        mine, notebook = _kernel_rows(ledger), current_notebook()
        raw = [r for r in every if in_scope(r, mine, notebook)]
    if not (full or as_frame is not None):
        from .history_view import History

        return History(raw, total=len(every), everything=all, ledger=ledger)
    rows = [_flatten(r) for r in raw]
    if as_frame is False:
        return rows
    try:
        import pandas as pd
    except ImportError:
        return Records(rows)
    return pd.DataFrame(rows, columns=_columns())


# --- scope: which rows are "this notebook's" ----------------------------------------


def current_notebook() -> Optional[str]:
    """The notebook this kernel runs, when the frontend says (Jupyter server, VS Code)."""
    import sys

    ip = None
    if "IPython" in sys.modules:
        try:
            from IPython import get_ipython

            ip = get_ipython()
        except Exception:
            ip = None
    ns = getattr(ip, "user_ns", None) or {}
    for key in ("__vsc_ipynb_file__", "__session__"):
        value = ns.get(key)
        if isinstance(value, str) and value.endswith(".ipynb"):
            return value
    value = os.environ.get("JPY_SESSION_NAME", "")
    return value if value.endswith(".ipynb") else None


def _this_process() -> str:
    import socket

    return f"{socket.gethostname()}:{os.getpid()}"


def _kernel_rows(ledger: Path) -> set[int]:
    """Ids in `ledger` of this kernel's jobs (also reused and resumed ones)."""
    import sys

    if "seedance_nb.jobs" not in sys.modules:
        return set()  # no job ran here: nothing to import
    try:
        from .jobs import manager

        target = ledger.resolve()
        return {j.ledger_id for j in list(manager().jobs)
                if j.ledger_id is not None and getattr(j.ledger, "path", None) == target}
    except Exception:
        return set()


def in_scope(row: Mapping[str, Any], kernel_rows: frozenset[int] | set[int] = frozenset(),
             notebook: Optional[str] = None) -> bool:
    """A row of this session: sent by this process, shown by one of its jobs
    (`kernel_rows`: reused, resumed), or recorded for this `notebook` (a row's
    `notebook`, recorded at submit when the frontend names the notebook), so a kernel
    restart keeps this notebook's earlier rows in view."""
    if row.get("owner") == _this_process() or row.get("id") in kernel_rows:
        return True
    return bool(notebook) and row.get("notebook") == notebook


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
