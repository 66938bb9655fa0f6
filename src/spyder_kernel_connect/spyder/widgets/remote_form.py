"""The right column of the connect dialog: how to reach the kernel (SSH, then SLURM).

The SSH settings group holds the SLURM section; both sit in a scroll area that asks for
all the height they need, so the dialog scrolls them only when a small screen leaves less.
"""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from spyder_kernel_connect.settings import ConnectionSettings
from spyder_kernel_connect.spyder.widgets.messages import VerticalScrollArea
from spyder_kernel_connect.spyder.widgets.slurm_settings import SlurmSettingsSection
from spyder_kernel_connect.spyder.widgets.ssh_settings import SSHSettingsGroup

# However small the screen, this much of the form stays in view (it scrolls).
MIN_FORM_HEIGHT = 120


class RemoteForm(VerticalScrollArea):
    """The SSH settings group with its SLURM section, scrolling vertically if it must."""

    sig_layout_changed = Signal()
    """A part was folded or unfolded: the dialog fits its height again."""

    def __init__(self) -> None:
        """Create the form: SSH unticked, SLURM folded."""
        self.remote_group = SSHSettingsGroup()
        self.slurm = SlurmSettingsSection()
        self.remote_group.add_section(self.slurm)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.remote_group)
        layout.addStretch(1)
        super().__init__("form_scroll", content)
        self.remote_group.sig_layout_changed.connect(self.sig_layout_changed)
        self.slurm.sig_layout_changed.connect(self.sig_layout_changed)

    # ---- Form values
    def values(self) -> dict[str, object]:
        """The SSH and SLURM ``ConnectionSettings`` fields the form shows (not validated)."""
        return {**self.remote_group.values(), **self.slurm.values()}

    def set_values(self, settings: ConnectionSettings) -> None:
        """
        Show the SSH and SLURM fields of ``settings``.

        Parameters
        ----------
        settings: ConnectionSettings
            The settings to show (the connection file is not part of this form).
        """
        self.remote_group.set_values(settings)
        self.slurm.set_values(settings)

    def field_widget(self, field: str) -> QLineEdit | None:
        """
        The line edit of an SSH or SLURM ``ConnectionSettings`` field, or None.

        Parameters
        ----------
        field: str
            Field name, e.g. "hostname" or "slurm_partition".
        """
        return self.remote_group.field_widget(field) or self.slurm.field_widget(field)

    def reveal(self, field: str) -> None:
        """
        Tick and unfold what holds ``field`` so the user sees it.

        Parameters
        ----------
        field: str
            A ``ConnectionSettings`` field other than the connection file.
        """
        if not self.remote_group.isChecked():
            self.remote_group.setChecked(True)
        if field in ("remote_python", "remote_runtime_dir"):
            self.remote_group.show_advanced(True)
        if field.startswith("slurm_"):
            self.slurm.show_fields(True)

    # ---- Height
    def fit_content(self) -> int:
        """
        Ask for the width and all the height the content needs; return that height.

        The size hint counts, not just the minimum: the area scrolls below its hint.
        """
        form = self.widget()
        form.layout().activate()  # a section was just unfolded: its height counts now
        bar = self.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(form.minimumSizeHint().width() + bar)
        height = form.heightForWidth(self.viewport().width())
        height = max(height, form.sizeHint().height())
        # Plus what the theme puts around the viewport (frame, padding).
        height += max(0, self.height() - self.viewport().height())
        self.setMinimumHeight(height)
        return height

    def shrink_by(self, excess: int) -> None:
        """
        Give up ``excess`` pixels of the height asked by ``fit_content`` (it scrolls).

        Parameters
        ----------
        excess: int
            How much taller than the screen allows the dialog would be.
        """
        self.setMinimumHeight(max(self.minimumHeight() - excess, MIN_FORM_HEIGHT))
