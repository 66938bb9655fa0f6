"""Start and stop a private Xvfb server by PID (used by the GUI tests and the screenshot script)."""

from __future__ import annotations

import os
import select
import shutil
import subprocess


class Xvfb:
    """``Xvfb -displayfd`` picks a free display itself, so parallel runs never collide."""

    def __init__(self, size: str = "1400x900x24") -> None:
        self.size = size
        self.process: subprocess.Popen | None = None
        self.display = ""

    def start(self, timeout: float = 20.0) -> str:
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed (Debian package xvfb); run ./dev test")
        read_fd, write_fd = os.pipe()
        try:
            self.process = subprocess.Popen(
                [
                    "Xvfb",
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    self.size,
                    "-nolisten",
                    "tcp",
                    "-noreset",
                ],
                pass_fds=(write_fd,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            os.close(write_fd)
            write_fd = -1
            ready, _w, _x = select.select([read_fd], [], [], timeout)
            number = os.read(read_fd, 32).decode().strip() if ready else ""
        finally:
            os.close(read_fd)
            if write_fd >= 0:
                os.close(write_fd)
        if not number.isdigit():
            self.stop()
            raise RuntimeError("Xvfb did not report a display number")
        self.display = f":{number}"
        return self.display

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
