"""Parsing what SLURM's commands print, across versions (17.x to 24.x formats).

Only stable, documented formats are read: ``squeue -o`` with explicit fields and a
separator, ``scontrol show job`` (one-line ``-o`` or the multi-line default, ``Name=`` in
old versions, ``JobName=`` in newer ones), and ``sacct -P`` (pipe-separated).
"""

from __future__ import annotations

import re

from spyder_kernel_connect.scheduler.base import JobPhase, JobStatus

SEP = "|"
# squeue fields, in this order; name and comment last, so a '|' in them cannot shift others.
SQUEUE_FIELDS = ("job_id", "state", "reason", "node", "time_left", "time_limit", "name", "comment")
SQUEUE_FORMAT = SEP.join(("%i", "%T", "%r", "%N", "%L", "%l", "%j", "%k"))
SACCT_FIELDS = ("JobID", "JobName", "State", "ExitCode", "NodeList", "Timelimit")

PENDING_STATES = {
    "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD",
    "SUSPENDED", "STOPPED", "RESIZING", "SIGNALING", "STAGE_OUT",
}  # fmt: skip
RUNNING_STATES = {"RUNNING"}
ENDING_STATES = {"COMPLETING"}

END_WORDS = {
    "COMPLETED": "ended (its kernel exited)",
    "CANCELLED": "was cancelled",
    "FAILED": "failed",
    "TIMEOUT": "reached its time limit",
    "PREEMPTED": "was preempted by a job with higher priority",
    "NODE_FAIL": "ended because its node failed",
    "BOOT_FAIL": "could not start: its node failed to boot",
    "OUT_OF_MEMORY": "ran out of memory (raise the memory request)",
    "DEADLINE": "reached its deadline",
    "REVOKED": "was revoked (it runs on another cluster)",
    "SPECIAL_EXIT": "failed and was held for the administrators",
}
# End reasons that only repeat the state (or its exit code) in other words.
REDUNDANT_END_REASONS = {"NonZeroExitCode", "TimeLimit", "None", "RaisedSignal", "OutOfMemory"}
PENDING_WORDS = {
    "Resources": "waiting for resources to become free",
    "Priority": "waiting behind jobs with higher priority",
    "Dependency": "waiting for another job to finish",
    "BeginTime": "waiting for its start time",
    "JobHeldUser": "held by you (scontrol release to start it)",
    "JobHeldAdmin": "held by the administrators",
    "PartitionDown": "its partition is down",
    "PartitionInactive": "its partition is inactive",
    "PartitionTimeLimit": "its time limit exceeds the partition's maximum; it will never start",
    "PartitionNodeLimit": "it asks for more nodes than the partition allows",
    "ReqNodeNotAvail": "the nodes it needs are not available (maintenance?)",
    "Reservation": "waiting for its reservation",
    "QOSMaxJobsPerUserLimit": "you have reached the number of jobs your QOS allows",
    "AssocMaxJobsLimit": "you have reached the number of jobs your account allows",
    "InvalidAccount": "the account is invalid; it will never start",
    "InvalidQOS": "the QOS is invalid; it will never start",
    "BadConstraints": "no node can ever satisfy its requests",
    "launch failed requeued held": "its launch failed; it was requeued and held",
}


def parse_duration(text: str) -> float | None:
    """Seconds in a SLURM duration: ``[D-]HH:MM:SS``, ``MM:SS``, ``D-HH[:MM]``, minutes.

    ``UNLIMITED``, ``INVALID``, ``NOT_SET``, ``N/A``, ``Partition_Limit``, empty: None.
    """
    text = text.strip()
    match = re.fullmatch(r"(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?", text)
    if not match:
        return None
    days, first, second, third = match.groups()
    if days is not None:  # D-HH, D-HH:MM, D-HH:MM:SS
        hours, minutes, seconds = int(first), int(second or 0), int(third or 0)
        return float(((int(days) * 24 + hours) * 60 + minutes) * 60 + seconds)
    if third is not None:  # HH:MM:SS
        return float((int(first) * 60 + int(second)) * 60 + int(third))
    if second is not None:  # MM:SS
        return float(int(first) * 60 + int(second))
    return float(int(first) * 60)  # bare minutes, as sbatch --time takes them


