"""Live progress of a job that has not ended: a clock that ticks in the browser, the
bar's indeterminate state until the gateway reports a percentage, and the typical
duration for the model and resolution as a hint.

HTML and CSS only, no JavaScript: it works in widget HTML (job cards) and in plain
HTML outputs (the magic's placeholder), and the clock keeps ticking while the kernel
is busy with another cell. The clock is a CSS counter driven by an animation whose
negative delay is the elapsed time when the HTML was made, so each re-render starts
it at the right second. Colours are JupyterLab's CSS variables (dark themes look
native), with plain fallbacks elsewhere. Nothing heavy is imported here.
"""
from __future__ import annotations

import html
import time
from typing import Any, Optional

from . import catalog

#: Emulator timeline (§10.1, §10.4): queued at least 2 s, then 30 + 10 x video seconds
#: running (its default --run-seconds), all divided by --speed.
EMULATOR_QUEUED_S = 2.0

STYLE = """<style>
@property --seedance-sec { syntax: "<integer>"; inherits: false; initial-value: 0; }
@property --seedance-min { syntax: "<integer>"; inherits: false; initial-value: 0; }
@keyframes seedance-sec { from { --seedance-sec: 0; } to { --seedance-sec: 60; } }
@keyframes seedance-min { from { --seedance-min: 0; } to { --seedance-min: 1440; } }
.seedance-clock { font-variant-numeric: tabular-nums; }
.seedance-clock.seedance-ticking > .seedance-static { display: none; }
.seedance-clock.seedance-ticking::after {
  counter-reset: seedance-min var(--seedance-min) seedance-sec var(--seedance-sec);
  content: counter(seedance-min) ":" counter(seedance-sec, decimal-leading-zero);
  animation: seedance-sec 60s steps(60, end) infinite,
             seedance-min 86400s steps(1440, end) forwards;
  animation-delay: var(--seedance-delay, 0s);
}
@keyframes seedance-slide { from { transform: translateX(0); }
                            to { transform: translateX(233%); } }
.seedance-indeterminate .progress { position: relative; overflow: hidden; }
.seedance-indeterminate .progress-bar, .seedance-bar.seedance-indeterminate > span {
  width: 30% !important;
  animation: seedance-slide 1.2s ease-in-out infinite alternate;
}
@media (prefers-reduced-motion: reduce) {
  .seedance-indeterminate .progress-bar, .seedance-bar.seedance-indeterminate > span {
    animation: none; width: 100% !important; opacity: 0.35;
  }
}
.seedance-hint { color: var(--jp-ui-font-color2, #616161); font-size: 85%; }
</style>"""


