"""Headless (nbclient, a real kernel): a 24-video sweep cell is saved as ONE output whose
final state is readable as HTML and as text; `%seedance jobs` is one row for the cell."""
from __future__ import annotations

import pytest

from seedance_nb import quickstart
from seedance_nb.emulator import Emulator

from _emulator_helpers import NO_RENDER

pytestmark = pytest.mark.timeout(180)

WAIT_ALL = ("import seedance_nb as sd\n"
            f"batch = [sd.submit('a lantern {NO_RENDER}', model='1.0-pro-fast', "
            "resolution='480p', duration=2, seed=s) for s in range(1, 11)]\n"
            "_ = sd.wait_all(batch)")

SWEEP = ("%%seedance --model 1.0-pro-fast --rs 480p --dur 2 --sweep seed=1,2,3,4,5,6 "
         f"--sweep rt=16:9,9:16,1:1,4:3\nkoi in a pond {NO_RENDER}")


def test_headless_sweep_keeps_one_summary_output(tmp_path):
    import nbformat

    book = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext seedance_nb\n%config Seedance.poll_interval = 0.2"),
        nbformat.v4.new_code_cell(SWEEP),
        nbformat.v4.new_code_cell("%seedance jobs"),
        nbformat.v4.new_code_cell(WAIT_ALL)])
    path = tmp_path / "sweep.ipynb"
    nbformat.write(book, path)
    with Emulator(in_process=True, speed=100, run_seconds=0.5,
                  render_module="_emulator_helpers") as emu:
        env = quickstart.kernel_env()
        env.pop("SEEDANCE_NB_WAIT")  # nbclient is not a live frontend: the cell blocks itself
        env.pop("JPY_SESSION_NAME", None)
        env["SEEDANCE_EMULATOR_URL"] = emu.base_url
        done = nbformat.read(quickstart.run(path, tmp_path / "run", timeout=120, env=env),
                             as_version=4)
    sweep, jobs, waited = done.cells[1], done.cells[2], done.cells[3]
    shown = [o for o in sweep.outputs if o.output_type == "display_data"]
    assert len(shown) == 1 and not [o for o in sweep.outputs if o.output_type == "error"]
    html, text = shown[0].data["text/html"], shown[0].data["text/plain"]
    assert ">24 done<" in html and html.count("<video") == 24
    assert "page 1 of 2 · videos 1–12 of 24" in html and "page 2 of 2" in html
    assert text.splitlines()[0] == ("sweep of 24 over seed, ratio: koi in a pond "
                                    f"{NO_RENDER}: 24 done · 0 running · 0 queued · 0 waiting"
                                    " · 0 failed")
    assert "finished in" in text
    printed = "".join(o.get("text", "") for o in sweep.outputs if o.output_type == "stream")
    assert "[seedance]" not in printed  # no line per video: the output is the progress
    table = jobs.outputs[-1].data["text/html"]
    assert "24 jobs in this kernel: 24 done" in table and table.count("<tr>") == 2
    # wait_all of ten jobs in a kernel: one summary output, its final state saved
    shown = [o for o in waited.outputs if o.output_type == "display_data"]
    assert len(shown) == 1 and ">10 done<" in shown[0].data["text/html"]
    assert shown[0].data["text/plain"].startswith("wait_all: 10 jobs: 10 done")
