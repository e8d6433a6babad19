"""Kernel responsiveness: execute round trip, idle versus with N jobs polling and downloading.

Run: /work/venv/bin/python bench/kernel_latency.py            (200 jobs, 300 requests)
     /work/venv/bin/python bench/kernel_latency.py --jobs 10 --requests 30 --load-seconds 4
Target: p99 round trip rises by less than 5 ms under load.

A real ipykernel is driven through jupyter_client's blocking client. The kernel
submits the jobs itself against an emulator in another process, so its worker
thread polls (batched) and downloads while the requests are timed.
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


def run(n_jobs: int, n_requests: int, load_seconds: float, poll: float) -> int:
    from jupyter_client import KernelManager

    from seedance_nb import catalog

    fam = catalog.DEFAULT_FAMILY
    family_cap = max(1, math.ceil(n_jobs / WAVES))
    run_s = load_seconds / WAVES
    gap = load_seconds / 2 / n_requests  # spread the samples over about half the load
    work = Path(tempfile.mkdtemp(prefix="seedance-bench-kernel-"))
    emu = _common.start_emulator(speed=1.0, run_seconds=run_s, concurrency={fam: family_cap},
                                 rpm={fam: 100_000}, max_queued=n_jobs + 10)
    km = kc = None
    log = (work / "kernel.log").open("w")  # the kernel's stderr, shown if something fails
    try:
        km = KernelManager(kernel_name="python3")
        km.start_kernel(env=_common.clean_env(SEEDANCE_PROVIDER="emulator",
                                              SEEDANCE_EMULATOR_URL=emu.base_url,
                                              SEEDANCE_EMULATOR_TOKEN=emu.token),
                        cwd=str(work), stderr=log)
        kc = km.blocking_client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        _execute(kc, "import seedance_nb, seedance_nb.jobs, seedance_nb.media\n"
                     "from seedance_nb.config import defaults\n"
                     f"defaults.output_dir = {str(work / 'out')!r}\n"
                     f"defaults.poll_interval = {poll!r}\n")
        round_trips(kc, 20)  # warm up
        idle = round_trips(kc, n_requests, gap)

        _execute(kc, f"jobs = [seedance_nb.submit({PROMPT!r}, new=True) for _ in range({n_jobs})]")
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
        loaded = round_trips(kc, n_requests, gap)
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
        if kc is not None:
            kc.stop_channels()
        if km is not None and km.has_kernel:
            km.shutdown_kernel(now=True)
        emu.close()
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    p50 = (statistics.median(idle), statistics.median(loaded))
    p99 = (_common.percentile(idle, 99), _common.percentile(loaded, 99))
    rise = p99[1] - p99[0]
    print(_common.machine())
    print(f"kernel: ipykernel via jupyter_client; {n_jobs} jobs on the emulator (ark dialect), "
          f"poll interval {poll} s, {WAVES} waves of {family_cap} x {run_s:.2f} s; "
          f"{n_requests} `pass` requests per phase, {1000 * gap:.0f} ms apart on average")
    print(_common.table("kernel round trip (ms)",
                        ["phase", "p50 ms", "p99 ms", "max ms"],
                        [["idle (baseline)", p50[0], p99[0], max(idle)],
                         ["loaded", p50[1], p99[1], max(loaded)],
                         ["loaded / idle", f"{p50[1] / p50[0]:.2f}x", f"{p99[1] / p99[0]:.2f}x",
                          f"{max(loaded) / max(idle):.2f}x"]]))
    print(f"p99 increase: {rise:+.2f} ms (target < {TARGET_MS:g} ms) "
          f"{_common.verdict(rise < TARGET_MS)}")
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
    p.add_argument("--requests", type=int, default=300, help="requests timed per phase")
    p.add_argument("--load-seconds", type=float, default=30.0,
                   help="how long the emulator keeps the jobs busy (default 30)")
    p.add_argument("--poll", type=float, default=0.1, help="poll interval in the kernel (s)")
    args = p.parse_args(argv)
    if args.jobs < 1 or args.requests < 2 or args.load_seconds <= 0:
        p.error("--jobs must be >= 1, --requests >= 2, --load-seconds > 0")
    return run(args.jobs, args.requests, args.load_seconds, args.poll)


if __name__ == "__main__":
    sys.exit(main())
