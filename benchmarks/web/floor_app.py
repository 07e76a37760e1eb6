"""The framework floor: a bare Flask + SQLAlchemy endpoint that inserts one row and commits.

Served by gunicorn with the same worker settings as the arena in ``hotpaths.py``; its req/s is
what the arena's hot paths are compared with. ``FLOOR_DATABASE_URL`` names the database.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from flask import Flask, jsonify
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, insert
from sqlalchemy.orm import Session

metadata = MetaData()
floor_row = Table("floor_row", metadata, Column("id", Integer, primary_key=True),
                  Column("payload", String(64)), Column("created_at", DateTime(timezone=True)))

url = os.environ["FLOOR_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
engine = create_engine(url, pool_size=8, max_overflow=0)
app = Flask(__name__)


@app.post("/floor")
def floor() -> object:
    with Session(engine) as db:
        db.execute(insert(floor_row).values(payload="x", created_at=datetime.now(UTC)))
        db.commit()
    return jsonify({"ok": True})
