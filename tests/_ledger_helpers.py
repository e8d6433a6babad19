"""Shared pieces for the ledger tests (picklable workers for multiprocessing)."""
from __future__ import annotations

import contextlib
import time
from typing import Any

from seedance_nb.ledger import Ledger


def sample_request(prompt: str = "a red fox runs through snow", **extra: Any) -> dict:
    req = {"provider": "emulator", "dialect": "ark", "family": "1.0-pro",
           "model": "doubao-seedance-1-0-pro-250528", "prompt": prompt, "mode": "t2v",
           "images": [], "resolution": "720p", "ratio": "16:9", "duration": 5, "seed": 7}
    req.update(extra)
    return req


def add_row(ledger: Ledger, fingerprint: str = "fp-1", prompt: str = "a red fox", **kw: Any) -> int:
    return ledger.record_intent(
        fingerprint=fingerprint, provider="emulator", dialect="ark",
        model="doubao-seedance-1-0-pro-250528", base_url="http://127.0.0.1:9/api/v3",
        request=sample_request(prompt), **kw)


def write_rows(path: str, tag: str, count: int, start: Any) -> None:
    """Child process: `count` full write-ahead sequences into one shared ledger."""
    start.wait()
    ledger = Ledger(path)
    for i in range(count):
        row = add_row(ledger, fingerprint=f"{tag}-{i}", prompt=f"{tag} {i}")
        ledger.mark_sending(row)
        ledger.record_created(row, f"{tag}-task-{i}")
    ledger.close()


def claim_once(path: str, row_id: int, owner: str, start: Any, results: Any) -> None:
    """Child process: try to claim one download at the same moment as the others."""
    ledger = Ledger(path)
    start.wait()
    results.put((owner, ledger.claim_download(row_id, "video", owner)))
    ledger.close()


def open_fresh_ledgers(paths: list, barrier: Any, results: Any) -> None:
    """Child process: open each new ledger at the same moment as the other children."""
    failures = []
    for path in paths:
        barrier.wait()
        try:
            Ledger(path).close()
        except Exception as exc:  # noqa: BLE001 (reported to the test)
            failures.append(f"{path}: {exc}")
    results.put(failures)


def wait_until(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


# --- in-process recovery scenes (tests/adversarial/test_recovery.py) ----------------------


@contextlib.contextmanager
def isolated_manager(tmp_path: Any, poll_interval: float = 0.1) -> Any:
    """Fresh defaults (ledger and output in tmp_path) and a fresh process-wide JobManager."""
    from seedance_nb import jobs
    from seedance_nb.config import settings

    settings.reset()
    settings.output_dir = str(tmp_path / "out")
    settings.ledger_path = str(tmp_path / "ledger.sqlite")
    settings.poll_interval = poll_interval
    old = jobs._manager
    mgr = jobs.JobManager()
    jobs.set_manager(mgr)
    try:
        yield mgr
    finally:
        mgr.stop()
        jobs.set_manager(old)
        settings.reset()


def send_and_lose(led: Ledger, prompt: str, **fields: Any) -> tuple[int, str]:
    """A create that reached the gateway (the task exists, billed) whose answer was lost.

    Returns (ledger row, the task id the gateway gave it, which the ledger never saw).
    """
    from seedance_nb.config import resolve_client
    from seedance_nb.request import build_request

    settings = resolve_client("emulator")
    request = build_request(prompt, **{**SMALL, **fields})
    row = led.record_intent(fingerprint=request.fingerprint(), provider=settings.provider,
                            dialect=settings.dialect, model=request.model,
                            base_url=settings.base_url, request=request)
    led.mark_sending(row)
    task_id = create_elsewhere(prompt, **fields)
    led.record_outcome_unknown(row, "read timeout after the create was sent")
    return row, task_id


def create_elsewhere(prompt: str, api_key: Any = None, **fields: Any) -> str:
    """Create a task on the configured emulator without any ledger (another client)."""
    from seedance_nb.config import resolve_client
    from seedance_nb.http import Transport
    from seedance_nb.providers import get_dialect
    from seedance_nb.request import build_request

    settings = resolve_client("emulator", api_key)
    dialect = get_dialect(settings.provider, settings.emulate)
    transport = Transport(settings, dialect)
    try:
        return transport.create(dialect.create_call(build_request(prompt, **{**SMALL, **fields}))
                                ).task_id
    finally:
        transport.close()


# --- a child process driving the public API (run this file as a script) -----------------
#
#   python _ledger_helpers.py submit   LEDGER OUT PREFIX COUNT [--no-wait]
#   python _ledger_helpers.py resume   LEDGER OUT
#
# SEEDANCE_EMULATOR_URL / SEEDANCE_EMULATOR_TOKEN point it at the test's emulator and
# SEEDANCE_NB_CRASH_AT makes jobs.py die at a submit step. It prints one JSON line
# per finished job: {"row", "status", "path", "error"}.

SMALL = dict(provider="emulator", model="1.0-pro-fast", resolution="480p", ratio="1:1",
             duration=2)


def child_env(emu: Any, crash_at: str | None = None) -> dict:
    import os

    env = dict(os.environ)
    env.update(SEEDANCE_EMULATOR_URL=emu.base_url, SEEDANCE_EMULATOR_TOKEN=emu.token,
               SEEDANCE_PROVIDER="emulator")
    env.pop("SEEDANCE_NB_CRASH_AT", None)
    if crash_at:
        env["SEEDANCE_NB_CRASH_AT"] = crash_at
    return env


def child_cmd(*args: Any) -> list[str]:
    import sys

    return [sys.executable, __file__, *map(str, args)]


def prompts(prefix: str, count: int) -> list[str]:
    return [f"{prefix} clip {i}: a paper boat on a pond" for i in range(count)]


def _report(jobs: list) -> None:
    import json

    for job in jobs:
        print(json.dumps({"row": job.ledger_id, "status": job.status, "path": job.video_path,
                          "error": job.error}), flush=True)


def _main(argv: list[str]) -> int:
    import seedance_nb
    from seedance_nb import config

    command, ledger_path, out = argv[:3]
    config.settings.ledger_path = ledger_path
    config.settings.output_dir = out
    config.settings.poll_interval = 0.1
    if command == "submit":
        prefix, count = argv[3], int(argv[4])
        jobs = [seedance_nb.submit(p, **SMALL) for p in prompts(prefix, count)]
        print("submitted", len(jobs), flush=True)
        if "--no-wait" in argv:
            time.sleep(600)  # the test kills us
        seedance_nb.wait_all(jobs, timeout=120)
    elif command == "resume":
        jobs = seedance_nb.resume()
        print("resumed", len(jobs), flush=True)
        seedance_nb.wait_all(jobs, timeout=120)
    else:
        raise SystemExit(f"unknown command {command!r}")
    _report(jobs)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
