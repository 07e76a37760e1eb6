"""``python -m ratings``."""

from .cli import main

raise SystemExit(main())
