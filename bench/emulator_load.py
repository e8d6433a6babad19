"""Load benchmark for the offline emulator.

Puts N tasks in flight (default 200) on one emulator subprocess, polls them from a
client thread pool until every task has finished, then prints the GET requests
per second the emulator sustained meanwhile and the render time per clip.

    python bench/emulator_load.py            # 200 tasks
    python bench/emulator_load.py --tasks 20 # a small CI run
"""
from __future__ import annotations

import argparse
import sys
import threading
import time

import requests

from seedance_nb.emulator import Emulator

TASKS = "/api/v3/contents/generations/tasks"
MODEL = "doubao-seedance-1-0-pro-fast-251015"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", type=int, default=200)
    p.add_argument("--speed", type=float, default=10.0,
                   help="emulator speed (default 10: a 29-frame clip runs about 4 s)")
    p.add_argument("--pollers", type=int, default=8, help="client polling threads")
    p.add_argument("--resolution", default="480p")
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args(argv)
    if args.tasks < 1 or args.pollers < 1:
        p.error("--tasks and --pollers must be >= 1")

    limit = {"1.0-pro-fast": max(args.tasks, 1)}
    with Emulator(speed=args.speed, concurrency=limit, rpm={"1.0-pro-fast": 100000},
                  max_queued=args.tasks + 1) as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        session = requests.Session()
        t0 = time.monotonic()
        ids = []
        for i in range(args.tasks):
            body = {"model": MODEL, "resolution": args.resolution, "frames": 29, "seed": i,
                    "content": [{"type": "text", "text": f"load test clip {i}"}]}
            reply = session.post(emu.base_url + TASKS, json=body, headers=headers, timeout=60)
            reply.raise_for_status()
            ids.append(reply.json()["id"])
        created_s = time.monotonic() - t0

        pending = set(ids)
        lock = threading.Lock()
        counts = {"gets": 0, "errors": 0}
        statuses: dict[str, str] = {}

        def poll(share: list[str]) -> None:
            s = requests.Session()
            while time.monotonic() - t0 < args.timeout:
                with lock:
                    mine = [i for i in share if i in pending]
                if not mine:
                    return
                for task_id in mine:
                    try:
                        reply = s.get(f"{emu.base_url}{TASKS}/{task_id}", headers=headers,
                                      timeout=30)
                        status = reply.json()["status"]
                    except (requests.RequestException, ValueError, KeyError):
                        with lock:
                            counts["errors"] += 1
                        continue
                    with lock:
                        counts["gets"] += 1
                        if status in ("succeeded", "failed", "expired", "cancelled"):
                            pending.discard(task_id)
                            statuses[task_id] = status

        poll_start = time.monotonic()
        threads = [threading.Thread(target=poll, args=(ids[k::args.pollers],))
                   for k in range(args.pollers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        poll_s = time.monotonic() - poll_start
        total_s = time.monotonic() - t0
        stats = emu.stats()

    done = sum(1 for s in statuses.values() if s == "succeeded")
    renders = stats["renders"]
    print(f"tasks: {args.tasks} created in {created_s:.1f} s; {done} succeeded, "
          f"{len(statuses) - done} other, {len(pending)} unfinished, total {total_s:.1f} s")
    print(f"GET requests/s sustained while polling: {counts['gets'] / poll_s:.0f} "
          f"({counts['gets']} GETs in {poll_s:.1f} s by {args.pollers} threads, "
          f"{counts['errors']} errors)")
    mean = renders["mean_seconds"]
    print(f"render time per clip: {mean:.2f} s mean over {renders['count']} clips "
          f"({args.resolution}, 29 frames)" if mean else "render time per clip: no renders")
    return 0 if done == args.tasks else 1


if __name__ == "__main__":
    sys.exit(main())
