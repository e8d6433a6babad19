"""What polls and downloads write to the ledger: a task's polled state (`record_task`,
which also claims the task's files at success), downloaded files and download claims.

A mixin of `ledger.Ledger` (it uses the file's `_exec` and `_update`); import `Ledger`
from `ledger`, not this.
"""
from __future__ import annotations

import os
import time
from collections.abc import Mapping
from functools import partial
from typing import Any, Optional, Union

from . import catalog
from .errors import SeedanceError, redact
from .ledger_admission import _owner_is_dead
from .ledger_db import _in, _word

FILE_KINDS = ("video", "last_frame")
CLAIM_TTL_S = 300.0
TERMINAL = tuple(sorted(catalog.JOB_FINAL))
SUCCEEDED = _word("succeeded")
_FINAL_IN = _in(catalog.JOB_FINAL)


class TaskRows:
    def record_task(self, row_id: int, task: Any, claim_owner: Optional[str] = None) -> None:
        """A polled task (providers.base.Task or a dict of its fields).

        Known values are never overwritten by missing ones, and a terminal status is
        not replaced by an older, non-terminal poll from another process.

        With a `claim_owner` (the JobManager's polling passes its own) and a task that
        has succeeded, the same write claims its downloads for that owner (see
        `claim_download`): the one who sees success first downloads, one commit fewer.
        """
        field = task.get if isinstance(task, Mapping) else partial(getattr, task)
        status = field("status", None)
        owner = claim_owner
        urls = [redact(field(f"{kind}_url", None)) for kind in FILE_KINDS]
        err = field("error", None) or {}
        if isinstance(err, str):
            err = {"message": err}
        now = time.time()
        tokens = field("tokens", None)
        seed = field("seed", None)
        progress = field("progress", None)
        terminal = status in TERMINAL
        self._update(
            row_id, _RECORD_TASK,
            (status, status, status, field("id", None), field("upstream_id", None),
             int(progress) if progress is not None else None,
             int(tokens) if tokens is not None else None,
             int(seed) if seed is not None else None,
             *urls, field("url_expires_at", None),
             redact(err.get("code")) or None,
             redact(str(err["message"])) if err.get("message") else None,
             now, status, now, 1 if terminal else 0, now,
             *[value for url in urls for value in
               (owner, status, url, now, owner, owner, status, url, now, now + CLAIM_TTL_S)],
             now, row_id), durable=False)  # a poll says it again

    def record_file(self, row_id: int, kind: str, path: Union[str, os.PathLike], sha256: str,
                    size: int) -> None:
        """A downloaded file; releases the download claim."""
        col = _kind(kind)
        self._update(
            row_id,
            f"UPDATE tasks SET {col}_path = ?, {col}_sha256 = ?, {col}_size = ?, "
            f"{col}_claim = NULL, {col}_claim_until = NULL, updated_at = ? WHERE id = ?",
            (os.path.abspath(os.fspath(path)), sha256, int(size), time.time(), row_id),
            durable=False)  # the file itself is not synced either; a lost record re-fetches

    def claim_download(self, row_id: int, kind: str, owner: str, ttl_s: float = 300) -> bool:
        """True if this owner may download the file now; atomic across processes.

        Refused while another owner holds an unexpired claim, or when the file is
        already recorded and still on disk. A recorded file that has gone missing
        may be claimed again (the download replaces the record). An owner written
        `host:pid[:...]` whose process on this host has died loses its claim at once,
        so a resume after a crash need not wait out the ttl.
        """
        col = _kind(kind)
        row = self._exec(f"SELECT {col}_path, {col}_claim, {col}_claim_until FROM tasks "
                         f"WHERE id = ?", (row_id,)).fetchone()
        if row is None:
            raise SeedanceError(f"ledger {self.path} has no row {row_id}")
        recorded, holder, until = row
        if recorded and os.path.exists(recorded):
            return False
        now = time.time()
        if not recorded and holder == owner and until is not None and until - now > ttl_s / 2:
            return True  # claimed already (at success, by record_task): no second write
        dead = holder if holder and holder != owner and _owner_is_dead(holder) else None
        cur = self._exec(
            f"UPDATE tasks SET {col}_claim = ?, {col}_claim_until = ? WHERE id = ? "
            f"AND {col}_path IS ? AND ({col}_claim IS NULL OR {col}_claim = ? "
            f"OR {col}_claim = ? OR {col}_claim_until < ?)",
            (owner, now + ttl_s, row_id, recorded, owner, dead, now), durable=False)
        return cur.rowcount == 1

    def release_claim(self, row_id: int, kind: str, owner: str) -> None:
        """Give up a claim (a failed download) so another process may try at once."""
        col = _kind(kind)
        self._exec(f"UPDATE tasks SET {col}_claim = NULL, {col}_claim_until = NULL "
                   f"WHERE id = ? AND {col}_claim = ?", (row_id, owner), durable=False)


def _auto_claim(col: str) -> str:
    """SQL setting a file's claim at success (record_task), if it is free and not yet
    downloaded. Parameters: owner, status, the new URL, now, owner (the claim); the same
    four again, then the claim's end."""
    free = (f"(? IS NOT NULL AND ? = {SUCCEEDED} AND {col}_path IS NULL AND COALESCE(?, "
            f"{col}_url) IS NOT NULL AND ({col}_claim IS NULL OR {col}_claim_until < ?))")
    return (f"{col}_claim = CASE WHEN {free} THEN ? ELSE {col}_claim END, "
            f"{col}_claim_until = CASE WHEN {free} THEN ? ELSE {col}_claim_until END, ")


# record_task's statement, built once (a poll round runs it for every changed task)
_RECORD_TASK = (
    "UPDATE tasks SET "
    "status = CASE WHEN ? IS NULL THEN status "
    f"  WHEN status IN {_FINAL_IN} AND ? NOT IN {_FINAL_IN} THEN status "
    "  ELSE ? END, "
    "task_id = COALESCE(task_id, ?), upstream_id = COALESCE(?, upstream_id), "
    "progress = COALESCE(?, progress), tokens = COALESCE(?, tokens), "
    "seed = COALESCE(?, seed), video_url = COALESCE(?, video_url), "
    "last_frame_url = COALESCE(?, last_frame_url), "
    "url_expires_at = COALESCE(?, url_expires_at), "
    "error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message), "
    "sent_at = COALESCE(sent_at, ?), "
    f"started_at = CASE WHEN started_at IS NULL AND ? = {_word('running')} "
    "  THEN ? ELSE started_at END, "
    "finished_at = CASE WHEN finished_at IS NULL AND ? THEN ? ELSE finished_at END, "
    + "".join(_auto_claim(kind) for kind in FILE_KINDS) +
    "updated_at = ? WHERE id = ?")


def _kind(kind: str) -> str:
    if kind not in FILE_KINDS:
        raise ValueError(f"file kind must be 'video' or 'last_frame', not {kind!r}")
    return kind
