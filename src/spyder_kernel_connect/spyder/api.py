"""Kernel Connect plugin API: the IDs other plugins use to place or find its action."""

from spyder_kernel_connect.spyder.container import KernelConnectActions  # noqa: F401
