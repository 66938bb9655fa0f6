"""Three real sshd on loopback, bastion → login → target, reached only through an SSH config.

Each hop has its own key, and (as root) its own user account, so a hop that borrowed the
next hop's settings would fail. The test config file is passed explicitly (never the
user's ~/.ssh/config), and its known_hosts trusts bastion and target but not login: the
middle hop's key is the one to accept.

``chain``: the session-wide :class:`Chain` (servers, users, config path, known_hosts).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sshd import SSHServer, start_sshd, stop_sshd


@dataclass
class Chain:
    bastion: SSHServer
    login: SSHServer
    target: SSHServer
    users: dict[str, str]  # hop name → account on it
    config: Path  # the SSH config file describing the chain
    known_hosts: Path  # trusts bastion and target, not login

    def ssh_target(self, host: str = "target", **kwargs):
        """An SSHTarget resolved only through the test config: no agent, no default keys."""
        from spyder_kernel_connect.ssh import SSHTarget

        options = dict(
            ssh_config=str(self.config),
            known_hosts=str(self.known_hosts),
            use_agent=False,
            look_for_keys=False,
            connect_timeout=20.0,
        )
        options.update(kwargs)
        return SSHTarget(host, **options)

    def openssh_options(self) -> list[str]:
        """The same config for OpenSSH's own client (benchmarks, ProxyCommand hops)."""
        return [
            "-F",
            str(self.config),
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "BatchMode=yes",
        ]


def _make_user(name: str) -> str:
    subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", name], check=True)
    subprocess.run(["usermod", "-p", "*", name], check=True)  # no password, not locked
    return name


def _hop_server(directory: Path, keys_dir: Path, name: str) -> SSHServer:
    # sshd reads authorized_keys as the logging-in user: keep it where any user can read it.
    authorized = keys_dir / f"{name}.keys"
    authorized.touch(mode=0o644)
    server = start_sshd(directory / name, settings={"AuthorizedKeysFile": str(authorized)})
    authorized.write_text(server.user_key.with_suffix(".pub").read_text())
    os.chmod(authorized, 0o644)
    return server


@pytest.fixture(scope="session")
def chain(tmp_path_factory):
    with start_chain(tmp_path_factory.mktemp("chain")) as started:
        yield started


@contextlib.contextmanager
def start_chain(directory: Path) -> Iterator[Chain]:
    """The three servers, accounts and config; everything is removed on exit."""
    keys_dir = Path(tempfile.mkdtemp(prefix="skc-chain-keys-"))
    os.chmod(keys_dir, 0o755)
    created: list[str] = []
    servers: list[SSHServer] = []
    try:
        me = subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
        if os.geteuid() == 0 and shutil.which("useradd"):
            tag = os.getpid() % 100000
            for hop in ("bastion", "login"):
                created.append(_make_user(f"skc{hop[:3]}{tag}"))
            users = {"bastion": created[0], "login": created[1], "target": me}
        else:
            users = dict.fromkeys(("bastion", "login", "target"), me)
        for name in ("bastion", "login", "target"):
            servers.append(_hop_server(directory, keys_dir, name))
        bastion, login, target = servers
        config = directory / "ssh_config"
        # OpenSSH's own client as the ProxyCommand, through the bastion (ssh -W).
        proxy_command = (
            f"ssh -F /dev/null -i {bastion.user_key} -o BatchMode=yes "
            f"-o UserKnownHostsFile={directory / 'known_hosts'} -o StrictHostKeyChecking=yes "
            f"-p {bastion.port} -l {users['bastion']} 127.0.0.1 -W %h:%p"
        )
        config.write_text(
            f"""\
Host bastion
    HostName 127.0.0.1
    Port {bastion.port}
    User {users["bastion"]}
    IdentityFile {bastion.user_key}
Host login
    HostName 127.0.0.1
    Port {login.port}
    User {users["login"]}
    IdentityFile {login.user_key}
    ProxyJump bastion
Host target
    HostName 127.0.0.1
    Port {target.port}
    User {users["target"]}
    IdentityFile {target.user_key}
    ProxyJump login
Host target-direct
    HostName 127.0.0.1
    Port {target.port}
    User {users["target"]}
    IdentityFile {target.user_key}
Host target-via-command
    HostName 127.0.0.1
    Port {target.port}
    User {users["target"]}
    IdentityFile {target.user_key}
    ProxyCommand {proxy_command}
Host target-via-failing-command
    HostName 127.0.0.1
    Port {target.port}
    ProxyCommand sh -c 'echo "channel 0: open failed: no route to lab" >&2; exit 255'
Host bastion-wrong-key
    HostName 127.0.0.1
    Port {bastion.port}
    User {users["bastion"]}
    IdentityFile {login.user_key}
Host target-behind-wrong-key
    HostName 127.0.0.1
    Port {target.port}
    IdentityFile {target.user_key}
    ProxyJump bastion-wrong-key
Host loop
    ProxyJump loop
"""
        )
        known_hosts = directory / "known_hosts"
        known_hosts.write_text(bastion.host_key_line() + target.host_key_line())
        yield Chain(bastion, login, target, users, config, known_hosts)
    finally:
        for server in servers:
            stop_sshd(server)
        for name in created:
            subprocess.run(["userdel", "-f", name], capture_output=True)
        shutil.rmtree(keys_dir, ignore_errors=True)
