"""The "Compute node (SLURM)" section of the SSH group: a kernel job's resources.

One job: hold the job's fields (partition, time, CPUs, memory, GPUs, account, extra sbatch
options, job script template), read/write them from/to ``ConnectionSettings`` (so they are
remembered per preset), list this user's kernel jobs and offer the start button that the
dialog puts next to "Start a new kernel on this host".
"""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from spyder.api.translations import _
from spyder.utils.icon_manager import ima

from spyder_kernel_connect.settings import ConnectionSettings
from spyder_kernel_connect.spyder.widgets.fields import line_edit
from spyder_kernel_connect.spyder.widgets.fold_button import FoldButton

# ConnectionSettings field -> (label, placeholder, tooltip)
JOB_FIELDS = {
    "slurm_partition": (
        _("Partition:"),
        _("default"),
        _("The partition (queue) to run the job in, e.g. gpu"),
    ),
    "slurm_time": (
        _("Time limit:"),
        _("e.g. 2:00:00"),
        _("Minutes, hours:minutes:seconds or days-hours; empty: the partition's default"),
    ),
    "slurm_cpus": (_("CPUs:"), _("e.g. 4"), _("CPU cores for the kernel (--cpus-per-task)")),
    "slurm_memory": (_("Memory:"), _("e.g. 16G"), _("Memory of the job (--mem)")),
    "slurm_gres": (_("GPUs:"), _("e.g. gpu:1"), _("Generic resources, usually GPUs (--gres)")),
    "slurm_account": (_("Account:"), _("default"), _("Account to charge (--account)")),
    "slurm_extra": (
        _("Extra sbatch options:"),
        _("e.g. --qos=short --constraint=avx2"),
        _("More sbatch options, written as on the sbatch command line"),
    ),
}


