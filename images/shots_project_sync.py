"""Take the "Edit locally, run remotely" screenshots from the real Spyder app, under Xvfb.

    .venv/bin/python images/shots_project_sync.py [--theme light|dark] [--out images]

Same machinery as make_screenshots.py (private Xvfb, real sshd on loopback standing in for
the host, real spyder-kernels kernels behind it, a throwaway Spyder config): shoots the
connect dialog with the project-folder section ticked and filled in, then a remote console
bound to that folder after its first push, running a file whose module was just edited
(the UMR's red "Reloaded modules:" line). Everything it starts is stopped by PID.

The sshd's user is this machine's, so the "host" folder is under /srv (private when run as
root) rather than the real ~ of that user.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "src"))  # the plugin of this tree, not the installed one

import images.make_screenshots as shots  # noqa: E402
from images.make_screenshots import Shooter, settle, wait_until  # noqa: E402


def write(path: str, text: str, stamp: float | None = None) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(textwrap.dedent(text))
    if stamp is not None:  # a visibly newer mtime, as a save a moment later would give
        os.utime(path, (stamp, stamp))


class ProjectSyncShooter(Shooter):
    def start_kernels(self) -> None:  # only the "remote" host's kernels are needed here
        self.start_remote_host()

    def shoot(self, window) -> None:
        from spyder.api.plugin_registration.registry import PLUGIN_REGISTRY
        from spyder.api.plugins import Plugins

        plugin = PLUGIN_REGISTRY.get_plugin("spyder_kernel_connect")
        console = window.get_plugin(Plugins.IPythonConsole)
        container = plugin.get_container()
        wait_until(lambda: console.get_clients(), what="the first console")
        if getattr(console.get_widget(), "matplotlib_status", None) is not None:
            console.get_widget().matplotlib_status.hide()

        project = os.path.expanduser("~/project")
        write(os.path.join(project, "analysis.py"), "def mean(xs):\n    return sum(xs) / len(xs)\n")
        write(
            os.path.join(project, "main.py"),
            """\
            import platform

            import analysis

            print("on", platform.node(), "mean =", analysis.mean([]))
            """,
        )
        write(os.path.join(project, "notes.txt"), "results go to out/\n")
        host_dir = os.path.join(os.path.dirname(self.remote_runtime), "..", "project")
        host_dir = os.path.normpath(host_dir)  # /srv/project

        # 1. The dialog: SSH ticked, a local project folder mapped to ~/project on the host.
        container.connect_action.trigger()
        dialog = container.dialog
        wait_until(lambda: dialog.local_kernels.refresh_button.isEnabled(), what="kernel list")
        self.fill_remote(dialog)
        section = dialog.remote_group.project_folders
        section.enabled_box.setChecked(True)
        section.local_dir.setText(project)
        section.remote_dir.setText("~/project")
        dialog.remote_kernels.refresh_button.click()
        wait_until(lambda: not dialog.busy, what="remote kernel list")
        if dialog.error_label.isVisible():
            raise RuntimeError(dialog.error_label.plain_text())
        self.pick_kernel(dialog, "7781")
        settle()
        dialog._fit_height()
        self.save(dialog, "dialog-project-sync")

        # 2. Connect for real (host folder under /srv, see the module doc), then run a file,
        # edit its module, run it again: pushed before the run, reloaded by the UMR.
        section.remote_dir.setText(host_dir)
        before = len(console.get_clients())
        dialog.ok_button.click()
        wait_until(lambda: len(console.get_clients()) > before, timeout=120, what="remote console")
        shell = console.get_clients()[-1].shellwidget
        wait_until(lambda: shell._prompt_html is not None, what="remote prompt")
        wait_until(lambda: "synced to" in shell._control.toPlainText(), what="initial push")
        settle(1)
        main_py = os.path.join(project, "main.py")
        self.execute(shell, "import analysis")
        write(
            os.path.join(project, "analysis.py"),
            """\
            def mean(xs):
                xs = list(xs)
                return sum(xs) / max(len(xs), 1)
            """,
            stamp=time.time() + 2,
        )
        wait_until(lambda: not shell._executing)
        console.run_script(filename=main_py, wdir=project, current_client=True)
        wait_until(lambda: "mean = 0.0" in shell._control.toPlainText(), what="the run")
        wait_until(lambda: not shell._executing, what="the run's end")
        if "Reloaded modules" not in shell._control.toPlainText():
            raise RuntimeError("no Reloaded modules line:\n" + shell._control.toPlainText())
        window.activateWindow()
        shell._control.setFocus()
        settle(0.5)
        window.get_plugin(Plugins.Layout).maximize_dockwidget()
        window.resize(1000, 560)
        settle(1)
        self.save(window, "console-project-sync")

    def pick_kernel(self, dialog, prefix: str) -> None:
        listing = dialog.remote_kernels.list
        rows = [listing.item(i) for i in range(listing.count())]
        row = next(item for item in rows if item.text().startswith(prefix))
        listing.setCurrentItem(row)
        listing.itemClicked.emit(row)


if __name__ == "__main__":
    shots.Shooter = ProjectSyncShooter  # make_screenshots.main builds this module's shooter
    code = shots.main()
    os._exit(code)  # skip Qt's teardown: it would talk to the X server already stopped
