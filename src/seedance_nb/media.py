"""Safe result downloads (reference §8 "Results").

A download streams into a temporary file beside the destination, hashing as it
goes, checks the length, then links the file into place without ever replacing
an existing one. Signed-URL query strings never reach messages or logs.
"""
from __future__ import annotations

import hashlib
import http.client
import ipaddress
import logging
import os
import random
import re
import queue
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3

from . import catalog
from .errors import SeedanceError
from .providers._common import retry_after

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
_STATUS_BASE_S = 1.0       # HTTP 408/429/5xx: min(30, 2^n) s x uniform(0.5, 1), as for reads
_TRANSPORT_BASE_S = 0.25   # cut or reset transfers: retry soon, the bytes so far are kept


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str
    size: int
    reused: bool  # an identical file was already there; nothing new was written


class DownloadError(SeedanceError):
    """A file could not be downloaded. `.expired` is True for a signed URL past its time."""

    def __init__(self, message: str, *, url_redacted: str = "", http_status: int | None = None,
                 expired: bool = False) -> None:
        self.url_redacted = url_redacted
        self.http_status = http_status
        self.expired = expired
        super().__init__(message)


def redact_url(url: str) -> str:
    """The URL without credentials, query (signatures) or fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "<malformed URL>"
    query = "<redacted>" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def output_name(provider: str, task_id: str, kind: str = "video") -> str:
    """`<provider>-<id>.mp4` or `<provider>-<id>-last.png`, safe as a file name anywhere."""
    if kind not in ("video", "last_frame"):
        raise ValueError(f"kind must be 'video' or 'last_frame', got {kind!r}")
    stem = f"{_safe(provider)}-{_safe(task_id)}"
    return f"{stem}.mp4" if kind == "video" else f"{stem}-last.png"


def _safe(part: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)).strip("._") or "_"
    return text[:120]


def check_url(url: str) -> None:
    """Refuse anything but https, or http to this machine's loopback."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or not host:
        raise DownloadError(f"not a download URL: {redact_url(url)}", url_redacted=redact_url(url))
    if parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host)):
        return
    raise DownloadError(
        f"refusing to download {redact_url(url)}: only https URLs, or http to this machine "
        "(localhost, 127.0.0.0/8, ::1), are allowed", url_redacted=redact_url(url))


def _is_loopback(host: str) -> bool:
    host = host.rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def download(url: str, dest: str | os.PathLike, *, session: requests.Session | None = None,
             expires_at: float | None = None, attempts: int = 4, chunk_size: int = 1 << 20,
             timeout: tuple[float, float] = (10, 60)) -> Downloaded:
    """Stream `url` to `dest` and return where it landed, its sha256 and size.

    Never overwrites: an identical existing file is reused; a different one is left
    alone and the download is saved as `<stem>-2<suffix>` (or the next free name).
    """
    check_url(url)
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    dest = Path(dest)
    if dest.is_dir():
        raise DownloadError(f"download destination {dest} is a folder, not a file name",
                            url_redacted=redact_url(url))
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    own_session = session is None
    session = session or requests.Session()
    try:
        with os.fdopen(fd, "wb") as out:
            digest, size = _fetch(url, out, session, expires_at, attempts, chunk_size, timeout)
        # No fsync: a file damaged by a crash fails the sha256 check the job manager
        # makes before reusing it, and is then fetched again.
        path, reused = _place(tmp, dest, digest, size)
    finally:
        tmp.unlink(missing_ok=True)
        if own_session:
            session.close()
    log.info("downloaded %s to %s (%d bytes%s)", redact_url(url), path, size,
             ", identical file already there" if reused else "")
    return Downloaded(path=path, sha256=digest, size=size, reused=reused)


class _Cut(Exception):
    """The body ended early or the connection broke; retry, resuming if possible."""


class _Partial:
    """Bytes written and hashed so far, and what the server said the whole is."""

    def __init__(self, out) -> None:
        self.out = out
        self.restart()

    def restart(self) -> None:
        self.out.seek(0)
        self.out.truncate()
        self.hasher = hashlib.sha256()
        self.got = 0
        self.total: int | None = None
        self.validator: str | None = None  # ETag / Last-Modified: never splice two versions


def _fetch(url, out, session, expires_at, attempts, chunk_size, timeout) -> tuple[str, int]:
    shown = redact_url(url)
    part = _Partial(out)
    problem, base, hint = "", _TRANSPORT_BASE_S, None
    for attempt in range(attempts):
        if attempt:
            log.info("download of %s: %s; attempt %d of %d", shown, problem, attempt + 1, attempts)
            _sleep(attempt - 1, base, hint)
        # Authorization=None drops any session-wide API key: file hosts never see it.
        headers = {"Accept-Encoding": "identity", "Authorization": None}
        if part.got:
            headers["Range"] = f"bytes={part.got}-"
            if part.validator:
                headers["If-Range"] = part.validator
        try:
            resp = _get(session, url, headers, timeout)
        except requests.RequestException as exc:
            problem, base, hint = f"connection failed ({type(exc).__name__})", _TRANSPORT_BASE_S, None
            continue
        with resp:
            status = resp.status_code
            if status in catalog.RETRY_STATUSES:
                problem, base, hint = f"HTTP {status}", _STATUS_BASE_S, retry_after(resp.headers)
                if hint is not None and hint > catalog.RETRY_AFTER_CAP_S:  # the next poll tries again
                    problem += f" (the server asks to wait {hint:.0f} s)"
                    break
                if resp.headers.get("x-should-retry", "").lower() == "false":
                    break
                continue
            if status in (403, 404, 410) and expires_at is not None and time.time() >= expires_at:
                when = datetime.fromtimestamp(expires_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                raise DownloadError(
                    f"URL expired: the signed URL expired on {when} UTC and the file is gone "
                    f"from the gateway (HTTP {status} for {shown})",
                    url_redacted=shown, http_status=status, expired=True)
            if status == 416 and part.got and part.got == part.total:
                return part.hasher.hexdigest(), part.got  # it was all there already
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
                                    url_redacted=shown, http_status=status)
            part.validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            try:
                _stream(resp, part, chunk_size, shown)
            except _Cut as exc:
                problem, base, hint = str(exc), _TRANSPORT_BASE_S, None
                continue
            return part.hasher.hexdigest(), part.got
    raise DownloadError(
        f"download of {shown} failed after {attempt + 1} attempt{'s' if attempt else ''}: {problem}",
        url_redacted=shown, http_status=_status_of(problem))


