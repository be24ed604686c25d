"""claims: the reason of a refusal, stored, audited and mailed to the claimant

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('structure_claim', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision_reason', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('structure_claim', schema=None) as batch_op:
        batch_op.drop_column('decision_reason')
