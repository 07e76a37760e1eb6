"""log of fact re-derivations (fact_change): "nothing new" without counting every fact

Revision ID: f6a2b4c8d013
Revises: e5f1a3b7c902
Create Date: 2026-11-30 01:10:00

Every ``refresh_facts`` that changes rows appends one row; a publication's "anything new?"
reads its newest id with the newest ``synced_at`` and battle id of the facts, instead of
counting voted battles and facts (two scans of every row at each publish).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import arena.models

revision = 'f6a2b4c8d013'
down_revision = 'e5f1a3b7c902'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fact_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', arena.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('changed', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fact_change')),
    )


def downgrade() -> None:
    op.drop_table('fact_change')
