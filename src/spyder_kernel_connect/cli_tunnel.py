"""The ``tunnel`` command's foreground part: connect through the service, print the local
connection file, hold the tunnel until SIGINT/SIGTERM; and the command line's host-key
policy (nobody can answer a question here)."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TextIO

from spyder_kernel_connect.cli_login import terminal_prompt_handler
from spyder_kernel_connect.service import ConnectRequest, ConnectService
from spyder_kernel_connect.ssh import HostKeyDecision, HostKeyInfo, StateEvent
from spyder_kernel_connect.ssh.hostkeys import HostKeyDecider


def host_key_decider(accept_new_host_key: bool, stderr: TextIO | None = None) -> HostKeyDecider:
    """No one can answer a prompt here: refuse unknown keys unless told to accept them
    (then say so on ``stderr``, default sys.stderr)."""

    def decide(info: HostKeyInfo) -> HostKeyDecision:
        if not accept_new_host_key:
            return HostKeyDecision.REJECT
        print(
            f"Accepting new host key of {info.hostname}:{info.port} ({info.key_type} "
            f"{info.fingerprint}), saved to {info.known_hosts_path}.",
            file=stderr or sys.stderr,
            flush=True,
        )
        return HostKeyDecision.ACCEPT_AND_SAVE

    return decide


def serve_tunnel(
    request: ConnectRequest, accept_new_host_key: bool, shutdown_on_exit: bool, share: bool = True
) -> int:
    """Print the local connection file (first stdout line), run until SIGINT/SIGTERM.

    ``share``: use another tunnel's connection to the same destination if one serves it,
    and serve ours to later ones (ssh/control.py)."""
    stop = threading.Event()
    serving = threading.Event()

    def report(event: StateEvent) -> None:
        # Before the tunnel is up, a failure is reported once, as the command's error.
        if serving.is_set():
            print(
                f"{event.host}: {event.state.value}: {event.message}", file=sys.stderr, flush=True
            )

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    service = ConnectService(
        host_key_decider(accept_new_host_key),
        on_state=report,
        prompt_handler=terminal_prompt_handler(stop),
        share_connections=share,
    )
    connection = None
    try:
        connection = service.connect(request, cancel=stop)
        tunnel = connection.tunnel
        label = tunnel.session.label
        if getattr(tunnel.session, "shared", False):
            print(
                f"Sharing the SSH connection of another tunnel to {label} (no new login).",
                file=sys.stderr,
            )
        if connection.started is not None:
            keep = "stopped" if shutdown_on_exit else "left running"
            print(
                f"Started a kernel on {label} (pid {connection.started.pid}, "
                f"{connection.where}); it is {keep} when this command ends.",
                file=sys.stderr,
            )
        elif request.source.needs_session():  # found on the host: say which file
            print(f"Using {connection.where} on {label}.", file=sys.stderr)
        print(connection.connection_file, flush=True)
        serving.set()
        ports = ", ".join(f"{name[:-5]} {port}" for name, port in tunnel.local_ports.items())
        print(
            f"Forwarding 127.0.0.1 ports {ports} to {tunnel.remote_info.reachable_ip} on {label}. "
            "Press Ctrl+C to close.",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        try:
            if connection is not None and connection.started and shutdown_on_exit:
                service.stop_started(connection)
                print(f"Stopped the kernel on {request.target.host}.", file=sys.stderr, flush=True)
        finally:
            service.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return 0
