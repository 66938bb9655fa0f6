"""The connect service: from a request to a kernel that answers, local or through sshd."""

from __future__ import annotations

import os
import threading

import pytest

from spyder_kernel_connect.service import (
    ConnectionCancelled,
    ConnectRequest,
    ConnectService,
    KernelNotAnswering,
    KernelNotFoundAnywhere,
    LocalFile,
    Step,
)
from spyder_kernel_connect.settings import ConnectionSettings


class NoSSH(ConnectService):
    @property
    def manager(self):
        raise AssertionError("a local connection must not create a tunnel manager")


def test_local_kernel_by_id_answers(kernel_factory):
    km = kernel_factory(kernel_id="8080")
    steps = []
    connection = NoSSH().connect(
        ConnectionSettings(connection_file="8080").request(),
        threading.Event(),
        steps.append,
    )
    assert connection.connection_file == km.connection_file
    assert connection.tunnel is None
    assert [p.step for p in steps] == [Step.READ_FILE, Step.PROBE_LOCAL]


def test_dead_local_kernel_is_reported_in_plain_words(runtime_dir, dead_kernel_file):
    path = dead_kernel_file(runtime_dir, "gone")
    with pytest.raises(KernelNotAnswering, match="does not answer") as info:
        NoSSH().connect(ConnectRequest(LocalFile("gone")))
    assert path in str(info.value)
    assert "pick a running kernel" in str(info.value)


def test_cancelled_attempt_raises_cancelled(kernel_factory):
    kernel_factory(kernel_id="8181")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ConnectionCancelled):
        NoSSH().connect(ConnectRequest(LocalFile("8181")), cancel)


def remote_settings(sshd, **kwargs) -> ConnectionSettings:
    values = dict(
        remote=True,
        hostname=sshd.host,
        port=str(sshd.port),
        username=sshd.user,
        key_file=str(sshd.user_key),
    )
    values.update(kwargs)
    return ConnectionSettings(**values)


@pytest.fixture
def trusting_service(sshd, ssh_home):
    """A service for the sshd fixture whose host key is already in ~/.ssh/known_hosts."""
    from spyder_kernel_connect.ssh import HostKeyDecision

    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    service = ConnectService(host_key_decider=lambda info: HostKeyDecision.REJECT)
    yield service
    service.close()


@pytest.mark.sshd
def test_remote_kernel_through_sshd_gives_a_local_tunnel_file(sshd, ssh_home, kernel_factory):
    from spyder_kernel_connect.ssh import HostKeyDecision

    asked = []

    def decide(info):
        asked.append(info)
        return HostKeyDecision.ACCEPT_ONCE

    km = kernel_factory()
    service = ConnectService(host_key_decider=decide)
    settings = remote_settings(sshd, connection_file=km.connection_file)
    try:
        connection = service.connect(settings.request())
        assert len(asked) == 1 and asked[0].fingerprint.startswith("SHA256:")
        assert connection.label == f"{sshd.user}@{sshd.host}"
        assert connection.connection_file == connection.tunnel.local_connection_file
        assert connection.connection_file != km.connection_file
        assert os.stat(connection.connection_file).st_mode & 0o777 == 0o600
    finally:
        service.close()
    assert not os.path.exists(connection.connection_file)


@pytest.mark.sshd
def test_remote_listing_uses_the_runtime_dir_override_and_one_login(
    sshd, trusting_service, kernel_factory, remote_dir
):
    km = kernel_factory(kernel_id="6110", directory=remote_dir)
    (remote_dir / "kernel-bad.json").write_text("[1, 2")
    settings = remote_settings(sshd, remote_runtime_dir=str(remote_dir))
    logins = sshd.auth_count()
    listing = trusting_service.list_host(settings.ssh_target(), settings.host())
    assert listing.runtime_dir == str(remote_dir)
    by_id = {entry.kernel_id: entry for entry in listing.entries}
    assert by_id["6110"].alive is True and by_id["6110"].path == km.connection_file
    assert "not valid JSON" in by_id["bad"].error

    # Picking the listed kernel connects through the same SSH session: no second login.
    settings.connection_file = "6110"
    connection = trusting_service.connect(settings.request())
    assert connection.started is None
    assert connection.where == km.connection_file
    assert connection.tunnel.remote_info.key == km.session.key.decode()
    assert sshd.auth_count() == logins + 1


