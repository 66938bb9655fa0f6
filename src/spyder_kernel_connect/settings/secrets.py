"""Passwords and passphrases in the OS keyring, and only there.

A backend that keeps secrets in plain or merely encoded text (keyrings.alt's file backends,
anything outside keyring's own OS backends) counts as no keyring: nothing is saved and the
user is told why (spyder#22623).
"""

from __future__ import annotations

import contextlib
from typing import Any, ClassVar

KEYRING_SERVICE = "spyder_kernel_connect"

# keyring's own backends that are not a real store.
_NOT_A_STORE = ("keyring.backends.fail", "keyring.backends.null", "keyring.backends.chainer")


def insecure_reason(backend: Any) -> str:
    """Why ``backend`` must not hold secrets ("" if it is an OS keyring)."""
    chained = getattr(backend, "backends", None)
    if type(backend).__module__ == "keyring.backends.chainer" and chained:
        return insecure_reason(chained[0])  # the chainer writes to its first backend
    module = type(backend).__module__
    name = f"{module}.{type(backend).__name__}"
    if module.startswith(_NOT_A_STORE):
        return (
            "No system keyring (Secret Service, KWallet, macOS or Windows keychain) is available."
        )
    if not module.startswith("keyring.backends."):
        return f"The keyring backend {name} keeps secrets in a file, not in a system keyring."
    return ""


class SecretStore:
    """Passwords in the OS keyring; every keyring failure becomes ``available = False``.

    ``backend``: a keyring backend chosen explicitly (trusted as it is); by default the
    one keyring selects, if it is a real OS keyring. ``default_backend`` does the same for
    every store (tests set it per test, so their file keyring is never a default).
    """

    default_backend: ClassVar[Any] = None

    def __init__(self, service: str = KEYRING_SERVICE, backend: Any = None) -> None:
        self.service = service
        self.backend = backend
        self.problem = ""

    def _backend(self) -> Any:
        """The backend to use, or None (then ``problem`` says why)."""
        chosen = self.backend or type(self).default_backend
        if chosen is not None:
            return chosen
        try:
            import keyring

            backend = keyring.get_keyring()
        except Exception as err:  # a broken keyring install must not break the dialog
            self.problem = f"The keyring module could not be loaded: {err}"
            return None
        reason = insecure_reason(backend)
        if reason:
            self.problem = reason
            return None
        return backend

    @property
    def available(self) -> bool:
        return self._backend() is not None

    def get(self, key: str) -> str:
        backend = self._backend()
        if backend is None:
            return ""
        try:
            return backend.get_password(self.service, key) or ""
        except Exception as err:
            self.problem = f"The keyring could not be read: {err}"
            return ""

    def set(self, key: str, value: str) -> bool:
        """Store ``value`` (an empty value deletes); False if it could not be stored."""
        if not value:
            self.delete(key)
            return True
        backend = self._backend()
        if backend is None:
            return False
        try:
            backend.set_password(self.service, key, value)
        except Exception as err:
            self.problem = f"The keyring refused to store the secret: {err}"
            return False
        return True

    def delete(self, key: str) -> None:
        backend = self._backend()
        if backend is None:
            return
        with contextlib.suppress(Exception):  # nothing stored under that key
            backend.delete_password(self.service, key)
