"""``python -m solver.cli``: the ``lps`` command."""

import sys

from solver.cli.main import main

sys.exit(main())
