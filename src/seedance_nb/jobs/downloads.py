"""Downloads of finished videos (claimed in the ledger so one process fetches each)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from ..config import is_loopback
from ..errors import SeedanceError
from .creates import fail_job
from .job import DOWNLOAD_ROUNDS, Job, _file_ok
from .lanes import Lane

log = logging.getLogger("seedance_nb")


class DownloadMixin:
    # --- downloads -----------------------------------------------------------------
    @staticmethod
    def _session(lane: Lane) -> Any:
        session = getattr(lane, "dl_session", None)
        if session is None:
            import requests

            from ..http import USER_AGENT
            from ..http_rules import env_ca_bundle

            # A separate session without the bearer key: file URLs are on other hosts.
            session = lane.dl_session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            # media reads the proxy settings once per file host, not per request
            session.trust_env = False
            session.verify = env_ca_bundle() or True
        return session

    def _download_due(self, lane: Lane, jobs: list[Job]) -> None:
        """Download on the lane's fan-out threads (a slow file host delays only this lane)."""
        if not jobs:
            return
        session = self._session(lane)
        if len(jobs) == 1:  # the usual case at a poll interval: no hand-off to a thread
            results = [self._download(jobs[0], session)]
        else:
            results = list(lane.fanout().map(lambda j: self._download(j, session), jobs))
        for job, (files, exc) in zip(jobs, results):
            for kind, path in files.items():
                setattr(job, "video_path" if kind == "video" else "last_frame_path", path)
            if exc is None and "video" in files:
                job._needs_download = False
                self._detach(job)
                job._finish("succeeded")
                continue
            if exc is None:
                continue  # another process holds the claim: look again next round
            if getattr(exc, "code", "") == "NotAVideo":
                # Not kept, not reusable: the task's result is not a video.
                fail_job(job, "NotAVideo", getattr(exc, "message", None) or str(exc))
                continue
            job._download_failures += 1
            if getattr(exc, "expired", False) or job._download_failures >= DOWNLOAD_ROUNDS:
                self._detach(job)
                job._finish("succeeded", exc)
            else:
                log.info("download for %s failed (%s); next round", job.task_id, exc)

    def _download(self, job: Job, session: Any) -> tuple[dict, Optional[BaseException]]:
        from .. import media

        task, led, row = job.task, job.ledger, job.ledger_id
        files: dict[str, str] = {}
        # http to this machine only when the gateway itself is here (the emulator, §8).
        local = is_loopback(urlsplit(job.settings.base_url).hostname)
        if task is None or not task.video_url:
            return files, SeedanceError("no video URL to download")
        for kind, url in (("video", task.video_url), ("last_frame", task.last_frame_url)):
            if not url:
                continue
            if not led.claim_download(row, kind, self._owner):
                # already on disk (another process fetched it), or someone else's to fetch
                current = led.get(row) or {}
                recorded = current.get(f"{kind}_path")
                if not _file_ok(recorded, current.get(f"{kind}_sha256")):
                    return files, None
                files[kind] = recorded
                continue
            fmt = task.output_format or getattr(job.request, "output_format", None)
            dest = Path(job._output_dir) / media.output_name(job.provider, task.id, kind, fmt)
            try:
                got = media.download(url, dest, session=session, allow_http_loopback=local,
                                     expires_at=task.url_expires_at)
            except Exception as exc:  # noqa: BLE001 - reported on the job, never lost
                led.release_claim(row, kind, self._owner)
                if not isinstance(exc, SeedanceError) and not hasattr(exc, "expired"):
                    exc = SeedanceError(f"download of {kind} failed: {exc}")
                return files, exc
            led.record_file(row, kind, got.path, got.sha256, got.size)
            files[kind] = str(got.path)
            if kind == "video":
                _preview(got.path)
        return files, None


def _preview(path: Any) -> None:
    """Make the browser-playable preview of a MOV/4:4:4/H.265 result here, on the lane's
    download thread, so displaying it later costs nothing (§8 Previews)."""
    from ..preview import make_preview

    try:
        make_preview(path)
    except Exception:  # noqa: BLE001 - the original is kept; display says why
        log.warning("could not make a preview of %s", path, exc_info=True)
