"""Downloads a hostile gateway cannot abuse (reference §8 Bounds and Results).

Everything runs inside `socket_guard`: no packet leaves loopback, DNS included.
"""
from __future__ import annotations

import io

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import BaseAdapter

from seedance_nb import media
from seedance_nb.media import DownloadError, download, sweep_stale_parts

from hostile import (HTML_PAGE, Hostile, Sleeps, endless_chunked, fake_mp4, fake_png, fake_webm,
                     lie_length, random_bytes, redirect, reply, socket_guard, stall, trickle)


@pytest.fixture
def gw():
    with socket_guard(), Hostile() as server:
        yield server


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def local(url: str, dest: Path, **kw):
    """A download for a gateway on loopback (the emulator's case)."""
    kw.setdefault("sleep", Sleeps())
    return download(url, dest, allow_http_loopback=True, **kw)


# --- where a file may come from --------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.1", "2130706433",
                                  "0.0.0.0"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_remote_gateway_cannot_point_downloads_at_this_machine(gw, tmp_path, host, scheme):
    gw.route("/v.mp4", reply(200, fake_mp4()))
    url = f"{scheme}://{host}:{gw.port}/v.mp4?X-Tos-Signature=secret"
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path / "out" / "v.mp4")  # allow_http_loopback defaults to False
    assert info.value.code == "URLRefused" and "secret" not in str(info.value)
    assert gw.hits("/v.mp4") == 0 and files_in(tmp_path / "out") == []


def test_the_same_url_is_fine_for_a_gateway_on_loopback(gw, tmp_path):
    gw.route("/v.mp4", reply(200, fake_mp4()))
    assert media.is_loopback_url(gw.url) and not media.is_loopback_url("https://ark.example.com")
    got = download(f"{gw.url}/v.mp4", tmp_path / "v.mp4",
                   allow_http_loopback=media.is_loopback_url(gw.url))
    assert got.path.read_bytes() == fake_mp4()


class _RedirectingHost(BaseAdapter):
    """Stands in for a remote https file host that answers every GET with a redirect."""

    def __init__(self, location: str) -> None:
        super().__init__()
        self.location = location
        self.hits = 0

    def send(self, request, **kwargs):
        self.hits += 1
        resp = requests.Response()
        resp.status_code, resp.url, resp.request = 302, request.url, request
        resp.headers["Location"] = self.location
        resp.raw = io.BytesIO(b"")  # an empty body, as a real 302 has
        return resp

    def close(self) -> None:
        pass


def test_a_redirect_from_a_remote_host_to_loopback_is_refused(gw, tmp_path):
    gw.route("/v.mp4", reply(200, fake_mp4()))
    session = requests.Session()
    host = _RedirectingHost(f"http://127.0.0.1:{gw.port}/v.mp4")
    session.mount("https://files.example.test/", host)
    with pytest.raises(DownloadError, match="remote gateway may not") as info:
        download("https://files.example.test/v.mp4?sig=secret", tmp_path / "v.mp4",
                 session=session, sleep=Sleeps())
    assert info.value.code == "URLRefused"
    assert host.hits == 1 and gw.hits("/v.mp4") == 0 and files_in(tmp_path) == []


def test_a_redirect_loop_ends(gw, tmp_path):
    gw.route("/loop", redirect("/loop"))
    with pytest.raises(DownloadError, match="too many redirects"):
        local(f"{gw.url}/loop", tmp_path / "v.mp4")
    assert gw.hits("/loop") == media.MAX_REDIRECTS + 1 and files_in(tmp_path) == []


# --- what a file must be ---------------------------------------------------------------------

@pytest.mark.parametrize("body, says", [
    (HTML_PAGE, "an HTML page"), (b"", "empty"), (random_bytes(), "unrecognized bytes"),
    (fake_png(), "a PNG image"),
])
def test_what_is_not_a_video_fails_and_is_not_kept(gw, tmp_path, body, says):
    gw.route("/v.mp4", reply(200, body, {"Content-Type": "video/mp4"}))
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/v.mp4", tmp_path / "ark-cgt-1.mp4")
    assert info.value.code == "NotAVideo" and says in str(info.value)
    assert files_in(tmp_path) == [], "nothing is kept as a reusable result"
    assert gw.hits("/v.mp4") == 1, "a wrong file is not fetched again in the same call"


@pytest.mark.parametrize("body", [fake_mp4(), fake_webm()])
def test_mp4_and_webm_are_accepted(gw, tmp_path, body):
    gw.route("/v", reply(200, body))
    got = local(f"{gw.url}/v", tmp_path / "ark-cgt-1.mp4")
    assert got.path.read_bytes() == body


def test_a_last_frame_must_be_an_image(gw, tmp_path):
    gw.route("/last.png", reply(200, HTML_PAGE))
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/last.png", tmp_path / "ark-cgt-1-last.png")
    assert info.value.code == "NotAnImage" and files_in(tmp_path) == []
    gw.route("/good.png", reply(200, fake_png()))
    assert local(f"{gw.url}/good.png", tmp_path / "ark-cgt-1-last.png").size == len(fake_png())


