"""The plugin's page in Preferences: the kernel-side User Module Reloader (UMR)."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
)
from spyder.api.preferences import PluginConfigPage
from spyder.api.translations import _
from spyder.utils.icon_manager import ima

from spyder_kernel_connect.settings import clean_module_names


class KernelConnectConfigPage(PluginConfigPage):
    def setup_page(self) -> None:
        group = QGroupBox(_("User Module Reloader (UMR)"))
        intro = QLabel(
            _(
                "Before each run in a console, reload the modules you changed since "
                "they were imported, in dependency order. Works in every console, "
                "including consoles connected to remote kernels. Spyder's own UMR and "
                "<tt>%autoreload</tt> are turned off in those consoles so modules are "
                "not reloaded twice. Changes apply to open consoles at once."
            )
        )
        intro.setWordWrap(True)
        self.enabled_box = self.create_checkbox(_("Enable UMR"), "umr/enabled")
        self.verbose_box = self.create_checkbox(_("Print list of reloaded modules"), "umr/verbose")

        self.exclude_list = QListWidget()
        self.exclude_list.setObjectName("umr_exclude_list")
        self.exclude_list.setMaximumHeight(140)
        for name in self.get_option("umr/exclude", []):
            self._add_item(name)
        self.exclude_list.itemChanged.connect(self._on_list_changed)
        add_button = QToolButton()
        add_button.setIcon(ima.icon("edit_add"))
        add_button.setToolTip(_("Add a module"))
        add_button.clicked.connect(self.add_module)
        remove_button = QToolButton()
        remove_button.setIcon(ima.icon("edit_remove"))
        remove_button.setToolTip(_("Remove the selected modules"))
        remove_button.clicked.connect(self.remove_selected)
        self.add_button, self.remove_button = add_button, remove_button

        buttons = QVBoxLayout()
        buttons.addWidget(add_button)
        buttons.addWidget(remove_button)
        buttons.addStretch(1)
        list_row = QHBoxLayout()
        list_row.addWidget(self.exclude_list, 1)
        list_row.addLayout(buttons)

        exclude_label = QLabel(
            _(
                "Modules never reloaded (a package name covers its submodules; "
                "double-click to edit):"
            )
        )
        exclude_label.setWordWrap(True)
        self.enabled_box.checkbox.toggled.connect(self.verbose_box.setEnabled)
        self.enabled_box.checkbox.toggled.connect(self.exclude_list.setEnabled)

        layout = QVBoxLayout(group)
        layout.addWidget(intro)
        layout.addWidget(self.enabled_box)
        layout.addWidget(self.verbose_box)
        layout.addWidget(exclude_label)
        layout.addLayout(list_row)

        page = QVBoxLayout()
        page.addWidget(group)
        page.addStretch(1)
        self.setLayout(page)

    # ---- Excluded modules list
    def _add_item(self, name: str) -> QListWidgetItem:
        item = QListWidgetItem(name)
        item.setFlags(item.flags() | Qt.ItemIsEditable)
        self.exclude_list.addItem(item)
        return item

    def add_module(self) -> None:
        item = self._add_item("")
        self.exclude_list.setCurrentItem(item)
        self.exclude_list.editItem(item)

    def remove_selected(self) -> None:
        for item in self.exclude_list.selectedItems():
            self.exclude_list.takeItem(self.exclude_list.row(item))
        self._on_list_changed()

    def excluded_modules(self) -> list[str]:
        names = [self.exclude_list.item(i).text() for i in range(self.exclude_list.count())]
        return clean_module_names(names)

    def _on_list_changed(self, *_args) -> None:
        self.set_modified(True)

    def apply_settings(self) -> set:
        names = self.excluded_modules()
        if names != list(self.get_option("umr/exclude", [])):
            self.set_option("umr/exclude", names)
            return {"umr/exclude"}
        return set()
