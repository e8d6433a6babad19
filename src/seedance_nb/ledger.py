"""The local task ledger: SQLite in WAL mode, written ahead of every create.

One row per create attempt. The row is written before anything goes on the
wire, then updated at each step (sent, task id, status changes, files). Every
write is its own committed transaction, so a process killed between two calls
loses nothing already written, and several processes (kernels) may share one
file: SQLite's locking plus a busy timeout serialise them, and downloads are
claimed with a conditional UPDATE so only one process fetches a file.

CONTRACT: see docs/architecture.md (`Ledger`, `history`). Beyond it: `unsent()`
(recorded, never sent, not billed), `task_ids(provider)`, `release_claim(...)`,
`rows()`, `find_active(fingerprint)`, `adopt(row_id, task_id)`, `dismiss(row_id)`,
`unresolved()`, an optional `estimate=` on `record_intent` (taken from the request's
`estimate()` when omitted), `default_path()` and `export_history(dest, fmt)`.
Times are Unix seconds; `history()` shows them as local ISO times.

Status words come from `catalog.JOB_STATUSES`; every SQL status list below is
built from the catalog's sets. Registered secrets (errors.register_secret) are
removed from every text before it is written.
"""
from __future__ import annotations

import base64
import binascii
import csv
import datetime as _dt
import getpass
import hashlib
import json
import os
import re
import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Union
import urllib.parse
from urllib.parse import urlsplit, urlunsplit

from . import catalog
from .errors import SeedanceConfigError, SeedanceError, redact, redact_data

SCHEMA_VERSION = 2
# Marks a file as ours (PRAGMA application_id); "SDNB" as a 32-bit int.
APPLICATION_ID = 0x53444E42
BUSY_TIMEOUT_MS = 30_000

FILE_KINDS = ("video", "last_frame")


def _word(status: str) -> str:
    """One status word as an SQL literal; only words of catalog.JOB_STATUSES exist."""
    if status not in catalog.JOB_STATUSES:
        raise ValueError(f"{status!r} is not a job status")
    return f"'{status}'"


def _in(statuses: Iterable[str]) -> str:
    """An SQL IN-list of status words, e.g. `('queued', 'running')`."""
    return "(" + ", ".join(_word(s) for s in sorted(statuses)) + ")"


TERMINAL = tuple(sorted(catalog.JOB_FINAL))
POLLED = tuple(sorted(catalog.JOB_ACTIVE - {"pending"}))  # a gateway holds them
PENDING, UNKNOWN, SUCCEEDED = _word("pending"), _word("unknown"), _word("succeeded")
REJECTED, DISMISSED, QUEUED = _word("rejected"), _word("dismissed"), _word("queued")
_FINAL_IN, _ACTIVE_IN, _POLLED_IN = _in(catalog.JOB_FINAL), _in(catalog.JOB_ACTIVE), _in(POLLED)
# Outcome unknown: the ended words that are not final (the user must adopt or dismiss).
_UNRESOLVED_IN = _in(catalog.JOB_ENDED - catalog.JOB_FINAL)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    provider TEXT NOT NULL,
    dialect TEXT,
    model TEXT,
    base_url TEXT,
    name TEXT,
    request TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT {pending},
    task_id TEXT,
    upstream_id TEXT,
    created_at REAL NOT NULL,
    sent_at REAL,
    started_at REAL,
    updated_at REAL,
    finished_at REAL,
    progress INTEGER,
    tokens INTEGER,
    estimate_tokens INTEGER,
    estimate_cost REAL,
    estimate_currency TEXT,
    seed INTEGER,
    video_url TEXT,
    last_frame_url TEXT,
    url_expires_at REAL,
    video_path TEXT,
    video_sha256 TEXT,
    video_size INTEGER,
    last_frame_path TEXT,
    last_frame_sha256 TEXT,
    last_frame_size INTEGER,
    video_claim TEXT,
    video_claim_until REAL,
    last_frame_claim TEXT,
    last_frame_claim_until REAL,
    error_code TEXT,
    error_message TEXT,
    owner TEXT
);
CREATE INDEX IF NOT EXISTS tasks_fingerprint ON tasks (fingerprint, status);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_task_id ON tasks (provider, task_id)
    WHERE task_id IS NOT NULL;
