"""benchmark data leaves the product: structure.is_synthetic is dropped

`make bench` now writes its synthetic structures into a database of its own. Synthetic rows an older
`make bench` left in this database are deleted first: without the flag they would look real.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # their sectors, commitments, references and contacts go with them (ON DELETE CASCADE); the search
    # index drops their documents at the next reconciliation (`flask marche reindex --if-needed`)
    op.execute("delete from structure where is_synthetic")
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_column('is_synthetic')


def downgrade():
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_synthetic', sa.Boolean(), server_default='false', nullable=False))
    # in a bench database, the generator's rows are those of its source and its reserved SIRET range
    op.execute("update structure set is_synthetic = true where source = 'synthetic' and siret like '99%'")
