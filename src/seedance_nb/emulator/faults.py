"""Start-up fault injection (5xx, resets, slow/truncated downloads, malformed JSON).

Each fault kind draws from its own seeded generator, so a run with the same
`--fault-seed` and the same request order injects the same faults.
"""
from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

KINDS = ("5xx", "reset", "truncate", "malformed")


@dataclass
class FaultConfig:
    rate_5xx: float = 0.0
    rate_reset: float = 0.0
    rate_truncate: float = 0.0
    rate_malformed: float = 0.0
    slow_download: float = 0.0  # bytes per second; 0 = full speed
    seed: int = 0
    routes: str = "reads"  # "reads" or "all"

    def __post_init__(self) -> None:
        for kind in KINDS:
            rate = getattr(self, "rate_" + kind)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate for {kind} must be within [0, 1], got {rate}")
        if self.routes not in ("reads", "all"):
            raise ValueError(f"--fault-routes must be 'reads' or 'all', got {self.routes!r}")
        if self.slow_download < 0:
            raise ValueError("--fault-slow-download must be >= 0 bytes per second")


@dataclass
class Faults:
    config: FaultConfig
    _rngs: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def applies(self, kind: str) -> bool:
        """Whether a route of this kind ("read", "file", "write") is subject to faults."""
        return kind in ("read", "file") or self.config.routes == "all"

    def draw(self, fault: str, route_kind: str) -> bool:
        rate = getattr(self.config, "rate_" + fault)
        if rate <= 0 or not self.applies(route_kind):
            return False
        if fault in ("truncate",) and route_kind != "file":
            return False
        if fault == "malformed" and route_kind != "read":
            return False
        with self._lock:
            rng = self._rngs.get(fault)
            if rng is None:
                rng = self._rngs[fault] = random.Random(f"{self.config.seed}:{fault}")
            return rng.random() < rate
