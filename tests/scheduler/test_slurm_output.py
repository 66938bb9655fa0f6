"""SLURM output parsing on outputs of several versions, not only the one installed here.

The 22.05 samples were recorded from the fixture cluster (Debian 12's slurm-wlm 22.05.8).
The others follow the formats of their versions' man pages and of published outputs: the
multi-line ``scontrol show job`` of 2.x (``Name=``) and of 17.x–19.x (``JobName=``, ``-d``
detail lines), 23.x/24.x's extra fields, ``sacct -P`` with ``CANCELLED by UID``.
"""

from __future__ import annotations

import pytest

from spyder_kernel_connect.scheduler import InvalidJobResource, JobPhase, JobResources
from spyder_kernel_connect.scheduler.slurm import sbatch_resource_args
from spyder_kernel_connect.scheduler.slurm_output import (
    describe,
    first_node,
    format_duration,
    parse_duration,
    parse_sacct,
    parse_scontrol_job,
    parse_squeue,
    sbatch_message,
)

SCONTROL_22_05_PENDING = (
    "JobId=3 JobName=skc3 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901757 "
    "Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=Priority Dependency=(null) "
    "Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 "
    "TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-25T17:29:25 "
    "EligibleTime=2026-11-25T17:29:25 AccrueTime=2026-11-25T17:29:25 StartTime=Unknown "
    "EndTime=Unknown Deadline=N/A SuspendTime=None SecsPreSuspend=0 "
    "LastSchedEval=2026-11-25T17:29:25 Scheduler=Main Partition=debug "
    "AllocNode:Sid=localhost:28156 ReqNodeList=(null) ExcNodeList=(null) NodeList= NumNodes=1 "
    "NumCPUs=2 NumTasks=1 CPUs/Task=2 ReqB:S:C:T=0:0:*:* TRES=cpu=2,mem=24105M,node=1,billing=2 "
    "Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=2 MinMemoryNode=0 "
    "MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 "
    "Licenses=(null) Network=(null) Command=(null) WorkDir=/work/main StdErr=/dev/null "
    "StdIn=/dev/null StdOut=/dev/null Power= \n"
)
SCONTROL_22_05_CANCELLED = (
    "JobId=1 JobName=skc UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 "
    "Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) "
    "Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:00:46 "
    "TimeLimit=00:05:00 TimeMin=N/A SubmitTime=2026-11-25T17:28:39 "
    "Partition=debug AllocNode:Sid=localhost:28156 ReqNodeList=(null) ExcNodeList=(null) "
    "NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 "
    "TRES=cpu=1,mem=200M,node=1,billing=1 WorkDir=/work/main "
    "StdErr=/tmp/slurmtry/job-1.out StdIn=/dev/null StdOut=/tmp/slurmtry/job-1.out Power= \n"
)
# 17.x-19.x default (multi-line) output, with -d detail lines repeating Nodes=/Mem=.
SCONTROL_19_RUNNING = """\
JobId=2398617 JobName=spyder-kernel-0a1b2c3d4e5f
   UserId=alice(1000) GroupId=alice(1000) MCS_label=N/A
   Priority=105969 Nice=0 Account=physics QOS=normal
   JobState=RUNNING Reason=None Dependency=(null)
   Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0
   DerivedExitCode=0:0
   RunTime=05:46:31 TimeLimit=1-00:00:00 TimeMin=N/A
   SubmitTime=2019-01-31T10:35:35 EligibleTime=2019-01-31T10:35:35
   Partition=long AllocNode:Sid=login-04:3428
   ReqNodeList=(null) ExcNodeList=(null)
   NodeList=node-[063-065]
   BatchHost=node-063
   NumNodes=3 NumCPUs=8 NumTasks=8 CPUs/Task=1 ReqB:S:C:T=0:0:*:*
   TRES=cpu=8,mem=4000M,node=3,billing=8
     Nodes=node-063 CPU_IDs=22-23 Mem=1000 GRES_IDX=
     Nodes=node-064 CPU_IDs=0,4-7 Mem=2000 GRES_IDX=
   MinCPUsNode=1 MinMemoryCPU=500M MinTmpDiskNode=0
   Comment=/home/alice/.local/share/jupyter/runtime/kernel-0a1b2c3d4e5f.json
   Command=(null)
   WorkDir=/home/alice/my project
   StdOut=/home/alice/my project/out.txt
   Power=
"""
# SLURM 2.x: Name= instead of JobName=, TimeLimit on the JobState line's neighbour.
SCONTROL_2_X_COMPLETED = """\
JobId=71701 Name=hostname
   UserId=da(1000) GroupId=da(1000)
   Priority=66264 Account=none QOS=normal WCKey=*123
   JobState=COMPLETED Reason=None Dependency=(null)
   TimeLimit=UNLIMITED Requeue=1 Restarts=0 BatchFlag=0 ExitCode=0:0
   SubmitTime=2010-01-05T10:58:40 EligibleTime=2010-01-05T10:58:40
   Partition=debug AllocNode:Sid=snowflake:4702
   NodeList=snowflake0
   NumNodes=1 NumCPUs=10 CPUs/Task=2 ReqS:C:T=1:1:1
"""
# 23.x/24.x: more fields (TresPerTask, MemPerTres, Comment may be empty), same shape.
SCONTROL_24_TIMEOUT = (
    "JobId=9001 JobName=spyder-kernel-ffee JobState=TIMEOUT Reason=TimeLimit "
    "Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 "
    "RunTime=01:00:12 TimeLimit=01:00:00 TimeMin=N/A Partition=gpu NodeList=gpu017 "
    "BatchHost=gpu017 NumNodes=1 NumCPUs=4 NumTasks=1 CPUs/Task=4 "
    "TRES=cpu=4,mem=16G,node=1,billing=4,gres/gpu=1 TresPerTask=cpu=4 MemPerTres=gres/gpu:8G "
    "Comment=/home/bob/.local/share/jupyter/runtime/kernel-ffee.json "
    "StdOut=/home/bob/.local/share/jupyter/runtime/kernel-ffee-slurm.log Power= "
    "TresPerNode=gres/gpu:1\n"
)


