"""The ledger's admission-control rows (jobs/admission.py): claiming a send slot of an
account's budget across every process sharing the file, putting a 429'd create back to
`waiting`, and taking over the rows of a process that died.

A mixin of `ledger.Ledger` (it uses the file's `_transaction`, `_exec`, `_connect`,
`_update` and `_rows`); import `Ledger` from `ledger`, not this.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import time
from typing import Iterable, Optional

from . import catalog
from .errors import redact
from .ledger_db import _word
from .ledger_values import clean_url

PENDING, WAITING = _word("pending"), _word("waiting")
QUEUED, RUNNING = _word("queued"), _word("running")
#: A sent create is answered within this long (read timeout, retries, slack); an older
#: unanswered one no longer holds a queued slot (resume settles it).
ANSWER_WITHIN_S = 180.0


class AdmissionRows:
    def admit(self, row_id: int, *, queued: int, rpm: int, concurrency: int,
              window_s: float = catalog.RPM_WINDOW_S) -> tuple[str, float]:
        """Claim a send slot for a `waiting` row, atomically across processes.

        In one BEGIN IMMEDIATE transaction: count the live rows of the row's gateway
        and account (`queued` or sent-and-unanswered: the queued cap; the same plus
        `running` of its family: `concurrency + queued`; admissions of its family in the
        last `window_s`: `rpm`), and if every count is under its limit, make the row
        `pending` with `sent_at`/`admitted_at` now: the create may go on the wire, so
        this is also the write-ahead "sending" step (one commit for both).

        Returns ("admitted", 0), ("full", seconds until a slot may free: 0 means "when a
        task moves on"; what limit is hit is in the word: "queued", "concurrency" or
        "rpm"), or ("gone", 0) when the row is no longer waiting.
        """
        now = time.time()
        with self._transaction() as conn:
            row = conn.execute("SELECT base_url, account, family, status FROM tasks "
                               "WHERE id = ?", (row_id,)).fetchone()
            if row is None or row[3] != "waiting":
                return "gone", 0.0
            # a 429 any process on this file learned from lowers the budget for all
            for name, value in conn.execute(
                    "SELECT name, MIN(value) FROM learned WHERE base_url = ? AND account = ? "
                    "AND family IN ('', ?) AND until > ? GROUP BY name",
                    (row[0] or "", row[1] or "", row[2] or "", now)):
                if name == "queued":
                    queued = min(queued, int(value))
                elif name == "rpm":
                    rpm = min(rpm, int(value))
                elif name == "window_s":
                    window_s = min(window_s, float(value))
            params = [row[0], row[1]]
            n_queued, n_family = _live_counts(conn, now, params, row[2])
            if n_queued >= queued:
                return "queued", 0.0
            if n_family >= concurrency + queued:
                return "concurrency", 0.0
            # `+base_url`: walk the admitted_at index (the last window only), not every
            # row this account ever had
            recent = ("FROM tasks WHERE +base_url IS ? AND account IS ? AND family IS ? "
                      "AND admitted_at > ?")
            args = params + [row[2], now - window_s]
            if conn.execute(f"SELECT COUNT(*) {recent}", args).fetchone()[0] >= rpm:
                (nth,) = conn.execute(f"SELECT admitted_at {recent} ORDER BY admitted_at DESC "
                                      "LIMIT 1 OFFSET ?", args + [rpm - 1]).fetchone()
                return "rpm", max(0.0, nth + window_s - now)
            conn.execute(f"UPDATE tasks SET status = {PENDING}, sent_at = COALESCE(sent_at, ?), "
                         "admitted_at = ?, updated_at = ? WHERE id = ?", (now, now, now, row_id))
        return "admitted", 0.0

    def learn(self, base_url: Optional[str], account: Optional[str], family: Optional[str],
              name: str, value: float, until: float, keep_min: bool = True) -> None:
        """Share a limit learned from a 429 with every process on this file until
        `until` (`admit` applies it). `family` None: the whole account (the queued cap).
        keep_min: a lower limit still in force is kept. Not synced at once: losing it
        at a power cut costs one more 429, never money."""
        now = time.time()
        key = (redact(clean_url(base_url)) or "", account or "", family or "", name)
        with self._transaction(durable=False) as conn:
            conn.execute("DELETE FROM learned WHERE until <= ?", (now,))
            if keep_min:
                old = conn.execute("SELECT value FROM learned WHERE base_url = ? AND "
                                   "account = ? AND family = ? AND name = ?", key).fetchone()
                if old is not None:
                    value = min(value, old[0])
            conn.execute("INSERT OR REPLACE INTO learned (base_url, account, family, name, "
                         "value, until) VALUES (?, ?, ?, ?, ?, ?)", key + (value, until))

    def recent_admissions(self, base_url: Optional[str], account: Optional[str],
                          family: Optional[str], since: float) -> list[float]:
        """Admission times of a budget's rows after `since`, oldest first."""
        return [t for (t,) in self._exec(
            "SELECT admitted_at FROM tasks WHERE base_url IS ? AND account IS ? AND "
            "family IS ? AND admitted_at > ? ORDER BY admitted_at",
            (redact(clean_url(base_url)), account, family, since))]

    def queued_count(self, base_url: Optional[str], account: Optional[str]) -> int:
        """Live rows of a gateway and account holding a queued slot (see `admit`)."""
        return _live_counts(self._connect(), time.time(),
                            [redact(clean_url(base_url)), account], None)[0]

    def requeue(self, row_id: int, code: str, message: str) -> None:
        """A create refused for a rate or quota limit (429): nothing was made, so the row
        waits again (`waiting`, not sent, not admitted) with the refusal noted."""
        self._update(
            row_id,
            f"UPDATE tasks SET status = {WAITING}, sent_at = NULL, admitted_at = NULL, "
            "error_code = ?, error_message = ?, updated_at = ? "
            f"WHERE id = ? AND status = {PENDING} AND task_id IS NULL",
            (code or "", redact(message or ""), time.time(), row_id))

    def waiting(self) -> list[dict]:
        """Rows recorded for admission and not sent yet, oldest first (resume sends them)."""
        return self._rows(f"status = {WAITING}")

    def take_over(self, row_ids: Iterable[int], owner: Optional[str] = None) -> list[int]:
        """Make this process (or `owner`) the owner of rows whose owner died or that are
        resumed here; a row another live process owns meanwhile is left alone. One
        commit. Returns the ids taken."""
        me = owner or f"{socket.gethostname()}:{os.getpid()}"
        taken = []
        with self._transaction() as conn:
            for row_id in row_ids:
                row = conn.execute("SELECT owner FROM tasks WHERE id = ?", (row_id,)).fetchone()
                if row is None:
                    continue
                if row[0] and row[0] != me and not _owner_is_dead(row[0]):
                    continue
                conn.execute("UPDATE tasks SET owner = ? WHERE id = ?", (me, row_id))
                taken.append(int(row_id))
        return taken


