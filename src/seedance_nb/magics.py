"""The `%%seedance` cell magic and `%seedance` line magic.

A thin IPython `Magics` class whose traitlets are the user-facing configuration
(`%config Seedance.provider = "ark"`, `ipython_config.py`). Loading the
extension imports nothing heavy: the request, job and widget modules load on
first use. Observers that fire on the job worker thread only call
`DisplayHandle.update`; every print happens on the main thread.
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import shlex
import string
import sys
import threading
import time
from typing import Any, Callable, Optional

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from traitlets import Enum, Float, Unicode, default, observe

from . import catalog
from . import display as _display
from .errors import mask, register_secret

TERMINAL = catalog.JOB_ENDED
MAX_SWEEP = 64  # videos per sweep; a typo like seed=1,...,1000 must not bill 1000 videos

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
# line options


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _LineError(message)


class _LineError(Exception):
    pass


from . import fields as _fields  # the one table of settings: options, help, sweep names

# line option -> field, for every option that sets a request field (shortcuts included)
_OPTION_FIELD: dict[str, str] = {
    **{o: f.name for f in _fields.FIELDS for o in f.options},
    **{o: name for o, (name, _) in _fields.SHORTCUTS.items()},
}
_NO_VALUE = _fields.no_value_options()
_SHORTCUT_HELP = {"--no-audio": "no audio track",
                  "--edit": "2.5: edit the reference video (--task-type edit)",
                  "--extend": "2.5: continue the reference video (--task-type extend)"}


def _build_parser() -> _Parser:
    p = _Parser(prog="%%seedance", add_help=False, allow_abbrev=False,
                description="Generate a video from the cell text (the prompt; inline flags "
                            "such as --rs 720p --dur 5 are allowed in it).")
    a = p.add_argument
    a("--provider", help="ark | byteplus | comet | comet-volc | acedata | emulator")
    a("--model", help=f"family key ({catalog.DEFAULT_FAMILY} by default; 2.5, 2.0, ...) or the "
                      f"provider's wire id")
    a("--image", "--first-frame", dest="first_frame", metavar="PATH|URL", help="first frame")
    a("--last-frame", dest="last_frame", metavar="PATH|URL", help="last frame")
    a("--ref", action="append", default=[], metavar="PATH|URL", help="reference image (repeatable)")
    for f in _fields.FIELDS:
        if not f.options:
            continue
        dest = f.dest or f.name
        if f.kind == "media":
            a(*f.options, dest=dest, action="append", default=[], metavar=f.metavar, help=f.help)
        elif f.const is not None:
            a(*f.options, dest=dest, action="store_const", const=f.const, default=None,
              help=f.help)
        else:
            a(*f.options, dest=dest, metavar=f.metavar, help=f.help)
        for opt, (name, value) in _fields.SHORTCUTS.items():
            if name == f.name:
                a(opt, dest=dest, action="store_const", const=value, help=_SHORTCUT_HELP[opt])
    a("--wait", dest="wait", action="store_const", const=True, default=None,
      help="block until the video is ready (default: only with no live frontend)")
    a("--no-wait", dest="wait", action="store_const", const=False)
    a("--name", help="a label kept in the history")
    a("--new", action="store_true", help="always send, even if an identical video exists")
    a("--embed", action="store_true", help="embed the video as base64 in the notebook")
    a("--dry-run", action="store_true", help="validate and estimate; send nothing")
    a("--sweep", action="append", default=[], metavar="FIELD=V1,V2",
      help="one video per combination (repeatable)")
    return p


_PARSER = _build_parser()

_LINE_COMMANDS = """\
Line magic:
  %seedance panel            the control panel (form + job cards)
  %seedance jobs             jobs of this kernel
  %seedance history          every recorded task (a DataFrame with pandas)
  %seedance resume           pick up unfinished tasks from the ledger
  %seedance cancel ID        cancel a queued task (task id, name or ledger id)
  %seedance final ID         render a 2.5 draft's final video at 1080p (job or task id)
  %seedance adopt ROW TASK   settle a lost create: that row is this task (see resume)
  %seedance dismiss ROW      settle a lost create: no task was made; stop reporting it
  %seedance models [--provider P] [--check]   the model catalog; --check asks the account
  %seedance emulator start|stop|status
  %seedance version