def test_scontrol_22_05_one_line_pending():
    job = parse_scontrol_job(SCONTROL_22_05_PENDING)
    assert (job.job_id, job.phase, job.reason, job.node) == ("3", JobPhase.PENDING, "Priority", "")
    assert job.time_limit is None and job.time_left is None  # UNLIMITED
    assert job.description == "Pending: Priority (waiting behind jobs with higher priority)"


def test_scontrol_22_05_cancelled_has_output_path_and_exit_code():
    job = parse_scontrol_job(SCONTROL_22_05_CANCELLED)
    assert job.phase is JobPhase.ENDED and job.node == "vm"
    assert job.exit_code == "0:15" and job.output_path == "/tmp/slurmtry/job-1.out"
    assert job.description == "Was cancelled"


def test_scontrol_19_multiline_with_detail_lines_and_spaces_in_values():
    job = parse_scontrol_job(SCONTROL_19_RUNNING)
    assert job.phase is JobPhase.RUNNING
    assert job.name == "spyder-kernel-0a1b2c3d4e5f"
    assert job.node == "node-063"  # BatchHost, not a detail line's Nodes=
    assert job.comment.endswith("kernel-0a1b2c3d4e5f.json")
    assert job.output_path == "/home/alice/my project/out.txt"
    assert job.time_limit == 86400 and job.time_left == 86400 - (5 * 3600 + 46 * 60 + 31)


def test_scontrol_2_x_uses_name_not_jobname():
    job = parse_scontrol_job(SCONTROL_2_X_COMPLETED)
    assert (job.job_id, job.name, job.node) == ("71701", "hostname", "snowflake0")
    assert job.phase is JobPhase.ENDED
    assert job.description == "Ended (its kernel exited)"


def test_scontrol_24_timeout_in_plain_words():
    job = parse_scontrol_job(SCONTROL_24_TIMEOUT)
    assert job.node == "gpu017" and job.time_left == 0
    assert job.description == "Reached its time limit (01:00:00)"


def test_scontrol_unknown_job_parses_to_nothing():
    assert parse_scontrol_job("slurm_load_jobs error: Invalid job id specified\n") is None


SQUEUE = """\
123456|PENDING|Resources||1:00:00|1:00:00|spyder-kernel-aa|/home/a/kernel-aa.json
123457|RUNNING|None|node017|1-02:03:04|2-00:00:00|spyder-kernel-bb|/home/a/kernel-bb.json
123458|RUNNING|None|gpu[01-02]|UNLIMITED|UNLIMITED|other job|(null)
123459|COMPLETING|None|node3|0:00|5:00|spyder-kernel-cc|/x|y.json
123460|PENDING|QOSMaxJobsPerUserLimit||INVALID|NOT_SET|spyder-kernel-dd|(null)
squeue: warning: something the site's wrapper printed
"""


def test_squeue_lines_of_every_state():
    jobs = {j.job_id: j for j in parse_squeue(SQUEUE)}
    assert len(jobs) == 5
    pending = jobs["123456"]
    assert pending.phase is JobPhase.PENDING and pending.node == ""
    assert pending.description == "Pending: Resources (waiting for resources to become free)"
    running = jobs["123457"]
    assert running.node == "node017" and running.time_left == 93784
    assert running.time_limit == 2 * 86400
    assert jobs["123458"].node == "gpu01" and jobs["123458"].time_left is None
    assert jobs["123458"].comment == ""
    assert jobs["123459"].phase is JobPhase.ENDING
    assert jobs["123459"].comment == "/x|y.json"  # the last field keeps its separators
    assert "number of jobs your QOS allows" in jobs["123460"].description


SACCT = """\
123456|spyder-kernel-aa|CANCELLED by 1000|0:15|node017|01:00:00
"""


