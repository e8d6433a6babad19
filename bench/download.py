"""Download throughput and memory: seedance_nb.media.download versus curl on loopback.

Run: /work/venv/bin/python bench/download.py              (200 MB, best of 3 each)
     /work/venv/bin/python bench/download.py --size-mb 5 --runs 1
Targets: at least 90 % of curl's throughput; under 20 MB extra client memory.

The file is served by the emulator's own signed /files route. The emulator runs
in-process in a server subprocess (started by this script with --serve), which
places a deterministic file in its file store and signs the URL with the
emulator's Signer; keeping it out of this process keeps its 200 MB read buffer
out of the client's memory figures. curl and the client run alternately.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

RATIO_TARGET = 0.90
MEMORY_TARGET_MB = 20.0
MB = 1024 * 1024


# --- server side (a subprocess) ----------------------------------------------------

def _write_file(path: Path, size: int) -> str:
    """A deterministic pseudo-random file (incompressible); returns its sha256."""
    rng = random.Random(20260101)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            block = rng.randbytes(min(MB, left))
            fh.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def serve(size: int, folder: Path) -> None:
    """Emulator in this process with one extra file in its store; prints URL and sha256."""
    from seedance_nb.emulator.server import EmulatorServer

    server = EmulatorServer("127.0.0.1", 0)
    name = f"bench-{size}.mp4"
    path = folder / name
    sha = _write_file(path, size)
    store = server.app.store
    with store.cond:  # the route serves store.files[name] -> (task, kind) -> task.files[kind]
        store.files[name] = (SimpleNamespace(files={"mp4": str(path)}), "mp4")
    url = server.app.signer.url(server.base_url, f"/files/{name}", time.time())
    server.start_thread()
    print(f"URL {url}\nSHA {sha}", flush=True)
    sys.stdin.read()  # serve until the parent closes our stdin
    server.close()


# --- client side -------------------------------------------------------------------

def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5); False if not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_client(url: str, dest: Path, sha: str) -> dict:
    from seedance_nb import media

    reset = _reset_peak()
    rss0 = _status_kb("VmRSS")
    cpu0, t0 = _cpu_self(), time.perf_counter()
    got = media.download(url, dest, allow_http_loopback=True, expect="any")
    seconds, cpu = time.perf_counter() - t0, _cpu_self() - cpu0
    peak = _status_kb("VmHWM")
    if got.sha256 != sha:
        raise RuntimeError("seedance_nb.media.download returned a file with the wrong sha256")
    Path(got.path).unlink()
    return {"s": seconds, "cpu": cpu, "rss_mb": (peak - rss0) / 1024 if reset else None}


def sha256_seconds(size: int) -> float:
    """Time hashlib takes for `size` bytes in 1 MiB blocks (the client hashes as it receives)."""
    block = os.urandom(MB)
    digest = hashlib.sha256()
    start = time.perf_counter()
    for _ in range(max(1, size // MB)):
        digest.update(block)
    return time.perf_counter() - start


def run_curl(curl: str, url: str, dest: Path | None, size: int) -> dict:
    """curl -o dest; with dest None, to /dev/null (what the server alone can deliver)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([curl, "-sS", "-f", "-o", str(dest or os.devnull), url], check=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if dest is not None:
        if dest.stat().st_size != size:
            raise RuntimeError(f"curl wrote {dest.stat().st_size} bytes, expected {size}")
        dest.unlink()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"s": seconds, "cpu": cpu}


