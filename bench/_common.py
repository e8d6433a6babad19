"""Shared helpers for the benchmark scripts: machine line, tables, emulator, percentiles."""
from __future__ import annotations

import datetime as _dt
import os
import platform
import sys
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
if str(SRC) not in sys.path:  # run from a checkout even without an editable install
    sys.path.insert(0, str(SRC))

# Environment variables that would point a client at a real gateway.
KEY_VARS = ("ARK_API_KEY", "BYTEPLUS_API_KEY", "COMETAPI_KEY", "ACEDATACLOUD_API_TOKEN",
            "SEEDANCE_PROVIDER", "SEEDANCE_EMULATOR_URL", "SEEDANCE_EMULATOR_TOKEN",
            "SEEDANCE_EMULATE")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """One line: CPU, cores, load, Python, OS and the UTC date and time."""
    try:
        load = "load %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "load n/a"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"machine: {cpu_model()}, {os.cpu_count()} cores, {load}; "
            f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
            f"{now}")


def table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain text table: title line, header, rule, rows (left-aligned first column)."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([f"== {title} ==", line(cells[0]), rule] + [line(r) for r in cells[1:]])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between closest ranks."""
    data = sorted(values)
    if not data:
        raise ValueError("no values")
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without gateway keys, with src importable, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env["PYTHONPATH"] = str(SRC) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def start_emulator(**options: Any):
    """An emulator in its own process (so its CPU use never lands in the client's numbers)."""
    from seedance_nb.emulator import Emulator

    return Emulator(port=0, **options)
