"""HTTP transport on requests + urllib3 (reference §8).

One `Transport` per `ClientSettings`: a pooled `requests.Session` carrying the
bearer key, our User-Agent and JSON content type. The retry rules differ by
kind of call, and urllib3's `Retry` cannot express them (it cannot take the
larger of Retry-After and the computed delay, give up on a long Retry-After,
or tell "nothing was sent" from "sent, reply lost" for a POST), so urllib3 is
told never to retry and the loops below apply §8 (the delays, and the test of
whether a failed request sent anything, are in http_rules.py):

- reads: 408/429/5xx/524 and transport errors, at most 5 attempts,
  `min(30, 2^n) * U(0.5, 1)`, Retry-After honoured (the larger wins), a
  Retry-After over 120 s or `x-should-retry: false` stops at once;
- creates and DELETE: only 429 (3 retries) and connections that failed before
  any byte was sent; anything lost after sending is `CreateOutcomeUnknown`.

Every reply is streamed and read by bounded.py (deadline, size cap, capped
decompression; see there for what a bad reply raises), never by `requests`.
The 2xx body is then decoded by `safejson` in the dialects. A reply past its
deadline (`BadReply` ReplyTimeout) is not retried inside `send` (a trickling
gateway would hold the caller 5 times); a body cut short is retried like a
reset (creates: `CreateOutcomeUnknown`). A create whose reply is any `BadReply`
raises `CreateOutcomeUnknown` with the same `code`.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any, Callable, Optional

import requests
from urllib3.util.retry import Retry

from . import __version__, catalog, http_send
from .bounded import READ_BLOCK, SNIPPET_BYTES, read_body, too_large  # noqa: F401 (re-exported)
from .bounded import WATCHDOG, BoundedAdapter, Watch, current, late
from .client import ClientSettings
from .http_rules import (CREATE_RETRIES, READ_ATTEMPTS, create_delay,  # noqa: F401
                         env_ca_bundle, env_proxies, nothing_sent, read_delay)
from .errors import (BadReply, CreateOutcomeUnknown, RateLimitError, SeedanceAPIError,
                     ServerError, redact, register_secret)
from .safejson import loads as strict_loads
from .providers._common import parse_reply, retry_after
from .providers.base import CreateResult, HttpCall

log = logging.getLogger("seedance_nb")

USER_AGENT = f"seedance-nb/{__version__}"
LARGE_BODY_BYTES = 1024 * 1024

Sleep = Callable[[float], None]


def _describe(exc: BaseException) -> str:
    kind = type(exc).__name__
    return redact(f"{kind}: {exc}")[:300]


class Transport:
    """Sends `HttpCall`s for one provider setting. Thread-safe for concurrent reads."""

    def __init__(self, settings: ClientSettings, dialect: Any = None,
                 *, sleep: Sleep = time.sleep,
                 reply_deadline: float = catalog.REPLY_DEADLINE_S,
                 max_reply_bytes: int = catalog.MAX_REPLY_BYTES) -> None:
        self.settings = settings
        register_secret(settings.api_key)
        if dialect is None:
            from .providers import get_dialect

            dialect = get_dialect(settings.provider, settings.emulate)
        self.dialect = dialect
        self.sleep = sleep
        self.reply_deadline = reply_deadline
        self.max_reply_bytes = max_reply_bytes
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self.session = requests.Session()
        # urllib3 must never retry on its own: every retry decision is made below.
        adapter = BoundedAdapter(pool_connections=4, pool_maxsize=8,
                                 max_retries=Retry(total=0, read=False, redirect=False))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({"Authorization": f"Bearer {settings.api_key}",
                                     "User-Agent": USER_AGENT, "Accept": "application/json",
                                     # only what bounded.py can undo with a cap (no br, zstd)
                                     "Accept-Encoding": "gzip, deflate"})
        # The environment is read once here, not on every request (requests does that
        # when trust_env is on); every call of this transport goes to the same host.
        self.session.trust_env = False
        self.session.proxies = env_proxies(settings.base_url)
        self.session.verify = env_ca_bundle() or True

    def __repr__(self) -> str:
        return f"Transport({self.settings!r})"

    def close(self) -> None:
        self.session.close()

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1
            self.counts["total"] += 1

    def _timeout(self, call: HttpCall, deadline: float) -> tuple[float, float]:
        # Past the deadline the watchdog ends the read; the socket timeout is only a backstop.
        read = min(catalog.READ_TIMEOUT_S, deadline + 1.0)
        if call.is_create and self._body_size(call) > LARGE_BODY_BYTES:
            # requests has no separate write timeout: the socket timeout covers sending too.
            read = catalog.WRITE_TIMEOUT_S
        if call.timeout is not None:
            read = call.timeout
        return (catalog.CONNECT_TIMEOUT_S, read)

    def _deadline(self, call: HttpCall, deadline: Optional[float]) -> float:
        """Seconds a reply may take once sent: the argument, else the call's own read
        timeout (a blocking acedata create waits that long), else `reply_deadline`."""
        if deadline is not None:
            return deadline
        return call.timeout if call.timeout is not None else self.reply_deadline

    @staticmethod
    def _body_size(call: HttpCall) -> int:
        size = sum(len(b) for (_, b, _) in (call.files or {}).values())
        if call.json is not None:
            size += len(str(call.json))
        return size

    def _once(self, call: HttpCall, kind: str, seconds: float) -> requests.Response:
        """One request; the reply is read here, bounded, into `resp.content`.

        Raises BadReply (ReplyTimeout; ReplyTooLarge or BadEncoding on a 2xx) or a
        `requests` exception for transport failures.
        """
        self._count(kind)
        headers = dict(call.headers or {})
        kw: dict[str, Any] = {}
        if call.files or call.fields:
            # Always multipart (§5.2), also without a file: text parts as (None, value).
            parts: list[tuple[str, Any]] = [(k, (None, str(v)))
                                            for k, v in (call.fields or {}).items()]
            parts += list((call.files or {}).items())
            kw["files"] = parts
        elif call.json is not None:
            kw["json"] = call.json  # requests sets Content-Type: application/json
        provider = self.settings.provider
        watch = Watch(seconds)
        current.watch = watch
        fallback: list[float] = []  # a deadline when no connection started one (foreign adapter)

        def deadline() -> float:
            if watch.deadline is not None:
                return watch.deadline
            if not fallback:
                fallback.append(time.monotonic() + seconds)
            return fallback[0]

        try:
            try:
                resp = http_send.send(self.session, call.method, self.url(call.path),
                                      params=call.params, headers=headers,
                                      timeout=self._timeout(call, seconds), **kw)
            except requests.RequestException:
                if watch.fired or (watch.deadline is not None
                                   and time.monotonic() >= watch.deadline):
                    raise late(provider, None) from None
                raise
            complete = False
            try:
                try:
                    body = read_body(resp, limit=self.max_reply_bytes, deadline=deadline,
                                     provider=provider)
                    complete = True
                except BadReply as exc:
                    if resp.status_code < 300 or exc.code == "ReplyTimeout":
                        raise
                    body = b""  # an error status stands on its own; its body was only detail
                resp._content = body
                resp._content_consumed = True
            finally:
                WATCHDOG.stop(watch)  # before the connection can go back to the pool
                if not complete:
                    resp.raw.close()  # unread bytes: this connection is never reused
                resp.close()  # releases a fully read connection
            # resp.json() decodes strictly too, like the dialects.
            resp.json = lambda **_: strict_loads(body, provider=provider,  # type: ignore
                                                 http_status=resp.status_code)
            return resp
        finally:
            current.watch = None
            WATCHDOG.stop(watch)

    def _error(self, resp: requests.Response, *, create: bool = False) -> SeedanceAPIError:
        # on a create, a 404 means the model, never the task (§2.4)
        exc = self.dialect.parse_error(resp.status_code, dict(resp.headers), resp.content,
                                       create=create)
        if not isinstance(exc, SeedanceAPIError):
            exc = SeedanceAPIError(str(exc), provider=self.settings.provider,
                                   http_status=resp.status_code)
        return exc

    # --- reads -------------------------------------------------------------------
    def send(self, call: HttpCall, *, deadline: Optional[float] = None) -> requests.Response:
        """Send a call and return a 2xx response; raise a SeedanceAPIError otherwise.

        The response's `content` is already read (bounded, `deadline` seconds at most
        per attempt once sent; default `reply_deadline`). A bad reply raises BadReply,
        which is not retried here (see the module docstring).
        """
        if call.is_create:
            raise ValueError("use Transport.create() for creates")
        seconds = self._deadline(call, deadline)
        if call.method == "DELETE":
            return self._send_like_create(call, seconds)
        last: Optional[BaseException] = None
        for attempt in range(READ_ATTEMPTS):
            try:
                resp = self._once(call, "read", seconds)
            except requests.RequestException as exc:
                last = ServerError(f"connection failed: {_describe(exc)}",
                                   provider=self.settings.provider, code="ConnectionError")
                if attempt + 1 < READ_ATTEMPTS:
                    delay = read_delay(attempt)
                    log.debug("read %s failed (%s); retry in %.1f s", call.path, exc, delay)
                    self.sleep(delay)
                continue
            if resp.status_code < 300:
                return resp
            exc2 = self._error(resp)
            if resp.status_code not in catalog.RETRY_STATUSES or not exc2.retryable:
                raise exc2
            if resp.headers.get("x-should-retry", "").strip().lower() == "false":
                raise exc2
            wait_hint = retry_after(resp.headers)
            if wait_hint is not None and wait_hint > catalog.RETRY_AFTER_CAP_S:
                raise exc2  # leave it to the next poll cycle
            last = exc2
            if attempt + 1 < READ_ATTEMPTS:
                delay = read_delay(attempt, wait_hint)
                log.debug("read %s got HTTP %s; retry in %.1f s", call.path,
                          resp.status_code, delay)
                self.sleep(delay)
        assert last is not None
        raise last

    def _send_like_create(self, call: HttpCall, seconds: float) -> requests.Response:
        for attempt in range(CREATE_RETRIES + 1):
            more = attempt < CREATE_RETRIES
            try:
                resp = self._once(call, "delete" if call.method == "DELETE" else "create",
                                  seconds)
            except requests.RequestException as exc:
                if nothing_sent(exc):
                    if more:
                        self.sleep(create_delay(attempt))
                        continue
                    raise ServerError(f"could not connect: {_describe(exc)}",
                                      provider=self.settings.provider, code="ConnectionError",
                                      retryable=False) from None
                raise ServerError(f"reply lost after sending: {_describe(exc)}",
                                  provider=self.settings.provider, code="ConnectionError",
                                  retryable=False) from None
            if resp.status_code < 300:
                return resp
            exc2 = self._error(resp)
            if resp.status_code == 429 and more:
                self.sleep(create_delay(attempt, retry_after(resp.headers)))
                continue
            raise exc2
        raise AssertionError("unreachable")

    # --- creates -----------------------------------------------------------------
    def create(self, call: HttpCall, *, retry_429: bool = True, attempt: int = 0,
               deadline: Optional[float] = None) -> CreateResult:
        """Send a create once (plus the §8 retries) and parse its id.

        `retry_429=False` raises RateLimitError (with `.retry_after`) instead of
        sleeping, so a scheduler can retry later; `attempt` is how many retries
        were already spent. `deadline` bounds the reply once sent (default: the
        call's `timeout`, e.g. a blocking acedata create's wait deadline, else
        `reply_deadline`). Anything lost or unreadable after sending raises
        CreateOutcomeUnknown (its `code` says why, e.g. ReplyTimeout, BadJSON).
        """
        if not call.is_create:
            raise ValueError("Transport.create() takes a create call")
        provider = self.settings.provider
        seconds = self._deadline(call, deadline)
        while True:
            more = attempt < CREATE_RETRIES
            sent_at = time.time()
            try:
                resp = self._once(call, "create", seconds)
            except BadReply as exc:
                self._unknown(call, sent_at, f"the reply could not be read ({exc.message})",
                              http_status=exc.http_status, code=exc.code)
            except requests.RequestException as exc:
                if nothing_sent(exc):
                    if more:
                        self.sleep(create_delay(attempt))
                        attempt += 1
                        continue
                    raise ServerError(f"could not connect, nothing was sent: {_describe(exc)}",
                                      provider=provider, code="ConnectionError",
                                      retryable=False) from None
                self._unknown(call, sent_at, f"the reply was lost ({_describe(exc)})")
            status = resp.status_code
            if status == 429:
                wait_hint = retry_after(resp.headers)
                exc429 = self._error(resp, create=True)
                if isinstance(exc429, RateLimitError):
                    exc429.retry_after = wait_hint
                if more and retry_429:
                    self.sleep(create_delay(attempt, wait_hint))
                    attempt += 1
                    continue
                raise exc429
            if status >= 500:
                err = self._error(resp, create=True)
                if err.retryable is False and err.code == "invalid_request":
                    raise err  # a malformed request: nothing was created
                self._unknown(call, sent_at, f"the gateway answered HTTP {status} ({err.message})",
                              http_status=status, code=err.code, request_id=err.request_id)
            if status >= 300:
                raise self._error(resp, create=True)  # refused: nothing created, nothing billed
            try:
                return self.dialect.parse_create(status, dict(resp.headers), resp.content)
            except SeedanceAPIError as exc:
                if getattr(exc, "http_status", None) and exc.http_status >= 300:
                    raise
                self._unknown(call, sent_at, f"the reply could not be read ({exc.message})",
                              http_status=status, code=exc.code)
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError,
                    RecursionError) as exc:
                self._unknown(call, sent_at, f"the reply could not be read ({exc})",
                              http_status=status, code="BadShape")

    def _unknown(self, call: HttpCall, sent_at: float, why: str, **kw: Any) -> None:
        orphans = self.orphans(call, sent_at)
        raise CreateOutcomeUnknown(
            f"create sent to {self.settings.provider} but {why}; the task may exist and be "
            f"billed", orphans=orphans, provider=self.settings.provider, **kw)

    def orphans(self, call: HttpCall, sent_at: float) -> list[str]:
        """Ids of tasks of the same model created since `sent_at` (ark/byteplus only)."""
        model = None
        if isinstance(call.json, dict):
            model = call.json.get("model")
        elif call.fields:
            model = call.fields.get("model")
        listing = self.dialect.list_recent_call(model, 20) if model else None
        if listing is None:
            return []
        try:
            resp = self.send(listing)
            tasks = parse_reply(self.dialect.parse_batch, resp.status_code, dict(resp.headers),
                                resp.content, provider=self.settings.provider)
        except SeedanceAPIError as exc:
            log.warning("could not list recent tasks to find orphans: %s", exc)
            return []
        # created_at has whole seconds: allow the second the request went out in.
        return [t.id for t in tasks
                if t.id and (t.created_at is None or t.created_at >= int(sent_at) - 1)]
