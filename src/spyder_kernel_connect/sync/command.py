"""``spyder-kernel-connect sync``: the terminal's way to the same engine the plugin uses."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TextIO

from spyder_kernel_connect.sync.engine import ProjectSync, PushReport, Resolution
from spyder_kernel_connect.sync.errors import SyncError
from spyder_kernel_connect.sync.live import LiveSync, SyncEvent


class ConflictsLeft(SyncError):
    """Files changed on the host were left there; the user decides what to do."""


def sync_project(
    target,
    local_dir: str,
    remote_dir: str,
    watch: bool = False,
    overwrite: bool = False,
    delete: bool = True,
    interval: float = 0.5,
    accept_new_host_key: bool = False,
    stderr: TextIO = sys.stderr,
) -> int:
    """Push once (and keep pushing with ``watch``) until done or SIGINT/SIGTERM."""
    from spyder_kernel_connect.cli_login import terminal_prompt_handler
    from spyder_kernel_connect.cli_tunnel import host_key_decider
    from spyder_kernel_connect.ssh.manager import TunnelManager

    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    on_conflict = (lambda _conflict: Resolution.OVERWRITE) if overwrite else None
    try:
        with TunnelManager(
            host_key_decider=host_key_decider(accept_new_host_key),
            prompt_handler=terminal_prompt_handler(stop),  # 2FA asked on the terminal
        ) as mgr:
            session = mgr.session(target, cancel=stop)
            project = ProjectSync(session, local_dir, remote_dir, on_conflict=on_conflict)
            report = project.push_all(cancel=stop, delete=delete)
            _print_report(report, f"{session.label}:{project.remote_dir}", stderr)
            if not watch:
                if report.conflicts_kept:
                    raise ConflictsLeft(
                        f"{len(report.conflicts_kept)} file(s) changed on the host were left "
                        f"as they are: {', '.join(report.conflicts_kept[:5])}.",
                        "Run again with --overwrite to push yours (the host's copies are kept "
                        "aside as NAME.remote-<time>).",
                    )
                return 0
            print(f"Watching {project.local_dir}; press Ctrl+C to stop.", file=stderr, flush=True)
            live = LiveSync(project, on_event=lambda e: _print_event(e, stderr))
            try:
                live.watch(stop, interval)
                live.flush(timeout=30)
            finally:
                live.close()
            return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_report(report: PushReport, where: str, stderr: TextIO) -> None:
    print(f"Synced to {where}: {report.summary()}.", file=stderr, flush=True)
    for rel in report.conflicts_kept:
        print(f"  left on the host (changed there): {rel}", file=stderr)
    for rel in report.kept_aside:
        print(f"  host's copy kept aside as {rel}", file=stderr)
    for rel in report.not_deleted:
        print(f"  not deleted on the host (changed there): {rel}", file=stderr)
    for rel, why in report.skipped:
        print(f"  skipped {rel}: {why}", file=stderr)


def _print_event(event: SyncEvent, stderr: TextIO) -> None:
    if event.error is not None:
        print(f"Push failed: {event.error}", file=stderr, flush=True)
        return
    report = event.report
    if report is not None and (report.pushed or report.deleted):
        names = report.pushed + [f"-{rel}" for rel in report.deleted]
        print(f"Pushed {', '.join(names)}", file=stderr, flush=True)
    for rel in report.conflicts_kept if report is not None else ():
        print(f"  left on the host (changed there): {rel}", file=stderr, flush=True)
