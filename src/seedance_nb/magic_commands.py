"""The `%seedance` line subcommands: panel, jobs, history, resume, adopt, dismiss, cancel,
delete, final, models, emulator, version (and help).

`run(magics, line)` dispatches one line; each command is a function of the `Seedance`
magics object (for its configured provider, key and wait policy) and its words.
Loaded on the first `%seedance` line, not by `%load_ext`.
"""
from __future__ import annotations

import os
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.display import display

from . import display as _display
from .magic_line import HELP, _problems_of
from .magic_wait import follow, should_wait, wait_for
from .magic_wait import live_frontend as _live_frontend


def run(magics: Any, line: str) -> Any:
    """Run one `%seedance` line; an unknown command is a UsageError listing them."""
    words = line.split()
    cmd = words[0] if words else ""
    args = words[1:]
    if cmd in ("", "help"):
        print(HELP)
        return None
    command = _COMMANDS.get(cmd)
    if command is None:
        raise UsageError(f"%seedance {cmd}: unknown command; use panel, jobs, history, resume, "
                         f"adopt ROW TASK_ID, dismiss ROW, cancel ID, delete ID, final ID, models, "
                         f"emulator start|stop|status or version")
    return command(magics, args)


def _version(magics: Any, args: list[str]) -> None:
    from . import __version__

    print(f"seedance-nb {__version__}")
    return None


def _panel(magics: Any, args: list[str]) -> Any:
    from .ui import Panel

    return Panel()


def _list_jobs(magics: Any, args: list[str]) -> None:
    """%seedance jobs [--all]: a few jobs as tiles; many as one row per cell or sweep;
    --all: one row per job."""
    from .display_summary import use_summary
    from .jobs import manager
    from .ui import summary

    if args not in ([], ["--all"]):
        raise UsageError("%seedance jobs [--all]")
    jobs = list(manager().jobs)
    if not jobs:
        print("no jobs in this kernel")
        return None
    if args:
        display(summary.jobs_list_bundle(jobs), raw=True)
    elif use_summary(len(jobs)):
        display(summary.jobs_summary_bundle(jobs), raw=True)
    else:
        display(_display.gallery_bundle(jobs, fields=()), raw=True)
    return None


def _history(magics: Any, args: list[str]) -> Any:
    """%seedance history [--all] [--full]: this session's tasks, short; --all every task
    in the ledger; --full every column."""
    from .config import settings
    from .ledger import history

    unknown = [a for a in args if a not in ("--all", "--full")]
    if unknown:
        raise UsageError(f"%seedance history: unknown option {unknown[0]}; use --all "
                         f"(every task in the ledger) and/or --full (every column)")
    return history(settings.ledger_file(), all="--all" in args, full="--full" in args)


def _resume(magics: Any, args: list[str]) -> None:
    from .config import settings
    from .jobs import resume

    # resume reads %config Seedance.api_key / base_url itself and sends the key only to
    # the base URL configured for its provider (rows naming another host are reported)
    jobs = resume()
    if not jobs:
        if not getattr(jobs, "report", None):  # the report was shown by resume()
            print("nothing to resume")
        return None
    wait = should_wait(None, settings.wait, magics.shell)
    from .display_summary import use_summary

    if use_summary(len(jobs)):  # many: one summary and paged videos, as a big sweep shows
        from .ui import summary

        summary.note_group(jobs, f"resumed: {len(jobs)} jobs")
        summary.show_jobs(jobs, title=f"resumed: {len(jobs)} jobs", live=_live_frontend(
            magics.shell), wait=wait, timeout=float(settings.wait_timeout or 3600.0))
        return None
    render = lambda: _display.gallery_bundle(jobs, fields=())
    handle = display(render(), raw=True, display_id=True)
    if wait:
        wait_for(jobs, handle, render)
    else:
        follow(jobs, handle, render)
    return None


def _settle(magics: Any, args: list[str], cmd: str) -> None:
    """Settle a create whose answer was lost (listed by %seedance resume)."""
    from .errors import SeedanceError
    from .jobs.recovery import adopt, dismiss

    want = 2 if cmd == "adopt" else 1
    if len(args) != want or not args[0].isdigit():
        raise UsageError("%seedance adopt ROW TASK_ID  or  %seedance dismiss ROW "
                         "(ROW: the ledger row shown by %seedance resume)")
    try:
        rec = adopt(int(args[0]), args[1]) if cmd == "adopt" else dismiss(int(args[0]))
    except SeedanceError as exc:
        raise UsageError(str(exc)) from None
    if cmd == "adopt":
        print(f"row {rec['id']} is now task {rec['task_id']}; %seedance resume fetches it")
    else:
        print(f"row {rec['id']} dismissed; it is not reported again")
    return None


