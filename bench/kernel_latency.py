"""Kernel responsiveness: execute round trip, idle versus with N jobs polling and downloading.

Run: /work/venv/bin/python bench/kernel_latency.py            (200 jobs, 3000 requests, ~5 min)
     /work/venv/bin/python bench/kernel_latency.py --jobs 10 --requests 30 --load-seconds 4
Target: p99 round trip rises by less than 5 ms under load.

A real ipykernel is driven through jupyter_client's blocking client. The kernel
submits the jobs itself against an emulator in another process, so its worker
thread polls (batched) and downloads while the requests are timed.

A second kernel, set up the same way but running no job (the control), is timed
in alternation with it, request by request. The figure judged is the p99 of the
jobs kernel minus the p99 of the control at the same moments, with a 95 %
bootstrap interval; the same difference while both are idle is the noise floor
of the measurement. The target is met when the interval's upper end is below 5 ms.
"""
from __future__ import annotations

import argparse
import math
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

TARGET_MS = 5.0
PROMPT = "A fox in snow --rs 480p --dur 5 --seed 42"
WAVES = 10  # the emulator runs jobs in this many waves, so downloads are spread out


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc."""
    import os

    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drain(kc) -> None:
    """Drop waiting iopub messages (status, input echoes) without blocking."""
    from queue import Empty

    while True:
        try:
            kc.get_iopub_msg(timeout=0)
        except Empty:
            return


def _execute(kc, code: str, timeout: float = 60.0, **kw) -> dict:
    msg_id = kc.execute(code, **kw)
    while True:
        reply = kc.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    _drain(kc)
    content = reply["content"]
    if content["status"] != "ok":
        raise RuntimeError(f"kernel error running {code[:60]!r}: "
                           f"{content.get('ename')}: {content.get('evalue')}")
    return content


def _value(kc, expr: str) -> str:
    out = _execute(kc, "", silent=True, user_expressions={"v": expr})["user_expressions"]["v"]
    if out.get("status") != "ok":
        raise RuntimeError(f"kernel error evaluating {expr!r}: {out.get('evalue')}")
    return out["data"]["text/plain"]


def round_trips(kc, n: int, gap: float = 0.0) -> list[float]:
    """Milliseconds from sending `pass` until its execute_reply arrives, n times."""
    times = []
    for _ in range(n):
        time.sleep(gap * random.uniform(0.5, 1.5))  # spread the samples over the load
        start = time.perf_counter()
        msg_id = kc.execute("pass", store_history=False)
        while kc.get_shell_msg(timeout=30)["parent_header"].get("msg_id") != msg_id:
            pass
        times.append((time.perf_counter() - start) * 1000)
        _drain(kc)
    return times


def interleaved(kcs: list, n: int, gap: float) -> list[list[float]]:
    """Round trips of `pass` on each kernel in turn, n each; who goes first alternates,
    so both see the same moments of machine load."""
    out: list[list[float]] = [[] for _ in kcs]
    for i in range(n):
        order = range(len(kcs)) if i % 2 == 0 else reversed(range(len(kcs)))
        for k in order:
            out[k] += round_trips(kcs[k], 1, gap)
    return out


def p99_diff(a: list[float], b: list[float], rounds: int = 1000) -> tuple[float, float, float]:
    """p99(a) - p99(b) and its 95 % bootstrap interval (resampling both)."""
    rng = random.Random(1)
    diffs = sorted(_common.percentile(rng.choices(a, k=len(a)), 99)
                   - _common.percentile(rng.choices(b, k=len(b)), 99) for _ in range(rounds))
    return (_common.percentile(a, 99) - _common.percentile(b, 99),
            _common.percentile(diffs, 2.5), _common.percentile(diffs, 97.5))


def _start(env: dict, cwd: Path, log: Any) -> tuple[Any, Any]:
    from jupyter_client import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(cwd), stderr=log)
    kc = km.blocking_client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc


def run(n_jobs: int, n_requests: int, load_seconds: float, poll: float) -> int:
    from seedance_nb import catalog

    fam = catalog.DEFAULT_FAMILY
    family_cap = max(1, math.ceil(n_jobs / WAVES))
    run_s = load_seconds / WAVES
    gap = load_seconds / 2 / n_requests  # spread the samples over about half the load
    work = Path(tempfile.mkdtemp(prefix="seedance-bench-kernel-"))
    emu = _common.start_emulator(speed=1.0, run_seconds=run_s, concurrency={fam: family_cap},
                                 rpm={fam: 100_000}, max_queued=n_jobs + 10)
    km = kc = km2 = kc2 = None
    log = (work / "kernel.log").open("w")  # the kernels' stderr, shown if something fails
    try:
        env = _common.clean_env(SEEDANCE_PROVIDER="emulator", SEEDANCE_EMULATOR_URL=emu.base_url,
                                SEEDANCE_EMULATOR_TOKEN=emu.token)
        # the control kernel is set up the same way and runs no job: its round trips,
        # taken side by side, are what this machine's noise alone does to the numbers
        km, kc = _start(env, work, log)
        km2, kc2 = _start(env, work, log)
        for client in (kc, kc2):
            _execute(client, "import seedance_nb, seedance_nb.jobs, seedance_nb.media\n"
                             "from seedance_nb.config import settings as defaults\n"
                             f"defaults.output_dir = {str(work / 'out')!r}\n"
                             f"defaults.poll_interval = {poll!r}\n")
            round_trips(client, 20)  # warm up
        idle, idle_ctl = interleaved([kc, kc2], n_requests, gap / 2)

        # the account's budget is the emulator's (admission would otherwise hold jobs
        # back to the built-in one and spread the creates over the loaded phase)
        limits = {"queued": n_jobs + 10, "rpm": 100_000, "concurrency": family_cap}
        _execute(kc, f"jobs = [seedance_nb.submit({PROMPT!r}, new=True, limits={limits!r}) "
                     f"for _ in range({n_jobs})]")
        # Load is on once every create went out and the first wave runs.
        deadline = time.time() + 60
        while int(_value(kc, "sum(1 for j in jobs if j.task_id)")) < n_jobs:
            if time.time() > deadline:
                raise RuntimeError("the jobs were not all created within 60 s")
            time.sleep(0.05)
        time.sleep(min(2.5, load_seconds / 4))  # the emulator keeps tasks queued 2 s at least
        pid = km.provisioner.process.pid
        done_before = int(_value(kc, "sum(j.done for j in jobs)"))
        cpu0, wall0 = _cpu_seconds(pid), time.perf_counter()
        loaded, loaded_ctl = interleaved([kc, kc2], n_requests, gap / 2)
        cpu1, wall1 = _cpu_seconds(pid), time.perf_counter()
        done_after = int(_value(kc, "sum(j.done for j in jobs)"))
        _execute(kc, f"seedance_nb.wait_all(jobs, timeout={load_seconds + 60})")
        ok = int(_value(kc, "sum(1 for j in jobs if j.status == 'succeeded' and j.video_path)"))
        stats = emu.stats()
    except BaseException:
        log.flush()
        print("kernel stderr (last lines):\n" + (work / "kernel.log").read_text()[-3000:],
              file=sys.stderr)
        raise
    finally:
        for client, manager in ((kc, km), (kc2, km2)):
            if client is not None:
                client.stop_channels()
            if manager is not None and manager.has_kernel:
                manager.shutdown_kernel(now=True)
        emu.close()
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, xs: list[float]) -> list:
        return [name, statistics.median(xs), _common.percentile(xs, 99), max(xs)]

    rise, lo, hi = p99_diff(loaded, loaded_ctl)
    noise, nlo, nhi = p99_diff(idle, idle_ctl)
    own = _common.percentile(loaded, 99) - _common.percentile(idle, 99)
    print(_common.machine())
    print(f"kernel: ipykernel via jupyter_client; {n_jobs} jobs on the emulator (ark dialect), "
          f"poll interval {poll} s, {WAVES} waves of {family_cap} x {run_s:.2f} s; "
          f"{n_requests} `pass` requests per phase and kernel, {1000 * gap:.0f} ms apart on "
          f"average, alternating between the jobs kernel and a control kernel with no jobs")
    print(_common.table("kernel round trip (ms)", ["phase", "p50 ms", "p99 ms", "max ms"],
                        [row("idle (baseline)", idle), row("idle, control kernel", idle_ctl),
                         row("loaded", loaded), row("loaded, control kernel", loaded_ctl)]))
    print(f"noise floor: p99 of two idle kernels differs by {noise:+.2f} ms "
          f"(95 % interval {nlo:+.2f} .. {nhi:+.2f} ms)")
    print(f"p99 increase: {rise:+.2f} ms over the control kernel at the same moments "
          f"(95 % interval {lo:+.2f} .. {hi:+.2f} ms; target < {TARGET_MS:g} ms) "
          f"{_common.verdict(hi < TARGET_MS)}; over its own idle phase {own:+.2f} ms")
    wall = wall1 - wall0
    print(f"during the loaded phase ({wall:.1f} s): jobs done {done_before} -> {done_after} of "
          f"{n_jobs}; kernel CPU {cpu1 - cpu0:.2f} s "
          f"({100 * (cpu1 - cpu0) / wall:.0f} % of one core)")
    reqs = stats.get("requests", {})
    routes = ", ".join(f"{name}: {count}" for name, count in sorted(reqs.items()))
    print(f"afterwards: {ok} of {n_jobs} succeeded with a file on disk; "
          f"emulator requests: {routes}")
    if done_after >= n_jobs:
        print("warning: every job ended before the loaded phase did; raise --load-seconds")
    return 0 if ok == n_jobs else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=200, help="jobs in flight (default 200)")
    p.add_argument("--requests", type=int, default=3000,
                   help="requests timed per phase and kernel (default 3000: the p99 rests "
                        "on 30 samples and its 95 %% interval resolves the 5 ms target; "
                        "with 1000 it was 6 ms wide)")
    p.add_argument("--load-seconds", type=float, default=90.0,
                   help="how long the emulator keeps the jobs busy (default 90: longer than "
                        "the loaded phase of 3000 requests)")
    p.add_argument("--poll", type=float, default=0.1, help="poll interval in the kernel (s)")
    args = p.parse_args(argv)
    if args.jobs < 1 or args.requests < 2 or args.load_seconds <= 0:
        p.error("--jobs must be >= 1, --requests >= 2, --load-seconds > 0")
    return run(args.jobs, args.requests, args.load_seconds, args.poll)


if __name__ == "__main__":
    sys.exit(main())
