"""Named connection presets: public fields in the caller's config, secrets in the keyring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from spyder_kernel_connect.settings.errors import InvalidPresetName
from spyder_kernel_connect.settings.model import (
    AUTH_KEY,
    AUTH_PASSWORD,
    SECRET_FIELDS,
    ConnectionSettings,
)
from spyder_kernel_connect.settings.secrets import SecretStore


@dataclass(frozen=True)
class SaveOutcome:
    """``unsaved``: the secret fields that could not be stored; ``problem``: why not."""

    secrets_saved: bool
    unsaved: tuple[str, ...] = ()
    problem: str = ""


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
        return SaveOutcome(False, tuple(unsaved), self.secrets.problem)

    def update_fields(self, name: str, **fields: Any) -> None:
        """Change public fields of a saved connection, e.g. its project folders (secrets
        are left as they are in the keyring)."""
        data = self._data()
        stored = data["presets"].get(name)
        if stored is None:
            raise InvalidPresetName(f"There is no saved connection named {name!r}.")
        settings = ConnectionSettings.from_dict(stored)
        for field, value in fields.items():
            setattr(settings, field, value)
        data["presets"][name] = settings.public_dict()
        self._write(data)

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
