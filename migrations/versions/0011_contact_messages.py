"""contact messages: who wrote to which structure, and when (abuse handling and sending limits)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'contact_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=True),
        sa.Column('sender_email', sa.String(length=254), nullable=False),
        sa.Column('structure_id', sa.Integer(), nullable=True),
        sa.Column('recipient_email', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(['sender_id'], ['user_account.id'], name=op.f('fk_contact_message_sender_id_user_account'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['structure_id'], ['structure.id'], name=op.f('fk_contact_message_structure_id_structure'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_message')),
    )
    with op.batch_alter_table('contact_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_message_sender_id'), ['sender_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_message_structure_id'), ['structure_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contact_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_message_structure_id'))
        batch_op.drop_index(batch_op.f('ix_contact_message_sender_id'))
        batch_op.drop_index(batch_op.f('ix_contact_message_created_at'))
    op.drop_table('contact_message')
