"""A real browser: JupyterLab on loopback, Debian chromium driven by Playwright.

Opens a copy of the quickstart, runs a %%seedance cell and the panel, types a prompt
and clicks Generate; while another cell sleeps, the job card's status changes (the
kernel is not blocked); the card's video plays (readyState >= 2); after saving and
reloading the page the magic cell's video output is still there.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from seedance_nb.emulator import Emulator

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
SLEEP_CELL = "import time\ntime.sleep(10)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _settings(folder: Path) -> None:
    """Lab user settings: render every cell (no windowing), no news or update checks."""
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False},
    }
    for name, value in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def _untrusted(root: Path) -> None:
    """A notebook saved elsewhere (unsigned, so untrusted in Lab) holding our video output."""
    from seedance_nb.display import video_html

    from _magic_helpers import make_mp4

    video = make_mp4(root / "seedance-output" / "headless.mp4", frames=48)
    cell = nbformat.v4.new_code_cell("%%seedance\na headless clip")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": video_html(video, base_dir=root),
                              "text/plain": "headless.mp4"})]
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), root / "untrusted.ipynb")


def _notebook(dest: Path) -> None:
    """The quickstart with a sleeping cell right after the panel cell."""
    book = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    at = next(i for i, c in enumerate(book.cells) if c.source.strip() == "%seedance panel")
    sleep = nbformat.v4.new_code_cell(SLEEP_CELL)
    sleep["id"] = "sleep-cell"
    book.cells.insert(at + 1, sleep)
    nbformat.write(book, dest)


@pytest.fixture
def lab(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")
    root = tmp_path / "root"
    root.mkdir()
    _notebook(root / "quickstart.ipynb")
    _untrusted(root)
    _settings(tmp_path / "settings")
    port = _free_port()
    with Emulator(port=0, speed=10) as emu:
        env = {k: v for k, v in os.environ.items()
               if k not in ("SEEDANCE_NB_WAIT", "SEEDANCE_PROVIDER", "JPY_SESSION_NAME")}
        env.update(SEEDANCE_EMULATOR_URL=emu.base_url, SEEDANCE_PROVIDER="emulator",
                   JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
                   JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
                   JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                   PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
        log = open(tmp_path / "lab.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={root}",
             "--IdentityProvider.token=", "--ServerApp.password=",
             "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=True"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status", timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.flush()
                        pytest.fail("JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:])
                    time.sleep(0.5)
            yield url, root
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _cell(page, text: str):
    return page.locator(".jp-Notebook .jp-Cell").filter(has_text=text).first


def _run(page, text: str) -> None:
    """Run one cell; retried, because a key press can land before the editor has focus."""
    cell = _cell(page, text)
    prompt = cell.locator(".jp-InputArea-prompt")
    before = prompt.text_content()
    for _ in range(3):
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_function("([el, old]) => el.textContent !== old",
                                   arg=[prompt.element_handle(), before], timeout=5_000)
            return
        except Exception:
            continue
    raise AssertionError(f"could not run the cell {text!r}")


def _wait_idle(page, text: str, timeout: float = 60_000) -> None:
    prompt = _cell(page, text).locator(".jp-InputArea-prompt")
    page.wait_for_function(
        "el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=timeout)


def test_quickstart_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    url, root = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.goto(f"{url}/lab/tree/quickstart.ipynb", timeout=90_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=90_000)

            _run(page, "%load_ext seedance_nb")
            _wait_idle(page, "%load_ext seedance_nb")
            magic = "A paper boat drifting"
            _run(page, magic)
            _wait_idle(page, magic)
            # live frontend: the cell returns at once and the worker updates its display
            page.wait_for_function(
                "el => { const v = el.querySelector('video'); return v && v.readyState >= 2 }",
                arg=_cell(page, magic).element_handle(), timeout=60_000)

            _run(page, "%seedance panel")
            panel = page.locator(".seedance-panel")
            panel.wait_for(timeout=60_000)
            panel.locator("textarea").fill("A red kite over the sea --dur 4")
            panel.locator(".seedance-estimate").wait_for(timeout=30_000)
            panel.locator(".seedance-generate").click()
            status = page.locator(".seedance-card .seedance-status").first
            status.wait_for(timeout=30_000)

            _run(page, "time.sleep(10)")
            sleeping = _cell(page, "time.sleep(10)").locator(".jp-InputArea-prompt")
            page.wait_for_function("el => el.textContent.includes('*')",
                                   arg=sleeping.element_handle(), timeout=10_000)
            seen = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < 9:
                assert "*" in sleeping.text_content(), "the sleep cell ended early"
                word = status.get_attribute("data-status")
                if not seen or seen[-1] != word:
                    seen.append(word)
                if word == "succeeded":
                    break
                time.sleep(0.2)
            still_sleeping = "*" in sleeping.text_content()
            assert len(seen) >= 2 and still_sleeping, (
                f"card status did not change while the kernel was busy: {seen}")

            page.wait_for_function(
                "() => { const v = document.querySelector('.seedance-card video');"
                " return v && v.readyState >= 2 }", timeout=60_000)
            _wait_idle(page, "time.sleep(10)", timeout=30_000)
            page.locator(".seedance-card").first.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser-panel.png"), full_page=True)

            page.keyboard.press("Control+s")
            page.wait_for_function(
                "() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
            page.reload()
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            after = _cell(page, magic)
            after.locator("video").wait_for(timeout=30_000)
            src = after.locator("video").get_attribute("src")
            assert "/files/seedance-output/" in src and ".mp4" in src  # Lab resolved it
            page.wait_for_function(
                "el => { const v = el.querySelector('video'); return v && v.readyState >= 2 }",
                arg=after.element_handle(), timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "browser-reloaded.png"), full_page=True)

            # an untrusted notebook (e.g. from `seedance-nb quickstart`) still plays: Lab's
            # sanitizer keeps <video src> (it would strip <source src>)
            page.goto(f"{url}/lab/tree/untrusted.ipynb", timeout=90_000)
            page.wait_for_function(
                "() => [...document.querySelectorAll('video')].some("
                "v => v.src.includes('headless.mp4') && v.readyState >= 2)", timeout=60_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    saved = nbformat.read(root / "quickstart.ipynb", as_version=4)
    magic_cell = next(c for c in saved.cells if magic in c.source)
    assert any("<video src=" in o.get("data", {}).get("text/html", "") for o in magic_cell.outputs)
