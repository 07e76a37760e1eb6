"""per-battle consent, generator heartbeat, contender link, prompt labels and groups

Revision ID: 5a1c0e7d2b44
Revises: 13b6f59069e7
Create Date: 2026-11-29 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import arena.models

revision = '5a1c0e7d2b44'
down_revision = '13b6f59069e7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contender', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.String(length=500), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_consent', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('heartbeat_at', arena.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('category_version', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('prompt_group', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_battle_prompt_group'), ['prompt_group'],
                              unique=False)
    # Battles created before consent was recorded per battle inherit the voter's choice as it
    # stands now (the only record there is).
    op.execute("UPDATE battle SET release_consent = (SELECT voter.release_consent FROM voter "
               "WHERE voter.id = battle.voter_id) WHERE voter_id IS NOT NULL")
    op.create_table('battle_label',
    sa.Column('battle_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['battle_id'], ['battle.id'], name=op.f('fk_battle_label_battle_id_battle'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('battle_id', 'label', name=op.f('pk_battle_label'))
    )
    with op.batch_alter_table('battle_label', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_battle_label_label'), ['label'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('battle_label', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_battle_label_label'))
    op.drop_table('battle_label')
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_battle_prompt_group'))
        batch_op.drop_column('prompt_group')
        batch_op.drop_column('category_version')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('release_consent')
    with op.batch_alter_table('contender', schema=None) as batch_op:
        batch_op.drop_column('link')
