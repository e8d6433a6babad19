"""Which gateway a client talks to: provider, key and base URL (reference §1).

Pure: this module reads the environment and its arguments, never the session settings
(`config.settings`), and resolving starts nothing. A local emulator that is needed but
not named yet is started by `ClientSettings.started()`, which only the code that sends
calls (`jobs.submit`, resume, the `--check` of the model table).
"""
from __future__ import annotations

import ipaddress
import os
import warnings
from dataclasses import dataclass, field, replace
from typing import Mapping, Optional
from urllib.parse import urlsplit

from . import catalog
from .errors import SeedanceConfigError, mask, register_secret

# Order in which key variables pick a provider when none is named. COMETAPI_KEY means
# comet (/v1/videos): CometAPI deprecated /volc/v3 on 2026-04-20 (§2.1).
_AUTO_ORDER = (("ark", "ARK_API_KEY"), ("byteplus", "BYTEPLUS_API_KEY"),
               ("comet", "COMETAPI_KEY"), ("acedata", "ACEDATACLOUD_API_TOKEN"))
COMET_VOLC_DEPRECATED = ("CometAPI deprecated its /volc/v3 route (comet-volc) on 2026-04-20 in "
                         "favour of /v1/videos; seedance-nb still speaks it, but provider='comet' "
                         "is the supported route")
_comet_volc_warned: list[bool] = []
EMULATOR_TOKEN_ENV = "SEEDANCE_EMULATOR_TOKEN"
#: Set to 1 to allow plain http:// to a host other than this machine (§8 Bounds).
ALLOW_INSECURE_ENV = "SEEDANCE_ALLOW_INSECURE"


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


@dataclass(frozen=True)
class ClientSettings:
    """Everything needed to talk to one gateway. The repr never shows the key.

    For the local emulator before it runs, `base_url` is "" (and `api_key` "" unless one
    was given): `started()` fills both.
    """

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

    def started(self, speed: Optional[float] = None) -> "ClientSettings":
        """These settings, with this process's emulator started (at `speed`, else its
        default) if they need one."""
        if self.base_url or not self.is_emulator:
            return self
        from .emulator import ensure_local  # one emulator per process, reused later

        root, token = ensure_local(speed)
        key = self.api_key or token or catalog.EMULATOR_DEFAULT_TOKEN
        register_secret(key)
        base = check_base_url(_emulator_base(root, self.emulate))
        return replace(self, api_key=key, base_url=base)


def is_loopback(host: Optional[str]) -> bool:
    """True for localhost, 127.0.0.0/8 and ::1 (the only hosts plain http may reach)."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env_allows_insecure() -> bool:
    return os.environ.get(ALLOW_INSECURE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def check_base_url(url: str, *, allow_insecure: Optional[bool] = None) -> str:
    """`url` if a key may be sent to it; else SeedanceConfigError (nothing is sent).

    http(s) only; plain http only to loopback unless `allow_insecure` (or
    SEEDANCE_ALLOW_INSECURE=1) says otherwise, because the key would cross the
    network in clear text.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host:
        raise SeedanceConfigError(
            f"base URL {url!r} is not an http(s) URL with a host; nothing was sent")
    if parts.username or parts.password:
        raise SeedanceConfigError(
            "base URL must not hold a user name or password; pass api_key=...; nothing was sent")
    if parts.scheme.lower() == "http" and not is_loopback(host):
        allowed = _env_allows_insecure() if allow_insecure is None else allow_insecure
        if not allowed:
            raise SeedanceConfigError(
                f"base URL {url!r} is plain http to {host}, which would send the API key "
                f"unencrypted; use https, or allow it explicitly with allow_insecure=True or "
                f"{ALLOW_INSECURE_ENV}=1; nothing was sent")
    return url


def _emulator_base(root: str, dialect: str) -> str:
    root = root.rstrip("/")
    prefix = catalog.EMULATOR_PREFIX.get(dialect, "")
    if prefix and not root.endswith(prefix):
        root += prefix
    return root


def resolve_client(provider: Optional[str] = None, api_key: Optional[str] = None,
                   base_url: Optional[str] = None, emulate: Optional[str] = None,
                   endpoints: Optional[Mapping[str, str]] = None, *,
                   allow_insecure: Optional[bool] = None) -> ClientSettings:
    """Pick provider, key and base URL (§1): explicit arguments beat the environment.

    Raises SeedanceConfigError for an unknown provider, a real provider without a
    key, or a base URL the key must not go to (plain http to a non-loopback host,
    unless `allow_insecure=True` or SEEDANCE_ALLOW_INSECURE=1); nothing is sent in
    any of these cases. The key is registered for redaction at once. Starts nothing:
    an emulator with no URL comes back with base_url "" (see `ClientSettings.started`).
    """
    name = (provider or default_provider()).strip().lower()
    if name not in catalog.PROVIDERS:
        raise SeedanceConfigError(
            f"unknown provider {name!r}; choose one of {', '.join(catalog.PROVIDERS)}")
    if api_key is not None and not isinstance(api_key, str):
        raise SeedanceConfigError("api_key must be a string")
    api_key = (api_key or "").strip() or None
    info = catalog.PROVIDER_INFO[name]
    if name == "emulator":
        emulate = (emulate or default_emulate()).strip().lower()
        if emulate not in catalog.DIALECTS:
            raise SeedanceConfigError(
                f"unknown emulate setting {emulate!r}; choose one of {', '.join(catalog.DIALECTS)}")
        root = base_url or os.environ.get(catalog.EMULATOR_URL_ENV, "").strip()
        key = api_key or os.environ.get(EMULATOR_TOKEN_ENV, "").strip()
        if root:
            key = key or catalog.EMULATOR_DEFAULT_TOKEN
        base = _emulator_base(root, emulate) if root else ""
        dialect = emulate
    else:
        if name == "comet-volc" and not _comet_volc_warned:
            _comet_volc_warned.append(True)
            warnings.warn(COMET_VOLC_DEPRECATED, stacklevel=2)
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
    if key:
        register_secret(key)
    if base:
        check_base_url(base, allow_insecure=allow_insecure)
    return ClientSettings(provider=name, dialect=dialect, api_key=key or "", base_url=base,
                          emulate=emulate, endpoints=dict(endpoints or {}))
