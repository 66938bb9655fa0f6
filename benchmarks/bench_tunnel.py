"""SSH tunnel to a kernel: this project's tunnel vs direct, OpenSSH, asyncssh, jupyter_client.

    .venv/bin/python benchmarks/bench_tunnel.py [--quick] [--round-trips-only]

One run, one real OpenSSH sshd on 127.0.0.1 (tests/sshd.py) and one real ipykernel behind it;
every method forwards the kernel's five ports through that sshd and a jupyter_client client
talks to the kernel through it:

- connect: from starting the tunnel to the kernel_info reply (fresh SSH connection each
  time; median of several),
- round trip: `execute("pass")` until both the shell reply and the iopub idle status (p50),
- throughput: 20 MB printed by the kernel, received on iopub, checked byte for byte.

``--round-trips-only``: just the round trip, 5 interleaved rounds of 300 per method, with
p10/p50/p90 (the column that moves most with the machine's load; run it several times).

Peers: OpenSSH `ssh -N -L` x5 in one process; asyncssh with five `forward_local_port` on one
connection (what Spyder 6.1 does); jupyter_client's `paramiko_tunnel`, one process and one SSH
connection per port (it accepts any host key: WarningPolicy, fine here only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the sshd and kernel helpers of the test suite

import zmq  # noqa: E402
from jupyter_client import BlockingKernelClient  # noqa: E402
from tests.conftest import start_kernel, stop_kernel  # noqa: E402
from tests.sshd import free_port, start_sshd, stop_sshd  # noqa: E402

from spyder_kernel_connect.connection import (  # noqa: E402
    PORT_NAMES,
    read_connection_file,
    write_connection_file,
)
from spyder_kernel_connect.ssh import LatencyOptions, TunnelManager  # noqa: E402

OUTPUT_LINES = 200_000  # x 100 bytes = 20 MB
# Built before the clock starts, then written at once (like printing a big DataFrame): the rows
# compare the tunnels, not how fast the kernel formats text or wraps small writes in messages.
OUTPUT_SETUP = (
    f"_bench = ''.join(f'{{i:08d}} ' + 'abcdefghij' * 9 + '\\n' for i in range({OUTPUT_LINES}))"
)
OUTPUT_CODE = "import sys\nsys.stdout.write(_bench)\nsys.stdout.flush()\n"
EXPECTED_SHA = hashlib.sha256(
    "".join(f"{i:08d} " + "abcdefghij" * 9 + "\n" for i in range(OUTPUT_LINES)).encode()
).hexdigest()


# -- the measurements -------------------------------------------------------------------


def kernel_info(path: str, timeout: float = 60) -> BlockingKernelClient:
    """A started client whose kernel_info request was answered."""
    client = BlockingKernelClient(connection_file=path)
    client.load_connection_file()
    client.start_channels()
    msg_id = client.kernel_info()
    deadline = time.monotonic() + timeout
    while True:
        reply = client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if reply["parent_header"].get("msg_id") == msg_id:
            return client


def run(client: BlockingKernelClient, code: str, collect: list | None = None) -> None:
    """Execute; wait for the shell reply and the iopub idle status of this request.

    One zmq poller on both sockets: the measuring client sleeps until a message is there
    (a polling loop would steal the GIL from the in-process tunnels and skew their rows).
    """
    shell, iopub = client.shell_channel, client.iopub_channel
    poller = zmq.Poller()
    poller.register(shell.socket, zmq.POLLIN)
    poller.register(iopub.socket, zmq.POLLIN)
    msg_id = client.execute(code, store_history=False)
    replied = idle = False
    while not (replied and idle):
        ready = dict(poller.poll(60_000))
        if not ready:
            raise TimeoutError("no answer from the kernel within 60 s")
        while shell.msg_ready():
            msg = shell.get_msg(timeout=0)
            replied = replied or msg["parent_header"].get("msg_id") == msg_id
        while iopub.msg_ready():
            msg = iopub.get_msg(timeout=0)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif collect is not None and msg["msg_type"] == "stream":
                collect.append(msg["content"]["text"])


def measure_connect(open_tunnel, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        with open_tunnel() as path:
            client = kernel_info(path)
            times.append(time.perf_counter() - started)
            client.stop_channels()
    return statistics.median(times)


def rotating_rounds(open_tunnels: dict, rounds: int):
    """(label, open_tunnel) of every method, round after round. Each round starts one method
    later, so no method always follows the same one (a 20 MB transfer leaves garbage behind
    in the kernel and in this process) and each gets the same share of the machine's load."""
    methods = list(open_tunnels.items())
    for round_index in range(rounds):
        shift = round_index % len(methods)
        yield from methods[shift:] + methods[:shift]


