"""Kernels on the SSH host itself: find its runtime dir, list, fetch and start kernels there.

Everything goes over the session the tunnel manager already holds (exec channels and SFTP),
so a user never has to log in to start a kernel or copy a connection file with scp. Remote
connection files (they hold the kernel's key) are read into memory, never copied to disk:
the tunnel's local file is the only copy. The connect service (``service/``) combines
these steps.
Remote commands are POSIX ``sh`` (Linux and macOS hosts).
"""

from __future__ import annotations

import dataclasses
import posixpath
import shlex
import stat
import threading
import time
import uuid
from collections.abc import Sequence

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    ConnectionFileInvalid,
    ConnectionFileNotFound,
    ConnectionFileUnreadable,
    ConnectionInfo,
    KernelEntry,
    build_entries,
    decode_connection_file,
    exact_match,
    fuzzy_matches,
    kernel_id_from_path,
    pick_one,
    probe_heartbeats,
)
from spyder_kernel_connect.connection.info import MAX_FILE_SIZE
from spyder_kernel_connect.files import file_kind
from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.errors import (
    RemoteCommandError,
    RemoteKernelStartFailed,
    RemotePythonMissing,
    RemoteSpyderKernelsMissing,
)
from spyder_kernel_connect.ssh.session import SSHSession

DEFAULT_REMOTE_PYTHON = "python3"

# Printed by the remote shell when Jupyter has nothing to say: enough to compute the
# platform default the way jupyter_core does.
_DEFAULTS_SCRIPT = (
    'printf "%s\\n" "$(uname -s)" "${JUPYTER_RUNTIME_DIR:-}" "${XDG_DATA_HOME:-}" "$HOME"'
)


def remote_runtime_dir(
    session: SSHSession,
    remote_python: str = DEFAULT_REMOTE_PYTHON,
    override: str | None = None,
    timeout: float = 30.0,
    cancel: threading.Event | None = None,
) -> str:
    """The Jupyter runtime dir on the host: ``override``, else what the host's Jupyter says.

    Asks ``remote_python`` through jupyter_core first, then the ``jupyter`` command, then
    falls back to jupyter_core's platform default computed from the remote environment.
    """
    if override:
        return _expand_home(session, override)
    code = "import jupyter_core.paths as p; print(p.jupyter_runtime_dir())"
    for command in (
        f"{shlex.quote(remote_python)} -c {shlex.quote(code)}",
        "jupyter --runtime-dir",
    ):
        status, out, _err = session.run(command, timeout=timeout, cancel=cancel)
        lines = out.strip().splitlines()
        if status == 0 and lines and lines[-1].startswith("/"):
            return lines[-1].strip()
    status, out, err = session.run(_DEFAULTS_SCRIPT, timeout=timeout, cancel=cancel)
    system, runtime, xdg_data, home = ([*out.splitlines(), "", "", "", ""])[:4]
    if status != 0 or not home.startswith("/"):
        raise RemoteCommandError(
            f"Cannot find the Jupyter runtime directory on {session.label}: "
            f"{(err or out).strip() or 'the shell printed nothing'}.",
            "Give it explicitly with --remote-runtime-dir.",
            host=session.label,
            gui_hint="Give it in Runtime directory, under Remote Python and runtime directory.",
        )
    return platform_runtime_dir(system, runtime, xdg_data, home)


def platform_runtime_dir(system: str, runtime_env: str, xdg_data_home: str, home: str) -> str:
    """jupyter_core's default runtime dir for a POSIX host, from its environment."""
    if runtime_env:
        return runtime_env
    if system == "Darwin":
        return posixpath.join(home, "Library", "Jupyter", "runtime")
    data = xdg_data_home or posixpath.join(home, ".local", "share")
    return posixpath.join(data, "jupyter", "runtime")


def list_remote_kernels(
    session: SSHSession,
    runtime_dir: str,
    timeout: float = 1.0,
    probe: bool = True,
) -> list[KernelEntry]:
    """Connection files in the remote ``runtime_dir``, newest first, each probed for life.

    Unreadable or malformed files are listed with the reason in ``error``. The heartbeat of
    every kernel is probed at once, each through a short-lived forward on this session.
    """
    sftp = session.sftp()
    try:
        attrs = sftp.listdir_attr(runtime_dir)
    except FileNotFoundError:
        return []
    except OSError as err:
        raise RemoteCommandError(
            f"Cannot list {runtime_dir} on {session.label}: {err.strerror or err}.",
            "Check the remote runtime directory setting.",
            host=session.label,
        ) from None
    files = [
        (posixpath.join(runtime_dir, attr.filename), float(attr.st_mtime or 0))
        for attr in attrs
        if attr.filename.startswith("kernel-")
        and attr.filename.endswith(".json")
        # Links, FIFOs and the like are listed too: reading says what they are (a row
        # "unreadable: … is a FIFO"), without opening them.
        and (attr.st_mode is None or not stat.S_ISDIR(attr.st_mode))
    ]

    def probe_all(entries: list[KernelEntry]) -> list[bool]:
        return probe_remote_heartbeats(session, entries, timeout)

    return build_entries(
        files, lambda path: read_remote_connection_file(session, path), probe_all if probe else None
    )


