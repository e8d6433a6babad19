"""The control panel (ipywidgets). Importing this package does not import ipywidgets."""
from __future__ import annotations

from typing import Any

__all__ = ["Panel", "JobCard"]


def __getattr__(name: str) -> Any:
    if name == "Panel":
        from .panel import Panel

        return Panel
    if name == "JobCard":
        from .cards import JobCard

        return JobCard
    raise AttributeError(f"module 'seedance_nb.ui' has no attribute {name!r}")
