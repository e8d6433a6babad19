"""A real browser: JupyterLab and Notebook 7 on loopback, Debian chromium driven by Playwright.

- Every shipped notebook (a copy) runs through the UI's Run -> Run All Cells, where the
  magic does not block: no error output, every `%%seedance` cell ends with a video that
  plays (readyState >= 2), and the emulator counts exactly the tasks the notebook asks for.
- The same in Notebook 7 for one notebook.
- A %%seedance cell run twice while its task runs creates one task (the re-run joins it).
- The panel: type a prompt, click Generate; while another cell sleeps the card's status
  changes and its elapsed time advances (the kernel is not blocked); the video plays;
  light and dark theme; after saving and reloading, the magic cell's video is still there.

Screenshots go to test-artifacts/. Without /usr/bin/chromium these tests skip (with the
reason), unless SEEDANCE_REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
"""
from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from _browser_helpers import (CHROMIUM, CHROMIUM_ARGS, EXPECTED_CREATES, ROOT, cell, creates,
                              lab_with_emulator, menu, require_chromium, run_cell, wait_idle,
                              write_notebook)

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SLEEP_CELL = "import time\ntime.sleep(12)"
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """An emulator and one Jupyter server (Lab + Notebook 7) whose kernels use it."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser")
    root = tmp / "root"
    for path in NOTEBOOKS:  # each notebook in its own folder: its own fresh ledger
        (root / path.stem).mkdir(parents=True)
        shutil.copy(path, root / path.stem / path.name)
    (root / "nb7").mkdir()
    shutil.copy(ROOT / "notebooks" / "image_to_video.ipynb", root / "nb7")
    (root / "panel").mkdir()
    _panel_notebook(root / "panel" / "quickstart.ipynb")
    # one 2.5 draft cell: its output gets a "Render final (1080p)" button
    write_notebook(root / "final" / "draft.ipynb",
                   ["%load_ext seedance_nb\n%config Seedance.poll_interval = 0.5", DRAFT_CELL])
    _untrusted(root / "panel")
    with lab_with_emulator(tmp, root, speed=10) as (url, emu):
        yield url, root, emu


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("failure-*.png"):
        old.unlink()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request):
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    failed = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed:  # this test failed: keep what the page showed
        page.screenshot(path=str(ARTIFACTS / f"failure-{request.node.name}.png"))
    page.close()


def _panel_notebook(dest: Path) -> None:
    """The quickstart with a sleeping cell right after the panel cell."""
    book = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    at = next(i for i, c in enumerate(book.cells) if c.source.strip() == "%seedance panel")
    sleep = nbformat.v4.new_code_cell(SLEEP_CELL)
    sleep["id"] = "sleep-cell"
    book.cells.insert(at + 1, sleep)
    nbformat.write(book, dest)


DRAFT_CELL = "%%seedance --model 2.5 --draft --name lighthouse\nA lighthouse at dusk --dur 4"


def _untrusted(folder: Path) -> None:
    """A notebook saved elsewhere (unsigned, so untrusted in Lab) holding our video output."""
    from seedance_nb.display import video_html

    from _magic_helpers import make_mp4

    video = make_mp4(folder / "seedance-output" / "headless.mp4", frames=48)
    code = nbformat.v4.new_code_cell("%%seedance\na headless clip")
    code.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": video_html(video, base_dir=folder),
                              "text/plain": "headless.mp4"})]
    nbformat.write(nbformat.v4.new_notebook(cells=[code]), folder / "untrusted.ipynb")


# --- page helpers ----------------------------------------------------------------------


def _open(page, url: str) -> None:
    """Open a notebook (Lab: `?reset`, so no tab of an earlier test is restored)."""
    page.goto(url, timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # the kernel is connected and idle: Lab's status bar says so, Notebook 7 fades its
    # kernel status (the toolbar's execution indicator says "idle" too early)
    page.wait_for_function(
        "() => document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")"
        " && ([...document.querySelectorAll('.jp-StatusBar-TextItem')].some("
        "e => /\\| Idle$/.test(e.textContent.trim()))"
        " || document.querySelector('.jp-NotebookKernelStatus-fade'))", timeout=120_000)


def _switch_theme(page, theme: str) -> None:
    menu(page, "Settings", "Theme", theme)
    light = "true" if theme == LIGHT else "false"
    page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached",
                           timeout=30_000)
    page.wait_for_timeout(500)  # let the theme's CSS settle before a screenshot


def _full_screenshot(page, name: str) -> None:
    """The whole notebook: grow the viewport to the cells' height, scrolled to the top."""
    height = page.evaluate(
        "() => { const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];"
        " const first = cells[0].getBoundingClientRect(), last = cells[cells.length - 1]"
        ".getBoundingClientRect(); return last.bottom - first.top }")
    old = page.viewport_size
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 250, 10000)})
    page.evaluate("() => document.querySelectorAll('.jp-WindowedPanel-outer, .jp-Notebook')"
                  ".forEach(e => { e.scrollTop = 0 })")
    page.wait_for_timeout(700)
    page.screenshot(path=str(ARTIFACTS / name))
    page.set_viewport_size(old)


