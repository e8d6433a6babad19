"""One settings object: `%config Seedance.*` (config.settings) reaches what jobs send.

Real InteractiveShell (tests/_magic_helpers.py) and a real in-process emulator on
loopback that accepts only the test's key, so a job that got through proves the key,
base URL, provider and endpoint ids came from the settings.
"""
from __future__ import annotations

import ast
import logging
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from seedance_nb import catalog, jobs
from seedance_nb.config import settings
from seedance_nb.emulator import Emulator
from seedance_nb.errors import WaitTimeout
from seedance_nb.ledger import Ledger

from _client_helpers import isolated_jobs, pick_model
from _magic_helpers import fresh_modules, make_shell

KEY = "sk-settingstest-0123456789abcdef"
ENDPOINT = "ep-20261201-settings"
SRC = Path(__file__).resolve().parents[1] / "src" / "seedance_nb"


@pytest.fixture
def emu():
    # accepts only the test's key and the emulator's own token; one endpoint id
    with Emulator(in_process=True, speed=100, run_seconds=1,
                  tokens=(KEY, catalog.EMULATOR_DEFAULT_TOKEN),
                  endpoints={ENDPOINT: "1.0-pro-fast"}) as emulator:
        yield emulator


@pytest.fixture
def shell(tmp_path, monkeypatch, emu):
    """A shell with the extension loaded, fresh settings and a fresh job manager; no
    SEEDANCE_EMULATOR_URL, so only the settings say where the emulator is."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_EMULATOR_URL", raising=False)
    monkeypatch.delenv("SEEDANCE_EMULATOR_TOKEN", raising=False)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    sh = make_shell()
    with isolated_jobs(tmp_path) as mgr:
        sh._test_manager = mgr
        yield sh
    settings.reset()


def config(sh, line: str) -> None:
    sh.run_line_magic("config", line)


def creates(emu: Emulator) -> dict:
    return emu.stats()["creates"]


def wire(emu: Emulator) -> list:
    return [t.params for t in list(emu._server.app.store.tasks.values())]


def sent(job, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while not (job.task_id or job.done):
        assert time.monotonic() < end, job.status
        time.sleep(0.02)
    assert job.task_id, job.error
    return job


# --- %config values reach what is sent ----------------------------------------------------


def test_provider_base_url_key_endpoints_and_paths_reach_the_job(shell, emu, tmp_path):
    config(shell, 'Seedance.provider = "ark"')
    config(shell, f'Seedance.base_url = "{emu.base_url}/api/v3/"')
    config(shell, f'Seedance.api_key = "{KEY}"')
    config(shell, f'Seedance.endpoints = {{"{ENDPOINT}": "1.0-pro-fast"}}')
    config(shell, f'Seedance.model = "{ENDPOINT}"')
    config(shell, f'Seedance.output_dir = "{tmp_path / "videos"}"')
    config(shell, f'Seedance.ledger_path = "{tmp_path / "book.sqlite"}"')
    config(shell, "Seedance.poll_interval = 7.5")
    with capture_output():
        shell.run_cell_magic("seedance", "--no-wait --rs 480p", "a kite --dur 2")
    job = sent(shell.user_ns["_seedance_job"])
    assert (job.settings.provider, job.settings.base_url) == ("ark", emu.base_url + "/api/v3")
    assert creates(emu)["ark"] == 1  # the emulator accepts only KEY: the key went along
    [params] = wire(emu)
    assert params.model == ENDPOINT and params.family == "1.0-pro-fast"
    assert jobs.poll_interval(job.settings) == (7.5, False)
    [row] = Ledger(tmp_path / "book.sqlite").rows()  # the configured ledger holds the row
    assert row["task_id"] == job.task_id and row["base_url"] == emu.base_url + "/api/v3"
    assert job._output_dir == str(tmp_path / "videos")


def test_emulator_base_url_and_emulate_reach_the_wire(shell, emu):
    config(shell, 'Seedance.provider = "emulator"')
    config(shell, f'Seedance.base_url = "{emu.base_url}"')
    family, seconds = pick_model("comet", "t2v")
    config(shell, 'Seedance.emulate = "comet"')
    config(shell, f'Seedance.model = "{family}"')
    with capture_output():
        shell.run_cell_magic("seedance", "--no-wait --rs 480p", f"a boat --dur {seconds}")
    job = sent(shell.user_ns["_seedance_job"])
    assert job.request.dialect == "comet" and job.request.family == family
    assert job.settings.base_url == emu.base_url  # comet routes sit at the root
    assert creates(emu)["comet"] == 1 and creates(emu)["ark"] == 0


def test_wait_and_embed_settings_shape_the_cell(shell, emu):
    config(shell, f'Seedance.base_url = "{emu.base_url}"')
    config(shell, 'Seedance.wait = "always"')
    config(shell, 'Seedance.embed = "always"')
    config(shell, "Seedance.poll_interval = 0.2")
    with capture_output() as cap:
        shell.run_cell_magic("seedance", "--model 1.0-pro-fast --rs 480p", "a fox --dur 2")
    job = shell.user_ns["_seedance_job"]
    assert job.status == "succeeded"  # the cell blocked until the end
    html = "".join(o.data.get("text/html", "") for o in cap.outputs)
    assert 'src="data:video/mp4;base64,' in html


def test_wait_timeout_ends_a_stalled_job(shell, emu):
    config(shell, f'Seedance.base_url = "{emu.base_url}"')
    config(shell, "Seedance.wait_timeout = 1")
    config(shell, "Seedance.poll_interval = 0.2")
    with capture_output():
        shell.run_cell_magic("seedance", "--no-wait --model 1.0-pro-fast --rs 480p",
                             "a stalled kite [emu:stall] --dur 2")
    job = shell.user_ns["_seedance_job"]
    t0 = time.monotonic()
    with pytest.raises(WaitTimeout):
        job.wait(20)
    assert time.monotonic() - t0 < 10  # the configured 1 s deadline, not the 1 h default


def test_resume_uses_the_configured_key_and_base_url(shell, emu, monkeypatch):
    monkeypatch.setattr(catalog, "POLL_FLOOR_REAL_S", 0.1)  # poll the "ark" emulator quickly
    config(shell, 'Seedance.provider = "ark"')
    config(shell, f'Seedance.base_url = "{emu.base_url}/api/v3"')
    config(shell, f'Seedance.api_key = "{KEY}"')
    config(shell, "Seedance.poll_interval = 0.2")
    with capture_output():
        shell.run_cell_magic("seedance", "--no-wait --model 1.0-pro-fast --rs 480p",
                             "a stalled kite [emu:stall] --dur 2")
    first = sent(shell.user_ns["_seedance_job"])
    shell._test_manager.stop()  # the kernel that sent it is gone; its row stays queued
    mgr = jobs.manager()  # the next kernel's worker
    try:
        config(shell, 'Seedance.wait = "never"')
        with capture_output() as cap:
            shell.run_line_magic("seedance", "resume")
        assert "no API key" not in cap.stdout and "not contacted" not in cap.stdout
        [job] = [j for j in mgr.jobs if j.ledger_id == first.ledger_id]
        assert job.task_id == first.task_id and job.settings.base_url == first.settings.base_url
        end = time.monotonic() + 10  # the resumed job polls: the gateway accepted the key
        before = emu.stats()["requests"]
        while emu.stats()["requests"] == before:
            assert time.monotonic() < end
            time.sleep(0.05)
        assert job.status in ("queued", "running") and not job.error
        assert creates(emu)["ark"] == 1  # reattached, never sent again
    finally:
        mgr.stop()


def test_resume_without_a_key_says_so_and_contacts_nothing(shell, emu):
    config(shell, "Seedance.poll_interval = 5")  # the gateway floor
    config(shell, 'Seedance.provider = "ark"')
    config(shell, f'Seedance.base_url = "{emu.base_url}/api/v3"')
    config(shell, f'Seedance.api_key = "{KEY}"')
    with capture_output():
        shell.run_cell_magic("seedance", "--no-wait --model 1.0-pro-fast --rs 480p",
                             "a stalled kite [emu:stall] --dur 2")
    sent(shell.user_ns["_seedance_job"])
    shell._test_manager.stop()
    mgr = jobs.manager()
    try:
        config(shell, "Seedance.api_key = None")
        with capture_output() as cap:
            shell.run_line_magic("seedance", "resume")
        said = cap.stdout + "".join(o.data.get("text/html", "") for o in cap.outputs)
        assert "no API key for provider &#x27;ark&#x27;" in said or \
            "no API key for provider 'ark'" in said
        assert [j for j in mgr.jobs if not j.done] == []
    finally:
        mgr.stop()


def test_a_key_configured_without_a_provider_reaches_real_rows_never_the_emulator(monkeypatch):
    """%config Seedance.api_key alone (no provider, no key variable): resume gives it to an
    ark row at ark's own URL (it used to go nowhere: "no API key"), not to emulator rows."""
    from seedance_nb.jobs.recovery import _KeyRing

    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9")
    settings.api_key = KEY
    try:
        ring = _KeyRing(None, None, None, None, None)
        ark = ring.settings_for({"provider": "ark", "dialect": "ark",
                                 "base_url": catalog.PROVIDER_INFO["ark"].base_url})
        assert not isinstance(ark, str), ark
        assert ark.api_key == KEY
        emu = ring.settings_for({"provider": "emulator", "dialect": "ark",
                                 "base_url": "http://127.0.0.1:9/api/v3"})
        assert emu.api_key == catalog.EMULATOR_DEFAULT_TOKEN
        settings.provider = "comet"  # now the key is comet's: the ark row gets none
        assert "no API key for provider 'ark'" in ring.settings_for(
            {"provider": "ark", "dialect": "ark",
             "base_url": catalog.PROVIDER_INFO["ark"].base_url})
    finally:
        settings.reset()


