"""Polling cost: seedance-nb's batched worker against per-task polling loops.

    python bench/polling.py                       # 10, 100, 500 jobs x 4 dialects
    python bench/polling.py --jobs 100 --dialect ark,acedata
    python bench/polling.py --quick               # 10 jobs, ark and acedata, fast (CI)

For each dialect and each N, every client runs the same N jobs --reps times
(default 3) at the same poll interval, each run on a FRESH emulator (in its own
process, so its CPU is not counted as the client's), the order of the clients
rotated on each repetition so none always goes first or last. Tables show the
median of the repetitions, and a second table their min / median / max:

  seedance-nb   submit() x N, wait_all(): the worker polls in batches (one Ark list
                request per 500 tasks, one AceData retrieve_batch per 50; comet and
                comet-volc have no batch read: one GET per task, 4 in flight)
  plain loop    requests: create each, then GET (or retrieve) every unfinished task
                each round, using the dialect's own create and single-task routes
  ark SDK       volcenginesdkarkruntime, as its docs show: create, then `tasks.get`
                every interval in a thread per task (Ark dialect only)

Requests are counted by the emulator, per route: creates, polls (every status
read: single gets, list pages, batch retrieves) and downloads. Wall time runs
from the first create to the last file on disk (its mtime); "lag" is last file
on disk minus the moment the emulator marked the last task succeeded. Render
times spread realistically: clip durations cycle over 2-6 s, emulated run
30 s + 10 s per clip second (50-90 s), divided by --speed; at most 10 tasks run
at once per gateway and model family, as on Ark, the rest queue FIFO.

The emulator's renderer encodes a clip per distinct seed; comet sends no seed,
so every comet task would be a fresh encode on the benchmark machine's cores.
The emulator here uses this file as its render module: one real encode per
clip shape, copied for every task, so rendering never limits the clients.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import _common  # noqa: E402  (puts src/ on sys.path)
from seedance_nb import catalog  # noqa: E402
from seedance_nb.emulator.render import RenderSpec  # noqa: E402,F401  (render-module API)

PROMPT = "a paper boat drifts along a rain gutter"
SEED = 7
DURATIONS = (0, 1, 2, 3, 4)  # added to the model's shortest duration
DIALECTS = ("ark", "comet", "comet-volc", "acedata")
FAMILY = {"ark": "1.0-pro-fast", "comet-volc": "1.0-pro-fast", "acedata": "1.0-pro-fast",
          "comet": "2.0-fast"}  # comet offers no 1.0 family any more (1.0-pro retired there)
NO_SEED = {"comet"}  # comet's create has no seed field
PROBE = "/_bench/finished"
RENDER_DIR_ENV = "SEEDANCE_BENCH_RENDER_DIR"


def _duration(i: int) -> int:
    return DURATIONS[i % len(DURATIONS)]


# --- the render module the benchmark's emulator uses (see the docstring) ----------------

def _cached_render(path: str, spec: Any, kind: str) -> None:
    from dataclasses import replace

    from seedance_nb.emulator import render

    root = Path(os.environ.get(RENDER_DIR_ENV) or tempfile.gettempdir())
    key = f"{spec.width}x{spec.height}-{spec.frames}-{int(spec.audio)}-{int(spec.watermark)}"
    cached = root / (f"{key}.mp4" if kind == "video" else f"{key}-last.png")
    if not cached.exists():
        part = cached.with_name(f"{os.getpid()}-part-{cached.name}")
        fixed = replace(spec, seed=SEED, prompt=PROMPT)
        (render.render_video if kind == "video" else render.render_last_frame_png)(part, fixed)
        os.replace(part, cached)
    shutil.copyfile(cached, path)


def render_video(path: str, spec: Any) -> None:
    _cached_render(path, spec, "video")


def render_last_frame_png(path: str, spec: Any) -> None:
    _cached_render(path, spec, "png")


# --- the emulator: its own process, plus one uncounted probe route ----------------------

def _serve(argv: list[str]) -> int:
    """Run an emulator (its CLI options) with PROBE added; used as a child process."""
    from werkzeug.wrappers import Response

    from seedance_nb.emulator import renders
    from seedance_nb.emulator.cli import _watch_parent, parse
    from seedance_nb.emulator.server import EmulatorServer

    args, settings, faults = parse(argv)
    server = EmulatorServer(args.host, args.port, settings, faults, args.render_module)
    app, store = server.app, server.app.store
    dispatch = app.dispatch

    def probe(request: Any) -> Any:
        if request.path != PROBE:
            return dispatch(request)
        since = float(request.args.get("since", "0"))
        store.tick()
        with store.cond:
            mine = [t for t in store.tasks.values() if t.created >= since]
            done = [t for t in mine if t.status == "succeeded"]
        body = {"tasks": len(mine), "succeeded": len(done),
                "last_finished": max((t.finished for t in done), default=None),
                "last_due": max((t.started + t.run_s for t in done), default=None)}
        return Response(json.dumps(body), mimetype="application/json")

    app.dispatch = probe  # not counted in the stats: only the clients' requests are
    print(f"Seedance emulator listening on {server.base_url}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    threading.Thread(target=_watch_parent, args=(server,), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.close()
        renders._close_all()
    return 0


class BenchEmulator:
    def __init__(self, speed: float, max_queued: int) -> None:
        argv = ["--port", "0", "--speed", repr(speed), "--max-queued", str(max_queued),
                "--render-module", "polling"]
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()),
                                      "--serve-emulator", *argv], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, text=True, bufsize=1,
                                     env=_common.clean_env())
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:  # keep draining so the child never blocks on a full pipe
            for line in self.proc.stdout:  # type: ignore[union-attr]
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=60)
            except queue.Empty:
                self.close()
                raise SystemExit("the emulator did not start within 60 s") from None
            if line is None:
                raise SystemExit(f"the emulator exited at start-up (code {self.proc.wait()})")
            if "listening on " in line:
                self.base_url = line.split("listening on ", 1)[1].strip()
                break
        self.token = catalog.EMULATOR_DEFAULT_TOKEN
        self.http = _session(self.token)

    def requests(self) -> dict[str, int]:
        return self.http.get(self.base_url + "/_emulator/stats", timeout=30).json()["requests"]

    def finished(self, since: float) -> dict:
        return self.http.get(self.base_url + PROBE, params={"since": since}, timeout=30).json()

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> "BenchEmulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _session(token: str) -> Any:
    import requests

    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def classify(route: str) -> str:
    """create | poll | download | error | other, for a route name in the emulator's stats."""
    if route == "GET /files":
        return "download"
    if " error " in route:
        return "error"
    if route in ("POST /api/v3/contents/generations/tasks", "POST /volc/v3/contents/generations/tasks",
                 "POST /v1/videos", "POST /seedance/videos"):
        return "create"
    if route.startswith(("GET /api/v3/", "GET /volc/v3/", "GET /v1/videos/", "POST /seedance/tasks")):
        return "poll"
    return "other"