def probe_remote_heartbeats(
    session: SSHSession, entries: Sequence[KernelEntry], timeout: float
) -> list[bool]:
    """Ping each kernel's heartbeat through its own short-lived forward, all at once."""
    forwards, local_infos = [], []
    try:
        for entry in entries:
            info = entry.info
            forward = session.open_forward(info.reachable_ip, info.hb_port)
            forwards.append(forward)
            local_infos.append(
                dataclasses.replace(
                    info, ip="127.0.0.1", transport="tcp", hb_port=forward.local_port
                )
            )
        return probe_heartbeats(local_infos, timeout)
    finally:
        for forward in forwards:
            forward.close()


def read_remote_connection_file(session: SSHSession, path: str) -> ConnectionInfo:
    """Read and validate a remote connection file over SFTP.

    The file is stat'ed first: opening a FIFO would block the host's sftp-server (and us)
    until a writer comes, and a device or huge file has nothing to offer.
    """
    try:
        attrs = session.sftp().stat(path)
        if attrs.st_mode is not None and not stat.S_ISREG(attrs.st_mode):
            raise ConnectionFileUnreadable(
                f"{path} on {session.label} is {file_kind(attrs.st_mode)}, not a connection file.",
                "Give the kernel-<id>.json file the kernel wrote.",
                path=path,
            )
        if (attrs.st_size or 0) > MAX_FILE_SIZE:
            raise ConnectionFileInvalid(
                f"{path} on {session.label} is larger than 1 MiB, far too large to be a "
                "connection file.",
                "Pick the kernel-<id>.json file the kernel wrote.",
                path=path,
            )
        with session.sftp().open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_SIZE + 1)
    except FileNotFoundError:
        raise ConnectionFileNotFound(path, [posixpath.dirname(path)]) from None
    except PermissionError:
        raise _unreadable(path, "permission denied") from None
    except OSError as err:
        raise _unreadable(path, err.strerror or str(err)) from None
    return decode_connection_file(raw, path)


def resolve_remote_spec(session: SSHSession, spec: str, runtime_dir: str) -> str:
    """The remote connection file ``spec`` designates, by the same rules as locally.

    An absolute path is taken as it is; anything else is matched against the file names in
    the remote runtime dir (exact, ``SPEC.json``, ``kernel-SPEC.json``, partial ID, glob).
    """
    cleaned = spec.strip().strip("\"'")
    if cleaned.startswith(("/", "~")):
        path = _expand_home(session, cleaned)
        try:
            session.sftp().stat(path)
        except OSError:
            raise ConnectionFileNotFound(cleaned, [posixpath.dirname(path)]) from None
        return path
    try:
        names = session.sftp().listdir(runtime_dir)
    except OSError:
        names = []
    name = exact_match(cleaned, names)
    if name is None:
        name = pick_one(cleaned, fuzzy_matches(cleaned, names), [f"{session.label}:{runtime_dir}"])
    return posixpath.join(runtime_dir, name)


@dataclasses.dataclass
class StartedKernel:
    """A kernel this plugin started on the SSH host."""

    remote_path: str
    pid: int
    info: ConnectionInfo
    log_path: str


def start_remote_kernel(
    session: SSHSession,
    remote_python: str,
    runtime_dir: str,
    timeout: float = 60.0,
    cancel: threading.Event | None = None,
) -> StartedKernel:
    """Start ``<remote_python> -m spyder_kernels.console`` on the host, detached from SSH,
    its connection file in ``runtime_dir`` (the caller resolved it: ``remote_runtime_dir``).

    Waits until its connection file is written and it answers a heartbeat. The kernel runs
    in its own session (setsid/nohup), so it outlives this SSH connection. On ``cancel``
    the half-started kernel is stopped again.
    """
    check_remote_python(session, remote_python)
    _check_cancel(session, cancel)
    kernel_id = str(uuid.uuid4())
    path = posixpath.join(runtime_dir, f"kernel-{kernel_id}.json")
    log_path = posixpath.join(runtime_dir, f"kernel-{kernel_id}.log")
    q = shlex.quote
    launch = (
        f"env JUPYTER_RUNTIME_DIR={q(runtime_dir)} {q(remote_python)} -m spyder_kernels.console "
        f"-f {q(path)} </dev/null >{q(log_path)} 2>&1"
    )
    script = (
        f"umask 077; mkdir -p {q(runtime_dir)} && cd && "
        "if command -v setsid >/dev/null 2>&1; "
        f"then setsid {launch} & else nohup {launch} & fi; echo $!"
    )
    status, out, err = session.run(script, timeout=30.0)
    pid_text = out.strip().splitlines()[-1] if out.strip() else ""
    if status != 0 or not pid_text.isdigit():
        raise RemoteKernelStartFailed(
            f"Could not start a kernel on {session.label}: {(err or out).strip()[:300]}.",
            "Check that the remote runtime directory is writable.",
            host=session.label,
        )
    pid = int(pid_text)
    try:
        info = _wait_for_kernel(session, path, log_path, pid, timeout, cancel)
    except errors.Cancelled:
        _kill_remote(session, pid, [path, log_path])
        raise
    return StartedKernel(path, pid, info, log_path)


