"""Kernels in SLURM jobs from the real Spyder window: dialog, pending state, tab, job end, close.

A real single-node SLURM cluster and its sshd login node (tests/slurm.py); the dialog's
"Start a kernel on a compute node (SLURM)" button; real consoles on the job's kernels.
"""

from __future__ import annotations

import os
import sys

import pytest
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QMessageBox

from tests.slurm import login_blocker, slurm_active
from tests.spyder.main_window_steps import (
    click_and_wait_for_console,
    fill_remote_form,
    open_dialog,
    run,
    wait_ready,
)

pytestmark = [pytest.mark.gui, pytest.mark.sshd, pytest.mark.slurm]


@pytest.fixture
def cluster(slurm_jobs, slurm_login, ssh_home, remote_dir, plugin):
    """The login node trusted, quick scheduler polls, and a fresh SSH session per test."""
    (ssh_home / ".ssh" / "known_hosts").write_text(slurm_login.host_key_line())
    container = plugin.get_container()
    container.close_all_tunnels()  # no session left: the next test logs in afresh
    container.job_attempts.pending_poll = 0.5
    plugin.job_consoles.watch_interval = 1.0
    yield slurm_jobs
    container.job_attempts.pending_poll = None
    plugin.job_consoles.watch_interval = None


@pytest.fixture
def login(cluster, slurm_login):
    """A session of our own on the login node, for squeue and sbatch of the blockers."""
    from spyder_kernel_connect.ssh import HostKeyDecision, TunnelManager

    with TunnelManager(host_key_decider=lambda info: HostKeyDecision.REJECT) as manager:
        yield manager.session(slurm_login.target())


def fill_job_form(dialog, server, remote_dir, python=sys.executable, **job):
    fill_remote_form(dialog, server, remote_dir, python)
    dialog.cf.clear()
    dialog.slurm.show_fields(True)
    for name, value in job.items():
        dialog.slurm.edits[f"slurm_{name}"].setText(value)


def start_job_and_wait(qtbot, console, dialog, timeout=120000):
    return click_and_wait_for_console(qtbot, console, dialog, dialog.slurm_button, timeout)


def console_text(client) -> str:
    return client.shellwidget._control.toPlainText()


def test_pending_then_running_console_shows_job_warns_and_ends(
    qtbot,
    plugin,
    console,
    cluster,
    login,
    slurm_login,
    remote_dir,
    close_new_consoles,
):
    container = plugin.get_container()
    blocker = login_blocker(login)
    dialog = open_dialog(qtbot, plugin)
    fill_job_form(dialog, slurm_login, remote_dir, time="5", cpus="1", memory="300M")
    before = len(console.get_clients())
    qtbot.mouseClick(dialog.slurm_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Pending: Resources" in dialog.progress_label.text(), timeout=120000)
    assert dialog.busy and dialog.cancel_button.isEnabled()
    job_id = next(j for j in slurm_active(login) if j != blocker)
    assert dialog.progress_label.text().startswith(f"Job {job_id}: Pending: Resources")
    login.run(f"scancel {blocker}")
    qtbot.waitUntil(lambda: len(console.get_clients()) > before, timeout=120000)
    client = console.get_clients()[-1]
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "import os; print('job', os.environ['SLURM_JOB_ID'])", f"job {job_id}")
    node = cluster.node
    qtbot.waitUntil(lambda: "min left" in client.hostname, timeout=30000)
    assert client.hostname.startswith(f"{node} · job {job_id} · ")
    # A 5-minute job is inside the last 10 minutes: one warning.
    qtbot.waitUntil(lambda: "reaches its time limit" in console_text(client), timeout=30000)

    cluster.run("scancel", job_id)  # from outside: another terminal on the cluster
    ended = f"Job {job_id} on {node} ended: Was cancelled"
    qtbot.waitUntil(lambda: ended in console_text(client), timeout=60000)
    qtbot.waitUntil(lambda: client.hostname.endswith("(job ended)"), timeout=60000)
    text = console_text(client)
    assert text.count("reaches its time limit") == 1 and text.count(ended) == 1
    assert "The kernel died" not in text
    tunnel = container.connection_for(client.connection_file).tunnel
    console.close_client(client=client, ask_recursive=False)
    qtbot.waitUntil(lambda: tunnel.closed, timeout=20000)
    assert plugin.job_consoles.close_question is None  # nothing to cancel any more
    qtbot.waitUntil(lambda: os.listdir(remote_dir) == [], timeout=20000)  # nothing left