def counted(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    out = {"create": 0, "poll": 0, "download": 0, "error": 0, "other": 0}
    for route, value in after.items():
        out[classify(route)] += value - before.get(route, 0)
    out["total"] = sum(out.values())
    return out


# --- the clients ----------------------------------------------------------------------

@dataclass
class Ctx:
    emu: BenchEmulator
    dialect: str
    interval: float
    out: Path
    t_first: float = 0.0  # wall clock just before the first create
    rounds: int = 0  # poll rounds the client ran
    extra: dict = field(default_factory=dict)


def _fields(dialect: str, i: int) -> dict:
    shortest = catalog.capabilities(FAMILY[dialect], dialect).duration_min
    fields: dict[str, Any] = {"resolution": "480p", "duration": shortest + _duration(i)}
    if dialect not in NO_SEED:
        fields["seed"] = SEED
    return fields


def run_seedance(ctx: Ctx, n: int) -> None:
    from seedance_nb import jobs
    from seedance_nb.config import settings as defaults
    from seedance_nb.ledger import Ledger

    defaults.output_dir = str(ctx.out)
    defaults.poll_interval = ctx.interval
    mgr = jobs.JobManager(ledger=Ledger(ctx.out.parent / f"{ctx.out.name}.ledger.sqlite"))
    jobs.set_manager(mgr)
    ctx.t_first = time.time()
    batch = [jobs.submit(PROMPT, provider="emulator", emulate=ctx.dialect,
                         base_url=ctx.emu.base_url, api_key=ctx.emu.token,
                         model=FAMILY[ctx.dialect], new=True, **_fields(ctx.dialect, i))
             for i in range(n)]
    jobs.wait_all(batch)
    mgr.stop()
    jobs.set_manager(None)
    bad = [j for j in batch if j.status != "succeeded" or not j.video_path]
    if bad:
        raise SystemExit(f"seedance-nb: {len(bad)} jobs did not finish: {bad[0]!r}")
    ctx.rounds = len(mgr.rounds)
    ctx.extra["max_round"] = max((r.requests for r in mgr.rounds), default=0)


def _send(s: Any, base: str, call: Any) -> Any:
    kw: dict[str, Any] = {}
    if call.files or call.fields:
        kw["data"], kw["files"] = call.fields or {}, call.files or None
    elif call.json is not None:
        kw["json"] = call.json
    return s.request(call.method, base.rstrip("/") + call.path, params=list(call.params),
                     headers=dict(call.headers or {}), timeout=(10, 60), **kw)


def _download(s: Any, url: str, dest: Path) -> None:
    with s.get(url, stream=True, timeout=(10, 60)) as resp:
        resp.raise_for_status()
        with open(dest, "wb") as fh:
            for chunk in resp.iter_content(1 << 16):
                fh.write(chunk)


def run_plain(ctx: Ctx, n: int) -> None:
    """One session; create each task, then read every unfinished one each round."""
    from seedance_nb.config import resolve_client
    from seedance_nb.providers import get_dialect
    from seedance_nb.request import build_request

    settings = resolve_client("emulator", ctx.emu.token, ctx.emu.base_url, ctx.dialect)
    wire = get_dialect("emulator", ctx.dialect)
    calls = [wire.create_call(build_request(PROMPT, provider="emulator", emulate=ctx.dialect,
                                            model=FAMILY[ctx.dialect], **_fields(ctx.dialect, i)))
             for i in range(n)]  # built before the clock starts: only the loop is timed
    s = _session(ctx.emu.token)
    ctx.t_first = time.time()
    pending = []
    for call in calls:
        resp = _send(s, settings.base_url, call)
        pending.append(wire.parse_create(resp.status_code, dict(resp.headers), resp.content).task_id)
    while pending:
        time.sleep(ctx.interval)
        ctx.rounds += 1
        still = []
        for task_id in pending:
            resp = _send(s, settings.base_url, wire.get_call(task_id))
            task = wire.parse_task(resp.status_code, dict(resp.headers), resp.content)
            if task.status == "succeeded" and task.video_url:
                _download(s, task.video_url, ctx.out / f"{task_id}.mp4")
            elif task.status in catalog.TERMINAL:
                raise SystemExit(f"plain loop: task {task_id} ended {task.status}")
            else:
                still.append(task_id)
        pending = still


def run_sdk(ctx: Ctx, n: int) -> None:
    from volcenginesdkarkruntime import Ark

    client = Ark(base_url=ctx.emu.base_url + "/api/v3", api_key=ctx.emu.token)
    model = catalog.WIRE_IDS["ark"][FAMILY["ark"]]
    session = _session("")
    polls: list[int] = []
    lock = threading.Lock()
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            task = client.content_generation.tasks.create(
                model=model, content=[{"type": "text", "text": PROMPT}], **_fields("ark", i))
            count = 0
            while True:
                time.sleep(ctx.interval)
                got = client.content_generation.tasks.get(task_id=task.id)
                count += 1
                if got.status == "succeeded":
                    _download(session, got.content.video_url, ctx.out / f"{task.id}.mp4")
                    break
                if got.status in catalog.TERMINAL:
                    raise RuntimeError(f"task {task.id} ended {got.status}")
            with lock:
                polls.append(count)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    ctx.t_first = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"ark SDK: {len(errors)} tasks failed: {errors[0]}")
    ctx.rounds = max(polls)  # each thread polls once per interval: its own rounds


