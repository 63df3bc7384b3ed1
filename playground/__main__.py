"""``python -m playground``: the same as ``python -m bot --playground``."""

import sys

from playground.cli import main

sys.exit(main(sys.argv[1:]))
