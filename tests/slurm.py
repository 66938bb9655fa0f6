"""A real single-node SLURM cluster (munged, slurmctld, slurmd) with a private config.

Registered from tests/conftest.py (``pytest_plugins``):

- ``slurm``: session-wide :class:`SlurmCluster`; ``SLURM_CONF`` points at its private
  ``slurm.conf`` while it runs, so ``squeue``/``sbatch`` in tests talk to it.
- ``slurm_login``: an sshd (the sshd fixture's server, with ``SetEnv SLURM_CONF=…``) that is
  the cluster's login node: commands run through it reach this cluster.
- ``slurm_jobs``: per test; cancels at teardown every job the test left.

Daemons are started in the foreground (``-D``/``-F``) so the fixture owns their exact PIDs,
and are stopped by those PIDs. Everything lives in one temp dir, removed at the end. Without
Debian's ``slurm-wlm``/``munge`` packages (``./dev test`` installs them as root) or without
root (munged runs as ``munge``, SLURM as ``SlurmUser=root``), the tests that need it skip.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.sshd import SSHServer, free_port, start_sshd, stop_sshd

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "scontrol", "sinfo")
PARTITION = "debug"


def _which(name: str) -> str | None:
    return shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.path.exists(p)), None
    )


def skip_reason() -> str | None:
    """Why this machine cannot run the SLURM fixture, or None if it can."""
    missing = [name for name in BINARIES if _which(name) is None]
    if missing:
        return (
            f"SLURM is not installed ({', '.join(missing)} missing): install the Debian "
            "packages slurm-wlm and munge (./dev test does, as root)"
        )
    if os.geteuid() != 0:
        return "the SLURM fixture needs root (munged runs as user munge, SlurmUser=root)"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "the munge package did not create the munge user"
    return None


@dataclass
class SlurmCluster:
    directory: Path
    conf: Path
    node: str
    cpus: int
    memory_mib: int
    partition: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return dict(os.environ, SLURM_CONF=str(self.conf))

    def run(self, *args: str, check: bool = True, input: str | None = None) -> str:
        """Run a SLURM client command against this cluster; its stdout."""
        result = subprocess.run(
            [_which(args[0]) or args[0], *args[1:]],
            capture_output=True,
            text=True,
            env=self.env,
            input=input,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def jobs(self) -> list[str]:
        """IDs of the jobs SLURM still knows as pending/running/completing."""
        return self.run("squeue", "-h", "-o", "%i").split()

    def job_field(self, job_id: str, fmt: str) -> str:
        return self.run("squeue", "-h", "-j", job_id, "-t", "all", "-o", fmt).strip()

    def submit_blocker(self) -> str:
        """A job holding every CPU, so the next job waits with reason Resources."""
        script = "#!/bin/sh\nsleep 600\n"
        out = self.run(
            "sbatch", "--parsable", f"--cpus-per-task={self.cpus}", "-J", "blocker",
            "-o", "/dev/null", input=script,
        )  # fmt: skip
        return out.strip().split(";")[0]

    def cancel_all(self, timeout: float = 60.0) -> None:
        ids = self.jobs()
        if ids:
            self.run("scancel", *ids, check=False)
        deadline = time.monotonic() + timeout
        while self.jobs() and time.monotonic() < deadline:
            time.sleep(0.2)

    def log_tail(self) -> str:
        parts = []
        for name in ("munged.log", "slurmctld.log", "slurmd.log"):
            path = self.directory / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text().splitlines()[-15:]))
        return "\n".join(parts)


def _memory_mib() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def write_slurm_conf(cluster: SlurmCluster, munge_socket: Path) -> None:
    d = cluster.directory
    cluster.conf.write_text(
        f"""\