def clock_text(seconds: float) -> str:
    """m:ss, as the ticking clock shows it."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def elapsed_now(job: Any, now: Optional[float] = None) -> float:
    """Seconds since the job was submitted: measured now while it runs (its `elapsed`
    trait only moves at each poll), the recorded time once it has ended."""
    recorded = float(getattr(job, "elapsed", 0.0) or 0.0)
    started = getattr(job, "_t0", None)
    if _active(job) and isinstance(started, (int, float)):
        return max(recorded, (now or time.time()) - started)
    return recorded


def _active(job: Any) -> bool:
    return (getattr(job, "status", None) or "pending") not in catalog.JOB_ENDED


def clock_html(job: Any, now: Optional[float] = None) -> str:
    """The elapsed time: ticking in the browser while the job is active, fixed after."""
    seconds = elapsed_now(job, now)
    shown = clock_text(seconds)
    if not _active(job):
        return (f'<span class="seedance-clock" data-elapsed="{seconds:.0f}" '
                f'title="time from submit to the end">{shown}</span>')
    return (f'<span class="seedance-clock seedance-ticking" data-elapsed="{seconds:.0f}" '
            f'style="--seedance-delay:-{seconds:.1f}s" title="elapsed since submit">'
            f'<span class="seedance-static">{shown}</span></span>')


# --- typical duration ---------------------------------------------------------------


def _seconds_text(seconds: float) -> str:
    if seconds < 1.5:
        return "~1 s"
    if seconds < 10:
        return f"~{seconds:.0f} s"
    if seconds < 90:
        return f"~{max(10, 5 * round(seconds / 5))} s"
    return f"~{round(seconds / 60)} min"


def _resolution(request: Any, family: str) -> Optional[str]:
    if getattr(request, "mode", None) == "final":
        return catalog.FINAL_RESOLUTION
    if getattr(request, "draft", None):
        return catalog.DRAFT_RESOLUTION
    spec = catalog.SPECS.get(family)
    return getattr(request, "resolution", None) or (spec.default_resolution if spec else None)


def _video_seconds(request: Any, family: str) -> float:
    frames = getattr(request, "frames", None)
    if frames:
        return frames / catalog.FPS
    duration = getattr(request, "duration", None)
    if duration and duration > 0:
        return float(duration)
    spec = catalog.SPECS.get(family)
    # the emulator renders 10 s when a 2.5 model picks the length (§10.4)
    return 10.0 if spec is not None and spec.default_duration == -1 else 5.0


def emulator_speed(settings: Any) -> Optional[float]:
    """The --speed of the emulator this kernel started, if `settings` point at it."""
    import sys

    emu = sys.modules.get("seedance_nb.emulator")
    local = getattr(emu, "_local", None) if emu else None
    base = getattr(local, "base_url", None)
    if not base or not str(getattr(settings, "base_url", "")).startswith(base.rstrip("/")):
        return None
    speed = getattr(local, "speed", None)
    return float(speed) if speed else None


def emulator_seconds(request: Any, family: str, speed: float = 1.0) -> float:
    """How long the emulator takes for this request at its default --run-seconds."""
    run = 30.0 + 10.0 * _video_seconds(request, family)
    return (EMULATOR_QUEUED_S + run) / speed


def typical_hint(job: Any) -> str:
    """"usually ~45 s at 720p" for the job's model and resolution; on the emulator, the
    emulator's own time. "" when nothing is known (no request, unknown family)."""
    request = getattr(job, "request", None)
    family = getattr(request, "family", None)
    if request is None or not family:
        return ""
    settings = getattr(job, "settings", None)
    if settings is not None and getattr(settings, "is_emulator", False):
        speed = emulator_speed(settings)
        if speed:
            return f"emulator: usually {_seconds_text(emulator_seconds(request, family, speed))}"
        at_one = emulator_seconds(request, family)
        return f"emulator: {at_one:.0f} s divided by its --speed"
    resolution = _resolution(request, family)
    seconds = catalog.typical_seconds(family, resolution, getattr(request, "duration", None),
                                      getattr(request, "frames", None),
                                      getattr(request, "ratio", None))
    if seconds is None:
        return ""
    text = f"usually {_seconds_text(seconds)} at {resolution}"
    length = _video_seconds(request, family)
    if not getattr(request, "frames", None) and length != catalog.DEFAULT_DURATION:
        text += f" for {length:g} s of video"
    return text


# --- the bar and the whole line (plain HTML outputs) ---------------------------------


def indeterminate(job: Any) -> bool:
    """Active, and the gateway has reported no percentage yet (comet's 0 while queued
    says nothing either)."""
    return _active(job) and not getattr(job, "progress", None)


def bar_html(job: Any, width: int = 160) -> str:
    """A progress bar in plain HTML: a sliding block until the gateway reports progress."""
    status = getattr(job, "status", None) or "pending"
    progress = getattr(job, "progress", None)
    filled = 100 if status == "succeeded" else max(0, min(100, int(progress or 0)))
    cls = "seedance-bar seedance-indeterminate" if indeterminate(job) else "seedance-bar"
    return (f'<span class="{cls}" role="progressbar" style="display:inline-block;'
            f"position:relative;overflow:hidden;width:{width}px;height:8px;border-radius:4px;"
            f'vertical-align:middle;background:var(--jp-layout-color3, #e0e0e0)">'
            f'<span style="position:absolute;left:0;top:0;bottom:0;width:{filled}%;'
            f'background:var(--jp-brand-color1, #1976d2);border-radius:4px"></span></span>')


def live_html(job: Any, now: Optional[float] = None, *, style: bool = True) -> str:
    """Bar, percentage, ticking clock and typical-duration hint on one line, for HTML
    outputs that show a running job (the magic's placeholder). `style=False` leaves out
    the <style> block, for an output that holds `STYLE` once for many jobs (a gallery)."""
    parts = [bar_html(job)]
    progress = getattr(job, "progress", None)
    if progress and _active(job):
        parts.append(f"{int(progress)}%")
    parts.append(clock_html(job, now))
    hint = typical_hint(job) if _active(job) else ""
    if hint:
        parts.append(f'<span class="seedance-hint">{html.escape(hint)}</span>')
    return ((STYLE if style else "") + '<span class="seedance-live" style="display:'
            'inline-flex;flex-wrap:wrap;justify-content:center;gap:2px 8px;align-items:center">' + "".join(parts) + "</span>")
