"""Read OpenSSH known_hosts files as ``ssh`` does: markers, hashed names, patterns.

paramiko's HostKeys chokes on a ``@cert-authority`` line (every connection failed) and
ignores ``@revoked``; it also files keys by type, which let a key of another type pass
as "new". Here every line is kept with its marker and compared as ``ssh`` compares.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from spyder_kernel_connect.files import NotARegularFile, read_regular_file
from spyder_kernel_connect.ssh.errors import KnownHostsError

# Big enough for anyone's known_hosts (a line is ~100 bytes), small enough for memory.
MAX_KNOWN_HOSTS_SIZE = 16 * 1024 * 1024
REVOKED = "@revoked"
CERT_AUTHORITY = "@cert-authority"


@dataclass(frozen=True)
class KnownKey:
    """One key line: ``marker`` is "", "@revoked" or "@cert-authority"."""

    patterns: str
    key_type: str
    blob: bytes
    marker: str = ""
    path: str = ""
    line: int = 0

    def matches(self, name: str) -> bool:
        return host_matches(self.patterns, name)


def known_hosts_name(hostname: str, port: int) -> str:
    """The name OpenSSH files a host under: ``host`` on port 22, else ``[host]:port``."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def host_matches(patterns: str, name: str) -> bool:
    """OpenSSH's rule: any pattern matches and no negated (``!``) pattern does.

    A hashed entry (``|1|salt|hmac``) stands for one exact name.
    """
    name = name.lower()
    if patterns.startswith("|1|"):
        return _hashed_match(patterns, name)
    matched = False
    for pattern in patterns.lower().split(","):
        negated = pattern.startswith("!")
        if _wildcard_match(pattern[1:] if negated else pattern, name):
            if negated:
                return False
            matched = True
    return matched


def _wildcard_match(pattern: str, name: str) -> bool:
    """OpenSSH patterns know only ``*`` and ``?``; ``[host]:port`` brackets are literal."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, name, re.DOTALL) is not None


def _hashed_match(entry: str, name: str) -> bool:
    try:
        _empty, _magic, salt, digest = entry.split("|")
        salt_bytes, digest_bytes = base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, binascii.Error):
        return False
    mine = hmac.new(salt_bytes, name.encode("utf-8", "surrogatepass"), hashlib.sha1).digest()
    return hmac.compare_digest(mine, digest_bytes)


def parse_known_hosts(text: str, path: str = "") -> list[KnownKey]:
    """Every usable key line; malformed lines are skipped, as ``ssh`` skips them."""
    keys = []
    for number, raw in enumerate(text.splitlines(), 1):
        fields = raw.split()
        if not fields or fields[0].startswith("#"):
            continue
        marker = ""
        if fields[0].startswith("@"):
            marker, fields = fields[0].lower(), fields[1:]
            if marker not in (REVOKED, CERT_AUTHORITY):
                continue  # an unknown marker: ssh ignores the line too
        if len(fields) < 3:
            continue
        try:
            blob = base64.b64decode(fields[2], validate=True)
        except (ValueError, binascii.Error):
            continue
        keys.append(KnownKey(fields[0], fields[1], blob, marker, path, number))
    return keys


def read_known_hosts(path: str) -> list[KnownKey]:
    """The keys of one file; absent is empty. A directory, FIFO, device, huge or binary
    file is a KnownHostsError naming it (it would otherwise hang or be mis-read)."""
    try:
        raw = read_regular_file(path, MAX_KNOWN_HOSTS_SIZE)
    except FileNotFoundError:
        return []
    except NotARegularFile as err:
        raise _bad(path, f"is {err.kind}, not a known_hosts file") from None
    except ValueError:
        raise _bad(path, "is not a valid path (it contains a NUL character)") from None
    except OSError as err:
        reason = os.strerror(err.errno) if err.errno else str(err)
        raise _bad(path, f"cannot be read ({reason})") from None
    if len(raw) > MAX_KNOWN_HOSTS_SIZE:
        raise _bad(path, "is larger than 16 MiB, far too large to be a known_hosts file")
    if b"\0" in raw:
        raise _bad(path, "holds binary data, not known_hosts lines")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _bad(path, f"is not UTF-8 text (bad byte at offset {err.start})") from None
    return parse_known_hosts(text, path)


def keys_for_host(files: Sequence[str], hostname: str, port: int) -> list[KnownKey]:
    """Every line of every file that applies to hostname:port, markers included."""
    name = known_hosts_name(hostname, port)
    return [key for path in files for key in read_known_hosts(path) if key.matches(name)]


def plain_keys(keys: Iterable[KnownKey]) -> list[KnownKey]:
    return [key for key in keys if not key.marker]


def _bad(path: str, problem: str) -> KnownHostsError:
    return KnownHostsError(
        f"Known-hosts file {path} {problem}.",
        "Give an OpenSSH known_hosts file (or a new path, where accepted keys are saved).",
    )
