"""Connection sharing between CLI tunnels (control socket), with real processes and sshd."""

from __future__ import annotations

import contextlib
import glob
import os
import select
import shutil
import signal
import socket
import stat
import tempfile
import time

import pytest

from spyder_kernel_connect.ssh import control
from tests.cli_helpers import (
    finish,
    first_line,
    run_as,
    spawn,
    start_cli,
    start_tunnel,
    stop,
    tunnel_args,
)
from tests.conftest import wait_for
from tests.ssh.conftest import execute, thread_names
from tests.sshd_otp import OTP_PROMPT

pytestmark = pytest.mark.sshd


def tcp_connections_to(pid: int, port: int) -> int:
    """How many TCP sockets of process ``pid`` are connected to 127.0.0.1:``port``."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    remote = f"0100007F:{port:04X}"
    with open(f"/proc/{pid}/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return sum(1 for row in rows if row[2] == remote and row[9] in inodes)


def control_sockets() -> list[str]:
    return glob.glob(os.path.join(os.environ["XDG_RUNTIME_DIR"], "spyder-kc", "*.sock"))


def read_stderr_until(process, text: str, timeout: float = 60.0) -> str:
    """stderr of a running process until it contains ``text`` (read from the fd: the
    text wrapper stays untouched until communicate() takes the rest)."""
    seen = b""
    deadline = time.monotonic() + timeout
    fd = process.stderr.fileno()
    while text.encode() not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not in stderr: {seen!r}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"{text!r} not in stderr before it ended: {seen!r}")
            seen += chunk
    return seen.decode()


def test_second_tunnel_uses_the_first_ones_login(sshd, ssh_home, sshd_tunnel_args, remote_kernel):
    first = start_tunnel(ssh_home, *sshd_tunnel_args)
    second = None
    try:
        path1 = first_line(first)
        logins = sshd.auth_count()
        [sock] = control_sockets()
        assert stat.S_IMODE(os.stat(os.path.dirname(sock)).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600
        # --remote: the file is looked up (commands) and read (SFTP) through the first one.
        name = os.path.basename(remote_kernel.connection_file)
        second = start_tunnel(
            ssh_home, *sshd_tunnel_args[:1], name, "--remote", "--remote-runtime-dir",
            os.path.dirname(remote_kernel.connection_file), *sshd_tunnel_args[2:],
        )  # fmt: skip
        path2 = first_line(second)
        assert path2 != path1 and os.stat(path2).st_mode & 0o777 == 0o600
        assert execute(path2, "print('through the second')") == "through the second\n"
        assert execute(path1, "print('through the first')") == "through the first\n"
        assert sshd.auth_count() == logins  # no second login
        # Nor a connection: the TCP handshake it began before its imports was hung up.
        wait_for(lambda: tcp_connections_to(second.pid, sshd.port) == 0)
        assert tcp_connections_to(first.pid, sshd.port) == 1
        listing = run_as(
            ssh_home, "remote-list", *sshd_tunnel_args[:1], *sshd_tunnel_args[2:6],
            "--remote-runtime-dir", os.path.dirname(remote_kernel.connection_file), "--json",
        )  # fmt: skip
        assert listing.returncode == 0, listing.stderr
        assert name in listing.stdout and '"alive": true' in listing.stdout
        assert sshd.auth_count() == logins
    finally:
        code2, _out2, err2 = stop(second) if second else (0, "", "")
        code1, _out1, err1 = stop(first)
    assert code1 == code2 == 0, (err1, err2)
    assert "Sharing the SSH connection of another tunnel" in err2
    assert "Traceback" not in err1 + err2
    assert not os.path.exists(path2) and control_sockets() == []


def test_no_control_logs_in_anew(sshd, ssh_home, sshd_tunnel_args):
    first = start_tunnel(ssh_home, *sshd_tunnel_args)
    second = None
    try:
        first_line(first)
        logins = sshd.auth_count()
        second = start_cli("--debug", "tunnel", *sshd_tunnel_args, "--no-control", home=ssh_home)
        path2 = first_line(second)
        assert sshd.auth_count() == logins + 1
        assert execute(path2, "print('own login')") == "own login\n"
    finally:
        _code, _out, err2 = stop(second) if second else (0, "", "")
        stop(first)
    assert "Sharing" not in err2 and "shared connection" not in err2
    assert "sharing the connection" not in err2  # nor offers its own


def test_debug_says_which_path(sshd, ssh_home, sshd_tunnel_args):
    first = start_cli("--debug", "tunnel", *sshd_tunnel_args, home=ssh_home)
    try:
        first_line(first)
        second = start_cli("--debug", "tunnel", *sshd_tunnel_args, home=ssh_home)
        first_line(second)
        _code, _out, err2 = stop(second)
    finally:
        _code, _out, err1 = stop(first)
    assert "sharing the connection to" in err1
    assert "using the shared connection to" in err2


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_master_exit_client_logs_in_itself_on_the_same_ports(sshd, ssh_home, sshd_tunnel_args, sig):
    first = start_tunnel(ssh_home, *sshd_tunnel_args)
    second = third = None
    try:
        first_line(first)
        second = start_tunnel(ssh_home, *sshd_tunnel_args)
        path2 = first_line(second)
        assert execute(path2, "print(1)") == "1\n"
        logins = sshd.auth_count()
        code1, _out, err1 = stop(first, sig)
        assert code1 == (0 if sig == signal.SIGINT else -signal.SIGKILL)
        assert "Traceback" not in err1
        seen = read_stderr_until(second, "Connected to")
        assert "has ended; logging in ourselves" in seen
        assert second.poll() is None
        # Same file, same ports: a new client (as a console reconnecting) gets through.
        assert execute(path2, "print(2)") == "2\n"
        assert sshd.auth_count() == logins + 1
        # The survivor shares its own login in turn.
        wait_for(lambda: len(control_sockets()) == 1)
        third = start_tunnel(ssh_home, *sshd_tunnel_args)
        assert execute(first_line(third), "print(3)") == "3\n"
        assert sshd.auth_count() == logins + 1
    finally:
        results = [stop(p) for p in (third, second) if p is not None]
        if first.poll() is None:
            stop(first)
    for code, _out, err in results:
        assert code == 0 and "Traceback" not in err, err


def test_killed_master_leaves_a_stale_socket_that_is_replaced(sshd, ssh_home, sshd_tunnel_args):
    first = start_tunnel(ssh_home, *sshd_tunnel_args)
    first_line(first)
    [sock] = control_sockets()
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=20)
    assert os.path.exists(sock)  # nobody removed it
    logins = sshd.auth_count()
    second = start_tunnel(ssh_home, *sshd_tunnel_args)
    try:
        path = first_line(second)
        assert sshd.auth_count() == logins + 1  # the stale socket was not mistaken for a master
        assert execute(path, "print('fresh')") == "fresh\n"
        assert control_sockets() == [sock]
        probe = socket.socket(socket.AF_UNIX)
        probe.connect(sock)  # a live master answers there again
        probe.close()
    finally:
        code, _out, err = stop(second)
    assert code == 0 and "Traceback" not in err


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to become another user")
def test_another_user_is_refused(sshd, manager):
    """Even where the directory would let another uid in, the master checks SO_PEERCRED."""
    session = manager.session(sshd.target(identity_file=str(sshd.user_key)))
    directory = tempfile.mkdtemp(dir="/tmp")  # /tmp/pytest-of-root is closed to nobody
    os.chmod(directory, 0o777)
    key = ("someone", "host", 22, None, None)
    path = os.path.join(directory, "m.sock")
    master = control.ControlMaster(session, path, key)
    assert master.start()
    os.chmod(path, 0o777)  # only the uid check stands between nobody and the connection
    try:
        pid = os.fork()
        if pid == 0:  # child: become nobody, say hello, report whether it was answered
            code = 3
            try:
                os.setgid(65534)
                os.setuid(65534)
                conn = socket.socket(socket.AF_UNIX)
                conn.settimeout(10)
                conn.connect(path)
                code = 0  # reached the socket; refused unless a reply comes
                control.send_line(
                    conn, {"op": "hello", "v": 1, "key": control.destination_key(key)}
                )
                code = 1 if control.read_line(conn) else 0
            except OSError:
                pass  # reset by the master: refused (code stays 0), or connect failed (3)
            except BaseException:
                code = 2
            os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0  # connected, but no answer
        # The same request from our own uid is answered.
        conn = socket.socket(socket.AF_UNIX)
        conn.connect(path)
        control.send_line(conn, {"op": "hello", "v": 1, "key": control.destination_key(key)})
        assert control.read_line(conn)["ok"]
        conn.close()
    finally:
        master.close()
        assert not os.path.exists(path)
        os.rmdir(directory)


def test_two_factor_host_asks_once_per_machine(otp, remote_kernel, ssh_home, tmp_path):
    """The second terminal is not asked for a code; after the first one ends, the second
    asks in its own terminal (its own login) and carries on on the same file."""
    master = spawn(ssh_home, *tunnel_args(otp.server, remote_kernel.connection_file, tmp_path))
    client = None
    try:
        master.expect_exact(OTP_PROMPT)
        master.sendline(otp.code())
        master.expect("Forwarding 127.0.0.1 ports")
        client = spawn(ssh_home, *tunnel_args(otp.server, remote_kernel.connection_file, tmp_path))
        assert client.expect([r"(/\S+kernel-\S+\.json)\r\n", OTP_PROMPT]) == 0
        path = client.match.group(1)
        assert "Sharing the SSH connection of another tunnel" in client.before
        assert execute(path, "print('no second code')") == "no second code\n"
        assert finish(master) == 0
        client.expect_exact(OTP_PROMPT)  # the first login ended: ours now
        client.sendline(otp.code(1))  # a code pam_oath has not seen used
        client.expect("up: Connected to")
        assert execute(path, "print('own login')") == "own login\n"
    finally:
        if master.isalive():
            finish(master)
        if client is not None:
            assert finish(client) == 0


def test_commands_files_and_errors_through_the_master(sshd, sshd_password_user):
    """In one process, two managers: the second uses the first one's connection for
    commands, SFTP and channels, and gets the same typed errors as on its own. (The
    account with /bin/sh keeps the commands clear of root's shell start-up files.)"""
    from spyder_kernel_connect.ssh import KernelUnreachable, TunnelManager
    from spyder_kernel_connect.ssh.control_client import ControlSession

    name, password = sshd_password_user
    target = sshd.target(user=name, password=password, identity_file=None)
    directory = tempfile.mkdtemp(dir="/tmp")
    os.chmod(directory, 0o755)  # readable by that account
    path = os.path.join(directory, "f.txt")
    with open(path, "w") as file:
        file.write("over sftp")
    os.chmod(path, 0o644)
    try:
        with (
            TunnelManager(share_connections=True) as first,
            TunnelManager(share_connections=True) as second,
        ):
            first.session(target)
            logins = sshd.auth_count()
            session = second.session(target)
            assert isinstance(session, ControlSession) and session.shared
            status, out, err = session.run("echo shared; echo err >&2; exit 3")
            # (sshd may first say it cannot chdir to the account's missing home)
            assert (status, out) == (3, "shared\n") and err.endswith("err\n")
            with session.sftp().open(path, "rb") as handle:
                assert handle.read(100) == b"over sftp"
            with pytest.raises(FileNotFoundError):
                session.sftp().stat(path + ".missing")
            closed = socket.socket()
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
            closed.close()
            with pytest.raises(KernelUnreachable, match=f"127.0.0.1:{port}"):
                session.open_forwards("127.0.0.1", [port])
            assert sshd.auth_count() == logins
        # No thread of either side outlives the managers.
        wait_for(lambda: not [n for n in thread_names() if n.startswith("ssh-control")])
    finally:
        shutil.rmtree(directory)


def test_a_socket_directory_others_can_enter_is_refused(ssh_home, sshd_tunnel_args):
    """A control directory open to others is one clear line, not a socket anyone can use."""
    directory = os.path.join(os.environ["XDG_RUNTIME_DIR"], "spyder-kc")
    os.mkdir(directory)
    os.chmod(directory, 0o755)
    process = start_tunnel(ssh_home, *sshd_tunnel_args)
    out, err = process.communicate(timeout=60)
    code = process.returncode
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert directory in err and "not a private directory" in err and "--no-control" in err
    assert os.listdir(directory) == []
    # --no-control neither uses nor offers a socket there: it works as before.
    own = start_tunnel(ssh_home, *sshd_tunnel_args, "--no-control")
    try:
        assert execute(first_line(own), "print('fine')") == "fine\n"
    finally:
        assert stop(own)[0] == 0
    assert os.listdir(directory) == []
