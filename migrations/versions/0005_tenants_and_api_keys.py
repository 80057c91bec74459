"""tenants and api keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 19:34:22.506567
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('api_keys',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=32), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_tenant_id'), ['tenant_id'], unique=False)

    # Everything that exists so far belongs to the tenant used while auth is off.
    op.execute(sa.text("INSERT INTO tenants (id, name, created_at) "
                       "VALUES ('ten_default', 'default', CURRENT_TIMESTAMP)"))

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.String(length=32), server_default='ten_default', nullable=False))
        batch_op.drop_constraint('uq_jobs_idempotency_key', type_='unique')
        batch_op.create_index(batch_op.f('ix_jobs_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_unique_constraint('uq_jobs_tenant_idempotency_key', ['tenant_id', 'idempotency_key'])
        batch_op.create_foreign_key('fk_jobs_tenant_id', 'tenants', ['tenant_id'], ['id'])

    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.String(length=32), server_default='ten_default', nullable=False))
        batch_op.create_index(batch_op.f('ix_teachers_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_foreign_key('fk_teachers_tenant_id', 'tenants', ['tenant_id'], ['id'])

    with op.batch_alter_table('transfer_sets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tenant_id', sa.String(length=32), server_default='ten_default', nullable=False))
        batch_op.create_index(batch_op.f('ix_transfer_sets_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_foreign_key('fk_transfer_sets_tenant_id', 'tenants', ['tenant_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('transfer_sets', schema=None) as batch_op:
        batch_op.drop_constraint('fk_transfer_sets_tenant_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_transfer_sets_tenant_id'))
        batch_op.drop_column('tenant_id')

    with op.batch_alter_table('teachers', schema=None) as batch_op:
        batch_op.drop_constraint('fk_teachers_tenant_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_teachers_tenant_id'))
        batch_op.drop_column('tenant_id')

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_constraint('fk_jobs_tenant_id', type_='foreignkey')
        batch_op.drop_constraint('uq_jobs_tenant_idempotency_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_jobs_tenant_id'))
        batch_op.create_unique_constraint('uq_jobs_idempotency_key', ['idempotency_key'])
        batch_op.drop_column('tenant_id')

    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_tenant_id'))

    op.drop_table('api_keys')
    op.drop_table('tenants')
