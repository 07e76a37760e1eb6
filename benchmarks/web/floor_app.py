"""The framework floor: a bare Flask + SQLAlchemy endpoint that inserts one row per request.

Served by the same gunicorn settings as the arena in ``benchmarks/web/leaderboard.py``, so the
ratio of an arena route's req/s to this one's is what the arena's own work costs. The database
URL comes from ``FLOOR_DATABASE_URL``.
"""

from __future__ import annotations

import os

from flask import Flask, jsonify
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

_URL = os.environ["FLOOR_DATABASE_URL"]
if _URL.startswith("postgresql://"):
    _URL = "postgresql+psycopg://" + _URL[len("postgresql://"):]
engine = create_engine(_URL)
meta = MetaData()
hits = Table("bench_floor", meta, Column("id", Integer, primary_key=True),
             Column("note", String(32)))
# The table is created by the benchmark before the workers start (two workers creating it
# at once would race).

app = Flask(__name__)


@app.get("/floor")
def floor() -> object:
    with engine.begin() as conn:
        conn.execute(insert(hits).values(note="hit"))
    return jsonify(ok=True)
