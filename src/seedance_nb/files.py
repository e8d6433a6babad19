"""Result files on disk (reference §8 "Results"): their names, what their first bytes
say they are, their sha256, and putting a finished download in place.

`output_name` makes a safe file name for a task's video or last frame; `looks_like`
reads a file's signature; `place` links a finished temporary file into place
without ever replacing an existing one (an identical file is reused).

Temporary files are named `.<dest name>.<host tag>-<pid>.<random>.part`
(`open_part`), so `sweep_stale_parts` can tell a dead download's leftovers from a
live one's.
"""
from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import socket
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


def output_name(provider: str, task_id: str, kind: str = "video",
                output_format: str | None = None) -> str:
    """`<provider>-<id>.mp4` (`.mov` for a 2.5 MOV result) or `<provider>-<id>-last.png`,
    safe as a file name anywhere (§8 Results)."""
    if kind not in ("video", "last_frame"):
        raise ValueError(f"kind must be 'video' or 'last_frame', got {kind!r}")
    stem = f"{_safe(provider)}-{_safe(task_id)}"
    if kind == "last_frame":
        return f"{stem}-last.png"
    return f"{stem}.mov" if output_format == "mov" else f"{stem}.mp4"


def _safe(part: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "_", str(part)).strip("._") or "_"
    return text[:120]


def looks_like(head: bytes) -> str | None:
    """"mp4" (ISO-BMFF/QuickTime `ftyp` at offset 4), "webm" (EBML), "png", "jpeg",
    "webp", or None."""
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


# --- leftovers of dead downloads -------------------------------------------------------------

_HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_PART = re.compile(r"^\..+\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.[^.]+\.part$")
_LIVE: set[str] = set()  # our own .part files being written right now
_LIVE_LOCK = threading.Lock()
_SWEPT: set[str] = set()
STALE_PART_S = 3600.0


def sweep_stale_parts(folder: str | os.PathLike, older_than_s: float = STALE_PART_S) -> list[Path]:
    """Remove `.part` files that dead downloads left in `folder`; return what was removed.

    A part is dead when its name says it was written by a process of this host that
    no longer runs (or by this process, which is not writing it now), or, whatever
    its name, when it was not modified for `older_than_s` (a live download writes at
    least every `stall_s` + a retry wait, far less than the default hour).
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(".part")):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            old = now - entry.stat(follow_symlinks=False).st_mtime >= older_than_s
        except OSError:
            continue
        if old or _writer_gone(entry.name):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass  # gone already, or not ours to remove
    if removed:
        log.info("removed %d leftover partial download(s) from %s", len(removed), folder)
    return removed


def _writer_gone(name: str) -> bool:
    m = _PART.match(name)
    if not m or m.group("host") != _HOST_TAG:
        return False  # another machine's (shared folder) or an old name: age decides
    pid = int(m.group("pid"))
    if pid == os.getpid():
        with _LIVE_LOCK:
            return name not in _LIVE
    if os.name != "posix":
        return False  # os.kill(pid, 0) would terminate the process on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists but not ours (EPERM)
    return False


def _sweep_once(folder: Path) -> None:
    if str(folder) in _SWEPT:
        return  # the common case, without resolve()'s system calls
    key = str(folder.resolve())
    first = key not in _SWEPT
    _SWEPT.update((key, str(folder)))
    if first:
        sweep_stale_parts(folder)


_PART_FLAGS = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_part_numbers = itertools.count()


def open_part(dest: Path) -> tuple[int, Path]:
    """A new temporary file beside `dest`, open for writing, marked live for sweeps."""
    _sweep_once(dest.parent)
    # Named by host, process and a counter (what mkstemp's random names and their
    # entropy cost gave us); O_EXCL still refuses a name an earlier process left.
    prefix = f".{dest.name}.{_HOST_TAG}-{os.getpid()}."
    with _LIVE_LOCK:  # a sweep in another thread sees the new part as live at once
        while True:
            tmp = dest.parent / f"{prefix}{next(_part_numbers)}.part"
            try:
                fd = os.open(tmp, _PART_FLAGS, 0o600)
                break
            except FileExistsError:
                continue
        _LIVE.add(tmp.name)
    return fd, tmp


def drop_part(tmp: Path) -> None:
    """Remove a temporary file (if still there) and forget it."""
    tmp.unlink(missing_ok=True)
    with _LIVE_LOCK:
        _LIVE.discard(tmp.name)


# --- putting the file in place -------------------------------------------------------


def place(tmp: Path, dest: Path, digest: str, size: int) -> tuple[Path, bool]:
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
