"""bench/polling.py --quick runs standalone and shows batched polling paying off."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "polling.py"


@pytest.mark.timeout(180)
def test_polling_bench_quick():
    proc = subprocess.run([sys.executable, str(BENCH), "--quick", "--jobs", "12"],
                          capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = {m.group(1): m.groups() for m in re.finditer(
        r"^(seedance-nb|plain loop|ark SDK)\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+(\d+)",
        proc.stdout, re.M)}
    assert set(rows) == {"seedance-nb", "plain loop", "ark SDK"}
    ours, plain = rows["seedance-nb"], rows["plain loop"]
    assert int(ours[5]) == 1  # at most one request per poll round for 12 tasks
    assert int(ours[2]) < int(plain[2])  # fewer polling requests than per-task polling
    assert "plain loop / seedance-nb: requests x" in proc.stdout
