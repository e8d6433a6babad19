"""The `%%seedance` magic line: its options, `--sweep`, `{name}` filling and the help text.

`parse_line` turns the line into request fields (every problem at once), `parse_sweep`
the `--sweep FIELD=V1,V2` axes, `interpolate` fills `{name}` from the notebook. The
options come from `fields.FIELDS`, the one table of settings. Nothing here sends.
"""
from __future__ import annotations

import argparse
import re
import shlex
import string
from typing import Any

from . import catalog
from . import fields as _fields  # the one table of settings: options, help, sweep names

MAX_SWEEP = 64  # videos per sweep; a typo like seed=1,...,1000 must not bill 1000 videos
# (a bigger sweep on purpose: --max N, which shows the whole grid's estimate first)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _LineError(message)


class _LineError(Exception):
    pass


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
    a("--max", dest="max", metavar="N", default=None,
      help=f"allow a sweep of up to N videos (default {MAX_SWEEP}); the estimate of the "
           f"whole grid is shown first")
    return p


_PARSER = _build_parser()

_LINE_COMMANDS = """\
Line magic:
  %seedance panel            the control panel (form + this folder's recent jobs as cards)
  %seedance jobs [--all]     jobs of this kernel (many: one row per cell; --all every job)
  %seedance history [--all] [--full]   this session's tasks; --all the whole ledger; --full every column
  %seedance resume           pick up unfinished tasks from the ledger
  %seedance cancel ID        cancel a queued task (task id, name or ledger id)
  %seedance delete ID        delete a finished task at the gateway (ark, byteplus)
  %seedance final ID         render a 2.5 draft's final video at 1080p (job or task id)
  %seedance adopt ROW TASK   settle a lost create: that row is this task (see resume)
  %seedance dismiss ROW      settle a lost create: no task was made; stop reporting it
  %seedance models [--provider P] [--check]   the model catalog; --check asks the account
  %seedance emulator start|stop|status
  %seedance version
Configuration: %config Seedance  (provider, model, emulate, output_dir, poll_interval,
  embed, wait, api_key); {name} in the prompt is filled from the notebook, {{ }} escapes."""

HELP = _PARSER.format_help().replace("usage: ", "Usage: ", 1) + "\n" + _LINE_COMMANDS


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
    limit = sweep_limit(ns, problems)
    if limit is None and total > MAX_SWEEP:
        problems.append(f"--sweep: {total} combinations is over the limit of {MAX_SWEEP}; "
                        f"to send them all on purpose, add --max {total}")
    elif limit is not None and total > limit:
        problems.append(f"--sweep: {total} combinations is over --max {limit}; raise it to "
                        f"--max {total} to send them all")
    return axes


def sweep_limit(ns: argparse.Namespace, problems: list[str]) -> Any:
    """--max N as an int (None when not given); a bad value adds a problem."""
    raw = getattr(ns, "max", None)
    if raw is None:
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        problems.append(f"--max {raw}: give a whole number of videos >= 1, e.g. --max 500")
        return MAX_SWEEP
    return value


def grid_estimate(requests: list[Any]) -> str:
    """One line for a sweep sent with --max: how many videos, tokens and cost in all."""
    tokens = [0, 0]
    costs: dict[str, list[float]] = {}
    unpriced = 0
    for req in requests:
        est = req.estimate()
        tokens[0] += est.tokens_min
        tokens[1] += est.tokens_max
        if est.cost_min is None or est.cost_max is None:
            unpriced += 1
            continue
        cost = costs.setdefault(est.currency or "", [0.0, 0.0])
        cost[0] += est.cost_min
        cost[1] += est.cost_max
    parts = [f"seedance: sweep of {len(requests)} videos", _span(*tokens, "{:,} tokens")]
    parts += [_span(lo, hi, "{:,.2f} " + currency if currency else "{:,.2f}")
              for currency, (lo, hi) in sorted(costs.items())]
    if unpriced:
        parts.append(f"{unpriced} without a known price")
    return ", ".join(parts) + " (estimate)"


def _span(low: float, high: float, fmt: str) -> str:
    if round(low, 2) == round(high, 2):
        return "about " + fmt.format(high) if isinstance(high, float) else fmt.format(high)
    return fmt.format(low).split(" ")[0] + "–" + fmt.format(high)


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
