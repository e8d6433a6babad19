"""Shared helpers for the emulator tests: servers, bodies, decoding, a callback sink."""
from __future__ import annotations

import base64
import io
import json
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

import av
import numpy as np
import requests
from PIL import Image
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from seedance_nb.emulator import Emulator

ARK_TASKS = "/api/v3/contents/generations/tasks"
VOLC_TASKS = "/volc/v3/contents/generations/tasks"
PRO = "doubao-seedance-1-0-pro-250528"  # 1.0-pro, Volcengine id
PRO_BP = "seedance-1-0-pro-250528"  # 1.0-pro, BytePlus id
PRO15 = "doubao-seedance-1-5-pro-251215"  # retired 2026-11-11: an unknown model now
TWO = "doubao-seedance-2-0-260128"
FAST2 = "doubao-seedance-2-0-fast-260128"  # 2.0-fast: audio, 480p/720p
V25 = "doubao-seedance-2-5-260628"
V25_BP = "dreamina-seedance-2-5-260628"
FAST_FAMILY_OPTS = dict(speed=1000, run_seconds=0)


@contextmanager
def emulator(**options: Any) -> Iterator["Client"]:
    """An in-process emulator (fast start) wrapped in a small HTTP client."""
    opts = {**FAST_FAMILY_OPTS, **options}
    with Emulator(in_process=True, **opts) as emu:
        yield Client(emu)


