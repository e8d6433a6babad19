"""The `%%seedance` cell magic and `%seedance` line magic.

A thin IPython `Magics` class whose traitlets are the user-facing configuration
(`%config Seedance.provider = "ark"`, `ipython_config.py`), the cell flow (validate
every combination, check keys, submit, show, wait or follow) and the extension hooks.
The line is parsed in `magic_line`, waiting lives in `magic_wait` and the `%seedance`
subcommands in `magic_commands`. Loading the extension imports nothing heavy: the
request, job and widget modules load on first use. Observers that fire on the job
worker thread only call `DisplayHandle.update`; every print happens on the main thread.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys
from typing import Any, Callable, Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from traitlets import Enum, Float, Unicode, default, observe

from . import display as _display
from .errors import mask, register_secret
# The line parser and the wait policy stay importable from here (tests and callers use them).
from .magic_line import (HELP, MAX_SWEEP, _PARSER, _convert, _images,  # noqa: F401
                         _merge_problems, _problems_of, interpolate, parse_line, parse_sweep)
from .magic_wait import TERMINAL, follow, live_frontend, should_wait, wait_for  # noqa: F401

# ---------------------------------------------------------------------------------
# configuration traits


class SecretStr(str):
    """A key whose repr is masked, so `%config Seedance` never shows it."""

    def __repr__(self) -> str:
        return repr(mask(str.__str__(self)))


class _Secret(Unicode):
    def validate(self, obj: Any, value: Any) -> Any:
        value = super().validate(obj, value)
        if value:
            register_secret(value)
            return SecretStr(value)
        return value


def _defaults() -> Any:
    from .config import defaults

    return defaults


# ---------------------------------------------------------------------------------
# the magics


@magics_class
class Seedance(Magics):
    """%%seedance: Seedance video generation in a cell. Configure with %config Seedance."""

    provider = Unicode(None, allow_none=True,
                       help="provider: ark, byteplus, comet, comet-volc, acedata or emulator "
                            "(default: SEEDANCE_PROVIDER, else the first key found, else the "
                            "emulator)").tag(config=True)
    model = Unicode(None, allow_none=True, help="model family or wire id").tag(config=True)
    emulate = Unicode(None, allow_none=True,
                      help="dialect the emulator speaks (ark, comet, ...)").tag(config=True)
    output_dir = Unicode(help="folder for videos and the ledger").tag(config=True)
    poll_interval = Float(help="seconds between status reads").tag(config=True)
    embed = Enum(("auto", "always", "never"), default_value="auto",
                 help="embed videos as base64: auto = only on Colab").tag(config=True)
    wait = Enum(("auto", "always", "never"), default_value="auto",
                help="block the cell until the video is ready: auto = when no live "
                     "frontend can receive updates (nbclient, papermill, Colab, "
                     "terminal)").tag(config=True)
    api_key = _Secret(None, allow_none=True,
                      help="API key for the provider (masked in every display)").tag(config=True)
    catalog = Unicode(None, allow_none=True,
                      help="TOML file adding or changing model families (SEEDANCE_CATALOG wins "
                           "when both are set)").tag(config=True)

    @observe("catalog")
    def _use_catalog(self, change: Any) -> None:
        from .catalog_file import catalog_path, use_catalog_file
        from .errors import SeedanceConfigError

        try:
            use_catalog_file(catalog_path(change["new"]))
        except SeedanceConfigError as exc:
            raise UsageError(str(exc)) from None

    _PUSHED = ("provider", "model", "emulate", "output_dir", "poll_interval", "embed")

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        # ipython_config.py / %config values reach the session defaults
        for name in self._PUSHED:
            setattr(_defaults(), name, getattr(self, name))

    @default("output_dir")
    def _default_output_dir(self) -> str:
        return os.environ.get("SEEDANCE_OUTPUT_DIR") or _defaults().output_dir

    @default("poll_interval")
    def _default_poll(self) -> float:
        return float(_defaults().poll_interval)

    @observe(*_PUSHED)
    def _push(self, change: Any) -> None:
        setattr(_defaults(), change["name"], change["new"])

    def update_config(self, config: Any) -> None:
        super().update_config(config)
        # %config merges the raw assignment into our config; keep the masked value there
        if "Seedance" in self.config and "api_key" in self.config.Seedance:
            self.config.Seedance.api_key = self.api_key

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.trait_names(config=True))
        return f"Seedance({shown})"

    # -- entry point ---------------------------------------------------------------

    @line_cell_magic
    def seedance(self, line: str = "", cell: Optional[str] = None) -> Any:
        if cell is None:
            return self._line(line)
        return self._cell(line, cell)

    # -- %%seedance --------------------------------------------------------------------

    def _validate(self, line: str, cell: str) -> tuple[argparse.Namespace, list[dict[str, Any]],
                                                      list[str], list[Any], dict]:
        """Everything is checked before anything is sent; raises one UsageError."""
        ns, fields, problems = parse_line(line)
        if not hasattr(ns, "sweep"):
            raise UsageError("\n".join(problems))
        axes = parse_sweep(ns.sweep, fields, ns, problems)
        prompt, more = interpolate(cell.strip("\n"), self.shell.user_ns if self.shell else {})
        problems += more
        if ns.provider is not None and ns.provider.strip().lower() == "":
            problems.append("--provider: empty value")
        if problems:
            raise UsageError("\n".join(problems))
        combos = [dict(zip([f for f, _ in axes], values))
                  for values in itertools.product(*[v for _, v in axes])] or [{}]
        from .request import build_request
        from .errors import SeedanceError

        base = dict(provider=ns.provider or self.provider or None,
                    model=ns.model or self.model or None)
        common = dict(images=_images(ns), **fields)
        if ns.ref_video:
            common["ref_videos"] = tuple(ns.ref_video)
        if ns.ref_audio:
            common["ref_audios"] = tuple(ns.ref_audio)
        requests, per_combo = [], []
        for combo in combos:
            kw = {**base, **common, **combo}
            try:
                requests.append(build_request(prompt, **self._client_kw(kw)))
                per_combo.append([])
            except SeedanceError as exc:
                per_combo.append(_problems_of(exc))
            except (OSError, ValueError) as exc:
                per_combo.append([str(exc)])
        problems += _merge_problems(combos, per_combo)
        if problems:
            raise UsageError("\n".join(problems))
        return ns, combos, [f for f, _ in axes], requests, {**base, **common, "prompt": prompt}

    def _client_kw(self, kw: dict[str, Any]) -> dict[str, Any]:
        emulate = self.emulate or None
        if emulate and (kw.get("provider") or _defaults().provider or "") in ("", "emulator"):
            kw = {**kw, "emulate": emulate}
        return {k: v for k, v in kw.items() if v is not None and v != () and v != []}

    def _cell(self, line: str, cell: str) -> Any:
        ns, combos, axes, requests, kw = self._validate(line, cell)
        if ns.dry_run:
            for req in requests:
                display(_display.request_bundle(req), raw=True)
            return requests[0] if len(requests) == 1 else requests
        self._check_keys(requests)
        embed = bool(ns.embed) or _display.should_embed(self.embed)
        wait = should_wait(ns.wait, self.wait, self.shell)
        jobs = self._submit(ns, combos, kw)
        self.shell.user_ns["_seedance_jobs" if len(jobs) > 1 else "_seedance_job"] = (
            jobs if len(jobs) > 1 else jobs[0])
        if len(jobs) == 1 and not axes:
            render: Callable[[], dict] = lambda: _display.job_bundle(jobs[0], embed=embed)
        else:
            render = lambda: _display.gallery_bundle(jobs, fields=axes, embed=embed)
        handle = display(render(), raw=True, display_id=True)
        labels = [", ".join(f"{k}={v}" for k, v in c.items()) for c in combos]
        if live_frontend(self.shell):
            from .ui.finals import final_controls

            finals = final_controls(jobs, labels if axes else None)
            if finals is not None:  # 2.5 drafts: a "Render final (1080p)" button each
                display(finals)
        if wait:
            wait_for(jobs, handle, render, labels if axes else None)
        else:
            follow(jobs, handle, render)
        return None

    def _check_keys(self, requests: list[Any]) -> None:
        """A real provider without a key is a UsageError before anything is sent."""
        from .config import resolve_client
        from .errors import SeedanceConfigError

        for provider in {r.provider for r in requests} - {"emulator"}:
            try:
                resolve_client(provider, api_key=str.__str__(self.api_key) if self.api_key else None)
            except SeedanceConfigError as exc:
                raise UsageError(str(exc)) from None

    def _submit(self, ns: argparse.Namespace, combos: list[dict], kw: dict) -> list[Any]:
        from . import jobs as _jobs
        from .errors import SeedanceError

        kw = dict(kw)
        prompt = kw.pop("prompt")
        kw = self._client_kw(kw)
        kw.pop("emulate", None)
        if self.api_key:
            kw["api_key"] = str.__str__(self.api_key)
        out = []
        try:
            for combo in combos:
                name = ns.name
                if name and len(combos) > 1:
                    name = f"{ns.name}[" + ",".join(f"{k}={v}" for k, v in combo.items()) + "]"
                out.append(_jobs.submit(prompt, new=ns.new, name=name, **{**kw, **combo}))
        except SeedanceError as exc:
            sent = f" ({len(out)} already submitted)" if out else ""
            raise UsageError("\n".join(_problems_of(exc)) + sent) from None
        return out

    # -- %seedance --------------------------------------------------------------------

    def _line(self, line: str) -> Any:
        from .magic_commands import run

        return run(self, line)


Seedance.seedance.__doc__ = HELP


# ---------------------------------------------------------------------------------
# extension hooks

_loaded: dict[int, Seedance] = {}


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext seedance_nb`: register the magics (idempotent, cheap)."""
    magics = _loaded.get(id(ipython))
    if magics is None:
        magics = Seedance(shell=ipython)
        _loaded[id(ipython)] = magics
    ipython.register_magics(magics)
    if _carried:  # %reload_ext: a new worker picks up what the stopped one left
        old = _carried.pop()
        _restart(old)


def _restart(old_jobs: list[Any]) -> None:
    from . import jobs as _jobs

    mgr = _jobs.manager()
    if any(j.status not in TERMINAL for j in old_jobs):
        _jobs.resume()  # unfinished rows come back from the ledger on the new worker
    with mgr._lock:
        known = {j.ledger_id for j in mgr.jobs}
        mgr.jobs[:0] = [j for j in old_jobs if j.ledger_id not in known]


_carried: list[list[Any]] = []


def configured_api_key() -> Optional[str]:
    """The key set with `%config Seedance.api_key`, if any (the panel uses it too)."""
    for magics in _loaded.values():
        if magics.api_key:
            return str.__str__(magics.api_key)
    return None


def unload_ipython_extension(ipython: Any) -> None:
    """Stop the worker thread; its jobs are carried over to the next load."""
    jobs = sys.modules.get("seedance_nb.jobs")
    if jobs is not None:
        mgr = jobs.manager()
        mgr.stop()
        _carried[:] = [list(mgr.jobs)]
    _loaded.pop(id(ipython), None)
