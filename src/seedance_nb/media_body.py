"""A download's body (media.download): the part file written and hashed so far
(`_Partial`), the writer that moves a large body's writes and hashing to two helper
threads (`_Sink`), and streaming it with the length checks (`_stream`, which raises
`_Cut` for a transfer worth resuming).
"""
from __future__ import annotations

import hashlib
import http.client
import queue
import threading
from typing import Any

import requests
import urllib3

from .media_urls import DownloadError

SMALL_FILE_BYTES = 8 << 20  # below this, write and hash inline: helper threads cost more
HEAD_BYTES = 16  # the first bytes kept for the signature check (files.looks_like)


class _Cut(Exception):
    """The body ended early or the connection broke; retry, resuming if possible."""

    def __init__(self, message: str, stalled: bool = False) -> None:
        self.stalled = stalled
        super().__init__(message)


class _Partial:
    """Bytes written and hashed so far, and what the server said the whole is."""

    def __init__(self, out) -> None:
        self.out = out  # a new, empty part file (files.open_part: O_EXCL)
        self.written = False
        self.restart()

    def restart(self) -> None:
        if self.written:  # nothing to undo in a file never written to
            self.out.seek(0)
            self.out.truncate()
            self.written = False
        self.hasher = hashlib.sha256()
        self.got = 0
        self.head = b""  # the first bytes, for the signature check
        self.total: int | None = None
        self.validator: str | None = None  # ETag / Last-Modified: never splice two versions


def _too_large(shown: str, limit: int, why: str) -> DownloadError:
    return DownloadError(f"download of {shown} refused: {why}; the limit is "
                         f"{limit / (1 << 30):.3g} GiB", url_redacted=shown, code="TooLarge")


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)) \
        or "timed out" in str(exc).lower()


class _Sink:
    """Writes and hashes chunks on two helper threads, overlapping with receiving.

    File writes and hashlib release the GIL, so receive, write and hash run side by
    side; bounded queues keep memory at a few chunks. `close` waits for both, so
    afterwards the file holds `part.got` bytes and the hash covers exactly them
    (what a resumed transfer continues from).
    """

    def __init__(self, part: _Partial, depth: int = 4, threads: bool = True) -> None:
        self.part = part
        self.depth = depth
        self.error: OSError | None = None
        self.inline = 0  # bytes written inline; threads start past SMALL_FILE_BYTES
        self.lanes: list[tuple[queue.Queue, threading.Thread]] = []
        if threads:
            self._start()

    def _start(self) -> None:
        self.lanes = [self._lane(self._write, self.depth),
                      self._lane(self.part.hasher.update, self.depth)]

    def _lane(self, step, depth: int) -> tuple[queue.Queue, threading.Thread]:
        lane: queue.Queue = queue.Queue(maxsize=depth)
        thread = threading.Thread(target=self._run, args=(lane, step), daemon=True,
                                  name="seedance-download-sink")
        thread.start()
        return lane, thread

    def _write(self, chunk: bytes) -> None:
        self.part.written = True
        try:
            self.part.out.write(chunk)
        except OSError as exc:
            self.error = exc

    def _run(self, lane: queue.Queue, step) -> None:
        while (chunk := lane.get()) is not None:
            if self.error is None:  # after an error, only drain so the producer never blocks
                step(chunk)

    def put(self, chunk: bytes) -> None:
        if not self.lanes and self.inline < SMALL_FILE_BYTES:
            # a small file (or the start of one of unknown length): inline is cheaper
            # than starting two threads; what is done inline is done in order
            self._write(chunk)
            if self.error is None:
                self.part.hasher.update(chunk)
            self.inline += len(chunk)
            return
        if not self.lanes:
            self._start()
        for lane, _ in self.lanes:
            lane.put(chunk)

    def close(self, shown: str) -> None:
        for lane, thread in self.lanes:
            lane.put(None)
            thread.join()
        if self.error is not None:
            raise DownloadError(f"cannot write the download of {shown}: {self.error}",
                                url_redacted=shown, code="WriteFailed") from None


def _stream(resp: requests.Response, part: _Partial, chunk_size: int, shown: str,
            rules: Any) -> None:
    """Append the body to the partial file; _Cut if it breaks off or has the wrong length."""
    if hasattr(resp.raw, "enforce_content_length"):
        # We check the length ourselves; urllib3's own check would drop the bytes
        # that did arrive before a cut, and they are worth resuming from.
        resp.raw.enforce_content_length = False
    limit = min(rules.max_bytes, part.total) if part.total is not None else rules.max_bytes
    # Threads only for a large file; one of unknown length starts inline and gets them
    # once it passes SMALL_FILE_BYTES.
    large = part.total is not None and part.total - part.got >= SMALL_FILE_BYTES
    sink = _Sink(part, threads=large)
    over = False
    try:
        # Raw bytes as sent: identity was asked for, and nothing is inflated here.
        for chunk in resp.raw.stream(chunk_size, decode_content=False):
            if sink.error is not None:
                break  # the disk refused; close() reports it
            if part.got + len(chunk) > limit:
                over = True
                break
            if len(part.head) < HEAD_BYTES:
                part.head += chunk[:HEAD_BYTES - len(part.head)]
            sink.put(chunk)
            part.got += len(chunk)
    except (requests.RequestException, urllib3.exceptions.HTTPError,
            http.client.HTTPException, OSError) as exc:
        sink.close(shown)
        stalled = _is_timeout(exc)
        why = f"no byte for {rules.stall_s:g} s" if stalled else type(exc).__name__
        raise _Cut(f"transfer broke after {part.got} bytes ({why})", stalled) from None
    except BaseException:
        sink.close(shown)
        raise
    sink.close(shown)
    if over and part.total is not None and part.total <= rules.max_bytes:
        part.restart()  # more than announced: start over rather than splice
        raise _Cut(f"server sent more than the announced {part.total} bytes")
    if over:
        raise _too_large(shown, rules.max_bytes, "the file is larger")
    if part.total is not None and part.got < part.total:
        raise _Cut(f"transfer cut short: got {part.got} of {part.total} bytes")
