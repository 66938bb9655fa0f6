"""Sphinx configuration for the spyder-kernel-connect user guide."""

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "_ext"))

from spyder_kernel_connect import __version__  # noqa: E402

project = "spyder-kernel-connect"
author = "The spyder-kernel-connect developers"
copyright = "2026, " + author
version = release = __version__

extensions = ["myst_parser", "kc_docs"]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build"]
html_theme = "pydata_sphinx_theme"
html_title = "spyder-kernel-connect"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2}
# The README's benchmark section is included as Markdown, so the tables live in one place.
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]
