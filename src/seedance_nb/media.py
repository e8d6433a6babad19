"""Safe result downloads (reference §8 "Results" and "Bounds").

A download streams into a temporary file beside the destination, hashing as it
goes, checks the length and the file's signature (a video must be a video),
then links the file into place without ever replacing an existing one.
Signed-URL query strings never reach messages or logs.

Bounds: a transfer with no byte for `stall_s` (60 s) is cut; at most 4 GiB and
never more than a `Content-Length` announces (a larger announcement is refused
before reading). URLs: https anywhere except this machine; http (and https) to
loopback only with `allow_http_loopback=True`, which the caller sets when the
gateway itself is on loopback (the emulator): a remote gateway handing out
`http://127.0.0.1:…` is refused. Every redirect hop passes the same check.

File names, signatures, sha256, the stale `.part` sweep and placing the finished
file are in files.py; the URL rules and `DownloadError` in media_urls.py; the body's
part file, writer and length checks in media_body.py.
"""
from __future__ import annotations

import logging
import os
import random
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urljoin, urlsplit

import requests

from . import catalog, http_send
from .files import _HOST_TAG, _SWEPT  # noqa: F401 (tests reach them here)
from .files import STALE_PART_S, file_sha256, output_name, sweep_stale_parts  # noqa: F401
from .files import drop_part, looks_like, open_part, place
# The body's part file, writer and length checks; SMALL_FILE_BYTES stays importable here.
from .media_body import (SMALL_FILE_BYTES, _Cut, _is_timeout, _Partial,  # noqa: F401
                         _stream, _too_large)
from .providers._common import retry_after
# What a download may fetch and how it fails; the names stay importable from here.
from .media_urls import (Downloaded, DownloadError, _is_loopback,  # noqa: F401
                         check_url, is_loopback_url, redact_url)

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_STATUS_BASE_S = 1.0       # HTTP 408/429/5xx: min(30, 2^n) s x uniform(0.5, 1), as for reads
_TRANSPORT_BASE_S = 0.25   # cut or reset transfers: retry soon, the bytes so far are kept


def download(url: str, dest: str | os.PathLike, *, session: requests.Session | None = None,
             expires_at: float | None = None, attempts: int = 4, chunk_size: int = 1 << 20,
             allow_http_loopback: bool = False, expect: str = "auto",
             stall_s: float = catalog.DOWNLOAD_STALL_S,
             max_bytes: int = catalog.MAX_DOWNLOAD_BYTES,
             sleep: Callable[[float], None] = time.sleep) -> Downloaded:
    """Stream `url` to `dest` and return where it landed, its sha256 and size.

    Never overwrites: an identical existing file is reused; a different one is left
    alone and the download is saved as `<stem>-2<suffix>` (or the next free name).
    Nothing is written outside `dest`'s folder. `expect` is "video", "image",
    "any" or "auto" (from `dest`'s suffix: .png/.jpg/.webp are images, anything
    else a video); a file of the wrong kind raises DownloadError(code="NotAVideo"
    or "NotAnImage") and is not kept. `allow_http_loopback`: see `check_url`.
    """
    check_url(url, allow_http_loopback=allow_http_loopback)
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    dest = Path(dest)
    kind = _expected_kind(dest, expect)
    if dest.name in ("", ".", "..") or dest.is_dir():
        raise DownloadError(f"download destination {dest} is a folder, not a file name",
                            url_redacted=redact_url(url), code="WriteFailed")
    try:
        fd, tmp = open_part(dest)
    except FileNotFoundError:  # the folder is new (asked only then: two calls fewer a file)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = open_part(dest)
    own_session = session is None
    if session is None:
        from .http_rules import env_ca_bundle

        session = requests.Session()
        session.verify = env_ca_bundle() or True  # what requests reads from the environment
    rules = _Rules(allow_http_loopback, stall_s, max_bytes, sleep)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, size, head = _fetch(url, out, session, expires_at, attempts, chunk_size,
                                        rules)
        shown = redact_url(url)
        _check_kind(kind, head, size, shown)
        # No fsync: a file damaged by a crash fails the sha256 check the job manager
        # makes before reusing it, and is then fetched again.
        path, reused = place(tmp, dest, digest, size)
    finally:
        drop_part(tmp)
        if own_session:
            session.close()
    log.info("downloaded %s to %s (%d bytes%s)", shown, path, size,
             ", identical file already there" if reused else "")
    return Downloaded(path=path, sha256=digest, size=size, reused=reused)