def time_executes(client, count: int, warm_up: int) -> list[float]:
    """Seconds of ``count`` execute round trips of ``pass``, after ``warm_up`` untimed ones."""
    for _ in range(warm_up):
        run(client, "pass")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        run(client, "pass")
        times.append(time.perf_counter() - started)
    return times


def measure_round_trips(open_tunnels: dict, rounds: int, round_trips: int) -> dict:
    """Execute round trips only (``--round-trips-only``), methods interleaved in rotating
    rounds: p10/p50/p90 over every round of each method."""
    samples: dict = {label: [] for label in open_tunnels}
    for label, open_tunnel in rotating_rounds(open_tunnels, rounds):
        with open_tunnel() as path:
            client = kernel_info(path)
            try:
                samples[label] += time_executes(client, round_trips, warm_up=20)
            finally:
                client.stop_channels()
    return {label: statistics.quantiles(values, n=10) for label, values in samples.items()}


def measure_traffic(open_tunnels: dict, rounds: int, round_trips: int) -> dict:
    """Round trips and throughput, method after method, round after round.

    Rounds interleave the methods (in a rotating order), so each gets the same share of
    whatever else the machine is doing; only one tunnel is open at a time, because the
    kernel sends iopub to every connected client and idle clients would load the others.
    """
    rtts: dict = {label: [] for label in open_tunnels}
    rates: dict = {label: [] for label in open_tunnels}
    intact = dict.fromkeys(open_tunnels, True)
    for label, open_tunnel in rotating_rounds(open_tunnels, rounds):
        with open_tunnel() as path:
            client = kernel_info(path)
            try:
                rtts[label] += time_executes(client, round_trips, warm_up=5)
                run(client, OUTPUT_SETUP)
                chunks: list[str] = []
                started = time.perf_counter()
                run(client, OUTPUT_CODE, chunks)
                elapsed = time.perf_counter() - started
            finally:
                client.stop_channels()
        data = "".join(chunks).encode()
        rates[label].append(len(data) / elapsed / 1e6)
        intact[label] = intact[label] and hashlib.sha256(data).hexdigest() == EXPECTED_SHA
    return {
        label: {
            "rtt": statistics.median(rtts[label]),
            "mbps": statistics.median(rates[label]),
            "intact": intact[label],
        }
        for label in open_tunnels
    }


# -- the methods: each a context manager yielding a local connection file ----------------


def local_file(info, ports: dict, directory: str) -> str:
    import dataclasses

    path = os.path.join(directory, f"bench-{time.monotonic_ns()}.json")
    return write_connection_file(path, dataclasses.replace(info, ip="127.0.0.1", **ports))


def wait_listening(ports, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)


