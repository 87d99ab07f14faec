"""`python -m localkube` is the `localkube` command."""

import sys

from localkube.cli import main

sys.exit(main())
