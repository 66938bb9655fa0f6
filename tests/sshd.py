"""A real OpenSSH sshd on a free 127.0.0.1 port, with its own config, keys and log.

Registered from tests/conftest.py (``pytest_plugins``) so every test package can use:

- ``sshd``: session-wide server (:class:`SSHServer`): host, port, user, key paths,
  known_hosts path, log path, ``auth_count()``, ``kill_connections()``, ``target()``.
- ``sshd_password_user``: (name, password) of a throw-away local account, root only.
- ``ssh_home``: a private $HOME without ssh-agent, so the user's ~/.ssh is never read.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
SSH_KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"
KEY_PASSPHRASE = "correct horse battery staple"
# One line per completed authentication (not the "Accepted key … found at" probe lines).
AUTH_LINE = re.compile(r"^Accepted (?:publickey|password|keyboard-interactive\S*) for ", re.M)


@dataclass
class SSHServer:
    host: str
    port: int
    user: str
    directory: Path
    config_path: Path
    log_path: Path
    host_key: Path  # private host key; host_key.pub is its public half
    user_key: Path  # unencrypted client key in authorized_keys
    passphrase_key: Path  # client key encrypted with KEY_PASSPHRASE, also authorized
    known_hosts: Path  # a known_hosts file that trusts this server
    process: subprocess.Popen

    @property
    def address(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def host_key_line(self) -> str:
        key_type, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[{self.host}]:{self.port} {key_type} {blob}\n"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def auth_count(self) -> int:
        """Successful authentications so far ("Accepted publickey/password for …" lines)."""
        return len(AUTH_LINE.findall(self.log_text()))

    def connection_pids(self) -> list[int]:
        """PIDs of this sshd's per-connection processes (its descendants)."""
        return _descendants(self.process.pid)

    def kill_connections(self, sig: int = signal.SIGKILL) -> list[int]:
        """Kill every active connection of this server (not the listener): a dropped link."""
        pids = self.connection_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return pids

    def target(self, **kwargs):
        """An SSHTarget for this server trusting its host key, no agent, no default keys."""
        from spyder_kernel_connect.ssh import SSHTarget

        options = dict(
            host=self.host,
            user=self.user,
            port=self.port,
            identity_file=str(self.user_key),
            known_hosts=str(self.known_hosts),
            use_agent=False,
            look_for_keys=False,
            ssh_config=str(self.directory / "no-ssh-config"),
            connect_timeout=10.0,
        )
        options.update(kwargs)
        return SSHTarget(**options)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def keygen(path: Path, passphrase: str = "", comment: str = "test") -> Path:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def start_sshd(
    directory: Path,
    extra_config: str = "",
    settings: dict[str, str] | None = None,
    program: str | None = None,
) -> SSHServer:
    """Start sshd in ``directory``; ``extra_config`` lines are appended to its sshd_config.

    ``settings`` replace the defaults below keyword by keyword (sshd keeps the *first*
    value of most keywords, so appending cannot override them). ``program`` runs sshd
    under another path, e.g. a symlink whose name becomes its PAM service name.
    """
    if not os.path.exists(SSHD):
        pytest.skip("OpenSSH sshd is not installed (Debian package openssh-server)")
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege-separation dir
    host_key = keygen(directory / "host_ed25519", comment="host")
    user_key = keygen(directory / "user_ed25519", comment="user")
    passphrase_key = keygen(directory / "user_pass_ed25519", KEY_PASSPHRASE, "user-pass")
    authorized = directory / "authorized_keys"
    authorized.write_text(
        user_key.with_suffix(".pub").read_text() + passphrase_key.with_suffix(".pub").read_text()
    )
    os.chmod(authorized, 0o600)
    port = free_port()
    config = directory / "sshd_config"
    log_path = directory / "sshd.log"
    config.write_text(
        f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {host_key}
PidFile {directory / "sshd.pid"}
AuthorizedKeysFile {authorized}
UsePAM no
StrictModes no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
AllowTcpForwarding yes
MaxAuthTries 10
MaxSessions 50
MaxStartups 100:30:200
LogLevel VERBOSE
Subsystem sftp internal-sftp
"""
        + extra_config
    )
    for keyword, value in (settings or {}).items():
        text = config.read_text()
        line = f"{keyword} {value}"
        text, found = re.subn(rf"^{keyword} .*$", line, text, flags=re.M | re.I)
        config.write_text(text if found else f"{line}\n{text}")
    # -D: stay in the foreground, so the fixture owns exactly this PID; -E: log to a file.
    process = subprocess.Popen(
        [program or SSHD, "-D", "-f", str(config), "-E", str(log_path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    user = pwd.getpwuid(os.getuid()).pw_name
    server = SSHServer(
        "127.0.0.1",
        port,
        user,
        directory,
        config,
        log_path,
        host_key,
        user_key,
        passphrase_key,
        directory / "known_hosts",
        process,
    )
    server.known_hosts.write_text(server.host_key_line())
    _wait_for_banner(server)
    return server


def _wait_for_banner(server: SSHServer, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            err = server.process.stderr.read().decode(errors="replace")
            log = server.log_text() if server.log_path.exists() else ""
            raise RuntimeError(f"sshd exited with {server.process.returncode}: {err} {log}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-2.0"):
                    return
        except OSError:
            time.sleep(0.05)
    stop_sshd(server)
    raise RuntimeError("sshd did not answer within 15 s")


def stop_sshd(server: SSHServer) -> None:
    server.kill_connections()
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    if server.process.stderr:
        server.process.stderr.close()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    stop_sshd(server)


@pytest.fixture(scope="session")
def sshd_password_user(sshd):
    """A local account with a password, for password authentication; created only as root."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("creating a test user with a password needs root")
    name = f"skc{os.getpid() % 100000}"
    password = secrets.token_urlsafe(12)
    subprocess.run(["useradd", "-M", "-s", "/bin/sh", name], check=True, capture_output=True)
    try:
        subprocess.run(
            ["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True
        )
        yield name, password
    finally:
        subprocess.run(["userdel", "-f", name], capture_output=True)


@pytest.fixture
def ssh_home(tmp_path, monkeypatch):
    """A private $HOME (empty ~/.ssh) and no ssh-agent: tests never read the user's keys.

    Also a private $XDG_RUNTIME_DIR: CLI tunnels share connections through control
    sockets there, and must never find another test's."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    monkeypatch.setenv("HOME", str(home))
    # Short, as real ones are (/run/user/1000): Unix socket paths are limited to ~107 bytes.
    runtime = tempfile.mkdtemp(prefix="run-", dir="/tmp")
    monkeypatch.setenv("XDG_RUNTIME_DIR", runtime)
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    yield home
    shutil.rmtree(runtime, ignore_errors=True)
