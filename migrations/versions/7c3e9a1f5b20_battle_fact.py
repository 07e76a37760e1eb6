"""per-battle facts for publishing and releases (battle_fact), index on battle.updated_at

Revision ID: 7c3e9a1f5b20
Revises: 5a1c0e7d2b44
Create Date: 2026-11-29 15:50:00

The table starts empty: the first ``flask leaderboard publish`` (or ``flask leaderboard facts
rebuild``) derives the facts of every existing vote; later votes write their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import arena.models

revision = '7c3e9a1f5b20'
down_revision = '5a1c0e7d2b44'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('battle_fact',
    sa.Column('battle_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('voted_at', arena.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contender_a_id', sa.Integer(), nullable=False),
    sa.Column('contender_b_id', sa.Integer(), nullable=False),
    sa.Column('winner', sa.String(length=16), nullable=False),
    sa.Column('voter_id', sa.String(length=32), nullable=True),
    sa.Column('turn_count', sa.Integer(), nullable=False),
    sa.Column('prompt_chars', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('prompt_key', sa.BigInteger(), nullable=True),
    sa.Column('feature_names', sa.String(length=1000), nullable=False),
    sa.Column('feature_values', sa.LargeBinary(), nullable=False),
    sa.Column('anony', sa.Boolean(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('synced_at', arena.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['battle_id'], ['battle.id'], name=op.f('fk_battle_fact_battle_id_battle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('battle_id', name=op.f('pk_battle_fact'))
    )
    with op.batch_alter_table('battle_fact', schema=None) as batch_op:
        batch_op.create_index('ix_battle_fact_voted', ['voted_at', 'battle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_battle_fact_synced_at'), ['synced_at'],
                              unique=False)
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_battle_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_battle_updated_at'))
    with op.batch_alter_table('battle_fact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_battle_fact_synced_at'))
        batch_op.drop_index('ix_battle_fact_voted')
    op.drop_table('battle_fact')
