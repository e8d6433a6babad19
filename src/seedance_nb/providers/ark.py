"""Ark JSON dialect: ark, byteplus and comet-volc (reference §5.1, §6.1, §7.1)."""
from __future__ import annotations

from typing import Any, Optional, Sequence
from urllib.parse import quote

from ..errors import BadReply, SeedanceAPIError
from . import _common as c
from .base import CreateResult, HttpCall, Task, model_error

ARK_PATH = "/contents/generations/tasks"
VOLC_PATH = "/volc/v3/contents/generations/tasks"
MAX_BATCH = 500


class ArkDialect:
    """Ark-JSON wire dialect. `provider` is the name tasks are reported under."""

    def __init__(self, provider: str, dialect: str) -> None:
        if dialect not in ("ark", "byteplus", "comet-volc"):
            raise ValueError(f"ArkDialect does not speak {dialect!r}")
        self.provider = provider
        self.dialect = dialect
        self.path = VOLC_PATH if dialect == "comet-volc" else ARK_PATH
        # comet-volc has no list or DELETE route (§1).
        self.can_cancel = self.can_list = dialect != "comet-volc"
        self.batch_size = MAX_BATCH if self.can_list else 0

    def __repr__(self) -> str:
        return f"ArkDialect(provider={self.provider!r}, dialect={self.dialect!r})"

    # -- create --------------------------------------------------------------------
    def to_wire(self, request: Any) -> dict:
        return ark_body(request)

    def create_call(self, request: Any) -> HttpCall:
        body = self.to_wire(request)
        c.check_json_size(body)
        return HttpCall("POST", self.path, json=body, headers=c.client_request_id(),
                        is_create=True)

    def parse_create(self, status: int, headers: dict, body: bytes) -> CreateResult:
        payload = c.ensure_ok(self, status, headers, body)
        task_id = c.to_str(c.as_dict(payload).get("id"))
        if not task_id:
            raise BadReply("create reply has no task id", code="MissingId",
                           provider=self.provider, http_status=status, snippet=c.body_text(body))
        return CreateResult(task_id=task_id)

    # -- reads -----------------------------------------------------------------------
    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{self.path}/{quote(task_id, safe='')}",
                        headers=c.client_request_id())

    def parse_task(self, status: int, headers: dict, body: bytes) -> Task:
        payload = c.ensure_ok(self, status, headers, body)
        return parse_ark_task(self.provider, c.ensure_task_obj(self, status, body, payload, "id"))

    def batch_call(self, task_ids: Sequence[str]) -> Optional[HttpCall]:
        if not self.can_list or not task_ids:
            return None
        ids = list(task_ids)
        if len(ids) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} task ids per batch read, got {len(ids)}")
        params = [("page_num", "1"), ("page_size", str(len(ids)))]
        params += [("filter.task_ids", task_id) for task_id in ids]
        return HttpCall("GET", self.path, params=params, headers=c.client_request_id())

    def parse_batch(self, status: int, headers: dict, body: bytes,
                    known: Optional[dict] = None) -> list[Task]:
        payload = c.as_dict(c.ensure_ok(self, status, headers, body))
        items = payload.get("items") or []
        return [c.unchanged(known, item.get("id"), item) or parse_ark_task(self.provider, item)
                for item in items if isinstance(item, dict)]

    def cancel_call(self, task_id: str) -> Optional[HttpCall]:
        if not self.can_cancel:
            return None
        return HttpCall("DELETE", f"{self.path}/{quote(task_id, safe='')}",
                        headers=c.client_request_id())

    def delete_call(self, task_id: str) -> Optional[HttpCall]:
        """The same DELETE as cancel: the gateway deletes a succeeded, failed or expired
        task's record and files (§10.6). Callers check the status first: on a queued
        task this DELETE cancels it instead."""
        return self.cancel_call(task_id)

    def list_recent_call(self, model: str, page_size: int = 20) -> Optional[HttpCall]:
        if not self.can_list:
            return None
        params = [("page_num", "1"), ("page_size", str(page_size)), ("filter.model", model)]
        return HttpCall("GET", self.path, params=params, headers=c.client_request_id())

    def parse_error(self, status: int, headers: dict, body: bytes, *,
                    create: bool = False) -> SeedanceAPIError:
        return model_error(c.build_error(self.provider, self.dialect, status, headers, body),
                           self.dialect, create)


