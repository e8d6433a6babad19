"""Panel parity with the magic: every setting from the field table, unset stays unset,
inline-flag conflicts, "Copy as %%seedance cell" round trip (a real shell's dry run)."""
from __future__ import annotations

import pytest

from seedance_nb import fields
from seedance_nb.config import settings
from seedance_nb.ui import Panel

from _magic_helpers import make_shell, real_engine
from _panel_helpers import png_upload, record_creates


@pytest.fixture(autouse=True)
def _clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """The real engine and emulator; `engine.bodies`: the create bodies sent."""
    with real_engine(tmp_path, monkeypatch) as eng:
        eng.bodies = record_creates(monkeypatch)
        yield eng


def _generate(panel):
    """Press Generate; the job it enqueued, or None (nothing sent)."""
    before = len(panel.jobs)
    panel.generate.click()
    return panel.jobs[-1] if len(panel.jobs) > before else None


def test_every_line_option_of_the_magic_has_a_control():
    panel = Panel(provider="emulator")
    magic = {f.name for f in fields.FIELDS if f.options}
    assert set(panel.form.widgets) == magic - {"fps"}  # fps: 24 only, nothing is sent
    panel.model.value = "1.0-pro"
    assert panel.choices("service_tier") == ["default", "flex"]
    assert panel.choices("frames")[:3] == [29, 33, 37] and 121 in panel.choices("frames")
    assert panel.ref_videos.disabled and "no ref videos" in panel.ref_videos.tooltip
    panel.model.value = "2.0-fast"
    assert panel.service_tier.disabled and "no flex tier" in panel.service_tier.tooltip
    assert panel.frames.disabled and not panel.ref_videos.disabled
    assert not panel.ref_audios.disabled and not panel.callback_url.disabled


def test_untouched_form_sends_no_setting_and_leaves_audio_to_the_gateway(engine):
    panel = Panel(provider="emulator")
    panel.model.value = "2.0-fast"
    panel.prompt.value = "a red kite"
    assert panel.audio.label == "default (on)" and panel.audio.value is None
    assert panel.request_kwargs() == {"provider": "emulator", "model": "2.0-fast"}
    engine.wait_sent([_generate(panel)])
    [body] = engine.bodies
    assert "generate_audio" not in body and "resolution" not in body and "seed" not in body
    panel.audio.value = False  # "off" is sent as false
    panel.prompt.value = "a blue kite"
    engine.wait_sent([_generate(panel)])
    assert engine.bodies[1]["generate_audio"] is False


def test_new_controls_reach_the_wire(engine):
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.prompt.value = "a lantern"
    panel.resolution.value = "480p"
    panel.frames.value = 49
    panel.service_tier.value = "flex"
    panel.execution_expires_after.value = "7200"
    panel.callback_url.value = "https://example.com/hook"
    panel.seed.value = 5
    panel.watermark.value = True
    assert panel.problems.value == "" and "tokens" in panel.estimate.value
    engine.wait_sent([_generate(panel)])
    [body] = engine.bodies
    assert {k: body[k] for k in ("resolution", "frames", "service_tier",
                                 "execution_expires_after", "callback_url", "seed",
                                 "watermark")} == {
        "resolution": "480p", "frames": 49, "service_tier": "flex",
        "execution_expires_after": 7200, "callback_url": "https://example.com/hook",
        "seed": 5, "watermark": True}
    assert "duration" not in body


def test_bad_typed_values_are_problems_and_send_nothing(engine):
    panel = Panel(provider="emulator")
    panel.prompt.value = "a lantern"
    panel.execution_expires_after.value = "soon"
    assert "execution_expires_after" in panel.problems.value
    panel.execution_expires_after.value = ""
    panel.callback_url.value = "ftp://x"
    assert "http(s) URL" in panel.problems.value
    assert _generate(panel) is None and engine.nothing_sent()


def test_reference_media_by_role_on_25(engine, tmp_path):
    panel = Panel(provider="emulator")
    panel.model.value = "2.5"
    panel.ref_upload.value = (png_upload((200, 30, 30)), png_upload((30, 200, 30), "b.png"))
    assert len(panel.ref_images.value.splitlines()) == 2 and panel.mode == "ref"
    panel.ref_videos.value = "https://example.com/clip.mp4"
    panel.prompt.value = "the cat from image 1 walks like in video 1 --dur 4"
    assert panel.problems.value == "", panel.problems.value
    req = panel.build()
    assert [i.role for i in req.images] == ["reference_image", "reference_image"]
    assert req.ref_videos == ("https://example.com/clip.mp4",)
    panel.task_type.value = "edit"
    assert panel.mode == "edit"
    assert panel.choices("ratio") == ["adaptive"]  # an edit is adaptive only (§3)
    panel.prompt.value = "make it night"
    engine.wait_sent([_generate(panel)])
    [body] = engine.bodies
    roles = [c.get("role") for c in body["content"] if c["type"] != "text"]
    assert roles == ["reference_image", "reference_image", "reference_video"]
    assert body["omni_reference_task_type"] == "edit"


def test_a_flag_that_disagrees_with_a_control_is_a_conflict(engine):
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.resolution.value = "720p"
    panel.prompt.value = "a cat --rs 1080p"
    assert panel.conflicts == ["--rs 1080p in the prompt conflicts with the form's "
                               "Resolution 720p; change one of them"]
    assert "--rs 1080p" in panel.problems.value and "Resolution 720p" in panel.problems.value
    assert _generate(panel) is None and engine.nothing_sent()
    panel.duration.value = 5
    panel.prompt.value = "a cat --frames 121"
    assert "--frames 121 in the prompt and the form's Duration (s) 5: give only one " \
           "length" in panel.conflicts
    # the same value in both places is fine: the flag carries it
    panel.duration.index = 0  # back to "default"
    panel.prompt.value = "a cat --rs 720p --seed 3"
    assert panel.conflicts == [] and panel.problems.value == ""
    assert "resolution" not in panel.request_kwargs()
    job = _generate(panel)
    engine.wait_sent([job])
    assert (job.request.resolution, job.request.seed) == ("720p", 3)


