"""lease tokens, sends and run checkpoint keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 16:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('lease_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('checkpoint_key', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('weights_key', sa.String(length=512), nullable=True))
        batch_op.create_index(batch_op.f('ix_runs_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_runs_status'))
        batch_op.drop_column('weights_key')
        batch_op.drop_column('checkpoint_key')
        batch_op.drop_column('sent_at')
        batch_op.drop_column('lease_token')
        batch_op.drop_column('lease_owner')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('sent_at')
        batch_op.drop_column('lease_token')
