"""battle_fact.propensity: the draw probability travels with the facts publishing reads

Revision ID: c4a8e2d91f37
Revises: 9c3e5d7a1b20
Create Date: 2026-11-29 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'c4a8e2d91f37'
down_revision = '9c3e5d7a1b20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('battle_fact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('propensity', sa.Float(), nullable=True))
    # Existing facts take their battle's value (both dialects accept this correlated form).
    op.execute("UPDATE battle_fact SET propensity = (SELECT battle.propensity FROM battle "
               "WHERE battle.id = battle_fact.battle_id)")


def downgrade() -> None:
    with op.batch_alter_table('battle_fact', schema=None) as batch_op:
        batch_op.drop_column('propensity')