def test_close_keeps_then_reattach_then_close_cancels(
    qtbot,
    plugin,
    console,
    cluster,
    login,
    slurm_login,
    remote_dir,
    close_new_consoles,
):
    dialog = open_dialog(qtbot, plugin)
    fill_job_form(dialog, slurm_login, remote_dir, time="30")
    client = start_job_and_wait(qtbot, console, dialog)
    shell = wait_ready(qtbot, client)
    run(qtbot, shell, "print(6 * 7)", "42")
    job_id = plugin.job_consoles.consoles[client].connection.job.job.job_id

    console.close_client(client=client, ask_recursive=False)
    qtbot.waitUntil(lambda: plugin.job_consoles.close_question is not None, timeout=20000)
    question = plugin.job_consoles.close_question
    assert question.defaultButton() is question.button(QMessageBox.Yes)  # cancel by default
    qtbot.mouseClick(question.button(QMessageBox.No), Qt.LeftButton)  # keep it running
    qtbot.wait(1000)  # a wrongly sent scancel would land meanwhile
    assert job_id in slurm_active(login)

    dialog = open_dialog(qtbot, plugin)
    fill_job_form(dialog, slurm_login, remote_dir)
    qtbot.mouseClick(dialog.slurm.jobs_button, Qt.LeftButton)
    qtbot.waitUntil(
        lambda: any(r.startswith(f"job {job_id}") for r in dialog.slurm.rows()), timeout=120000
    )
    row = next(r for r in dialog.slurm.rows() if r.startswith(f"job {job_id}"))
    assert f"on {cluster.node}: Running, " in row and row.endswith(" left")
    before = len(console.get_clients())
    item = dialog.slurm.jobs_list.item(dialog.slurm.rows().index(row))
    rect = dialog.slurm.jobs_list.visualItemRect(item)
    qtbot.mouseClick(dialog.slurm.jobs_list.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(console.get_clients()) > before, timeout=60000)
    again = console.get_clients()[-1]
    run(qtbot, wait_ready(qtbot, again), "import os; print(os.environ['SLURM_JOB_ID'])", job_id)

    console.close_client(client=again, ask_recursive=False)
    qtbot.waitUntil(lambda: plugin.job_consoles.close_question is not None, timeout=20000)
    qtbot.mouseClick(plugin.job_consoles.close_question.button(QMessageBox.Yes), Qt.LeftButton)
    qtbot.waitUntil(lambda: job_id not in slurm_active(login), timeout=60000)
    qtbot.waitUntil(lambda: os.listdir(remote_dir) == [], timeout=20000)


def test_cancel_while_pending_leaves_no_job(
    qtbot,
    plugin,
    cluster,
    login,
    slurm_login,
    remote_dir,
):
    blocker = login_blocker(login)
    dialog = open_dialog(qtbot, plugin)
    fill_job_form(dialog, slurm_login, remote_dir)
    qtbot.mouseClick(dialog.slurm_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Pending: Resources" in dialog.progress_label.text(), timeout=120000)
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=60000)
    assert "cancelled" in dialog.notice_label.plain_text().lower()
    assert slurm_active(login) == [blocker]
    assert os.listdir(remote_dir) == []
    dialog.reject()


@pytest.mark.parametrize(
    ("job", "python", "message"),
    [
        ({"partition": "nosuchpartition"}, None, "invalid partition specified: nosuchpartition"),
        ({}, "python_without_spyder_kernels", "No module named 'spyder_kernels'"),
    ],
)
def test_refused_or_failing_job_says_why_in_the_dialog(
    qtbot,
    plugin,
    cluster,
    login,
    slurm_login,
    remote_dir,
    request,
    job,
    python,
    message,
):
    python = request.getfixturevalue(python) if python else sys.executable
    dialog = open_dialog(qtbot, plugin)
    fill_job_form(dialog, slurm_login, remote_dir, python=python, **job)
    qtbot.mouseClick(dialog.slurm_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=120000)
    assert message.lower() in dialog.error_label.plain_text().lower()
    assert slurm_active(login) == []
    dialog.reject()


def fill_plain_host(dialog, sshd, remote_dir):
    """The form on the plain sshd: a host without a SLURM cluster (squeue cannot run)."""
    fill_job_form(dialog, sshd, remote_dir)
    dialog.reset_remote_kernels()
    return dialog.remote_kernels.rows()


@pytest.mark.sshd
def test_failed_jobs_listing_says_so_in_the_jobs_list_not_the_kernel_list(
    qtbot, plugin, sshd, ssh_home, remote_dir
):
    (ssh_home / ".ssh" / "known_hosts").write_text(sshd.host_key_line())
    plugin.get_container().close_all_tunnels()
    dialog = open_dialog(qtbot, plugin)
    kernel_rows = fill_plain_host(dialog, sshd, remote_dir)
    qtbot.mouseClick(dialog.slurm.jobs_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=180000)
    assert dialog.slurm.rows() == ["Could not list the jobs (see the message)."]
    assert dialog.error_label.isVisible()
    assert "squeue" in dialog.error_label.plain_text()
    assert dialog.remote_kernels.rows() == kernel_rows
    dialog.reject()


@pytest.mark.sshd
def test_cancelled_jobs_listing_says_so_in_the_jobs_list_not_the_kernel_list(
    qtbot, plugin, sshd, ssh_home, remote_dir
):
    container = plugin.get_container()
    container.close_all_tunnels()  # a fresh login: it waits on the host-key question
    (ssh_home / ".ssh" / "known_hosts").write_text("")
    dialog = open_dialog(qtbot, plugin)
    kernel_rows = fill_plain_host(dialog, sshd, remote_dir)
    qtbot.mouseClick(dialog.slurm.jobs_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: container.host_key_dialog is not None, timeout=60000)
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=180000)
    assert dialog.slurm.rows() == ["Listing cancelled."]
    assert "cancelled" in dialog.notice_label.plain_text().lower()
    assert not dialog.error_label.isVisible()
    assert dialog.remote_kernels.rows() == kernel_rows
    dialog.reject()
