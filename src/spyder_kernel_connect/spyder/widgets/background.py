"""Run a blocking call on a Python thread and get its result back on the GUI thread."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from qtpy.QtCore import QObject, Signal


class BackgroundCall(QObject):
    """Signals emitted from the worker thread are queued to this object's (GUI) thread."""

    sig_done = Signal(object)
    sig_failed = Signal(object)

    def __init__(self, parent: QObject, fn: Callable[[], Any]) -> None:
        super().__init__(parent)
        self._fn = fn
        self.thread = threading.Thread(target=self._run, name="kernel-connect-call", daemon=True)

    def _run(self) -> None:
        try:
            result = self._fn()
        except BaseException as err:  # reported to the GUI, never lost in a thread
            self._emit("sig_failed", err)
        else:
            self._emit("sig_done", result)

    def _emit(self, name: str, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the receiver was deleted meanwhile
            getattr(self, name).emit(value)


def run_in_thread(
    parent: QObject,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[BaseException], None],
) -> BackgroundCall:
    call = BackgroundCall(parent, fn)
    call.sig_done.connect(on_done)
    call.sig_failed.connect(on_error)
    call.sig_done.connect(call.deleteLater)
    call.sig_failed.connect(call.deleteLater)
    call.thread.start()
    return call
