"""A kernel behind two jump hosts: this tunnel vs OpenSSH ``ssh -J a,b -N -L`` x5, one run.

    .venv/bin/python benchmarks/bench_chain.py [--quick]      (as root: one account per hop)

Three real OpenSSH sshd on 127.0.0.1 (tests/sshd_chain.py: bastion → login → target, each
with its own key and account, described only by a test SSH config) and one real ipykernel
behind the target. Both methods read that config and forward the kernel's five ports:

- connect: from starting the tunnel to the kernel_info reply, three fresh logins each time
  (median of several),
- round trip: `execute("pass")` until both the shell reply and the iopub idle status (p50),
- throughput: 20 MB printed by the kernel, received on iopub, checked byte for byte.

The measuring code is bench_tunnel.py's, so the rows compare with its single-hop table.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_tunnel import (
    OUTPUT_LINES,
    local_file,
    measure_connect,
    measure_traffic,
    ms,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import start_kernel, stop_kernel  # noqa: E402
from tests.sshd import free_port  # noqa: E402
from tests.sshd_chain import start_chain  # noqa: E402

from spyder_kernel_connect.connection import PORT_NAMES, read_connection_file  # noqa: E402
from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager  # noqa: E402


class ChainMethods:
    def __init__(self, chain, kernel_file: str, workdir: str) -> None:
        self.chain = chain
        self.kernel_file = kernel_file
        self.info = read_connection_file(kernel_file)
        self.workdir = workdir
        # OpenSSH passes -F, not -o, to the ssh it runs for each jump: the known_hosts
        # options go into a copy of the config, so every hop gets them.
        self.openssh_config = Path(workdir, "openssh_config")
        self.openssh_config.write_text(
            chain.config.read_text() + f"Host *\n    UserKnownHostsFile {chain.known_hosts}\n"
            "    StrictHostKeyChecking no\n    BatchMode yes\n"
        )

    @contextlib.contextmanager
    def direct(self):
        yield self.kernel_file

    @contextlib.contextmanager
    def this_tunnel(self):
        # The middle hop's key is unknown on purpose: accepted once, as a user would.
        with TunnelManager(host_key_decider=lambda info: HostKeyDecision.ACCEPT_ONCE) as manager:
            tunnel = manager.open_tunnel(
                self.chain.ssh_target(), self.kernel_file, local_dir=self.workdir
            )
            yield tunnel.local_connection_file

    @contextlib.contextmanager
    def openssh(self):
        # free_port() can race with other programs on a shared machine: ssh then exits
        # (ExitOnForwardFailure) and the ports are drawn again.
        for _attempt in range(5):
            ports = {name: free_port() for name in PORT_NAMES}
            forwards = []
            for name in PORT_NAMES:
                remote = getattr(self.info, name)
                forwards += ["-L", f"127.0.0.1:{ports[name]}:127.0.0.1:{remote}"]
            process = subprocess.Popen(
                ["ssh", "-F", str(self.openssh_config), "-J", "bastion,login", "-N", *forwards,
                 "-o", "ExitOnForwardFailure=yes", "target-direct"],
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
            if _listening(process, ports.values()):
                break
            process.terminate()
            process.wait()
        else:
            raise RuntimeError("ssh -J could not forward the kernel's ports")
        try:
            yield local_file(self.info, ports, self.workdir)
        finally:
            process.terminate()
            process.wait()


def _listening(process: subprocess.Popen, ports, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    return False
                time.sleep(0.002)
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    connects, rounds, round_trips = (3, 1, 50) if args.quick else (7, 3, 100)

    workdir = tempfile.mkdtemp(prefix="bench-chain-")
    home = Path(workdir, "home")
    (home / ".ssh").mkdir(parents=True)
    os.environ["HOME"] = str(home)  # never read or write the user's ~/.ssh
    os.environ.pop("SSH_AUTH_SOCK", None)
    kernel = start_kernel(os.path.join(workdir, "kernel-bench.json"))
    ours_label = "this tunnel, 3 hops (ProxyJump chain)"
    openssh_label = "OpenSSH ssh -J bastion,login -N -L x5"
    results: dict = {}
    try:
        with start_chain(Path(workdir, "chain")) as chain:
            methods = ChainMethods(chain, kernel.connection_file, workdir)
            rows = {
                "direct (no SSH)": methods.direct,
                ours_label: methods.this_tunnel,
                openssh_label: methods.openssh,
            }
            for label, method in rows.items():
                print(f"connecting: {label}...", file=sys.stderr, flush=True)
                results[label] = {"connect": measure_connect(method, connects)}
            print("round trips and throughput, in rounds...", file=sys.stderr, flush=True)
            for label, traffic in measure_traffic(rows, rounds, round_trips).items():
                results[label].update(traffic)
    finally:
        stop_kernel(kernel)

    direct, ours, openssh = (results[k] for k in ("direct (no SSH)", ours_label, openssh_label))
    print(
        "| method | connect (kernel_info) | ratio to OpenSSH | execute round trip p50 "
        f"| ratio to direct | stdout throughput | ratio to ours | {OUTPUT_LINES // 10_000} MB "
        "intact |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, r in results.items():
        print(
            f"| {label} | {ms(r['connect'])} | {r['connect'] / openssh['connect']:.2f}× "
            f"| {ms(r['rtt'])} | {r['rtt'] / direct['rtt']:.2f}× | {r['mbps']:.1f} MB/s "
            f"| {r['mbps'] / ours['mbps']:.2f}× | {'yes' if r['intact'] else 'NO'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
