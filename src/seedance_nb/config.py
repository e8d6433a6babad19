"""Which provider, key and base URL a client uses (reference §1).

CONTRACT: see docs/architecture.md. The client-core work extends this module
(ClientSettings, resolve_client, defaults); `default_provider` is used by
`build_request` when no provider is named.
"""
from __future__ import annotations

import os

# Order in which key variables pick a provider when none is named.
_AUTO_ORDER = (("ark", "ARK_API_KEY"), ("byteplus", "BYTEPLUS_API_KEY"),
               ("comet-volc", "COMETAPI_KEY"), ("acedata", "ACEDATACLOUD_API_TOKEN"))


def default_provider() -> str:
    """SEEDANCE_PROVIDER, else the first provider whose key is set, else the emulator."""
    named = os.environ.get("SEEDANCE_PROVIDER", "").strip()
    if named:
        return named
    for provider, env in _AUTO_ORDER:
        if os.environ.get(env):
            return provider
    return "emulator"


def default_emulate() -> str:
    return os.environ.get("SEEDANCE_EMULATE", "").strip() or "ark"
