"""Path mapping between a local project folder and the host's copy, for one console.

What the console sends names the host's copy (``%runfile``/``%debugfile``/``%runcell``/
``%debugcell`` and ``--wdir``, breakpoints); what the kernel sends back names the local file
(its requests for a file's code or a cell, its debugger steps, its tracebacks and stderr, the
traceback line a user clicks). Pure text and message rewriting: no Qt, no I/O.
"""

from __future__ import annotations

import re
import shlex

from spyder_kernel_connect.sync import ProjectSync

RUN_MAGICS = ("%runfile", "%debugfile", "%runcell", "%debugcell", "%run")
TRACEBACK_PATH = re.compile(r'File "?([^"\s,:]+\.py)')  # 'File "/a.py", line' and 'File /a.py:3'


class ConsolePaths:
    """Rewrites paths in the messages of one console bound to ``project``."""

    def __init__(self, project: ProjectSync) -> None:
        self.project = project
        self._remote_pattern: tuple[str, re.Pattern] | None = None

    def local(self, path: str) -> str:
        """The local file for a host path of the project, else ``path`` unchanged."""
        return self.project.to_local(path) or path

    def translate_goto(self, text: str) -> str:
        """A traceback line as clicked in the console, with host paths made local."""
        return TRACEBACK_PATH.sub(
            lambda m: m.group(0).replace(m.group(1), self.local(m.group(1))), text
        )

    def local_text(self, text: str) -> str:
        """``text`` with every path under the host's folder made the local file's path."""
        remote = self.project.remote_dir
        if remote not in text:
            return text
        if self._remote_pattern is None or self._remote_pattern[0] != remote:
            # The folder, or a path under it; not a longer name ("/srv/proj2" for /srv/proj).
            found = re.compile(re.escape(remote) + r"(?:/[^\s\"'\x1b:,()\[\]]*)?(?![\w.-])")
            self._remote_pattern = (remote, found)
        return self._remote_pattern[1].sub(lambda m: self.local(m.group(0)), text)

    def local_error(self, msg: dict) -> dict:
        """A kernel ``error`` message with its traceback and value naming local files."""
        content = msg.get("content")
        if not isinstance(content, dict) or self.project.remote_dir.startswith("~"):
            return msg
        content = dict(content)
        if isinstance(content.get("traceback"), list):
            content["traceback"] = [
                self.local_text(line) if isinstance(line, str) else line
                for line in content["traceback"]
            ]
        if isinstance(content.get("evalue"), str):
            content["evalue"] = self.local_text(content["evalue"])
        return {**msg, "content": content}

    def local_stream(self, msg: dict) -> dict:
        """A kernel ``stream`` message: stderr names local files, stdout is left alone (it
        is the program's data)."""
        content = msg.get("content")
        if not isinstance(content, dict) or content.get("name") != "stderr":
            return msg
        if not isinstance(content.get("text"), str) or self.project.remote_dir.startswith("~"):
            return msg
        return {**msg, "content": {**content, "text": self.local_text(content["text"])}}

    def local_pdb_state(self, state):
        """The debugger's state with its current step in the local file."""
        if isinstance(state, dict):
            step = state.get("step")
            if isinstance(step, dict) and isinstance(step.get("fname"), str):
                step["fname"] = self.local(step["fname"])
        return state

    def remote_breakpoints(self, value):
        """The ``pdb`` kernel configuration with breakpoints keyed by the host's files."""
        if isinstance(value, dict) and isinstance(value.get("breakpoints"), dict):
            value = dict(value)
            value["breakpoints"] = {
                self.project.to_remote(name) or name: lines
                for name, lines in value["breakpoints"].items()
            }
        return value

    def remote_code(self, code: str) -> str:
        """``%runfile /local/proj/a.py`` -> ``%runfile /host/proj/a.py --wdir``: the host's
        copy, run in its own folder (Spyder gives external kernels no --wdir by default, and
        the file's sibling modules must be importable)."""
        stripped = code.strip()
        if not stripped.startswith(RUN_MAGICS) or "\n" in stripped:
            return code
        try:
            words = shlex.split(stripped)
        except ValueError:
            return code
        mapped = [
            (self.project.to_remote(word) or word) if word.startswith(("/", "~")) else word
            for word in words
        ]
        if mapped == words:
            return code  # not a file of the project
        if words[0] in ("%runfile", "%debugfile") and "--wdir" not in words:
            mapped.append("--wdir")
        return shlex.join(mapped)
