"""build_request validation (§2, §3, §4.2, §5.4), to_dict, estimate, fingerprint.

`RULES` is the table: every rule has accepted and rejected rows, each run for every
provider (and the emulator emulating that provider's dialect) where the rule applies.
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import pytest

from _test_images_helpers import (ALL_COMBOS, ARK_JSON, COMET, combo_id, dialect, image_bytes,
                                  make_image, where)
from seedance_nb import (SeedanceConfigError, SeedanceFlagError, SeedanceValidationError,
                         build_request, catalog)
from seedance_nb import request as request_module

ACEDATA = [("acedata", None), ("emulator", "acedata")]
NOT_ACEDATA = [c for c in ARK_JSON if c not in ACEDATA]


@dataclass
class Row:
    rule: str
    combos: list
    family: str
    text: str = "A fox in snow"
    images: tuple = ()  # roles; files are made by the `pics` fixture
    kw: dict = field(default_factory=dict)
    lines: Optional[list] = None  # None: accepted; else the exact problems ({model}, {where})
    mode: Optional[str] = None  # for accepted rows: the mode expected


def ok(rule, combos, family, text="A fox in snow", images=(), mode=None, **kw) -> Row:
    return Row(rule, combos, family, text, tuple(images), kw, None, mode)


def bad(rule, combos, family, lines, text="A fox in snow", images=(), **kw) -> Row:
    return Row(rule, combos, family, text, tuple(images), kw, list(lines))


F, L, R = "first_frame", "last_frame", "reference_image"

RULES = [
    # --- modes (§2.2, §2.3, §3) ---
    ok("mode t2v", ARK_JSON, "1.0-pro", mode="t2v"),
    bad("mode t2v", ARK_JSON, "1.0-lite-i2v",
        ["images: text-to-video (no image) (t2v mode) is not supported by {model} on {where}; "
         "supported modes: first, first+last, ref"]),
    ok("mode first", ARK_JSON, "1.0-pro-fast", images=[F], mode="first"),
    bad("mode first", ARK_JSON, "1.0-lite-t2v",
        ["images: a first frame (first mode) is not supported by {model} on {where}; "
         "supported modes: t2v"], images=[F]),
    ok("mode first+last", ARK_JSON, "1.0-pro", images=[F, L], mode="first+last"),
    ok("mode first+last", ARK_JSON, "1.5-pro", images=[L, F], mode="first+last"),
    bad("mode first+last", ARK_JSON, "1.0-pro-fast",
        ["images: first and last frames (first+last mode) is not supported by {model} on "
         "{where}; supported modes: t2v, first"], images=[F, L]),
    ok("mode ref", ARK_JSON, "2.0-fast", images=[R, R], mode="ref"),
    ok("mode ref", ARK_JSON, "1.0-lite-i2v", images=[R], mode="ref"),
    bad("mode ref", ARK_JSON, "1.5-pro",
        ["images: reference media (ref mode) is not supported by {model} on {where}; "
         "supported modes: t2v, first, first+last"], images=[R]),
    ok("comet modes", COMET, "2.0", images=[F], mode="first"),
    ok("comet modes", COMET, "2.0-fast", images=[R], mode="ref"),
    bad("comet modes", COMET, "2.0",
        ["images: first and last frames (first+last mode) is not supported by {model} on "
         "{where}; supported modes: t2v, first, ref"], images=[F, L]),
    bad("comet modes", COMET, "1.5-pro",
        ["images: a first frame (first mode) is not supported by {model} on {where}; "
         "supported modes: t2v"], images=[F]),
    bad("comet one image", COMET, "2.0",
        ["images: 2 reference images; {model} on {where} takes exactly 1"], images=[R, R]),
    bad("role mix", ALL_COMBOS, "2.0",
        ["images: roles first_frame, reference_image do not make a mode; give one "
         "first_frame, a first_frame and a last_frame, or only reference media"],
        images=[F, R]),
    bad("role mix", ALL_COMBOS, "2.0",
        ["images: roles last_frame do not make a mode; give one first_frame, a first_frame "
         "and a last_frame, or only reference media"], images=[L]),
    bad("role mix", ALL_COMBOS, "2.0",
        ["images: roles first_frame, first_frame do not make a mode; give one first_frame, a "
         "first_frame and a last_frame, or only reference media"], images=[F, F]),
    # --- resolution ---
    ok("resolution", ARK_JSON, "2.0-fast", text="A fox --rs 720P"),
    bad("resolution", ARK_JSON, "2.0-fast",
        ["--rs 1080p: not allowed for {model} on {where}; allowed: 480p, 720p"],
        text="A fox --rs 1080p"),
    bad("resolution", ARK_JSON, "1.0-pro",
        ["resolution='4k': not allowed for {model} on {where}; allowed: 480p, 720p, 1080p"],
        resolution="4k"),
    bad("resolution", ALL_COMBOS, "2.0", ["resolution=720: not a string (int)"], resolution=720),
    ok("resolution 4k", ARK_JSON, "2.0", resolution="4k"),
    bad("resolution 4k", COMET, "2.0",
        ["--rs 4k: not allowed for {model} on {where}; allowed: 480p, 720p"],
        text="A fox --rs 4k"),
    ok("resolution in ref mode", ARK_JSON, "1.0-lite-i2v", text="--rs 1080p", images=[F]),
    bad("resolution in ref mode", ARK_JSON, "1.0-lite-i2v",
        ["--rs 1080p: not allowed for {model} on {where} in ref mode; allowed: 480p, 720p"],
        text="--rs 1080p", images=[R]),
    ok("resolution comet", COMET, "1.5-pro", text="A fox --resolution 1080p"),
    bad("resolution comet", COMET, "2.0",
        ["--resolution 1080p: not allowed for {model} on {where}; allowed: 480p, 720p"],
        text="A fox --resolution 1080p"),
    # --- ratio ---
    ok("ratio", ALL_COMBOS, "2.0", text="A fox --rt 21:9"),
    bad("ratio syntax", ALL_COMBOS, "2.0",
        ["--rt 9:21: not a ratio; allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive"],
        text="A fox --rt 9:21"),
    bad("ratio syntax", ALL_COMBOS, "2.0",
        ["ratio='9:21': not a ratio; allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive"],
        ratio="9:21"),
    ok("ratio adaptive 1.0", ARK_JSON, "1.0-pro", text="--rt adaptive", images=[F]),
    bad("ratio adaptive 1.0", ARK_JSON, "1.0-pro",
        ["--rt adaptive: not allowed for {model} on {where} in t2v mode (adaptive needs a "
         "first frame); allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9"], text="A fox --rt adaptive"),
    bad("ratio adaptive 1.0", ARK_JSON, "1.0-lite-i2v",
        ["ratio='adaptive': not allowed for {model} on {where} in ref mode (adaptive needs a "
         "first frame); allowed: 16:9, 4:3, 1:1, 3:4, 9:16, 21:9"], ratio="adaptive",
        images=[R]),
    ok("ratio adaptive new", ARK_JSON, "1.5-pro", text="A fox --rt adaptive"),
    ok("ratio adaptive new", ARK_JSON, "2.0", text="--rt adaptive", images=[R]),
    bad("ratio comet", COMET, "2.0",
        ["--rt adaptive: not allowed for {model} on {where}; allowed: 16:9, 4:3, 1:1, 3:4, "
         "9:16, 21:9"], text="A fox --rt adaptive"),
    # --- duration ---
    ok("duration 1.0", ARK_JSON, "1.0-pro", text="A fox --dur 2"),
    ok("duration 1.0", ARK_JSON, "1.0-pro", duration=12),
    bad("duration 1.0", ARK_JSON, "1.0-pro",
        ["--dur 13: not allowed for {model} on {where}; allowed: 2-12"], text="A fox --dur 13"),
    bad("duration 1.0", ARK_JSON, "1.0-lite-t2v",
        ["--duration -1: not allowed for {model} on {where}; allowed: 2-12"],
        text="A fox --duration -1"),
    ok("duration 1.5", ARK_JSON, "1.5-pro", text="A fox --dur -1"),
    bad("duration 1.5", ARK_JSON, "1.5-pro",
        ["duration=3: not allowed for {model} on {where}; allowed: 4-12 or -1"], duration=3),
    ok("duration 2.0", ARK_JSON, "2.0", text="A fox --dur 15"),
    bad("duration 2.0", ARK_JSON, "2.0-fast",
        ["--dur 16: not allowed for {model} on {where}; allowed: 4-15 or -1"],
        text="A fox --dur 16"),
    ok("duration comet", COMET, "1.0-pro", text="A fox --dur 10"),
    bad("duration comet", COMET, "1.0-pro",
        ["--dur 11: not allowed for {model} on {where}; allowed: 2-10"], text="A fox --dur 11"),
    bad("duration comet", COMET, "2.0",
        ["--dur -1: not allowed for {model} on {where}; allowed: 4-15"], text="A fox --dur -1"),
    bad("duration type", ALL_COMBOS, "2.0", ["duration='5': not an integer"], duration="5"),
    bad("duration type", ALL_COMBOS, "2.0", ["duration=5.0: not an integer"], duration=5.0),
    # --- frames ---
    ok("frames", ARK_JSON, "1.0-pro", text="A fox --frames 121"),
    ok("frames", ARK_JSON, "1.0-lite-i2v", text="--frames 29", images=[F]),
    ok("frames", ARK_JSON, "1.0-pro-fast", frames=289),
    bad("frames grid", ARK_JSON, "1.0-pro",
        ["--frames 120: must be 25+4n between 29 and 289 (e.g. 117, 121)"],
        text="A fox --frames 120"),
    bad("frames grid", ARK_JSON, "1.0-pro",
        ["--frames 25: must be 25+4n between 29 and 289 (e.g. 29, 33)"],
        text="A fox --frames 25"),
    bad("frames grid", ARK_JSON, "1.0-pro",
        ["frames=293: must be 25+4n between 29 and 289 (e.g. 285, 289)"], frames=293),
    bad("frames support", ARK_JSON, "2.0",
        ["--frames 121: not supported by {model} on {where}; use --dur (4-15 or -1)"],
        text="A fox --frames 121"),
    bad("frames support", ARK_JSON, "1.5-pro",
        ["frames=121: not supported by {model} on {where}; use duration (4-12 or -1)"],
        frames=121),
    bad("frames support", COMET, "1.0-pro",
        ["--frames 121: not supported by {model} on {where}; use --dur (2-10)"],
        text="A fox --frames 121"),
    bad("duration and frames", ARK_JSON, "1.0-pro",
        ["--dur 5 and --frames 121: give only one of them"], text="A fox --dur 5 --frames 121"),
    bad("duration and frames", ARK_JSON, "1.0-pro",
        ["duration=5 and --frames 121: give only one of them"], text="A fox --frames 121",
        duration=5),
    # --- fps ---
    ok("fps", ALL_COMBOS, "2.0", text="A fox --fps 24"),
    ok("fps", ALL_COMBOS, "2.0", fps=24),
    bad("fps", ALL_COMBOS, "2.0", ["--framespersecond 25: only 24 is allowed"],
        text="A fox --framespersecond 25"),
    bad("fps", ALL_COMBOS, "2.0", ["fps=30: only 24 is allowed"], fps=30),
    # --- seed ---
    ok("seed", ARK_JSON, "2.0", text="A fox --seed -1"),
    ok("seed", ARK_JSON, "2.0", seed=4294967295),
    bad("seed", ARK_JSON, "2.0", ["--seed 4294967296: out of range; allowed: -1 to 4294967295"],
        text="A fox --seed 4294967296"),
    bad("seed", ARK_JSON, "2.0", ["seed=-2: out of range; allowed: -1 to 4294967295"], seed=-2),
    bad("seed comet", COMET, "2.0", ["--seed 42: not supported by {model} on {where}"],
        text="A fox --seed 42"),
    # --- camera_fixed ---
    ok("camera_fixed", ARK_JSON, "1.0-pro", text="A fox --cf true"),
    ok("camera_fixed", ARK_JSON, "1.5-pro", camera_fixed=False),
    ok("camera_fixed", ARK_JSON, "1.0-lite-i2v", text="--cf true", images=[F]),
    bad("camera_fixed", ARK_JSON, "2.0", ["--cf true: not supported by {model} on {where}"],
        text="A fox --cf true"),
    bad("camera_fixed", ARK_JSON, "1.0-lite-i2v",
        ["--camerafixed false: not allowed in ref mode for {model} on {where}"],
        text="--camerafixed false", images=[R]),
    bad("camera_fixed comet", COMET, "1.5-pro",
        ["camera_fixed=True: not supported by {model} on {where}"], camera_fixed=True),
    bad("camera_fixed type", ARK_JSON, "1.0-pro",
        ["camera_fixed='true': not a boolean; allowed: True, False"], camera_fixed="true"),
    # --- watermark, return_last_frame ---
    ok("watermark", ARK_JSON, "2.0", text="A fox --wm true"),
    ok("watermark", ARK_JSON, "1.0-lite-t2v", watermark=False),
    bad("watermark comet", COMET, "2.0", ["--watermark false: not supported by {model} on "
                                          "{where}"], text="A fox --watermark false"),
    bad("watermark type", ARK_JSON, "2.0", ["watermark=1: not a boolean; allowed: True, False"],
        watermark=1),
    ok("return_last_frame", ARK_JSON, "1.0-pro", return_last_frame=True),
    bad("return_last_frame comet", COMET, "2.0",
        ["return_last_frame=True: not supported by {model} on {where}"], return_last_frame=True),
    # --- generate_audio ---
    ok("generate_audio", ARK_JSON, "1.5-pro", generate_audio=True),
    ok("generate_audio", ARK_JSON, "2.0-fast", generate_audio=False),
    bad("generate_audio", ARK_JSON, "1.0-pro",
        ["generate_audio=True: not supported by {model} on {where} (audio needs a 2.x "
         "family)"], generate_audio=True),
    bad("generate_audio comet", COMET, "2.0",
        ["generate_audio=True: not supported by {model} on {where}"], generate_audio=True),
    # --- service_tier ---
    ok("service_tier", NOT_ACEDATA, "1.0-pro", service_tier="flex"),
    ok("service_tier", NOT_ACEDATA, "2.0", service_tier="default"),
    bad("service_tier acedata", ACEDATA, "2.0",
        ["service_tier='default': not supported by {model} on {where}"], service_tier="default"),
    bad("service_tier", NOT_ACEDATA, "2.0",
        ["service_tier='flex': not allowed for {model} on {where}; allowed: default"],
        service_tier="flex"),
    bad("service_tier", NOT_ACEDATA, "1.0-pro",
        ["service_tier='fast': not a service tier; allowed: default, flex"],
        service_tier="fast"),
    bad("service_tier comet", COMET, "1.0-pro",
        ["service_tier='default': not supported by {model} on {where}"],
        service_tier="default"),
    # --- execution_expires_after ---
    ok("execution_expires_after", ARK_JSON, "2.0", execution_expires_after=3600),
    ok("execution_expires_after", ARK_JSON, "2.0", execution_expires_after=259200),
    bad("execution_expires_after", ARK_JSON, "2.0",
        ["execution_expires_after=3599: out of range; allowed: 3600 to 259200 seconds"],
        execution_expires_after=3599),
    bad("execution_expires_after comet", COMET, "2.0",
        ["execution_expires_after=3600: not supported by {model} on {where}"],
        execution_expires_after=3600),
    # --- callback_url ---
    ok("callback_url", ARK_JSON, "2.0", callback_url="https://hooks.example.com/seedance"),
    bad("callback_url", ARK_JSON, "2.0",
        ["callback_url='/hook': not an absolute http(s) URL"], callback_url="/hook"),
    bad("callback_url", ARK_JSON, "2.0",
        ["callback_url='ftp://x.example.com/': not an absolute http(s) URL"],
        callback_url="ftp://x.example.com/"),
    bad("callback_url comet", COMET, "2.0",
        ["callback_url='https://x.example.com/': not supported by {model} on {where}"],
        callback_url="https://x.example.com/"),
    # --- blocking (acedata only) ---
    ok("blocking", ACEDATA, "2.0", blocking=True),
    bad("blocking", NOT_ACEDATA, "2.0", ["blocking=True: only for acedata, not {where}"],
        blocking=True),
    bad("blocking", ACEDATA, "1.5-pro",
        ["blocking=True and callback_url='https://x.example.com/': give only one of them (a "
         "callback makes AceDataCloud reply at once)"],
        blocking=True, callback_url="https://x.example.com/"),
    bad("blocking comet", COMET, "2.0", ["blocking=True: not supported by {model} on {where}"],
        blocking=True),
    # --- reference media (2.0 families, lite-i2v) ---
    ok("ref 2.0 images", ARK_JSON, "2.0", images=[R] * 9, mode="ref"),
    bad("ref 2.0 images", ARK_JSON, "2.0",
        ["images: 10 reference images; {model} on {where} takes 0-9"], images=[R] * 10),
    ok("ref 2.0 videos", ARK_JSON, "2.0-fast", mode="ref",
       ref_videos=["https://cdn.example.com/v%d.mp4" % i for i in range(3)]),
    bad("ref 2.0 videos", ARK_JSON, "2.0-fast", ["ref_videos: 4 given; at most 3"],
        ref_videos=["https://cdn.example.com/v%d.mp4" % i for i in range(4)]),
    ok("ref 2.0 audios", ARK_JSON, "2.0", images=[R], mode="ref",
       ref_audios=["https://cdn.example.com/a%d.mp3" % i for i in range(3)]),
    bad("ref 2.0 audios", ARK_JSON, "2.0", ["ref_audios: 4 given; at most 3"], images=[R],
        ref_audios=["https://cdn.example.com/a%d.mp3" % i for i in range(4)]),
    bad("ref audio alone", ARK_JSON, "2.0",
        ["ref_audios: audio cannot be the only reference; add a reference image or video"],
        ref_audios="https://cdn.example.com/a.mp3"),
    ok("ref audio alone", ARK_JSON, "2.0", mode="ref", ref_audios="https://cdn.example.com/a.mp3",
       ref_videos="https://cdn.example.com/v.mp4"),
    bad("ref media urls", ARK_JSON, "2.0",
        ["ref_videos=['v.mp4']: 'v.mp4' is a local file; the gateways take videos only as "
         "http(s) URLs or asset:// ids (upload it first)"], ref_videos=["v.mp4"]),
    bad("ref media urls", ARK_JSON, "2.0",
        ["ref_videos=['ftp://e.example.com/v']: 'ftp://e.example.com/v' is not an http(s) URL "
         "or asset:// id"], ref_videos=["ftp://e.example.com/v"]),
    bad("ref media urls", ARK_JSON, "2.0",
        ["ref_videos=5: give a source or a list of sources (http(s) URLs or asset:// ids)"],
        ref_videos=5),
    ok("ref lite-i2v", ARK_JSON, "1.0-lite-i2v", images=[R] * 4, mode="ref"),
    bad("ref lite-i2v", ARK_JSON, "1.0-lite-i2v",
        ["images: 5 reference images; {model} on {where} takes 1-4"], images=[R] * 5),
    bad("ref lite-i2v", ARK_JSON, "1.0-lite-i2v",
        ["ref_videos=['https://cdn.example.com/v.mp4']: not supported by {model} on {where} "
         "(2.x families only)",
         "images: 1 reference images; {model} on {where} takes 1-4"][:1], images=[R],
        ref_videos=["https://cdn.example.com/v.mp4"]),
    bad("ref media comet", COMET, "2.0",
        ["ref_videos=['https://cdn.example.com/v.mp4']: not supported by {model} on {where}"],
        images=[R], ref_videos=["https://cdn.example.com/v.mp4"]),
    # --- empty prompt ---
    ok("empty prompt", ALL_COMBOS, "2.0", text="", images=[F], mode="first"),
    ok("empty prompt", ARK_JSON, "2.0", text="--rs 720p", images=[R], mode="ref"),
    bad("empty prompt", ALL_COMBOS, "2.0",
        ["prompt: empty after removing flags; text-to-video needs a prompt (or give an image)"],
        text="  \n "),
    bad("empty prompt", ALL_COMBOS, "2.0",
        ["prompt: empty after removing flags; text-to-video needs a prompt (or give an image)"],
        text="--rs 720p"),
    # --- not supported in this version; unknown keywords ---
    bad("not supported", ALL_COMBOS, "2.0",
        ["human_face_mode='off': human_face_mode is not supported in this version"],
        human_face_mode="off"),
    bad("not supported", ALL_COMBOS, "2.0",
        ["tools=[{{'type': 'web_search'}}]: tools is not supported in this version"],
        tools=[{"type": "web_search"}]),
    bad("not supported", ALL_COMBOS, "2.0",
        ["priority=1: priority is not supported in this version",
         "safety_identifier='u1': safety_identifier is not supported in this version"],
        priority=1, safety_identifier="u1"),
    ok("asset ids", ARK_JSON, "2.0", ref_videos="asset://v1", mode="ref"),
    ok("asset ids", ARK_JSON, "2.5", images=[], ref_audios=["asset://a1"], mode="ref"),
    bad("asset ids", ARK_JSON, "2.0", ["ref_videos='asset://': 'asset://' has no asset id"],
        ref_videos="asset://"),
    bad("unknown field", ALL_COMBOS, "2.0",
        ["resolutoin='720p': unknown field; did you mean resolution?"], resolutoin="720p"),
    bad("unknown field", ALL_COMBOS, "2.0",
        ["prompt='x': unknown field; pass the prompt as the first argument"], prompt="x"),
    # --- duplicates between flags and keywords ---
    bad("duplicate", ALL_COMBOS, "2.0",
        ["--dur 5: duplicate of duration=5; give each setting once"], text="A fox --dur 5",
        duration=5),
    ok("duplicate", ALL_COMBOS, "2.0", text="A fox --dur 5", resolution="480p"),
    ok("role mix", ALL_COMBOS, "2.0", images=[R], mode="ref"),
    ok("not supported", ARK_JSON, "2.0", ref_videos="https://cdn.example.com/v.mp4"),
    ok("unknown field", ALL_COMBOS, "2.0", resolution="480p"),
    # --- 2.5 (§2.2, §3) ---
    ok("2.5 ratio", ARK_JSON, "2.5", images=[F], mode="first"),
    ok("2.5 ratio", ARK_JSON, "2.5", text="A fox --rt adaptive", images=[F, L],
       mode="first+last"),
    bad("2.5 ratio", ARK_JSON, "2.5",
        ["--rt 16:9: not allowed for {model} on {where} in first mode (it keeps the input's "
         "aspect ratio); allowed: adaptive"], text="A fox --rt 16:9", images=[F]),
    ok("2.5 ratio comet", COMET, "2.5", text="A fox --rt 16:9", images=[F], mode="first"),
    bad("2.5 ratio comet", COMET, "2.5",
        ["--rt adaptive: not allowed for {model} on {where}; allowed: 16:9, 4:3, 1:1, 3:4, "
         "9:16, 21:9"], text="A fox --rt adaptive", images=[F]),
    ok("2.5 duration", ALL_COMBOS, "2.5", text="A fox --dur 30"),
    bad("2.5 duration", ARK_JSON, "2.5",
        ["--dur 31: not allowed for {model} on {where}; allowed: 4-30 or -1"],
        text="A fox --dur 31"),
    bad("2.5 duration", COMET, "2.5",
        ["--dur -1: not allowed for {model} on {where}; allowed: 4-30"], text="A fox --dur -1"),
    ok("edit", ARK_JSON, "2.5", mode="edit", ref_videos=["https://e.example.com/v.mp4"],
       task_type="edit"),
    ok("edit", ARK_JSON, "2.5", text="A fox --dur -1 --rt adaptive", images=[R], mode="edit",
       ref_videos=["https://e.example.com/v.mp4"], task_type="EDIT"),
    bad("edit", ARK_JSON, "2.5",
        ["task_type='edit': needs at least one reference video"],
        task_type="edit"),
    bad("edit", ARK_JSON, "2.5",
        ["--dur 5: not allowed for {model} on {where} in edit mode (the edit keeps the input's "
         "length); allowed: -1",
         "--rt 1:1: not allowed for {model} on {where} in edit mode (it keeps the input's "
         "aspect ratio); allowed: adaptive"],
        text="A fox --dur 5 --rt 1:1", ref_videos=["https://e.example.com/v.mp4"],
        task_type="edit"),
    bad("edit", ARK_JSON, "2.5",
        ["images: an edit takes only reference images besides its videos, not first_frame"],
        images=[F], ref_videos=["https://e.example.com/v.mp4"], task_type="edit"),
    ok("extend", ARK_JSON, "2.5", text="A fox --dur 10", mode="extend",
       ref_videos=["https://e.example.com/v.mp4"], task_type="extend"),
    bad("extend", ARK_JSON, "2.5",
        ["--dur -1: not allowed for {model} on {where} in extend mode; allowed: 4-30"],
        text="A fox --dur -1", ref_videos=["https://e.example.com/v.mp4"], task_type="extend"),
    bad("extend", ARK_JSON, "2.5",
        ["task_type='extend': an extend needs a duration; give 4-30 s (-1 is not allowed)"],
        ref_videos=["https://e.example.com/v.mp4"], task_type="extend"),
    ok("task_type", ARK_JSON, "2.5", images=[R], mode="ref", task_type="reference"),
    bad("task_type", ARK_JSON, "2.5",
        ["task_type='auto': only for reference media (ref mode, not t2v)"], task_type="auto"),
    bad("task_type", ARK_JSON, "2.5",
        ["task_type='cut': not a task type; allowed: auto, reference, edit, extend"],
        task_type="cut"),
    bad("task_type 2.0", ARK_JSON, "2.0",
        ["task_type='edit': not supported by {model} on {where} (2.5 only)"],
        ref_videos=["https://e.example.com/v.mp4"], task_type="edit"),
    ok("task_type 2.0", ARK_JSON, "2.0", mode="ref", ref_videos=["https://e.example.com/v.mp4"]),
    ok("draft", ARK_JSON, "2.5", text="A fox --rs 480p --dur 5", draft=True),
    bad("draft", ARK_JSON, "2.5",
        ["--rs 720p: not allowed with draft=True (a draft is 480p); allowed: 480p",
         "draft=True and output_format='mov': give only one of them (a draft takes no output "
         "format)"], text="A fox --rs 720p --dur 5", draft=True, output_format="mov"),
    bad("draft", ARK_JSON, "2.5",
        ["draft=True and task_type='extend': give only one of them (a draft cannot extend a "
         "video)"], text="A fox --dur 5", draft=True, task_type="extend",
        ref_videos=["https://e.example.com/v.mp4"]),
    bad("draft", ARK_JSON, "2.0", ["draft=True: not supported by {model} on {where} (2.5 only)"],
        draft=True),
    bad("draft comet", COMET, "2.5", ["draft=True: not supported by {model} on {where}"],
        draft=True),
    ok("draft comet", COMET, "2.5", text="A fox --rs 1080p"),
    ok("final", ARK_JSON, "2.5", text="", mode="final", draft_task_id="cgt-1", watermark=True,
       callback_url="https://hooks.example.com/x"),
    bad("final", ARK_JSON, "2.5",
        ["--dur 5: a final takes it from draft cgt-1; remove it",
         "generate_audio=False: a final takes it from draft cgt-1; remove it",
         "prompt: a final takes its prompt from draft cgt-1; give none"],
        text="A fox --dur 5", draft_task_id="cgt-1", generate_audio=False),
    bad("final", ARK_JSON, "2.5",
        ["--rs 720p: a final is always 1080p; allowed: 1080p",
         "images: a final takes its media from draft cgt-1; give none"],
        text="--rs 720p", images=[F], draft_task_id="cgt-1"),
    bad("final", ARK_JSON, "2.5",
        ["draft_task_id='cgt 1': not a task id (one word, e.g. cgt-20261201101500-k3v9x)"],
        text="", draft_task_id="cgt 1"),
    ok("output_format", ARK_JSON, "2.5", text="A fox --dur 5", output_format="MOV"),
    bad("output_format", ARK_JSON, "2.0",
        ["output_format='mov': not supported by {model} on {where} (2.5 only)"],
        output_format="mov"),
    bad("output_format", ALL_COMBOS, "2.5",
        ["output_format='avi': not an output format; allowed: mp4, mov"], output_format="avi"),
    ok("audio alone", ARK_JSON, "2.5", text="A fox --dur 5", mode="ref",
       ref_audios=["data:audio/wav;base64,UklGRg=="]),
    bad("audio alone", ARK_JSON, "2.0-mini",
        ["ref_audios: audio cannot be the only reference; add a reference image or video"],
        ref_audios=["https://e.example.com/a.mp3"]),
    bad("audio sources", ARK_JSON, "2.5",
        ["ref_audios=['song.ogg']: 'song.ogg' is not an http(s) URL, data: URL, asset:// id or "
         ".wav/.mp3 file"], text="A fox --dur 5", images=[R], ref_audios=["song.ogg"]),
    bad("audio sources", ARK_JSON, "2.5",
        ["ref_audios=['missing.wav']: cannot read 'missing.wav' (No such file or directory)"],
        text="A fox --dur 5", images=[R], ref_audios=["missing.wav"]),
    ok("audio sources", ARK_JSON, "2.5", text="A fox --dur 5", mode="ref",
       ref_audios=["asset://a-1", "https://e.example.com/a.mp3"]),
    ok("ref total", ACEDATA, "2.0", images=[R] * 9, mode="ref",
       ref_videos=["https://e.example.com/v.mp4"] * 3,
       ref_audios=["https://e.example.com/a.mp3"] * 3),
    bad("ref total", NOT_ACEDATA, "2.0",
        ["references: 15 in all (9 images, 3 videos, 3 audios); {model} on {where} takes at "
         "most 12"], images=[R] * 9, ref_videos=["https://e.example.com/v.mp4"] * 3,
        ref_audios=["https://e.example.com/a.mp3"] * 3),
    bad("asset ids comet", COMET, "2.0",
        ["ref_videos=['asset://v']: not supported by {model} on {where}"],
        ref_videos=["asset://v"]),
    ok("asset ids comet", COMET, "2.0", text="A fox"),
    bad("surrogate", ALL_COMBOS, "2.0",
        ["prompt: character 3 (U+D83E) is a lone surrogate that cannot be sent; remove it or "
         "fix the text's encoding"], text="A \ud83e fox"),
    bad("surrogate", ARK_JSON, "2.0",
        ["callback_url='https://x.example.com/\\udc00': character 23 (U+DC00) is a lone "
         "surrogate that cannot be sent; remove it or fix the text's encoding"],
        callback_url="https://x.example.com/\udc00"),
    ok("surrogate", ALL_COMBOS, "2.0", text="A 🦊 fox"),
    bad("rejected features", ALL_COMBOS, "2.5",
        ["human_face_mode='blur': human_face_mode is not supported in this version"],
        human_face_mode="blur"),
    ok("rejected features", ALL_COMBOS, "2.5", text="A fox --dur 5"),
    ok("retired builds", ARK_JSON, "1.5-pro", text="A fox --dur 5"),
    bad("retired builds", ARK_JSON, "1.5-pro",
        ["--dur 13: not allowed for {model} on {where}; allowed: 4-12 or -1"],
        text="A fox --dur 13"),
]


def _params():
    out = []
    for row in RULES:
        for combo in row.combos:
            if catalog.capabilities(row.family, dialect(combo)) is None:
                continue
            kind = "ok" if row.lines is None else "bad"
            out.append(pytest.param(row, combo, id=f"{row.rule}-{kind}-{combo_id(combo)}"))
    return out


@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("pics")
    return [make_image(folder, f"p{i}.png", (640, 480), "png") for i in range(10)]


@pytest.fixture(autouse=True)
def _quiet_warnings(recwarn):
    yield  # warnings (comet first frame, private URLs) are tested on their own


@pytest.mark.parametrize("row, combo", _params())
def test_rule(row: Row, combo, pics) -> None:
    provider, emulate = combo
    images = [(pics[i], role) for i, role in enumerate(row.images)]
    model_id = catalog.WIRE_IDS[dialect(combo)][row.family]
    call = lambda: build_request(row.text, provider=provider, emulate=emulate,  # noqa: E731
                                 model=row.family, images=images, **row.kw)
    if row.lines is None:
        req = call()
        assert req.model == model_id and req.provider == provider
        assert req.dialect == dialect(combo)
        if row.mode:
            assert req.mode == row.mode
        return
    expected = [line.format(model=model_id, where=where(combo)) for line in row.lines]
    flagged = any(re.search(r"(^|\s)--[a-z]", line) for line in expected)
    with pytest.raises(SeedanceFlagError if flagged else SeedanceValidationError) as err:
        call()
    assert err.value.problems == expected
    assert isinstance(err.value, SeedanceFlagError) == flagged


def test_every_rule_has_an_accepted_and_a_rejected_row() -> None:
    kinds: dict[str, set] = {}
    for row in RULES:
        kinds.setdefault(row.rule.split(" ")[0], set()).add(row.lines is None)
    assert {k for k, v in kinds.items() if v != {True, False}} == set()


# --- providers and models ---------------------------------------------------------------

def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(SeedanceConfigError, match="unknown provider 'openai'"):
        build_request("A fox", provider="openai")
    with pytest.raises(SeedanceConfigError, match="unknown emulate setting 'sora'"):
        build_request("A fox", provider="emulator", emulate="sora")


def test_default_provider_is_the_emulator_emulating_ark(monkeypatch) -> None:
    req = build_request("A fox")
    assert (req.provider, req.dialect, req.family) == ("emulator", "ark", "2.0-fast")
    assert req.model_is_default and not build_request("A fox", model="2.0-fast").model_is_default
    monkeypatch.setenv("SEEDANCE_EMULATE", "byteplus")
    assert build_request("A fox").model == "dreamina-seedance-2-0-fast-260128"
    monkeypatch.setenv("ARK_API_KEY", "sk-test-not-real")
    assert build_request("A fox").provider == "ark"


@pytest.mark.parametrize("provider, model, line", [
    ("byteplus", "doubao-seedance-1-0-pro-250528",
     "model doubao-seedance-1-0-pro-250528 is a ark/comet-volc/acedata id; on byteplus use "
     "seedance-1-0-pro-250528 (or the family key 1.0-pro)"),
    ("comet-volc", "2.0-mini", "model 2.0-mini is not offered on comet-volc; offered: 2.0, "
                               "2.0-fast, 1.0-pro, 1.0-pro-fast"),
    ("ark", 5, "model=5: give a family key or a wire id as a string"),
    ("comet", "1.0-lite-t2v", "model 1.0-lite-t2v is not offered on comet; offered: 2.5, 2.0, "
                              "2.0-fast"),
])
def test_model_problems(provider, model, line) -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request("A fox", provider=provider, model=model)
    assert err.value.problems == [line]


def test_model_problem_with_flag_problems_is_one_flag_error() -> None:
    with pytest.raises(SeedanceFlagError) as err:
        build_request("A fox --wm maybe --fps 30", provider="ark", model="sora")
    assert err.value.problems[0] == "--wm maybe: not a boolean; allowed: true, false"
    assert err.value.problems[1].startswith("unknown model 'sora'")
    assert err.value.problems[2:] == ["--fps 30: only 24 is allowed"]


def test_wire_id_and_endpoint_ids() -> None:
    assert build_request("A fox", provider="acedata",
                         model="doubao-seedance-2-0-mini-260615").family == "2.0-mini"
    req = build_request("A fox", provider="ark", model="ep-2025", endpoints={"ep-2025": "1.0-pro"})
    assert (req.model, req.family) == ("ep-2025", "1.0-pro")
    with pytest.raises(SeedanceValidationError, match="not mapped"):
        build_request("A fox", provider="ark", model="ep-2025")


# --- images argument ----------------------------------------------------------------------

def test_bare_sources_get_roles_by_count(pics) -> None:
    one = build_request("", provider="ark", images=pics[0])
    assert [i.role for i in one.images] == ["first_frame"] and one.mode == "first"
    two = build_request("", provider="ark", images=pics[:2])
    assert [i.role for i in two.images] == ["first_frame", "last_frame"]
    assert two.mode == "first+last"
    pair = build_request("", provider="ark", model="2.0", images=(pics[0], "reference_image"))
    assert pair.mode == "ref"
    path = build_request("", provider="ark", images=[Path(pics[0])])
    assert path.images[0].source == pics[0]


def test_three_bare_sources_need_roles(pics) -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request("", provider="ark", model="2.0", images=pics[:3])
    assert err.value.problems == [
        "images: 3 images without roles; give (source, role) pairs with roles first_frame, "
        "last_frame, reference_image"]


def test_mixed_bare_and_pairs_and_bad_roles(pics) -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request("x", provider="ark", images=[pics[0], (pics[1], "last_frame")])
    assert err.value.problems[0].startswith("images: give a role for every image or for none")
    with pytest.raises(SeedanceValidationError) as err:
        build_request("x", provider="ark", images=[(pics[0], "start")])
    assert err.value.problems == [
        "images: 'start' is not a role; allowed: first_frame, last_frame, reference_image"]
    with pytest.raises(SeedanceValidationError) as err:
        build_request("x", provider="ark", images=[42])
    assert err.value.problems == ["images: 42 is not a source or a (source, role) pair"]


def test_image_and_flag_problems_are_reported_together(tmp_path: Path) -> None:
    small = make_image(tmp_path, "small.png", (200, 400))
    with pytest.raises(SeedanceFlagError) as err:
        build_request("A fox --rs 4k", provider="ark", model="2.0-fast", images=[small])
    assert err.value.problems == [
        "--rs 4k: not allowed for doubao-seedance-2-0-fast-260128 on ark; allowed: 480p, 720p",
        f"image {small!r}: width 200 px; each side must be strictly between 300 and 6000 px",
    ]


def test_request_body_limit_of_64_mb(tmp_path: Path) -> None:
    from PIL import Image

    paths = []
    for i in range(2):  # 2 x 25 MB BMP -> about 67 MB as base64 data URLs
        path = tmp_path / f"big{i}.bmp"
        Image.new("RGB", (2900, 2900)).save(path, "BMP")
        paths.append(str(path))
    with pytest.raises(SeedanceValidationError) as err:
        build_request("", provider="ark", images=paths)
    assert err.value.problems == [
        "images: request body would be 64.2 MB after encoding; the limit is 64 MB: use smaller "
        "images or http(s) URLs"]
    # One of them alone is fine; so is the pair as plain URLs.
    assert build_request("", provider="ark", images=paths[:1]).images[0].format == "bmp"


# --- comet first-frame warning (§2.3) ---------------------------------------------------

def test_comet_first_frame_warns_once_per_process(pics, monkeypatch) -> None:
    import warnings

    monkeypatch.setattr(request_module, "_warned_once", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = build_request("", provider="comet", model="2.0", images=[pics[0]])
        second = build_request("", provider="comet", model="2.0", images=[pics[1]])
        ref = build_request("", provider="comet", model="2.0",
                            images=[(pics[0], "reference_image")])
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "r2v" in messages[0]
    assert first.warnings == second.warnings == (messages[0],)
    assert ref.warnings == ()


# --- to_dict, round trip, fingerprint, repr ------------------------------------------------

def test_to_dict_has_only_set_fields(pics) -> None:
    req = build_request("A fox --rs 720P --dur 5", provider="ark", model="1.0-pro",
                        images=[pics[0]], seed=7, watermark=False)
    d = req.to_dict()
    assert d == {"provider": "ark", "model": "doubao-seedance-1-0-pro-250528", "prompt": "A fox",
                 "images": [{"source": pics[0], "role": "first_frame",
                             "sha256": req.images[0].sha256, "format": "png", "width": 640,
                             "height": 480}],
                 "resolution": "720p", "duration": 5, "seed": 7, "watermark": False}
    assert req.ratio is None and req.generate_audio is None  # defaults are the gateway's


def test_to_dict_of_the_emulator_names_the_dialect() -> None:
    d = build_request("A fox", provider="emulator", emulate="acedata", model="2.0-mini",
                      blocking=True, ref_videos=None).to_dict()
    assert d == {"provider": "emulator", "emulate": "acedata",
                 "model": "doubao-seedance-2-0-mini-260615", "prompt": "A fox",
                 "blocking": True}


@pytest.mark.parametrize("provider, emulate, kw", [
    ("ark", None, dict(model="1.0-pro", text="A fox --frames 121 --cf true", service_tier="flex",
                       images=1)),
    ("emulator", "comet", dict(model="2.0", text="A fox --rt 9:16 --dur 8", images=1)),
    ("byteplus", None, dict(model="2.0", text="", ref_videos=["https://e.example.com/v.mp4"],
                            ref_audios=["https://e.example.com/a.mp3"], images=3)),
    ("acedata", None, dict(model="2.0", text="x --rs 4k", blocking=True, seed=-1,
                           execution_expires_after=7200)),
])
def test_round_trip(provider, emulate, kw, pics) -> None:
    n = kw.pop("images", 0)
    text = kw.pop("text")
    role = "reference_image" if n > 1 or kw.get("ref_videos") else "first_frame"
    images = [(p, role) for p in pics[:n]]
    original = build_request(text, provider=provider, emulate=emulate, images=images, **kw)
    d = original.to_dict()
    again = build_request(d.pop("prompt"), provider=d.pop("provider"), model=d.pop("model"),
                          images=[(i["source"], i["role"]) for i in d.pop("images", [])], **d)
    assert again == original
    assert again.fingerprint() == original.fingerprint()


def test_fingerprint(pics, tmp_path: Path) -> None:
    base = build_request("A fox --dur 5", provider="ark", images=[pics[0]])
    copy = tmp_path / "copy.png"
    copy.write_bytes(Path(pics[0]).read_bytes())
    same_bytes = build_request("A fox --dur 5", provider="ark", images=[str(copy)])
    assert same_bytes.fingerprint() == base.fingerprint()  # images count by content
    assert len(base.fingerprint()) == 64 and int(base.fingerprint(), 16) >= 0
    other = [
        build_request("A fox --dur 6", provider="ark", images=[pics[0]]),
        build_request("A fox --dur 5 --seed 1", provider="ark", images=[pics[0]]),
        build_request("A fox --dur 5", provider="comet-volc", images=[pics[0]]),
        build_request("A fox --dur 5", provider="ark", images=[(pics[0], "first_frame"),
                                                                (pics[1], "last_frame")]),
        build_request("A dog --dur 5", provider="ark", images=[pics[0]]),
        build_request("A fox --dur 5", provider="emulator", emulate="ark", images=[pics[0]]),
        build_request("A fox --dur 5", provider="ark", images=["https://e.example.com/a.png"]),
    ]
    prints = {r.fingerprint() for r in other} | {base.fingerprint()}
    assert len(prints) == len(other) + 1


def test_repr_is_short_and_has_no_bytes() -> None:
    import base64

    url = "data:image/png;base64," + base64.b64encode(image_bytes((640, 480))).decode()
    req = build_request("A fox " * 40 + "--rs 720p", provider="ark", images=[url], seed=3)
    text = repr(req)
    assert len(text) < 400 and "base64,iVBOR" in text and "…" in text
    assert "resolution='720p'" in text and "seed=3" in text and "png 640x480" in text
    assert "ratio" not in text


def test_prompt_must_be_text() -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request(None, provider="ark")  # type: ignore[arg-type]
    assert err.value.problems == ["prompt must be a string, not NoneType"]


def test_integer_like_values_are_accepted_as_int() -> None:
    class Seconds:
        def __index__(self) -> int:
            return 6

    assert build_request("A fox", provider="ark", duration=Seconds()).to_dict()["duration"] == 6


def test_request_is_immutable() -> None:
    req = build_request("A fox", provider="ark")
    with pytest.raises(AttributeError):
        req.prompt = "A dog"  # type: ignore[misc]


# --- estimate (§9) ---------------------------------------------------------------------------

def test_estimate_with_a_known_price() -> None:
    est = build_request("A fox --rs 720p --rt 16:9 --dur 5", provider="ark",
                        model="1.0-pro").estimate()
    assert (est.tokens_min, est.tokens_max) == (103818, 103818)
    assert round(est.cost_min, 2) == 1.56 and est.currency == "CNY"
    assert est.text == "103,818 tokens (720p 16:9, 1248x704, 5 s); ≈ 1.56 CNY"
    flex = build_request("A fox --rs 720p --rt 16:9", provider="ark", model="1.0-pro",
                         service_tier="flex").estimate()
    assert round(flex.cost_max, 2) == 0.78 and "flex" in flex.text


def test_estimate_without_price_says_tokens_only() -> None:
    est = build_request("A fox --rs 720p --dur 5", provider="byteplus",
                        model="1.0-pro").estimate()
    assert est.tokens_min == 103818 and est.cost_min is None and est.cost_max is None
    assert est.currency == ""
    assert est.text == ("103,818 tokens (720p 16:9, 1248x704, 5 s); no known price for "
                        "seedance-1-0-pro-250528 on byteplus: tokens only")


def test_estimate_defaults_come_from_the_model() -> None:
    est = build_request("A fox", provider="ark", model="1.0-pro").estimate()  # 1080p 16:9 5 s
    assert est.tokens_min == 1920 * 1088 * 121 // 1024
    frames = build_request("A fox --frames 29", provider="ark", model="1.0-lite-t2v").estimate()
    assert frames.tokens_min == 1248 * 704 * 29 // 1024 and "29 frames" in frames.text


def test_estimate_range_for_duration_minus_one() -> None:
    est = build_request("A fox --dur -1 --rt 16:9", provider="ark", model="1.5-pro").estimate()
    assert est.tokens_min == 1280 * 720 * 97 // 1024
    assert est.tokens_max == 1280 * 720 * 289 // 1024
    assert "4-12 s, the model chooses" in est.text


def test_estimate_adaptive_uses_the_image_aspect(tmp_path: Path) -> None:
    tall = make_image(tmp_path, "tall.png", (600, 1000))  # 0.6: closest to 9:16
    est = build_request("A fox", provider="ark", model="1.0-pro", images=[tall]).estimate()
    assert "9:16 (from the image)" in est.text
    assert est.tokens_min == 1088 * 1920 * 121 // 1024
    remote = build_request("A fox", provider="ark", model="2.0",
                           images=["https://e.example.com/a.png"]).estimate()
    assert "16:9 (assumed)" in remote.text


def test_estimate_on_the_emulator_is_free() -> None:
    est = build_request("A fox --rs 720p --rt 16:9", provider="emulator", emulate="ark",
                        model="1.0-pro").estimate()
    assert round(est.cost_min, 2) == 1.56
    assert est.text.endswith("free on the emulator (ark: ≈ 1.56 CNY)")
    comet = build_request("A fox", provider="emulator", emulate="comet", model="2.0").estimate()
    assert comet.text.endswith("free on the emulator (comet: ≈ 0.76 USD (byteplus list price))")
    assert (comet.currency, comet.reference) == ("USD", "byteplus list price")


def test_estimate_is_frozen() -> None:
    est = build_request("A fox", provider="ark").estimate()
    with pytest.raises(AttributeError):
        est.tokens_min = 0  # type: ignore[misc]
    assert str(est) == est.text


# --- import cost -----------------------------------------------------------------------------

def test_importing_request_loads_no_heavy_module() -> None:
    code = ("import sys, seedance_nb, seedance_nb.request; "
            "print([m for m in ('PIL', 'requests', 'ipywidgets', 'numpy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- 2.5, assets, retirement, messages (§2.2-§2.4, §3, §9) ---------------------------------

def test_asset_images_pass_through_only_on_2x_ark_json_models() -> None:
    req = build_request("A fox --dur 5", provider="byteplus", model="2.5",
                        images=["asset://face-1"])
    assert req.images[0].source == "asset://face-1" and req.images[0].data is None
    assert req.mode == "first" and req.ratio == "adaptive"
    for provider, model in (("ark", "1.0-pro"), ("comet", "2.0")):
        with pytest.raises(SeedanceValidationError) as err:
            build_request("A fox", provider=provider, model=model, images=["asset://face-1"])
        assert err.value.problems[0].startswith("image 'asset://face-1': asset:// ids need a "
                                                "2.x model on an Ark-JSON provider")


def test_retired_models_build_but_are_not_sendable() -> None:
    from seedance_nb.request import check_sendable

    old = build_request("A fox --dur 5", provider="ark", model="1.5-pro")
    assert old.family == "1.5-pro" and old.fingerprint()  # old notebooks still validate
    assert old.send_problems() == [
        "model 1.5-pro: retired on 2026-11-11 (ark no longer serves "
        "doubao-seedance-1-5-pro-251215); use 2.0 or 2.0-fast"]
    with pytest.raises(SeedanceValidationError) as err:
        check_sendable(old)
    assert err.value.problems == old.send_problems()
    live = build_request("A fox", provider="ark", model="2.0")
    assert live.send_problems() == [] and check_sendable(live) is None
    comet = build_request("A fox", provider="comet", model="1.0-pro")
    assert comet.send_problems()[0].startswith("model 1.0-pro: retired on 2026-07-17")


def test_an_endpoint_mapped_to_a_retired_family_is_refused_like_it() -> None:
    req = build_request("A fox", provider="byteplus", model="ep-old",
                        endpoints={"ep-old": "1.0-lite-t2v"})
    assert req.send_problems() == [
        "endpoint ep-old maps to model 1.0-lite-t2v: retired on 2026-05-13 (byteplus no longer "
        "serves seedance-1-0-lite-t2v-250428); use 1.0-pro-fast or 2.0-fast"]
    ok = build_request("A fox", provider="ark", model="ep-new", endpoints={"ep-new": "2.0"})
    assert ok.send_problems() == []


def test_unset_2_5_duration_warns_once_per_session_and_estimates_a_range(monkeypatch) -> None:
    import warnings

    monkeypatch.setattr(request_module, "_warned_once", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = build_request("A fox", provider="ark", model="2.5")
        build_request("A dog", provider="ark", model="2.5")
        build_request("A fox --dur 5", provider="ark", model="2.5")
        build_request("A fox", provider="comet", model="2.5")  # unset seconds is 5 there
    texts = [str(w.message) for w in caught if "no duration" in str(w.message)]
    assert len(texts) == 1 and "up to 30 s" in texts[0] and "--dur N" in texts[0]
    assert first.duration is None and "duration" not in first.to_dict()  # never sent
    est = first.estimate()
    assert est.tokens_min < est.tokens_max and "4-30 s, the model chooses" in est.text


def test_estimates_use_list_prices_with_their_currency() -> None:
    ark = build_request("A fox --rs 1080p --dur 5", provider="ark", model="2.5").estimate()
    assert ark.tokens_min == 1920 * 1080 * 121 // 1024 and ark.currency == "CNY"
    assert ark.cost_min == pytest.approx(ark.tokens_min * 77 / 1e6)
    assert ark.reference is None and ark.text.endswith(f"≈ {ark.cost_min:.2f} CNY")
    ace = build_request("A fox --rs 720p --dur 5", provider="acedata", model="2.0-fast").estimate()
    assert ace.currency == "USD" and ace.reference == "byteplus list price"
    assert ace.text.endswith("≈ 0.61 USD (byteplus list price)")
    volc = build_request("A fox --dur 5", provider="comet-volc", model="2.0").estimate()
    assert volc.currency == "CNY" and volc.text.endswith("(ark list price)")


def test_draft_and_final_are_billed_at_480p_and_1080p() -> None:
    draft = build_request("A fox --dur 5", provider="byteplus", model="2.5", draft=True)
    assert draft.estimate().tokens_min == 864 * 496 * 121 // 1024
    assert "480p draft" in draft.estimate().text
    final = build_request("", provider="byteplus", draft_task_id="cgt-1").estimate()
    assert final.tokens_min == 1920 * 1080 * 97 // 1024  # 4 s ... 30 s: the draft's length
    assert final.tokens_max == 1920 * 1080 * 721 // 1024
    assert final.cost_min == pytest.approx(final.tokens_min * 11.70 / 1e6)


def test_reference_video_estimate_counts_input_seconds_when_known() -> None:
    req = build_request("A fox --dur 5 --rs 720p", provider="ark", model="2.0",
                        ref_videos=["https://e.example.com/v.mp4"])
    est = req.estimate()
    assert est.tokens_min == 5 * 1280 * 720 * 24 // 1024 and est.input_unknown
    assert "plus the input video's length" in est.text
    assert est.cost_min == pytest.approx(est.tokens_min * 28 / 1e6)  # with-video-input rate
    known = req.estimate(input_seconds=3)
    assert known.tokens_min == 8 * 1280 * 720 * 24 // 1024 and not known.input_unknown
    assert "+ 3 s of input video" in known.text


def test_adaptive_2_5_estimate_uses_the_16_9_pixel_count(tmp_path: Path) -> None:
    tall = make_image(tmp_path, "tall.png", (600, 1000))
    est = build_request("A fox --dur 5", provider="ark", model="2.5", images=[tall]).estimate()
    assert est.tokens_min == 1280 * 720 * 121 // 1024 and "16:9 pixel count" in est.text


def test_messages_quote_what_the_user_typed() -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request("A fox", provider="ark", model="2.0-fast", resolution="1080p",
                      typed_as={"resolution": "--rs 1080p"})
    assert err.value.problems == [
        "--rs 1080p: not allowed for doubao-seedance-2-0-fast-260128 on ark; allowed: 480p, 720p"]
    with pytest.raises(SeedanceValidationError) as err:
        build_request("A fox", provider="ark", model="2.0-fast", resolution="1080p")
    assert err.value.problems[0].startswith("resolution='1080p': not allowed")
    with pytest.raises(SeedanceValidationError) as err:  # a swept value
        build_request("A fox", provider="ark", model="2.0", seed=-5,
                      typed_as={"seed": "--sweep seed={}"})
    assert err.value.problems == ["--sweep seed=-5: out of range; allowed: -1 to 4294967295"]
    with pytest.raises(SeedanceFlagError) as err:
        build_request("A fox --resolution 720p", provider="ark", resolution="480p",
                      typed_as={"resolution": "--rs 480p"})
    assert err.value.problems == ["--resolution 720p: duplicate of --rs 480p; give each "
                                  "setting once"]


@pytest.mark.parametrize("text, line", [
    ("A fox --model 2.0-fast", "--model 2.0-fast: --model is a line option: put it on the "
                               "%%seedance line (in Python: model=)"),
    ("A fox --image x.png", "--image x.png: --image is a line option: put it on the %%seedance "
                            "line (in Python: images=)"),
    ("A fox --draft", "--draft: --draft is a line option: put it on the %%seedance line (in "
                      "Python: draft=)"),
])
def test_a_line_option_in_the_prompt_says_where_it_belongs(text, line) -> None:
    with pytest.raises(SeedanceFlagError) as err:
        build_request(text, provider="ark")
    assert err.value.problems == [line]


def test_a_hyphenated_line_option_in_the_prompt_is_kept_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="--last-frame is a line option"):
        req = build_request("A fox --last-frame b.png", provider="ark")
    assert req.prompt == "A fox --last-frame b.png"


def test_other_unencodable_text_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(SeedanceValidationError) as err:
        build_request("ok", provider="ark", model="2.5", draft_task_id="cgt-\udcff")
    assert "lone surrogate" in err.value.problems[0]
    with pytest.raises(SeedanceValidationError) as err:
        build_request("ok", provider="ark", model="2.0", ref_videos=["https://e.example.com/\ud800"])
    assert "character 23 (U+D800)" in err.value.problems[0]


@pytest.mark.parametrize("images", [[(None, "first_frame")], [None], ["None"]])
def test_an_image_from_a_job_still_running_says_to_wait(images) -> None:
    """`images=[(job.last_frame_path, ...)]` (or `--image {job.last_frame_path}`) read before
    the job finished: the error says why and what to do, not just "not a source"."""
    with pytest.raises(SeedanceValidationError) as err:
        build_request("next clip", provider="emulator", model="2.0-fast", images=images)
    assert "until it has finished" in str(err.value) and "job.wait()" in str(err.value)
