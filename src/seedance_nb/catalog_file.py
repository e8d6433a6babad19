"""A user's catalog file: model families added or changed without a release (reference §2.5).

```toml
[family."2.6"]
like = "2.5"
ids = { ark = "doubao-seedance-2-6-270101", byteplus = "dreamina-seedance-2-6-270101" }
durations = [4, 30]
```

`load_catalog_file` reads and validates a file into `FamilySpec`s (every problem at
once, each naming the file and the key); `use_catalog_file` installs the built-ins
plus a file's families as the catalog. Loading another file starts from the
built-ins again.

The per-key checks and derived fields are in `catalog_checks.py`; here: finding,
reading and installing the file, and resolving each family (`like` chains, new
families, the whole catalog's wire ids).
"""
from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any, Mapping, Optional

from . import catalog
from .catalog_checks import (COMET_RESOLUTIONS, PRICE_KEYS,  # noqa: F401 (named here too)
                             PRICE_SOURCE_BY_CURRENCY, FamilyChecks)
from .errors import SeedanceConfigError
from .families import FamilySpec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CATALOG_ENV = "SEEDANCE_CATALOG"

KEYS = ("like", "ids", "status", "retired_on", "replacement", "resolutions", "ratios", "modes",
        "durations", "auto", "default_resolution", "default_duration", "price")
#: keys a family new to the catalog must give when it has no `like`
REQUIRED_NEW = ("ids", "modes", "resolutions", "durations", "default_resolution")


@dataclasses.dataclass(frozen=True)
class FileFamilySpec(FamilySpec):
    """A family from a catalog file: a `FamilySpec` that may also narrow the ratios."""

    ratios: tuple[str, ...] = catalog.RATIOS


# path of the file installed now (None: built-ins only); whether SEEDANCE_CATALOG was applied
_state: dict[str, Any] = {"path": None, "applied": False}


def catalog_path(configured: Optional[str] = None) -> Optional[str]:
    """The catalog file to use: SEEDANCE_CATALOG wins over `%config Seedance.catalog`."""
    env = os.environ.get(CATALOG_ENV, "").strip()
    return env or (configured.strip() if configured and configured.strip() else None)


def use_catalog_file(path: str | os.PathLike | None = None) -> list[FamilySpec]:
    """Install the built-in families plus those of `path` (None: SEEDANCE_CATALOG).

    With no file at all the catalog is the built-ins. Returns the file's specs. A bad
    file raises SeedanceConfigError and leaves the current catalog as it was.
    """
    if path is None:
        path = catalog_path()
    specs = load_catalog_file(path) if path is not None else []
    merged = {s.key: s for s in catalog.builtin_specs()}
    merged.update((s.key, s) for s in specs)
    catalog.install_specs(merged.values())
    _state["path"] = str(path) if path is not None else None
    _state["applied"] = True
    return specs


def ensure_loaded() -> None:
    """Apply SEEDANCE_CATALOG once per process unless a catalog was installed already."""
    if not _state["applied"] and os.environ.get(CATALOG_ENV, "").strip():
        use_catalog_file()
    _state["applied"] = True


def active_path() -> Optional[str]:
    """The catalog file in use, or None for the built-ins only."""
    return _state["path"]


