"""Push saves as they happen, in order, and let a run wait until its files are on the host.

``LiveSync`` owns one worker thread per mapping. ``notify_saved(path)`` queues a path and
returns at once (the editor never waits on the network); ``flush()`` blocks until every
path queued *before* it was pushed (or failed, which is reported) — the ordering guarantee
a run relies on: "the files saved before this run are on the host". Failed files are
retried with the next save. ``watch()`` turns a polling scan into notifications (the CLI's
``sync --watch``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.sync.engine import ProjectSync, PushReport
from spyder_kernel_connect.sync.scan import fingerprint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncEvent:
    """What the worker did: a push report, or the error of a failed push."""

    report: PushReport | None = None
    error: KernelConnectError | None = None


class LiveSync:
    def __init__(
        self, project: ProjectSync, on_event: Callable[[SyncEvent], None] | None = None
    ) -> None:
        self.project = project
        self.on_event = on_event
        self._cond = threading.Condition()
        self._pending: dict[str, None] = {}  # insertion-ordered set of local paths
        self._failed: set[str] = set()
        self._queued = 0  # sequence number of the last notification
        self._done = 0  # every notification up to this one is handled
        self._closed = False
        self._seen: dict[str, tuple[int, int]] | None = None  # the last look at the project
        self._cancel = threading.Event()  # set by close: a push stops between files
        self._thread = threading.Thread(target=self._work, name="skc-sync-push", daemon=True)
        self._thread.start()

    def notify_saved(self, *local_paths: str) -> int:
        """Queue saved (or deleted) paths; returns the ticket ``flush`` can wait for."""
        with self._cond:
            for path in local_paths:
                self._pending[path] = None
            self._queued += 1
            self._cond.notify_all()
            return self._queued

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._done == self._queued

    def flush(self, timeout: float | None = None, ticket: int | None = None) -> bool:
        """Wait until everything queued so far (or up to ``ticket``) is handled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            target = self._queued if ticket is None else ticket
            while self._done < target and not self._closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._cond.wait(left)
            return self._done >= target

    def close(self, wait: bool = True) -> None:
        """Stop pushing. A push under way stops before its next file (files are whole or
        not there); ``wait=False`` returns at once and lets the worker end on its own."""
        with self._cond:
            self._closed = True
            self._cancel.set()
            self._cond.notify_all()
        if wait and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def check_now(self) -> int | None:
        """Scan the project once and queue what changed since the last look (the first look
        compares with the record of the last push). Returns the ticket, or None if nothing
        changed. Cheap (one stat per file): a run calls it to be sure nothing saved is left."""
        project = self.project
        now = fingerprint(project.local_dir, project.max_file_size)
        with self._cond:
            if self._seen is None:
                self._seen = {
                    rel: (record.local_size, record.local_mtime_ns)
                    for rel, record in dict(project.manifest.files).items()
                }
            changed = [rel for rel, state in now.items() if self._seen.get(rel) != state]
            changed += [rel for rel in self._seen if rel not in now]
            self._seen = now
        if not changed:
            return None
        return self.notify_saved(*(project.local_path(rel) for rel in changed))

    def watch(self, stop: threading.Event, interval: float = 0.5) -> None:
        """Poll the project and queue every added, changed or removed file until ``stop``."""
        while True:
            self.check_now()
            if stop.wait(interval):
                return

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                paths = list(self._failed) + list(self._pending)
                self._pending.clear()
                self._failed.clear()
                ticket = self._queued
            event = self._push(paths)
            listener = self.on_event  # None once the caller has gone (close)
            if listener is not None:  # before the run is let go: its report comes first
                try:
                    listener(event)
                except Exception:  # a listener's bug must not stop the pushes
                    log.exception("sync event listener failed")
            with self._cond:
                if event.error is not None:
                    self._failed.update(paths)
                self._done = ticket
                self._cond.notify_all()
            # The record is written after the waiting run is let go: it is not on the path
            # of "save, then run". Lost in a crash, the next push compares contents instead.
            try:
                self.project.save_record()
            except OSError as err:
                log.warning("could not save the sync record: %s", err)

    def _push(self, paths: list[str]) -> SyncEvent:
        try:
            return SyncEvent(
                report=self.project.push_paths(paths, save_record=False, cancel=self._cancel)
            )
        except KernelConnectError as err:
            return SyncEvent(error=err)
        except Exception as err:  # never let the worker die silently
            log.debug("push failed", exc_info=True)
            return SyncEvent(error=KernelConnectError(f"Sync failed: {err}."))
