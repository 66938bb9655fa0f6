"""Where a kernel comes from: a local file, the SSH host's runtime dir, or a new kernel.

A ``KernelSource`` turns a request into the kernel's ``ConnectionInfo`` (the remote one, for
a tunnel). The connect service calls ``needs_session`` first: a source that can answer
without the host (a local copy) is asked with ``session=None`` and no login happens for it.
New ways to get a kernel (a SLURM job, a container) are new sources; the service does
not change.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    ConnectionFileNotFound,
    ConnectionInfo,
    default_search_dirs,
    read_connection_file,
    resolve_connection_file,
)
from spyder_kernel_connect.errors import KernelConnectError
from spyder_kernel_connect.service.errors import ConnectionCancelled, KernelNotFoundAnywhere
from spyder_kernel_connect.service.progress import Progress, ProgressCallback, Step
from spyder_kernel_connect.ssh import remote
from spyder_kernel_connect.ssh.session import SSHSession

if TYPE_CHECKING:
    from spyder_kernel_connect.scheduler.source import RunningJob


@dataclass(frozen=True)
class LocalResolution:
    """What a spec designates on this computer: the file and its contents, or why not.

    Made once per typed text (``resolve_local``) and handed on, so the file is neither
    looked up nor read again when the user connects, as long as it did not change.
    """

    spec: str
    path: str | None = None
    info: ConnectionInfo | None = None
    error: KernelConnectError | None = None
    searched: tuple[str, ...] = ()
    stamp: tuple[int, int, int] | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.info is not None

    @property
    def not_found(self) -> bool:
        return isinstance(self.error, ConnectionFileNotFound)

    def is_current(self, spec: str) -> bool:
        """Still valid for ``spec``: same text and, if a file was read, unchanged on disk."""
        if spec.strip() != self.spec.strip():
            return False
        return self.path is None or _stamp(self.path) == self.stamp

    def kernel(self) -> ConnectionInfo:
        """The connection info, or the error that says why there is none."""
        if self.info is None:
            raise self.error or ConnectionFileNotFound(self.spec, list(self.searched))
        return self.info


def resolve_local(spec: str) -> LocalResolution:
    """Resolve ``spec`` on this computer and read the file (one lookup, one read)."""
    searched = tuple(default_search_dirs())
    try:
        path = resolve_connection_file(spec, searched)
    except ConnectionFileError as err:
        return LocalResolution(spec, error=err, searched=searched)
    stamp = _stamp(path)
    try:
        info = read_connection_file(path)
    except ConnectionFileError as err:
        return LocalResolution(spec, path, error=err, searched=searched, stamp=stamp)
    return LocalResolution(spec, path, info, searched=searched, stamp=stamp)


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass
class ObtainedKernel:
    """The kernel to connect to: its connection info, where it lives, whether we started it."""

    info: ConnectionInfo
    where: str  # a local path, or the remote path on the host
    started: remote.StartedKernel | None = None
    job: RunningJob | None = None  # the batch job (SLURM) the kernel runs in
    label: str = ""  # what its console tab is named; "" for the host's name

    def discard(self, session: SSHSession) -> None:
        """Undo obtaining it, for an attempt that failed after: stop the kernel started on
        the host, or cancel the job submitted for it (a kept job attached to stays)."""
        if self.started is not None:
            remote.stop_remote_kernel(session, self.started)
        if self.job is not None and self.job.owned:
            self.job.cancel(session)


class KernelSource(Protocol):
    """How the service gets the kernel's connection info (see the module docstring)."""

    def needs_session(self) -> bool:
        """False when the kernel can be obtained without logging in to the host."""

    def obtain(
        self,
        session: SSHSession | None,
        cancel: threading.Event,
        progress: ProgressCallback,
    ) -> ObtainedKernel:
        """The kernel's connection info; ``session`` is None unless ``needs_session()``."""


@dataclass
class LocalFile:
    """A connection file on this computer (a local kernel, or a copy of a remote one)."""

    spec: str
    resolution: LocalResolution | None = None  # from the live preview, if still current

    def _resolution(self) -> LocalResolution:
        if self.resolution is None or not self.resolution.is_current(self.spec):
            self.resolution = resolve_local(self.spec)
        return self.resolution

    def needs_session(self) -> bool:
        return False

    def obtain(self, session, cancel, progress) -> ObtainedKernel:
        progress(Progress(Step.READ_FILE, spec=self.spec))
        resolution = self._resolution()
        return ObtainedKernel(resolution.kernel(), resolution.path or self.spec)


@dataclass
class OnHost:
    """``spec`` (ID, name, glob or path) looked up in the host's runtime dir, read over SFTP."""

    spec: str
    remote_python: str = remote.DEFAULT_REMOTE_PYTHON
    runtime_dir: str | None = None  # None: ask the host's Jupyter

    def needs_session(self) -> bool:
        return True

    def obtain(self, session, cancel, progress) -> ObtainedKernel:
        progress(Progress(Step.FIND_ON_HOST, host=session.label, spec=self.spec))
        directory = self.host_dir(session, cancel)
        _check_cancel(cancel)
        path = remote.resolve_remote_spec(session, self.spec, directory)
        _check_cancel(cancel)
        # Read into memory only: the tunnel's local file is the one copy kept on disk.
        return ObtainedKernel(remote.read_remote_connection_file(session, path), path)

    def host_dir(self, session: SSHSession, cancel: threading.Event | None = None) -> str:
        """The host's runtime dir: the override, else what its Jupyter says."""
        return remote.remote_runtime_dir(
            session, self.remote_python, override=self.runtime_dir, cancel=cancel
        )


@dataclass
class LocalCopyOrHost:
    """A local copy of the kernel's file if there is one (the manual workflow: copy the
    file, type its ID), else the same spec looked up on the host."""

    local: LocalFile
    host: OnHost

    def needs_session(self) -> bool:
        resolution = self.local._resolution()
        # A spec that names a local file which is broken is reported, not looked up remotely.
        return not resolution.ok and resolution.not_found

    def obtain(self, session, cancel, progress) -> ObtainedKernel:
        if session is None:
            return self.local.obtain(None, cancel, progress)
        try:
            return self.host.obtain(session, cancel, progress)
        except ConnectionFileNotFound as err:
            local_dirs = self.local._resolution().searched
            raise KernelNotFoundAnywhere(self.host.spec, local_dirs, err.searched) from None


@dataclass
class StartOnHost:
    """A new ``<remote_python> -m spyder_kernels.console`` started on the host."""

    remote_python: str = remote.DEFAULT_REMOTE_PYTHON
    runtime_dir: str | None = None

    def needs_session(self) -> bool:
        return True

    def obtain(self, session, cancel, progress) -> ObtainedKernel:
        progress(Progress(Step.START_ON_HOST, host=session.label, python=self.remote_python))
        directory = remote.remote_runtime_dir(
            session, self.remote_python, override=self.runtime_dir, cancel=cancel
        )
        _check_cancel(cancel)
        started = remote.start_remote_kernel(session, self.remote_python, directory, cancel=cancel)
        return ObtainedKernel(started.info, started.remote_path, started)


def _check_cancel(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise ConnectionCancelled()
