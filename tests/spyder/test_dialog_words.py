"""Words and looks of the connect dialog: readable colours, GUI words, whole paths."""

from __future__ import annotations

import re

import paramiko
import pytest
from qtpy.QtCore import QTextBoundaryFinder
from qtpy.QtWidgets import QAbstractButton, QComboBox, QGroupBox, QLabel, QLineEdit, QWidget
from spyder.utils.palette import SpyderPalette, SpyderPaletteDark, SpyderPaletteLight

from spyder_kernel_connect.connection import ConnectionFileError, resolve_connection_file
from spyder_kernel_connect.spyder.widgets.colors import AA_CONTRAST, KINDS, contrast, message_color


def cli_words() -> re.Pattern:
    """Our command's options and subcommands (from its real parser), backticks, "CLI"."""
    import argparse

    from spyder_kernel_connect.cli import build_parser

    words = set()
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            words.update(o for o in action.option_strings if o.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                words.update(f"spyder-kernel-connect {name}" for name in action.choices)
                parsers.extend(action.choices.values())
    words.discard("--help")
    alternatives = "|".join(
        re.escape(w) + r"(?![\w-])" for w in sorted(words, key=len, reverse=True)
    )
    return re.compile(rf"{alternatives}|`|\bCLI\b")


CLI_WORDS = cli_words()


def shown_texts(dialog) -> list[tuple[str, str]]:
    """(where, text) for every text the dialog shows: labels, buttons, fields, tips."""
    texts = [("title", dialog.windowTitle())]
    for widget in dialog.findChildren(QWidget):
        name = widget.objectName() or type(widget).__name__
        if isinstance(widget, QLabel):
            texts.append((name, widget.text()))
        if isinstance(widget, QAbstractButton):
            texts.append((name, widget.text()))
        if isinstance(widget, QGroupBox):
            texts.append((name, widget.title()))
        if isinstance(widget, QLineEdit):
            texts.append((name + " placeholder", widget.placeholderText()))
        if isinstance(widget, QComboBox):
            texts += [(name, widget.itemText(i)) for i in range(widget.count())]
        texts.append((name + " tooltip", widget.toolTip()))
    lists = [dialog.local_kernels, dialog.remote_kernels]
    texts += [("list row", row) for kernels in lists for row in kernels.rows()]
    return [(where, text) for where, text in texts if text]


def assert_gui_words(dialog) -> None:
    # The SLURM section names sbatch's own options (--mem, --gres...), the vocabulary of
    # its users; what must not show is this plugin's command and its options.
    slurm = getattr(dialog, "slurm", None)
    parts = slurm.findChildren(QWidget) if slurm is not None else []
    sbatch_words = {w.objectName() for w in parts if w.objectName().startswith("slurm")}
    for where, text in shown_texts(dialog):
        if where.split()[0] in sbatch_words:
            continue
        assert not CLI_WORDS.search(text), (where, text)
        assert "button above" not in text and "button below" not in text, (where, text)


def host_key_refused(tmp_path) -> BaseException:
    """The error the engine raises when the user refuses an unknown host key."""
    from spyder_kernel_connect.ssh.hostkeys import HostKeyDecision, verify_host_key

    key = paramiko.Ed25519Key.generate() if hasattr(paramiko.Ed25519Key, "generate") else None
    if key is None:
        key = paramiko.RSAKey.generate(1024)
    known = tmp_path / "known_hosts"
    known.write_text("")
    with pytest.raises(Exception) as caught:
        verify_host_key(
            key, "lab", 22, [str(known)], str(known), lambda _info: HostKeyDecision.REJECT, {}
        )
    return caught.value


def test_message_colours_reach_wcag_aa_on_both_themes():
    for palette in (SpyderPaletteDark, SpyderPaletteLight):
        for kind in KINDS:
            color = message_color(kind, palette)
            assert contrast(color, palette.COLOR_BACKGROUND_1) >= AA_CONTRAST, (palette, kind)


def test_the_dialog_uses_those_colours(dialog, qtbot, runtime_dir, dead_kernel_file):
    background = SpyderPalette.COLOR_BACKGROUND_1
    dead_kernel_file(runtime_dir, "31")
    dialog.cf.setText("31")
    dialog.kernel_group.update_resolution()
    dialog.show_error("Something failed.")
    dialog.show_notice("Something to know.")
    labels = [dialog.kernel_group.status, dialog.error_label, dialog.notice_label]
    for label in labels:
        found = re.search(r"color:\s*(#[0-9A-Fa-f]{6})", label.styleSheet())
        assert found, label.objectName()
        assert contrast(found.group(1), background) >= AA_CONTRAST, label.objectName()
        assert found.group(1) == message_color(label.kind, SpyderPalette)
    dialog.cf.setText("no-such-kernel")
    dialog.kernel_group.update_resolution()
    assert dialog.kernel_group.status.kind == "warning"


def test_no_cli_flags_commands_or_markup_in_the_dialog(dialog, qtbot, runtime_dir, tmp_path):
    assert_gui_words(dialog)
    with pytest.raises(ConnectionFileError) as not_found:
        resolve_connection_file("no-such-kernel")
    for error in (not_found.value, host_key_refused(tmp_path)):
        dialog.show_failure(error)
        assert_gui_words(dialog)
    dialog.cf.setText("no-such-kernel")
    dialog.kernel_group.update_resolution()
    assert_gui_words(dialog)
    dialog.remote_group.setChecked(True)
    dialog.show_advanced(True)
    assert_gui_words(dialog)


def test_placeholders_and_titles_are_not_truncated(dialog, qtbot, presets):
    from spyder_kernel_connect.settings import ConnectionSettings

    dialog.remote_group.setChecked(True)
    dialog.show_advanced(True)
    dialog.slurm.show_fields(True)  # the SLURM job's fields too
    qtbot.wait(50)
    for edit in dialog.findChildren(QLineEdit):
        if not edit.isVisibleTo(dialog) or not edit.placeholderText():
            continue
        room = edit.contentsRect().width() - edit.textMargins().left() - edit.textMargins().right()
        needed = edit.fontMetrics().horizontalAdvance(edit.placeholderText())
        if edit.isClearButtonEnabled():
            room -= edit.height()  # the clear button's square
        assert needed <= room - 8, edit.placeholderText()
    port = dialog.remote_group.port
    port.setText("65535")
    room = port.contentsRect().width() - port.textMargins().left() - port.textMargins().right()
    assert port.fontMetrics().horizontalAdvance("65535") <= room - 8

    presets.save("lab", ConnectionSettings(connection_file="1"))
    dialog.presets_bar.reload(select="lab")
    dialog.presets_bar.rename_current()
    rename = dialog.presets_bar.rename_dialog
    qtbot.waitUntil(rename.isVisible)
    title = rename.fontMetrics().horizontalAdvance(rename.windowTitle())
    assert rename.width() >= title + 120  # room for the title next to the window buttons
    rename.reject()


def test_paths_never_break_after_their_leading_slash(dialog, qtbot):
    path = "/tmp/pytest-of-someone/pytest-123/test_a_rather_long_name0/runtime/kernel-1.json"
    dialog.show_error(f"No connection file matches {path!r} (searched: {path}).")
    text = dialog.error_label.text()
    finder = QTextBoundaryFinder(QTextBoundaryFinder.Line, text)
    for match in re.finditer(r"(?:^|[\s'(])/", text):
        slash = match.end() - 1
        finder.setPosition(slash + 1)
        assert not finder.isAtBoundary(), text[slash - 5 : slash + 10]
    assert dialog.error_label.plain_text().count(path) == 2  # the text itself is intact


def test_the_seed_documentations_words_are_on_the_dialog(dialog):
    """Spyder's docs say: tick "This is a remote kernel (via SSH)", enter the Hostname,
    tick "Save connection settings", click "OK" (docs/ipythonconsole.rst of spyder-docs)."""
    labels = [w.text() for w in dialog.findChildren(QLabel)]
    assert dialog.remote_group.title() == "This is a remote kernel (via SSH)"
    assert "Hostname:" in labels and "Port:" in labels
    assert dialog.save_check.text().startswith("Save connection settings")
    assert dialog.ok_button.text() == "OK"
    assert dialog.ok_button.isDefault() or dialog.ok_button.autoDefault()
