"""index of voted battles awaiting their labels (battle.category_version IS NULL)

Revision ID: d4e8a2c6f1b3
Revises: c4a8e2d91f37
Create Date: 2026-11-29 19:00:00

Votes no longer label their battle in the request; the facts sync of every publish and release
cut labels the backlog, which this partial index finds without scanning all voted battles.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'd4e8a2c6f1b3'
down_revision = 'c4a8e2d91f37'
branch_labels = None
depends_on = None

_WHERE = "state = 'voted' AND category_version IS NULL"


def upgrade() -> None:
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.create_index('ix_battle_unlabelled', ['id'], unique=False,
                              postgresql_where=sa.text(_WHERE), sqlite_where=sa.text(_WHERE))


def downgrade() -> None:
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.drop_index('ix_battle_unlabelled')
