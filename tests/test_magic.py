"""%%seedance / %seedance in a real IPython InteractiveShell (history off, errors raised)."""
from __future__ import annotations

import sys
import time
import types

import pytest
from IPython.core.error import UsageError

import seedance_nb
from seedance_nb import magics
from seedance_nb.config import settings

from _magic_helpers import fresh_modules, make_mp4, make_shell, real_engine


@pytest.fixture(scope="module")
def shell():
    return make_shell()


@pytest.fixture(autouse=True)
def _clean(shell, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SEEDANCE_NB_WAIT", raising=False)
    settings.reset()  # every setting back to its built-in value
    yield
    settings.reset()


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """The real job engine sending to an in-process emulator."""
    with real_engine(tmp_path, monkeypatch) as eng:
        yield eng


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


def test_reload_ext_stops_worker_and_keeps_jobs(shell, engine):
    from seedance_nb import jobs

    shell.run_cell_magic("seedance", "--wait --model 1.0-pro-fast --rs 480p", "a kite --dur 2")
    done = shell.user_ns["_seedance_job"]
    shell.run_cell_magic("seedance", "--no-wait --model 1.0-pro-fast --rs 480p",
                         "a stalled kite [emu:stall] --dur 2")
    running = shell.user_ns["_seedance_job"]
    engine.wait_sent([running])
    old = jobs.manager()
    assert old is engine.mgr and done.status == "succeeded" and not running.done
    shell.run_line_magic("reload_ext", "seedance_nb")
    new = jobs.manager()
    try:
        assert not old.alive and new is not old and new.alive
        # the finished job kept, the running one picked up from the ledger by the new worker
        assert [j.ledger_id for j in new.jobs] == [done.ledger_id, running.ledger_id]
        assert new.jobs[0] is done
        resumed = new.jobs[1]
        assert resumed is not running and resumed.task_id == running.task_id
        assert resumed.status in ("queued", "running")
        assert engine.creates() == 2  # picking it up sent no second create
        assert "seedance" in shell.magics_manager.magics["cell"]
    finally:
        new.stop()


def test_usage_is_the_docstring(shell):
    doc = shell.magics_manager.magics["cell"]["seedance"].__doc__
    for word in ("--dry-run", "--sweep", "--first-frame", "--rs", "%seedance panel"):
        assert word in doc
    info = shell.object_inspect("%%seedance")
    assert "--sweep" in info["docstring"]


# --- configuration -----------------------------------------------------------------------


def test_config_traits_are_the_session_settings(shell):
    shell.run_line_magic("config", 'Seedance.provider = "emulator"')
    shell.run_line_magic("config", 'Seedance.model = "2.0-fast"')
    shell.run_line_magic("config", "Seedance.poll_interval = 2.5")
    shell.run_line_magic("config", 'Seedance.output_dir = "vids"')
    assert (settings.provider, settings.model, settings.poll_interval, settings.output_dir) == (
        "emulator", "2.0-fast", 2.5, "vids")
    shell.run_line_magic("config", 'Seedance.embed = "sometimes"')  # IPython logs the error
    assert settings.embed == "auto"


def test_api_key_is_masked_everywhere(shell, capsys):
    secret = "sk-abcdefghijklmnopqrstuvwxyz0123"
    shell.run_line_magic("config", f'Seedance.api_key = "{secret}"')
    m = settings
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
        "from seedance_nb.config import settings\n"
        "print(settings.provider, settings.wait)\n")
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


def test_every_line_problem_in_one_usage_error(shell, engine):
    msg = usage_error(shell, "--seed abc --wm yes --bogus 1 --rs=720p stray", "a cat")
    lines = msg.splitlines()
    assert any("--seed abc: not an integer" in ln for ln in lines)
    assert any("--wm yes: not a boolean; allowed: true, false" in ln for ln in lines)
    assert any("--bogus" in ln and "unknown option" in ln for ln in lines)
    assert any("stray" in ln and "unexpected word" in ln for ln in lines)
    assert len(lines) == 4
    assert engine.nothing_sent()


def test_interpolation_from_namespace(shell, engine):
    shell.user_ns.update(animal="otter", n=3)
    shell.run_cell_magic("seedance", "--no-wait --model 1.0-pro-fast --rs 480p --dur 2",
                         "{n} {animal}s juggling {{braces}}")
    engine.wait_sent([shell.user_ns["_seedance_job"]])
    assert [w.prompt for w in engine.wire()] == ["3 otters juggling {braces}"]


def test_undefined_name_is_usage_error(shell, engine):
    msg = usage_error(shell, "", "a {nosuchname} walking")
    assert "nosuchname" in msg and "not defined" in msg
    assert engine.nothing_sent()