CLIENTS: dict[str, Callable[[Ctx, int], None]] = {
    "seedance-nb": run_seedance, "plain loop": run_plain, "ark SDK": run_sdk}


# --- one measurement --------------------------------------------------------------------

@dataclass
class Result:
    dialect: str
    jobs: int
    client: str
    counts: dict
    rounds: int
    wall: float  # first create -> last file on disk
    lag: float  # last file on disk - last task marked succeeded
    cpu: float
    extra: dict

    @property
    def polls(self) -> int:
        return self.counts["poll"]


def measure(emu: BenchEmulator, dialect: str, n: int, client: str, interval: float,
            out: Path) -> Result:
    out.mkdir(parents=True)
    ctx = Ctx(emu, dialect, interval, out)
    before = emu.requests()
    cpu0 = time.process_time()
    CLIENTS[client](ctx, n)
    cpu = time.process_time() - cpu0
    counts = counted(before, emu.requests())
    files = [out / f for f in os.listdir(out) if f.endswith(".mp4")]
    if len(files) != n:
        raise SystemExit(f"{client} on {dialect}: {len(files)} files for {n} jobs")
    if counts["error"] or counts["other"]:
        raise SystemExit(f"{client} on {dialect}: unexpected requests {counts}")
    last_file = max(f.stat().st_mtime for f in files)
    fin = emu.finished(ctx.t_first)
    if fin["succeeded"] != n:
        raise SystemExit(f"{client} on {dialect}: the emulator saw {fin['succeeded']} "
                         f"successes for {n} jobs")
    return Result(dialect, n, client, counts, ctx.rounds, last_file - ctx.t_first,
                  last_file - fin["last_finished"], cpu, ctx.extra)


