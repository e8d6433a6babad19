"""The ledger's SQLite file: schema and migrations, refusing files that are not ours,
and one connection per thread (and per process).

`LedgerFile` opens the file in WAL mode with a busy timeout; `Ledger` (ledger.py) adds
the write-ahead steps and queries on top. A file of another application, or of a newer
seedance-nb, is refused before a single write.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterable, Iterator, Union

from . import catalog
from .errors import SeedanceConfigError, SeedanceError

SCHEMA_VERSION = 5
# Marks a file as ours (PRAGMA application_id); "SDNB" as a 32-bit int.
APPLICATION_ID = 0x53444E42
BUSY_TIMEOUT_MS = 30_000


def _word(status: str) -> str:
    """One status word as an SQL literal; only words of catalog.JOB_STATUSES exist."""
    if status not in catalog.JOB_STATUSES:
        raise ValueError(f"{status!r} is not a job status")
    return f"'{status}'"


def _in(statuses: Iterable[str]) -> str:
    """An SQL IN-list of status words, e.g. `('queued', 'running')`."""
    return "(" + ", ".join(_word(s) for s in sorted(statuses)) + ")"


# limits learned from 429s, shared by every process on the file (family '': the account)
_LEARNED = """CREATE TABLE IF NOT EXISTS learned (
    base_url TEXT NOT NULL,
    account TEXT NOT NULL,
    family TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    until REAL NOT NULL,
    PRIMARY KEY (base_url, account, family, name)
)"""

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
    owner TEXT,
    account TEXT,
    family TEXT,
    admitted_at REAL,
    notebook TEXT
);
CREATE INDEX IF NOT EXISTS tasks_fingerprint ON tasks (fingerprint, status);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_task_id ON tasks (provider, task_id)
    WHERE task_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_budget ON tasks (base_url, account, status);
CREATE INDEX IF NOT EXISTS tasks_admitted ON tasks (admitted_at);
""".replace("{pending}", _word("pending")) + _LEARNED + ";\n"

# Statements that bring a file of schema N up to N + 1 (run inside one transaction).
_MIGRATIONS = {
    1: ("ALTER TABLE tasks ADD COLUMN owner TEXT",),  # host:pid of the submitting process
    # admission control: a hash of the key (never the key), the family, the admission time
    2: ("ALTER TABLE tasks ADD COLUMN account TEXT",
        "ALTER TABLE tasks ADD COLUMN family TEXT",
        "ALTER TABLE tasks ADD COLUMN admitted_at REAL",
        "CREATE INDEX IF NOT EXISTS tasks_budget ON tasks (base_url, account, status)",
        "CREATE INDEX IF NOT EXISTS tasks_admitted ON tasks (admitted_at)"),
    # the notebook that submitted the row (history's default scope survives a restart)
    3: ("ALTER TABLE tasks ADD COLUMN notebook TEXT",),
    4: (_LEARNED,),  # limits learned from 429s, shared across processes
}

# Columns returned in row dicts (the claim bookkeeping stays internal).
_ROW_COLUMNS = (
    "id", "fingerprint", "provider", "dialect", "model", "base_url", "name", "request",
    "status", "task_id", "upstream_id", "created_at", "sent_at", "started_at", "updated_at",
    "finished_at", "progress", "tokens", "estimate_tokens", "estimate_cost",
    "estimate_currency", "seed", "video_url", "last_frame_url", "url_expires_at",
    "video_path", "video_sha256", "video_size", "last_frame_path", "last_frame_sha256",
    "last_frame_size", "error_code", "error_message", "owner", "account", "family",
    "admitted_at", "notebook")
_SELECT = "SELECT " + ", ".join(_ROW_COLUMNS) + " FROM tasks"


def default_path(output_dir: Any = None, ledger_path: Any = None) -> Path:
    """`ledger_path`, else `<output_dir>/ledger.sqlite` (callers pass the settings' values)."""
    if ledger_path:
        return Path(ledger_path).expanduser()
    return Path(output_dir or "seedance-output").expanduser() / "ledger.sqlite"


def _row_dict(values: tuple) -> dict:
    row = dict(zip(_ROW_COLUMNS, values))
    try:
        row["request"] = json.loads(row["request"]) if row["request"] else {}
    except ValueError:
        row["request"] = {}
    return row


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL unless it is already.

    SQLite refuses the switch at once ("database is locked"), without its busy
    handler, while another process has the file open in the old mode, as when two
    kernels open a new ledger together; so wait for that here, as long as for a lock.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.005, 0.02))


class LedgerFile:
    """An open ledger file: connections, schema, and the plain SQL calls on it."""

    def __init__(self, path: Union[str, os.PathLike, None] = None) -> None:
        """Open (creating if needed) the ledger at `path`, default `default_path()`."""
        self.path = Path(path if path is not None else default_path()).expanduser().resolve()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        #: durable commits that changed the file, all threads (see `_counted`)
        self.commits = 0
        self._connect()  # fail now, with a clear message, if the file is unusable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def __enter__(self) -> "LedgerFile":
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
        self._local.sync = "FULL"  # as _prepare set it
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
            # one read transaction: all three from the same moment, not half-way through
            # another process creating the schema (version 0 and its tables already there)
            conn.execute("BEGIN")
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            conn.execute("COMMIT")
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
        _use_wal(conn)
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
                have = {r[1] for r in conn.execute("PRAGMA table_info(tasks)")}
                for step in range(version, SCHEMA_VERSION):
                    for statement in _MIGRATIONS[step]:
                        words = statement.split()
                        if words[:5] == ["ALTER", "TABLE", "tasks", "ADD", "COLUMN"] and \
                                words[5] in have:
                            continue  # already there (a file written half-way by hand)
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

    def _sync(self, conn: sqlite3.Connection, durable: bool) -> None:
        """Set how the next commit reaches the disk (outside a transaction only).

        durable: FULL, the WAL is synced at the commit, so it survives a power cut (the
        intent to send, the task id: money). Otherwise NORMAL: it survives a killed
        process but may roll back at a power cut until the next durable commit syncs
        the WAL (which carries every earlier commit with it); such writes are ones a
        later poll, claim or download redoes (status, claims, file records).
        """
        level = "FULL" if durable else "NORMAL"
        if getattr(self._local, "sync", "FULL") != level and not conn.in_transaction:
            conn.execute(f"PRAGMA synchronous = {level}")
            self._local.sync = level

    def _exec(self, sql: str, params: Iterable[Any] = (), durable: bool = True) -> sqlite3.Cursor:
        conn = self._connect()
        write = sql.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE")
        if write:
            self._sync(conn, durable)
        try:
            cur = conn.execute(sql, tuple(params))
        except sqlite3.IntegrityError:
            raise
        except sqlite3.DatabaseError as exc:
            raise self._file_error(exc) from None
        if write and not conn.in_transaction and cur.rowcount > 0:
            self._counted()  # an autocommit write: its own durable commit
        return cur

    def _counted(self) -> None:
        with self._lock:
            self.commits += 1

    @contextlib.contextmanager
    def _transaction(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: the write lock is taken first, so what
        is read inside cannot change before the commit, in any process); `durable`: see
        `_sync`."""
        conn = self._connect()
        self._sync(conn, durable)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise self._file_error(exc) from None
        before = conn.total_changes
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if conn.total_changes != before:
            self._counted()

    def _rows(self, where: str = "", params: Iterable[Any] = (), order: str = "id") -> list[dict]:
        sql = f"{_SELECT} {('WHERE ' + where) if where else ''} ORDER BY {order}"
        return [_row_dict(r) for r in self._exec(sql, params).fetchall()]
