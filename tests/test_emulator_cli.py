"""Start-up paths: the CLI, `python -m`, the subprocess Emulator and ensure_local."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

import seedance_nb.emulator as emulator_pkg
from seedance_nb import catalog
from seedance_nb.emulator import Emulator, ensure_local
from seedance_nb.emulator.cli import main, parse

from _emulator_helpers import ARK_TASKS, ark_body, wait_for


def test_subprocess_emulator_serves_and_stops():
    with Emulator(speed=1000, run_seconds=0, token="sk-test") as emu:
        assert re.match(r"^http://127\.0\.0\.1:\d+$", emu.base_url) and emu.token == "sk-test"
        proc = emu._proc
        headers = {"Authorization": "Bearer sk-test"}
        reply = requests.post(emu.base_url + ARK_TASKS, json=ark_body(), headers=headers)
        assert reply.status_code == 200
        task_id = reply.json()["id"]
        task = wait_for(lambda: requests.get(f"{emu.base_url}{ARK_TASKS}/{task_id}",
                                             headers=headers).json(),
                        lambda t: t["status"] == "succeeded")
        assert requests.get(task["content"]["video_url"]).status_code == 200
        assert emu.stats()["creates"]["ark"] == 1
    assert proc.returncode == 0  # SIGTERM is a clean stop
    with pytest.raises(requests.ConnectionError):
        requests.get(emu.base_url + "/healthz", timeout=2)


def test_cli_prints_url_and_token_and_stops_on_sigint():
    proc = subprocess.Popen([sys.executable, "-m", "seedance_nb.emulator", "--port", "0",
                             "--token", "sk-one", "--token", "sk-two"],
                            stdout=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        url = re.search(r"listening on (http://\S+)", first).group(1)
        assert "sk-one" in proc.stdout.readline()
        for token in ("sk-one", "sk-two"):
            reply = requests.get(url + ARK_TASKS, headers={"Authorization": f"Bearer {token}"})
            assert reply.status_code == 200
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 0 and "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()


def test_console_script_dispatch(capsys):
    from seedance_nb.cli import main as top

    with pytest.raises(SystemExit) as info:
        top(["emulator", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--comet-status-case", "--run-seconds", "--max-queued", "--endpoint",
                   "--fault-5xx", "--fault-reset", "--fault-slow-download",
                   "--fault-truncate", "--fault-malformed", "--fault-seed", "--fault-routes"):
        assert option in out


@pytest.mark.parametrize("argv, text", [
    (["--rpm", "1.5-pro"], "--rpm expects KEY=VALUE"),
    (["--rpm", "9.9=3"], "unknown family '9.9'"),
    (["--concurrency", "2.0=x"], "is not an integer"),
    (["--endpoint", "abc=1.0-pro"], "start with 'ep-'"),
    (["--speed", "0"], "--speed must be > 0"),
    (["--fault-5xx", "2"], "rate must be within [0, 1]"),
])
def test_bad_options_give_one_line_errors(argv, text, capsys):
    with pytest.raises(ValueError, match=re.escape(text)):
        parse(argv)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("seedance-nb emulator: error: ") and text in err
    assert err.count("\n") == 1
    with pytest.raises(ValueError, match=re.escape(text)):
        Emulator(**_as_options(argv))  # checked before any process starts


def _as_options(argv):
    flag, value = argv
    name = flag.lstrip("-").replace("-", "_")
    if name in ("rpm", "concurrency", "endpoint"):
        key, _, val = value.partition("=")
        return {name: {key: val} if val else value}
    return {name: value}


def test_port_in_use_is_a_clear_error(capsys):
    with Emulator(in_process=True) as emu:
        port = emu.base_url.rsplit(":", 1)[1]
        assert main(["--port", port]) == 1
    assert "cannot listen on 127.0.0.1:" + port in capsys.readouterr().err


def test_ensure_local_uses_env_url(monkeypatch):
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9/")
    monkeypatch.delenv("SEEDANCE_EMULATOR_TOKEN", raising=False)
    assert ensure_local() == ("http://127.0.0.1:9", "sk-emulator")
    monkeypatch.setenv("SEEDANCE_EMULATOR_TOKEN", "sk-mine")
    assert ensure_local() == ("http://127.0.0.1:9", "sk-mine")
    assert emulator_pkg._local is None  # nothing was started


def test_ensure_local_starts_one_subprocess(monkeypatch):
    monkeypatch.delenv("SEEDANCE_EMULATOR_URL", raising=False)
    monkeypatch.setattr(emulator_pkg, "_local", None)
    try:
        url, token = ensure_local()
        assert ensure_local() == (url, token) and token == "sk-emulator"
        assert requests.get(url + "/healthz").text == "ok"
        assert emulator_pkg._local._proc.pid != os.getpid()
        # a default 5 s clip (2.0-fast, 720p) is ready in under 10 s
        headers = {"Authorization": f"Bearer {token}"}
        body = {"model": "doubao-seedance-2-0-fast-260128",
                "content": [{"type": "text", "text": "waves at night"}]}
        start = time.monotonic()
        task_id = requests.post(url + ARK_TASKS, json=body, headers=headers).json()["id"]
        task = wait_for(lambda: requests.get(f"{url}{ARK_TASKS}/{task_id}", headers=headers).json(),
                        lambda t: t["status"] in ("succeeded", "failed"), timeout=10, interval=0.1)
        assert task["status"] == "succeeded" and task["duration"] == 5
        assert task["resolution"] == "720p" and time.monotonic() - start < 10
    finally:
        if emulator_pkg._local is not None:
            emulator_pkg._local.close()
            monkeypatch.setattr(emulator_pkg, "_local", None)


_INTERRUPTED_OWNER = r"""
import sys, time
from seedance_nb.emulator import ensure_local
url, _ = ensure_local()
print(url, flush=True)
try:
    time.sleep(60)
