"""Signed file URLs (reference §10.5): HMAC-SHA256 of path, date and expiry."""
from __future__ import annotations

import calendar
import hashlib
import hmac
import math
import secrets
import time
from urllib.parse import urlencode

_DATE_FMT = "%Y%m%dT%H%M%SZ"


class Signer:
    def __init__(self, speed: float, secret: bytes | None = None) -> None:
        self.secret = secret or secrets.token_bytes(32)  # per start: old URLs die with the server
        self.lifetime = max(1, math.ceil(86400 / speed))

    def _sig(self, path: str, date: str, expires: str) -> str:
        msg = f"{path}\n{date}\n{expires}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def url(self, base: str, path: str, success_time: float) -> str:
        date = time.strftime(_DATE_FMT, time.gmtime(success_time))
        expires = str(self.lifetime)
        query = urlencode({"X-Tos-Date": date, "X-Tos-Expires": expires,
                           "X-Tos-Signature": self._sig(path, date, expires)})
        return f"{base}{path}?{query}"

    def check(self, path: str, args: dict[str, str], now: float | None = None) -> str | None:
        """None when the URL is valid, else why it is refused."""
        date, expires = args.get("X-Tos-Date", ""), args.get("X-Tos-Expires", "")
        given = args.get("X-Tos-Signature", "")
        if not hmac.compare_digest(self._sig(path, date, expires), given):
            return "signature does not match"
        try:
            start = calendar.timegm(time.strptime(date, _DATE_FMT))
            end = start + int(expires)
        except ValueError:
            return "malformed X-Tos-Date or X-Tos-Expires"
        # Dates have whole-second precision; allow the second of signing itself.
        if (time.time() if now is None else now) >= end + 1:
            return "URL has expired"
        return None
