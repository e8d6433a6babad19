"""Big sweeps on purpose: `--max N` raises the 64-video guard of `%%seedance --sweep`,
and the whole grid's estimate is shown first (a real InteractiveShell, the real engine)."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from seedance_nb.config import settings
from seedance_nb.magic_line import MAX_SWEEP

from _magic_helpers import make_shell, real_engine

pytestmark = pytest.mark.timeout(120)
LINE = "--no-wait --model 1.0-pro-fast --rs 480p --dur 2"
SEEDS_70 = "--sweep seed=" + ",".join(str(i) for i in range(1, 71))


@pytest.fixture(scope="module")
def shell():
    return make_shell()


@pytest.fixture(autouse=True)
def _clean(shell, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def engine(tmp_path, monkeypatch):
    with real_engine(tmp_path, monkeypatch, render_module="_emulator_helpers",
                     run_seconds=0) as eng:
        yield eng


def test_a_sweep_over_64_without_max_says_how_to_raise_it(shell, engine):
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("seedance", f"{LINE} {SEEDS_70}", "a kite [no-render]")
    text = str(info.value)
    assert f"70 combinations is over the limit of {MAX_SWEEP}" in text
    assert "add --max 70" in text
    assert engine.nothing_sent()


def test_max_sends_the_whole_grid_after_one_estimate_line(shell, engine, capsys):
    shell.run_cell_magic("seedance", f"{LINE} --max 100 {SEEDS_70}", "a kite [no-render]")
    jobs = shell.user_ns["_seedance_jobs"]
    assert len(jobs) == 70
    printed = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("seedance: sweep of")]
    assert len(printed) == 1
    line = printed[0]
    one = jobs[0].request.estimate()
    assert "sweep of 70 videos" in line
    assert f"{70 * one.tokens_max:,} tokens" in line
    assert f"{70 * one.cost_max:,.2f}" in line or one.cost_max is None
    engine.wait_sent(jobs, timeout=60)
    assert engine.creates() == 70
    assert sorted(w.seed for w in engine.wire()) == list(range(1, 71))


def test_max_below_the_grid_refuses_it_whole(shell, engine):
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("seedance", f"{LINE} --max 65 {SEEDS_70}", "a kite [no-render]")
    assert "70 combinations is over --max 65" in str(info.value)
    assert engine.nothing_sent()


@pytest.mark.parametrize("value", ["0", "many", "-5"])
def test_a_bad_max_is_a_one_line_error(shell, engine, value):
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("seedance", f"{LINE} --max={value} --sweep seed=1,2", "a kite")
    assert f"--max {value}: give a whole number" in str(info.value)
    assert engine.nothing_sent()


def test_a_small_sweep_shows_no_estimate_line_without_max(shell, engine, capsys):
    shell.run_cell_magic("seedance", f"{LINE} --sweep seed=1,2", "a kite [no-render]")
    assert "seedance: sweep of" not in capsys.readouterr().out
    engine.wait_sent(shell.user_ns["_seedance_jobs"])
    assert engine.creates() == 2
