"""AceDataCloud dialect: `/seedance/videos` and `/seedance/tasks` (reference §5.3, §6.3)."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from .. import catalog
from ..errors import BadReply, SeedanceAPIError
from . import _common as c
from .ark import ark_body, to_seconds
from .base import CreateResult, HttpCall, Task, model_error

CREATE_PATH = "/seedance/videos"
TASKS_PATH = "/seedance/tasks"
MAX_BATCH = 50  # no documented limit; chosen (§8)


class AceDataDialect:
    dialect = "acedata"
    batch_size = MAX_BATCH
    can_cancel = can_list = False

    def __init__(self, provider: str = "acedata") -> None:
        self.provider = provider

    def __repr__(self) -> str:
        return f"AceDataDialect(provider={self.provider!r})"

    # -- create --------------------------------------------------------------------
    def to_wire(self, request: Any) -> dict:
        body = ark_body(request, renames={"camera_fixed": "camerafixed"})
        if not request.blocking:
            body["async"] = True
        return body

    def create_call(self, request: Any, *, wait_timeout: Optional[float] = None) -> HttpCall:
        body = self.to_wire(request)
        c.check_json_size(body)
        # A blocking create is held until the video is done: read timeout = the job's wait
        # deadline (the caller passes it; the §8 default otherwise).
        timeout = float(wait_timeout or catalog.WAIT_DEADLINE_S) if request.blocking else None
        return HttpCall("POST", CREATE_PATH, json=body, is_create=True, timeout=timeout)

    def parse_create(self, status: int, headers: dict, body: bytes) -> CreateResult:
        payload = c.as_dict(c.ensure_ok(self, status, headers, body))
        if payload.get("success") is False:
            raise self.parse_error(status, headers, body, create=True)
        data = _first(payload.get("data"))
        task_id = (c.to_str(payload.get("task_id")) or c.to_str(data.get("task_id"))
                   or c.to_str(payload.get("id")))
        if not task_id:
            raise BadReply("create reply has no task id", code="MissingId",
                           provider=self.provider, http_status=status, snippet=c.body_text(body))
        upstream = c.to_str(data.get("task_id"))
        upstream = upstream if upstream != task_id else None
        task = None
        if data:
            parsed = _from_response(self.provider, task_id, payload, record={})
            # A reply that already carries the result (blocking create) ends the task.
            if parsed.status in catalog.TERMINAL:
                task = parsed
        return CreateResult(task_id=task_id, upstream_id=upstream, task=task)

    # -- reads -----------------------------------------------------------------------
    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("POST", TASKS_PATH, json={"id": task_id, "action": "retrieve"})

    def parse_task(self, status: int, headers: dict, body: bytes) -> Task:
        payload = c.ensure_ok(self, status, headers, body)
        if isinstance(payload, dict) and payload.get("success") is False and "response" not in payload:
            raise self.parse_error(status, headers, body)
        return parse_record(self.provider, c.ensure_task_obj(self, status, body, payload, "id",
                                                             "task_id", "response"))

    def batch_call(self, task_ids: Sequence[str]) -> Optional[HttpCall]:
        ids = list(task_ids)
        if not ids:
            return None
        if len(ids) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} task ids per batch read, got {len(ids)}")
        return HttpCall("POST", TASKS_PATH, json={"ids": ids, "action": "retrieve_batch"})

    def parse_batch(self, status: int, headers: dict, body: bytes,
                    known: Optional[dict] = None) -> list[Task]:
        payload = c.as_dict(c.ensure_ok(self, status, headers, body))
        if payload.get("success") is False:
            raise self.parse_error(status, headers, body)
        items = payload.get("items") or []
        return [c.unchanged(known, item.get("id") or item.get("task_id"), item)
                or parse_record(self.provider, item) for item in items if isinstance(item, dict)]

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


def _first(data: Any) -> dict:
    if isinstance(data, list):
        data = data[0] if data else None
    return c.as_dict(data)


def parse_record(provider: str, record: Any) -> Task:
    """A normalized Task from an Ace task record, read in the order of §6.3."""
    record = c.as_dict(record)
    task_id = c.to_str(record.get("id")) or c.to_str(record.get("task_id")) or ""
    response = record.get("response")
    if not isinstance(response, dict):  # 1. not finished yet
        return Task(id=task_id, provider=provider, status="running",
                    model=c.to_str(c.as_dict(record.get("request")).get("model")),
                    created_at=c.to_ts(record.get("created_at")),
                    updated_at=c.to_ts(record.get("started_at")), raw=record)
    return _from_response(provider, task_id, response, record)


def _from_response(provider: str, task_id: str, response: dict, record: dict) -> Task:
    data = _first(response.get("data"))
    content = c.as_dict(data.get("content"))
    finished_at = c.to_ts(record.get("finished_at"))
    upstream = c.to_str(data.get("task_id")) or c.to_str(data.get("id"))
    task_id = task_id or c.to_str(response.get("task_id")) or upstream or ""
    video_url = c.to_str(data.get("video_url")) or c.to_str(content.get("video_url"))
    unknown = None
    error = None
    if response.get("success") is False:  # 2. failure, object or bare string
        status = "failed"
        error = c.error_obj(response.get("error")) or {"code": "", "message": "task failed"}
    elif data.get("status") is not None:  # 4. status word
        status, unknown = c.map_status(data.get("status"))
        error = c.error_obj(data.get("error")) or c.error_obj(response.get("error"))
    else:
        status = "succeeded" if video_url else "running"
    updated_at = finished_at or c.to_ts(record.get("started_at")) or c.to_ts(data.get("updated_at"))
    success_time = finished_at or c.to_ts(data.get("updated_at"))
    model = c.to_str(data.get("model")) or c.to_str(c.as_dict(record.get("request")).get("model"))
    return Task(
        id=task_id,
        provider=provider,
        status=status,
        model=model,
        upstream_id=upstream if upstream != task_id else None,
        created_at=c.to_ts(record.get("created_at")) or c.to_ts(data.get("created_at")),
        updated_at=updated_at,
        video_url=video_url,
        last_frame_url=c.to_str(data.get("last_frame_url")) or c.to_str(content.get("last_frame_url")),
        url_expires_at=c.expiry_for(status, video_url, success_time),
        resolution=c.to_str(data.get("resolution")),
        ratio=c.to_str(data.get("ratio")),
        duration=to_seconds(data.get("duration")),
        frames=c.to_int(data.get("frames")),
        seed=c.to_int(data.get("seed")),
        tokens=c.to_int(c.as_dict(data.get("usage")).get("completion_tokens")),
        draft=data.get("draft") if isinstance(data.get("draft"), bool) else None,
        draft_task_id=c.to_str(data.get("draft_task_id")),
        output_format=c.to_str(data.get("output_format")),
        error=error,
        raw=record or response,
        unknown_word=unknown,
    )
