"""The WSGI app: routing, auth, dialect envelopes, faults and stats (reference §10.2–§10.10).

Fault rules (start-up options, see faults.py):
- `--fault-routes reads` (default) applies faults to reads only: Ark GET and list,
  Comet and comet-volc GET, Ace `/seedance/tasks`, and `/files` downloads.
  `all` adds creates and DELETE.
- A 5xx fault on a create is drawn after the task is created (and counted in
  the stats as accepted), like `[emu:500]`: the caller cannot know it exists.
- A reset fault is decided before the request body is read; nothing is created.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from collections import Counter
from typing import Any, Callable, Iterable, Optional

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .. import catalog
from . import views
from .callbacks import Callbacks
from .envelopes import (EmuError, auth_error, error_body, not_found_route, request_id,
                        server_error)
from .faults import Faults
from .routes import _ROOTS, match, prefix_of, route_kind
from .signing import Signer
from .store import Settings, Store, Task
from .validate import Params, check_comet, check_json

#: code of a malformed-body refusal per route prefix (§7.1 vocabularies)
_BODY_CODES = {"ark": "InvalidParameter", "volc": "InvalidParameter", "comet": "invalid_request",
               "ace": "bad_request"}
_MIMETYPES = {".mp4": "video/mp4", ".mov": "video/quicktime", ".png": "image/png"}

_REJECT_CODE = "InputTextSensitiveContentDetected"
CHUNK = 64 * 1024


class EmulatorApp:
    def __init__(self, settings: Settings, faults: Faults, renderer: Any) -> None:
        self.settings = settings
        self.faults = faults
        self.signer = Signer(settings.speed)
        self.callbacks = Callbacks()
        self.store = Store(settings, renderer, self._changed)
        self.renderer = renderer
        self.requests: Counter = Counter()
        self.fault_counts: Counter = Counter()
        self._stats_lock = threading.Lock()

    # --- bookkeeping -----------------------------------------------------------
    def count(self, route: str) -> None:
        with self._stats_lock:
            self.requests[route] += 1

    def count_fault(self, kind: str) -> None:
        with self._stats_lock:
            self.fault_counts[kind] += 1

    def stats(self) -> dict[str, Any]:
        seconds = list(self.renderer.seconds)
        with self._stats_lock:
            return {
                "creates": dict(self.store.accepted),
                "requests": dict(self.requests),
                "faults": dict(self.fault_counts),
                "tasks": len(self.store.tasks),
                "max_queued": self.store.max_queued,
                "refused": dict(self.store.refused),
                "renders": {"count": len(seconds),
                            "mean_seconds": sum(seconds) / len(seconds) if seconds else None},
                "callbacks": {"delivered": self.callbacks.sent,
                              "failed_attempts": self.callbacks.failed},
            }

    # --- callbacks -------------------------------------------------------------
    def _changed(self, task: Task, status: str) -> None:
        url = task.params.callback_url
        if not url or status == "cancelled":
            return
        final = status in ("succeeded", "failed")
        if task.prefix in ("ark", "volc"):
            self.callbacks.post(url, views.ark_task(task, self.signer), retry=final)
        elif task.prefix == "ace" and status in ("succeeded", "failed", "expired"):
            self.callbacks.post(url, views.ace_final(task, self.signer), retry=True)

    # --- WSGI ------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = self.settings.max_body_bytes
        try:
            response = self.dispatch(request)
        except Exception:  # outside any dialect (files, healthz): still never HTML
            traceback.print_exc(file=sys.stderr)
            response = Response("internal error", status=500, mimetype="text/plain")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/healthz" and method == "GET":
            self.count("GET /healthz")
            return Response("ok", mimetype="text/plain")
        if path == "/_emulator/stats" and method == "GET":
            return _json(self.stats())
        if path.startswith("/files/") and method == "GET":
            self.count("GET /files")
            return self.serve_file(request, path[len("/files/"):])
        found = prefix_of(path)
        if found is None:
            self.count("unknown")
            return Response("not found", status=404, mimetype="text/plain")
        prefix, rest = found
        rid = request_id()
        kind = route_kind(method, path)
        try:
            # Creates draw their 5xx after the task exists (see _create).
            if (kind == "read" or method == "DELETE") and self.faults.draw("5xx", kind):
                self.count_fault("5xx")
                raise server_error(prefix, "injected fault")
            try:
                status, body, route = self.route(request, prefix, rest)
            except HTTPException as exc:  # werkzeug's own refusals, e.g. a body too large
                code = exc.code if exc.code and 400 <= exc.code < 500 else 400
                raise EmuError(code, _BODY_CODES[prefix], _one_line(exc.description), "body")
            except EmuError:
                raise
            except Exception as exc:  # a bug must still answer in the dialect's envelope
                traceback.print_exc(file=sys.stderr)
                raise server_error(prefix, f"internal error ({type(exc).__name__})") from None
            self.count(route)
        except EmuError as err:
            self.count(f"{method} {_ROOTS[prefix]} error {err.status}")
            response = _json(error_body(prefix, err, rid), err.status)
            for name, value in err.headers.items():
                response.headers[name] = value
        else:
            response = _json(body, status)
            if kind == "read" and status == 200 and self.faults.draw("malformed", kind):
                self.count_fault("malformed")
                data = response.get_data()
                response.set_data(data[: max(1, len(data) // 2)])
        if prefix == "ark":
            response.headers["X-Request-Id"] = rid
        return response

    def check_auth(self, request: Request, prefix: str) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or token not in self.settings.tokens:
            raise auth_error(prefix)
        return token

    def route(self, request: Request, prefix: str, rest: str) -> tuple[int, Any, str]:
        """(status, body, route name for the stats). Unknown routes are 404 before auth."""
        found = match(prefix, rest, request.method)
        if found is None:
            raise not_found_route(prefix, request.method, request.path)
        action, task_id = found
        token = self.check_auth(request, prefix)
        pattern = rest[:-len(task_id)] + "{id}" if task_id else rest
        name = f"{request.method} {_ROOTS[prefix]}{pattern}"
        if action == "create":
            if prefix == "comet":
                return (*self.create_comet(request, token), name)
            if prefix == "ace":
                return (*self.create_ace(request, token), name)
            return (*self.create_ark(request, prefix, token), name)
        if action == "list":
            return 200, self.list_ark(request, token), name
        if action == "models":
            return 200, self.models(), name
        if action == "delete":
            self.store.delete(task_id, token)
            return 200, {}, name
        if action == "tasks":
            return 200, self.ace_tasks(request, token), name
        task = self.store.get(prefix, task_id, token)
        if prefix == "comet":
            return 200, views.comet_video(task, self.signer, self.settings.comet_status_case,
                                          _base(request)), name
        return 200, views.ark_task(task, self.signer, _base(request)), name

    # --- creates -----------------------------------------------------------------
    def _spec_for(self, task: Task) -> Any:
        # The renderer's own module defines RenderSpec (render.py, or a test stand-in).
        import importlib

        spec_type = importlib.import_module(self.renderer.module).RenderSpec
        p = task.params
        fields = dict(width=task.width, height=task.height, frames=task.n_frames,
                      seed=task.seed, prompt=p.prompt, first_image=p.first_image,
                      last_image=p.last_image, audio=p.generate_audio, fps=24)
        known = getattr(spec_type, "__dataclass_fields__", {})
        if "watermark" in known:
            fields["watermark"] = p.watermark
        if "container" in known:
            fields["container"] = p.output_format
        return spec_type(**fields)

    def _create(self, request: Request, prefix: str, token: str, params: Params,
                body: Any = None) -> Task:
        if "[emu:reject]" in params.prompt:
            code = "bad_request" if prefix == "ace" else _REJECT_CODE
            raise EmuError(400, code, "The input text may contain sensitive content.", "content")
        task = self.store.create(prefix, token, params, _base(request), self._spec_for, request=body)
        if "[emu:500]" in params.prompt:
            raise server_error(prefix, "internal service error ([emu:500] marker)")
        if self.faults.draw("5xx", "write"):
            self.count_fault("5xx")
            raise server_error(prefix, "injected fault")
        return task

    def _json_body(self, request: Request, prefix: str) -> Any:
        """The body as JSON; anything malformed is a 4xx in the route's envelope."""
        code, limit = _BODY_CODES[prefix], self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise EmuError(413, code, f"the request body is larger than {limit} bytes", "body")
        data = request.stream.read(limit + 1)
        if len(data) > limit:
            raise EmuError(413, code, f"the request body is larger than {limit} bytes", "body")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise EmuError(400, code, "the request body is not UTF-8", "body") from None
        try:
            return json.loads(text or "null", parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise EmuError(400, code, "the request body is not valid JSON", "body") from None

    def _find_draft(self, prefix: str, token: str) -> Callable[[str], Optional[Task]]:
        return lambda draft_id: self.store.draft(prefix, token, draft_id)

    def create_ark(self, request: Request, prefix: str, token: str) -> tuple[int, Any]:
        params = check_json(prefix, self._json_body(request, prefix), self.settings.endpoints,
                            self._find_draft(prefix, token))
        task = self._create(request, prefix, token, params)
        return 200, {"id": task.id}

    def create_comet(self, request: Request, token: str) -> tuple[int, Any]:
        if request.mimetype != "multipart/form-data":
            # CometAPI's /v1/videos takes multipart only (§5.2); the client never sends else
            shown = request.mimetype or "no content type"
            raise EmuError(400, "invalid_request", f"POST /v1/videos takes multipart/form-data, "
                                                   f"not {shown}", "Content-Type")
        form = {k: v for k, v in request.form.items()}
        upload = request.files.get("input_reference")
        image = upload.read() if upload is not None else None
        params = check_comet(form, image)
        task = self._create(request, "comet", token, params)
        body = {"id": task.id, "task_id": task.id, "object": "video", "model": params.model,
                "status": views.comet_status(task, self.settings.comet_status_case),
                "progress": 0, "created_at": int(task.created)}
        return 200, body

    def create_ace(self, request: Request, token: str) -> tuple[int, Any]:
        body = self._json_body(request, "ace")
        try:
            params = check_json("ace", body, {}, self._find_draft("ace", token))
        except EmuError as err:
            if err.status in (400, 404):
                raise EmuError(400, "bad_request", err.message, err.param) from None
            raise
        task = self._create(request, "ace", token, params, body=body)
        if params.wants_async:
            return 200, {"success": True, "task_id": task.id, "trace_id": task.trace_id}
        self.store.wait_terminal(task, task.expires_s + 5)
        final = views.ace_final(task, self.signer, _base(request))
        if final["success"]:
            return 200, final
        raise EmuError(500, "api_error", final["error"]["message"])

    # --- reads -------------------------------------------------------------------
    def list_ark(self, request: Request, token: str) -> dict[str, Any]:
        args = request.args

        def page(name: str, default: int) -> int:
            raw = args.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if not 1 <= value <= 500:
                raise EmuError(400, "InvalidParameter", f"{name} must be within [1, 500]", name)
            return value

        num, size = page("page_num", 1), page("page_size", 10)
        statuses = set(args.getlist("filter.status"))
        bad = statuses - {"queued", "running", "succeeded", "failed", "cancelled", "expired"}
        if bad:
            raise EmuError(400, "InvalidParameter", f"unknown status {sorted(bad)[0]!r}",
                           "filter.status")
        tasks = self.store.listing(token, statuses, set(args.getlist("filter.task_ids")),
                                   args.get("filter.model", ""), args.get("filter.service_tier", ""))
        chosen = tasks[(num - 1) * size: num * size]
        return {"total": len(tasks), "items": [views.ark_task(t, self.signer, _base(request)) for t in chosen]}

    def models(self) -> dict[str, Any]:
        """GET /api/v3/models: ark and byteplus ids of live families, plus endpoints (§2.6)."""
        created = int(self.store.started)
        data = []
        for dialect, owner in (("ark", "volcengine"), ("byteplus", "byteplus")):
            for family, wire in catalog.WIRE_IDS[dialect].items():
                if catalog.capabilities(family, dialect) and catalog.lifecycle(family,
                                                                               dialect).live:
                    data.append({"id": wire, "object": "model", "domain": "VideoGeneration",
                                 "owned_by": owner, "created": created})
        for endpoint, family in self.settings.endpoints.items():
            if catalog.lifecycle(family, "ark").live:
                data.append({"id": endpoint, "object": "model", "domain": "VideoGeneration",
                             "owned_by": "endpoint", "created": created})
        return {"object": "list", "data": data}

    def ace_tasks(self, request: Request, token: str) -> dict[str, Any]:
        body = self._json_body(request, "ace")
        if not isinstance(body, dict):
            raise EmuError(400, "bad_request", "the body must be a JSON object")
        action = body.get("action")
        if action == "retrieve":
            task_id = body.get("id")
            if not isinstance(task_id, str) or not task_id:
                raise EmuError(400, "bad_request", "`id` is required for retrieve")
            return views.ace_record(self.store.get("ace", task_id, token), self.signer,
                                     _base(request))
        if action == "retrieve_batch":
            ids = body.get("ids")
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise EmuError(400, "bad_request", "`ids` must be a list of task ids")
            items = [views.ace_record(t, self.signer, _base(request)) for t in
                     (self.store.find("ace", i, token) for i in ids) if t is not None]
            return {"items": items, "count": len(items)}
        raise EmuError(400, "bad_request", "`action` must be retrieve or retrieve_batch")

    # --- files -------------------------------------------------------------------
    def serve_file(self, request: Request, name: str) -> Response:
        why = self.signer.check(f"/files/{name}", request.args.to_dict())
        if why:
            return Response(f"forbidden: {why}", status=403, mimetype="text/plain")
        if self.faults.draw("5xx", "file"):
            self.count_fault("5xx")
            return Response("injected fault", status=500, mimetype="text/plain")
        path = self.store.file(name)
        if path is None:
            return Response("not found: the file was deleted", status=404, mimetype="text/plain")
        try:
            size = os.path.getsize(path)
        except OSError:  # deleted between the lookup and now
            return Response("not found: the file was deleted", status=404, mimetype="text/plain")
        send = size
        if self.faults.draw("truncate", "file"):
            self.count_fault("truncate")
            send = size // 2
        rate = self.faults.config.slow_download
        if rate > 0:
            self.count_fault("slow_download")
        mimetype = _MIMETYPES.get(os.path.splitext(name)[1], "application/octet-stream")
        response = Response(_chunks(path, send, rate), mimetype=mimetype,
                            direct_passthrough=True)
        response.headers["Content-Length"] = str(size)  # a truncated reply still promises all
        return response


def _chunks(path: str, send: int, rate: float) -> Iterable[bytes]:
    """Stream the first `send` bytes of the file, never holding it whole in memory."""
    step = CHUNK if rate <= 0 else max(1, min(CHUNK, int(rate / 10)))
    with open(path, "rb") as fh:
        while send > 0:
            data = fh.read(min(step, send))
            if not data:
                return
            send -= len(data)
            if rate > 0:
                time.sleep(len(data) / rate)
            yield data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _one_line(text: Optional[str]) -> str:
    return " ".join((text or "the request was refused").split())


def _base(request: Request) -> str:
    return request.host_url.rstrip("/")


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status,
                    mimetype="application/json")
