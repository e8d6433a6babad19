"""Start-up costs: `%load_ext seedance_nb` beyond importing ipywidgets, and prompt parsing.

Run: /work/venv/bin/python bench/startup.py               (7 fresh interpreters)
     /work/venv/bin/python bench/startup.py --runs 2 --parse-loops 2000
Targets: %load_ext under 150 ms beyond `import ipywidgets`; parse + validate of a
typical prompt under 100 µs.

Each run is a fresh interpreter that imports ipywidgets, makes an IPython
InteractiveShell (what a kernel already has) and then times `%load_ext
seedance_nb` with perf_counter. The same interpreter also reports its
`import ipywidgets` time, the baseline the target is measured beyond.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common  # noqa: E402

LOAD_TARGET_MS = 150.0
PARSE_TARGET_US = 100.0
PROMPT = "A fox in snow --rs 720p --dur 5 --seed 42"

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import ipywidgets
t1 = time.perf_counter()
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(sys.modules)
t2 = time.perf_counter()
shell.run_line_magic("load_ext", "seedance_nb")
t3 = time.perf_counter()
assert "seedance" in shell.magics_manager.magics["cell"], "the %%seedance magic is missing"
print(json.dumps({"widgets_ms": 1000 * (t1 - t0), "load_ms": 1000 * (t3 - t2),
                  "new": sorted(set(sys.modules) - before)}))
"""


def one_run(cache: str, write: bool, importtime: bool = False) -> tuple[dict, str]:
    """One fresh interpreter with its bytecode cache in `cache` (written to if `write`)."""
    cmd = [sys.executable] + (["-X", "importtime"] if importtime else []) + ["-c", _CHILD]
    env = _common.clean_env(PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the start-up child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def biggest_imports(stderr: str, new: set[str], top: int = 5) -> list[tuple[str, float]]:
    """Top-level modules first imported by %load_ext, by cumulative import time (ms)."""
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cum, name = line[len("import time:"):].split("|")
        if not cum.strip().isdigit():
            continue  # the header line
        depth = (len(name) - len(name.lstrip())) // 2
        if name.strip() in new:
            rows.append((depth, name.strip(), int(cum) / 1000))
    if not rows:
        return []
    shallow = min(d for d, _, _ in rows)
    tops = [(n, ms) for d, n, ms in rows if d == shallow]
    return sorted(tops, key=lambda r: -r[1])[:top]


def parse_us(loops: int) -> tuple[float, float]:
    """(best, median) µs per build_request over 5 repeats of `loops` calls."""
    from seedance_nb.request import build_request

    build_request(PROMPT, provider="ark")  # imports and caches outside the timing
    times = timeit.repeat(lambda: build_request(PROMPT, provider="ark"), number=loops, repeat=5)
    per = [t / loops * 1e6 for t in times]
    return min(per), statistics.median(per)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=7, help="fresh interpreters (default 7)")
    p.add_argument("--parse-loops", type=int, default=20000, help="calls per timing repeat")
    args = p.parse_args(argv)
    if args.runs < 1 or args.parse_loops < 1:
        p.error("--runs and --parse-loops must be >= 1")

    with tempfile.TemporaryDirectory(prefix="seedance-bench-pyc-") as warm_dir, \
            tempfile.TemporaryDirectory(prefix="seedance-bench-nopyc-") as cold_dir:
        one_run(warm_dir, write=True)  # fills the bytecode cache, as pip install does
        warm = [one_run(warm_dir, write=False)[0] for _ in range(args.runs)]
        cold = [one_run(cold_dir, write=False)[0] for _ in range(args.runs)]
        traced, stderr = one_run(warm_dir, write=False, importtime=True)
    widgets = statistics.median(r["widgets_ms"] for r in warm)
    load = statistics.median(r["load_ms"] for r in warm)
    widgets_cold = statistics.median(r["widgets_ms"] for r in cold)
    load_cold = statistics.median(r["load_ms"] for r in cold)
    heavy = biggest_imports(stderr, set(traced["new"]))
    best, median = parse_us(args.parse_loops)

    print(_common.machine())
    print(f"median of {args.runs} fresh interpreters per row; IPython InteractiveShell made "
          f"before timing %load_ext (a kernel already has one)")
    print(_common.table("start-up (ms)",
                        ["bytecode cache", "import ipywidgets (baseline)",
                         "%load_ext beyond it", "ratio", "target"],
                        [["warm (as after pip install)", widgets, load, f"{load / widgets:.2f}x",
                          f"< {LOAD_TARGET_MS:g}"],
                         ["cold (no .pyc at all)", widgets_cold, load_cold,
                          f"{load_cold / widgets_cold:.2f}x", f"< {LOAD_TARGET_MS:g}"]]))
    print(f"modules first imported by %load_ext: {len(traced['new'])}; largest (cumulative, "
          f"one -X importtime run): "
          + (", ".join(f"{n} {ms:.1f} ms" for n, ms in heavy) or "none"))
    print(_common.table("parse + validate (µs per call)",
                        ["call", "best µs", "median µs", "target µs", "share of target"],
                        [[f"build_request({PROMPT!r}, provider='ark')", best, median,
                          f"< {PARSE_TARGET_US:g}", f"{100 * median / PARSE_TARGET_US:.0f} %"]]))
    print(f"%load_ext: {_common.verdict(load < LOAD_TARGET_MS)}; "
          f"parse + validate: {_common.verdict(median < PARSE_TARGET_US)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
