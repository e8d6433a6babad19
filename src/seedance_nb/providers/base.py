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
    fields: Optional[dict[str, str]] = None  # form fields (no dialect uses them any more)
    #: multipart parts (comet, always multipart, §5.2): text parts are (None, bytes, None),
    #: the image is (filename, bytes, content type)
    files: Optional[dict[str, tuple[Optional[str], bytes, Optional[str]]]] = field(
        default=None, repr=False)
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
    duration: Optional[float] = None  # int when whole; 2.5 may report e.g. 10.08
    frames: Optional[int] = None
    seed: Optional[int] = None
    tokens: Optional[int] = None
    draft: Optional[bool] = None  # 2.5
    draft_task_id: Optional[str] = None  # 2.5 finals
    output_format: Optional[str] = None  # 2.5: mp4 | mov
    error: Optional[dict[str, str]] = None  # {"code": ..., "message": ...}
    raw: Any = field(default=None, repr=False)
    unknown_word: Optional[str] = None  # a status word §6.4 does not list (mapped to running)

    def __repr__(self) -> str:
        # a gateway may echo the key in an error message or a URL: never show it
        from ..errors import redact

        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__dataclass_fields__
                          if f != "raw" and getattr(self, f) is not None)
        return redact(f"Task({shown})")


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
    # known: task id -> the Task last read; an item identical to its raw comes back as it
    def parse_batch(self, status: int, headers: dict, body: bytes,
                    known: Optional[dict] = None) -> list[Task]: ...
    def cancel_call(self, task_id: str) -> Optional[HttpCall]: ...  # None: cannot cancel
    def delete_call(self, task_id: str) -> Optional[HttpCall]: ...  # None: cannot delete
    def list_recent_call(self, model: str, page_size: int = 20) -> Optional[HttpCall]: ...
    def parse_error(self, status: int, headers: dict, body: bytes, *,
                    create: bool = False) -> Exception: ...


def model_error(exc: Any, dialect: str, create: bool = False) -> Any:
    """`exc` as ModelNotAvailable when the gateway says the model does not exist (§2.4).

    Ark: 404 InvalidEndpointOrModel.* / ModelNotOpen; Comet: 400 "model <m> is not
    supported"; Ace: 400 bad_request naming a model. With `create`, any other 404 is a
    plain error: a create's 404 is never TaskNotFound.
    """
    import re

    from ..errors import ModelNotAvailable, SeedanceAPIError, TaskNotFound

    if not isinstance(exc, SeedanceAPIError) or isinstance(exc, ModelNotAvailable):
        return exc
    status, code, message = exc.http_status, exc.code, exc.message
    if dialect in ("comet", "comet-volc"):
        hit = status == 400 and bool(re.search(r"\bmodel\b.*\bnot supported", message, re.I))
        hit = hit or code.startswith(("InvalidEndpointOrModel", "ModelNotOpen"))
    elif dialect == "acedata":
        hit = code == "bad_request" and "model" in message.lower()  # 400, or success: false
    else:
        hit = status == 404 and code.startswith(("InvalidEndpointOrModel", "ModelNotOpen"))
    kw = dict(provider=exc.provider, http_status=status, code=code, request_id=exc.request_id)
    if hit:
        return ModelNotAvailable(f"{message} ({ModelNotAvailable.HINT})", retryable=False, **kw)
    if create and isinstance(exc, TaskNotFound):
        return SeedanceAPIError(message, retryable=False, **kw)
    return exc
