"""teachers: the output distilled from, its kind, the input dtype; transfer sets: their samples' dtype

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Teachers uploaded before these fields were all taken to take float32 and return logits.
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('output', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('output_kind', sa.String(length=32), nullable=False, server_default='logits'))
        batch_op.add_column(sa.Column('input_dtype', sa.String(length=16), nullable=False, server_default='float32'))
    with op.batch_alter_table('transfer_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dtype', sa.String(length=16), nullable=False, server_default='float32'))


def downgrade() -> None:
    with op.batch_alter_table('transfer_sets', schema=None) as batch_op:
        batch_op.drop_column('dtype')
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.drop_column('input_dtype')
        batch_op.drop_column('output_kind')
        batch_op.drop_column('output')
