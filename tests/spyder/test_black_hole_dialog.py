"""Cancel, timeout or a hostile server: one message and no internal error (issues 11.1, 14).

Spyder opens its "internal problem" window for anything written to its stderr (its
internal console replaces sys.stderr) and for exceptions reaching sys.excepthook or
threading.excepthook. Here the dialog lists kernels on a port that accepts and never
answers, through the worker the plugin uses, with all three watched the same way.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time

import pytest
from qtpy.QtCore import Qt

from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.service import ConnectService
from spyder_kernel_connect.spyder.widgets.background import run_in_thread
from spyder_kernel_connect.ssh import TunnelManager
from tests.hostile import hostile_server


class SpyderStderr(io.StringIO):
    """Stands for Spyder's internal console: every write would open the error window."""


@contextlib.contextmanager
def spyder_error_reporter(monkeypatch):
    """What opens Spyder's internal-error window: writes to sys.stderr (its internal
    console), sys.excepthook, threading.excepthook. Logging is left as Spyder leaves it
    outside debug mode: no root handler, so a library's record would go to sys.stderr
    (logging.lastResort). Entered in the test body: pytest swaps sys.stderr and adds its
    log handlers for the call phase, after fixtures ran."""
    stderr = SpyderStderr()
    caught: list = []
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers.clear()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(sys, "excepthook", lambda *exc: caught.append(exc[1]))
    monkeypatch.setattr(threading, "excepthook", lambda args: caught.append(args.exc_value))
    try:
        yield stderr, caught
    finally:
        root.handlers[:] = saved
        monkeypatch.undo()


@pytest.mark.parametrize(
    ("behaviour", "how"),
    [
        ("black-hole", "cancel"),
        ("black-hole", "timeout"),
        ("garbage", "error"),
        ("huge-packet", "error"),
        ("close-at-once", "error"),
    ],
)
def test_black_hole_list_cancel_or_timeout_one_message(dialog, qtbot, ssh_home, behaviour, how):
    manager = TunnelManager()
    service = ConnectService(manager=manager)
    outcome: list = []
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        spyder_error_reporter(monkeypatch) as (stderr, caught),
        hostile_server(behaviour) as port,
    ):
        dialog.remote_group.setChecked(True)
        dialog.remote_group.hostname.setText("127.0.0.1")
        dialog.remote_group.port.setText(str(port))
        dialog.remote_group.username.setText("nobody")
        cancel = threading.Event()
        dialog.sig_cancel_requested.connect(cancel.set)
        with qtbot.waitSignal(dialog.sig_remote_list_requested) as requested:
            qtbot.mouseClick(dialog.remote_kernels.refresh_button, Qt.LeftButton)
        settings = requested.args[0]
        dialog.set_busy("Looking for kernels...")
        run_in_thread(
            dialog,
            lambda: service.list_host(settings.ssh_target(), settings.host(), cancel),
            outcome.append,
            outcome.append,
        )
        if how == "cancel":
            qtbot.wait(500)
            qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: bool(outcome), timeout=30_000)
        (error,) = outcome
        assert isinstance(error, KernelConnectError), error
        dialog.set_idle()
        dialog.show_failure(error)
        # paramiko's thread logs its failure after ours; give it time to do so.
        end = time.monotonic() + 3
        while time.monotonic() < end:
            qtbot.wait(100)
    manager.close_all()
    expected = {"cancel": "cancelled", "timeout": "Timed out"}.get(how, "")
    assert expected in str(error)
    assert dialog.error_label.plain_text() == error.gui_text()  # the one message shown
    assert caught == []
    assert stderr.getvalue() == ""