def format_duration(seconds: float | None) -> str:
    """``2-03:04:05``, ``1:02:03``, ``4:05``; ``unlimited`` for None."""
    if seconds is None:
        return "unlimited"
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{secs:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def phase_of(state: str) -> JobPhase:
    word = state.split()[0].rstrip("+").upper() if state.strip() else ""
    if word in PENDING_STATES:
        return JobPhase.PENDING
    if word in RUNNING_STATES:
        return JobPhase.RUNNING
    if word in ENDING_STATES:
        return JobPhase.ENDING
    if word:
        return JobPhase.ENDED
    return JobPhase.UNKNOWN


def first_node(nodelist: str) -> str:
    """``node017`` from ``node017``, ``node[017-018]`` or ``node[017,020]``."""
    nodelist = nodelist.strip()
    if nodelist in ("", "(null)", "None assigned", "n/a"):
        return ""
    match = re.match(r"([^\[,]*)(?:\[([^\],-]+))?", nodelist)
    return (match.group(1) + (match.group(2) or "")) if match else nodelist


def describe(state: str, reason: str = "", exit_code: str = "", time_limit: str = "") -> str:
    """The job's state in plain words: "Pending: Resources (waiting for resources…)"."""
    word = state.split()[0].rstrip("+").upper() if state.strip() else ""
    phase = phase_of(state)
    reason = "" if reason in ("None", "(null)", "") else reason
    if phase is JobPhase.PENDING:
        text = f"{word.capitalize()}: {reason}" if reason else word.capitalize()
        return f"{text} ({PENDING_WORDS[reason]})" if reason in PENDING_WORDS else text
    if phase is JobPhase.RUNNING:
        return "Running"
    if phase is JobPhase.ENDING:
        return "Ending (SLURM is cleaning up the job)"
    if phase is JobPhase.UNKNOWN:
        return "Unknown to SLURM (ended some time ago, or never existed)"
    text = END_WORDS.get(word, f"ended ({state.strip()})")
    if word == "CANCELLED" and " by " in state:
        text += f" by user {state.split(' by ', 1)[1].strip()}"
    if word == "TIMEOUT" and time_limit:
        text += f" ({time_limit})"
    status, _, signal = exit_code.partition(":")
    if word in ("FAILED", "COMPLETED") and status not in ("", "0"):
        text += f" with exit code {status}"
    elif word == "FAILED" and signal not in ("", "0"):
        text += f" on signal {signal}"
    if reason and word != "CANCELLED" and reason not in REDUNDANT_END_REASONS:
        text += f"; SLURM says: {reason}"
    return text[0].upper() + text[1:]


def parse_squeue(text: str) -> list[JobStatus]:
    """Lines of ``squeue -h -o SQUEUE_FORMAT``."""
    jobs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = line.split(SEP, len(SQUEUE_FIELDS) - 1)
        if len(parts) < len(SQUEUE_FIELDS):
            continue  # a warning line, not a job
        row = dict(zip(SQUEUE_FIELDS, (p.strip() for p in parts), strict=True))
        jobs.append(
            JobStatus(
                job_id=row["job_id"],
                phase=phase_of(row["state"]),
                state=row["state"],
                reason="" if row["reason"] in ("None", "(null)") else row["reason"],
                node=first_node(row["node"]),
                name=row["name"],
                comment="" if row["comment"] == "(null)" else row["comment"],
                time_left=parse_duration(row["time_left"]),
                time_limit=parse_duration(row["time_limit"]),
                description=describe(row["state"], row["reason"], time_limit=row["time_limit"]),
            )
        )
    return jobs


_KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z][A-Za-z0-9_/:]*(?:\[[^\]]*\])?)=")


def parse_scontrol_fields(text: str) -> dict[str, str]:
    """``Key=Value`` pairs of ``scontrol show job`` (one-line or multi-line), first wins.

    Values may contain spaces (job names, paths); a value runs up to the next ``Key=``.
    """
    fields: dict[str, str] = {}
    matches = list(_KEY.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        fields.setdefault(match.group(1), text[match.end() : end].strip())
    return fields


def parse_scontrol_job(text: str) -> JobStatus | None:
    fields = parse_scontrol_fields(text)
    job_id = fields.get("JobId")
    if not job_id:
        return None
    state = fields.get("JobState", "")
    reason = fields.get("Reason", "")
    limit = fields.get("TimeLimit", "")
    run_time = parse_duration(fields.get("RunTime", ""))
    limit_seconds = parse_duration(limit)
    left = None
    if limit_seconds is not None and run_time is not None:
        left = max(limit_seconds - run_time, 0.0)
    exit_code = fields.get("ExitCode", "")
    return JobStatus(
        job_id=job_id,
        phase=phase_of(state),
        state=state,
        reason="" if reason in ("None", "(null)") else reason,
        node=first_node(fields.get("BatchHost") or fields.get("NodeList", "")),
        name=fields.get("JobName") or fields.get("Name", ""),
        comment="" if fields.get("Comment", "(null)") == "(null)" else fields["Comment"],
        time_left=left,
        time_limit=limit_seconds,
        exit_code=exit_code,
        output_path=fields.get("StdOut", ""),
        description=describe(state, reason, exit_code, limit),
    )


def parse_sacct(text: str) -> JobStatus | None:
    """The job's allocation line of ``sacct -n -P -X -o SACCT_FIELDS``."""
    for line in text.splitlines():
        parts = line.split(SEP)
        if len(parts) != len(SACCT_FIELDS) or not parts[0].strip():
            continue
        row = dict(zip(SACCT_FIELDS, (p.strip() for p in parts), strict=True))
        state = row["State"]
        return JobStatus(
            job_id=row["JobID"],
            phase=phase_of(state),
            state=state,
            node=first_node(row["NodeList"]),
            name=row["JobName"],
            time_limit=parse_duration(row["Timelimit"]),
            exit_code=row["ExitCode"],
            description=describe(state, "", row["ExitCode"], row["Timelimit"]),
        )
    return None


def sbatch_message(stderr: str, stdout: str = "") -> str:
    """sbatch's own complaint, without the ``sbatch: error:`` prefixes, one sentence per line."""
    lines = []
    for line in (stderr or stdout).splitlines():
        line = re.sub(r"^\s*sbatch:\s*(error|fatal):\s*", "", line).strip()
        if line and line not in lines:
            lines.append(line)
    return "; ".join(lines) or "no message"
