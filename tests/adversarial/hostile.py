"""A hostile gateway and a socket guard for adversarial tests. Not a conftest: import it.

From a test in tests/adversarial/: `from hostile import ...`; from a test in tests/:
`from adversarial.hostile import ...` (tests/ is on sys.path, adversarial/ is a
namespace package).

Socket guard (no packet leaves loopback, DNS included)::

    with socket_guard() as guard:          # or socket_guard({"api.example.test"})
        ...                                # any connect to a non-loopback address,
                                           # or name lookup other than localhost and the
                                           # mapped names, raises OSError and is recorded
    # leaving the block raises AssertionError if anything was attempted (even if the
    # code under test swallowed the OSError); guard.violations lists what.

`GATEWAY_HOST` ("gateway.example.test") and any name passed to `socket_guard`
resolve to 127.0.0.1 inside the guard, so a gateway can look remote to the client.

Hostile server (raw sockets, bound to 127.0.0.1 only, one request per connection)::

    with Hostile() as gw:
        gw.route("/api/v3/contents/generations/tasks/cgt-1", json_text('{"duration": NaN}'))
        gw.route("/v.mp4", sequence(rate_limited("1"), reply(200, fake_mp4())))
        gw.url            # "http://127.0.0.1:<port>"
        gw.remote_url     # "http://gateway.example.test:<port>" (use inside socket_guard)
        gw.hits("/v.mp4") # requests seen on that path; gw.seen: every Req
    An unrouted path answers 404. `gw.default = handler` changes that.

Handlers are callables `handler(conn, req)` that write raw bytes to the socket
(`req` has method, path, query, headers, body); a custom handler can answer with
`reply(...)(conn, req)`. The factories below build them:

- `reply(status, body, headers, length=True)`: an ordinary reply (Content-Length
  set unless `length=False` or given in `headers`).
- `json_text(text, status=200, headers=None)`: JSON text sent verbatim
  (`NaN`, `Infinity`, huge integers...).
- `trickle(body, interval, status=200, headers=None, head_too=False)`: the body one
  byte per `interval` s (headers too with `head_too`), Content-Length announced.
- `endless_chunked(piece, interval=0.0)`: a chunked body that never ends.
- `gzip_bomb(size=200 MiB)`: a ~200 KB gzip body inflating to `size` bytes (built
  in memory once per size), `Content-Encoding: gzip`.
- `lie_length(body, announced)`: announce `announced` bytes, send `body`, close.
- `stall(seconds)`: accept and say nothing for `seconds` (or until the server stops).
- `redirect(location, status=302)`, `rate_limited(retry_after="3", status=429)`.
- `sequence(*handlers)`: one handler per hit, the last repeats.
Payloads: `fake_mp4(size)`, `fake_webm(size)`, `fake_png(size)`, `HTML_PAGE`,
`random_bytes(n)`.
"""
from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

GATEWAY_HOST = "gateway.example.test"

Handler = Callable[[socket.socket, "Req"], None]


# --- socket guard ----------------------------------------------------------------------

def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    host = host.strip("[]").split("%")[0]
    if host.rstrip(".").lower() == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host).strip("[]").split("%")[0])
        return True
    except ValueError:
        return False


@dataclass
class Guard:
    names: frozenset
    violations: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _refuse(self, what: str) -> OSError:
        with self.lock:
            self.violations.append(what)
        return OSError(errno.ENETUNREACH, f"socket_guard: blocked {what}")