class SlurmSettingsSection(QWidget):
    """Foldable job fields, the job script template and the list of this user's kernel jobs."""

    sig_field_edited = Signal(str)
    """The user edited a field (its ``ConnectionSettings`` name)."""

    sig_jobs_list_requested = Signal()
    """List this user's kernel jobs on the cluster; answer with ``show_jobs``."""

    sig_layout_changed = Signal()
    """A part was folded or unfolded: the dialog fits its height again."""

    sig_job_picked = Signal(str)
    """
    The user picked a kept kernel job to attach to again.

    Parameters
    ----------
    job_id: str
        The job's ID.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        """Create the section, folded."""
        super().__init__(parent)
        self.setObjectName("slurm_settings")
        self.start_button = QPushButton(_("Start a kernel on a compute node (SLURM)"))
        self.start_button.setObjectName("start_slurm_kernel_button")
        self.start_button.setIcon(ima.icon("remote_server"))
        self.start_button.setToolTip(
            _(
                "Submit a batch job on the cluster (this host is its login node) that starts "
                "a Spyder kernel on a compute node, then connect to it through this host"
            )
        )

        self.fields_widget = QWidget()
        grid = QGridLayout(self.fields_widget)
        grid.setContentsMargins(18, 0, 0, 0)
        self.edits: dict[str, QLineEdit] = {}
        for index, (name, (label, placeholder, tooltip)) in enumerate(JOB_FIELDS.items()):
            edit = line_edit(placeholder, tooltip, name)
            edit.textEdited.connect(lambda _text, field=name: self.sig_field_edited.emit(field))
            self.edits[name] = edit
            if name == "slurm_extra":  # a long label: above its field, not widening column 0
                grid.addWidget(QLabel(label), 3, 0, 1, 4)
                grid.addWidget(edit, 4, 0, 1, 4)
            else:
                row, column = divmod(index, 2)
                grid.addWidget(QLabel(label), row, column * 2)
                grid.addWidget(edit, row, column * 2 + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        self.template = QPlainTextEdit()
        self.template.setObjectName("slurm_template")
        self.template.setPlaceholderText(
            _(
                "Empty: the default script. Your own, e.g.:\n#!/bin/bash -l\n"
                "module load python\nconda activate analysis\n{{kernel_command}}"
            )
        )
        self.template.setToolTip(
            _(
                "The batch script; it must contain a {{kernel_command}} line, which starts the "
                "kernel. Other placeholders: {{python}}, {{connection_file}}, {{runtime_dir}}, "
                "{{job_name}}."
            )
        )
        self.template.setFixedHeight(90)
        self.template.textChanged.connect(lambda: self.sig_field_edited.emit("slurm_template"))
        self.template_button = FoldButton(
            _("Job script (module loads, conda activate)"), "slurm_template_button", self.template
        )
        grid.addWidget(self.template_button, 5, 0, 1, 4, Qt.AlignLeft)
        grid.addWidget(self.template, 6, 0, 1, 4)

        self.jobs_button = QPushButton(_("List my kernel jobs"))
        self.jobs_button.setObjectName("slurm_jobs_button")
        self.jobs_button.setToolTip(
            _("Your kernel jobs on the cluster, pending or running; pick one to attach to it")
        )
        self.jobs_button.clicked.connect(self.sig_jobs_list_requested)
        self.jobs_list = QListWidget()
        self.jobs_list.setObjectName("slurm_jobs_list")
        self.jobs_list.setFixedHeight(60)
        self.jobs_list.itemActivated.connect(self._on_job_picked)
        self.jobs_list.itemClicked.connect(self._on_job_picked)
        self.jobs_list.hide()
        jobs_row = QHBoxLayout()
        jobs_row.addWidget(self.jobs_button)
        jobs_row.addStretch(1)
        grid.addLayout(jobs_row, 7, 0, 1, 4)
        grid.addWidget(self.jobs_list, 8, 0, 1, 4)
        self.toggle_button = FoldButton(
            _("Compute node (SLURM) job"), "slurm_toggle_button", self.fields_widget
        )
        for button in (self.toggle_button, self.template_button):
            button.sig_toggled.connect(lambda _shown: self.sig_layout_changed.emit())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.toggle_button, 0, Qt.AlignLeft)
        layout.addWidget(self.fields_widget)

    # ---- Public API
    def show_fields(self, show: bool = True) -> None:
        """Unfold (or fold) the job's fields."""
        self.toggle_button.set_unfolded(show)

    def values(self) -> dict[str, str]:
        """The section's part of ``ConnectionSettings``, as keyword arguments."""
        values = {name: edit.text().strip() for name, edit in self.edits.items()}
        values["slurm_template"] = self.template.toPlainText().strip()
        return values

    def set_values(self, settings: ConnectionSettings) -> None:
        """Show the job part of ``settings``; unfolded if any of it is set."""
        for name, edit in self.edits.items():
            edit.setText(getattr(settings, name, ""))
        self.template.setPlainText(settings.slurm_template)
        self.template_button.set_unfolded(bool(settings.slurm_template.strip()))
        self.show_fields(any(self.values().values()))

    def field_widget(self, field: str) -> QLineEdit | None:
        """The line edit of a ``slurm_*`` field, or None."""
        return self.edits.get(field)

    def show_jobs_looking(self) -> None:
        self.jobs_list.show()
        self.jobs_list.clear()
        self.jobs_list.addItem(_("Looking for your kernel jobs..."))

    def show_jobs(self, jobs: list) -> None:
        """
        Show this user's kernel jobs (``scheduler.KernelJob``) with node, state, time left.

        Parameters
        ----------
        jobs: list of KernelJob
            Pending and running kernel jobs, by job ID.
        """
        from spyder_kernel_connect.scheduler import describe_job

        self.jobs_list.show()
        self.jobs_list.clear()
        if not jobs:
            self.jobs_list.addItem(_("No kernel jobs of yours on this cluster."))
            return
        for job in jobs:
            item = QListWidgetItem(describe_job(job))
            item.setData(Qt.UserRole, job.job_id)
            item.setToolTip(_("{}\nClick to attach a console to it.").format(job.connection_file))
            item.setIcon(ima.icon("ipython_console"))
            self.jobs_list.addItem(item)

    def show_jobs_failed(self, cancelled: bool = False) -> None:
        """The listing failed (the reason is in the dialog's message area) or was cancelled."""
        self.jobs_list.show()
        self.jobs_list.clear()
        if cancelled:
            self.jobs_list.addItem(_("Listing cancelled."))
        else:
            self.jobs_list.addItem(_("Could not list the jobs (see the message)."))

    def rows(self) -> list[str]:
        return [self.jobs_list.item(i).text() for i in range(self.jobs_list.count())]

    # ---- Private
    def _on_job_picked(self, item: QListWidgetItem) -> None:
        job_id = item.data(Qt.UserRole)
        if job_id:
            self.sig_job_picked.emit(job_id)
