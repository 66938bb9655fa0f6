"""Keep libraries' logging (paramiko's above all) out of the user's terminal and Spyder.

paramiko logs every failure of its transport thread at ERROR level with a traceback
("Exception (client): Error reading SSH protocol banner"), even when our code handles
that failure and reports it as a typed error. With no logging configured, Python prints
such records on stderr (logging.lastResort), and Spyder turns anything written to its
stderr into the "Spyder has encountered an internal problem" window. Our errors already
say what failed; the library's records are for ``--debug`` (or Spyder's debug mode).
"""

from __future__ import annotations

import logging
import sys

LIBRARY_LOGGERS = ("paramiko",)
DEBUG_FORMAT = "%(asctime)s %(name)s: %(message)s"


def quiet_library_logging() -> None:
    """Records of the SSH library go nowhere unless the application asked for debug logs.

    A root logger set below WARNING is such a request (Spyder's debug mode does it): the
    records then propagate to the application's handlers as usual.
    """
    debugging = logging.getLogger().getEffectiveLevel() < logging.WARNING
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())  # never logging.lastResort
        logger.propagate = debugging


def library_logging(debug: bool) -> None:
    """The CLI's setting: quiet, or with ``--debug`` every record on stderr."""
    if not debug:
        quiet_library_logging()
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(DEBUG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).propagate = True
