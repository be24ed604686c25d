"""inferred sectors: structure_sector.inferred, true for the sectors the import deduced

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('structure_sector', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inferred', sa.Boolean(), server_default='false', nullable=False))
    # Only the owners of a claimed profile can edit its sectors: those of an unclaimed imported profile
    # were all deduced by the import (its first NAF table).
    op.execute("update structure_sector set inferred = true from structure "
               "where structure.id = structure_sector.structure_id and structure.owner_organisation_id is null "
               "and structure.source in ('ASP', 'GEIQ', 'EA_EATT', 'FINESS')")


def downgrade():
    with op.batch_alter_table('structure_sector', schema=None) as batch_op:
        batch_op.drop_column('inferred')
