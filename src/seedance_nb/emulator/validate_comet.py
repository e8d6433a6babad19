"""The Comet `/v1/videos` multipart create (§2.3, §5.2): its own error shapes, one
optional image treated as a reference, no generation options beyond size and seconds.
"""
from __future__ import annotations

from typing import Mapping, Optional

from .. import catalog
from .envelopes import EmuError
from .geometry import image_size
from .params import Params, _bad, _short


def check_comet(form: Mapping[str, str], image: Optional[bytes]) -> Params:
    """Validate a Comet multipart create (§2.3, §5.2). Unknown fields are ignored."""
    model = form.get("model") or ""
    if not model:
        raise EmuError(400, "", "model name is required")
    family = catalog.family_of_wire_id(model).get("comet")
    caps = catalog.capabilities(family, "comet") if family else None
    if caps is None or not catalog.lifecycle(family, "comet").live:
        raise EmuError(400, "", f"model {model} is not supported")
    prompt = form.get("prompt") or ""
    if image is not None and caps.max_images < 1:
        short = model.removeprefix("doubao-")
        raise EmuError(400, "", f"the specified task_type r2v does not support model {short}")
    if image is None and not prompt.strip():
        raise _bad("prompt", "prompt is required")
    seconds_text = form.get("seconds") or str(catalog.DEFAULT_DURATION)
    try:
        seconds = int(seconds_text)
    except ValueError:
        raise _bad("seconds", f"seconds must be an integer, got {_short(seconds_text)}") from None
    if not caps.duration_min <= seconds <= caps.duration_max:
        raise _bad("seconds", f"seconds must be within [{caps.duration_min}, "
                              f"{caps.duration_max}] for {model}, got {seconds}")
    ratio = form.get("size") or "16:9"
    if ratio not in caps.ratios:
        raise _bad("size", f"size {_short(ratio)} is not supported")
    resolution = form.get("resolution") or caps.default_resolution
    if resolution not in caps.resolutions:
        raise _bad("resolution", f"resolution {_short(resolution)} is not supported by {model}")
    if image is not None:
        image_size(image, "input_reference")
    width, height = catalog.pixel_size(family, resolution, ratio)
    # The single image is treated as a reference (CometAPI calls it r2v), so it
    # does not become the first frame.
    return Params(family=family, model=model, prompt=prompt,
                  mode="ref" if image is not None else "t2v", resolution=resolution,
                  ratio=ratio, duration=seconds, frames=None, seed=None, generate_audio=False,
                  width=width, height=height,
                  execution_expires_after=catalog.COMET_TASK_LIMIT_S)