def median_result(runs: list[Result]) -> Result:
    """One Result of the medians of repeated runs of the same client, dialect and N."""
    med = statistics.median
    first = runs[0]
    counts = {k: int(med(r.counts[k] for r in runs)) for k in first.counts}
    return Result(first.dialect, first.jobs, first.client, counts,
                  int(med(r.rounds for r in runs)), med(r.wall for r in runs),
                  med(r.lag for r in runs), med(r.cpu for r in runs), first.extra)


def group(runs: list[Result]) -> dict[tuple, list[Result]]:
    out: dict[tuple, list[Result]] = {}
    for r in runs:
        out.setdefault((r.dialect, r.jobs, r.client), []).append(r)
    return out


def spread_table(dialect: str, runs: list[Result]) -> str:
    rows = []
    for (_, n, client), rs in group(runs).items():
        row: list[Any] = [client, n, len(rs)]
        for values in ([r.wall for r in rs], [r.cpu for r in rs], [r.lag for r in rs],
                       [r.polls for r in rs]):
            row += [round(min(values), 2), round(statistics.median(values), 2),
                    round(max(values), 2)]
        rows.append(row)
    head = ["client", "jobs", "runs", "wall min", "med", "max", "cpu min", "med", "max",
            "lag min", "med", "max", "polls min", "med", "max"]
    return _common.table(f"{dialect} dialect: spread over repetitions (s; polls)", head, rows)


def warm(emu: BenchEmulator, dialect: str, interval: float, tmp: Path) -> None:
    """Render each clip shape once and settle connections before anything is timed."""
    run_plain(Ctx(emu, dialect, interval, _fresh(tmp / "warm")), len(DURATIONS))


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# --- report -----------------------------------------------------------------------------

