"""`remote-list`, `tunnel --remote` and `tunnel --start`: from "I have SSH access" to a kernel."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

import pytest

from tests.cli_helpers import first_line, run_as, start_tunnel, stop
from tests.conftest import process_alive
from tests.ssh.conftest import execute

pytestmark = pytest.mark.sshd


@pytest.fixture
def host_args(sshd, remote_dir):
    return [
        sshd.address,
        "-i",
        sshd.user_key,
        "--known-hosts",
        sshd.known_hosts,
        "--remote-runtime-dir",
        remote_dir,
        "--remote-python",
        sys.executable,
    ]


def test_remote_list_table_and_json(ssh_home, host_args, kernel_factory, remote_dir):
    kernel_factory(kernel_id="8101", directory=remote_dir)
    (remote_dir / "kernel-bad.json").write_text("[]")
    result = run_as(ssh_home, "remote-list", *host_args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "STARTED", "KERNEL", "STATUS", "FILE"]
    row = next(line for line in lines if line.startswith("8101"))
    assert "alive" in row and f"{remote_dir}/kernel-8101.json" in row
    (bad,) = [line for line in lines if line.startswith("bad ")]  # one row for a bad file
    assert "unreadable: " in bad and "JSON object" in bad
    data = json.loads(run_as(ssh_home, "remote-list", *host_args, "--json").stdout)
    assert {d["kernel_id"]: d["alive"] for d in data} == {"8101": True, "bad": None}


def test_remote_list_empty_dir_says_where(ssh_home, host_args, remote_dir):
    result = run_as(ssh_home, "remote-list", *host_args)
    assert result.returncode == 0
    assert f"No kernel connection files found in {remote_dir}" in result.stdout


def test_tunnel_remote_by_bare_id(ssh_home, host_args, kernel_factory, remote_dir, tmp_path):
    kernel_factory(kernel_id="8102", directory=remote_dir)
    process = start_tunnel(ssh_home, *host_args, "8102", "--remote", "--local-dir", tmp_path)
    try:
        local_file = first_line(process)
        assert execute(local_file, "print('via sftp')") == "via sftp\n"
        # The kernel's key is on disk here only in the tunnel's file (0600), nowhere else.
        assert os.stat(local_file).st_mode & 0o777 == 0o600
        assert not (ssh_home / ".cache" / "spyder-kernel-connect").exists()
    finally:
        code, _out, err = stop(process)
    assert code == 0, err
    assert f"Using {remote_dir}/kernel-8102.json" in err
    assert not os.path.exists(local_file)


def test_tunnel_start_new_kernel_that_outlives_the_command(
    ssh_home, host_args, remote_dir, tmp_path
):
    process = start_tunnel(ssh_home, *host_args, "--start", "--local-dir", tmp_path)
    pid = None
    try:
        local_file = first_line(process, timeout=90)
        pid = int(execute(local_file, "import os; print(os.getpid())"))
        assert process_alive(pid)
    finally:
        code, _out, err = stop(process, signal.SIGINT)
        try:
            assert code == 0, err
            assert "left running" in err
            time.sleep(0.5)
            assert pid is not None and process_alive(pid)  # the command ended, the kernel did not
        finally:
            if pid is not None:
                os.kill(pid, signal.SIGKILL)


def test_tunnel_start_with_shutdown_on_exit(ssh_home, host_args, remote_dir, tmp_path):
    process = start_tunnel(
        ssh_home, *host_args, "--start", "--shutdown-on-exit", "--local-dir", tmp_path
    )
    pid = None
    try:
        pid = int(execute(first_line(process, timeout=90), "import os; print(os.getpid())"))
    finally:
        code, _out, err = stop(process)
    assert code == 0, err
    deadline = time.monotonic() + 10
    while pid is not None and process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pid is not None and not process_alive(pid)
    assert list(remote_dir.glob("kernel-*.json")) == []


def test_tunnel_start_without_spyder_kernels_says_what_to_install(
    ssh_home, sshd, remote_dir, python_without_spyder_kernels
):
    python = python_without_spyder_kernels
    result = run_as(
        ssh_home, "tunnel", sshd.address, "--start", "-i", sshd.user_key,
        "--known-hosts", sshd.known_hosts, "--remote-python", python,
        "--remote-runtime-dir", remote_dir,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert f"{python} -m pip install spyder-kernels" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "1234"], "give either SPEC or --start, not both"),
        (["k.json", "extra"], "unrecognized arguments: extra"),
        ([], "SPEC is required"),
        (["k.json", "--shutdown-on-exit"], "only applies to a kernel started with --start"),
    ],
)
def test_tunnel_usage_errors(ssh_home, args, message):
    result = run_as(ssh_home, "tunnel", "me@lab", *args)
    assert result.returncode == 2 and message in result.stderr


def test_remote_list_unknown_host_key_refused(ssh_home, sshd, remote_dir):
    result = run_as(
        ssh_home, "remote-list", sshd.address, "-i", sshd.user_key,
        "--remote-runtime-dir", remote_dir,
    )  # fmt: skip
    assert result.returncode == 2
    assert "host key" in result.stderr.lower() and "Traceback" not in result.stderr
