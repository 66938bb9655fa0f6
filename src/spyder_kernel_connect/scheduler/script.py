"""The batch script that starts a kernel on a compute node, from a template users can override.

A template is a shell script with ``{{placeholders}}``; every value is inserted shell-quoted.
It must contain ``{{kernel_command}}``, which creates the runtime dir, finds the node's
address that the login node can reach, starts the kernel bound to it and removes the
connection file when the job ends. Everything before it is the place for site set-up::

    #!/bin/bash -l
    module load python/3.11
    conda activate analysis
    {{kernel_command}}

Placeholders: ``kernel_command``, ``python``, ``connection_file``, ``runtime_dir``,
``job_name``. Resources (partition, time, CPUs…) are sbatch options, not part of the script,
so a custom template never loses them; ``#SBATCH`` lines in it still apply for anything else.
"""

from __future__ import annotations

import re
import shlex

from spyder_kernel_connect.scheduler.errors import ScriptTemplateError

DEFAULT_TEMPLATE = """\
#!/bin/bash -l
# Started by spyder-kernel-connect. Put module loads or `conda activate ENV` here.
{{kernel_command}}
"""

# The address of this node that the login node reaches: the NodeAddr slurmctld itself uses
# (resolved to IPv4), else the source address of the route toward the submit host, else
# every interface (the login node then dials the node by name). Standard library only.
ADDRESS_CODE = """\
import os, socket, subprocess
def node_addr():
    node = os.environ.get("SLURMD_NODENAME") or socket.gethostname()
    try:
        text = subprocess.run(["scontrol", "show", "node", "-o", node], capture_output=True,
                              text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for part in text.split():
        if part.startswith("NodeAddr="):
            return socket.getaddrinfo(part[9:], None, socket.AF_INET)[0][4][0]
def route_addr():
    host = os.environ.get("SLURM_SUBMIT_HOST")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((host, 9))
        return s.getsockname()[0]
for find in (node_addr, route_addr):
    try:
        addr = find()
    except Exception:
        addr = None
    if addr:
        print(addr)
        break
else:
    print("0.0.0.0")
"""

KERNEL_COMMAND = """\
umask 077
mkdir -p {runtime_dir} || exit 1
KERNEL_FILE={connection_file}
trap 'rm -f "$KERNEL_FILE"' EXIT
trap 'exit 143' TERM INT HUP
KERNEL_IP=$({python} -c {address_code}) || exit 1
echo "spyder-kernel-connect: kernel on $(hostname) ($KERNEL_IP), job ${{SLURM_JOB_ID:-?}}"
{python} -m spyder_kernels.console -f "$KERNEL_FILE" --ip="$KERNEL_IP"
"""

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
PLACEHOLDERS = ("kernel_command", "python", "connection_file", "runtime_dir", "job_name")


def kernel_command(python: str, connection_file: str, runtime_dir: str) -> str:
    q = shlex.quote
    return KERNEL_COMMAND.format(
        python=q(python),
        connection_file=q(connection_file),
        runtime_dir=q(runtime_dir),
        address_code=q(ADDRESS_CODE),
    ).rstrip("\n")


def render_script(
    template: str | None,
    python: str,
    connection_file: str,
    runtime_dir: str,
    job_name: str,
) -> str:
    """The job script: ``template`` (or the default) with its placeholders filled in."""
    template = template if template and template.strip() else DEFAULT_TEMPLATE
    check_template(template)
    values = {
        "kernel_command": kernel_command(python, connection_file, runtime_dir),
        "python": shlex.quote(python),
        "connection_file": shlex.quote(connection_file),
        "runtime_dir": shlex.quote(runtime_dir),
        "job_name": shlex.quote(job_name),
    }
    script = PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    return script if script.endswith("\n") else script + "\n"


def check_template(template: str) -> None:
    """A clear error for an unknown placeholder or a template that starts no kernel."""
    unknown = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(PLACEHOLDERS))
    if unknown:
        raise ScriptTemplateError(
            f"The job script template uses unknown placeholders: {', '.join(unknown)}.",
            f"Placeholders are {', '.join('{{' + p + '}}' for p in PLACEHOLDERS)}.",
        )
    if not any(m.group(1) == "kernel_command" for m in PLACEHOLDER.finditer(template)):
        raise ScriptTemplateError(
            "The job script template has no {{kernel_command}} line, so it would start no kernel.",
            "Put {{kernel_command}} on a line of its own after your module loads and "
            "conda activate.",
        )
