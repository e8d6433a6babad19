"""Helpers shared by the dialects: JSON, times, status words, images, error envelopes.

Everything here is pure: no I/O, no clock except for turning an HTTP-date
`Retry-After` into seconds.
"""
from __future__ import annotations

import base64
import json
import math
import re
import time
import uuid
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping, Optional
from urllib.parse import parse_qsl, urlsplit

from .. import catalog
from .. import safejson
from ..errors import (AuthError, BadReply, ModerationError, QuotaError, RateLimitError,
                      SeedanceAPIError, SeedanceValidationError, ServerError, TaskNotFound)

# --- small readers -----------------------------------------------------------------


def header(headers: Optional[Mapping[str, Any]], name: str) -> Optional[str]:
    """Case-insensitive header lookup on a plain dict or a requests CaseInsensitiveDict."""
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        low = name.lower()
        for key, val in headers.items():
            if str(key).lower() == low:
                value = val
                break
    return None if value is None else str(value)


def load_json(body: Any) -> Any:
    """Decode a reply body leniently (error envelopes): None when empty or not strict JSON."""
    if body is None:
        return None
    if isinstance(body, (dict, list)):
        return body
    try:
        return safejson.loads(body)
    except BadReply:
        return None


def body_text(body: Any, limit: int = 200) -> str:
    if isinstance(body, (bytes, bytearray)):
        body = bytes(body).decode("utf-8", errors="replace")
    return str(body or "").strip()[:limit]


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def unchanged(known: Any, task_id: Any, item: dict) -> Any:
    """The Task in `known` (task id -> the Task last read) when `item` is exactly what it
    was read from: a batch read of hundreds of waiting tasks then parses only the ones
    that moved."""
    old = known.get(task_id) if known and isinstance(task_id, str) else None
    return old if old is not None and old.raw == item else None


def to_int(value: Any) -> Optional[int]:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return int(number) if math.isfinite(number) else None
    return None


def to_str(value: Any) -> Optional[str]:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value)
    return text or None


def to_ts(value: Any) -> Optional[float]:
    """Unix seconds as float from seconds, milliseconds, numeric strings or ISO-8601."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return parsed.timestamp()
    else:
        return None
    if not math.isfinite(number):
        return None
    if number > 1e12:  # milliseconds
        number /= 1000.0
    return number if number > 0 else None


# --- status words (§6.4) -------------------------------------------------------------


def map_status(word: Any) -> tuple[str, Optional[str]]:
    """(normalized status, unknown word or None). Unknown words count as running."""
    status = catalog.normalize_status(word)
    if status is not None:
        return status, None
    return "running", ("<missing>" if word is None else str(word))


def error_obj(value: Any) -> Optional[dict[str, str]]:
    """A failure reason as {code, message}; a bare string becomes the message."""
    if value is None or value == "" or value == {}:
        return None
    if isinstance(value, dict):
        return {"code": str(value.get("code") or ""),
                "message": str(value.get("message") or value.get("msg") or "")}
    return {"code": "", "message": str(value)}


# --- URL expiry (§8 Results) ---------------------------------------------------------


def url_expiry(url: Optional[str]) -> Optional[float]:
    """X-Tos-Date + X-Tos-Expires from a signed URL's query, or None if either is missing."""
    if not url or not isinstance(url, str):
        return None
    try:
        query = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    except ValueError:
        return None
    date, expires = query.get("x-tos-date"), query.get("x-tos-expires")
    if not date or not expires:
        return None
    try:
        start = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        if len(expires) > 12:
            return None  # not a lifetime in seconds; float() of a huge one overflows
        return start.timestamp() + float(int(expires))
    except (ValueError, OverflowError):
        return None


def expiry_for(status: str, video_url: Optional[str], success_time: Optional[float]) -> Optional[float]:
    """When the result URLs stop working; None lets the job manager use first sight + 24 h."""
    signed = url_expiry(video_url)
    if signed is not None:
        return signed
    if status == "succeeded" and success_time is not None:
        return success_time + catalog.URL_LIFETIME_S
    return None


# --- request encoding ------------------------------------------------------------------

_FORMAT_ALIASES = {"jpg": "jpeg", "tif": "tiff"}


def image_format(image: Any) -> str:
    fmt = (image.format or "").lower()
    fmt = _FORMAT_ALIASES.get(fmt, fmt)
    if not fmt:
        raise SeedanceValidationError([f"image {image.source!r}: format not detected"])
    return fmt


def image_url(image: Any) -> str:
    """Local and data-URL images as a data URL; remote URLs unchanged."""
    if image.data is None:
        return image.source
    encoded = base64.b64encode(image.data).decode("ascii")
    return f"data:image/{image_format(image)};base64,{encoded}"


def check_json_size(body: Any) -> None:
    size = len(json.dumps(body).encode("utf-8"))
    if size > catalog.MAX_BODY_BYTES:
        raise SeedanceValidationError([_too_big(size)])


def _too_big(size: int) -> str:
    limit = catalog.MAX_BODY_BYTES // (1024 * 1024)
    return (f"request body is {size / (1024 * 1024):.1f} MB after encoding; the limit is "
            f"{limit} MB: use smaller images or http(s) URLs")


def client_request_id() -> dict[str, str]:
    return {"X-Client-Request-Id": str(uuid.uuid4())}


# --- error envelopes (§7) ---------------------------------------------------------------

_RID_PATTERNS = (re.compile(r"Request id:\s*([A-Za-z0-9_.\-]+)"),
                 re.compile(r"\(request id:\s*([^)\s]+)\)", re.IGNORECASE))

