"""The arena web application: anonymous model battles, votes in SQL, published leaderboards."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

__version__ = "0.1.0"


def create_app(test_config: Mapping[str, Any] | None = None,
               instance_path: str | None = None) -> Flask:
    """Build the app: config, database, error handlers, rate limits, blueprints, CLI.

    Only wiring happens here: no migrations, no network, no prompts.
    """
    from arena import api, cli, db, errors_web, limits, pages, sampling
    from arena.config import load_config
    from arena.leaderboard import web as leaderboard_web
    from arena.ledger import web as ledger_web
    from arena.releases import web as releases_web

    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path,
                template_folder="../templates", static_folder="../static")
    app.config.update(load_config(app.instance_path, test_config))
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["JSON_SORT_KEYS"] = False

    db.init_app(app)
    errors_web.init_app(app)
    limits.init_app(app)
    sampling.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    leaderboard_web.init_app(app)
    releases_web.init_app(app)
    ledger_web.init_app(app)
    cli.init_app(app)
    return app
