"""The two columns of the connect dialog: which kernel (left) and how to reach it (right).

Left, the connection-file group over the kernel list that fits the kind of kernel (this
computer's, or the SSH host's once the SSH group is ticked); right, the ``RemoteForm``.
The form reads and shows ``ConnectionSettings``; it asks the engines nothing itself.
"""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout, QWidget

from spyder_kernel_connect.settings import ConnectionSettings, validate
from spyder_kernel_connect.spyder.texts import describe_resolution
from spyder_kernel_connect.spyder.widgets.connection_file import ConnectionFileGroup
from spyder_kernel_connect.spyder.widgets.kernel_list import LocalKernelList, RemoteKernelList
from spyder_kernel_connect.spyder.widgets.remote_form import RemoteForm


class ConnectionForm(QWidget):
    """The connection-file group and kernel lists beside the SSH and SLURM settings."""

    sig_layout_changed = Signal()
    """The lists were swapped or a section was (un)folded: the dialog fits its height again."""

    sig_field_edited = Signal(str)
    """The user edited the field named (as in ``ConnectionSettings``), e.g. "hostname"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        """
        Create the form, empty, for a kernel on this computer.

        Parameters
        ----------
        parent: QWidget or None
            Parent widget.
        """
        super().__init__(parent)
        self.kernel_group = ConnectionFileGroup()
        self.cf = self.kernel_group.cf
        self.local_kernels = LocalKernelList()
        self.remote_kernels = RemoteKernelList()
        self.remote_form = RemoteForm()
        self.remote_group = self.remote_form.remote_group
        self.slurm = self.remote_form.slurm
        self.remote_kernels.add_button(self.slurm.start_button)

        kernel = QVBoxLayout()
        kernel.addWidget(self.kernel_group)
        kernel.addWidget(self.local_kernels, 1)
        kernel.addWidget(self.remote_kernels, 1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(kernel, 1)
        layout.addWidget(self.remote_form, 1)
        self.remote_group.toggled.connect(self._on_remote_toggled)
        self.remote_form.sig_layout_changed.connect(self.sig_layout_changed)
        self.kernel_group.sig_edited.connect(lambda: self.sig_field_edited.emit("connection_file"))
        self.remote_group.sig_field_edited.connect(self.sig_field_edited)
        self.slurm.sig_field_edited.connect(self.sig_field_edited)
        self.remote_group.sig_host_changed.connect(self.reset_remote_kernels)
        self.local_kernels.sig_kernel_picked.connect(self.pick_local)
        self.reset_remote_kernels()
        self._on_remote_toggled(self.remote_group.isChecked())

    # ---- Values
    def settings(self) -> ConnectionSettings:
        """The settings the form shows now (not validated)."""
        return ConnectionSettings(
            connection_file=self.cf.text().strip(), **self.remote_form.values()
        )

    def set_settings(self, settings: ConnectionSettings) -> None:
        """Show ``settings`` in both columns (``ConnectionSettings()`` empties them)."""
        self.cf.setText(settings.connection_file)
        self.remote_form.set_values(settings)
        self.kernel_group.update_resolution()

    def field_widget(self, field: str) -> QLineEdit:
        """The line edit of the ``ConnectionSettings`` field ``field``, else the file's."""
        return self.remote_form.field_widget(field) or self.cf

    def reveal(self, field: str) -> QLineEdit:
        """
        Tick and unfold what holds ``field``, and return its line edit.

        Parameters
        ----------
        field: str
            A ``ConnectionSettings`` field name, e.g. "remote_python".
        """
        if field != "connection_file":
            self.remote_form.reveal(field)
        return self.field_widget(field)

    def problem(self, start: bool = False) -> tuple[str, str | None] | None:
        """
        The first reason the form cannot be used, and the field it is about; None if valid.

        Parameters
        ----------
        start: bool, optional
            True to check only what logging in to the host and starting there needs; False
            to check what connecting needs (also that a local connection file is valid).
        """
        settings = self.settings()
        problems = validate(settings, start=start)
        if problems:
            return str(problems[0]), problems[0].field
        if not start and not settings.remote:
            status = describe_resolution(self.kernel_group.resolve())
            if not status.ok:
                return status.message, "connection_file"
        return None

    # ---- Kernels picked from the lists
    def pick_local(self, path: str) -> None:
        """
        Show the connection file ``path`` of a kernel on this computer (SSH unticked).

        Parameters
        ----------
        path: str
            The file, e.g. from the list of this computer's kernels.
        """
        self.remote_group.setChecked(False)
        self.cf.setText(path)
        self.kernel_group.update_resolution()

    def reset_remote_kernels(self) -> None:
        """Another host: what was listed before no longer applies."""
        self.kernel_group.forget_remote_pick()
        self.remote_kernels.reset()

    def set_locked(self, locked: bool) -> None:
        """
        Lock the form while an attempt runs (the SLURM section goes with the SSH group).

        Parameters
        ----------
        locked: bool
            True to disable the fields and lists, False to enable them again.
        """
        for widget in (
            self.cf,
            self.kernel_group.browse_button,
            self.local_kernels,
            self.remote_group,
            self.remote_kernels,
        ):
            widget.setEnabled(not locked)
        if not locked:
            self.remote_group.update_auth_fields()

    def _on_remote_toggled(self, remote: bool) -> None:
        # Local kernels are no choice for a remote connection, and the other way round.
        self.kernel_group.set_remote(remote)
        self.local_kernels.setVisible(not remote)
        self.remote_kernels.setVisible(remote)
        self.sig_layout_changed.emit()
