"""What the connect dialog holds, Qt-free: form values, their validation, named presets.

Secrets (SSH password, key passphrase) never go into a settings dict: ``PresetStore``
keeps them in the OS keyring through ``SecretStore`` and, when no keyring backend is
available, does not save them at all and says so (spyder#22623).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from spyder_kernel_connect.connection import (
    ConnectionFileError,
    KernelEntry,
    resolve_connection_file,
)
from spyder_kernel_connect.errors import KernelConnectError

AUTH_PASSWORD = "password"
AUTH_KEY = "key"
SECRET_FIELDS = ("password", "passphrase")
KEYRING_SERVICE = "spyder_kernel_connect"
DEFAULT_REMOTE_PYTHON = "python3"


@dataclass
class ConnectionSettings:
    """Everything the dialog's fields hold; ``password`` and ``passphrase`` are secrets."""

    connection_file: str = ""
    remote: bool = False
    hostname: str = ""
    username: str = ""
    port: str = ""  # empty: the host's Port in ~/.ssh/config, else 22
    jump: str = ""  # jump hosts "a,b" like ssh -J; empty: ProxyJump of ~/.ssh/config
    auth: str = AUTH_KEY
    key_file: str = ""
    password: str = ""
    passphrase: str = ""
    # Kernels on the SSH host itself: the interpreter that starts them, and where their
    # connection files are ("" = ask the host's Jupyter).
    remote_python: str = DEFAULT_REMOTE_PYTHON
    remote_runtime_dir: str = ""
    # Kernels on a compute node (SLURM job): the job's resources ("" = the cluster's
    # default), extra sbatch options (shell words) and the job script template.
    slurm_partition: str = ""
    slurm_time: str = ""
    slurm_cpus: str = ""
    slurm_memory: str = ""
    slurm_gres: str = ""
    slurm_account: str = ""
    slurm_extra: str = ""
    slurm_template: str = ""

    @property
    def effective_remote_python(self) -> str:
        return self.remote_python.strip() or DEFAULT_REMOTE_PYTHON

    def public_dict(self) -> dict[str, Any]:
        """The fields that may be written to a settings file (no secrets)."""
        data = asdict(self)
        for name in SECRET_FIELDS:
            data.pop(name)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConnectionSettings:
        """Build from a stored dict, ignoring unknown keys and wrong types."""
        known = {f.name: f for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in (data or {}).items():
            if key not in known or key in SECRET_FIELDS:
                continue
            if key == "remote":
                values[key] = bool(value)
            elif key == "port":
                values[key] = str(value)
            elif isinstance(value, str):
                values[key] = value
        settings = cls(**values)
        if settings.auth not in (AUTH_PASSWORD, AUTH_KEY):
            settings.auth = AUTH_KEY
        return settings


class InvalidSettings(KernelConnectError):
    """A form value the user must fix; ``field`` names the offending field."""

    def __init__(self, field: str, message: str, hint: str = "") -> None:
        self.field = field
        super().__init__(message, hint)


class InvalidPresetName(KernelConnectError):
    pass


def parse_port(text: str) -> int | None:
    """The port typed, or None when empty (then ~/.ssh/config decides, else 22)."""
    text = str(text).strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidSettings(
            "port", f"The SSH port must be a whole number from 1 to 65535, not {text!r}."
        )
    return int(text)


def validate(settings: ConnectionSettings, start: bool = False) -> list[InvalidSettings]:
    """Every problem in the form, in the order the fields appear (empty list: all good).

    ``start``: a new kernel is to be started on the SSH host, so no connection file is needed.
    """
    problems: list[InvalidSettings] = []
    if not start and not settings.connection_file.strip():
        problems.append(
            InvalidSettings(
                "connection_file",
                "Enter a connection file or a kernel ID.",
                "For example 1234 for kernel-1234.json in the Jupyter runtime directory.",
            )
        )
    if not settings.remote:
        return problems
    host = settings.hostname.strip()
    if not host:
        problems.append(InvalidSettings("hostname", "Enter the hostname of the SSH server."))
    elif any(c.isspace() for c in host) or "@" in host or "/" in host:
        problems.append(
            InvalidSettings(
                "hostname",
                f"{host!r} is not a hostname.",
                "Put only the host name or address here; the user name goes in Username "
                "and the port in Port.",
            )
        )
    if any(c.isspace() for c in settings.username.strip()):
        problems.append(InvalidSettings("username", "The user name cannot contain spaces."))
    try:
        parse_port(settings.port)
    except InvalidSettings as err:
        problems.append(err)
    if settings.auth == AUTH_PASSWORD:
        if not settings.password:
            problems.append(
                InvalidSettings(
                    "password",
                    "Enter the SSH password, or choose \u201cKey file\u201d to log in with a key.",
                )
            )
    else:
        key = os.path.expanduser(settings.key_file.strip())
        if key and not os.path.isfile(key):
            problems.append(
                InvalidSettings(
                    "key_file",
                    f"The key file {key} does not exist.",
                    "Leave it empty to use your SSH agent and ~/.ssh/config.",
                )
            )
        elif key.endswith(".pub"):
            problems.append(
                InvalidSettings(
                    "key_file",
                    f"{key} is a public key.",
                    "Pick the private key, the file without .pub.",
                )
            )
    runtime_dir = settings.remote_runtime_dir.strip()
    if runtime_dir and not runtime_dir.startswith(("/", "~")):
        problems.append(
            InvalidSettings(
                "remote_runtime_dir",
                f"The remote runtime directory must be an absolute path, not {runtime_dir!r}.",
                "For example /home/me/.local/share/jupyter/runtime, or leave it empty to ask "
                "the host.",
            )
        )
    return problems


def remote_kernel_options(settings: ConnectionSettings) -> dict[str, Any]:
    """Keyword arguments for the ssh.remote functions: interpreter and runtime dir override."""
    return {
        "remote_python": settings.effective_remote_python,
        "runtime_dir": settings.remote_runtime_dir.strip() or None,
    }


def ssh_target_kwargs(settings: ConnectionSettings) -> dict[str, Any]:
    """Keyword arguments for ``ssh.SSHTarget``; raises the first InvalidSettings."""
    problems = validate(replace(settings, remote=True), start=True)  # no file needed here
    if problems:
        raise problems[0]
    use_password = settings.auth == AUTH_PASSWORD
    key = os.path.expanduser(settings.key_file.strip())
    return {
        "host": settings.hostname.strip(),
        "user": settings.username.strip() or None,
        "port": parse_port(settings.port),
        "jump": settings.jump.strip() or None,
        "identity_file": None if use_password or not key else key,
        "password": settings.password if use_password else None,
        "passphrase": (settings.passphrase or None) if not use_password else None,
    }


def to_ssh_target(settings: ConnectionSettings):
    """The ``SSHTarget`` the tunnel engine needs for these settings."""
    from spyder_kernel_connect.ssh import SSHTarget  # the engine is imported only when used

    return SSHTarget(**ssh_target_kwargs(settings))


@dataclass(frozen=True)
class SpecStatus:
    """What the connection-file field designates: ``path`` if found, else why not."""

    path: str | None
    message: str
    ok: bool


def local_copy(spec: str) -> str | None:
    """The local file ``spec`` names as a path, if it exists (a copy taken from the host).

    With the SSH box ticked, only such a path is used locally: kernel IDs and names are
    looked up on the remote host, even if a local kernel happens to match.
    """
    path = os.path.expanduser(spec.strip().strip("\"'"))
    return os.path.abspath(path) if path and os.path.isfile(path) else None


def describe_spec(spec: str, remote: bool = False) -> SpecStatus:
    """The live "resolves to…" / "why not" text under the connection-file field."""
    if not spec.strip():
        return SpecStatus(None, "Type a path, or a kernel ID such as 1234.", False)
    if remote:
        path = local_copy(spec)
        if path:
            return SpecStatus(path, f"Resolves to {path}", True)
        return SpecStatus(
            None, "Not on this computer: it will be looked up on the remote host.", True
        )
    try:
        path = resolve_connection_file(spec)
    except ConnectionFileError as err:
        return SpecStatus(None, str(err), False)
    return SpecStatus(path, f"Resolves to {path}", True)


@dataclass(frozen=True)
class KernelRow:
    """How one running-kernels list entry looks."""

    text: str
    tooltip: str
    selectable: bool
    alive: bool


def describe_age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return "1 day ago" if days == 1 else f"{days} days ago"


def describe_kernel(
    entry: KernelEntry, now: float | None = None, reason_in_text: bool = False
) -> KernelRow:
    """Text for a kernel in the list: ID, kernel name, age, and dead/unreadable marks.

    ``reason_in_text``: say why a file is unreadable in the row itself, not only in its
    tooltip (the remote list, where the file cannot simply be opened to look).
    """
    age = describe_age((now if now is not None else time.time()) - entry.mtime)
    parts = [entry.kernel_id]
    if entry.kernel_name:
        parts.append(entry.kernel_name)
    parts.append(f"written {age}")
    text = "  \u00b7  ".join(parts)
    if entry.error:
        reason = f": {_short_reason(entry)}" if reason_in_text else ""
        return KernelRow(f"{text}  \u2014  unreadable{reason}", entry.error, False, False)
    if entry.alive is False:
        return KernelRow(
            f"{text}  \u2014  not responding",
            f"{entry.path}\nThe kernel does not answer its heartbeat; it has probably exited.",
            True,
            False,
        )
    return KernelRow(text, entry.path, True, True)


def _short_reason(entry: KernelEntry) -> str:
    """The error without the file's path, which the row already names by its kernel ID."""
    reason = (entry.error or "").split("\n")[0]
    if f"{entry.path} is " in reason:
        return reason.split(f"{entry.path} is ", 1)[1].rstrip(".")
    if f"{entry.path}: " in reason:
        return reason.split(f"{entry.path}: ", 1)[1].rstrip(".")
    return reason.rstrip(".")


class SecretStore:
    """Passwords in the OS keyring; every keyring failure becomes ``available = False``."""

    def __init__(self, service: str = KEYRING_SERVICE) -> None:
        self.service = service
        self.problem = ""

    @property
    def available(self) -> bool:
        try:
            import keyring
            from keyring.backends import fail

            backend = keyring.get_keyring()
        except Exception as err:  # a broken keyring install must not break the dialog
            self.problem = f"The keyring module could not be loaded: {err}"
            return False
        if isinstance(backend, fail.Keyring):
            self.problem = "No system keyring (secret service) is available."
            return False
        return True

    def get(self, key: str) -> str:
        if not self.available:
            return ""
        import keyring

        try:
            return keyring.get_password(self.service, key) or ""
        except Exception as err:
            self.problem = f"The keyring could not be read: {err}"
            return ""

    def set(self, key: str, value: str) -> bool:
        """Store ``value`` (an empty value deletes); False if it could not be stored."""
        if not value:
            self.delete(key)
            return True
        if not self.available:
            return False
        import keyring

        try:
            keyring.set_password(self.service, key, value)
        except Exception as err:
            self.problem = f"The keyring refused to store the secret: {err}"
            return False
        return True

    def delete(self, key: str) -> None:
        if not self.available:
            return
        import keyring

        with contextlib.suppress(Exception):  # nothing stored under that key
            keyring.delete_password(self.service, key)


@dataclass(frozen=True)
class SaveOutcome:
    secrets_saved: bool
    notice: str = ""


NO_KEYRING_NOTICE = (
    "Settings saved, but not the {what}: {problem} You will be asked for it again. "
    "Install a keyring backend (GNOME Keyring, KWallet, or the keyrings.alt package) to "
    "save it."
)


class PresetStore:
    """Named connection presets: public fields through ``read``/``write``, secrets in keyring.

    ``read()`` returns and ``write(data)`` stores one dict ``{"presets": {name: {...}},
    "last": name}``; the plugin wires these to Spyder's config, tests to a dict.
    """

    def __init__(
        self,
        read: Callable[[], dict[str, Any]],
        write: Callable[[dict[str, Any]], None],
        secrets: SecretStore | None = None,
    ) -> None:
        self._read = read
        self._write = write
        self.secrets = secrets or SecretStore()

    def _data(self) -> dict[str, Any]:
        data = dict(self._read() or {})
        data["presets"] = dict(data.get("presets") or {})
        return data

    def names(self) -> list[str]:
        return sorted(self._data()["presets"], key=str.casefold)

    @property
    def last(self) -> str:
        name = self._data().get("last", "")
        return name if name in self._data()["presets"] else ""

    def load(self, name: str) -> ConnectionSettings:
        stored = self._data()["presets"].get(name)
        if stored is None:
            raise InvalidPresetName(f"There is no saved connection named {name!r}.")
        settings = ConnectionSettings.from_dict(stored)
        for secret in SECRET_FIELDS:
            setattr(settings, secret, self.secrets.get(self._secret_key(name, secret)))
        return settings

    def save(self, name: str, settings: ConnectionSettings) -> SaveOutcome:
        name = self._check_name(name)
        data = self._data()
        data["presets"][name] = settings.public_dict()
        data["last"] = name
        self._write(data)
        # Only the secret that this auth method uses is kept; the other is dropped.
        wanted = {"password": settings.password if settings.auth == AUTH_PASSWORD else ""}
        wanted["passphrase"] = settings.passphrase if settings.auth == AUTH_KEY else ""
        if not settings.remote:
            wanted = dict.fromkeys(wanted, "")
        unsaved = [
            secret
            for secret, value in wanted.items()
            if not self.secrets.set(self._secret_key(name, secret), value)
        ]
        if not unsaved:
            return SaveOutcome(True)
        what = " and ".join("password" if s == "password" else "key passphrase" for s in unsaved)
        return SaveOutcome(False, NO_KEYRING_NOTICE.format(what=what, problem=self.secrets.problem))

    def rename(self, old: str, new: str) -> None:
        new = self._check_name(new)
        data = self._data()
        if old not in data["presets"]:
            raise InvalidPresetName(f"There is no saved connection named {old!r}.")
        if new == old:
            return
        if new in data["presets"]:
            raise InvalidPresetName(
                f"A saved connection named {new!r} already exists.", "Pick another name."
            )
        data["presets"][new] = data["presets"].pop(old)
        if data.get("last") == old:
            data["last"] = new
        self._write(data)
        for secret in SECRET_FIELDS:
            value = self.secrets.get(self._secret_key(old, secret))
            if value:
                self.secrets.set(self._secret_key(new, secret), value)
            self.secrets.delete(self._secret_key(old, secret))

    def delete(self, name: str) -> None:
        data = self._data()
        data["presets"].pop(name, None)
        if data.get("last") == name:
            data["last"] = ""
        self._write(data)
        for secret in SECRET_FIELDS:
            self.secrets.delete(self._secret_key(name, secret))

    @staticmethod
    def _secret_key(name: str, secret: str) -> str:
        return f"preset/{name}/{secret}"

    @staticmethod
    def _check_name(name: str) -> str:
        name = (name or "").strip()
        if not name:
            raise InvalidPresetName("Give the saved connection a name.")
        if len(name) > 100:
            raise InvalidPresetName("The name is too long; use at most 100 characters.")
        return name


def clean_module_names(names: list[str]) -> list[str]:
    """Excluded-module entries as the UMR wants them: dotted names, no blanks or repeats."""
    cleaned: list[str] = []
    for raw in names:
        for name in str(raw).replace(",", " ").split():
            name = name.strip(".")
            valid = name and all(part.isidentifier() for part in name.split("."))
            if valid and name not in cleaned:
                cleaned.append(name)
    return cleaned
