"""Connection sharing between processes, like OpenSSH's ControlMaster.

The first ``tunnel`` process to a destination (user, host, port and jump chain) serves
its authenticated connection on a Unix socket once login succeeded; later processes for
the same destination use it instead of logging in (no second 2FA prompt). The socket is
0600 in a 0700 per-user directory under ``$XDG_RUNTIME_DIR`` (else
``/tmp/spyder-kc-<uid>``), named by a hash of the destination so the path
stays far below the ~107-byte limit of Unix socket paths. Peers of another uid are
refused (SO_PEERCRED). Nothing ever listens on TCP.

Protocol: one request per Unix connection, one JSON line each way. ``hello`` keeps the
connection open as the client's lifeline (it ends when the master does); ``run`` runs a
command; ``channel`` opens a direct-tcpip channel and ``sftp`` the SFTP subsystem, after
which the Unix connection is spliced byte for byte to that SSH channel.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import selectors
import socket
import stat
import struct
import threading
from collections.abc import Callable

import paramiko

from spyder_kernel_connect.ssh import errors
from spyder_kernel_connect.ssh.session import SSHSession

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
MAX_LINE = 1 << 20  # a request or reply line (a command's output is capped by run itself)
CHUNK = 65536
MAX_DIR_LENGTH = 70  # + "/spyder-kc/" + 20 hex digits + ".sock" stays below 107 bytes


class ControlDirUnsafe(errors.SSHError):
    """The directory for control sockets is not private to this user."""


def control_dir() -> str:
    """The per-user directory of control sockets (created 0700, checked to be ours)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    # A socket path must fit in ~107 bytes: an odd, long runtime dir is not used.
    if runtime and len(runtime) <= MAX_DIR_LENGTH and os.path.isdir(runtime):
        path = os.path.join(runtime, "spyder-kc")
    else:
        path = os.path.join("/tmp", f"spyder-kc-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise ControlDirUnsafe(
            f"The control socket directory {path} is not a private directory of this user "
            f"(mode {stat.S_IMODE(st.st_mode):o}, owner uid {st.st_uid}).",
            "Remove it (it is re-created 0700), or use --no-control.",
        )
    return path


def destination_key(key: tuple) -> str:
    """The destination as text: user@host:port plus the jump chain or ProxyCommand."""
    return json.dumps([str(part) if part is not None else None for part in key])


def socket_path(key: tuple, directory: str | None = None) -> str:
    digest = hashlib.sha256(destination_key(key).encode()).hexdigest()[:20]
    return os.path.join(directory or control_dir(), f"{digest}.sock")


def peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def send_line(conn: socket.socket, message: dict) -> None:
    conn.sendall(json.dumps(message).encode() + b"\n")


def read_line(conn: socket.socket, poll: Callable[[], bool] | None = None) -> dict | None:
    """One JSON line, read byte by byte so nothing after it (spliced data) is consumed.

    ``poll`` is asked every socket timeout; True gives up (returns None). None at EOF.
    """
    data = bytearray()
    while not data.endswith(b"\n"):
        try:
            byte = conn.recv(1)
        except TimeoutError:
            if poll is not None and poll():
                return None
            continue
        if not byte or len(data) > MAX_LINE:
            return None
        data += byte
    return json.loads(data)


def error_reply(err: BaseException) -> dict:
    """An error for the client to raise again with its type, message and hint."""
    if isinstance(err, errors.SSHError):
        return {"ok": False, "type": type(err).__name__, "message": err.message, "hint": err.hint}
    return {"ok": False, "type": "SSHError", "message": str(err), "hint": ""}


def shutdown_write(end) -> None:
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        if isinstance(end, socket.socket):
            end.shutdown(socket.SHUT_WR)
        else:
            end.shutdown_write()


def abort(end) -> None:
    """Wake any thread blocked on ``end`` and close it (shutdown first: a bare close does
    not wake a blocked recv on Linux)."""
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        if isinstance(end, socket.socket):
            end.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        end.close()


def splice(a, b, name: str) -> None:
    """Copy bytes both ways between two stream ends (sockets or paramiko channels) until
    both directions ended; then close both. Blocks; one helper thread for b → a."""
    other = threading.Thread(target=_pump, args=(b, a), name=f"{name}-back", daemon=True)
    other.start()
    _pump(a, b)
    other.join()
    abort(a)
    abort(b)


def _pump(source, sink) -> None:
    try:
        while True:
            data = source.recv(CHUNK)
            if not data:
                shutdown_write(sink)
                return
            sink.sendall(data)
    except (OSError, EOFError, paramiko.SSHException):
        abort(source)  # one direction broke: end the other one too
        abort(sink)


