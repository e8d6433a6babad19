"""The control panel: choices follow provider/model, Generate validates, cards follow jobs."""
from __future__ import annotations

import datetime
import sys
import threading
import types

import pytest

from seedance_nb.config import settings
from seedance_nb.ui import JobCard, Panel

from _magic_helpers import FakeJob, make_mp4, real_engine


@pytest.fixture(autouse=True)
def _clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings.reset()
    yield
    settings.reset()


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """The real job engine sending to an in-process emulator."""
    with real_engine(tmp_path, monkeypatch) as eng:
        yield eng


def test_resolutions_follow_the_model():
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.resolution.value = "1080p"
    panel.model.value = "2.0-fast"
    assert "1080p" not in panel.choices("resolution")
    # 1080p is not offered: back to unset, the model's default (720p), as in a bare cell
    assert panel.resolution.value is None and panel.resolution.label == "default (720p)"
    assert panel.camera_fixed.disabled  # 2.0 has no fixed camera
    assert "fixed-camera" in panel.camera_fixed.tooltip
    assert list(panel.duration.options)[-1] == ("auto (-1)", -1)


def test_comet_hides_seed_and_watermark_and_says_why():
    panel = Panel(provider="emulator")
    panel.seed.value = 42
    panel.provider.value = "comet"
    assert panel.seed.disabled and panel.seed.layout.display == "none"
    assert panel.watermark.layout.display == "none"
    assert "seed" in panel.notes.value and "comet" in panel.notes.value
    assert "seed" not in panel.request_kwargs()
    # only live families are offered; comet retired 1.0-pro and 1.5-pro (§2.1)
    assert list(panel.model.options) == [
        ("2.5 (seedance-2-5)", "2.5"), ("2.0 (doubao-seedance-2-0)", "2.0"),
        ("2.0-fast (doubao-seedance-2-0-fast)", "2.0-fast")]
    assert "adaptive" not in panel.choices("ratio")
    panel.provider.value = "emulator"
    assert not panel.seed.disabled and panel.seed.layout.display == ""


def test_emulator_dialect_changes_model_ids():
    panel = Panel(provider="emulator")
    panel.emulate.value = "byteplus"
    assert ("2.0-fast (dreamina-seedance-2-0-fast-260128)", "2.0-fast") in panel.model.options
    panel.provider.value = "ark"
    assert panel.emulate.layout.display == "none"
    assert ("2.0-fast (doubao-seedance-2-0-fast-260128)", "2.0-fast") in panel.model.options


def test_retired_families_are_not_offered():
    """1.5-pro and 1.0-lite-* are retired (§2.4): on no provider or dialect are they a
    choice, and a remembered retired model falls back to the default family."""
    settings.model = "1.5-pro"
    panel = Panel(provider="emulator")
    assert panel.model.value == "2.0-fast"
    for provider in ("ark", "byteplus", "comet", "comet-volc", "acedata"):
        panel.provider.value = provider
        offered = [fam for _, fam in panel.model.options]
        assert offered and "2.0-fast" in offered
        assert not {"1.5-pro", "1.0-lite-t2v", "1.0-lite-i2v"} & set(offered), provider
    panel.provider.value = "comet"
    assert "1.0-pro" not in [fam for _, fam in panel.model.options]  # retired on comet only


def test_models_without_a_last_frame_disable_that_upload():
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro-fast"  # first frame only
    panel.first_frame.value = (_png((200, 30, 30)),)
    assert not panel.first_frame.disabled
    assert panel.last_frame.disabled and "takes no last frame" in panel.last_frame.tooltip
    panel.model.value = "1.0-pro"
    assert not panel.last_frame.disabled
    panel.provider.value = "comet"  # comet's route takes one image: never a last frame
    assert panel.model.value == "2.0-fast" and not panel.first_frame.disabled
    assert panel.last_frame.disabled and "comet takes no last frame" in panel.last_frame.tooltip
    assert "needs a first-frame image" not in panel.notes.value  # every live model does t2v


def test_live_estimate_follows_the_form():
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.prompt.value = "a red kite"
    panel.resolution.value = "720p"
    panel.ratio.value = "16:9"
    panel.duration.value = 5
    assert "103,818 tokens" in panel.estimate.value
    panel.resolution.value = "480p"
    assert "103,818" not in panel.estimate.value and "tokens" in panel.estimate.value


def test_generate_with_invalid_state_enqueues_nothing(engine):
    panel = Panel(provider="emulator")
    panel.prompt.value = "   "  # t2v needs a prompt
    assert panel._on_generate() is None
    assert "seedance-problems" in panel.problems.value
    assert panel.cards_box.children == ()
    panel.prompt.value = "a kite --rs=720p"  # bad inline flag
    assert panel._on_generate() is None
    assert "--rs 720p" in panel.problems.value
    assert engine.nothing_sent() and panel.cards_box.children == ()


