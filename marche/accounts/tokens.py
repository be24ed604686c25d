"""Signed, expiring links for e-mail confirmation, password reset and invitations."""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

CONFIRM = "confirm-email"
RESET = "reset-password"
INVITE = "invitation"


class TokenError(Exception):
    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"marche-{purpose}")


def _fingerprint(user) -> str:
    """Binds a reset link to the current password hash, so a used link stops working."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_token(purpose: str, user) -> str:
    data = {"uid": user.id, "email": user.email.lower()}
    if purpose == RESET:
        data["fp"] = _fingerprint(user)
    return _serializer(purpose).dumps(data)


def make_invitation_token(invitation) -> str:
    return _serializer(INVITE).dumps({"iid": invitation.id, "email": invitation.email.lower()})


def read_token(purpose: str, token: str, max_age: int) -> dict:
    try:
        return _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(expired=True) from exc
    except BadSignature as exc:
        raise TokenError(expired=False) from exc


def fingerprint_matches(data: dict, user) -> bool:
    return data.get("fp") == _fingerprint(user)
