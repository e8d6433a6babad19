"""Cards for the recent jobs of this output folder, rebuilt from the ledger.

After a kernel restart the old panel's widgets are gone ("model not found"); a new
`%seedance panel` shows the last rows of the folder's ledger again. Unfinished rows are
resumed through `jobs.recovery.resume` (the same rules as `%seedance resume`: keys only
to their configured base URL, lost creates reported, never adopted); finished rows become
`PastJob`s, read-only stand-ins with the traits a `JobCard` shows.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ..jobs.job import JobTraits

RECENT = 10  # rows shown by default


class RowRequest:
    """The recorded request of a row (`VideoRequest.to_dict()`), read by attribute."""

    def __init__(self, data: Optional[dict]) -> None:
        self._data = dict(data or {})

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._data.get(name)


class PastJob(JobTraits):
    """A job that ended before this kernel started, as its ledger row recorded it."""

    def __init__(self, row: dict, ledger: Any = None) -> None:
        super().__init__()
        self.row = row
        self.ledger = ledger
        self.ledger_id = row.get("id")
        self.provider = row.get("provider") or ""
        self.name = row.get("name")
        self.request = RowRequest(row.get("request"))
        self.model = row.get("model")
        self.task = None
        self.task_id = row.get("task_id")
        self.tokens = row.get("tokens")
        end = row.get("finished_at") or row.get("updated_at")
        if end and row.get("created_at"):
            self.elapsed = max(0.0, float(end) - float(row["created_at"]))
        if row.get("error_code") or row.get("error_message"):
            self.error = ": ".join(str(x) for x in (row.get("error_code"),
                                                    row.get("error_message")) if x)
        if row.get("status") == "pending" and not row.get("sent_at"):
            self.error = self.error or "recorded but never sent: nothing was billed"
        path = row.get("video_path")
        if path and Path(path).exists():
            self.video_path = path
        lf = row.get("last_frame_path")
        if lf and Path(lf).exists():
            self.last_frame_path = lf
        self.status = row.get("status") or "pending"

    @property
    def done(self) -> bool:
        return True

    def cancel(self) -> None:
        from ..errors import SeedanceError

        raise SeedanceError(f"ledger row {self.ledger_id} is {self.status}: nothing to cancel")

    def wait(self, timeout: Optional[float] = None) -> "PastJob":
        return self

    def final(self, **kw: Any) -> Any:
        """The 1080p final of this recorded 2.5 draft (same provider and model)."""
        from ..errors import SeedanceError
        from ..jobs import submit

        if not self.request.draft:
            raise SeedanceError("final() is for drafts: submit with draft=True (--draft) first")
        if self.status != "succeeded" or not self.task_id:
            raise SeedanceError(f"draft {self.task_id or '(never created)'} is {self.status}")
        where: dict[str, Any] = {"provider": self.provider}
        if self.provider == "emulator":
            where["emulate"] = self.row.get("dialect") or "ark"
        # the key: the configured one, sent only to the provider it is for (resolve_client)
        return submit(model=self.model, draft_task_id=self.task_id, **where, **kw)


def title_of(row: dict) -> str:
    prompt = str((row.get("request") or {}).get("prompt") or "").strip()
    return prompt[:80] or row.get("name") or "(image only)"


def recent(limit: int = RECENT) -> tuple[list[tuple[Any, str]], str]:
    """([(job, title)] newest first, note) for the last `limit` rows of this folder's
    ledger; unfinished rows come back as live Jobs (resumed, like `%seedance resume`,
    which picks up every unfinished row, so older ones get a card too), the rest as
    PastJobs. No ledger file yet: nothing (the panel does not create one by opening)."""
    from .. import jobs as _jobs
    from ..config import settings

    if limit <= 0 or not Path(settings.ledger_file()).expanduser().exists():
        return [], ""
    mgr = _jobs.manager()
    led = mgr.ledger()
    rows = led.rows()[-limit:]
    if not rows:
        return [], ""
    live = {j.ledger_id: j for j in list(mgr.jobs) if getattr(j, "ledger", None) is led}
    note = ""
    inflight = {r["id"] for r in led.inflight()}
    if inflight - set(live):
        resumed = _jobs.resume(show=False)  # keys: as %seedance resume (settings)
        live.update({j.ledger_id: j for j in resumed})
        if resumed.report:
            note = str(resumed.report)
        # older unfinished rows resumed too get a card; resume may have settled some rows
        ids = sorted({r["id"] for r in rows} | {j.ledger_id for j in resumed})
        rows = [row for row in map(led.get, ids) if row]
    out = []
    for row in reversed(rows):
        job = live.get(row["id"]) or PastJob(row, led)
        out.append((job, title_of(row)))
    return out, note

