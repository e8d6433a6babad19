"""The model catalog as a table, and what an account can use (reference §2.6).

`models_table()` lists every family (built-in and from the catalog file) with its
ids per provider, status, modes, resolutions, durations and list price, as aligned
text (`str(table)`, the CLI) and HTML (`table._repr_html_()`, the notebook). With
`check=True` it asks the gateway's `GET {base}/models` (ark, byteplus and the
emulator emulating them) which ids the account sees.
"""
from __future__ import annotations

import argparse
import html
import time
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from . import __version__, catalog, catalog_file
from .errors import SeedanceAPIError, SeedanceConfigError, SeedanceError, redact

#: dialects whose gateway lists the models an account can see (§2.6)
LISTING_DIALECTS = ("ark", "byteplus")
ID_WORD = "seedance"  # account ids with this word are video models worth naming


@dataclass(frozen=True)
class AccountCheck:
    """What `GET {base}/models` said for one provider."""

    provider: str
    dialect: str
    listed: Optional[frozenset[str]] = None  # None: no list (no route, or the call failed)
    unknown: tuple[str, ...] = ()  # Seedance ids the account sees that the catalog lacks
    note: str = ""  # one line: the outcome, or why there is no list
    ok: bool = True  # False when the call failed

    def has(self, family: str, wire: str) -> Optional[bool]:
        if self.listed is None:
            return None
        aliases = {a for a, d in catalog.SPECS[family].aliases.items() if d == self.dialect}
        return wire in self.listed or bool(aliases & self.listed)


@dataclass(frozen=True)
class ModelRow:
    family: str
    ids: dict[str, str]  # provider -> wire id
    status: str
    live: bool
    modes: tuple[str, ...]
    resolutions: tuple[str, ...]
    durations: str
    price: str
    from_file: bool = False
    listed: dict[str, Optional[bool]] = field(default_factory=dict)  # provider -> in account


@dataclass
class ModelTable:
    """The catalog as a table; prints as aligned text, shows as HTML in a notebook."""

    rows: list[ModelRow]
    provider: Optional[str] = None  # the table shows this provider's ids and limits only
    check: Optional[AccountCheck] = None
    catalog_path: Optional[str] = None

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text())

    # -- text -------------------------------------------------------------------

    def _head(self) -> list[str]:
        cols = ["family"]
        if self.provider:
            cols.append(f"{self.provider} id")
            if self.check is not None and self.check.listed is not None:
                cols.append("account")
        return cols + ["status", "modes", "resolutions", "durations", "price per M tokens"]

    def _cells(self, row: ModelRow) -> list[str]:
        cells = [row.family + (" *" if row.from_file else "")]
        if self.provider:
            cells.append(next(iter(row.ids.values()), "—"))
            if self.check is not None and self.check.listed is not None:
                cells.append(_listed_word(row.listed.get(self.provider)))
        return cells + [row.status, " ".join(row.modes), " ".join(row.resolutions),
                        row.durations, row.price]

    def text(self) -> str:
        head = self._head()
        body = [self._cells(r) for r in self.rows]
        widths = [max(len(c) for c in col) for col in zip(head, *body)]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

        out = [line(head), line(["-" * w for w in widths])]
        id_width = max((len(p) for r in self.rows for p in r.ids), default=0)
        for row, cells in zip(self.rows, body):
            out.append(line(cells))
            if not self.provider:
                for prov, wire in row.ids.items():
                    mark = row.listed.get(prov)
                    extra = f"  {_listed_word(mark)}" if prov in row.listed else ""
                    out.append(f"    {prov.ljust(id_width)}  {wire}{extra}".rstrip())
        return "\n".join(out + self._footer())

    def _footer(self) -> list[str]:
        out = ["price: list price per million tokens, without / with video input"]
        if any(r.from_file for r in self.rows):
            out.append(f"* from the catalog file {self.catalog_path}")
        if self.check is not None:
            out.append(self.check.note)
            if self.check.unknown:
                out.append("in the account but not in the catalog: " + ", ".join(self.check.unknown)
                           + " (add them with a catalog file, SEEDANCE_CATALOG)")
        return out

    # -- html -------------------------------------------------------------------

    def _repr_html_(self) -> str:
        head = self._head()
        if not self.provider:
            head.insert(1, "ids")
        rows = []
        for row in self.rows:
            cells = [html.escape(c) for c in self._cells(row)]
            if not self.provider:
                ids = "<br>".join(
                    f"<code>{html.escape(p)}</code> {html.escape(w)}"
                    + (f" {html.escape(_listed_word(row.listed.get(p)))}" if p in row.listed else "")
                    for p, w in row.ids.items())
                cells.insert(1, ids)
            style = "" if row.live else ' style="color:#888"'
            rows.append(f"<tr{style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        foot = "".join(f'<div style="font-size:85%">{html.escape(t)}</div>'
                       for t in self._footer())
        return ('<div class="seedance-models"><table style="font-size:90%;text-align:left">'
                "<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>" + foot + "</div>")


