"""The control panel: choices follow provider/model, Generate validates, cards follow jobs."""
from __future__ import annotations

import datetime
import sys
import threading
from pathlib import Path
import types
from typing import Any

import pytest

import seedance_nb
from seedance_nb.config import defaults
from seedance_nb.ui import JobCard, Panel

from _magic_helpers import FakeJob, make_mp4


@pytest.fixture(autouse=True)
def _clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    defaults.reset()
    yield
    defaults.reset()


@pytest.fixture
def sent(monkeypatch):
    calls: list[dict[str, Any]] = []

    def submit(prompt: str = "", **kw: Any) -> FakeJob:
        calls.append({"prompt": prompt, **kw})
        return FakeJob(prompt, **kw)

    fake = types.ModuleType("seedance_nb.jobs")
    fake.submit = submit
    monkeypatch.setitem(sys.modules, "seedance_nb.jobs", fake)
    monkeypatch.setattr(seedance_nb, "jobs", fake, raising=False)
    return calls


def test_resolutions_follow_the_model():
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.resolution.value = "1080p"
    panel.model.value = "2.0-fast"
    assert "1080p" not in panel.resolution.options
    assert panel.resolution.value in ("480p", "720p")
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
    assert "adaptive" not in panel.ratio.options
    panel.provider.value = "emulator"
    assert not panel.seed.disabled and panel.seed.layout.display == ""


def test_emulator_dialect_changes_model_ids():
    panel = Panel(provider="emulator")
    panel.emulate.value = "byteplus"
    assert ("1.5-pro (seedance-1-5-pro-251215)", "1.5-pro") in panel.model.options
    panel.provider.value = "ark"
    assert panel.emulate.layout.display == "none"


def test_text_only_model_disables_frame_uploads():
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-lite-t2v"
    assert panel.first_frame.disabled and "first-frame" in panel.first_frame.tooltip
    assert panel.last_frame.disabled
    panel.model.value = "1.0-lite-i2v"
    assert not panel.first_frame.disabled
    assert "needs a first-frame image" in panel.notes.value


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


def test_generate_with_invalid_state_enqueues_nothing(sent):
    panel = Panel(provider="emulator")
    panel.prompt.value = "   "  # t2v needs a prompt
    panel._on_generate()
    assert sent == []
    assert "seedance-problems" in panel.problems.value
    assert panel.cards_box.children == ()
    panel.prompt.value = "a kite --rs=720p"  # bad inline flag
    panel._on_generate()
    assert sent == [] and "--rs 720p" in panel.problems.value


def test_generate_enqueues_and_adds_a_card(sent):
    panel = Panel(provider="emulator")
    panel.model.value = "1.5-pro"
    panel.prompt.value = "a paper boat"
    panel.seed.value = 9
    panel.audio.value = True
    job = panel._on_generate()
    assert len(sent) == 1
    call = sent[0]
    assert (call["prompt"], call["model"], call["seed"], call["generate_audio"]) == (
        "a paper boat", "1.5-pro", 9, True)
    assert panel.cards_box.children[0].job is job
    assert panel.problems.value == ""


def test_inline_flags_in_the_prompt_override_the_form(sent):
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    panel.duration.value = 5
    panel.prompt.value = "a kite --dur 3 --rs 480p"
    assert panel.problems.value == "" and "tokens" in panel.estimate.value
    panel._on_generate()
    assert "duration" not in sent[0] and "resolution" not in sent[0]
    assert sent[0]["prompt"] == "a kite --dur 3 --rs 480p"


def test_card_follows_job_traits(tmp_path):
    job = FakeJob("x", name="kite")
    card = JobCard(job)
    assert "pending" in card.status.value and not card.cancel.disabled
    job.task_id = "cgt-1"
    job.status = "running"
    job.progress = 40
    job.elapsed = 12.0
    assert 'data-status="running"' in card.status.value and "cgt-1" in card.status.value
    assert card.progress.value == 40 and card.elapsed.value == "12 s"
    job.video_path = str(make_mp4(tmp_path / "v.mp4"))
    job.status = "succeeded"
    assert card.progress.value == 100 and card.cancel.disabled
    video = card.video.children[0].children[0]
    assert video.value == (tmp_path / "v.mp4").read_bytes()


def test_card_shows_errors_and_cancels():
    job = FakeJob("x")
    card = JobCard(job)
    card.cancel.click()
    assert job.cancelled and "cancelled" in card.status.value
    job2 = FakeJob("y")
    card2 = JobCard(job2)
    job2.error = "OutputVideoSensitiveContentDetected.PolicyViolation"
    job2.status = "failed"
    assert "PolicyViolation" in card2.error.value and card2.progress.bar_style == "danger"


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


def test_frame_uploads_switch_the_mode(sent, tmp_path):
    panel = Panel(provider="emulator")
    panel.model.value = "1.0-pro"
    assert "adaptive" not in panel.ratio.options  # t2v on 1.0: fixed ratios only
    assert panel.last_frame.disabled and "first frame first" in panel.last_frame.tooltip
    panel.first_frame.value = (_png((200, 30, 30)),)
    assert panel.mode == "first" and "adaptive" in panel.ratio.options
    assert not panel.last_frame.disabled
    panel.last_frame.value = (_png((30, 30, 200)),)
    assert panel.mode == "first+last"
    panel.model.value = "1.0-pro-fast"  # no first+last on this model: the last frame is left out
    assert panel.last_frame.disabled and panel.mode == "first"
    assert [r for _, r in panel.request_kwargs()["images"]] == ["first_frame"]
    panel.model.value = "1.0-pro"
    panel._on_generate()
    roles = [role for _, role in sent[0]["images"]]
    assert roles == ["first_frame", "last_frame"]
    assert all(Path(p).is_file() for p, _ in sent[0]["images"])
    panel._on_clear(None)
    assert panel.mode == "t2v"


def test_generate_uses_the_configured_key(sent):
    from _magic_helpers import make_shell

    shell = make_shell()
    magics = shell.magics_manager.registry["Seedance"]
    magics.api_key = "sk-panelkey-0123456789"
    try:
        panel = Panel(provider="ark")
        panel.prompt.value = "a kite"
        panel._on_generate()
        assert sent[0]["api_key"] == "sk-panelkey-0123456789"
    finally:
        magics.api_key = None


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


def test_a_25_draft_card_offers_its_final_and_the_final_gets_its_own_card(tmp_path):
    """Panel: 2.5 with Draft ticked sends a 480p draft; its card's "Render final (1080p)"
    button, once the draft succeeded, submits the final and shows the final's card."""
    import os

    from seedance_nb import Emulator
    from seedance_nb.config import defaults
    from seedance_nb.ui.finals import validity_text

    from _client_helpers import isolated_jobs

    with Emulator(speed=100, run_seconds=1, in_process=True) as emu, isolated_jobs(tmp_path):
        os.environ["SEEDANCE_EMULATOR_URL"] = emu.base_url
        try:
            panel = Panel(provider="emulator")
            panel.model.value = "2.0-fast"
            assert panel.draft.disabled  # drafts are a 2.5 feature
            panel.model.value = "2.5"
            assert not panel.draft.disabled
            panel.prompt.value = "a koi pond --dur 4"
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
        finally:
            os.environ.pop("SEEDANCE_EMULATOR_URL", None)
    assert validity_text(100.0, now=100.0 + 1) == "draft expired: a final is no longer possible"