# --- bad values ---------------------------------------------------------------------------


@pytest.mark.parametrize("line,words", [
    ('Seedance.provider = "openai"', "unknown value 'openai'"),
    ('Seedance.emulate = "vertex"', "unknown value 'vertex'"),
    ('Seedance.base_url = "http://gateway.example.com/api/v3"', "unencrypted"),
    ('Seedance.base_url = "ftp://gateway.example.com"', "not an http(s) URL"),
    ("Seedance.poll_interval = -1", "positive number of seconds"),
    ("Seedance.wait_timeout = 0", "positive number of seconds"),
    ('Seedance.endpoints = {"2.0": "ep-123"}', "not an endpoint id mapped to a family"),
    ('Seedance.wait = "sometimes"', "expected any of"),
])
def test_a_bad_value_is_refused_in_one_line_and_the_old_value_stays(shell, caplog, line, words):
    name = line.split(".")[1].split("=")[0].strip()
    before = getattr(settings, name)
    with caplog.at_level(logging.ERROR):  # %config reports a refused value as a log record
        config(shell, line)
    [message] = [r.getMessage() for r in caplog.records if words in r.getMessage()]
    assert "\n" not in message
    assert getattr(settings, name) == before


def test_settings_are_checked_in_plain_python_too():
    from traitlets import TraitError

    with pytest.raises(TraitError, match="Seedance.provider: unknown value 'nope'"):
        settings.provider = "nope"
    settings.provider = " ARK "
    assert settings.provider == "ark"
    settings.reset()
    assert settings.provider is None


