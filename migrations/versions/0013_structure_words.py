"""structure words: the vocabulary of the search texts and an index of each structure's words

The SQL fallback matches a typed word against ~20 000 distinct words instead of running a regular
expression over thousands of texts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 16:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

#: the words of a search text, as the regular expressions' word boundaries (\m, \M) cut them; the same
#: expression as Structure's index and search.structures.WORDS_SQL
WORDS = r"regexp_split_to_array(search_text, '\W+')"


def upgrade():
    op.create_table(
        'structure_word',
        sa.Column('word', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('word', name=op.f('pk_structure_word')),
    )
    op.execute("CREATE INDEX ix_structure_word_trgm ON structure_word USING gin (word gin_trgm_ops)")
    op.execute("CREATE INDEX ix_structure_word_prefix ON structure_word (word text_pattern_ops)")
    op.execute(f"CREATE INDEX ix_structure_search_words ON structure USING gin (({WORDS}))")
    # every word a search text ever held (a word no structure holds any more matches nothing)
    op.execute("""
        CREATE FUNCTION structure_words_learn() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO structure_word (word)
            SELECT DISTINCT w FROM unnest(regexp_split_to_array(NEW.search_text, '\\W+')) AS w WHERE w <> ''
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER structure_words_learn AFTER INSERT OR UPDATE OF search_text ON structure "
               "FOR EACH ROW EXECUTE FUNCTION structure_words_learn()")
    op.execute(f"INSERT INTO structure_word (word) SELECT DISTINCT w FROM structure, unnest({WORDS}) AS w "
               "WHERE w <> '' ON CONFLICT DO NOTHING")


def downgrade():
    op.execute("DROP TRIGGER structure_words_learn ON structure")
    op.execute("DROP FUNCTION structure_words_learn()")
    op.execute("DROP INDEX ix_structure_search_words")
    op.drop_table('structure_word')
