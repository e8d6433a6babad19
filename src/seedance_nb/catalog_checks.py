"""Checks on the keys of one family table in a catalog file, and the fields derived
from them (ratio rules, comet's terms).

`FamilyChecks` is mixed into catalog_file's loader: each check records a problem (via
`self.problem`, naming the file and the key) and returns None instead of raising, so
all of a file's problems are reported at once.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping, Optional

from . import catalog
from .families import FamilySpec

PRICE_KEYS = ("currency", "per_million", "per_million_video_input")
#: whose list price a file's price is, by currency (the estimate's sources, §9)
PRICE_SOURCE_BY_CURRENCY = {"CNY": "ark", "USD": "byteplus"}
#: comet's /v1/videos route tops out at 1080p (§2.3)
COMET_RESOLUTIONS = ("480p", "720p", "1080p")


class FamilyChecks:
    """Key checks for a loader that has `problem(where, text)`, `problems`, `builtin`
    (the built-in specs), `tables` (the file's family tables) and `file_ids` (the valid
    ids each family of the file gives)."""

    problems: list[str]
    builtin: dict[str, FamilySpec]
    tables: dict[str, Mapping[str, Any]]
    file_ids: dict[str, dict[str, str]]

    def problem(self, where: str, text: str) -> None:
        raise NotImplementedError

    def ids(self, key: str, where: str, value: Any) -> Optional[dict[str, str]]:
        if not isinstance(value, Mapping) or not value:
            self.problem(f"{where}.ids", "expected a table provider -> wire id, e.g. "
                                         '{ ark = "doubao-seedance-…" }')
            return None
        out: dict[str, str] = {}
        for provider, wire in value.items():
            at = f"{where}.ids.{provider}"
            if provider not in catalog.DIALECTS:
                self.problem(at, f"unknown provider; use {', '.join(catalog.DIALECTS)}")
            elif not isinstance(wire, str) or not wire.strip() or any(c.isspace() for c in wire):
                self.problem(at, "expected a wire id (a string without spaces)")
            elif wire.startswith("ep-"):
                self.problem(at, f"{wire} is an endpoint id; map it with endpoints="
                                 f"{{'{wire}': '<family>'}} in the client configuration")
            else:
                out[provider] = wire
        self.file_ids[key] = out
        return out if len(out) == len(value) else None

    def words(self, where: str, value: Any, vocabulary: tuple[str, ...],
              what: str) -> Optional[tuple[str, ...]]:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.problem(where, f"expected a non-empty list of {what}, e.g. "
                                f"[{', '.join(repr(v) for v in vocabulary[:2])}]")
            return None
        bad = [v for v in value if v not in vocabulary]
        if bad:
            self.problem(where, f"unknown {what} {', '.join(map(repr, bad))}; "
                                f"known: {', '.join(vocabulary)}")
            return None
        if len(set(value)) != len(value):
            self.problem(where, "a value is repeated")
            return None
        return tuple(v for v in vocabulary if v in value)  # the catalog's own order

    def lifecycle(self, where: str, table: Mapping[str, Any], ch: dict[str, Any],
                  base: Optional[FamilySpec]) -> None:
        if not any(k in table for k in ("status", "retired_on", "replacement")):
            return
        old = base.status if base is not None else catalog.Lifecycle()
        status = table.get("status", old.status)
        if status not in ("live", "retired"):
            self.problem(f"{where}.status", 'expected "live" or "retired"')
            return
        if status == "live":
            for name in ("retired_on", "replacement"):
                if name in table:
                    self.problem(f"{where}.{name}", 'only with status = "retired"')
            ch["status"] = catalog.Lifecycle()
            ch["provider_status"] = {}  # the file's word holds on every provider
            return
        retired_on = table.get("retired_on", old.retired_on if old.status == "retired" else None)
        if isinstance(retired_on, _dt.datetime):
            retired_on = retired_on.date()
        if isinstance(retired_on, _dt.date):
            retired_on = retired_on.isoformat()
        elif retired_on is not None:
            try:
                retired_on = _dt.date.fromisoformat(str(retired_on)).isoformat()
            except ValueError:
                self.problem(f"{where}.retired_on", "expected a date, e.g. 2026-11-11")
                return
        replacement = table.get("replacement",
                                old.replacement if old.status == "retired" else None)
        if replacement is not None:
            if not isinstance(replacement, str) or (replacement not in self.builtin
                                                    and replacement not in self.tables):
                self.problem(f"{where}.replacement", f"unknown family {replacement!r}")
                return
        ch["status"] = catalog.Lifecycle("retired", retired_on, replacement)
        ch["provider_status"] = {}

    def price(self, where: str, value: Any) -> Optional[dict[str, catalog.Price]]:
        if not isinstance(value, Mapping):
            self.problem(where, "expected a table { currency, per_million, "
                                "per_million_video_input }")
            return None
        before = len(self.problems)
        for name in value:
            if name not in PRICE_KEYS:
                self.problem(f"{where}.{name}", f"unknown key; allowed: {', '.join(PRICE_KEYS)}")
        currency = value.get("currency")
        source = PRICE_SOURCE_BY_CURRENCY.get(currency) if isinstance(currency, str) else None
        if source is None:
            self.problem(f"{where}.currency", 'expected "CNY" (ark list price) or "USD" '
                                              "(byteplus list price)")
        rates = []
        for name in ("per_million", "per_million_video_input"):
            rate = value.get(name)
            if rate is None and name == "per_million_video_input":
                rates.append(None)
            elif isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate >= 0 \
                    and rate == rate and rate != float("inf"):
                rates.append(float(rate))
            else:
                self.problem(f"{where}.{name}", "expected a number >= 0 (price per million "
                                                "tokens)")
        if len(self.problems) > before or source is None:
            return None
        return {source: catalog.Price(currency, rates[0], rates[1])}

    def check_defaults(self, where: str, table: Mapping[str, Any], merged: dict[str, Any],
                       base: Optional[FamilySpec]) -> None:
        def said(name: str) -> str:
            return "" if name in table else f" (inherited from {base.key})" if base else ""

        res = merged["default_resolution"]
        if res not in merged["resolutions"]:
            self.problem(f"{where}.default_resolution",
                         f"{res}{said('default_resolution')} is not among the resolutions "
                         f"{', '.join(merged['resolutions'])}; set default_resolution")
        lo, hi = merged["durations"]
        dur = merged["default_duration"]
        if dur == -1:
            if not merged["duration_auto"]:
                self.problem(f"{where}.default_duration",
                             f"-1{said('default_duration')} needs auto = true")
        elif not lo <= dur <= hi:
            self.problem(f"{where}.default_duration",
                         f"{dur}{said('default_duration')} is outside durations [{lo}, {hi}]; "
                         f"set default_duration")

    def check_modes(self, where: str, merged: dict[str, Any]) -> None:
        """Modes that need inputs or features the family (or its `like`) does not have."""
        needs = {"ref": ("reference inputs", merged["ref_total"] > 0, "2.0"),
                 "edit": ("reference videos", merged["ref_videos"] > 0, "2.5"),
                 "extend": ("reference videos", merged["ref_videos"] > 0, "2.5"),
                 "final": ("drafts", merged["draft"], "2.5")}
        for mode in merged["modes"]:
            what, ok, model = needs.get(mode, ("", True, ""))
            if not ok:
                self.problem(f"{where}.modes", f"{mode!r} needs a family with {what}; start "
                                               f"from one with like = \"{model}\"")

    # -- derived fields -----------------------------------------------------------

    @staticmethod
    def fit_ratios(merged: dict[str, Any], ratios: tuple[str, ...],
                   base: Optional[FamilySpec]) -> None:
        """Narrow the ratio rules to the modes and ratios this family now has."""
        modes = merged["modes"]
        with_adaptive = "adaptive" in ratios
        if base is None or (with_adaptive and not base.adaptive_modes):
            adaptive = tuple(m for m in modes if m != "final") if with_adaptive else ()
        else:
            adaptive = tuple(m for m in merged["adaptive_modes"] if m in modes and with_adaptive)
        merged["ratios"] = ratios
        merged["adaptive_modes"] = adaptive
        merged["adaptive_only_modes"] = tuple(m for m in merged["adaptive_only_modes"]
                                              if m in adaptive)
        fixed = [r for r in ratios if r != "adaptive"]
        defaults = {}
        for mode in modes:
            if mode == "final":
                continue
            want = dict(merged["default_ratio"]).get(mode, "16:9")
            if want == "adaptive" and mode in adaptive:
                defaults[mode] = want
            elif want in fixed:
                defaults[mode] = want
            else:
                defaults[mode] = "adaptive" if mode in merged["adaptive_only_modes"] else fixed[0]
        merged["default_ratio"] = defaults

    @staticmethod
    def fit_comet(merged: dict[str, Any], table: Mapping[str, Any],
                  base: Optional[FamilySpec]) -> None:
        """Comet's /v1/videos terms follow the file's durations, resolutions and modes."""
        if "comet" not in merged["ids"]:
            return
        changed = any(k in table for k in ("durations", "resolutions", "modes"))
        if base is not None and base.comet is not None and not changed:
            merged["comet"] = base.comet
            return
        res = tuple(r for r in merged["resolutions"] if r in COMET_RESOLUTIONS) or ("720p",)
        image = any(m in merged["modes"] for m in ("first", "ref"))
        merged["comet"] = catalog.CometSpec(seconds=tuple(merged["durations"]),
                                            resolutions=res, image=image)
