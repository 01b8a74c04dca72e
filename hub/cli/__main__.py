"""`python -m hub.cli`: the `platforma` command (worker processes start the hub this way)."""

from hub.cli import main

raise SystemExit(main())