class ControlMaster:
    """Serves one SSH session on a Unix socket to this user's other processes."""

    def __init__(self, session: SSHSession, path: str, key: tuple) -> None:
        self.session = session
        self.path = path
        self.key_text = destination_key(key)
        self._listener: socket.socket | None = None
        self._inode: int | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen, replacing a stale socket file; False if a live master already serves."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if os.path.lexists(self.path):
                if _answers(self.path):
                    listener.close()
                    self._discard_wake()
                    return False
                log.info("replacing stale control socket %s", self.path)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
            old_umask = os.umask(0o177)  # the socket is born 0600, not chmod-ed after
            try:
                listener.bind(self.path)
            finally:
                os.umask(old_umask)
            os.chmod(self.path, 0o600)
            listener.listen(16)
        except OSError as err:  # another process won the race, or the dir went away
            log.info("not serving %s: %s", self.path, err)
            listener.close()
            self._discard_wake()
            return False
        self._listener = listener
        self._inode = os.stat(self.path).st_ino
        self._thread = threading.Thread(target=self._accept_loop, name="ssh-control", daemon=True)
        self._thread.start()
        log.info("sharing the connection to %s on %s", self.session.label, self.path)
        return True

    def _discard_wake(self) -> None:
        self._wake_r.close()
        self._wake_w.close()

    def close(self) -> None:
        """Stop serving, remove the socket file (if still ours), cut every client."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _accept_loop(self) -> None:
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self._listener, selectors.EVENT_READ)
                selector.register(self._wake_r, selectors.EVENT_READ)
                # The session may close without us being told (the manager's idle close):
                # look every half second, so no client keeps a master without a link.
                while not self._stopping.is_set() and not self.session.closed:
                    for key, _mask in selector.select(0.5):
                        if key.fileobj is self._listener:
                            self._accept()
        finally:
            self._shutdown()

    def _shutdown(self) -> None:
        # The file first: a process starting now must not find a master about to go.
        with contextlib.suppress(OSError):
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        self._listener.close()
        with self._lock:
            self._stopping.set()
            conns = list(self._conns)
        for conn in conns:
            abort(conn)
        self._wake_r.close()
        self._wake_w.close()

    def _accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except OSError:
            return
        if peer_uid(conn) != os.getuid():  # the 0700 dir should make this impossible
            log.warning("refused a control connection from another user")
            conn.close()
            return
        with self._lock:
            if self._stopping.is_set():
                conn.close()
                return
            self._conns.add(conn)
        threading.Thread(
            target=self._serve, args=(conn,), name="ssh-control-req", daemon=True
        ).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10.0)
            request = read_line(conn)
            conn.settimeout(None)
            if request is None:
                return
            op = request.get("op")
            log.debug("control request %s", op)
            if op == "hello":
                self._hello(conn, request)
            elif op == "run":
                send_line(conn, self._run(request))
            elif op in ("channel", "sftp"):
                self._channel(conn, request)
            else:
                send_line(conn, {"ok": False, "type": "SSHError", "message": f"bad op {op!r}"})
        except (OSError, ValueError) as err:
            log.debug("control connection ended: %s", err)
        finally:
            with self._lock:
                self._conns.discard(conn)
            abort(conn)

    def _hello(self, conn: socket.socket, request: dict) -> None:
        if request.get("key") != self.key_text or request.get("v") != PROTOCOL_VERSION:
            send_line(conn, {"ok": False, "type": "SSHError", "message": "other destination"})
            return
        send_line(conn, {"ok": True, "label": self.session.label, "pid": os.getpid()})
        while conn.recv(CHUNK):  # the client's lifeline: held until either side ends
            pass

    def _run(self, request: dict) -> dict:
        try:
            status, out, err = self.session.run(
                str(request["command"]), timeout=float(request.get("timeout", 30.0))
            )
        except errors.SSHError as error:
            return error_reply(error)
        return {"ok": True, "status": status, "stdout": out, "stderr": err}

    def _channel(self, conn: socket.socket, request: dict) -> None:
        try:
            transport = self.session.transport
            if request["op"] == "sftp":
                chan = transport.open_session(timeout=10.0)
                chan.invoke_subsystem("sftp")
            else:
                chan = transport.open_channel(
                    "direct-tcpip",
                    (str(request["host"]), int(request["port"])),
                    ("127.0.0.1", 0),
                    timeout=10.0,
                )
        except errors.SSHError as err:
            send_line(conn, error_reply(err))
            return
        except (paramiko.SSHException, OSError, EOFError) as err:
            refused = isinstance(err, paramiko.ChannelException)
            kind = "KernelUnreachable" if refused else "SSHError"
            text = getattr(err, "text", "") or str(err) or "connect failed"
            send_line(conn, {"ok": False, "type": kind, "message": text, "refused": refused})
            return
        send_line(conn, {"ok": True})
        splice(conn, chan, "ssh-control-splice")


def _answers(path: str) -> bool:
    """Does a live master listen on ``path``? (A file left by a killed one refuses.)"""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(2.0)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True