def _owner_is_dead(owner: str) -> bool:
    """True when a `host:pid[:...]` claim owner names a process of this host that is gone."""
    parts = owner.split(":")
    if len(parts) < 2 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists but not ours (EPERM)
        return False
    return False


def _holding_a_slot(now: float, statuses: list[str]) -> str:
    """WHERE (parameters: base_url, account) for a gateway and account's rows in one of
    `statuses` or sent and not yet answered. The status list comes before the rest so
    the budget index (base_url, account, status) visits only live rows, never the
    account's whole history."""
    return (f"base_url IS ? AND account IS ? AND status IN ({', '.join(statuses)}, {PENDING}) "
            f"AND (status != {PENDING} OR (sent_at IS NOT NULL AND sent_at > "
            f"{now - ANSWER_WITHIN_S!r}))")


def _live_counts(conn: sqlite3.Connection, now: float, params: list,
                 family: Optional[str]) -> tuple[int, int]:
    """(rows holding a queued slot of the gateway and account, the same plus `running`
    of `family`) in one pass over the live rows, leaving out those of processes of this
    host that died (a crashed kernel's rows hold no slot until a resume takes them
    over)."""
    n_queued = n_family = 0
    for owner, queued, in_family in conn.execute(
            f"SELECT owner, SUM(status != {RUNNING}), SUM(family IS ?) FROM tasks WHERE "
            f"{_holding_a_slot(now, [QUEUED, RUNNING])} GROUP BY owner", [family] + params):
        if not (owner and _owner_is_dead(owner)):
            n_queued += queued
            n_family += in_family
    return n_queued, n_family

