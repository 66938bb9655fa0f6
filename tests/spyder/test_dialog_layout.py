"""The connect dialog's layout: messages never crush the form, and it fits 1366x768."""

from __future__ import annotations

import itertools

import pytest
from qtpy.QtCore import QPoint, QRect, Qt
from qtpy.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from spyder_kernel_connect.spyder.texts import no_keyring_text

LEAVES = (QLineEdit, QAbstractButton, QLabel, QComboBox, QAbstractScrollArea, QProgressBar)
HOST_KEY_CHANGED = (
    "The host key of ada@lab.example.org:2222 has CHANGED since it was saved in "
    "/home/ada/.ssh/known_hosts (ssh-ed25519 SHA256:Xk3f0pJq9x7wV2cQeLr5sT8uYzA1bN4mH6gD0iKoPq). "
    "This can mean someone is intercepting the connection. If the server was reinstalled, "
    "remove the old key from known_hosts and try again."
)
NO_SPYDER_KERNELS = (
    "spyder-kernels is not installed for /opt/conda/envs/analysis/bin/python on "
    "ada@lab.example.org:2222. Install it there with /opt/conda/envs/analysis/bin/python -m "
    "pip install spyder-kernels (or conda install spyder-kernels), or choose another remote "
    "Python."
)


def leaves(dialog) -> list[QWidget]:
    """Visible widgets a user reads or uses, without the parts of compound widgets.

    The message area counts as one widget: its text scrolls inside it by design.
    """
    found = []
    for widget in dialog.findChildren(QWidget):
        if not isinstance(widget, LEAVES) or not widget.isVisibleTo(dialog):
            continue
        if widget.objectName() == "form_scroll":  # a frame around the form, not a part
            continue
        parent = widget.parentWidget()
        while parent is not None and parent is not dialog:
            # A line edit's clear button, a combo's line edit, a list's scroll bars...
            compound = isinstance(parent, (QLineEdit, QComboBox, QAbstractScrollArea))
            if compound and parent.objectName() != "form_scroll":
                break
            parent = parent.parentWidget()
        else:
            found.append(widget)
    return found


def rect_in(dialog, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(dialog, QPoint(0, 0)), widget.size())


def settle(qtbot, dialog) -> None:
    dialog.screen_height = lambda: 768  # a 1366x768 screen (offscreen's own is 800x600)
    qtbot.wait(50)
    dialog._fit_height()
    qtbot.wait(50)


def assert_usable(dialog) -> None:
    """No overlaps, nothing squeezed under its minimum, no wrapped text cut off, <= 700 px."""
    assert dialog.height() <= 700
    assert not dialog.form.remote_form.verticalScrollBar().isVisible()  # the whole form shows
    widgets = leaves(dialog)
    assert len(widgets) > 10
    for widget in widgets:
        name = widget.objectName() or type(widget).__name__
        text = widget.text() if hasattr(widget, "text") else ""
        if name == "messages_scroll":  # all its text in view, or a scroll bar to reach it
            bar = widget.verticalScrollBar()
            assert bar.maximum() == 0 or bar.isVisible()
        else:
            wanted = min(widget.minimumSizeHint().height(), widget.maximumHeight())
            assert widget.height() >= wanted, (name, text)
        if isinstance(widget, QLabel) and widget.wordWrap() and widget.text():
            assert widget.height() >= widget.heightForWidth(widget.width()), (name, text)
        assert dialog.rect().contains(rect_in(dialog, widget)), (name, text)
    for first, second in itertools.combinations(widgets, 2):
        overlap = rect_in(dialog, first).intersects(rect_in(dialog, second))
        assert not overlap, (first.objectName(), type(first), second.objectName(), type(second))


def test_broken_file_message_keeps_the_local_form_usable(dialog, qtbot, runtime_dir):
    (runtime_dir / "kernel-2468.json").write_text('{"shell_port": 1,')
    dialog.cf.setText("2468")
    dialog.kernel_group.update_resolution()
    qtbot.mouseClick(dialog.ok_button, 1)
    assert "not valid JSON" in dialog.error_label.plain_text()
    settle(qtbot, dialog)
    assert_usable(dialog)


def test_ambiguous_id_lists_long_paths_without_crushing(
    dialog, qtbot, runtime_dir, dead_kernel_file
):
    for kernel_id in ("48213", "48217", "48219"):
        dead_kernel_file(runtime_dir, kernel_id)
    dialog.cf.setText("482")
    dialog.kernel_group.update_resolution()
    dialog.request_connect()
    assert "matches 3 connection files" in dialog.error_label.plain_text()
    settle(qtbot, dialog)
    assert_usable(dialog)


@pytest.mark.parametrize("message", [HOST_KEY_CHANGED, NO_SPYDER_KERNELS])
def test_remote_form_fully_unfolded_with_a_long_error_fits_1366x768(dialog, qtbot, message):
    dialog.remote_group.setChecked(True)
    dialog.show_advanced(True)
    dialog.remote_group.hostname.setText("lab.example.org")
    dialog.show_error(message)
    dialog.show_notice(no_keyring_text(("password",), "no system keyring is available."))
    settle(qtbot, dialog)
    assert_usable(dialog)


def test_progress_row_and_messages_together_keep_the_buttons_in_view(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    dialog.show_advanced(True)
    dialog.show_error(" ".join([HOST_KEY_CHANGED, NO_SPYDER_KERNELS] * 3))  # over the cap
    dialog.set_busy("Logging in to ada@lab.example.org:2222...")
    settle(qtbot, dialog)
    assert dialog.height() <= 700
    messages = dialog.messages.scroll
    assert messages.verticalScrollBar().maximum() > 0  # scrolls instead of growing
    assert_usable(dialog)
    assert dialog.rect().contains(rect_in(dialog, dialog.cancel_button))
    dialog.set_idle()
    settle(qtbot, dialog)
    assert_usable(dialog)


def test_every_section_unfolded_still_fits_and_scrolls_only_the_settings(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    dialog.show_advanced(True)
    for section in dialog.remote_group.findChildren(QWidget):
        unfold = getattr(section, "show_fields", None)  # sections added by other features
        if callable(unfold):
            unfold(True)
    dialog.show_error(HOST_KEY_CHANGED)
    settle(qtbot, dialog)
    assert dialog.height() <= 700
    for button in (dialog.ok_button, dialog.cancel_button, dialog.save_check):
        assert dialog.rect().contains(rect_in(dialog, button))
    bar = dialog.form.remote_form.verticalScrollBar()
    assert bar.maximum() == 0 or bar.isVisible()  # all of it reachable
    assert dialog.error_label.isVisible() and dialog.messages.scroll.height() > 0


@pytest.mark.parametrize("section", ["remote Python", "SLURM job"])
def test_unfolding_a_section_by_hand_grows_the_dialog_to_show_it(dialog, qtbot, section):
    button, shown = {
        "remote Python": (dialog.remote_group.advanced_button, dialog.remote_group.remote_python),
        "SLURM job": (dialog.slurm.toggle_button, dialog.slurm.edits["slurm_partition"]),
    }[section]
    dialog.remote_group.setChecked(True)
    settle(qtbot, dialog)
    before = dialog.height()
    # The user's click alone, no explicit fit: the section says its layout changed.
    qtbot.mouseClick(button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.height() > before)
    assert shown.isVisible() and dialog.height() <= 700
    for widget in (dialog.ok_button, dialog.cancel_button):
        assert dialog.rect().contains(rect_in(dialog, widget))
