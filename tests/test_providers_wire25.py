"""Golden create bodies for every 2.5 mode (§3, §5.1-§5.3), per dialect, from build_request."""
from __future__ import annotations

import base64
import warnings

import pytest

from seedance_nb import catalog
from seedance_nb.errors import SeedanceValidationError
from seedance_nb.providers import get_dialect, to_wire
from seedance_nb.request import build_request

IMG = "https://e.example.com/first.png"
LAST = "https://e.example.com/last.png"
VID = "https://e.example.com/clip.mp4"
AUD = "https://e.example.com/song.mp3"
TEXT = {"type": "text", "text": "A fox"}


def image(url: str, role: str) -> dict:
    return {"type": "image_url", "image_url": {"url": url}, "role": role}


VIDEO = {"type": "video_url", "video_url": {"url": VID}, "role": "reference_video"}
AUDIO = {"type": "audio_url", "audio_url": {"url": AUD}, "role": "reference_audio"}

# mode -> (build_request arguments, expected body without "model")
CASES = {
    "t2v": ((dict(text="A fox --dur 5 --rs 1080p")),
            {"content": [TEXT], "resolution": "1080p", "duration": 5}),
    "first": (dict(text="A fox --dur 6", images=[IMG]),
              {"content": [TEXT, image(IMG, "first_frame")], "ratio": "adaptive",
               "duration": 6}),
    "first+last": (dict(text="A fox --dur 8", images=[IMG, LAST]),
                   {"content": [TEXT, image(IMG, "first_frame"), image(LAST, "last_frame")],
                    "ratio": "adaptive", "duration": 8}),
    "ref audio only": (dict(text="A fox --dur 5", ref_audios=[AUD]),
                       {"content": [TEXT, AUDIO], "duration": 5}),
    "edit": (dict(text="A fox", ref_videos=[VID], ref_audios=[AUD], task_type="edit"),
             {"content": [TEXT, VIDEO, AUDIO], "omni_reference_task_type": "edit",
              "ratio": "adaptive", "duration": -1}),
    "extend": (dict(text="A fox --dur 10", images=[(IMG, "reference_image")], ref_videos=[VID],
                    task_type="extend"),
               {"content": [TEXT, image(IMG, "reference_image"), VIDEO],
                "omni_reference_task_type": "extend", "ratio": "adaptive", "duration": 10}),
    "draft": (dict(text="A fox --dur 5 --seed 7", draft=True),
              {"content": [TEXT], "draft": True, "duration": 5, "seed": 7}),
    "final": (dict(text="", draft_task_id="cgt-20261201101500-k3v9x", watermark=True),
              {"content": [{"type": "draft_task",
                            "draft_task": {"id": "cgt-20261201101500-k3v9x"}}],
               "resolution": "1080p", "watermark": True}),
    "mov": (dict(text="A fox --dur 5", output_format="mov"),
            {"content": [TEXT], "output_format": "mov", "duration": 5}),
}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("provider", ["ark", "byteplus", "acedata"])
@pytest.mark.parametrize("case", list(CASES))
def test_golden_body_per_dialect(case, provider):
    kw, expected = CASES[case]
    kw = dict(kw)
    text = kw.pop("text")
    req = build_request(text, provider=provider, model="2.5", **kw)
    body = {"model": catalog.WIRE_IDS[provider]["2.5"], **expected}
    if provider == "acedata":
        body["async"] = True
    assert to_wire(req) == body
    call = get_dialect(provider).create_call(req)
    assert call.json == body and call.is_create
    # key order on the wire: model, content, then the top-level keys
    assert list(call.json)[:2] == ["model", "content"]


def test_the_emulator_emulating_ark_sends_the_ark_body():
    kw, expected = CASES["edit"]
    req = build_request("A fox", provider="emulator", emulate="ark", model="2.5",
                        **{k: v for k, v in kw.items() if k != "text"})
    assert to_wire(req) == {"model": "doubao-seedance-2-5-260628", **expected}


def test_a_final_without_a_model_is_2_5_and_fingerprints_like_one_with_its_resolution():
    a = build_request("", provider="byteplus", draft_task_id="cgt-1")
    b = build_request("", provider="byteplus", draft_task_id="cgt-1", resolution="1080p",
                      callback_url="https://hooks.example.com/x")
    assert a.family == "2.5" and a.mode == "final" and a.resolution == "1080p"
    assert a.fingerprint() == b.fingerprint()
    other = build_request("", provider="byteplus", draft_task_id="cgt-1", watermark=True)
    assert other.fingerprint() != a.fingerprint()


