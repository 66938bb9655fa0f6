"""Qt-free parts of the connect dialog: validation, spec status, kernel rows, presets."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.presets import (
    AUTH_KEY,
    AUTH_PASSWORD,
    ConnectionSettings,
    InvalidPresetName,
    PresetStore,
    SecretStore,
    clean_module_names,
    describe_kernel,
    describe_spec,
    ssh_target_kwargs,
    to_ssh_target,
    validate,
)
from tests.keyrings import file_keyring, no_keyring


@pytest.fixture
def keyring_file(tmp_path):
    with file_keyring(tmp_path / "keyring.cfg") as backend:
        yield backend


def remote(**kwargs) -> ConnectionSettings:
    values = dict(connection_file="1234", remote=True, hostname="server", username="me")
    values.update(kwargs)
    return ConnectionSettings(**values)


def fields_of(problems):
    return [p.field for p in problems]


def test_local_needs_only_a_connection_file():
    assert fields_of(validate(ConnectionSettings())) == ["connection_file"]
    assert validate(ConnectionSettings(connection_file="1234")) == []


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"hostname": ""}, "hostname", "Enter the hostname"),
        ({"hostname": "me@server"}, "hostname", "user name goes in Username"),
        ({"hostname": "ser ver"}, "hostname", "is not a hostname"),
        ({"port": "ssh"}, "port", "from 1 to 65535, not 'ssh'"),
        ({"port": "70000"}, "port", "from 1 to 65535"),
        ({"username": "a b"}, "username", "cannot contain spaces"),
        ({"auth": AUTH_PASSWORD, "password": ""}, "password", "Enter the SSH password"),
        ({"key_file": "/nonexistent/id_ed25519"}, "key_file", "does not exist"),
    ],
)
def test_remote_validation_messages(changes, field, words):
    problems = validate(remote(**changes))
    assert fields_of(problems) == [field]
    assert words in str(problems[0])


def test_public_key_is_refused(tmp_path):
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text("ssh-ed25519 AAAA me@host\n")
    problems = validate(remote(key_file=str(pub)))
    assert fields_of(problems) == ["key_file"]
    assert "public key" in str(problems[0])


def test_password_and_key_are_exclusive_in_the_target(tmp_path):
    key = tmp_path / "id_ed25519"
    key.write_text("not checked here")
    both = remote(password="pw", passphrase="pp", key_file=str(key), port=" 2222 ")
    by_key = ssh_target_kwargs(both)
    assert by_key["identity_file"] == str(key)
    assert by_key["passphrase"] == "pp"
    assert by_key["password"] is None
    assert by_key["port"] == 2222
    by_password = ssh_target_kwargs(ConnectionSettings(**{**vars(both), "auth": AUTH_PASSWORD}))
    assert by_password["password"] == "pw"
    assert by_password["identity_file"] is None
    assert by_password["passphrase"] is None


def test_empty_key_file_user_and_port_mean_agent_and_ssh_config():
    kwargs = ssh_target_kwargs(remote(username="", key_file="", port=""))
    assert kwargs["user"] is None
    assert kwargs["identity_file"] is None
    assert kwargs["port"] is None


def test_empty_port_takes_the_alias_port_from_ssh_config(tmp_path):
    """An alias with `Port 2222` in ~/.ssh/config must not be dialled on 22."""
    config = tmp_path / "ssh_config"
    config.write_text("Host lab\n  HostName lab.example.org\n  Port 2222\n  User ada\n")
    target = to_ssh_target(remote(hostname="lab", username="", key_file="", port=""))
    resolved = dataclasses.replace(target, ssh_config=str(config)).resolve()
    assert (resolved.hostname, resolved.port, resolved.user) == ("lab.example.org", 2222, "ada")
    typed = to_ssh_target(remote(hostname="lab", port="2200"))
    assert dataclasses.replace(typed, ssh_config=str(config)).resolve().port == 2200


def test_bare_id_resolves_in_the_runtime_dir(runtime_dir):
    path = runtime_dir / "kernel-4321.json"
    path.write_text("{}")
    status = describe_spec("4321")
    assert status.ok
    assert status.path == str(path)
    missing = describe_spec("9999")
    assert not missing.ok
    assert "No connection file matches '9999'" in missing.message
    assert describe_spec("9999", remote=True).ok  # the remote host will be asked


def test_describe_spec_empty_asks_for_input():
    status = describe_spec("  ")
    assert not status.ok
    assert "kernel ID" in status.message


def test_kernel_rows_mark_dead_and_unreadable_kernels():
    now = time.time()
    alive = describe_kernel(KernelEntry("1", "/r/kernel-1.json", now - 120, "python3", True), now)
    assert alive.text == "1  \u00b7  python3  \u00b7  written 2 min ago"
    assert alive.selectable and alive.alive
    dead = describe_kernel(KernelEntry("2", "/r/kernel-2.json", now, "", False), now)
    assert dead.text.endswith("not responding")
    assert dead.selectable and not dead.alive
    broken = KernelEntry("3", "/r/kernel-3.json", now, error="not JSON")
    row = describe_kernel(broken, now)
    assert not row.selectable
    assert row.tooltip == "not JSON"


def test_settings_round_trip_without_secrets():
    settings = remote(password="pw", passphrase="pp", port="2200", auth=AUTH_PASSWORD)
    public = settings.public_dict()
    assert "password" not in public and "passphrase" not in public
    assert "pw" not in json.dumps(public)
    back = ConnectionSettings.from_dict({**public, "password": "sneaked", "bogus": 1})
    assert back.password == ""
    assert back.port == "2200"
    assert back.auth == AUTH_PASSWORD
    assert ConnectionSettings.from_dict({"auth": "telepathy"}).auth == AUTH_KEY


class DictBacking:
    def __init__(self):
        self.data = {}

    def read(self):
        return json.loads(json.dumps(self.data))  # a copy, as a config file would give

    def write(self, data):
        self.data = json.loads(json.dumps(data))


def make_store():
    backing = DictBacking()
    return backing, PresetStore(backing.read, backing.write, SecretStore())


def test_presets_save_load_rename_delete_with_keyring(keyring_file):
    backing, store = make_store()
    outcome = store.save("lab", remote(auth=AUTH_PASSWORD, password="s3cret"))
    assert outcome.secrets_saved
    assert store.names() == ["lab"]
    assert store.last == "lab"
    assert "s3cret" not in json.dumps(backing.data)
    assert store.load("lab").password == "s3cret"

    store.rename("lab", "Lab server")
    assert store.names() == ["Lab server"]
    assert store.load("Lab server").password == "s3cret"
    assert store.secrets.get("preset/lab/password") == ""
    assert store.last == "Lab server"

    store.save("other", remote(hostname="h2", passphrase="pp"))
    with pytest.raises(InvalidPresetName, match="already exists"):
        store.rename("other", "Lab server")
    assert store.names() == ["Lab server", "other"]

    store.delete("Lab server")
    assert store.names() == ["other"]
    assert store.secrets.get("preset/Lab server/password") == ""
    with pytest.raises(InvalidPresetName, match="no saved connection"):
        store.load("Lab server")


def test_switching_to_key_drops_the_stored_password(keyring_file):
    _backing, store = make_store()
    store.save("lab", remote(auth=AUTH_PASSWORD, password="pw"))
    store.save("lab", remote(auth=AUTH_KEY, passphrase="pp"))
    loaded = store.load("lab")
    assert loaded.password == ""
    assert loaded.passphrase == "pp"


def test_preset_names_are_checked():
    _backing, store = make_store()
    with pytest.raises(InvalidPresetName, match="Give the saved connection a name"):
        store.save("  ", remote())
    with pytest.raises(InvalidPresetName, match="too long"):
        store.save("x" * 101, remote())


def test_no_keyring_saves_no_secret_and_says_so():
    with no_keyring():
        backing, store = make_store()
        assert not store.secrets.available
        outcome = store.save("lab", remote(auth=AUTH_PASSWORD, password="pw"))
        assert not outcome.secrets_saved
        assert "not the password" in outcome.notice
        assert "No system keyring" in outcome.notice
        assert store.names() == ["lab"]
        assert "pw" not in json.dumps(backing.data)
        assert store.load("lab").password == ""
        store.rename("lab", "lab2")
        store.delete("lab2")
        assert store.names() == []
        # Nothing secret to store: no complaint.
        assert store.save("local", ConnectionSettings(connection_file="1")).secrets_saved


def test_clean_module_names():
    names = ["numpy", " pandas ", "", "numpy", "a.b, c", "1bad", "ok.", "x y"]
    assert clean_module_names(names) == ["numpy", "pandas", "a.b", "c", "ok", "x", "y"]


def test_ssh_target_is_built_by_the_engine():
    target = to_ssh_target(remote(port="2201", key_file=""))
    assert (target.host, target.user, target.port) == ("server", "me", 2201)
    assert target.identity_file is None


def test_remote_kernel_options_per_preset(keyring_file):
    from spyder_kernel_connect.presets import remote_kernel_options

    assert ConnectionSettings().remote_python == "python3"
    assert remote_kernel_options(remote(remote_python="  ")) == {
        "remote_python": "python3",
        "runtime_dir": None,
    }
    custom = remote(remote_python="/opt/py/bin/python", remote_runtime_dir=" ~/rt ")
    assert remote_kernel_options(custom) == {
        "remote_python": "/opt/py/bin/python",
        "runtime_dir": "~/rt",
    }
    data: dict = {}
    store = PresetStore(lambda: data, lambda new: data.update(new), SecretStore())
    store.save("lab", custom)
    loaded = store.load("lab")
    assert (loaded.remote_python, loaded.remote_runtime_dir) == ("/opt/py/bin/python", " ~/rt ")
    problems = validate(remote(remote_runtime_dir="relative/dir"))
    assert fields_of(problems) == ["remote_runtime_dir"]
    # Starting a kernel or listing the host needs no connection file.
    assert validate(remote(connection_file=""), start=True) == []


def test_remote_spec_is_looked_up_on_the_host_unless_it_is_a_local_file(runtime_dir, tmp_path):
    (runtime_dir / "kernel-4321.json").write_text("{}")
    status = describe_spec("4321", remote=True)
    assert status.ok and status.path is None  # a local kernel with that ID does not count
    copy = tmp_path / "kernel-copied.json"
    copy.write_text("{}")
    assert describe_spec(str(copy), remote=True).path == str(copy)


def test_remote_rows_say_why_a_file_is_unreadable():
    entry = KernelEntry(
        "x",
        "/r/kernel-x.json",
        time.time(),
        error="Remote connection file /r/kernel-x.json "
        "is empty (the kernel may still be starting).",
    )
    row = describe_kernel(entry, reason_in_text=True)
    assert row.text.endswith("unreadable: empty (the kernel may still be starting)")
    assert describe_kernel(entry).text.endswith("unreadable")
