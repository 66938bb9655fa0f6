"""Fixtures for the plugin's tests: dialogs offscreen, or a real Spyder main window under Xvfb.

One QApplication serves a pytest process. When the run selects ``gui`` tests, a private
Xvfb (started and stopped here by PID) hosts it; otherwise Qt stays offscreen.
"""

from __future__ import annotations

import os
import sys

# Before anything imports Spyder: a throwaway config dir, never the user's.
os.environ.setdefault("SPYDER_PYTEST", "True")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--no-sandbox")

import pytest
from qtpy import QtWebEngineWidgets  # noqa: F401  (must be imported before the QApplication)

# Before spyder.app.start, which removes PYTHONPATH's entries from sys.path: the plugin
# (and every submodule it imports later) then comes from the tree under test, not from
# wherever the venv's editable install points.
import spyder_kernel_connect  # noqa: F401
from tests.spyder.xvfb import Xvfb

_xvfb: Xvfb | None = None


def pytest_collection_finish(session):
    """Start Xvfb only if GUI tests will run, before any test creates the QApplication."""
    global _xvfb
    if _xvfb is None and any(item.get_closest_marker("gui") for item in session.items):
        _xvfb = Xvfb()
        os.environ["DISPLAY"] = _xvfb.start()
        os.environ["QT_QPA_PLATFORM"] = "xcb"


_main_window_started = False  # set by the main_window fixture


def pytest_sessionfinish(session, exitstatus):
    session.config.skc_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Stop Xvfb; after a run that started Spyder's main window, leave without Python's
    final teardown.

    Every test, fixture and summary is done here. What is left is the interpreter tearing
    down PyQt5/QtWebEngine objects that Spyder's in-process main window left behind, which
    now and then segfaults (seen in CI: all tests passed, then exit code 139). Runs that
    never opened the main window end normally.
    """
    if _xvfb is not None:
        _xvfb.stop()
    status = getattr(config, "skc_exit_status", None)
    if status is None or not _main_window_started:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


@pytest.fixture
def presets(keyring_file, preset_backing):
    from spyder_kernel_connect.settings import PresetStore, SecretStore

    store = PresetStore(preset_backing.read, preset_backing.write, SecretStore())
    store.backing = preset_backing
    return store


@pytest.fixture
def dialog(qtbot, presets, runtime_dir):
    from spyder_kernel_connect.spyder.widgets.dialog import KernelConnectDialog

    widget = KernelConnectDialog(None, presets)
    listings = answer_local_listing(widget)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.local_kernels.refresh_button.isEnabled(), timeout=10000)
    yield widget
    # A listing still running must not report to a dialog being deleted.
    for thread in listings:
        thread.join(timeout=30)


def answer_local_listing(dialog) -> list:
    """Do the container's part for a dialog without one: list the kernels on a thread.

    Returns the list of the listing threads started, for the caller to join.
    """
    from spyder_kernel_connect.connection import list_kernels
    from spyder_kernel_connect.spyder.widgets.background import run_in_thread

    threads = []

    def list_in_thread() -> None:
        call = run_in_thread(
            dialog, list_kernels, dialog.show_local_kernels, dialog.show_local_list_failed
        )
        threads.append(call.thread)

    dialog.sig_local_list_requested.connect(list_in_thread)
    return threads


@pytest.fixture(scope="module")
def main_window(qapp):
    """A real Spyder main window (as spyder-unittest's fixture starts it), with this plugin.

    Spyder changes process-wide state (cwd, standard streams, excepthook, sys.exit); all
    of it is put back so the tests that run after this module see a normal process.
    """
    from qtpy.QtWidgets import QApplication
    from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY
    from spyder.app import start
    from spyder.config.manager import CONF

    global _main_window_started
    _main_window_started = True
    cwd = os.getcwd()
    saved = (sys.stdout, sys.stderr, sys.excepthook, sys.exit)
    CONF.set("tours", "show_tour_message", False)
    CONF.set("ipython_console", "ask_before_closing", False)
    CONF.set("main", "check_updates_on_startup", False)
    QApplication.processEvents()
    window = start.main()
    QApplication.processEvents()
    yield window
    window.closing(close_immediately=True)
    window.close()
    QApplication.processEvents()
    CONF.reset_to_defaults(notification=False)
    PLUGIN_REGISTRY.reset()
    os.chdir(cwd)
    sys.stdout, sys.stderr, sys.excepthook, sys.exit = saved


@pytest.fixture
def plugin(main_window):
    """This plugin, as the real main window loaded it, with a blank connect form.

    What earlier tests connected with (the dialog's remembered defaults, or a saved
    connection it opens with: a jump host, a project folder to sync) must not leak into the
    next test's form; it is put back afterwards.
    """
    from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY

    found = PLUGIN_REGISTRY.get_plugin("spyder_kernel_connect")
    container = found.get_container()
    remembered = {key: container.get_conf(key, {}) for key in ("last_settings", "presets")}
    for key in remembered:
        container.set_conf(key, {})
    yield found
    for key, value in remembered.items():
        container.set_conf(key, value)


@pytest.fixture
def console(main_window):
    """Spyder's IPython console plugin of the real main window."""
    from spyder.api.plugins import Plugins

    return main_window.get_plugin(Plugins.IPythonConsole)


@pytest.fixture
def close_new_consoles(console):
    """Close the consoles a test opened (their kernels belong to the kernel fixtures)."""
    before = list(console.get_clients())
    yield
    for client in list(console.get_clients()):
        if client not in before:
            console.close_client(client=client, ask_recursive=False)
