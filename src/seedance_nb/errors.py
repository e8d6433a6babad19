"""Exception classes (reference §7.3).

No exception ever carries an API key: messages are built from gateway replies
and our own text, and `redact()` scrubs anything that looks like a bearer token.
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Optional

_SECRET = re.compile(r"(Bearer\s+)\S+|\b(sk-|ak-|ark-)[A-Za-z0-9_\-]{8,}", re.IGNORECASE)
_known_secrets: set[str] = set()


def register_secret(value: Optional[str]) -> None:
    """Remember a key so `redact` removes it wherever it appears."""
    if value and len(value) >= 4:
        _known_secrets.add(value)


def mask(value: Optional[str]) -> str:
    """Show a key as `sk-e…(masked)` for reprs and config displays."""
    if not value:
        return "<unset>"
    return value[:4] + "…(masked)"


def redact(text: str) -> str:
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _SECRET.sub(lambda m: (m.group(1) or m.group(2) or "") + "***", text)


class SeedanceError(Exception):
    """Base class of every seedance-nb error."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(message))


class SeedanceConfigError(SeedanceError):
    """No key, unknown provider, bad configuration value."""


class _ProblemsError(SeedanceError):
    """An error listing one-line problems, all found in one pass."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = [redact(p) for p in problems]
        super().__init__("\n".join(self.problems))


class SeedanceFlagError(_ProblemsError):
    """Bad inline flags in a prompt (§4.3)."""


class SeedanceValidationError(_ProblemsError):
    """A request the chosen model/provider would refuse, or a bad image."""


class SeedanceAPIError(SeedanceError):
    """A gateway answered with an error."""

    retryable_default = False

    def __init__(self, message: str, *, provider: str = "", http_status: Optional[int] = None,
                 code: str = "", request_id: str = "", retryable: Optional[bool] = None) -> None:
        self.provider = provider
        self.http_status = http_status
        self.code = code or ""
        self.message = redact(message)
        self.request_id = request_id or ""
        self.retryable = self.retryable_default if retryable is None else retryable
        parts = [f"{provider}" if provider else "gateway"]
        if http_status is not None:
            parts.append(f"HTTP {http_status}")
        if self.code:
            parts.append(self.code)
        text = " ".join(parts) + f": {self.message}"
        if self.request_id and self.request_id not in self.message:
            text += f" (request id {self.request_id})"
        super().__init__(text)


class AuthError(SeedanceAPIError):
    pass


class ModerationError(SeedanceAPIError):
    pass


class QuotaError(SeedanceAPIError):
    pass


class RateLimitError(SeedanceAPIError):
    retryable_default = True

    def __init__(self, message: str, *, retry_after: Optional[float] = None, **kw: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kw)


class TaskNotFound(SeedanceAPIError):
    pass


class ServerError(SeedanceAPIError):
    retryable_default = True


class CreateOutcomeUnknown(SeedanceAPIError):
    """The create was sent but its reply was lost: the task may exist and be billed.

    `orphans` lists task ids that may belong to it (ark/byteplus only). The client
    never resubmits on its own.
    """

    def __init__(self, message: str, *, orphans: Iterable[str] = (), **kw: Any) -> None:
        self.orphans = list(orphans)
        if self.orphans:
            message += "; possible tasks: " + ", ".join(self.orphans)
        message += ". Not resubmitted: check before trying again."
        super().__init__(message, **kw)


class TaskFailed(SeedanceError):
    """A task ended failed, cancelled or expired. `.task` is the normalized task."""

    def __init__(self, task: Any) -> None:
        self.task = task
        err = getattr(task, "error", None) or {}
        detail = f": {err.get('code', '')} {err.get('message', '')}".rstrip() if err else ""
        super().__init__(f"task {task.id} on {task.provider} ended {task.status}{detail}")


class WaitTimeout(SeedanceError):
    """Stopped waiting; the task goes on and can be resumed by id."""

    def __init__(self, task_id: str, provider: str, waited: float) -> None:
        self.task_id = task_id
        self.provider = provider
        super().__init__(
            f"stopped waiting for task {task_id} on {provider} after {waited:.0f} s; it is still "
            f"running. Resume with seedance_nb.resume() or %seedance resume")
