"""initial schema: extensions, accounts, audit log, outbox, territories, catalogues

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 19:05:29.907336

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


EXTENSIONS = ("pg_trgm", "unaccent", "cube", "earthdistance")


def upgrade():
    for extension in EXTENSIONS:
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    op.create_table('audit_entry',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=60), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index('ix_audit_entry_object', ['object_type', 'object_id'], unique=False)

    op.create_table('cpv_code',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('code8', sa.String(length=8), nullable=False),
    sa.Column('label_fr', sa.Text(), nullable=False),
    sa.Column('label_en', sa.Text(), nullable=False),
    sa.Column('parent_code', sa.String(length=10), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('division', sa.String(length=2), nullable=False),
    sa.Column('nature', sa.String(length=12), nullable=False),
    sa.Column('search_label', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_cpv_code')),
    sa.UniqueConstraint('code8', name=op.f('uq_cpv_code_code8'))
    )
    with op.batch_alter_table('cpv_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cpv_code_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index('ix_cpv_code_search_trgm', ['search_label'], unique=False, postgresql_using='gin', postgresql_ops={'search_label': 'gin_trgm_ops'})

    op.create_table('department',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('search_name', sa.String(length=120), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('zone', sa.String(length=8), nullable=False),
    sa.Column('geometry', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_department'))
    )
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_department_region_code'), ['region_code'], unique=False)

    op.create_table('naf_code',
    sa.Column('code', sa.String(length=6), nullable=False),
    sa.Column('code_ape', sa.String(length=5), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('class_code', sa.String(length=5), nullable=False),
    sa.Column('class_label', sa.Text(), nullable=False),
    sa.Column('group_code', sa.String(length=4), nullable=False),
    sa.Column('group_label', sa.Text(), nullable=False),
    sa.Column('division_code', sa.String(length=2), nullable=False),
    sa.Column('division_label', sa.Text(), nullable=False),
    sa.Column('section_code', sa.String(length=1), nullable=False),
    sa.Column('section_label', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_naf_code')),
    sa.UniqueConstraint('code_ape', name=op.f('uq_naf_code_code_ape'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('siret', sa.String(length=14), nullable=True),
    sa.Column('buyer_category', sa.String(length=32), nullable=True),
    sa.Column('facilitator_kind', sa.String(length=32), nullable=True),
    sa.Column('territories', sa.ARRAY(sa.String(length=40)), server_default='{}', nullable=False),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind <> 'public_buyer' or buyer_category is not null", name=op.f('ck_organisation_buyer_category_required')),
    sa.CheckConstraint("kind = 'platform' or siret is not null", name=op.f('ck_organisation_siret_required')),
    sa.CheckConstraint("kind in ('public_buyer','private_company','inclusive_structure','facilitator','platform')", name=op.f('ck_organisation_kind')),
    sa.CheckConstraint("siret is null or siret ~ '^[0-9]{14}$'", name=op.f('ck_organisation_siret_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('siret', name=op.f('uq_organisation_siret'))
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index('ix_organisation_territories', ['territories'], unique=False, postgresql_using='gin')

    op.create_table('outbox_message',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status in ('pending', 'done', 'dead')", name=op.f('ck_outbox_message_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_due', ['next_attempt_at'], unique=False, postgresql_where="status = 'pending'")

    op.create_table('reference_dataset',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_reference_dataset'))
    )
    op.create_table('region',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('search_name', sa.String(length=120), nullable=False),
    sa.Column('zone', sa.String(length=8), nullable=False),
    sa.Column('geometry', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    op.create_table('sector_group',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sector_group')),
    sa.UniqueConstraint('slug', name=op.f('uq_sector_group_slug'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('is_platform_admin', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index('uq_user_account_email_lower', [sa.literal_column('lower(email)')], unique=True)

    op.create_table('commune',
    sa.Column('code', sa.String(length=5), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('search_name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('postcodes', sa.ARRAY(sa.String(length=5)), nullable=False),
    sa.Column('department_code', sa.String(length=3), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('zrr_status', sa.String(length=2), nullable=True),
    sa.Column('parent_code', sa.String(length=5), nullable=True),
    sa.ForeignKeyConstraint(['department_code'], ['department.code'], name=op.f('fk_commune_department_code_department')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_commune'))
    )
    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commune_department_code'), ['department_code'], unique=False)
        batch_op.create_index('ix_commune_postcodes', ['postcodes'], unique=False, postgresql_using='gin')
        batch_op.create_index(batch_op.f('ix_commune_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_commune_search_name_prefix', ['search_name'], unique=False, postgresql_ops={'search_name': 'text_pattern_ops'})
        batch_op.create_index('ix_commune_search_name_trgm', ['search_name'], unique=False, postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})

    op.create_table('join_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status in ('pending', 'approved', 'rejected')", name=op.f('ck_join_request_status')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_join_request_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_join_request_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_join_request_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_request'))
    )
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_join_request_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_join_request_pending', ['user_id', 'organisation_id'], unique=True, postgresql_where=sa.text("status = 'pending'"))

    op.create_table('membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role in ('admin', 'member')", name=op.f('ck_membership_role')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_membership_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_membership_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_membership')),
    sa.UniqueConstraint('user_id', 'organisation_id', name='uq_membership_user_organisation')
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_membership_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_membership_user_id'), ['user_id'], unique=False)

    op.create_table('sector',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['sector_group.id'], name=op.f('fk_sector_group_id_sector_group')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sector'))
    )
    with op.batch_alter_table('sector', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sector_group_id'), ['group_id'], unique=False)


    # The audit log is append-only: the database itself refuses to change or delete an entry.
    op.execute("""
        CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_entry is append-only';
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
        FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()
    """)


def downgrade():
    op.execute("DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry")
    op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
    with op.batch_alter_table('sector', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sector_group_id'))

    op.drop_table('sector')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_membership_user_id'))
        batch_op.drop_index(batch_op.f('ix_membership_organisation_id'))

    op.drop_table('membership')
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.drop_index('uq_join_request_pending', postgresql_where=sa.text("status = 'pending'"))
        batch_op.drop_index(batch_op.f('ix_join_request_user_id'))
        batch_op.drop_index(batch_op.f('ix_join_request_organisation_id'))

    op.drop_table('join_request')
    with op.batch_alter_table('commune', schema=None) as batch_op:
        batch_op.drop_index('ix_commune_search_name_trgm', postgresql_using='gin', postgresql_ops={'search_name': 'gin_trgm_ops'})
        batch_op.drop_index('ix_commune_search_name_prefix', postgresql_ops={'search_name': 'text_pattern_ops'})
        batch_op.drop_index(batch_op.f('ix_commune_region_code'))
        batch_op.drop_index('ix_commune_postcodes', postgresql_using='gin')
        batch_op.drop_index(batch_op.f('ix_commune_department_code'))

    op.drop_table('commune')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index('uq_user_account_email_lower')

    op.drop_table('user_account')
    op.drop_table('sector_group')
    op.drop_table('region')
    op.drop_table('reference_dataset')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_due', postgresql_where="status = 'pending'")

    op.drop_table('outbox_message')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index('ix_organisation_territories', postgresql_using='gin')

    op.drop_table('organisation')
    op.drop_table('naf_code')
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_department_region_code'))

    op.drop_table('department')
    with op.batch_alter_table('cpv_code', schema=None) as batch_op:
        batch_op.drop_index('ix_cpv_code_search_trgm', postgresql_using='gin', postgresql_ops={'search_label': 'gin_trgm_ops'})
        batch_op.drop_index(batch_op.f('ix_cpv_code_parent_code'))

    op.drop_table('cpv_code')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_object')
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_id'))

    op.drop_table('audit_entry')
