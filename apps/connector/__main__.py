import sys

from apps.connector.cli import main

sys.exit(main())
