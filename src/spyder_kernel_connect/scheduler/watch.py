"""Watch a connected kernel's job: time left, one warning before the limit, its end.

A daemon thread asks the scheduler every ``interval`` seconds (and counts the time left
down locally in between), so a console can show "1:23:45 left", print one warning ten
minutes before the limit and say "the job ended" instead of reporting a dead kernel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.scheduler.base import JobPhase, JobStatus, Scheduler

log = logging.getLogger(__name__)

WARN_BEFORE = 600.0  # seconds before the time limit
POLL_INTERVAL = 30.0


@dataclass(eq=False)
class JobWatcher:
    """Calls ``on_warning(seconds_left)`` once and ``on_ended(status)`` once, from its thread."""

    scheduler: Scheduler
    job_id: str
    on_ended: Callable[[JobStatus], None]
    on_warning: Callable[[float], None] | None = None
    on_status: Callable[[JobStatus], None] | None = None
    interval: float = POLL_INTERVAL
    warn_before: float = WARN_BEFORE
    status: JobStatus | None = field(default=None, init=False)  # the last one the scheduler gave

    def __post_init__(self) -> None:
        self._seen_at = 0.0
        self._warned = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"job-{self.job_id}", daemon=True)

    def start(self) -> JobWatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(10)

    def time_left(self) -> float | None:
        """Seconds to the time limit now (counted down since the last query); None: unknown."""
        if self.status is None or self.status.time_left is None:
            return None
        return max(self.status.time_left - (time.monotonic() - self._seen_at), 0.0)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status = self.scheduler.state(self.job_id)
            except KernelConnectError as err:  # SSH down, reconnecting: ask again later
                log.info("job %s: cannot query the scheduler: %s", self.job_id, err)
                self._stop.wait(self.interval)
                continue
            self.status, self._seen_at = status, time.monotonic()
            self._call(self.on_status, status)
            if status.phase not in (JobPhase.PENDING, JobPhase.RUNNING):
                self._call(self.on_ended, status)
                return
            self._maybe_warn()
            # Wake for the warning on time even between two queries.
            left = self.time_left()
            wait = self.interval
            if not self._warned and left is not None:
                wait = min(wait, max(left - self.warn_before, 0.0) + 0.1)
            if self._stop.wait(wait):
                return
            self._maybe_warn()

    def _maybe_warn(self) -> None:
        left = self.time_left()
        if not self._warned and left is not None and left <= self.warn_before:
            self._warned = True
            self._call(self.on_warning, left)

    @staticmethod
    def _call(callback, value) -> None:
        if callback is None:
            return
        try:
            callback(value)
        except Exception:
            log.exception("job watcher callback failed")
