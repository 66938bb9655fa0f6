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
import os
import sys

LIBRARY_LOGGERS = ("paramiko",)
DEBUG_FORMAT = "%(asctime)s %(name)s: %(message)s"
_debug_requested = False  # set by --debug; importing the SSH engine later must not undo it


def quiet_library_logging() -> None:
    """Records of the SSH library go nowhere unless Spyder runs in debug mode.

    ``SPYDER_DEBUG`` 2 or 3 is Spyder's request for logs (spyder.config.base's
    get_debug_level): the records then propagate to Spyder's debug handlers as usual.
    """
    level = os.environ.get("SPYDER_DEBUG", "")
    debugging = _debug_requested or (level.isdigit() and int(level) >= 2)
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())  # never logging.lastResort
        logger.propagate = debugging


def library_logging(debug: bool) -> None:
    """The CLI's setting: quiet, or with ``--debug`` every record on stderr."""
    global _debug_requested
    if not debug:
        quiet_library_logging()
        return
    _debug_requested = True
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(DEBUG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).propagate = True
