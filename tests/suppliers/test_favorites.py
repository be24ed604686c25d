"""Favourite lists: rename (empty, duplicate, 120 characters and 121) and delete, each kept to the list's
organisation (404 for anyone else); adding from a search result card, by htmx (the card's control comes
back saying where it is saved) and without JavaScript (a plain post, then back to the same search)."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from marche.accounts.models import User
from marche.core.errors import DomainError
from marche.extensions import db
from marche.search.indexer import reindex_all
from marche.suppliers import favorites
from marche.suppliers.models import FavoriteItem, FavoriteList, Structure
from tests.conftest import VALID_SIRETS, csrf_token, login, page_text, submit

COLLECTERIE = "75187049400026"
BUYER = "acheteur@ville.fr"


@pytest.fixture
def buyer_id(make_user):
    return make_user(BUYER)


@pytest.fixture
def structure_id(make_structure):
    return make_structure()


def _list(user_id: int, structure_id: int, name: str) -> FavoriteList:
    return favorites.add_to_list(db.session.get(User, user_id), db.session.get(Structure, structure_id), None, name)


def test_rename_rules_both_sides(app_ctx, buyer_id, structure_id):
    user = db.session.get(User, buyer_id)
    first, second = _list(buyer_id, structure_id, "Nettoyage"), _list(buyer_id, structure_id, "Espaces verts")
    assert favorites.rename_list(user, first, "  Nettoyage   2027 ").name == "Nettoyage 2027"
    assert favorites.rename_list(user, first, "n" * 120).name == "n" * 120
    for name, words in [("n" * 121, "121 caractères : 120 au plus"), ("", "Donnez un nom"), ("   ", "Donnez un nom"),
                        (None, "Donnez un nom"), ("Espaces verts", "déjà une liste « Espaces verts »")]:
        with pytest.raises(DomainError, match=words) as error:
            favorites.rename_list(user, first, name)
        assert error.value.field == "name"
    assert favorites.rename_list(user, second, "Espaces verts").name == "Espaces verts"  # its own name: allowed
    with pytest.raises(DomainError, match="120 au plus"):
        favorites.add_to_list(user, db.session.get(Structure, structure_id), None, "x" * 121)


def test_card_state(app_ctx, buyer_id, structure_id, make_structure):
    other_id = make_structure(siret=VALID_SIRETS[40], name="Autre")
    assert favorites.card_state(db.session.get(User, buyer_id), [structure_id]).lists == []
    first = _list(buyer_id, structure_id, "A")
    second = favorites.add_to_list(db.session.get(User, buyer_id), db.session.get(Structure, other_id), None, "B")
    cards = favorites.card_state(db.session.get(User, buyer_id), [structure_id, other_id])
    assert [fl.name for fl in cards.saved_in(structure_id)] == ["A"] and cards.available(structure_id) == [second]
    assert cards.saved_in(other_id) == [second] and cards.available(other_id) == [first]


def test_rename_and_delete_pages(app, buyer_id, structure_id, make_user):
    with app.app_context():
        list_id = _list(buyer_id, structure_id, "Nettoyage").id
        _list(buyer_id, structure_id, "Espaces verts")
        db.session.commit()
    make_user("autre@ville.fr", siret=VALID_SIRETS[35], name="Autre ville")
    stranger = app.test_client()
    login(stranger, "autre@ville.fr")
    token = csrf_token(stranger.get("/favoris").get_data(as_text=True))
    assert stranger.post(f"/favoris/{list_id}/renommer", data={"csrf_token": token, "name": "Volée"}).status_code == 404
    assert stranger.post(f"/favoris/{list_id}/supprimer", data={"csrf_token": token}).status_code == 404

    buyer = app.test_client()
    login(buyer, BUYER)
    url = f"/favoris/{list_id}"
    response = submit(buyer, url + "/renommer", {"name": "Espaces verts"}, form_url=url)
    text = page_text(response)
    assert response.status_code == 400 and "déjà une liste « Espaces verts »" in text and 'value="Espaces verts"' in text
    response = submit(buyer, url + "/renommer", {"name": "x" * 121}, form_url=url)
    assert response.status_code == 400 and "121 caractères : 120 au plus" in page_text(response)
    assert 'value="' + "x" * 121 + '"' in page_text(response)  # what was typed is kept
    response = submit(buyer, url + "/renommer", {"name": "Nettoyage 2027"}, form_url=url)
    assert response.status_code == 302 and "Nettoyage 2027" in page_text(buyer.get(url))
    response = submit(buyer, url + "/supprimer", {}, form_url=url)
    assert response.status_code == 302 and response.headers["Location"].endswith("/favoris")
    assert buyer.get(url).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(FavoriteItem.id).where(FavoriteItem.favorite_list_id == list_id)) is None
        assert db.session.get(Structure, structure_id) is not None  # the structure stays


@pytest.fixture
def indexed(app, structure_id):
    with app.app_context():
        reindex_all()
    yield
    with app.app_context():
        db.session.execute(text("TRUNCATE structure CASCADE"))
        db.session.commit()
        reindex_all()


def test_add_from_a_result_card(app, buyer_id, structure_id, indexed):
    buyer = app.test_client()
    search = "/structures?q=collecterie"
    page = buyer.get(search)
    assert "Ajouter aux favoris" not in page_text(page)  # anonymous: no control
    login(buyer, BUYER)
    page = page_text(buyer.get(search))
    assert f'id="favori-{structure_id}"' in page and f'form="favori-form-{structure_id}"' in page
    assert 'name="new_list" value="Mes favoris"' in page  # no list yet: the first one is created
    token = csrf_token(page)
    # without JavaScript: a plain post, then back to the same search
    response = buyer.post(f"/structures/{COLLECTERIE}/favoris",
                          data={"csrf_token": token, "new_list": "Mes favoris", "next": "/structures?q=collecterie"})
    assert response.status_code == 302 and response.headers["Location"] == "/structures?q=collecterie"
    page = page_text(buyer.get(search))
    assert "Enregistrée dans" in page and "« Mes favoris »" in page and "Ajoutée à la liste « Mes favoris »." in page
    with app.app_context():
        db.session.add(FavoriteList(organisation_id=db.session.get(User, buyer_id).organisation.id, name="Bois"))
        db.session.commit()
        bois = db.session.scalar(select(FavoriteList.id).where(FavoriteList.name == "Bois"))
    page = page_text(buyer.get(search))
    assert f'<option value="{bois}">Bois</option>' in page
    # with htmx: the card's control comes back, saved in both lists, nothing left to add
    response = buyer.post(f"/structures/{COLLECTERIE}/favoris", headers={"HX-Request": "true"},
                          data={"csrf_token": token, "favorite_list": str(bois), "next": search})
    fragment = page_text(response)
    assert response.status_code == 200 and fragment.lstrip().startswith(f'<div class="marche-favorite" id="favori-{structure_id}">')
    assert "Ajoutée à la liste « Bois »." in fragment and "« Mes favoris »" in fragment and "« Bois »" in fragment
    assert "Ajouter aux favoris" not in fragment
    # an htmx post refused: the message beside the control, no redirect
    response = buyer.post(f"/structures/{COLLECTERIE}/favoris", headers={"HX-Request": "true"},
                          data={"csrf_token": token, "favorite_list": str(bois)})
    assert response.status_code == 200 and "déjà dans la liste « Bois »" in page_text(response)
