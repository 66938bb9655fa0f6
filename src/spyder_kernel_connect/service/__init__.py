"""The connect service, Qt-free: what the Spyder plugin and the CLI both call to connect.

Data path: the user's spec (a path or kernel ID) → a connection file (``KernelSource``:
read here, found on the SSH host, or a kernel started there) → the host's one SSH session
(``TunnelManager``) → a tunnel with a local connection file → the caller's console.

Typical use, on a worker thread::

    service = ConnectService(host_key_decider=ask_user, on_state=show_state)
    request = ConnectRequest(LocalCopyOrHost(LocalFile("1234"), OnHost("1234")), target)
    connection = service.connect(request, cancel, progress)
    open_console(connection.connection_file)   # connection.tunnel holds the forwards
    ...
    service.close()                            # every tunnel and session

Extension points:

- **Kernel sources** (``sources.KernelSource``): how the kernel's connection info is
  obtained. ``needs_session()`` says whether a login is needed; ``obtain(session, cancel,
  progress)`` returns an ``ObtainedKernel`` (info, where it was found, and a
  ``StartedKernel`` if it was started and should be stopped on failure). Existing:
  ``LocalFile``, ``OnHost``, ``LocalCopyOrHost``, ``StartOnHost``; a scheduler job (SLURM)
  is another source, passed in ``ConnectRequest.source`` — the service does not change.
- **Questions to the user** go through callbacks given to ``ConnectService`` and passed on
  to the ``TunnelManager``: ``host_key_decider`` for unknown host keys, and any further
  manager keyword in ``manager_options`` (e.g. a prompt handler for keyboard-interactive /
  2FA authentication, called on a worker thread, answers never stored).
- **Progress** is ``progress.Progress`` values (a ``Step`` plus the host/spec/python it is
  about); the GUI translates them (``spyder/texts.py``), the CLI prints what it needs.
- **Hosts**: ``ConnectRequest.target`` is an ``ssh.SSHTarget``; ``~/.ssh/config`` is
  applied once per attempt (jump hosts resolve inside the tunnel manager).
"""

from spyder_kernel_connect.service.connect import (
    Connection,
    ConnectRequest,
    ConnectService,
    HostListing,
)
from spyder_kernel_connect.service.errors import (
    ConnectionCancelled,
    KernelNotAnswering,
    KernelNotFoundAnywhere,
)
from spyder_kernel_connect.service.progress import Progress, ProgressCallback, Step
from spyder_kernel_connect.service.sources import (
    KernelSource,
    LocalCopyOrHost,
    LocalFile,
    LocalResolution,
    ObtainedKernel,
    OnHost,
    StartOnHost,
    resolve_local,
)

__all__ = [
    "ConnectRequest",
    "ConnectService",
    "Connection",
    "ConnectionCancelled",
    "HostListing",
    "KernelNotAnswering",
    "KernelNotFoundAnywhere",
    "KernelSource",
    "LocalCopyOrHost",
    "LocalFile",
    "LocalResolution",
    "ObtainedKernel",
    "OnHost",
    "Progress",
    "ProgressCallback",
    "StartOnHost",
    "Step",
    "resolve_local",
]