class Methods:
    def __init__(self, sshd, kernel_file: str, workdir: str) -> None:
        self.sshd = sshd
        self.kernel_file = kernel_file
        self.info = read_connection_file(kernel_file)
        self.workdir = workdir
        self._aio = asyncio.new_event_loop()
        self._aio_thread = threading.Thread(target=self._aio.run_forever, daemon=True)
        self._aio_thread.start()

    def close(self) -> None:
        self._aio.call_soon_threadsafe(self._aio.stop)
        self._aio_thread.join()

    @contextlib.contextmanager
    def direct(self):
        yield self.kernel_file

    def this_tunnel_with(self, quickack: bool, nodelay: bool, server_nodelay: bool):
        """Our tunnel with some latency measures switched off (they apply at connect time)."""
        latency = LatencyOptions(
            tcp_nodelay=nodelay, tcp_quickack=quickack, server_nodelay=server_nodelay
        )
        return lambda: self.this_tunnel(latency)

    @contextlib.contextmanager
    def this_tunnel(self, latency: LatencyOptions | None = None):
        with TunnelManager(latency=latency) as manager:
            tunnel = manager.open_tunnel(
                self.sshd.target(), self.kernel_file, local_dir=self.workdir
            )
            yield tunnel.local_connection_file

    @contextlib.contextmanager
    def openssh(self):
        ports = {name: free_port() for name in PORT_NAMES}
        forwards = []
        for name in PORT_NAMES:
            forwards += ["-L", f"127.0.0.1:{ports[name]}:127.0.0.1:{getattr(self.info, name)}"]
        process = subprocess.Popen(
            ["ssh", "-N", *forwards, "-p", str(self.sshd.port), "-i", str(self.sshd.user_key),
             "-o", f"UserKnownHostsFile={self.sshd.known_hosts}", "-o", "BatchMode=yes",
             "-o", "ExitOnForwardFailure=yes", "-F", "/dev/null",
             f"{self.sshd.user}@{self.sshd.host}"],
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_listening(ports.values())
            yield local_file(self.info, ports, self.workdir)
        finally:
            process.terminate()
            process.wait()

    @contextlib.contextmanager
    def asyncssh(self):
        import asyncssh

        async def open_all():
            conn = await asyncssh.connect(
                self.sshd.host,
                self.sshd.port,
                username=self.sshd.user,
                client_keys=[str(self.sshd.user_key)],
                known_hosts=str(self.sshd.known_hosts),
                agent_path=None,
                config=[],
            )
            listeners = {}
            for name in PORT_NAMES:
                listeners[name] = await conn.forward_local_port(
                    "127.0.0.1", 0, "127.0.0.1", getattr(self.info, name)
                )
            return conn, listeners

        conn, listeners = asyncio.run_coroutine_threadsafe(open_all(), self._aio).result(60)
        try:
            ports = {name: lst.get_port() for name, lst in listeners.items()}
            yield local_file(self.info, ports, self.workdir)
        finally:

            async def close():
                conn.close()
                await conn.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._aio).result(30)

    @contextlib.contextmanager
    def jupyter_paramiko(self):
        from jupyter_client.ssh.tunnel import paramiko_tunnel

        ports = {name: free_port() for name in PORT_NAMES}
        server = f"{self.sshd.user}@{self.sshd.host}:{self.sshd.port}"
        processes = [
            paramiko_tunnel(
                ports[name], getattr(self.info, name), server, "127.0.0.1",
                keyfile=str(self.sshd.user_key), timeout=60,
            )
            for name in PORT_NAMES
        ]  # fmt: skip
        try:
            wait_listening(ports.values())
            yield local_file(self.info, ports, self.workdir)
        finally:
            for process in processes:
                process.terminate()
                process.join()


