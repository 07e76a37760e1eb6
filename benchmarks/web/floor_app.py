"""The framework floor: a bare Flask + SQLAlchemy endpoint that inserts one row and commits.

Served by gunicorn with the same worker settings as the arena (``hotpaths.py`` POSTs to it,
``leaderboard.py`` GETs it); an arena route's req/s over this one's is what the arena's own
work costs. ``FLOOR_DATABASE_URL`` names the database; ``meta.create_all`` (or the benchmark)
creates the table before the workers start (two workers creating it at once would race).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert

meta = MetaData()
floor_row = Table("floor_row", meta, Column("id", Integer, primary_key=True),
                  Column("payload", String(64)), Column("created_at", DateTime(timezone=True)))

url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(url, pool_size=8, max_overflow=0)
app = Flask(__name__)


@app.route("/floor", methods=["GET", "POST"])
def floor() -> object:
    with engine.begin() as conn:
        conn.execute(insert(floor_row).values(payload="x", created_at=datetime.now(UTC)))
    return jsonify({"ok": True})