# --- size and time ---------------------------------------------------------------------------

def test_a_content_length_over_the_cap_is_refused_before_reading(gw, tmp_path):
    gw.route("/v.mp4", lie_length(fake_mp4(), (4 << 30) + 1))
    t0 = time.monotonic()
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/v.mp4", tmp_path / "v.mp4")
    assert info.value.code == "TooLarge" and time.monotonic() - t0 < 2
    assert gw.hits("/v.mp4") == 1 and files_in(tmp_path) == []


def test_an_endless_body_stops_at_the_cap(gw, tmp_path):
    gw.route("/v.mp4", endless_chunked(fake_mp4(64 * 1024)))
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/v.mp4", tmp_path / "v.mp4", max_bytes=2 << 20)
    assert info.value.code == "TooLarge" and files_in(tmp_path) == []


def test_a_content_length_lie_is_an_error_after_retries(gw, tmp_path):
    gw.route("/v.mp4", lie_length(fake_mp4(1000), 5000))
    sleeps = Sleeps()
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/v.mp4", tmp_path / "v.mp4", attempts=3, sleep=sleeps)
    assert "of 5000 bytes" in str(info.value) and info.value.code == "Failed"
    assert gw.hits("/v.mp4") == 3 and len(sleeps) == 2 and files_in(tmp_path) == []


def test_a_server_saying_nothing_is_cut_after_the_stall_time(gw, tmp_path):
    gw.route("/v.mp4", stall(30))
    t0 = time.monotonic()
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/v.mp4", tmp_path / "v.mp4", attempts=2, stall_s=0.4)
    assert time.monotonic() - t0 < 2.5
    assert info.value.code == "Stalled" and "no byte for 0.4 s" in str(info.value)
    assert files_in(tmp_path) == []


def test_a_body_that_stops_flowing_is_cut_after_the_stall_time(gw, tmp_path):
    gw.route("/v.mp4", trickle(fake_mp4(100), interval=1.5, headers={"Content-Type": "video/mp4"}))
    t0 = time.monotonic()
    with pytest.raises(DownloadError) as info:
        local(f"{gw.url}/v.mp4", tmp_path / "v.mp4", attempts=1, stall_s=0.4)
    assert time.monotonic() - t0 < 2.5 and info.value.code == "Stalled"
    assert files_in(tmp_path) == []


# --- leftovers -------------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_dead_parts_and_keeps_live_ones(tmp_path):
    tag = media._HOST_TAG
    dead = tmp_path / f".ark-1.mp4.{tag}-{_dead_pid()}.abc123.part"
    mine_idle = tmp_path / f".ark-2.mp4.{tag}-{os.getpid()}.def456.part"
    live = tmp_path / f".ark-3.mp4.{tag}-{os.getppid()}.ghi789.part"  # a running process
    other_host = tmp_path / ".ark-4.mp4.00000000-1.jkl000.part"
    old_style = tmp_path / ".ark-5.mp4.xyz.part"
    ancient = tmp_path / ".ark-6.mp4.0badc0de-1.mno111.part"
    result = tmp_path / "ark-7.mp4"
    for p in (dead, mine_idle, live, other_host, old_style, ancient, result):
        p.write_bytes(b"x")
    os.utime(ancient, (time.time() - 7200, time.time() - 7200))
    removed = sweep_stale_parts(tmp_path, older_than_s=3600)
    assert sorted(p.name for p in removed) == sorted([dead.name, mine_idle.name, ancient.name])
    assert files_in(tmp_path) == sorted([live.name, other_host.name, old_style.name, result.name])


def test_a_download_in_progress_is_not_swept(gw, tmp_path):
    gw.route("/slow.mp4", trickle(fake_mp4(40), interval=0.02))
    done: list = []
    thread = threading.Thread(target=lambda: done.append(
        local(f"{gw.url}/slow.mp4", tmp_path / "slow.mp4")))
    thread.start()
    deadline = time.monotonic() + 5
    while not any(n.endswith(".part") for n in files_in(tmp_path)):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert sweep_stale_parts(tmp_path, older_than_s=3600) == []
    thread.join(10)
    assert done and done[0].path.read_bytes() == fake_mp4(40)
    assert files_in(tmp_path) == ["slow.mp4"]


def test_a_killed_download_leaves_a_part_that_the_next_download_sweeps(gw, tmp_path):
    gw.route("/slow.mp4", trickle(fake_mp4(400), interval=0.05))
    gw.route("/v.mp4", reply(200, fake_mp4()))
    script = textwrap.dedent(f"""
        from seedance_nb.media import download
        download({gw.url + '/slow.mp4'!r}, {str(tmp_path / 'a.mp4')!r}, allow_http_loopback=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 20
        while not any(n.endswith(".part") for n in files_in(tmp_path)):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert [n for n in files_in(tmp_path) if n.endswith(".part")], "the kill left a .part"
    media._SWEPT.discard(str(tmp_path.resolve()))  # as in a fresh kernel
    local(f"{gw.url}/v.mp4", tmp_path / "b.mp4")
    assert files_in(tmp_path) == ["b.mp4"]
