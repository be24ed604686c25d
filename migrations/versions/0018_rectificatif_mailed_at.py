"""rectificatifs: when their mail was queued, so that a second run of the job mails no one twice

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 14:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tender_rectificatif', sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True))
    # the rectificatifs recorded before this column had their job run (or dropped, the tender closed): a retried
    # message must not mail them again
    op.execute("UPDATE tender_rectificatif SET mailed_at = created_at")


def downgrade():
    op.drop_column('tender_rectificatif', 'mailed_at')