def _video_cells(path: Path) -> list[int]:
    """Indexes (among code cells) of the %%seedance cells that must end with a video."""
    book = nbformat.read(path, as_version=4)
    code = [c for c in book.cells if c.cell_type == "code"]
    return [i for i, c in enumerate(code) if c.source.startswith("%%seedance")
            and "--dry-run" not in c.source.splitlines()[0]
            and "raises-exception" not in c.metadata.get("tags", [])]


def _run_all_and_check(page, path: Path, emu, shot: str) -> None:
    """Run -> Run All Cells; wait for every cell and video; check errors and creates."""
    before = creates(emu.stats())
    first = page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt").first
    for attempt in range(3):  # a click during the kernel's start-up can be dropped
        menu(page, "Run", "Run All Cells")
        try:
            page.wait_for_function("el => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                                   arg=first.element_handle(), timeout=20_000)
            break
        except Exception:
            assert attempt < 2, "Run All Cells did not start the first cell"
    n_code = len([c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"])
    ran = _wait_for_run_all(page, n_code)
    if not ran:  # Run All stopped at an error: save and name it
        _save_and_check_errors(page, path)
        raise AssertionError(f"{path.name}: Run All stopped before the last cell")
    # the magic cells returned at once; their outputs fill in as the jobs finish
    page.wait_for_function(
        "idx => { const cells = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')];"
        " const vids = [...document.querySelectorAll('.jp-Notebook video')];"
        " return idx.every(i => cells[i].querySelector('.jp-OutputArea video'))"
        " && vids.length > 0 && vids.every(v => v.readyState >= 2) }",
        arg=_video_cells(path), timeout=180_000)
    _full_screenshot(page, shot)
    made = creates(emu.stats()) - before
    _save_and_check_errors(page, path)
    assert made == EXPECTED_CREATES[path.stem], f"{path.name}: {made} tasks created"


def _wait_for_run_all(page, n_code: int, timeout: float = 240) -> bool:
    """True when every code cell has an execution count; False when Run All stopped
    early (as after an error: the kernel stays idle with cells left unrun)."""
    deadline = time.monotonic() + timeout
    idle = 0
    while time.monotonic() < deadline:
        prompts, busy = page.evaluate(
            "() => [[...document.querySelectorAll('.jp-Notebook .jp-CodeCell "
            ".jp-InputArea-prompt')].map(e => e.textContent),"
            " !document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")]")
        if len(prompts) == n_code and all(re.search(r"\[\d+\]", p) for p in prompts):
            return True
        # the kernel is idle between two cells only for milliseconds
        idle = 0 if busy or any("*" in p for p in prompts) else idle + 1
        if idle >= 5:
            return False
        time.sleep(1)
    raise AssertionError(f"Run All did not finish in {timeout:g} s: {prompts}")


def _save_and_check_errors(page, path: Path) -> None:
    """Save, then no error output except in cells tagged raises-exception."""
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    saved = _read_saved(path)
    for code in saved.cells:
        if code.cell_type != "code" or "raises-exception" in code.metadata.get("tags", []):
            continue
        for out in code.outputs:
            assert out.output_type != "error", (
                f"{path.name}: {code.source[:60]!r}: {out.get('ename')}: {out.get('evalue')}")


def _read_saved(path: Path, timeout: float = 20) -> Any:
    """The notebook as saved; the server may still be writing it when the page says saved
    (Notebook 7 marks dirty cells differently), so an empty or partial file is read again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return nbformat.read(path, as_version=4)
        except (nbformat.reader.NotJSONError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# --- tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_run_all_in_jupyterlab(server, page, name):
    url, root, emu = server
    _open(page, f"{url}/lab/tree/{name}/{name}.ipynb?reset")
    _run_all_and_check(page, root / name / f"{name}.ipynb", emu, f"lab-{name}.png")


def test_run_all_in_notebook7(server, page):
    url, root, emu = server
    _open(page, f"{url}/notebooks/nb7/image_to_video.ipynb")
    assert page.locator("#jp-MainMenu, .lm-MenuBar").count() > 0
    _run_all_and_check(page, root / "nb7" / "image_to_video.ipynb", emu,
                       "notebook7-image_to_video.png")


def _card_state(page) -> tuple[str, str]:
    """(status word, "N s") of the first job card; N is the elapsed time the kernel last
    sent (the card's clock ticks on in the browser between the kernel's updates)."""
    return tuple(page.evaluate(
        "() => { const c = document.querySelector('.seedance-card');"
        " const s = c && c.querySelector('.seedance-status');"
        " const e = c && c.querySelector('.seedance-clock');"
        " return [s ? s.dataset.status : '', e ? e.dataset.elapsed + ' s' : ''] }"))


def test_panel_in_jupyterlab(server, page):
    url, root, emu = server
    _open(page, f"{url}/lab/tree/panel/quickstart.ipynb?reset")
    run_cell(page, "%load_ext seedance_nb")
    wait_idle(page, "%load_ext seedance_nb")
    magic = "A paper boat drifting"
    before = creates(emu.stats())
    run_cell(page, magic)
    wait_idle(page, magic)
    assert cell(page, magic).locator("video").count() == 0  # the task is still running
    run_cell(page, magic)  # again while its task runs: joins that task, pays nothing more
    wait_idle(page, magic)
    # live frontend: the cell returns at once and the worker updates its display
    page.wait_for_function(
        "el => { const v = el.querySelector('video'); return v && v.readyState >= 2 }",
        arg=cell(page, magic).element_handle(), timeout=60_000)
    assert creates(emu.stats()) - before == 1, "re-running a running cell created a new task"

    run_cell(page, "%seedance panel")
    panel = page.locator(".seedance-panel")
    panel.wait_for(timeout=60_000)
    panel.locator(".seedance-prompt textarea").fill("A red kite over the sea --dur 4")
    panel.locator(".seedance-estimate").wait_for(timeout=30_000)
    panel.locator(".seedance-copy-button").click()  # the equivalent %%seedance cell
    copied = panel.locator(".seedance-copy textarea")
    copied.wait_for(timeout=30_000)
    assert copied.input_value().startswith("%%seedance --provider emulator --model ")
    assert copied.input_value().endswith("\nA red kite over the sea --dur 4")
    copy_js = panel.locator(".seedance-copy-js")
    copy_js.click()  # the widget's own button runs in the page (no kernel round trip)
    page.wait_for_function("el => el.textContent === 'Copied'",
                           arg=copy_js.element_handle(), timeout=5_000)
    panel.locator(".seedance-generate").click()
    # the panel also shows this folder's earlier job (the magic's boat) as a card: the
    # new card is the first one
    page.locator(".seedance-card", has_text="A red kite over the sea").wait_for(timeout=30_000)

    run_cell(page, "time.sleep(12)")
    sleeping = cell(page, "time.sleep(12)").locator(".jp-InputArea-prompt")
    page.wait_for_function("el => el.textContent.includes('*')",
                           arg=sleeping.element_handle(), timeout=10_000)
    statuses, elapsed = [], []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 11:
        assert "*" in sleeping.text_content(), "the sleep cell ended early"
        word, shown = _card_state(page)
        if not statuses or statuses[-1] != word:
            statuses.append(word)
        if shown and (not elapsed or elapsed[-1] != shown):
            elapsed.append(shown)
        if word == "succeeded":
            break
        time.sleep(0.2)
    still_sleeping = "*" in sleeping.text_content()
    (ARTIFACTS / "panel-card.txt").write_text(
        f"while the kernel slept: statuses {statuses}, elapsed {elapsed}\n")
    assert len(statuses) >= 2 and still_sleeping, (
        f"card status did not change while the kernel was busy: {statuses}")
    seconds = [int(e.split()[0]) for e in elapsed]
    assert len(seconds) >= 2 and seconds == sorted(seconds), (
        f"the card's elapsed time did not advance while the kernel was busy: {elapsed}")

    page.wait_for_function(
        "() => { const c = document.querySelector('.seedance-card');"
        " const v = c && c.querySelector('video'); return v && v.readyState >= 2 }",
        timeout=60_000)
    wait_idle(page, "time.sleep(12)", timeout=30_000)
    page.locator(".seedance-panel").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "panel-light.png"))
    _switch_theme(page, DARK)
    try:
        page.locator(".seedance-panel").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "panel-dark.png"))
        _full_screenshot(page, "lab-quickstart-dark.png")
    finally:
        _switch_theme(page, LIGHT)
    for section, shot in (("Images and references", "panel-images.png"),
                          ("More settings", "panel-settings.png")):  # every setting
        page.locator(".seedance-panel").get_by_text(section, exact=True).click()
        page.wait_for_timeout(500)
        page.locator(".seedance-panel .seedance-estimate").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / shot))

    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    page.reload()
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    after = cell(page, magic)
    after.locator("video").wait_for(timeout=30_000)
    src = after.locator("video").get_attribute("src")
    assert "/files/panel/seedance-output/" in src and ".mp4" in src  # Lab resolved it
    page.wait_for_function(
        "el => { const v = el.querySelector('video'); return v && v.readyState >= 2 }",
        arg=after.element_handle(), timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "panel-reloaded.png"))

    # an untrusted notebook (e.g. from `seedance-nb quickstart`) still plays: Lab's
    # sanitizer keeps <video src> (it would strip <source src>)
    page.goto(f"{url}/lab/tree/panel/untrusted.ipynb?reset", timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('video')].some("
        "v => v.src.includes('headless.mp4') && v.readyState >= 2)", timeout=60_000)

    saved = _read_saved(root / "panel" / "quickstart.ipynb")
    magic_cell = next(c for c in saved.cells if magic in c.source)
    assert any("<video src=" in o.get("data", {}).get("text/html", "")
               for o in magic_cell.outputs)


def test_render_final_button_plays_the_1080p_final(server, page):
    """A 2.5 draft cell: once the draft plays, its "Render final (1080p)" button sends
    the final (one more task) and the final's card plays the 1080p video."""
    url, root, emu = server
    _open(page, f"{url}/lab/tree/final/draft.ipynb?reset")
    run_cell(page, "%load_ext seedance_nb")
    wait_idle(page, "%load_ext seedance_nb")
    before = creates(emu.stats())
    run_cell(page, "A lighthouse at dusk")
    draft = cell(page, "A lighthouse at dusk")
    button = draft.locator(".seedance-final-button")
    button.wait_for(timeout=60_000)
    assert button.is_disabled()  # not before the draft succeeded
    page.wait_for_function(
        "el => { const v = el.querySelector('.jp-OutputArea video');"
        " return v && v.readyState >= 2 }", arg=draft.element_handle(), timeout=120_000)
    page.wait_for_function("el => !el.disabled", arg=button.element_handle(), timeout=30_000)
    assert "final possible for 6 d" in draft.text_content()
    button.click()
    card = draft.locator(".seedance-card")
    card.wait_for(timeout=30_000)
    page.wait_for_function(
        "el => { const v = el.querySelector('.seedance-card video');"
        " return v && v.readyState >= 2 && v.videoHeight === 1080 }",
        arg=draft.element_handle(), timeout=180_000)
    assert button.is_disabled()  # one final per click: no second bill
    assert creates(emu.stats()) - before == 2  # the draft and its final
    card.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "lab-render-final.png"))


# --- without chromium -------------------------------------------------------------------


def test_missing_chromium_skips_with_the_reason(monkeypatch, tmp_path):
    import _browser_helpers

    monkeypatch.setattr(_browser_helpers, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("SEEDANCE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing: apt-get install"):
        _browser_helpers.require_chromium()
    monkeypatch.setenv("SEEDANCE_REQUIRE_BROWSER", "1")  # as .ci/run sets it
    with pytest.raises(pytest.fail.Exception, match="SEEDANCE_REQUIRE_BROWSER=1 requires it"):
        _browser_helpers.require_chromium()