def _listed_word(mark: Optional[bool]) -> str:
    return {True: "in account", False: "NOT in account", None: "?"}[mark]


# --- rows ------------------------------------------------------------------------


def _dialect_for(provider: str) -> str:
    if provider not in catalog.PROVIDERS:
        raise SeedanceConfigError(f"unknown provider {provider!r}; choose one of "
                                  f"{', '.join(catalog.PROVIDERS)}")
    if provider == "emulator":
        from .config import default_emulate, settings

        return catalog.dialect_of(provider, settings.emulate or default_emulate())
    return provider


def _status_text(life: catalog.Lifecycle) -> str:
    if life.live:
        return "live"
    text = "retired" + (f" {life.retired_on}" if life.retired_on else "")
    return text + (f", use {life.replacement}" if life.replacement else "")


def _num(value: float) -> str:
    return f"{value:g}"


def _price_text(price: catalog.Price, resolutions: Sequence[str]) -> str:
    def pair(plain: float, video: Optional[float]) -> str:
        return _num(plain) + (f"/{_num(video)}" if video is not None else "")

    text = f"{pair(price.per_million, price.per_million_video_input)} {price.currency}"
    extra = [f"{res} {pair(*rates)}" for res, rates in price.by_resolution.items()
             if res in resolutions]
    return text + (f" ({', '.join(extra)})" if extra else "")


def _price_for(spec: catalog.FamilySpec, dialect: Optional[str],
               resolutions: Sequence[str]) -> str:
    if dialect is None:
        return "; ".join(f"{src} {_price_text(p, resolutions)}"
                         for src, p in spec.prices.items()) or "—"
    source = catalog.PRICE_SOURCE.get(dialect, dialect)
    price = spec.prices.get(source)
    if price is None:
        return "—"
    return _price_text(price, resolutions) + (f" ({source} list price)" if source != dialect else "")


def catalog_rows(provider: Optional[str] = None) -> list[ModelRow]:
    """One row per family; with `provider`, only its families, ids and limits."""
    catalog_file.ensure_loaded()
    dialect = _dialect_for(provider) if provider else None
    builtin = {s.key: s for s in catalog.builtin_specs()}
    rows = []
    for key in catalog.FAMILIES:
        spec = catalog.SPECS[key]
        from_file = builtin.get(key) is not spec
        if dialect is None:
            ids = {d: spec.ids[d] for d in catalog.DIALECTS if d in spec.ids}
            life = spec.status
            status = _status_text(life)
            status += "".join(f"; {d}: {_status_text(lf)}"
                              for d, lf in spec.provider_status.items() if d in ids)
            modes, res = spec.modes, spec.resolutions
            lo, hi = spec.durations
            durations = f"{lo}-{hi}" + (" or -1" if spec.duration_auto else "")
        else:
            if dialect not in spec.ids:
                continue
            ids = {provider: spec.ids[dialect]}
            life = catalog.lifecycle(key, dialect)
            status = _status_text(life)
            caps = catalog.capabilities(key, dialect)
            if caps is not None:
                modes, res, durations = caps.modes, caps.resolutions, caps.duration_text()
            else:
                modes, res, durations = spec.modes, spec.resolutions, "—"
        rows.append(ModelRow(family=key, ids=ids, status=status, live=life.live, modes=modes,
                             resolutions=res, durations=durations,
                             price=_price_for(spec, dialect, res), from_file=from_file))
    return rows


