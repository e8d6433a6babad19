"""Polling cost: seedance-nb's batched worker against per-task polling loops.

    python bench/polling.py            # 100 jobs
    python bench/polling.py --quick    # 20 jobs, faster emulator (CI)

Starts one Ark-dialect emulator in its own process (so its CPU is not counted
as the client's), warms its render cache, then runs the same N jobs three ways
against it, one after the other, at the same poll interval:

  seedance-nb   submit() x N, wait_all(): one list request per round for all tasks
  plain loop    requests: POST each, then GET every unfinished task each round
  ark SDK       volcenginesdkarkruntime: create, then `tasks.get` in a thread per task

For each it prints HTTP requests per poll round and in total (counted by the
emulator), wall time from first submit to last file on disk, and client CPU
seconds, then the ratios. Render times spread realistically: durations cycle
over 2-6 s (emulated run 50-90 s, divided by --speed) and at most 10 tasks run
at once, as on Ark; the rest queue.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from seedance_nb import catalog, jobs  # noqa: E402
from seedance_nb.config import defaults  # noqa: E402
from seedance_nb.emulator import Emulator  # noqa: E402

FAMILY = "1.0-pro-fast"
MODEL = catalog.WIRE_IDS["ark"][FAMILY]
PROMPT = "a paper boat drifts along a rain gutter"
SEED = 7
DURATIONS = (2, 3, 4, 5, 6)
TASKS = "/api/v3/contents/generations/tasks"


def _duration(i: int) -> int:
    return DURATIONS[i % len(DURATIONS)]


def _server_requests(emu: Emulator) -> int:
    counts = emu.stats()["requests"]
    return sum(v for k, v in counts.items() if "stats" not in k and "healthz" not in k)


class Measure:
    """Wall time, client CPU and server-counted requests around one phase."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def __enter__(self) -> "Measure":
        self.req0 = _server_requests(self.emu)
        self.cpu0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall = time.perf_counter() - self.t0
        self.cpu = time.process_time() - self.cpu0
        self.requests = _server_requests(self.emu) - self.req0 - 1  # minus our own stats GET


def _download(session: requests.Session, url: str, dest: Path) -> None:
    with session.get(url, stream=True, timeout=(10, 60)) as resp:
        resp.raise_for_status()
        with open(dest, "wb") as fh:
            for chunk in resp.iter_content(1 << 16):
                fh.write(chunk)


