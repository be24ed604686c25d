"""Buyers' named favourite lists of structures, shared within their organisation."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..accounts.models import User
from ..core import audit
from ..core.errors import DomainError
from ..extensions import db
from .models import FavoriteItem, FavoriteList, Structure


#: a list's name: as the column allows
MAX_NAME_CHARS = 120
#: the list a buyer's first favourite goes to, when they have none yet
DEFAULT_LIST_NAME = "Mes favoris"


def lists_for(user: User) -> list[FavoriteList]:
    organisation_ids = [m.organisation_id for m in user.memberships]
    return list(db.session.execute(select(FavoriteList).where(FavoriteList.organisation_id.in_(organisation_ids))
                                   .order_by(FavoriteList.name)).scalars())


def get_list(list_id: int) -> FavoriteList | None:
    return db.session.get(FavoriteList, list_id)


def list_item(favorite_list: FavoriteList, item_id: int) -> FavoriteItem | None:
    """The line of this list (a URL naming another list's line finds nothing)."""
    item = db.session.get(FavoriteItem, item_id)
    return item if item is not None and item.favorite_list_id == favorite_list.id else None


def _named(organisation_id: int, name: str) -> FavoriteList | None:
    return db.session.execute(select(FavoriteList).where(
        FavoriteList.organisation_id == organisation_id, FavoriteList.name == name)).scalar_one_or_none()


def clean_name(name: str | None) -> str:
    """A list's name, trimmed; refused in French when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Donnez un nom à la liste.", "name")
    if len(name) > MAX_NAME_CHARS:
        raise DomainError(f"Le nom de la liste fait {len(name)} caractères : {MAX_NAME_CHARS} au plus.", "name")
    return name


def rename_list(user: User, favorite_list: FavoriteList, name: str | None) -> FavoriteList:
    """Two lists of one organisation never share a name (the database says so too)."""
    name = clean_name(name)
    other = _named(favorite_list.organisation_id, name)
    if other is not None and other.id != favorite_list.id:
        raise DomainError(f"Votre organisation a déjà une liste « {name} » : choisissez un autre nom.", "name")
    audit.record(user, "favorites.list_renamed", favorite_list, old=favorite_list.name, new=name)
    favorite_list.name = name
    db.session.flush()
    return favorite_list


def add_to_list(user: User, structure: Structure, list_id: int | None, new_name: str | None) -> FavoriteList:
    """Into one of the user's lists, or into the list of that name (created if the organisation has none)."""
    organisation = user.organisation
    if organisation is None:
        raise DomainError("Rejoignez d'abord une organisation pour enregistrer des favoris.")
    if new_name:
        try:
            name = clean_name(new_name)
        except DomainError as error:
            raise DomainError(error.message, "new_list") from None
        favorite_list = _named(organisation.id, name)
        if favorite_list is None:
            favorite_list = FavoriteList(organisation_id=organisation.id, created_by_id=user.id, name=name)
            db.session.add(favorite_list)
            db.session.flush()
    else:
        favorite_list = next((fl for fl in lists_for(user) if fl.id == list_id), None)
        if favorite_list is None:
            raise DomainError("Liste introuvable.", "favorite_list")
    if any(item.structure_id == structure.id for item in favorite_list.items):
        raise DomainError(f"Cette structure est déjà dans la liste « {favorite_list.name} ».", "favorite_list")
    favorite_list.items.append(FavoriteItem(structure=structure))
    db.session.flush()
    audit.record(user, "favorites.added", favorite_list, structure_id=structure.id)
    return favorite_list


def remove_item(user: User, item: FavoriteItem) -> None:
    audit.record(user, "favorites.removed", item.favorite_list, structure_id=item.structure_id)
    db.session.delete(item)


def delete_list(user: User, favorite_list: FavoriteList) -> None:
    audit.record(user, "favorites.list_deleted", favorite_list, name=favorite_list.name)
    db.session.delete(favorite_list)


@dataclass
class FavoriteCards:
    """What the result cards show a buyer: the lists a structure is in, and the lists it can go to."""

    lists: list[FavoriteList]
    #: structure id -> the user's lists holding it
    saved: dict[int, list[FavoriteList]] = field(default_factory=dict)
    #: without any list, the first favourite creates this one
    default_name: str = DEFAULT_LIST_NAME

    def saved_in(self, structure_id: int) -> list[FavoriteList]:
        return self.saved.get(structure_id, [])

    def available(self, structure_id: int) -> list[FavoriteList]:
        held = {fl.id for fl in self.saved_in(structure_id)}
        return [fl for fl in self.lists if fl.id not in held]


def card_state(user: User, structure_ids: list[int]) -> FavoriteCards:
    """One query for the user's lists, one for which of these structures they hold."""
    lists = lists_for(user)
    cards = FavoriteCards(lists=lists)
    if lists and structure_ids:
        by_id = {fl.id: fl for fl in lists}
        rows = db.session.execute(select(FavoriteItem.structure_id, FavoriteItem.favorite_list_id).where(
            FavoriteItem.favorite_list_id.in_(list(by_id)), FavoriteItem.structure_id.in_(structure_ids)))
        for structure_id, list_id in rows:
            cards.saved.setdefault(structure_id, []).append(by_id[list_id])
    return cards
