"""account trust: rotating session tokens, facilitator verification, claim evidence, invitations,
login failures counted in PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Sessions: every existing account gets its own random token (old cookies, which carry the
    # numeric id, stop working: everybody logs in again once).
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    op.execute("update user_account set session_token = replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('session_token', nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_session_token'), ['session_token'])

    # Facilitators already registered wait for a platform admin like new ones; other kinds need no check.
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verification_status', sa.String(length=12), server_default='pending',
                                      nullable=False))
        batch_op.add_column(sa.Column('verified_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_organisation_verified_by_id_user_account'), 'user_account',
                                    ['verified_by_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(
            op.f('ck_organisation_verification_status'), "verification_status in ('not_required', 'pending', 'verified', 'refused')")
    op.execute("update organisation set verification_status = 'not_required' where kind <> 'facilitator'")
    op.create_index('ix_organisation_awaiting_verification', 'organisation', ['id'], unique=False,
                    postgresql_where=sa.text("verification_status = 'pending'"))

    with op.batch_alter_table('structure_claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('evidence_value', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('evidence_path', sa.String(length=300), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_structure_claim_evidence_kind'), "evidence_kind is null or evidence_kind in ('email_domain', 'document', 'finess')")

    op.create_table(
        'invitation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('invited_by_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=True),
        sa.Column('status', sa.String(length=12), server_default='pending', nullable=False),
        sa.Column('answered_by_id', sa.Integer(), nullable=True),
        sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint("status in ('pending', 'accepted', 'declined')", name=op.f('ck_invitation_status')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_invitation_organisation_id_organisation'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'],
                                name=op.f('fk_invitation_invited_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['answered_by_id'], ['user_account.id'],
                                name=op.f('fk_invitation_answered_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_invitation')),
    )
    op.create_index(op.f('ix_invitation_organisation_id'), 'invitation', ['organisation_id'], unique=False)

    op.create_table(
        'login_failure',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('account_key', sa.String(length=254), nullable=False),
        sa.Column('address', sa.String(length=45), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure')),
    )
    op.create_index('ix_login_failure_account', 'login_failure', ['account_key', 'created_at'], unique=False)
    op.create_index('ix_login_failure_address', 'login_failure', ['address', 'created_at'], unique=False)
    op.create_index('ix_login_failure_created_at', 'login_failure', ['created_at'], unique=False)


def downgrade():
    op.drop_index('ix_login_failure_created_at', table_name='login_failure')
    op.drop_index('ix_login_failure_address', table_name='login_failure')
    op.drop_index('ix_login_failure_account', table_name='login_failure')
    op.drop_table('login_failure')
    op.drop_index(op.f('ix_invitation_organisation_id'), table_name='invitation')
    op.drop_table('invitation')
    with op.batch_alter_table('structure_claim', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_structure_claim_evidence_kind'), type_='check')
        batch_op.drop_column('evidence_path')
        batch_op.drop_column('evidence_value')
        batch_op.drop_column('evidence_kind')
    op.drop_index('ix_organisation_awaiting_verification', table_name='organisation',
                  postgresql_where=sa.text("verification_status = 'pending'"))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_organisation_verification_status'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_organisation_verified_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('verified_by_id')
        batch_op.drop_column('verification_status')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_session_token'), type_='unique')
        batch_op.drop_column('session_token')
