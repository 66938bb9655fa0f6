"""Connection settings, Qt-free: the form's model and validation (``model``), named
presets (``presets``) and the secrets kept for them in the OS keyring only (``secrets``).
The words shown for them in Spyder live in ``spyder/texts.py``."""

from spyder_kernel_connect.settings.errors import InvalidPresetName, InvalidSettings
from spyder_kernel_connect.settings.model import (
    AUTH_KEY,
    AUTH_PASSWORD,
    DEFAULT_REMOTE_PYTHON,
    SECRET_FIELDS,
    ConnectionSettings,
    parse_port,
    validate,
)
from spyder_kernel_connect.settings.presets import PresetStore, SaveOutcome
from spyder_kernel_connect.settings.secrets import KEYRING_SERVICE, SecretStore, insecure_reason

__all__ = [
    "AUTH_KEY",
    "AUTH_PASSWORD",
    "DEFAULT_REMOTE_PYTHON",
    "KEYRING_SERVICE",
    "SECRET_FIELDS",
    "ConnectionSettings",
    "InvalidPresetName",
    "InvalidSettings",
    "PresetStore",
    "SaveOutcome",
    "SecretStore",
    "insecure_reason",
    "parse_port",
    "validate",
]
