"""``python -m tools.ops`` (``make ops ARGS="..."``)."""

import sys

from tools.ops.cli import main

sys.exit(main(sys.argv[1:]))
