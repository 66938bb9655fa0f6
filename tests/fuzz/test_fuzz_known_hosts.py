"""Fuzz the known_hosts reader: any file content is keys or one KnownHostsError, never a crash.

A bad known_hosts line must not take every connection down (paramiko's reader failed on
a ``@cert-authority`` line); ``ssh`` skips lines it cannot use, and so do we.
"""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from spyder_kernel_connect.ssh.errors import KnownHostsError
from spyder_kernel_connect.ssh.known_hosts import (
    host_matches,
    parse_known_hosts,
    read_known_hosts,
)

FAST = settings(max_examples=300, deadline=None, database=None)

fields = st.sampled_from(
    ["@revoked", "@cert-authority", "@bogus", "*", "!*", "[h]:22", "|1|x|y", "|1|", "ssh-ed25519"]
) | st.text(max_size=12)
blobs = st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())
lines = st.lists(fields | blobs, max_size=6).map(" ".join)
files = st.lists(lines, max_size=8).map("\n".join)


@FAST
@given(text=files)
def test_parse_never_raises_and_keeps_only_well_formed_lines(text):
    for key in parse_known_hosts(text):
        assert key.marker in ("", "@revoked", "@cert-authority")
        assert key.key_type and key.patterns


@FAST
@given(
    patterns=st.text(max_size=30) | st.just("|1|c2FsdA==|aGFzaA=="),
    name=st.text(st.characters(categories=["Cs", "Ll", "Nd", "Po"]), max_size=30),
)
def test_host_matching_is_a_yes_or_no(patterns, name):
    assert host_matches(patterns, name) in (True, False)


@FAST
@given(raw=st.binary(max_size=500) | files.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_reading_any_bytes_gives_keys_or_one_plain_error(tmp_path_factory, raw):
    path = tmp_path_factory.mktemp("kh") / "known_hosts"
    path.write_bytes(raw)
    try:
        read_known_hosts(str(path))
    except KnownHostsError as err:
        assert str(path) in str(err) and "\n" not in str(err)
