"""The CLI's login questions on a real pseudo-terminal (pexpect), -J and -F, and no terminal."""

from __future__ import annotations

import shutil

import pexpect
import pytest

from tests.cli_helpers import finish, run_as, run_cli, spawn, tunnel_args
from tests.ssh.conftest import execute
from tests.sshd_otp import OTP_PROMPT

pytestmark = pytest.mark.sshd


def test_code_asked_on_the_terminal_with_echo_off(otp, remote_kernel, ssh_home, tmp_path):
    child = spawn(ssh_home, *tunnel_args(otp.server, remote_kernel.connection_file, tmp_path))
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
    child = spawn(ssh_home, *tunnel_args(otp.server, remote_kernel.connection_file, tmp_path))
    try:
        child.expect_exact(OTP_PROMPT)
        child.sendline(otp.wrong_code())
        child.expect_exact(OTP_PROMPT)
        child.sendline(otp.code())
        child.expect("Forwarding 127.0.0.1 ports")
    finally:
        assert finish(child) == 0


def test_ctrl_d_at_the_prompt_cancels(otp, remote_kernel, ssh_home, tmp_path):
    child = spawn(ssh_home, *tunnel_args(otp.server, remote_kernel.connection_file, tmp_path))
    child.expect_exact(OTP_PROMPT)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "cancelled" in child.before and "Traceback" not in child.before


def test_no_terminal_is_one_clear_line(otp, remote_kernel, ssh_home, tmp_path):
    result = run_cli(
        *tunnel_args(otp.server, remote_kernel.connection_file, tmp_path),
        home=ssh_home,
        no_terminal=True,  # as under cron or a CI runner
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
    result = run_as(ssh_home, "remote-list", "somehost", "-F", tmp_path / "nope")
    assert result.returncode == 2
    assert "SSH config file" in result.stderr and "does not exist" in result.stderr