def traced_peak_mb(url: str, dest: Path) -> float:
    """Python-heap peak of one download under tracemalloc (not timed: tracing slows it)."""
    from seedance_nb import media

    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    got = media.download(url, dest, allow_http_loopback=True, expect="any")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    Path(got.path).unlink()
    return (peak - base) / MB


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size-mb", type=float, default=200.0, help="file size in MiB (default 200)")
    p.add_argument("--runs", type=int, default=3, help="runs of each, best taken (default 3)")
    p.add_argument("--serve", metavar="FOLDER", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    size = int(args.size_mb * MB)
    if size <= 0 or args.runs < 1:
        p.error("--size-mb must be > 0 and --runs >= 1")
    if args.serve:
        serve(size, Path(args.serve))
        return 0
    curl = shutil.which("curl")
    if curl is None:
        print("curl not found: install it (apt-get install curl) to run this benchmark",
              file=sys.stderr)
        return 2
    curl_version = subprocess.run([curl, "--version"], capture_output=True,
                                  text=True).stdout.split("\n")[0].split(" (")[0]

    from seedance_nb import media  # noqa: F401 - imported before timing, not during

    work = Path(tempfile.mkdtemp(prefix="seedance-bench-dl-"))
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(work),
                               "--size-mb", str(args.size_mb)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=_common.clean_env())
    try:
        lines = [server.stdout.readline() for _ in range(2)]
        if not (lines[0].startswith("URL ") and lines[1].startswith("SHA ")):
            raise RuntimeError("the file server did not start; see its message above")
        url, sha = lines[0][4:].strip(), lines[1][4:].strip()
        out = work / "out"
        out.mkdir()
        curl_runs, client_runs, null_runs = [], [], []
        for i in range(args.runs):  # alternate, so drift in machine load hits both alike
            curl_runs.append(run_curl(curl, url, out / f"curl-{i}.mp4", size))
            client_runs.append(run_client(url, out / f"client-{i}.mp4", sha))
            null_runs.append(run_curl(curl, url, None, size))
        heap_mb = traced_peak_mb(url, out / "traced.mp4")
        hash_s = sha256_seconds(size)
    finally:
        server.stdin.close()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(work, ignore_errors=True)

    best_curl = min(curl_runs, key=lambda r: r["s"])
    best_client = min(client_runs, key=lambda r: r["s"])
    best_null = min(null_runs, key=lambda r: r["s"])
    mbps = lambda r: size / MB / r["s"]  # noqa: E731
    ratio = mbps(best_client) / mbps(best_curl)
    rss = [r["rss_mb"] for r in client_runs if r["rss_mb"] is not None]
    rss_mb = max(rss) if rss else None
    print(_common.machine())
    print(f"file: {size / MB:g} MiB from the emulator's signed /files route on loopback; "
          f"best of {args.runs} alternating runs; {curl_version}")
    print(_common.table("download throughput",
                        ["client", "best MB/s", "median MB/s", "CPU s (best run)", "vs curl"],
                        [["curl -o (baseline)", mbps(best_curl),
                          statistics.median(map(mbps, curl_runs)), best_curl["cpu"],
                          "100 %"],
                         ["seedance_nb.media.download", mbps(best_client),
                          statistics.median(map(mbps, client_runs)),
                          best_client["cpu"], f"{100 * ratio:.0f} %"],
                         ["curl -o /dev/null (server ceiling)", mbps(best_null),
                          statistics.median(map(mbps, null_runs)), best_null["cpu"],
                          f"{100 * mbps(best_null) / mbps(best_curl):.0f} %"]]))
    print(_common.table("client memory increase during a download",
                        ["measure", "MB", "target MB"],
                        [["peak RSS (VmHWM) - RSS before", "n/a" if rss_mb is None else rss_mb,
                          f"< {MEMORY_TARGET_MB:g}"],
                         ["tracemalloc peak (Python heap)", heap_mb, f"< {MEMORY_TARGET_MB:g}"]]))
    print(f"client's best run: {best_client['s'] * 1000:.0f} ms; sha256 of the bytes alone "
          f"takes {hash_s * 1000:.0f} ms (hashlib, measured apart), done on a helper thread "
          f"beside the transfer; curl does not hash")
    mem_ok = max(heap_mb, rss_mb or 0.0) < MEMORY_TARGET_MB
    print(f"throughput: {100 * ratio:.0f} % of curl (target >= {100 * RATIO_TARGET:.0f} %) "
          f"{_common.verdict(ratio >= RATIO_TARGET)}; memory: {_common.verdict(mem_ok)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