def _wait_ready(emu: Emulator, n_durations: int, interval: float) -> None:
    """Warm the emulator's render cache so no phase pays for the first renders."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {emu.token}"
    ids = []
    for d in DURATIONS[:n_durations]:
        body = {"model": MODEL, "content": [{"type": "text", "text": PROMPT}],
                "resolution": "480p", "duration": d, "seed": SEED}
        ids.append(s.post(emu.base_url + TASKS, json=body, timeout=30).json()["id"])
    while ids:
        time.sleep(interval)
        ids = [i for i in ids
               if s.get(f"{emu.base_url}{TASKS}/{i}", timeout=30).json()["status"]
               not in catalog.TERMINAL]


# --- the three clients ------------------------------------------------------------------

def run_seedance(emu: Emulator, n: int, interval: float, out: Path) -> dict:
    defaults.output_dir = str(out)
    defaults.poll_interval = interval
    mgr = jobs.JobManager()
    jobs.set_manager(mgr)
    batch = [jobs.submit(PROMPT, provider="emulator", emulate="ark", base_url=emu.base_url,
                         api_key=emu.token, model=FAMILY, resolution="480p",
                         duration=_duration(i), seed=SEED, new=True) for i in range(n)]
    jobs.wait_all(batch)
    mgr.stop()
    bad = [j for j in batch if j.status != "succeeded" or not j.video_path]
    if bad:
        raise SystemExit(f"seedance-nb: {len(bad)} jobs did not finish: {bad[0]!r}")
    rounds = [r.requests for r in mgr.rounds]
    return {"rounds": rounds, "in_flight": [r.jobs for r in mgr.rounds]}


def run_plain(emu: Emulator, n: int, interval: float, out: Path) -> dict:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {emu.token}"
    pending = {}
    for i in range(n):
        body = {"model": MODEL, "content": [{"type": "text", "text": PROMPT}],
                "resolution": "480p", "duration": _duration(i), "seed": SEED}
        pending[s.post(emu.base_url + TASKS, json=body, timeout=30).json()["id"]] = i
    rounds = []
    while pending:
        time.sleep(interval)
        rounds.append(len(pending))
        for task_id in list(pending):
            task = s.get(f"{emu.base_url}{TASKS}/{task_id}", timeout=30).json()
            if task["status"] == "succeeded":
                _download(s, task["content"]["video_url"], out / f"{task_id}.mp4")
                del pending[task_id]
            elif task["status"] in catalog.TERMINAL:
                raise SystemExit(f"plain loop: task {task_id} ended {task['status']}")
    return {"rounds": rounds, "in_flight": rounds}


def run_sdk(emu: Emulator, n: int, interval: float, out: Path) -> dict:
    from volcenginesdkarkruntime import Ark

    client = Ark(base_url=emu.base_url + "/api/v3", api_key=emu.token)
    session = requests.Session()
    polls = []
    lock = threading.Lock()
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            task = client.content_generation.tasks.create(
                model=MODEL, content=[{"type": "text", "text": PROMPT}], resolution="480p",
                duration=_duration(i), seed=SEED)
            count = 0
            while True:
                time.sleep(interval)
                got = client.content_generation.tasks.get(task_id=task.id)
                count += 1
                if got.status == "succeeded":
                    _download(session, got.content.video_url, out / f"{task.id}.mp4")
                    break
                if got.status in catalog.TERMINAL:
                    raise RuntimeError(f"task {task.id} ended {got.status}")
            with lock:
                polls.append(count)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"ark SDK: {len(errors)} tasks failed: {errors[0]}")
    # every task polls once per interval: round k has as many GETs as tasks still polling
    rounds = [sum(1 for c in polls if c > k) for k in range(max(polls))]
    return {"rounds": rounds, "in_flight": rounds}


# --- report -------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=100, help="jobs per client (default 100)")
    p.add_argument("--speed", type=float, default=50.0, help="emulator time factor")
    p.add_argument("--interval", type=float, default=None,
                   help="poll interval in seconds (default 15 s scaled by speed, min 0.1)")
    p.add_argument("--quick", action="store_true", help="20 jobs at speed 150 (for CI)")
    p.add_argument("--no-sdk", action="store_true", help="skip the volcengine SDK client")
    args = p.parse_args(argv)
    if args.quick:
        args.jobs, args.speed = min(args.jobs, 20), 150.0
    if args.jobs < 1 or args.speed <= 0:
        p.error("--jobs must be at least 1 and --speed above 0")
    interval = args.interval or max(catalog.POLL_FLOOR_EMULATOR_S,
                                    catalog.POLL_INTERVAL_S / args.speed)

    clients: list[tuple[str, Callable]] = [("seedance-nb", run_seedance),
                                           ("plain loop", run_plain)]
    if not args.no_sdk:
        clients.append(("ark SDK", run_sdk))
    print(f"{args.jobs} jobs per client, Ark-dialect emulator at speed {args.speed:g}, "
          f"poll interval {interval:.2f} s, model {FAMILY} 480p {DURATIONS[0]}-{DURATIONS[-1]} s")
    results = {}
    with Emulator(port=0, speed=args.speed, max_queued=max(120, args.jobs)) as emu, \
            tempfile.TemporaryDirectory(prefix="seedance-bench-") as tmp:
        _wait_ready(emu, min(args.jobs, len(DURATIONS)), interval)
        for name, fn in clients:
            out = Path(tmp) / name.replace(" ", "-")
            out.mkdir()
            with Measure(emu) as m:
                info = fn(emu, args.jobs, interval, out)
            files = len([f for f in os.listdir(out) if f.endswith(".mp4")])
            if files != args.jobs:
                raise SystemExit(f"{name}: {files} files for {args.jobs} jobs")
            results[name] = (m, info)

    head = f"{'client':<12} {'requests':>9} {'polls':>6} {'rounds':>7} {'req/round':>10} " \
           f"{'max/round':>10} {'wall s':>8} {'cpu s':>7}"
    print(head)
    print("-" * len(head))
    for name, (m, info) in results.items():
        rounds = info["rounds"] or [0]
        polls = m.requests - 2 * args.jobs  # minus one create and one download per job
        print(f"{name:<12} {m.requests:>9} {polls:>6} {len(info['rounds']):>7} "
              f"{statistics.mean(rounds):>10.1f} {max(rounds):>10} {m.wall:>8.2f} {m.cpu:>7.2f}")
    base, _ = results["seedance-nb"]
    for name, (m, _) in results.items():
        if name == "seedance-nb":
            continue
        print(f"{name} / seedance-nb: requests x{m.requests / max(1, base.requests):.1f}, "
              f"cpu x{m.cpu / max(1e-6, base.cpu):.1f}, wall x{m.wall / max(1e-6, base.wall):.2f}")
    print("(requests: everything the emulator counted, creates and downloads included; "
          "polls: requests minus one create and one download per job)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
