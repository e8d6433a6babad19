"""Admission control: creates go out only as the account's budget frees (§10.8, §8).

Every gateway account has limits: queued tasks (BytePlus: 120 per account; used for
every gateway), creates per minute (RPM) and running tasks (concurrency) per model
family. A create beyond them is answered 429, so the client keeps the count itself:
a submitted job is recorded `waiting` in the ledger and is sent only when
`Ledger.admit` finds room, in one BEGIN IMMEDIATE transaction that counts every live
row of the same gateway and account, whichever process (kernel) wrote it. The ledger
file is the coordination point; the account is a hash of the key, never the key.

Budgets, per (gateway base URL, account, family):

- `queued`: rows queued at the gateway or sent and not answered yet, for the whole
  account (all families), must stay below it.
- `concurrency`: the gateway runs this many of a family and queues the rest, so at
  most `concurrency + queued` of a family are in flight (queued, running or sent).
- `rpm`: admissions of a family in the last 60 s.

A 429 on a create is the exception, and it teaches: `QuotaExceeded` (Ark; Comet's
`rate_limit_exceeded` and AceData's `too_many_requests` without Retry-After) lowers
the queued cap to what was in flight; an RPM code (`ModelAccountRpmRateLimitExceeded`
and the other `*Rpm*`/`*RPM*` codes; the Comet/Ace words with a Retry-After) lowers
the RPM to the admissions of the window, and the window to what the Retry-After
implies. The job goes back to `waiting` (nothing was created) and its lane holds that
budget until the Retry-After. A learned limit lasts `LEARNED_FOR_S`, then the
configured one applies again; it is also written to the ledger (table `learned`), so
every process sharing the file admits under it at once, not after a 429 of its own.
A 429 naming none of these keeps the §8 rule (three retries, then `rejected`).

Waiting never blocks: a held job is rescheduled at a lane time (after the lane's next
poll round, or the Retry-After), other gateways and families go on. A kernel restart
loses nothing: `seedance_nb.resume()` takes over the `waiting` rows of processes that
died and sends them (never sent before, so never billed twice).

Public entry points
-------------------
Setting limits (any subset of the keys; each an int >= 1):

- per submit: `submit(..., limits={"queued": 120, "rpm": 600, "concurrency": 10})`
  (also `generate`, and `%%seedance` through the session setting);
- per session: `%config Seedance.limits = {...}` or `config.settings.limits = {...}`
  (a checked Dict trait; `session_limits()` reads it);
- per manager: `manager().admission.limits = {...}` (below the session setting).

Per job the order is: built-in (catalog.QUEUED_CAP, catalog.rate_limits) < manager
< session < submit's `limits=`; learned limits only ever lower the result.

Reading what happened: `manager().admission` (an `Admission`) counts
`creates_sent` (creates put on the wire), `rate_limited` (429s received on
creates), `held` (times a job was held back by a full budget) and `learned` (the
limits learned from 429s, by budget). `Admission.stats()` returns them as a dict.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .. import catalog
from ..errors import SeedanceConfigError, SeedanceError

LIMIT_KEYS = ("queued", "rpm", "concurrency")
LEARNED_FOR_S = 600.0  # a limit learned from a 429 lasts this long

__all__ = ["Admission", "Limits", "LIMIT_KEYS", "account_of", "check_limits",
           "session_limits", "rebuild_request"]


@dataclass(frozen=True)
class Limits:
    queued: int
    rpm: int
    concurrency: int
    window_s: float = catalog.RPM_WINDOW_S


def account_of(api_key: Optional[str]) -> str:
    """The account a key belongs to, as stored in the ledger: a hash, never the key."""
    return hashlib.sha256((api_key or "").encode("utf-8")).hexdigest()[:16]


def check_limits(value: Any, label: str = "limits") -> dict[str, int]:
    """A checked copy of a limits mapping; a bad one is a one-line SeedanceConfigError."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SeedanceConfigError(f"{label} must be a dict like {{'queued': 120, 'rpm': 600, "
                                  f"'concurrency': 10}}, not {type(value).__name__}")
    out: dict[str, int] = {}
    for key, number in value.items():
        if key not in LIMIT_KEYS:
            raise SeedanceConfigError(f"{label}: unknown key {key!r}; use "
                                      f"{', '.join(LIMIT_KEYS)}")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise SeedanceConfigError(f"{label}: {key} must be a whole number >= 1, "
                                      f"not {number!r}")
        out[key] = number
    return out


def session_limits() -> dict[str, int]:
    """The session's `limits` setting (config.settings.limits), when there is one."""
    from ..config import settings

    return check_limits(settings.limits or None, "settings.limits")


def classify(exc: Any) -> Optional[str]:
    """Which budget a create's 429 names: "queued", "rpm" or None (none known)."""
    code = str(getattr(exc, "code", "") or "")
    if code == "QuotaExceeded":
        return "queued"
    if "rpm" in code.lower():
        return "rpm"
    if code in ("rate_limit_exceeded", "too_many_requests"):  # Comet, AceData: one word
        return "rpm" if getattr(exc, "retry_after", None) else "queued"
    return None


def budget_of(job: Any) -> tuple[str, str, str]:
    """(base URL, account, family) of a job: the budget its create counts against."""
    from ..ledger_values import clean_url

    family = getattr(job.request, "family", None) or ""
    return (clean_url(job.settings.base_url) or "", account_of(job.settings.api_key), family)


class Admission:
    """The limits of one JobManager, the 429s it learned from, and its counters."""

    def __init__(self, limits: Optional[Mapping[str, int]] = None) -> None:
        self.limits: dict[str, int] = check_limits(limits)
        self.creates_sent = 0
        self.rate_limited = 0
        self.held = 0
        #: budget -> {"queued"|"rpm"|"window_s": (value, until)}
        self._learned: dict[tuple, dict[str, tuple[float, float]]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"Admission(creates_sent={self.creates_sent}, rate_limited={self.rate_limited}, "
                f"held={self.held}, learned={self.learned})")

    # --- limits ------------------------------------------------------------------------
    def limits_for(self, job: Any) -> Limits:
        base, account, family = budget_of(job)
        rpm, concurrency = catalog.rate_limits(family)
        merged: dict[str, float] = {"queued": catalog.QUEUED_CAP, "rpm": rpm,
                                    "concurrency": concurrency}
        merged.update(self.limits)
        merged.update(session_limits())
        merged.update(getattr(job, "_limits", None) or {})
        merged["window_s"] = catalog.RPM_WINDOW_S
        now = time.time()
        with self._lock:
            for key in ((base, account), (base, account, family)):
                for name, (value, until) in list(self._learned.get(key, {}).items()):
                    if until > now:
                        merged[name] = min(merged[name], value)
        return Limits(int(merged["queued"]), int(merged["rpm"]), int(merged["concurrency"]),
                      float(merged["window_s"]))

    @property
    def learned(self) -> dict[tuple, dict[str, float]]:
        now = time.time()
        with self._lock:
            return {key: {n: v for n, (v, until) in names.items() if until > now}
                    for key, names in self._learned.items()
                    if any(until > now for _, until in names.values())}

    def stats(self) -> dict[str, Any]:
        return {"creates_sent": self.creates_sent, "rate_limited": self.rate_limited,
                "held": self.held, "learned": self.learned}

    # --- the lane's calls ----------------------------------------------------------------
    def admit(self, job: Any) -> tuple[str, float]:
        """Claim a send slot for the job's ledger row (see `Ledger.admit`)."""
        lim = self.limits_for(job)
        word, wait = job.ledger.admit(job.ledger_id, queued=lim.queued, rpm=lim.rpm,
                                      concurrency=lim.concurrency, window_s=lim.window_s)
        if word not in ("admitted", "gone"):
            with self._lock:
                self.held += 1
        return word, wait

    def sent(self) -> None:
        with self._lock:
            self.creates_sent += 1

    def refused(self, job: Any, exc: Any) -> Optional[str]:
        """A create answered 429: count it; when it names a budget, learn that budget
        down and put the row back to `waiting`. Returns the budget word, or None when
        the 429 names no budget (the §8 retries apply)."""
        with self._lock:
            self.rate_limited += 1
        kind = classify(exc)
        if kind is None:
            return None
        job.ledger.requeue(job.ledger_id, getattr(exc, "code", "") or "RateLimited",
                           f"held back: {exc}")
        base, account, family = budget_of(job)
        now = time.time()
        until = now + LEARNED_FOR_S
        led = job.ledger
        if kind == "queued":
            seen = max(1, led.queued_count(base, account))
            self._lower(led, (base, account), "queued", seen, until)
        else:
            lim = self.limits_for(job)
            recent = led.recent_admissions(base, account, family, now - lim.window_s)
            self._lower(led, (base, account, family), "rpm", max(1, len(recent)), until)
            after = getattr(exc, "retry_after", None)
            if after and recent:
                window = min(catalog.RPM_WINDOW_S, now - recent[0] + float(after))
                self._lower(led, (base, account, family), "window_s", window, until,
                            keep_min=False)
        return kind

    def _lower(self, ledger: Any, key: tuple, name: str, value: float, until: float,
               keep_min: bool = True) -> None:
        """Learn a limit here and in the ledger, where every process sharing it sees it."""
        with self._lock:
            names = self._learned.setdefault(key, {})
            old = names.get(name)
            if keep_min and old is not None and old[1] > time.time():
                value = min(value, old[0])
            names[name] = (value, until)
        family = key[2] if len(key) == 3 else None
        ledger.learn(key[0], key[1], family, name, value, until, keep_min=keep_min)


def rebuild_request(row: dict, settings: Any) -> Any:
    """The VideoRequest a `waiting` ledger row recorded, built again from what the
    ledger keeps (images are read again from their source). Raises SeedanceError when
    it cannot be made exactly as recorded (an image changed or is gone, a data URL
    whose bytes were not kept): its fingerprint must match, so what is sent is what
    was submitted."""
    from ..request import build_request

    stored = dict(row.get("request") or {})
    images = [(i.get("source"), i.get("role")) for i in stored.pop("images", [])]
    for name in ("provider", "emulate", "prompt", "model"):
        stored.pop(name, None)
    for name in ("ref_videos", "ref_audios"):
        if name in stored:
            stored[name] = tuple(stored[name])
    if any(str(src or "").startswith("data:") for src, _ in images):
        raise SeedanceError("an image was given as data, which the ledger does not keep")
    request = build_request((row.get("request") or {}).get("prompt", ""),
                            provider=settings.provider, model=row.get("model"), images=images,
                            emulate=settings.emulate,
                            endpoints=dict(settings.endpoints) or None, **stored)
    if request.fingerprint() != row.get("fingerprint"):
        raise SeedanceError("the request built again differs from the one recorded (an "
                            "image file changed or moved)")
    return request
