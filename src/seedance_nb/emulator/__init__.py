"""Offline Seedance emulator: every gateway dialect on one loopback server (reference §10).

    with Emulator(port=0, speed=50) as emu:
        emu.base_url, emu.token, emu.stats()

`GET /_emulator/stats` (no bearer) returns JSON counts for tests and benchmarks:
`creates` (accepted creates per route prefix: ark, comet, volc, ace; a create
answered 500 by `[emu:500]` or `--fault-5xx` still counts, because the task
exists), `requests` (per route, e.g. "GET /api/v3/contents/generations/tasks/{id}";
refusals as "POST /api/v3 error 400"), `faults` (injected, per kind: 5xx, reset,
truncate, malformed, slow_download), `tasks` (records held), `renders` (count,
mean seconds per clip) and `callbacks` (delivered, failed attempts).
"""
from __future__ import annotations

import atexit
import os
import queue
import re
import subprocess
import sys
import threading
from typing import Any, Mapping, Optional

from .. import catalog

__all__ = ["Emulator", "ensure_local"]

_URL = re.compile(r"listening on (http://\S+)")
#: ensure_local's speed: a 5 s clip (80 s emulated) is ready in about 4 s.
LOCAL_SPEED = 20.0


def _argv(port: int, speed: float, options: Mapping[str, Any]) -> list[str]:
    argv = ["--port", str(port), "--speed", repr(float(speed))]
    for name, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + name.replace("_", "-")
        if name in ("token", "tokens"):
            for tok in [value] if isinstance(value, str) else value:
                argv += ["--token", tok]
        elif name in ("rpm", "concurrency", "endpoints", "endpoint"):
            flag = "--endpoint" if name.startswith("endpoint") else flag
            # a mapping {"1.5-pro": 3}, or "FAMILY=N" strings as on the command line
            items = ([f"{k}={v}" for k, v in value.items()] if isinstance(value, Mapping)
                     else [value] if isinstance(value, str) else list(value))
            for item in items:
                argv += [flag, str(item)]
        elif value is True:
            argv.append(flag)
        else:
            argv += [flag, str(value)]
    return argv


class Emulator:
    """A running emulator. Options are the CLI's, in Python spelling.

    e.g. `Emulator(speed=100, run_seconds=1, rpm={"2.0": 2}, fault_5xx=0.5,
    catalog="my-models.toml", max_body_bytes=1 << 20)`.
    By default it runs in a separate process (rendering never competes with the
    caller); `in_process=True` serves from a thread of this process instead.
    """

    def __init__(self, port: int = 0, speed: float = 1.0, *, in_process: bool = False,
                 startup_timeout: float = 60.0, **options: Any) -> None:
        from .cli import parse

        self.speed = float(speed)  # public: progress hints divide the emulated time by it
        self.argv = _argv(port, speed, options)
        self._server = None
        self._proc: Optional[subprocess.Popen] = None
        # bad options fail here, as ValueError; a catalog file is loaded only where it serves
        args, settings, faults = parse(self.argv, load_catalog=in_process)
        if in_process:
            from .server import EmulatorServer

            self._server = EmulatorServer(args.host, args.port, settings, faults,
                                          args.render_module)
            self._server.start_thread()
            self.base_url, self.token = self._server.base_url, self._server.token
        else:
            self.base_url = self._spawn(startup_timeout)
            self.token = settings.tokens[0]

    def _spawn(self, timeout: float) -> str:
        cmd = [sys.executable, "-m", "seedance_nb.emulator", *self.argv, "--exit-with-parent"]
        # Own session: interrupting a Jupyter kernel signals its whole process group,
        # which must not stop the emulator (it still exits with its parent).
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      text=True, bufsize=1, start_new_session=True)
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:  # keeps draining so the child never blocks on a full pipe
            assert self._proc and self._proc.stdout
            for line in self._proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True, name="emulator-stdout").start()
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                self.close()
                raise RuntimeError(f"the emulator did not start within {timeout:g} s") from None
            if line is None:
                code = self._proc.wait()
                raise RuntimeError(f"the emulator exited at start-up (code {code}); "
                                   f"see its message above")
            found = _URL.search(line)
            if found:
                return found.group(1)

    def stats(self) -> dict[str, Any]:
        import requests

        return requests.get(self.base_url + "/_emulator/stats", timeout=10).json()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Emulator({self.base_url})"


_local: Optional[Emulator] = None
_local_lock = threading.Lock()


def ensure_local(speed: Optional[float] = None) -> tuple[str, str]:
    """(base_url, token) of this process's emulator, starting it on first use at `speed`
    (default LOCAL_SPEED; `%config Seedance.emulator_speed`). A running emulator is kept
    whatever speed is asked later: its tasks and files belong to this session.

    With SEEDANCE_EMULATOR_URL set, that server is used and nothing is started.
    """
    url = os.environ.get(catalog.EMULATOR_URL_ENV, "").strip()
    if url:
        token = os.environ.get("SEEDANCE_EMULATOR_TOKEN", "").strip()
        return url.rstrip("/"), token or catalog.EMULATOR_DEFAULT_TOKEN
    global _local
    with _local_lock:
        if _local is None or (_local._proc is not None and _local._proc.poll() is not None):
            _local = Emulator(port=0, speed=speed or LOCAL_SPEED, catalog=_active_catalog())
            atexit.register(_local.close)
        return _local.base_url, _local.token


def _active_catalog() -> Optional[str]:
    """The catalog file this process uses (e.g. set by %config), for its emulator to load
    too; SEEDANCE_CATALOG reaches the emulator through the environment anyway."""
    module = sys.modules.get("seedance_nb.catalog_file")
    path = getattr(module, "active_path", lambda: None)() if module else None
    return str(path) if path else None


def local_url() -> Optional[str]:
    """Base URL of the emulator this process started, or None if none is running."""
    with _local_lock:
        if _local is None or (_local._proc is not None and _local._proc.poll() is not None):
            return None
        return _local.base_url


def stop_local() -> bool:
    """Stop the emulator this process started; True if one was running."""
    global _local
    with _local_lock:
        running, _local = _local, None
    if running is None:
        return False
    running.close()
    return True
