"""Take the README/doc screenshots from the real Spyder app with this plugin, under Xvfb.

    .venv/bin/python images/make_screenshots.py [--theme light|dark] [--out images]
    .venv/bin/python images/make_screenshots.py --small-screen [--theme ...]


Starts a private Xvfb, real kernels (``python -m spyder_kernels.console``), a real OpenSSH
sshd on a loopback port standing in for the remote host (as the tests' sshd fixture does),
and Spyder (with a throwaway config dir), then drives the plugin to: the Consoles menu, the
dialog (local, an ambiguous kernel ID, and remote with the host's kernels listed over SSH),
the host-key prompt, the preferences page pointing to the UMR switch, a console showing
"Reloaded modules:", a console on a kernel reached through the SSH tunnel, and its tab while
the SSH connection is re-established (with the outage notice and a command held at the
prompt). Everything it starts is stopped by PID.

``--small-screen`` instead takes one picture of a whole 1366x768 screen: Spyder maximized,
the dialog for a remote kernel with every section unfolded and an error from the host.

Run as root, it works in a private mount namespace with empty /home and /srv, so the
pictures show /home/ada/... and /srv/jupyter/... instead of temporary paths.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))  # the plugin of this tree, not the installed one

from tests.spyder.xvfb import Xvfb  # noqa: E402

# Imported before spyder.app.start drops PYTHONPATH's entries from sys.path.
import spyder_kernel_connect  # noqa: E402, F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", default=os.path.join(ROOT, "images"))
    parser.add_argument(
        "--small-screen", action="store_true", help="only the 1366x768 whole-screen picture"
    )
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)
    work = tempfile.mkdtemp(prefix="skc-shots-")
    home, srv = (
        ("/home/ada", "/srv")
        if private_home_and_srv()
        else (os.path.join(work, "home"), os.path.join(work, "srv"))
    )
    xvfb = Xvfb(size="1366x768x24" if args.small_screen else "1400x900x24")
    os.environ.update(
        DISPLAY=xvfb.start(),
        QT_QPA_PLATFORM="xcb",
        SPYDER_PYTEST="True",  # Spyder returns its window instead of running its own loop
        QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox",
        JUPYTER_RUNTIME_DIR=os.path.join(home, ".local", "share", "jupyter", "runtime"),
        HOME=home,
    )
    os.environ.pop("SSH_AUTH_SOCK", None)  # only the key this script sets up
    os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
    try:
        return Shooter(args.out, args.theme, work, srv, args.small_screen).run()
    finally:
        # Spyder replaced the standard streams with its console's; give them back.
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        xvfb.stop()
        shutil.rmtree(work, ignore_errors=True)


def shoot_on_private_screen(prefix: str, theme: str, out: str, shoot) -> int:
    """Run ``shoot(out, suffix, work)`` on its own Xvfb screen, as a user with an empty home.

    ``work`` is a temporary folder (the home is ``work/home``, with a 0700 ``.ssh``; the
    ssh agent is hidden); ``suffix`` is "" or "-dark", for the pictures' names. Used by
    the scripts that shoot one feature (login prompts, SLURM).
    """
    work = tempfile.mkdtemp(prefix=prefix)
    home = os.path.join(work, "home")
    os.makedirs(os.path.join(home, ".ssh"), mode=0o700)
    xvfb = Xvfb(size="1400x900x24")
    os.environ.update(
        DISPLAY=xvfb.start(),
        QT_QPA_PLATFORM="xcb",
        SPYDER_PYTEST="True",
        QTWEBENGINE_CHROMIUM_FLAGS="--no-sandbox",
        JUPYTER_RUNTIME_DIR=os.path.join(home, "runtime"),
        HOME=home,
    )
    os.environ.pop("SSH_AUTH_SOCK", None)
    try:
        return shoot(os.path.abspath(out), "" if theme == "light" else "-dark", work)
    finally:
        sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        # Before Xvfb stops: Qt ends the process at once when its X connection breaks.
        shutil.rmtree(work, ignore_errors=True)
        xvfb.stop()


def private_home_and_srv() -> bool:
    """Empty tmpfs on /home and /srv, seen only by this process and its children.

    Must run while the process is single-threaded (unshare of the mount namespace).
    Needs root; without it the pictures show temporary paths instead.
    """
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return False
    clone_newns = 0x00020000
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(clone_newns) != 0:
        return False
    mounts = (
        ["mount", "--make-rprivate", "/"],  # nothing below leaks to the host's namespace
        ["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/home"],
        ["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/srv"],
    )
    return all(subprocess.run(cmd, check=False).returncode == 0 for cmd in mounts)


def start_kernel(connection_file: str):
    """A kernel as the guide tells users to start one: ``python -m spyder_kernels.console``."""
    from tests.conftest import start_kernel as start_real_kernel

    return start_real_kernel(connection_file, module="spyder_kernels.console")


def wait_until(condition, timeout: float = 60.0, what: str = "") -> None:
    from qtpy.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or condition}")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.6) -> None:
    """Let Qt paint for a while (animations, delayed layouts) before a grab."""
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


class Shooter:
    def __init__(self, out: str, theme: str, work: str, srv: str, small: bool = False) -> None:
        self.out = out
        self.small = small
        self.suffix = "" if theme == "light" else "-dark"
        self.theme = theme
        self.work = work
        self.kernels = []
        self.sshd = None
        self.remote_runtime = os.path.join(srv, "jupyter", "runtime")

    def save(self, widget, name: str) -> None:
        settle()
        path = os.path.join(self.out, f"{name}{self.suffix}.png")
        widget.grab().save(path)
        print("wrote", path, file=sys.__stdout__, flush=True)

    def run(self) -> int:
        from qtpy import QtWebEngineWidgets  # noqa: F401  (before the QApplication)
        from spyder.config.manager import CONF

        CONF.set("tours", "show_tour_message", False)
        CONF.set("main", "check_updates_on_startup", False)
        CONF.set("ipython_console", "ask_before_closing", False)
        if self.theme == "dark":
            CONF.set("appearance", "ui_theme", "dark")
            CONF.set("appearance", "selected", "spyder/dark")
        else:
            CONF.set("appearance", "ui_theme", "light")
            CONF.set("appearance", "selected", "spyder")
        try:
            self.start_kernels()
            from spyder.app import start

            window = start.main()
            if self.small:  # no window manager to maximize it: fill the screen by hand
                window.setGeometry(window.screen().availableGeometry())
                window.showNormal()
                settle(3)
                self.shoot_small_screen(window)
            else:
                window.resize(1280, 800)
                window.showNormal()
                settle(3)
                self.shoot(window)
            window.closing(close_immediately=True)
            window.close()
        finally:
            for km in self.kernels:
                km.shutdown_kernel(now=True)
                km.cleanup_resources()
            if self.sshd is not None:
                from tests.sshd import stop_sshd

                stop_sshd(self.sshd)
        return 0

    def start_kernels(self) -> None:
        runtime = os.environ["JUPYTER_RUNTIME_DIR"]
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        self.kernels.append(start_kernel(os.path.join(runtime, "kernel-48213.json")))
        time.sleep(1.1)
        self.kernels.append(start_kernel(os.path.join(runtime, "kernel-51977.json")))
        # A kernel that exited without removing its file, to show how dead ones look; its
        # ID shares "4821" with a live one, for the ambiguous-ID picture.
        with open(os.path.join(runtime, "kernel-48217.json"), "w") as handle:
            handle.write(
                '{"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "control_port": 4, '
                '"hb_port": 5, "ip": "127.0.0.1", "key": "x", "transport": "tcp"}'
            )
        os.utime(os.path.join(runtime, "kernel-48217.json"), (time.time() - 7200,) * 2)
        self.start_remote_host()

    def start_remote_host(self) -> None:
        """A real sshd on localhost with kernels in its own runtime dir: the "remote" host."""
        from pathlib import Path

        from tests.sshd import start_sshd

        self.sshd = start_sshd(Path(self.work) / "sshd")
        ssh_dir = os.path.join(os.environ["HOME"], ".ssh")
        key = os.path.join(ssh_dir, "id_ed25519")
        shutil.copyfile(self.sshd.user_key, key)
        os.chmod(key, 0o600)
        with open(os.path.join(ssh_dir, "known_hosts"), "w") as handle:
            handle.write(self.sshd.host_key_line().replace(self.sshd.host, "localhost"))
        os.makedirs(self.remote_runtime, mode=0o700, exist_ok=True)
        kernels = ("kernel-7781.json", "kernel-7b2e41c9-3f0d-4a57-9f1e-0c6d2b8e5a13.json")
        for name in kernels:
            self.kernels.append(start_kernel(os.path.join(self.remote_runtime, name)))
            time.sleep(1.1)
        with open(os.path.join(self.remote_runtime, "kernel-6420.json"), "w") as handle:
            handle.write('{"shell_port": 1, "iopub_port": 2, "stdin_port": 3,')
        os.utime(os.path.join(self.remote_runtime, "kernel-6420.json"), (time.time() - 5400,) * 2)
        with open(os.path.join(self.remote_runtime, "kernel-5991.json"), "w") as handle:
            handle.write(
                '{"shell_port": 9, "iopub_port": 9, "stdin_port": 9, "control_port": 9, '
                '"hb_port": 9, "ip": "127.0.0.1", "key": "x", "transport": "tcp"}'
            )
        os.utime(os.path.join(self.remote_runtime, "kernel-5991.json"), (time.time() - 90000,) * 2)

    def shoot(self, window) -> None:
        from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY
        from spyder.api.plugins import Plugins

        plugin = PLUGIN_REGISTRY.get_plugin("spyder_kernel_connect")
        console = window.get_plugin(Plugins.IPythonConsole)
        container = plugin.get_container()
        wait_until(lambda: console.get_clients(), what="the first console")
        # Under SPYDER_PYTEST the console makes a status widget for tests in its own top
        # left corner, over the tabs; a user never sees it.
        if getattr(console.get_widget(), "matplotlib_status", None) is not None:
            console.get_widget().matplotlib_status.hide()

        # 1. The dialog, local kernel by bare ID.
        container.connect_action.trigger()
        dialog = container.dialog
        wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled(), what="kernel list")
        dialog.cf.setText("48213")
        wait_until(
            lambda: "Resolves to" in dialog.kernel_group.status.plain_text(), what="resolution"
        )
        self.save(dialog, "dialog-local")

        # 1b. A partial ID that fits two kernels: the dialog names both instead of guessing.
        dialog.cf.setText("4821")
        wait_until(lambda: "matches" in dialog.kernel_group.status.plain_text(), what="ambiguity")
        dialog._fit_height()
        dialog.local_kernels.list.scrollToBottom()  # both candidates in view
        self.save(dialog, "dialog-error")

        # 2. The same dialog for a remote kernel: the host's kernels listed over SSH (a real
        # sshd on localhost), one picked, settings to be saved.
        self.fill_remote(dialog)
        dialog.show_advanced(True)
        dialog.remote_kernels.refresh_button.click()
        wait_until(lambda: not dialog.busy, what="remote kernel list")
        if dialog.error_label.isVisible():
            raise RuntimeError(dialog.error_label.plain_text())
        first = dialog.remote_kernels.list.item(0)
        dialog.remote_kernels.list.setCurrentItem(first)
        dialog.remote_kernels.list.itemClicked.emit(first)
        dialog.save_check.setChecked(True)
        dialog.save_name.setText("lab server")
        settle()
        dialog._fit_height()
        self.save(dialog, "dialog-remote")

        # 3. The unknown-host-key prompt, with a real key's fingerprint.
        self.shoot_host_key(dialog)
        dialog.reject()
        settle()

        # 4. Preferences: our page says where the UMR switch is (Spyder's own options).
        from spyder.config.manager import CONF

        CONF.set("main_interpreter", "umr/namelist", ["numpy", "pandas"])
        preferences = window.get_plugin(Plugins.Preferences)
        preferences.open_dialog()
        prefs = preferences.get_container()
        wait_until(lambda: prefs.dialog is not None and prefs.dialog.isVisible())
        index = prefs.dialog.get_index_by_name(plugin.NAME)
        prefs.dialog.set_current_index(index)
        prefs.dialog.resize(1000, 760)
        self.save(prefs.dialog, "preferences-umr")
        prefs.dialog.close()
        settle()

        # 5. A console connected through the dialog, showing the UMR at work.
        container.connect_action.trigger()
        dialog = container.dialog
        wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled())
        dialog.remote_group.setChecked(False)
        dialog.cf.setText("48213")
        before = len(console.get_clients())
        dialog.ok_button.click()
        wait_until(lambda: len(console.get_clients()) > before, what="connected console")
        client = console.get_clients()[-1]
        shell = client.shellwidget
        wait_until(lambda: shell._prompt_html is not None, what="prompt")
        settle(1)
        project = os.path.expanduser("~/project")
        os.makedirs(project)
        module = os.path.join(project, "analysis.py")
        with open(module, "w") as handle:
            handle.write("def mean(xs):\n    return sum(xs) / len(xs)\n")
        self.execute(shell, f"import sys; sys.path.insert(0, {project!r})")
        self.execute(shell, "import analysis; analysis.mean([1, 2, 3, 4])")
        with open(module, "w") as handle:
            handle.write("def mean(xs):\n    xs = list(xs)\n    return sum(xs) / max(len(xs), 1)\n")
        stamp = time.time() + 2
        os.utime(module, (stamp, stamp))
        self.execute(shell, "analysis.mean([])")
        wait_until(lambda: "Reloaded modules" in shell._control.toPlainText(), what="reload")
        window.activateWindow()
        shell._control.setFocus()
        settle(0.5)
        window.get_plugin(Plugins.Layout).maximize_dockwidget()
        window.resize(1000, 560)
        settle(1)
        self.save(window, "console-reloaded")

        # The Consoles menu with our entry in the place of Spyder's, over that console.
        self.shoot_consoles_menu(window, container.connect_action)

        # 6. A console on a kernel on the "remote" host, through the SSH tunnel.
        self.shoot_remote_console(window, console, container)

    def shoot_small_screen(self, window) -> None:
        """The whole 1366x768 screen: the remote form unfolded, with the host's answer."""
        from qtpy.QtWidgets import QApplication
        from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY

        container = PLUGIN_REGISTRY.get_plugin("spyder_kernel_connect").get_container()
        container.connect_action.trigger()
        dialog = container.dialog
        wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled(), what="kernel list")
        self.fill_remote(dialog)
        dialog.show_advanced(True)
        dialog.remote_kernels.refresh_button.click()
        wait_until(lambda: not dialog.busy, what="remote kernel list")
        # A Python without spyder-kernels on the host: its real error, with the install hint.
        dialog.remote_group.remote_python.setText("/usr/bin/python3")
        dialog.start_button.click()
        wait_until(lambda: not dialog.busy and dialog.error_label.isVisible(), what="error")
        settle(1)
        image = QApplication.primaryScreen().grabWindow(0)
        path = os.path.join(self.out, f"dialog-1366x768{self.suffix}.png")
        image.save(path)
        print("wrote", path, file=sys.__stdout__, flush=True)
        dialog.reject()

    def shoot_consoles_menu(self, window, action) -> None:
        from qtpy.QtCore import QRect
        from qtpy.QtWidgets import QApplication
        from spyder.api.plugins import Plugins
        from spyder.plugins.mainmenu.api import ApplicationMenus

        menu = window.get_plugin(Plugins.MainMenu).get_application_menu(ApplicationMenus.Consoles)
        window.activateWindow()
        window.menuBar().setActiveAction(menu.menuAction())
        wait_until(menu.isVisible, what="Consoles menu")
        settle(0.5)
        menu.setActiveAction(action)
        settle()
        # The menu is a window of its own: grab the screen where window and menu are.
        top_left = window.geometry().topLeft()
        popup = menu.geometry()
        area = QRect(top_left, popup.bottomRight()).adjusted(0, 0, 24, 24)
        area = area.intersected(window.geometry())
        image = QApplication.primaryScreen().grabWindow(
            0, area.x(), area.y(), area.width(), area.height()
        )
        path = os.path.join(self.out, f"consoles-menu{self.suffix}.png")
        image.save(path)
        print("wrote", path, file=sys.__stdout__, flush=True)
        menu.hide()
        window.menuBar().setActiveAction(None)
        settle()

    def fill_remote(self, dialog) -> None:
        """The SSH part of the form, for the local sshd standing in for a lab server."""
        dialog.cf.clear()
        dialog.remote_group.setChecked(True)
        dialog.remote_group.hostname.setText("localhost")
        dialog.remote_group.port.setText(str(self.sshd.port))
        dialog.remote_group.username.setText(self.sshd.user)
        dialog.remote_group.key_radio.setChecked(True)
        dialog.remote_group.key_file.setText("~/.ssh/id_ed25519")
        dialog.remote_group.remote_runtime_dir.setText(self.remote_runtime)

    def shoot_remote_console(self, window, console, container) -> None:
        container.connect_action.trigger()
        dialog = container.dialog
        wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled())
        self.fill_remote(dialog)
        dialog.remote_kernels.refresh_button.click()
        wait_until(lambda: not dialog.busy, what="remote kernel list")
        if dialog.error_label.isVisible():
            raise RuntimeError(dialog.error_label.plain_text())
        rows = [
            dialog.remote_kernels.list.item(i) for i in range(dialog.remote_kernels.list.count())
        ]
        row = next(item for item in rows if item.text().startswith("7781"))
        dialog.remote_kernels.list.setCurrentItem(row)
        dialog.remote_kernels.list.itemClicked.emit(row)
        before = len(console.get_clients())
        dialog.ok_button.click()
        wait_until(lambda: len(console.get_clients()) > before, timeout=120, what="remote console")
        client = console.get_clients()[-1]
        shell = client.shellwidget
        wait_until(lambda: shell._prompt_html is not None, what="remote prompt")
        settle(1)
        self.execute(shell, "import os, platform")
        self.execute(shell, "platform.node(), os.getpid()")
        self.execute(shell, "sum(x * x for x in range(10))")
        shell._control.setFocus()
        settle(1)
        self.save(window, "console-remote")

        # 7. The SSH connection drops: kill sshd's per-connection processes (as the tests'
        # kill_connections does) and hold the listener for a moment, so the plugin is seen
        # re-establishing the connection; then let it through again.
        widget = console.get_widget()

        def tab() -> str:  # the tab's text: the console's name and the tunnel's state
            return widget.tabwidget.tabText(widget.get_client_index_from_id(id(client)))

        listener = self.sshd.process.pid
        os.kill(listener, signal.SIGSTOP)
        try:
            self.sshd.kill_connections()
            wait_until(lambda: "reconnecting" in tab(), timeout=30, what="reconnect")
            settle(1)
            self.save(window, "tab-reconnecting")
            # 7b. A command typed meanwhile is held at the prompt, under one notice.
            shell._control.setFocus()
            shell._control.insertPlainText("sum(x * x for x in range(10))")
            shell.execute(interactive=True)
            wait_until(lambda: "stays at the prompt" in shell._control.toPlainText())
            settle(1)
            self.save(window, "console-outage")
        finally:
            os.kill(listener, signal.SIGCONT)
        wait_until(lambda: "reconnecting" not in tab(), timeout=90, what="reconnected")
        wait_until(lambda: "restored" in shell._control.toPlainText(), timeout=90, what="restored")
        wait_until(lambda: not shell._executing, what="the held command")

    def execute(self, shell, code: str) -> None:
        wait_until(lambda: not shell._executing)
        shell.execute(code)
        wait_until(lambda: not shell._executing, what=code)
        settle(0.3)

    def shoot_host_key(self, parent) -> None:
        import paramiko

        from spyder_kernel_connect.spyder.widgets.hostkey import HostKeyDialog
        from spyder_kernel_connect.ssh import HostKeyDecision, HostKeyInfo, fingerprint

        key_path = os.path.join(self.work, "host_key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key_path], check=True)
        key = paramiko.Ed25519Key.from_private_key_file(key_path)
        info = HostKeyInfo(
            "lab.example.org",
            22,
            key.get_name(),
            fingerprint(key),
            os.path.expanduser("~/.ssh/known_hosts").replace(os.environ["HOME"], "~"),
        )
        prompt = HostKeyDialog(parent, info, HostKeyDecision)
        prompt.open()
        self.save(prompt, "host-key")
        prompt.reject()


if __name__ == "__main__":
    code = main()
    # Skip Qt's teardown: it would talk to the X server we just stopped.
    os._exit(code)