Configuration: %config Seedance  (provider, model, emulate, output_dir, poll_interval,
  embed, wait, api_key); {name} in the prompt is filled from the notebook, {{ }} escapes."""


def _convert(name: str, label: str, raw: str, problems: list[str]) -> Any:
    """The value of field `name` typed as `raw` on the line, or None (problem added)."""
    field = _fields.BY_NAME.get(name)
    if field is None:  # model
        return raw
    value, reason = field.parse(raw)
    if reason:
        problems.append(f"{label} {raw}: {reason}")
        return None
    return value[0] if field.kind == "media" else value


def parse_line(line: str) -> tuple[argparse.Namespace, dict[str, Any], list[str]]:
    """Parse the magic line: (namespace, request fields, problems).

    `fields` also carries `typed_as` ({field: "--rs 480P"}) when a field came from the
    line, so build_request's messages quote the option as the user typed it.
    """
    problems: list[str] = []
    try:
        tokens = shlex.split(line)
    except ValueError as exc:
        return argparse.Namespace(), {}, [f"magic line: {exc}"]
    try:
        ns, extra = _PARSER.parse_known_args(tokens)
    except _LineError as exc:
        return argparse.Namespace(), {}, [f"magic line: {exc}"]
    skip = False
    for i, tok in enumerate(extra):
        if skip:
            skip = False
            continue
        if tok.startswith("-"):
            problems.append(f"{tok}: unknown option; see %%seedance?")
            # its value, if any, belongs to the same problem
            skip = i + 1 < len(extra) and not extra[i + 1].startswith("-")
        else:
            problems.append(f"{tok}: unexpected word on the magic line (the prompt goes in "
                            f"the cell body)")
    problems += _duplicates(tokens)
    fields: dict[str, Any] = {}
    typed_as: dict[str, str] = {}
    for field in _fields.FIELDS:
        if not field.options:
            continue
        raw = getattr(ns, field.dest or field.name)
        if raw is None or raw == []:
            continue
        spellings = tuple(o for o, name in _OPTION_FIELD.items() if name == field.name)
        typed = _typed(tokens, spellings)
        if field.kind == "media":  # ns.ref_video / ns.ref_audio; the cell adds them
            typed_as[field.name] = " ".join(f"{typed} {r}" for r in raw)
            continue
        if typed in _NO_VALUE:  # a store_const option: --draft, --edit, --no-audio
            fields[field.name] = raw
            typed_as[field.name] = typed
            continue
        value = _convert(field.name, typed, raw, problems)
        if value is not None:
            fields[field.name] = value
            typed_as[field.name] = f"{typed} {raw}"
    if typed_as:
        fields["typed_as"] = typed_as
    return ns, fields, problems


def _duplicates(tokens: list[str]) -> list[str]:
    """A field set twice on the line (aliases and shortcuts count): one problem each."""
    seen: dict[str, str] = {}
    out = []
    for i, tok in enumerate(tokens):
        option, eq, value = tok.partition("=")
        name = _OPTION_FIELD.get(option)
        if name is None or name in ("ref_videos", "ref_audios"):  # repeatable
            continue
        if not eq and option not in _NO_VALUE and i + 1 < len(tokens):
            value = tokens[i + 1]
        label = f"{option} {value}" if value else option
        if name in seen:
            out.append(f"{label}: duplicate of {seen[name]}; give each setting once")
        else:
            seen[name] = label
    return out


def _typed(tokens: list[str], spellings: tuple[str, ...]) -> str:
    """The spelling of an option as the user typed it (for messages)."""
    for tok in reversed(tokens):
        name = tok.split("=", 1)[0]
        if name in spellings:
            return name
    return spellings[0]


_SWEEP_NAMES = _fields.sweep_names()


def parse_sweep(specs: list[str], fields: dict[str, Any], ns: argparse.Namespace,
                problems: list[str]) -> list[tuple[str, list[Any]]]:
    """[(field, values)] from repeated --sweep FIELD=V1,V2 options."""
    axes: list[tuple[str, list[Any]]] = []
    for spec in specs:
        name, sep, rest = spec.partition("=")
        name = name.strip()
        field = _SWEEP_NAMES.get(name, _SWEEP_NAMES.get(name.replace("-", "_")))
        if not sep or not rest.strip():
            problems.append(f"--sweep {spec}: write FIELD=V1,V2,... e.g. --sweep seed=1,2,3")
            continue
        if field is None:
            known = sorted({v for v in _SWEEP_NAMES.values()})
            problems.append(f"--sweep {spec}: cannot sweep {name!r}; fields: " + ", ".join(known))
            continue
        if field in fields or (field == "model" and ns.model):
            problems.append(f"--sweep {name}: duplicate of the line option; give each setting once")
            continue
        if any(f == field for f, _ in axes):
            problems.append(f"--sweep {name}: swept twice; give each field once")
            continue
        values = [v.strip() for v in rest.split(",")]
        if any(not v for v in values):
            problems.append(f"--sweep {spec}: empty value")
            continue
        converted = [_convert(field, f"--sweep {name}", v, problems) for v in values]
        if any(v is None for v in converted):
            continue
        if len(set(map(str, converted))) != len(converted):
            problems.append(f"--sweep {spec}: a value is repeated")
            continue
        axes.append((field, converted))
        if field != "model":
            fields.setdefault("typed_as", {})[field] = f"--sweep {name}={{}}"
    total = 1
    for _, values in axes:
        total *= len(values)
    if total > MAX_SWEEP:
        problems.append(f"--sweep: {total} combinations is over the limit of {MAX_SWEEP}")
    return axes


def interpolate(text: str, namespace: dict[str, Any]) -> tuple[str, list[str]]:
    """Fill `{name}` from the notebook namespace; `{{`/`}}` are literal braces."""
    problems: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        return text, [f"prompt: {exc}; write {{{{ and }}}} for literal braces"]
    for _, field, _, _ in parsed:
        if field is None:
            continue
        root = re.match(r"[A-Za-z_][A-Za-z0-9_]*", field)
        if not root:
            problems.append(f"prompt: {{{field}}} is not a variable name; write {{{{ and }}}} "
                            f"for literal braces")
        elif root.group(0) not in namespace:
            problems.append(f"prompt: {{{field}}}: name {root.group(0)!r} is not defined in "
                            f"the notebook; write {{{{ and }}}} for literal braces")
    if problems:
        return text, problems
    try:
        return text.format_map(namespace), []
    except Exception as exc:  # attribute/index errors in {a.b} or {a[0]}
        return text, [f"prompt: cannot fill in a {{...}} field: {exc}"]


def _merge_problems(combos: list[dict], per_combo: list[list[str]]) -> list[str]:
    """A problem every combination shares is listed once; others name their combination."""
    shared = set.intersection(*(set(p) for p in per_combo)) if per_combo else set()
    out = list(dict.fromkeys(p for ps in per_combo for p in ps if p in shared))
    for combo, ps in zip(combos, per_combo):
        label = ", ".join(f"{k}={v}" for k, v in combo.items())
        out += [f"[{label}] {p}" for p in ps if p not in shared]
    return out


def _images(ns: argparse.Namespace) -> list[tuple[str, str]]:
    out = []
    if ns.first_frame:
        out.append((ns.first_frame, "first_frame"))
    if ns.last_frame:
        out.append((ns.last_frame, "last_frame"))
    out.extend((r, "reference_image") for r in ns.ref)
    return out


def _problems_of(exc: BaseException) -> list[str]:
    problems = getattr(exc, "problems", None)
    if problems:
        return list(problems)
    return [str(exc)]


# ---------------------------------------------------------------------------------
# waiting policy


def live_frontend(shell: Any) -> bool:
    """True when a frontend can receive display updates after the cell returns.

    That is an ipykernel kernel started by a Jupyter server (JupyterLab, Notebook 7:
    the server sets JPY_SESSION_NAME) or by VS Code (which sets __vsc_ipynb_file__).
    nbclient, papermill, nbconvert, plain IPython and Colab are not live in this sense:
    they keep only what the cell shows before it returns.
    """
    if "google.colab" in sys.modules:
        return False
    if type(shell).__name__ != "ZMQInteractiveShell":
        return False
    if os.environ.get("JPY_SESSION_NAME"):
        return True
    return "__vsc_ipynb_file__" in getattr(shell, "user_ns", {})


def should_wait(option: Optional[bool], policy: str, shell: Any) -> bool:
    """--wait/--no-wait, then SEEDANCE_NB_WAIT=1/0, then policy, then `live_frontend`."""
    if option is not None:
        return option
    env = os.environ.get("SEEDANCE_NB_WAIT", "").strip().lower()
    if env in ("1", "true", "yes"):
        return True
    if env in ("0", "false", "no"):
        return False
    if policy == "always":
        return True
    if policy == "never":
        return False
    return not live_frontend(shell)


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
            self._wait(jobs, handle, render, labels if axes else None)
        else:
            self._follow(jobs, handle, render)
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

    def _follow(self, jobs: list[Any], handle: Any, render: Callable[[], dict]) -> None:
        """Live frontend: the worker thread updates the display handle, nothing else."""
        lock = threading.Lock()

        def update(_change: Any = None) -> None:
            with lock:  # several jobs may finish in the same poll cycle
                try:
                    handle.update(render(), raw=True)
                except Exception:  # a display glitch must never kill the worker
                    pass

        for job in jobs:
            job.observe(update, names=["status", "progress", "video_path", "error", "tokens",
                                       "task_id"])
        update()  # a job may have finished (or been reused) before the observer was set

    def _wait(self, jobs: list[Any], handle: Any, render: Callable[[], dict],
              labels: Optional[list[str]] = None) -> None:
        """No live frontend: block here, printing progress from the main thread."""
        timeout = float(getattr(_defaults(), "wait_timeout", 3600.0) or 3600.0)
        start = time.monotonic()
        last: dict[int, tuple] = {}
        try:
            while True:
                for i, job in enumerate(jobs):
                    state = (job.status, job.progress)
                    if last.get(i) != state and job.status != "pending":  # pending: not sent yet
                        last[i] = state
                        print(_progress_line(job, labels[i] if labels else None), flush=True)
                if all(self._finished(j) for j in jobs):
                    break
                if time.monotonic() - start > timeout:
                    print(f"[seedance] stopped waiting after {timeout:.0f} s; the tasks go on: "
                          f"%seedance resume picks them up", flush=True)
                    break
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("[seedance] stopped waiting; the tasks go on: %seedance jobs / resume",
                  flush=True)
            self._follow(jobs, handle, render)  # a live frontend still gets the result
            return
        handle.update(render(), raw=True)
        for job in jobs:
            if job.status != "succeeded" and job.error:
                print(f"[seedance] {job.name or job.task_id or 'job'}: {job.status}: {job.error}",
                      flush=True)

    @staticmethod
    def _finished(job: Any) -> bool:
        done = getattr(job, "done", None)
        if isinstance(done, bool):
            return done
        if job.status not in TERMINAL:
            return False
        # a success counts once its file is on disk (downloaded in the same cycle)
        return job.status != "succeeded" or bool(job.video_path) or bool(job.error)

    # -- %seedance --------------------------------------------------------------------

    def _line(self, line: str) -> Any:
        words = line.split()
        cmd = words[0] if words else ""
        args = words[1:]
        if cmd in ("", "help"):
            print(self.seedance.__doc__)
            return None
        if cmd == "version":
            from . import __version__

            print(f"seedance-nb {__version__}")
            return None
        if cmd == "panel":
            from .ui import Panel

            return Panel()
        if cmd == "jobs":
            from .jobs import manager

            jobs = list(manager().jobs)
            if not jobs:
                print("no jobs in this kernel")
                return None
            display(_display.gallery_bundle(jobs, fields=()), raw=True)
            return None
        if cmd == "history":
            from .ledger import history

            return history()
        if cmd == "resume":
            from .jobs import resume

            # The configured key goes in explicitly: resume only sends it to the base
            # URL configured for its provider (rows naming another host are reported).
            jobs = resume(api_key=configured_api_key())
            if not jobs:
                if not getattr(jobs, "report", None):  # the report was shown by resume()
                    print("nothing to resume")
                return None
            render = lambda: _display.gallery_bundle(jobs, fields=())
            handle = display(render(), raw=True, display_id=True)
            if should_wait(None, self.wait, self.shell):
                self._wait(jobs, handle, render)
            else:
                self._follow(jobs, handle, render)
            return None
        if cmd in ("adopt", "dismiss"):
            # Settle a create whose answer was lost (listed by %seedance resume).
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
        if cmd == "cancel":
            return self._cancel(args)
        if cmd == "final":
            return self._final(args)
        if cmd == "emulator":
            return self._emulator(args)
        if cmd == "models":  # %seedance models [--provider P] [--check]
            from .models import magic
            from .errors import SeedanceError

            try:
                return magic(args, provider=self.provider or None,
                             api_key=str.__str__(self.api_key) if self.api_key else None)
            except SeedanceError as exc:
                raise UsageError(str(exc)) from None
        raise UsageError(f"%seedance {cmd}: unknown command; use panel, jobs, history, resume, "
                         f"adopt ROW TASK_ID, dismiss ROW, cancel ID, final ID, models, "
                         f"emulator start|stop|status or version")

    def _final(self, args: list[str]) -> None:
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
                kw = self._client_kw({"provider": self.provider or None})
                if self.api_key:
                    kw["api_key"] = str.__str__(self.api_key)
                job = _jobs.submit(draft_task_id=target, **kw)
        except SeedanceError as exc:
            raise UsageError("\n".join(_problems_of(exc))) from None
        self.shell.user_ns["_seedance_job"] = job
        render: Callable[[], dict] = lambda: _display.job_bundle(job)
        handle = display(render(), raw=True, display_id=True)
        if should_wait(None, self.wait, self.shell):
            self._wait([job], handle, render)
        else:
            self._follow([job], handle, render)
        return None

    def _cancel(self, args: list[str]) -> None:
        if len(args) != 1:
            raise UsageError("%seedance cancel ID: give one task id, job name or ledger id")
        from .jobs import manager
        from .errors import SeedanceError

        target = args[0]
        for job in list(manager().jobs):
            if target in (job.task_id, job.name, str(job.ledger_id)):
                try:
                    job.cancel()
                except (SeedanceError, ValueError) as exc:
                    raise UsageError(str(exc)) from None
                print(f"cancel requested for {job.task_id or target}")
                return None
        raise UsageError(f"%seedance cancel {target}: no job of this kernel has that task id, "
                         f"name or ledger id; see %seedance jobs")

    def _emulator(self, args: list[str]) -> None:
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


def _progress_line(job: Any, label: Optional[str] = None) -> str:
    who = label or job.name or "video"
    text = f"[seedance] {who}: {job.status}"
    if job.progress is not None and job.status not in TERMINAL:
        text += f" {job.progress}%"
    if job.task_id:
        text += f" (task {job.task_id})"
    if job.status == "succeeded" and job.video_path:
        text += f" -> {job.video_path}"
    return text


Seedance.seedance.__doc__ = (_PARSER.format_help().replace("usage: ", "Usage: ", 1)
                             + "\n" + _LINE_COMMANDS)

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
