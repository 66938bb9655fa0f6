"""KernelTunnel: the five forwards of one kernel and the local connection file pointing at
them; the manager (manager.py) opens them and closes the shared session after the last one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable

from jupyter_core.paths import jupyter_runtime_dir

from spyder_kernel_connect.connection import (
    ConnectionInfo,
    read_connection_file,
    resolve_connection_file,
    write_connection_file,
)
from spyder_kernel_connect.connection.listing import kernel_id_from_path
from spyder_kernel_connect.ssh.forward import Forward
from spyder_kernel_connect.ssh.session import SSHSession, TunnelState
from spyder_kernel_connect.ssh.target import SSHTarget


class KernelTunnel:
    """The five forwards of one kernel and the local connection file pointing at them."""

    def __init__(
        self,
        release: Callable[[KernelTunnel], None],
        session: SSHSession,
        target: SSHTarget,
        remote_info: ConnectionInfo,
        local_info: ConnectionInfo,
        forwards: list[Forward],
    ) -> None:
        self._release = release  # the manager's bookkeeping: the session's last user closes it
        self.session = session
        self.target = target
        self.remote_info = remote_info
        self.local_info = local_info
        self.local_connection_file: str = local_info.path or ""
        self.forwards = forwards
        self.closed = False

    @property
    def state(self) -> TunnelState:
        return TunnelState.CLOSED if self.closed else self.session.state

    @property
    def local_ports(self) -> dict[str, int]:
        return self.local_info.ports

    def close(self) -> None:
        """Stop the forwards, delete the local file; the host's last tunnel ends the session."""
        if self.closed:
            return
        self.closed = True
        for forward in self.forwards:
            forward.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.local_connection_file)
        self._release(self)

    def __enter__(self) -> KernelTunnel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<KernelTunnel {self.session.label} {self.local_connection_file} {self.state}>"


def load_info(spec_or_info) -> ConnectionInfo:
    """The kernel's connection info: given, or read from a connection file or spec."""
    if isinstance(spec_or_info, ConnectionInfo):
        return spec_or_info
    return read_connection_file(resolve_connection_file(os.fspath(spec_or_info)))


def write_local_file(
    local_info: ConnectionInfo,
    remote_info: ConnectionInfo,
    session: SSHSession,
    local_dir,
) -> str:
    """Write the connection file of a tunnelled kernel (0600, unique name, in ``local_dir``
    or Jupyter's runtime folder); return its path."""
    directory = os.fspath(local_dir) if local_dir else jupyter_runtime_dir()
    os.makedirs(directory, mode=0o700, exist_ok=True)
    stem = kernel_id_from_path(remote_info.path) if remote_info.path else "remote"
    host = session.resolved.hostname.replace(os.sep, "_")
    # mkstemp creates the file 0600 with a unique name: two tunnels never share a file.
    fd, path = tempfile.mkstemp(prefix=f"kernel-{stem}-ssh-{host}-", suffix=".json", dir=directory)
    os.close(fd)
    return write_connection_file(path, local_info)