@pytest.mark.parametrize(
    ("line", "phase", "words"),
    [
        (
            "1|k|CANCELLED by 1000|0:15|node017|01:00:00",
            JobPhase.ENDED,
            "Was cancelled by user 1000",
        ),
        ("2|k|TIMEOUT|0:0|node017|00:30:00", JobPhase.ENDED, "Reached its time limit (00:30:00)"),
        ("3|k|OUT_OF_MEMORY|0:125|node017|01:00:00", JobPhase.ENDED, "Ran out of memory"),
        ("4|k|FAILED|1:0|node017|01:00:00", JobPhase.ENDED, "Failed with exit code 1"),
        ("5|k|NODE_FAIL|0:0|node017|01:00:00", JobPhase.ENDED, "Ended because its node failed"),
        ("6|k|PREEMPTED|0:0|node017|01:00:00", JobPhase.ENDED, "Was preempted"),
        ("7|k|PENDING|0:0|None assigned|01:00:00", JobPhase.PENDING, "Pending"),
        ("8|k|RUNNING|0:0|node[1-4]|Partition_Limit", JobPhase.RUNNING, "Running"),
    ],
)
def test_sacct_states_in_plain_words(line, phase, words):
    job = parse_sacct(line + "\n")
    assert job.phase is phase
    assert job.description.startswith(words)


def test_sacct_node_and_missing_output():
    job = parse_sacct(SACCT)
    assert job.node == "node017" and job.name == "spyder-kernel-aa"
    assert parse_sacct("") is None
    assert parse_sacct("Slurm accounting storage is disabled\n") is None


@pytest.mark.parametrize(
    ("stderr", "message"),
    [
        (  # 22.05, recorded
            "sbatch: error: invalid partition specified: nope\n"
            "sbatch: error: Batch job submission failed: Invalid partition name specified\n",
            "invalid partition specified: nope; Batch job submission failed: Invalid partition "
            "name specified",
        ),
        (
            "sbatch: error: Batch job submission failed: Invalid account or account/partition "
            "combination specified\n",
            "Batch job submission failed: Invalid account or account/partition combination "
            "specified",
        ),
        ("sbatch: fatal: Invalid --time specification\n", "Invalid --time specification"),
        ("", "no message"),
    ],
)
def test_sbatch_messages_keep_sbatchs_words(stderr, message):
    assert sbatch_message(stderr) == message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0:05", 5),
        ("59:59", 3599),
        ("1:00:00", 3600),
        ("1-02:03:04", 93784),
        ("2-12", 2 * 86400 + 12 * 3600),
        ("3-00:30", 3 * 86400 + 1800),
        ("90", 5400),
        ("UNLIMITED", None),
        ("INVALID", None),
        ("NOT_SET", None),
        ("Partition_Limit", None),
        ("", None),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_format_duration():
    assert [format_duration(s) for s in (5, 3599, 3600, 93784, None)] == [
        "0:05",
        "59:59",
        "1:00:00",
        "1-02:03:04",
        "unlimited",
    ]


def test_first_node_of_node_lists():
    assert [first_node(n) for n in ("node017", "node[017-020]", "a[3,5]", "n1,n2", "(null)")] == [
        "node017",
        "node017",
        "a3",
        "n1",
        "",
    ]


def test_unknown_state_is_described():
    assert describe("").startswith("Unknown to SLURM")
    assert describe("WEIRD_NEW_STATE").startswith("Ended (WEIRD_NEW_STATE)")


def test_resources_become_sbatch_options():
    resources = JobResources(
        partition="gpu",
        time="2:00:00",
        cpus=8,
        memory="32G",
        gres="gpu:a100:1",
        account="phys",
        extra_args=("--constraint=avx512", "--qos=short"),
    )
    resources.validate()
    assert sbatch_resource_args(resources) == [
        "--partition=gpu",
        "--time=2:00:00",
        "--cpus-per-task=8",
        "--mem=32G",
        "--gres=gpu:a100:1",
        "--account=phys",
        "--constraint=avx512",
        "--qos=short",
    ]
    assert sbatch_resource_args(JobResources()) == []


@pytest.mark.parametrize(
    ("resources", "field"),
    [
        (JobResources(time="2 hours"), "Time limit"),
        (JobResources(cpus=0), "CPUs"),
        (JobResources(memory="lots"), "Memory"),
        (JobResources(partition="gpu; rm -rf ~"), "partition"),
    ],
)
def test_resource_typos_are_named(resources, field):
    with pytest.raises(InvalidJobResource, match=field):
        resources.validate()


def test_script_template_quotes_values_and_refuses_unknown_placeholders():
    from spyder_kernel_connect.scheduler import ScriptTemplateError, render_script

    script = render_script(
        "#!/bin/bash\nmodule load py\n{{kernel_command}}\necho {{job_name}}\n",
        "/opt/my python/bin/python",
        "/home/a/run time/kernel-x.json",
        "/home/a/run time",
        "spyder-kernel-x",
    )
    assert script.startswith("#!/bin/bash\nmodule load py\numask 077\n")
    assert "'/opt/my python/bin/python' -m spyder_kernels.console" in script
    assert "KERNEL_FILE='/home/a/run time/kernel-x.json'" in script
    assert script.endswith("echo spyder-kernel-x\n")
    with pytest.raises(ScriptTemplateError, match="unknown placeholders: pyhton"):
        render_script("{{pyhton}}\n{{kernel_command}}", "p", "f", "d", "n")