def test_generate_enqueues_and_adds_a_card(engine):
    panel = Panel(provider="emulator")
    panel.model.value = "2.0-fast"
    panel.resolution.value = "480p"
    panel.duration.value = 4
    panel.prompt.value = "a paper boat"
    panel.seed.value = 9
    panel.audio.value = True
    job = panel._on_generate()
    card = panel.cards_box.children[0]
    assert card.job is job and panel.problems.value == ""
    job.wait(60)
    [row] = engine.rows()
    assert (row["request"]["prompt"], row["request"]["seed"]) == ("a paper boat", 9)
    [wire] = engine.wire()
    assert (wire.family, wire.resolution, wire.duration, wire.seed, wire.generate_audio) == (
        "2.0-fast", "480p", 4, 9, True)
    assert 'data-status="succeeded"' in card.status.value
    assert len(card.video.children) == 1  # the card shows the finished video


def test_inline_flags_in_the_prompt_set_untouched_controls(engine):
    """Flags for controls left at "default" apply (a flag that disagrees with a chosen
    control is a conflict: tests/test_panel_parity.py)."""
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.duration.value = 2  # the same as the flag: fine, the flag carries it
    panel.prompt.value = "a kite --dur 2 --rs 480p"
    assert panel.problems.value == "" and "tokens" in panel.estimate.value
    job = panel._on_generate()
    engine.wait_sent([job])
    [wire] = engine.wire()
    assert (wire.prompt, wire.duration, wire.resolution) == ("a kite", 2, "480p")


def test_card_follows_job_traits(tmp_path):
    job = FakeJob("x", name="kite")
    card = JobCard(job)
    assert "pending" in card.status.value and not card.cancel.disabled
    job.task_id = "cgt-1"
    job.status = "running"
    job.progress = 40
    job.elapsed = 12.0
    assert 'data-status="running"' in card.status.value and "cgt-1" in card.status.value
    # the clock shows the elapsed time the job reported (and ticks on in the browser)
    assert card.progress.value == 40 and 'data-elapsed="12"' in card.elapsed.value
    job.video_path = str(make_mp4(tmp_path / "v.mp4"))
    job.status = "succeeded"
    assert card.progress.value == 100 and card.cancel.disabled
    video = card.video.children[0].children[0]
    assert video.value == (tmp_path / "v.mp4").read_bytes()


def _until_done(job, timeout: float = 30.0) -> None:
    import time

    end = time.monotonic() + timeout
    while not job.done and time.monotonic() < end:
        time.sleep(0.02)


def test_card_shows_errors_and_cancels(tmp_path, monkeypatch):
    from seedance_nb import jobs

    # one 1.0-pro-fast task runs at a time: a stalled one holds the slot, so "fox" queues
    with real_engine(tmp_path, monkeypatch, concurrency={"1.0-pro-fast": 1}) as engine:
        kw = dict(provider="emulator", model="1.0-pro-fast", resolution="480p", duration=2)
        failing = jobs.submit("a kite [emu:fail]", **kw)
        failed_card = JobCard(failing)
        _until_done(failing)
        assert 'data-status="failed"' in failed_card.status.value
        assert "PolicyViolation" in failed_card.error.value
        assert failed_card.progress.bar_style == "danger" and failed_card.cancel.disabled
        jobs.submit("a hare [emu:stall]", **kw)
        queued = jobs.submit("a fox", **kw)
        card = JobCard(queued)
        engine.wait_sent([queued])
        assert 'data-status="queued"' in card.status.value and not card.cancel.disabled
        card.cancel.click()
        _until_done(queued)
        assert 'data-status="cancelled"' in card.status.value and card.cancel.disabled


def test_many_jobs_finishing_at_once(tmp_path):
    video = str(make_mp4(tmp_path / "v.mp4"))
    jobs = [FakeJob(str(i)) for i in range(8)]
    cards = [JobCard(j) for j in jobs]
    barrier = threading.Barrier(len(jobs))

    def finish(job: FakeJob) -> None:  # what the worker does, from other threads
        barrier.wait()
        job.progress = 100
        job.video_path = video
        job.status = "succeeded"

    threads = [threading.Thread(target=finish, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for card in cards:
        assert 'data-status="succeeded"' in card.status.value
        assert len(card.video.children) == 1


def _png(colour: tuple[int, int, int]) -> dict:
    import io
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 360), colour).save(buf, format="PNG")
    data = buf.getvalue()
    return {"name": "frame.png", "type": "image/png", "size": len(data),
            "content": memoryview(data),
            "last_modified": datetime.datetime.now(datetime.timezone.utc)}


