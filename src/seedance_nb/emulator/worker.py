"""Render worker process: `python -m seedance_nb.emulator.worker`.

Reads length-prefixed pickles from stdin, one job each: (sys_path, module, spec,
mp4_path, png_path). Replies ("ok", seconds) or ("error", message). A plain
subprocess (not multiprocessing) so the caller's __main__ is never re-imported.
"""
from __future__ import annotations

import importlib
import os
import pickle
import signal
import struct
import sys
import time
from typing import Any, BinaryIO, Optional


def send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack("!I", len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    head = stream.read(4)
    if len(head) < 4:
        raise EOFError
    (size,) = struct.unpack("!I", head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def render(module: str, spec: Any, mp4: str, png: Optional[str]) -> float:
    mod = importlib.import_module(module)
    start = time.perf_counter()
    root, ext = os.path.splitext(mp4)
    tmp = root + ".part" + ext  # keep the extension: the encoder may pick the format by it
    mod.render_video(tmp, spec)
    os.replace(tmp, mp4)
    if png:
        tmp = png[:-4] + ".part.png"
        mod.render_last_frame_png(tmp, spec)
        os.replace(tmp, png)
    return time.perf_counter() - start


def main() -> None:
    # Ctrl-C or a kernel interrupt reaches the whole process group; the worker stops
    # when the emulator closes its stdin instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the reply stream
    while True:
        try:
            sys_path, module, spec, mp4, png = receive(inp)
        except EOFError:
            return
        for entry in sys_path:
            if entry not in sys.path:
                sys.path.append(entry)
        try:
            send(out, ("ok", render(module, spec, mp4, png)))
        except Exception as err:  # reported to the task as a failed render
            send(out, ("error", f"{type(err).__name__}: {err}"))


if __name__ == "__main__":
    main()
