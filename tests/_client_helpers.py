"""Shared pieces for the client-core tests: a scripted loopback server and an
isolated job manager. Not a conftest: import what you need."""
from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes


@dataclass
class Script:
    """Answers requests in order from `actions`; the last action repeats."""

    actions: list = field(default_factory=list)
    seen: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Any:
        with self.lock:
            if len(self.actions) > 1:
                return self.actions.pop(0)
            return self.actions[0]


def reply(status: int = 200, body: Any = None, headers: Optional[dict] = None) -> tuple:
    return ("reply", status, body, headers or {})


RESET = ("reset",)


def sleep_then(seconds: float, action: tuple) -> tuple:
    return ("sleep", seconds, action)


def _app(script: Script) -> Callable:
    @Request.application
    def app(request: Request) -> Any:
        body = request.get_data()
        script.seen.append(Seen(request.method, request.path, request.query_string.decode(),
                                dict(request.headers), body))
        action = script.next()
        if callable(action):
            action = action(request)
        while action[0] == "sleep":
            time.sleep(action[1])
            action = action[2]
        if action[0] == "reset":
            sock = request.environ["werkzeug.socket"]
            # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return Response(b"", status=500)
        _, status, payload, headers = action
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload)
            headers = {"Content-Type": "application/json", **headers}
        return Response(payload or b"", status=status, headers=headers)

    return app


@contextlib.contextmanager
def scripted_server(*actions: Any) -> Iterator[tuple[str, Script]]:
    """A loopback HTTP server answering from a script; yields (root URL, script)."""
    script = Script(list(actions) or [reply(200, {})])
    server = make_server("127.0.0.1", 0, _app(script), threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", script
    finally:
        server.shutdown()
        server.server_close()


def refused_url() -> str:
    """A loopback URL nothing listens on (connection refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


class Sleeps(list):
    """A stand-in for time.sleep that records the delays and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@contextlib.contextmanager
def isolated_jobs(tmp_path: Any, *, poll_interval: float = 0.1,
                  **kw: Any) -> Iterator[Any]:
    """Fresh defaults (output in tmp_path) and a fresh process-wide JobManager."""
    from seedance_nb import jobs
    from seedance_nb.config import settings

    settings.reset()
    settings.output_dir = str(tmp_path / "out")
    settings.poll_interval = poll_interval
    old = jobs._manager
    mgr = jobs.JobManager(**kw)
    jobs.set_manager(mgr)
    try:
        yield mgr
    finally:
        mgr.stop()
        jobs.set_manager(old)
        settings.reset()


DIALECTS = ("ark", "byteplus", "comet", "comet-volc", "acedata")
_PREFERENCE = ("1.0-pro-fast", "1.0-pro", "1.0-lite-i2v", "2.0-fast", "2.0", "1.5-pro")


def pick_model(dialect: str, mode: str) -> tuple[str, int]:
    """(family, shortest duration) of a model offering `mode` at 480p on `dialect`."""
    from seedance_nb import catalog

    for family in _PREFERENCE:
        caps = catalog.capabilities(family, dialect)
        if caps and caps.live and mode in caps.modes and "480p" in caps.resolutions_for(mode):
            return family, caps.duration_min
    raise LookupError(f"no model offers {mode} on {dialect}")


def make_image(path: Any, size: tuple[int, int] = (640, 480), color: str = "orange") -> str:
    from PIL import Image

    Image.new("RGB", size, color).save(path)
    return str(path)


def decodes(path: str) -> int:
    """Number of video frames PyAV decodes from `path` (raises if it is not a video)."""
    import av

    with av.open(path) as container:
        return sum(1 for _ in container.decode(video=0))


def emu_submit(emu: Any, emulate: str, prompt: str = "a red fox in snow", *,
               mode: str = "t2v", **kw: Any) -> Any:
    """Submit to an emulator speaking `emulate`, with a short 480p model that has `mode`."""
    from seedance_nb import jobs

    family, duration = pick_model(emulate, mode)
    kw.setdefault("model", family)
    kw.setdefault("resolution", "480p")
    kw.setdefault("duration", duration)
    kw.setdefault("api_key", emu.token)
    return jobs.submit(prompt, provider="emulator", emulate=emulate, base_url=emu.base_url, **kw)
