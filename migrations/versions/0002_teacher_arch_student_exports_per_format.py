"""teacher arch, student exports per format

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 18:37:56.437986
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('student_exports',
    sa.Column('job_id', sa.String(length=32), nullable=False),
    sa.Column('format', sa.String(length=32), nullable=False),
    sa.Column('artifact_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'format')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        # Dropping the column drops its foreign key too (PostgreSQL does it itself; SQLite's batch
        # mode rebuilds the table without it). Students are now linked per format in student_exports.
        batch_op.drop_column('student_artifact_id')

    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arch', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('arch_config', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.drop_column('arch_config')
        batch_op.drop_column('arch')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('student_artifact_id', sa.VARCHAR(length=32), nullable=True))
        batch_op.create_foreign_key('jobs_student_artifact_id_fkey', 'artifacts', ['student_artifact_id'], ['id'])

    op.drop_table('student_exports')
