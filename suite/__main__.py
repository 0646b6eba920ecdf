"""``python -m suite`` is the ``suite`` command line (and ``torchrun -m suite train ...`` works too)."""

import sys

from suite.cli import main

if __name__ == "__main__":
    sys.exit(main())
