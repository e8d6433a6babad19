"""What a create body asks for, and the typed readers every route's checks use.

`Params` is a validated create (what the store and the renderer work from);
`_Content` the parsed `content` list of an Ark-JSON body. The readers raise `EmuError`
with Ark codes; JSON null means "not given".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .. import catalog
from .envelopes import EmuError


@dataclass
class Params:
    family: str
    model: str  # as sent
    prompt: str
    mode: str
    resolution: str
    ratio: str  # reported; never "adaptive"
    duration: Optional[int]  # rendered seconds; None when frames is set
    frames: Optional[int]
    seed: Optional[int]  # None or -1 -> random later
    generate_audio: bool
    width: int = 0
    height: int = 0
    return_last_frame: bool = False
    camera_fixed: Optional[bool] = None
    watermark: bool = False
    service_tier: str = "default"
    execution_expires_after: int = catalog.EXPIRES_DEFAULT
    callback_url: Optional[str] = None
    wants_async: bool = True
    first_image: Optional[bytes] = None
    last_image: Optional[bytes] = None
    aspect: Optional[float] = None  # image aspect kept by own-aspect adaptive geometry
    ref_videos: int = 0
    ref_audios: int = 0
    task_type: Optional[str] = None
    draft: bool = False
    draft_task_id: Optional[str] = None
    output_format: str = "mp4"
    audio_field: bool = False  # the task object reports generate_audio (2.x)
    draft_fields: bool = False  # ... and draft / output_format (2.5)



@dataclass
class _Content:
    prompt: str
    images: list  # [(role, url)]
    videos: int
    audios: int
    drafts: list  # draft_task ids



def _bad(param: str, message: str, code: str = "InvalidParameter") -> EmuError:
    return EmuError(400, code, message, param)


def _missing(param: str) -> EmuError:
    return EmuError(400, "MissingParameter", f"the parameter `{param}` is required", param)


def _given(body: Mapping[str, Any], key: str) -> Any:
    return body.get(key)  # None covers both absent and JSON null


def _int(body: Mapping[str, Any], key: str) -> Optional[int]:
    value = _given(body, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(key, f"`{key}` must be an integer, got {_short(value)}")
    return value


def _bool(body: Mapping[str, Any], key: str) -> Optional[bool]:
    value = _given(body, key)
    if value is not None and not isinstance(value, bool):
        raise _bad(key, f"`{key}` must be a boolean, got {_short(value)}")
    return value


def _str(body: Mapping[str, Any], key: str) -> Optional[str]:
    value = _given(body, key)
    if value is not None and not isinstance(value, str):
        raise _bad(key, f"`{key}` must be a string, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

def _common(prefix: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """Fields every create takes, drafts' finals included."""
    expires = _int(body, "execution_expires_after")
    if expires is None:
        expires = catalog.EXPIRES_DEFAULT
    elif not catalog.EXPIRES_MIN <= expires <= catalog.EXPIRES_MAX:
        raise _bad("execution_expires_after", f"execution_expires_after must be within "
                                              f"[{catalog.EXPIRES_MIN}, {catalog.EXPIRES_MAX}]")
    callback = _given(body, "callback_url")
    if callback is not None and (not isinstance(callback, str)
                                 or not callback.startswith(("http://", "https://"))):
        raise _bad("callback_url", "callback_url must be an absolute http(s) URL")
    wants_async = True
    if prefix == "ace":
        wants_async = bool(_bool(body, "async")) or callback is not None
    return dict(watermark=bool(_bool(body, "watermark")), execution_expires_after=expires,
                callback_url=callback, wants_async=wants_async)