def test_filled_values_fingerprint_like_given_ones():
    filled = build_request("A fox", provider="ark", model="2.5", ref_videos=[VID],
                           task_type="edit")
    given = build_request("A fox", provider="ark", model="2.5", ref_videos=[VID],
                          task_type="edit", ratio="adaptive", duration=-1)
    assert filled == given and filled.fingerprint() == given.fingerprint()
    assert filled.to_dict()["ratio"] == "adaptive" and filled.to_dict()["duration"] == -1


def test_a_local_wav_goes_out_as_a_data_url_and_counts_by_content(tmp_path):
    wav = tmp_path / "voice.wav"
    wav.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    req = build_request("A fox --dur 5", provider="ark", model="2.5", ref_audios=[str(wav)])
    item = to_wire(req)["content"][1]
    assert item == {"type": "audio_url", "role": "reference_audio", "audio_url": {
        "url": "data:audio/wav;base64," + base64.b64encode(wav.read_bytes()).decode()}}
    assert req.to_dict()["ref_audios"] == [str(wav)]  # the ledger keeps the path, no bytes
    copy = tmp_path / "copy.wav"
    copy.write_bytes(wav.read_bytes())
    again = build_request("A fox --dur 5", provider="ark", model="2.5", ref_audios=[str(copy)])
    assert again.fingerprint() == req.fingerprint()


def test_asset_ids_pass_through_unchanged():
    req = build_request("A fox --dur 5", provider="ark", model="2.0",
                        images=[("asset://img-1", "reference_image")],
                        ref_videos=["asset://vid-1"], ref_audios=["asset://aud-1"])
    assert to_wire(req)["content"][1:] == [
        image("asset://img-1", "reference_image"),
        {"type": "video_url", "video_url": {"url": "asset://vid-1"}, "role": "reference_video"},
        {"type": "audio_url", "audio_url": {"url": "asset://aud-1"}, "role": "reference_audio"}]


def _png(tmp_path) -> str:
    from PIL import Image

    path = tmp_path / "f.png"
    Image.new("RGB", (640, 360)).save(path)
    return str(path)


def test_comet_2_5_is_multipart_with_any_ratio(tmp_path):
    path = _png(tmp_path)
    req = build_request("A fox --rt 9:16 --dur 20", provider="comet", model="2.5",
                        images=[path])
    call = get_dialect("comet").create_call(req)
    assert call.files["model"] == (None, b"seedance-2-5", None)
    assert call.files["size"] == (None, b"9:16", None)
    assert call.files["seconds"] == (None, b"20", None)
    assert call.files["input_reference"][0] == "input.png"
    t2v = get_dialect("comet").create_call(build_request("A fox", provider="comet", model="2.5"))
    assert t2v.files == {"prompt": (None, b"A fox", None), "model": (None, b"seedance-2-5", None)}


@pytest.mark.parametrize("kw, line", [
    (dict(draft=True), "draft=True: not supported by seedance-2-5 on comet"),
    (dict(output_format="mov"), "output_format='mov': not supported by seedance-2-5 on comet"),
    (dict(ref_videos=[VID]), f"ref_videos=['{VID}']: not supported by seedance-2-5 on comet"),
    (dict(draft_task_id="cgt-1"),
     "draft_task_id='cgt-1': not supported by seedance-2-5 on comet"),
])
def test_comet_has_no_2_5_extras(kw, line):
    with pytest.raises(SeedanceValidationError) as err:
        build_request("A fox", provider="comet", model="2.5", **kw)
    assert err.value.problems[0] == line


def test_a_local_audio_file_is_judged_by_its_content(tmp_path):
    fake = tmp_path / "not-really.mp3"
    fake.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    with pytest.raises(SeedanceValidationError) as err:
        build_request("A fox --dur 5", provider="ark", model="2.5", ref_audios=[str(fake)])
    assert err.value.problems == [f"ref_audios=[{str(fake)!r}]: {str(fake)!r} is not an MP3 file "
                                  f"(by its content)"]
    mp3 = tmp_path / "beat.mp3"
    mp3.write_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 4)
    req = build_request("A fox --dur 5", provider="ark", model="2.5", ref_audios=[str(mp3)])
    assert to_wire(req)["content"][1]["audio_url"]["url"].startswith("data:audio/mp3;base64,SUQz")
