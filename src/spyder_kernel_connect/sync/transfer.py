"""How a file's bytes travel to the host, for ``RemoteFolder``.

- ``ExactReader``: a local file cut (or zero-padded) to the size already announced, hashed as
  it is read, so a file growing while it is sent cannot corrupt a stream;
- ``ChannelWriter``: the tar stream's file object on an exec channel, with Cancel and progress;
- ``write_whole``: one file over SFTP in three round trips, every reply checked (paramiko's
  own pipelined writes never read the write replies: a full disk would pass unnoticed).
"""

from __future__ import annotations

import hashlib
import io
from collections import deque

import paramiko
from paramiko.sftp import (
    CMD_CLOSE,
    CMD_FSETSTAT,
    CMD_HANDLE,
    CMD_OPEN,
    CMD_WRITE,
    SFTP_FLAG_CREATE,
    SFTP_FLAG_TRUNC,
    SFTP_FLAG_WRITE,
    int64,
)

from spyder_kernel_connect.sync import errors

WRITE_SIZE = 32768  # bytes per SFTP write request (what every server accepts)
IN_FLIGHT = 64  # SFTP writes sent before waiting for the oldest reply
DEFAULT_MODE = 0o644  # what SFTP creates under the usual umask: no chmod round trip


class ChannelWriter(io.RawIOBase):
    """The tar stream's file object: writes to the exec channel, honours Cancel."""

    def __init__(self, chan, cancel, progress, total: int) -> None:
        self.chan, self.cancel, self.progress, self.total = chan, cancel, progress, total
        self.sent = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.cancel is not None and self.cancel.is_set():
            raise errors.SyncCancelled("Sync cancelled.", "No file was half-written.")
        self.chan.sendall(data)
        self.sent += len(data)
        if self.progress is not None:
            self.progress(min(self.sent, self.total), self.total)
        return len(data)


class ExactReader(io.RawIOBase):
    """A file cut (or zero-padded) to the size announced in the tar header: a file growing
    while we send it must not corrupt the stream. Hashes what it hands out."""

    def __init__(self, source, size: int) -> None:
        self.source, self.left = source, size
        self.sha256 = hashlib.sha256()  # of what was read: what the host gets

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.source.read(n)
        data += b"\0" * (n - len(data))
        self.left -= n
        self.sha256.update(data)
        return data


def write_whole(sftp: paramiko.SFTPClient, path: str, source, mtime: int, mode: int) -> int:
    """Create ``path`` with what ``source`` holds, its mtime and mode: open, then the writes,
    fsetstat and close sent without waiting (at most ``IN_FLIGHT`` unanswered). Every reply
    is read; an error status raises (OSError). Returns the bytes written."""
    flags = SFTP_FLAG_WRITE | SFTP_FLAG_CREATE | SFTP_FLAG_TRUNC
    kind, msg = sftp._request(CMD_OPEN, path, flags, paramiko.SFTPAttributes())
    if kind != CMD_HANDLE:
        raise paramiko.SFTPError("Expected handle")
    handle = msg.get_binary()
    asked: deque[int] = deque()
    failure: list[Exception] = []

    def reply() -> None:
        try:
            sftp._read_response(asked.popleft())  # replies come in order
        except OSError as err:
            failure.append(err)  # keep reading: every request gets its reply

    offset = 0
    while block := source.read(WRITE_SIZE):
        asked.append(sftp._async_request(type(None), CMD_WRITE, handle, int64(offset), block))
        offset += len(block)
        while len(asked) > IN_FLIGHT:
            reply()
    attrs = paramiko.SFTPAttributes()
    attrs.st_atime = attrs.st_mtime = mtime
    if mode != DEFAULT_MODE:
        attrs.st_mode = mode
    asked.append(sftp._async_request(type(None), CMD_FSETSTAT, handle, attrs))
    asked.append(sftp._async_request(type(None), CMD_CLOSE, handle))
    while asked:
        reply()
    if failure:
        # SFTP v3 has no "disk full" status: OpenSSH answers a plain "Failure".
        raise OSError(f"the host could not write the file ({reason(failure[0])}; disk full?)")
    return offset


def reason(err: BaseException) -> str:
    """The short reason of an OS or SSH error, for a message."""
    return getattr(err, "strerror", None) or str(err) or type(err).__name__
