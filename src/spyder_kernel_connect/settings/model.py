"""The connection settings (what the connect dialog holds), their validation, and the
connect service request they stand for. Qt-free."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

from spyder_kernel_connect.service import (
    ConnectRequest,
    LocalCopyOrHost,
    LocalFile,
    LocalResolution,
    OnHost,
    StartOnHost,
)
from spyder_kernel_connect.settings.errors import InvalidSettings
from spyder_kernel_connect.ssh import SSHTarget
from spyder_kernel_connect.ssh.remote import DEFAULT_REMOTE_PYTHON

AUTH_PASSWORD = "password"
AUTH_KEY = "key"
SECRET_FIELDS = ("password", "passphrase")


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
    # Edit here, run there: a local project folder kept in sync with a folder on the host
    # ("" = no sync). The remote folder is absolute or ~/-relative.
    sync_local_dir: str = ""
    sync_remote_dir: str = ""

    @property
    def secret_field(self) -> str:
        """The field holding this login's secret: "password" or "passphrase"."""
        return "password" if self.auth == AUTH_PASSWORD else "passphrase"

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

    def ssh_target(self) -> SSHTarget:
        """The SSH host and credentials (settings already validated; the port is parsed)."""
        use_password = self.auth == AUTH_PASSWORD
        key = os.path.expanduser(self.key_file.strip())
        return SSHTarget(
            host=self.hostname.strip(),
            user=self.username.strip() or None,
            port=parse_port(self.port),
            jump=self.jump.strip() or None,
            identity_file=None if use_password or not key else key,
            password=self.password if use_password else None,
            passphrase=(self.passphrase or None) if not use_password else None,
        )

    def host(self, spec: str = "") -> OnHost:
        """``spec`` looked up on the SSH host, with this interpreter and runtime dir."""
        runtime_dir = self.remote_runtime_dir.strip() or None
        return OnHost(spec, self.effective_remote_python, runtime_dir)

    def request(
        self, start: bool = False, resolution: LocalResolution | None = None
    ) -> ConnectRequest:
        """The connect service request: a local kernel, or (remote) a local copy of the
        kernel's file else the file on the host, or (``start``) a new kernel there.
        ``resolution``: the live preview's lookup of ``connection_file``, reused if current."""
        local = LocalFile(self.connection_file, resolution)
        if not self.remote:
            return ConnectRequest(local)
        if start:
            host = self.host()
            source = StartOnHost(host.remote_python, host.runtime_dir)
        else:
            source = LocalCopyOrHost(local, self.host(self.connection_file))
        return ConnectRequest(source, self.ssh_target())


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
    problems.extend(validate_project_folders(settings))
    return problems


def validate_project_folders(settings: ConnectionSettings) -> list[InvalidSettings]:
    """The project-sync folders: an existing local folder, a usable host path."""
    local = settings.sync_local_dir.strip()
    if not local:
        return []
    problems: list[InvalidSettings] = []
    if not os.path.isdir(os.path.expanduser(local)):
        problems.append(
            InvalidSettings(
                "sync_local_dir",
                f"The project folder {local} does not exist on this computer.",
                "Pick an existing folder, or untick the project sync.",
            )
        )
    remote = settings.sync_remote_dir.strip()
    if not remote.startswith(("/", "~/")) or remote in ("/", "~/"):
        problems.append(
            InvalidSettings(
                "sync_remote_dir",
                f"The folder on the host must be a folder under / or ~/, not {remote!r}.",
                "For example ~/project.",
            )
        )
    return problems
