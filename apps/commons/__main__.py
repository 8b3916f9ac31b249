import sys

from apps.commons.cli import main

sys.exit(main())
