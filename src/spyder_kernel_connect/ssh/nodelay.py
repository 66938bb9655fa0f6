"""Ask sshd to turn Nagle off, in the background, without disturbing the remote account.

sshd sets TCP_NODELAY on the first exec/shell request of a connection (OpenSSH's
ssh_packet_set_interactive), never for forwarding-only connections like ``ssh -N``; with
Nagle on, its second small packet in a row waits for our (delayed) ACK: a ~40 ms stall
per round trip. One no-op command right after login fixes that for the whole connection.

sshd runs that command through the user's login shell, which may read rc files (Debian's
bash reads ~/.bashrc for ssh commands). So the command is run to its end like any other:
stdin closed, every byte of output read (and logged at debug level), the exit status
awaited, then the channel closed. Closing at once would cut the rc file off half-way
(SIGPIPE on its next write) and could leave stale locks or orphaned processes behind.
It runs in its own thread: nobody waits for it, the connection is usable meanwhile.

It waits for the first channel opens of the connection to be sent (``start``; at most
HOLD): sshd answers its session open at once, and with Nagle still on, the answers to
forwarding opens that follow would wait behind it for our ACK, one round trip.
"""

from __future__ import annotations

import logging
import threading

import paramiko

log = logging.getLogger(__name__)

COMMAND = "exit 0"
# Longest wait, at close, for a no-op still running (rc files doing real work; normal
# ones take well under a second, so this is reached only by a hanging rc file).
CLOSE_GRACE = 10.0
# Output of the rc files kept for the debug log.
LOG_BYTES = 2000
# Longest wait for start(): a connection used for commands or SFTP only opens no forwards
# (and sshd turns Nagle off for those commands anyway).
HOLD = 0.2


class ServerNodelay:
    """One background run of the no-op command on ``transport``."""

    def __init__(self, transport: paramiko.Transport, label: str) -> None:
        self._transport = transport
        self._label = label
        self.done = threading.Event()
        self._go = threading.Event()
        self.exit_status: int | None = None
        self.output = b""
        self._thread = threading.Thread(target=self._run, name=f"ssh-nodelay-{label}", daemon=True)
        self._thread.start()

    def start(self) -> None:
        """Run it now (the first channel opens have been sent)."""
        self._go.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the command ended and its channel is closed."""
        return self.done.wait(timeout)

    def join(self) -> None:
        self._thread.join()

    def _run(self) -> None:
        self._go.wait(HOLD)
        try:
            self._run_command()
        except (paramiko.SSHException, OSError, EOFError) as err:
            # Best effort: a server refusing commands just keeps Nagle.
            log.debug("no-op command on %s: %s", self._label, err)
        finally:
            self.done.set()

    def _run_command(self) -> None:
        chan = self._transport.open_session()
        try:
            chan.set_combine_stderr(True)
            chan.exec_command(COMMAND)
            chan.shutdown_write()  # an rc file reading stdin gets EOF, never hangs
            output = bytearray()
            while data := chan.recv(65536):  # until EOF: every byte the shell writes
                if len(output) < LOG_BYTES:
                    output += data[: LOG_BYTES - len(output)]
            self.exit_status = chan.recv_exit_status()
            self.output = bytes(output)
        finally:
            chan.close()
        if self.output or self.exit_status:
            log.debug(
                "no-op command on %s exited %s, output %r",
                self._label,
                self.exit_status,
                self.output,
            )
