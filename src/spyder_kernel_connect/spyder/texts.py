"""The words Spyder shows for engine values: resolution lines, kernel rows, progress steps,
the no-keyring notice. Translatable (``_``); the engines and the service stay Qt-free."""

from __future__ import annotations

import time
from dataclasses import dataclass

from spyder.api.translations import _

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.service import LocalResolution, Progress, Step


@dataclass(frozen=True)
class SpecStatus:
    """The line under the connection-file field: ``path`` if found here, ``ok`` if the
    text can be used (found, or to be looked up on the SSH host)."""

    path: str | None
    message: str
    ok: bool


def describe_resolution(resolution: LocalResolution, remote: bool = False) -> SpecStatus:
    """The live "Resolves to…" / "why not" text for what the user typed."""
    if not resolution.spec.strip():
        return SpecStatus(None, _("Or pick a kernel from the list below."), False)
    if resolution.ok:
        return SpecStatus(resolution.path, _("Resolves to {}").format(resolution.path), True)
    if remote and resolution.not_found:
        where = ", ".join(resolution.searched)
        return SpecStatus(
            None,
            _("Not on this computer (looked in {}): it will be looked up on the SSH host.").format(
                where
            ),
            True,
        )
    error = resolution.error
    return SpecStatus(None, error.gui_text() if error else "", False)


@dataclass(frozen=True)
class KernelRow:
    """How one running-kernels list entry looks."""

    text: str
    tooltip: str
    selectable: bool
    alive: bool


def describe_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return _("just now")
    if seconds < 3600:
        return _("{} min ago").format(seconds // 60)
    if seconds < 86400:
        return _("{} h ago").format(seconds // 3600)
    days = seconds // 86400
    return _("1 day ago") if days == 1 else _("{} days ago").format(days)


def describe_kernel(
    entry: KernelEntry, now: float | None = None, reason_in_text: bool = False
) -> KernelRow:
    """Text for a kernel in the list: ID, kernel name, age, and dead/unreadable marks.

    ``reason_in_text``: say why a file is unreadable in the row itself, not only in its
    tooltip (the remote list, where the file cannot simply be opened to look).
    """
    age = describe_age((now if now is not None else time.time()) - entry.mtime)
    parts = [entry.kernel_id]
    if entry.kernel_name:
        parts.append(entry.kernel_name)
    parts.append(_("written {}").format(age))
    text = "  \u00b7  ".join(parts)
    if entry.error:
        reason = f": {_short_reason(entry)}" if reason_in_text else ""
        return KernelRow(f"{text}  \u2014  {_('unreadable')}{reason}", entry.error, False, False)
    if entry.alive is False:
        return KernelRow(
            f"{text}  \u2014  {_('not responding')}",
            entry.path
            + "\n"
            + _("The kernel does not answer its heartbeat; it has probably exited."),
            True,
            False,
        )
    return KernelRow(text, entry.path, True, True)


def _short_reason(entry: KernelEntry) -> str:
    """The error without the file's path, which the row already names by its kernel ID."""
    reason = (entry.error or "").split("\n")[0]
    if f"{entry.path} is " in reason:
        return reason.split(f"{entry.path} is ", 1)[1].rstrip(".")
    if f"{entry.path}: " in reason:
        return reason.split(f"{entry.path}: ", 1)[1].rstrip(".")
    return reason.rstrip(".")


def progress_text(progress: Progress) -> str:
    """What the dialog's progress line says while the service works."""
    texts = {
        Step.READ_FILE: _("Reading the connection file..."),
        Step.PROBE_LOCAL: _("Waiting for the kernel to answer..."),
        Step.LOGIN: _("Connecting to {host} through SSH..."),
        Step.FIND_ON_HOST: _("Looking for {spec} on {host}..."),
        Step.START_ON_HOST: _("Starting a kernel on {host} with {python}..."),
        Step.LIST_ON_HOST: _("Looking for kernels on {host}..."),
        Step.OPEN_TUNNEL: _("Forwarding the kernel's ports from {host}..."),
        Step.PROBE_TUNNEL: _("Waiting for the kernel to answer through the tunnel..."),
        Step.SUBMIT_JOB: _("Submitting a kernel job on {host}..."),
        Step.FIND_JOB: _("Attaching to job {spec} on {host}..."),
        Step.JOB_QUEUED: _("Asking SLURM about job {spec}..."),
        Step.JOB_STATE: _("Waiting for job {spec} to start..."),
    }
    job = progress.job
    if progress.step is Step.JOB_STATE and job is not None:
        # The state in words comes from the scheduler engine (sinfo-style reasons).
        if job.node:
            return _("Job {} on {}: {}").format(job.job_id, job.node, job.description)
        return _("Job {}: {}").format(job.job_id, job.description)
    return texts[progress.step].format(
        host=progress.host, spec=progress.spec, python=progress.python
    )


def no_keyring_text(unsaved: tuple[str, ...] | list[str], problem: str) -> str:
    """The one notice for secrets that cannot be kept (before and after saving)."""
    if list(unsaved) == ["passphrase"]:
        what = _("The key passphrase")
    elif list(unsaved) == ["password"]:
        what = _("The password")
    else:
        what = _("The password or key passphrase")
    return _(
        "{what} will not be saved: {problem} You will be asked for it each time you "
        "connect. To save it, use a system keyring such as GNOME Keyring or KWallet."
    ).format(what=what, problem=problem or _("no keyring is available."))
