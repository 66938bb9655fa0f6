"""Take the "bastion with two-factor login" screenshots from the real Spyder app, under Xvfb.

    .venv/bin/python images/make_login_screenshots.py [--theme light|dark] [--out images]

Run as root with Debian's libpam-oath and oathtool: it starts a bastion sshd that asks for
a key and then a TOTP code (tests/sshd_otp.py, a private PAM service), a lab sshd reachable
through it, a kernel, Xvfb and Spyder; fills the dialog (host ``lab``, jump host
``bastion``, both from a private ~/.ssh/config), presses Connect and shoots the dialog with
the server's prompt over it, then answers with the right code. Then the bastion's
connection is dropped (its sshd's per-connection processes killed, as the tests do): the
console waits for a new code, shot with its own prompt above it; the prompt is cancelled,
and the disconnected console is shot, then its tab menu with Reconnect. Everything it
starts is stopped by PID, and the PAM file is removed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))  # the plugin of this tree, not the installed one

from images.make_screenshots import (  # noqa: E402
    settle,
    shoot_on_private_screen,
    start_kernel,
    wait_until,
)

import spyder_kernel_connect  # noqa: E402, F401  (before spyder.app.start drops PYTHONPATH)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", default=os.path.join(ROOT, "images"))
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("oathtool"):
        print("run as root with libpam-oath and oathtool installed", file=sys.stderr)
        return 2
    return shoot_on_private_screen("skc-login-shots-", args.theme, args.out, shoot)


def shoot(out: str, suffix: str, work: str) -> int:
    from qtpy import QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from spyder.config.manager import CONF
    from tests.conftest import stop_kernel
    from tests.sshd import start_sshd, stop_sshd
    from tests.sshd_otp import OTPServer, pam_sshd

    CONF.set("tours", "show_tour_message", False)
    CONF.set("main", "check_updates_on_startup", False)
    CONF.set("ipython_console", "ask_before_closing", False)
    dark = suffix == "-dark"
    CONF.set("appearance", "ui_theme", "dark" if dark else "light")
    CONF.set("appearance", "selected", "spyder/dark" if dark else "spyder")
    users = Path(work, "users.oath")
    pam = f"auth required pam_oath.so usersfile={users} window=2 digits=6\n"
    lab = start_sshd(Path(work) / "lab")
    kernel = start_kernel(os.path.join(work, "kernel-7e57.json"))
    try:
        with pam_sshd(Path(work, "bastion"), "shot", pam, "publickey,keyboard-interactive") as b:
            otp = OTPServer(b, users)
            otp.new_secret()
            ssh = Path(os.environ["HOME"], ".ssh")
            (ssh / "config").write_text(
                f"Host bastion\n    HostName 127.0.0.1\n    Port {b.port}\n"
                f"    IdentityFile {b.user_key}\n"
                f"Host lab\n    HostName 127.0.0.1\n    Port {lab.port}\n"
                f"    IdentityFile {lab.user_key}\n"
            )
            (ssh / "known_hosts").write_text(b.host_key_line() + lab.host_key_line())
            from spyder.app import start

            window = start.main()
            window.resize(1280, 800)
            window.showNormal()
            settle(3)
            drive(window, otp, kernel.connection_file, out, suffix)
            window.closing(close_immediately=True)
            window.close()
    finally:
        stop_kernel(kernel)
        stop_sshd(lab)
    return 0


def drive(window, otp, connection_file: str, out: str, suffix: str) -> None:
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication
    from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY
    from spyder.api.plugins import Plugins

    from spyder_kernel_connect.spyder.widgets.login_prompt import LoginPromptDialog

    plugin = PLUGIN_REGISTRY.get_plugin("spyder_kernel_connect")
    container = plugin.get_container()
    console = window.get_plugin(Plugins.IPythonConsole)
    container.connect_action.trigger()
    dialog = container.dialog
    wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled())
    dialog.cf.setText(connection_file)
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText("lab")
    dialog.remote_group.jump.setText("bastion")
    dialog.remote_group.key_radio.setChecked(True)
    dialog.save_check.setChecked(False)
    settle(1)
    dialog.grab().save(os.path.join(out, f"dialog-jump-hosts{suffix}.png"))
    shots: list = []

    def on_prompt():  # runs inside the prompt's own modal loop
        prompt = QApplication.activeModalWidget()
        if not isinstance(prompt, LoginPromptDialog) or shots:
            return
        shots.append(prompt)
        settle(1)
        path = os.path.join(out, f"login-prompt{suffix}.png")
        prompt.grab().save(path)
        screen = os.path.join(out, f"login-prompt-over-dialog{suffix}.png")
        subprocess.run(["import", "-window", "root", screen], check=False)
        print("wrote", path, screen, file=sys.__stdout__, flush=True)
        prompt.fields[0].setText(otp.code())
        prompt.ok_button.click()

    timer = QTimer()
    timer.timeout.connect(on_prompt)
    timer.start(100)
    before = len(console.get_clients())
    dialog.ok_button.click()
    wait_until(lambda: len(console.get_clients()) > before, timeout=120, what="console")
    timer.stop()
    shoot_reconnect(window, console, console.get_clients()[-1], otp, out, suffix)


def shoot_reconnect(window, console, client, otp, out: str, suffix: str) -> None:
    """The bastion drops: the console waits for a new code (its prompt over it); cancel."""
    from qtpy.QtWidgets import QApplication

    from spyder_kernel_connect.spyder.widgets.login_prompt import LoginPromptDialog

    shell = client.shellwidget
    wait_until(lambda: shell._prompt_html is not None, timeout=60, what="console prompt")
    for code in ("import os, platform", "platform.node(), os.getpid()"):
        wait_until(lambda: not shell._executing)
        shell.execute(code)
        wait_until(lambda: not shell._executing, what=code)
    widget = console.get_widget()

    def tab() -> str:
        return widget.tabwidget.tabText(widget.get_client_index_from_id(id(client)))

    def prompts() -> list:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, LoginPromptDialog) and w.isVisible()
        ]

    otp.server.kill_connections()
    wait_until(lambda: prompts() and "waiting for your code" in tab(), timeout=60, what="ask")
    settle(2)
    screen(out, f"console-waiting-for-code{suffix}.png")
    prompts()[0].cancel_button.click()
    wait_until(lambda: "login cancelled" in tab(), timeout=30, what="cancelled")
    shell._control.setFocus()
    settle(2)
    screen(out, f"console-login-cancelled{suffix}.png")
    # Its way back: the tab's menu (a right-click on the tab) offers Reconnect.
    bar = widget.tabwidget.tabBar()
    index = widget.get_client_index_from_id(id(client))
    menu = widget.tabwidget.menu
    widget.tabwidget.setCurrentIndex(index)
    menu.popup(bar.mapToGlobal(bar.tabRect(index).center()))
    wait_until(menu.isVisible, what="tab menu")
    settle(1)
    screen(out, f"console-reconnect-menu{suffix}.png")
    menu.hide()


def screen(out: str, name: str) -> None:
    path = os.path.join(out, name)
    subprocess.run(["import", "-window", "root", path], check=False)
    print("wrote", path, file=sys.__stdout__, flush=True)


if __name__ == "__main__":
    sys.exit(main())
