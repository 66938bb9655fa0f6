"""Read small files a user points us at without ever hanging or swallowing a huge one.

Connection files, key files and known_hosts files are named by users, and a name can
lead to a FIFO (reading blocks until a writer comes, and SIGTERM's handler cannot
interrupt a blocked open), /dev/zero (endless) or a directory. Only regular files
are read, up to a size cap.
"""

from __future__ import annotations

import errno
import os
import stat

# Key files and known_hosts files: real ones are kilobytes; a cap keeps /dev/zero-like
# inputs (or a multi-gigabyte file named by mistake) from filling memory.
MAX_SMALL_FILE = 1024 * 1024


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words: "a directory", "a FIFO (named pipe)"…"""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_regular_file(path: str, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of a regular file; never blocks on a FIFO or a device.

    O_NONBLOCK makes opening a FIFO return at once, and the fstat of the opened descriptor
    (not of the name, which could be swapped meanwhile) refuses anything but a regular
    file, so a FIFO, /dev/zero or a directory is never read. Raises OSError;
    NotARegularFile (an OSError) says in words what the path is instead.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(file_kind(info.st_mode))
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(65536, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class NotARegularFile(OSError):
    """A FIFO, device, socket or directory where a regular file was expected."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(kind)


def describe_path(path: str, must_exist: bool = True, limit: int = MAX_SMALL_FILE) -> str | None:
    """What is wrong with reading ``path`` as a small regular file, or None if nothing.

    The answer completes a sentence: "Key file X <is a FIFO (named pipe), not a file>".
    """
    try:
        info = os.stat(path)
    except ValueError:
        return "is not a valid path (it contains a NUL character)"
    except FileNotFoundError:
        if os.path.islink(path):
            return "is a symbolic link to a file that does not exist"
        return "does not exist" if must_exist else None
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "is a symbolic link loop"
        return f"cannot be read ({os.strerror(err.errno) if err.errno else err})"
    if not stat.S_ISREG(info.st_mode):
        return f"is {file_kind(info.st_mode)}, not a file"
    if info.st_size > limit:
        return f"is {info.st_size // 1024} KiB, far larger than such a file can be"
    if not os.access(path, os.R_OK):
        return "is not readable (permission denied)"
    return None
