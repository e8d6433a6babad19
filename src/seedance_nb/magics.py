"""The `%%seedance` cell magic and `%seedance` line magic.

A thin IPython `Magics` class with no settings of its own (they are `config.settings`,
registered as the `Seedance` configurable: `%config Seedance.provider = "ark"`,
`ipython_config.py`), the cell flow (validate every combination, check keys, submit,
show, wait or follow) and the extension hooks.
The line is parsed in `magic_line`, waiting lives in `magic_wait` and the `%seedance`
subcommands in `magic_commands`. Loading the extension imports nothing heavy: the
request, job and widget modules load on first use. Observers that fire on the job
worker thread only call `DisplayHandle.update`; every print happens on the main thread.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from typing import Any, Callable, Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from . import display as _display
# The line parser and the wait policy stay importable from here (tests and callers use them).
from .magic_line import (HELP, MAX_SWEEP, _PARSER, _convert, _images,  # noqa: F401
                         _merge_problems, _problems_of, interpolate, parse_line, parse_sweep)
from .magic_wait import TERMINAL, follow, live_frontend, should_wait, wait_for  # noqa: F401

# ---------------------------------------------------------------------------------
# the magics: no settings of their own; `%config Seedance` is `config.settings`


def _settings() -> Any:
    from .config import settings

    return settings


@magics_class
class SeedanceMagics(Magics):
    """%%seedance: Seedance video generation in a cell. Configure with %config Seedance."""

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

        settings = _settings()
        base = dict(provider=ns.provider or settings.provider or None,
                    model=ns.model or settings.model or None)
        common = dict(images=_images(ns), **fields)
        if ns.ref_video:
            common["ref_videos"] = tuple(ns.ref_video)
        if ns.ref_audio:
            common["ref_audios"] = tuple(ns.ref_audio)
        requests, per_combo = [], []
        for combo in combos:
            kw = {**base, **common, **combo}
            try:
                requests.append(build_request(prompt, **self._client_kw(kw, build=True)))
                per_combo.append([])
            except SeedanceError as exc:
                per_combo.append(_problems_of(exc))
            except (OSError, ValueError) as exc:
                per_combo.append([str(exc)])
        problems += _merge_problems(combos, per_combo)
        if problems:
            raise UsageError("\n".join(problems))
        return ns, combos, [f for f, _ in axes], requests, {**base, **common, "prompt": prompt}

    def _client_kw(self, kw: dict[str, Any], build: bool = False) -> dict[str, Any]:
        """Keyword arguments without the unset ones; for `build_request` also the
        settings it cannot read itself (the emulate dialect, endpoint ids)."""
        settings = _settings()
        if build:
            if settings.emulate and (kw.get("provider") or settings.provider or "") in (
                    "", "emulator"):
                kw = {**kw, "emulate": settings.emulate}
            if settings.endpoints:
                kw = {**kw, "endpoints": dict(settings.endpoints)}
        return {k: v for k, v in kw.items() if v is not None and v != () and v != []}

    def _cell(self, line: str, cell: str) -> Any:
        ns, combos, axes, requests, kw = self._validate(line, cell)
        if ns.dry_run:  # ONE output: the returned object (HTML + readable text repr)
            return _display.DryRun(requests, axes)
        self._check_keys(requests)
        if getattr(ns, "max", None) is not None:  # a big sweep on purpose: its cost first
            from .magic_line import grid_estimate

            print(grid_estimate(requests), flush=True)
        embed = bool(ns.embed) or _display.should_embed(_settings().embed)
        wait = should_wait(ns.wait, _settings().wait, self.shell)
        jobs = self._submit(ns, combos, kw)
        self.shell.user_ns["_seedance_jobs" if len(jobs) > 1 else "_seedance_job"] = (
            jobs if len(jobs) > 1 else jobs[0])
        if self._summarized(jobs, axes, kw["prompt"], embed, wait):
            return None
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

    def _summarized(self, jobs: list[Any], axes: list[str], prompt: str, embed: bool,
                    wait: bool) -> bool:
        """Note the cell's jobs for `%seedance jobs`; a sweep of more than
        display_summary.THRESHOLD videos gets one live summary (True), not a tile each."""
        from .config import settings
        from .display_summary import use_summary
        from .ui import summary

        head = " ".join(prompt.split())[:40]
        count = getattr(self.shell, "execution_count", None)
        where = f"In [{count}]" if count else "cell"
        kind = f"sweep of {len(jobs)} over {', '.join(axes)}" if axes else "1 video"
        summary.note_group(jobs, f"{where}: {kind}: {head}", axes)
        if not use_summary(len(jobs)):
            return False
        summary.show_jobs(jobs, title=f"{kind}: {head}", fields=axes, embed=embed,
                          live=live_frontend(self.shell), wait=wait,
                          timeout=float(settings.wait_timeout or 3600.0))
        return True

    def _check_keys(self, requests: list[Any]) -> None:
        """A real provider without a key is a UsageError before anything is sent."""
        from .config import resolve_client
        from .errors import SeedanceConfigError

        for provider in {r.provider for r in requests} - {"emulator"}:
            try:
                resolve_client(provider)  # the configured key and base URL, as submit uses
            except SeedanceConfigError as exc:
                raise UsageError(str(exc)) from None

    def _submit(self, ns: argparse.Namespace, combos: list[dict], kw: dict) -> list[Any]:
        from . import jobs as _jobs
        from .errors import SeedanceError

        kw = dict(kw)
        prompt = kw.pop("prompt")
        kw = self._client_kw(kw)  # submit reads key, base URL, emulate, endpoints itself
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


SeedanceMagics.seedance.__doc__ = HELP


# ---------------------------------------------------------------------------------
# extension hooks

_loaded: dict[int, SeedanceMagics] = {}
_configured: set[int] = set()  # shells whose config (ipython_config.py) was applied once


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext seedance_nb`: register the magics and the settings (idempotent, cheap)."""
    magics = _loaded.get(id(ipython))
    if magics is None:
        magics = SeedanceMagics(shell=ipython)
        _loaded[id(ipython)] = magics
    ipython.register_magics(magics)
    settings = _settings()
    # exactly one Seedance configurable, also after %reload_ext
    ipython.configurables[:] = [c for c in ipython.configurables
                                if type(c).__name__ != "Seedance"] + [settings]
    if id(ipython) not in _configured:
        # c.Seedance.* from ipython_config.py; later loads keep what %config set since
        _configured.add(id(ipython))
        settings.update_config(ipython.config)
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
    """Old name: the key of `config.settings` (`%config Seedance.api_key`), if any."""
    return _settings().secret()


def unload_ipython_extension(ipython: Any) -> None:
    """Stop the worker thread (its jobs are carried over to the next load) and remove
    what loading registered: the magics and the settings configurable."""
    jobs = sys.modules.get("seedance_nb.jobs")
    if jobs is not None:
        mgr = jobs.manager()
        mgr.stop()
        _carried[:] = [list(mgr.jobs)]
    magics = _loaded.pop(id(ipython), None)
    if magics is not None:
        manager = ipython.magics_manager
        for kind in ("line", "cell"):
            table = manager.magics[kind]
            for name, fn in list(table.items()):
                if getattr(fn, "__self__", None) is magics:
                    del table[name]
        if manager.registry.get(type(magics).__name__) is magics:
            del manager.registry[type(magics).__name__]
    settings = _settings()
    ipython.configurables[:] = [c for c in ipython.configurables if c is not settings]
