"""seedance-nb: ByteDance Seedance video generation for Jupyter.

Importing this package is cheap: public names load their modules on first use.
"""
from __future__ import annotations

import importlib
import logging
from typing import Any

from .errors import install_log_redaction

__version__ = "0.1.0"

# A library logs but never configures output: the application decides (logging HOWTO).
logging.getLogger(__name__).addHandler(logging.NullHandler())
# Every record of this package passes through the redacting filter: no key in any log.
install_log_redaction(__name__)

# public name -> module that defines it
_LAZY = {
    "build_request": "request",
    "VideoRequest": "request",
    "check_sendable": "request",
    "use_catalog_file": "catalog_file",
    "models_table": "models",
    "ImageInput": "request",
    "to_wire": "providers",
    "get_dialect": "providers",
    "submit": "jobs",
    "generate": "jobs",
    "wait_all": "jobs",
    "resume": "jobs",
    "adopt": "jobs.recovery",
    "dismiss": "jobs.recovery",
    "Job": "jobs",
    "JobManager": "jobs",
    "manager": "jobs",
    "Estimate": "request",
    "history": "ledger",
    "export_history": "ledger",
    "Ledger": "ledger",
    "Emulator": "emulator",
    "Panel": "ui",
    "SeedanceError": "errors",
    "SeedanceConfigError": "errors",
    "SeedanceFlagError": "errors",
    "SeedanceValidationError": "errors",
    "SeedanceAPIError": "errors",
    "AuthError": "errors",
    "ModerationError": "errors",
    "QuotaError": "errors",
    "RateLimitError": "errors",
    "TaskNotFound": "errors",
    "ServerError": "errors",
    "CreateOutcomeUnknown": "errors",
    "TaskFailed": "errors",
    "WaitTimeout": "errors",
    "ModelNotAvailable": "errors",
    "BadReply": "errors",
}

__all__ = sorted(_LAZY) + ["__version__", "load_ipython_extension", "unload_ipython_extension"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seedance_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
