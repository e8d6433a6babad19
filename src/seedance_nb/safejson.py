"""The one strict JSON decoder for gateway replies (reference §8 Bounds).

`json.loads` accepts `NaN`, `Infinity`, numbers like `1e400` (which become inf)
and integers of any size; any of them later breaks arithmetic or SQLite far
from the reply that caused it. Here they are refused at the door with a
`BadReply` naming the first 200 characters that arrived.
"""
from __future__ import annotations

import json
import math
from typing import Any

from .errors import BadReply, redact

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
SNIPPET = 200


class _Refused(ValueError):
    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(what)


def _constant(name: str) -> Any:
    raise _Refused(f"the number {name} is not allowed")


def _int(text: str) -> int:
    if len(text) < 19:  # at most 18 digits: always inside 64 bits (the usual case)
        return int(text)
    # Checked on the text first: int() of a huge literal is slow before it fails.
    if len(text.lstrip("-")) > 19:
        raise _Refused(f"integer {text[:30]} is outside 64 bits")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise _Refused(f"integer {text} is outside 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text[:30]} overflows")
    return value


def snippet(body: Any, limit: int = SNIPPET) -> str:
    if isinstance(body, (bytes, bytearray, memoryview)):
        body = bytes(body[: limit * 4]).decode("utf-8", errors="replace")
    return str(body if body is not None else "")[:limit]


def _bad(code: str, why: str, body: Any, **kw: Any) -> BadReply:
    # One line: "unreadable reply: <first 200 chars> (<why>)"; `.snippet` keeps the text.
    text = snippet(body)
    exc = BadReply(f"unreadable reply: {text or '(empty)'} ({why})", code=code, **kw)
    exc.snippet = redact(text)
    return exc


def loads(body: bytes | str, *, provider: str = "", http_status: int | None = None) -> Any:
    """Decode a reply body strictly; raise BadReply(code="BadJSON" | "BadNumber")."""
    kw: dict[str, Any] = dict(provider=provider, http_status=http_status)
    try:
        text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    except UnicodeDecodeError:
        raise _bad("BadJSON", "not UTF-8 text", body, **kw) from None
    if not isinstance(text, str) or not text.strip():
        raise _bad("BadJSON", "empty, expected JSON", body, **kw)
    try:
        return json.loads(text, parse_constant=_constant, parse_int=_int, parse_float=_float)
    except _Refused as exc:
        raise _bad("BadNumber", exc.what, body, **kw) from None
    except (ValueError, RecursionError) as exc:
        raise _bad("BadJSON", f"not valid JSON: {exc}"[:120], body, **kw) from None
