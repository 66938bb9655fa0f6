"""Real keyring backends for tests: a file keyring in tmp, or the "no backend" one.

The file keyring is handed to ``SecretStore`` explicitly (``SecretStore.default_backend``,
for one test); keyring's own default is never set to it, and the plugin counts such a
plaintext backend as no keyring anyway.
"""

from __future__ import annotations

import contextlib

import keyring
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring

from spyder_kernel_connect.settings import SecretStore


@contextlib.contextmanager
def file_keyring(path):
    """keyrings.alt's file backend writing to ``path`` (never the user's keyring)."""
    backend = PlaintextKeyring()
    backend.file_path = str(path)
    previous = SecretStore.default_backend
    SecretStore.default_backend = backend
    try:
        yield backend
    finally:
        SecretStore.default_backend = previous


@contextlib.contextmanager
def no_keyring():
    """What a machine without any keyring backend has (spyder#22623)."""
    previous, previous_default = keyring.get_keyring(), SecretStore.default_backend
    keyring.set_keyring(fail.Keyring())
    SecretStore.default_backend = None
    try:
        yield
    finally:
        keyring.set_keyring(previous)
        SecretStore.default_backend = previous_default