@dataclass(frozen=True)
class _Rules:
    allow_http_loopback: bool
    stall_s: float
    max_bytes: int
    sleep: Callable[[float], None]


# --- what a file must look like ------------------------------------------------------------

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def _expected_kind(dest: Path, expect: str) -> str:
    if expect not in ("auto", "video", "image", "any"):
        raise ValueError(f"expect must be 'auto', 'video', 'image' or 'any', got {expect!r}")
    if expect != "auto":
        return expect
    return "image" if dest.suffix.lower() in _IMAGE_SUFFIXES else "video"


def _check_kind(kind: str, head: bytes, size: int, shown: str) -> None:
    if kind == "any":
        return
    found = looks_like(head)
    if kind == "video" and found in ("mp4", "webm"):
        return
    if kind == "image" and found in ("png", "jpeg", "webp"):
        return
    what = {"mp4": "an MP4", "webm": "a WebM", "png": "a PNG image", "jpeg": "a JPEG image",
            "webp": "a WebP image"}.get(found or "", "")
    if not what:
        text = head.lstrip()[:9].lower()
        what = "empty" if size == 0 else "an HTML page" if text.startswith(
            (b"<!doctype", b"<html")) else f"unrecognized bytes {head[:8].hex(' ')}"
    code = "NotAVideo" if kind == "video" else "NotAnImage"
    raise DownloadError(f"{code}: the file at {shown} is {what} ({size} bytes), not "
                        f"{'a video (MP4/MOV or WebM)' if kind == 'video' else 'an image'}; "
                        "it was not kept", url_redacted=shown, code=code)


def _fetch(url, out, session, expires_at, attempts, chunk_size,
           rules: _Rules) -> tuple[str, int, bytes]:
    shown = redact_url(url)
    part = _Partial(out)
    problem, base, hint, code = "", _TRANSPORT_BASE_S, None, "Failed"
    timeout = (catalog.CONNECT_TIMEOUT_S, rules.stall_s)  # per read: "no byte for stall_s"
    for attempt in range(attempts):
        if attempt:
            log.info("download of %s: %s; attempt %d of %d", shown, problem, attempt + 1, attempts)
            _sleep(attempt - 1, base, hint, rules.sleep)
        # Authorization=None drops any session-wide API key: file hosts never see it.
        headers = {"Accept-Encoding": "identity", "Authorization": None}
        if part.got:
            headers["Range"] = f"bytes={part.got}-"
            if part.validator:
                headers["If-Range"] = part.validator
        try:
            resp = _get(session, url, headers, timeout, rules.allow_http_loopback)
        except requests.RequestException as exc:
            problem, base, hint = f"connection failed ({_why(exc, rules)})", _TRANSPORT_BASE_S, None
            code = "Stalled" if _is_timeout(exc) else "Failed"
            continue
        with resp:
            status = resp.status_code
            if status in catalog.RETRY_STATUSES:
                problem, base, hint = f"HTTP {status}", _STATUS_BASE_S, retry_after(resp.headers)
                code = "Failed"
                if hint is not None and hint > catalog.RETRY_AFTER_CAP_S:  # next poll tries again
                    problem += f" (the server asks to wait {hint:.0f} s)"
                    break
                if resp.headers.get("x-should-retry", "").lower() == "false":
                    break
                continue
            if status in (403, 404, 410) and expires_at is not None and time.time() >= expires_at:
                when = datetime.fromtimestamp(expires_at, timezone.utc).strftime(
                    "%Y-%m-%d %H:%M:%S")
                raise DownloadError(
                    f"URL expired: the signed URL expired on {when} UTC and the file is gone "
                    f"from the gateway (HTTP {status} for {shown})",
                    url_redacted=shown, http_status=status, expired=True)
            if status == 416 and part.got and part.got == part.total:
                return part.hasher.hexdigest(), part.got, part.head  # all there already
            if status == 200:
                part.restart()  # first try, or the server ignored the range / the file changed
                part.total = _expected_total(resp, 0)
            elif status == 206 and part.got and _range_start(resp) == part.got:
                total = _expected_total(resp, part.got)
                if part.total is not None and total is not None and total != part.total:
                    part.restart()
                    problem, base, hint = "the file changed during the download", 0.0, None
                    continue
            else:
                reason = f" {resp.reason}" if resp.reason else ""
                if status in (403, 404) and expires_at is None:
                    reason += " (a signed URL may have expired, or the file was deleted)"
                raise DownloadError(f"download of {shown} failed: HTTP {status}{reason}",
                                    url_redacted=shown, http_status=status, code="HTTPError")
            if part.total is not None and part.total > rules.max_bytes:
                raise _too_large(shown, rules.max_bytes, f"it announces {part.total} bytes")
            part.validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            try:
                _stream(resp, part, chunk_size, shown, rules)
            except _Cut as exc:
                problem, base, hint = str(exc), _TRANSPORT_BASE_S, None
                code = "Stalled" if exc.stalled else "Failed"
                continue
            return part.hasher.hexdigest(), part.got, part.head
    raise DownloadError(
        f"download of {shown} failed after {attempt + 1} attempt{'s' if attempt else ''}: "
        f"{problem}",
        url_redacted=shown, http_status=_status_of(problem), code=code)