def check_remote_python(session: SSHSession, remote_python: str) -> str:
    """The spyder-kernels version of ``remote_python``; a clear error saying what to install."""
    code = "import spyder_kernels; print(spyder_kernels.__version__)"
    status, out, err = session.run(f"{shlex.quote(remote_python)} -c {shlex.quote(code)}")
    if status == 0:
        return out.strip()
    if status == 127 or "not found" in err or "No such file" in err:
        raise RemotePythonMissing(
            f"The interpreter {remote_python!r} was not found on {session.label}.",
            "Give the full path of the remote Python with --remote-python, e.g. "
            "/opt/conda/bin/python.",
            host=session.label,
            gui_hint="Give the full path of the remote Python (under Remote Python and "
            "runtime directory), e.g. /opt/conda/bin/python.",
        )
    if "spyder_kernels" in err:
        raise RemoteSpyderKernelsMissing(
            f"spyder-kernels is not installed for {remote_python} on {session.label}.",
            f"Install it there with: {remote_python} -m pip install spyder-kernels "
            "(or conda install spyder-kernels), or choose another remote Python.",
            host=session.label,
        )
    raise RemoteCommandError(
        f"{remote_python} failed on {session.label}: {err.strip()[-300:] or out.strip()}.",
        "Check the remote Python setting.",
        host=session.label,
    )


def stop_remote_kernel(session: SSHSession, kernel: StartedKernel, timeout: float = 10.0) -> None:
    """Stop a kernel this plugin started: SIGTERM, then SIGKILL; remove its files."""
    _kill_remote(session, kernel.pid, [kernel.remote_path, kernel.log_path], timeout)


def _kill_remote(session: SSHSession, pid: int, files: list[str], timeout: float = 10.0) -> None:
    script = (
        f"kill {pid} 2>/dev/null; i=0; "
        f"while kill -0 {pid} 2>/dev/null && [ $i -lt {int(timeout * 10)} ]; "
        "do sleep 0.1; i=$((i+1)); done; "
        f"kill -9 {pid} 2>/dev/null; rm -f {' '.join(shlex.quote(f) for f in files)}; true"
    )
    session.run(script, timeout=timeout + 10)


def _wait_for_kernel(
    session: SSHSession,
    path: str,
    log_path: str,
    pid: int,
    timeout: float,
    cancel: threading.Event | None,
) -> ConnectionInfo:
    deadline = time.monotonic() + timeout
    info = None
    while time.monotonic() < deadline:
        _check_cancel(session, cancel)
        if info is None:
            try:
                info = read_remote_connection_file(session, path)
            except ConnectionFileError:
                info = None  # not written yet, or half written
        if info is not None:
            entry = KernelEntry(kernel_id_from_path(path), path, 0.0, info=info)
            if probe_remote_heartbeats(session, [entry], 1.0)[0]:
                return info
        status, _out, _err = session.run(f"kill -0 {pid}", timeout=10.0)
        if status != 0:
            _status, log, _ = session.run(f"tail -n 15 {shlex.quote(log_path)}", timeout=10.0)
            last_lines = log.strip()[-600:] or "no output"
            raise RemoteKernelStartFailed(
                f"The kernel started on {session.label} exited: {last_lines}.",
                "Fix the problem shown in its log, or choose another remote Python.",
                host=session.label,
            )
        time.sleep(0.2)
    raise RemoteKernelStartFailed(
        f"The kernel started on {session.label} did not answer within {timeout:g} s.",
        f"It may still be starting (its log is {log_path}); try connecting to it from the list.",
        host=session.label,
    )


def _check_cancel(session: SSHSession, cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise errors.Cancelled(f"Cancelled while working on {session.label}.", host=session.label)


def _expand_home(session: SSHSession, path: str) -> str:
    """``~`` and ``~/x`` on the host; SFTP sessions start in the user's home directory."""
    if path != "~" and not path.startswith("~/"):
        return path
    home = session.sftp().normalize(".")
    return posixpath.join(home, path[2:]) if path != "~" else home


def _unreadable(path: str, reason: str) -> ConnectionFileError:
    return ConnectionFileUnreadable(
        f"Cannot read remote connection file {path}: {reason}.",
        "Connection files are readable only by the user who started the kernel; log in as "
        "that user.",
        path=path,
    )