@pytest.mark.sshd
def test_missing_spyder_kernels_on_the_host_gives_the_install_hint(
    sshd, trusting_service, python_without_spyder_kernels
):
    from spyder_kernel_connect.ssh.remote import RemoteSpyderKernelsMissing

    python = python_without_spyder_kernels
    settings = remote_settings(sshd, remote_python=python)
    with pytest.raises(RemoteSpyderKernelsMissing) as info:
        trusting_service.connect(settings.request(start=True))
    assert f"{python} -m pip install spyder-kernels" in str(info.value)


@pytest.mark.sshd
def test_bare_id_takes_the_local_copy_first_then_the_host(
    sshd, trusting_service, kernel_factory, runtime_dir, remote_dir
):
    """The guide's remote steps: a copy of the file here wins; else the host is asked;
    else the error says both places it looked."""
    import shutil

    km = kernel_factory(kernel_id="6220", directory=remote_dir)
    settings = remote_settings(sshd, remote_runtime_dir=str(remote_dir), connection_file="6220")
    on_host = trusting_service.connect(settings.request())
    assert on_host.where == km.connection_file  # looked up on the host
    on_host.tunnel.close()

    copy = shutil.copy(km.connection_file, runtime_dir / "kernel-6220.json")
    steps = []
    local = trusting_service.connect(settings.request(), progress=steps.append)
    assert local.where == str(copy)  # the local copy, no lookup on the host
    assert Step.FIND_ON_HOST not in [p.step for p in steps]
    assert local.tunnel.remote_info.key == km.session.key.decode()
    local.tunnel.close()

    settings.connection_file = "7777"
    with pytest.raises(KernelNotFoundAnywhere) as info:
        trusting_service.connect(settings.request())
    message = str(info.value)
    assert str(runtime_dir) in message and str(remote_dir) in message


@pytest.mark.sshd
def test_typed_text_to_tunnel_resolves_once_and_reads_each_file_once(
    sshd, trusting_service, kernel_factory, runtime_dir, remote_dir, monkeypatch
):
    """The dialog's live preview, then Connect: one lookup, one read of each file, one
    reading of ~/.ssh/config, whether the file is a local copy or on the host."""
    import shutil

    from spyder_kernel_connect.connection import info as info_module
    from spyder_kernel_connect.connection import resolve as resolve_module
    from spyder_kernel_connect.service import resolve_local
    from spyder_kernel_connect.ssh import remote as remote_module
    from spyder_kernel_connect.ssh import target as target_module

    calls: dict[str, list] = {"listdir": [], "read": [], "sftp_read": [], "ssh_config": []}

    def counting(name, function):
        def wrapper(*args, **kwargs):
            calls[name].append(args)
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        resolve_module, "_file_names", counting("listdir", resolve_module._file_names)
    )
    monkeypatch.setattr(info_module, "_read_bytes", counting("read", info_module._read_bytes))
    monkeypatch.setattr(
        remote_module,
        "read_remote_connection_file",
        counting("sftp_read", remote_module.read_remote_connection_file),
    )
    monkeypatch.setattr(
        target_module, "_lookup_config", counting("ssh_config", target_module._lookup_config)
    )
    km = kernel_factory(kernel_id="6330", directory=remote_dir)
    shutil.copy(km.connection_file, runtime_dir / "kernel-6330.json")
    settings = remote_settings(sshd, connection_file="6330")

    preview = resolve_local(settings.connection_file)  # what the dialog shows while typing
    connection = trusting_service.connect(settings.request(resolution=preview))
    assert connection.where == str(runtime_dir / "kernel-6330.json")
    assert len(calls["listdir"]) == 2  # cwd and runtime dir, each listed once: one lookup
    assert calls["read"] == [(connection.where,)]  # the copy, read once
    assert calls["sftp_read"] == []
    assert len(calls["ssh_config"]) == 1
    connection.tunnel.close()

    for found in calls.values():
        found.clear()
    (runtime_dir / "kernel-6330.json").unlink()  # now only on the host
    settings.remote_runtime_dir = str(remote_dir)
    preview = resolve_local(settings.connection_file)
    connection = trusting_service.connect(settings.request(resolution=preview))
    assert connection.where == km.connection_file
    assert len(calls["listdir"]) == 2
    assert calls["read"] == []
    assert [args[1] for args in calls["sftp_read"]] == [km.connection_file]
    assert len(calls["ssh_config"]) == 1