# --- validation through build_request -------------------------------------------------------


def test_inline_flags_reach_the_request(shell):
    req = shell.run_cell_magic("seedance", "--dry-run --provider emulator",
                               "a fox --rs 480p --rt 9:16 --dur 6 --seed 11").request
    assert (req.prompt, req.resolution, req.ratio, req.duration, req.seed) == (
        "a fox", "480p", "9:16", 6, 11)


def test_dry_run_sends_nothing_and_returns_request(shell, engine):
    from seedance_nb.request import VideoRequest

    req = shell.run_cell_magic("seedance", "--dry-run --model 2.0-fast --rs 480p", "a boat").request
    assert isinstance(req, VideoRequest)
    assert req.family == "2.0-fast" and req.resolution == "480p"
    assert engine.nothing_sent()


def test_inline_and_line_duplicate(shell, engine):
    msg = usage_error(shell, "--rs 720p", "a boat --resolution 1080p")
    assert "duplicate" in msg
    assert engine.nothing_sent()


def test_model_capability_problems_listed_together(shell, engine):
    msg = usage_error(shell, "--model 2.0-fast --rs 1080p", "a boat --frames 121 --wm maybe")
    assert "1080p" in msg and "--frames" in msg and "--wm maybe" in msg
    assert engine.nothing_sent()


def test_config_error_becomes_usage_error(shell, engine):
    msg = usage_error(shell, "--provider ark", "a boat")
    assert "ARK_API_KEY" in msg
    assert engine.nothing_sent()


def test_sweep_grid_validated_whole_before_sending(shell, engine):
    # the first ratio is fine but the second is invalid: nothing is sent
    msg = usage_error(shell, "--sweep seed=1,2 --sweep ratio=16:9,9:21", "a kite")
    assert "9:21" in msg
    assert engine.nothing_sent()


def test_sweep_submits_every_combination(shell, engine):
    shell.run_cell_magic("seedance", "--no-wait --model 1.0-pro-fast --rs 480p --dur 2 "
                         "--sweep seed=1,2 --sweep rt=16:9,9:16", "a kite")
    jobs = shell.user_ns["_seedance_jobs"]
    assert len(jobs) == 4
    engine.wait_sent(jobs)
    combos = sorted((w.seed, w.ratio) for w in engine.wire())
    assert combos == [(1, "16:9"), (1, "9:16"), (2, "16:9"), (2, "9:16")]


def test_sweep_conflicts_with_line_option(shell, engine):
    msg = usage_error(shell, "--seed 3 --sweep seed=1,2", "a kite")
    assert "duplicate" in msg
    msg = usage_error(shell, "--sweep colour=red,blue", "a kite")
    assert "cannot sweep" in msg
    assert engine.nothing_sent()


def test_submit_gets_line_options(shell, engine):
    line = "--no-wait --model 1.0-pro --rs 480p"
    shell.run_cell_magic("seedance", line + " --name first", "a lighthouse --dur 3")
    first = shell.user_ns["_seedance_job"]
    shell.run_cell_magic("seedance", line, "a lighthouse --dur 3")
    assert shell.user_ns["_seedance_job"].joined  # identical and in flight: no second bill
    shell.run_cell_magic("seedance", line + " --new --name second", "a lighthouse --dur 3")
    second = shell.user_ns["_seedance_job"]
    engine.wait_sent([first, second])
    assert engine.creates() == 2 and first.task_id != second.task_id  # --new always sends
    assert [r["name"] for r in engine.rows()] == ["first", "second"]
    for wire in engine.wire():  # inline flags are parsed out of the prompt by build_request
        assert (wire.prompt, wire.family, wire.resolution, wire.duration) == (
            "a lighthouse", "1.0-pro", "480p", 3)


# --- line magic --------------------------------------------------------------------------------


def test_line_version(shell, capsys):
    shell.run_line_magic("seedance", "version")
    assert seedance_nb.__version__ in capsys.readouterr().out


def test_unknown_line_command(shell):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("seedance", "frobnicate")
    assert type(info.value) is UsageError and "panel" in str(info.value)


def test_cancel_by_name(shell, tmp_path, monkeypatch):
    # one 1.0-pro-fast task at a time: a stalled task holds the slot, so "fox" stays queued
    with real_engine(tmp_path, monkeypatch, concurrency={"1.0-pro-fast": 1}) as engine:
        line = "--no-wait --model 1.0-pro-fast --rs 480p --dur 2"
        shell.run_cell_magic("seedance", line, "a stalled hare [emu:stall]")
        shell.run_cell_magic("seedance", line + " --name fox", "a fox")
        job = shell.user_ns["_seedance_job"]
        engine.wait_sent([job])
        assert job.status == "queued"
        shell.run_line_magic("seedance", "cancel fox")
        end = time.monotonic() + 30
        while not job.done and time.monotonic() < end:
            time.sleep(0.02)
        assert job.status == "cancelled"
        with pytest.raises(UsageError):
            shell.run_line_magic("seedance", "cancel nobody")
        with pytest.raises(UsageError, match="already ended"):
            shell.run_line_magic("seedance", "cancel fox")


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