def dialect_table(dialect: str, results: list[Result]) -> str:
    rows = []
    for r in results:
        rows.append([r.client, r.jobs, r.counts["total"], r.counts["create"], r.polls,
                     r.counts["download"], round(r.counts["total"] / r.jobs, 2),
                     round(r.polls / r.jobs, 2), r.rounds,
                     round(r.polls / max(1, r.rounds), 1), round(r.wall, 2), round(r.lag, 2),
                     round(r.cpu, 2)])
    head = ["client", "jobs", "requests", "creates", "polls", "downloads", "req/job",
            "polls/job", "rounds", "polls/round", "wall s", "lag s", "cpu s"]
    return _common.table(f"{dialect} dialect", head, rows)


def ratio_table(results: list[Result]) -> str:
    rows = []
    for r in results:
        if r.client == "seedance-nb":
            continue
        ours = next(x for x in results if x.client == "seedance-nb"
                    and (x.dialect, x.jobs) == (r.dialect, r.jobs))
        rows.append([r.dialect, r.jobs, r.client, f"{r.polls / max(1, ours.polls):.1f}x",
                     f"{r.counts['total'] / max(1, ours.counts['total']):.2f}x",
                     f"{r.cpu / max(1e-3, ours.cpu):.2f}x", f"{r.wall / max(1e-3, ours.wall):.2f}x"])
    return _common.table("baseline / seedance-nb (above 1x: seedance-nb uses less)",
                         ["dialect", "jobs", "baseline", "polls", "requests", "cpu s", "wall s"],
                         rows)


def targets(results: list[Result], interval: float) -> list[str]:
    ark = [r for r in results if r.dialect == "ark"]
    if not ark:
        return ["targets: not checked (they are set on the ark dialect, which this run skipped)"]
    n = 500 if any(r.jobs == 500 for r in ark) else max(r.jobs for r in ark)
    note = "" if n == 500 else f" (the targets are set at 500 jobs; this run's largest is {n})"
    ours = next(r for r in ark if r.client == "seedance-nb" and r.jobs == n)
    plain = next(r for r in ark if r.client == "plain loop" and r.jobs == n)
    poll_x = plain.polls / max(1, ours.polls)
    total_x = plain.counts["total"] / max(1, ours.counts["total"])
    lines = [f"targets, ark dialect, {n} jobs{note}:",
             f"  poll requests: plain loop {plain.polls}, seedance-nb {ours.polls}: "
             f"{poll_x:.1f}x fewer (target >= 20x) {_common.verdict(poll_x >= 20)}",
             f"  all requests: plain loop {plain.counts['total']}, seedance-nb "
             f"{ours.counts['total']}: {total_x:.2f}x fewer; both include {n} creates and "
             f"{n} downloads, so this ratio cannot exceed "
             f"{plain.counts['total'] / (2 * n):.2f}x whatever the polling "
             f"{_common.verdict(total_x >= 20)}",
             f"  last file on disk {ours.lag:.3f} s after the last task succeeded "
             f"(target within one poll interval, {interval:.3f} s) "
             f"{_common.verdict(ours.lag <= interval)}"]
    return lines


