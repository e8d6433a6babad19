"""Bounded replies (reference §8 Bounds): every reply the transport gets is read here.

A total deadline per reply (headers and body, counted from when the request has
been sent; a watchdog thread shuts the socket when it passes), a 16 MiB cap on
the body after decompression with the decompressor itself capped, and a
`Content-Length` over the cap refused before reading. What a read raises for a
bad reply:

- deadline passed: `BadReply(code="ReplyTimeout", retryable=True)`;
- body over the cap: `BadReply(code="ReplyTooLarge")`;
- unsupported or corrupt Content-Encoding: `BadReply(code="BadEncoding")`;
- body shorter than its Content-Length, or cut:
  `requests.exceptions.ChunkedEncodingError` (a transport error).

`BoundedAdapter` makes the connections start the deadline once a request is
sent; the transport sets `current.watch` for the call in flight.
"""
from __future__ import annotations

import http.client
import socket
import threading
import time
import zlib
from typing import Any, Callable, Optional

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import BadReply
from .safejson import snippet

READ_BLOCK = 64 * 1024


class Watch:
    """One reply being waited for: its deadline and the connection carrying it."""

    __slots__ = ("seconds", "deadline", "conn", "fired")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline: Optional[float] = None  # set once the request has been sent
        self.conn: Any = None
        self.fired = False


class _Watchdog:
    """A daemon thread that shuts the socket of any reply past its deadline.

    A per-read socket timeout cannot bound a reply trickling one byte at a time
    (every recv succeeds); shutting the socket from outside wakes the blocked
    read in `requests`/`http.client`, headers included.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: set[Watch] = set()
        self._thread: Optional[threading.Thread] = None
        self._wake_at: Optional[float] = None  # when the thread wakes next (None: on notify)

    def start(self, watch: Watch, conn: Any) -> None:
        with self._cond:
            watch.conn = conn
            watch.deadline = time.monotonic() + watch.seconds
            self._armed.add(watch)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="seedance-reply-deadline")
                self._thread.start()
            # Wake the thread only if this deadline comes before its next wake: every
            # reply has the same deadline length, so nearly every call skips the wake-up
            # (a thread switch per HTTP call was ~7 % of the client's CPU in a sweep).
            if self._wake_at is None or watch.deadline < self._wake_at:
                self._cond.notify()

    def stop(self, watch: Watch) -> None:
        with self._cond:
            self._armed.discard(watch)
            watch.conn = None

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                due = [w for w in self._armed if w.deadline is not None and w.deadline <= now]
                for watch in due:
                    self._armed.discard(watch)
                    watch.fired = True
                    _shut(watch.conn)
                    watch.conn = None
                nxt = min((w.deadline for w in self._armed if w.deadline), default=None)
                self._wake_at = None if nxt is None else nxt + 0.005
                self._cond.wait(None if nxt is None else max(0.0, nxt - now) + 0.005)


def _shut(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


WATCHDOG = _Watchdog()
current = threading.local()  # .watch: the Watch of this thread's call in flight


class _DeadlineMixin:
    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        # Called once the request has been sent: the reply's deadline starts here, so a
        # slow upload of a large create is bounded by the write timeout, not the deadline.
        watch = getattr(current, "watch", None)
        if watch is not None and watch.deadline is None:
            WATCHDOG.start(watch, self)
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _Conn(_DeadlineMixin, HTTPConnection):
    pass


class _TLSConn(_DeadlineMixin, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Conn


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConn


_POOLS = {"http": _Pool, "https": _TLSPool}


class BoundedAdapter(HTTPAdapter):
    """HTTPAdapter whose connections start the reply deadline when a request is sent."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