@contextlib.contextmanager
def socket_guard(names: Iterable[str] = (GATEWAY_HOST,)) -> Iterator[Guard]:
    """Block every non-loopback connect and name lookup; map `names` to 127.0.0.1."""
    guard = Guard(frozenset(n.lower().rstrip(".") for n in names))
    real_gai, real_connect = socket.getaddrinfo, socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_ghbn, real_ghbn_ex = socket.gethostbyname, socket.gethostbyname_ex

    def host_for(host: object) -> object:
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or _is_loopback(name) or (isinstance(name, str) and _is_ip(name)):
            return host  # no lookup leaves the machine for these
        if isinstance(name, str) and name.lower().rstrip(".") in guard.names:
            return "127.0.0.1"
        raise socket.gaierror(socket.EAI_NONAME,
                              str(guard._refuse(f"name lookup of {name!r}")))

    def getaddrinfo(host, *args, **kwargs):
        return real_gai(host_for(host), *args, **kwargs)

    def gethostbyname(host):
        return real_ghbn(host_for(host))

    def gethostbyname_ex(host):
        return real_ghbn_ex(host_for(host))

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else address
            if not _is_loopback(host):
                raise guard._refuse(f"connect to {address!r}")

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname, socket.gethostbyname_ex = gethostbyname, gethostbyname_ex
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
    try:
        yield guard
    finally:
        socket.getaddrinfo = real_gai
        socket.gethostbyname, socket.gethostbyname_ex = real_ghbn, real_ghbn_ex
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex
    if guard.violations:
        raise AssertionError(f"a test tried to leave loopback: {guard.violations}")


# --- payloads --------------------------------------------------------------------------

HTML_PAGE = b"<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"


