"""A list of running kernels with a title and a refresh button: one job, used twice.

The connect dialog shows one for this computer and one for the SSH host. The widget only
displays what it is given (``show_entries``) and reports clicks (``sig_kernel_picked``);
finding the kernels is the container's job.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from jupyter_core.paths import jupyter_runtime_dir
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from spyder.api.translations import _
from spyder.utils.icon_manager import ima

from spyder_kernel_connect.connection import KernelEntry
from spyder_kernel_connect.spyder.texts import describe_kernel

# Enough rows to choose among a few kernels without scrolling, yet fits a 768 px screen.
VISIBLE_ROWS = 8


def is_tunnel_file(path: str) -> bool:
    """Whether ``path`` is a local connection file written for an SSH tunnel.

    The tunnel engine names them ``kernel-<id>-ssh-<host>-<random>.json``: they point at a
    forward to a remote kernel, not at a kernel running on this computer.
    """
    name = os.path.basename(path)
    return name.startswith("kernel-") and "-ssh-" in name


class KernelList(QWidget):
    """Title, refresh button and the rows of a list of running kernels.

    Rows that cannot be picked (placeholders, unreadable files) are not selectable; kernels
    that do not answer are greyed; kernels that already have a console in this Spyder (its
    own consoles, and this plugin's tunnels) are marked as such and listed last.
    """

    sig_kernel_picked = Signal(str)
    """
    The user clicked or activated a kernel.

    Parameters
    ----------
    path: str
        The kernel's connection file (on this computer or on the SSH host).
    """

    sig_refresh_requested = Signal()
    """The user pressed the refresh button: list the kernels again."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        refresh_text: str,
        refresh_tip: str,
        object_name: str,
    ) -> None:
        """
        Create an empty list.

        Parameters
        ----------
        parent: QWidget or None
            Parent widget.
        title: str
            The text above the list, e.g. "Running kernels on this computer".
        refresh_text: str
            The refresh button's text.
        refresh_tip: str
            The refresh button's tooltip: what pressing it does.
        object_name: str
            Qt object name of the list itself (tests and screenshots find it by it).
        """
        super().__init__(parent)
        self.title_label = QLabel(title)
        self.refresh_button = QPushButton(refresh_text)
        self.refresh_button.setIcon(ima.icon("refresh"))
        self.refresh_button.setToolTip(refresh_tip)
        self.refresh_button.clicked.connect(self.sig_refresh_requested)

        self.list = QListWidget()
        self.list.setObjectName(object_name)
        self.list.setAlternatingRowColors(True)
        # Long rows end in "..." (the tooltip has everything) instead of a scroll bar.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.ElideRight)
        self.list.setMinimumHeight(self._rows_height(VISIBLE_ROWS))
        self.list.itemClicked.connect(self._on_item_picked)
        self.list.itemActivated.connect(self._on_item_picked)

        header = QHBoxLayout()
        header.addWidget(self.title_label, 1)
        header.addWidget(self.refresh_button)
        self.buttons_layout = QHBoxLayout()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list, 1)
        layout.addLayout(self.buttons_layout)

    # ---- Public API
    def set_title(self, title: str, tooltip: str = "") -> None:
        """
        Change the text above the list.

        Parameters
        ----------
        title: str
            New title, e.g. "Kernels on ada@lab:22".
        tooltip: str, optional
            Tooltip of the title and the list, e.g. the directory that was searched.
        """
        self.title_label.setText(title)
        self.title_label.setToolTip(tooltip)
        self.list.setToolTip(tooltip)

    def add_button(self, button: QWidget) -> None:
        """Add ``button`` to the row under the list (e.g. "Start a new kernel")."""
        self.buttons_layout.addWidget(button)

    def show_placeholder(self, text: str) -> None:
        """
        Replace the rows by one line of information that cannot be picked.

        Parameters
        ----------
        text: str
            What to say, e.g. "Looking for running kernels...".
        """
        self.list.clear()
        item = QListWidgetItem(text)
        item.setFlags(Qt.NoItemFlags)
        item.setToolTip(text)
        self.list.addItem(item)

    def show_entries(
        self,
        entries: Iterable[KernelEntry],
        empty_text: str,
        reason_in_text: bool = False,
        consoles: Mapping[str, str] | None = None,
    ) -> None:
        """
        Show one row per kernel, in the given order, consoles of this Spyder last.

        Parameters
        ----------
        entries: iterable of KernelEntry
            The kernels, newest first.
        empty_text: str
            The placeholder to show when there are none.
        reason_in_text: bool, optional
            Say why a file is unreadable in the row itself, not only in its tooltip.
        consoles: mapping of str to str, optional
            Connection file -> name of the console of this Spyder that uses it ("" for
            the kernel Spyder keeps ready for its next console).
        """
        consoles = consoles or {}
        entries = list(entries)
        if not entries:
            self.show_placeholder(empty_text)
            return
        self.list.clear()
        ours = [e for e in entries if e.path in consoles or is_tunnel_file(e.path)]
        for entry in [e for e in entries if e not in ours]:
            self.list.addItem(self._kernel_item(entry, reason_in_text))
        for entry in ours:
            self.list.addItem(self._own_item(entry, consoles.get(entry.path)))

    def rows(self) -> list[str]:
        """The text of every row, top to bottom."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    # ---- Private
    def _rows_height(self, rows: int) -> int:
        row = max(self.list.sizeHintForRow(0), self.fontMetrics().height() + 8)
        return rows * row + 2 * self.list.frameWidth()

    def _kernel_item(self, entry: KernelEntry, reason_in_text: bool) -> QListWidgetItem:
        """A row for a kernel: dead ones greyed, unreadable ones not selectable."""
        row = describe_kernel(entry, reason_in_text=reason_in_text)
        item = QListWidgetItem(row.text)
        item.setToolTip(row.tooltip)
        item.setData(Qt.UserRole, entry.path)
        item.setIcon(ima.icon("ipython_console" if row.alive else "warning"))
        if not row.selectable:
            item.setFlags(Qt.NoItemFlags)
        elif not row.alive:
            palette = self.palette()
            item.setForeground(palette.brush(palette.Disabled, palette.Text))
        return item

    def _own_item(self, entry: KernelEntry, console: str | None) -> QListWidgetItem:
        """A row for a kernel of this Spyder's consoles: marked and listed last."""
        if console:
            mark = _("already open in console {}").format(console)
        elif console == "":
            mark = _("kept ready by Spyder for its next console")
        else:
            mark = _("SSH tunnel of this plugin")
        item = QListWidgetItem(f"{entry.kernel_id}  \u2014  {mark}")
        item.setToolTip(
            _("{}\nSpyder or this plugin wrote this file for a console it opened.").format(
                entry.path
            )
        )
        item.setData(Qt.UserRole, entry.path)
        item.setIcon(ima.icon("remote_server" if is_tunnel_file(entry.path) else "ipython_console"))
        return item

    def _on_item_picked(self, item: QListWidgetItem) -> None:
        path = item.data(Qt.UserRole)
        if path:
            self.sig_kernel_picked.emit(path)


