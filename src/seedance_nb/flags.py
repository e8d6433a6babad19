"""Inline `--name value` flags in a prompt (reference §4).

`parse_flags(text)` finds the flags, checks their value syntax and builds the
prompt without them. Checks that need the model, provider or mode (§4.2, last
column) happen in `request.py`, which uses `FlagValue.label` to name the flag as
typed in its messages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

from . import fields as _fields

_TOKEN = re.compile(r"\S+")  # same split as str.split(): \s is str.isspace() for str patterns
_NAME = re.compile(r"--[a-z]+")
_EQUALS = re.compile(r"(--[a-z]+)=(\S*)")

# Derived from fields.FIELDS: (request field, spellings without "--", short first, kind).
FLAG_TABLE: tuple[tuple[str, tuple[str, ...], str], ...] = tuple(
    (f.name, f.flags, f.kind) for f in _fields.FIELDS if f.flags)
#: spelling (without "--") -> request field
FLAG_NAMES: dict[str, str] = {name: f for f, names, _ in FLAG_TABLE for name in names}
#: request field -> short flag, e.g. "duration" -> "--dur"
SHORT_FLAG: dict[str, str] = {f: "--" + names[0] for f, names, _ in FLAG_TABLE}
_SPELLINGS = _fields.FLAG_SPELLINGS
#: line options that are not inline flags -> their Python spelling, for the hint of §4.3
_LINE_ONLY = {opt: py for opt, py in _fields.line_option_names().items()
              if opt[2:] not in FLAG_NAMES}
_NO_VALUE = _fields.no_value_options()


@dataclass(frozen=True)
class FlagValue:
    """One recognised flag with a syntactically valid value."""

    field: str  # request field name, e.g. "resolution"
    flag: str  # as typed, e.g. "--rs"
    raw: str  # value as typed, e.g. "720P"
    value: Any  # parsed, e.g. "720p"

    @property
    def label(self) -> str:
        return f"{self.flag} {self.raw}"


@dataclass(frozen=True)
class ParsedFlags:
    prompt: str  # flags removed, `\--` unescaped, trimmed
    flags: dict[str, FlagValue] = field(default_factory=dict)  # by request field name
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def values(self) -> dict[str, Any]:
        return {name: fv.value for name, fv in self.flags.items()}


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggest(name: str, candidates: tuple[str, ...], limit: int = 2) -> Optional[str]:
    """The candidate closest to `name` (distance <= limit); ties go to the earlier one."""
    best, best_d = None, limit + 1
    for cand in candidates:
        if abs(len(cand) - len(name)) >= best_d:
            continue
        d = levenshtein(name, cand)
        if d < best_d:
            best, best_d = cand, d
    return best


def all_flags_text() -> str:
    return ", ".join("/".join("--" + n for n in names) for _, names, _ in FLAG_TABLE)


def is_flag_token(token: str) -> bool:
    """True for tokens rule 2 or rule 3 treats as a flag (not prose)."""
    return token.startswith("--") and (_NAME.fullmatch(token) is not None
                                       or _EQUALS.fullmatch(token) is not None)


def parse_value(field_name: str, raw: str) -> tuple[Any, Optional[str]]:
    """(value, None) or (None, reason) for the value syntax of one flag."""
    return _fields.BY_NAME[field_name].parse(raw)


def parse_flags(text: str) -> ParsedFlags:
    """Split `text` into a prompt and its inline flags (§4.1-§4.3)."""
    if "--" not in text:  # fast path: no flag, no escape possible
        return ParsedFlags(prompt=text.strip())
    tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(text)]
    cuts: list[tuple[int, int]] = []  # spans of text to drop
    problems: list[str] = []
    flags: dict[str, FlagValue] = {}
    seen: dict[str, str] = {}  # field -> first label, for duplicates (aliases included)
    escaped: list[str] = []
    misplaced: list[str] = []
    n = len(tokens)
    i = 0
    while i < n:
        start, end, tok = tokens[i]
        if not tok.startswith(("--", "\\--")):
            i += 1
            continue
        if tok.startswith("\\"):
            cuts.append((start, start + 1))
            escaped.append(tok[1:])
            i += 1
            continue
        eq = _EQUALS.fullmatch(tok)
        if eq:
            shown = eq.group(2) or "<value>"
            problems.append(f"{tok}: write the value after a space: {eq.group(1)} {shown}")
            cuts.append(_span(tokens, i, i, len(text)))
            i += 1
            continue
        if not _NAME.fullmatch(tok):
            if tok in _LINE_ONLY:  # e.g. --last-frame: prose by rule 2, but surely misplaced
                misplaced.append(tok)
            i += 1
            continue
        has_value = (i + 1 < n and not is_flag_token(tokens[i + 1][2])
                     and tok not in _NO_VALUE)
        last = i + 1 if has_value else i
        cuts.append(_span(tokens, i, last, len(text)))
        raw = tokens[i + 1][2] if has_value else None
        _one_flag(tok, raw, flags, seen, problems)
        i = last + 1
    prompt = _cut(text, cuts).strip()
    warnings: list[str] = []
    risky = [t for t in escaped if _NAME.fullmatch(t) and t[2:] in FLAG_NAMES]
    if risky:
        warnings.append(f"the prompt still contains {', '.join(dict.fromkeys(risky))} (escaped "
                        f"with \\--); the gateway may read it as a text command")
    # Hyphenated tokens are prose (§4.1 rule 2), but a line option typed in the body is
    # almost surely misplaced: say so, and send the text as written.
    for tok in misplaced:
        warnings.append(f"the prompt contains {tok}, which stays in the prompt text: "
                        f"{line_option_hint(tok)}")
    return ParsedFlags(prompt, flags, tuple(problems), tuple(dict.fromkeys(warnings)))


def line_option_hint(option: str) -> str:
    """ "--model is a line option: put it on the %%seedance line (in Python: model=)"."""
    py = _LINE_ONLY.get(option) or _fields.line_option_names().get(option, "")
    where = f" (in Python: {py})" if py else ""
    return f"{option} is a line option: put it on the %%seedance line{where}"


def _one_flag(tok: str, raw: Optional[str], flags: dict[str, FlagValue],
              seen: dict[str, str], problems: list[str]) -> None:
    label = tok if raw is None else f"{tok} {raw}"
    field_name = FLAG_NAMES.get(tok[2:])
    if field_name is None and tok in _LINE_ONLY:
        problems.append(f"{label}: {line_option_hint(tok)}")
        return
    if field_name is None:
        guess = suggest(tok[2:], _SPELLINGS)
        if guess:
            problems.append(f"{tok}: unknown flag; did you mean --{guess}?")
        else:
            problems.append(f"{tok}: unknown flag; known flags: {all_flags_text()}")
        return
    if field_name in seen:
        problems.append(f"{label}: duplicate of {seen[field_name]}; give each setting once")
        return
    seen[field_name] = label
    if raw is None:
        problems.append(f"{tok}: missing value; {_fields.BY_NAME[field_name].expected}")
        return
    value, reason = parse_value(field_name, raw)
    if reason:
        problems.append(f"{label}: {reason}")
        return
    flags[field_name] = FlagValue(field_name, tok, raw, value)


def _span(tokens: list[tuple[int, int, str]], first: int, last: int,
          length: int) -> tuple[int, int]:
    """Text to drop for tokens first..last: with the whitespace before, or after at the start."""
    if first > 0:
        return tokens[first - 1][1], tokens[last][1]
    after = tokens[last + 1][0] if last + 1 < len(tokens) else length
    return tokens[first][0], after


def _cut(text: str, cuts: list[tuple[int, int]]) -> str:
    if not cuts:
        return text
    pieces = []
    pos = 0
    for s, e in sorted(cuts):
        if s > pos:
            pieces.append(text[pos:s])
        pos = max(pos, e)
    pieces.append(text[pos:])
    return "".join(pieces)
