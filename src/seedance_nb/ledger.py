"""The local task ledger: SQLite in WAL mode, written ahead of every create.

One row per create attempt. The row is written before anything goes on the
wire, then updated at each step (admitted and sent, task id, status changes,
files). Every call is one committed transaction, so a process killed between two
calls loses nothing already written, and several processes (kernels) may share one
file: SQLite's locking plus a busy timeout serialise them, downloads are claimed
with a conditional UPDATE so only one process fetches a file, and `admit` claims a
send slot of an account's budget in one BEGIN IMMEDIATE transaction (admission
control, jobs/admission.py). Writes that always happen together are one commit:
admission and "sending"; a success and its download claims. Commits that hold
money (the send, the task id, an unknown outcome) are synced to disk (survive a
power cut); the rest (intent, polled status, claims, file records) only survive a
killed process until the next synced commit carries them, since a poll or a
download redoes them (`LedgerFile._sync`).

CONTRACT: see docs/architecture.md (`Ledger`, `history`). Beyond it: `unsent()`
(recorded, never sent, not billed), `task_ids(provider)`, `release_claim(...)`,
`rows()`, `find_active(fingerprint)`, `adopt(row_id, task_id)`, `dismiss(row_id)`,
`unresolved()`, an optional `estimate=` on `record_intent` (taken from the request's
`estimate()` when omitted), `default_path()` and `export_history(dest, fmt)`.
Admission control: `record_intent(..., status="waiting", account=, family=)`,
`admit(row_id, queued=, rpm=, concurrency=)`, `requeue(row_id, code, message)` (a
429), `waiting()`, `take_over(row_ids)`, `queued_count`, `recent_admissions`; and
`commits`, the number of durable commits this object made (all threads).
Times are Unix seconds; `history()` shows them as local ISO times.

Status words come from `catalog.JOB_STATUSES`; every SQL status list below is
built from the catalog's sets. Registered secrets (errors.register_secret) are
removed from every text before it is written.

Here: `Ledger`'s write-ahead steps, adopt/dismiss and queries. The file itself
(schema, connections) is `ledger_db.py`, what polls and downloads write (task state,
files, download claims) `ledger_tasks.py`, admission `ledger_admission.py`, what is
stored of a request `ledger_values.py`, reading back (`history`, `export_history`)
`ledger_history.py`.
"""
from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
import time
from typing import Any, Iterable, Optional

from . import catalog
from .errors import SeedanceError, redact, redact_data
# Reading back and the stored values live in their own modules; their names stay here too.
from .ledger_history import Records, _flatten, _local_time, export_history, history  # noqa: F401
from .ledger_admission import ANSWER_WITHIN_S, AdmissionRows, _owner_is_dead  # noqa: F401
from .ledger_db import (_SCHEMA, APPLICATION_ID, BUSY_TIMEOUT_MS,  # noqa: F401
                        SCHEMA_VERSION, LedgerFile, _in, _word, default_path)
from .ledger_tasks import TaskRows
from .ledger_values import (_estimate_values, clean_url,  # noqa: F401
                            normalize_request)


POLLED = tuple(sorted(catalog.JOB_ACTIVE - {"pending", "waiting"}))  # a gateway holds them
PENDING, UNKNOWN, SUCCEEDED = _word("pending"), _word("unknown"), _word("succeeded")
WAITING, RUNNING = _word("waiting"), _word("running")
REJECTED, DISMISSED, QUEUED = _word("rejected"), _word("dismissed"), _word("queued")
_FINAL_IN, _ACTIVE_IN, _POLLED_IN = _in(catalog.JOB_FINAL), _in(catalog.JOB_ACTIVE), _in(POLLED)
# Outcome unknown: the ended words that are not final (the user must adopt or dismiss).
_UNRESOLVED_IN = _in(catalog.JOB_ENDED - catalog.JOB_FINAL)


