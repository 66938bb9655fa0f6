"""Host key verification against known_hosts files, with a caller-supplied decision for new keys.

Never a paramiko policy that adds or merely warns about unknown keys: an unknown key goes to
the decider (the GUI asks the user, the CLI refuses unless told otherwise), a changed or
revoked key is always refused. known_hosts is read by ssh/known_hosts.py, as ``ssh`` reads it.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paramiko

from spyder_kernel_connect.files import file_kind
from spyder_kernel_connect.ssh.errors import (
    HostKeyChanged,
    HostKeyRejected,
    HostKeyRevoked,
    KnownHostsError,
)
from spyder_kernel_connect.ssh.known_hosts import (
    REVOKED,
    keys_for_host,
    known_hosts_name,
    plain_keys,
)

USER_KNOWN_HOSTS = "~/.ssh/known_hosts"


class HostKeyDecision(enum.Enum):
    REJECT = "reject"
    ACCEPT_ONCE = "accept_once"
    ACCEPT_AND_SAVE = "accept_and_save"


@dataclass(frozen=True)
class HostKeyInfo:
    """What a user needs to decide about an unknown host key."""

    hostname: str
    port: int
    key_type: str
    fingerprint: str  # "SHA256:…", as `ssh-keygen -l` prints it
    known_hosts_path: str  # where ACCEPT_AND_SAVE writes it


HostKeyDecider = Callable[[HostKeyInfo], HostKeyDecision]


def fingerprint(key: paramiko.PKey) -> str:
    return _blob_fingerprint(key.asbytes())


def known_hosts_files(extra: str | None) -> list[str]:
    files = [os.path.expanduser(USER_KNOWN_HOSTS)]
    if extra:
        files.append(os.path.abspath(os.path.expanduser(extra)))
    return files


# An "ssh-rsa" key in known_hosts is negotiated as one of these signature algorithms.
RSA_ALGORITHMS = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")


def load_known_keys(files: Sequence[str], hostname: str, port: int) -> dict[str, bytes]:
    """Host key algorithm → key blob of the plain (unmarked) keys known for this host.

    The names are those the key exchange offers, so the caller can ask for them first (as
    ``ssh`` does): a host with a known RSA key is asked for rsa-sha2-*, and does not answer
    with another key, which would be refused as changed.
    """
    found: dict[str, bytes] = {}
    for key in plain_keys(keys_for_host(files, hostname, port)):
        names = RSA_ALGORITHMS if key.key_type == "ssh-rsa" else (key.key_type,)
        for name in names:
            found.setdefault(name, key.blob)
    return found


def verify_host_key(
    key: paramiko.PKey,
    hostname: str,
    port: int,
    files: Sequence[str],
    save_path: str,
    decider: HostKeyDecider | None,
    accepted_once: dict[tuple[str, int], str],
) -> None:
    """Return if ``key`` is trusted for hostname:port, else raise, as strictly as ``ssh``:

    - a key listed ``@revoked`` is refused (HostKeyRevoked);
    - a key in known_hosts for this host passes;
    - any other key, of any type, for a host with a known key is "changed" and refused
      (HostKeyChanged), as is a key other than the one accepted once in this process;
    - only a host with no known key at all goes to ``decider``.

    ``@cert-authority`` lines are skipped: this client checks plain host keys only.
    """
    label = f"{hostname}:{port}"
    name = known_hosts_name(hostname, port)
    key_type, blob = key.get_name(), key.asbytes()
    info = HostKeyInfo(hostname, port, key_type, fingerprint(key), save_path)
    lines = keys_for_host(files, hostname, port)
    revoked = [k for k in lines if k.marker == REVOKED and k.blob == blob]
    if revoked:
        raise HostKeyRevoked(
            f"@@@ WARNING: REVOKED HOST KEY DETECTED for {label} ({key_type} "
            f"{info.fingerprint}, revoked in {revoked[0].path} line {revoked[0].line}). "
            "Someone may be impersonating this host.",
            "Connection refused. Ask the server's administrator for its current key.",
            host=label,
        )
    known = plain_keys(lines)
    if any(k.blob == blob for k in known):
        return
    once = accepted_once.get((hostname, port))
    if known or (once is not None and once != info.fingerprint):
        if known:
            had = ", ".join(
                dict.fromkeys(f"{k.key_type} {_blob_fingerprint(k.blob)}" for k in known)
            )
        else:
            had = f"the key accepted earlier ({once})"
        raise HostKeyChanged(
            f"WARNING: the host key of {label} has CHANGED (now {key_type} {info.fingerprint}; "
            f"known: {had}). Someone may be intercepting the connection "
            "(man-in-the-middle attack), or the server was reinstalled.",
            "Connection refused. If you know the key changed legitimately, remove the old "
            f"entry (ssh-keygen -R '{name}') and connect again.",
            host=label,
        )
    if once == info.fingerprint:
        return  # accepted earlier in this process: reconnects must not ask again
    try:
        decision = decider(info) if decider is not None else HostKeyDecision.REJECT
    except Exception as err:  # a broken dialog must not look like an accepted key
        raise HostKeyRejected(
            f"Could not ask whether to trust the host key of {label}: {err}.", host=label
        ) from err
    if decision is HostKeyDecision.ACCEPT_AND_SAVE:
        save_host_key(save_path, hostname, port, key)
    elif decision is not HostKeyDecision.ACCEPT_ONCE:
        raise HostKeyRejected(
            f"The host key of {label} is unknown ({key_type} {info.fingerprint}) and was "
            "not accepted.",
            "Check the fingerprint with the server's administrator, then accept it "
            "with --accept-new-host-key or add it to known_hosts.",
            host=label,
            gui_hint="Check the fingerprint with the server's administrator, then connect "
            "again and accept it, or add it to known_hosts.",
        )
    accepted_once[(hostname, port)] = info.fingerprint


def _blob_fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def save_host_key(path: str, hostname: str, port: int, key: paramiko.PKey) -> None:
    """Append one line, as OpenSSH does; the rest of the file is left untouched.

    Raises KnownHostsError if the file cannot be written (O_NONBLOCK: a FIFO put in its
    place fails at once instead of waiting for a reader).
    """
    line = f"{known_hosts_name(hostname, port)} {key.get_name()} {key.get_base64()}\n"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags, 0o600)
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise OSError(f"{file_kind(os.stat(path).st_mode)}, not a file")
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            if handle.tell() > 0 and not _ends_with_newline(path):
                handle.write("\n")
            handle.write(line)
    except OSError as err:
        reason = err.strerror or str(err)
        raise KnownHostsError(
            f"Cannot save the host key of {hostname}:{port} to {path}: {reason}.",
            "Give a known_hosts file you can write to (--known-hosts), or fix its directory.",
            host=f"{hostname}:{port}",
        ) from None


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
