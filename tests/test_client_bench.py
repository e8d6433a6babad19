"""bench/polling.py --quick runs standalone and shows batched polling paying off."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import polling  # noqa: E402

ROW = re.compile(r"^(seedance-nb|plain loop|ark SDK)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s",
                 re.M)


def _tables(out: str) -> dict[str, dict[str, tuple[int, ...]]]:
    """{dialect: {client: (jobs, requests, creates, polls, downloads)}} from the printout."""
    found: dict[str, dict[str, tuple[int, ...]]] = {}
    for block in re.split(r"^== ", out, flags=re.M)[1:]:
        title = block.split(" ==", 1)[0]
        if title.endswith(" dialect"):
            found[title[:-len(" dialect")]] = {
                m.group(1): tuple(int(g) for g in m.groups()[1:]) for m in ROW.finditer(block)}
    return found


@pytest.mark.timeout(120)
def test_polling_bench_quick_counts_every_request_by_kind():
    proc = subprocess.run([sys.executable, str(BENCH / "polling.py"), "--quick", "--jobs", "12",
                           "--dialect", "ark,comet"], capture_output=True, text=True, timeout=110)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("machine: ")
    tables = _tables(proc.stdout)
    assert set(tables) == {"ark", "comet"}
    assert set(tables["ark"]) == {"seedance-nb", "plain loop", "ark SDK"}
    assert set(tables["comet"]) == {"seedance-nb", "plain loop"}  # the SDK speaks Ark only
    for rows in tables.values():
        for jobs, total, creates, polls, downloads in rows.values():
            assert (jobs, creates, downloads) == (12, 12, 12)
            assert total == creates + polls + downloads
    ours, plain = tables["ark"]["seedance-nb"], tables["ark"]["plain loop"]
    assert ours[3] < plain[3]  # one batched read per round against one GET per task
    assert "targets, ark dialect, 12 jobs" in proc.stdout
    assert "poll requests: plain loop" in proc.stdout


def test_routes_are_classified_per_dialect():
    assert polling.classify("POST /api/v3/contents/generations/tasks") == "create"
    assert polling.classify("GET /api/v3/contents/generations/tasks") == "poll"  # list
    assert polling.classify("GET /api/v3/contents/generations/tasks/{id}") == "poll"
    assert polling.classify("POST /volc/v3/contents/generations/tasks") == "create"
    assert polling.classify("GET /volc/v3/contents/generations/tasks/{id}") == "poll"
    assert polling.classify("POST /v1/videos") == "create"
    assert polling.classify("GET /v1/videos/{id}") == "poll"
    assert polling.classify("POST /seedance/videos") == "create"
    assert polling.classify("POST /seedance/tasks") == "poll"
    assert polling.classify("GET /files") == "download"
    assert polling.classify("POST /api/v3 error 429") == "error"
    assert polling.counted({"GET /files": 2}, {"GET /files": 5, "POST /v1/videos": 3}) == {
        "create": 3, "poll": 0, "download": 3, "error": 0, "other": 0, "total": 6}


def test_bad_arguments_are_refused_in_one_line(capsys):
    with pytest.raises(SystemExit):
        polling.main(["--dialect", "ark,nope"])
    assert "'nope' is not one of ark, comet, comet-volc, acedata" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        polling.main(["--jobs", "10,0"])
    assert "job counts must be at least 1" in capsys.readouterr().err
