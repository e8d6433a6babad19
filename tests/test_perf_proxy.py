"""Proxy settings are read once per Transport (issue 13.4), and still honoured:
HTTP_PROXY / HTTPS_PROXY set before the transport is built carry its requests,
NO_PROXY and loopback gateways go direct."""
from __future__ import annotations

import json
import socket
import threading

import pytest
import requests.sessions
import requests.utils

from seedance_nb.config import ClientSettings
from seedance_nb.http import Transport, env_proxies
from seedance_nb.errors import SeedanceAPIError

from _client_helpers import Sleeps, reply, scripted_server

pytestmark = pytest.mark.timeout(30)
TASK = {"id": "cgt-1", "model": "m", "status": "running", "created_at": 1}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy",
              "https_proxy", "all_proxy", "no_proxy")


class RecordingProxy:
    """A loopback proxy that records each request line and answers it itself: a task
    for `GET http://...`, 403 for `CONNECT` (an https tunnel it will not open)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                if not head:
                    continue
                line = head.split(b"\r\n", 1)[0].decode()
                self.lines.append(line)
                if line.startswith("CONNECT"):
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
                    continue
                body = json.dumps(TASK).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
                             + body)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def proxy(monkeypatch):
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    p = RecordingProxy()
    yield p
    p.close()


def _transport(base_url: str) -> Transport:
    settings = ClientSettings(provider="ark", dialect="ark", api_key="sk-proxy-test-key",
                              base_url=base_url)
    return Transport(settings, sleep=Sleeps())


def _get(t: Transport):
    return t.send(t.dialect.get_call("cgt-1"))


def test_http_proxy_set_before_the_transport_carries_its_requests(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    t = _transport("http://gateway.example/api/v3")
    monkeypatch.delenv("HTTP_PROXY")  # read once, at build time
    for _ in range(3):
        assert _get(t).json()["id"] == "cgt-1"
    assert proxy.lines == ["GET http://gateway.example/api/v3/contents/generations/tasks/"
                           "cgt-1 HTTP/1.1"] * 3


def test_https_proxy_gets_the_tunnel_request(proxy, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    t = _transport("https://gateway.example/api/v3")
    with pytest.raises(SeedanceAPIError):
        _get(t)  # the proxy refuses the tunnel
    assert proxy.lines and {line.rsplit(" ", 1)[0] for line in proxy.lines} == {"CONNECT gateway.example:443"}


def test_environment_is_not_read_per_request(proxy, monkeypatch):
    calls = []
    real = requests.utils.get_environ_proxies

    def counting(*a, **kw):
        calls.append(a)
        return real(*a, **kw)

    monkeypatch.setattr(requests.utils, "get_environ_proxies", counting)
    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    t = _transport("http://gateway.example/api/v3")
    built = len(calls)
    for _ in range(5):
        _get(t)
    assert built == 1 and len(calls) == 1 and len(proxy.lines) == 5


def test_loopback_and_no_proxy_go_direct(proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with scripted_server(reply(200, TASK)) as (root, script):
        t = _transport(root + "/api/v3")  # the emulator's case: this machine
        assert _get(t).json()["id"] == "cgt-1"
    assert len(script.seen) == 1 and proxy.lines == []
    assert env_proxies("https://ark.example.com/api/v3")["https"] == proxy.url
    monkeypatch.setenv("NO_PROXY", "example.com")
    assert env_proxies("https://ark.example.com/api/v3") == {}
    assert env_proxies("https://gateway.other/api/v3")["https"] == proxy.url