_AUTH_CODES = frozenset({"AccessDenied", "OperationDenied.ServiceNotOpen", "AuthenticationError",
                         "InvalidAccountStatus", "token_mismatched", "token_expired", "no_token",
                         "disabled", "invalid_token"})
_QUOTA_CODES = frozenset({"used_up", "AccountOverdueError", "OperationDenied.ServiceOverdue"})
_NOT_FOUND_CODES = frozenset({"task_not_exist", "not_found", "NotFound.TaskId"})


def retry_after(headers: Optional[Mapping[str, Any]], now: Optional[float] = None) -> Optional[float]:
    """Seconds to wait: retry-after-ms if present, else Retry-After as seconds or HTTP date."""
    millis = header(headers, "retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = header(headers, "Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _envelope(payload: Any) -> tuple[str, str, str]:
    """(code, message, trace_id) from any of the three envelopes of §7.1."""
    if not isinstance(payload, dict):
        return "", "", ""
    trace = to_str(payload.get("trace_id")) or ""
    err = payload.get("error")
    if isinstance(err, dict):
        code = to_str(err.get("code")) or ""
        message = to_str(err.get("message")) or to_str(payload.get("message")) or ""
    elif isinstance(err, str) and err:
        code, message = "", err
    else:
        code = to_str(payload.get("code")) or ""
        message = to_str(payload.get("message")) or to_str(payload.get("detail")) or ""
    if not message and isinstance(payload.get("message"), str):
        message = payload["message"]
    return code, message, trace


def request_id(headers: Optional[Mapping[str, Any]], message: str, trace_id: str) -> str:
    rid = header(headers, "X-Request-Id")
    if rid:
        return rid
    for pattern in _RID_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return trace_id


def build_error(provider: str, dialect: str, status: int, headers: Optional[Mapping[str, Any]],
                body: Any) -> SeedanceAPIError:
    """The §7.3 exception for an HTTP error reply in `dialect`'s envelope."""
    payload = load_json(body)
    code, message, trace = _envelope(payload)
    if payload is None or not isinstance(payload, dict):
        message = body_text(body) or f"empty reply to HTTP {status}"
    elif not message:
        message = body_text(body)
    top_message = to_str(payload.get("message")) if isinstance(payload, dict) else None
    rid = request_id(headers, message, trace)
    kw = dict(provider=provider, http_status=status, code=code, request_id=rid)
    comet = dialect in ("comet", "comet-volc")

    # A code the gateway names beats what its HTTP status suggests.
    if "SensitiveContentDetected" in code:
        return ModerationError(message, **kw)
    if code in _QUOTA_CODES:
        return QuotaError(message, **kw)
    if code in _AUTH_CODES:
        return AuthError(message, **kw)
    if code in _NOT_FOUND_CODES or "task_not_exist" in message \
            or "task_not_exist" in (top_message or ""):
        return TaskNotFound(message, **kw)
    if status == 402:
        return QuotaError(message, **kw)
    if status == 401:
        return AuthError(message, **kw)
    if status == 403 and dialect == "acedata":
        return ModerationError(message, **kw)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after(headers), **kw)
    if status == 404 and not _is_model_error(code):
        return TaskNotFound(message, **kw)
    if comet and status == 500 and code == "invalid_request":
        return SeedanceAPIError(message, retryable=False, **kw)
    if status >= 500:
        return ServerError(message, **kw)
    return SeedanceAPIError(message, retryable=status in catalog.RETRY_STATUSES, **kw)


def _is_model_error(code: str) -> bool:
    # An unknown or closed model is a 404 on Ark creates; it is not a missing task.
    return code.startswith(("InvalidEndpointOrModel", "ModelNotOpen"))


def ensure_ok(dialect: Any, status: int, headers: Any, body: Any) -> Any:
    """The decoded JSON of a 2xx reply; raise the dialect's error for anything else."""
    if status >= 300:
        raise dialect.parse_error(status, headers, body)
    if isinstance(body, (dict, list)):
        return body
    # The one strict decoder: NaN, infinities, >64-bit integers and non-JSON are BadReply.
    return safejson.loads(body if body is not None else b"", provider=dialect.provider,
                          http_status=status)


def parse_reply(parse: Callable[..., Any], status: int, headers: Any, body: Any, *,
                provider: str = "") -> Any:
    """`parse(status, headers, body)` with any stray parsing error turned into BadReply.

    The dialects refuse what they recognise as wrong with SeedanceAPIError; a shape
    nobody foresaw (a list where an object belongs, `items: true`) would otherwise
    escape as TypeError and stop the caller's loop. Code: `BadShape`.
    """
    try:
        return parse(status, headers, body)
    except SeedanceAPIError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
            RecursionError) as exc:
        raise BadReply(f"unreadable reply: its shape is not what {provider or 'the dialect'} "
                       f"sends ({type(exc).__name__}: {exc})"[:300], code="BadShape",
                       provider=provider, http_status=status,
                       snippet=safejson.snippet(body)) from None


def ensure_task_obj(dialect: Any, status: int, body: Any, payload: Any, *keys: str) -> dict:
    """Refuse a 2xx reply that is not a task object (no id): never invent a task."""
    if isinstance(payload, dict) and any(payload.get(k) not in (None, "") for k in keys):
        return payload
    raise SeedanceAPIError(f"reply is not a task: {body_text(body) or '(empty)'}",
                           provider=dialect.provider, http_status=status)
