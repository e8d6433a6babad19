"""A 24-video sweep in JupyterLab (Debian chromium through Playwright): one summary.

While the sweep runs the cell shows the live widget (counts, ETA, a gallery with
prev/next buttons); it pages while videos are still being made. Once every video is
done the output becomes the saved HTML, paged without the kernel: it reaches "24 done",
its pages turn, and the videos on the visible page play (readyState >= 2). After a
save and reload the summary is still there. Screenshots: test-artifacts/summary-*.png.
"""
from __future__ import annotations

import re
import time

import nbformat
import pytest

from _browser_helpers import (ROOT, chromium_page, lab_with_emulator, require_chromium,
                              write_notebook)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(420)]

ARTIFACTS = ROOT / "test-artifacts"
SWEEP = ("%%seedance --model 1.0-pro-fast --rs 480p --dur 2 --sweep seed=1,2,3,4,5,6 "
         "--sweep rt=16:9,9:16,1:1,4:3\nkoi in a pond")

DRAFTS = "%%seedance --model 2.5 --draft --dur 4 --sweep seed=1,2,3,4,5,6,7,8,9\na heron lifts off"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """An emulator running four tasks at a time (so the sweep takes a while) and Lab."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("summary")
    root = tmp / "root"
    write_notebook(root / "summary" / "summary.ipynb",
                   ["%load_ext seedance_nb\n%config Seedance.poll_interval = 0.5", SWEEP])
    write_notebook(root / "summary" / "drafts.ipynb",
                   ["%load_ext seedance_nb\n%config Seedance.poll_interval = 0.5", DRAFTS])
    with lab_with_emulator(tmp, root, speed=10, concurrency={"1.0-pro-fast": 4}) as (url, _emu):
        yield url, root


@pytest.fixture
def page(lab, request):
    with chromium_page(request, ARTIFACTS / "failure-summary.png", 1280, 1400) as page:
        yield page


def _open(page, url: str) -> None:
    page.goto(url, timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function(
        "() => document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")"
        " && [...document.querySelectorAll('.jp-StatusBar-TextItem')].some("
        "e => /\\| Idle$/.test(e.textContent.trim()))", timeout=120_000)


def _run_all(page) -> None:
    first = page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt").first
    for attempt in range(3):  # a click during the kernel's start-up can be dropped
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).first.click()
        page.locator(".lm-Menu:visible .lm-Menu-itemLabel",
                     has_text=re.compile("^Run All Cells$")).last.click()
        try:
            page.wait_for_function("el => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                                   arg=first.element_handle(), timeout=20_000)
            return
        except Exception:
            assert attempt < 2, "Run All Cells did not start the first cell"


def _theme(page, theme: str, light: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).first.click()
    page.locator(".lm-Menu:visible .lm-Menu-itemLabel", has_text=re.compile("^Theme$")).last.hover()
    page.locator(".lm-Menu:visible .lm-Menu-itemLabel",
                 has_text=re.compile(f"^{theme}$")).last.click()
    page.wait_for_selector(f"body[data-jp-theme-light='{light}']", state="attached",
                           timeout=30_000)
    page.wait_for_timeout(500)  # the theme's CSS settles before a screenshot


#: the videos on the page a gallery shows (hidden pages have no layout box)
VISIBLE = ("() => [...document.querySelectorAll('.seedance-summary video')]"
           ".filter(v => v.getClientRects().length > 0)")


def _visible_videos(page) -> list[dict]:
    return page.evaluate(f"() => ({VISIBLE})().map(v => ({{ready: v.readyState, "
                         f"src: v.getAttribute('src')}}))")


def _wait_visible_playable(page, count: int) -> None:
    page.wait_for_function(f"n => {{ const v = ({VISIBLE})(); return v.length === n"
                           f" && v.every(x => x.readyState >= 2) }}", arg=count,
                           timeout=60_000)


def _label(page) -> str:
    return page.locator(".seedance-summary .seedance-page-label:visible").first.inner_text()


def test_a_24_video_sweep_is_one_paged_summary(lab, page):
    url, root = lab
    path = root / "summary" / "summary.ipynb"
    _open(page, f"{url}/lab/tree/summary/summary.ipynb?reset")
    _run_all(page)
    sweep = page.locator(".jp-Notebook .jp-CodeCell").nth(1)

    # live: the widget, paged with buttons while videos are still being made
    sweep.locator(".seedance-summary .seedance-next").first.wait_for(timeout=120_000)
    page.wait_for_function(
        "() => { const l = document.querySelector('.seedance-summary .seedance-page-label');"
        " return l && / of 2 /.test(l.textContent) }", timeout=180_000)
    done = sweep.locator('.seedance-count[data-kind="done"]').inner_text()
    assert done != "24 done", "the sweep ended before the live pages could be checked"
    assert _label(page).startswith("page 1 of 2 · videos 1–12")
    sweep.locator(".seedance-next").first.click()
    page.wait_for_function(
        "() => /^page 2 of 2/.test(document.querySelector("
        "'.seedance-summary .seedance-page-label').textContent)", timeout=10_000)
    sweep.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "summary-live.png"))

    # every video done: the saved HTML replaces the widget, on the page it showed
    page.wait_for_function(
        "() => { const c = document.querySelector("
        "'.seedance-summary .seedance-count[data-kind=\"done\"]');"
        " return c && c.textContent === '24 done'"
        " && document.querySelector('.seedance-gallery input[type=radio]') }",
        timeout=240_000)
    assert sweep.locator(".seedance-summary").count() == 1  # one output, no placeholders
    shown = sweep.locator(".jp-OutputArea-output:not([data-mime-type*='stdout'])")
    assert shown.count() == 1  # (the emulator notice, printed once, is a stream)
    head = sweep.locator(".seedance-summary-head").inner_text()
    assert "0 running · 0 queued" in head and "0 failed" in head and "finished in" in head
    assert _label(page) == "page 2 of 2 · videos 13–24 of 24"
    _wait_visible_playable(page, 12)
    second = {v["src"] for v in _visible_videos(page)}
    sweep.locator("label.seedance-prev:visible").first.click()
    assert _label(page) == "page 1 of 2 · videos 1–12 of 24"
    _wait_visible_playable(page, 12)
    first = {v["src"] for v in _visible_videos(page)}
    assert len(first | second) == 24  # two pages, 24 different files
    time.sleep(0.5)  # let the posters of the first page paint
    sweep.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "summary-sweep.png"))
    _theme(page, "JupyterLab Dark", "false")
    page.screenshot(path=str(ARTIFACTS / "summary-sweep-dark.png"))
    _theme(page, "JupyterLab Light", "true")

    # saved: one display output holding the whole summary; it comes back after a reload
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    saved = nbformat.read(path, as_version=4)
    outputs = [o for o in saved.cells[1].outputs if o.output_type != "stream"]
    assert len(outputs) == 1 and ">24 done<" in outputs[0]["data"]["text/html"]
    assert "application/vnd.jupyter.widget-view+json" not in outputs[0]["data"]
    page.reload()
    page.wait_for_selector(".seedance-summary .seedance-gallery", timeout=90_000)
    # it opens on the page the widget showed when the sweep ended, and still turns
    assert _label(page) == "page 2 of 2 · videos 13–24 of 24"
    page.locator("label.seedance-prev:visible").first.click()
    assert _label(page) == "page 1 of 2 · videos 1–12 of 24"
    _wait_visible_playable(page, 12)


def test_a_big_draft_sweep_shows_each_final_command(lab, page):
    """Nine 2.5 drafts: no button per video in the summary, but a line saying how, and
    under each video the command that renders its final."""
    url, _root = lab
    _open(page, f"{url}/lab/tree/summary/drafts.ipynb?reset")
    _run_all(page)
    sweep = page.locator(".jp-Notebook .jp-CodeCell").nth(1)
    page.wait_for_function(
        "() => { const c = document.querySelector("
        "'.seedance-summary .seedance-count[data-kind=\"done\"]');"
        " return c && c.textContent === '9 done'"
        " && document.querySelector('.seedance-gallery input[type=radio]') }",
        timeout=240_000)
    head = sweep.locator(".seedance-summary-head").inner_text()
    assert "%seedance final TASK_ID renders one at 1080p" in head
    commands = sweep.locator(".seedance-tile:visible .seedance-final-hint code")
    assert commands.count() == 9
    assert all(re.fullmatch(r"%seedance final \S+", commands.nth(i).inner_text())
               for i in range(9))
    _wait_visible_playable(page, 9)
    sweep.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "summary-drafts.png"))