class _Decoder:
    """Content-Encoding undone with a cap on the output, whatever the input ratio."""

    def __init__(self, encoding: str, limit: int, provider: str, status: int) -> None:
        self.limit, self.provider, self.status = limit, provider, status
        self.kind = encoding.strip().lower()
        if self.kind not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise BadReply(f"the reply uses Content-Encoding {encoding!r}, which was not asked for",
                           code="BadEncoding", provider=provider, http_status=status)
        self._z: Any = None
        if self.kind in ("gzip", "x-gzip"):
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, out: bytearray) -> None:
        if self.kind in ("", "identity"):
            out += data
        else:
            if self._z is None:  # deflate: zlib-wrapped, or raw as some servers send it
                wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and \
                    (data[0] << 8 | data[1]) % 31 == 0
                self._z = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
            try:
                self._inflate(data, out)
            except zlib.error as exc:
                raise BadReply(f"the reply's {self.kind} data is corrupt ({exc})",
                               code="BadEncoding", provider=self.provider,
                               http_status=self.status, snippet=snippet(bytes(out))) from None
        self.check(out)

    def _inflate(self, data: bytes, out: bytearray) -> None:
        while data:
            # max_length keeps each step small: a bomb never inflates past the cap.
            out += self._z.decompress(data, min(READ_BLOCK * 16, self.limit - len(out) + 1))
            self.check(out)
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data and self.kind != "deflate":
                data = self._z.unused_data  # another gzip member
                self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def check(self, out: bytearray) -> None:
        if len(out) > self.limit:
            raise too_large(self.limit, self.provider, self.status, bytes(out[:SNIPPET_BYTES]))


SNIPPET_BYTES = 800


def too_large(limit: int, provider: str, status: int, head: bytes = b"") -> BadReply:
    return BadReply(f"the reply is larger than the {limit / (1 << 20):g} MiB the client accepts",
                    code="ReplyTooLarge", provider=provider, http_status=status,
                    snippet=snippet(head))


def read_body(resp: requests.Response, *, limit: int, deadline: Callable[[], float],
              provider: str = "") -> bytes:
    """The whole body of a streamed reply, bounded in size and time.

    `deadline()` gives the monotonic time the reply must be complete by. Raises
    BadReply (ReplyTooLarge, ReplyTimeout, BadEncoding) or, for a body cut short,
    `requests.exceptions.ChunkedEncodingError` (a transport error).
    """
    status = resp.status_code
    length_text = (resp.headers.get("Content-Length") or "").strip()
    length = int(length_text) if length_text.isdigit() else None
    if length is not None and length > limit:
        raise too_large(limit, provider, status)  # refused before reading a byte
    decoder = _Decoder(resp.headers.get("Content-Encoding") or "", limit, provider, status)
    raw = resp.raw
    out = bytearray()
    got = 0
    try:
        while True:
            if time.monotonic() >= deadline():
                raise late(provider, status, out)
            # read1 returns after one socket read: the deadline is checked between bytes.
            chunk = raw.read1(READ_BLOCK, decode_content=False)
            if not chunk:
                break
            got += len(chunk)
            if got > limit:
                raise too_large(limit, provider, status, bytes(out[:SNIPPET_BYTES]))
            decoder.feed(chunk, out)
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError,
            requests.RequestException) as exc:
        if time.monotonic() >= deadline():
            raise late(provider, status, out) from None
        cut = f"got {got} of the {length} bytes announced" if length else f"after {got} bytes"
        raise requests.exceptions.ChunkedEncodingError(
            f"reply cut short: {cut} ({type(exc).__name__})") from None
    if time.monotonic() >= deadline():
        raise late(provider, status, out)  # the watchdog ended it: what came is not all
    if length is not None and got < length:
        raise requests.exceptions.ChunkedEncodingError(
            f"reply cut short: got {got} of the {length} bytes announced")
    return bytes(out)


def late(provider: str, status: Optional[int], out: bytearray = bytearray()) -> BadReply:
    return BadReply("the reply did not arrive within its deadline", code="ReplyTimeout",
                    provider=provider, http_status=status, retryable=True,
                    snippet=snippet(bytes(out[:SNIPPET_BYTES])))
