"""The `tunnel` command's engine: open a tunnel, print its file, hold it until a signal."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TextIO

from spyder_kernel_connect.ssh.hostkeys import HostKeyDecision, HostKeyInfo
from spyder_kernel_connect.ssh.manager import TunnelManager
from spyder_kernel_connect.ssh.session import StateEvent
from spyder_kernel_connect.ssh.target import SSHTarget


def serve_tunnel(
    target: SSHTarget,
    spec: str,
    accept_new_host_key: bool = False,
    local_dir: str | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Print the local connection file (first stdout line), run until SIGINT/SIGTERM."""
    stop = threading.Event()
    serving = threading.Event()

    def decide(info: HostKeyInfo) -> HostKeyDecision:
        if not accept_new_host_key:
            return HostKeyDecision.REJECT
        print(
            f"Accepting new host key of {info.hostname}:{info.port} ({info.key_type} "
            f"{info.fingerprint}), saved to {info.known_hosts_path}.",
            file=stderr,
            flush=True,
        )
        return HostKeyDecision.ACCEPT_AND_SAVE

    def report(event: StateEvent) -> None:
        # Before the tunnel is up, a failure is reported once, as the command's error.
        if serving.is_set():
            print(f"{event.host}: {event.state.value}: {event.message}", file=stderr, flush=True)

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    manager = TunnelManager(host_key_decider=decide, on_state=report)
    try:
        tunnel = manager.open_tunnel(target, spec, cancel=stop, local_dir=local_dir)
        print(tunnel.local_connection_file, file=stdout, flush=True)
        serving.set()
        ports = ", ".join(f"{name[:-5]} {port}" for name, port in tunnel.local_info.ports.items())
        print(
            f"Forwarding 127.0.0.1 ports {ports} to {tunnel.remote_info.ip} on "
            f"{tunnel.session.label}. Press Ctrl+C to close.",
            file=stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        manager.close_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
