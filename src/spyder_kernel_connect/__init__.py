"""Connect Spyder to existing local and remote (SSH) kernels, and reload changed user modules."""

__version__ = "0.1.0"
