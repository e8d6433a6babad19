"""seedance-nb: ByteDance Seedance video generation for Jupyter.

Importing this package is cheap: public names load their modules on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "build_request": "request",
    "VideoRequest": "request",
    "ImageInput": "request",
    "to_wire": "providers",
    "get_dialect": "providers",
    "submit": "jobs",
    "generate": "jobs",
    "wait_all": "jobs",
    "resume": "jobs",
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
