"""Types shared by the provider dialects (reference §5, §6.5).

CONTRACT: a dialect is pure: it turns a VideoRequest into `HttpCall`s and any
reply into a normalized `Task` or a `SeedanceAPIError`. It never does I/O; the
transport (`seedance_nb.http`) sends the calls and the job manager drives them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol, Sequence


@dataclass(frozen=True)
class HttpCall:
    method: str  # GET | POST | DELETE
    path: str  # relative to the provider base URL, e.g. "/contents/generations/tasks"
    params: Sequence[tuple[str, str]] = ()  # query; repeated keys allowed
    json: Any = field(default=None, repr=False)  # JSON body (dict); may hold MBs of base64
    fields: Optional[dict[str, str]] = None  # multipart text parts (comet)
    files: Optional[dict[str, tuple[str, bytes, str]]] = field(default=None, repr=False)
    headers: Optional[dict[str, str]] = None  # extra headers, e.g. X-Client-Request-Id
    is_create: bool = False  # creates follow the never-bill-twice retry rules (§8)
    timeout: Optional[float] = None  # read timeout override (blocking acedata create)


@dataclass
class Task:
    """A normalized task (§6.5). `raw` is the last payload as received."""

    id: str
    provider: str
    status: str  # queued | running | succeeded | failed | cancelled | expired
    model: Optional[str] = None
    upstream_id: Optional[str] = None
    progress: Optional[int] = None
    created_at: Optional[float] = None
    updated_at: Optional[float] = None
    video_url: Optional[str] = None
    last_frame_url: Optional[str] = None
    url_expires_at: Optional[float] = None
    resolution: Optional[str] = None
    ratio: Optional[str] = None
    duration: Optional[int] = None
    frames: Optional[int] = None
    seed: Optional[int] = None
    tokens: Optional[int] = None
    error: Optional[dict[str, str]] = None  # {"code": ..., "message": ...}
    raw: Any = field(default=None, repr=False)
    unknown_word: Optional[str] = None  # a status word §6.4 does not list (mapped to running)


@dataclass(frozen=True)
class CreateResult:
    task_id: str
    upstream_id: Optional[str] = None
    task: Optional[Task] = None  # when the create reply already holds a task (comet, ace)


class Dialect(Protocol):
    """One wire dialect family: ark.py (ark/byteplus/comet-volc), comet.py, acedata.py."""

    provider: str  # the provider name tasks are reported under
    batch_size: int  # max ids per batch read, 0 = none

    def create_call(self, request: Any) -> HttpCall: ...
    def parse_create(self, status: int, headers: dict, body: bytes) -> CreateResult: ...
    def get_call(self, task_id: str) -> HttpCall: ...
    def parse_task(self, status: int, headers: dict, body: bytes) -> Task: ...
    def batch_call(self, task_ids: Sequence[str]) -> Optional[HttpCall]: ...
    def parse_batch(self, status: int, headers: dict, body: bytes) -> list[Task]: ...
    def cancel_call(self, task_id: str) -> Optional[HttpCall]: ...
    def list_recent_call(self, model: str, page_size: int = 20) -> Optional[HttpCall]: ...
    def parse_error(self, status: int, headers: dict, body: bytes) -> Exception: ...
