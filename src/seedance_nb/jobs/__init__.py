"""Background jobs (reference §8): submit, poll, download, resume.

Threads (per process; all daemon threads):

- `seedance-nb-scheduler`: one per JobManager. Keeps time only: takes commands
  from callers, ends every job whose deadline passed (whatever its gateway is
  doing), and starts a lane's turn when the lane has work due. It sends no request.
- `seedance-nb-laneN-<provider>_0`: one worker per lane. A lane is one gateway
  setting (provider, dialect, base URL, key). A turn on it runs that lane's
  cancels, due creates and one poll round (a batched read per up to 500 Ark /
  50 AceData tasks), then applies the results to the jobs and the ledger.
- `seedance-nb-laneN-<provider>-io_K` (up to 4 per lane, on demand): the lane's
  parallel single reads (comet, comet-volc) and downloads.
- `seedance-nb-laneN-<provider>-create_K` (on demand): blocking acedata creates,
  held open until the video is done, so the lane's other jobs keep being polled.
- `seedance-reply-deadline` (http.py, one per process): shuts sockets whose reply
  deadline passed, so a trickling reply ends on time.

Lane threads are daemon threads (not a ThreadPoolExecutor, whose threads are joined
at exit): a read stuck on a stalled gateway never holds the kernel's exit.

A read's Retry-After or backoff never sleeps: the transport's sleep raises
`lanes.Deferred` during a poll and the lane's next poll is scheduled after it, so a
slow, stalled or rate-limited gateway delays only its own lane. The caller's thread
only validates, writes the intent to the ledger and enqueues.

Write-ahead order with the ledger: intent (`waiting`) -> admitted and sending (one
commit; admission.py) -> created (the id is stored before anything else can fail) ->
task changes -> files. A held job is retried at a lane time (its lane's next poll round,
or when the RPM window or a Retry-After frees a slot), never slept on.

Modules: job.py (Job), scheduler.py (JobManager), lanes.py, creates.py,
admission.py (budgets for queued tasks, RPM and concurrency, shared through the
ledger), polling.py, downloads.py (and previews of MOV results), drafts.py (draft -> final:
the final's model, refused draft ids), recovery.py (resume, adopt, dismiss),
resume_report.py (what a resume found, as text and HTML), api.py
(submit, generate, wait_all, the process-wide manager).
"""
from __future__ import annotations

from typing import Any

from .api import EMULATOR_NOTICE, generate, manager, set_manager, submit, wait_all
from .job import (COMET_IN_FLIGHT, CRASH_ENV, DOWNLOAD_ROUNDS, ENDED, FIRST_CHECK_S, JITTER,
                  NO_URL_POLLS, TERMINAL, Job, poll_interval)
from .lanes import Lane, RoundStat
from .recovery import UNSENT_GRACE_S, adopt, dismiss, resume
from .scheduler import JobManager

__all__ = ["Job", "JobManager", "Lane", "RoundStat", "manager", "set_manager", "submit",
           "generate", "wait_all", "resume", "adopt", "dismiss", "poll_interval",
           "EMULATOR_NOTICE", "COMET_IN_FLIGHT", "CRASH_ENV", "DOWNLOAD_ROUNDS", "ENDED",
           "FIRST_CHECK_S", "JITTER", "NO_URL_POLLS", "TERMINAL", "UNSENT_GRACE_S"]


def __getattr__(name: str) -> Any:
    if name == "_manager":  # the current process-wide manager (tests save and restore it)
        from . import api

        return api._manager
    raise AttributeError(f"module 'seedance_nb.jobs' has no attribute {name!r}")
