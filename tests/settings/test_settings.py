"""Connection settings, Qt-free: validation, the SSH target and request, presets, secrets."""

from __future__ import annotations

import dataclasses
import json

import pytest

from spyder_kernel_connect.settings import (
    AUTH_KEY,
    AUTH_PASSWORD,
    ConnectionSettings,
    InvalidPresetName,
    PresetStore,
    SecretStore,
    validate,
)
from tests.conftest import DictBacking
from tests.keyrings import no_keyring


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
    by_key = both.ssh_target()
    assert by_key.identity_file == str(key)
    assert by_key.passphrase == "pp"
    assert by_key.password is None
    assert by_key.port == 2222
    by_password = ConnectionSettings(**{**vars(both), "auth": AUTH_PASSWORD}).ssh_target()
    assert by_password.password == "pw"
    assert by_password.identity_file is None
    assert by_password.passphrase is None


def test_empty_key_file_user_and_port_mean_agent_and_ssh_config():
    target = remote(username="", key_file="", port="").ssh_target()
    assert target.user is None
    assert target.identity_file is None
    assert target.port is None


def test_empty_port_takes_the_alias_port_from_ssh_config(tmp_path):
    """An alias with `Port 2222` in ~/.ssh/config must not be dialled on 22."""
    config = tmp_path / "ssh_config"
    config.write_text("Host lab\n  HostName lab.example.org\n  Port 2222\n  User ada\n")
    target = remote(hostname="lab", username="", key_file="", port="").ssh_target()
    resolved = dataclasses.replace(target, ssh_config=str(config)).resolve()
    assert (resolved.hostname, resolved.port, resolved.user) == ("lab.example.org", 2222, "ada")
    typed = remote(hostname="lab", port="2200").ssh_target()
    assert dataclasses.replace(typed, ssh_config=str(config)).resolve().port == 2200


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
        assert outcome.unsaved == ("password",)
        assert "No system keyring" in outcome.problem
        assert store.names() == ["lab"]
        assert "pw" not in json.dumps(backing.data)
        assert store.load("lab").password == ""
        store.rename("lab", "lab2")
        store.delete("lab2")
        assert store.names() == []
        # Nothing secret to store: no complaint.
        assert store.save("local", ConnectionSettings(connection_file="1")).secrets_saved


def test_ssh_target_is_built_by_the_engine():
    target = remote(port="2201", key_file="").ssh_target()
    assert (target.host, target.user, target.port) == ("server", "me", 2201)
    assert target.identity_file is None


def test_remote_kernel_options_per_preset(keyring_file):
    assert ConnectionSettings().remote_python == "python3"
    host = remote(remote_python="  ").host()
    assert (host.remote_python, host.runtime_dir) == ("python3", None)
    custom = remote(remote_python="/opt/py/bin/python", remote_runtime_dir=" ~/rt ")
    host = custom.host()
    assert (host.remote_python, host.runtime_dir) == ("/opt/py/bin/python", "~/rt")
    data: dict = {}
    store = PresetStore(lambda: data, lambda new: data.update(new), SecretStore())
    store.save("lab", custom)
    loaded = store.load("lab")
    assert (loaded.remote_python, loaded.remote_runtime_dir) == ("/opt/py/bin/python", " ~/rt ")
    problems = validate(remote(remote_runtime_dir="relative/dir"))
    assert fields_of(problems) == ["remote_runtime_dir"]
    # Starting a kernel or listing the host needs no connection file.
    assert validate(remote(connection_file=""), start=True) == []


def test_a_plaintext_keyring_counts_as_no_keyring(tmp_path):
    """keyrings.alt's file backends keep secrets base64-encoded in a file: never used."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from spyder_kernel_connect.settings import insecure_reason

    plaintext = PlaintextKeyring()
    plaintext.file_path = str(tmp_path / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(plaintext)  # what keyring picks by itself where keyrings.alt is
    try:
        _backing, store = make_store()
        assert not store.secrets.available
        assert "keyrings.alt.file.PlaintextKeyring" in store.secrets.problem
        outcome = store.save("lab", remote(auth=AUTH_PASSWORD, password="pw"))
        assert not outcome.secrets_saved and outcome.unsaved == ("password",)
        assert not (tmp_path / "keyring_pass.cfg").exists()
        assert store.load("lab").password == ""
    finally:
        keyring.set_keyring(previous)
    assert insecure_reason(plaintext)
    assert not insecure_reason(keyring.backends.SecretService.Keyring())


def test_the_form_stands_for_one_service_request(tmp_path):
    from spyder_kernel_connect.service import LocalCopyOrHost, LocalFile, StartOnHost

    local = ConnectionSettings(connection_file="1234").request()
    assert isinstance(local.source, LocalFile) and local.target is None
    remote_request = remote(remote_runtime_dir="/rt").request()
    assert isinstance(remote_request.source, LocalCopyOrHost)
    assert remote_request.source.host.spec == "1234"
    assert remote_request.source.host.runtime_dir == "/rt"
    assert (remote_request.target.host, remote_request.target.user) == ("server", "me")
    start = remote(remote_python="/opt/py").request(start=True)
    assert isinstance(start.source, StartOnHost) and start.source.remote_python == "/opt/py"