def test_config_shows_the_settings_with_the_key_masked(shell, capsys):
    config(shell, f'Seedance.api_key = "{KEY}"')
    config(shell, "Seedance")
    out = capsys.readouterr().out
    for name in ("base_url", "endpoints", "poll_interval", "wait_timeout", "emulator_speed"):
        assert f"Seedance.{name}" in out
    assert KEY not in out and KEY not in repr(settings) and KEY not in str(shell.config)
    assert settings.secret() == KEY  # still sent as given


# --- the poll interval follows the gateway ---------------------------------------------


def test_poll_interval_defaults_to_about_a_second_with_the_emulator(tmp_path, monkeypatch):
    from seedance_nb.client import resolve_client

    # a clip the emulator finishes after ~2.5 s: with 15 s polls it would show after ~16 s
    with Emulator(in_process=True, speed=1, run_seconds=2.5) as slow, \
            isolated_jobs(tmp_path):
        monkeypatch.setenv("SEEDANCE_EMULATOR_URL", slow.base_url)
        settings.poll_interval = None  # the default (isolated_jobs sets 0.1)
        job = jobs.submit("a kite", model="1.0-pro-fast", resolution="480p", duration=2)
        assert jobs.poll_interval(job.settings) == (1.0, False)
        t0 = time.monotonic()
        job.wait(8)
        assert job.status == "succeeded" and time.monotonic() - t0 < 8
    gateway = resolve_client("ark", api_key=KEY)
    assert jobs.poll_interval(gateway) == (catalog.POLL_INTERVAL_S, False) == (15.0, False)
    settings.poll_interval = 30
    assert jobs.poll_interval(gateway) == (30.0, False)  # an explicit value wins
    assert jobs.poll_interval(job.settings) == (30.0, False)
    settings.reset()


# --- the extension hooks ------------------------------------------------------------------


def _seedance_configurables(sh) -> list:
    return [c for c in sh.configurables if type(c).__name__ == "Seedance"]


