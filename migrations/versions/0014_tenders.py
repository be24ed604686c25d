"""tenders: consultations, their lots (each with its clauses as one JSON document), sectors, attachments,
comments, rectificatifs and the award of each lot

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 22:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('tender',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('source_tender_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=250), nullable=False),
    sa.Column('object', sa.Text(), server_default='', nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('procedure', sa.String(length=80), nullable=True),
    sa.Column('defence', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('specific_services', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('cpv_codes', sa.ARRAY(sa.String(length=10)), server_default='{}', nullable=False),
    sa.Column('nature', sa.String(length=12), nullable=False),
    sa.Column('place_ref', sa.String(length=40), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('duration_months', sa.Integer(), nullable=True),
    sa.Column('launch_date', sa.Date(), nullable=True),
    sa.Column('questions_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answers_deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('planned_notification', sa.Date(), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('contact_phone', sa.String(length=30), nullable=True),
    sa.Column('buyer_profile_url', sa.String(length=500), nullable=True),
    sa.Column('allotted', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='draft', nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('validated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('validated_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome_reason', sa.Text(), nullable=True),
    sa.Column('assisting_organisation_id', sa.Integer(), nullable=True),
    sa.Column('assist_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_tender_amount_not_negative')),
    sa.CheckConstraint('duration_months IS NULL OR duration_months > 0', name=op.f('ck_tender_duration_positive')),
    sa.CheckConstraint('questions_deadline IS NULL OR answers_deadline IS NULL OR questions_deadline <= answers_deadline', name=op.f('ck_tender_questions_before_answers')),
    sa.ForeignKeyConstraint(['assisting_organisation_id'], ['organisation.id'], name=op.f('fk_tender_assisting_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_tender_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_tender_organisation_id_organisation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['source_tender_id'], ['tender.id'], name=op.f('fk_tender_source_tender_id_tender'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['validated_by_id'], ['user_account.id'], name=op.f('fk_tender_validated_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender'))
    )
    with op.batch_alter_table('tender', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_answers_deadline'), ['answers_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_assisting_organisation_id'), ['assisting_organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tender_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_tender_organisation_status', ['organisation_id', 'status'], unique=False)
        batch_op.create_index('ix_tender_status_deadline', ['status', 'answers_deadline'], unique=False)

    op.create_table('tender_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['tender_id'], ['tender.id'], name=op.f('fk_tender_attachment_tender_id_tender'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_tender_attachment_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_attachment'))
    )
    with op.batch_alter_table('tender_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_attachment_tender_id'), ['tender_id'], unique=False)

    op.create_table('tender_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), server_default='comment', nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_tender_comment_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_tender_comment_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tender_id'], ['tender.id'], name=op.f('fk_tender_comment_tender_id_tender'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_comment'))
    )
    with op.batch_alter_table('tender_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_comment_tender_id'), ['tender_id'], unique=False)

    op.create_table('tender_lot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=250), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('cpv_codes', sa.ARRAY(sa.String(length=10)), server_default='{}', nullable=False),
    sa.Column('place_ref', sa.String(length=40), nullable=True),
    sa.Column('clauses', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_tender_lot_amount_not_negative')),
    sa.CheckConstraint('position > 0', name=op.f('ck_tender_lot_position_positive')),
    sa.ForeignKeyConstraint(['tender_id'], ['tender.id'], name=op.f('fk_tender_lot_tender_id_tender'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_lot')),
    sa.UniqueConstraint('tender_id', 'position', name='uq_tender_lot_position')
    )
    with op.batch_alter_table('tender_lot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_lot_tender_id'), ['tender_id'], unique=False)

    op.create_table('tender_rectificatif',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('changes', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_tender_rectificatif_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tender_id'], ['tender.id'], name=op.f('fk_tender_rectificatif_tender_id_tender'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tender_rectificatif'))
    )
    with op.batch_alter_table('tender_rectificatif', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_rectificatif_tender_id'), ['tender_id'], unique=False)

    op.create_table('tender_sector',
    sa.Column('tender_id', sa.Integer(), nullable=False),
    sa.Column('sector_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['sector_id'], ['sector.id'], name=op.f('fk_tender_sector_sector_id_sector')),
    sa.ForeignKeyConstraint(['tender_id'], ['tender.id'], name=op.f('fk_tender_sector_tender_id_tender'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tender_id', 'sector_id', name=op.f('pk_tender_sector'))
    )
    with op.batch_alter_table('tender_sector', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tender_sector_sector_id'), ['sector_id'], unique=False)

    op.create_table('lot_award',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('awarded', sa.Boolean(), nullable=False),
    sa.Column('holder_structure_id', sa.Integer(), nullable=True),
    sa.Column('holder_siret', sa.String(length=14), nullable=True),
    sa.Column('holder_name', sa.String(length=250), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('awarded_on', sa.Date(), nullable=True),
    sa.Column('offers_count', sa.Integer(), nullable=True),
    sa.Column('unsuccessful_reason', sa.Text(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('NOT awarded OR (holder_siret IS NOT NULL AND amount > 0 AND awarded_on IS NOT NULL)', name=op.f('ck_lot_award_awarded_has_holder')),
    sa.CheckConstraint('awarded OR unsuccessful_reason IS NOT NULL', name=op.f('ck_lot_award_unsuccessful_has_reason')),
    sa.CheckConstraint('offers_count IS NULL OR offers_count >= 0', name=op.f('ck_lot_award_offers_not_negative')),
    sa.ForeignKeyConstraint(['holder_structure_id'], ['structure.id'], name=op.f('fk_lot_award_holder_structure_id_structure'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lot_id'], ['tender_lot.id'], name=op.f('fk_lot_award_lot_id_tender_lot'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_lot_award_recorded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_award')),
    sa.UniqueConstraint('lot_id', name=op.f('uq_lot_award_lot_id'))
    )
    with op.batch_alter_table('lot_award', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_award_holder_structure_id'), ['holder_structure_id'], unique=False)



def downgrade():
    with op.batch_alter_table('lot_award', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lot_award_holder_structure_id'))

    op.drop_table('lot_award')
    with op.batch_alter_table('tender_sector', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_sector_sector_id'))

    op.drop_table('tender_sector')
    with op.batch_alter_table('tender_rectificatif', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_rectificatif_tender_id'))

    op.drop_table('tender_rectificatif')
    with op.batch_alter_table('tender_lot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_lot_tender_id'))

    op.drop_table('tender_lot')
    with op.batch_alter_table('tender_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_comment_tender_id'))

    op.drop_table('tender_comment')
    with op.batch_alter_table('tender_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tender_attachment_tender_id'))

    op.drop_table('tender_attachment')
    with op.batch_alter_table('tender', schema=None) as batch_op:
        batch_op.drop_index('ix_tender_status_deadline')
        batch_op.drop_index('ix_tender_organisation_status')
        batch_op.drop_index(batch_op.f('ix_tender_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_tender_assisting_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_tender_answers_deadline'))

    op.drop_table('tender')
