"""A real OpenSSH sshd with two-factor login: a key, then a TOTP code asked by PAM.

The recipe (Debian's libpam-oath and oathtool): sshd runs under a symlink with a
private name, and OpenSSH uses its program name as the PAM service, so the PAM file of
the system's own sshd is never touched; ``/etc/pam.d/<that name>`` asks pam_oath for a
code and is removed at teardown. ``AuthenticationMethods publickey,keyboard-interactive``
makes paramiko see ``['keyboard-interactive']`` after the key, then the prompt
"One-time password (OATH) for `user':".

Fixtures: ``otp_sshd`` (session-wide server) and ``otp`` (a fresh secret per test, so
pam_oath's replay record of one test never refuses the codes of the next).
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sshd import SSHD, SSHServer, start_sshd, stop_sshd

OATHTOOL = shutil.which("oathtool")
OTP_PROMPT = "One-time password (OATH) for"
TOTP_STEP = 30


def _pam_module(name: str) -> str | None:
    found = glob.glob(f"/lib/*/security/{name}") + glob.glob(f"/usr/lib/*/security/{name}")
    return found[0] if found else None


@dataclass
class OTPServer:
    server: SSHServer
    users_file: Path
    secret: str = ""

    def new_secret(self, users: tuple[str, ...] = ()) -> None:
        """A fresh TOTP secret for the server's user (and ``users``); forgets used codes."""
        self.secret = secrets.token_hex(20)
        lines = "".join(f"HOTP/T30 {user} - {self.secret}\n" for user in (self.server.user, *users))
        self.users_file.write_text(lines)
        os.chmod(self.users_file, 0o600)

    def code(self, steps_ahead: int = 0) -> str:
        """The TOTP code now (or ``steps_ahead`` 30-s steps later: a code not used yet)."""
        when = int(time.time()) + steps_ahead * TOTP_STEP
        out = subprocess.run(
            [OATHTOOL, "--totp", "-N", f"@{when}", self.secret],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def wrong_code(self) -> str:
        """Six digits that are none of the codes pam_oath accepts around now."""
        valid = {self.code(step) for step in range(-3, 4)}
        while True:
            candidate = f"{secrets.randbelow(10**6):06d}"
            if candidate not in valid:
                return candidate

    def log_text(self) -> str:
        return self.server.log_text()


@contextlib.contextmanager
def pam_sshd(directory: Path, name: str, auth_lines: str, methods: str) -> Iterator[SSHServer]:
    """sshd whose keyboard-interactive login runs the PAM ``auth`` lines given."""
    if os.geteuid() != 0:
        pytest.skip("a PAM service for the 2FA sshd can only be installed as root")
    directory.mkdir(parents=True, exist_ok=True)
    service = f"sshd-skc{name}{os.getpid()}"
    program = directory / service
    program.symlink_to(SSHD)
    pam_file = Path("/etc/pam.d") / service
    pam_file.write_text(
        auth_lines + "account required pam_permit.so\nsession required pam_permit.so\n"
    )
    server = None
    try:
        server = start_sshd(
            directory / "server",
            settings={
                "UsePAM": "yes",
                "KbdInteractiveAuthentication": "yes",
                "PasswordAuthentication": "no",
                "AuthenticationMethods": methods,
            },
            program=str(program),
        )
        yield server
    finally:
        if server is not None:
            stop_sshd(server)
        pam_file.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def otp_sshd(tmp_path_factory):
    if not OATHTOOL or not _pam_module("pam_oath.so"):
        pytest.skip("2FA tests need Debian's libpam-oath and oathtool")
    directory = tmp_path_factory.mktemp("sshd-otp")
    users_file = directory / "users.oath"
    pam = f"auth required pam_oath.so usersfile={users_file} window=2 digits=6\n"
    with pam_sshd(directory, "otp", pam, "publickey,keyboard-interactive") as server:
        otp_server = OTPServer(server, users_file)
        otp_server.new_secret()
        yield otp_server


@pytest.fixture
def otp(otp_sshd):
    otp_sshd.new_secret()
    return otp_sshd
