"""The transport's rules (reference §8), apart from the transport: how long to wait
before a read or create retry, whether a failed request sent anything (only then may a
create be retried), and what the environment sets for a URL (proxies, CA bundle), read
once per transport or file host.
"""
from __future__ import annotations

import random
from typing import Optional

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from . import catalog

READ_ATTEMPTS = 5
CREATE_RETRIES = 3


def read_delay(attempt: int, retry_after: Optional[float] = None) -> float:
    """Wait before read retry number `attempt` (0-based), per §8."""
    computed = min(30.0, 2.0 ** attempt) * random.uniform(0.5, 1.0)
    return max(computed, retry_after or 0.0)


def create_delay(attempt: int, retry_after: Optional[float] = None) -> float:
    """Wait before create retry number `attempt` (0-based): Retry-After (capped), else 2/4/8 s."""
    if retry_after is not None:
        return min(retry_after, catalog.RETRY_AFTER_CAP_S)
    return 2.0 ** (attempt + 1) * random.uniform(0.8, 1.2)


def nothing_sent(exc: BaseException) -> bool:
    """True when a request failed before any byte of it left the machine."""
    if isinstance(exc, (requests.exceptions.ConnectTimeout, requests.exceptions.SSLError)):
        return True
    seen: set[int] = set()
    cur: Optional[BaseException] = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, (NewConnectionError, ConnectTimeoutError)):
            return True
        reason = getattr(cur, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        cur = nxt or cur.__cause__ or cur.__context__
    return False


def env_proxies(url: str) -> dict[str, str]:
    """The proxies the environment sets for `url` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY,
    NO_PROXY), as requests would pick them; none for this machine (localhost, 127/8, ::1)."""
    from urllib.parse import urlsplit

    from requests.utils import get_environ_proxies

    from .client import is_loopback

    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not host or is_loopback(host):
        return {}
    return {k: v for k, v in get_environ_proxies(url).items() if k != "no"}


def env_ca_bundle() -> Optional[str]:
    """REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, which requests reads when trust_env is on."""
    import os

    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
