"""scrubbed copies of turns' texts for release cuts (scrubbed_turn)

Revision ID: e5f1a3b7c902
Revises: d4e8a2c6f1b3
Create Date: 2026-11-30 01:00:00

``flask releases scrub`` (a cron job) and each release cut store the scrubbed prompt and answers
of a turn here, with the scrubber's version and a digest of the raw texts, so a cut reads them
instead of scrubbing every text of its window again. Deleting the turn deletes the copy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'e5f1a3b7c902'
down_revision = 'd4e8a2c6f1b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'scrubbed_turn',
        sa.Column('turn_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('version', sa.String(length=32), nullable=False),
        sa.Column('digest', sa.LargeBinary(length=16), nullable=False),
        sa.Column('prompt', sa.Text(), nullable=False),
        sa.Column('answer_a', sa.Text(), nullable=False),
        sa.Column('answer_b', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['turn_id'], ['turn.id'], name=op.f('fk_scrubbed_turn_turn_id_turn'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('turn_id', name=op.f('pk_scrubbed_turn')),
    )


def downgrade() -> None:
    op.drop_table('scrubbed_turn')
