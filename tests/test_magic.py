"""%%seedance / %seedance in a real IPython InteractiveShell (history off, errors raised)."""
from __future__ import annotations

import sys
import types
from typing import Any

import pytest
from IPython.core.error import UsageError

import seedance_nb
from seedance_nb import magics
from seedance_nb.config import defaults

from _magic_helpers import FakeJob, fresh_modules, make_shell


@pytest.fixture(scope="module")
def shell():
    return make_shell()


@pytest.fixture(autouse=True)
def _clean(shell, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    defaults.reset()
    m = shell.magics_manager.registry["Seedance"]
    for name in ("provider", "model", "emulate", "api_key"):
        setattr(m, name, None)
    m.wait = "auto"
    m.embed = "auto"
    yield
    defaults.reset()


@pytest.fixture
def sent(monkeypatch):
    """Replace the jobs module: records every submit, sends nothing."""
    calls: list[dict[str, Any]] = []
    jobs: list[FakeJob] = []

    def submit(prompt: str = "", **kw: Any) -> FakeJob:
        from seedance_nb.request import build_request

        calls.append({"prompt": prompt, **kw})
        build_kw = {k: v for k, v in kw.items() if k not in ("new", "name", "api_key")}
        job = FakeJob(prompt, request=build_request(prompt, **build_kw), **kw)
        job.status = "succeeded"  # finished at once: the waiting path returns immediately
        job.error = "no video in this test"
        jobs.append(job)
        return job

    fake = types.ModuleType("seedance_nb.jobs")
    fake.submit = submit
    fake.manager = lambda: types.SimpleNamespace(jobs=jobs, stop=lambda: None)
    monkeypatch.setitem(sys.modules, "seedance_nb.jobs", fake)
    monkeypatch.setattr(seedance_nb, "jobs", fake, raising=False)
    return calls


def usage_error(shell, line: str, cell: str) -> str:
    with pytest.raises(UsageError) as info:
        shell.run_cell_magic("seedance", line, cell)
    assert type(info.value) is UsageError  # exactly UsageError, not a subclass
    return str(info.value)


# --- loading -------------------------------------------------------------------------


def test_load_ext_is_cheap_and_idempotent():
    out = fresh_modules(
        "import sys\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "sh = InteractiveShell.instance()\n"
        "before = set(sys.modules)\n"
        "sh.run_line_magic('load_ext', 'seedance_nb')\n"
        "sh.run_line_magic('load_ext', 'seedance_nb')\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if m.split('.')[0] in "
        "('ipywidgets', 'requests', 'PIL', 'av', 'numpy', 'urllib3', 'werkzeug')))\n"
        "print('seedance' in sh.magics_manager.magics['cell'])\n")
    assert out.splitlines()[-2:] == ["[]", "True"]


def test_reload_ext_stops_worker_and_keeps_jobs(shell, monkeypatch):
    import threading

    done, running = FakeJob("a"), FakeJob("b")
    done.status, running.status = "succeeded", "running"
    old = types.SimpleNamespace(jobs=[done, running], stopped=False, _lock=threading.Lock())
    old.stop = lambda: setattr(old, "stopped", True)
    new = types.SimpleNamespace(jobs=[], stopped=False, _lock=threading.Lock())
    resumed = FakeJob("b again")
    resumed.ledger_id = running.ledger_id

    def resume():
        new.jobs.append(resumed)
        return [resumed]

    fake = types.ModuleType("seedance_nb.jobs")
    fake.manager = lambda: new if old.stopped else old
    fake.resume = resume
    monkeypatch.setitem(sys.modules, "seedance_nb.jobs", fake)
    monkeypatch.setattr(seedance_nb, "jobs", fake, raising=False)
    shell.run_line_magic("reload_ext", "seedance_nb")
    assert old.stopped
    assert new.jobs == [done, resumed]  # the finished job kept, the running one picked up
    assert "seedance" in shell.magics_manager.magics["cell"]


def test_usage_is_the_docstring(shell):
    doc = shell.magics_manager.magics["cell"]["seedance"].__doc__
    for word in ("--dry-run", "--sweep", "--first-frame", "--rs", "%seedance panel"):
        assert word in doc
    info = shell.object_inspect("%%seedance")
    assert "--sweep" in info["docstring"]


# --- configuration -----------------------------------------------------------------------


def test_config_traits_write_session_defaults(shell):
    shell.run_line_magic("config", 'Seedance.provider = "emulator"')
    shell.run_line_magic("config", 'Seedance.model = "2.0-fast"')
    shell.run_line_magic("config", "Seedance.poll_interval = 2.5")
    shell.run_line_magic("config", 'Seedance.output_dir = "vids"')
    assert (defaults.provider, defaults.model, defaults.poll_interval, defaults.output_dir) == (
        "emulator", "2.0-fast", 2.5, "vids")
    shell.run_line_magic("config", 'Seedance.embed = "sometimes"')  # IPython logs the error
    assert shell.magics_manager.registry["Seedance"].embed == "auto" == defaults.embed


def test_api_key_is_masked_everywhere(shell, capsys):
    secret = "sk-abcdefghijklmnopqrstuvwxyz0123"
    shell.run_line_magic("config", f'Seedance.api_key = "{secret}"')
    m = shell.magics_manager.registry["Seedance"]
    assert str.__str__(m.api_key) == secret  # kept for sending
    shell.run_line_magic("config", "Seedance")
    out = capsys.readouterr().out
    assert "api_key" in out and secret not in out and "masked" in out
    assert secret not in repr(m) and secret not in repr(m.api_key)
    assert secret not in str(m.trait_values())
    assert secret not in repr(shell.run_line_magic("config", "Seedance.api_key"))


def test_config_from_ipython_config_file():
    out = fresh_modules(
        "from traitlets.config import Config\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "c = Config(); c.Seedance.provider = 'comet'; c.Seedance.wait = 'always'\n"
        "sh = InteractiveShell.instance(config=c)\n"
        "sh.run_line_magic('load_ext', 'seedance_nb')\n"
        "from seedance_nb.config import defaults\n"
        "m = sh.magics_manager.registry['Seedance']\n"
        "print(defaults.provider, m.wait)\n")
    assert out.strip() == "comet always"


# --- line options -----------------------------------------------------------------------------


def test_line_options_become_fields():
    ns, fields, problems = magics.parse_line(
        "--rs 720P --rt Adaptive --dur 6 --seed 7 --cf true --wm FALSE --no-audio "
        "--tier flex --return-last-frame --image a.png --last-frame b.png --name clip")
    assert problems == []
    typed = fields.pop("typed_as")
    assert fields == {"resolution": "720p", "ratio": "adaptive", "duration": 6, "seed": 7,
                      "camera_fixed": True, "watermark": False, "generate_audio": False,
                      "service_tier": "flex", "return_last_frame": True}
    assert typed["resolution"] == "--rs 720P" and typed["generate_audio"] == "--no-audio"
    assert magics._images(ns) == [("a.png", "first_frame"), ("b.png", "last_frame")]
    assert ns.name == "clip"


def test_every_line_problem_in_one_usage_error(shell, sent):
    msg = usage_error(shell, "--seed abc --wm yes --bogus 1 --rs=720p stray", "a cat")
    lines = msg.splitlines()
    assert any("--seed abc: not an integer" in ln for ln in lines)
    assert any("--wm yes: not a boolean; allowed: true, false" in ln for ln in lines)
    assert any("--bogus" in ln and "unknown option" in ln for ln in lines)
    assert any("stray" in ln and "unexpected word" in ln for ln in lines)
    assert len(lines) == 4
    assert sent == []


def test_interpolation_from_namespace(shell, sent):
    shell.user_ns.update(animal="otter", n=3)
    shell.run_cell_magic("seedance", "--wait", "{n} {animal}s juggling {{braces}}")
    assert sent[0]["prompt"] == "3 otters juggling {braces}"


def test_undefined_name_is_usage_error(shell, sent):
    msg = usage_error(shell, "", "a {nosuchname} walking")
    assert "nosuchname" in msg and "not defined" in msg
    assert sent == []


# --- validation through build_request -------------------------------------------------------


def test_inline_flags_reach_the_request(shell):
    req = shell.run_cell_magic("seedance", "--dry-run --provider emulator",
                               "a fox --rs 480p --rt 9:16 --dur 6 --seed 11")
    assert (req.prompt, req.resolution, req.ratio, req.duration, req.seed) == (
        "a fox", "480p", "9:16", 6, 11)


def test_dry_run_sends_nothing_and_returns_request(shell, sent):
    from seedance_nb.request import VideoRequest

    req = shell.run_cell_magic("seedance", "--dry-run --model 2.0-fast --rs 480p", "a boat")
    assert isinstance(req, VideoRequest)
    assert req.family == "2.0-fast" and req.resolution == "480p"
    assert sent == []


def test_inline_and_line_duplicate(shell, sent):
    msg = usage_error(shell, "--rs 720p", "a boat --resolution 1080p")
    assert "duplicate" in msg
    assert sent == []


def test_model_capability_problems_listed_together(shell, sent):
    msg = usage_error(shell, "--model 2.0-fast --rs 1080p", "a boat --frames 121 --wm maybe")
    assert "1080p" in msg and "--frames" in msg and "--wm maybe" in msg
    assert sent == []


def test_config_error_becomes_usage_error(shell, sent):
    msg = usage_error(shell, "--provider ark", "a boat")
    assert "ARK_API_KEY" in msg
    assert sent == []


def test_sweep_grid_validated_whole_before_sending(shell, sent):
    # 1080p is fine for 1.5-pro but the second ratio value is invalid: nothing is sent
    msg = usage_error(shell, "--sweep seed=1,2 --sweep ratio=16:9,9:21", "a kite")
    assert "9:21" in msg
    assert sent == []


def test_sweep_submits_every_combination(shell, sent):
    shell.run_cell_magic("seedance", "--wait --sweep seed=1,2 --sweep rt=16:9,9:16", "a kite")
    combos = sorted((c["seed"], c["ratio"]) for c in sent)
    assert combos == [(1, "16:9"), (1, "9:16"), (2, "16:9"), (2, "9:16")]
    assert len(shell.user_ns["_seedance_jobs"]) == 4


def test_sweep_conflicts_with_line_option(shell, sent):
    msg = usage_error(shell, "--seed 3 --sweep seed=1,2", "a kite")
    assert "duplicate" in msg
    msg = usage_error(shell, "--sweep colour=red,blue", "a kite")
    assert "cannot sweep" in msg
    assert sent == []


def test_submit_gets_line_options(shell, sent):
    shell.run_cell_magic("seedance", "--wait --model 1.0-pro --rs 480p --new --name first",
                         "a lighthouse --dur 3")
    call = sent[0]
    assert call["prompt"] == "a lighthouse --dur 3"  # inline flags are parsed by build_request
    assert (call["model"], call["resolution"], call["new"], call["name"]) == (
        "1.0-pro", "480p", True, "first")


# --- line magic --------------------------------------------------------------------------------


def test_line_version(shell, capsys):
    shell.run_line_magic("seedance", "version")
    assert seedance_nb.__version__ in capsys.readouterr().out


def test_unknown_line_command(shell):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("seedance", "frobnicate")
    assert type(info.value) is UsageError and "panel" in str(info.value)


def test_cancel_by_name(shell, sent):
    shell.run_cell_magic("seedance", "--wait --name fox", "a fox")
    job = shell.user_ns["_seedance_job"]
    job.status = "queued"
    shell.run_line_magic("seedance", "cancel fox")
    assert job.cancelled
    with pytest.raises(UsageError):
        shell.run_line_magic("seedance", "cancel nobody")


# --- waiting rule ------------------------------------------------------------------------------


def test_wait_rule(shell, monkeypatch):
    assert magics.should_wait(None, "auto", shell)  # plain IPython: no live frontend
    assert not magics.should_wait(False, "always", shell)
    assert not magics.should_wait(None, "never", shell)
    monkeypatch.setenv("SEEDANCE_NB_WAIT", "0")
    assert not magics.should_wait(None, "auto", shell)

    class ZMQInteractiveShell:
        user_ns: dict = {}

    zmq = ZMQInteractiveShell()
    monkeypatch.delenv("SEEDANCE_NB_WAIT")
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert magics.should_wait(None, "auto", zmq)  # nbclient / papermill
    monkeypatch.setenv("JPY_SESSION_NAME", "quickstart.ipynb")
    assert not magics.should_wait(None, "auto", zmq)  # JupyterLab / Notebook 7
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert magics.should_wait(None, "auto", zmq)


def test_emulator_start_status_stop(shell, capsys, monkeypatch):
    monkeypatch.delenv("SEEDANCE_EMULATOR_URL", raising=False)
    shell.run_line_magic("seedance", "emulator status")
    assert "not running" in capsys.readouterr().out
    shell.run_line_magic("seedance", "emulator start")
    url = capsys.readouterr().out.split()[-1]
    assert url.startswith("http://127.0.0.1:")
    shell.run_line_magic("seedance", "emulator status")
    assert url in capsys.readouterr().out
    shell.run_line_magic("seedance", "emulator stop")
    assert "stopped" in capsys.readouterr().out
    shell.run_line_magic("seedance", "emulator status")
    assert "not running" in capsys.readouterr().out


def test_sweep_problem_shared_by_all_combinations_listed_once(shell, sent):
    msg = usage_error(shell, "--sweep seed=1,2,3 --sweep rt=16:9,21:9", "a kite --wm maybe")
    assert msg.count("--wm maybe") == 1
    msg = usage_error(shell, "--model 1.0-pro --sweep dur=5,13", "a kite")
    assert msg.startswith("[duration=13]") and "duration=5" not in msg


# --- line options for 2.5 and messages in the user's syntax (fields table) ------------------


def test_new_line_options_become_fields():
    ns, fields, problems = magics.parse_line(
        "--model 2.5 --edit --ref-video https://e.example.com/v.mp4 --ref-audio a.wav "
        "--format MOV --draft")
    assert problems == []
    typed = fields.pop("typed_as")
    assert fields == {"task_type": "edit", "draft": True, "output_format": "mov"}
    assert ns.ref_video == ["https://e.example.com/v.mp4"] and ns.ref_audio == ["a.wav"]
    assert typed["task_type"] == "--edit" and typed["output_format"] == "--format MOV"
    _, final, problems = magics.parse_line("--final cgt-20261201101500-k3v9x --wm true")
    assert problems == [] and final["draft_task_id"] == "cgt-20261201101500-k3v9x"


def test_a_setting_given_twice_on_the_line_is_one_problem():
    _, _, problems = magics.parse_line("--rs 720p --resolution 1080p --extend --task-type edit")
    assert problems == ["--resolution 1080p: duplicate of --rs 720p; give each setting once",
                        "--task-type edit: duplicate of --extend; give each setting once"]


def test_edit_dry_run_fills_the_values_the_client_chooses(shell):
    req = shell.run_cell_magic("seedance", "--dry-run --provider emulator --model 2.5 --edit "
                               "--ref-video https://e.example.com/v.mp4", "make it snow")
    assert (req.mode, req.task_type, req.ratio, req.duration) == ("edit", "edit", "adaptive", -1)


def test_line_option_errors_quote_the_line(shell, sent):
    msg = usage_error(shell, "--provider emulator --model 2.0-fast --rs 1080p", "a boat")
    assert "--rs 1080p: not allowed for doubao-seedance-2-0-fast-260128" in msg
    assert "resolution='1080p'" not in msg
    msg = usage_error(shell, "--provider emulator --model 2.5 --draft --format mov", "a boat")
    assert "--draft and --format mov: give only one of them" in msg
    msg = usage_error(shell, "--provider emulator --sweep seed=1,-7", "a boat")
    assert "--sweep seed=-7: out of range" in msg
    assert sent == []


def test_a_line_option_in_the_cell_body_says_to_move_it(shell, sent):
    msg = usage_error(shell, "--provider emulator", "a boat --model 2.0-fast")
    assert "--model 2.0-fast: --model is a line option: put it on the %%seedance line" in msg
    assert sent == []


def test_sweep_over_new_fields(shell, sent):
    shell.run_cell_magic("seedance", "--wait --provider emulator --model 2.5 --dur 5 "
                         "--sweep format=mp4,mov", "a kite")
    assert sorted(c["output_format"] for c in sent) == ["mov", "mp4"]