# -- report ----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def report_round_trips(deciles: dict) -> int:
    direct = deciles["direct (no SSH)"][4]
    print("| method | execute p10 | p50 | p90 | p50 ratio to direct |")
    print("|---|---|---|---|---|")
    for label, d in deciles.items():
        print(f"| {label} | {ms(d[0])} | {ms(d[4])} | {ms(d[8])} | {d[4] / direct:.2f}× |")
    print(f"\nLoad average (1, 5, 15 min) after the run: {os.getloadavg()}, {os.cpu_count()} CPUs")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument(
        "--round-trips-only",
        action="store_true",
        help="only the execute round trip: direct, this tunnel and the peers, 5 rounds of 300",
    )
    args = parser.parse_args()
    connects, rounds, round_trips = (3, 1, 50) if args.quick else (7, 5, 100)

    workdir = tempfile.mkdtemp(prefix="bench-tunnel-")
    home = Path(workdir, "home")
    (home / ".ssh").mkdir(parents=True)
    os.environ["HOME"] = str(home)  # never read or write the user's ~/.ssh
    os.environ.pop("SSH_AUTH_SOCK", None)
    sshd = start_sshd(Path(workdir, "sshd"))
    kernel = start_kernel(os.path.join(workdir, "kernel-bench.json"))
    methods = Methods(sshd, kernel.connection_file, workdir)
    ours_label = "this tunnel (paramiko, 1 connection)"
    rows = {
        "direct (no SSH)": methods.direct,
        ours_label: methods.this_tunnel,
        "  same, without server-side NODELAY": methods.this_tunnel_with(True, True, False),
        "  same, without QUICKACK": methods.this_tunnel_with(False, True, True),
        "  same, without server NODELAY and QUICKACK": methods.this_tunnel_with(False, True, False),
        "  same, without any of the three": methods.this_tunnel_with(False, False, False),
        "OpenSSH ssh -N -L x5": methods.openssh,
        "asyncssh, 5 forward_local_port": methods.asyncssh,
        "jupyter_client paramiko_tunnel x5": methods.jupyter_paramiko,
    }
    if args.round_trips_only:
        rows = {label: rows[label] for label in rows if not label.startswith("  ")}
    results: dict = {}
    try:
        if args.round_trips_only:
            print("round trips, in rounds...", file=sys.stderr, flush=True)
            deciles = measure_round_trips(rows, 5, 300)
            return report_round_trips(deciles)
        for label, method in rows.items():
            print(f"connecting: {label.strip()}...", file=sys.stderr, flush=True)
            results[label] = {"connect": measure_connect(method, connects)}
        print("round trips and throughput, in rounds...", file=sys.stderr, flush=True)
        for label, traffic in measure_traffic(rows, rounds, round_trips).items():
            results[label].update(traffic)
    finally:
        methods.close()
        stop_kernel(kernel)
        stop_sshd(sshd)

    direct = results["direct (no SSH)"]
    ours = results[ours_label]
    openssh = results["OpenSSH ssh -N -L x5"]
    print(
        "| method | connect (kernel_info) | ratio to OpenSSH | execute round trip p50 "
        "| ratio to direct | stdout throughput | ratio to ours | 20 MB intact |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label in rows:
        r = results[label]
        print(
            f"| {label.strip()} | {ms(r['connect'])} | {r['connect'] / openssh['connect']:.2f}× "
            f"| {ms(r['rtt'])} | {r['rtt'] / direct['rtt']:.2f}× | {r['mbps']:.1f} MB/s "
            f"| {r['mbps'] / ours['mbps']:.2f}× | {'yes' if r['intact'] else 'NO'} |"
        )
    asyncssh_row = results["asyncssh, 5 forward_local_port"]
    jc = results["jupyter_client paramiko_tunnel x5"]
    targets = [
        ("connect ≤ 1.2× OpenSSH", ours["connect"] / openssh["connect"], 1.2, "≤"),
        ("round trip ≤ 1.3× direct", ours["rtt"] / direct["rtt"], 1.3, "≤"),
        ("throughput ≥ asyncssh", ours["mbps"] / asyncssh_row["mbps"], 1.0, "≥"),
        ("throughput ≥ 5× jupyter_client", ours["mbps"] / jc["mbps"], 5.0, "≥"),
    ]
    print()
    for name, value, limit, op in targets:
        met = value <= limit if op == "≤" else value >= limit
        print(f"- {name}: {value:.2f}× — {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