class Ledger(AdmissionRows, TaskRows, LedgerFile):
    """A SQLite ledger file shared by the threads and processes that open it.

    Opening (`Ledger(path)`, default `default_path()`) creates the file if needed; see
    `LedgerFile`. Below: the write-ahead steps, download claims and queries.
    """

    def _update(self, row_id: int, sql: str, params: Iterable[Any] = (),
                durable: bool = True) -> None:
        cur = self._exec(sql, params, durable)
        if cur.rowcount == 0 and self.get(row_id) is None:
            raise SeedanceError(f"ledger {self.path} has no row {row_id}")

    # --- write-ahead steps -----------------------------------------------------------

    def record_intent(self, *, fingerprint: str, provider: str, dialect: str, model: str,
                      base_url: Optional[str], request: Any, name: Optional[str] = None,
                      estimate: Any = None, owner: Optional[str] = None,
                      status: str = "pending", account: Optional[str] = None,
                      family: Optional[str] = None, notebook: Optional[str] = None) -> int:
        """Write the request before anything is sent; returns the row id.

        `owner` (default `host:pid` of this process) says who is sending it, so other
        processes can tell a live submit from one whose process died (`find_active`).
        `status` "waiting" records it for admission control (`admit`), with `account`
        (a hash of the key, never the key) and `family` naming its budget. `notebook`:
        the notebook that asked (history's default scope).
        """
        if status not in ("pending", "waiting"):
            raise ValueError(f"an intent is pending or waiting, not {status!r}")
        req = normalize_request(request)
        if estimate is None and hasattr(request, "estimate"):
            try:
                estimate = request.estimate()
            except Exception:  # an estimate is a nicety; never block the write-ahead
                estimate = None
        tokens, cost, currency = _estimate_values(estimate)
        # A registered key that slipped into free text (e.g. pasted into a prompt) goes.
        req_json = json.dumps(redact_data(req), ensure_ascii=False, sort_keys=True)
        now = time.time()
        cur = self._exec(
            "INSERT INTO tasks (fingerprint, provider, dialect, model, base_url, name, request, "
            "status, created_at, updated_at, estimate_tokens, estimate_cost, estimate_currency, "
            "owner, account, family, notebook) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (fingerprint, provider, dialect, model, redact(clean_url(base_url)), redact(name),
             req_json, status,
             now, now, tokens, cost, currency,
             owner or f"{socket.gethostname()}:{os.getpid()}", account,
             family or getattr(request, "family", None), redact(notebook)),
            durable=False)  # nothing is sent yet; the send's own commit syncs it first
        return int(cur.lastrowid)

    def mark_sending(self, row_id: int) -> None:
        """Just before the create goes on the wire: from now on it may be billed."""
        now = time.time()
        self._update(row_id, "UPDATE tasks SET sent_at = COALESCE(sent_at, ?), updated_at = ?, "
                     f"status = CASE WHEN status = {WAITING} THEN {PENDING} ELSE status END "
                     "WHERE id = ?", (now, now, row_id))

    def record_created(self, row_id: int, task_id: str, upstream_id: Optional[str] = None) -> None:
        """The gateway answered with a task id (or reconciliation found it)."""
        now = time.time()
        try:
            self._update(
                row_id,
                "UPDATE tasks SET task_id = ?, upstream_id = COALESCE(?, upstream_id), "
                "sent_at = COALESCE(sent_at, ?), updated_at = ?, "
                f"status = CASE WHEN status IN ({PENDING}, {UNKNOWN}, {WAITING}) THEN {QUEUED} "
                "  ELSE status END, "
                f"error_code = CASE WHEN status = {UNKNOWN} THEN NULL ELSE error_code END, "
                f"error_message = CASE WHEN status = {UNKNOWN} THEN NULL "
                "  ELSE error_message END "
                "WHERE id = ?", (task_id, upstream_id, now, now, row_id))
        except sqlite3.IntegrityError:
            other = self.find_by_task(self._provider_of(row_id), task_id)
            raise SeedanceError(
                f"task {task_id} is already recorded in ledger row {other and other['id']}; "
                f"not recording it again for row {row_id}") from None

    def _provider_of(self, row_id: int) -> str:
        row = self._exec("SELECT provider FROM tasks WHERE id = ?", (row_id,)).fetchone()
        return row[0] if row else ""

    def record_outcome_unknown(self, row_id: int, message: str) -> None:
        """The create was sent but its answer was lost. Never resubmitted automatically."""
        now = time.time()
        self._update(
            row_id,
            f"UPDATE tasks SET status = {UNKNOWN}, error_code = 'CreateOutcomeUnknown', "
            "error_message = ?, sent_at = COALESCE(sent_at, ?), updated_at = ? "
            f"WHERE id = ? AND status = {PENDING} AND task_id IS NULL",
            (redact(message), now, now, row_id))

    def record_create_failed(self, row_id: int, code: str, message: str,
                             status: str = "rejected") -> None:
        """The gateway refused the create: status `rejected`, nothing billed. `status`
        "cancelled": the user cancelled it before it was sent."""
        if status not in ("rejected", "cancelled"):
            raise ValueError(f"an unsent row ends rejected or cancelled, not {status!r}")
        now = time.time()
        self._update(
            row_id,
            f"UPDATE tasks SET status = {_word(status)}, error_code = ?, error_message = ?, "
            "updated_at = ?, finished_at = COALESCE(finished_at, ?) "
            "WHERE id = ? AND task_id IS NULL",
            (code or "", redact(message or ""), now, now, row_id))

    # --- reads -----------------------------------------------------------------------

    def get(self, row_id: int) -> Optional[dict]:
        rows = self._rows("id = ?", (row_id,))
        return rows[0] if rows else None

    def find_by_task(self, provider: str, task_id: str) -> Optional[dict]:
        rows = self._rows("provider = ? AND task_id = ?", (provider, task_id))
        return rows[0] if rows else None

    def task_ids(self, provider: str) -> set[str]:
        """Task ids already recorded for a provider (so reconciliation skips them)."""
        return {r[0] for r in self._exec(
            "SELECT task_id FROM tasks WHERE provider = ? AND task_id IS NOT NULL", (provider,))}

    def find_reusable(self, fingerprint: str) -> Optional[dict]:
        """The newest succeeded row with this fingerprint (its file may be gone: check)."""
        rows = self._rows(f"fingerprint = ? AND status = {SUCCEEDED}", (fingerprint,),
                          order="id DESC LIMIT 1")
        return rows[0] if rows else None

    def find_active(self, fingerprint: str) -> Optional[dict]:
        """The newest row with this fingerprint still in flight (catalog.JOB_ACTIVE).

        A `pending` row whose submitting process (its `owner`, on this host) has died is
        skipped: nobody will ever send it or record its answer (resume settles it).
        """
        for row in self._rows(f"fingerprint = ? AND status IN {_ACTIVE_IN}", (fingerprint,),
                              order="id DESC"):
            if row["status"] == "pending" and row.get("owner") and _owner_is_dead(row["owner"]):
                continue
            return row
        return None

    def unresolved(self) -> list[dict]:
        """Rows whose create outcome is unknown, oldest first: they wait for adopt/dismiss."""
        return self._rows(f"status IN {_UNRESOLVED_IN}")

    def adopt(self, row_id: int, task_id: str, upstream_id: Optional[str] = None) -> dict:
        """The user says: this `unknown` row is task `task_id`. It becomes `queued`.

        Refused (SeedanceError, nothing changed) when the row is not `unknown` or
        another row of the same provider already holds that task id.
        """
        task_id = str(task_id or "").strip()
        if not task_id:
            raise SeedanceError("adopt needs a task id")
        row = self._require(row_id)
        if row["status"] not in catalog.JOB_ENDED - catalog.JOB_FINAL:
            raise SeedanceError(
                f"ledger row {row_id} is {row['status']}, not unknown; only a row whose create "
                f"outcome is unknown can adopt a task")
        other = self.find_by_task(row["provider"], task_id)
        if other is not None:
            raise SeedanceError(
                f"task {task_id} already belongs to ledger row {other['id']}; not adopting it "
                f"for row {row_id}")
        now = time.time()
        try:
            cur = self._exec(
                f"UPDATE tasks SET status = {QUEUED}, task_id = ?, "
                "upstream_id = COALESCE(?, upstream_id), error_code = NULL, "
                "error_message = NULL, updated_at = ? "
                f"WHERE id = ? AND status IN {_UNRESOLVED_IN} AND task_id IS NULL",
                (task_id, upstream_id, now, row_id))
        except sqlite3.IntegrityError:  # another process adopted it a moment ago
            other = self.find_by_task(row["provider"], task_id)
            raise SeedanceError(
                f"task {task_id} already belongs to ledger row {other and other['id']}; not "
                f"adopting it for row {row_id}") from None
        if cur.rowcount != 1:
            raise SeedanceError(f"ledger row {row_id} changed meanwhile; nothing adopted")
        return self._require(row_id)

    def dismiss(self, row_id: int, who: Optional[str] = None) -> dict:
        """The user closes an `unknown` row: it becomes `dismissed`, never reported again.

        Who and when are kept in `error_message`; the earlier message follows them.
        """
        row = self._require(row_id)
        if row["status"] not in catalog.JOB_ENDED - catalog.JOB_FINAL:
            raise SeedanceError(
                f"ledger row {row_id} is {row['status']}, not unknown; only a row whose create "
                f"outcome is unknown can be dismissed")
        now = time.time()
        who = who or _who()
        note = f"dismissed by {who} at {_local_time(now)}"
        if row.get("error_message"):
            note += f"; was: {row['error_message']}"
        cur = self._exec(
            f"UPDATE tasks SET status = {DISMISSED}, error_code = 'Dismissed', "
            "error_message = ?, updated_at = ?, finished_at = COALESCE(finished_at, ?) "
            f"WHERE id = ? AND status IN {_UNRESOLVED_IN}",
            (redact(note), now, now, row_id))
        if cur.rowcount != 1:
            raise SeedanceError(f"ledger row {row_id} changed meanwhile; nothing dismissed")
        return self._require(row_id)

    def _require(self, row_id: int) -> dict:
        row = self.get(int(row_id))
        if row is None:
            raise SeedanceError(f"ledger {self.path} has no row {row_id}")
        return row

    def inflight(self) -> list[dict]:
        """Rows a resume must finish, oldest first.

        Sent but unanswered (`pending` with `sent_at`), `unknown`, `queued`, `running`,
        and `succeeded` rows whose files are not recorded while their URLs may still
        work. Rows never sent are in `unsent()`.
        """
        return self._rows(
            f"(status = {PENDING} AND sent_at IS NOT NULL) OR status IN {_UNRESOLVED_IN} "
            f"OR status IN {_POLLED_IN} OR (status = {SUCCEEDED} AND (video_path IS NULL OR "
            "(last_frame_url IS NOT NULL AND last_frame_path IS NULL)) AND "
            "(url_expires_at IS NULL OR url_expires_at > ?))", (time.time(),))

    def unsent(self) -> list[dict]:
        """Rows recorded but never sent: nothing left the machine, nothing was billed.

        `waiting` rows (admission control: resume sends them) and `pending` rows without
        `sent_at` (written by versions before admission control, or by `record_intent`
        without status="waiting": resume closes them)."""
        return self._rows(f"(status = {PENDING} AND sent_at IS NULL) OR status = {WAITING}")

    def rows(self) -> list[dict]:
        """Every row, oldest first, as stored."""
        return self._rows()

    def history(self) -> list[dict]:
        """Every row, newest first, flattened for reading (see `history()`)."""
        return [_flatten(r) for r in self._rows(order="id DESC")]


def _who() -> str:
    """`user@host` for the record of who dismissed a row."""
    try:
        user = getpass.getuser()
    except Exception:  # no login name in some containers
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return f"{user}@{socket.gethostname()}"