def _dry_run(text: str):
    """The request a dry run of the cell builds (its output holds the requests)."""
    shell = make_shell()
    result = shell.run_cell(text).result
    [request] = getattr(result, "requests", [result])
    return request


def test_copy_as_cell_round_trips_through_a_real_shell(tmp_path):
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.first_frame.value = (png_upload((200, 30, 30)),)
    panel.last_frame.value = (png_upload((30, 30, 200), "last.png"),)
    panel.prompt.value = "a {curly} fox's den\n  at dusk --seed 7"
    panel.resolution.value = "480p"
    panel.ratio.value = "adaptive"
    panel.duration.value = 3
    panel.camera_fixed.value = True
    panel.service_tier.value = "flex"
    panel.return_last_frame.value = True
    panel.execution_expires_after.value = "3600"
    panel.callback_url.value = "https://example.com/cb?a=1&b=2"
    panel.name.value = "den at dusk"
    panel.copy.click()
    text = panel.cell
    assert "fox's" in text and "fox&#x27;s" in panel.copy_out.value  # escaped in the box
    line, body = text.split("\n", 1)
    assert line.startswith("%%seedance --provider emulator --model 1.0-pro --image ")
    assert "--name 'den at dusk'" in line and "--tier flex" in line
    assert body == "a {{curly}} fox's den\n  at dusk --seed 7"  # the magic fills {name}
    assert "seedance-copy-js" in panel.copy_out.value and "readonly" in panel.copy_out.value
    got = _dry_run(text.replace("%%seedance", "%%seedance --dry-run", 1))
    want = panel.build()
    assert got.to_dict() == want.to_dict() and got.fingerprint() == want.fingerprint()
    assert got.prompt == "a {curly} fox's den\n  at dusk" and got.seed == 7


@pytest.mark.parametrize("model, setup", [
    ("2.0-fast", {"audio": False, "watermark": True}),
    ("2.0-fast", {"audio": True, "duration": -1, "ref_audios": "https://example.com/a.mp3",
                  "ref_videos": "https://example.com/v.mp4\nhttps://example.com/w.mp4"}),
    ("2.5", {"draft": True, "duration": 4}),
    ("2.5", {"output_format": "mov", "task_type": "reference", "seed": 11,
             "ref_videos": "asset://clip-1"}),
    ("2.5", {"draft_task_id": "cgt-20261201101500-k3v9x", "watermark": True}),
])
def test_copy_as_cell_round_trip_per_model(model, setup):
    panel = Panel(provider="emulator")
    panel.model.value = model
    panel.prompt.value = "" if "draft_task_id" in setup else "a lighthouse"
    for name, value in setup.items():
        getattr(panel, name).value = value
    want = panel.build()
    got = _dry_run(panel._on_copy().replace("%%seedance", "%%seedance --dry-run", 1))
    assert got.to_dict() == want.to_dict()


def test_an_image_only_cell_round_trips(tmp_path):
    """No prompt: the cell's body is an empty line (IPython refuses an empty body)."""
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro-fast"
    panel.first_frame.value = (png_upload((90, 90, 20)),)
    panel.copy.click()
    assert panel.cell.endswith("\n\n") and "--image " in panel.cell
    got = _dry_run(panel.cell.replace("%%seedance", "%%seedance --dry-run", 1))
    assert got.to_dict() == panel.build().to_dict() and got.mode == "first"


def test_buttons_pressed_from_another_thread_only_enqueue(engine, capsys):
    """JupyterLab 4.4+ with ipykernel 7 may run a click on another thread: the click
    validates and submits; the job runs on the engine's threads, nothing is printed."""
    import threading

    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro-fast"
    panel.resolution.value = "480p"
    panel.duration.value = 2
    panel.prompt.value = "a paper plane"
    clicks = threading.Thread(target=lambda: (panel.copy.click(), panel.generate.click()))
    clicks.start()
    clicks.join(10)
    assert not clicks.is_alive() and panel.cell.endswith("\na paper plane")
    [job] = panel.jobs
    assert panel.cards[0].job is job
    job.wait(60)
    assert capsys.readouterr().out == ""
    assert engine.creates() == 1


def test_an_emulated_dialect_is_named_as_a_setting_to_run_first():
    panel = Panel(provider="emulator")
    panel.emulate.value = "byteplus"
    panel.prompt.value = "a heron"
    panel.copy.click()
    assert "%config Seedance.emulate = &#x27;byteplus&#x27;" in panel.copy_out.value
    shell = make_shell()
    shell.run_line_magic("config", "Seedance.emulate = 'byteplus'")
    got = _dry_run(panel.cell.replace("%%seedance", "%%seedance --dry-run", 1))
    assert got.to_dict() == panel.build().to_dict() and got.model.startswith("dreamina-")


def test_copy_refuses_a_conflicting_form():
    panel = Panel(provider="emulator")
    panel.resolution.value = "480p"
    panel.prompt.value = "a cat --rs 720p"
    assert panel._on_copy() == "" and panel.copy_out.value == ""
    assert "conflicts with the form&#x27;s Resolution 480p" in panel.problems.value