except KeyboardInterrupt:  # what a kernel does with an interrupt: carry on
    print("interrupted", flush=True)
    time.sleep(60)
"""


def test_interrupting_the_kernel_does_not_stop_its_emulator_or_renders():
    # Jupyter interrupts a kernel by sending SIGINT to its whole process group.
    env = {k: v for k, v in os.environ.items() if k != "SEEDANCE_EMULATOR_URL"}
    owner = subprocess.Popen([sys.executable, "-c", _INTERRUPTED_OWNER], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        url = owner.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), owner.stderr.read()
        headers = {"Authorization": "Bearer sk-emulator"}
        first = requests.post(url + ARK_TASKS, json=ark_body(), headers=headers).json()["id"]
        os.killpg(owner.pid, signal.SIGINT)
        assert owner.stdout.readline().strip() == "interrupted"
        time.sleep(0.5)
        assert requests.get(url + "/healthz", timeout=5).status_code == 200
        second = requests.post(url + ARK_TASKS, json=ark_body(), headers=headers).json()["id"]
        for task_id in (first, second):  # the render workers survived too
            task = wait_for(lambda: requests.get(f"{url}{ARK_TASKS}/{task_id}",
                                                 headers=headers).json(),
                            lambda t: t["status"] in ("succeeded", "failed"), timeout=60)
            assert task["status"] == "succeeded", task
    finally:
        os.killpg(owner.pid, signal.SIGKILL)
        owner.wait()
    assert "KeyboardInterrupt" not in owner.stderr.read()


CATALOG = """
[family."2.6"]
like = "2.5"
ids = { ark = "doubao-seedance-2-6-270101", byteplus = "dreamina-seedance-2-6-270101" }
durations = [4, 30]

[family."1.5-pro"]
status = "live"
"""


def test_catalog_file_adds_and_revives_families(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(CATALOG)
    before = catalog.FAMILIES
    # the parent only checks options; the families exist in the serving process
    with Emulator(speed=1000, run_seconds=0, catalog=str(path), rpm={"2.6": 5}) as emu:
        assert catalog.FAMILIES == before
        headers = {"Authorization": f"Bearer {emu.token}"}
        ids = {m["id"] for m in requests.get(emu.base_url + "/api/v3/models",
                                             headers=headers).json()["data"]}
        assert {"doubao-seedance-2-6-270101", "dreamina-seedance-2-6-270101",
                "doubao-seedance-1-5-pro-251215"} <= ids
        body = {"model": "dreamina-seedance-2-6-270101", "duration": 4, "resolution": "480p",
                "content": [{"type": "text", "text": "a new model"}]}
        reply = requests.post(emu.base_url + ARK_TASKS, json=body, headers=headers)
        assert reply.status_code == 200, reply.text
        task = requests.get(f"{emu.base_url}{ARK_TASKS}/{reply.json()['id']}",
                            headers=headers).json()
        assert task["draft"] is False and task["output_format"] == "mp4"  # like 2.5
        reply = requests.post(emu.base_url + ARK_TASKS, headers=headers, json={
            **body, "model": "doubao-seedance-1-5-pro-251215", "content": [
                {"type": "text", "text": "revived"}]})
        assert reply.status_code == 200, reply.text


def test_bad_catalog_file_is_a_start_up_error(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.toml"
    bad.write_text('[family."2.7"]\nlike = "9.9"\n')
    assert main(["--catalog", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seedance-nb emulator: error: --catalog {bad}: ") and "2.7" in err
    with pytest.raises(RuntimeError, match="exited at start-up"):
        Emulator(catalog=str(bad), startup_timeout=30)
    monkeypatch.setenv("SEEDANCE_CATALOG", str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="missing.toml"):
        parse([])
    assert catalog.capabilities("2.5", "ark") is not None  # the catalog was left as it was


def test_catalog_option_without_catalog_support_says_so(monkeypatch):
    import seedance_nb.emulator.cli as cli

    monkeypatch.setattr(cli, "CATALOG_MODULE", "seedance_nb.no_such_module")
    with pytest.raises(ValueError, match="no catalog file support"):
        parse(["--catalog", "mine.toml"])


def test_ensure_local_passes_the_active_catalog_file(monkeypatch):
    import seedance_nb.catalog_file as catalog_file

    monkeypatch.setattr(catalog_file, "active_path", lambda: "/tmp/models.toml")
    assert emulator_pkg._active_catalog() == "/tmp/models.toml"
    monkeypatch.setattr(catalog_file, "active_path", lambda: None)
    assert emulator_pkg._active_catalog() is None
