"""The HTTP server around EmulatorApp, and a background ticker."""
from __future__ import annotations

import socket
import struct
import threading
from typing import Optional
from urllib.parse import urlsplit

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import EmulatorApp
from .routes import route_kind
from .faults import FaultConfig, Faults
from .renders import DEFAULT_MODULE, shared_renderer
from .store import Settings

TICK_S = 0.02


class _Handler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # quiet: a busy emulator would flood the notebook's terminal

    def run_wsgi(self) -> None:
        app: EmulatorApp = self.server.app  # type: ignore[attr-defined]
        kind = route_kind(self.command, urlsplit(self.path).path)
        if kind != "other" and app.faults.draw("reset", kind):
            app.count_fault("reset")
            # Linger 0 makes close() send RST instead of FIN: an abrupt reset, no reply.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.rfile.close()
            self.connection.close()
            return
        super().run_wsgi()


class EmulatorServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 8765,
                 settings: Optional[Settings] = None, faults: Optional[FaultConfig] = None,
                 render_module: str = DEFAULT_MODULE) -> None:
        self.settings = settings or Settings()
        self.app = EmulatorApp(self.settings, Faults(faults or FaultConfig()),
                               shared_renderer(render_module))
        # Bind ourselves: werkzeug would print a paragraph and sys.exit on a busy port.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            self.httpd = make_server(host, port, self.app, threaded=True,
                                     request_handler=_Handler, fd=sock.fileno())
        finally:
            sock.close()  # the server holds its own duplicate of the descriptor
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        self.base_url = f"http://{shown}:{self.httpd.socket.getsockname()[1]}"
        self.token = self.settings.tokens[0]
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="emulator-ticker",
                                        daemon=True)
        self._thread: Optional[threading.Thread] = None

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_S):
            self.app.store.tick()

    def serve_forever(self) -> None:
        self._ticker.start()
        self.httpd.serve_forever(poll_interval=0.2)

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="emulator-http",
                                        daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop serving (call from another thread than serve_forever)."""
        self._stop.set()
        self.httpd.shutdown()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(5)
        self.httpd.server_close()
        self.app.callbacks.close()
