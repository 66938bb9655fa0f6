"""Spyder plugin entry point (filled in by the plugin issue)."""

from typing import ClassVar

from spyder.api.plugins import SpyderPluginV2
from spyder.api.translations import _


class KernelConnect(SpyderPluginV2):
    NAME = "spyder_kernel_connect"
    REQUIRES: ClassVar[list] = []
    OPTIONAL: ClassVar[list] = []
    CONF_SECTION = NAME

    @staticmethod
    def get_name() -> str:
        return _("Kernel Connect")

    @staticmethod
    def get_description() -> str:
        return _("Connect to existing local and remote kernels; reload changed modules.")

    @classmethod
    def get_icon(cls):
        return cls.create_icon("ipython_console")

    def on_initialize(self) -> None:
        pass
