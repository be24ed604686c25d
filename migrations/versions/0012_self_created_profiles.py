"""self-created profiles: structure.publication (published | pending | refused) and the refusal's reason

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    # every profile until now came from a public list: published
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publication', sa.String(length=16), server_default='published', nullable=False))
        batch_op.add_column(sa.Column('publication_reason', sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_structure_publication'),
                                         "publication IN ('published', 'pending', 'refused')")
    op.create_index('ix_structure_unpublished', 'structure', ['publication'],
                    postgresql_where=sa.text("publication <> 'published'"))


def downgrade():
    op.drop_index('ix_structure_unpublished', table_name='structure')
    with op.batch_alter_table('structure', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_structure_publication'), type_='check')
        batch_op.drop_column('publication_reason')
        batch_op.drop_column('publication')
