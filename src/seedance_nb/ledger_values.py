"""Values as the ledger stores them: a request without secrets or bytes (data URLs
become their sha256), a base URL without credentials, and the fields read from an
estimate or a polled task (an object or a dict).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping  # typing's alias is several times slower in isinstance
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

# Request keys that could hold a credential; dropped wherever they appear.
_SECRET_KEY = re.compile(
    r"^(api_?key|key|token|access_?token|auth|authorization|secret|password|bearer|headers)$"
    r"|_(key|token|secret|password)$", re.IGNORECASE)

_DATA_URL = re.compile(r"data:[\w.+-]+/[\w.+-]+(;[\w.+=-]+)*,", re.IGNORECASE)


def clean_url(url: Optional[str]) -> Optional[str]:
    """A base URL without userinfo, query or fragment (they may hold credentials)."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _data_url_digest(url: str, fmt: Optional[str], sha256: Optional[str]) -> str:
    """`data:<fmt>;sha256=<hex>` in place of a (large) base64 data URL."""
    head, _, payload = url.partition(",")
    if not fmt:
        mime = head[5:].split(";")[0]
        fmt = mime.split("/")[-1] if mime else "bin"
    if not sha256:
        try:
            raw = (base64.b64decode(payload, validate=False) if ";base64" in head
                   else payload.encode())
        except (binascii.Error, ValueError):
            raw = payload.encode()
        sha256 = hashlib.sha256(raw).hexdigest()
    return f"data:{fmt};sha256={sha256}"


def _scrub(value: Any) -> Any:
    """Recursively: drop secret-looking keys, bytes, and shrink data: URLs."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            key = str(key)
            if _SECRET_KEY.search(key) or isinstance(item, (bytes, bytearray, memoryview)):
                continue
            if key == "prompt":
                out[key] = item  # free text, never a data URL even if it looks like one
            elif key == "source" and isinstance(item, str) and _DATA_URL.match(item):
                out[key] = _data_url_digest(item, value.get("format"), value.get("sha256"))
            else:
                out[key] = _scrub(item)
        return out
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        if _DATA_URL.match(value):
            return _data_url_digest(value, None, None)
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def normalize_request(request: Any) -> dict[str, Any]:
    """The request as stored: `VideoRequest.to_dict()` (or a dict) minus secrets and bytes."""
    if hasattr(request, "to_dict"):
        request = request.to_dict()
    if not isinstance(request, Mapping):
        raise TypeError(f"request must be a dict or VideoRequest, not {type(request).__name__}")
    return _scrub(request)


def _estimate_values(estimate: Any) -> tuple[Optional[int], Optional[float], Optional[str]]:
    """(tokens, cost, currency) from an estimate object or dict; the upper bound of a range."""
    if estimate is None:
        return None, None, None

    def pick(*names: str) -> Any:
        for name in names:
            if isinstance(estimate, Mapping):
                if estimate.get(name) is not None:
                    return estimate[name]
            elif getattr(estimate, name, None) is not None:
                return getattr(estimate, name)
        return None

    tokens = pick("tokens", "tokens_max", "max_tokens", "total_tokens")
    if isinstance(tokens, (tuple, list)):
        tokens = tokens[-1] if tokens else None
    cost = pick("cost", "cost_max", "max_cost", "price")
    if isinstance(cost, (tuple, list)):
        cost = cost[-1] if cost else None
    currency = pick("currency") if cost is not None else None
    return (int(tokens) if tokens is not None else None,
            float(cost) if cost is not None else None,
            str(currency) if currency is not None else None)
