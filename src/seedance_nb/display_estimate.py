"""Estimate lines: what a cell's videos will cost, in one line, and the settings shown
with it (the model's defaults filled in)."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from . import catalog

_SYMBOL = {"USD": "$", "CNY": "¥", "EUR": "€"}


def _money(amount: float, currency: str) -> str:
    sym = _SYMBOL.get(currency)
    return f"{sym}{amount:.2f}" if sym else f"{amount:.2f} {currency}".strip()


def _short_tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f}M"
    if n >= 10_000:
        return f"{n / 1e3:.0f}k"
    return f"{n:,}"


def estimate_of(request: Any) -> Any:
    """The request's `Estimate`, or None (no estimate, or it failed)."""
    est = getattr(request, "estimate", None)
    if not callable(est):
        return None
    try:
        return est()
    except Exception:  # an estimate is a nicety; never let it break the display
        return None


def settings_of(request: Any) -> dict[str, str]:
    """family, resolution, ratio and length as shown (the model's defaults filled in)."""
    caps = None
    try:
        caps = catalog.capabilities(request.family, request.dialect)
    except Exception:
        pass
    out = {"family": getattr(request, "family", None) or getattr(request, "model", "")}
    res = getattr(request, "resolution", None) or getattr(caps, "default_resolution", None)
    if getattr(request, "draft", False):
        res = f"{catalog.DRAFT_RESOLUTION} draft"
    elif getattr(request, "mode", None) == "final":
        res = f"{catalog.FINAL_RESOLUTION} final"
    ratio = getattr(request, "ratio", None)
    if ratio is None and caps is not None:
        try:
            ratio = caps.default_ratio(getattr(request, "mode", None))
        except Exception:
            ratio = None
    frames = getattr(request, "frames", None)
    seconds = getattr(request, "duration", None)
    if seconds is None and frames is None:
        seconds = getattr(caps, "default_duration", None)
    if frames is not None:
        length = f"{frames} frames"
    elif seconds == -1:
        length = "auto length"
    else:
        length = f"{seconds} s" if seconds is not None else ""
    out.update(resolution=res or "", ratio=ratio or "", length=length)
    return out


def short_name(field: str) -> str:
    """A field's shortest flag ("rs" for resolution), as tile and row titles use it."""
    from .fields import BY_NAME

    spec = BY_NAME.get(field)
    return spec.flags[0] if spec is not None and spec.flags else field


def tokens_text(est: Any) -> str:
    """"108,900" or "96,000-120,000" for one estimate; "" without one."""
    if est is None or not hasattr(est, "tokens_min"):
        return ""
    if est.tokens_min == est.tokens_max:
        return f"{est.tokens_min:,}"
    return f"{est.tokens_min:,}-{est.tokens_max:,}"


def estimate_line(requests: Iterable[Any]) -> str:
    """ONE line for a cell: "4 videos · 2.0-fast 720p 5 s · ~436k tokens · ~$2.44".

    Settings every request shares are named (the swept ones are in the tile titles);
    tokens and cost are totals; the emulator is "free on the emulator".
    """
    reqs = [r for r in requests if r is not None]
    if not reqs:
        return ""
    bits = [f"{len(reqs)} video" + ("" if len(reqs) == 1 else "s")]
    shown = [settings_of(r) for r in reqs]
    common = [shown[0][k] for k in ("family", "resolution", "ratio", "length")
              if shown[0][k] and all(s[k] == shown[0][k] for s in shown)]
    if common:
        bits.append(" ".join(common))
    ests = [estimate_of(r) for r in reqs]
    if all(e is not None and hasattr(e, "tokens_min") for e in ests):
        lo = sum(e.tokens_min for e in ests)
        hi = sum(e.tokens_max for e in ests)
        tokens = (f"~{_short_tokens(lo)}" if lo == hi
                  else f"~{_short_tokens(lo)}-{_short_tokens(hi)}") + " tokens"
        if any(e.input_unknown for e in ests):
            tokens += " + the input video's length"
        bits.append(tokens)
        currencies = {e.currency for e in ests}
        if all(getattr(r, "provider", "") == "emulator" for r in reqs):
            bits.append("free on the emulator")
        elif all(e.cost_min is not None for e in ests) and len(currencies) == 1:
            cur = currencies.pop()
            c_lo, c_hi = sum(e.cost_min for e in ests), sum(e.cost_max for e in ests)
            money = "~" + _money(c_lo, cur) + ("" if c_hi == c_lo else "-" + _money(c_hi, cur))
            refs = {e.reference for e in ests if e.reference}
            if len(refs) == 1:
                money += f" ({refs.pop()})"
            bits.append(money)
        else:
            bits.append("no known price: tokens only")
    return " · ".join(bits)


def estimate_text(request: Any) -> str:
    """A short token/cost estimate for a VideoRequest, or "" if it has none."""
    return format_estimate(estimate_of(request))


def format_estimate(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text
    if isinstance(value, Mapping):
        tokens = value.get("tokens") or value.get("tokens_max")
        cost = value.get("cost")
        out = f"~{tokens} tokens" if tokens is not None else ""
        if cost is not None:
            out += f", ~{cost:.2f} {value.get('currency', 'CNY')}"
        return out
    return str(value)
