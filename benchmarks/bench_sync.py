"""Project sync: this project's push vs rsync and scp over the same real sshd.

    .venv/bin/python benchmarks/bench_sync.py [--quick]

One run, one OpenSSH sshd on 127.0.0.1 (tests/sshd.py). A project of 1,000 files / 20 MB
(20 KB each, in 20 folders) is pushed to a fresh folder on the "host":

- initial push: rsync -a --delete (a fresh ssh, as users run it), scp -r (fresh ssh), and
  ours: log in + push_all (what `spyder-kernel-connect sync` does), and push_all on an
  already-open connection (what the plugin does when a console opens);
- one 5 KB file changed -> present on the host: rsync (fresh ssh each time) against ours
  (LiveSync.notify_saved + flush on the console's connection);
- the run-after-save wait the ordering guarantee adds, as the console's gate pays it: a
  scan for saves not seen yet (check_now) and the push of what it found; the same with
  nothing saved; and flush() alone with nothing pending.

Methods are interleaved in rounds; medians are reported with ratios to rsync.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the sshd helper of the test suite

from tests.sshd import start_sshd, stop_sshd  # noqa: E402

from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager  # noqa: E402
from spyder_kernel_connect.sync import LiveSync, ProjectSync  # noqa: E402

FILES, FOLDERS, SIZE = 1000, 20, 20_000
# Between a push and the next measured step: a person does not save or run twice within a
# millisecond, and the worker writes its record right after a push (off the measured path).
PAUSE = 0.05


def make_project(root: Path) -> None:
    blob = os.urandom(SIZE - 16)
    for index in range(FILES):
        path = root / f"pkg{index % FOLDERS}" / f"mod{index}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob + f"{index:016d}".encode())


def ssh_command(sshd) -> list[str]:
    return [
        "ssh", "-p", str(sshd.port), "-i", str(sshd.user_key), "-o", "BatchMode=yes",
        "-o", f"UserKnownHostsFile={sshd.known_hosts}", "-o", "StrictHostKeyChecking=yes",
    ]  # fmt: skip


def timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    rounds, edits = (2, 5) if args.quick else (5, 20)
    for tool in ("rsync", "scp", "ssh"):
        if shutil.which(tool) is None:
            print(
                f"{tool} is not installed (Debian package {tool.replace('scp', 'openssh-client')})"
            )
            return 2

    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    home = workdir / "home"
    (home / ".ssh").mkdir(parents=True)
    os.environ["HOME"] = str(home)  # never read or write the user's ~/.ssh
    os.environ["XDG_STATE_HOME"] = str(workdir / "state")
    os.environ.pop("SSH_AUTH_SOCK", None)
    sshd = start_sshd(workdir / "sshd")
    project = workdir / "project"
    make_project(project)
    host = f"{sshd.user}@{sshd.host}"
    results: dict[str, list[float]] = {}
    manager = TunnelManager(host_key_decider=lambda info: HostKeyDecision.REJECT)
    try:
        session = manager.session(sshd.target())

        def fresh(name: str) -> Path:
            target = workdir / "host" / name
            shutil.rmtree(target, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            return target

        def rsync(target: Path) -> None:
            subprocess.run(
                ["rsync", "-a", "--delete", "-e", " ".join(ssh_command(sshd)),
                 f"{project}/", f"{host}:{target}/"],
                check=True, capture_output=True,
            )  # fmt: skip

        def scp(target: Path) -> None:
            subprocess.run(
                ["scp", "-q", "-r", "-P", str(sshd.port), "-i", str(sshd.user_key),
                 "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={sshd.known_hosts}",
                 str(project), f"{host}:{target}"],
                check=True, capture_output=True,
            )  # fmt: skip

        def ours_with_login(target: Path) -> None:
            with TunnelManager(host_key_decider=lambda info: HostKeyDecision.REJECT) as own:
                ProjectSync(own.session(sshd.target()), str(project), str(target)).push_all()

        def ours_connected(target: Path) -> None:
            ProjectSync(session, str(project), str(target)).push_all()

        initial = {
            "rsync -a --delete (fresh ssh)": rsync,
            "scp -r (fresh ssh)": scp,
            "this sync: login + push": ours_with_login,
            "this sync: push on the open connection": ours_connected,
        }
        for round_index in range(rounds):
            for label, method in initial.items():
                target = fresh(f"{round_index}-{abs(hash(label))}")
                results.setdefault(label, []).append(timed(lambda m=method, t=target: m(t)))
                if label.startswith("this"):
                    assert len(list(target.rglob("*.py"))) == FILES

        # One 5 KB file changed -> on the host.
        rsync_target, target = fresh("incremental-rsync"), fresh("incremental-ours")
        rsync(rsync_target)
        sync = ProjectSync(session, str(project), str(target))
        sync.push_all()
        live = LiveSync(sync)
        live.check_now()  # the console's first look, when the initial push is over
        edited = project / "pkg3" / "mod3.py"
        for index in range(edits):
            edited.write_bytes(os.urandom(5000) + f"{index:08d}".encode())
            results.setdefault("rsync, one 5 KB file changed", []).append(
                timed(lambda: rsync(rsync_target))
            )
            edited.write_bytes(os.urandom(5000) + f"{index:08d}x".encode())
            time.sleep(PAUSE)
            saved = time.perf_counter()
            live.notify_saved(str(edited))
            live.flush()
            results.setdefault("this sync: save -> on the host (flush)", []).append(
                time.perf_counter() - saved
            )
            assert (target / "pkg3" / "mod3.py").read_bytes() == edited.read_bytes()
            # What a run in the console waits for (ConsoleProjectSync's gate): a scan of the
            # project for saves not seen yet, then the push of what it found.
            edited.write_bytes(os.urandom(5000) + f"{index:08d}y".encode())
            time.sleep(PAUSE)
            results.setdefault("this sync: save -> run may start (scan + push)", []).append(
                timed(lambda: (live.check_now(), live.flush()))
            )
            assert (target / "pkg3" / "mod3.py").read_bytes() == edited.read_bytes()
            time.sleep(PAUSE)
            results.setdefault("this sync: run with nothing saved (scan)", []).append(
                timed(lambda: (live.check_now(), live.flush()))
            )
            results.setdefault("this sync: flush with nothing pending", []).append(
                timed(live.flush)
            )
        live.close()
    finally:
        manager.close_all()
        stop_sshd(sshd)
        shutil.rmtree(workdir, ignore_errors=True)

    report(results)
    print(f"\nload average during the run: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} CPUs")
    return 0


def report(results: dict[str, list[float]]) -> None:
    med = {label: statistics.median(values) for label, values in results.items()}
    rsync_initial = med["rsync -a --delete (fresh ssh)"]
    rsync_one = med["rsync, one 5 KB file changed"]
    print(f"\nInitial push, {FILES} files / {FILES * SIZE / 1e6:.0f} MB (median):\n")
    print("| method | time | ratio to rsync |")
    print("|---|---|---|")
    for label in (
        "rsync -a --delete (fresh ssh)",
        "scp -r (fresh ssh)",
        "this sync: login + push",
        "this sync: push on the open connection",
    ):
        print(f"| {label} | {med[label] * 1000:.0f} ms | {med[label] / rsync_initial:.2f}x |")
    print("\nOne 5 KB file changed -> present on the host (median):\n")
    print("| method | time | rsync / this |")
    print("|---|---|---|")
    for label in (
        "rsync, one 5 KB file changed",
        "this sync: save -> on the host (flush)",
        "this sync: save -> run may start (scan + push)",
        "this sync: run with nothing saved (scan)",
        "this sync: flush with nothing pending",
    ):
        print(f"| {label} | {med[label] * 1000:.2f} ms | {rsync_one / med[label]:.1f}x |")


if __name__ == "__main__":
    raise SystemExit(main())
