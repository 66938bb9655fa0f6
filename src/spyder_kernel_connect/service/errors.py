"""Errors of the connect service: what went wrong after the engines did their part."""

from __future__ import annotations

from collections.abc import Sequence

from spyder_kernel_connect.errors import KernelConnectError


class KernelNotAnswering(KernelConnectError):
    """The connection file is fine but nobody answers on its heartbeat port."""


class ConnectionCancelled(KernelConnectError):
    """The user cancelled the connection attempt."""

    def __init__(self) -> None:
        super().__init__("Connection cancelled.")


class KernelNotFoundAnywhere(KernelConnectError):
    """A spec matched neither a local copy of the file nor a file on the SSH host."""

    def __init__(self, spec: str, local_dirs: Sequence[str], host_dirs: Sequence[str]) -> None:
        self.spec = spec
        self.local_dirs = list(local_dirs)
        self.host_dirs = list(host_dirs)
        local = ", ".join(self.local_dirs) or "(nowhere)"
        on_host = ", ".join(self.host_dirs) or "(nowhere)"
        super().__init__(
            f"No connection file matches {spec!r}, neither on this computer (searched "
            f"{local}) nor on the SSH host (searched {on_host}).",
            "Check the kernel ID, or give the full path of the connection file.",
        )