def fake_mp4(size: int = 4096) -> bytes:
    """An ISO-BMFF head (`ftyp` at offset 4) padded to `size`: passes the signature check."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return (head + bytes(range(256)) * (size // 256 + 1))[:max(size, len(head))]


def fake_webm(size: int = 4096) -> bytes:
    head = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"
    return (head + b"\x00" * size)[:max(size, len(head))]


def fake_png(size: int = 256) -> bytes:
    head = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    return (head + b"\x00" * size)[:max(size, len(head))]


def random_bytes(n: int = 4096) -> bytes:
    while True:
        data = os.urandom(n)
        if data[4:8] != b"ftyp" and not data.startswith(b"\x1a\x45\xdf\xa3"):
            return data


_BOMBS: dict[int, bytes] = {}


def bomb_bytes(size: int = 200 << 20) -> bytes:
    """gzip of `size` zero bytes (200 MiB -> about 200 KB), built in memory, cached."""
    if size not in _BOMBS:
        comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = bytes(1 << 20)
        parts = [comp.compress(block) for _ in range(size >> 20)]
        parts.append(comp.compress(bytes(size & ((1 << 20) - 1))))
        parts.append(comp.flush())
        _BOMBS[size] = b"".join(parts)
    return _BOMBS[size]


# --- the server ------------------------------------------------------------------------

@dataclass
class Req:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes
    server: "Hostile"


_REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
            307: "Temporary Redirect", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _head(status: int, headers: dict) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(status: int = 200, body: bytes | str = b"", headers: Optional[dict] = None,
          *, length: bool = True) -> Handler:
    data = body.encode() if isinstance(body, str) else body
    hdrs = {"Connection": "close", **(headers or {})}
    if length and not any(k.lower() == "content-length" for k in hdrs):
        hdrs["Content-Length"] = str(len(data))

    def handler(conn: socket.socket, req: Req) -> None:
        conn.sendall(_head(status, hdrs) + data)
    return handler


def json_text(text: str, status: int = 200, headers: Optional[dict] = None) -> Handler:
    return reply(status, text, {"Content-Type": "application/json", **(headers or {})})


def trickle(body: bytes | str, interval: float = 0.5, status: int = 200,
            headers: Optional[dict] = None, head_too: bool = False) -> Handler:
    data = body.encode() if isinstance(body, str) else body
    hdrs = {"Connection": "close", "Content-Type": "application/json",
            "Content-Length": str(len(data)), **(headers or {})}

    def handler(conn: socket.socket, req: Req) -> None:
        head = _head(status, hdrs)
        if not head_too:
            conn.sendall(head)
            head = b""
        for i in range(len(head) + len(data)):
            byte = (head + data)[i:i + 1]
            conn.sendall(byte)
            if req.server.stopping.wait(interval):
                return
    return handler


def endless_chunked(piece: bytes = b"[" + b"0," * 4000, interval: float = 0.0) -> Handler:
    def handler(conn: socket.socket, req: Req) -> None:
        conn.sendall(_head(200, {"Content-Type": "application/json",
                                 "Transfer-Encoding": "chunked", "Connection": "close"}))
        chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        while not req.server.stopping.is_set():
            conn.sendall(chunk)
            if interval:
                time.sleep(interval)
    return handler


def gzip_bomb(size: int = 200 << 20, content_type: str = "application/json") -> Handler:
    def handler(conn: socket.socket, req: Req) -> None:
        data = bomb_bytes(size)
        conn.sendall(_head(200, {"Content-Type": content_type, "Content-Encoding": "gzip",
                                 "Content-Length": str(len(data)), "Connection": "close"}) + data)
    return handler


def lie_length(body: bytes | str, announced: int, status: int = 200,
               headers: Optional[dict] = None) -> Handler:
    return reply(status, body, {"Content-Length": str(announced), **(headers or {})})


def stall(seconds: float = 30.0) -> Handler:
    def handler(conn: socket.socket, req: Req) -> None:
        req.server.stopping.wait(seconds)
    return handler


def redirect(location: str, status: int = 302) -> Handler:
    return reply(status, b"", {"Location": location})


def rate_limited(retry_after: str = "3", status: int = 429, body: bytes | str = b"") -> Handler:
    text = body or '{"error": {"code": "RateLimitExceeded", "message": "slow down"}}'
    return reply(status, text, {"Retry-After": retry_after, "Content-Type": "application/json"})


def sequence(*handlers: Handler) -> Handler:
    queue = list(handlers)
    lock = threading.Lock()

    def handler(conn: socket.socket, req: Req) -> None:
        with lock:
            step = queue.pop(0) if len(queue) > 1 else queue[0]
        step(conn, req)
    return handler


class Sleeps(list):
    """An injected sleep for the transport: records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Hostile:
    """A scripted raw-socket HTTP server on 127.0.0.1 (see the module docstring)."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.default: Handler = reply(404, b"no such path")
        self.seen: list[Req] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.remote_url = f"http://{GATEWAY_HOST}:{self.port}"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, daemon=True, name="hostile-accept")
        self._accept.start()

    def route(self, path: str, handler: Handler) -> "Hostile":
        self.routes[path] = handler
        return self

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.seen if r.path == path)

    def __enter__(self) -> "Hostile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        self._accept.join(2)
        self._sock.close()
        for thread in self._threads:
            thread.join(2)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True,
                                      name="hostile-conn")
            self._threads.append(thread)
            thread.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            req = self._read(conn)
            if req is None:
                return
            with self._lock:
                self.seen.append(req)
            self.routes.get(req.path, self.default)(conn, req)
        except OSError:
            pass  # the client hung up: expected for most of these behaviours
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _read(self, conn: socket.socket) -> Optional[Req]:
        data = b""
        while b"\r\n\r\n" not in data:
            more = conn.recv(65536)
            if not more or len(data) > 1 << 20:
                return None
            data += more
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
        need = int(next((v for k, v in headers.items() if k.lower() == "content-length"), 0))
        while len(rest) < need:
            more = conn.recv(65536)
            if not more:
                break
            rest += more
        path, _, query = target.partition("?")
        return Req(method, path, query, headers, rest, self)


__all__ = ["GATEWAY_HOST", "Guard", "HTML_PAGE", "Hostile", "Req", "Sleeps", "bomb_bytes",
           "endless_chunked", "fake_mp4", "fake_png", "fake_webm", "gzip_bomb",
           "json_text", "lie_length", "random_bytes", "rate_limited", "redirect", "reply",
           "sequence", "socket_guard", "stall", "trickle"]
