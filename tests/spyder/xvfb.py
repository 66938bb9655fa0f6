"""Start and stop a private Xvfb server by PID (used by the GUI tests and the screenshot script)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

SOCKET_DIR = "/tmp/.X11-unix"


def _display_taken(number: int) -> bool:
    return os.path.exists(f"{SOCKET_DIR}/X{number}") or os.path.exists(f"/tmp/.X{number}-lock")


class Xvfb:
    """An Xvfb on a display derived from our PID (away from the usual :0/:99)."""

    def __init__(self, size: str = "1400x900x24") -> None:
        self.size = size
        self.process: subprocess.Popen | None = None
        self.display = ""

    def start(self, timeout: float = 20.0) -> str:
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed (Debian package xvfb); run ./dev test")
        base = 200 + os.getpid() % 700
        for number in range(base, base + 50):
            if _display_taken(number):
                continue
            if self._try(number, timeout):
                self.display = f":{number}"
                return self.display
        raise RuntimeError("no free X display for Xvfb between :200 and :950")

    def _try(self, number: int, timeout: float) -> bool:
        self.process = subprocess.Popen(
            ["Xvfb", f":{number}", "-screen", "0", self.size, "-nolisten", "tcp", "-noreset"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                return False  # lost a race for that display: try the next one
            if os.path.exists(f"{SOCKET_DIR}/X{number}"):
                return True
            time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
