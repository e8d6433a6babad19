"""Provider dialects: pure encode/decode between VideoRequest, HttpCall and Task.

`get_dialect(provider, emulate)` picks the dialect; paths are relative to the
provider's base URL (the emulator's is `<root>/api/v3` for ark/byteplus and
`<root>` for the others, so the paths are the same as on the real gateways).
"""
from __future__ import annotations

from typing import Any

from .. import catalog
from ..errors import SeedanceConfigError
from ._common import url_expiry
from .acedata import AceDataDialect
from .ark import ArkDialect
from .base import CreateResult, Dialect, HttpCall, Task
from .comet import CometDialect

__all__ = ["get_dialect", "to_wire", "url_expiry", "ArkDialect", "CometDialect",
           "AceDataDialect", "CreateResult", "Dialect", "HttpCall", "Task"]


def get_dialect(provider: str, emulate: str = "ark") -> Dialect:
    """The dialect `provider` speaks; the emulator speaks `emulate` under its own name."""
    if provider not in catalog.PROVIDERS:
        raise SeedanceConfigError(f"unknown provider {provider!r}; use one of "
                                  f"{', '.join(catalog.PROVIDERS)}")
    if provider == "emulator" and emulate not in catalog.DIALECTS:
        raise SeedanceConfigError(f"the emulator cannot emulate {emulate!r}; use one of "
                                  f"{', '.join(catalog.DIALECTS)}")
    dialect = catalog.dialect_of(provider, emulate)
    if dialect == "comet":
        return CometDialect(provider)
    if dialect == "acedata":
        return AceDataDialect(provider)
    return ArkDialect(provider, dialect)


def to_wire(request: Any) -> dict:
    """The body a create sends: JSON dict (Ark, AceData) or {"fields", "files"} (comet)."""
    return get_dialect(request.provider, request.dialect).to_wire(request)  # type: ignore[attr-defined]
