"""Time to parse + validate a typical 3-flag prompt, and the package import time.

Run: /work/venv/bin/python bench/parse_validate.py
Targets: under 100 µs per request; under 100 ms to import seedance_nb + seedance_nb.request.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROMPT = "A fox in snow --rs 720p --dur 5 --seed 42"
PARSE_TARGET_US = 100.0
IMPORT_TARGET_MS = 100.0
SRC = Path(__file__).resolve().parent.parent / "src"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def parse_validate_us(iterations: int = 20000) -> float:
    sys.path.insert(0, str(SRC))
    from seedance_nb.request import build_request

    for _ in range(500):  # warm up
        build_request(PROMPT, provider="ark")
    best = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(iterations // 5):
            build_request(PROMPT, provider="ark")
        best.append((time.perf_counter() - start) / (iterations // 5))
    return statistics.mean(best) * 1e6


def _run_ms(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=_env())
    return (time.perf_counter() - start) * 1000


def import_ms(repeats: int = 7) -> float:
    """Median of (python -c 'import ...') minus median of (python -c 'pass')."""
    bare = statistics.median(_run_ms("pass") for _ in range(repeats))
    full = statistics.median(_run_ms("import seedance_nb, seedance_nb.request")
                             for _ in range(repeats))
    return full - bare


def heavy_modules_loaded() -> list[str]:
    code = ("import sys, seedance_nb, seedance_nb.request; "
            "print(' '.join(m for m in ('PIL', 'requests', 'ipywidgets', 'numpy', 'urllib3') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, env=_env(),
                         capture_output=True, text=True).stdout
    return out.split()


def main() -> int:
    us = parse_validate_us()
    ms = import_ms()
    heavy = heavy_modules_loaded()
    ok_parse, ok_import = us < PARSE_TARGET_US, ms < IMPORT_TARGET_MS and not heavy
    print(f"parse + validate {PROMPT!r} (provider ark): {us:.1f} µs per request "
          f"(target < {PARSE_TARGET_US:.0f} µs) {'OK' if ok_parse else 'MISSED'}")
    print(f"import seedance_nb + seedance_nb.request: {ms:.1f} ms in a fresh interpreter "
          f"(target < {IMPORT_TARGET_MS:.0f} ms) {'OK' if ok_import else 'MISSED'}")
    print(f"heavy modules loaded at import: {', '.join(heavy) or 'none'}")
    return 0 if ok_parse and ok_import else 1


if __name__ == "__main__":
    sys.exit(main())
