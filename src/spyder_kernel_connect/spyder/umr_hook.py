"""Load and configure the kernel-side UMR in every console, with one silent execute.

Spyder's own options are the one switch: Preferences -> Python interpreter -> User Module
Reloader (``main_interpreter`` section: ``umr/enabled``, ``umr/verbose``, ``umr/namelist``).
Each console gets ``bootstrap_code`` once per kernel (a restart replaces the kernel
handler, so the handler's identity tells a new kernel apart) and again whenever one of
those options changes. The code is idempotent, so sending it twice is harmless.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

from qtpy.QtCore import QObject, QTimer
from spyder.api.config.decorators import on_conf_change
from spyder.api.config.mixins import SpyderConfigurationObserver

logger = logging.getLogger(__name__)


def umr_code(options: dict[str, Any]) -> str | None:
    """The bootstrap source for these preferences, or None without the UMR engine."""
    try:
        from spyder_kernel_connect.umr.bootstrap import bootstrap_code
    except ImportError as err:
        logger.warning("The kernel-side UMR is not available: %s", err)
        return None
    return bootstrap_code(
        enabled=bool(options.get("enabled", True)),
        verbose=bool(options.get("verbose", True)),
        exclude=list(options.get("exclude", [])),
    )


UMR_SECTION = "main_interpreter"  # where Spyder (and its documentation) keeps the UMR switch
UMR_OPTIONS = ["umr/enabled", "umr/verbose", "umr/namelist"]


class ConsoleUMR(QObject, SpyderConfigurationObserver):
    CONF_SECTION = UMR_SECTION

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._shells: weakref.WeakSet = weakref.WeakSet()
        # shellwidget -> the kernel handler the code was last sent through
        self._sent_to: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.sent_count = 0
        # Apply writes the options one by one: reconfigure the consoles once.
        self._resend_timer = QTimer(self, singleShot=True, interval=0)
        self._resend_timer.timeout.connect(self.resend_all)

    def options(self) -> dict[str, Any]:
        """The UMR settings from Spyder's Python interpreter preferences."""
        return {
            "enabled": self.get_conf("umr/enabled", True),
            "verbose": self.get_conf("umr/verbose", True),
            "exclude": list(self.get_conf("umr/namelist", [])),
        }

    @on_conf_change(section=UMR_SECTION, option=UMR_OPTIONS)
    def _on_umr_option_changed(self, option: str, value: Any) -> None:
        self._resend_timer.start()

    def attach(self, shellwidget: Any) -> None:
        if shellwidget in self._shells:
            return
        self._shells.add(shellwidget)
        ref = weakref.ref(shellwidget)
        # Spyder kernels: ready after each (re)start. Plain ipykernels never emit it,
        # but show a prompt once connected: the first prompt of each kernel handler.
        shellwidget.sig_kernel_is_ready.connect(lambda: self._send_if_alive(ref, force=True))
        shellwidget.sig_prompt_ready.connect(lambda: self._send_if_alive(ref, force=False))
        if self._is_ready(shellwidget):
            self.send(shellwidget)

    def detach(self, shellwidget: Any) -> None:
        self._shells.discard(shellwidget)
        self._sent_to.pop(shellwidget, None)

    def resend_all(self) -> None:
        """Preferences changed: reconfigure every open console at once."""
        for shellwidget in list(self._shells):
            if self._is_ready(shellwidget):
                self.send(shellwidget)

    def send(self, shellwidget: Any) -> bool:
        code = umr_code(self.options())
        if code is None:
            return False
        try:
            shellwidget.silent_execute(code)
        except RuntimeError:  # the widget was deleted meanwhile
            return False
        self._sent_to[shellwidget] = id(shellwidget.kernel_handler)
        self.sent_count += 1
        return True

    def _send_if_alive(self, ref: weakref.ref, force: bool) -> None:
        shellwidget = ref()
        if shellwidget is None or shellwidget not in self._shells:
            return
        if not force and self._sent_to.get(shellwidget) == id(shellwidget.kernel_handler):
            return
        self.send(shellwidget)

    @staticmethod
    def _is_ready(shellwidget: Any) -> bool:
        from spyder.plugins.ipythonconsole.utils.kernel_handler import KernelConnectionState

        handler = getattr(shellwidget, "kernel_handler", None)
        return handler is not None and handler.connection_state in (
            KernelConnectionState.SpyderKernelReady,
            KernelConnectionState.IpykernelReady,
        )
