"""``python -m suite.serve RUN_DIR [--host] [--port] [--max-batch] [--max-wait-ms]``."""

import sys

from suite.serve.cli import main

if __name__ == "__main__":
    sys.exit(main())
