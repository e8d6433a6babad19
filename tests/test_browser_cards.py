"""Job cards in a real browser (JupyterLab on loopback, Debian chromium via Playwright).

- A running card's clock advances in the page while another cell runs `time.sleep(...)`:
  the clock is CSS (a counter driven by an animation), so it is read as the browser
  computes it; its bar slides (no percentage from an Ark gateway) and it shows the
  typical-duration hint.
- Cancel on a running Ark task is disabled, and the card says why.
- A card that still shows `queued` while the gateway already runs the task (its status
  read is far away, as with a 15 s poll interval): clicking Cancel shows the gateway's
  refusal in plain words.

Screenshots: test-artifacts/cards-running.png and cards-running-dark.png. Without /usr/bin/chromium the test skips
(with the reason), unless SEEDANCE_REQUIRE_BROWSER=1 makes that a failure.
"""
from __future__ import annotations

import re
import time

import pytest

from _browser_helpers import (ROOT, cell, chromium_page, lab_with_emulator, require_chromium,
                              run_cell, wait_idle, write_notebook)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]
ARTIFACTS = ROOT / "test-artifacts"

CELLS = [
    "%load_ext seedance_nb",
    # a task that stays running at the gateway ([emu:stall], §10.10)
    "from seedance_nb import jobs\nfrom seedance_nb.ui import JobCard\n"
    "kw = dict(model='1.0-pro-fast', resolution='480p', duration=2)\n"
    "heron = jobs.submit('a heron stands still [emu:stall]', **kw)\n"
    "JobCard(heron, title='heron')",
    "import time\ntime.sleep(8)",
    # on its own lane (byteplus dialect, also Ark routes), with its first status read ten
    # minutes away: the card keeps saying queued while the gateway already runs the task
    "import seedance_nb.jobs.scheduler as sched\nfrom seedance_nb.config import settings\n"
    "sched.FIRST_CHECK_S = settings.poll_interval = 600\n"
    "otter = jobs.submit('an otter floats [emu:stall]', emulate='byteplus', **kw)\n"
    "JobCard(otter, title='otter')",
]

# the clock's computed value: the CSS counter's two animated custom properties
CLOCK_JS = ("el => { const s = getComputedStyle(el, '::after');"
            " return 60 * parseInt(s.getPropertyValue('--seedance-min'))"
            " + parseInt(s.getPropertyValue('--seedance-sec')) }")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("browser-cards")
    root = tmp / "root"
    write_notebook(root / "cards.ipynb", CELLS)
    with lab_with_emulator(tmp, root, speed=10) as (url, emu):
        yield url, emu


@pytest.fixture
def page(lab, request):
    with chromium_page(request, ARTIFACTS / "failure-cards.png", 1100, 1000) as page:
        yield page


def _card(page, title: str):
    return page.locator(".seedance-card").filter(has_text=title).first


def test_running_card_ticks_and_says_why_it_cannot_cancel(lab, page):
    url, _emu = lab
    page.goto(f"{url}/lab/tree/cards.ipynb?reset", timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some("
        "e => /\\| Idle$/.test(e.textContent.trim()))", timeout=120_000)
    run_cell(page, "%load_ext seedance_nb")
    wait_idle(page, "%load_ext seedance_nb")
    run_cell(page, "heron = jobs.submit")
    heron = _card(page, "heron")
    heron.locator(".seedance-status[data-status='running']").wait_for(timeout=60_000)

    # while the kernel sleeps, the clock keeps moving in the page
    run_cell(page, "time.sleep(8)")
    sleeping = cell(page, "time.sleep(8)").locator(".jp-InputArea-prompt")
    page.wait_for_function("el => el.textContent.includes('*')",
                           arg=sleeping.element_handle(), timeout=10_000)
    clock = heron.locator(".seedance-clock")
    first = clock.evaluate(CLOCK_JS)
    time.sleep(3)
    later = clock.evaluate(CLOCK_JS)
    assert "*" in sleeping.text_content(), "the sleep cell ended before the second reading"
    assert later - first >= 2, f"the clock did not advance while the kernel slept: {first} -> {later}"
    bar = heron.locator(".widget-hprogress")
    assert "seedance-indeterminate" in bar.get_attribute("class"), bar.evaluate(
        "el => el.outerHTML")
    hint = heron.locator(".seedance-hint").text_content()
    assert hint.startswith("emulator: ") and "--speed" in hint

    # Cancel on a running Ark task: off, and the card says why
    button = heron.locator("button", has_text="Cancel")
    assert button.is_disabled()
    assert button.get_attribute("title") == (
        "Cannot cancel: the emulator (ark dialect) cancels only queued tasks; this one is "
        "running and runs to the end")
    assert "Cancel is off: the emulator (ark dialect) cancels only queued tasks" in \
        heron.locator(".seedance-notice").text_content()
    wait_idle(page, "time.sleep(8)", timeout=30_000)

    # a stale "queued" card: the click reaches the gateway, which refuses (409)
    run_cell(page, "otter = jobs.submit")
    otter = _card(page, "otter")
    otter.locator(".seedance-status[data-status='queued']").wait_for(timeout=60_000)
    wait_idle(page, "otter = jobs.submit")
    time.sleep(1)  # the emulator moves it to running after 0.2 s (2 s / speed 10)
    otter.locator("button", has_text="Cancel").click()
    notice = otter.locator(".seedance-notice", has_text="Could not cancel")
    notice.wait_for(timeout=30_000)
    assert notice.text_content() == ("Could not cancel: the task is already running; the "
                                     "emulator (byteplus dialect) cancels only queued tasks")
    page.locator(".jp-Notebook").first.evaluate("el => el.scrollTop = 0")
    heron.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / "cards-running.png"))
    # the dark theme: the card's colours are JupyterLab's variables
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Settings$")).first.click()
    for label in ("Theme", "JupyterLab Dark"):
        item = page.locator(".lm-Menu:visible .lm-Menu-itemLabel",
                            has_text=re.compile(f"^{label}$")).last
        item.wait_for(timeout=10_000)
        item.hover() if label == "Theme" else item.click()
    page.wait_for_selector("body[data-jp-theme-light='false']", state="attached",
                           timeout=30_000)
    page.wait_for_timeout(700)
    page.screenshot(path=str(ARTIFACTS / "cards-running-dark.png"))