class LocalKernelList(KernelList):
    """The kernels running on this computer (what Jupyter's runtime directory holds)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Create the list; the container fills it (``show_kernels``) when asked."""
        super().__init__(
            parent,
            _("Running kernels on this computer (newest first):"),
            _("Refresh"),
            _("Look for running kernels again"),
            "running_kernels",
        )

    def show_looking(self) -> None:
        """A listing started: say so and disable the refresh button until it ends."""
        self.show_placeholder(_("Looking for running kernels..."))
        self.refresh_button.setEnabled(False)

    def show_kernels(
        self, entries: Iterable[KernelEntry], consoles: Mapping[str, str] | None = None
    ) -> None:
        """
        Show the kernels found.

        Parameters
        ----------
        entries: iterable of KernelEntry
            The kernels, newest first.
        consoles: mapping of str to str, optional
            Connection file -> name of the Spyder console already using it.
        """
        self.refresh_button.setEnabled(True)
        empty = _("No kernel connection files in {}").format(jupyter_runtime_dir())
        self.show_entries(entries, empty, consoles=consoles)

    def show_failed(self, error: BaseException) -> None:
        """Say in the list why the kernels could not be listed."""
        self.refresh_button.setEnabled(True)
        self.show_placeholder(_("Could not list kernels: {}").format(error))


class RemoteKernelList(KernelList):
    """The kernels on the SSH host, listed on request, and a button to start one there."""

    sig_start_requested = Signal()
    """The user pressed "Start a new kernel on this host"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """Create the list, with nothing listed yet."""
        super().__init__(
            parent,
            "",
            _("List kernels"),
            _("Log in and list the kernels in the host's Jupyter runtime directory"),
            "remote_kernels",
        )
        self.refresh_button.setObjectName("remote_list_button")
        self.start_button = QPushButton(_("Start a new kernel on this host"))
        self.start_button.setObjectName("start_remote_kernel_button")
        self.start_button.setIcon(ima.icon("ipython_console"))
        self.start_button.setToolTip(
            _("Start a Spyder kernel with the remote Python on the host, then connect to it")
        )
        self.start_button.clicked.connect(self.sig_start_requested)
        self.add_button(self.start_button)
        self.reset()

    def reset(self) -> None:
        """Another host: what was listed before no longer applies."""
        self.set_title(_("Kernels on this host (newest first):"))
        self.show_placeholder(
            _("Press \u201cList kernels\u201d to see the kernels running on the host.")
        )

    def show_listing(self, listing) -> None:
        """
        Show the kernels found on the SSH host.

        Parameters
        ----------
        listing: service.HostListing
            Host label, runtime directory and kernels, newest first.
        """
        self.set_title(
            _("Kernels on {} (newest first):").format(listing.label),
            _("Connection files in {}").format(listing.runtime_dir),
        )
        empty = _("No kernel connection files there. Start one with \u201c{}\u201d.").format(
            self.start_button.text()
        )
        self.show_entries(listing.entries, empty, reason_in_text=True)

    def show_failed(self) -> None:
        """The listing failed; the reason is in the dialog's message area."""
        self.show_placeholder(_("Could not list the kernels (see the message)."))
