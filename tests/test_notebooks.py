"""Every notebook in notebooks/ runs headless (nbclient) against the emulator.

The outputs must hold the video HTML, every referenced file must exist and decode, and
the emulator must count exactly the creates the notebook asks for. `seedance-nb
quickstart` (the README's first command) keeps a source checkout clean and prints a
command that opens the notebook.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import av
import nbformat
import pytest

from seedance_nb import quickstart
from seedance_nb.emulator import Emulator

from _browser_helpers import EXPECTED_CREATES, creates, free_port

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
    assert {p.stem for p in NOTEBOOKS} == set(EXPECTED_CREATES)


def test_committed_notebooks_have_no_outputs():
    for path in NOTEBOOKS:
        book = nbformat.read(path, as_version=4)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.fixture(scope="module")
def executed(emulator, tmp_path_factory):
    """Run each notebook once (on first use): name -> (folder, executed notebook, creates)."""
    cache: dict[str, tuple[Path, nbformat.NotebookNode, int]] = {}

    def get(path: Path) -> tuple[Path, nbformat.NotebookNode, int]:
        if path.name not in cache:
            folder = tmp_path_factory.mktemp(path.stem)
            before = creates(emulator.stats())
            done = quickstart.run(path, folder, timeout=120, env=kernel_env(emulator))
            made = creates(emulator.stats()) - before
            cache[path.name] = (folder, nbformat.read(done, as_version=4), made)
        return cache[path.name]

    return get


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_the_emulator(path, executed):
    tmp_path, book, made = executed(path)
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
    assert made == EXPECTED_CREATES[path.stem], f"{made} tasks created"


def test_quickstart_error_cell_lists_every_problem(executed):
    _, book, _ = executed(ROOT / "notebooks" / "quickstart.ipynb")
    cell = next(c for c in book.cells if "raises-exception" in c.metadata.get("tags", []))
    text = "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
    assert "UsageError" in text
    for problem in ("--wm maybe", "--resolutoin", "--rs 1080p"):
        assert problem in text


def test_quickstart_command(emulator, tmp_path):
    """`seedance-nb quickstart` (the README's first command) in a source checkout writes
    under the user's cache, not into the checkout, and the command it prints opens the
    executed notebook in JupyterLab."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "SEEDANCE_NB_WAIT"}
    env.update(SEEDANCE_EMULATOR_URL=emulator.base_url, XDG_CACHE_HOME=str(cache))
    out = subprocess.run([sys.executable, "-m", "seedance_nb.cli", "quickstart"],
                         capture_output=True, text=True, timeout=300, env=env, cwd=checkout)
    assert out.returncode == 0, out.stderr
    where = cache / "seedance-nb" / "quickstart"
    assert f"executed notebook: {where / 'quickstart.ipynb'}" in out.stdout
    assert str(where / "seedance-output") in out.stdout
    assert len(list((where / "seedance-output").glob("*.mp4"))) >= 3
    assert [p.name for p in checkout.iterdir()] == ["pyproject.toml"]  # nothing written there

    line = next(l for l in out.stdout.splitlines() if l.startswith("open it with: "))
    command = line.removeprefix("open it with: ").split()
    assert command[-1] == str(where / "quickstart.ipynb")
    port = free_port()
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    with open(tmp_path / "lab.log", "w") as log:
        proc = subprocess.Popen(command + ["--no-browser", "--allow-root", "--ip=127.0.0.1",
                                           f"--port={port}", "--IdentityProvider.token="],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        from _browser_helpers import wait_for_server

        url = f"http://127.0.0.1:{port}"
        wait_for_server(url, proc, tmp_path / "lab.log")
        # the server's root is the notebook's folder, so the notebook and its videos load
        listing = json.load(urllib.request.urlopen(f"{url}/api/contents", timeout=10))
        assert {"quickstart.ipynb", "seedance-output"} <= {c["name"] for c in listing["content"]}
    finally:
        proc.terminate()
        proc.wait(20)


def test_quickstart_default_folder_outside_a_checkout(tmp_path):
    assert quickstart.default_out(tmp_path) == tmp_path / "seedance-quickstart"


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

    folder, book, _ = executed(ROOT / "notebooks" / "quickstart.ipynb")
    body, _ = HTMLExporter().from_notebook_node(book)
    (folder / "quickstart.html").write_text(body)
    sources = re.findall(r'<video[^>]*\ssrc="([^"]+)"', body)  # nbconvert reorders attributes
    assert sources and all((folder / s).is_file() for s in sources)  # next to the HTML file
    assert "<source" not in body
