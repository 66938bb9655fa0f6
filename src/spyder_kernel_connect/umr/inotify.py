"""Change notification: Linux inotify through ctypes, so a check with nothing changed reads ONE fd.

Kernel side: standard library only. Directories on network filesystems are not trusted (another
machine may write there without an event here); their modules are polled with stat().
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import weakref

_IN_MODIFY, _IN_ATTRIB, _IN_CLOSE_WRITE = 0x2, 0x4, 0x8
_IN_MOVED_FROM, _IN_MOVED_TO, _IN_CREATE, _IN_DELETE = 0x40, 0x80, 0x100, 0x200
_IN_DELETE_SELF, _IN_MOVE_SELF, _IN_Q_OVERFLOW, _IN_IGNORED = 0x400, 0x800, 0x4000, 0x8000
_IN_NONBLOCK, _IN_CLOEXEC = 0o4000, 0o2000000
_WATCH_MASK = (
    _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE
) | (_IN_DELETE | _IN_DELETE_SELF | _IN_MOVE_SELF)
# Filesystems only this machine writes to. On NFS, SMB, sshfs, 9p (WSL, VMs)... another
# machine may edit the file without any inotify event here, so those directories are polled.
_LOCAL_FILESYSTEMS = frozenset(
    [
        "ext2",
        "ext3",
        "ext4",
        "xfs",
        "btrfs",
        "tmpfs",
        "ramfs",
        "overlay",
        "zfs",
        "f2fs",
        "jfs",
        "reiserfs",
        "bcachefs",
        "nilfs2",
        "vfat",
        "exfat",
        "ntfs3",
        "hfsplus",
    ]
)


def mount_types() -> list:
    """[(mount point, filesystem type)], longest mount point first; [] if unknown."""
    mounts = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) >= 5 and right:
                    point = fields[4].replace("\\040", " ").replace("\\011", "\t")
                    mounts.append((point, right.split()[0]))
    except OSError:
        return []
    mounts.sort(key=lambda item: len(item[0]), reverse=True)
    return mounts


class Inotify:
    """Watches the directories of user modules; ``read()`` costs one syscall when idle."""

    def __init__(self) -> None:
        import ctypes  # only here: kernels on other systems never need it

        libc = ctypes.CDLL(None, use_errno=True)
        self._add_watch = libc.inotify_add_watch
        self._add_watch.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32)
        self._add_watch.restype = ctypes.c_int
        self.fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        # Closed with its owner even without unregister() (kernels allow ~128 instances/user).
        self._closer = weakref.finalize(self, os.close, self.fd)
        self._mounts = mount_types()
        self._dirs: dict = {}  # watch descriptor -> directory
        self._wds: dict = {}  # directory -> watch descriptor

    def _is_local(self, directory: str) -> bool:
        real = os.path.realpath(directory)
        for point, fstype in self._mounts:
            if real == point or real.startswith(point.rstrip("/") + "/"):
                return fstype in _LOCAL_FILESYSTEMS
        return False

    def watch(self, directory: str) -> bool:
        """Start watching; False if it cannot be trusted (remote fs, watch limit reached)."""
        if directory in self._wds:
            return True
        if not self._is_local(directory):
            return False
        wd = self._add_watch(self.fd, os.fsencode(directory), _WATCH_MASK)
        if wd < 0:
            return False
        self._wds[directory] = wd
        self._dirs[wd] = directory
        return True

    def read(self) -> tuple:
        """(paths with events, directories no longer watched, queue overflowed)."""
        paths, lost, overflow = set(), set(), False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                overflow = True
                break
            offset = 0
            while offset + 16 <= len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16 : offset + 16 + length].split(b"\0", 1)[0]
                offset += 16 + length
                if mask & _IN_Q_OVERFLOW:
                    overflow = True
                directory = self._dirs.get(wd)
                if directory is None:
                    continue
                if mask & (_IN_IGNORED | _IN_DELETE_SELF | _IN_MOVE_SELF):
                    lost.add(directory)  # deleted, moved or unmounted: its modules get polled
                    del self._dirs[wd]
                    self._wds.pop(directory, None)
                elif name:
                    paths.add(os.path.join(directory, os.fsdecode(name)))
        return paths, lost, overflow

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._closer()


def make_watcher():
    """inotify on Linux unless SKC_UMR_WATCH=poll; None means: stat every user module."""
    if not sys.platform.startswith("linux") or os.environ.get("SKC_UMR_WATCH") == "poll":
        return None
    try:
        return Inotify()
    except Exception:  # no libc symbol, inotify instance limit...: polling still works
        return None
