"""CometAPI `/v1/videos` dialect: multipart create, video objects (reference §5.2, §6.2)."""
from __future__ import annotations

from typing import Any, Optional, Sequence
from urllib.parse import quote

from .. import catalog
from ..errors import BadReply, SeedanceAPIError, SeedanceValidationError
from . import _common as c
from .base import CreateResult, HttpCall, Task, model_error

PATH = "/v1/videos"


class CometDialect:
    dialect = "comet"
    batch_size = 0  # single GETs only
    can_cancel = can_list = False

    def __init__(self, provider: str = "comet") -> None:
        self.provider = provider

    def __repr__(self) -> str:
        return f"CometDialect(provider={self.provider!r})"

    # -- create --------------------------------------------------------------------
    def to_wire(self, request: Any) -> dict:
        """{"fields": {...}} plus {"files": {"input_reference": (...)}} when there is an image.

        Both go out as one multipart/form-data body, also without an image (§5.2)."""
        _refuse_unsupported(request)
        fields = {"prompt": request.prompt, "model": request.model}
        if request.duration is not None:
            fields["seconds"] = str(int(request.duration))
        if request.ratio is not None:
            fields["size"] = request.ratio
        if request.resolution is not None:
            fields["resolution"] = request.resolution
        wire: dict[str, Any] = {"fields": fields}
        if request.images:
            image = request.images[0]
            if image.data is None:
                raise SeedanceValidationError(
                    [f"image {image.source!r}: comet needs the image bytes (download it first)"])
            fmt = c.image_format(image)
            wire["files"] = {"input_reference": (f"input.{fmt}", image.data, f"image/{fmt}")}
        return wire

    def create_call(self, request: Any) -> HttpCall:
        wire = self.to_wire(request)
        return HttpCall("POST", PATH, files=multipart_parts(wire), is_create=True)

    def parse_create(self, status: int, headers: dict, body: bytes) -> CreateResult:
        payload = c.ensure_ok(self, status, headers, body)
        obj = _unwrap(payload)
        task_id = c.to_str(obj.get("id")) or c.to_str(obj.get("task_id"))
        if not task_id:
            if "error" in c.as_dict(payload):
                raise self.parse_error(status, headers, body)
            raise BadReply("create reply has no task id", code="MissingId",
                           provider=self.provider, http_status=status, snippet=c.body_text(body))
        return CreateResult(task_id=task_id, task=parse_video(self.provider, obj))

    # -- reads -----------------------------------------------------------------------
    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{PATH}/{quote(task_id, safe='')}")

    def parse_task(self, status: int, headers: dict, body: bytes) -> Task:
        payload = c.ensure_ok(self, status, headers, body)
        obj = _unwrap(payload)
        if not obj.get("id") and not obj.get("task_id") and "error" in c.as_dict(payload):
            raise self.parse_error(status, headers, body)
        return parse_video(self.provider, c.ensure_task_obj(self, status, body, obj, "id", "task_id"))

    def batch_call(self, task_ids: Sequence[str]) -> Optional[HttpCall]:
        return None

    def parse_batch(self, status: int, headers: dict, body: bytes,
                    known: Optional[dict] = None) -> list[Task]:
        raise NotImplementedError("comet has no batch read")

    def cancel_call(self, task_id: str) -> Optional[HttpCall]:
        return None

    def delete_call(self, task_id: str) -> Optional[HttpCall]:
        return None  # no route deletes a task here

    def list_recent_call(self, model: str, page_size: int = 20) -> Optional[HttpCall]:
        return None

    def parse_error(self, status: int, headers: dict, body: bytes, *,
                    create: bool = False) -> SeedanceAPIError:
        return model_error(c.build_error(self.provider, self.dialect, status, headers, body),
                           self.dialect, create)


def multipart_parts(wire: dict) -> dict[str, tuple[Optional[str], bytes, Optional[str]]]:
    """Every part of the multipart body: text parts without a filename, then the image.

    Text parts are sent as parts of `files` so the transport always builds
    multipart/form-data, never a urlencoded form (§5.2).
    """
    parts: dict[str, tuple[Optional[str], bytes, Optional[str]]] = {
        name: (None, value.encode("utf-8"), None) for name, value in wire["fields"].items()}
    parts.update(wire.get("files") or {})
    # 200 bytes per part covers the boundary and part headers.
    size = sum(len(k) + len(p[1]) + len(p[0] or "") + 200 for k, p in parts.items())
    if size > catalog.MAX_BODY_BYTES:
        raise SeedanceValidationError([
            f"request body is {size / 2**20:.1f} MB after encoding; the limit is "
            f"{catalog.MAX_BODY_BYTES // 2**20} MB: use a smaller image"])
    return parts


def _refuse_unsupported(request: Any) -> None:
    """Fields the route does not have: refuse rather than drop them silently."""
    caps = catalog.capabilities(request.family, "comet")
    if caps is None:
        raise SeedanceValidationError([f"model {request.family} is not offered on comet"])
    problems = [f"{name} is not supported on comet" for name in caps.unsupported_fields
                if getattr(request, name, None) not in (None, (), [])]
    if len(request.images) > 1:
        problems.append(f"comet takes one image, got {len(request.images)}")
    if problems:
        raise SeedanceValidationError(problems)


def _unwrap(payload: Any) -> dict:
    # Some CometAPI routes wrap the object in {"data": {...}}; the documented one does not.
    obj = c.as_dict(payload)
    inner = obj.get("data")
    if "status" not in obj and isinstance(inner, dict) and ("status" in inner or "id" in inner):
        return inner
    return obj


def parse_video(provider: str, obj: dict) -> Task:
    """A normalized Task from a Comet video object (§6.2)."""
    status, unknown = c.map_status(obj.get("status"))
    video_url = c.to_str(obj.get("video_url"))
    completed_at = c.to_ts(obj.get("completed_at"))
    size = c.to_str(obj.get("size"))
    return Task(
        id=c.to_str(obj.get("id")) or c.to_str(obj.get("task_id")) or "",
        provider=provider,
        status=status,
        model=c.to_str(obj.get("model")),
        progress=c.to_int(obj.get("progress")),
        created_at=c.to_ts(obj.get("created_at")),
        updated_at=completed_at,
        video_url=video_url,
        url_expires_at=c.expiry_for(status, video_url, completed_at),
        resolution=c.to_str(obj.get("resolution")),
        ratio=size if size and ":" in size else None,
        duration=c.to_int(obj.get("seconds")) if obj.get("seconds") is not None
        else c.to_int(obj.get("duration")),
        seed=c.to_int(obj.get("seed")),
        tokens=c.to_int(c.as_dict(obj.get("usage")).get("completion_tokens")),
        error=c.error_obj(obj.get("error")),
        raw=obj,
        unknown_word=unknown,
    )
