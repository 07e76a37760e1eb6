"""arenas by modality: contender.arena, battle.arena, battle_fact.arena, media answers

Revision ID: 9c3e5d7a1b20
Revises: b7d3e91f4a20
Create Date: 2026-11-29 16:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '9c3e5d7a1b20'
down_revision = 'b7d3e91f4a20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every existing contender and battle is a text one: the server default says so.
    with op.batch_alter_table('contender', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arena', sa.String(length=32), nullable=False,
                                      server_default='text'))
        batch_op.create_index(batch_op.f('ix_contender_arena'), ['arena'], unique=False)
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arena', sa.String(length=32), nullable=False,
                                      server_default='text'))
        batch_op.create_index(batch_op.f('ix_battle_arena'), ['arena'], unique=False)
    # Views fit one arena's battles: the facts carry it (every existing fact is text).
    with op.batch_alter_table('battle_fact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arena', sa.String(length=32), nullable=False,
                                      server_default='text'))
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('media_type', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('media_type')
        batch_op.drop_column('media_sha256')
    with op.batch_alter_table('battle_fact', schema=None) as batch_op:
        batch_op.drop_column('arena')
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_battle_arena'))
        batch_op.drop_column('arena')
    with op.batch_alter_table('contender', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contender_arena'))
        batch_op.drop_column('arena')
