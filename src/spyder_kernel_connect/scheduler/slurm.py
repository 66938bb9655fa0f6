"""SLURM: the first :class:`Scheduler` (sbatch, squeue, scontrol, sacct, scancel)."""

from __future__ import annotations

import dataclasses
import shlex

from spyder_kernel_connect.scheduler import slurm_output as out
from spyder_kernel_connect.scheduler.base import JobPhase, JobResources, JobStatus, Scheduler
from spyder_kernel_connect.scheduler.errors import (
    SchedulerError,
    SchedulerMissing,
    SubmitRejected,
)

NOT_FOUND_STATUS = 127


class SlurmScheduler(Scheduler):
    name = "SLURM"

    def submit(
        self, script: str, resources: JobResources, job_name: str, output: str, comment: str = ""
    ) -> str:
        resources.validate()
        command = ["sbatch", "--parsable", f"--job-name={job_name}", f"--output={output}"]
        if comment:
            command.append(f"--comment={comment}")
        command += ["--nodes=1", "--ntasks=1"]
        command += sbatch_resource_args(resources)
        status, stdout, stderr = self._run(shlex.join(command), stdin=script)
        job_id = stdout.strip().splitlines()[-1].split(";")[0].strip() if stdout.strip() else ""
        if status != 0 or not job_id.isdigit():
            raise SubmitRejected(
                f"SLURM on {self.label} refused the job: {out.sbatch_message(stderr, stdout)}.",
                "Check the partition, account, time limit and resources (sinfo lists the "
                "partitions and their limits; sacctmgr show assoc user=$USER your accounts).",
                host=self.label,
            )
        return job_id

    def state(self, job_id: str) -> JobStatus:
        _check_id(job_id)
        fmt = shlex.quote(out.SQUEUE_FORMAT)
        status, stdout, _ = self._run(f"squeue -h -t all -j {job_id} -o {fmt}")
        jobs = [j for j in out.parse_squeue(stdout) if j.job_id == job_id] if status == 0 else []
        if jobs and jobs[0].phase is not JobPhase.ENDED:
            return jobs[0]
        # Ended (or purged from squeue): scontrol knows exit codes and the output file until
        # MinJobAge; sacct remembers for good where accounting is on.
        return self.final_state(job_id) or (jobs[0] if jobs else _unknown(job_id))

    def final_state(self, job_id: str) -> JobStatus | None:
        """How an ended job ended, from scontrol, else from sacct (accounting)."""
        _check_id(job_id)
        status, stdout, _ = self._run(f"scontrol show job -o {job_id}")
        if status == 0:
            job = out.parse_scontrol_job(stdout)
            if job is not None:
                if job.phase is JobPhase.ENDED:
                    job = self._with_sacct_detail(job)
                return job
        fields = ",".join(out.SACCT_FIELDS)
        status, stdout, _ = self._run(f"sacct -n -P -X -j {job_id} -o {fields}")
        return out.parse_sacct(stdout) if status == 0 else None

    def _with_sacct_detail(self, job: JobStatus) -> JobStatus:
        """scontrol says CANCELLED; sacct says by whom ("CANCELLED by 1000")."""
        fields = ",".join(out.SACCT_FIELDS)
        status, stdout, _ = self._run(f"sacct -n -P -X -j {job.job_id} -o {fields}")
        accounted = out.parse_sacct(stdout) if status == 0 else None
        if accounted is None or accounted.state == job.state:
            return job
        description = out.describe(accounted.state, job.reason, job.exit_code)
        return dataclasses.replace(job, state=accounted.state, description=description)

    def cancel(self, job_id: str) -> None:
        _check_id(job_id)
        status, stdout, stderr = self._run(f"scancel {job_id}")
        message = (stderr or stdout).strip()
        if status != 0 and not any(
            text in message for text in ("Invalid job id", "already completing", "completed")
        ):
            raise SchedulerError(
                f"scancel {job_id} failed on {self.label}: {message or f'exit status {status}'}.",
                f"Cancel it by hand on the login node (scancel {job_id}).",
                host=self.label,
            )

    def list_jobs(self, name_prefix: str = "") -> list[JobStatus]:
        fmt = shlex.quote(out.SQUEUE_FORMAT)
        status, stdout, stderr = self._run(f'squeue -h -u "$(id -un)" -o {fmt}')
        if status != 0:
            raise SchedulerError(
                f"squeue failed on {self.label}: {stderr.strip() or f'exit status {status}'}.",
                "Check that SLURM works on the login node (run squeue there).",
                host=self.label,
            )
        return [j for j in out.parse_squeue(stdout) if j.name.startswith(name_prefix)]

    def _run(self, command: str, stdin: str | None = None) -> tuple[int, str, str]:
        status, stdout, stderr = self.runner(command, stdin)
        if status == NOT_FOUND_STATUS or (status != 0 and "command not found" in stderr):
            raise SchedulerMissing(
                f"{command.split()[0]} is not found on {self.label}: is this a SLURM cluster?",
                "Log in to the cluster's login node; if SLURM's commands are only on the PATH "
                "of login shells there, add their directory to PATH in ~/.bashrc (or the "
                "shell's non-interactive startup file).",
                host=self.label,
            )
        return status, stdout, stderr


# JobResources field -> the sbatch option that asks for it.
SBATCH_OPTIONS = (
    ("partition", "--partition"),
    ("time", "--time"),
    ("cpus", "--cpus-per-task"),
    ("memory", "--mem"),
    ("gres", "--gres"),
    ("account", "--account"),
)


def sbatch_resource_args(resources: JobResources) -> list[str]:
    """The sbatch options of the resources given (empty ones leave SLURM's defaults)."""
    args = []
    for name, option in SBATCH_OPTIONS:
        value = getattr(resources, name)
        if value:
            args.append(f"{option}={str(value).strip()}")
    return args + [a for a in resources.extra_args if a.strip()]


def _check_id(job_id: str) -> None:
    # Job IDs go into shell commands: digits (and array/het suffixes) only.
    if not job_id or not all(c.isdigit() or c in "_+" for c in job_id):
        raise SchedulerError(
            f"{job_id!r} is not a SLURM job ID.", "A job ID is a number, e.g. 123456."
        )


def _unknown(job_id: str) -> JobStatus:
    return JobStatus(job_id, JobPhase.UNKNOWN, "", description=out.describe(""))