""".replace("{pending}", PENDING)

# Statements that bring a file of schema N up to N + 1 (run inside one transaction).
_MIGRATIONS = {
    1: ("ALTER TABLE tasks ADD COLUMN owner TEXT",),  # host:pid of the submitting process
}

# Columns returned in row dicts (the claim bookkeeping stays internal).
_ROW_COLUMNS = (
    "id", "fingerprint", "provider", "dialect", "model", "base_url", "name", "request",
    "status", "task_id", "upstream_id", "created_at", "sent_at", "started_at", "updated_at",
    "finished_at", "progress", "tokens", "estimate_tokens", "estimate_cost",
    "estimate_currency", "seed", "video_url", "last_frame_url", "url_expires_at",
    "video_path", "video_sha256", "video_size", "last_frame_path", "last_frame_sha256",
    "last_frame_size", "error_code", "error_message", "owner")
_SELECT = "SELECT " + ", ".join(_ROW_COLUMNS) + " FROM tasks"

# Request keys that could hold a credential; dropped wherever they appear.
_SECRET_KEY = re.compile(
    r"^(api_?key|key|token|access_?token|auth|authorization|secret|password|bearer|headers)$"
    r"|_(key|token|secret|password)$", re.IGNORECASE)


# --- request normalisation ---------------------------------------------------------------

_DATA_URL = re.compile(r"data:[\w.+-]+/[\w.+-]+(;[\w.+=-]+)*,", re.IGNORECASE)


def clean_url(url: Optional[str]) -> Optional[str]:
    """A base URL without userinfo, query or fragment (they may hold credentials)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _data_url_digest(url: str, fmt: Optional[str], sha256: Optional[str]) -> str:
    """`data:<fmt>;sha256=<hex>` in place of a (large) base64 data URL."""
    head, _, payload = url.partition(",")
    if not fmt:
        mime = head[5:].split(";")[0]
        fmt = mime.split("/")[-1] if mime else "bin"
    if not sha256:
        try:
            raw = (base64.b64decode(payload, validate=False) if ";base64" in head
                   else payload.encode())
        except (binascii.Error, ValueError):
            raw = payload.encode()
        sha256 = hashlib.sha256(raw).hexdigest()
    return f"data:{fmt};sha256={sha256}"


