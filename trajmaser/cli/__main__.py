"""``python -m trajmaser.cli``: the same as the ``trajmaser`` command."""

import sys

from trajmaser.cli.main import main

sys.exit(main())
