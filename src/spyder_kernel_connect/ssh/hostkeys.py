"""Host key verification against known_hosts files, with a caller-supplied decision for new keys.

Never a paramiko policy that adds or merely warns about unknown keys: an unknown key goes to
the decider (the GUI asks the user, the CLI refuses unless told otherwise), a changed key is
always refused.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import paramiko

from spyder_kernel_connect.ssh.errors import HostKeyChanged, HostKeyRejected, SSHError

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
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def known_hosts_name(hostname: str, port: int) -> str:
    """The name OpenSSH files a host under: ``host`` on port 22, else ``[host]:port``."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def known_hosts_files(extra: str | None) -> list[str]:
    files = [os.path.expanduser(USER_KNOWN_HOSTS)]
    if extra:
        files.append(os.path.abspath(os.path.expanduser(extra)))
    return files


def load_known_keys(files: Sequence[str], hostname: str, port: int) -> dict[str, paramiko.PKey]:
    """Key type → key for this host, from every readable file (first entry wins)."""
    name = known_hosts_name(hostname, port)
    found: dict[str, paramiko.PKey] = {}
    for path in files:
        if not os.path.isfile(path):
            continue
        keys = paramiko.HostKeys()
        try:
            keys.load(path)
        except (OSError, paramiko.SSHException) as err:
            raise SSHError(
                f"Cannot read known_hosts file {path}: {err}.", "Fix or remove the bad line."
            ) from None
        for key_type, key in (keys.lookup(name) or {}).items():
            found.setdefault(key_type, key)
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
    """Return if ``key`` is trusted for hostname:port, raise HostKeyChanged/HostKeyRejected."""
    label = f"{hostname}:{port}"
    known = load_known_keys(files, hostname, port)
    key_type = key.get_name()
    info = HostKeyInfo(hostname, port, key_type, fingerprint(key), save_path)
    if key_type in known:
        if known[key_type] == key:
            return
        raise HostKeyChanged(
            f"WARNING: the host key of {label} has CHANGED (now {info.fingerprint}, "
            f"known_hosts has {fingerprint(known[key_type])}). Someone may be intercepting "
            "the connection (man-in-the-middle attack), or the server was reinstalled.",
            "Connection refused. If you know the key changed legitimately, remove the old "
            f"entry (ssh-keygen -R '{known_hosts_name(hostname, port)}') and connect again.",
            host=label,
        )
    if accepted_once.get((hostname, port)) == info.fingerprint:
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
            "(CLI: --accept-new-host-key) or add it to known_hosts.",
            host=label,
        )
    accepted_once[(hostname, port)] = info.fingerprint


def save_host_key(path: str, hostname: str, port: int, key: paramiko.PKey) -> None:
    """Append one line, as OpenSSH does; the rest of the file is left untouched."""
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    line = f"{known_hosts_name(hostname, port)} {key.get_name()} {key.get_base64()}\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        if handle.tell() > 0 and not _ends_with_newline(path):
            handle.write("\n")
        handle.write(line)


def _ends_with_newline(path: str) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
