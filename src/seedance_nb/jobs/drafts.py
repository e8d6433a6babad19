"""Draft → final (reference §3): the model a final uses and the draft ids we refuse.

The gateway decides for ids we have never seen; the ledger only refuses what it knows
to be wrong (unfinished, not a draft, another provider's, older than 7 days).
"""
from __future__ import annotations

import time
from typing import Any, Optional

from .. import catalog


def _row_for(led: Any, provider: str, task_id: str) -> Optional[dict]:
    row = led.find_by_task(provider, task_id)
    if row is None:  # acedata finals carry the upstream cgt- id (§3)
        row = next((r for r in led.rows() if r.get("provider") == provider
                    and r.get("upstream_id") == task_id), None)
    return row


def draft_model(led: Any, provider: str, task_id: str) -> Optional[str]:
    """The wire model of a draft the ledger knows, else None (the request picks 2.5)."""
    row = _row_for(led, provider, task_id)
    return row.get("model") if row else None


def wire_draft_id(led: Any, provider: str, dialect: str, task_id: str) -> str:
    """On acedata the draft_task item carries the draft's upstream cgt- id (§3, uncertain)."""
    if dialect != "acedata":
        return task_id
    row = led.find_by_task(provider, task_id)
    return (row.get("upstream_id") or task_id) if row else task_id


def draft_problems(led: Any, provider: str, task_id: str,
                   now: Optional[float] = None) -> list[str]:
    """Why the ledger refuses `task_id` as a draft to finalize; empty when it may be sent."""
    row = _row_for(led, provider, task_id)
    if row is None:
        other = next((r for r in led.rows() if r.get("task_id") == task_id), None)
        if other is not None:
            return [f"draft_task_id {task_id}: a task of {other['provider']}, not {provider}; "
                    f"finals are made on the draft's own provider"]
        return []
    request = row.get("request") or {}
    if not request.get("draft"):
        return [f"draft_task_id {task_id}: that task is not a draft (made without --draft)"]
    status = row.get("status")
    if status != "succeeded":
        return [f"draft_task_id {task_id}: the draft is {status}, not succeeded; wait for it "
                f"(job.wait()) before asking for its final"]
    done = row.get("finished_at") or row.get("updated_at") or row.get("created_at") or 0
    age = (now or time.time()) - done
    if age > catalog.DRAFT_VALID_S:
        return [f"draft_task_id {task_id}: the draft is {age / 86400:.0f} days old; a draft can "
                f"become a final for 7 days only"]
    return []


def draft_valid_until(row: dict) -> Optional[float]:
    """When a succeeded draft stops being usable for a final (for the card's countdown)."""
    done = row.get("finished_at") or row.get("updated_at")
    return None if not done else done + catalog.DRAFT_VALID_S
