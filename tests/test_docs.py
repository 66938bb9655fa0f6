"""The user guide builds without a warning, and the generated pages cover the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", DOCS, out],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_every_cli_command_is_in_the_reference(built):
    from spyder_kernel_connect.cli import build_parser

    page = (built / "cli.html").read_text()
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"spyder-kernel-connect {name}" in page


def test_troubleshooting_lists_real_messages(built):
    html = (built / "troubleshooting.html").read_text()
    page = re.sub(r"<[^>]+>", "", html)
    # Messages as the code writes them, placeholders for what depends on the input.
    assert "field &lt;name&gt; &lt;problem&gt;." in page
    assert "&lt;spec&gt; matches &lt;candidates&gt; connection files" in page


def test_every_image_the_guide_uses_exists():
    for page in DOCS.glob("*.rst"):
        for image in re.findall(r"\.\. (?:image|figure):: (\S+)", page.read_text()):
            assert (page.parent / image).is_file(), f"{page.name} uses missing {image}"
