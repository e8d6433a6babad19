"""Small downloads cost no thread (issue 13.4): a small result file is written and
hashed inline, by `media.download` and by the job manager's lane."""
from __future__ import annotations

import hashlib
import os
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from seedance_nb import jobs, media

from _client_helpers import isolated_jobs
from _perf_helpers import FAMILY, NO_RENDER, emu, started_threads  # noqa: F401  (fixture)

pytestmark = pytest.mark.timeout(60)
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


def _ours(names: list[str]) -> list[str]:
    return [n for n in names if n.startswith("seedance")]


def _submit(emu, prompt: str):  # noqa: F811
    return jobs.submit(f"{prompt} {NO_RENDER}", provider="emulator", emulate="ark",
                       base_url=emu.base_url, api_key=emu.token, model=FAMILY,
                       resolution="480p", duration=2, new=True)


def test_small_emulator_video_downloads_without_a_thread(emu, tmp_path):  # noqa: F811
    with isolated_jobs(tmp_path):
        job = _submit(emu, "a kite over dunes").wait(30)
    url = job.task.video_url
    with started_threads() as names:
        got = media.download(url, tmp_path / "again.mp4", allow_http_loopback=True)
    assert names == []
    assert got.size < media.SMALL_FILE_BYTES
    assert got.sha256 == hashlib.sha256((tmp_path / "again.mp4").read_bytes()).hexdigest()


def test_a_job_after_the_first_starts_no_thread_for_its_download(emu, tmp_path):  # noqa: F811
    with isolated_jobs(tmp_path):
        _submit(emu, "a lantern in fog").wait(30)  # the lane and its threads exist now
        with started_threads() as names:
            job = _submit(emu, "a lantern in rain").wait(30)
        assert job.status == "succeeded" and os.path.getsize(job.video_path) > 0
    assert _ours(names) == [], f"threads started for one more job: {names}"


def _chunked_server(body: bytes):
    """A loopback server sending `body` without a Content-Length (chunked)."""
    def app(environ, start_response):
        return Response((body[i:i + 65536] for i in range(0, len(body), 65536)),
                        mimetype="video/mp4")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/v.mp4"


@pytest.mark.parametrize("size, helpers", [(300_000, False),
                                           (media.SMALL_FILE_BYTES + 2_000_000, True)])
def test_unknown_length_gets_helper_threads_only_past_the_small_size(tmp_path, size, helpers):
    body = MP4_HEAD + os.urandom(size - len(MP4_HEAD))
    server, url = _chunked_server(body)
    try:
        with started_threads() as names:
            got = media.download(url, tmp_path / "v.mp4", allow_http_loopback=True)
    finally:
        server.shutdown()
        server.server_close()
    assert got.size == size and got.sha256 == hashlib.sha256(body).hexdigest()
    assert (tmp_path / "v.mp4").read_bytes() == body
    assert bool(_ours(names)) is helpers, names
