"""List the kernels whose connection files are in a runtime directory, alive or dead."""

from __future__ import annotations

import glob
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import zmq
from jupyter_core.paths import jupyter_runtime_dir

from spyder_kernel_connect.connection.errors import ConnectionFileError
from spyder_kernel_connect.connection.info import ConnectionInfo, read_connection_file

DEFAULT_PROBE_TIMEOUT = 0.5


@dataclass
class KernelEntry:
    """One connection file in a runtime directory.

    ``alive`` is True/False from a heartbeat probe, None when the file could not be
    read (then ``error`` says why) or was not probed.
    """

    kernel_id: str
    path: str
    mtime: float
    kernel_name: str = ""
    alive: bool | None = None
    error: str | None = None
    info: ConnectionInfo | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("info")
        return data


def kernel_id_from_path(path: str) -> str:
    """``/run/kernel-1234.json`` → ``1234``."""
    name = os.path.basename(path)
    if name.endswith(".json"):
        name = name[: -len(".json")]
    return name[len("kernel-") :] if name.startswith("kernel-") else name


def list_kernels(
    runtime_dir: str | None = None,
    timeout: float = DEFAULT_PROBE_TIMEOUT,
    probe: bool = True,
) -> list[KernelEntry]:
    """Kernels in ``runtime_dir`` (default: Jupyter's), newest first, each probed for life."""
    directory = runtime_dir or jupyter_runtime_dir()
    files = []
    for path in glob.glob(os.path.join(glob.escape(directory), "kernel-*.json")):
        try:
            files.append((os.path.abspath(path), _mtime(path)))
        except OSError:
            continue  # removed while listing: the kernel just exited
    prober = (
        (lambda entries: probe_heartbeats([e.info for e in entries], timeout)) if probe else None
    )
    return build_entries(files, read_connection_file, prober)


def _mtime(path: str) -> float:
    """The file's mtime, or the link's own for a dangling or looping symlink (which is then
    listed as unreadable, not silently skipped)."""
    try:
        return os.stat(path).st_mtime
    except OSError:
        return os.lstat(path).st_mtime


def build_entries(
    files: Iterable[tuple[str, float]],
    read: Callable[[str], ConnectionInfo],
    probe: Callable[[list[KernelEntry]], list[bool]] | None,
) -> list[KernelEntry]:
    """Entries for (path, mtime) pairs, newest first: read each, then probe the readable ones.

    A file that cannot be read is kept with its reason; ``probe`` gets the readable entries
    all at once (so it can ping them concurrently) and answers alive/dead for each.
    """
    entries = []
    for path, mtime in files:
        entry = KernelEntry(kernel_id_from_path(path), path, mtime)
        try:
            entry.info = read(path)
            entry.kernel_name = entry.info.kernel_name
        except ConnectionFileError as err:
            entry.error = str(err)
        entries.append(entry)
    entries.sort(key=lambda e: e.mtime, reverse=True)
    if probe is not None:
        readable = [e for e in entries if e.info is not None]
        for entry, alive in zip(readable, probe(readable), strict=True):
            entry.alive = alive
    return entries


def probe_heartbeats(infos: Iterable[ConnectionInfo], timeout: float) -> list[bool]:
    """Ping every kernel's heartbeat at once and wait at most ``timeout`` overall.

    One poller serves all sockets, so 200 dead kernels cost one timeout, not 200.
    """
    infos = list(infos)
    context = zmq.Context.instance()
    sockets: list[zmq.Socket] = []
    poller = zmq.Poller()
    alive = [False] * len(infos)
    try:
        for info in infos:
            sock = context.socket(zmq.REQ)
            sock.linger = 0
            sockets.append(sock)
            try:
                sock.connect(info.address("hb_port"))
                sock.send(b"ping", zmq.NOBLOCK)
            except zmq.ZMQError:
                continue  # an unusable address is simply not alive
            poller.register(sock, zmq.POLLIN)
        index = {sock: i for i, sock in enumerate(sockets)}
        pending = sum(1 for s in sockets if s in poller)
        deadline = time.monotonic() + timeout
        while pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            for sock, _event in poller.poll(remaining * 1000):
                sock.recv(zmq.NOBLOCK)
                alive[index[sock]] = True
                poller.unregister(sock)
                pending -= 1
    finally:
        for sock in sockets:
            sock.close(linger=0)
    return alive
