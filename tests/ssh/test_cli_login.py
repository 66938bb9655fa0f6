"""The CLI's login questions on a real pseudo-terminal (pexpect), -J and -F, and no terminal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pexpect
import pytest

from tests.cli_helpers import CLI
from tests.ssh.conftest import execute
from tests.sshd_otp import OTP_PROMPT

pytestmark = pytest.mark.sshd


def spawn(ssh_home, *args) -> pexpect.spawn:
    env = dict(os.environ, HOME=str(ssh_home))
    return pexpect.spawn(CLI[0], [*CLI[1:], *map(str, args)], env=env, encoding="utf-8", timeout=90)


def otp_args(otp, remote_kernel, tmp_path):
    server = otp.server
    return [
        "tunnel",
        server.address,
        remote_kernel.connection_file,
        "-i",
        server.user_key,
        "--known-hosts",
        server.known_hosts,
        "--local-dir",
        tmp_path,
    ]


def finish(child: pexpect.spawn) -> int:
    child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_code_asked_on_the_terminal_with_echo_off(otp, remote_kernel, ssh_home, tmp_path):
    child = spawn(ssh_home, *otp_args(otp, remote_kernel, tmp_path))
    try:
        child.expect_exact(OTP_PROMPT)
        assert child.waitnoecho(10), "the code must be typed with echo off"
        code = otp.code()
        child.sendline(code)
        child.expect(r"(/\S+kernel-\S+\.json)\r\n")
        path = child.match.group(1)
        child.expect("Forwarding 127.0.0.1 ports")
        assert code not in child.before + path
        assert execute(path, "print(20 + 22)") == "42\n"
    finally:
        assert finish(child) == 0


def test_wrong_code_then_right_code_on_the_terminal(otp, remote_kernel, ssh_home, tmp_path):
    child = spawn(ssh_home, *otp_args(otp, remote_kernel, tmp_path))
    try:
        child.expect_exact(OTP_PROMPT)
        child.sendline(otp.wrong_code())
        child.expect_exact(OTP_PROMPT)
        child.sendline(otp.code())
        child.expect("Forwarding 127.0.0.1 ports")
    finally:
        assert finish(child) == 0


def test_ctrl_d_at_the_prompt_cancels(otp, remote_kernel, ssh_home, tmp_path):
    child = spawn(ssh_home, *otp_args(otp, remote_kernel, tmp_path))
    child.expect_exact(OTP_PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "cancelled" in child.before and "Traceback" not in child.before


def test_no_terminal_is_one_clear_line(otp, remote_kernel, ssh_home, tmp_path):
    result = subprocess.run(
        [*CLI, *map(str, otp_args(otp, remote_kernel, tmp_path))],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=dict(os.environ, HOME=str(ssh_home)),
        start_new_session=True,  # no controlling terminal, as under cron or a CI runner
        timeout=120,
    )
    assert result.returncode == 2 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "needs an interactive login" in line and otp.server.address in line


def test_jump_hosts_option(chain, remote_kernel, ssh_home, tmp_path):
    known_hosts = tmp_path / "known_hosts"
    shutil.copy(chain.known_hosts, known_hosts)
    child = spawn(
        ssh_home,
        "tunnel",
        "target-direct",
        remote_kernel.connection_file,
        "-F",
        chain.config,
        "-J",
        "bastion,login",
        "--known-hosts",
        known_hosts,
        "--accept-new-host-key",
        "--local-dir",
        tmp_path,
    )
    try:
        child.expect(f"Accepting new host key of 127.0.0.1:{chain.login.port}")
        child.expect(r"(/\S+kernel-\S+\.json)\r\n")
        assert execute(child.match.group(1), "print('three hops')") == "three hops\n"
    finally:
        assert finish(child) == 0
    assert f"[127.0.0.1]:{chain.login.port}" in known_hosts.read_text()


def test_missing_ssh_config_file(ssh_home, tmp_path):
    result = subprocess.run(
        [*CLI, "remote-list", "somehost", "-F", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        env=dict(os.environ, HOME=str(ssh_home)),
        timeout=60,
    )
    assert result.returncode == 2
    assert "SSH config file" in result.stderr and "does not exist" in result.stderr