def _final(magics: Any, args: list[str]) -> None:
    """%seedance final ID: the 1080p final of a 2.5 draft (a job of this kernel, or a
    draft task id the ledger or the gateway knows)."""
    if len(args) != 1:
        raise UsageError("%seedance final ID: give one draft (task id, job name or ledger id)")
    from . import jobs as _jobs
    from .errors import SeedanceError

    target = args[0]
    draft = next((j for j in reversed(list(_jobs.manager().jobs))
                  if target in (j.task_id, j.name, str(j.ledger_id))), None)
    try:
        if draft is not None:
            job = draft.final()
        else:
            # submit reads the configured provider, key and base URL itself
            job = _jobs.submit(draft_task_id=target)
    except SeedanceError as exc:
        raise UsageError("\n".join(_problems_of(exc))) from None
    magics.shell.user_ns["_seedance_job"] = job
    render: Callable[[], dict] = lambda: _display.job_bundle(job)
    handle = display(render(), raw=True, display_id=True)
    from .config import settings

    if should_wait(None, settings.wait, magics.shell):
        wait_for([job], handle, render)
    else:
        follow([job], handle, render)
    return None


def _job_for(cmd: str, args: list[str]) -> tuple[Any, str]:
    """The job of this kernel named by `args` (task id, job name or ledger id)."""
    if len(args) != 1:
        raise UsageError(f"%seedance {cmd} ID: give one task id, job name or ledger id")
    from .jobs import manager

    target = args[0]
    for job in reversed(list(manager().jobs)):
        if target in (job.task_id, job.name, str(job.ledger_id)):
            return job, target
    raise UsageError(f"%seedance {cmd} {target}: no job of this kernel has that task id, "
                     f"name or ledger id; see %seedance jobs")


def _cancel(magics: Any, args: list[str]) -> None:
    """One line: what the gateway answered. Nothing sent (a UsageError) when it cannot."""
    from .jobs import actions

    job, target = _job_for("cancel", args)
    from .errors import SeedanceConfigError, SeedanceError

    try:
        outcome = job.cancel()
    except ValueError:
        raise UsageError(f"job {target} cannot be cancelled: it already ended "
                         f"({job.status})") from None
    except SeedanceConfigError as exc:  # no cancel route: nothing was sent
        why = actions.cancel_unavailable(job) or str(exc)
        raise UsageError(f"job {target} cannot be cancelled: {why}") from None
    except SeedanceError as exc:
        raise UsageError(f"job {target} cannot be cancelled: {exc}") from None
    _print_outcome(outcome, target, "cancel", f"cancelled job {target} (task {outcome.task_id})")
    return None


def _print_outcome(outcome: Any, target: str, verb: str, done: str) -> None:
    """One line: `done` when the gateway confirmed, else why not (or not yet)."""
    past = {"cancel": "cancelled", "delete": "deleted"}[verb]
    if outcome.ok:
        print(done)
    elif outcome.ok is False:
        print(f"job {target} cannot be {past}: {outcome.reason}")
    else:
        print(f"job {target}: {verb} not confirmed yet: {outcome.reason}")


def _delete(magics: Any, args: list[str]) -> None:
    """%seedance delete ID: delete a finished task at the gateway (§10.6); one line."""
    from .jobs import actions

    job, target = _job_for("delete", args)
    why = actions.delete_unavailable(job)
    if why:
        raise UsageError(f"job {target} cannot be deleted: {why}")
    outcome = job.delete()
    _print_outcome(outcome, target, "delete", f"deleted job {target} (task {outcome.task_id}) "
                   f"at {actions.gateway_name(job)}: {outcome.reason}")
    return None


def _emulator(magics: Any, args: list[str]) -> None:
    action = args[0] if args else "status"
    from . import emulator

    external = os.environ.get("SEEDANCE_EMULATOR_URL", "").strip()
    if action == "start":
        url, _token = emulator.ensure_local()
        print(f"emulator running at {url}")
    elif action == "stop":
        if external:
            raise UsageError(f"the emulator at {external} (SEEDANCE_EMULATOR_URL) was not "
                             f"started by this kernel; stop it where it was started")
        if not emulator.stop_local():
            print("no emulator is running in this kernel")
            return None
        print("emulator stopped")
    elif action == "status":
        local = emulator.local_url()
        if external:
            print(f"emulator: {external} (from SEEDANCE_EMULATOR_URL)")
        elif local:
            print(f"emulator: {local} (started by this kernel)")
        else:
            print("emulator: not running in this kernel; it starts when a job needs it")
    else:
        raise UsageError("%seedance emulator start|stop|status")


def _models(magics: Any, args: list[str]) -> Any:
    """%seedance models [--provider P] [--check]"""
    from .config import settings
    from .models import magic
    from .errors import SeedanceError

    try:  # a --check reads the configured key and base URL (config.resolve_client)
        return magic(args, provider=settings.provider)
    except SeedanceError as exc:
        raise UsageError(str(exc)) from None


_COMMANDS: dict[str, Callable[[Any, list[str]], Any]] = {
    "version": _version,
    "panel": _panel,
    "jobs": _list_jobs,
    "history": _history,
    "resume": _resume,
    "adopt": lambda magics, args: _settle(magics, args, "adopt"),
    "dismiss": lambda magics, args: _settle(magics, args, "dismiss"),
    "cancel": _cancel,
    "delete": _delete,
    "final": _final,
    "emulator": _emulator,
    "models": _models,
}