class _Sink:
    """Writes and hashes chunks on two helper threads, overlapping with receiving.

    File writes and hashlib release the GIL, so receive, write and hash run side by
    side; bounded queues keep memory at a few chunks. `close` waits for both, so
    afterwards the file holds `part.got` bytes and the hash covers exactly them
    (what a resumed transfer continues from).
    """

    def __init__(self, part: _Partial, depth: int = 4) -> None:
        self.part = part
        self.error: OSError | None = None
        self.lanes = [self._lane(self._write, depth), self._lane(part.hasher.update, depth)]

    def _lane(self, step, depth: int) -> tuple[queue.Queue, threading.Thread]:
        lane: queue.Queue = queue.Queue(maxsize=depth)
        thread = threading.Thread(target=self._run, args=(lane, step), daemon=True,
                                  name="seedance-download-sink")
        thread.start()
        return lane, thread

    def _write(self, chunk: bytes) -> None:
        try:
            self.part.out.write(chunk)
        except OSError as exc:
            self.error = exc

    def _run(self, lane: queue.Queue, step) -> None:
        while (chunk := lane.get()) is not None:
            if self.error is None:  # after an error, only drain so the producer never blocks
                step(chunk)

    def put(self, chunk: bytes) -> None:
        for lane, _ in self.lanes:
            lane.put(chunk)

    def close(self, shown: str) -> None:
        for lane, thread in self.lanes:
            lane.put(None)
            thread.join()
        if self.error is not None:
            raise DownloadError(f"cannot write the download of {shown}: {self.error}",
                                url_redacted=shown) from None


def _stream(resp: requests.Response, part: _Partial, chunk_size: int, shown: str) -> None:
    """Append the body to the partial file; _Cut if it breaks off or has the wrong length."""
    if hasattr(resp.raw, "enforce_content_length"):
        # We check the length ourselves; urllib3's own check would drop the bytes
        # that did arrive before a cut, and they are worth resuming from.
        resp.raw.enforce_content_length = False
    sink = _Sink(part)
    try:
        for chunk in resp.iter_content(chunk_size):
            if sink.error is not None:
                break  # the disk refused; close() reports it
            sink.put(chunk)
            part.got += len(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError,
            http.client.HTTPException) as exc:
        sink.close(shown)
        raise _Cut(f"transfer broke after {part.got} bytes ({type(exc).__name__})") from None
    except BaseException:
        sink.close(shown)
        raise
    sink.close(shown)
    if part.total is not None and part.got < part.total:
        raise _Cut(f"transfer cut short: got {part.got} of {part.total} bytes")
    if part.total is not None and part.got > part.total:
        part.restart()
        raise _Cut(f"server sent more than the announced {part.total} bytes")


def _get(session: requests.Session, url: str, headers: dict, timeout) -> requests.Response:
    """GET following redirects by hand, so every hop passes the scheme check."""
    for _ in range(MAX_REDIRECTS + 1):
        resp = session.get(url, headers=headers, stream=True, timeout=timeout,
                           allow_redirects=False)
        if not resp.is_redirect:
            return resp
        target = urljoin(url, resp.headers["Location"])
        resp.close()
        check_url(target)
        url = target
    raise DownloadError(f"too many redirects for {redact_url(url)}", url_redacted=redact_url(url))


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


def _sleep(attempt: int, base: float, retry_after: float | None = None) -> None:
    delay = min(30.0, base * 2 ** attempt) * random.uniform(0.5, 1.0)
    time.sleep(max(delay, retry_after or 0.0))


def _status_of(problem: str) -> int | None:
    m = re.match(r"HTTP (\d{3})", problem)
    return int(m.group(1)) if m else None


# --- putting the file in place -------------------------------------------------------

def _place(tmp: Path, dest: Path, digest: str, size: int) -> tuple[Path, bool]:
    """Link tmp to dest or the next free `<stem>-N<suffix>`; reuse an identical file."""
    n = 1
    while True:
        target = dest if n == 1 else dest.with_name(f"{dest.stem}-{n}{dest.suffix}")
        if _link_new(tmp, target):
            return target, False
        if _same_file(target, digest, size):
            return target, True
        n += 1


def _link_new(tmp: Path, target: Path) -> bool:
    """Create target from tmp atomically; False if target already exists."""
    try:
        os.link(tmp, target)  # fails if target exists: never overwrites
        return True
    except FileExistsError:
        return False
    except OSError:
        pass  # no hard links on this file system
    try:
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return False
    os.close(fd)
    os.replace(tmp, target)  # replaces only our own empty placeholder
    return True


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _same_file(path: Path, digest: str, size: int) -> bool:
    try:
        return path.is_file() and path.stat().st_size == size and file_sha256(path) == digest
    except OSError:
        return False
