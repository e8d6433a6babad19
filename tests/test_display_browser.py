"""The cell outputs in a real JupyterLab (chromium): the HTML is what Lab shows (the
poster PNG in the same output does not appear twice), gallery tiles are the same size,
a dry run and a waited cell are one output each, the theme's colours apply (light and
dark), and the saved notebook keeps the PNG for GitHub, nbviewer and exports.
Screenshots: test-artifacts/display-*.png."""
from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from _browser_helpers import (chromium_page, lab_with_emulator, menu, require_chromium,
                              write_notebook)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CELLS = ["%load_ext seedance_nb\n%config Seedance.poll_interval = 0.3",
         "%%seedance --wait --model 1.0-pro-fast --rs 480p --sweep rt=16:9,9:16\nkoi --dur 2",
         "%%seedance --wait --model 1.0-pro-fast --rs 480p\na paper lamp --dur 2",
         "%%seedance --dry-run --model 2.0-fast\na boat --rs 720p --dur 5"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory, request):
    require_chromium()
    tmp = tmp_path_factory.mktemp("display-browser")
    root = tmp / "root"
    write_notebook(root / "display.ipynb", CELLS)
    with lab_with_emulator(tmp, root, speed=100, run_seconds=1) as (url, _emu), \
            chromium_page(request, ARTIFACTS / "failure-display.png", 1400, 1400) as page:
        yield page, url, root


def _outputs(page, index: int) -> dict:
    """What the code cell at `index` shows; `n` counts outputs other than printed text
    (the emulator's one-time notice)."""
    return page.evaluate(
        """i => { const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i];
          const area = cell.querySelector('.jp-OutputArea');
          const kids = [...area.querySelectorAll(':scope > .jp-OutputArea-child')].filter(
            k => !k.querySelector('[data-mime-type^="application/vnd.jupyter.std"]'));
          const vids = [...area.querySelectorAll('video')].map(v => {
            const r = v.getBoundingClientRect(); return [Math.round(r.width), Math.round(r.height)] });
          return {n: kids.length, text: area.innerText, videos: vids,
                  images: area.querySelectorAll('.jp-RenderedImage').length,
                  html: area.querySelectorAll('.jp-RenderedHTMLCommon').length} }""", index)


def _muted_luminance(page) -> float:
    """Luminance of the gallery's estimate line (a theme colour: --jp-ui-font-color2)."""
    rgb = page.evaluate("() => getComputedStyle(document.querySelector("
                        "'.seedance-gallery > div')).color")
    r, g, b = [int(v) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_outputs_in_jupyterlab(lab):
    page, url, root = lab
    page.goto(f"{url}/lab/tree/display.ipynb?reset", timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
        ".some(e => /\\| Idle$/.test(e.textContent.trim()))", timeout=120_000)
    for _ in range(3):  # a click during the kernel's start-up can be dropped
        menu(page, "Run", "Run All Cells")
        try:
            page.wait_for_function(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell "
                ".jp-InputArea-prompt')].every(e => /\\[\\d+\\]/.test(e.textContent))",
                timeout=150_000)
            break
        except Exception:
            continue
    page.wait_for_function("() => [...document.querySelectorAll('.jp-Notebook video')]"
                           ".every(v => v.readyState >= 2)", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "display-light.png"), full_page=True)

    sweep, single, dry = _outputs(page, 1), _outputs(page, 2), _outputs(page, 3)
    for shown in (sweep, single, dry):
        assert shown["images"] == 0  # Lab renders the HTML; the PNG is not shown twice
        assert "[seedance]" not in shown["text"]  # no status lines under the results
    assert sweep["n"] == 1 and len(sweep["videos"]) == 2
    assert sweep["videos"][0] == sweep["videos"][1]  # equal tiles for 16:9 and 9:16
    assert sweep["text"].count("free on the emulator") == 1
    assert single["n"] == 1 and len(single["videos"]) == 1
    assert dry["n"] == 1 and "dry run: nothing sent" in dry["text"]
    light = _muted_luminance(page)

    menu(page, "Settings", "Theme", "JupyterLab Dark")
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached",
                           timeout=30_000)
    page.wait_for_timeout(700)
    page.screenshot(path=str(ARTIFACTS / "display-dark.png"), full_page=True)
    dark = _muted_luminance(page)
    assert light < 128 < dark, (light, dark)  # the text follows the theme

    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    deadline = time.monotonic() + 20
    while True:  # the server may still be writing the file
        try:
            saved = nbformat.read(root / "display.ipynb", as_version=4)
            break
        except (nbformat.reader.NotJSONError, ValueError):
            assert time.monotonic() < deadline
            time.sleep(0.2)
    for index in (1, 2):  # the saved outputs keep the still for viewers without video
        data = [o for o in saved.cells[index].outputs if o.output_type == "display_data"]
        assert len(data) == 1 and "image/png" in data[0].data and "text/html" in data[0].data
