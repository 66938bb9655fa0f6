"""The plugin's page in Preferences: where the User Module Reloader (UMR) switch lives.

The switch itself is Spyder's (Python interpreter -> User Module Reloader), so there is one
place for it, the one Spyder's documentation names; this page says so and leads there.
"""

from __future__ import annotations

from qtpy.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from spyder.api.preferences import PluginConfigPage
from spyder.api.translations import _

from spyder_kernel_connect.spyder.umr_hook import UMR_SECTION


def umr_state_text(enabled: bool, verbose: bool, excluded: list[str]) -> str:
    """One line saying what the UMR does right now, from Spyder's options."""
    if not enabled:
        return _("Now: <b>off</b> - no module is reloaded in any console.")
    state = (
        _("Now: <b>on</b>, printing the list of reloaded modules")
        if verbose
        else _("Now: <b>on</b>, reloading silently")
    )
    if excluded:
        state += _("; never reloaded: {}").format(", ".join(excluded))
    return state + "."


class KernelConnectConfigPage(PluginConfigPage):
    def setup_page(self) -> None:
        group = QGroupBox(_("User Module Reloader (UMR)"))
        intro = QLabel(
            _(
                "The User Module Reloader is switched on and off in "
                "<b>Preferences → Python interpreter → User Module Reloader (UMR)</b>, "
                "with its list of modules never reloaded.<br><br>"
                "With Kernel Connect, those settings apply at once to every open console, "
                "local or remote, without a restart. When the UMR is on, the modules you "
                "changed are reloaded before each run, and Spyder's own reloader and "
                "<tt>%autoreload</tt> stay off so nothing is reloaded twice. When it is "
                "off, nothing is reloaded."
            )
        )
        intro.setWordWrap(True)
        self.state_label = QLabel(
            umr_state_text(
                bool(self.get_option("umr/enabled", True, section=UMR_SECTION)),
                bool(self.get_option("umr/verbose", True, section=UMR_SECTION)),
                list(self.get_option("umr/namelist", [], section=UMR_SECTION)),
            )
        )
        self.state_label.setObjectName("umr_state_label")
        self.state_label.setWordWrap(True)
        self.open_button = QPushButton(_("Open the Python interpreter settings"))
        self.open_button.setObjectName("open_umr_settings")
        self.open_button.clicked.connect(self.show_umr_settings)

        button_row = QHBoxLayout()
        button_row.addWidget(self.open_button)
        button_row.addStretch(1)
        layout = QVBoxLayout(group)
        layout.addWidget(intro)
        layout.addWidget(self.state_label)
        layout.addLayout(button_row)
        page = QVBoxLayout()
        page.addWidget(group)
        page.addStretch(1)
        self.setLayout(page)

    def show_umr_settings(self) -> bool:
        """Switch the Preferences dialog to Spyder's Python interpreter page."""
        dialog: QWidget | None = self.parent()
        while dialog is not None and not hasattr(dialog, "get_index_by_name"):
            dialog = dialog.parent()
        if dialog is None:
            return False
        index = dialog.get_index_by_name(UMR_SECTION)
        if index is None:
            return False
        dialog.set_current_index(index)
        return True

    def apply_settings(self) -> set:
        return set()  # nothing of its own to save