def _list(text: str, kind: type, allowed: Optional[tuple] = None) -> list:
    items = [kind(x.strip()) for x in text.split(",") if x.strip()]
    if not items:
        raise argparse.ArgumentTypeError("give at least one value")
    for x in items:
        if allowed is not None and x not in allowed:
            raise argparse.ArgumentTypeError(f"{x!r} is not one of {', '.join(allowed)}")
        if kind is int and x < 1:
            raise argparse.ArgumentTypeError("job counts must be at least 1")
    return list(dict.fromkeys(items))


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-emulator"]:
        return _serve(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=lambda t: _list(t, int), default=None,
                   help="comma-separated job counts per client (default 10,100,500)")
    p.add_argument("--dialect", type=lambda t: _list(t, str, DIALECTS), default=None,
                   help=f"comma-separated dialects (default {','.join(DIALECTS)})")
    p.add_argument("--speed", type=float, default=50.0, help="emulator time factor (default 50)")
    p.add_argument("--interval", type=float, default=None,
                   help="poll interval in seconds (default 15 s divided by speed, min 0.1)")
    p.add_argument("--quick", action="store_true",
                   help="10 jobs on ark and acedata at speed 150 (for CI)")
    p.add_argument("--no-sdk", action="store_true", help="skip the volcengine SDK client")
    p.add_argument("--reps", type=int, default=3,
                   help="repetitions per client, order rotated each time (default 3)")
    args = p.parse_args(argv)
    if args.quick:
        args.jobs = [min(n, 20) for n in args.jobs or [10]]
        args.dialect = args.dialect or ["ark", "acedata"]
        args.speed = 150.0
    args.jobs = args.jobs or [10, 100, 500]
    args.dialect = args.dialect or list(DIALECTS)
    if not args.speed > 0:
        p.error("--speed must be above 0")
    if args.reps < 1:
        p.error("--reps must be at least 1")
    interval = args.interval or max(catalog.POLL_FLOOR_EMULATOR_S,
                                    catalog.POLL_INTERVAL_S / args.speed)
    if interval < catalog.POLL_FLOOR_EMULATOR_S:
        p.error(f"--interval must be at least {catalog.POLL_FLOOR_EMULATOR_S} s "
                f"(seedance-nb's floor on the emulator)")
    clients = ["seedance-nb", "plain loop"] + ([] if args.no_sdk else ["ark SDK"])
    if "ark SDK" in clients:
        import volcenginesdkarkruntime  # noqa: F401  (imported before any CPU is timed)

    print(_common.machine())
    print(f"jobs {','.join(map(str, args.jobs))} per client; dialects {','.join(args.dialect)}; "
          f"emulator speed {args.speed:g} (run 50-90 s emulated -> "
          f"{50 / args.speed:.2f}-{90 / args.speed:.2f} s, at most 10 running per gateway); "
          f"poll interval {interval:.3f} s for every client; 480p clips of the model's "
          f"shortest duration + {DURATIONS[0]}-{DURATIONS[-1]} s; {args.reps} runs per "
          f"client, each on a fresh emulator, order rotated", flush=True)
    results: list[Result] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seedance-bench-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ[RENDER_DIR_ENV] = str(_fresh(tmp / "renders"))
        for dialect in args.dialect:
            runs: list[Result] = []
            names = [c for c in clients if c != "ark SDK" or dialect == "ark"]
            for n in args.jobs:
                for rep in range(args.reps):
                    # each client goes first, middle and last in turn
                    order = names[rep % len(names):] + names[:rep % len(names)]
                    for client in order:
                        # a fresh emulator per run: no client inherits another's tasks,
                        # connections or warm caches on the server
                        with BenchEmulator(args.speed, max_queued=n + 10) as emu:
                            warm(emu, dialect, interval, tmp)
                            out = tmp / f"{dialect}-{n}-{client.replace(' ', '-')}-{rep}"
                            runs.append(measure(emu, dialect, n, client, interval, out))
                            shutil.rmtree(out, ignore_errors=True)
            mine = [median_result(rs) for rs in group(runs).values()]
            print(dialect_table(dialect, mine), flush=True)
            print(spread_table(dialect, runs), flush=True)
            results += mine
    print(ratio_table(results))
    print("\n".join(targets(results, interval)))
    print("load average at the end: %.2f %.2f %.2f; total run %.0f s"
          % (*os.getloadavg(), time.perf_counter() - started))
    print("(requests: all the emulator counted for the client, = creates + polls + downloads; "
          "polls: status reads of any kind; rounds: poll rounds the client ran; "
          "lag: last file on disk minus last success on the emulator)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
