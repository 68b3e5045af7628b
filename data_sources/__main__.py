"""`python -m data_sources`: the command line (`cli.py`)."""

import sys

from data_sources.cli import main

sys.exit(main())