def test_sweep_problem_shared_by_all_combinations_listed_once(shell, engine):
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
                               "--ref-video https://e.example.com/v.mp4", "make it snow").request
    assert (req.mode, req.task_type, req.ratio, req.duration) == ("edit", "edit", "adaptive", -1)


def test_line_option_errors_quote_the_line(shell, engine):
    msg = usage_error(shell, "--provider emulator --model 2.0-fast --rs 1080p", "a boat")
    assert "--rs 1080p: not allowed for doubao-seedance-2-0-fast-260128" in msg
    assert "resolution='1080p'" not in msg
    msg = usage_error(shell, "--provider emulator --model 2.5 --draft --format mov", "a boat")
    assert "--draft and --format mov: give only one of them" in msg
    msg = usage_error(shell, "--provider emulator --sweep seed=1,-7", "a boat")
    assert "--sweep seed=-7: out of range" in msg
    assert engine.nothing_sent()


def test_a_line_option_in_the_cell_body_says_to_move_it(shell, engine):
    msg = usage_error(shell, "--provider emulator", "a boat --model 2.0-fast")
    assert "--model 2.0-fast: --model is a line option: put it on the %%seedance line" in msg
    assert engine.nothing_sent()


def test_sweep_over_new_fields(shell, engine):
    shell.run_cell_magic("seedance", "--no-wait --provider emulator --model 2.5 --rs 480p "
                         "--dur 4 --sweep format=mp4,mov", "a kite")
    engine.wait_sent(shell.user_ns["_seedance_jobs"])
    assert sorted(w.output_format for w in engine.wire()) == ["mov", "mp4"]


# --- the 2026-12 lineup: retired models (§2.4) -------------------------------------------


def _old_result(engine, tmp_path, prompt: str, model: str) -> tuple[int, str]:
    """A finished ledger row for `model`, as an older seedance-nb left it: (row, video)."""
    import hashlib

    from seedance_nb.providers.base import Task
    from seedance_nb.request import build_request

    req = build_request(prompt, provider="emulator", model=model, emulate="ark")
    video = make_mp4(tmp_path / "old" / "boat.mp4")
    data = video.read_bytes()
    led = engine.mgr.ledger()
    row = led.record_intent(fingerprint=req.fingerprint(), provider="emulator", dialect="ark",
                            model=req.model, base_url=engine.emu.base_url + "/api/v3",
                            request=req)
    led.record_created(row, "cgt-20261010101010-old01")
    led.record_task(row, Task(id="cgt-20261010101010-old01", provider="emulator",
                              status="succeeded", model=req.model, tokens=108900))
    led.record_file(row, "video", video, hashlib.sha256(data).hexdigest(), len(data))
    return row, str(video)


def test_a_retired_models_old_result_is_reused_without_error(shell, engine, tmp_path):
    import warnings

    from IPython.utils.capture import capture_output

    row, video = _old_result(engine, tmp_path, "a paper boat", "1.5-pro")
    with capture_output() as cap, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        shell.run_cell_magic("seedance", "--model 1.5-pro", "a paper boat")
    job = shell.user_ns["_seedance_job"]
    assert job.reused and job.status == "succeeded" and job.error == ""
    assert (job.ledger_id, job.task_id, job.video_path) == (row, "cgt-20261010101010-old01", video)
    assert "<video" in "".join(o.data.get("text/html", "") for o in cap.outputs)
    assert "no longer serves" not in cap.stdout + cap.stderr 
    assert not [w for w in warned if "1.5-pro" in str(w.message)]
    assert engine.creates() == 0 and len(engine.rows()) == 1


def test_a_new_request_for_a_retired_model_names_the_replacement(shell, engine, tmp_path):
    _old_result(engine, tmp_path, "a paper boat", "1.5-pro")
    msg = usage_error(shell, "--model 1.5-pro", "a different boat")
    assert "model 1.5-pro: retired" in msg and "use 2.0 or 2.0-fast" in msg
    msg = usage_error(shell, "--model 1.0-lite-t2v --rs 480p", "a kite")
    assert "model 1.0-lite-t2v: retired" in msg and "2.0-fast" in msg
    assert engine.creates() == 0 and len(engine.rows()) == 1  # only the old row
