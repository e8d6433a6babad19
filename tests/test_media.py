"""Safe downloads (reference §8 "Results") against a real HTTP server on loopback."""
from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from seedance_nb import media
from seedance_nb.errors import SeedanceError
from seedance_nb.media import DownloadError, Downloaded, output_name

# The server here plays a local gateway's file host (as the emulator is): loopback
# http is allowed. Remote-gateway rules are in tests/adversarial/test_downloads.py.
download = functools.partial(media.download, allow_http_loopback=True)
# A video must look like one (ftyp at offset 4); the rest is random.
BODY = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(300_000)
SIG = "X-Tos-Date=20260101T000000Z&X-Tos-Expires=86400&X-Tos-Signature=deadbeefsecret"


class FileServer:
    """A threaded werkzeug server; each path has a behaviour, every request is recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict]] = []
        self.cuts: dict[str, int] = {}  # path -> responses still to truncate
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    @Request.application
    def app(self, request: Request) -> Response:
        path = request.path
        with self.lock:
            self.requests.append((path, dict(request.headers)))
            cut = self.cuts.get(path, 0)
            if cut > 0:
                self.cuts[path] = cut - 1
        if path in ("/file.mp4", "/other.mp4"):
            return self.whole(BODY if path == "/file.mp4" else BODY[::-1])
        if path == "/cut.mp4":  # ignores Range: a retry starts over
            return self.truncated(BODY, 0) if cut else self.whole(BODY)
        if path == "/resumable.mp4":
            start = self.range_start(request)
            if cut:
                return self.truncated(BODY, start)
            return self.whole(BODY, start)
        if path == "/always-cut.mp4":
            return self.truncated(BODY, 0)
        if path in ("/forbidden.mp4", "/gone.mp4"):
            return Response("signature expired", status=403 if path == "/forbidden.mp4" else 404,
                            mimetype="text/plain")
        if path == "/busy.mp4":
            if cut:
                return Response("busy", status=503, headers={"Retry-After": "0"})
            return self.whole(BODY)
        if path == "/very-busy.mp4":
            return Response("busy", status=503, headers={"Retry-After": "600"})
        if path == "/redirect-away":
            return Response("", status=302, headers={"Location": "http://example.com/x.mp4"})
        if path == "/redirect-home":
            return Response("", status=302, headers={"Location": "/file.mp4?sig=2"})
        if path == "/big.bin":
            size = int(request.args["mb"]) << 20
            return Response(big_chunks(size), headers={"Content-Length": str(size)},
                            mimetype="application/octet-stream", direct_passthrough=True)
        return Response("no such file", status=404)

    @staticmethod
    def range_start(request: Request) -> int:
        value = request.headers.get("Range", "")
        return int(value[len("bytes="):].split("-")[0]) if value.startswith("bytes=") else 0

    @staticmethod
    def whole(body: bytes, start: int = 0) -> Response:
        headers = {"Content-Length": str(len(body) - start), "ETag": '"v1"'}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        return Response([body[start:]], status=206 if start else 200, headers=headers,
                        mimetype="video/mp4", direct_passthrough=True)

    @staticmethod
    def truncated(body: bytes, start: int) -> Response:
        """Announce the rest of the file, send a third of it, close the connection."""
        rest = body[start:]
        headers = {"Content-Length": str(len(rest)), "Connection": "close", "ETag": '"v1"'}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        return Response([rest[: len(rest) // 3]], status=206 if start else 200, headers=headers,
                        mimetype="video/mp4", direct_passthrough=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def big_chunks(size: int):
    block = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        sent += len(piece)
        yield piece


@pytest.fixture(scope="module")
def server():
    srv = FileServer()
    yield srv
    srv.close()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(media, "_TRANSPORT_BASE_S", 0.005)
    monkeypatch.setattr(media, "_STATUS_BASE_S", 0.005)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_download_streams_to_a_new_folder_with_hash_and_size(server, tmp_path):
    dest = tmp_path / "out" / "nested" / "ark-cgt-1.mp4"
    got = download(f"{server.url}/file.mp4?{SIG}", dest)
    assert got == Downloaded(path=dest, sha256=sha(BODY), size=len(BODY), reused=False)
    assert dest.read_bytes() == BODY
    assert files_in(dest.parent) == ["ark-cgt-1.mp4"]


def test_truncated_transfer_is_retried_from_the_start_when_range_is_ignored(server, tmp_path):
    server.cuts["/cut.mp4"] = 1
    before = server.count("/cut.mp4")
    got = download(f"{server.url}/cut.mp4", tmp_path / "a.mp4")
    assert got.sha256 == sha(BODY) and got.size == len(BODY)
    assert (tmp_path / "a.mp4").read_bytes() == BODY
    assert server.count("/cut.mp4") - before == 2


def test_truncated_transfer_resumes_with_a_range_request(server, tmp_path):
    server.cuts["/resumable.mp4"] = 2
    start = len(server.requests)
    got = download(f"{server.url}/resumable.mp4", tmp_path / "r.mp4")
    assert (tmp_path / "r.mp4").read_bytes() == BODY and got.sha256 == sha(BODY)
    ranges = [h.get("Range") for p, h in server.requests[start:] if p == "/resumable.mp4"]
    first_cut = len(BODY) // 3
    second_cut = first_cut + (len(BODY) - first_cut) // 3
    assert ranges == [None, f"bytes={first_cut}-", f"bytes={second_cut}-"]


def test_always_truncated_fails_clearly_and_leaves_nothing(server, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    before = server.count("/always-cut.mp4")
    with pytest.raises(DownloadError) as err:
        download(f"{server.url}/always-cut.mp4?{SIG}", tmp_path / "x.mp4", attempts=3)
    text = str(err.value)
    assert "failed after 3 attempts" in text and f"of {len(BODY)} bytes" in text
    assert server.count("/always-cut.mp4") - before == 3
    assert files_in(tmp_path) == []
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("seedance_nb")]
    assert ours and not any("deadbeefsecret" in m for m in ours)
    assert "deadbeefsecret" not in text
    assert err.value.url_redacted == f"{server.url}/always-cut.mp4?<redacted>"
    assert isinstance(err.value, SeedanceError) and not err.value.expired


def test_403_after_expiry_says_url_expired(server, tmp_path):
    expired = time.time() - 60
    with pytest.raises(DownloadError) as err:
        download(f"{server.url}/forbidden.mp4?{SIG}", tmp_path / "x.mp4", expires_at=expired)
    text = str(err.value)
    assert text.startswith("URL expired")
    assert time.strftime("%Y-%m-%d %H:%M", time.gmtime(expired)) in text and "UTC" in text
    assert "gone from the gateway" in text
    assert err.value.expired and err.value.http_status == 403
    assert "deadbeefsecret" not in text
    assert files_in(tmp_path) == []


def test_404_after_expiry_is_also_url_expired(server, tmp_path):
    with pytest.raises(DownloadError, match="^URL expired") as err:
        download(f"{server.url}/gone.mp4", tmp_path / "x.mp4", expires_at=time.time() - 1)
    assert err.value.http_status == 404


@pytest.mark.parametrize("path, status", [("/forbidden.mp4", 403), ("/gone.mp4", 404)])
def test_403_or_404_before_expiry_names_the_status(server, tmp_path, path, status):
    before = server.count(path)
    with pytest.raises(DownloadError) as err:
        download(f"{server.url}{path}?{SIG}", tmp_path / "x.mp4", expires_at=time.time() + 3600)
    assert f"HTTP {status}" in str(err.value) and "expired" not in str(err.value)
    assert not err.value.expired and err.value.http_status == status
    assert server.count(path) - before == 1, "a 403/404 is not retried"


@pytest.mark.parametrize("url", [
    "http://example.com/a.mp4", "http://10.0.0.1/a.mp4", "http://127.0.0.1.example.com/a.mp4",
    "ftp://127.0.0.1/a.mp4", "file:///etc/passwd", "https:///nohost", "not a url",
])
def test_refuses_non_https_except_loopback_before_any_request(tmp_path, url):
    class NoNetwork(requests.Session):
        def get(self, *a, **k):
            raise AssertionError("no request may be made")

    with pytest.raises(DownloadError, match="refusing|not a download URL"):
        download(url + "?sig=secret", tmp_path / "x.mp4", session=NoNetwork())
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://127.8.9.10/x", "http://[::1]/x",
                                 "http://LOCALHOST./x", "https://example.com/x"])
def test_accepts_https_and_loopback_http(url):
    media.check_url(url, allow_http_loopback=True)


def test_redirect_to_plain_http_elsewhere_is_refused(server, tmp_path):
    with pytest.raises(DownloadError, match="refusing"):
        download(f"{server.url}/redirect-away", tmp_path / "x.mp4")
    assert files_in(tmp_path) == []


def test_redirect_on_loopback_is_followed(server, tmp_path):
    got = download(f"{server.url}/redirect-home", tmp_path / "x.mp4")
    assert got.sha256 == sha(BODY)


def test_session_api_key_is_not_sent_to_the_file_host(server, tmp_path):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer sk-should-not-leak-123456"
    start = len(server.requests)
    download(f"{server.url}/file.mp4", tmp_path / "x.mp4", session=session)
    assert all("Authorization" not in h for _, h in server.requests[start:])


def test_existing_identical_file_is_reused_untouched(server, tmp_path):
    dest = tmp_path / "v.mp4"
    dest.write_bytes(BODY)
    os.utime(dest, (1_000_000, 1_000_000))
    got = download(f"{server.url}/file.mp4", dest)
    assert got == Downloaded(path=dest, sha256=sha(BODY), size=len(BODY), reused=True)
    assert dest.stat().st_mtime == 1_000_000
    assert files_in(tmp_path) == ["v.mp4"]


def test_existing_different_file_is_kept_and_next_free_name_used(server, tmp_path):
    dest = tmp_path / "v.mp4"
    dest.write_bytes(b"my own edit")
    (tmp_path / "v-2.mp4").write_bytes(b"another one")
    got = download(f"{server.url}/file.mp4", dest)
    assert got.path == tmp_path / "v-3.mp4" and not got.reused
    assert dest.read_bytes() == b"my own edit"
    assert (tmp_path / "v-2.mp4").read_bytes() == b"another one"
    assert (tmp_path / "v-3.mp4").read_bytes() == BODY
    # the same download again finds its earlier copy instead of making v-4
    again = download(f"{server.url}/file.mp4", dest)
    assert again.path == tmp_path / "v-3.mp4" and again.reused
    assert files_in(tmp_path) == ["v-2.mp4", "v-3.mp4", "v.mp4"]


def test_retryable_status_is_retried_honouring_retry_after(server, tmp_path):
    server.cuts["/busy.mp4"] = 2
    before = server.count("/busy.mp4")
    got = download(f"{server.url}/busy.mp4", tmp_path / "b.mp4")
    assert got.sha256 == sha(BODY)
    assert server.count("/busy.mp4") - before == 3


def test_retry_after_beyond_the_cap_stops_at_once(server, tmp_path):
    before = server.count("/very-busy.mp4")
    t0 = time.monotonic()
    with pytest.raises(DownloadError, match="HTTP 503") as err:
        download(f"{server.url}/very-busy.mp4", tmp_path / "b.mp4")
    assert time.monotonic() - t0 < 5
    assert server.count("/very-busy.mp4") - before == 1
    assert err.value.http_status == 503
    assert files_in(tmp_path) == []


def test_200_mb_download_uses_bounded_memory(server, tmp_path):
    size = 200 << 20
    expected = hashlib.sha256()
    for piece in big_chunks(size):
        expected.update(piece)
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        got = download(f"{server.url}/big.bin?mb=200", tmp_path / "big.bin", expect="any")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.size == size and got.sha256 == expected.hexdigest()
    assert (tmp_path / "big.bin").stat().st_size == size
    assert peak - base < 20 << 20, f"peak Python memory grew by {(peak - base) >> 20} MB"


def test_two_threads_downloading_to_the_same_file_end_with_one_good_file(server, tmp_path):
    dest = tmp_path / "same.mp4"
    results: list[Downloaded] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            results.append(download(f"{server.url}/file.mp4", dest))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert files_in(tmp_path) == ["same.mp4"]
    assert dest.read_bytes() == BODY
    assert {r.path for r in results} == {dest}
    assert sorted(r.reused for r in results) == [False, True]


def test_output_names():
    assert output_name("ark", "cgt-20250101-abc12") == "ark-cgt-20250101-abc12.mp4"
    assert output_name("comet", "task_x", "last_frame") == "comet-task_x-last.png"
    unsafe = output_name("acedata", "../../etc/pass wd:*?")
    assert "/" not in unsafe and "\\" not in unsafe and ":" not in unsafe and " " not in unsafe
    assert unsafe.startswith("acedata-") and unsafe.endswith(".mp4")
    with pytest.raises(ValueError, match="kind"):
        output_name("ark", "x", "poster")


def test_403_without_known_expiry_mentions_a_possible_expiry(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 403.*may have expired") as err:
        download(f"{server.url}/forbidden.mp4", tmp_path / "x.mp4")
    assert not err.value.expired
