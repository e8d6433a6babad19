"""The emulator's routes: which gateway a path belongs to (its prefix) and which action
a method and path name (create, get, list, delete, models, Ace's task query), and how
fault rules classify a request (read, write, file or other).
"""
from __future__ import annotations

from typing import Optional

_MODELS = "/models"
_PREFIXES = (("/api/v3", "ark"), ("/v1/videos", "comet"), ("/volc/v3", "volc"),
             ("/seedance", "ace"))
_TASKS = "/contents/generations/tasks"

def prefix_of(path: str) -> Optional[tuple[str, str]]:
    for root, prefix in _PREFIXES:
        if path == root or path.startswith(root + "/"):
            return prefix, path[len(root):]
    return None


_ROOTS = {prefix: root for root, prefix in _PREFIXES}


def match(prefix: str, rest: str, method: str) -> Optional[tuple[str, str]]:
    """(action, task id or "") for a known route, else None."""
    if prefix == "ark" and rest == _MODELS and method == "GET":
        return "models", ""
    if prefix in ("ark", "volc"):
        if rest == _TASKS:
            if method == "POST":
                return "create", ""
            if method == "GET" and prefix == "ark":
                return "list", ""
        elif rest.startswith(_TASKS + "/"):
            task_id = rest[len(_TASKS) + 1:]
            if task_id and "/" not in task_id:
                if method == "GET":
                    return "get", task_id
                if method == "DELETE" and prefix == "ark":
                    return "delete", task_id
    elif prefix == "comet":
        if rest == "" and method == "POST":
            return "create", ""
        if rest.count("/") == 1 and len(rest) > 1 and method == "GET":
            return "get", rest[1:]
    elif prefix == "ace" and method == "POST":
        if rest == "/videos":
            return "create", ""
        if rest == "/tasks":
            return "tasks", ""
    return None


def route_kind(method: str, path: str) -> str:
    """"read", "write", "file" or "other" (healthz, stats, unknown) for fault rules."""
    if path.startswith("/files/"):
        return "file"
    found = prefix_of(path)
    if found is None:
        return "other"
    prefix, rest = found
    if method == "GET" or (prefix == "ace" and rest == "/tasks"):
        return "read"
    return "write"