# --- the account's list (§2.6) -------------------------------------------------------


def check_account(provider: Optional[str] = None, *, api_key: Optional[str] = None,
                  base_url: Optional[str] = None) -> AccountCheck:
    """Ask `GET {base}/models` which model ids the account can see.

    On gateways without a list (comet, comet-volc, acedata, and the emulator emulating
    them) the result has `listed=None` and a note saying so; nothing is sent. A failed
    call raises SeedanceAPIError (or SeedanceConfigError for a missing key).
    """
    from .config import resolve_client

    if provider in catalog.DIALECTS and provider not in LISTING_DIALECTS:
        return AccountCheck(provider, provider, note=_no_list(provider))
    settings = resolve_client(provider, api_key=api_key, base_url=base_url)
    name = settings.provider
    where = f"{name} (emulating {settings.dialect})" if settings.is_emulator else name
    if settings.dialect not in LISTING_DIALECTS:
        return AccountCheck(name, settings.dialect, note=_no_list(where))
    from .config import settings as _configured

    # the check sends: a local emulator starts only now
    settings = settings.started(_configured.emulator_speed)
    listed = _fetch_ids(settings)
    known = {w for ids in catalog.WIRE_IDS.values() for w in ids.values()}
    known |= {a for spec in catalog.SPECS.values() for a in spec.aliases}
    unknown = tuple(sorted(i for i in listed if ID_WORD in i.casefold() and i not in known))
    return AccountCheck(name, settings.dialect, frozenset(listed), unknown,
                        note=f"checked {where} at {settings.base_url}/models: "
                             f"{len(listed)} model ids listed")


def _no_list(where: str) -> str:
    return (f"{where}: the gateway has no model list; --check works on ark, byteplus and the "
            f"emulator emulating them")


def _fetch_ids(settings: Any) -> list[str]:
    """GET {base}/models with the bearer key, bounded in time and size (§8 Bounds)."""
    import requests

    from . import safejson
    from .providers import get_dialect

    url = settings.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {settings.api_key}", "Accept": "application/json",
               "User-Agent": f"seedance-nb/{__version__}"}
    deadline = time.monotonic() + catalog.REPLY_DEADLINE_S
    try:
        # no redirects: the key goes only to the configured base URL
        with requests.get(url, headers=headers, stream=True, allow_redirects=False,
                          timeout=(catalog.CONNECT_TIMEOUT_S, catalog.READ_TIMEOUT_S)) as resp:
            body = bytearray()
            for chunk in resp.iter_content(64 * 1024):
                body += chunk
                if len(body) > catalog.MAX_REPLY_BYTES:
                    raise SeedanceAPIError(f"{settings.provider}: the model list is over "
                                           f"{catalog.MAX_REPLY_BYTES // 2**20} MiB",
                                           provider=settings.provider, code="ReplyTooLarge")
                if time.monotonic() > deadline:
                    raise SeedanceAPIError(f"{settings.provider}: the model list took over "
                                           f"{catalog.REPLY_DEADLINE_S:.0f} s",
                                           provider=settings.provider, code="Timeout")
            status, reply_headers = resp.status_code, dict(resp.headers)
    except requests.RequestException as exc:
        raise SeedanceAPIError(redact(f"{settings.provider}: cannot list models: "
                                      f"{type(exc).__name__}: {exc}")[:300],
                               provider=settings.provider, code="ConnectionError") from None
    if 300 <= status < 400:
        raise SeedanceAPIError(f"{settings.provider}: GET {url} answered a redirect (HTTP "
                               f"{status}); the key is sent only to the configured base URL",
                               provider=settings.provider, http_status=status)
    if status >= 400:
        err = get_dialect(settings.provider, settings.emulate).parse_error(
            status, reply_headers, bytes(body))
        raise err if isinstance(err, SeedanceAPIError) else SeedanceAPIError(
            str(err), provider=settings.provider, http_status=status)
    obj = safejson.loads(bytes(body), provider=settings.provider, http_status=status)
    items = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(items, list):
        raise SeedanceAPIError(f"{settings.provider}: the model list has no \"data\" list: "
                               f"{safejson.snippet(bytes(body))}", provider=settings.provider,
                               http_status=status, code="BadReply")
    return [item["id"] for item in items
            if isinstance(item, dict) and isinstance(item.get("id"), str)]


