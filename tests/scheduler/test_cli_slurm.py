"""`tunnel HOST --slurm` and `remote-list HOST --slurm`, run as a user runs them."""

from __future__ import annotations

import json
import os
import selectors
import signal
import sys
import time

import pytest

from tests.cli_helpers import first_line, run_as, start_tunnel, stop
from tests.slurm import PARTITION, login_blocker, slurm_active
from tests.ssh.conftest import execute

pytestmark = [pytest.mark.sshd, pytest.mark.slurm]


@pytest.fixture
def host_args(slurm_jobs, slurm_login, job_dir):
    return [
        slurm_login.address,
        "-i",
        slurm_login.user_key,
        "--known-hosts",
        slurm_login.known_hosts,
        "--remote-runtime-dir",
        job_dir,
        "--remote-python",
        sys.executable,
    ]


def stderr_until(process, text: str, timeout: float = 120.0) -> str:
    """The command's stderr lines up to the first containing ``text``."""
    seen = []
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(max(deadline - time.monotonic(), 0)):
                break
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            if text in line:
                return "".join(seen)
    raise AssertionError(f"never printed {text!r}: {''.join(seen)}")


def job_id_from(stderr_line: str) -> str:
    return stderr_line.split("kernel job ", 1)[1].split()[0]


def test_tunnel_slurm_executes_on_the_node_and_ctrl_c_cancels(
    ssh_home, host_args, tmp_path, login, job_dir, slurm_jobs
):
    process = start_tunnel(
        ssh_home,
        *host_args,
        "--slurm",
        "--partition",
        PARTITION,
        "--time",
        "20",
        "--cpus",
        "1",
        "--mem",
        "400M",
        "--local-dir",
        tmp_path,
    )
    local_file = first_line(process, timeout=180)
    assert local_file.startswith(str(tmp_path))
    job_id = execute(local_file, "import os; print(os.environ['SLURM_JOB_ID'])").strip()
    fields = slurm_jobs.job_field(job_id, "%T %P %C %m %l").split()
    assert fields == ["RUNNING", PARTITION, "1", "400M", "20:00"]
    status, _out, err = stop(process, signal.SIGINT)
    assert status == 0, err
    assert f"Submitted kernel job {job_id}" in err
    assert f"Cancelled job {job_id} (scancel)" in err
    assert job_id not in slurm_active(login)
    assert os.listdir(job_dir) == [] and not os.path.exists(local_file)


def test_kept_job_listed_and_reattached(ssh_home, host_args, tmp_path, login, slurm_jobs):
    process = start_tunnel(
        ssh_home, *host_args, "--slurm", "--time", "15", "--keep-job", "--local-dir", tmp_path
    )
    first_line(process, timeout=180)
    status, _out, err = stop(process, signal.SIGINT)
    assert status == 0, err
    job_id = job_id_from(err.splitlines()[0].replace("Submitted k", "k"))
    assert f"Job {job_id} keeps running; attach again with:" in err
    assert job_id in slurm_active(login)

    listed = run_as(ssh_home, "remote-list", *host_args, "--slurm")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split()[:4] == ["JOB", "NODE", "STATE", "TIME"]
    row = next(r for r in rows if r.startswith(job_id))
    assert slurm_jobs.node in row and "Running" in row
    data = json.loads(run_as(ssh_home, "remote-list", *host_args, "--slurm", "--json").stdout)
    entry = next(d for d in data if d["job_id"] == job_id)
    assert entry["node"] == slurm_jobs.node and 0 < entry["time_left"] <= 15 * 60

    again = start_tunnel(ssh_home, *host_args, "--slurm", "--job", job_id, "--local-dir", tmp_path)
    local_file = first_line(again, timeout=120)
    assert execute(local_file, "print(6 * 7)").strip() == "42"
    status, _out, err = stop(again, signal.SIGINT)
    assert f"Attaching to kernel job {job_id}" in err and status == 0
    assert f"Cancelled job {job_id}" in err
    assert job_id not in slurm_active(login)


def test_job_cancelled_elsewhere_ends_the_command(ssh_home, host_args, tmp_path, slurm_jobs):
    process = start_tunnel(ssh_home, *host_args, "--slurm", "--time", "5", "--local-dir", tmp_path)
    local_file = first_line(process, timeout=180)
    job_id = execute(local_file, "import os; print(os.environ['SLURM_JOB_ID'])").strip()
    slurm_jobs.run("scancel", job_id)  # from another terminal on the cluster
    try:
        _out, err = process.communicate(timeout=120)
    finally:
        stop(process)
    assert process.returncode == 2
    lines = err.strip().splitlines()
    # A 5-minute job: one warning at once, then the end in plain words, not a traceback.
    assert sum("reaches its time limit in" in line for line in lines) == 1
    assert f"error: Kernel job {job_id} ended: Was cancelled" in lines[-1]


def test_invalid_partition_prints_sbatchs_message(ssh_home, host_args, login):
    result = run_as(ssh_home, "tunnel", *host_args, "--slurm", "--partition", "nosuch")
    assert result.returncode == 2
    assert "invalid partition specified: nosuch" in result.stderr.lower()
    assert len(result.stderr.strip().splitlines()) == 1
    assert slurm_active(login) == []


def test_ctrl_c_while_pending_cancels_the_job(ssh_home, host_args, login, job_dir):
    blocker = login_blocker(login)
    process = start_tunnel(ssh_home, *host_args, "--slurm")
    seen = stderr_until(process, "Pending: Resources")
    job_id = next(j for j in slurm_active(login) if j != blocker)
    assert f"Job {job_id}: Pending: Resources (waiting for resources" in seen
    status, out, err = stop(process, signal.SIGINT)
    assert status == 130, err
    assert out == ""
    assert f"job {job_id} was cancelled (scancel)" in err
    assert slurm_active(login) == [blocker]
    assert os.listdir(job_dir) == []


def test_a_drop_while_pending_does_not_end_the_command(
    ssh_home, host_args, slurm_jobs, slurm_login, tmp_path
):
    blocker = slurm_jobs.submit_blocker()
    process = start_tunnel(ssh_home, *host_args, "--slurm", "--local-dir", tmp_path)
    stderr_until(process, "Pending: Resources")
    assert slurm_login.kill_connections()  # the login node's connection drops mid-wait
    slurm_jobs.run("scancel", blocker)  # (from the cluster itself: no SSH needed)
    local_file = first_line(process, timeout=180)
    job_id = execute(local_file, "import os; print(os.environ['SLURM_JOB_ID'])").strip()
    status, _out, err = stop(process, signal.SIGINT)
    assert status == 0, err
    assert f"Cancelled job {job_id} (scancel)" in err
    assert slurm_jobs.jobs() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--slurm", "--start"], "--slurm starts its own kernel"),
        (["--slurm", "--time", "two hours"], "Time limit 'two hours' is not a time"),
        (["--slurm", "--job", "12", "--cpus", "2"], "resource options do not apply"),
        (["--slurm", "--job-template", "/nonexistent/t.sh"], "Cannot read the job template"),
    ],
)
def test_bad_slurm_arguments_are_one_line(ssh_home, args, message):
    result = run_as(ssh_home, "tunnel", "me@127.0.0.1:1", *args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
