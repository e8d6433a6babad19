"""Callback POSTs (reference §10.7): real seconds, 5 s timeout, retries for finals."""
from __future__ import annotations

import concurrent.futures as cf
import threading
import time
from typing import Any

import requests

TIMEOUT_S = 5.0
RETRIES = 3
GAP_S = 1.0


class Callbacks:
    def __init__(self) -> None:
        self._pool = cf.ThreadPoolExecutor(4, thread_name_prefix="emulator-callback")
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0

    def post(self, url: str, body: Any, retry: bool) -> None:
        self._pool.submit(self._deliver, url, body, retry)

    def _deliver(self, url: str, body: Any, retry: bool) -> None:
        for attempt in range(1 + (RETRIES if retry else 0)):
            if attempt:
                time.sleep(GAP_S)
            try:
                reply = requests.post(url, json=body, timeout=TIMEOUT_S)
                ok = 200 <= reply.status_code < 300
            except requests.RequestException:
                ok = False
            with self._lock:
                if ok:
                    self.sent += 1
                    return
                self.failed += 1

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