def test_unload_removes_everything_and_reload_keeps_one_configurable(shell):
    config(shell, 'Seedance.model = "2.0-fast"')
    assert _seedance_configurables(shell) == [settings]
    shell.run_line_magic("reload_ext", "seedance_nb")
    assert _seedance_configurables(shell) == [settings]  # exactly one after a reload
    assert settings.model == "2.0-fast"  # the user's %config value kept
    assert "seedance" in shell.magics_manager.magics["cell"]

    shell.run_line_magic("unload_ext", "seedance_nb")
    try:
        assert "seedance" not in shell.magics_manager.magics["cell"]
        assert "seedance" not in shell.magics_manager.magics["line"]
        assert "SeedanceMagics" not in shell.magics_manager.registry
        assert _seedance_configurables(shell) == []
        with pytest.raises(UsageError):
            config(shell, "Seedance")
    finally:
        shell.run_line_magic("load_ext", "seedance_nb")
    assert _seedance_configurables(shell) == [settings]
    assert settings.model == "2.0-fast"
    assert "seedance" in shell.magics_manager.magics["line"]


def test_ipython_config_file_values_reach_the_settings_once():
    out = fresh_modules(
        "from traitlets.config import Config\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "c = Config(); c.Seedance.provider = 'comet'; c.Seedance.poll_interval = 9.0\n"
        "sh = InteractiveShell.instance(config=c)\n"
        "sh.run_line_magic('load_ext', 'seedance_nb')\n"
        "from seedance_nb.config import settings\n"
        "settings.poll_interval = 8.0\n"
        "sh.run_line_magic('reload_ext', 'seedance_nb')\n"
        "print(settings.provider, settings.poll_interval,\n"
        "      sum(type(x).__name__ == 'Seedance' for x in sh.configurables))\n")
    assert out.split() == ["comet", "8.0", "1"]


# --- resolving settings starts nothing ------------------------------------------------


def test_dry_run_models_config_and_panel_start_no_emulator(tmp_path):
    out = fresh_modules(
        "import os\n"
        "os.environ.pop('SEEDANCE_EMULATOR_URL', None)\n"
        f"os.environ['SEEDANCE_OUTPUT_DIR'] = {str(tmp_path / 'out')!r}\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "from IPython.utils.capture import capture_output\n"
        "sh = InteractiveShell.instance()\n"
        "sh.run_line_magic('load_ext', 'seedance_nb')\n"
        "from seedance_nb import config, emulator\n"
        "with capture_output():\n"
        "    sh.run_line_magic('config', 'Seedance')\n"
        "    sh.run_line_magic('config', 'Seedance.emulate = \"comet\"')\n"
        "    sh.run_cell_magic('seedance', '--dry-run --rs 480p', 'a kite --dur 4')\n"
        "    sh.run_line_magic('seedance', 'models')\n"
        "    sh.run_line_magic('seedance', 'emulator status')\n"
        "    from seedance_nb.ui import Panel\n"
        "    Panel()\n"
        "s = config.resolve_client()\n"
        "print(s.provider, repr(s.base_url), emulator._local, emulator.local_url())\n")
    assert out.split()[-4:] == ["emulator", "''", "None", "None"]


def test_emulator_speed_sets_the_speed_of_the_emulator_the_kernel_starts(tmp_path):
    out = fresh_modules(
        "import os\n"
        "os.environ.pop('SEEDANCE_EMULATOR_URL', None)\n"
        f"os.environ['SEEDANCE_OUTPUT_DIR'] = {str(tmp_path / 'out')!r}\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "sh = InteractiveShell.instance()\n"
        "sh.run_line_magic('load_ext', 'seedance_nb')\n"
        "sh.run_line_magic('config', 'Seedance.emulator_speed = 400.0')\n"
        "import seedance_nb\n"
        "from seedance_nb import emulator\n"
        "job = seedance_nb.submit('a kite', resolution='480p', duration=4)\n"
        "job.wait(60)\n"
        "print(job.status, emulator._local.speed)\n"
        "emulator.stop_local()\n")
    assert out.split()[-2:] == ["succeeded", "400.0"]


def test_a_blocking_acedata_create_waits_as_long_as_its_caller_says():
    from seedance_nb.providers import get_dialect
    from seedance_nb.request import build_request

    request = build_request("a kite", provider="acedata", blocking=True)
    ace = get_dialect("acedata")
    assert ace.create_call(request, wait_timeout=120.0).timeout == 120.0
    assert ace.create_call(request).timeout == catalog.WAIT_DEADLINE_S


def test_lower_layers_do_not_import_the_settings():
    """request, providers, http and the ledger get values as arguments (one import check)."""
    files = [SRC / "request.py", SRC / "client.py", SRC / "http.py", SRC / "ledger_db.py",
             SRC / "ledger.py", SRC / "checks.py", SRC / "inputs.py",
             *sorted((SRC / "providers").glob("*.py"))]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
                if (node.module or "").split(".")[-1] == "config" or \
                        (node.module in (None, "", "seedance_nb") and "config" in names):
                    offenders.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import) and any(a.name == "seedance_nb.config"
                                                      for a in node.names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