def _scrub(value: Any) -> Any:
    """Recursively: drop secret-looking keys, bytes, and shrink data: URLs."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            key = str(key)
            if _SECRET_KEY.search(key) or isinstance(item, (bytes, bytearray, memoryview)):
                continue
            if key == "prompt":
                out[key] = item  # free text, never a data URL even if it looks like one
            elif key == "source" and isinstance(item, str) and _DATA_URL.match(item):
                out[key] = _data_url_digest(item, value.get("format"), value.get("sha256"))
            else:
                out[key] = _scrub(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        if _DATA_URL.match(value):
            return _data_url_digest(value, None, None)
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def normalize_request(request: Any) -> dict[str, Any]:
    """The request as stored: `VideoRequest.to_dict()` (or a dict) minus secrets and bytes."""
    if hasattr(request, "to_dict"):
        request = request.to_dict()
    if not isinstance(request, Mapping):
        raise TypeError(f"request must be a dict or VideoRequest, not {type(request).__name__}")
    return _scrub(request)


def _estimate_values(estimate: Any) -> tuple[Optional[int], Optional[float], Optional[str]]:
    """(tokens, cost, currency) from an estimate object or dict; the upper bound of a range."""
    if estimate is None:
        return None, None, None

    def pick(*names: str) -> Any:
        for name in names:
            if isinstance(estimate, Mapping):
                if estimate.get(name) is not None:
                    return estimate[name]
            elif getattr(estimate, name, None) is not None:
                return getattr(estimate, name)
        return None

    tokens = pick("tokens", "tokens_max", "max_tokens", "total_tokens")
    if isinstance(tokens, (tuple, list)):
        tokens = tokens[-1] if tokens else None
    cost = pick("cost", "cost_max", "max_cost", "price")
    if isinstance(cost, (tuple, list)):
        cost = cost[-1] if cost else None
    currency = pick("currency") if cost is not None else None
    return (int(tokens) if tokens is not None else None,
            float(cost) if cost is not None else None,
            str(currency) if currency is not None else None)


def _task_field(task: Any, name: str) -> Any:
    if isinstance(task, Mapping):
        return task.get(name)
    return getattr(task, name, None)


# --- the ledger --------------------------------------------------------------------------

class Ledger:
    """A SQLite ledger file shared by the threads and processes that open it."""

    def __init__(self, path: Union[str, os.PathLike, None] = None) -> None:
        """Open (creating if needed) the ledger at `path`, default `default_path()`."""
        self.path = Path(path if path is not None else default_path()).expanduser().resolve()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._connect()  # fail now, with a clear message, if the file is unusable

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"

    def __enter__(self) -> "Ledger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # connections: one per thread (and per process: a forked child opens its own)
    def _connect(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SeedanceConfigError(f"cannot create the ledger folder {self.path.parent}: {exc}")
        try:
            self._check_read_only()
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._prepare(conn)
        except SeedanceError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._file_error(exc) from None
        self._local.conn = conn
        self._local.pid = os.getpid()
        with self._lock:
            self._all.append(conn)
        return conn

    def _file_error(self, exc: Exception) -> SeedanceConfigError:
        text = str(exc)
        if "not a database" in text or "malformed" in text or "file is encrypted" in text:
            return SeedanceConfigError(
                f"the ledger file {self.path} is not a readable SQLite database ({text}); it was "
                f"left untouched: move it aside or set a different ledger_path")
        return SeedanceConfigError(f"cannot use the ledger file {self.path}: {text}")

    def _check_read_only(self) -> None:
        """Look at an existing file through a read-only connection before writing to it.

        A file of another application, or of a newer seedance-nb, is refused without
        a single write: no WAL switch, no schema, no journal file.
        """
        try:
            if self.path.stat().st_size == 0:
                return  # a new (or empty) file: ours to set up
        except FileNotFoundError:
            return
        uri = "file:" + urllib.parse.quote(str(self.path)) + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               isolation_level=None, check_same_thread=False)
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
        self._refuse_foreign(app_id, version, tables)

    def _refuse_foreign(self, app_id: int, version: int, tables: set) -> None:
        if app_id not in (0, APPLICATION_ID):
            raise SeedanceConfigError(
                f"{self.path} is an SQLite file of another application, not a seedance-nb "
                f"ledger; it was left untouched: set a different ledger_path")
        if version > SCHEMA_VERSION:
            raise SeedanceConfigError(
                f"the ledger {self.path} was written by a newer seedance-nb (schema {version}; "
                f"this version reads up to {SCHEMA_VERSION}); it was left untouched: upgrade "
                f"seedance-nb or use another ledger_path")
        if app_id == 0 and version == 0 and tables - {"tasks", "sqlite_sequence"}:
            raise SeedanceConfigError(
                f"{self.path} holds other tables ({', '.join(sorted(tables))}), not a "
                f"seedance-nb ledger; it was left untouched: set a different ledger_path")

    def _prepare(self, conn: sqlite3.Connection) -> None:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        self._refuse_foreign(app_id, version, set())  # a file swapped in since the check
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed write survives a power cut too, not just a killed process.
        conn.execute("PRAGMA synchronous = FULL")
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                tables = {r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                if tables - {"tasks", "sqlite_sequence"}:
                    raise SeedanceConfigError(
                        f"{self.path} holds other tables ({', '.join(sorted(tables))}), not a "
                        f"seedance-nb ledger; it was left untouched: set a different ledger_path")
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            else:
                for step in range(version, SCHEMA_VERSION):
                    for statement in _MIGRATIONS[step]:
                        conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close every connection this object opened (all threads)."""
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()

    def _exec(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        conn = self._connect()
        try:
            return conn.execute(sql, tuple(params))
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._file_error(exc) from None

    def _update(self, row_id: int, sql: str, params: Iterable[Any] = ()) -> None:
        cur = self._exec(sql, params)
        if cur.rowcount == 0 and self.get(row_id) is None:
            raise SeedanceError(f"ledger {self.path} has no row {row_id}")

    # --- write-ahead steps -----------------------------------------------------------

    def record_intent(self, *, fingerprint: str, provider: str, dialect: str, model: str,
                      base_url: Optional[str], request: Any, name: Optional[str] = None,
                      estimate: Any = None, owner: Optional[str] = None) -> int:
        """Write the request before anything is sent; returns the row id.

        `owner` (default `host:pid` of this process) says who is sending it, so other
        processes can tell a live submit from one whose process died (`find_active`).
        """
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
            f"owner) VALUES (?, ?, ?, ?, ?, ?, ?, {PENDING}, ?, ?, ?, ?, ?, ?)",
            (fingerprint, provider, dialect, model, redact(clean_url(base_url)), redact(name),
             req_json,
             now, now, tokens, cost, currency,
             owner or f"{socket.gethostname()}:{os.getpid()}"))
        return int(cur.lastrowid)

    def mark_sending(self, row_id: int) -> None:
        """Just before the create goes on the wire: from now on it may be billed."""
        now = time.time()
        self._update(row_id, "UPDATE tasks SET sent_at = COALESCE(sent_at, ?), updated_at = ? "
                     "WHERE id = ?", (now, now, row_id))

    def record_created(self, row_id: int, task_id: str, upstream_id: Optional[str] = None) -> None:
        """The gateway answered with a task id (or reconciliation found it)."""
        now = time.time()
        try:
            self._update(
                row_id,
                "UPDATE tasks SET task_id = ?, upstream_id = COALESCE(?, upstream_id), "
                "sent_at = COALESCE(sent_at, ?), updated_at = ?, "
                f"status = CASE WHEN status IN ({PENDING}, {UNKNOWN}) THEN {QUEUED} "
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

    def record_create_failed(self, row_id: int, code: str, message: str) -> None:
        """The gateway refused the create: status `rejected`, nothing billed."""
        now = time.time()
        self._update(
            row_id,
            f"UPDATE tasks SET status = {REJECTED}, error_code = ?, error_message = ?, "
            "updated_at = ?, finished_at = COALESCE(finished_at, ?) "
            "WHERE id = ? AND task_id IS NULL",
            (code or "", redact(message or ""), now, now, row_id))

    def record_task(self, row_id: int, task: Any) -> None:
        """A polled task (providers.base.Task or a dict of its fields).

        Known values are never overwritten by missing ones, and a terminal status is
        not replaced by an older, non-terminal poll from another process.
        """
        status = _task_field(task, "status")
        err = _task_field(task, "error") or {}
        if isinstance(err, str):
            err = {"message": err}
        now = time.time()
        tokens = _task_field(task, "tokens")
        seed = _task_field(task, "seed")
        progress = _task_field(task, "progress")
        terminal = status in TERMINAL
        self._update(
            row_id,
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
            "updated_at = ? WHERE id = ?",
            (status, status, status, _task_field(task, "id"), _task_field(task, "upstream_id"),
             int(progress) if progress is not None else None,
             int(tokens) if tokens is not None else None,
             int(seed) if seed is not None else None,
             redact(_task_field(task, "video_url")), redact(_task_field(task, "last_frame_url")),
             _task_field(task, "url_expires_at"),
             redact(err.get("code")) or None,
             redact(str(err["message"])) if err.get("message") else None,
             now, status, now, 1 if terminal else 0, now, now, row_id))

    def record_file(self, row_id: int, kind: str, path: Union[str, os.PathLike], sha256: str,
                    size: int) -> None:
        """A downloaded file; releases the download claim."""
        col = _kind(kind)
        self._update(
            row_id,
            f"UPDATE tasks SET {col}_path = ?, {col}_sha256 = ?, {col}_size = ?, "
            f"{col}_claim = NULL, {col}_claim_until = NULL, updated_at = ? WHERE id = ?",
            (os.path.abspath(os.fspath(path)), sha256, int(size), time.time(), row_id))

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
        dead = holder if holder and holder != owner and _owner_is_dead(holder) else None
        cur = self._exec(
            f"UPDATE tasks SET {col}_claim = ?, {col}_claim_until = ? WHERE id = ? "
            f"AND {col}_path IS ? AND ({col}_claim IS NULL OR {col}_claim = ? "
            f"OR {col}_claim = ? OR {col}_claim_until < ?)",
            (owner, now + ttl_s, row_id, recorded, owner, dead, now))
        return cur.rowcount == 1

    def release_claim(self, row_id: int, kind: str, owner: str) -> None:
        """Give up a claim (a failed download) so another process may try at once."""
        col = _kind(kind)
        self._exec(f"UPDATE tasks SET {col}_claim = NULL, {col}_claim_until = NULL "
                   f"WHERE id = ? AND {col}_claim = ?", (row_id, owner))

    # --- reads -----------------------------------------------------------------------

    def _rows(self, where: str = "", params: Iterable[Any] = (), order: str = "id") -> list[dict]:
        sql = f"{_SELECT} {('WHERE ' + where) if where else ''} ORDER BY {order}"
        return [_row_dict(r) for r in self._exec(sql, params).fetchall()]

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
        """Rows recorded but never sent: nothing left the machine, nothing was billed."""
        return self._rows(f"status = {PENDING} AND sent_at IS NULL")

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


def _kind(kind: str) -> str:
    if kind not in FILE_KINDS:
        raise ValueError(f"file kind must be 'video' or 'last_frame', not {kind!r}")
    return kind


def _row_dict(values: tuple) -> dict:
    row = dict(zip(_ROW_COLUMNS, values))
    try:
        row["request"] = json.loads(row["request"]) if row["request"] else {}
    except ValueError:
        row["request"] = {}
    return row


# --- history -----------------------------------------------------------------------------

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


def default_path() -> Path:
    """`config.defaults.ledger_path`, else `<config.defaults.output_dir>/ledger.sqlite`."""
    from . import config

    defaults = getattr(config, "defaults", None)
    explicit = getattr(defaults, "ledger_path", None)
    if explicit:
        return Path(explicit).expanduser()
    return Path(getattr(defaults, "output_dir", None) or "seedance-output") / "ledger.sqlite"


def _history_rows(path: Union[str, os.PathLike, None]) -> list[dict]:
    target = Path(path).expanduser() if path is not None else default_path()
    if not target.exists():
        return []  # no ledger yet means no history; do not create a file just to read it
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
        columns = list(_flatten({c: None for c in _ROW_COLUMNS} | {"request": {}}).keys())
        return pd.DataFrame(rows, columns=columns)
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
    columns = list(_flatten({c: None for c in _ROW_COLUMNS} | {"request": {}}).keys())
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
