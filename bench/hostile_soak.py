"""Hostile soak: does one broken gateway slow the jobs on healthy ones?

    python bench/hostile_soak.py             # 200 jobs over three gateways
    python bench/hostile_soak.py --quick     # 30 jobs, short tasks (CI)

Two runs of the same jobs, one after the other, each with a fresh job manager and
ledger, against three loopback gateways speaking Ark JSON (tasks succeed `--run`
seconds after their create; files are a small fake MP4):

  with hostile   gateway C answers with a rotating mix of failure classes: reads that
                 stall, trickle, answer 429 Retry-After: 120, 5xx, NaN, a duplicated
                 id, or a status going back from terminal; creates that get 429
                 Retry-After: 120 or 500. Its jobs end at their deadline (`--deadline`)
                 or fail; they are not counted as healthy.
  no hostile     gateway C is healthy too.

Printed: the healthy jobs' (gateways A and B) finish times in both runs and their
ratio, peak RSS growth during each run, creates seen by the gateways against
submits, and the longest gap of a 2 ms loop on the main thread (it must never
wait on the network).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, percentile, table  # noqa: E402

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 4000
PATH = "/api/v3/contents/generations/tasks"
READ_FAULTS = ("stall", "trickle", "retry-after", "5xx", "nan", "duplicate", "regress", "ok")
CREATE_FAULTS = ("ok", "ok", "ok", "429", "ok", "500")


class Gateway:
    """A threaded loopback Ark gateway; `hostile` rotates failure classes per request."""

    def __init__(self, name: str, run_s: float, hostile: bool, stall_s: float) -> None:
        from werkzeug.serving import make_server

        self.name, self.run_s, self.hostile, self.stall_s = name, run_s, hostile, stall_s
        self.created: dict[str, float] = {}
        self.creates = 0
        self.lock = threading.Lock()
        self.ids = itertools.count()
        self.reads = itertools.cycle(READ_FAULTS)
        self.create_faults = itertools.cycle(CREATE_FAULTS)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()

    def task(self, tid: str) -> dict:
        done = time.time() - self.created.get(tid, time.time()) >= self.run_s
        obj = {"id": tid, "model": "m", "status": "succeeded" if done else "running",
               "created_at": int(self.created.get(tid, 0))}
        if done:
            obj["content"] = {"video_url": f"{self.url}/files/{tid}.mp4"}
            obj["usage"] = {"completion_tokens": 1000, "total_tokens": 1000}
        return obj

    def app(self, environ: dict, start: Any) -> Any:
        from werkzeug.wrappers import Request, Response

        req = Request(environ)
        fault = "ok"
        if req.path.startswith("/files/"):
            resp = Response(MP4, headers={"Content-Type": "video/mp4"})
        elif req.method == "POST":
            with self.lock:
                self.creates += 1
                fault = next(self.create_faults) if self.hostile else "ok"
                tid = f"{self.name}-{next(self.ids)}"
                if fault == "ok":
                    self.created[tid] = time.time()
            resp = self.fail(fault) or self.json({"id": tid})
        else:
            ids = req.args.getlist("filter.task_ids") if req.path == PATH else \
                [req.path.rsplit("/", 1)[1]]
            with self.lock:
                fault = next(self.reads) if self.hostile else "ok"
            items = [self.task(i) for i in ids]
            resp = self.fail(fault, items)
            if resp is None:
                resp = self.json({"total": len(items), "items": items} if req.path == PATH
                                 else items[0])
        return resp(environ, start)

    def fail(self, fault: str, items: Optional[list] = None) -> Any:
        from werkzeug.wrappers import Response

        if fault == "stall":
            time.sleep(self.stall_s)
            return Response(b"{}", status=504)
        if fault == "trickle":
            body = json.dumps({"total": 0, "items": []}).encode()

            def slow():
                for i in range(len(body)):
                    time.sleep(self.stall_s / len(body))
                    yield body[i:i + 1]
            return Response(slow(), headers={"Content-Length": str(len(body))})
        if fault in ("retry-after", "429"):
            return self.json({"error": {"code": "RateLimitExceeded", "message": "slow"}}, 429,
                             {"Retry-After": "120"})
        if fault in ("5xx", "500"):
            return self.json({"error": {"code": "InternalServiceError", "message": "x"}}, 500)
        if fault == "nan" and items:
            return Response('{"total": 1, "items": [{"id": "%s", "seed": NaN}]}' % items[0]["id"],
                            headers={"Content-Type": "application/json"})
        if fault == "duplicate" and items:
            twin = dict(items[0], status="queued" if items[0]["status"] != "queued" else "running")
            return self.json({"total": len(items) + 1, "items": items + [twin]})
        if fault == "regress" and items:
            return self.json({"total": len(items),
                              "items": [dict(t, status="queued") for t in items]})
        return None

    @staticmethod
    def json(obj: Any, status: int = 200, headers: Optional[dict] = None) -> Any:
        from werkzeug.wrappers import Response

        return Response(json.dumps(obj), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def rss_kib() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def run(n: int, run_s: float, deadline: float, hostile: bool, tag: str) -> dict:
    from seedance_nb import jobs
    from seedance_nb.config import settings as defaults

    gws = [Gateway(f"{tag}a", run_s, False, 0), Gateway(f"{tag}b", run_s, False, 0),
           Gateway(f"{tag}c", run_s, hostile, min(deadline, 5.0))]
    out = Path(tempfile.mkdtemp(prefix="hostile-soak-"))
    defaults.reset()
    defaults.output_dir = str(out)
    defaults.poll_interval = 0.2
    mgr = jobs.JobManager()
    jobs.set_manager(mgr)
    rss0 = peak = rss_kib()
    gap = 0.0
    t0 = time.monotonic()
    batch = []
    for i in range(n):
        gw = gws[i % 3]
        batch.append((gw, jobs.submit(f"soak clip {i}", provider="emulator", emulate="ark",
                                      base_url=gw.url + "/api/v3", api_key="sk-soak",
                                      model="1.0-pro-fast", resolution="480p", duration=2,
                                      timeout=deadline)))
    finished: dict[int, float] = {}
    last = time.perf_counter()
    while len(finished) < n:
        time.sleep(0.002)
        now = time.perf_counter()
        gap, last = max(gap, now - last), now
        for k, (_, job) in enumerate(batch):
            if k not in finished and job.done:
                finished[k] = time.monotonic() - t0
        peak = max(peak, rss_kib())
    mgr.stop()
    for gw in gws:
        gw.close()
    healthy = [finished[k] for k, (gw, _) in enumerate(batch) if gw is not gws[2]]
    ok = sum(1 for gw, j in batch if gw is not gws[2] and j.status == "succeeded")
    return {"healthy": healthy, "ok": ok, "creates": sum(g.creates for g in gws), "submits": n,
            "rss": (peak - rss0) / 1024, "gap": gap * 1000,
            "hostile": [j.status for gw, j in batch if gw is gws[2]]}


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=200)
    p.add_argument("--run", type=float, default=2.0, help="seconds a task runs")
    p.add_argument("--deadline", type=float, default=20.0, help="each job's wait deadline")
    p.add_argument("--quick", action="store_true", help="30 jobs, 0.5 s tasks, 6 s deadline")
    args = p.parse_args(argv)
    if args.quick:
        args.jobs, args.run, args.deadline = 30, 0.5, 6.0
    for key in ("ARK_API_KEY", "BYTEPLUS_API_KEY", "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN"):
        os.environ.pop(key, None)
    import logging

    logging.getLogger("seedance_nb").setLevel(logging.ERROR)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    run(6, args.run, args.deadline, False, "w")  # warm-up: imports, first sessions
    base = run(args.jobs, args.run, args.deadline, False, "n")
    bad = run(args.jobs, args.run, args.deadline, True, "h")
    rows = []
    for name, r in (("no hostile", base), ("with hostile", bad)):
        rows.append([name, len(r["healthy"]), r["ok"], percentile(r["healthy"], 50),
                     percentile(r["healthy"], 95), max(r["healthy"]), r["submits"],
                     r["creates"], r["rss"], r["gap"]])
    print(table(f"hostile soak: {args.jobs} jobs over 3 gateways, tasks {args.run} s, "
                f"deadline {args.deadline} s",
                ["run", "healthy jobs", "succeeded", "p50 s", "p95 s", "last s", "submits",
                 "creates", "peak RSS +MiB", "main gap ms"], rows))
    ratio = max(bad["healthy"]) / max(base["healthy"])
    p95 = percentile(bad["healthy"], 95) / percentile(base["healthy"], 95)
    print(f"healthy finish-time ratio (with / without hostile): last {ratio:.2f}, p95 {p95:.2f}")
    counts: dict[str, int] = {}
    for status in bad["hostile"]:
        counts[status] = counts.get(status, 0) + 1
    print("hostile gateway's jobs ended: " + ", ".join(f"{v} {k}" for k, v in
                                                        sorted(counts.items())))
    print(machine())
    return 0


if __name__ == "__main__":
    sys.exit(main())
