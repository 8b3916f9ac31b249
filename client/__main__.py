"""``python -m client``: the ``pod`` command line."""

import sys

from client.cli import main

sys.exit(main())
