"""Real keyring backends for tests: a file keyring in tmp, or the "no backend" one."""

from __future__ import annotations

import contextlib

import keyring
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring


@contextlib.contextmanager
def file_keyring(path):
    """keyrings.alt's file backend writing to ``path`` (never the user's keyring)."""
    backend = PlaintextKeyring()
    backend.file_path = str(path)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@contextlib.contextmanager
def no_keyring():
    """What a machine without any keyring backend has (spyder#22623)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)