#: (VideoRequest field, Ark key) in §3 order; AceData renames camera_fixed (§5.3).
ARK_KEYS = (("task_type", "omni_reference_task_type"), ("draft", "draft"),
            ("output_format", "output_format"), ("resolution", "resolution"),
            ("ratio", "ratio"), ("duration", "duration"), ("frames", "frames"),
            ("seed", "seed"), ("camera_fixed", "camera_fixed"), ("watermark", "watermark"),
            ("generate_audio", "generate_audio"), ("return_last_frame", "return_last_frame"),
            ("service_tier", "service_tier"),
            ("execution_expires_after", "execution_expires_after"),
            ("callback_url", "callback_url"))


def content_items(request: Any) -> list[dict]:
    """`content[]` (§5.1): text, images in order, ref videos, ref audios; a final's one
    draft_task item."""
    if request.mode == "final":
        return [{"type": "draft_task", "draft_task": {"id": request.draft_task_id}}]
    items: list[dict] = []
    if request.prompt:
        items.append({"type": "text", "text": request.prompt})
    for image in request.images:
        items.append({"type": "image_url", "image_url": {"url": c.image_url(image)},
                      "role": image.role})
    for url in request.ref_videos:
        items.append({"type": "video_url", "video_url": {"url": url}, "role": "reference_video"})
    for source in request.ref_audios:
        items.append({"type": "audio_url", "audio_url": {"url": request.audio_url(source)},
                      "role": "reference_audio"})
    return items


def ark_body(request: Any, renames: Optional[dict[str, str]] = None) -> dict:
    """model, content, then every set top-level key; unset keys and nulls never appear."""
    body: dict[str, Any] = {"model": request.model, "content": content_items(request)}
    renames = renames or {}
    for attr, key in ARK_KEYS:
        value = getattr(request, attr, None)
        if value is not None:
            body[renames.get(attr, key)] = value
    return body


def parse_ark_task(provider: str, obj: Any) -> Task:
    """A normalized Task from an Ark task object (§6.1); also used for AceData's Ark data."""
    obj = c.as_dict(obj)
    status, unknown = c.map_status(obj.get("status"))
    content = c.as_dict(obj.get("content"))
    video_url = c.to_str(content.get("video_url"))
    updated_at = c.to_ts(obj.get("updated_at"))
    return Task(
        id=c.to_str(obj.get("id")) or "",
        provider=provider,
        status=status,
        model=c.to_str(obj.get("model")),
        created_at=c.to_ts(obj.get("created_at")),
        updated_at=updated_at,
        video_url=video_url,
        last_frame_url=c.to_str(content.get("last_frame_url")),
        url_expires_at=c.expiry_for(status, video_url, updated_at),
        resolution=c.to_str(obj.get("resolution")),
        ratio=c.to_str(obj.get("ratio")),
        duration=to_seconds(obj.get("duration")),
        frames=c.to_int(obj.get("frames")),
        seed=c.to_int(obj.get("seed")),
        tokens=c.to_int(c.as_dict(obj.get("usage")).get("completion_tokens")),
        draft=obj.get("draft") if isinstance(obj.get("draft"), bool) else None,
        draft_task_id=c.to_str(obj.get("draft_task_id")),
        output_format=c.to_str(obj.get("output_format")),
        error=c.error_obj(obj.get("error")),
        raw=obj,
        unknown_word=unknown,
    )


def to_seconds(value: Any) -> Optional[float]:
    """A task's duration: int when whole, float when fractional (2.5: 10.08), else None."""
    import math

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value) if value.is_integer() else value
    return None