def load_catalog_file(path: str | os.PathLike) -> list[FamilySpec]:
    """Read and validate a catalog file; every problem is reported at once.

    Raises SeedanceConfigError with one line per problem, e.g.
    `catalog.toml: family."2.6".durations: expected [min, max] integers`.
    """
    label = str(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise SeedanceConfigError(f"{label}: catalog file not found") from None
    except OSError as exc:
        raise SeedanceConfigError(f"{label}: cannot read the catalog file: "
                                  f"{exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SeedanceConfigError(f"{label}: not valid TOML: {exc}") from None
    return _Loader(label, data).run()


class _Loader(FamilyChecks):
    def __init__(self, label: str, data: Mapping[str, Any]) -> None:
        self.label = label
        self.data = data
        self.problems: list[str] = []
        self.builtin = {s.key: s for s in catalog.builtin_specs()}
        self.tables: dict[str, Mapping[str, Any]] = {}
        self.file_ids: dict[str, dict[str, str]] = {}  # the valid ids each family gives
        self.done: dict[str, Optional[FamilySpec]] = {}

    def problem(self, where: str, text: str) -> None:
        self.problems.append(f"{self.label}: {where}: {text}")

    def run(self) -> list[FamilySpec]:
        for top in self.data:
            if top != "family":
                self.problem(top, 'unknown table; families go in [family."KEY"] tables')
        families = self.data.get("family", {})
        if not isinstance(families, Mapping):
            self.problem("family", 'expected [family."KEY"] tables')
            families = {}
        for key, table in families.items():
            where = _where(key)
            if not isinstance(table, Mapping):
                self.problem(where, 'expected a table: [family."KEY"] followed by key = value lines')
                continue
            if not key.strip() or key != key.strip() or any(c.isspace() for c in key):
                self.problem(where, "a family key must be a non-empty word without spaces")
                continue
            if key.startswith("ep-"):
                self.problem(where, "a family key cannot start with ep- (that is an endpoint id)")
                continue
            self.tables[key] = table
        for key in self.tables:
            self.resolve(key, ())
        specs = [s for k in self.tables if (s := self.done.get(k)) is not None]
        self.check_catalog()
        if self.problems:
            raise SeedanceConfigError("\n".join(self.problems))
        return specs

    # -- one family ---------------------------------------------------------------

    def spec_of(self, key: str, chain: tuple[str, ...]) -> Optional[FamilySpec]:
        """The family `key` as this file leaves it (file first, then the built-ins)."""
        if key in self.tables and key not in chain:
            return self.resolve(key, chain)
        return self.builtin.get(key)

    def resolve(self, key: str, chain: tuple[str, ...]) -> Optional[FamilySpec]:
        if key in self.done:
            return self.done[key]
        chain = chain + (key,)
        table = self.tables[key]
        where = _where(key)
        self.done[key] = None  # a failed family stays None; problems are recorded
        for name in table:
            if name not in KEYS:
                self.problem(f"{where}.{name}", f"unknown key; allowed: {', '.join(KEYS)}")
        like = table.get("like")
        base: Optional[FamilySpec] = None
        new = key not in self.builtin
        if like is not None:
            if not isinstance(like, str):
                self.problem(f"{where}.like", "expected a family key (a string)")
                return None
            if like == key and new:
                self.problem(f"{where}.like", "names the family itself; like takes another family")
                return None
            if like in chain and like != key:
                self.problem(f"{where}.like", "cycle: " + " -> ".join(chain + (like,)))
                return None
            # `like` naming the family itself means its built-in version
            base = self.builtin.get(like) if like == key else self.spec_of(like, chain)
            if base is None:
                if like in self.tables:
                    return None  # that family has its own problems, reported there
                known = ", ".join(list(self.builtin) + [k for k in self.tables if k != key])
                self.problem(f"{where}.like", f"unknown family {like!r}; known: {known}")
                return None
        elif not new:
            base = self.builtin[key]
        if base is None:
            missing = [k for k in REQUIRED_NEW if k not in table]
            if missing:
                self.problem(where, f"a new family needs like = \"<family>\" or all of "
                                    f"{', '.join(REQUIRED_NEW)} (missing: {', '.join(missing)})")
                return None
        elif new and "ids" not in table:
            self.problem(f"{where}.ids", f"required: a new family needs its own wire ids "
                                         f"(like = {like!r} copies capabilities, not ids)")
            return None
        spec = self.build(key, where, table, base, new)
        self.done[key] = spec
        return spec

    def build(self, key: str, where: str, table: Mapping[str, Any], base: Optional[FamilySpec],
              new: bool) -> Optional[FamilySpec]:
        before = len(self.problems)
        ch: dict[str, Any] = {"key": key}
        inherited = _fields_of(base)
        if base is not None and base.key != key:
            # aliases and per-provider retirements belong to the other family's wire ids
            ch.update(aliases={}, provider_status={})
            if not new:  # an existing family keeps its own ids unless the file gives others
                own = self.builtin[key]
                ch.update(ids=dict(own.ids), aliases=dict(own.aliases))

        if "ids" in table:
            ids = self.ids(key, where, table["ids"])
            if ids is not None:
                ch["ids"] = ids
        if "modes" in table:
            modes = self.words(f"{where}.modes", table["modes"], catalog.MODES, "modes")
            if modes is not None:
                ch["modes"] = modes
        if "resolutions" in table:
            res = self.words(f"{where}.resolutions", table["resolutions"], catalog.RESOLUTIONS,
                             "resolutions")
            if res is not None:
                ch["resolutions"] = res
                ch["resolutions_by_dialect"] = {}
                old_ref = base.ref_resolutions if base is not None else None
                ch["ref_resolutions"] = (tuple(r for r in res if r in old_ref) or None
                                         if old_ref else None)
        ratios: Optional[tuple[str, ...]] = None
        if "ratios" in table:
            ratios = self.words(f"{where}.ratios", table["ratios"], catalog.RATIOS, "ratios")
            if ratios is not None and not [r for r in ratios if r != "adaptive"]:
                self.problem(f"{where}.ratios", "needs at least one fixed ratio besides adaptive")
                ratios = None
        if "durations" in table:
            d = table["durations"]
            if (isinstance(d, list) and len(d) == 2 and all(_is_int(v) for v in d)
                    and 1 <= d[0] <= d[1]):
                ch["durations"] = (d[0], d[1])
            else:
                self.problem(f"{where}.durations", "expected [min, max] integers with "
                                                   "1 <= min <= max")
        if "auto" in table:
            if isinstance(table["auto"], bool):
                ch["duration_auto"] = table["auto"]
            else:
                self.problem(f"{where}.auto", "expected true or false")
        elif base is None:
            ch["duration_auto"] = False
        if "default_resolution" in table:
            value = table["default_resolution"]
            if isinstance(value, str) and value in catalog.RESOLUTIONS:
                ch["default_resolution"] = value
            else:
                self.problem(f"{where}.default_resolution",
                             f"expected one of {', '.join(catalog.RESOLUTIONS)}")
        if "default_duration" in table:
            value = table["default_duration"]
            if _is_int(value):
                ch["default_duration"] = value
            else:
                self.problem(f"{where}.default_duration", "expected an integer (-1: the model "
                                                          "picks, with auto = true)")
        self.lifecycle(where, table, ch, base)
        if "price" in table:
            prices = self.price(f"{where}.price", table["price"])
            if prices is not None:
                ch["prices"] = prices
        if len(self.problems) > before:
            return None

        merged = {**inherited, **ch}
        if base is None and "default_duration" not in table:
            merged["default_duration"] = _first_default(merged["durations"])
        self.check_defaults(where, table, merged, base)
        self.check_modes(where, merged)
        if len(self.problems) > before:
            return None
        self.fit_ratios(merged, ratios if ratios is not None
                        else getattr(base, "ratios", catalog.RATIOS), base)
        self.fit_comet(merged, table, base)
        fields = {f.name for f in dataclasses.fields(FileFamilySpec)}
        return FileFamilySpec(**{k: v for k, v in merged.items() if k in fields})

    # -- the whole catalog ----------------------------------------------------------

    def check_catalog(self) -> None:
        """Wire ids are unique per provider, and no family key is another's wire id."""
        ids = {k: dict(s.ids) for k, s in self.builtin.items() if k not in self.file_ids}
        ids.update(self.file_ids)
        owner: dict[tuple[str, str], str] = {}
        for key, by_dialect in ids.items():  # built-ins first: the file's family is blamed
            for dialect, wire in by_dialect.items():
                other = owner.setdefault((dialect, wire), key)
                if other != key:
                    self.problem(f"{_where(key)}.ids.{dialect}",
                                 f"{wire} is already the {dialect} id of family {other}")
        for spec in self.builtin.values():
            for alias, dialect in spec.aliases.items():
                owner.setdefault((dialect, alias), spec.key)
        families = set(self.builtin) | set(self.tables)
        for key in self.tables:
            for dialect, wire in self.file_ids.get(key, {}).items():
                if wire in families and wire != key:
                    self.problem(f"{_where(key)}.ids.{dialect}",
                                 f"{wire} is the key of family {wire}; give the wire id")
            taken = sorted({f"{d} wire id of family {f}" for (d, w), f in owner.items()
                            if w == key and f != key})
            if taken:
                self.problem(_where(key), f"the key is the {taken[0]}; choose another key")


def _where(key: str) -> str:
    return f'family."{key}"'


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _first_default(durations: tuple[int, int]) -> int:
    lo, hi = durations
    return catalog.DEFAULT_DURATION if lo <= catalog.DEFAULT_DURATION <= hi else lo


def _fields_of(base: Optional[FamilySpec]) -> dict[str, Any]:
    """The fields of `base` (shallow), or FamilySpec's own defaults for a new family."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(FileFamilySpec):
        if base is not None and hasattr(base, f.name):
            out[f.name] = getattr(base, f.name)
        elif f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out
