"""Take the "Kernels on a cluster" screenshots from the real Spyder app, under Xvfb.

    .venv/bin/python images/make_slurm_screenshots.py [--theme light|dark] [--out images]

Run as root on a machine with Debian's slurm-wlm and munge: it starts the tests' single-node
SLURM cluster (tests/slurm.py), an sshd standing in for its login node, Xvfb and Spyder,
then shoots the dialog's SLURM section while a job waits in the queue (another job holds
the node), and a console on the job's kernel with the tab "node · job N · time left" and
the warning before the time limit. Everything it starts is stopped by PID.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))  # the plugin of this tree, not the installed one

from images.make_screenshots import settle, shoot_on_private_screen, wait_until  # noqa: E402

import spyder_kernel_connect  # noqa: E402, F401  (before spyder.app.start drops PYTHONPATH)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--out", default=os.path.join(ROOT, "images"))
    args = parser.parse_args()
    from tests.slurm import skip_reason

    if skip_reason():
        print(f"cannot start the SLURM cluster: {skip_reason()}", file=sys.stderr)
        return 2
    return shoot_on_private_screen("skc-slurm-shots-", args.theme, args.out, shoot)


def save(widget, out: str, name: str) -> None:
    settle()
    path = os.path.join(out, f"{name}.png")
    widget.grab().save(path)
    print("wrote", path, file=sys.__stdout__, flush=True)


def shoot(out: str, suffix: str, work: str) -> int:
    from qtpy import QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from spyder.config.manager import CONF
    from tests.slurm import start_slurm, stop_slurm
    from tests.sshd import start_sshd, stop_sshd

    CONF.set("tours", "show_tour_message", False)
    CONF.set("main", "check_updates_on_startup", False)
    CONF.set("ipython_console", "ask_before_closing", False)
    dark = suffix == "-dark"
    CONF.set("appearance", "ui_theme", "dark" if dark else "light")
    CONF.set("appearance", "selected", "spyder/dark" if dark else "spyder")
    cluster = start_slurm()
    os.environ["SLURM_CONF"] = str(cluster.conf)
    login = start_sshd(Path(work) / "login", f"SetEnv SLURM_CONF={cluster.conf} SHLVL=1\n")
    runtime = os.path.join(work, "cluster-home", "jupyter", "runtime")
    try:
        ssh_dir = os.path.join(os.environ["HOME"], ".ssh")
        key = os.path.join(ssh_dir, "id_ed25519")
        shutil.copyfile(login.user_key, key)
        os.chmod(key, 0o600)
        with open(os.path.join(ssh_dir, "known_hosts"), "w") as handle:
            handle.write(login.host_key_line().replace(login.host, "localhost"))
        from spyder.app import start

        window = start.main()
        window.resize(1280, 800)
        window.showNormal()
        settle(3)
        drive(window, cluster, login, runtime, out, suffix)
        window.closing(close_immediately=True)
        window.close()
    finally:
        stop_sshd(login)
        stop_slurm(cluster)
    return 0


def drive(window, cluster, login, runtime: str, out: str, suffix: str) -> None:
    from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY
    from spyder.api.plugins import Plugins

    plugin = PLUGIN_REGISTRY.get_plugin("spyder_kernel_connect")
    container = plugin.get_container()
    console = window.get_plugin(Plugins.IPythonConsole)
    container.job_attempts.pending_poll = 1.0
    blocker = cluster.submit_blocker()

    container.connect_action.trigger()
    dialog = container.dialog
    wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled())
    dialog.cf.clear()
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText("localhost")
    dialog.remote_group.port.setText(str(login.port))
    dialog.remote_group.key_radio.setChecked(True)
    dialog.remote_group.key_file.setText("~/.ssh/id_ed25519")
    dialog.remote_group.remote_python.setText(sys.executable)
    dialog.remote_group.remote_runtime_dir.setText(runtime)
    dialog.save_check.setChecked(True)
    dialog.save_name.setText("cluster")
    dialog.slurm.show_fields(True)
    for name, value in (
        ("partition", cluster.partition),
        ("time", "0:08:00"),
        ("cpus", "1"),
        ("memory", "2G"),
        ("account", ""),
        ("gres", ""),
        ("extra", "--qos=normal"),
    ):
        dialog.slurm.edits[f"slurm_{name}"].setText(value)
    settle(1)
    save(dialog, out, f"dialog-slurm{suffix}")
    before = len(console.get_clients())
    dialog.slurm_button.click()
    wait_until(lambda: "Pending: Resources" in dialog.progress_label.text(), what="pending")
    settle(1)
    save(dialog, out, f"dialog-slurm-pending{suffix}")

    cluster.run("scancel", blocker)
    wait_until(lambda: len(console.get_clients()) > before, timeout=180, what="job console")
    client = console.get_clients()[-1]
    shell = client.shellwidget
    wait_until(lambda: shell._prompt_html is not None, what="prompt")
    wait_until(lambda: "reaches its time limit" in shell._control.toPlainText(), what="warning")
    for code in ("import os, socket", "os.environ['SLURM_JOB_ID'], socket.gethostname()"):
        wait_until(lambda: not shell._executing)
        shell.execute(code)
        wait_until(lambda: not shell._executing, what=code)
    shell._control.setFocus()
    settle(1.5)
    save(window, out, f"console-slurm{suffix}")
    console.close_client(client=client, ask_recursive=False)
    wait_until(lambda: plugin.job_consoles.close_question is not None, what="close question")
    question = plugin.job_consoles.close_question
    settle(1)
    save(question, out, f"slurm-close-question{suffix}")
    question.button(question.Yes).click()
    wait_until(lambda: not cluster.jobs(), timeout=60, what="job cancelled")


if __name__ == "__main__":
    sys.exit(main())