def models_table(provider: Optional[str] = None, *, check: bool = False,
                 api_key: Optional[str] = None, base_url: Optional[str] = None) -> ModelTable:
    """The catalog table; `check` adds what the account sees (default provider if none).

    A failed check does not raise: the table says why in its last lines (`check.ok`).
    """
    rows = catalog_rows(provider)
    result: Optional[AccountCheck] = None
    if check:
        try:
            result = check_account(provider, api_key=api_key, base_url=base_url)
        except SeedanceConfigError:
            raise
        except SeedanceError as exc:
            from .config import default_provider, settings

            name = provider or settings.provider or default_provider()
            why = " ".join(str(exc).split())[:400]  # one line
            result = AccountCheck(name, "", note=f"check failed: {why}", ok=False)
        if result.listed is not None:
            rows = [_with_listed(r, result, provider) for r in rows]
    return ModelTable(rows, provider=provider, check=result,
                      catalog_path=catalog_file.active_path())


def _with_listed(row: ModelRow, check: AccountCheck, provider: Optional[str]) -> ModelRow:
    if provider:  # the row shows only this provider's id
        wire = row.ids.get(provider)
        marks = {provider: check.has(row.family, wire)} if wire else {}
    else:
        spec = catalog.SPECS[row.family]
        wire = spec.ids.get(check.dialect)
        key = check.provider if check.provider in row.ids else check.dialect
        marks = {key: check.has(row.family, wire)} if wire and key in row.ids else {}
    return ModelRow(**{**row.__dict__, "listed": marks})


# --- command line ---------------------------------------------------------------------


def _add_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--provider", choices=catalog.PROVIDERS,
                   help="only this provider's families, ids and limits")
    p.add_argument("--check", action="store_true",
                   help="ask the gateway which ids the account sees (ark, byteplus, emulator)")
    return p


class _MagicParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SeedanceConfigError(f"%seedance models: {message}")

    def exit(self, status: int = 0, message: Optional[str] = None) -> None:  # type: ignore[override]
        raise SeedanceConfigError(message or self.format_usage().strip())


def magic(args: Sequence[str], *, provider: Optional[str] = None,
          api_key: Optional[str] = None) -> ModelTable:
    """`%seedance models [--provider P] [--check]`; bad words raise SeedanceConfigError."""
    ns = _add_options(_MagicParser(prog="%seedance models", add_help=False)).parse_args(list(args))
    return models_table(ns.provider or provider, check=ns.check, api_key=api_key)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`seedance-nb models [--provider P] [--check]`."""
    ns = _add_options(argparse.ArgumentParser(
        prog="seedance-nb models", description="The model catalog: families, ids per provider, "
        "status, modes, resolutions, durations and list prices.")).parse_args(argv)
    try:
        table = models_table(ns.provider, check=ns.check)
    except SeedanceError as exc:
        print(f"seedance-nb models: {exc}")
        return 2
    print(table.text())
    return 0 if table.check is None or table.check.ok else 1
