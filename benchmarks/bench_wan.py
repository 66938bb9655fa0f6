"""Connecting over real-world links: this tunnel vs direct, OpenSSH, asyncssh, jupyter_client.

    .venv/bin/python benchmarks/bench_wan.py [--delays 0,25,75] [--rounds 3] [--quick]

Between the clients and one real OpenSSH sshd (and one real kernel) sits the link emulator
of linkemu.py (its own process: one-way delay D per direction, in order; a 50 Mbit/s cap
for the throughput column). The methods are interleaved round after round at each D:

- connect: from starting the tunnel to the kernel_info reply, in seconds and in link
  round trips (2D); for the CLI also process start -> its first packet on the link;
- execute("pass") round trip p50/p90 (reply and iopub idle);
- MB/s of 20 MB printed by the kernel under the cap, checked byte for byte;
- second kernel on the same host while a first console executes in a loop: time to the
  second kernel's kernel_info reply, and the worst stall of the first console meanwhile
  (its slowest execute minus its p50);
- reconnect: the link is cut (both sides closed, usable again at once); time until an
  execute through the same local ports succeeds again.

Only 127.0.0.1; it stops only the processes it started.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import os
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from tests.conftest import start_kernel, stop_kernel  # noqa: E402
from tests.sshd import start_sshd, stop_sshd  # noqa: E402

from bench_tunnel import (  # noqa: E402
    EXPECTED_SHA,
    OUTPUT_CODE,
    OUTPUT_SETUP,
    Methods,
    kernel_info,
    local_file,
    rotating_rounds,
    run,
    time_executes,
)
from spyder_kernel_connect.connection import PORT_NAMES, read_connection_file  # noqa: E402
from spyder_kernel_connect.ssh import TunnelManager  # noqa: E402

CAP_MBIT = 50.0
CAP_DELAY_MS = 25.0


class Emulator:
    """One linkemu.py process: the SSH port and both kernels' ports behind one link."""

    def __init__(self, delay_ms: float, targets: list[int], rate_mbit: float | None = None):
        self.delay = delay_ms / 1000
        command = [sys.executable, str(HERE / "linkemu.py"), "--delay-ms", str(delay_ms)]
        if rate_mbit:
            command += ["--rate-mbit", str(rate_mbit)]
        self.process = subprocess.Popen(
            command + [f"0:{port}" for port in targets], stdout=subprocess.PIPE, text=True
        )
        self.ports = dict(
            zip(targets, map(int, self.process.stdout.readline().split()[1:]), strict=True)
        )
        self.accepts: list[tuple[int, float]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:  # never stop reading: a full pipe would stall it
            words = line.split()
            if len(words) == 3 and words[0] == "accept":
                self.accepts.append((int(words[1]), float(words[2])))

    def cut(self) -> None:
        self.process.send_signal(signal.SIGUSR1)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()


def ping_pong_excess(delay_ms: float, count: int = 30) -> tuple[float, float]:
    """The emulator's own added delay over 2D (p50, p90 in ms), measured with an echo."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def echo() -> None:
        conn, _ = server.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while data := conn.recv(64):
                conn.sendall(data)

    threading.Thread(target=echo, daemon=True).start()
    link = Emulator(delay_ms, [server.getsockname()[1]])
    try:
        sock = socket.create_connection(("127.0.0.1", link.ports[server.getsockname()[1]]))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"x")
        sock.recv(1)
        excess = []
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(b"x")
            sock.recv(1)
            excess.append((time.perf_counter() - started) * 1000 - 2 * delay_ms)
        sock.close()
    finally:
        link.close()
        server.close()
    return percentile(excess, 50), percentile(excess, 90)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


@dataclasses.dataclass
class Setup:
    sshd: object
    kernels: list  # two kernel managers
    workdir: str
    link: Emulator

    def sshd_via_link(self):
        """The sshd as seen through the link (its known_hosts line names the link's port)."""
        port = self.link.ports[self.sshd.port]
        known = Path(self.workdir, f"known_hosts_{port}")
        key_type, blob = self.sshd.host_key.with_suffix(".pub").read_text().split()[:2]
        known.write_text(f"[127.0.0.1]:{port} {key_type} {blob}\n")
        return dataclasses.replace(self.sshd, port=port, known_hosts=known)


class WanMethods(Methods):
    """bench_tunnel's peers, pointed at the link; plus direct and our CLI through it."""

    def __init__(self, setup: Setup, kernel_index: int = 0) -> None:
        self.setup = setup
        kernel_file = setup.kernels[kernel_index].connection_file
        super().__init__(setup.sshd_via_link(), kernel_file, setup.workdir)
        self.first_packet: list[float] = []

    @contextlib.contextmanager
    def direct(self):
        ports = {name: self.setup.link.ports[getattr(self.info, name)] for name in PORT_NAMES}
        yield local_file(self.info, ports, self.workdir)

    @contextlib.contextmanager
    def cli(self):
        started = time.time()
        seen = len(self.setup.link.accepts)
        process = subprocess.Popen(
            [sys.executable, "-m", "spyder_kernel_connect", "tunnel", self.sshd.address,
             self.kernel_file, "-i", str(self.sshd.user_key), "--known-hosts",
             str(self.sshd.known_hosts), "--local-dir", self.workdir],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(process.stdout, selectors.EVENT_READ)
                if not selector.select(120):
                    raise TimeoutError("the CLI printed nothing within 120 s")
            path = process.stdout.readline().strip()
            if not path:
                raise RuntimeError(process.communicate()[1])
            ssh_port = self.sshd.port
            firsts = [t for port, t in self.setup.link.accepts[seen:] if port == ssh_port]
            if firsts:
                self.first_packet.append(firsts[0] - started)
            yield path
        finally:
            process.terminate()
            process.communicate()


# -- measurements -----------------------------------------------------------------------


def measure_connect(rows: dict, rounds: int) -> dict:
    times: dict = {label: [] for label in rows}
    for label, open_tunnel in rotating_rounds(rows, rounds):
        started = time.perf_counter()
        with open_tunnel() as path:
            client = kernel_info(path)
            times[label].append(time.perf_counter() - started)
            client.stop_channels()
    return {label: statistics.median(values) for label, values in times.items()}


def measure_execute(rows: dict, count: int) -> dict:
    result = {}
    for label, open_tunnel in rows.items():
        with open_tunnel() as path:
            client = kernel_info(path)
            try:
                rtts = time_executes(client, count, warm_up=3)
            finally:
                client.stop_channels()
        result[label] = (percentile(rtts, 50), percentile(rtts, 90))
    return result


def measure_throughput(rows: dict) -> dict:
    result = {}
    for label, open_tunnel in rows.items():
        with open_tunnel() as path:
            client = kernel_info(path)
            try:
                run(client, OUTPUT_SETUP)
                chunks: list[str] = []
                started = time.perf_counter()
                run(client, OUTPUT_CODE, chunks)
                elapsed = time.perf_counter() - started
                run(client, "del _bench")
            finally:
                client.stop_channels()
        data = "".join(chunks).encode()
        result[label] = (
            len(data) / elapsed / 1e6,
            hashlib.sha256(data).hexdigest() == EXPECTED_SHA,
        )
    return result


class Console:
    """A first console executing in a loop (its execute times, while something else runs)."""

    def __init__(self, path: str) -> None:
        self.client = kernel_info(path)
        self.times: list[tuple[float, float]] = []  # (start, duration)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            run(self.client, "pass")
            self.times.append((started, time.perf_counter() - started))

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.client.stop_channels()


def measure_second_kernel(open_pair, repeats: int) -> tuple[float, float]:
    """open_pair() -> (context of kernel A's tunnel, function opening B's on the same link)."""
    opens, stalls = [], []
    for _ in range(repeats):
        with open_pair() as (path_a, open_b):
            console = Console(path_a)
            try:
                time.sleep(0.5)
                started = time.perf_counter()
                with open_b() as path_b:
                    client_b = kernel_info(path_b)
                    ended = time.perf_counter()
                    client_b.stop_channels()
                time.sleep(0.2)
            finally:
                console.close()
            base = statistics.median(d for _s, d in console.times)
            during = [d for s, d in console.times if s + d >= started and s <= ended]
            opens.append(ended - started)
            stalls.append(max(during, default=base) - base)
    return statistics.median(opens), max(stalls)


def measure_reconnect(open_tunnel, link: Emulator, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        with open_tunnel() as path:
            client = kernel_info(path)
            try:
                run(client, "pass")
                link.cut()
                started = time.perf_counter()
                time.sleep(0.005)
                while True:  # a request sent into the dying connection may be lost: resend
                    try:
                        run_with_timeout(client, max(2.0, 20 * link.delay))
                        break
                    except TimeoutError:
                        if time.perf_counter() - started > 60:
                            raise
                times.append(time.perf_counter() - started)
            finally:
                client.stop_channels()
    return statistics.median(times)


def run_with_timeout(client, timeout: float) -> None:
    import zmq

    shell = client.shell_channel
    msg_id = client.execute("pass", store_history=False)
    poller = zmq.Poller()
    poller.register(shell.socket, zmq.POLLIN)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if poller.poll(max(deadline - time.monotonic(), 0) * 1000):
            while shell.msg_ready():
                if shell.get_msg(timeout=0)["parent_header"].get("msg_id") == msg_id:
                    return
    raise TimeoutError


# -- one delay --------------------------------------------------------------------------


def our_tunnel(sshd, kernel_file: str, workdir: str):
    @contextlib.contextmanager
    def open_tunnel():
        with TunnelManager() as manager:
            yield manager.open_tunnel(sshd.target(), kernel_file, local_dir=workdir)

    return open_tunnel


def run_delay(base: dict, delay_ms: float, rounds: int, quick: bool) -> dict:
    sshd, kernels, workdir = base["sshd"], base["kernels"], base["workdir"]
    targets = [sshd.port] + [
        p for k in kernels for p in read_connection_file(k.connection_file).ports.values()
    ]
    link = Emulator(delay_ms, targets)
    setup = Setup(sshd, kernels, workdir, link)
    methods = WanMethods(setup)
    methods_b = WanMethods(setup, 1)
    ours = our_tunnel(methods.sshd, kernels[0].connection_file, workdir)
    ours_b_file = kernels[1].connection_file

    @contextlib.contextmanager
    def ours_fresh():
        with ours() as tunnel:
            yield tunnel.local_connection_file

    rows = {
        "direct ZMQ, no SSH (the limit)": methods.direct,
        "OpenSSH -N -L x5": methods.openssh,
        "asyncssh, 5 forward_local_port": methods.asyncssh,
        "jupyter_client paramiko_tunnel x5": methods.jupyter_paramiko,
        "this tunnel, in-process": ours_fresh,
        "this tunnel, CLI": methods.cli,
    }
    out: dict = {label: {} for label in rows}
    try:
        print(f"D = {delay_ms:g} ms: connect...", file=sys.stderr, flush=True)
        for label, value in measure_connect(rows, rounds).items():
            out[label]["connect"] = value
        print(f"D = {delay_ms:g} ms: execute...", file=sys.stderr, flush=True)
        count = 20 if delay_ms else 200
        for label, value in measure_execute(rows, 10 if quick else count).items():
            out[label]["execute"] = value
        print(f"D = {delay_ms:g} ms: second kernel...", file=sys.stderr, flush=True)

        @contextlib.contextmanager
        def ours_pair():
            with TunnelManager() as manager:
                first = manager.open_tunnel(
                    methods.sshd.target(), kernels[0].connection_file, local_dir=workdir
                )

                @contextlib.contextmanager
                def open_b():
                    second = manager.open_tunnel(
                        methods.sshd.target(), ours_b_file, local_dir=workdir
                    )
                    try:
                        yield second.local_connection_file
                    finally:
                        second.close()

                yield first.local_connection_file, open_b

        @contextlib.contextmanager
        def direct_pair():
            with methods.direct() as path:
                yield path, methods_b.direct

        repeats = 1 if quick else 3
        out["this tunnel, in-process"]["second"] = measure_second_kernel(ours_pair, repeats)
        out["direct ZMQ, no SSH (the limit)"]["second"] = measure_second_kernel(
            direct_pair, repeats
        )
        if delay_ms:
            print(f"D = {delay_ms:g} ms: reconnect...", file=sys.stderr, flush=True)
            out["this tunnel, in-process"]["reconnect"] = measure_reconnect(
                ours_fresh, link, repeats
            )
            out["direct ZMQ, no SSH (the limit)"]["reconnect"] = measure_reconnect(
                methods.direct, link, repeats
            )
        if methods.first_packet:
            out["this tunnel, CLI"]["first_packet"] = statistics.median(methods.first_packet)
    finally:
        methods.close()
        methods_b.close()
        link.close()
    return out


def run_throughput(base: dict) -> dict:
    sshd, kernels, workdir = base["sshd"], base["kernels"], base["workdir"]
    targets = [sshd.port, *read_connection_file(kernels[0].connection_file).ports.values()]
    link = Emulator(CAP_DELAY_MS, targets, CAP_MBIT)
    setup = Setup(sshd, kernels, workdir, link)
    methods = WanMethods(setup)
    ours = our_tunnel(methods.sshd, kernels[0].connection_file, workdir)

    @contextlib.contextmanager
    def ours_fresh():
        with ours() as tunnel:
            yield tunnel.local_connection_file

    rows = {
        "direct ZMQ, no SSH (the limit)": methods.direct,
        "OpenSSH -N -L x5": methods.openssh,
        "asyncssh, 5 forward_local_port": methods.asyncssh,
        "jupyter_client paramiko_tunnel x5": methods.jupyter_paramiko,
        "this tunnel, in-process": ours_fresh,
    }
    try:
        print(f"throughput under {CAP_MBIT:g} Mbit/s...", file=sys.stderr, flush=True)
        return measure_throughput(rows)
    finally:
        methods.close()
        link.close()


# -- report -----------------------------------------------------------------------------


def report(delay_ms: float, out: dict, rates: dict | None) -> None:
    rtt = 2 * delay_ms / 1000
    print(f"\n### D = {delay_ms:g} ms one way (RTT {2 * delay_ms:g} ms)\n")
    print(
        "| method | connect (s) | link RTTs | execute p50 / p90 (ms) | MB/s at "
        f"{CAP_MBIT:g} Mbit/s | 2nd kernel (s, RTTs) | 1st console stall (ms, RTTs) "
        "| reconnect (s, RTTs) |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def rtts(seconds: float) -> str:
        return f"{seconds / rtt:.1f}" if rtt else "–"

    for label, row in out.items():
        p50, p90 = row["execute"]
        cells = [label, f"{row['connect']:.3f}", rtts(row["connect"])]
        cells.append(f"{p50 * 1000:.1f} / {p90 * 1000:.1f}")
        rate = (rates or {}).get(label)
        cells.append(f"{rate[0]:.2f}{'' if rate[1] else ' (CORRUPT)'}" if rate else "")
        if "second" in row:
            opened, stall = row["second"]
            cells.append(f"{opened:.3f} ({rtts(opened)})")
            cells.append(f"{stall * 1000:.1f} ({rtts(stall)})")
        else:
            cells += ["", ""]
        if "reconnect" in row:
            cells.append(f"{row['reconnect']:.3f} ({rtts(row['reconnect'])})")
        else:
            cells.append("")
        if "first_packet" in row:
            cells[0] += f" (first packet after {row['first_packet']:.2f} s)"
        print("| " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="0,25,75", help="one-way delays in ms")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved connect rounds")
    parser.add_argument("--quick", action="store_true", help="one round, fewer samples")
    parser.add_argument("--no-throughput", action="store_true")
    args = parser.parse_args()
    delays = [float(d) for d in args.delays.split(",")]
    rounds = 1 if args.quick else args.rounds

    workdir = tempfile.mkdtemp(prefix="bench-wan-")
    home = Path(workdir, "home")
    (home / ".ssh").mkdir(parents=True)
    os.environ["HOME"] = str(home)  # never read or write the user's ~/.ssh
    os.environ.pop("SSH_AUTH_SOCK", None)
    print(f"load average before: {os.getloadavg()}, {os.cpu_count()} CPUs", file=sys.stderr)
    for delay in delays:
        p50, p90 = ping_pong_excess(delay)
        print(f"emulator check, D = {delay:g} ms: adds {p50:.2f} ms p50, {p90:.2f} ms p90 over 2D")
    sshd = start_sshd(Path(workdir, "sshd"))
    kernels = [start_kernel(os.path.join(workdir, f"kernel-wan{i}.json")) for i in range(2)]
    base = {"sshd": sshd, "kernels": kernels, "workdir": workdir}
    results = {}
    rates = None
    try:
        if not args.no_throughput:
            rates = run_throughput(base)
        for delay in delays:
            results[delay] = run_delay(base, delay, rounds, args.quick)
    finally:
        for kernel in kernels:
            stop_kernel(kernel)
        stop_sshd(sshd)
    for delay, out in results.items():
        report(delay, out, rates if delay == CAP_DELAY_MS else None)
    print(f"\nload average after: {os.getloadavg()}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
