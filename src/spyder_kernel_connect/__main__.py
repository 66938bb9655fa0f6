"""``python -m spyder_kernel_connect`` runs the command-line interface."""

from spyder_kernel_connect.cli import main

raise SystemExit(main())
