"""Checks of a request's inputs (reference §3, §5.4): images with their roles, the mode
they make, how many media a model takes, reference video/audio sources and the body size.

Image files themselves are loaded and checked by images.py.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterable, Optional

from . import catalog
from . import fields as _fields
from .checks import Given, Problems, short

if TYPE_CHECKING:
    from .request import ImageInput

_ROLES = catalog.IMAGE_ROLES


def image_items(images: Any, problems: Problems) -> list[tuple[str, str]]:
    """(source, role) pairs: bare sources get roles by count (1: first, 2: first + last)."""
    import os

    if images is None:
        return []
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    elif (isinstance(images, tuple) and len(images) == 2 and isinstance(images[1], str)
          and images[1] in _ROLES):
        images = [images]  # one (source, role) pair given without a list around it
    items: list[Any] = list(images)
    bare = [i for i in items if isinstance(i, (str, os.PathLike))]
    if bare and len(bare) != len(items):
        problems.add("images: give a role for every image or for none, e.g. "
                     "[('a.png', 'first_frame'), ('b.png', 'last_frame')]")
        return []
    if bare:
        if len(bare) > 2:
            problems.add(f"images: {len(bare)} images without roles; give (source, role) pairs "
                         f"with roles {', '.join(_ROLES)}")
            return []
        return [(os.fspath(s), r) for s, r in zip(bare, ("first_frame", "last_frame"))]
    out = []
    for item in items:
        if item is None or (isinstance(item, (tuple, list)) and item and item[0] is None):
            problems.add(f"images: {item!r} has no source: {_STILL_RUNNING}")
            continue
        if (not isinstance(item, (tuple, list)) or len(item) != 2
                or not isinstance(item[0], (str, os.PathLike))):
            problems.add(f"images: {item!r} is not a source or a (source, role) pair")
            continue
        source, role = os.fspath(item[0]), item[1]
        if role not in _ROLES:
            problems.add(f"images: {role!r} is not a role; allowed: {', '.join(_ROLES)}")
            continue
        out.append((source, role))
    return out


#: The usual reason for a None (or "None") image: an earlier job's file, read too early.
_STILL_RUNNING = ("a job's video_path and last_frame_path are None until it has finished; "
                  "wait for it first (job.wait() or await job)")


def infer_mode(roles: list[str], n_videos: int, n_audios: int, given: dict[str, Given],
          caps: Optional[catalog.Capabilities], problems: Problems) -> Optional[str]:
    """The mode the roles, media and 2.5 settings imply (§3), or None (problem added)."""
    def usable(name: str) -> bool:  # an unsupported setting is reported, not obeyed
        return name in given and (caps is None or _fields.supported(name, caps) is None)

    if usable("draft_task_id"):
        return "final"
    task = given["task_type"] if usable("task_type") else None
    if task is not None and task.value in ("edit", "extend"):
        if not n_videos:
            problems.add(f"{task.label}: needs at least one reference video", task.flag)
            return None
        if any(r != "reference_image" for r in roles):
            problems.add(f"images: an {task.value} takes only reference images besides its "
                         f"videos, not {', '.join(r for r in roles if r != 'reference_image')}")
            return None
        return task.value
    if not roles and not (n_videos or n_audios):
        return "t2v"
    if n_videos or n_audios or "reference_image" in roles:
        if all(r == "reference_image" for r in roles):
            return "ref"
    elif roles == ["first_frame"]:
        return "first"
    elif sorted(roles) == ["first_frame", "last_frame"]:
        return "first+last"
    mix = ", ".join(roles + ["reference video"] * bool(n_videos) + ["reference audio"] *
                    bool(n_audios))
    problems.add(f"images: roles {mix} do not make a mode; give one first_frame, a first_frame "
                 f"and a last_frame, or only reference media")
    return None


_MODE_TEXT = {"t2v": "text-to-video (no image)", "first": "a first frame",
              "first+last": "first and last frames", "ref": "reference media",
              "edit": "editing a reference video", "extend": "extending a reference video",
              "final": "the final of a draft"}


def check_media(n_images: int, n_videos: int, n_audios: int, caps: catalog.Capabilities,
                 mode: Optional[str], where: str, problems: Problems) -> None:
    if mode is None or mode == "final":
        return
    if mode not in caps.modes:
        supported = ", ".join(m for m in caps.modes if m != "final")
        problems.add(f"images: {_MODE_TEXT[mode]} ({mode} mode) is not supported by "
                     f"{caps.model} on {where}; supported modes: {supported}")
        return
    if mode in ("ref", "edit", "extend"):
        lo, hi = caps.ref_images
        if not lo <= n_images <= hi:
            takes = f"{lo}-{hi}" if lo != hi else f"exactly {lo}"
            problems.add(f"images: {n_images} reference images; {caps.model} on {where} "
                         f"takes {takes}")
        total = n_images + n_videos + n_audios
        within = n_images <= hi and n_videos <= caps.ref_videos and n_audios <= caps.ref_audios
        if caps.ref_total and total > caps.ref_total and within:
            problems.add(f"references: {total} in all ({n_images} images, {n_videos} videos, "
                         f"{n_audios} audios); {caps.model} on {where} takes at most "
                         f"{caps.ref_total}")
        if n_audios and not (n_images or n_videos) and not caps.audio_alone:
            problems.add("ref_audios: audio cannot be the only reference; add a reference "
                         "image or video")
    elif n_images > caps.max_images:
        problems.add(f"images: {n_images} given; {caps.model} on {where} takes at most "
                     f"{caps.max_images}")


_AUDIO_FORMATS = {".wav": "wav", ".mp3": "mp3"}
_VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".mkv", ".avi", ".m4v")


def check_sources(given: dict[str, Given], caps: catalog.Capabilities, problems: Problems,
                   warns: list[str], real_provider: bool) -> list[tuple[str, str, bytes, str]]:
    """Reference video and audio sources (§3); returns the local audio files, read."""
    import hashlib
    import os

    files: list[tuple[str, str, bytes, str]] = []
    for name in ("ref_videos", "ref_audios"):
        g = given.get(name)
        if g is None or (name == "ref_videos" and not caps.ref_videos) or (
                name == "ref_audios" and not caps.ref_audios):
            continue
        for source in g.value:
            low = source.lower()
            if low.startswith("asset://"):
                if len(source) == len("asset://"):
                    problems.add(f"{g.label}: {source!r} has no asset id")
                continue
            if low.startswith(("http://", "https://")):
                if not _fields.is_http_url(source):
                    problems.add(f"{g.label}: {source!r} is not an http(s) URL")
                elif real_provider:
                    warns += _url_warnings([source])
                continue
            if name == "ref_videos":
                local = os.path.exists(source) or low.endswith(_VIDEO_SUFFIXES)
                why = ("is a local file; the gateways take videos only as http(s) URLs or "
                       "asset:// ids (upload it first)" if local
                       else "is not an http(s) URL or asset:// id")
                problems.add(f"{g.label}: {source!r} {why}")
                continue
            if low.startswith("data:"):
                if not (low.startswith("data:audio/") and ";base64," in low):
                    problems.add(f"{g.label}: {short(source, 40)!r} is not a "
                                 f"data:audio/...;base64 URL")
                continue
            fmt = _AUDIO_FORMATS.get(os.path.splitext(low)[1])
            if fmt is None:
                problems.add(f"{g.label}: {source!r} is not an http(s) URL, data: URL, "
                             f"asset:// id or .wav/.mp3 file")
                continue
            try:
                with open(source, "rb") as fh:
                    data = fh.read(catalog.MAX_IMAGE_BYTES + 1)
            except OSError as exc:
                problems.add(f"{g.label}: cannot read {source!r} ({exc.strerror or exc})")
                continue
            if len(data) > catalog.MAX_IMAGE_BYTES:
                problems.add(f"{g.label}: {source!r} is over "
                             f"{catalog.MAX_IMAGE_BYTES // 2**20} MB")
                continue
            if _audio_format(data) != fmt:  # judged by content, like images (§5.4)
                article = "an" if fmt == "mp3" else "a"
                problems.add(f"{g.label}: {source!r} is not {article} {fmt.upper()} file (by "
                             f"its content)")
                continue
            files.append((source, fmt, data, hashlib.sha256(data).hexdigest()))
    return files


def _audio_format(data: bytes) -> Optional[str]:
    """wav or mp3 from the first bytes (RIFF/WAVE; ID3 tag or an MPEG frame sync)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def _url_warnings(urls: Iterable[str]) -> list[str]:
    from .images import private_host_warning

    return [w for w in map(private_host_warning, urls) if w]


def check_body_size(images: list[ImageInput], prompt: str, dialect: str,
                     problems: Problems, audio_files: Any = ()) -> None:
    """Estimate of the encoded body (§5.4: at most 64 MB); the dialect checks it exactly."""
    size = len(prompt.encode("utf-8", "replace")) + 2048
    for image in images:
        if image.data is None:
            size += len(image.source)
        elif dialect == "comet":
            size += len(image.data)
        else:
            size += 4 * math.ceil(len(image.data) / 3) + 32
    for _, _, data, _ in audio_files:
        size += 4 * math.ceil(len(data) / 3) + 32
    if size > catalog.MAX_BODY_BYTES:
        problems.add(f"images: request body would be {size / 2**20:.1f} MB after encoding; "
                     f"the limit is {catalog.MAX_BODY_BYTES // 2**20} MB: use smaller images or "
                     f"http(s) URLs")
