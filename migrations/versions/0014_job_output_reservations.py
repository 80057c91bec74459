"""job output reservations: the bytes a job's students and checkpoints may take, counted from its submission

Revision ID: 0014
Revises: 0011
Create Date: 2026-12-03 08:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserved_bytes', sa.BigInteger(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('reserved_bytes')
