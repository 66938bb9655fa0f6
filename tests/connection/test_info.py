"""Loading and validating connection files: every bad file gets its own clear error."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyder_kernel_connect.connection import (
    PORT_NAMES,
    ConnectionFileError,
    ConnectionFileInvalid,
    ConnectionFileNotFound,
    ConnectionFileUnreadable,
    parse_connection_info,
    read_connection_file,
    write_connection_file,
)

GOOD = {
    "shell_port": 50001,
    "iopub_port": 50002,
    "stdin_port": 50003,
    "control_port": 50004,
    "hb_port": 50005,
    "ip": "127.0.0.1",
    "key": "a-secret",
    "transport": "tcp",
    "signature_scheme": "hmac-sha256",
    "kernel_name": "python3",
}


def write(tmp_path, content, name="kernel-1.json"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_good_file_round_trips_and_keeps_extra_keys(tmp_path):
    data = dict(GOOD, jupyter_session="/x.ipynb", some_future_key={"a": 1})
    info = read_connection_file(write(tmp_path, json.dumps(data)))
    assert info.ports["hb_port"] == 50005 and info.key == "a-secret"
    assert info.kernel_name == "python3"
    assert info.extra["some_future_key"] == {"a": 1}
    assert info.to_dict() == data
    assert info.address("shell_port") == "tcp://127.0.0.1:50001"


def test_real_kernel_file_loads(local_kernel):
    info = read_connection_file(local_kernel.connection_file)
    assert info.key == local_kernel.session.key.decode()
    assert info.shell_port == local_kernel.shell_port


def test_written_file_is_private_and_reloads(tmp_path):
    info = parse_connection_info(GOOD)
    path = write_connection_file(tmp_path / "sub" / "kernel-x.json", info)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_connection_file(path).to_dict() == GOOD


def test_ipc_address():
    info = parse_connection_info(dict(GOOD, transport="ipc", ip="/tmp/kernel-x"))
    assert info.address("hb_port") == "ipc:///tmp/kernel-x-50005"


def test_missing_file(tmp_path):
    with pytest.raises(ConnectionFileNotFound) as info:
        read_connection_file(tmp_path / "nope.json")
    assert str(tmp_path) in str(info.value)


def test_empty_file(tmp_path):
    with pytest.raises(ConnectionFileInvalid, match="is empty"):
        read_connection_file(write(tmp_path, ""))


def test_truncated_json_gives_line_and_column(tmp_path):
    text = json.dumps(GOOD, indent=1)[:60]
    with pytest.raises(ConnectionFileInvalid, match=r"not valid JSON: .* at line \d+, column \d+"):
        read_connection_file(write(tmp_path, text))


def test_not_an_object(tmp_path):
    with pytest.raises(ConnectionFileInvalid, match="must contain a JSON object, not list"):
        read_connection_file(write(tmp_path, "[1, 2]"))


@pytest.mark.parametrize("port", PORT_NAMES)
def test_missing_port_names_the_field(tmp_path, port):
    data = dict(GOOD)
    del data[port]
    with pytest.raises(ConnectionFileInvalid, match=f"field '{port}' is missing") as info:
        read_connection_file(write(tmp_path, json.dumps(data)))
    assert info.value.field == port


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("shell_port", "50001", "must be an integer"),
        ("hb_port", True, "must be an integer"),
        ("iopub_port", 70000, "must be between 1 and 65535"),
        ("stdin_port", 0, "must be between 1 and 65535"),
        ("key", 123, "must be a string"),
        ("ip", "", "is empty"),
        ("transport", "udp", "must be 'tcp' or 'ipc'"),
        ("signature_scheme", "md5", "must name an HMAC digest"),
        ("signature_scheme", "hmac-nonsense", "must name an HMAC digest"),
    ],
)
def test_wrong_types_name_the_field(tmp_path, field, value, problem):
    data = dict(GOOD, **{field: value})
    with pytest.raises(ConnectionFileInvalid, match=f"field '{field}' {problem}"):
        read_connection_file(write(tmp_path, json.dumps(data)))


def test_missing_key_is_an_error_but_missing_defaults_are_not():
    data = {k: v for k, v in GOOD.items() if k not in ("ip", "transport", "signature_scheme")}
    info = parse_connection_info(data)
    assert (info.ip, info.transport, info.signature_scheme) == ("127.0.0.1", "tcp", "hmac-sha256")
    del data["key"]
    with pytest.raises(ConnectionFileInvalid, match="field 'key' is missing"):
        parse_connection_info(data)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, json.dumps(GOOD))
    path.chmod(0)
    with pytest.raises(ConnectionFileUnreadable, match="Permission denied"):
        read_connection_file(path)


def test_unreadable_file_as_root(tmp_path):
    """Root reads any mode, so make a file no one can read: a directory in its place."""
    (tmp_path / "kernel-1.json").mkdir()
    with pytest.raises(ConnectionFileUnreadable, match="is a directory"):
        read_connection_file(tmp_path / "kernel-1.json")


def test_binary_and_huge_files(tmp_path):
    with pytest.raises(ConnectionFileInvalid, match="not UTF-8"):
        read_connection_file(write(tmp_path, b"\xff\xfe\x00garbage"))
    with pytest.raises(ConnectionFileInvalid, match="larger than 1 MiB"):
        read_connection_file(write(tmp_path, b" " * (1024 * 1024 + 5)))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
near_miss = st.fixed_dictionaries(
    {},
    optional={name: st.integers(-5, 70000) | json_values for name in (*PORT_NAMES, "ip", "key")}
    | {
        "transport": st.sampled_from(["tcp", "ipc", "udp", ""]) | json_values,
        "signature_scheme": st.sampled_from(["hmac-sha256", "hmac-md5", "sha1"]) | json_values,
    },
)


@settings(
    max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.one_of(
        json_values.map(json.dumps),
        near_miss.map(json.dumps),
        near_miss.map(lambda d: json.dumps(d)[: max(0, len(json.dumps(d)) - 3)]),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        st.text(max_size=200),
    )
)
def test_any_file_loads_or_raises_our_error(tmp_path, content):
    path = tmp_path / "fuzz.json"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        info = read_connection_file(path)
    except ConnectionFileError as err:
        assert str(err)  # a message, never empty
    else:
        assert all(1 <= p <= 65535 for p in info.ports.values())
        assert info.transport in ("tcp", "ipc")


@pytest.mark.parametrize(
    ("ip", "reachable"),
    [("0.0.0.0", "127.0.0.1"), ("::", "127.0.0.1"), ("*", "127.0.0.1"),
     ("10.1.2.3", "10.1.2.3"), ("127.0.0.1", "127.0.0.1"), ("node7", "node7")],
)  # fmt: skip
def test_reachable_ip_maps_wildcards_to_loopback(ip, reachable):
    """A kernel listening on every interface is reached on its own loopback."""
    assert parse_connection_info(dict(GOOD, ip=ip)).reachable_ip == reachable
