"""Result downloads: what they may fetch (reference §8 "Results") and how they fail.

https to another machine only; http or https to this machine only when the gateway
itself is here (the emulator), so a remote gateway can never point the client at it.
`media` re-exports every name here.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .errors import SeedanceError


@dataclass(frozen=True)
class Downloaded:
    path: Path
    sha256: str
    size: int
    reused: bool  # an identical file was already there; nothing new was written


class DownloadError(SeedanceError):
    """A file could not be downloaded. `.expired` is True for a signed URL past its time.

    `.code`: `URLExpired`, `URLRefused` (scheme/host rule, before any request or on a
    redirect), `HTTPError` (a status that is not retried), `TooLarge`, `Stalled`,
    `NotAVideo` / `NotAnImage` (the file is not what it should be; nothing is kept),
    `WriteFailed`, or `Failed` (retries used up on cuts, resets or busy servers).
    """

    def __init__(self, message: str, *, url_redacted: str = "", http_status: int | None = None,
                 expired: bool = False, code: str = "Failed") -> None:
        self.url_redacted = url_redacted
        self.http_status = http_status
        self.expired = expired
        self.code = "URLExpired" if expired else code
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


def check_url(url: str, *, allow_http_loopback: bool = False) -> None:
    """Refuse anything but https to another machine; loopback only when allowed.

    `allow_http_loopback` is for a gateway that is itself on loopback (the emulator):
    its files are on http://127.0.0.1. A remote gateway never gets to make the
    client fetch from this machine, over http or https.
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or not host:
        raise DownloadError(f"not a download URL: {shown}", url_redacted=shown,
                            code="URLRefused")
    local = _is_loopback(host)
    if local and parts.scheme in ("http", "https"):
        if allow_http_loopback:
            return
        raise DownloadError(
            f"refusing to download {shown}: a remote gateway may not point the client at "
            "this machine (localhost, 127.0.0.0/8, ::1)", url_redacted=shown, code="URLRefused")
    if parts.scheme == "https":
        return
    allowed = "https URLs, or http to this machine for a local gateway" \
        if allow_http_loopback else "https URLs"
    raise DownloadError(f"refusing to download {shown}: only {allowed} are allowed",
                        url_redacted=shown, code="URLRefused")


def is_loopback_url(url: str) -> bool:
    """True when `url` (a gateway's base URL) points at this machine."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and _is_loopback(host)


def _is_loopback(host: str) -> bool:
    """This machine: localhost, 127/8, ::1, and 0.0.0.0 or `::` (which reach it too)."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:  # forms the resolver also takes: 127.1, 2130706433, 0x7f.0.0.1
            ip = ipaddress.ip_address(socket.inet_aton(host))
        except (OSError, ValueError):
            return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return any(a is not None and (a.is_loopback or a.is_unspecified) for a in (ip, mapped))
