"""structures: who gave the sectors of an unclaimed profile when it was not the structure itself
(a facilitator of its territory, or an operator's sector file), and when

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 17:15:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('structure', sa.Column('sectors_given_by', sa.String(length=200), nullable=True))
    op.add_column('structure', sa.Column('sectors_given_on', sa.Date(), nullable=True))


def downgrade():
    op.drop_column('structure', 'sectors_given_on')
    op.drop_column('structure', 'sectors_given_by')
