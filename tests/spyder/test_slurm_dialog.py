"""The dialog's "Compute node (SLURM)" section as a widget: fields, presets, the start button."""

from __future__ import annotations

from qtpy.QtCore import Qt

from spyder_kernel_connect.settings import ConnectionSettings

JOB = {
    "slurm_partition": "gpu",
    "slurm_time": "2:00:00",
    "slurm_cpus": "8",
    "slurm_memory": "32G",
    "slurm_gres": "gpu:1",
    "slurm_account": "physics",
    "slurm_extra": "--qos=short --constraint=avx2",
}


def fill_host(dialog):
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.setText("cluster.example.org")


def test_start_button_sits_next_to_start_on_host_and_sends_the_job(dialog, qtbot):
    fill_host(dialog)
    buttons = dialog.remote_kernels.buttons_layout
    widgets = [buttons.itemAt(i).widget() for i in range(buttons.count())]
    assert widgets.index(dialog.slurm_button) == widgets.index(dialog.start_button) + 1
    assert dialog.slurm_button.text() == "Start a kernel on a compute node (SLURM)"
    dialog.slurm.show_fields(True)
    for name, value in JOB.items():
        dialog.slurm.edits[name].setText(value)
    qtbot.mouseClick(dialog.slurm.template_button, Qt.LeftButton)
    assert dialog.slurm.template.isVisible()
    dialog.slurm.template.setPlainText("#!/bin/bash -l\nmodule load py\n{{kernel_command}}")
    with qtbot.waitSignal(dialog.sig_job_requested) as request:
        qtbot.mouseClick(dialog.slurm_button, Qt.LeftButton)
    settings, save_as, job_id = request.args
    assert (save_as, job_id) == ("", "")
    assert {name: getattr(settings, name) for name in JOB} == JOB
    assert settings.slurm_template.endswith("{{kernel_command}}")


def test_job_settings_are_remembered_per_preset(dialog, presets):
    presets.save("cluster", ConnectionSettings(remote=True, hostname="c1", **JOB))
    presets.save("lab", ConnectionSettings(remote=True, hostname="lab"))
    dialog.load_preset("cluster")
    assert dialog.slurm.fields_widget.isVisibleTo(dialog)  # unfolded: the preset uses it
    assert dialog.slurm.edits["slurm_gres"].text() == "gpu:1"
    dialog.load_preset("lab")
    assert dialog.slurm.values()["slurm_gres"] == ""
    assert not dialog.slurm.fields_widget.isVisibleTo(dialog)
    loaded = presets.load("cluster")
    assert loaded.slurm_extra == "--qos=short --constraint=avx2"


def test_listed_jobs_show_node_and_time_left_and_pick_attaches(dialog, qtbot):
    from spyder_kernel_connect.scheduler import JobPhase, JobStatus, KernelJob

    fill_host(dialog)
    status = JobStatus("4242", JobPhase.RUNNING, "RUNNING", node="node017", time_left=3723.0)
    status = JobStatus(**{**status.__dict__, "description": "Running"})
    job = KernelJob("4242", "abc", "/home/me/kernel-abc.json", "/home/me/k.log", "me@c", status)
    dialog.slurm.show_fields(True)
    dialog.slurm.show_jobs([job])
    assert dialog.slurm.rows() == ["job 4242 on node017: Running, 1:02:03 left"]
    with qtbot.waitSignal(dialog.sig_job_requested) as request:
        item = dialog.slurm.jobs_list.item(0)
        rect = dialog.slurm.jobs_list.visualItemRect(item)
        qtbot.mouseClick(dialog.slurm.jobs_list.viewport(), Qt.LeftButton, pos=rect.center())
    assert request.args[2] == "4242"


def test_job_needs_a_host(dialog, qtbot):
    dialog.remote_group.setChecked(True)
    dialog.remote_group.hostname.clear()
    with qtbot.assertNotEmitted(dialog.sig_job_requested):
        qtbot.mouseClick(dialog.slurm_button, Qt.LeftButton)
    assert dialog.error_label.isVisible()
