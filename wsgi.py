"""WSGI entry point: ``gunicorn -c gunicorn.conf.py wsgi:app`` or ``flask --app wsgi run``."""

import logging
import os

from arena import create_app

logging.basicConfig(
    level=os.environ.get("ARENA_LOG_LEVEL", "INFO"),
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)

# Alembic announces each of its plugins at INFO on every command; keep its real news only.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

app = create_app()
