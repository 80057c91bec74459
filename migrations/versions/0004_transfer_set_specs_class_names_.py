"""transfer set specs, class names, fingerprints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 19:22:44.100000
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('transfer_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('spec', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('class_names', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('transfer_sets', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
        batch_op.drop_column('class_names')
        batch_op.drop_column('spec')

