"""The record of what was pushed: written compactly, read back, older records still read."""

from __future__ import annotations

import json
import os
import stat

from spyder_kernel_connect.sync.manifest import Manifest, PushedFile


def test_record_round_trip_private_and_only_written_when_changed(tmp_path):
    pushed = PushedFile(5, 1_700_000_000_123_456_789, "ab" * 32, 5, 1_700_000_000)
    manifest = Manifest("me@host", "/srv/p", str(tmp_path), str(tmp_path / "state"))
    manifest.record("pkg/mod.py", pushed)
    manifest.save()
    assert stat.S_IMODE(os.stat(manifest.path).st_mode) == 0o600
    assert Manifest("me@host", "/srv/p", str(tmp_path), str(tmp_path / "state")).files == {
        "pkg/mod.py": pushed
    }
    written = os.stat(manifest.path).st_mtime_ns
    os.utime(manifest.path, ns=(written - 10**9, written - 10**9))
    manifest.record("pkg/mod.py", pushed)  # the same again: nothing to write
    manifest.save()
    assert os.stat(manifest.path).st_mtime_ns == written - 10**9


def test_a_record_in_the_first_format_is_still_read(tmp_path):
    manifest = Manifest("me@host", "/srv/p", str(tmp_path), str(tmp_path / "state"))
    os.makedirs(os.path.dirname(manifest.path))
    first = {"a.py": {"local_size": 1, "local_mtime_ns": 2, "sha256": "c", "remote_size": 1,
                      "remote_mtime": 3}}  # fmt: skip
    with open(manifest.path, "w") as handle:
        json.dump(first, handle)
    again = Manifest("me@host", "/srv/p", str(tmp_path), str(tmp_path / "state"))
    assert again.files == {"a.py": PushedFile(1, 2, "c", 1, 3)}
