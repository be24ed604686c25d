"""Buyers' named favourite lists of structures, shared within their organisation."""
from __future__ import annotations

from sqlalchemy import select

from ..accounts.models import User
from ..core import audit
from ..core.errors import DomainError
from ..extensions import db
from .models import FavoriteItem, FavoriteList, Structure


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


def add_to_list(user: User, structure: Structure, list_id: int | None, new_name: str | None) -> FavoriteList:
    organisation = user.organisation
    if organisation is None:
        raise DomainError("Rejoignez d'abord une organisation pour enregistrer des favoris.")
    if new_name:
        favorite_list = db.session.execute(select(FavoriteList).where(
            FavoriteList.organisation_id == organisation.id, FavoriteList.name == new_name.strip())).scalar_one_or_none()
        if favorite_list is None:
            favorite_list = FavoriteList(organisation_id=organisation.id, created_by_id=user.id, name=new_name.strip())
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
