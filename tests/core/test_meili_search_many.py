"""Several searches of one page sent side by side (core.meili.search_many): the answers come back in the
order asked, and one failed search fails them all, as the multi-search it replaces did."""
from __future__ import annotations

import pytest

from marche.core import meili
from marche.core.meili import MeiliSearchFailed
from marche.search.indexer import ensure_index, index_of
from marche.search.structures import STRUCTURES


def test_answers_in_the_order_asked(app_ctx):
    index = index_of(STRUCTURES)
    ensure_index(STRUCTURES)
    searches = [(index.uid, {"q": "", "page": 1, "hitsPerPage": size}) for size in (0, 3, 1, 2)]
    answers = meili.search_many(searches, 2)
    assert [answer["hitsPerPage"] for answer in answers] == [0, 3, 1, 2]
    assert [meili.search_many(searches[:1], 2)[0]["hitsPerPage"]] == [0]


def test_one_failed_search_fails_them_all(app_ctx):
    index = index_of(STRUCTURES)
    ensure_index(STRUCTURES)
    with pytest.raises(MeiliSearchFailed) as failed:
        meili.search_many([(index.uid, {"q": ""}), (index.uid + "-absent", {"q": ""})], 2)
    assert failed.value.code == "index_not_found"
