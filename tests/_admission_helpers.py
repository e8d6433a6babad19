"""Helpers for the admission tests: counting the ledger's durable commits, and a
commit-count measurement runnable on its own (before/after numbers in the report):

    .venv/bin/python tests/_admission_helpers.py [JOBS] [--no-last-frame]

prints commits per job for JOBS (default 20) emulator jobs, each with a last frame
unless --no-last-frame.
Run it with PYTHONPATH=<another checkout>/src to measure that version the same way.
"""
from __future__ import annotations

import collections
import contextlib
import sqlite3
import sys
import threading
from typing import Any, Iterator

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


class CommitCounter:
    """Durable commits that changed the file: an autocommit write that changed rows, or
    a COMMIT of a transaction that did. Counted by the first words of each statement."""

    def __init__(self) -> None:
        self.total = 0
        self.by_statement: collections.Counter = collections.Counter()
        self._lock = threading.Lock()

    def add(self, sql: str) -> None:
        with self._lock:
            self.total += 1
            self.by_statement[" ".join(sql.split()[:4])] += 1


def _factory(counter: CommitCounter) -> type:
    class Counting(sqlite3.Connection):
        _tx: list = []

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            was_in = self.in_transaction
            before = self.total_changes
            head = sql.lstrip()[:6].upper()
            if head.startswith("BEGIN"):
                self._tx = []
            cur = super().execute(sql, *args)
            if was_in and not head.startswith(("COMMIT", "ROLLBA")):
                if self.total_changes != before:
                    self._tx.append(sql)
            elif head.startswith("COMMIT"):
                if self._tx:
                    counter.add("TX " + " | ".join(" ".join(s.split()[:3]) for s in self._tx))
                self._tx = []
            elif not self.in_transaction and head in _WRITES and self.total_changes != before:
                counter.add(sql)
            return cur

    return Counting


@contextlib.contextmanager
def count_commits() -> Iterator[CommitCounter]:
    """Count the durable commits of every ledger connection opened inside the block."""
    from seedance_nb import ledger_db

    counter = CommitCounter()
    real = sqlite3.connect

    def connect(*args: Any, **kw: Any) -> sqlite3.Connection:
        if "mode=ro" in str(args[0] if args else kw.get("database", "")):
            return real(*args, **kw)
        return real(*args, factory=_factory(counter), **kw)

    ledger_db.sqlite3.connect = connect  # type: ignore[attr-defined]
    try:
        yield counter
    finally:
        ledger_db.sqlite3.connect = real  # type: ignore[attr-defined]


def measure(n_jobs: int = 20, last_frame: bool = True) -> tuple[int, CommitCounter]:
    """Run `n_jobs` emulator jobs (with last frames) through submit; count commits."""
    import tempfile
    from pathlib import Path

    from seedance_nb import jobs
    from seedance_nb.emulator import Emulator

    sys.path.insert(0, str(Path(__file__).parent))
    from _client_helpers import isolated_jobs

    with tempfile.TemporaryDirectory() as tmp, count_commits() as counter, \
            Emulator(port=0, speed=100, in_process=True, run_seconds=20,
                     render_module="_emulator_helpers") as emu, \
            isolated_jobs(Path(tmp)):
        batch = [jobs.submit(f"commit count {i} [no-render]", provider="emulator",
                             emulate="ark", base_url=emu.base_url, api_key=emu.token,
                             model="1.0-pro-fast", resolution="480p", duration=2,
                             return_last_frame=last_frame) for i in range(n_jobs)]
        jobs.wait_all(batch, timeout=120)
        assert all(j.status == "succeeded" for j in batch), [j.error for j in batch]
    return n_jobs, counter


# --- a child process for the multi-process tests ------------------------------------------

def child_cmd(*args: Any) -> list[str]:
    """`python tests/_admission_helpers.py sweep LEDGER OUT URL TOKEN PREFIX COUNT QUEUED`
    submits COUNT jobs with limits={"queued": QUEUED} and waits for them; one JSON line
    per job. `... resume LEDGER OUT URL TOKEN` resumes and waits."""
    return [sys.executable, __file__, *map(str, args)]


SMALL = dict(provider="emulator", emulate="ark", model="1.0-pro-fast", resolution="480p",
             duration=2)


def _child(argv: list[str]) -> int:
    import json
    import time

    import seedance_nb
    from seedance_nb import config

    command, ledger_path, out, url, token = argv[:5]
    config.settings.ledger_path = ledger_path
    config.settings.output_dir = out
    config.settings.poll_interval = 0.1
    if command == "sweep":
        prefix, count, queued = argv[5], int(argv[6]), int(argv[7])
        batch = [seedance_nb.submit(f"{prefix} clip {i} [no-render]", base_url=url,
                                    api_key=token, limits={"queued": queued}, **SMALL)
                 for i in range(count)]
        print("submitted", len(batch), flush=True)
    elif command == "resume":
        batch = seedance_nb.resume(api_key=token, base_url=url + "/api/v3", show=False)
        print("resumed", len(batch), flush=True)
    else:
        raise SystemExit(f"unknown command {command!r}")
    seedance_nb.wait_all(batch, timeout=120)
    stats = seedance_nb.manager().admission.stats()
    for job in batch:
        print(json.dumps({"row": job.ledger_id, "status": job.status, "error": job.error}),
              flush=True)
    print(json.dumps({"admission": {k: v for k, v in stats.items() if k != "learned"}}),
          flush=True)
    time.sleep(0.05)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("sweep", "resume"):
        sys.exit(_child(sys.argv[1:]))
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    n, counted = measure(int(numbers[0]) if numbers else 20,
                         last_frame="--no-last-frame" not in sys.argv)
    print(f"{counted.total} commits for {n} jobs: {counted.total / n:.2f} per job")
    for statement, times in counted.by_statement.most_common():
        print(f"  {times / n:5.2f}/job  {statement}")