def test_frame_uploads_switch_the_mode(engine):
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    assert "adaptive" not in panel.choices("ratio")  # t2v on 1.0: fixed ratios only
    assert panel.last_frame.disabled and "first frame first" in panel.last_frame.tooltip
    red, blue = _png((200, 30, 30)), _png((30, 30, 200))
    panel.first_frame.value = (red,)
    assert panel.mode == "first" and "adaptive" in panel.choices("ratio")
    assert not panel.last_frame.disabled
    panel.last_frame.value = (blue,)
    assert panel.mode == "first+last"
    panel.model.value = "1.0-pro-fast"  # no first+last on this model: the last frame is left out
    assert panel.last_frame.disabled and panel.mode == "first"
    assert [r for _, r in panel.request_kwargs()["images"]] == ["first_frame"]
    panel.model.value = "1.0-pro"
    panel.resolution.value = "480p"
    panel.duration.value = 2
    job = panel._on_generate()
    engine.wait_sent([job])
    [wire] = engine.wire()  # both images went on the wire, in their roles
    assert wire.mode == "first+last"
    assert wire.first_image == bytes(red["content"])
    assert wire.last_image == bytes(blue["content"])
    panel._on_clear(None)
    assert panel.mode == "t2v"


def test_generate_uses_the_configured_key(tmp_path, monkeypatch):
    """A key set with %config Seedance.api_key is what the panel's ark job sends: the
    gateway (an emulator that accepts only that key) accepts the create."""
    import dataclasses
    import time

    from seedance_nb import Emulator
    from seedance_nb.http import Transport

    from _client_helpers import isolated_jobs
    from _magic_helpers import make_shell

    key = "sk-panelkey-0123456789"
    shell = make_shell()
    from seedance_nb.config import settings as session

    monkeypatch.delenv("ARK_API_KEY", raising=False)
    with Emulator(speed=100, run_seconds=1, in_process=True, token=key) as emu:
        def to_emulator(settings, dialect):  # the transport seam: ark's routes, loopback host
            return Transport(dataclasses.replace(settings, base_url=emu.base_url + "/api/v3"),
                             dialect)

        with isolated_jobs(tmp_path, transport_factory=to_emulator):
            shell.run_line_magic("config", f'Seedance.api_key = "{key}"')
            try:
                panel = Panel(provider="ark")
                panel.resolution.value = "480p"
                panel.duration.value = 4
                panel.prompt.value = "a kite"
                job = panel._on_generate()
                assert job is not None, panel.problems.value
                end = time.monotonic() + 30
                while not (job.task_id or job.done) and time.monotonic() < end:
                    time.sleep(0.02)
                assert job.task_id and job.status in ("queued", "running"), job.error
            finally:
                session.api_key = None
        assert emu.stats()["creates"]["ark"] == 1


def test_colab_gets_its_widget_manager(monkeypatch):
    calls = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(1))
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    Panel(provider="emulator")
    assert calls == [1]


def test_a_25_draft_card_offers_its_final_and_the_final_gets_its_own_card(tmp_path, monkeypatch):
    """Panel: 2.5 with Draft ticked sends a 480p draft; its card's "Render final (1080p)"
    button, once the draft succeeded, submits the final and shows the final's card."""
    from seedance_nb.ui.finals import validity_text

    from _emulator_helpers import NO_RENDER

    # the emulator's stand-in renderer makes a one-frame clip for NO_RENDER prompts: the
    # 1080p final is about the flow, not the picture, and would cost seconds to draw
    with real_engine(tmp_path, monkeypatch, render_module="_emulator_helpers") as engine:
        _draft_and_final(engine, f"a koi pond {NO_RENDER} --dur 4")
    assert validity_text(100.0, now=100.0 + 1) == "draft expired: a final is no longer possible"


def _draft_and_final(engine, prompt: str) -> None:
    panel = Panel(provider="emulator")
    panel.model.value = "2.0-fast"
    assert panel.draft.disabled  # drafts are a 2.5 feature
    panel.model.value = "2.5"
    assert not panel.draft.disabled
    panel.prompt.value = prompt
    panel.draft.value = True
    assert "480p draft" in panel.estimate.value
    job = panel._on_generate()
    card = panel.cards[0]
    assert card.final.button.disabled  # not before the draft succeeded
    job.wait(60)
    card.final.refresh()
    assert job.request.draft and not card.final.button.disabled
    assert "final possible for 6 d" in card.final.validity.value
    card.final._on_click()
    final = card.final.final_job.wait(60)
    assert final.request.mode == "final" and final.request.resolution == "1080p"
    assert final.task.draft_task_id == job.task_id
    assert card.final.button.disabled  # one final per click, not a second bill
    assert [c.job for c in card.final.slot.children] == [final]
    draft_sent, final_sent = engine.wire()
    assert (draft_sent.draft, draft_sent.resolution) == (True, "480p")
    assert (final_sent.draft_task_id, final_sent.resolution) == (job.task_id, "1080p")
