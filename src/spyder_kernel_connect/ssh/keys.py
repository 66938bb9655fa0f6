"""Private keys: a key file given by the user (every problem named), default keys (skipped)."""

from __future__ import annotations

import os

import paramiko

from spyder_kernel_connect.files import describe_path
from spyder_kernel_connect.ssh import errors

DEFAULT_KEY_FILES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")


def load_key(path: str, passphrase: str | None, label: str) -> paramiko.PKey:
    """Load an explicitly given key; every problem is a KeyFileError naming the file."""
    path = os.path.expanduser(path)
    problem = describe_path(path, must_exist=False)
    if problem:  # a FIFO would block the read for ever, /dev/zero fill memory
        raise errors.KeyFileError(
            f"Key file {path} {problem}.", "Give the path of your private key.", host=label
        )
    if passphrase is not None and os.path.exists(path) and not _is_encrypted(path):
        passphrase = None  # like OpenSSH: a passphrase the key does not need is ignored
    try:
        return paramiko.PKey.from_path(path, _encode(passphrase))
    except FileNotFoundError:
        raise errors.KeyFileError(
            f"Key file {path} does not exist.", "Give the path of your private key.", host=label
        ) from None
    except PermissionError:
        raise errors.KeyFileError(
            f"Key file {path} is not readable (permission denied).", host=label
        ) from None
    except IsADirectoryError:
        raise errors.KeyFileError(f"Key file {path} is a directory.", host=label) from None
    except Exception as err:  # paramiko/cryptography raise TypeError/ValueError/SSHException
        if _is_encrypted(path):
            if passphrase is None:
                raise errors.KeyPassphraseRequired(
                    f"Key file {path} is encrypted and no passphrase was given.",
                    "Enter the key's passphrase.",
                    host=label,
                ) from None
            raise errors.KeyPassphraseWrong(
                f"The passphrase does not unlock key file {path}.",
                "Check the passphrase (it is the key's, not the account password).",
                host=label,
            ) from None
        raise errors.KeyFileError(
            f"Cannot load key file {path}: {err}.",
            "Give an OpenSSH or PEM private key (not the .pub file).",
            host=label,
        ) from None


def try_load_key(path: str, passphrase: str | None) -> paramiko.PKey | None:
    if describe_path(path):
        return None  # absent, or a FIFO/device/huge file that must not be read
    try:
        return paramiko.PKey.from_path(path, _encode(passphrase))
    except Exception:  # default keys that are absent, encrypted or odd are simply skipped
        return None


def _encode(passphrase: str | None) -> bytes | None:
    # paramiko's from_path hands the passphrase straight to cryptography, which wants bytes.
    return passphrase.encode("utf-8") if passphrase is not None else None


def _is_encrypted(path: str) -> bool:
    """cryptography says "needs a password" with a TypeError, paramiko with its own type."""
    try:
        paramiko.PKey.from_path(path, None)
    except (paramiko.PasswordRequiredException, TypeError):
        return True
    except Exception:
        return False
    return False
