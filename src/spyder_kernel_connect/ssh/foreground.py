"""The CLI's SSH commands: hold a tunnel in the foreground; list kernels on a host.

A tunnel's kernel comes either from a local copy of its connection file or, with
``RemoteSource``, from the host itself (resolved there, or started there), fetched over SFTP.
"""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass
from typing import TextIO

from spyder_kernel_connect.cli_login import terminal_prompt_handler
from spyder_kernel_connect.connection import ConnectionInfo, KernelEntry
from spyder_kernel_connect.ssh import remote
from spyder_kernel_connect.ssh.hostkeys import HostKeyDecider, HostKeyDecision, HostKeyInfo
from spyder_kernel_connect.ssh.manager import TunnelManager
from spyder_kernel_connect.ssh.session import StateEvent
from spyder_kernel_connect.ssh.target import SSHTarget


@dataclass
class RemoteSource:
    """Take the kernel from the SSH host: ``spec`` resolved there, or a new one started."""

    spec: str | None = None
    start: bool = False
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON
    runtime_dir: str | None = None
    shutdown_on_exit: bool = False


def host_key_decider(accept_new_host_key: bool, stderr: TextIO) -> HostKeyDecider:
    """No one can answer a prompt here: refuse unknown keys unless told to accept them."""

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

    return decide


def serve_tunnel(
    target: SSHTarget,
    spec: str | RemoteSource,
    accept_new_host_key: bool = False,
    local_dir: str | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """Print the local connection file (first stdout line), run until SIGINT/SIGTERM."""
    stop = threading.Event()
    serving = threading.Event()

    def report(event: StateEvent) -> None:
        # Before the tunnel is up, a failure is reported once, as the command's error.
        if serving.is_set():
            print(f"{event.host}: {event.state.value}: {event.message}", file=stderr, flush=True)

    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    manager = TunnelManager(
        host_key_decider=host_key_decider(accept_new_host_key, stderr),
        on_state=report,
        prompt_handler=terminal_prompt_handler(stop),
    )
    choice = None
    try:
        kernel: str | ConnectionInfo = spec
        if isinstance(spec, RemoteSource):
            choice = _obtain(manager, target, spec, stop, stderr)
            kernel = choice.info
        tunnel = manager.open_tunnel(target, kernel, cancel=stop, local_dir=local_dir)
        print(tunnel.local_connection_file, file=stdout, flush=True)
        serving.set()
        ports = ", ".join(f"{name[:-5]} {port}" for name, port in tunnel.local_info.ports.items())
        print(
            f"Forwarding 127.0.0.1 ports {ports} to {tunnel.remote_info.reachable_ip} on "
            f"{tunnel.session.label}. Press Ctrl+C to close.",
            file=stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        try:
            if choice is not None and choice.started and spec.shutdown_on_exit:
                remote.stop_remote_kernel(manager.session(target), choice.started)
                print(f"Stopped the kernel on {target.host}.", file=stderr, flush=True)
        finally:
            manager.close_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return 0


def _obtain(
    manager: TunnelManager,
    target: SSHTarget,
    source: RemoteSource,
    cancel: threading.Event,
    stderr: TextIO,
) -> remote.RemoteKernelChoice:
    session = manager.session(target, cancel=cancel)
    choice = remote.obtain_remote_kernel(
        session,
        source.spec,
        start=source.start,
        remote_python=source.remote_python,
        runtime_dir=source.runtime_dir,
        cancel=cancel,
    )
    if choice.started:
        keep = "stopped" if source.shutdown_on_exit else "left running"
        print(
            f"Started a kernel on {session.label} (pid {choice.started.pid}, "
            f"{choice.remote_path}); it is {keep} when this command ends.",
            file=stderr,
            flush=True,
        )
    else:
        print(f"Using {choice.remote_path} on {session.label}.", file=stderr, flush=True)
    return choice


def list_host_kernels(
    target: SSHTarget,
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON,
    runtime_dir: str | None = None,
    accept_new_host_key: bool = False,
    timeout: float = 1.0,
    stderr: TextIO = sys.stderr,
) -> tuple[str, list[KernelEntry]]:
    """The remote runtime dir and its kernels, newest first, each probed for life."""
    with TunnelManager(
        host_key_decider=host_key_decider(accept_new_host_key, stderr),
        prompt_handler=terminal_prompt_handler(),
    ) as manager:
        session = manager.session(target)
        directory = remote.remote_runtime_dir(session, remote_python, override=runtime_dir)
        return directory, remote.list_remote_kernels(session, directory, timeout=timeout)
