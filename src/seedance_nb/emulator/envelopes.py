"""Error replies in each dialect's envelope (reference §7.1, §10.2, §10.3).

Prefix keys used across the emulator: "ark" (/api/v3), "comet" (/v1/videos),
"volc" (/volc/v3, Comet envelope with Ark codes), "ace" (/seedance).
"""
from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

_ARK_TYPES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
              409: "Conflict", 413: "RequestEntityTooLarge", 429: "TooManyRequests",
              500: "InternalServiceError"}


class EmuError(Exception):
    """A refusal the emulator answers in the route's envelope."""

    def __init__(self, status: int, code: str, message: str, param: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = headers or {}


def request_id() -> str:
    """An Ark-looking request id: UTC timestamp + random hex."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10)


def error_body(prefix: str, err: EmuError, rid: str) -> dict[str, Any]:
    if prefix == "ark":
        return {"error": {"code": err.code, "message": f"{err.message} Request id: {rid}",
                          "param": err.param, "type": _ARK_TYPES.get(err.status, "Error")}}
    if prefix in ("comet", "volc"):
        return {"error": {"code": err.code, "message": f"{err.message} (request id: {rid})",
                          "type": "comet_api_error", "param": err.param}}
    return {"success": False, "error": {"code": err.code, "message": err.message},
            "trace_id": str(uuid.uuid4())}


def auth_error(prefix: str) -> EmuError:
    if prefix == "ark":
        return EmuError(401, "AuthenticationError",
                        "The API key in the request is missing or invalid.")
    if prefix in ("comet", "volc"):
        return EmuError(401, "", "invalid token")
    return EmuError(401, "invalid_token", "invalid token")


def not_found_route(prefix: str, method: str, path: str) -> EmuError:
    code = {"ark": "NotFound", "ace": "not_found"}.get(prefix, "")
    return EmuError(404, code, f"no route for {method} {path}")


def unknown_task(prefix: str, task_id: str) -> EmuError:
    """Unknown or retired id (§7.2, §10.9)."""
    if prefix == "ark":
        return EmuError(404, "NotFound.TaskId", f"The specified task {task_id} is not found.",
                        "id")
    if prefix in ("comet", "volc"):
        return EmuError(400, "task_not_exist", f"task {task_id} does not exist")
    return EmuError(404, "not_found", f"task {task_id} not found")


def rate_limited(prefix: str, retry_after: int, queued_cap: bool = False) -> EmuError:
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if prefix == "ark":
        if queued_cap:
            return EmuError(429, "QuotaExceeded", "Too many queued tasks for this account.",
                            headers=headers)
        return EmuError(429, "ModelAccountRpmRateLimitExceeded",
                        "The request rate of this model exceeds the RPM limit.", headers=headers)
    text = "too many queued tasks" if queued_cap else "request rate limit exceeded"
    if prefix in ("comet", "volc"):
        return EmuError(429, "rate_limit_exceeded", text, headers=headers)
    return EmuError(429, "too_many_requests", text, headers=headers)


def server_error(prefix: str, message: str = "internal service error") -> EmuError:
    code = {"ark": "InternalServiceError", "ace": "api_error"}.get(prefix, "")
    return EmuError(500, code, message)
