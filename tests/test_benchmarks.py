"""Every script in bench/ runs in a reduced form and prints its table.

No timing is asserted: the point is that the benchmarks cannot rot. Each runs
as a subprocess with the keys of real gateways removed from its environment.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
GATEWAY_VARS = ("ARK_API_KEY", "BYTEPLUS_API_KEY", "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN",
                "SEEDANCE_PROVIDER", "SEEDANCE_EMULATOR_URL", "SEEDANCE_EMULATOR_TOKEN")

# script -> (reduced arguments, lines its output must contain, exit codes allowed)
CASES = {
    "kernel_latency.py": (["--jobs", "10", "--requests", "20", "--load-seconds", "3"],
                          ["== kernel round trip (ms) ==", "phase", "idle (baseline)", "loaded",
                           "p99 increase:", "10 of 10 succeeded", "machine:"], (0,)),
    "download.py": (["--size-mb", "4", "--runs", "1"],
                    ["== download throughput ==", "curl -o (baseline)",
                     "seedance_nb.media.download", "== client memory increase during a download ==",
                     "machine:"], (0,)),
    "startup.py": (["--runs", "1", "--parse-loops", "200"],
                   ["== start-up (ms) ==", "import ipywidgets (baseline)", "%load_ext beyond it",
                    "== parse + validate (µs per call) ==", "machine:"], (0,)),
    "polling.py": (["--quick"], ["client", "requests", "seedance-nb", "plain loop"], (0,)),
    "emulator_load.py": (["--tasks", "10"], ["GET requests/s sustained"], (0,)),
    "hostile_soak.py": (["--quick"], ["hostile soak:", "healthy finish-time ratio", "machine:"],
                        (0,)),
    # correctness only: every job completes and no create fails (never the wall time)
    "sweep_scale.py": (["--quick"], ["== sweep at scale ==", "completed 60 of 60 OK",
                                     "failed creates 0 OK", "machine:"], (0,)),
    # parse_validate.py exits 1 when it misses its timing target; that is not asserted here.
    "parse_validate.py": ([], ["parse + validate", "import seedance_nb"], (0, 1)),
}


def _scripts() -> list[str]:
    return sorted(p.name for p in BENCH.glob("*.py") if not p.name.startswith("_"))


def test_every_bench_script_has_a_reduced_run() -> None:
    missing = [name for name in _scripts() if name not in CASES]
    assert not missing, f"add a reduced run for {missing} to CASES"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", _scripts())
def test_bench_script_runs_and_prints_its_table(name: str, tmp_path: Path) -> None:
    args, expected, codes = CASES[name]
    env = {k: v for k, v in os.environ.items() if k not in GATEWAY_VARS}
    done = subprocess.run([sys.executable, str(BENCH / name), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=110)
    out = done.stdout
    assert done.returncode in codes, \
        f"{name} exited {done.returncode}:\n{out}\n{done.stderr[-3000:]}"
    for text in expected:
        assert text in out, f"{name} did not print {text!r}:\n{out}\n{done.stderr[-2000:]}"
