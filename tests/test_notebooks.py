"""Every notebook in notebooks/ runs headless (nbclient) against the emulator.

The outputs must hold the video HTML, and every referenced file must exist and decode.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import av
import nbformat
import pytest

from seedance_nb import quickstart
from seedance_nb.emulator import Emulator

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
VIDEO_SRC = re.compile(r'<video src="([^"]+)"')


@pytest.fixture(scope="module")
def emulator():
    with Emulator(port=0, speed=100) as emu:
        yield emu


def kernel_env(emu: Emulator) -> dict[str, str]:
    env = quickstart.kernel_env()
    env.pop("SEEDANCE_NB_WAIT")  # the automatic rule must block under nbclient by itself
    env.pop("JPY_SESSION_NAME", None)
    env["SEEDANCE_EMULATOR_URL"] = emu.base_url
    return env


def frames_in(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "image_to_video.ipynb",
                                           "experiment_sweep.ipynb"}


def test_committed_notebooks_have_no_outputs():
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.fixture(scope="module")
def executed(emulator, tmp_path_factory):
    """Run each notebook once (on first use): name -> (folder, executed notebook)."""
    cache: dict[str, tuple[Path, nbformat.NotebookNode]] = {}

    def get(path: Path) -> tuple[Path, nbformat.NotebookNode]:
        if path.name not in cache:
            folder = tmp_path_factory.mktemp(path.stem)
            done = quickstart.run(path, folder, timeout=120, env=kernel_env(emulator))
            cache[path.name] = (folder, nbformat.read(done, as_version=4))
        return cache[path.name]

    return get


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_emulator(path, executed):
    tmp_path, book = executed(path)
    videos = []
    for cell in book.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{cell.source[:60]!r}: {out.get('evalue')}"
            html = out.get("data", {}).get("text/html", "")
            found = VIDEO_SRC.findall(html)
            assert "<source" not in html
            videos += found
        if cell.source.startswith("%%seedance") and "--dry-run" not in cell.source \
                and "raises-exception" not in cell.metadata.get("tags", []):
            html = "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)
            assert VIDEO_SRC.search(html), f"no video in the output of {cell.source[:60]!r}"
    assert videos, "no video in the notebook"
    for src in set(videos):
        file = tmp_path / src
        assert file.is_file(), src
        assert frames_in(file) > 24  # at least a second of 24 fps video


def test_quickstart_error_cell_lists_every_problem(executed):
    _, book = executed(ROOT / "notebooks" / "quickstart.ipynb")
    cell = next(c for c in book.cells if "raises-exception" in c.metadata.get("tags", []))
    text = "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
    assert "UsageError" in text
    for problem in ("--wm maybe", "--resolutoin", "--rs 1080p"):
        assert problem in text


def test_quickstart_command(emulator, tmp_path):
    """`seedance-nb quickstart` (the README's run command) prints where things are."""
    env = {k: v for k, v in os.environ.items() if k != "SEEDANCE_NB_WAIT"}
    env["SEEDANCE_EMULATOR_URL"] = emulator.base_url
    out = subprocess.run([sys.executable, "-m", "seedance_nb.cli", "quickstart", "--out",
                          str(tmp_path / "qs")], capture_output=True, text=True, timeout=300,
                         env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"executed notebook: {tmp_path / 'qs' / 'quickstart.ipynb'}" in out.stdout
    assert str(tmp_path / "qs" / "seedance-output") in out.stdout
    assert len(list((tmp_path / "qs" / "seedance-output").glob("*.mp4"))) >= 3


def test_quickstart_command_reports_a_failing_cell(tmp_path):
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")])
    nbformat.write(book, tmp_path / "broken.ipynb")
    out = subprocess.run([sys.executable, "-m", "seedance_nb.cli", "quickstart", "--notebook",
                          str(tmp_path / "broken.ipynb"), "--out", str(tmp_path / "run")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 1
    assert "ZeroDivisionError" in out.stderr
    assert "Traceback (most recent call last)" not in out.stderr.split("ZeroDivisionError")[-1]
    assert (tmp_path / "run" / "broken.ipynb").is_file()


def test_video_survives_nbconvert_to_html(executed):
    from nbconvert import HTMLExporter

    folder, book = executed(ROOT / "notebooks" / "quickstart.ipynb")
    body, _ = HTMLExporter().from_notebook_node(book)
    (folder / "quickstart.html").write_text(body)
    sources = re.findall(r'<video[^>]*\ssrc="([^"]+)"', body)  # nbconvert reorders attributes
    assert sources and all((folder / s).is_file() for s in sources)  # next to the HTML file
    assert "<source" not in body
