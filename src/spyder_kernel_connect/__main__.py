"""``python -m spyder_kernel_connect`` (and the ``spyder-kernel-connect`` script) runs the CLI.

The SSH commands' TCP handshake starts first (predial), then the CLI is imported.
"""

import sys

from spyder_kernel_connect import predial


def main() -> int:
    predial.start(sys.argv[1:])
    from spyder_kernel_connect.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
