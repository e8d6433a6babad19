"""A quick look at an MP4's sample descriptions: is it plainly browser-playable?

Every downloaded result is checked for a preview (§8 Previews). Opening it with PyAV
costs about 2 ms of CPU per file, a third of the client's whole per-job budget in a
1,000-video sweep, while nearly every result is an ordinary H.264 4:2:0 MP4. This
reads only the box headers and the `moov` box (ISO/IEC 14496-12) and answers True
only when it is sure: an MP4 brand, every video track `avc1`/`avc3` with a 4:2:0
8-bit profile (Baseline, Main, Extended, High), every audio track `mp4a`. Anything
else, or anything it cannot read, is None, and the caller asks PyAV.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Iterator, Optional

#: AVCProfileIndication values that are 8-bit 4:2:0 only (H.264 Annex A).
_PLAIN_AVC_PROFILES = frozenset({66, 77, 88, 100})
_MAX_MOOV = 8 << 20  # a moov bigger than this is not a short generated clip: ask PyAV
_CONTAINERS = (b"trak", b"mdia", b"minf", b"stbl")


def _boxes(data: bytes, start: int = 0,
           end: Optional[int] = None) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, body end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                return
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            return
        yield kind, pos + header, pos + size
        pos += size


def _read_moov(path: Path) -> tuple[Optional[bytes], Optional[bytes]]:
    """(ftyp major brand, moov body) read by seeking over the other top-level boxes."""
    brand = moov = None
    with open(path, "rb") as fh:
        while True:
            head = fh.read(8)
            if len(head) < 8:
                break
            size, kind = struct.unpack(">I4s", head)
            header = 8
            if size == 1:
                size, header = struct.unpack(">Q", fh.read(8))[0], 16
            elif size == 0:
                break
            if size < header:
                break
            if kind == b"ftyp":
                brand = fh.read(4)
                fh.seek(size - header - 4, 1)
            elif kind == b"moov":
                if size > _MAX_MOOV:
                    return brand, None
                moov = fh.read(size - header)
                if len(moov) < size - header:  # cut short: not a whole file
                    return brand, None
                break
            else:
                fh.seek(size - header, 1)
    return brand, moov


def _sample_entries(moov: bytes) -> Iterator[tuple[bytes, bytes, bytes]]:
    """(handler type, sample entry type, sample entry body) of every track."""
    for kind, start, end in _boxes(moov):
        if kind != b"trak":
            continue
        handler, entries = None, []
        stack = [(start, end)]
        while stack:
            s, e = stack.pop()
            for sub, bs, be in _boxes(moov, s, e):
                if sub in _CONTAINERS:
                    stack.append((bs, be))
                elif sub == b"hdlr" and be - bs >= 12:
                    handler = moov[bs + 8:bs + 12]
                elif sub == b"stsd" and be - bs >= 8:
                    entries.extend((t, moov[es:ee]) for t, es, ee in _boxes(moov, bs + 8, be))
        for entry_type, body in entries:
            yield handler or b"", entry_type, body


def _avc_profile(entry: bytes) -> Optional[int]:
    """AVCProfileIndication from the avcC box inside a VisualSampleEntry body."""
    for kind, start, end in _boxes(entry, 78):  # 78 bytes of VisualSampleEntry fields
        if kind == b"avcC" and end - start >= 2:
            return entry[start + 1]
    return None


def plainly_playable(path: str | Path) -> Optional[bool]:
    """True when `path` is surely an MP4 with H.264 4:2:0 8-bit video (and AAC audio, if
    any); None when unsure (the caller then probes with PyAV)."""
    try:
        brand, moov = _read_moov(Path(path))
    except (OSError, struct.error):
        return None
    if moov is None or brand is None or brand == b"qt  ":
        return None
    videos = 0
    for handler, entry_type, body in _sample_entries(moov):
        if handler == b"vide":
            if entry_type not in (b"avc1", b"avc3") or \
                    _avc_profile(body) not in _PLAIN_AVC_PROFILES:
                return None
            videos += 1
        elif handler == b"soun":
            if entry_type != b"mp4a":
                return None
    return True if videos else None
