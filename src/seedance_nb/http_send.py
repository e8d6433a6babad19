"""One request straight to the session's adapter: `Session.request` minus what we never use.

`requests.Session.request` merges environment settings, cookies, hooks and auth on
every call and then walks redirects; none of that applies here (the environment is
read once per transport or file host, no gateway sets cookies, redirects are
followed by hand where they are allowed), and that merging was about a third of
the client's CPU per job in a large sweep (bench/sweep_scale.py). So the request
is prepared with requests' own pieces (URL quoting, JSON and multipart bodies,
Content-Length) and sent through the adapter mounted for the URL, which keeps
every adapter and test seam that `session.mount` provides.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import requote_uri

_NO_HOOKS: dict = {"response": []}
#: What `urlencode` leaves as it is (RFC 3986 unreserved): task ids, page numbers.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def _query(params: Iterable[tuple[str, Any]]) -> str:
    """`urlencode(params)`, without quoting each piece when none needs it (a batch
    read names up to 200 task ids; quoting them was ~2 % of a sweep's CPU)."""
    pairs = list(params)
    if all(type(k) is str and type(v) is str and _UNRESERVED(k) and _UNRESERVED(v)
           for k, v in pairs):
        return "&".join(f"{k}={v}" for k, v in pairs)
    return urlencode(pairs)


def send(session: requests.Session, method: str, url: str, *, headers: Optional[dict] = None,
         params: Iterable[tuple[str, Any]] = (), json: Any = None, files: Any = None,
         timeout: Any = None, proxies: Optional[dict] = None) -> requests.Response:
    """Send one request without following redirects; the body is left to stream.

    Headers are the session's with `headers` on top; a header set to None is left
    out (as requests does), so a per-call `Authorization: None` drops the key.
    Raises what the adapter raises (`requests.RequestException` subclasses).
    """
    prepared = requests.PreparedRequest()
    prepared.method = method.upper()
    if url.isascii() and url.isprintable() and " " not in url:
        query = _query(params)
        prepared.url = requote_uri(f"{url}{'&' if '?' in url else '?'}{query}" if query else url)
    else:  # a host to IDNA-encode, or a URL requests would refuse with InvalidURL
        prepared.prepare_url(url, list(params))
    merged = CaseInsensitiveDict(session.headers)
    merged.update(headers or {})
    for key in [k for k, v in merged.items() if v is None]:
        del merged[key]
    prepared.headers = merged
    prepared._cookies = None
    prepared.body = None
    prepared.prepare_body(None, files, json)
    prepared.hooks = _NO_HOOKS
    adapter = session.get_adapter(prepared.url)
    return adapter.send(prepared, stream=True, timeout=timeout, verify=session.verify,
                        cert=session.cert,
                        proxies=session.proxies if proxies is None else proxies)
