"""``python -m chorus_local`` = the ``chorus`` console script (used by ``chorus local up --detach``)."""

from chorus_local.cli import main

raise SystemExit(main())
