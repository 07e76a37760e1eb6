"""sampling propensities, private-test aliases and the public ledger

Revision ID: 9c3e4f1a7b20
Revises: 5a1c0e7d2b44
Create Date: 2026-11-29 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import arena.models

revision = '9c3e4f1a7b20'
down_revision = '5a1c0e7d2b44'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contender', schema=None) as batch_op:
        batch_op.add_column(sa.Column('alias', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('revealed_at', arena.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_contender_alias'), ['alias'])
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('propensity', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('policy_version', sa.String(length=32), nullable=True))
    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', arena.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=100), nullable=True),
    sa.Column('organization', sa.String(length=100), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entry_created_at'), ['created_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_kind'), ['kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_kind'))
        batch_op.drop_index(batch_op.f('ix_ledger_entry_created_at'))
    op.drop_table('ledger_entry')
    with op.batch_alter_table('battle', schema=None) as batch_op:
        batch_op.drop_column('policy_version')
        batch_op.drop_column('propensity')
    with op.batch_alter_table('contender', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_contender_alias'), type_='unique')
        batch_op.drop_column('revealed_at')
        batch_op.drop_column('alias')
