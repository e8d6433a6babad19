"""Shared by test_browser.py and test_notebooks.py: what each shipped notebook asks for,
the chromium rule, and a Jupyter server on loopback."""
from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator, Mapping

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: tasks each shipped notebook creates on a fresh ledger (the rest is reused)
EXPECTED_CREATES = {"quickstart": 4, "experiment_sweep": 4, "image_to_video": 5,
                    "draft_to_final": 6}  # 4 drafts, then 2 finals
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def creates(stats: Mapping) -> int:
    """Accepted creates over every route of the emulator's `/_emulator/stats`."""
    return sum(stats["creates"].values())


def require_chromium() -> None:
    """Skip (with the reason) when chromium is missing; fail instead under
    SEEDANCE_REQUIRE_BROWSER=1, as .ci/run sets, so CI cannot skip silently."""
    if Path(CHROMIUM).exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    if os.environ.get("SEEDANCE_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; SEEDANCE_REQUIRE_BROWSER=1 requires it")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_settings(folder: Path, theme: str = "JupyterLab Light") -> None:
    """Lab user settings: render every cell (no windowing), a theme, no news or updates."""
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false", "checkForUpdates": False},
        "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": theme},
    }
    for name, value in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def kernel_env(emulator_url: str, tmp: Path) -> dict[str, str]:
    """The server's environment: kernels use our emulator; Jupyter state lives in `tmp`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("SEEDANCE_NB_WAIT", "SEEDANCE_PROVIDER", "JPY_SESSION_NAME",
                        "ARK_API_KEY", "BYTEPLUS_API_KEY", "COMETAPI_KEY",
                        "ACEDATACLOUD_API_TOKEN")}
    env.update(SEEDANCE_EMULATOR_URL=emulator_url, SEEDANCE_PROVIDER="emulator",
               JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
               JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    return env


def wait_for_server(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Jupyter server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)


@contextlib.contextmanager
def jupyter_server(argv: list[str], *, cwd: Path, env: Mapping[str, str], log: Path,
                   port: int) -> Iterator[str]:
    """Run `argv` (a Jupyter server on 127.0.0.1:`port`, no token); yield its URL."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [*argv, "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
             "--IdentityProvider.token=", "--ServerApp.password=",
             "--ServerApp.disable_check_xsrf=True"],
            cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_server(url, proc, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def lab_with_emulator(tmp: Path, root: Path, **emulator_options) -> Iterator[tuple[str, object]]:
    """An emulator (`emulator_options`: speed, concurrency, ...) and JupyterLab serving
    `root`, whose kernels use that emulator; Jupyter's state lives in `tmp`. Yields
    (the server's URL, the emulator)."""
    from seedance_nb.emulator import Emulator

    write_settings(tmp / "settings")
    with Emulator(port=0, **emulator_options) as emu:
        with jupyter_server([sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
                             "--LabApp.news_url="],
                            cwd=root, env=kernel_env(emu.base_url, tmp), log=tmp / "lab.log",
                            port=free_port()) as url:
            yield url, emu


def write_notebook(path: Path, cells: list[str]) -> None:
    """A Python 3 notebook of code cells."""
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    nbformat.write(book, path)


@contextlib.contextmanager
def chromium_page(request, failure_png: Path, width: int, height: int) -> Iterator[object]:
    """A page in Debian's chromium; if the test fails, its screenshot goes to
    `failure_png` (what the page showed)."""
    from playwright.sync_api import sync_playwright

    failure_png.parent.mkdir(exist_ok=True)
    failed = request.session.testsfailed
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": width, "height": height})
        try:
            yield page
            if request.session.testsfailed > failed:
                page.screenshot(path=str(failure_png))
        finally:
            chromium.close()


# --- driving JupyterLab with Playwright -------------------------------------------------

def menu(page, *path: str) -> None:
    """Click through the menu bar, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{path[0]}$")).first.click()
    for label in path[1:]:
        item = page.locator(".lm-Menu:visible .lm-Menu-itemLabel",
                            has_text=re.compile(f"^{re.escape(label)}$")).last
        item.wait_for(timeout=10_000)
        if label == path[-1]:
            item.click()
        else:
            item.hover()


def cell(page, text: str):
    """The first notebook cell showing `text`."""
    return page.locator(".jp-Notebook .jp-Cell").filter(has_text=text).first


def run_cell(page, text: str) -> None:
    """Run one cell; retried, because a key press can land before the editor has focus."""
    target = cell(page, text)
    prompt = target.locator(".jp-InputArea-prompt")
    before = prompt.text_content()
    for _ in range(3):
        target.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_function("([el, old]) => el.textContent !== old",
                                   arg=[prompt.element_handle(), before], timeout=5_000)
            return
        except Exception:
            continue
    raise AssertionError(f"could not run the cell {text!r}")


def wait_idle(page, text: str, timeout: float = 60_000) -> None:
    prompt = cell(page, text).locator(".jp-InputArea-prompt")
    page.wait_for_function(
        "el => /\\[\\d+\\]/.test(el.textContent)", arg=prompt.element_handle(), timeout=timeout)
