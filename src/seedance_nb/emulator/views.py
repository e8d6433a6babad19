"""Task bodies per dialect (reference §5.2, §5.3, §6.1–§6.3)."""
from __future__ import annotations

import time
from typing import Any, Optional

from .signing import Signer
from .store import Task, video_name

_COMET_WORDS = {
    "upper": {"queued": "SUBMITTED", "running": "IN_PROGRESS", "succeeded": "SUCCESS",
              "failed": "FAILED", "expired": "ERROR", "cancelled": "ERROR"},
    "lower": {"queued": "queued", "running": "in_progress", "succeeded": "completed",
              "failed": "failed", "expired": "error", "cancelled": "error"},
}


def file_urls(task: Task, signer: Signer, base: Optional[str] = None) -> dict[str, str]:
    """Signed URLs on the host the reader used (else the creator's, for callbacks)."""
    base = base or task.base_url
    urls = {"video_url": signer.url(base, f"/files/{video_name(task)}", task.finished)}
    if task.params.return_last_frame:
        urls["last_frame_url"] = signer.url(base, f"/files/{task.id}-last.png", task.finished)
    return urls


def ark_task(task: Task, signer: Signer, base: Optional[str] = None) -> dict[str, Any]:
    p = task.params
    body: dict[str, Any] = {"id": task.id, "model": p.model, "status": task.status}
    if task.status == "succeeded":
        body["content"] = file_urls(task, signer, base)
        body["usage"] = {"completion_tokens": task.tokens, "total_tokens": task.tokens}
    if task.status == "failed" and task.error:
        body["error"] = dict(task.error)
    body.update({"created_at": int(task.created), "updated_at": int(task.updated),
                 "seed": task.seed, "resolution": p.resolution, "ratio": p.ratio})
    if p.frames is not None:
        body["frames"] = p.frames
    else:
        body["duration"] = p.duration
    body.update({"framespersecond": 24, "service_tier": p.service_tier,
                 "execution_expires_after": p.execution_expires_after})
    body.update(model_fields(task))
    return body


def model_fields(task: Task) -> dict[str, Any]:
    """generate_audio for the 2.x families; draft, output_format (and on finals
    draft_task_id) for 2.5 (§6.1)."""
    p = task.params
    out: dict[str, Any] = {}
    if p.audio_field:
        out["generate_audio"] = p.generate_audio
    if p.draft_fields:
        out.update(draft=p.draft, output_format=p.output_format)
        if p.draft_task_id:
            out["draft_task_id"] = p.draft_task_id
    return out


def comet_status(task: Task, case: str) -> str:
    return _COMET_WORDS[case][task.status]


def comet_video(task: Task, signer: Signer, case: str, base: Optional[str] = None) -> dict:
    now = time.time()
    body: dict[str, Any] = {
        "id": task.id, "task_id": task.id, "object": "video", "model": task.params.model,
        "status": comet_status(task, case), "progress": task.progress(now),
        "created_at": int(task.created),
        "completed_at": int(task.finished) if task.finished is not None else None,
        "seconds": str(task.params.duration), "size": task.params.ratio,
        "resolution": task.params.resolution,
    }
    if task.status == "succeeded":
        body["video_url"] = file_urls(task, signer, base)["video_url"]
    elif task.status == "failed" and task.error:
        body["error"] = dict(task.error)
    elif task.status == "expired":
        body["error"] = {"code": "expired", "message": "the task did not finish within "
                                                       f"{task.params.execution_expires_after} s"}
    return body


def ace_data(task: Task, signer: Signer, base: Optional[str] = None) -> dict[str, Any]:
    p = task.params
    data: dict[str, Any] = {"task_id": task.upstream_id, "status": task.status, "model": p.model}
    data.update(file_urls(task, signer, base))
    data.update({"duration": p.duration, "resolution": p.resolution, "ratio": p.ratio,
                 "seed": task.seed,
                 "usage": {"completion_tokens": task.tokens, "total_tokens": task.tokens}})
    if p.frames is not None:
        data["frames"] = p.frames
    data.update(model_fields(task))
    return data


def ace_failure(task: Task) -> dict[str, str]:
    if task.status == "expired":
        text = f"expired: the task did not finish within {task.params.execution_expires_after} s"
    else:
        err = task.error or {"code": "InternalServiceError", "message": "task failed"}
        text = f"{err['code']}: {err['message']}"
    return {"code": "api_error", "message": text}


def ace_final(task: Task, signer: Signer, base: Optional[str] = None) -> dict[str, Any]:
    """The terminal reply: blocking create body, callback body, record `response`."""
    if task.status == "succeeded":
        return {"success": True, "task_id": task.id, "trace_id": task.trace_id,
                "data": ace_data(task, signer, base)}
    return {"success": False, "task_id": task.id, "trace_id": task.trace_id,
            "error": ace_failure(task)}


def ace_record(task: Task, signer: Signer, base: Optional[str] = None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "_id": task.id.replace("-", "")[:24], "id": task.id, "api_id": "seedance-videos",
        "application_id": "emulator", "credential_id": "emulator", "user_id": "emulator",
        "type": "videos", "trace_id": task.trace_id, "created_at": round(task.created, 3),
        "started_at": round(task.created, 3), "request": task.request,
    }
    if task.status in ("succeeded", "failed", "expired", "cancelled"):
        record["finished_at"] = round(task.finished, 3)
        record["elapsed"] = round(task.finished - task.created, 3)
        record["response"] = ace_final(task, signer, base)
    return record
