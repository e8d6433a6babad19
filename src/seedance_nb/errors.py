"""Exception classes (reference §7.3) and secret redaction.

No exception ever carries an API key: messages are built from gateway replies
and our own text, and `redact()` removes every registered key (and the forms a
gateway echoes it in) wherever it appears. Only registered values are removed:
ordinary words that merely look like key prefixes ("ark-inspired", "Bearer of
good news") are left alone, so prompts and file names stay as written.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Iterable, Optional
from urllib.parse import quote, quote_plus

#: Shorter values occur in ordinary text too often to be replaced safely.
MIN_SECRET_LEN = 8
_lock = threading.Lock()
_known_secrets: set[str] = set()
_variants: tuple[str, ...] = ()  # every registered form, longest first


def _echoes(value: str) -> set[str]:
    """The value and the forms a gateway may echo it in (URL-encoded, JSON-escaped)."""
    forms = {value, quote(value, safe=""), quote(value), quote_plus(value),
             value.replace("/", "\\/")}
    return {f for f in forms if len(f) >= MIN_SECRET_LEN}


def register_secret(value: Optional[str]) -> None:
    """Remember a key so `redact` removes it (and its echoes) wherever it appears."""
    global _variants
    if not isinstance(value, str):
        return
    value = value.strip()
    if len(value) < MIN_SECRET_LEN or value in _known_secrets:
        return
    with _lock:
        _known_secrets.add(value)
        forms = set(_variants) | _echoes(value)
        _variants = tuple(sorted(forms, key=len, reverse=True))


def mask(value: Optional[str]) -> str:
    """Show a key as `sk-e…(masked)` for reprs and config displays."""
    if not value:
        return "<unset>"
    return value[:4] + "…(masked)"


def redact(text: Any) -> Any:
    """`text` with every registered secret replaced by `***`; non-strings pass through."""
    if not isinstance(text, str) or not text:
        return text
    for form in _variants:  # `Bearer <key>` is covered: the key itself goes
        if form in text:
            text = text.replace(form, "***")
    return text


def redact_data(value: Any) -> Any:
    """`redact` applied to every string inside dicts, lists and tuples (payloads, rows)."""
    if not _variants:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    """Removes registered secrets from a log record's message, arguments and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _variants:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep the raw parts, redacted
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install_log_redaction(name: str = "seedance_nb") -> None:
    """Put the redacting filter on the package logger and on one per module.

    A logger's filters do not see records of its child loggers, so each module's
    logger (`seedance_nb.media`, ...) is created here with the filter already on it;
    `logging.getLogger(__name__)` in the module later returns that same logger.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    names = {name}
    for root, dirs, files in os.walk(here):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        rel = os.path.relpath(root, here)
        prefix = name if rel == "." else name + "." + rel.replace(os.sep, ".")
        names.add(prefix)
        names.update(f"{prefix}.{f[:-3]}" for f in files
                     if f.endswith(".py") and f != "__init__.py")
    for logger_name in names:
        logger = logging.getLogger(logger_name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


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


class BadReply(SeedanceAPIError):
    """A reply that cannot be understood (non-JSON, NaN, out-of-range integer, too
    large, too slow, a duplicate id, a status going back from terminal).

    It fails only the task it belongs to. `code` is a client code such as `BadJSON`,
    `ReplyTooLarge`, `ReplyTimeout`, `DuplicateTaskId`, `StatusRegressed`, `MissingId`;
    `snippet` holds the first 200 characters received.
    """

    def __init__(self, message: str, *, snippet: str = "", **kw: Any) -> None:
        self.snippet = redact(snippet[:200])
        if self.snippet:
            message += f"; received: {self.snippet!r}"
        super().__init__(message, **kw)


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


class ModelNotAvailable(SeedanceAPIError):
    """A create refused because the model does not exist or is not enabled (§2.4)."""

    HINT = ("the model may be retired or not enabled for this account; `seedance-nb models "
            "--check` shows what the account can use")