class Client:
    def __init__(self, emu: Emulator, token: str | None = None) -> None:
        self.emu = emu
        self.base = emu.base_url
        self.token = token or emu.token
        self.s = requests.Session()

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    def get(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.headers())
        return self.s.get(self.base + path, timeout=30, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.headers())
        return self.s.post(self.base + path, timeout=60, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("headers", self.headers())
        return self.s.delete(self.base + path, timeout=30, **kw)

    # Ark and comet-volc
    def ark_create(self, body: dict, prefix: str = ARK_TASKS) -> requests.Response:
        return self.post(prefix, json=body)

    def ark_get(self, task_id: str, prefix: str = ARK_TASKS) -> requests.Response:
        return self.get(f"{prefix}/{task_id}")

    def ark_new(self, prefix: str = ARK_TASKS, **fields: Any) -> str:
        reply = self.ark_create(ark_body(**fields), prefix)
        assert reply.status_code == 200, reply.text
        return reply.json()["id"]

    def ark_wait(self, task_id: str, statuses=("succeeded", "failed", "expired", "cancelled"),
                 prefix: str = ARK_TASKS, timeout: float = 30) -> dict:
        return wait_for(lambda: self.ark_get(task_id, prefix).json(),
                        lambda b: b.get("status") in statuses, timeout)

    # Comet
    def comet_create(self, image: bytes | None = None, **fields: Any) -> requests.Response:
        data = {"model": "doubao-seedance-2-0", "prompt": "a lighthouse at dusk",
                "seconds": "4", "resolution": "480p", **fields}
        # (None, value) parts make requests send multipart/form-data even without a file
        parts: dict = {k: (None, str(v)) for k, v in data.items() if v is not None}
        if image is not None:
            parts["input_reference"] = ("input.png", image, "image/png")
        return self.post("/v1/videos", files=parts)

    def comet_wait(self, task_id: str, words: tuple, timeout: float = 30) -> dict:
        return wait_for(lambda: self.get(f"/v1/videos/{task_id}").json(),
                        lambda b: b.get("status") in words, timeout)

    # AceData
    def ace_create(self, **fields: Any) -> requests.Response:
        return self.post("/seedance/videos", json=ace_body(**fields))

    def ace_retrieve(self, task_id: str) -> requests.Response:
        return self.post("/seedance/tasks", json={"id": task_id, "action": "retrieve"})

    def ace_wait(self, task_id: str, timeout: float = 30) -> dict:
        return wait_for(lambda: self.ace_retrieve(task_id).json(), lambda r: "response" in r,
                        timeout)

    def stats(self) -> dict:
        return self.emu.stats()


def ark_body(text: str = "a red fox trots through snow", model: str = PRO,
             images: tuple = (), **fields: Any) -> dict:
    content: list[dict] = [{"type": "text", "text": text}] if text is not None else []
    for role, url in images:
        content.append({"type": "image_url", "image_url": {"url": url}, "role": role})
    body = {"model": model, "content": content}
    if model in (PRO, PRO_BP, "doubao-seedance-1-0-pro-fast-251015"):
        body.update(resolution="480p", frames=29)
    else:
        body.update(resolution="480p", duration=4)
    body.update(fields)
    return body


def ace_body(text: str = "waves at night", model: str = PRO, **fields: Any) -> dict:
    body = ark_body(text, model)
    body["async"] = True
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def wait_for(fetch: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 30,
             interval: float = 0.03) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; last value: {value!r}"[:2000])
        time.sleep(interval)


def png_bytes(width: int, height: int, color=(200, 40, 40), pattern: bool = False) -> bytes:
    if pattern:
        x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
        y = np.linspace(0, 255, height, dtype=np.uint8)[:, None].repeat(width, 1)
        arr = np.stack([x, y, 255 - x // 2], axis=2)
        img = Image.fromarray(arr, "RGB")
    else:
        img = Image.new("RGB", (width, height), color)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def data_url(data: bytes, fmt: str = "png") -> str:
    return f"data:image/{fmt};base64," + base64.b64encode(data).decode()


def probe(data: bytes) -> dict:
    """Decode a whole MP4 with PyAV: width, height, fps, frame count, audio, first frame."""
    with av.open(io.BytesIO(data)) as box:
        stream = box.streams.video[0]
        frames = list(box.decode(stream))
        return {"width": stream.codec_context.width, "height": stream.codec_context.height,
                "fps": float(stream.average_rate or stream.base_rate),
                "frames": len(frames), "codec": stream.codec_context.name,
                "pix_fmt": stream.codec_context.format.name,
                "audio": len(box.streams.audio) > 0,
                "first": frames[0].to_ndarray(format="rgb24"),
                "last": frames[-1].to_ndarray(format="rgb24")}


def probe_fast(data: bytes) -> dict:
    """Container facts without decoding: size, frame count, codecs, pix_fmt, brand."""
    with av.open(io.BytesIO(data)) as box:
        stream = box.streams.video[0]
        audio = box.streams.audio[0].codec_context.name if box.streams.audio else None
        return {"width": stream.codec_context.width, "height": stream.codec_context.height,
                "frames": stream.frames, "codec": stream.codec_context.name,
                "pix_fmt": stream.codec_context.format.name, "audio": audio,
                "brand": data[8:12]}


def ark_error(reply) -> dict:
    """The Ark envelope's error, checked for shape and the request id suffix."""
    err = reply.json()["error"]
    assert set(err) == {"code", "message", "param", "type"}, err
    assert err["message"].endswith("Request id: " + reply.headers["X-Request-Id"])
    return err


class CallbackSink:
    """A werkzeug server on loopback that records JSON callbacks.

    `fail_first` maps a status word to how many of its POSTs get a 500 first.
    """

    def __init__(self, fail_first: dict[str, int] | None = None) -> None:
        self.received: list[dict] = []
        self.attempts: list[tuple[float, str]] = []
        self.fail_first = dict(fail_first or {})
        self._lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _app(self, environ, start_response):
        body = json.loads(Request(environ).get_data() or b"null")
        status = body.get("status") or (body.get("data") or {}).get("status") or "?"
        with self._lock:
            self.attempts.append((time.monotonic(), status))
            if self.fail_first.get(status, 0) > 0:
                self.fail_first[status] -= 1
                return Response("no", status=500)(environ, start_response)
            self.received.append(body)
        return Response("ok")(environ, start_response)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- a stand-in renderer (used through the hidden --render-module option) -------------
from seedance_nb.emulator.render import RenderSpec  # noqa: E402  (same spec type)


NO_RENDER = "[no-render]"  # stand-in: a 1-frame clip, for tests of reported lengths only


def render_video(path, spec: RenderSpec) -> None:
    if "explode" in spec.prompt:
        raise RuntimeError("stand-in renderer refused the prompt")
    from dataclasses import replace

    from seedance_nb.emulator import render

    if NO_RENDER in spec.prompt:
        spec = replace(spec, frames=1, width=64, height=64, audio=False)
    render.render_video(path, spec)


def render_last_frame_png(path, spec: RenderSpec) -> None:
    from seedance_nb.emulator import render

    render.render_last_frame_png(path, spec)