ClusterName=skctest
SlurmctldHost={cluster.node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={munge_socket}
StateSaveLocation={d / "state"}
SlurmdSpoolDir={d / "spool"}
SlurmctldPidFile={d / "slurmctld.pid"}
SlurmdPidFile={d / "slurmd.pid"}
SlurmctldLogFile={d / "slurmctld.log"}
SlurmdLogFile={d / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
KillWait=5
DefMemPerCPU=256
NodeName={cluster.node} NodeAddr=127.0.0.1 CPUs={cluster.cpus} RealMemory={cluster.memory_mib} \
State=UNKNOWN
PartitionName={cluster.partition} Nodes={cluster.node} Default=YES MaxTime=INFINITE State=UP
"""
    )


def _start(cluster: SlurmCluster, name: str, argv: list[str], **kwargs) -> None:
    log = open(cluster.directory / f"{name}.out", "wb")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=cluster.env,
        **kwargs,
    )
    log.close()
    cluster.processes[name] = process


def _wait(what: str, check, cluster: SlurmCluster, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, process in cluster.processes.items():
            if process.poll() is not None:
                out = (cluster.directory / f"{name}.out").read_text(errors="replace")
                raise RuntimeError(f"{name} exited with {process.returncode}: {out[-2000:]}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"SLURM fixture: {what} within {timeout:g} s\n{cluster.log_tail()}")


def start_slurm() -> SlurmCluster:
    # munged insists that every directory above its socket is world-searchable, which
    # pytest's 0700 tmp dirs are not: use a temp dir of our own (0755), removed at the end.
    directory = Path(tempfile.mkdtemp(prefix="skc-slurm-"))
    os.chmod(directory, 0o755)
    cluster = SlurmCluster(
        directory=directory,
        conf=directory / "slurm.conf",
        node=socket.gethostname().split(".")[0],
        cpus=os.cpu_count() or 1,
        memory_mib=_memory_mib(),
        partition=PARTITION,
    )
    munge = pwd.getpwnam("munge")
    key_dir, run_dir = directory / "munge-key", directory / "munge-run"
    for path, mode in ((key_dir, 0o700), (run_dir, 0o755)):
        path.mkdir(mode=mode)
        os.chown(path, munge.pw_uid, munge.pw_gid)
        os.chmod(path, mode)
    key = key_dir / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chown(key, munge.pw_uid, munge.pw_gid)
    os.chmod(key, 0o400)
    for sub in ("state", "spool"):
        (directory / sub).mkdir(mode=0o700)
    socket_path = run_dir / "munge.socket"
    write_slurm_conf(cluster, socket_path)
    try:
        _start(
            cluster,
            "munged",
            [
                _which("munged"), "-F", f"--key-file={key}", f"--socket={socket_path}",
                f"--pid-file={run_dir / 'munged.pid'}", f"--log-file={run_dir / 'munged.log'}",
                f"--seed-file={run_dir / 'munged.seed'}",
            ],
            user=munge.pw_uid,
            group=munge.pw_gid,
            extra_groups=[],
        )  # fmt: skip
        _wait("munged did not create its socket", socket_path.exists, cluster)
        _start(cluster, "slurmctld", [_which("slurmctld"), "-D", "-f", str(cluster.conf)])
        _start(cluster, "slurmd", [_which("slurmd"), "-D", "-f", str(cluster.conf)])

        def node_idle() -> bool:
            state = cluster.run("sinfo", "-h", "-o", "%t", check=False).strip()
            return state == "idle"

        _wait("the node did not become idle", node_idle, cluster)
    except BaseException:
        stop_slurm(cluster)
        raise
    return cluster


def stop_slurm(cluster: SlurmCluster) -> None:
    if "slurmctld" in cluster.processes and cluster.processes["slurmctld"].poll() is None:
        with contextlib.suppress(Exception):
            cluster.cancel_all()
    # The node daemon first (it ends its job steps), then the controller, then munged.
    for name in ("slurmd", "slurmctld", "munged"):
        process = cluster.processes.get(name)
        if process is None:
            continue
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    shutil.rmtree(cluster.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def slurm():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    cluster = start_slurm()
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    yield cluster
    if previous is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = previous
    stop_slurm(cluster)


@pytest.fixture(scope="session")
def slurm_login(slurm, tmp_path_factory) -> SSHServer:
    """The login node: the sshd fixture's server, whose sessions see the cluster's SLURM_CONF
    (as on a real cluster, where it is in the system environment or in /etc/slurm).

    SHLVL=1 makes bash skip ~/.bashrc for these commands (bash reads it for sshd sessions
    only at shell level 1): the test account is this machine's root, whose rc files (pyenv
    init, whose rehash lock other tests' killed shells leave behind) can stall every command
    for a minute, which is no part of what these tests check."""
    server = start_sshd(
        tmp_path_factory.mktemp("login"), f"SetEnv SLURM_CONF={slurm.conf} SHLVL=1\n"
    )
    yield server
    stop_sshd(server)


@pytest.fixture
def slurm_jobs(slurm):
    """The cluster, emptied of jobs after the test (whatever the test left behind)."""
    yield slurm
    slurm.cancel_all()


def login_blocker(login) -> str:
    """A job holding every CPU of the node, so the next one pends on Resources."""
    status, out, err = login.run(
        f"printf '#!/bin/sh\\nsleep 600\\n' | sbatch --parsable -J blocker -o /dev/null "
        f"--cpus-per-task={os.cpu_count()}",
        timeout=120,
    )
    assert status == 0, err
    return out.strip()


def slurm_active(login) -> list[str]:
    _status, out, _err = login.run("squeue -h -o %i", timeout=120)
    return out.split()
