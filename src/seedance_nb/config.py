"""The session settings: one traitlets Configurable, `config.settings` (reference §1).

`Seedance` is THE settings object: `%config Seedance.provider = "ark"`, an
`ipython_config.py` line `c.Seedance.provider = "ark"` and plain Python
(`from seedance_nb.config import settings; settings.provider = "ark"`) all set the same
module-level instance, and everything that sends reads it through `resolve_client` or
`settings` directly. Lower layers (request, providers, http, ledger) never import this
module: they get values as arguments. Resolving settings starts nothing.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping, Optional

from traitlets import Dict, Enum, Float, TraitError, Undefined, Unicode, default, validate
from traitlets.config import Configurable

from . import catalog
from .client import (ALLOW_INSECURE_ENV, COMET_VOLC_DEPRECATED, EMULATOR_TOKEN_ENV,  # noqa: F401
                     ClientSettings, _comet_volc_warned, _emulator_base, _env_allows_insecure,
                     check_base_url, default_emulate, default_provider, is_loopback)
from . import client as _client
from .errors import SeedanceConfigError, mask, register_secret

#: Poll interval with the emulator when none is configured: a clip is ready in seconds.
EMULATOR_POLL_INTERVAL_S = 1.0
OUTPUT_DIR_ENV = "SEEDANCE_OUTPUT_DIR"


class SecretStr(str):
    """A key whose repr is masked, so `%config Seedance` never shows it."""

    def __repr__(self) -> str:
        return repr(mask(str.__str__(self)))


class _Secret(Unicode):
    def validate(self, obj: Any, value: Any) -> Any:
        value = super().validate(obj, value)
        if value:
            value = value.strip()
            register_secret(value)
            return SecretStr(value)
        return value or None


def _positive(name: str, value: Optional[float]) -> Optional[float]:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise TraitError(f"Seedance.{name} must be a positive number of seconds, not {value!r}")
    return value


def _choice(name: str, value: Optional[str], choices: tuple[str, ...]) -> Optional[str]:
    value = (value or "").strip().lower() or None
    if value is not None and value not in choices:
        raise TraitError(f"Seedance.{name}: unknown value {value!r}; choose one of "
                         f"{', '.join(choices)}")
    return value


class Seedance(Configurable):
    """seedance-nb settings: `%config Seedance.<name> = value` or `config.settings.<name>`."""

    provider = Unicode(None, allow_none=True,
                       help="provider: ark, byteplus, comet, comet-volc, acedata or emulator "
                            "(default: SEEDANCE_PROVIDER, else the first key found, else the "
                            "emulator)").tag(config=True)
    model = Unicode(None, allow_none=True,
                    help="model family or wire id (default: the catalog's)").tag(config=True)
    emulate = Unicode(None, allow_none=True,
                      help="dialect the emulator speaks: ark, byteplus, comet, comet-volc or "
                           "acedata (default: SEEDANCE_EMULATE, else ark)").tag(config=True)
    api_key = _Secret(None, allow_none=True,
                      help="API key for the configured provider (with no provider configured: "
                           "for the real provider a cell names); masked in every "
                           "display").tag(config=True)
    base_url = Unicode(None, allow_none=True,
                       help="gateway URL of the configured provider (the emulator: its root "
                            "URL); plain http only to this machine").tag(config=True)
    endpoints = Dict(key_trait=Unicode(), value_trait=Unicode(),
                     help="Ark/BytePlus endpoint ids usable as models, each mapped to its "
                          "model family, e.g. {'ep-2025xxxx': '2.0'}").tag(config=True)
    output_dir = Unicode(help="folder for videos and the ledger (default: "
                              "SEEDANCE_OUTPUT_DIR, else seedance-output)").tag(config=True)
    ledger_path = Unicode(None, allow_none=True,
                          help="ledger file (default: <output_dir>/ledger.sqlite)").tag(config=True)
    poll_interval = Float(None, allow_none=True,
                          help="seconds between status reads (default: 1 with the emulator, "
                               f"{catalog.POLL_INTERVAL_S:g} with a gateway)").tag(config=True)
    wait_timeout = Float(catalog.WAIT_DEADLINE_S,
                         help="seconds a job may take before it is given up").tag(config=True)
    embed = Enum(("auto", "always", "never"), default_value="auto",
                 help="embed videos as base64: auto = only on Colab").tag(config=True)
    wait = Enum(("auto", "always", "never"), default_value="auto",
                help="block the cell until the video is ready: auto = when no live "
                     "frontend can receive updates (nbclient, papermill, Colab, "
                     "terminal)").tag(config=True)
    catalog = Unicode(None, allow_none=True,
                      help="TOML file adding or changing model families (SEEDANCE_CATALOG wins "
                           "when both are set)").tag(config=True)
    limits = Dict(help="account budget for creates (jobs/admission.py), any of "
                       "{'queued': 120, 'rpm': 600, 'concurrency': 10}; default: the "
                       "catalog's per family").tag(config=True)
    emulator_speed = Float(None, allow_none=True,
                           help="speed for the emulator this kernel starts (default 20: "
                                "a 5 s clip in about 4 s); an emulator already running "
                                "keeps its speed").tag(config=True)

    # -- checks: a bad value is refused with one line and the old value stays -----------

    @default("output_dir")
    def _default_output_dir(self) -> str:
        return os.environ.get(OUTPUT_DIR_ENV, "").strip() or "seedance-output"

    @validate("provider")
    def _check_provider(self, proposal: Any) -> Optional[str]:
        return _choice("provider", proposal.value, catalog.PROVIDERS)

    @validate("emulate")
    def _check_emulate(self, proposal: Any) -> Optional[str]:
        return _choice("emulate", proposal.value, catalog.DIALECTS)

    @validate("model", "ledger_path")
    def _check_text(self, proposal: Any) -> Optional[str]:
        return (proposal.value or "").strip() or None

    @validate("output_dir")
    def _check_output_dir(self, proposal: Any) -> str:
        value = (proposal.value or "").strip()
        if not value:
            raise TraitError("Seedance.output_dir must name a folder")
        return value

    @validate("poll_interval", "wait_timeout", "emulator_speed")
    def _check_seconds(self, proposal: Any) -> Optional[float]:
        return _positive(proposal.trait.name, proposal.value)

    @validate("limits")
    def _check_limits(self, proposal: Any) -> dict:
        from .errors import SeedanceConfigError
        from .jobs.admission import check_limits

        try:
            return check_limits(proposal.value, "Seedance.limits")
        except SeedanceConfigError as exc:
            raise TraitError(str(exc)) from None

    @validate("base_url")
    def _check_base_url(self, proposal: Any) -> Optional[str]:
        value = (proposal.value or "").strip().rstrip("/") or None
        if value is not None:
            try:
                check_base_url(value)
            except SeedanceConfigError as exc:
                raise TraitError(f"Seedance.base_url: {str(exc).replace('; nothing was sent', '')}"
                                 ) from None
        return value

    @validate("endpoints")
    def _check_endpoints(self, proposal: Any) -> dict:
        value = dict(proposal.value or {})
        for ep, family in value.items():
            if not ep.startswith("ep-") or not family.strip():
                raise TraitError(f"Seedance.endpoints: {ep!r}: {family!r} is not an endpoint "
                                 f"id mapped to a family, e.g. {{'ep-2025xxxx': '2.0'}}")
        return value

    @validate("catalog")
    def _use_catalog(self, proposal: Any) -> Optional[str]:
        value = (proposal.value or "").strip() or None
        _install_catalog(value)
        return value

    # -- reading ------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted(self.trait_names(config=True))

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.names()}

    def reset(self) -> None:
        """Back to the built-in values (tests)."""
        for name in self.names():
            value = self.trait_defaults(name)
            if getattr(self, name) != value:
                setattr(self, name, value)

    def effective_poll_interval(self, is_emulator: bool) -> float:
        """The configured interval, else about 1 s with the emulator (it finishes a clip
        in seconds) and the gateway default (§8) otherwise."""
        if self.poll_interval is not None:
            return float(self.poll_interval)
        return EMULATOR_POLL_INTERVAL_S if is_emulator else catalog.POLL_INTERVAL_S

    def ledger_file(self) -> Path:
        """`ledger_path`, else `<output_dir>/ledger.sqlite`."""
        from .ledger_db import default_path

        return default_path(self.output_dir, self.ledger_path)

    def secret(self) -> Optional[str]:
        """The configured key as a plain string (for sending), or None."""
        return str.__str__(self.api_key) if self.api_key else None

    def update_config(self, config: Any) -> None:
        given = config.Seedance.get("catalog", Undefined) if "Seedance" in config else Undefined
        if isinstance(given, (str, type(None))) and ((given or "").strip() or None) == self.catalog:
            _install_catalog(self.catalog)  # the same file again: read it again (and the env)
        super().update_config(config)
        # %config merges the raw assignment into the config objects; keep it masked there
        if "Seedance" in config and "api_key" in config.Seedance and self.api_key:
            config.Seedance.api_key = self.api_key
            if "Seedance" in self.config and "api_key" in self.config.Seedance:
                self.config.Seedance.api_key = self.api_key

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in self.as_dict().items())
        return f"Seedance({shown})"


def _install_catalog(value: Optional[str]) -> None:
    from .catalog_file import catalog_path, use_catalog_file

    try:
        use_catalog_file(catalog_path(value))
    except SeedanceConfigError as exc:
        raise TraitError(str(exc)) from None


settings = Seedance()


def _own_key(provider: str) -> bool:
    """Whether `%config Seedance.api_key` may go to `provider`: never the emulator; the
    configured provider only, or with none configured (and no key variable picking one),
    the real provider a cell or call names."""
    if provider == "emulator":
        return False
    owner = settings.provider or default_provider()
    return owner in (provider, "emulator")


def resolve_client(provider: Optional[str] = None, api_key: Optional[str] = None,
                   base_url: Optional[str] = None, emulate: Optional[str] = None,
                   endpoints: Optional[Mapping[str, str]] = None, *,
                   allow_insecure: Optional[bool] = None) -> ClientSettings:
    """`client.resolve_client` with the session settings filling what the caller left out.

    Arguments win; then `settings` (provider, emulate, endpoints; api_key and base_url
    only for the provider they were configured for); then the environment. Starts
    nothing (see `ClientSettings.started`).
    """
    name = (provider or settings.provider or default_provider()).strip().lower()
    given_key = api_key
    if api_key is None and settings.api_key and _own_key(name):
        api_key = settings.secret()
    if base_url is None and settings.base_url and name == (settings.provider or default_provider()):
        base_url = settings.base_url
    if endpoints is None and settings.endpoints:
        endpoints = dict(settings.endpoints)
    try:
        return _client.resolve_client(name, api_key, base_url, emulate or settings.emulate,
                                      endpoints, allow_insecure=allow_insecure)
    except SeedanceConfigError as exc:
        if given_key is None and settings.api_key and not api_key and name in catalog.DIALECTS:
            raise SeedanceConfigError(
                f"{exc} (%config Seedance.api_key is for provider "
                f"{settings.provider or default_provider()!r})") from None
        raise
