"""A second `tunnel` from another terminal: sharing the first one's login vs logging in.

    .venv/bin/python benchmarks/bench_control.py [--delays 25,75] [--rounds 5]

One real OpenSSH sshd and two real kernels behind the link emulator of linkemu.py (one-way
delay D per direction). A first CLI tunnel (kernel A) runs throughout; a second CLI tunnel
(kernel B) is started and stopped again and again, alternately with connection sharing
(the default: the first one's control socket) and with --no-control (its own login).
Measured from starting the process: its first stdout line (the local connection file),
and the kernel_info reply of a client through that file; in seconds and in link round
trips (2D). Also execute("pass") p50 through the second tunnel either way (the shared one
adds a local splice in each process). Only 127.0.0.1; it stops only what it started.
"""

from __future__ import annotations

import argparse
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from tests.conftest import start_kernel, stop_kernel  # noqa: E402
from tests.sshd import start_sshd, stop_sshd  # noqa: E402

from bench_tunnel import kernel_info, run  # noqa: E402
from bench_wan import Emulator, Setup, percentile  # noqa: E402
from spyder_kernel_connect.connection import read_connection_file  # noqa: E402

MODES = {"shared (control socket)": [], "--no-control (own login)": ["--no-control"]}


def start_cli(sshd, kernel_file: str, workdir: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "spyder_kernel_connect", "tunnel", sshd.address, kernel_file,
         "-i", str(sshd.user_key), "--known-hosts", str(sshd.known_hosts),
         "--local-dir", workdir, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip


def first_line(process: subprocess.Popen) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(120):
            raise TimeoutError("the CLI printed nothing within 120 s")
    path = process.stdout.readline().strip()
    if not path:
        raise RuntimeError(process.communicate()[1])
    return path


def stop(process: subprocess.Popen) -> str:
    process.terminate()
    return process.communicate(timeout=30)[1]


def second_tunnel(sshd, kernel_file: str, workdir: str, extra: list[str], executes: int):
    """(seconds to the first line, seconds to kernel_info, execute p50 in ms, stderr)."""
    started = time.perf_counter()
    process = start_cli(sshd, kernel_file, workdir, *extra)
    try:
        path = first_line(process)
        printed = time.perf_counter() - started
        client = kernel_info(path)
        answered = time.perf_counter() - started
        try:
            times = []
            for _ in range(executes):
                t0 = time.perf_counter()
                run(client, "pass")
                times.append((time.perf_counter() - t0) * 1000)
        finally:
            client.stop_channels()
    finally:
        err = stop(process)
    return printed, answered, statistics.median(times), err


def run_delay(sshd, kernels, workdir: str, delay_ms: float, rounds: int) -> dict:
    targets = [sshd.port] + [
        p for k in kernels for p in read_connection_file(k.connection_file).ports.values()
    ]
    link = Emulator(delay_ms, targets)
    via_link = Setup(sshd, kernels, workdir, link).sshd_via_link()
    results = {mode: [] for mode in MODES}
    master = start_cli(via_link, kernels[0].connection_file, workdir)
    try:
        first_line(master)
        for index in range(rounds):
            modes = list(MODES.items())
            for mode, extra in modes[index % 2 :] + modes[: index % 2]:
                printed, answered, p50, err = second_tunnel(
                    via_link, kernels[1].connection_file, workdir, extra, 10
                )
                shared = "Sharing the SSH connection" in err
                if shared != (not extra):
                    raise RuntimeError(f"{mode}: not the expected path: {err}")
                results[mode].append((printed, answered, p50))
    finally:
        stop(master)
        link.close()
    return results


def report(delay_ms: float, results: dict) -> None:
    rtt = 2 * delay_ms / 1000
    runs = len(next(iter(results.values())))
    print(f"\nD = {delay_ms:g} ms (link RTT {rtt * 1000:g} ms), medians of {runs} runs")
    print(
        "| second CLI tunnel | first line (s) | kernel_info (s) | in link RTTs | execute p50 (ms) |"
    )
    print("|---|---|---|---|---|")
    for mode, rows in results.items():
        printed = statistics.median(r[0] for r in rows)
        answered = statistics.median(r[1] for r in rows)
        execute = statistics.median(r[2] for r in rows)
        print(f"| {mode} | {printed:.2f} | {answered:.2f} | {answered / rtt:.1f} | {execute:.0f} |")
    p90 = {mode: percentile([r[1] for r in rows], 90) for mode, rows in results.items()}
    print("kernel_info p90: " + ", ".join(f"{m}: {v:.2f} s" for m, v in p90.items()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="25,75", help="one-way delays in ms")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each mode per delay")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-ctl-")
    home = Path(workdir, "home")
    (home / ".ssh").mkdir(parents=True)
    os.environ["HOME"] = str(home)  # never read or write the user's ~/.ssh
    os.environ.pop("SSH_AUTH_SOCK", None)
    runtime = tempfile.mkdtemp(prefix="run-", dir="/tmp")  # private control sockets
    os.environ["XDG_RUNTIME_DIR"] = runtime
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs")
    sshd = start_sshd(Path(workdir, "sshd"))
    kernels = [start_kernel(os.path.join(workdir, f"kernel-ctl{i}.json")) for i in range(2)]
    results = {}
    try:
        for delay in (float(d) for d in args.delays.split(",")):
            print(f"D = {delay:g} ms...", file=sys.stderr, flush=True)
            results[delay] = run_delay(sshd, kernels, workdir, delay, args.rounds)
    finally:
        for kernel in kernels:
            stop_kernel(kernel)
        stop_sshd(sshd)
        shutil.rmtree(runtime, ignore_errors=True)
    for delay, result in results.items():
        report(delay, result)
    print(f"\nload average after: {os.getloadavg()}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