def _why(exc: BaseException, rules: _Rules) -> str:
    if _is_timeout(exc):
        return f"no byte for {rules.stall_s:g} s"
    return type(exc).__name__


def _proxies(session: requests.Session, url: str) -> dict:
    """The environment's proxies for this URL's host (when the session reads the
    environment, as requests' default does, or has none of its own set), looked up
    once per host and kept on the session; else the session's own."""
    own = dict(session.proxies or {})
    if own and not session.trust_env:
        return own
    from .http_rules import env_proxies

    cache = session.__dict__.setdefault("_seedance_proxies", {})
    parts = urlsplit(url)
    key = (parts.scheme, parts.netloc)
    if key not in cache:
        if len(cache) > 256:
            cache.clear()
        cache[key] = env_proxies(url)
    return {**cache[key], **own}


def _get(session: requests.Session, url: str, headers: dict, timeout,
         allow_http_loopback: bool) -> requests.Response:
    """GET following redirects by hand, so every hop passes the URL check."""
    for _ in range(MAX_REDIRECTS + 1):
        resp = http_send.send(session, "GET", url, headers=headers, timeout=timeout,
                              proxies=_proxies(session, url))
        if not resp.is_redirect:
            return resp
        target = urljoin(url, resp.headers["Location"])
        resp.close()
        check_url(target, allow_http_loopback=allow_http_loopback)
        url = target
    raise DownloadError(f"too many redirects for {redact_url(url)}", url_redacted=redact_url(url),
                        code="URLRefused")


def _expected_total(resp: requests.Response, got: int) -> int | None:
    if resp.headers.get("Content-Encoding", "identity").lower() not in ("identity", ""):
        return None  # length is of the encoded body; cannot compare
    if resp.status_code == 206:
        m = re.match(r"bytes \d+-\d+/(\d+)$", resp.headers.get("Content-Range", "").strip())
        if m:
            return int(m.group(1))
    length = resp.headers.get("Content-Length", "")
    return got + int(length) if length.isdigit() else None


def _range_start(resp: requests.Response) -> int | None:
    m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", "").strip())
    return int(m.group(1)) if m else None


def _sleep(attempt: int, base: float, retry_after: float | None = None,
           sleep: Callable[[float], None] = time.sleep) -> None:
    delay = min(30.0, base * 2 ** attempt) * random.uniform(0.5, 1.0)
    sleep(max(delay, retry_after or 0.0))


def _status_of(problem: str) -> int | None:
    m = re.match(r"HTTP (\d{3})", problem)
    return int(m.group(1)) if m else None
