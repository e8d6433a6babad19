"""Which provider, key and base URL a client uses (reference §1).

CONTRACT: see docs/architecture.md. `default_provider` is used by
`build_request` when no provider is named; `resolve_client` turns the user's
choices plus the environment into `ClientSettings`; `defaults` holds the
session-wide settings the magic's configuration writes into.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from . import catalog
from .errors import SeedanceConfigError, mask, register_secret

# Order in which key variables pick a provider when none is named.
_AUTO_ORDER = (("ark", "ARK_API_KEY"), ("byteplus", "BYTEPLUS_API_KEY"),
               ("comet-volc", "COMETAPI_KEY"), ("acedata", "ACEDATACLOUD_API_TOKEN"))
EMULATOR_TOKEN_ENV = "SEEDANCE_EMULATOR_TOKEN"


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


class Defaults:
    """Session-wide settings; `%config Seedance.*` and the panel write here."""

    _FIELDS = {
        "provider": None,          # None: default_provider()
        "model": None,             # None: catalog default family
        "emulate": None,           # None: default_emulate()
        "output_dir": "seedance-output",
        "ledger_path": None,       # None: <output_dir>/ledger.sqlite
        "poll_interval": catalog.POLL_INTERVAL_S,
        "wait_timeout": catalog.WAIT_DEADLINE_S,
        "embed": "auto",
        "emulator_speed": None,    # speed for an auto-started emulator (None: its default)
    }

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the built-in values (tests, `%reload_ext`)."""
        for name, value in self._FIELDS.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._FIELDS}

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items())
        return f"Defaults({body})"


defaults = Defaults()


@dataclass(frozen=True)
class ClientSettings:
    """Everything needed to talk to one gateway. The repr never shows the key."""

    provider: str  # ark | byteplus | comet | comet-volc | acedata | emulator
    dialect: str  # wire dialect (the emulate setting for the emulator)
    api_key: str = field(repr=False)
    base_url: str = ""  # ark-dialect paths are appended to it
    emulate: str = "ark"
    endpoints: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def __repr__(self) -> str:
        return (f"ClientSettings(provider={self.provider!r}, dialect={self.dialect!r}, "
                f"api_key={mask(self.api_key)!r}, base_url={self.base_url!r})")

    __str__ = __repr__

    @property
    def is_emulator(self) -> bool:
        return self.provider == "emulator"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity of the connection (one HTTP session and one poll group per key)."""
        return (self.provider, self.dialect, self.base_url, self.api_key)


def _emulator_base(root: str, dialect: str) -> str:
    root = root.rstrip("/")
    prefix = catalog.EMULATOR_PREFIX.get(dialect, "")
    if prefix and not root.endswith(prefix):
        root += prefix
    return root


def resolve_client(provider: Optional[str] = None, api_key: Optional[str] = None,
                   base_url: Optional[str] = None, emulate: Optional[str] = None,
                   endpoints: Optional[Mapping[str, str]] = None) -> ClientSettings:
    """Pick provider, key and base URL (§1): explicit arguments beat the environment.

    Raises SeedanceConfigError for an unknown provider or a real provider without a
    key; nothing is sent in either case.
    """
    name = (provider or defaults.provider or default_provider()).strip().lower()
    if name not in catalog.PROVIDERS:
        raise SeedanceConfigError(
            f"unknown provider {name!r}; choose one of {', '.join(catalog.PROVIDERS)}")
    if api_key is not None and not isinstance(api_key, str):
        raise SeedanceConfigError("api_key must be a string")
    api_key = (api_key or "").strip() or None
    info = catalog.PROVIDER_INFO[name]
    if name == "emulator":
        emulate = (emulate or defaults.emulate or default_emulate()).strip().lower()
        if emulate not in catalog.DIALECTS:
            raise SeedanceConfigError(
                f"unknown emulate setting {emulate!r}; choose one of {', '.join(catalog.DIALECTS)}")
        root = base_url or os.environ.get(catalog.EMULATOR_URL_ENV, "").strip()
        key = api_key or os.environ.get(EMULATOR_TOKEN_ENV, "").strip()
        if not root:
            from .emulator import ensure_local  # starts one emulator per process

            root, token = ensure_local()
            key = key or token
        key = key or catalog.EMULATOR_DEFAULT_TOKEN
        base = _emulator_base(root, emulate)
        dialect = emulate
    else:
        key = api_key
        if not key:
            for env in info.key_envs:
                key = os.environ.get(env, "").strip()
                if key:
                    break
        if not key:
            names = " or ".join(info.key_envs)
            raise SeedanceConfigError(
                f"no API key for provider {name!r}: set {names}, or pass api_key=...; "
                f"nothing was sent")
        base = (base_url or info.base_url).rstrip("/")
        dialect = catalog.dialect_of(name)
        emulate = emulate or "ark"
    register_secret(key)
    return ClientSettings(provider=name, dialect=dialect, api_key=key, base_url=base,
                          emulate=emulate, endpoints=dict(endpoints or {}))
